#!/bin/sh
# exec-run -- cmd: exit statuses like timeout(1), output passed through and
# captured, results files, environment, work directory, limits.
. "$(dirname "$0")/lib.sh"
plan 115

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
check_same "a job killed by a signal has no exit_code in result.json" \
    "$(grep -c '"exit_code"' "$T/results/a006.1/result.json")" "0"
check "but its signal" grep -q '"signal":9,"error":"killed by signal 9"' \
    "$T/results/a006.1/result.json"
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
check_exit 0 "without one, the job runs where exec-run was typed" \
    sh -c 'cd "$T/wd" && exec-run -- pwd'
check_same "as timeout(1) would" "$(cat "$T/out")" "$T/wd"
check_same "and the spec records that directory" \
    "$(job-describe -f ndjson "$(last)" | grep -c "\"workdir\":\"$T/wd\"")" "1"
check_exit 0 "a queued job without one" \
    sh -c 'cd "$T/wd" && job-submit -- sh -c "pwd; echo \$PWD" | (cd / && exec-run -q)'
check_same "runs where it was submitted, as tsp, nq and sbatch run them; PWD says so" \
    "$(tr '\n' ' ' <"$T/results/$(last).1/stdout")" "$T/wd $T/wd "
check_exit 0 "one with --scratch" sh -c 'job-submit --scratch -- sh -c "pwd; echo \$PWD" | exec-run -q'
check_same "runs in a fresh directory inside its results; PWD too" \
    "$(tr '\n' ' ' <"$T/results/$(last).1/stdout")" "$T/results/$(last).1/work $T/results/$(last).1/work "
check_exit 0 "in the foreground too" exec-run --scratch -- pwd
check_same "a fresh one" "$(cat "$T/out")" "$T/results/$(last).1/work"
check_exit 0 "a relative --workdir" \
    sh -c 'cd "$T" && job-submit -w ./wd -- pwd | (cd / && exec-run -q)'
check_same "is the submitter's, stored made absolute" \
    "$(cat "$T/results/$(last).1/stdout")" "$T/wd"
check_exit 125 "a work directory that does not exist exits 125, as env -C does" \
    exec-run -w "$T/no-such-dir" -- pwd
check_stderr "^exec-run: cannot enter work directory '$T/no-such-dir': No such file or directory\$" \
    "and says which directory"
check_exit 125 "and --wait on it says the same" exec-run --wait "$(last)"
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

# Retries happen here, not in some later worker.
cat >"$T/flaky" <<'EOF'
#!/bin/sh
n=$(($(cat "$T/count" 2>/dev/null || echo 0) + 1))
echo $n >"$T/count"
echo "attempt $n"
[ $n -ge 3 ]
EOF
chmod +x "$T/flaky"
check_exit 0 "--retries 3 runs a job failing twice until it succeeds" \
    exec-run -r 3 -- "$T/flaky"
check_same "each attempt's output passes through" "$(tr '\n' ' ' <"$T/out")" \
    "attempt 1 attempt 2 attempt 3 "
check_same "three tasks, the last succeeded" \
    "$(run-query tasks -j "$(last)" -o attempt -f ndjson | grep -o '"state":"[a-z]*"' | tr '\n' ' ')" \
    '"state":"failed" "state":"failed" "state":"succeeded" '
rm "$T/count"
check_exit 1 "with --retries 1 it exits with the last attempt's status" \
    exec-run -r 1 -- "$T/flaky"
check_same "and the job ends failed, not left queued for a worker" \
    "$(run-query jobs -q -s failed -r -L 1) $(run-query jobs -s queued -c)" "$(last) 0"

# --after a job still to run: the foreground waits for it, then runs here.
dep=$(job-submit -q -e T -- sh -c 'sleep 0.5; echo dep >>"$T/order"')
{ sleep 0.3; exec-run -q "$dep" >/dev/null 2>&1; } &
check_exit 0 "--after a job not yet ended waits for it" \
    exec-run --after "$dep" -- sh -c 'echo me >>"$T/order"'
wait
check_same "and runs once it succeeded" "$(tr '\n' ' ' <"$T/order")" "dep me "
check_stderr "waits for its dependencies" "saying so"
bad=$(job-submit -q -- false)
{ sleep 0.3; exec-run -q "$bad" >/dev/null 2>&1; } &
check_exit 1 "--after a job that then fails" exec-run --after "$bad" -- touch "$T/never"
check_stderr "cancelled without running: dependency $bad failed" "and says why"
wait
check "does not run" test ! -e "$T/never"

# A reader that goes away: the job is told as a pipe would tell it.
{ timeout -s KILL 15 exec-run -- sh -c 'echo a; sleep 1; echo b; sleep 30; echo c'; echo $? >"$T/rc"; } | head -1 >"$T/first"
check_same "exec-run -- job | head -1 exits 141 (SIGPIPE)" "$(cat "$T/rc")" "141"
check_same "after passing the first line through" "$(cat "$T/first")" "a"
check_same "the task ends with signal 13, recorded" \
    "$(run-query tasks -j "$(last)" -f ndjson | grep -o '"signal":[0-9]*')" '"signal":13'
check "and the job's sleep is gone" sh -c '! pgrep -f "slee[p] 30; echo c" >/dev/null'

{ timeout -s KILL 30 exec-run -- sh -c 'trap "" PIPE; yes' 2>/dev/null; echo $? >"$T/rc"; } | head -1 >/dev/null
check_same "a job that ignores SIGPIPE gets EPIPE, as from the pipe itself, and ends" \
    "$(cat "$T/rc")" "1"
check "having stopped at once, not filled its file" \
    test "$(wc -c <"$T/results/$(last).1/stdout")" -lt 10000000
check_exit 125 "output that cannot be passed through (a full disk) exits 125" \
    sh -c 'exec-run -- echo hi >/dev/full'
check_stderr "^exec-run: cannot pass the job's output through: No space left on device\$" \
    "and says why"
check_exit 64 "a command and --shell both" exec-run -S 'echo hi' -- echo x
check_stderr "^exec-run: give a command after '--' or --shell, not both\$" "is refused"

# Processes that leave the task's group go with it all the same.
check_exit 124 "a timeout with a process that left the group (setsid)" \
    exec-run -t 1s --grace 1s -- sh -c 'setsid sleep 47.5 >/dev/null 2>&1 & sleep 100'
check "the escaped process is killed with the task" sh -c '! pgrep -f "slee[p] 47.5" >/dev/null'
check_exit 124 "one holding the task's output does not hold exec-run past it" \
    timeout -s KILL 30 exec-run -t 1s --grace 1s -- sh -c 'setsid sleep 46.5 & sleep 100'
check "and is gone too" sh -c '! pgrep -f "slee[p] 46.5" >/dev/null'
check_exit 124 "one that also cleared its environment (env -i) is known by the pipe it holds" \
    timeout -s KILL 30 exec-run -t 1s --grace 1s -- sh -c 'env -i setsid sleep 45.5 & exec sleep 100'
check "and is gone" sh -c '! pgrep -f "slee[p] 45.5" >/dev/null'
check_exit 0 "a job that leaves a setsid daemon behind" \
    exec-run -- sh -c 'setsid sh -c "setsid sleep 48.5 & sleep 49.5" >/dev/null 2>&1 & sleep 0.2'
check "nothing of it outlives the task" sh -c '! pgrep -f "slee[p] 4[89].5" >/dev/null'

# A bad spec is bad input, as job-submit says; nothing is run or stored.
before=$(db_sum)
check_exit 65 "a bad spec option exits 65" exec-run -e 1X=2 -- touch "$T/ran65"
check_stderr "^exec-run: \\\$\\.env\\.1X: '1X' is not a valid variable name\$" "naming the field"
check_same "nothing run, nothing stored" "$(test -e "$T/ran65" && echo ran) $(db_sum)" " $before"

# JSON text is UTF-8: a command that is not is refused, never run short
# of the word; a current directory that is not, never run elsewhere.
ff=$(printf '\377')
check_exit 65 "a command word that is not UTF-8 exits 65" \
    exec-run -- touch "$T/ran65" "$T/$ff"
check_stderr "^exec-run: the command is not UTF-8\$" "says so"
check_exit 65 "so does a --shell that is not" exec-run -S "touch $T/ran65 $ff"
check_stderr "^exec-run: the command is not UTF-8\$" "says so too"
mkdir "$T/d$ff"
check_exit 125 "a current directory that is not UTF-8 exits 125" \
    sh -c 'cd "$1" && exec exec-run -- touch "$2"' sh "$T/d$ff" "$T/ran65"
check "says so" env LC_ALL=C grep -Eq \
    "^exec-run: current directory '$T/d.' is not UTF-8\$" "$T/err"
check_same "nothing run, nothing stored" "$(test -e "$T/ran65" && echo ran) $(db_sum)" " $before"

# Options that would change nothing here are refused.
check_exit 64 "--drain with a command" exec-run --drain -- true
check_stderr "^exec-run: --drain goes with --worker\$" "says so"
check_exit 64 "--jobs with a command" exec-run -j 2 -- true
check_stderr "^exec-run: --jobs goes with job IDs or --worker\$" "says so"
check_exit 64 "--at with a command" exec-run --at 1h -- true
check_stderr "^exec-run: --at: a command given here runs now" "says so"
check_exit 64 "--hold with a command" exec-run -H -- true
check_stderr "^exec-run: --hold: a command given here runs now" "says so"
check_exit 65 "--after a job that does not exist" exec-run --after zzzz -- touch "$T/ran65"
check_stderr "^exec-run: \\\$\\.after\\[0\\]: 'zzzz' is not a job ID\$" "is bad input, named"
check_exit 0 "-f json with a command" exec-run -f json -- echo only
check_same "prints the job's output and nothing else" "$(cat "$T/out")" "only"
# An idempotency key runs the job once; the same key again waits for it.
check_exit 4 "a job with a key" exec-run -k once -- sh -c 'echo ran >>"$T/once"; exit 4'
check_exit 4 "the same key again exits with that job's status" \
    exec-run -k once -- sh -c 'echo ran >>"$T/once"; exit 4'
check_same "having run it once" "$(wc -l <"$T/once" | tr -d ' ')" "1"
check_stderr "has key 'once': not running it again" "and says so"

# An unusable results folder is found before the job is run.
: >"$T/afile"
check_exit 125 "--results under a regular file exits 125" \
    exec-run --results "$T/afile/res" -- touch "$T/ran"
check_stderr "^exec-run: cannot create results folder '$T/afile/res': Not a directory\$" \
    "and says why"
check "and the job was never run" test ! -e "$T/ran"
done_testing
