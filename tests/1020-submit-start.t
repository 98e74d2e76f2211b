#!/bin/sh
# Submit and it runs: --start (and JOBKIT_START) starts a worker for a
# queue no live worker serves, which leaves when idle; --after-last;
# --delete and --clear take the results folders with the rows.
. "$(dirname "$0")/lib.sh"
plan 62

alive() { run-query runs --alive --count 2>/dev/null || echo 0; }
alive_is() { [ "$(alive)" = "$1" ]; }
workers() { run-query runs -f ndjson | grep -c '"mode":"worker"'; }
worker_pid() {
	run-query runs --alive -f ndjson | grep '"mode":"worker"' |
	    sed -n 's/.*"pid":\([0-9]*\).*/\1/p' | head -1
}
no_worker() { [ "$(alive)" = 0 ]; }
ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- --start ----
check_same "no worker runs at first" "$(alive)" 0
t0=$(ms)
check "--start submits" job-submit -q --start --idle-exit 2s -- sh -c 'echo started'
j=$(cat "$T/out")
check "and the job succeeds with no worker started by hand" until_state "$j" succeeded
echo "# succeeded $(($(ms) - t0)) ms after the submit"
check_same "its output" "$(exec-run --logs "$j")" started
check_same "one worker was started" "$(workers)" 1
run run-query runs -f ndjson
check_out '"mode":"worker".*"queues":\["default"\]' "serving the job's queue"
pid=$(worker_pid)
check "it is a process of its own" test -n "$pid"
check "it leaves after its idle time" until_true gone "$pid"
check "and its run ended" until_true no_worker
run run-query runs -f ndjson
check_out '"state":"ended"' "ended, not lost"

# Without --start nothing runs it.
check "without --start" job-submit -q -- true
q=$(cat "$T/out")
check_same "a job waits" "$(job_state "$q")" queued
check_same "and no worker is started" "$(workers)" 1

# A worker that serves the queue already is used, not doubled.
exec-run --worker -Q default --idle-exit 30s >/dev/null 2>&1 &
w=$!
check "a worker started by hand" until_true alive_is 1
check "takes the waiting job" until_state "$q" succeeded
check "--start with a worker there" job-submit -q --start -- true
k=$(cat "$T/out")
check "runs there" until_state "$k" succeeded
check_same "and starts none" "$(workers)" 2

# One that serves another queue does not count.
check "--start on another queue" job-submit -q --start --idle-exit 1s -Q other -- true
o=$(cat "$T/out")
check "runs" until_state "$o" succeeded
check_same "in a worker of its own" "$(workers)" 3
run run-query runs -f ndjson
check_out '"queues":\["other"\]' "which serves that queue"
kill "$w"
wait "$w" 2>/dev/null
check "the workers leave" until_true no_worker

# Two submits at once start one worker.
job-submit -q --start --idle-exit 2s -- true >"$T/a" 2>&1 &
a=$!
job-submit -q --start --idle-exit 2s -- true >"$T/b" 2>&1 &
b=$!
wait "$a"
ra=$?
wait "$b"
check_same "two --start at once both submit" "$ra $?" "0 0"
check "both jobs succeed" until_true sh -c '[ "$(run-query -s succeeded --count)" = 6 ]'
check_same "one worker started for them" "$(workers)" 4
check "it leaves" until_true no_worker

# JOBKIT_START is --start for every submit; 0 is not.
check "JOBKIT_START=1" env JOBKIT_START=1 job-submit -q --idle-exit 1s -- true
e=$(cat "$T/out")
check "starts a worker too" until_state "$e" succeeded
check "which leaves" until_true no_worker
check "JOBKIT_START=0" env JOBKIT_START=0 job-submit -q -- true
z=$(cat "$T/out")
check_same "does not" "$(workers)" 5
check "and JOBKIT_START does not disturb actions" env JOBKIT_START=1 job-submit -q -c "$z"

# Bad uses: each 64, with nothing written.
sum=$(db_sum)
check_exit 64 "--idle-exit without --start" job-submit --idle-exit 1s -- true
check_stderr "^job-submit: --idle-exit goes with --start$" "says so"
check_exit 64 "a bad --idle-exit" job-submit --start --idle-exit soon -- true
check_stderr "^job-submit: --idle-exit: " "names the option"
check_exit 64 "--start with an action" job-submit --start -c "$e"
check_stderr "^job-submit: --start goes with a new job, not an action$" "says so"
check_same "nothing was written" "$(db_sum)" "$sum"

# ---- --after-last ----
l1=$(job-submit -q -- true)
check "--after-last" job-submit -f ndjson --after-last -- true
run job-describe -f ndjson "$(sed 's/.*"id":"\([^"]*\)".*/\1/' "$T/out")"
check_out "\"dependencies\":\[\{\"id\":\"$l1\",\"kind\":\"success\"" \
    "depends on the job submitted last"
p=$(job-submit -q --array 1-3 -- true | head -1)
n=$(job-submit -q --after-last -- true)
run job-describe -f ndjson "$n"
check_out "\"dependencies\":\[\{\"id\":\"$p\"," "after an array, on its parent"

# ---- --delete and --clear ----
d=$(job-submit -q -- sh -c 'echo keep')
exec-run -q "$d" >/dev/null
res=$T/results/$d.1
check "a finished job has its results folder" test -f "$res/stdout"
check "--delete" job-submit -q --delete "$d"
check "removes the folder too" test ! -e "$res"

c1=$(job-submit -q -- true)
exec-run -q "$c1" >/dev/null
c1res=$T/results/$c1.1
sqlite3 "$JOBKIT_DB" "update jobs set ended = ended - 7200000 where rid = (select max(rid) from jobs)"
c2=$(job-submit -q -- true)
exec-run -q "$c2" >/dev/null
c3=$(job-submit -q -H -- true)
check "--clear --older 1h" job-submit -q -C --older 1h
check_same "deletes what ended before" "$(cat "$T/out")" "$c1"
check "with its results" test ! -e "$c1res"
check "the others' stay" test -d "$T/results/$c2.1"
check_same "keeps what ended since, and what did not end" \
    "$(run-query -q -i "$c2"; run-query -q -i "$c3")" "$c2
$c3"
before=$(run-query -s queued,held --count)
check "--clear" job-submit -q --clear
check_out "^$c2\$" "deletes the finished jobs"
check_same "all of them" "$(run-query -s succeeded,failed,cancelled --count)" 0
check_same "and only them" "$(run-query -s queued,held --count)" "$before"

sum=$(db_sum)
check_exit 64 "--clear with job IDs" job-submit -C "$c3"
check_stderr "^job-submit: --clear takes no job IDs \('$c3'\)$" "says so"
check_exit 64 "--older without --clear" job-submit --older 1h -c "$c3"
check_stderr "^job-submit: --older goes with --clear$" "says so"
check_exit 64 "a bad --older" job-submit -C --older yesterday
check_stderr "^job-submit: --older: " "names the option"
check_same "nothing was deleted" "$(db_sum)" "$sum"
done_testing
