#!/bin/sh
# job-submit --each: a job a line (or NUL-ended item) of stdin, in one
# transaction, GNU parallel's replacement strings; its bad input.
. "$(dirname "$0")/lib.sh"
plan 20
cd "$T" || exit 1

mkdir data && : >data/a.txt && : >data/b.tar.gz && : >c || exit 1
cmd_of() { job-describe -f ndjson "$1" | sed 's/.*"command":\(\[[^]]*\]\).*/\1/'; }

run sh -c "printf 'data/a.txt\ndata/b.tar.gz\n\nc\n' |
    job-submit --each -q -n 'sweep-{/.}' -- wc -l {}"
check_same "a job a line, the blank one skipped" "$(wc -l <"$T/out" | tr -d ' ')" 3
set -- $(cat "$T/out")
check_same "{} is the line" "$(cmd_of "$1")" '["wc","-l","data/a.txt"]'
check_same "the name a template too" \
    "$(run-query -q -n 'sweep-*' | wc -l | tr -d ' ') $(run-query -f ndjson -q -n sweep-b.tar)" \
    "3 $2"
run sh -c "printf 'dir/x.tar.gz\n' | job-submit --each -q -- echo {} {.} {/} {//} {/.} {#}"
check_same "{.} {/} {//} {/.} {#} as GNU parallel has them" "$(cmd_of "$(cat "$T/out")")" \
    '["echo","dir/x.tar.gz","dir/x.tar","x.tar.gz","dir","x.tar","1"]'
run sh -c "printf 'x\n' | job-submit --each -q -- echo {//}"
check_same "{//} of a bare name is ." "$(cmd_of "$(cat "$T/out")")" '["echo","."]'
run sh -c "printf 'p q\nr\n' | job-submit --each -q -- echo"
set -- $(cat "$T/out")
check_same "no mark: the line goes last, one argument" "$(cmd_of "$1")" '["echo","p q"]'
check_same "and {#} counts from 1" \
    "$(printf 'a\nb\nc\n' | job-submit --each -q -- echo {#} | while read -r j; do cmd_of "$j"; done | tr '\n' ' ')" \
    '["echo","1"] ["echo","2"] ["echo","3"] '
run sh -c "printf 'a b\0c\nd\0' | job-submit --each -0 -q -S 'printf %s \"{}\"'"
set -- $(cat "$T/out")
check_same "-0: items end with NUL, newlines and all" \
    "$(job-describe -f ndjson "$2" | sed 's/.*"shell":"\([^"]*\\"[^"]*\\"\)".*/\1/')" \
    'printf %s \"c\nd\"'
check_same "each submitted item a job" "$#" 2
run sh -c "printf 'k1\nk1\nk2\n' | job-submit --each -q -k 'run-{}' -- true"
check_same "a key a template: one job a distinct key" \
    "$(sort -u "$T/out" | wc -l | tr -d ' ')" 2

# What --each makes runs, and in order.
exec-run --worker --drain -q >/dev/null 2>&1
check_same "the sweep ran" "$(run-query -n 'sweep-*' -s succeeded -q | wc -l | tr -d ' ')" 3

# Bad input: nothing stored.
before=$(db_sum)
check_exit 65 "a line that is not UTF-8" sh -c \
    "printf 'ok\n\377\n' | job-submit --each -- echo"
check_stderr "^job-submit: stdin: line 2 is not UTF-8$" "names the line"
check_same "and nothing of the batch is stored" "$(db_sum)" "$before"
check_exit 64 "--each --shell with no {}" sh -c "echo a | job-submit --each -S 'echo'"
check_stderr "put \{\} where the line goes" "says where"
check_exit 64 "-0 without --each" job-submit -0 -- true
check_exit 64 "--each without a command" sh -c "echo a | job-submit --each"
check_stderr "--each takes a command" "says so"
check_exit 64 "--each with an action" sh -c "echo a | job-submit --each -c"
