#!/bin/sh
# A stream's plain jobs go in many to a statement (store_batch() in
# store.h), and the database holds what it holds when each spec is
# submitted alone: the same rows, numbers, events, labels, dependencies
# and signatures, from a file or a pipe, whatever is mixed into the
# stream; a worker then runs them as it runs the others.  A bad spec
# after plain jobs that wait to go in still leaves nothing stored.
. "$(dirname "$0")/lib.sh"
plan 12

# The stream: plain specs the most, with labels, keys, a dependency on
# job DEP, notes, held ones and ones of their own environment among them.
mixed() {
	awk -v dep="$1" 'BEGIN { for (i = 0; i < 400; i++) {
	    k = i % 100 < 20 ? i % 10 : (i % 3 ? 0 : 1)
	    if (k == 1) printf "{\"command\":[\"echo\",\"%d\"],\"labels\":{\"a\":\"x%d\",\"b\":\"y\"}}\n", i, i % 7
	    else if (k == 2) printf "{\"name\":\"k%d\",\"command\":[\"true\"],\"key\":\"key-%d\"}\n", i, i % 30
	    else if (k == 3) printf "{\"name\":\"d%d\",\"command\":[\"true\"],\"after\":[\"%s\"]}\n", i, dep
	    else if (k == 4) printf "{\"name\":\"n%d\",\"command\":[\"true\"],\"notes\":[\"note %d\"]}\n", i, i
	    else if (k == 5) printf "{\"command\":[\"true\"],\"hold\":true,\"priority\":%d}\n", i % 5
	    else if (k == 6) printf "{\"name\":\"e%d\",\"command\":[\"env\"],\"export\":{\"X\":\"%d\"}}\n", i, i % 3
	    else if (k == 7) printf "{\"name\":\"q%d\",\"command\":[\"true\"],\"queue\":\"q\",\"labels\":{\"q\":\"%d\"}}\n", i, i
	    else printf "{\"name\":\"p%d\",\"command\":[\"true\",\"%d\"]}\n", i, i
	} }'
}

# What a database holds, times aside.
contents() {
	sqlite3 "$1" "select rid, name, owner, uid, state, queue, priority,
	    not_before, attempts, max_attempts, idem_key, labels, reason, spec,
	    cpu_milli, memory, disk, gpu, export, hex(sig), parent, concurrency,
	    selector, wait_until from jobs order by rid;
	    select eid, job, task, type, state, message from events order by eid;
	    select * from job_labels order by job, key;
	    select * from job_deps order by job, dep;
	    select * from exports order by id"
}

for db in one file pipe; do
	JOBKIT_DB=$T/$db.db job-submit -q -- true >"$T/dep"
done
mixed "$(cat "$T/dep")" >"$T/stream"

# One invocation a spec: no batch.
while read -r line; do
	printf '%s\n' "$line" | JOBKIT_DB=$T/one.db job-submit -q || break
done <"$T/stream" >"$T/one.ids"
check_same "each spec submitted alone" "$(wc -l <"$T/one.ids")" 400

check_exit 0 "the stream from a file" sh -c 'JOBKIT_DB=$T/file.db job-submit -q < "$T/stream"'
check_same "reports the IDs it would one by one" "$(cat "$T/out")" "$(cat "$T/one.ids")"
check_same "and the database holds what it holds one by one" \
    "$(contents "$T/file.db" | cksum)" "$(contents "$T/one.db" | cksum)"
check_exit 0 "the stream through a pipe" sh -c 'cat "$T/stream" | JOBKIT_DB=$T/pipe.db job-submit -q'
check_same "the same database" "$(contents "$T/pipe.db" | cksum)" "$(contents "$T/one.db" | cksum)"
check_same "with labels and notes among its rows" \
    "$(sqlite3 "$T/file.db" "select count(*) from job_labels; select count(*) from events where type = 'note'")" \
    "$(awk '/"a":/ { n += 2 } /"q":"/ { n++ } /notes/ { m++ } END { print n; print m }' "$T/stream")"

# A worker verifies each job's signature before it runs it.
for db in one file; do
	JOBKIT_DB=$T/$db.db exec-run --worker -j 2 --drain -q >/dev/null 2>&1
	sqlite3 "$T/$db.db" "select state, count(*) from jobs group by state" >"$T/$db.states"
done
check_same "drained by a worker, every job ends as it does one by one" \
    "$(cat "$T/file.states")" "$(cat "$T/one.states")"
check_same "and those not held succeeded" \
    "$(sqlite3 "$T/file.db" "select count(*) from jobs where state = 'succeeded'")" \
    "$(sqlite3 "$T/file.db" "select count(*) from jobs where state != 'held'")"

# A bad spec after plain jobs that wait for the next ones.
JOBKIT_DB=$T/bad.db
export JOBKIT_DB
job-submit -q -- true >/dev/null
before=$(db_sum)
{ sed -n '21,80p' "$T/stream"; echo '{"command":"x"}'; } >"$T/bad"
check_exit 65 "a bad spec after plain ones: exit 65" sh -c 'job-submit -q < "$T/bad"'
check_stderr '^job-submit: stdin: line 61: \$\.command: expected an array' "says which line"
check_same "and nothing of the stream is stored" "$(db_sum)" "$before"
