#!/bin/sh
# The claim: a job that fits is never passed over, however many do not
# fit ahead of it; a worker wakes for a job's due time, whoever wrote it;
# a job no worker can fit says why it waits.
. "$(dirname "$0")/lib.sh"
plan 22

# 300 queued jobs that need a GPU, older and of a higher priority, ahead
# of one that does not: a worker without GPUs runs that one.
awk 'BEGIN { for (i = 0; i < 300; i++)
	print "{\"command\":[\"true\"],\"priority\":5,\"resources\":{\"gpu\":1}}" }' |
    job-submit -q >/dev/null
fit=$(job-submit -q -- echo ran)
check_exit 0 "a worker with gpu=0 and 300 GPU jobs ahead" \
    exec-run --worker --capacity gpu=0 --drain -q
check_same "runs the one job that fits" "$(cat "$T/out")" "$fit.1"
check_same "and leaves the others queued" "$(run-query jobs -s queued -c)" "300"
g=$(run-query jobs -s queued -q -L 1)
run job-describe -f ndjson "$g"
check_out '"reason":"waiting for a worker with gpu=1"' "each says why it waits"
run run-query jobs -s queued -L 1
check_out '"reason":"waiting for a worker with gpu=1"' "in run-query too"
run sh -c "run-query jobs -s queued -L 1 -f table"
check_out "waiting for a worker with gpu=1" "and its table"
check_exit 0 "a worker that has a GPU" exec-run --worker --capacity gpu=1 -j 4 --drain -q
check_same "runs them" "$(run-query jobs -s succeeded -c)" "301"

# Every resource a job asks for is in the reason.
big=$(job-submit -q --cpu 64 --memory 1T --gpu 4 -- true)
exec-run --worker --capacity cpu=2,memory=4G --drain -q >/dev/null
run job-describe -f ndjson "$big"
check_out '"reason":"waiting for a worker with cpu=64, memory=1TiB, gpu=4"' \
    "cpu, memory and gpu, in units people read"
job-submit -q --cancel "$big" >/dev/null

# 100,000 of them ahead: still found, by the query itself.
awk 'BEGIN { for (i = 0; i < 100000; i++)
	print "{\"command\":[\"true\"],\"priority\":9,\"resources\":{\"gpu\":2}}" }' |
    job-submit -q >/dev/null
fit=$(job-submit -q -- echo ran)
check_exit 0 "100,000 unfit jobs ahead" exec-run --worker --capacity gpu=1 --drain -q
check_same "do not hide the one that fits" "$(cat "$T/out")" "$fit.1"
check_same "and stay queued" "$(run-query jobs -s queued -c)" "100000"
sqlite3 "$JOBKIT_DB" "update jobs set state = 'cancelled' where state = 'queued'"

# A worker notes why the jobs it cannot fit wait as they come and change,
# looking only at what changed once it has looked at them all: a job
# released from its hold and one that became due say what they wait for,
# not what they last did.
why() {
	job-describe -f ndjson "$1" |
	    sed -n 's/^{"id":[^{]*"reason":"\([^"]*\)".*/\1/p'
}
_why_is() { [ "$(why "$1")" = "$2" ]; }
exec-run --worker --capacity gpu=0 -q >"$T/n.out" 2>"$T/n.err" &
nw=$!
g=$(job-submit -q --gpu 1 -- true)
check "a worker without GPUs says why a job that wants one waits" \
    until_true _why_is "$g" "waiting for a worker with gpu=1"
h=$(job-submit -q -H --gpu 1 -- true)
g2=$(job-submit -q --gpu 3 -- true)
check "and of one submitted after it looked" \
    until_true _why_is "$g2" "waiting for a worker with gpu=3"
job-submit -q --release "$h" >/dev/null
check "a job released since says so" \
    until_true _why_is "$h" "waiting for a worker with gpu=1"
a=$(job-submit -q --at +6s --gpu 2 -- true)
g4=$(job-submit -q --gpu 4 -- true)
until_true _why_is "$g4" "waiting for a worker with gpu=4"
check "a job that became due since too" \
    until_true _why_is "$a" "waiting for a worker with gpu=2"
kill $nw
wait $nw 2>/dev/null
job-submit -q --cancel "$g" "$h" "$a" "$g2" "$g4" >/dev/null

# A running worker sleeps until a job's time: one submitted with --at
# +2s after the worker went to sleep starts within a second of it.
exec-run --worker -q >"$T/w.out" 2>"$T/w.err" &
w=$!
sleep 0.5
at=$(job-submit -q --at +2s -- true)
until_state "$at" succeeded
check_same "a job due in 2 s runs while the worker waits" "$(job_state "$at")" "succeeded"
late=$(sqlite3 "$JOBKIT_DB" "select t.started - j.not_before from tasks t join jobs j on j.rid = t.job where t.job = (select max(rid) from jobs)")
echo "# started $late ms after its time"
check "within a second of its time" test "$late" -ge 0 -a "$late" -lt 1000
# A retry's backoff is a due time too: attempt 2 starts a second after 1.
r=$(job-submit -q -r 1 -e T -- sh -c 'test -f "$T/again" || { touch "$T/again"; exit 1; }')
until_state "$r" succeeded
check_same "a job retried after its backoff" "$(job_state "$r")" "succeeded"
gap=$(sqlite3 "$JOBKIT_DB" "select b.started - a.ended from tasks a join tasks b on b.job = a.job and b.attempt = 2 where a.attempt = 1 and a.job = (select max(rid) from jobs)")
echo "# attempt 2 started $gap ms after attempt 1 ended (backoff 1 s)"
check "starts at the end of the backoff, not a lease later" test "$gap" -ge 1000 -a "$gap" -lt 2000
# It wakes for writes of its database, not of any file beside it: a log
# written there all the time costs it nothing, and a job submitted after
# it still starts at once (not at the next keepalive, 20 s on).
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
before=$(cpu $w)
i=0
while [ $i -lt 20000 ]; do echo "$i" >>"$(dirname "$JOBKIT_DB")/a.log"; i=$((i + 1)); done
used=$(($(cpu $w) - before))
echo "# the worker used $used clock ticks while a file beside its database was written 20000 times"
check "an idle worker does not wake for a file written beside its database" test "$used" -lt 10
now=$(job-submit -q -- true)
until_state "$now" succeeded
late=$(sqlite3 "$JOBKIT_DB" "select t.started - j.created from tasks t join jobs j on j.rid = t.job where t.job = (select max(rid) from jobs)")
echo "# a job submitted then started $late ms after it was made"
check "and wakes at once for a job submitted" test "$late" -lt 2000
kill $w
wait $w 2>/dev/null
done_testing
