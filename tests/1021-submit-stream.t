#!/bin/sh
# A long NDJSON stream from a file is read and checked on a thread of its
# own while the specs before are stored: the jobs come out in the stream's
# order, numbered one after another, and a bad line far into it (past the
# first specs, read before the thread takes over) fails the whole stream
# as a bad first line does: the same status, the same message naming its
# line, nothing stored.
. "$(dirname "$0")/lib.sh"
plan 23

# stream N K LINE: N specs, the K-th replaced by LINE (none when K is 0).
stream() {
	awk -v n="$1" -v k="$2" -v bad="$3" 'BEGIN { for (i = 1; i <= n; i++)
	    if (i == k) print bad; else
	    printf "{\"command\":[\"true\"],\"name\":\"s-%d\"}\n", i }'
}

stream 3000 0 "" >"$T/good"
check_exit 0 "a stream of 3000 specs" sh -c 'job-submit -f ndjson < "$T/good"'
check_same "each reported, in the stream's order" \
    "$(sed 's/.*"name":"s-\([0-9]*\)".*/\1/' "$T/out" | cksum)" "$(seq 3000 | cksum)"
check_same "and stored in it, numbered one after another" \
    "$(sqlite3 "$JOBKIT_DB" "select substr(name, 3), rid - (select min(rid) from jobs) + 1 from jobs order by rid" | cksum)" \
    "$(seq 3000 | awk '{ print $1 "|" $1 }' | cksum)"

# Specs read on the thread are stored as those read before it: the same
# text (a default name given, an environment of their own kept apart).
awk 'BEGIN { for (i = 0; i < 100; i++) {
	print "{\"command\":[\"echo\",\"hi\"]}"
	print "{\"command\":[\"env\"],\"export\":{\"A\":\"1\"}}" } }' >"$T/same"
check_exit 0 "a stream of 200 specs, two kinds" sh -c 'job-submit -q < "$T/same"'
check_same "each kind stored as one text, first to last" \
    "$(sqlite3 "$JOBKIT_DB" "select count(*), count(distinct spec), min(name) = max(name) from jobs where rid > 3000 group by spec like '%env%'" | tr '\n' ' ')" \
    "100|1|1 100|1|1 "
check_same "the default name, and the environment of its own kept apart" \
    "$(job-describe -f ndjson "$(tail -1 "$T/out")" | grep -o '"name":"[^"]*"\|"A":"1"' | sort -u | tr '\n' ' ')" \
    '"A":"1" "name":"env" '

# bad DESC LINE K STATUS MESSAGE: a stream of 3000 with line K bad.
bad() {
	stream 3000 "$3" "$2" >"$T/bad"
	before=$(db_sum)
	check_exit "$4" "$1 at line $3 of 3000: exit $4" sh -c 'job-submit < "$T/bad"'
	check_stderr "^job-submit: stdin: line $3: $5" "$1: says so, naming its line"
	check_same "$1: nothing stored" "$(db_sum)" "$before"
}
bad "invalid JSON" '{"command" ["x"]}' 2500 65 "invalid JSON"
bad "a scalar" '42' 1700 65 "expected a JSON object"
bad "a bad field" '{"command":"d"}' 2999 65 '\$\.command: expected an array'
bad "an unknown dependency" '{"command":["b"],"after":["a9zz"]}' 1500 66 \
    "dependency: no such job 'a9zz'"
bad "just past the first specs" '{"command":"d"}' 40 65 '\$\.command: expected an array'
stream 2999 0 "" >"$T/cut"
printf '{"command":["x"]' >>"$T/cut"
before=$(db_sum)
check_exit 65 "a stream cut short at its end" sh -c 'job-submit < "$T/cut"'
check_stderr "^job-submit: stdin: line 3000: unexpected end of input" "says where"
