#!/bin/sh
# job-submit actions: cancel, hold, release, priority, queue, retry,
# delete; IDs from argv or stdin; unknown and ambiguous IDs; owners.
. "$(dirname "$0")/lib.sh"
plan 69

st() { job-describe --format ndjson "$1" | sed 's/.*"state":"\([a-z_]*\)","owner".*/\1/'; }

a=$(job-submit -q -- true)
check_exit 0 "cancel a queued job" job-submit --cancel "$a"
check_out '"state":"cancelled"' "it is cancelled at once"
run job-describe --format ndjson "$a"
check_out '"type":"cancelled","state":"cancelled","message":"cancelled by user"' "with an event"
check_exit 65 "cancel it again" job-submit --cancel "$a"
check_stderr "cannot cancel job '$a': it is cancelled" "is refused, naming the state"

d=$(job-submit -q -- true)
s=$(job-submit -q --after "$d" -- true)
y=$(job-submit -q --after-any "$d" -- true)
job-submit --cancel "$d" >/dev/null
check_same "cancel cascades to --after dependents" "$(st "$s")" "cancelled"
run job-describe --format ndjson "$s"
check_out "dependency $d cancelled" "saying why"
check_same "and releases --after-any ones" "$(st "$y")" "queued"

h=$(job-submit -q -- true)
check_exit 0 "hold a queued job" job-submit -H "$h"
check_same "it is held" "$(st "$h")" "held"
check_exit 0 "holding it again is harmless" job-submit --hold "$h"
check_exit 0 "release it" job-submit --release "$h"
check_same "it is queued again" "$(st "$h")" "queued"
p=$(job-submit -q -- true)
w=$(job-submit -q -H --after "$p" -- true)
job-submit --release "$w" >/dev/null
check_same "released with an unfinished dependency it waits" "$(st "$w")" "waiting"

check_exit 0 "change priority" job-submit -p 5 "$h"
run job-describe --format ndjson "$h"
check_out '"priority":5' "the priority changed"
check_out '"message":"priority 0 -> 5"' "with an event"
check_exit 0 "change queue" job-submit -Q gpu "$h"
run job-describe --format ndjson "$h"
check_out '"queue":"gpu"' "the queue changed"

r=$(job-submit -q -- true)
check_exit 65 "retry a queued job" job-submit --retry "$r"
check_stderr "cannot retry job '$r': it is queued" "is refused"
check_exit 0 "retry a cancelled job" job-submit --retry "$a"
check_same "queues it again" "$(st "$a")" "queued"
check_exit 65 "delete a queued job" job-submit --delete "$r"
check_stderr "cannot delete job '$r': it is queued" "is refused"
job-submit --cancel "$r" >/dev/null
check_exit 0 "delete a finished job" job-submit --delete "$r"
check_exit 66 "it is gone" job-describe "$r"
check_same "with its events" "$(sqlite3 "$JOBKIT_DB" "select count(*) from events where job = (select max(rid) from jobs) + 100")" "0"

x1=$(job-submit -q -- true)
x2=$(job-submit -q -- true)
run sh -c "printf '%s\n%s\n' $x1 $x2 | job-submit --cancel -q"
check_same "IDs on stdin, one a line" "$(tr '\n' ' ' <"$T/out")" "$x1 $x2 "
run sh -c 'job-submit -- true | job-submit --cancel'
check_out '"state":"cancelled"' "job objects on stdin"

check_exit 66 "an unknown job" job-submit --cancel azzz
check_stderr "no such job 'azzz'" "is named"
check_exit 64 "a prefix shorter than 4" job-submit --cancel a00
check_stderr "too short" "is a usage error"
check_exit 64 "IDs without an action" job-submit "$x1"
check_stderr "put the command after '--'" "says what to do"

# Another user reaches a database that root shares, in a folder both can
# reach: $T may be inside a private TMPDIR, and nobody must get to
# the tools too (under /tmp when they are not already reachable).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    S=$(mktemp -d /tmp/jobkit-share.XXXXXX); then
	chmod 0755 "$S"
	bin=$JOBKIT_BIN
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$bin/job-submit" ||
	    { mkdir "$S/bin" && cp "$JOBKIT_BIN/job-submit" "$S/bin/" && bin=$S/bin; }
	o=$(job-submit -q --db "$S/jobkit.db" -- true)
	chmod 0666 "$S"/jobkit.db*
	check_exit 77 "another user may not cancel root's job" \
	    setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env HOME=/nonexistent "$bin/job-submit" --db "$S/jobkit.db" --cancel "$o"
	check_stderr "job '$o' belongs to 'root'" "and is told whose it is"
	rm -rf "$S"
else
	skip "not root"
	skip "not root"
fi

# Options on existing jobs are the ones the action uses, checked as in a spec.
h=$(job-submit -q -H -- true)
before=$(db_sum)
check_exit 65 "a bad queue name for an existing job" job-submit -Q 'bad q' "$h"
check_stderr "queue: 'bad q' may hold only letters" "is refused like in a spec"
check_exit 64 "a spec option with --cancel" job-submit -n other --cancel "$h"
check_stderr "spec field 'name' does not apply to changing existing jobs" "is refused"
check_exit 64 "--hold with --priority" job-submit -H -p 3 "$h"
check_stderr "'priority' does not apply to holding existing jobs" "is refused"
check_exit 64 "--timeout with IDs" job-submit -t 5s -p 3 "$h"
check_same "and nothing changed" "$(db_sum)" "$before"
check_exit 64 "--cancel without IDs, stdin a terminal" on_tty "job-submit --cancel"
check_out "no job: give job IDs, '-', or pipe jobs in" "says so instead of waiting"
# A retry of the failed root of a chain revives the jobs cancelled
# because of it, in turn; a job cancelled by its user stays cancelled.
r1=$(job-submit -q -e T -- sh -c 'test -f "$T/fixed"')
r2=$(job-submit -q --after "$r1" -- true)
r3=$(job-submit -q --after "$r2" -- true)
r4=$(job-submit -q --after "$r1" -H -- true)
job-submit -q --cancel "$r4" >/dev/null
exec-run -q "$r1" >/dev/null
check_same "the root of a chain fails, and its chain is cancelled" \
    "$(st "$r1") $(st "$r2") $(st "$r3") $(st "$r4")" "failed cancelled cancelled cancelled"
touch "$T/fixed"
check_exit 0 "retry the root" job-submit -q --retry "$r1"
check_same "revives the chain, waiting again" "$(st "$r2") $(st "$r3") $(st "$r4")" "waiting waiting cancelled"
run job-describe -f ndjson "$r3"
check_out "\"type\":\"revived\",\"state\":\"waiting\",\"message\":\"dependency $r2 retried\"" "with an event saying why"
exec-run --worker --drain -q >/dev/null
check_same "and the chain runs" "$(st "$r1") $(st "$r2") $(st "$r3")" "succeeded succeeded succeeded"
# One that waits on the root and on a job revived after it is revived too.
rm "$T/fixed"
d1=$(job-submit -q -e T -- sh -c 'test -f "$T/fixed"')
d2=$(job-submit -q --after "$d1" -- true)
d3=$(job-submit -q --after "$d2" -- true)
d4=$(job-submit -q --after "$d3" --after "$d1" -- true)
exec-run --worker --drain -q >/dev/null
touch "$T/fixed"
job-submit -q --retry "$d1" >/dev/null
check_same "a job cancelled by the root, waiting on a job revived after it, waits again" \
    "$(st "$d4")" "waiting"

# What was committed stays committed: a report that cannot be written is
# said on stderr, and the status is still 0, so that a script retrying on
# failure makes no duplicate.
n=$(run-query jobs -c)
check_exit 0 "job-submit with its stdout closed" sh -c 'job-submit -- true >&-'
check_stderr "^job-submit: done, but cannot write what was done: Bad file descriptor$" "says so"
check_same "and the job is there, once" "$(run-query jobs -c)" "$((n + 1))"
check_exit 0 "an action too" sh -c "job-submit --cancel $(run-query jobs -q -r -L 1) >/dev/full"
check_stderr "cannot write what was done: No space left on device" "says so"

u=$(job-submit -q -H -- true)
check_exit 0 "change the priority and queue of a held job" job-submit -q -p 7 -Q other "$u"
run job-describe --spec -f ndjson "$u"
check_out '"priority":7,"queue":"other"' "its spec says so too, so a resubmitted copy keeps them"

# --note: an event, whatever the state, and nothing else changes.
check_exit 0 "a note on a held job" job-submit --note "waiting for data" "$u"
check_out '"id":"'"$u"'","name":"true","state":"held"' "prints the job, unchanged"
run job-describe -f ndjson "$u"
check_out '"type":"note","state":"held","message":"waiting for data"' "the note is an event"
check_exit 0 "on several jobs, from stdin" sh -c "printf '%s\\n' '$u' | job-submit --note again -q -"
check_exit 64 "an empty note" job-submit --note "" "$u"
check_stderr "^job-submit: --note: no text$" "says so"
check_exit 64 "a note with another action" job-submit --note x --cancel "$u"
check_exit 66 "a note on no job" job-submit --note x zzzz
done_testing
