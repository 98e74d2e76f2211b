#!/bin/sh
# A worker's commit of a task's end, with the claim of the job in its
# place, goes to the disk on a thread of its own: the worker tends its
# other tasks meanwhile, but reports the end and starts the claimed task
# only once the commit is on the disk.  A disk that refuses the sync stops
# the worker (74) with nothing of that commit reported or started; the job
# it claimed is found lost and runs elsewhere.  The disk is a preloaded
# shim (tests/preload/syncshim.c) whose syncs of the WAL from a thread of
# their own wait while a file exists, or fail.
. "$(dirname "$0")/lib.sh"
plan 18
cd "$T" || exit 1

SHIM=$JOBKIT_HELPERS/syncshim.so
# The ASan build wants its runtime first of all libraries; the shim is
# not built with it.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
SYNCSHIM_LOG=$T/sync.log SYNCSHIM_HOLD=$T/hold SYNCSHIM_FAIL=$T/fail
SYNCSHIM_NORDONLY=$T/nordonly
export ASAN_OPTIONS SYNCSHIM_LOG SYNCSHIM_HOLD SYNCSHIM_FAIL SYNCSHIM_NORDONLY
held() { grep -q '^held$' sync.log 2>/dev/null; }

a=$(job-submit -q -- true)
b=$(job-submit -q -- sh -c ': >b-ran')
: >hold
LD_PRELOAD=$SHIM exec-run --worker -j 1 --drain -q >worker.out 2>worker.err &
w=$!
check "the commit of a's end and b's claim waits for the disk on a thread" \
    until_true held
check_same "a's end is committed" "$(job_state "$a")" succeeded
check_same "b is claimed in the same commit" "$(job_state "$b")" running
check "a's end is not reported while the disk has not taken it" \
    test ! -s worker.out
check "nor has b started" test ! -e b-ran
rm hold
wait $w
check_same "once it has, the worker reports both and drains" \
    "$? $(tr '\n' ' ' <worker.out)" "0 $a.1 $b.1 "
check "b ran" test -e b-ran
check_same "every job ran once" \
    "$(run-query tasks -s succeeded -q | wc -l) $(run-query tasks -q | wc -l)" "2 2"

# The sync refused.
rm -f sync.log
a=$(job-submit -q -- true)
b=$(job-submit -q -- sh -c 'echo x >>b2-ran')
: >fail
check_exit 74 "a worker whose commit the disk refuses exits 74" \
    env LD_PRELOAD="$SHIM" exec-run --worker -j 1 --drain -q --lease 1s
check_stderr "^exec-run: cannot sync the database: Input/output error$" \
    "saying why"
check "reporting nothing of that commit" test ! -s "$T/out"
check "and not starting what it claimed" test ! -e b2-ran
rm fail
sleep 1.5 # the stopped worker's lease runs out
run task-keepalive --reap
check_out "\"id\":\"$b.1\",\"kind\":\"task\",\"job\":\"$b\",\"state\":\"lost\",\"job_state\":\"queued\"" \
    "a reaper finds its claim lost, the job queued"
exec-run --worker --drain -q >/dev/null 2>worker.err
check_same "another worker runs it, once" "$(cat b2-ran)" x
check_same "as its second attempt" \
    "$(run-query tasks -j "$b" -f ndjson | grep -o '"state":"[a-z]*"' | tr '\n' ' ')" \
    '"state":"lost" "state":"succeeded" '

# A file system that will not sync a file opened for reading: the worker
# commits as before, each commit waiting for its own sync.
rm -f sync.log
for i in 1 2 3; do job-submit -q -- true >/dev/null; done
: >nordonly
check_exit 0 "a worker on a disk that refuses its thread's way of syncing" \
    env LD_PRELOAD="$SHIM" exec-run --worker -j 2 --drain -q
check_same "runs its jobs all the same" "$(run-query jobs -s queued,running -q | wc -l)" 0
check_same "with no sync on a thread: it tried once, and went on without" \
    "$(sort sync.log | uniq -c | tr -s ' ' | tr '\n' ' ')" " 1 refused "
