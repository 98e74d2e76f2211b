#!/bin/sh
# exec-run --logs: a task's output, finished, failed, cancelled or still
# running (--follow), stdout or --stderr, by job or task ID.
. "$(dirname "$0")/lib.sh"
plan 16

# Wait (up to 10 s) until job $1 is in state $2.
until_state() {
	i=0
	while [ "$(job-describe -f ndjson "$1" | sed 's/.*"state":"\([a-z_]*\)","owner".*/\1/')" != "$2" ]; do
		i=$((i + 1))
		[ "$i" -gt 200 ] && return 1
		sleep 0.05
	done
}

a=$(job-submit -q -- sh -c 'echo out1; echo err1 >&2; exit 2')
exec-run -q "$a" >/dev/null
check_exit 0 "--logs of a failed task" exec-run --logs "$a"
check_same "prints its stdout" "$(cat "$T/out")" "out1"
check_exit 0 "--logs --stderr" exec-run --logs "$a" --stderr
check_same "prints its stderr" "$(cat "$T/out")" "err1"
check_exit 0 "--logs by task ID" exec-run --logs "$a.1"
check_same "the same output" "$(cat "$T/out")" "out1"

b=$(job-submit -q -- sh -c 'echo one; sleep 0.8; echo two')
exec-run -q "$b" >/dev/null 2>&1 &
until_state "$b" running
start=$(date +%s%N)
check_exit 0 "--logs --follow of a running task" exec-run --logs "$b" --follow
check_same "prints what comes after it started" "$(tr '\n' ' ' <"$T/out")" "one two "
check_same "and returns when the task ends" \
    "$(( ($(date +%s%N) - start) / 1000000 >= 300 ))" "1"
wait

c=$(job-submit -q -- sh -c 'echo before; sleep 30')
exec-run -q "$c" >/dev/null 2>&1 &
until_state "$c" running
sleep 0.2
job-submit -q --cancel "$c" >/dev/null
wait
check_exit 0 "--logs of a cancelled task" exec-run --logs "$c"
check_same "keeps what it printed" "$(cat "$T/out")" "before"

d=$(job-submit -q -- true)
check_exit 66 "--logs of a job not run yet" exec-run --logs "$d"
check_stderr "job '$d' has no task yet" "says so"
check_exit 66 "--logs of an unknown job" exec-run --logs azzz
check_exit 64 "--follow without --logs" exec-run --follow "$a"
check_exit 64 "--logs of two jobs" exec-run --logs "$a" "$b"
done_testing
