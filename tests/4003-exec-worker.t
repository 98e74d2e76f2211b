#!/bin/sh
# exec-run --worker: priority order, dependencies, holds, resource fit,
# retries with backoff, drain.
. "$(dirname "$0")/lib.sh"
plan 42

lo=$(job-submit -q -p 1 -- true)
hi=$(job-submit -q -p 9 -- true)
mid=$(job-submit -q -p 5 -- true)
old=$(job-submit -q -p 5 -- true)
check_exit 0 "a draining worker runs the queue" exec-run --worker --drain -q
check_same "by priority, then age" "$(tr '\n' ' ' <"$T/out")" \
    "$hi.1 $mid.1 $old.1 $lo.1 "

first=$(job-submit -q -- sh -c 'exit 1')
after=$(job-submit -q --after "$first" -- true)
any=$(job-submit -q --after-any "$first" -- true)
held=$(job-submit -q -H -- true)
big=$(job-submit -q --cpu 8 -- true)
check_exit 0 "a worker with 2 cpus" exec-run --worker --drain --capacity cpu=2 -q
run job-describe "$after" --format ndjson
check_out '"state":"cancelled"' "a job after a failed one is cancelled"
check_out "dependency $first failed" "with a clear reason"
run job-describe "$any" --format ndjson
check_out '"state":"succeeded"' "a job after any end runs"
run job-describe "$held" --format ndjson
check_out '"state":"held"' "a held job stays held"
run job-describe "$big" --format ndjson
check_out '"state":"queued"' "a job bigger than the worker is never started there"
job-submit --cancel "$big" "$held" >/dev/null

flaky=$(job-submit -q -r 2 -- sh -c 'exit 7')
start=$(date +%s)
check_exit 0 "retries run in one draining worker" exec-run --worker --drain -q
took=$(( $(date +%s) - start ))
check_same "three attempts" "$(tr '\n' ' ' <"$T/out")" "$flaky.1 $flaky.2 $flaky.3 "
check "after backoffs of 1 s and 2 s" test "$took" -ge 3
run job-describe "$flaky" --format ndjson
check_out '"state":"failed"' "then the job failed"
check_out 'retry 2 of 2 in 2s' "each retry is an event"

only=$(job-submit -q -r 3 --retry-on 4 -- sh -c 'exit 5')
check_exit 0 "retry-on other statuses" exec-run --worker --drain -q
check_same "does not retry" "$(cat "$T/out")" "$only.1"
run job-describe "$only" --format ndjson
check_out 'not retried: exit status 5 is not one of its retry_on statuses' "and its last event says why"
tmo=$(job-submit -q -t 300ms -- sleep 5)
exec-run --worker --drain -q >/dev/null
run job-describe "$tmo" --format ndjson
check_out '"type":"timed_out","state":"failed","task":"'"$tmo"'.1"' \
    "the event that ends a timed-out job is of type timed_out"

check_exit 0 "--idle-exit ends an idle worker" exec-run --worker --idle-exit 1s
check_exit 64 "--worker takes no job IDs" exec-run --worker a001
check_exit 64 "a queue name job-submit would refuse" exec-run --worker --drain -Q 'bad queue!'
check_stderr "^exec-run: --queue: 'bad queue!' must be 1 to 63 letters" "is refused"
check_exit 65 "a run label job-submit would refuse" exec-run --worker --drain -l 'bad key=1'
check_stderr "label key 'bad key' may hold only" "is refused"
check_exit 64 "nor spec options, which would change nothing" exec-run --worker -t 5m
check_stderr "^exec-run: --timeout goes with a command\$" "says so"

# A task's stray is killed when it ends; another task running is not.
long=$(job-submit -q -- sh -c 'sleep 1.5; echo survived')
short=$(job-submit -q -- sh -c 'setsid sleep 44.5 >/dev/null 2>&1 & true')
check_exit 0 "two at a time, one leaving a setsid process behind" \
    exec-run --worker -j 2 --drain -q
check "the stray is gone" sh -c '! pgrep -f "slee[p] 44.5" >/dev/null'
check_same "the other task ran to its end" \
    "$(job_state "$long") $(cat "$T/results/$long.1/stdout")" "succeeded survived"

# A results folder that cannot be made stops the worker before it claims.
nfailed=$(run-query jobs -s failed -c)
nqueued=$(run-query jobs -s queued -c)
for i in 1 2 3; do job-submit -q -- true >/dev/null; done
: >"$T/afile"
check_exit 73 "a worker whose results folder cannot be made" \
    exec-run --worker --drain --results "$T/afile/r"
check_stderr "cannot create results folder '$T/afile/r': Not a directory" "says why"
check_same "and has failed none of the queue" \
    "$(run-query jobs -s queued -c) $(run-query jobs -s failed -c)" "$((nqueued + 3)) $nfailed"
exec-run --worker --drain -q >/dev/null

# The results folder is opened for each task and made again only when it
# has gone: one removed while the worker waits holds the next task's.
exec-run --worker --results "$T/gone/r" -q >"$T/gone.out" 2>"$T/gone.err" &
w=$!
_made() { [ -d "$T/gone/r" ]; }
until_true _made
rm -rf "$T/gone"
again=$(job-submit -q -- echo again)
until_state "$again" succeeded
check_same "a results folder removed under a worker is made again" \
    "$(cat "$T/gone/r/$again.1/stdout")" "again"
kill -TERM "$w"
wait "$w"
check_same "and the worker reported it as any other" \
    "$(cat "$T/gone.out"; grep -c 'results folder' "$T/gone.err")" "$again.1
0"

# A task's pid, its devices and what it runs are recorded: a short task's
# with its end (no commit of their own), a long one's while it runs.
pid_of() {
	sqlite3 "$JOBKIT_DB" "select coalesce(pid, 0) > 0, length(coalesce(cmd, '')), ended is null from tasks where job = (select max(rid) from jobs)"
}
job-submit -q -- true >/dev/null
check_exit 0 "a short job through a worker" exec-run --worker --drain -q
check_same "its pid and command digest are recorded with its end" \
    "$(pid_of)" "1|71|0"
job-submit -q -- sleep 30.3 >"$T/long"
exec-run --worker -q >/dev/null 2>&1 &
w=$!
_running_pid() { [ "$(pid_of)" = "1|71|1" ]; }
check "a long one's pid is recorded while it runs" until_true _running_pid
job-submit --cancel "$(cat "$T/long")" >/dev/null
until_state "$(cat "$T/long")" cancelled
kill -TERM "$w"
wait "$w"

# Rows written around the tools (here in a private database, where no
# signature is asked for) fail the job they are, and the queue behind them
# goes on: nothing reaches the executor unchecked.
bad1=$(job-submit -q -- true)
bad2=$(job-submit -q -- true)
bad3=$(job-submit -q -- true)
old=$(run-query jobs -s succeeded -q -L 1)
good=$(job-submit -q -- echo fine)
sqlite3 "$JOBKIT_DB" "update jobs set spec = 'not json' where rid = (select min(rid) from jobs where state = 'queued')"
sqlite3 "$JOBKIT_DB" "update jobs set spec = json_set(spec, '\$.worker_env', json_array(5)) where rid = (select min(rid) + 1 from jobs where state = 'queued')"
sqlite3 "$JOBKIT_DB" "update jobs set spec = json_set(spec, '\$.command', json('[]')) where rid = (select min(rid) + 2 from jobs where state = 'queued')"
sqlite3 "$JOBKIT_DB" "update jobs set state = 'queued', attempts = 0, ended = NULL where rid = (select min(rid) from jobs)"
check_exit 0 "a worker with rows changed around the tools ahead of a good one" \
    exec-run --worker --drain -q
check_same "runs the good one" "$(job_state "$good") $(cat "$T/results/$good.1/stdout")" "succeeded fine"
run job-describe -f ndjson "$bad1"
check_out '"state":"failed".*"reason":"refused: its spec is not one jobkit stored"' "a spec that is not JSON fails its job"
run job-describe -f ndjson "$bad2"
check_out '"state":"failed".*its spec is not one jobkit would store: \$.worker_env\[0\]: expected a string, got an integer' \
    "one that would crash the executor fails it too, saying why"
run job-describe -f ndjson "$bad3"
check_out '"state":"failed".*\$.command: must name a program' "and one with no program"
first=$(run-query jobs -q -L 1)
run job-describe -f ndjson "$first"
check_out '"state":"failed".*"reason":"refused: cannot record task.*UNIQUE constraint failed' \
    "a finished job set queued again under an attempt it had is refused"
done_testing
