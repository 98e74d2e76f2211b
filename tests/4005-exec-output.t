#!/bin/sh
# exec-run output limits at scale: a job printing 1 GiB leaves a capped
# file, a summary of the return limit (its head and tail), both flags,
# and a worker whose memory stays flat.
. "$(dirname "$0")/lib.sh"
plan 15

id=$(job-submit -q --max-file 10M -S 'yes | head -c 1073741824')
exec-run --worker --drain -q >"$T/wout" 2>"$T/werr" &
pid=$!
hwm=$("$TOP"/scripts/peak-rss "$pid")
wait "$pid"
check_same "the worker ran the job printing 1 GiB" "$?" "0"
res=$(sqlite3 "$JOBKIT_DB" "SELECT results FROM tasks WHERE attempt = 1")
check_same "stdout is cut at --max-file" "$(stat -c %s "$res/stdout")" "10485760"
check_same "and is what the job printed" "$(head -c 8 "$res/stdout" | tr '\n' .)" "y.y.y.y."
check_same "the summary holds the 4 KiB return limit" \
    "$(sqlite3 "$JOBKIT_DB" "SELECT length(stdout) FROM tasks WHERE attempt = 1")" "4096"
run job-describe -f ndjson "$id"
check_out '"stdout_truncated":true' "stdout is flagged truncated"
check_out '"stdout":"(y\\n)+\\n\[\.\.\. 1073737756 bytes \.\.\.\]\\n(y\\n)+"' \
    "its head and tail, with what is left out between them"
check_out '"stderr_truncated":false' "stderr is not"
check_out '"state":"succeeded","owner"' "and the job succeeded"
if [ "${JOBKIT_ASAN:-0}" = 1 ]; then
	skip "the worker's RSS (AddressSanitizer's shadow memory is no measure)"
else
	check_same "the worker's peak RSS stayed under 16 MB (was ${hwm} kB)" \
	    "$([ "$hwm" -gt 0 ] && [ "$hwm" -lt 16384 ] && echo yes)" "yes"
fi

# A summary is JSON text, whatever the job printed.
check_exit 0 "a job printing invalid UTF-8 and a NUL" \
    exec-run -q -- printf 'ab\377\000c\303\251'
bin=$(run-query jobs -q -r -L 1)
check_exit 0 "job-describe shows it" job-describe -f ndjson "$bin"
check_same "each bad byte and the NUL made U+FFFD, the rest kept" \
    "$(grep -o '"stdout":"[^"]*"' "$T/out")" \
    "$(printf '"stdout":"ab\357\277\275\357\277\275c\303\251"')"
check_exit 0 "a summary cut inside a character" \
    exec-run -q --max-return 3 -- printf 'a\303\251\303\251'
run job-describe -f ndjson "$(run-query jobs -q -r -L 1)"
check_same "is cut before it" "$(grep -o '"stdout":"[^"]*"' "$T/out")" \
    "$(printf '"stdout":"a\303\251"')"
check_out '"stdout_truncated":true' "and flagged"
done_testing
