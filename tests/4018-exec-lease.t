#!/bin/sh
# exec-run's lease, from lease.c as task-keepalive's: an idle worker shows
# it is alive; a worker stalled past its lease and reaped stops the task
# it lost without recording it, and goes on as a new run that runs the
# re-queued job again -- one attempt never runs twice.
. "$(dirname "$0")/lib.sh"
plan 9
cd "$T" || exit 1

alive_runs() { [ "$(run-query runs --alive -q | wc -l)" -ge "$1" ]; }

exec-run --worker --lease 1s >worker.out 2>worker.err &
w=$!
until_true alive_runs 1
sleep 1.5 # more than the lease: an idle worker must have renewed
check_same "an idle worker's run stays alive past its lease" \
    "$(run-query runs --alive -q | wc -l)" 1
kill -TERM $w
wait $w
check_same "and ends when it stops" "$(run-query runs -s ended -q | wc -l)" 1

# The first attempt hangs, the second ends at once.
j=$(job-submit -q -- sh -c 'if [ -f once ]; then exit 0; fi; : >once; sleep 60')
exec-run --worker --lease 1s >worker.out 2>worker.err &
w=$!
until_true test -f once
run1=$(run-query runs --alive -q)
kill -STOP $w
sleep 1.5 # the stalled worker's lease runs out
run task-keepalive --reap
check_out "\"id\":\"$j.1\",\"kind\":\"task\",\"job\":\"$j\",\"state\":\"lost\",\"job_state\":\"queued\"" \
    "a reaper finds the stalled worker's task lost, its job queued"
check_out "\"id\":\"$run1\",\"kind\":\"run\",\"state\":\"lost\"" \
    "and its run"
kill -CONT $w
until_state "$j" succeeded
check_same "the worker, back, runs the job again as a new attempt" \
    "$(run-query tasks -j "$j" -f ndjson | grep -o '"state":"[a-z]*"' | tr '\n' ' ')" \
    '"state":"lost" "state":"succeeded" '
check_same "under a new run" \
    "$(run-query tasks -j "$j" -f ndjson | sed -n 2p | sed 's/.*"run":"\([^"]*\)".*/\1/')" \
    "$(run-query runs --alive -q)"
check "which is not the lost one" test "$(run-query runs --alive -q)" != "$run1"
kill -TERM $w
wait $w
check_same "no attempt succeeded twice" \
    "$(run-query tasks -j "$j" -s succeeded -q | wc -l)" 1
check "the worker said its run was lost" grep -q "run '$run1' lost" worker.err
