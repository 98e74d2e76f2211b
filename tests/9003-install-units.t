#!/bin/sh
# make install puts a systemd user unit for a worker that is always there:
# jobkit-worker@QUEUE.service, whose ExecStart is a worker of that queue.
. "$(dirname "$0")/lib.sh"
plan 10

root=$T/root
check "make install-units" make -s -C "$TOP" install-units DESTDIR="$root" \
    PREFIX=/opt/jk
unit=$root/opt/jk/lib/systemd/user/jobkit-worker@.service
check "installs the unit under PREFIX/lib/systemd/user" test -f "$unit"
check_same "mode 0644" "$(stat -c %a "$unit")" 644
run grep '^ExecStart=' "$unit"
check_out '^ExecStart=/opt/jk/bin/exec-run --worker -Q %I$' \
    "a worker of the queue the instance names, from BINDIR"

# systemd itself finds nothing wrong in it, where it is here.
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/opt/jk/bin/|$JOBKIT_BIN/|" "$unit" >"$T/jobkit-worker@default.service"
	run systemd-analyze verify --man=no "$T/jobkit-worker@default.service"
	check_same "systemd-analyze verify says nothing of it" "$(cat "$T/err")" ""
else
	skip "no systemd-analyze"
fi

# What it starts is a worker that serves the queue and leaves on SIGTERM.
cmd=$(sed -n 's/^ExecStart=\/opt\/jk\/bin\///p' "$unit" | sed 's/%I/default/')
j=$(job-submit -q -- sh -c 'echo from the unit')
# shellcheck disable=SC2086
"$JOBKIT_BIN"/$cmd >/dev/null 2>&1 &
w=$!
check "its worker runs the queue's jobs" until_state "$j" succeeded
o=$(job-submit -q -Q other -- true)
kill -TERM "$w"
check "and leaves on SIGTERM, as systemctl stop sends it" until_true gone "$w"
check_same "a job of another queue is not its" "$(job_state "$o")" queued

check "make uninstall removes it" make -s -C "$TOP" uninstall DESTDIR="$root" \
    PREFIX=/opt/jk
check "and its unit is gone" test ! -e "$unit"
done_testing
