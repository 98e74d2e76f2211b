#!/bin/sh
# exec-run ID... and jobs piped in: run exactly those, one result each.
. "$(dirname "$0")/lib.sh"
plan 16

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
done_testing
