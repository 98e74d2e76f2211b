#!/bin/sh
# exec-run -- cmd: exit statuses like timeout(1), output passed through and
# captured, results files, environment, work directory, limits.
. "$(dirname "$0")/lib.sh"
plan 43

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
check_same "the results are private, result.json too" \
    "$(stat -c %a "$res/stdout" "$res/exitCode" "$res/result.json" | sort -u)" "600"
check_same "every task has its pid recorded" \
    "$(sqlite3 "$JOBKIT_DB" 'select count(*) from tasks where pid is null or pid <= 0')" "0"
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
# Programs are found on the job's own PATH; a file without #! runs under sh.
mkdir -p "$T/bin"
printf 'echo "script $1 $FOO"\n' >"$T/bin/nobang"
chmod +x "$T/bin/nobang"
check_exit 0 "a script without #! found on the spec's PATH" \
    exec-run -e PATH="$T/bin:/usr/bin:/bin" -e FOO=x -- nobang arg
check_out "^script arg x\$" "runs under sh with its arguments and env"
check_exit 0 "and named by a path" exec-run -e FOO=y -- "$T/bin/nobang" z
check_out "^script z y\$" "likewise"
check_exit 127 "a command absent from the spec's PATH" exec-run -e PATH="$T/bin" -- ls
check_stderr "cannot run 'ls': command not found" "is not found"
check_exit 0 "an empty PATH entry is the work directory" \
    exec-run -w "$T/bin" -e PATH=":/usr/bin" -e FOO=w -- nobang v
check_out "^script v w\$" "where the program is found"
# --memory is the task's address-space limit.
grow='x=$(head -c 100000000 /dev/zero | tr "\0" a); echo ${#x}'
run exec-run --memory 64M -- sh -c "$grow"
check_same "a job needing more than --memory fails" "$([ "$rc" -ne 0 ] && echo failed)" "failed"
check_exit 0 "the same job within --memory succeeds" exec-run --memory 1G -- sh -c "$grow"
check_out "^100000000\$" "and finishes its work"
# --cpu with a timeout is a budget of CPU seconds (cores x timeout).
spin='while :; do :; done'
check_exit 152 "a job spinning past --cpu 0.25 x --timeout 4s (1 s of CPU)" \
    exec-run --cpu 0.25 -t 4s -- sh -c "$spin"
run sh -c "job-describe -f ndjson \$(run-query jobs -q -r -L 1)"
check_out '"signal":24,"error":"CPU limit exceeded' "ends with SIGXCPU and says why"
check_exit 124 "without --cpu the same job runs to its timeout" \
    exec-run -t 1500ms -- sh -c "$spin"
check_exit 0 "a job within its CPU budget is not touched" \
    exec-run --cpu 1 -t 10s -- sh -c 'i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done'
done_testing
