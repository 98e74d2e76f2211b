#!/bin/sh
# run-query: jobs, tasks, runs and queues; every filter, sort, limit,
# count and summary; bad filters.
. "$(dirname "$0")/lib.sh"
plan 63

q() { run run-query "$@"; }
ids() { tr '\n' ' ' <"$T/out"; }

a=$(job-submit -q -n build-a -p 1 -l team=ml -l tier=1 -- true)
b=$(job-submit -q -n build-b -p 5 -l team=ml -Q gpu -- true)
c=$(job-submit -q -n test-c -p 3 -l team=web -- sh -c 'exit 1')
d=$(job-submit -q -n dep-d --after "$a" -- true)
h=$(job-submit -q -n held-e -H -- true)
exec-run "$c" >/dev/null 2>&1

q jobs -q
check_same "all jobs, in creation order" "$(ids)" "$a $b $c $d $h "
q -q
check_same "jobs is the default" "$(ids)" "$a $b $c $d $h "
q jobs --state queued -q
check_same "--state" "$(ids)" "$a $b "
q jobs --state queued,held -q
check_same "--state with a list" "$(ids)" "$a $b $h "
q jobs -s waiting -s failed -q
check_same "--state repeated" "$(ids)" "$c $d "
q jobs --user "$(id -un)" -q
check_same "--user" "$(ids)" "$a $b $c $d $h "
q jobs --user nobody-here -q
check_same "--user with no jobs" "$(ids)" ""
q jobs --queue gpu -q
check_same "--queue" "$(ids)" "$b "
q jobs --label team=ml -q
check_same "--label k=v" "$(ids)" "$a $b "
q jobs --label team=ml --label tier=1 -q
check_same "labels combine" "$(ids)" "$a "
q jobs --label tier -q
check_same "--label k: any value" "$(ids)" "$a "
q jobs --name 'build-*' -q
check_same "--name glob" "$(ids)" "$a $b "
q jobs --id "$a" -q
check_same "--id prefix" "$(ids)" "$a "
q jobs --dependency-of "$d" -q
check_same "--dependency-of" "$(ids)" "$a "
q jobs --dependent-of "$a" -q
check_same "--dependent-of" "$(ids)" "$d "
q jobs --sort priority --reverse -q
check_same "--sort priority --reverse (ties newest first)" "$(ids)" "$b $c $a $h $d "
q jobs --limit 2 -q
check_same "--limit" "$(ids)" "$a $b "
q jobs --since -1h -q
check_same "--since -1h" "$(ids)" "$a $b $c $d $h "
q jobs --since 1h --until +1h -q
check_same "bare 1h means ago in a filter" "$(ids)" "$a $b $c $d $h "
q jobs --until -1h -q
check_same "--until -1h" "$(ids)" ""
q jobs --time ended --since -1h -q
check_same "--time ended" "$(ids)" "$c "
q jobs --since 2026-01-01 --until 2999-01-01T00:00:00Z -q
check_same "RFC 3339 times and dates" "$(ids)" "$a $b $c $d $h "
q jobs --count --state queued
check_same "--count" "$(cat "$T/out")" "2"
q jobs --summary -f ndjson
check_out '"total":5,"states":\{"failed":1,"held":1,"queued":2,"waiting":1\}' "--summary per state"
check_out '"queues":\{"default":\{.*\},"gpu":\{"queued":1\}\}' "and per queue"
q jobs --summary -f table
check_out '^total: 5$' "--summary -f table in a pipe is the indented text"

q tasks -q
check_same "tasks" "$(ids)" "$c.1 "
q tasks --state failed -f ndjson
check_out "\"job\":\"$c\".*\"exit_code\":1" "tasks with their job and result"
q tasks --job "$c" --time keepalive --since -1h -q
check_same "tasks by job and keepalive time" "$(ids)" "$c.1 "
q runs -f ndjson
check_out '"kind":"exec-run".*"state":"ended"' "runs"
run_id=$(run-query runs -q | head -1)
check_same "run IDs are not job IDs" "$(printf %.1s "$run_id")" "r"
q runs -i "$run_id" -q
check_same "runs by ID" "$(ids)" "$run_id "
q runs --user "$(id -un)" --since 1h --count
check_same "runs --count with filters counts them" "$(cat "$T/out")" "$(run-query runs -q | wc -l | tr -d ' ')"
exec-run --worker --drain -Q no-such-queue -j 3 --capacity cpu=1.5,memory=2G -l pool=a -l site=x >/dev/null
q runs -l pool=a -f ndjson
check_out '"capacity":\{"jobs":3,"cpu":1.5,"memory":2147483648,"gpu":0,"queues":\["no-such-queue"\]\},"labels":\{"pool":"a","site":"x","Architecture":"[a-z0-9]*","Operating-System":"linux"\}' \
    "a worker's run records its capacity and labels, and a Bacalhau node's"
q runs -l pool=a -l site -q
check_same "runs by label" "$(wc -l <"$T/out" | tr -d ' ')" "1"
q runs -l pool=b -c
check_same "and not by another value" "$(cat "$T/out")" "0"
check_exit 64 "a job ID where a run ID goes" run-query runs -i "$c"
check_exit 65 "runs piped where jobs go" sh -c 'run-query runs | job-describe'
check_stderr "'$run_id' is a run, not a job" "are refused, not taken for jobs"
q queues -f ndjson
check_out '^\{"queue":"default","jobs":4,"waiting":1,"queued":1,"held":1,"running":0,"succeeded":0,"failed":1,"cancelled":0\}' \
    "queues with counts per state"
q queues -q
check_same "queue names" "$(ids)" "default gpu "
q jobs -f table
check_out '^ID +STATE +OWNER +QUEUE' "a table has a header"

check_exit 64 "an unknown state for the noun" run-query tasks --state waiting
check_stderr "unknown state 'waiting' for tasks" "says so"
check_exit 64 "an unknown sort field" run-query jobs --sort color
check_stderr "unknown sort field 'color'" "says so"
check_exit 64 "a bad time" run-query jobs --since yesterday
check_stderr "--since: invalid time 'yesterday'" "says so"
check_exit 64 "an unknown noun" run-query pets
check_exit 66 "--dependency-of an unknown job" run-query --dependency-of azzz
# Rows come in the order of the time they are filtered on.
slow=$(job-submit -q -p 9 -n slow -- sleep 0.5)
fast=$(job-submit -q -p 1 -n fast -- true)
check_exit 0 "two tasks: the first started ends last" \
    exec-run --worker -j 2 --drain -Q default -q
run sh -c "run-query tasks -t ended --since 1h -q | grep -e '^$slow' -e '^$fast' | tr '\n' ' '"
check_out "^$fast.1 $slow.1 \$" "-t ended --since: by end time"
run sh -c "run-query tasks -t started --since 1h -q | grep -e '^$slow' -e '^$fast' | tr '\n' ' '"
check_out "^$slow.1 $fast.1 \$" "-t started --since: by start time"
# A label within a window on creation time: the window narrows the
# label's jobs by ID, as creation times rise with IDs.
w1=$(job-submit -q -l win=1 -- true); sleep 0.05
w2=$(job-submit -q -l win=1 -- true); sleep 0.05
w3=$(job-submit -q -l win=1 -- true)
t2=$(job-describe -f ndjson "$w2" | sed 's/.*"created":"\([^"]*\)".*/\1/')
t3=$(job-describe -f ndjson "$w3" | sed 's/.*"created":"\([^"]*\)".*/\1/')
q jobs -l win=1 --since "$t2" -q
check_same "a label since a time" "$(ids)" "$w2 $w3 "
q jobs -l win=1 --until "$t3" -q
check_same "a label until a time" "$(ids)" "$w1 $w2 "
q jobs -l win=1 --since "$t2" --until "$t3" -q
check_same "a label in a window" "$(ids)" "$w2 "
# A label key may be 63 characters long; the filter holds all of them.
k63=$(printf 'k%062d' 7)
l1=$(job-submit -q -l "$k63=1" -- true)
l2=$(job-submit -q -l "$k63=2" -l other=1 -- true)
q jobs -l "$k63=1" -q
check_same "a 63-character label key and its value" "$(ids)" "$l1 "
q jobs -l "$k63" -q
check_same "a 63-character label key alone" "$(ids)" "$l1 $l2 "
q jobs -l "$k63=3" -q
check_same "and no job for a value it lacks" "$(ids)" ""
q jobs -l "${k63}x" -c
check_same "nor for a longer key" "$(cat "$T/out")" "0"
exec-run --worker --drain -Q no-such-queue -l "$k63=a" >/dev/null
q runs -l "$k63=b" -c
check_same "a run's long label key is matched whole" "$(cat "$T/out")" "0"
q runs -l "$k63=a" -c
check_same "and finds the run that has it" "$(cat "$T/out")" "1"
# The most run-query takes: 64 states and 64 labels, in a window.
states=queued labels=
for i in $(seq 63); do states=$states,queued; done
for i in $(seq 64); do labels="$labels -l team=ml"; done
one=$(run-query jobs -s queued -l team=ml --since 1d --until +1h -q | tr '\n' ' ')
# shellcheck disable=SC2086
q jobs -s "$states" $labels --since 1d --until +1h -q
check_same "64 states and 64 labels in a window are one query" "$(ids)" "${one:-none}"
done_testing
