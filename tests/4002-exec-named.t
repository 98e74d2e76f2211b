#!/bin/sh
# exec-run ID... and jobs piped in: run exactly those, one result each.
. "$(dirname "$0")/lib.sh"
plan 75

a=$(job-submit -q -- echo one)
b=$(job-submit -q -- sh -c 'exit 2')
check_exit 2 "running two named jobs exits with the failure" exec-run "$a" "$b"
check_same "one result per task" "$(wc -l <"$T/out" | tr -d ' ')" "2"
check_out "\"id\":\"$a.1\".*\"state\":\"succeeded\"" "the first succeeded"
check_out "\"id\":\"$b.1\".*\"exit_code\":2" "the second failed with its status"

check_exit 65 "a finished job is not run again" exec-run "$a"
check_stderr "cannot run job '$a': it is succeeded" "and says why"
run run-query tasks -j "$a" -q
check_same "still one task" "$(cat "$T/out")" "$a.1"
d1=$(job-submit -q -- true); d2=$(job-submit -q -- true)
check_exit 0 "a job named twice" exec-run -q "$d1" "$d2" "$d1"
check_same "runs once, with no error for the second mention" "$(tr '\n' ' ' <"$T/out")" "$d1.1 $d2.1 "
check_exit 66 "an unknown job" exec-run zzzz
check_stderr "no such job 'zzzz'" "is named"

run sh -c 'job-submit -- echo piped | exec-run'
check_same "job-submit | exec-run runs the job" "$rc" "0"
check_out '"state":"succeeded"' "and prints its result"
run sh -c 'run-query jobs --state queued -q | exec-run'
check_same "nothing queued: nothing run" "$(cat "$T/out")" ""

h=$(job-submit -q -H -- true)
check_exit 65 "a held job is not run" exec-run "$h"
check_stderr "it is held" "and says so"
check_exit 64 "no job and a terminal for stdin" on_tty exec-run
check_out "no job: give a command after '--', job IDs" "says so instead of waiting"

# --wait blocks until the jobs end and exits with their status.
w1=$(job-submit -q -- sh -c 'sleep 0.5; exit 3')
w2=$(job-submit -q -- true)
w3=$(job-submit -q -t 300ms -- sleep 5)
exec-run --worker -j 3 --drain -q >/dev/null 2>&1 &
start=$(date +%s%N)
check_exit 3 "--wait on a job still to run exits with its status" exec-run --wait "$w1"
check_same "after it ended (>= 0.5 s)" "$(( ($(date +%s%N) - start) / 1000000 >= 500 ))" "1"
wait
check_exit 0 "--wait on a job that succeeded" exec-run --wait "$w2"
check_exit 124 "--wait on a job that timed out" exec-run --wait "$w3"
check_exit 3 "--wait on several: the first that did not succeed" exec-run --wait "$w2" "$w1" "$w3"
check_exit 3 "--wait reads job objects on stdin" \
    sh -c "job-describe -f ndjson $w2 $w1 | exec-run --wait"
x=$(job-submit -q -H -- true)
job-submit -q --cancel "$x" >/dev/null
check_exit 1 "--wait on a job cancelled before it ran" exec-run --wait "$x"
check_stderr "^exec-run: job '$x' cancelled without running: cancelled" "says so"
check_exit 66 "--wait on an unknown job" exec-run --wait azzz
check_stderr "no such job 'azzz'" "says so"

# The jobs named are run to their end, retries included.
cat >"$T/flaky" <<'EOF'
#!/bin/sh
n=$(($(cat "$T/count" 2>/dev/null || echo 0) + 1))
echo $n >"$T/count"
[ $n -ge 3 ]
EOF
chmod +x "$T/flaky"
check_exit 0 "a named job with retries runs until it succeeds" \
    sh -c "job-submit -r 2 -e T -- '$T/flaky' | exec-run -q"
r=$(tr '\n' ' ' <"$T/out")
check_same "one result per attempt" "$r" "$(echo "$r" | cut -d. -f1).1 $(echo "$r" | cut -d. -f1).2 $(echo "$r" | cut -d. -f1).3 "
# A retry held (or taken by another run) meanwhile is waited for, not run
# here: the job fails twice, and is held during the 2 s before its third
# attempt; once the first run waits, the job is released and run apart.
rm -f "$T/count"
k=$(job-submit -q -r 2 -e T -- "$T/flaky")
exec-run -q "$k" >"$T/first" 2>"$T/first.err" &
first=$!
i=0
until [ "$(run-query tasks -j "$k" -c)" = 2 ] && [ "$(job_state "$k")" = queued ]; do
	i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.05
done
job-submit -q --hold "$k" >/dev/null
i=0
until grep -q "waiting for it" "$T/first.err"; do
	i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.05
done
check "the first run finds the retry held and waits" \
    grep -q "job '$k' is held, not by this run; waiting for it" "$T/first.err"
job-submit -q --release "$k" >/dev/null
check_exit 0 "another run runs the job meanwhile" exec-run -q "$k"
wait $first
check_same "the first run exits with the job's status" "$?" "0"
check_same "three tasks: two there, one here" "$(run-query tasks -j "$k" -c)" "3"

# Bad input that changes nothing.
check_exit 66 "a job in a database that does not exist" exec-run --db "$T/none.db" a001
check "and no database is made" test ! -e "$T/none.db"
check_exit 64 "a spec option with job IDs" exec-run -t 5m "$a"
check_stderr "^exec-run: --timeout goes with a command\$" "is refused, not ignored"
check_exit 64 "--queue with job IDs" exec-run -Q q "$a"
check_stderr "^exec-run: --queue goes with a command or --worker\$" "likewise"
# Each mode takes its own options only (the rules of exec-run.c).
before=$(db_sum)
check_exit 64 "--label with --wait" exec-run --wait -l a=b "$a"
check_stderr "^exec-run: --label goes with a command or --worker\$" "is refused"
check_exit 64 "--at with job IDs" exec-run --at 1h "$a"
check_stderr "^exec-run: --at goes with a command\$" "is refused"
check_exit 64 "--idle-exit with job IDs" exec-run --idle-exit 1s "$a"
check_stderr "^exec-run: --idle-exit goes with --worker\$" "is refused"
check_exit 64 "--both without --logs" exec-run --both "$a"
check_stderr "^exec-run: --both goes with --logs\$" "is refused"
check_exit 64 "two modes" exec-run --wait --logs "$a"
check_stderr "^exec-run: give one of --worker, --wait, --logs\$" "is refused"
check_exit 64 "a command and a mode" exec-run --worker -- true
check_stderr "^exec-run: a command runs alone: no job IDs, --worker, --wait or --logs with it\$" \
    "is refused"
check_exit 64 "'--' and no command" exec-run -t 5m --
check_stderr "^exec-run: no command after '--'\$" "is refused"
check_same "nothing is written" "$(db_sum)" "$before"
n=$(job-submit -q -- touch "$T/ran")
: >"$T/afile"
check_exit 73 "a results folder that cannot be made" exec-run --results "$T/afile/r" "$n"
check_stderr "^exec-run: cannot create results folder '$T/afile/r': Not a directory\$" \
    "is found before anything runs"
check_same "the job stays queued with no attempt used" \
    "$(job_state "$n") $(run-query tasks -j "$n" -c)" "queued 0"
# Piped from a job-submit that makes the database: opened once it has.
check_exit 0 "job-submit | exec-run on a new database" \
    sh -c '{ sleep 0.5; job-submit --db "$T/fresh.db" -- true; } | exec-run --db "$T/fresh.db" -q'
check_out '^a001.1$' "runs the job"

# Results nobody reads: finish what runs, leave the rest queued, say so.
h1=$(job-submit -q -- true); h2=$(job-submit -q -- true); h3=$(job-submit -q -- true)
{ exec-run "$h1" "$h2" "$h3" 2>"$T/h.err"; echo $? >"$T/rc"; } | head -1 >/dev/null
check_same "exec-run IDs | head -1 exits 74" "$(cat "$T/rc")" "74"
check "saying jobs were left" grep -q "stopped with jobs left queued: nobody reads the results" "$T/h.err"
check_same "the last is left queued, not run unreported" "$(job_state "$h3")" "queued"

# What is in a task's results place (another database's results) is
# moved aside, not written over nor taken for the task's.
g=$(job-submit -q -- echo new)
mkdir -p "$T/results" && echo old >"$T/results/$g.1"
check_exit 0 "a task whose results folder's name is taken" exec-run -q "$g"
check_same "gets a folder of its own" "$(cat "$T/results/$g.1/stdout")" "new"
check_same "and what was there is kept aside" "$(cat "$T/results/$g.1".taken-*)" "old"

# A task exec-run cannot start is given back, its attempt unused: here its
# results disk has no inode left for its folder.
M=$T/noinode
mkdir "$M"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m,nr_inodes=2 tmpfs "$M" 2>/dev/null; then
	g=$(job-submit -q -- true)
	check_exit 73 "a task whose results folder cannot be made" exec-run --results "$M/results" "$g"
	check_stderr "$g.1: cannot create results folder '$M/results/$g.1': No space left on device" "says so"
	run job-describe -f ndjson "$g"
	check_out '"state":"queued",.*"attempts":1,"max_attempts":2' "the job is queued again with its attempt unused"
	check_out '"type":"requeued","state":"queued","task":"'"$g"'.1","message":"attempt 1 given back \(cannot create results folder' \
	    "and the event says why"
	umount "$M"
else
	for i in 1 2 3 4; do skip "cannot mount a tmpfs (not root)"; done
fi
# Named jobs from a slow writer: exec-run reads stdin when something is
# there, and renews its tasks' leases while it waits for more, so a task
# is not found lost because the next line is late.
a=$(job-submit -q -- sh -c 'until [ -e "$0" ]; do sleep 0.05; done' "$T/go")
b=$(job-submit -q -- true)
ka() { run-query tasks -f ndjson -j "$a" | sed -n 's/.*"keepalive":"\([^"]*\)".*/\1/p'; }
renewed() { [ -n "$k0" ] && [ "$(ka)" != "$k0" ] && [ "$(ka)" != "" ]; }
started() { [ -n "$(ka)" ]; }
{
	echo "$a"
	until_true started
	k0=$(ka)
	# A second renewal, then the next job while the first still runs.
	until_true renewed && k0=$(ka) && until_true renewed && echo ok >"$T/renewed"
	# A reaper finds nothing expired.
	task-keepalive --reap >/dev/null 2>&1
	echo "$b"
	until_true sh -c "[ \"\$(job-describe -f ndjson $b | grep -c '\"state\":\"succeeded\",\"owner\"')\" = 1 ]"
	touch "$T/go"
} | exec-run -j 2 --lease 1s -q >"$T/slow.out" 2>"$T/slow.err"
check_same "the first task's lease is renewed while stdin is quiet" \
    "$(cat "$T/renewed" 2>/dev/null)" ok
check_same "the next job runs beside it as soon as it comes" "$(job_state "$b")" succeeded
check_same "and the first is not lost" "$(job_state "$a") $(task_field "$a.1" state)" \
    "succeeded succeeded"
# A cancel reaches the exec-run running the job when it is committed, not
# at its next lease renewal (a third of the lease: 20 s here), though the
# write that wakes it comes before the commit shows.
within() {
	_cap=$(($1 * 10))
	shift
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ "$_i" -gt "$_cap" ] && return 1
		sleep 0.1
	done
}
for mode in named worker; do
	c=$(job-submit -q -Q "c-$mode" -- sleep 100)
	if [ "$mode" = named ]; then
		exec-run --lease 60s "$c" >/dev/null 2>&1 &
	else
		exec-run --lease 60s --worker -Q "c-$mode" >/dev/null 2>&1 &
	fi
	p=$!
	until_state "$c" running
	job-submit -q -c "$c" >/dev/null
	check "a $mode run stops a cancelled job within 10 s, not 20" \
	    within 10 _state_is "$c" cancelled
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
done_testing
