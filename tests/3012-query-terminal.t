#!/bin/sh
# run-query at the terminal: tables that fit the width, escaped control
# characters, coloured states, the default window of jobs, why jobs wait,
# sacct's accounting of tasks, --format column lists and JOBKIT_FORMAT.
. "$(dirname "$0")/lib.sh"
plan 73

ESC=$(printf '\033')
TAB=$(printf '\t')
# The longest line of $T/out in characters, colour codes and the
# terminal's carriage returns left out (a UTF-8 character is one byte
# once its continuation bytes are gone).
widest() {
	sed "s/$ESC\[[0-9;]*m//g" "$T/out" | tr -d '\r\200-\277' |
	    LC_ALL=C awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'
}
# A terminal of $1 columns, whatever TERM the suite was started with.
tty() { run on_tty "stty cols $1; TERM=xterm-256color; export TERM; $2"; }
# What is left of $T/out once colour codes are taken out.
plain() { sed "s/$ESC\[[0-9;]*m//g" "$T/out"; }
# Whether $T/out has a line matching the (basic) expression $1.
has() { if grep -q -- "$1" "$T/out"; then echo yes; else echo no; fi; }

long="unit-$(printf 'x%.0s' $(seq 1 120))"
wide="名前-é-$(printf 'ü%.0s' $(seq 1 60))"
a=$(job-submit -q -n "$long" -- true)
b=$(job-submit -q -n "$wide" -H -- true)
c=$(job-submit -q -- printf "a${TAB}b${ESC}[31mred
line")
f=$(job-submit -q -n failing -- sh -c 'exit 3')
exec-run -q "$a" >/dev/null 2>&1
exec-run -q "$f" >/dev/null 2>&1

for w in 60 80 200; do
	tty $w "run-query"
	check_same "at $w columns no line is longer than the terminal" \
	    "$(test "$(widest)" -le $w && echo yes)" yes
done
tty 200 "run-query"
check_same "and a wide terminal is used" "$(test "$(widest)" -gt 120 && echo yes)" yes
check_out '^ID +STATE +OWNER +QUEUE +PRIO +CREATED +TIME +EXIT +REASON +NAME' \
    "200 columns show every column"
tty 60 "run-query"
check_same "60 columns cut the long name with an ellipsis" "$(has "unit-xxx.*…")" yes
check_out '^ID +STATE +TIME +REASON +NAME' "and drop the columns of less weight"
tty 80 "run-query"
check_out '^ID +STATE +TIME +EXIT +REASON +NAME' "80 columns keep the exit status"
check_same "a multibyte name is cut between characters" "$(has "名前-é-ü*…")" yes
tty 40 "run-query tasks; run-query runs; run-query queues"
check_same "tasks, runs and queues fit too" "$(test "$(widest)" -le 40 && echo yes)" yes
tty 80 "run-query -f id,name"
check_same "a last column ends at the width" "$(test "$(widest)" -le 80 && echo yes)" yes

# Control characters are shown escaped, never raw.
tty 200 "run-query"
check_same "a tab and an escape in a command are escaped on a terminal" \
    "$(plain | grep -c "printf a\\\\tb\\\\x1b\[31mred\\\\nline")" 1
check_same "and none is written raw" \
    "$(plain | grep -c -e "$ESC" -e "$TAB")" 0
run run-query -f table
check_same "off a terminal too" "$(has 'printf a\\tb\\x1b\[31mred\\nline')" yes
check_same "with no raw control character" "$(grep -c -e "$ESC" -e "$TAB" "$T/out")" 0
check_same "and cells whole, not cut" "$(has "$long")" yes
run run-query -f text -j "$c"
check_same "text escapes them but keeps its lines" "$(has 'printf a\\tb\\x1b\[31mred$')" yes
run run-query -f ndjson -j "$c"
check_same "JSON stays JSON" "$(has 'printf a\\tb\\u001[bB]\[31mred\\nline')" yes
run env COLUMNS=50 run-query -f table
check_same "COLUMNS fits a table off a terminal" "$(test "$(widest)" -le 50 && echo yes)" yes
check_same "with its ellipsis" "$(has "…")" yes

# Colour: the state, on a terminal only.
tty 200 "run-query"
check_same "succeeded is green on a terminal" "$(has "${ESC}\[32msucceeded${ESC}\[0m")" yes
check_same "failed is red" "$(has "${ESC}\[31mfailed${ESC}\[0m")" yes
tty 200 "NO_COLOR=1 run-query"
check_same "none with NO_COLOR" "$(grep -c "$ESC" "$T/out")" 0
tty 200 "NO_COLOR= run-query"
check_same "an empty NO_COLOR is not set" "$(has "${ESC}\[32m")" yes
tty 200 "TERM=dumb run-query"
check_same "none with TERM=dumb" "$(grep -c "$ESC" "$T/out")" 0
run run-query -f table
check_same "none off a terminal" "$(grep -c "$ESC" "$T/out")" 0

# The default view and its cells.
run run-query -f id,state,time,exit,reason -j "$f"
check_out "^${f} +failed +[0-9]+s +3 +" "TIME and EXIT of an ended job"
run run-query -f id,reason,name -j "$b"
check_out "^${b} +held +$wide" "a held job says so, and its name is its own"
run run-query -f id,name -j "$c"
check_out "^${c} +printf a" "a job named by its program shows its command"
d=$(job-submit -q -Q batch --cpu 64 -- true)
run run-query -f id,reason -j "$d"
check_out "^${d} +no worker$" "a queued job no worker serves waits for one"
n=$(job-submit -q -Q batch --after "$b" -- true)
run run-query -f id,reason -j "$n"
check_out "^${n} +dependency$" "a waiting job waits on a dependency"
due=$(job-submit -q -Q batch --at +2h -- true)
run run-query -f id,reason -j "$due"
check_out "^${due} +due in (1h[0-9]{2}m|2h00m)$" "a job not due says when"
exec-run --worker -Q batch --capacity cpu=1 -q >/dev/null 2>&1 &
wpid=$!
reason_of() { run-query -f reason -j "$1" | tail -1; }
_reason_is() { [ "$(reason_of "$1")" = "$2" ]; }
check "once a worker serves it, what it cannot fit" \
    until_true _reason_is "$d" "waiting for a worker with cpu=64"
check_same "and no more 'no worker'" "$(reason_of "$d")" "waiting for a worker with cpu=64"
kill "$wpid"
wait "$wpid" 2>/dev/null
check "the worker stopped" gone "$wpid"

# The default window: what is active, and what ended in the last hour.
old=$(job-submit -q -n old -- true)
exec-run -q "$old" >/dev/null 2>&1
sqlite3 "$JOBKIT_DB" "update jobs set created = created - 7200000, ended = ended - 7200000 where name = 'old'"
run run-query -q
check_same "a job ended over an hour ago is not shown" "$(grep -c "^$old$" "$T/out")" 0
check_same "one ended within the hour is" "$(grep -c "^$a$" "$T/out")" 1
check_same "an active one is" "$(grep -c "^$b$" "$T/out")" 1
run run-query -a -q
check_same "-a shows it" "$(grep -c "^$old$" "$T/out")" 1
run run-query --all -f ndjson
check_same "--all in any format" "$(grep -c "\"id\":\"$old\"" "$T/out")" 1
run run-query -f ndjson
check_same "the window holds for every format" "$(grep -c "\"id\":\"$old\"" "$T/out")" 0
check_same "and for --count" "$(run-query -c) $(run-query -a -c)" \
    "$(($(run-query -a -q | wc -l) - 1)) $(run-query -a -q | wc -l)"
check_same "a state selects past the window" \
    "$(run-query -s succeeded -q | grep -c "^$old$")" 1
check_same "and so does --id" "$(run-query -i "$old" -q)" "$old"
check_same "--user keeps the window" \
    "$(run-query -u "$(id -un)" -q | grep -c "^$old$")" 0

# Tasks as sacct shows them, and --format lists.
s=$(job-submit -q -- sh -c 'kill -9 $$')
exec-run -q "$s" >/dev/null 2>&1
run run-query tasks -f table
check_out '^TASK +NAME +STATE +EXIT +ELAPSED +CPUTIME +MAXRSS +START$' \
    "tasks show sacct's accounting"
check_out "^$f\\.1 +failing +failed +3:0 +[0-9]+s +[0-9.]+s +[0-9.]+[KMG]iB +" \
    "a failed task's code, times and memory"
check_out "^$s\\.1 +.* 0:9 " "a signal as code:signal"
run run-query tasks --format id,elapsed,maxrss,state
check_out '^TASK +ELAPSED +MAXRSS +STATE$' "--format takes a list of columns"
check_out "^$f\\.1 +[0-9]+s +[0-9.]+[KMG]iB +failed$" "in that order"
run run-query tasks -f ID,Elapsed
check_out '^TASK +ELAPSED$' "in any case"
run run-query queues -f queue,jobs
check_out '^QUEUE +JOBS$' "for queues"
run run-query runs -f id,kind
check_out '^RUN +KIND$' "for runs"
run run-query -f id,state,owner
check_out '^ID +STATE +OWNER$' "and for jobs"
before=$(db_sum)
check_exit 64 "an unknown column" run-query tasks --format id,nope
check_stderr "^run-query: unknown column 'nope' \(id, job, try, name, " \
    "is named, with the valid ones"
check_same "and nothing is written" "$(wc -c <"$T/out" | tr -d ' ') $(db_sum)" \
    "0 $before"
check_exit 64 "other tools take no column list" job-describe -f id,state "$a"
check_stderr "^job-describe: unknown format 'id,state'" "and say so"

# JOBKIT_FORMAT: the default off a terminal.
run env JOBKIT_FORMAT=table run-query
check_out '^ID +STATE +OWNER' "JOBKIT_FORMAT=table makes a table off a terminal"
run env JOBKIT_FORMAT=table run-query -f ndjson
check_out '^\{"id":' "an explicit -f wins"
tty 80 "JOBKIT_FORMAT=ndjson run-query"
check_out '^ID +STATE' "and a terminal keeps its table"
check_exit 64 "a bad JOBKIT_FORMAT" env JOBKIT_FORMAT=xml run-query
check_stderr "^run-query: JOBKIT_FORMAT: unknown format 'xml' \(json, ndjson, table or text\)$" \
    "is named"
before=$(db_sum)
check_exit 64 "for every tool" env JOBKIT_FORMAT=xml job-submit -q -- true
check_same "and nothing is done" "$(wc -c <"$T/out" | tr -d ' ') $(db_sum)" \
    "0 $before"
# The default window with a limit, where most jobs are active: the store
# then walks the jobs in order until the limit instead of gathering the
# active ones (store.c, qb_dense) -- the same rows, in the same order.
export JOBKIT_DB="$T/dense.db"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do job-submit -q -- true >/dev/null; done
exec-run -q "$(run-query -q -L 1)" >/dev/null
exec-run -q "$(run-query -q -L 1 -r)" >/dev/null
sqlite3 "$JOBKIT_DB" "update jobs set ended = 0 where rid = (select min(rid) from jobs)"
all=$(run-query -q)
check_same "the window without a limit: all but the job ended long ago" \
    "$(echo "$all" | wc -l | tr -d ' ')" 11
check_same "with a limit, its first rows" "$(run-query -q -L 4)" \
    "$(echo "$all" | head -4)"
check_same "and newest first, its last (the job ended this hour too)" \
    "$(run-query -q -L 4 -r)" "$(echo "$all" | tail -4 | sort -r)"
# Its count is of the active jobs and of those ended since, each on its
# index: the rows the list shows, no more.
n=$(echo "$all" | wc -l | tr -d ' ')
check_same "the window's --count: the active and the recently ended" \
    "$(run-query -c)" "$n"
check_same "with a filter of the window's rows" "$(run-query -c -u "$(id -un)")" "$n"
job-submit -q -Q other -- true >/dev/null
check_same "with one that matches only some" "$(run-query -c -Q other)" 1
check_same "and a limit" "$(run-query -c -L 4)" 4
done_testing
