#!/bin/sh
# task-keepalive against a busy database: a renewal the database holds up
# is retried until it succeeds while the lease lasts; one that cannot
# succeed within the lease loses it -- the command is stopped and its end
# is left to a reaper, never recorded by a holder that may have lost it.
. "$(dirname "$0")/lib.sh"
plan 8
cd "$T" || exit 1


# hold_lock SECONDS: take the database's write lock for that long, in the
# background; returns once it is held.
hold_lock() {
	rm -f locked
	{ echo "BEGIN IMMEDIATE; UPDATE runs SET pid = pid;"
	  echo ".shell touch locked"
	  echo ".shell sleep $1"
	  echo "COMMIT;"; } | sqlite3 "$JOBKIT_DB" &
	locker=$!
	until_true test -f locked
}

job-submit -q -- true >/dev/null # the database exists
task-keepalive -v --lease 4s --interval 500ms -- sh -c \
    ': >started; while [ ! -f stop ]; do sleep 0.05; done' \
    >ka.out 2>ka.err &
ka=$!
until_true test -f started
until_true grep -q renewed ka.err
hold_lock 2
wait $locker
: >stop
wait $ka
check_same "a renewal held up for less than the lease: the lease holds" \
    "$?" 0
check "the renewal waited for the lock, and went through" \
    awk '/renewed/ { if ($(NF - 1) + 0 > 1000) ok = 1 }
	END { exit !ok }' ka.err
check "nothing was said lost" sh -c '! grep -q "lease lost" ka.err'
check_same "and the task ended succeeded" \
    "$(run-query tasks -f ndjson | tail -1 | grep -o '"state":"[a-z]*"')" \
    '"state":"succeeded"'

rm -f started stop
task-keepalive --lease 2s --interval 500ms -- sh -c \
    ': >started; echo $$ >pid; exec sleep 60' >ka.out 2>ka.err &
ka=$!
until_true test -s pid
hold_lock 4
wait $ka
check_same "no renewal within the lease: task-keepalive exits 122" "$?" 122
check "it said so" grep -q "lease lost: no renewal succeeded" ka.err
check "and stopped the command" sh -c "! kill -0 $(cat pid) 2>/dev/null"
wait $locker
run task-keepalive --reap
check_out '"state":"lost","job_state":"queued"' \
    "its end is left to a reaper, which re-queues the job"
