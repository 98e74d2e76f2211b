#!/bin/sh
# job-submit --array: Slurm's sbatch --array, a job an index under a
# parent as shards are, %MAX of them running at once; its bad input.
. "$(dirname "$0")/lib.sh"
plan 18
cd "$T" || exit 1

run job-submit --array 1-3,7,10-14:2%2 -n sweep -q -- sh -c \
    'echo "$JOBKIT_ARRAY_INDEX" >>ran; sleep 0.3'
set -- $(cat "$T/out")
parent=$1
check_same "a parent and a job an index" "$#" 8
check_same "the parent waits for its shards" "$(job_state "$parent")" waiting
check_same "named by index" \
    "$(run-query -f ndjson --dependency-of "$parent" | sed 's/.*"name":"\([^"]*\)".*/\1/' | tr '\n' ' ')" \
    "sweep[1] sweep[2] sweep[3] sweep[7] sweep[10] sweep[12] sweep[14] "
check "each with its index in JOBKIT_ARRAY_INDEX" sh -c \
    "job-describe -f ndjson $2 | grep -q '\"env\":{\"JOBKIT_ARRAY_INDEX\":\"1\"}'"
check "and the cap in the parent" sh -c \
    "job-describe -f ndjson $parent | grep -q '\"concurrency\":2'"

exec-run --worker -j 4 --drain -q >/dev/null 2>&1
check_same "every index ran once" "$(sort -n ran | tr '\n' ' ')" "1 2 3 7 10 12 14 "
check_same "and the parent succeeded" "$(job_state "$parent")" succeeded
# At most 2 at once, from the tasks' own times: at each start, count the
# tasks that started before it and ended after it.
run-query tasks -f ndjson | grep '"name":"sweep\[' |
    sed 's/.*"started":"\([^"]*\)".*"ended":"\([^"]*\)".*/\1 \2/' |
    while read -r a b; do echo "$(date -d "$a" +%s%3N) $(date -d "$b" +%s%3N)"; done >times
most=$(awk '{ s[NR] = $1; e[NR] = $2 } END {
	for (i = 1; i <= NR; i++) { n = 0
		for (j = 1; j <= NR; j++) if (s[j] <= s[i] && e[j] > s[i]) n++
		if (n > m) m = n }
	print m }' times)
check "never more than %2 running, though the worker had 4 slots ($most)" \
    test "$most" -ge 1 -a "$most" -le 2

run job-submit --array 0-4:2 -q -- true
check_same "a step, from 0" "$(($(wc -l <"$T/out")))" 4

# A key names the array (its parent), not each of its jobs.
run job-submit --array 1-3 -k nightly -q -- true
first=$(head -1 "$T/out")
check_same "an array with a key: a parent and its 3" \
    "$(sort -u "$T/out" | wc -l | tr -d ' ')" 4
run job-submit --array 1-3 -k nightly -q -- true
check_same "the same key again: the same parent, nothing new" "$(cat "$T/out")" "$first"

before=$(db_sum)
check_exit 64 "a range that falls" job-submit --array 5-1 -- true
check_stderr "^job-submit: --array: '5-1': a range must rise$" "says so"
check_exit 64 "%0" job-submit --array 1-3%0 -- true
check_exit 64 "no list" job-submit --array x -- true
check_exit 64 "more than 10000 jobs" job-submit --array 1-20000 -- true
check_exit 64 "no command" job-submit --array 1-3
check_same "nothing was stored" "$(db_sum)" "$before"
