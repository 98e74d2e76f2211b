#!/bin/sh
# A full disk, or any write error, never crashes a worker or runs a job
# again: a task that cannot record its output ends failed, saying why, and
# is not retried (its command ran, and may have done its work); an end the
# database refuses is recorded once space allows; a batch refused on a
# full disk leaves the space it took behind.  On tmpfs mounts of a few MB.
. "$(dirname "$0")/lib.sh"
plan 34

M=$T/full
cleanup() {
	[ -n "${w:-}" ] && kill "$w" 2>/dev/null
	umount "$M" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir "$M"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=2m tmpfs "$M" 2>/dev/null; then
	for i in $(seq 34); do skip "cannot mount a tmpfs (not root)"; done
	exit 0
fi
remount() { umount "$M" && mount -t tmpfs -o "size=$1" tmpfs "$M"; }
# Runs counted outside the full disk: no job may run twice.
runs() { grep -c "^$1\$" "$T/runs" 2>/dev/null || echo 0; }

# The results alone on a full disk, in the foreground: the job runs to its
# end, its output still passing through; exec-run exits 74 and says why.
check_exit 74 "a foreground job whose results fill the disk exits 74" \
    exec-run --results "$M" -r 2 -- sh -c 'head -c 3000000 /dev/zero; echo done >&2; echo x >>"$0"' "$T/runs"
check_stderr "^done$" "its output still passes through"
check_stderr "^exec-run: results: No space left on device$" "and exec-run says why"
j=$(run-query jobs -q -r -L 1)
run job-describe -f ndjson "$j"
check_out '"state":"failed"' "the job failed"
check_out '"error":"results: No space left on device"' "its task says why"
check_out 'attempt 1 failed \(results: No space left on device\); not retried: its command ran, and may have done its work' \
    "and it is not retried, though it asked for retries"
check_same "it ran once" "$(run-query tasks -j "$j" -c) $(wc -l <"$T/runs" | tr -d ' ')" "1 1"
check "no half-written result file is left" sh -c '
	for f in "$0"/*/exitCode "$0"/*/result.json; do
		[ -e "$f" ] || continue
		case $f in *.json) tail -c 1 "$f" | grep -q "}" || exit 1 ;; esac
	done' "$M"

# One that times out on a full disk still says it timed out, and is
# retried as it asked: its command did not finish.
remount 2m
check_exit 124 "a job that times out with its results disk full" \
    exec-run --results "$M" -r 1 -t 1s -- sh -c 'head -c 3000000 /dev/zero; sleep 5'
j=$(run-query jobs -q -r -L 1)
check_same "is retried" "$(run-query tasks -j "$j" -c)" "2"
run job-describe -f ndjson "$j"
check_out 'attempt 2 timed_out \(timed out; results: No space left on device\)' \
    "and its reason says both"

# A worker whose results folder fills: every task ends, recorded once, and
# the worker goes on to the end of the queue instead of crashing.
remount 2m
rm -f "$T/runs"
big=$(job-submit -q -r 2 -e T -- sh -c 'echo big >>"$T/runs"; head -c 3000000 /dev/zero')
small1=$(job-submit -q -e T -- sh -c 'sleep 0.5; echo s1 >>"$T/runs"')
small2=$(job-submit -q -e T -- sh -c 'echo s2 >>"$T/runs"')
check_exit 0 "a worker whose results disk fills drains its queue" \
    exec-run --worker --drain -j 2 --results "$M" -q
check_same "every job ran once" "$(runs big) $(runs s1) $(runs s2)" "1 1 1"
check_same "and ended" "$(run-query jobs -s queued,running -c)" "0"
run job-describe -f ndjson "$big"
check_out '"state":"failed".*"error":"results: No space left on device"' "the one that filled it failed, saying why"
check_same "with one task: not run again" "$(run-query tasks -j "$big" -c)" "1"

# The database and the results together on a full disk: the end of a task
# that cannot be recorded is tried again until space comes back, the task
# held meanwhile (no other worker takes it), and recorded once.
remount 5m
export JOBKIT_DB=$M/jobkit.db
rm -f "$T/runs"
a=$(job-submit -q -r 2 --max-return 1M -e T -- sh -c 'echo a >>"$T/runs"; yes abcdefgh | head -c 4000000')
head -c 2000000 /dev/zero >"$M/filler"
exec-run --worker --drain -q >"$T/w.out" 2>"$T/w.err" &
w=$!
i=0
until grep -q "cannot record its end" "$T/w.err"; do
	i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.05
done
check "the worker cannot record the end, and says it tries again" \
    grep -q "^exec-run: $a.1: cannot record its end: .*database or disk is full; trying again every 1 s$" "$T/w.err"
check "and is still there" kill -0 "$w"
check_same "the job is still its: running, not lost" "$(job_state "$a")" "running"
# It may find no room for its own run (the WAL that tools leave short,
# libcommon/store.c, is copied into the database only later); either way
# it does not take the job.
exec-run --worker --drain -q 2>"$T/w2.err"
st=$?
check "another worker meanwhile drains, or says the disk is full" \
    test "$st" = 0 -o "$st" = 74 -a -n "$(grep 'database or disk is full$' "$T/w2.err")"
check_same "does not run it" "$(runs a) $(run-query tasks -j "$a" -c)" "1 1"
rm "$M/filler"
i=0
while kill -0 "$w" 2>/dev/null && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
wait "$w"
check_same "once space is back the worker records it and drains" "$?" "0"
w=
check "saying so" grep -q "^exec-run: $a.1: its end is recorded$" "$T/w.err"
run job-describe -f ndjson "$a"
check_out '"state":"failed".*"error":"results: No space left on device"' "the job failed, saying why"
check_same "it ran once" "$(runs a) $(run-query tasks -j "$a" -c)" "1 1"

# A batch refused on a full disk gives back the WAL it grew (which a disk
# this small would otherwise keep full), alone or with another process
# holding the database open (a worker).
awk 'BEGIN { for (i = 0; i < 20000; i++)
	printf "{\"command\":[\"echo\",\"%050d\"]}\n", i }' >"$T/batch"
remount 3m
export JOBKIT_DB=$M/batch.db
job-submit -q -- true >/dev/null
before=$(sqlite3 "$JOBKIT_DB" 'select count(*) from jobs')
check_exit 74 "a batch too big for the disk is refused (74)" sh -c 'job-submit -q <"$T/batch"'
check_stderr "^job-submit: .*: database or disk is full$" "saying the disk is full"
# (free KiB on the disk; looked at before sqlite3(1) opens the database,
# which would give the WAL back itself)
free() { df -k --output=avail "$M" | tail -1 | tr -d ' '; }
check "its WAL is truncated back: the disk is not left full" test "$(free)" -gt 2500
check_same "nothing of it is stored" "$(sqlite3 "$JOBKIT_DB" 'select count(*) from jobs')" "$before"
j=$(job-submit -q -- echo hello)
check_exit 0 "so that the next job" exec-run -q "$j"
check_same "runs, its results written" "$(cat "$M/results/$j.1/stdout")" "hello"
exec-run --worker -q >/dev/null 2>&1 &
w=$!
sleep 0.3
check_exit 74 "with a worker holding the database" sh -c 'job-submit -q <"$T/batch"'
check "the WAL is truncated back too" test "$(free)" -gt 2500
check_exit 0 "and the next job can be submitted" job-submit -q -- true
kill "$w"
wait "$w" 2>/dev/null
w=
done_testing
