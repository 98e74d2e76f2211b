#!/bin/sh
# job-submit from stdin: one spec, pretty-printed specs, NDJSON in one
# transaction, and every class of bad input: exit status, message, and
# nothing written.
. "$(dirname "$0")/lib.sh"
plan 58

echo '{"command":["true"],"name":"one"}' >"$T/one.json"
check_exit 0 "one JSON spec on stdin" sh -c 'job-submit -q < "$T/one.json"'
check_same "makes one job" "$(cat "$T/out")" "a001"
printf '{\n  "command": ["a"],\n  "labels": {"x": "1"}\n}\n{\n  "shell": "b"\n}\n' >"$T/pretty"
check_exit 0 "pretty-printed specs back to back" sh -c 'job-submit -q < "$T/pretty"'
check_same "make a job each" "$(tr '\n' ' ' <"$T/out")" "a002 a003 "
printf '{"command":["x"]}\n{"command":["y"],"labels":{"a":"b"}}\n{"command":["z"]}\n' >"$T/three"
check_exit 0 "an NDJSON stream" sh -c 'job-submit -Q batch -l run=7 < "$T/three"'
check_same "three jobs" "$(wc -l <"$T/out" | tr -d ' ')" "3"
run job-describe --spec --format ndjson a005
check_out '"queue":"batch"' "options override the stream's fields"
check_out '"labels":\{"a":"b","run":"7"\}' "labels are merged"

# A stream in one transaction numbers its jobs one after another, their
# creation times never going back, and the next submit goes on from there.
awk 'BEGIN { for (i = 0; i < 40; i++) print "{\"command\":[\"true\"]}" }' >"$T/forty"
check_exit 0 "a stream of 40" sh -c 'job-submit -q < "$T/forty"'
check_same "numbered one after another, in time" \
    "$(sqlite3 "$JOBKIT_DB" "select count(*), max(rid) - min(rid) + 1, sum(created < (select max(created) from jobs p where p.rid < j.rid)) from jobs j where rid > (select max(rid) - 40 from jobs)")" \
    "40|40|0"
last=$(sqlite3 "$JOBKIT_DB" "select max(rid) from jobs")
job-submit -q -- true >/dev/null
check_same "the next job follows them" \
    "$(sqlite3 "$JOBKIT_DB" "select max(rid) from jobs")" "$((last + 1))"

# Bad input: (name, stdin, exit, message)
bad() {
	printf '%s' "$2" >"$T/bad"
	before=$(db_sum)
	check_exit "$3" "$1: exit $3" sh -c 'job-submit < "$T/bad"'
	check_stderr "$4" "$1: says so"
	check_same "$1: nothing stored" "$(db_sum)" "$before"
}
bad "malformed JSON" '{"command": ["x"' 65 "line 1: unexpected end of input"
bad "invalid JSON" '{"command" ["x"]}' 65 "line 1: invalid JSON"
bad "wrong type" '{"command":["x"],"retries":"3"}' 65 '\$\.retries: expected an integer, got a string'
bad "unknown field" '{"command":["x"],"foo":1}' 65 '\$\.foo: unknown field'
bad "impossible value" '{"command":["x"],"priority":99999}' 65 '\$\.priority: must be from -1000 to 1000'
bad "a return limit past 1 MiB" '{"command":["x"],"output":{"max_return":"2MiB"}}' 65 \
    '\$\.output\.max_return: must be at most 1MiB'
bad "invalid UTF-8" "$(printf '{"command":["\377"]}')" 65 "line 1: invalid JSON"
bad "a scalar" '42' 65 "expected a JSON object"
bad "empty input" '' 65 "stdin: no job spec"
bad "one bad line of five" "$(printf '{"command":["a"]}\n{"command":["b"]}\n{"command":["c"]}\n{"command":"d"}\n{"command":["e"]}\n')" \
    65 'line 4: \$\.command: expected an array'

deep=$(awk 'BEGIN { for (i = 0; i < 40; i++) printf "["; for (i = 0; i < 40; i++) printf "]" }')
bad "deep nesting" "{\"command\":[\"x\"],\"labels\":$deep}" 65 "nested deeper than 32"

before=$(db_sum)
{ printf '{"command":["x"],"name":"'; head -c 11000000 /dev/zero | tr '\0' a; printf '"}\n'; } >"$T/big"
check_exit 65 "a spec over 10 MiB" sh -c 'job-submit < "$T/big"'
check_stderr "larger than 10 MiB" "is refused"
check_same "and nothing stored" "$(db_sum)" "$before"

# A pipe is read whole before the write lock is taken; a file as it goes.
printf '{"command":["a"]}\n{"command":["b"]}\n{"command":"c"}\n' >"$T/bad3"
before=$(db_sum)
check_exit 65 "a bad line in a pipe" sh -c 'cat "$T/bad3" | job-submit'
check_stderr 'line 3: \$\.command: expected an array' "names its line"
check_same "and nothing stored" "$(db_sum)" "$before"
printf '{"command":["a"]}\n{"command":["b"],"after":["a0zz"]}\n' >"$T/dep"
check_exit 66 "an unknown dependency in a pipe" sh -c 'cat "$T/dep" | job-submit'
check_stderr "line 2: dependency: no such job 'a0zz'" "names its line"
check_exit 66 "an unknown dependency in a file" sh -c 'job-submit < "$T/dep"'
check_stderr "line 2: dependency: no such job 'a0zz'" "names its line too"
check_same "and nothing stored" "$(db_sum)" "$before"
# A producer that writes to the database after its first spec: were the
# lock taken before stdin was read, it would wait for the busy timeout
# (60 s) and fail with 75.
cat >"$T/producer" <<'EOF'
echo '{"command":["a"],"name":"from-pipe-1"}'
sleep 0.3
job-submit -q -n between -- true >/dev/null || exit 9
echo '{"command":["b"],"name":"from-pipe-2"}'
EOF
check_exit 0 "a producer writing to the database while it pipes specs" \
    sh -c '(sh "$T/producer"; echo "producer $?" >&2) | job-submit -q'
check_stderr "producer 0" "the producer was never kept waiting"
check_same "and both specs are stored" "$(run-query -n 'from-pipe-*' --count)" "2"
done_testing
