#!/bin/sh
# exec-run --logs: a task's output, finished, failed, cancelled or still
# running (--follow), stdout or --stderr, by job or task ID.
. "$(dirname "$0")/lib.sh"
plan 26

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
check_exit 64 "--stderr without --logs" exec-run --stderr "$a"
check_stderr "^exec-run: --stderr goes with --logs\$" "says so"
check_exit 2 "--logs --follow of an ended task exits with its status" \
    exec-run --logs "$a.1" --follow
check_same "after its output" "$(cat "$T/out")" "out1"
check_exit 0 "without --follow, 0 whatever the task's status" \
    exec-run --logs "$a"
check_exit 64 "--logs of two jobs" exec-run --logs "$a" "$b"

# Following a job that has not started waits for it to start.
e=$(job-submit -q -H -- sh -c 'echo first; sleep 0.3; echo second')
{ sleep 1; job-submit -q --release "$e" >/dev/null; exec-run -q "$e" >/dev/null 2>&1; } &
check_exit 0 "--logs --follow of a held job" exec-run --logs "$e" --follow
check_same "waits for it to run and prints all of it" "$(tr '\n' ' ' <"$T/out")" "first second "
wait
f=$(job-submit -q -H -- true)
job-submit -q --cancel "$f" >/dev/null
check_exit 66 "--logs --follow of a job cancelled before it ran" exec-run --logs "$f" --follow
check_stderr "^exec-run: job '$f' cancelled with no task\$" "says so instead of waiting"
g=$(job-submit -q -- sh -c 'echo up; sleep 30')
exec-run -q "$g" >/dev/null 2>&1 &
until_state "$g" running
exec-run --logs "$g" --follow >"$T/follow" 2>&1 &
p=$!
sleep 0.5
kill -INT "$p"
wait "$p"
check_same "SIGINT stops --follow at once with 130" "$?" "130"
job-submit -q --cancel "$g" >/dev/null
wait
done_testing
