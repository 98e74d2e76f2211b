#!/bin/sh
# exec-run -- cmd: exit statuses like timeout(1), output passed through and
# captured, results files, environment, work directory, limits.
. "$(dirname "$0")/lib.sh"
plan 26

check_exit 0 "a job that succeeds exits 0" exec-run -- echo hello
check_same "its output passes through" "$(cat "$T/out")" "hello"
check_exit 3 "a job's exit status is exec-run's" exec-run -- sh -c 'exit 3'
check_exit 124 "a timeout exits 124" exec-run -t 1s -- sleep 10
check_exit 127 "a missing command exits 127" exec-run -- no-such-command-jk
check_stderr "cannot run 'no-such-command-jk': command not found" \
    "and says what it could not run"
check_exit 126 "a file that is not executable exits 126" exec-run -- /etc/passwd
check_exit 137 "a job killed by signal 9 exits 137" exec-run -- sh -c 'kill -9 $$'
check_exit 143 "a job killed by signal 15 exits 143" exec-run -- sh -c 'kill -15 $$'

# What was recorded.
run run-query tasks -q
check_same "one task per run" "$(wc -l <"$T/out" | tr -d ' ')" "7"
run run-query tasks --state timed_out -q
check_same "the timeout is recorded as timed_out" "$(cat "$T/out")" "a003.1"
res=$T/results/a001.1
check_same "stdout captured in results/<task>/stdout" "$(cat "$res/stdout")" "hello"
check_same "exitCode written" "$(cat "$res/exitCode")" "0"
check "result.json written" grep -q '"state":"succeeded"' "$res/result.json"
run run-query tasks --state failed --format ndjson
check_out '"exit_code":3' "a failed task keeps its exit status"

# Environment and work directory.
check_exit 0 "the job sees JOBKIT_* and its env" \
    exec-run -e FOO=bar -- sh -c 'echo "$FOO $JOBKIT_JOB_ID $JOBKIT_TASK_ID $JOBKIT_ATTEMPT"'
last() { run-query jobs -q --reverse --limit 1; }
j=$(last)
check_same "env, job, task and attempt" "$(cat "$T/out")" "bar $j $j.1 1"
mkdir "$T/wd"
check_exit 0 "a work directory from the spec" exec-run -w "$T/wd" -- pwd
check_same "the job ran there" "$(cat "$T/out")" "$T/wd"
check_exit 0 "without one, a fresh directory per task" exec-run -- pwd
check_same "inside the task's results" "$(cat "$T/out")" "$T/results/$(last).1/work"
check_exit 0 "stdin is /dev/null" exec-run -- sh -c 'cat; echo done'
check_same "so the job cannot read ours" "$(cat "$T/out")" "done"

# Output limits: a capped file, a capped summary, both flagged.
check_exit 0 "a job printing 1 MiB with --max-file 64K" \
    exec-run --max-file 64K --max-return 100 -- head -c 1048576 /dev/zero
j=$(last)
check_same "the file stops at the limit" \
    "$(wc -c <"$T/results/$j.1/stdout" | tr -d ' ')" "65536"
run job-describe "$j" --format ndjson
check_out '"stdout_truncated":true' "the summary is cut and flagged"
done_testing
