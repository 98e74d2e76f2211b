#!/bin/sh
# Every tool's output, --format json (an indented array) or ndjson, piped
# into every tool that takes jobs on stdin acts on the jobs it names;
# pipelines are live; bad input is refused by its line, changing nothing.
. "$(dirname "$0")/lib.sh"
plan 137

# A queued job no pipe names: it stays queued throughout.
c=$(job-submit -q -n control -- true)

# The states of the jobs named, the control's last.
states() { for _j in "$@" "$c"; do printf ' %s' "$(job_state "$_j")"; done; }
# The top-level job IDs of NDJSON job rows in $T/out.
described() { sed 's/^{"id":"\([^"]*\)".*/\1/' "$T/out" | tr '\n' ' '; }
# The IDs of an output of job-submit (either format) in file $1.
ids_of() { grep -o '"id": *"[^"]*"' "$1" | sed 's/.*"\([^"]*\)"$/\1/'; }

# Each consumer in turn reads file $2, which names jobs $3 (runs `true`)
# and $4 (exits 3); with $5 = ran, their jobs have ended.
consume() {
	_l=$1 _f=$2 _a=$3 _b=$4
	run sh -c "job-describe -f ndjson <'$_f'"
	check_same "$_l | job-describe: describes its jobs" \
	    "$rc $(described)" "0 $_a $_b "
	if [ "${5:-}" = ran ]; then
		run sh -c "job-submit --retry -q <'$_f'"
		check_same "$_l | job-submit --retry: queued again" \
		    "$rc$(states "$_a" "$_b")" "0 queued queued queued"
	fi
	run sh -c "job-submit -H - -q <'$_f'"
	check_same "$_l | job-submit -H -: held" \
	    "$rc$(states "$_a" "$_b")" "0 held held queued"
	run sh -c "job-submit --release -q <'$_f'"
	check_same "$_l | job-submit --release: released" \
	    "$rc$(states "$_a" "$_b")" "0 queued queued queued"
	run sh -c "job-submit -c -q <'$_f'"
	check_same "$_l | job-submit -c: cancelled" \
	    "$rc$(states "$_a" "$_b")" "0 cancelled cancelled queued"
	run sh -c "job-submit --retry -q <'$_f'"
	check_same "$_l | job-submit --retry: queued" \
	    "$rc$(states "$_a" "$_b")" "0 queued queued queued"
	run sh -c "exec-run -q <'$_f'"
	check_same "$_l | exec-run: runs them, and them only" \
	    "$rc$(states "$_a" "$_b")" "3 succeeded failed queued"
	run sh -c "exec-run --wait <'$_f'"
	check_same "$_l | exec-run --wait: the status of the one that failed" \
	    "$rc" "3"
}

# Two jobs named n: `true`, and one exiting 3.
pair() {
	a=$(job-submit -q -r 0 -n "$1" -- true)
	b=$(job-submit -q -r 0 -n "$1" -- sh -c 'exit 3')
}

for f in json ndjson; do
	F=$T/from.$f
	printf '{"command":["true"]}\n{"command":["sh","-c","exit 3"],"retries":0}\n' |
	    job-submit -f $f >"$F"
	set -- $(ids_of "$F")
	consume "job-submit -f $f" "$F" "$1" "$2"

	pair "q-$f"
	run-query jobs -n "q-$f" -f $f >"$F"
	consume "run-query jobs -f $f" "$F" "$a" "$b"

	pair "d-$f"
	job-describe -f $f "$a" "$b" >"$F"
	consume "job-describe -f $f" "$F" "$a" "$b"

	pair "e-$f"
	exec-run -f $f "$a" "$b" >"$F"
	consume "exec-run -f $f (results)" "$F" "$a" "$b" ran

	pair "t-$f"
	exec-run -q "$a" "$b" >/dev/null
	run-query tasks -n "t-$f" -f $f >"$F"
	consume "run-query tasks -f $f" "$F" "$a" "$b" ran

	pair "k-$f"
	task-keepalive --job "$a" --end succeeded --now -f $f >"$F"
	task-keepalive --job "$b" --end failed --now -f $f >>"$F"
	consume "task-keepalive --job -f $f" "$F" "$a" "$b" ran
done

# An array of IDs, and every shape in one stream.
pair mix
printf '["%s",\n "%s"]\n' "$a" "$b" >"$T/mix"
consume "an array of IDs" "$T/mix" "$a" "$b"
pair mix2
{ echo "$a"; job-describe -f json "$b"; } >"$T/mix"
run sh -c "job-describe -f ndjson <'$T/mix'"
check_same "an ID, then an array: both described" "$rc $(described)" "0 $a $b "

# Live: each job starts as soon as its object has arrived, though the
# array it is in is still being written (its '}' ends no line yet).
a=$(job-submit -q -- touch "$T/ran.a")
b=$(job-submit -q -- touch "$T/ran.b")
{
	printf '[\n{"id":"%s"}' "$a"
	until_true test -e "$T/ran.a"
	echo "live $?" >"$T/live"
	printf ',\n{"id":"%s"}\n]\n' "$b"
} | exec-run -q >/dev/null 2>&1
check_same "exec-run runs an array's first job before the array ends" \
    "$(cat "$T/live") $(states "$a" "$b")" "live 0  succeeded succeeded queued"
{
	job-submit -f json -- touch "$T/ran.c"
	until_true test -e "$T/ran.c"
	echo "live $?" >"$T/live"
	job-submit -f json -- true
} | exec-run -q >"$T/out"
check_same "job-submit -f json ... | exec-run is live" \
    "$(cat "$T/live") $(wc -l <"$T/out" | tr -d ' ')" "live 0 2"

# Specs: an array of them is read like NDJSON, in one transaction.
printf '[\n{"command":["true"],"name":"arr-1"},\n{"shell":"true","name":"arr-2"}\n]\n' |
    job-submit -q >/dev/null
check_same "job-submit reads an array of specs" \
    "$(run-query jobs -n 'arr-*' -c)" "2"
job-describe --spec -f json "$a" "$b" | job-submit -q -n again >/dev/null
check_same "and job-describe --spec -f json's output" \
    "$(run-query jobs -n again -c)" "2"

# Bad input: refused by its line, and nothing written.
bad() { # name, stdin, tool..., exit, message
	printf '%s' "$2" >"$T/bad"
	before=$(db_sum)
	check_exit "$4" "$1: exit $4" sh -c "$3 <'$T/bad'"
	check_stderr "$5" "$1: says so"
	check_same "$1: nothing written" "$(db_sum)" "$before"
}
q=$(job-submit -q -- true)
bad "a truncated array of specs" "$(printf '[{"command":["a"]},\n{"command":')" \
    "job-submit" 65 '^job-submit: stdin: line 2: unexpected end of input$'
bad "a number in an array of specs" '[{"command":["a"]}, 7]' \
    "job-submit" 65 '^job-submit: stdin: line 1: expected a JSON object$'
bad "a truncated array of jobs" "$(printf '[\n{"id":"%s"' "$q")" \
    "job-submit -c" 65 '^job-submit: stdin: line 2: unexpected end of input$'
bad "an object without id" "$(printf '[\n{"name":"%s"}\n]' "$q")" \
    "job-submit -H -" 65 '^job-submit: stdin: line 2: object has no "id"$'
bad "a line not UTF-8" "$(printf '\377%s\n' "$q")" \
    "job-submit -c" 65 '^job-submit: stdin: line 1: not UTF-8 text$'
bad "an object not UTF-8" "$(printf '{"id":"\377%s"}\n' "$q")" \
    "job-submit --release" 65 '^job-submit: stdin: line 1: invalid JSON: '
bad "a broken array" "$(printf '["%s" "%s"]' "$q" "$q")" \
    "job-describe" 65 "^job-describe: stdin: line 1: invalid JSON: ',' or ']' expected\$"
exec-run -q "$q" >/dev/null
run-query runs -f json >"$T/runs"
bad "a run" "$(cat "$T/runs")" \
    "job-submit --retry" 65 "^job-submit: stdin: line 2: 'ra[0-9a-z]+' is a run, not a job\$"
check_same "nothing was retried" "$(run-query tasks -j "$q" -c)" "1"
r=$(job-submit -q -- true)
check_exit 65 "exec-run: an object without id" sh -c "echo '{\"job\":7}' | exec-run"
check_stderr '^exec-run: stdin: line 1: "job" is not a string$' "says so"
check_same "and runs nothing" "$(states "$r")" " queued queued"
check_exit 65 "exec-run --wait: a truncated array" sh -c "printf '[{\"id\":\"%s\"' '$r' | exec-run --wait"
check_stderr '^exec-run: stdin: line 1: unexpected end of input$' "says so"

# A bad item among good ones is reported; the good ones are acted on.
x=$(job-submit -q -- true)
y=$(job-submit -q -- true)
printf '[\n{"id":"%s"},\n{"id":7},\n{"id":"%s"}\n]\n' "$x" "$y" >"$T/some"
check_exit 65 "a bad element among good ones" sh -c "job-submit -H - -q <'$T/some'"
check_stderr '^job-submit: stdin: line 3: "id" is not a string$' "is named by its line"
check_same "the others are acted on" "$(states "$x" "$y")" " held held queued"
check_exit 65 "job-describe: likewise" sh -c "job-describe -f json <'$T/some'"
check_same "describes the others, in one closed array" \
    "$(tr -d '\n' <"$T/out" | grep -c '^\[{.*"id": "'"$x"'".*},{.*"id": "'"$y"'".*}\]$')" "1"
done_testing
