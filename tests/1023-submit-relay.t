#!/bin/sh
# A running worker stores the jobs job-submit hands it (relay.h): the
# submitter never opens the database.  What is stored, printed and
# refused is what job-submit alone would store, print and refuse; a
# worker that dies before it answers, or is slow to, leaves one job, not
# two; a worker serves its own user only.  The submitter that cannot open
# the database, and the worker that dies or waits, are a preloaded shim
# (tests/preload/relayshim.c).
. "$(dirname "$0")/lib.sh"
plan 45
cd "$T" || exit 1

SHIM=$JOBKIT_HELPERS/relayshim.so
# The ASan build wants its runtime first of all libraries; the shim is
# not built with it.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
export ASAN_OPTIONS
db=$JOBKIT_DB
# A job-submit that cannot open the database: only a worker stores for it.
blind() { env LD_PRELOAD="$SHIM" RELAYSHIM_NOOPEN="$db" job-submit "$@"; }
jobs_named() { run-query -q --name "$1" | wc -l | tr -d ' '; }
tokens() { sqlite3 "$db" "select count(token) from jobs where name = '$1'"; }
w=
start_worker() {
	(cd "$T/wd" && exec env "$@" exec-run --worker -q ${WARGS:-} \
	    >"$T/w.out" 2>"$T/w.err") &
	w=$!
	# It listens once it has started: a blind submit goes through then.
	until_true probe
}
probe() { blind -q -H -n probe -- true >/dev/null 2>&1; }
stop_worker() {
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
	w=
}
trap 'test -n "$w" && kill -9 "$w" 2>/dev/null; rm -rf "$T"' EXIT
mkdir wd sub

# Without a worker: job-submit stores the job itself, and the blind one
# cannot.
a=$(job-submit -q -n first -- true)
check_exit 73 "without a worker a submitter that cannot open the database fails" \
    blind -q -- true
check_stderr "^job-submit: cannot open database: " "saying why"
run job-submit --after a0zz -- true
direct_err=$(cat "$T/err") direct_rc=$rc
check_same "the direct refusal of a missing dependency" "$direct_rc" 66

start_worker
check "with a worker it stores the job for the blind submitter" \
    test "$(jobs_named probe)" -ge 1

# What is stored and printed.
cd sub || exit 1
run env FOO=from-the-submitter LD_PRELOAD="$SHIM" RELAYSHIM_NOOPEN="$db" \
    job-submit -f ndjson -n shown -l k=v -p 3 --export FOO -- echo hi
check_same "it exits 0" "$rc" 0
id=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$T/out")
check_out '^\{"id":"a[0-9a-z]{3}","name":"shown","state":"queued","queue":"default","priority":3,"created":"[0-9T:.Z-]*"\}$' \
    "printing the job's brief as job-submit does"
check_same "one line of it" "$(wc -l <"$T/out" | tr -d ' ')" 1
check "the worker runs it" until_state "$id" succeeded
job-describe -f json "$id" >"$T/desc"
check "its work directory is the submitter's, not the worker's" \
    grep -q "\"workdir\": \"$T/sub\"" "$T/desc"
check "it records the submitter's environment" \
    grep -q '"FOO": "from-the-submitter"' "$T/desc"
check "and its labels" grep -q '"k": "v"' "$T/desc"
# The worker stores one request's environment after another's: each job
# records its own submitter's.
for v in one two three; do
	env FOO=$v LD_PRELOAD="$SHIM" RELAYSHIM_NOOPEN="$db" \
	    job-submit -q -H -n "env-$v" --export FOO -- true >/dev/null
done
check_same "each job records its own submitter's environment" \
    "$(for v in one two three; do job-describe -f json "$(run-query -q --name "env-$v")" | grep -o '"FOO": "[a-z]*"'; done | tr '\n' ' ')" \
    '"FOO": "one" "FOO": "two" "FOO": "three" '

check_same "it is stored with the submitter's token" "$(tokens shown)" 1
run blind -q -H -n quiet -- true
check_out '^a[0-9a-z]{3}$' "-q prints the ID alone"
run blind -f ndjson -H -n twice --key k1 -- true
first=$(cat "$T/out")
run blind -f ndjson -H -n twice --key k1 -- true
check_same "a key used before gives the same job" "$(cat "$T/out")" "$first"
check_same "stored once" "$(jobs_named twice)" 1
cd "$T" || exit 1

# What is refused: as without a worker, and nothing is stored.
n=$(run-query -c)
run blind --after a0zz -- true
check_same "a missing dependency is refused with the same status" "$rc" "$direct_rc"
check_same "and the same message" "$(cat "$T/err")" "$direct_err"
check_same "nothing is stored" "$(run-query -c)" "$n"

# What a worker refuses, of a peer of its own user that is no job-submit:
# each request is answered with the status and message, nothing stored.
if [ -x /usr/bin/python3 ]; then
	name="jobkit-relay-1/$(stat -L -c %D "$db"):$(printf %x "$(stat -L -c %i "$db")")"
	n=$(run-query -c)
	/usr/bin/python3 -c '
import socket, sys
for req in sys.argv[2:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(b"\0" + sys.argv[1].encode())
    s.settimeout(10)
    s.send(req.encode())
    print(s.recv(65536).decode())
    s.close()' "$name" 'not json' \
	    '{"token":"xyz","spec":{"command":["true"]}}' \
	    '{"token":"'"$(printf '%032d' 0)"'","spec":{"command":5}}' \
	    >"$T/bad.out" 2>&1
	check_same "a request that is not JSON is refused" "$(sed -n 1p "$T/bad.out")" \
	    '{"error":"relayed request: not JSON","status":65}'
	check_same "one without a token" "$(sed -n 2p "$T/bad.out")" \
	    '{"error":"relayed request: wants a token of 32 hex digits and a spec object","status":65}'
	spec_refused() { sed -n 3p "$T/bad.out" | grep -q '^{"error":"\$\.command: [^"]*","status":65}$'; }
	check "and a spec job-submit would refuse, as it would" spec_refused
	check_same "nothing of them stored" "$(run-query -c)" "$n"
else
	for i in 1 2 3 4; do skip "bad requests (needs /usr/bin/python3)"; done
fi

# A worker that is stopped is not waited for: the job is stored here, and
# the worker that goes on finds it stored.
kill -STOP "$w"
run job-submit -q -H -n stopped -- true
check_same "a stopped worker: the submitter stores the job itself" \
    "$rc $(jobs_named stopped)" "0 1"
kill -CONT "$w"
# Requests are taken in order: once a later one is stored, so is it.
until_true eval 'blind -q -H -n after-stopped -- true >/dev/null 2>&1'
check_same "the worker gone on finds it stored: one job" \
    "$(jobs_named stopped)" 1
stop_worker

# --start: the worker that stored the job, if it serves the job's queue,
# is the worker asked for; if it does not, one is started.
alive() { run-query runs --alive -c; }
start_worker
run blind -q -s -n start-served -- true
check_same "--start, a worker serving the queue stores the job" \
    "$rc $(jobs_named start-served)" "0 1"
check_same "and no other worker is started" "$(alive)" 1
check "it runs it" until_state "$(cat "$T/out")" succeeded
stop_worker
WARGS="-Q other" start_worker
run job-submit -q -s --idle-exit 1s -Q mine -n start-other -- true
check_same "--start, a worker serving other queues stores the job" \
    "$rc $(tokens start-other)" "0 1"
check "and one is started for its queue, which runs it" \
    until_state "$(cat "$T/out")" succeeded
one_alive() { [ "$(alive)" = 1 ]; }
check "and leaves when idle" until_true one_alive
stop_worker

# A worker that is stopping takes no more jobs: its submitters store them.
start_worker
long=$(blind -q -n long -- sleep 60)
check "a worker runs a long job" until_state "$long" running
kill -TERM "$w"
blind_fails() { ! blind -q -H -n during-stop -- true >/dev/null 2>&1; }
check "once it is stopping it takes no more jobs" until_true blind_fails
run job-submit -q -H -n after-stop -- true
check_same "they are stored here" "$rc $(tokens after-stop)" "0 0"
kill -TERM "$w"
wait "$w" 2>/dev/null
w=

# A worker that stores the job and dies before it answers.
start_worker LD_PRELOAD="$SHIM" RELAYSHIM_DIE="$T/die"
: >die
run job-submit -q -n died -- true
check_same "the submitter of a job whose worker died answering succeeds" "$rc" 0
{ wait "$w"; } 2>/dev/null
check_same "the worker was killed" "$?" 137
w=
check_same "the job is stored once" "$(jobs_named died)" 1
check_same "by the worker: with the submitter's token" "$(tokens died)" 1
check_same "with the ID printed" "$(run-query -q --name died)" "$(cat "$T/out")"
rm die

# A worker that takes the request after the submitter gave up waiting.
start_worker LD_PRELOAD="$SHIM" RELAYSHIM_HOLD="$T/hold"
: >hold
run job-submit -q -H -n late -- true
check_same "a submitter that waited in vain stores the job itself" \
    "$rc $(jobs_named late)" "0 1"
rm hold
until_true eval 'blind -q -H -n after-late -- true >/dev/null 2>&1'
check_same "the worker that takes it late finds it stored: one job" \
    "$(jobs_named late)" 1

# Another user's request is not served.
if [ "$(id -u)" = 0 ] && [ -x /usr/bin/python3 ] &&
    command -v setpriv >/dev/null; then
	name="jobkit-relay-1/$(stat -L -c %D "$db"):$(printf %x "$(stat -L -c %i "$db")")"
	got=$(setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(b"\0" + sys.argv[1].encode())
s.settimeout(10)
try:
    s.send(b"{\"token\":\"" + b"0" * 32 + b"\",\"spec\":{\"command\":[\"true\"],\"name\":\"intruder\"},\"brief\":true}")
    print(len(s.recv(65536)))
except (BrokenPipeError, ConnectionResetError):
    print(0)' "$name" 2>&1)
	check_same "a request from another user is dropped unanswered" "$got" 0
	check_same "and nothing of it stored" "$(jobs_named intruder)" 0
	stop_worker
	# Another user listening in a worker's place is told nothing: the
	# spec, which may hold secrets, stays with the submitter.
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(b"\0" + sys.argv[1].encode())
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        print("got", len(c.recv(65536)), flush=True)
    except OSError:
        print("got 0", flush=True)
    c.close()' "$name" >"$T/squat.out" 2>&1 &
	squatter=$!
	squat_ready() { grep -q '^ready$' "$T/squat.out"; }
	squat_got() { grep -q '^got' "$T/squat.out"; }
	until_true squat_ready
	run job-submit -q -H -n squatted -e SECRET=hunter2 -- true
	check_same "a submitter whose worker's name another user holds stores the job itself" \
	    "$rc $(jobs_named squatted) $(tokens squatted)" "0 1 0"
	until_true squat_got
	check_same "and sends that user nothing" "$(sed -n 's/^got //p' "$T/squat.out")" 0
	kill "$squatter"
	wait "$squatter" 2>/dev/null || true
else
	for i in 1 2 3 4; do
		skip "another user's requests and listener (needs root, python3 and setpriv)"
	done
	stop_worker
fi
