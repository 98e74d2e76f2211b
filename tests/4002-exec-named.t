#!/bin/sh
# exec-run ID... and jobs piped in: run exactly those, one result each.
. "$(dirname "$0")/lib.sh"
plan 24

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
check_exit 66 "--wait on an unknown job" exec-run --wait azzz
check_stderr "no such job 'azzz'" "says so"
done_testing
