#!/bin/sh
# exec-run --logs at the terminal: the caller's newest job without an ID,
# --tail, --both in the order written, --follow through a job's attempts,
# the head and tail of a long output kept as its summary, and the notice
# of a wait no worker will end.
. "$(dirname "$0")/lib.sh"
plan 68

# Without an ID: the caller's newest job.
check_exit 66 "--logs with no database" exec-run --logs
x=$(job-submit -q -- true)
job-submit -q --cancel "$x" >/dev/null
job-submit -q --delete "$x" >/dev/null
before=$(db_sum)
check_exit 66 "--logs with no jobs of the caller's" exec-run --logs
check_stderr "^exec-run: no jobs of yours\$" "says so"
check_same "and writes nothing" "$(db_sum)" "$before"
a=$(job-submit -q -- echo first)
b=$(job-submit -q -- echo second)
exec-run -q "$a" "$b" >/dev/null
check_exit 0 "--logs with no ID" exec-run --logs
check_same "shows the newest job" "$(cat "$T/out")" "second"
c=$(job-submit -q -- echo other)
exec-run -q "$c" >/dev/null
sqlite3 "$JOBKIT_DB" "UPDATE jobs SET owner = 'nobody' WHERE rid = (SELECT max(rid) FROM jobs)"
check_exit 0 "--logs with no ID, the newest job another's" exec-run --logs
check_same "shows the caller's newest" "$(cat "$T/out")" "second"
check_exit 64 "--logs of two jobs" exec-run --logs "$a" "$b"

# --tail N: the last N lines.
t=$(job-submit -q -- sh -c 'seq 1 100; printf "no newline"')
exec-run -q "$t" >/dev/null
check_exit 0 "--tail 3" exec-run --logs "$t" --tail 3
check_same "prints the last 3 lines" "$(tr '\n' ' ' <"$T/out")" "99 100 no newline"
check_exit 0 "--tail 0" exec-run --logs "$t" --tail 0
check_same "prints nothing" "$(wc -c <"$T/out" | tr -d ' ')" "0"
check_exit 0 "--tail more than there are" exec-run --logs "$t" --tail 1000
check_same "prints all" "$(wc -l <"$T/out" | tr -d ' ')" "100"
before=$(db_sum)
for bad in -1 x 1.5 ''; do
	check_exit 64 "--tail '$bad' is refused" exec-run --logs "$t" --tail "$bad"
done
check_stderr "^exec-run: --tail: " "with the option named"
check_exit 64 "--tail without --logs" exec-run --tail 3 "$t"
check_stderr "^exec-run: --tail goes with --logs\$" "says so"
check_same "nothing was written" "$(db_sum)" "$before"

# --tail with --follow: the last lines so far, then what comes.
f=$(job-submit -q -- sh -c "seq 1 50; until [ -e '$T/go' ]; do sleep 0.1; done; echo after")
exec-run -q "$f" >/dev/null 2>&1 &
until_true grep -qx 50 "$T/results/$f.1/stdout" 2>/dev/null
exec-run --logs "$f" --follow --tail 2 >"$T/ftail" 2>&1 &
p=$!
until_true grep -qx 50 "$T/ftail"
touch "$T/go"
wait "$p"
check_same "--tail 2 --follow exits with the job" "$?" "0"
check_same "prints the last 2 lines, then the rest" \
    "$(tr '\n' ' ' <"$T/ftail")" "49 50 after "
wait

# --both: stdout and stderr in the order written.
w='echo o1; sleep 0.3; echo e1 >&2; sleep 0.3; echo o2; sleep 0.3; echo e2 >&2'
o=$(job-submit -q -- sh -c "$w")
exec-run -q "$o" >/dev/null 2>&1
check_exit 0 "--both" exec-run --logs "$o" --both
check_same "interleaves the streams as written" "$(tr '\n' ' ' <"$T/out")" \
    "o1 e1 o2 e2 "
check_same "from the order file" "$(tr '\n' ' ' <"$T/results/$o.1/order")" \
    "o 3 e 3 o 3 e 3 "
check_exit 0 "--both --tail 3" exec-run --logs "$o" --both --tail 3
check_same "the last 3 lines of the two" "$(tr '\n' ' ' <"$T/out")" "e1 o2 e2 "
check_exit 64 "--both with --stderr" exec-run --logs "$o" --both --stderr
check_stderr "^exec-run: give --stderr or --both, not both\$" "says so"
o2=$(job-submit -q -- sh -c "$w")
exec-run -q "$o2" >/dev/null 2>&1 &
until_state "$o2" running
check_exit 0 "--both --follow" exec-run --logs "$o2" --both --follow
check_same "interleaves as it follows" "$(tr '\n' ' ' <"$T/out")" "o1 e1 o2 e2 "
wait
rm "$T/results/$o.1/order"
check_exit 0 "--both on results without an order file" exec-run --logs "$o" --both
check_same "prints stdout, then stderr" "$(tr '\n' ' ' <"$T/out")" "o1 o2 e1 e2 "
check_same "and says nothing" "$(cat "$T/err")" ""
# The order file stops with the output files at their limit.
l=$(job-submit -q --max-file 10 -- sh -c 'for i in 1 2 3 4 5 6; do echo abcd; echo efgh >&2; sleep 0.05; done')
exec-run -q "$l" >/dev/null 2>&1
check_same "the order file counts only what the files kept" \
    "$(awk '{n[$1] += $2} END {print n["o"], n["e"]}' "$T/results/$l.1/order")" \
    "10 10"
# The order file is made only once both streams have written.
s=$(job-submit -q -- sh -c 'echo s1; echo s2')
exec-run -q "$s" >/dev/null 2>&1
check_same "a task that wrote to one stream has no order file" \
    "$(ls "$T/results/$s.1" | tr '\n' ' ')" "exitCode result.json stderr stdout "
check_exit 0 "--both on it" exec-run --logs "$s" --both
check_same "prints its output" "$(tr '\n' ' ' <"$T/out")" "s1 s2 "
w='echo o1; sleep 0.3; echo o2; sleep 0.3; echo e1 >&2; sleep 0.3; echo o3'
o3=$(job-submit -q -- sh -c "$w")
exec-run -q "$o3" >/dev/null 2>&1 &
until_state "$o3" running
exec-run --logs "$o3" --both --follow >"$T/o3" 2>&1
wait
check_same "--both --follow before and after the order file is made" \
    "$(tr '\n' ' ' <"$T/o3")" "o1 o2 e1 o3 "
check_same "whose first record covers all stdout wrote till then" \
    "$(tr '\n' ' ' <"$T/results/$o3.1/order")" "o 6 e 3 o 3 "

# --follow across attempts, and the job's final status.
r=$(job-submit -q -r 2 -- sh -c 'echo "attempt $JOBKIT_ATTEMPT"
	if [ "$JOBKIT_ATTEMPT" = 1 ]; then
		until [ -e "$1" ]; do sleep 0.1; done
	fi
	[ "$JOBKIT_ATTEMPT" = 3 ] || exit 3' sh "$T/go1")
exec-run -q "$r" >/dev/null 2>&1 &
until_state "$r" running
exec-run --logs "$r" --follow >"$T/fr" 2>"$T/fre" &
p=$!
script -qec "exec-run --logs $r --follow >$T/frt" /dev/null >"$T/tty" </dev/null &
q=$!
until_true grep -q 'attempt 1' "$T/fr"
until_true grep -q 'attempt 1' "$T/frt"
touch "$T/go1"
wait "$p"
check_same "--follow of a job retried twice exits with its status" "$?" "0"
wait "$q"
check_same "follows its three attempts" "$(tr '\n' ' ' <"$T/fr")" \
    "attempt 1 attempt 2 attempt 3 "
check_same "says nothing between them off a terminal" "$(cat "$T/fre")" ""
check "says which attempt comes on a terminal" grep -q 'exec-run: attempt 2 of 3' "$T/tty"
check "and the third" grep -q 'exec-run: attempt 3 of 3' "$T/tty"
check_same "never on stdout" "$(tr '\n' ' ' <"$T/frt")" \
    "attempt 1 attempt 2 attempt 3 "
wait
s=$(job-submit -q -r 1 -- sh -c 'echo "try $JOBKIT_ATTEMPT"; sleep 0.3; exit 5')
exec-run -q "$s" >/dev/null 2>&1 &
until_state "$s" running
check_exit 5 "--follow of a job that fails exits with its status" \
    exec-run --logs "$s" --follow
check_same "after both attempts" "$(tr '\n' ' ' <"$T/out")" "try 1 try 2 "
wait

# A reader gone ends following; a stdout that cannot be written fails.
k=$(job-submit -q -- sh -c 'until [ -e "$1" ]; do echo x; sleep 0.1; done' sh "$T/go2")
exec-run -q "$k" >/dev/null 2>&1 &
until_state "$k" running
check_exit 0 "--follow stops when its reader goes away" \
    timeout 20 sh -c "exec-run --logs $k --follow | head -n 1"
check_same "after the line it read" "$(cat "$T/out")" "x"
check_exit 74 "--logs to a full stdout" sh -c "exec-run --logs $k >/dev/full"
check_stderr "^exec-run: stdout: No space left on device\$" "says so"
touch "$T/go2"
wait

# The summary of a long output: its head and its tail.
check_exit 0 "a job printing more than --max-return" \
    exec-run -q --max-return 200 -- sh -c 'seq 1 1000; echo Traceback: boom'
h=$(run-query jobs -q -r -L 1)
run job-describe -f ndjson "$h"
check_out '"stdout":"1\\n2\\n3\\n' "the summary keeps the head"
check_out '\\n1000\\nTraceback: boom\\n","' "and the tail"
check_out '\\n\[\.\.\. [0-9]+ bytes \.\.\.\]\\n' "joined by a marker"
check_out '"stdout_truncated":true' "flagged truncated"
check_same "within the return limit" \
    "$(sqlite3 "$JOBKIT_DB" "SELECT length(stdout) <= 200 FROM tasks ORDER BY rowid DESC LIMIT 1")" "1"
n=$(grep -o '\[\.\.\. [0-9]* bytes' "$T/out" | tr -dc 0-9)
kept=$(sqlite3 "$JOBKIT_DB" "SELECT length(CAST(stdout AS BLOB)) FROM tasks ORDER BY rowid DESC LIMIT 1")
m=$(printf '\n[... %s bytes ...]\n' "$n" | wc -c)
check_same "the marker counts what is left out" \
    "$((kept - m + n))" "$(wc -c <"$T/results/$h.1/stdout" | tr -d ' ')"
check_exit 0 "a long output of multibyte characters" \
    exec-run -q --max-return 100 -- sh -c 'i=0; while [ $i -lt 300 ]; do printf "\303\251"; i=$((i + 1)); done'
run job-describe -f ndjson "$(run-query jobs -q -r -L 1)"
e=$(printf '\303\251')
check_out "\"stdout\":\"($e)+\\\\n\[\.\.\. [0-9]+ bytes \.\.\.\]\\\\n($e)+\"" \
    "its head and tail are whole characters"

# The waiting notice, on a terminal only, when no worker serves the queue.
v=$(job-submit -q -Q idle -- true)
exec-run --wait "$v" 2>"$T/noty" &
p=$!
script -qec "exec-run --wait $v" /dev/null >"$T/tty1" </dev/null &
q=$!
script -qec "exec-run --logs $v --follow" /dev/null >"$T/tty2" </dev/null &
q2=$!
until_true grep -q 'waiting: no worker' "$T/tty1"
until_true grep -q 'waiting: no worker' "$T/tty2"
job-submit -q --cancel "$v" >/dev/null
wait "$p" "$q" "$q2"
check_same "--wait says once that no worker serves the queue" \
    "$(grep -c "exec-run: waiting: no worker serves queue 'idle'; start one with exec-run --worker" "$T/tty1")" "1"
check_same "--logs --follow says so too" \
    "$(grep -c "exec-run: waiting: no worker serves queue 'idle'" "$T/tty2")" "1"
check_same "not off a terminal" "$(grep -c waiting "$T/noty")" "0"
exec-run --worker -Q busy --capacity cpu=1 >/dev/null 2>&1 &
wk=$!
until_true sh -c 'run-query runs --alive -q | grep -q .'
u=$(job-submit -q -Q busy --cpu 4 -- true)
script -qec "exec-run --wait $u" /dev/null >"$T/tty3" </dev/null &
q=$!
# The notice comes at the first look, before the job has left the queue;
# one given for the other job after it shows this one has looked.
y=$(job-submit -q -Q idle -- true)
script -qec "exec-run --wait $y" /dev/null >"$T/tty4" </dev/null &
q2=$!
until_true grep -q 'waiting: no worker' "$T/tty4"
job-submit -q --cancel "$u" >/dev/null
job-submit -q --cancel "$y" >/dev/null
wait "$q" "$q2"
check_same "not when a worker serves the queue" "$(grep -c waiting "$T/tty3")" "0"
kill "$wk"
wait
done_testing
