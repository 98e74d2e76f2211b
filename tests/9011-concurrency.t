#!/bin/sh
# Many processes on one database: no "database is locked", no duplicate,
# nothing lost.
. "$(dirname "$0")/lib.sh"
plan 6

n=500
[ -n "${JOBKIT_ASAN:-}" ] && n=150 # the sanitizer build starts slowly
for p in 1 2 3 4 5 6 7 8; do
	(
		i=0
		while [ $i -lt $n ]; do
			job-submit -q -- true || echo "exit $?" >&2
			i=$((i + 1))
		done >"$T/ids.$p" 2>"$T/errs.$p"
	) &
done
wait
total=$((8 * n))
check_same "8 processes x $n submissions make $total jobs" \
    "$(sqlite3 "$JOBKIT_DB" 'select count(*) from jobs')" "$total"
check_same "every submission printed an ID" "$(cat "$T"/ids.* | wc -l | tr -d ' ')" "$total"
check_same "all different" "$(cat "$T"/ids.* | sort -u | wc -l | tr -d ' ')" "$total"
check_same "no error, no 'database is locked'" "$(cat "$T"/errs.*)" ""

for p in 1 2 3 4 5 6 7 8; do
	job-submit -q -k cron-2026-11-22 -- true >"$T/key.$p" 2>&1 &
done
wait
check_same "8 processes with one key make one job" \
    "$(sqlite3 "$JOBKIT_DB" "select count(*) from jobs where idem_key = 'cron-2026-11-22'")" "1"
check_same "and all print its ID" "$(cat "$T"/key.* | sort -u | wc -l | tr -d ' ')" "1"
done_testing
