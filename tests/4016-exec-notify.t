#!/bin/sh
# A job's webhook (spec "notify", --notify): posted a JSON summary by the
# worker when the job ends, with retries; how it went is an event of the
# job, and a notification that fails never fails the job.
. "$(dirname "$0")/lib.sh"
plan 16

# Wait for a condition, 30 s at most.
until_ok() {
	_i=0
	while ! "$@" 2>/dev/null; do
		_i=$((_i + 1))
		[ "$_i" -ge 600 ] && return 1
		sleep 0.05
	done
}
has_event() { job-describe -f ndjson "$1" | grep -q "$2"; }

/usr/bin/python3 -I "$TOP/tests/servers/hook.py" "$T/port" "$T/body" &
hook=$!
trap 'kill "$hook" 2>/dev/null; rm -rf "$T"' EXIT
until_ok test -s "$T/port"
url="http://127.0.0.1:$(cat "$T/port")/services/T0/B0/secret-path"

check_exit 3 "a foreground job with --notify" exec-run --notify "$url" -- sh -c 'exit 3'
check "posts to the webhook" until_ok test -s "$T/body"
check_same "as JSON" "$(cat "$T/body.type")" "application/json"
cp "$T/body" "$T/json"
check "with the job's state and exit status" grep -q '"exit_code":3.*"state":"failed"' "$T/json"
check "and a line of text for a chat" grep -q '"text":"jobkit: job a001 .exit. failed (exit 3)' "$T/json"
check "the job records that it was notified" until_ok has_event a001 '"type":"notified"'
check "naming the host, not the path (a webhook's secret)" sh -c \
    "job-describe -f ndjson a001 | grep -q 'notified http://127.0.0.1:[0-9]*\"' && ! job-describe -f ndjson a001 | grep -q secret-path"

# A webhook that cannot be reached: an event, not a failed job.
j=$(job-submit -q --notify http://127.0.0.1:1/hook -- true)
check_exit 0 "a worker runs a job whose webhook is down" exec-run --worker --drain -q
check_same "the job succeeded" "$(job_state "$j")" "succeeded"
check "and says its notification failed" until_ok has_event "$j" \
    '"type":"notify-failed","state":"succeeded","message":"notifying http://127.0.0.1:1 failed'


# The webhook's reply is no one's output; its password is in no event.
rm -f "$T/body"
j=$(job-submit -q --notify "http://me:HOOKPW@127.0.0.1:$(cat "$T/port")/x" -- true)
exec-run --worker --drain -f ndjson >"$T/wout" 2>&1
until_ok has_event "$j" '"type":"notified"'
check "a worker's output is its own, not the webhook's reply" sh -c \
    "! grep -q ok-from-the-hook '$T/wout' && grep -q '\"job\":\"$j\"' '$T/wout'"
check "the webhook's password is in no event" sh -c \
    "! job-describe -f ndjson $j | grep -q HOOKPW"
check "nor in what job-describe shows" sh -c \
    "! job-describe $j | grep -q HOOKPW"

check_exit 64 "--notify that is no http URL" job-submit --notify ftp://x -- true
check_stderr "^job-submit: --notify: 'ftp://x' is not an http or https URL$" "says so"
check_exit 64 "artifact-fetch --job without --notify" artifact-fetch --job a001
