#!/bin/sh
# Timeouts, cancel and crashes: process groups, grace periods, leases.
. "$(dirname "$0")/lib.sh"
plan 37

# A job that ignores SIGTERM is killed after its grace period.
start=$(date +%s)
check_exit 124 "a timeout on a job that ignores SIGTERM" \
    exec-run -t 1s --grace 1s -- sh -c 'trap "" TERM; sleep 30'
check "ends after timeout and grace" test $(( $(date +%s) - start )) -le 5

# Children are gone afterwards, also ones in the background.
check_exit 0 "a job that leaves children behind" \
    exec-run -- sh -c "sleep 321 & sleep 322 & echo spawned"
sleep 0.2
check_same "none of them remains" \
    "$(pgrep -f 'sleep 32[12]' | wc -l | tr -d ' ')" "0"

# Cancel of a queued job, then of a running one, through a worker.
q=$(job-submit -q -- true)
job-submit --cancel "$q" >/dev/null
run job-describe "$q" --format ndjson
check_out '"state":"cancelled"' "a queued job is cancelled at once"
r=$(job-submit -q -- sh -c 'trap "" TERM; sleep 30.7')
exec-run --worker --drain -q >"$T/w.out" 2>&1 &
w=$!
until_state "$r" running
job-submit --cancel "$r" >/dev/null
JOBKIT_GRACE=1 wait $w
run job-describe "$r" --format ndjson
check_out '"state":"cancelled"' "a running job is cancelled by its worker"
check_out '"state":"cancelled","run"' "its task too"
check_same "and its process is gone" "$(pgrep -f 'slee[p] 30.7$' | wc -l | tr -d ' ')" "0"

# A worker killed with SIGKILL: its task is found lost after the lease,
# and another worker completes the job with exactly one succeeded task,
# without the job having asked for retries: a lost attempt is not its own.
c=$(job-submit -q -- sh -c 'sleep 2.13; echo finished')
exec-run --worker --lease 2s >/dev/null 2>&1 &
w=$!
until_state "$c" running
kill -9 $w
wait $w 2>/dev/null
pkill -9 -f 'slee[p] 2.13$' 2>/dev/null
sleep 2.5
check_exit 0 "a second worker after the lease" exec-run --worker --drain --lease 2s -q
run job-describe "$c" --format ndjson
check_out '"state":"succeeded"' "the job succeeded"
run run-query tasks -j "$c" --state succeeded -q
check_same "with exactly one succeeded task" "$(cat "$T/out")" "$c.2"
run run-query tasks -j "$c" --state lost -q
check_same "after the lost one" "$(cat "$T/out")" "$c.1"
run job-describe "$c" --format ndjson
check_out '"type":"lost","state":"queued","task":"'"$c"'.1","message":"attempt 1 lost \(lease expired[^)]*\); queued again without using a retry \(lost 1 of 3\)"' \
    "the lost attempt is an event that says it used no retry"

# The task's own process dies with a worker killed by SIGKILL, so that
# its re-run never overlaps it.
z=$(job-submit -q -- sleep 58.5)
exec-run --worker >/dev/null 2>&1 &
w=$!
until_state "$z" running
kill -9 $w
wait $w 2>/dev/null
i=0
while pgrep -f 'slee[p] 58.5' >/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
check "a worker's task leader goes with it (PR_SET_PDEATHSIG)" sh -c '! pgrep -f "slee[p] 58.5"'
job-submit -q --cancel "$z" >/dev/null

# Two workers on one database never run the same attempt twice.
for i in $(seq 20); do job-submit -q -- sh -c 'echo $JOBKIT_TASK_ID >> "$0"' "$T/ran"; done >/dev/null
exec-run --worker --drain -q >/dev/null & w1=$!
exec-run --worker --drain -q >/dev/null & w2=$!
wait $w1 $w2
check_same "20 jobs, 20 runs" "$(wc -l <"$T/ran" | tr -d ' ')" "20"
check_same "no attempt twice" "$(sort -u "$T/ran" | wc -l | tr -d ' ')" "20"

# A worker killed with SIGKILL again and again while it writes tasks' ends
# with the claims that follow them (group commit): every job ends in one
# state, with exactly one succeeded attempt, the others lost, and no
# attempt ran twice.
db=$JOBKIT_DB
export JOBKIT_DB=$T/gc.db
for i in $(seq 60); do job-submit -q -- sh -c 'echo $JOBKIT_TASK_ID >>"$0"' "$T/gc"; done >/dev/null
lines() { [ "$(cat "$T/gc" 2>/dev/null | wc -l)" -ge "$1" ]; }
for k in 1 2 3; do
	exec-run --worker -j 2 --lease 1s -q >/dev/null 2>&1 & w=$!
	until_true lines $((k * 12))
	kill -9 $w
	wait $w 2>/dev/null
done
# Those it held are found lost once their lease ran out, and run again.
left() { [ "$(run-query jobs -s queued,running -c)" = 0 ] ||
	{ exec-run --worker --drain --lease 1s -q >/dev/null 2>&1; false; }; }
until_true left
check_same "a worker killed three times: every job succeeded" \
    "$(run-query jobs -a -s succeeded -c) $(run-query jobs -a -c)" "60 60"
check_same "each with one succeeded attempt" "$(run-query tasks -a -s succeeded -c)" "60"
check_same "the others lost" \
    "$(run-query tasks -a -c)" "$((60 + $(run-query tasks -a -s lost -c)))"
check_same "no attempt ran twice" "$(sort "$T/gc" | uniq -d)" ""
check_same "and every job ran" "$(sed 's/[.].*//' "$T/gc" | sort -u | wc -l | tr -d ' ')" "60"
JOBKIT_DB=$db

# Once the job of the foreground exec-run $1 runs and wrote to $2, kill
# exec-run with SIGKILL and wait until its lease of 1 s has run out.
kill_when_running() {
	d=""
	until [ -n "$d" ] && [ "$(job_state "$d")" = running ] && [ -s "$2" ]; do
		d=$(run-query jobs -q -r -L 1); sleep 0.05
	done
	kill -9 "$1"
	wait "$1" 2>/dev/null
	sleep 1.5
}

# A foreground job is its terminal's: if exec-run is killed (the OOM
# killer, kill -9), its job fails as lost instead of running again behind
# the user's back -- unless it asked for retries.
exec-run --lease 1s -- sh -c 'echo x >>"$0"; sleep 59.1' "$T/deploy" 2>/dev/null &
kill_when_running $! "$T/deploy"
check_exit 0 "a worker after a foreground exec-run was killed" exec-run --worker --drain -q
check_same "does not run its job" "$(wc -l <"$T/deploy" | tr -d ' ')" "1"
run job-describe -f ndjson "$d"
check_out '"reason":"attempt 1 lost: exec-run died \(pid [0-9]+ on [^,]*, no keepalive for [0-9]+s\); not run again: it ran in the foreground and asked for no retries"' \
    "the job failed: lost, exec-run died"
check_out '"state":"failed","owner"' "and is failed"
exec-run --lease 1s -r 1 -- sh -c 'echo x >>"$0"; [ $(wc -l <"$0") -gt 1 ] || sleep 59.2' "$T/again" 2>/dev/null &
kill_when_running $! "$T/again"
check_exit 0 "one that asked for retries" exec-run --worker --drain -q
check_same "is run again" "$(wc -l <"$T/again" | tr -d ' ')" "2"

# Ctrl-C: exec-run cancels its job, records it, then dies by SIGINT, as
# shells expect of a program the signal stopped, so that a script of
# exec-run steps stops there instead of going on to the next step.
cat >"$T/steps" <<'SH'
exec-run -- sleep 59.3
echo "next step ran"
SH
# (A job started with & ignores SIGINT: the script's shell must not.)
setsid perl -e '$SIG{INT} = "DEFAULT"; exec "bash", @ARGV' "$T/steps" >"$T/steps.out" 2>&1 &
i=0
until pgrep -f 'slee[p] 59.3' >/dev/null || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.05; done
kill -INT "-$!"
wait $! 2>/dev/null
check_same "Ctrl-C on a script of exec-run steps ends the script (130)" "$?" "130"
check "no next step" sh -c '! grep -q "next step ran" "$0"' "$T/steps.out"
check "exec-run died by the signal" perl -e '
	my $p = fork; if ($p == 0) { exec @ARGV; die }
	select(undef, undef, undef, 1); kill "INT", $p; waitpid $p, 0;
	exit(($? & 127) == 2 ? 0 : 1)' exec-run -- sleep 59.4
check_same "and its job is cancelled" "$(job_state "$(run-query jobs -q -r -L 1)")" "cancelled"

# SIGINT while a foreground job waits for its retry cancels the job.
exec-run -r 3 -- false 2>"$T/bo.err" & f=$!
sleep 0.5
kill -INT $f
wait $f
check_same "exec-run waiting out a backoff exits 130 on SIGINT" "$?" "130"
b=$(run-query jobs -q -r -L 1)
check_same "and the job is cancelled, not left queued" "$(job_state "$b")" "cancelled"
check "saying so" grep -q "job '$b' cancelled" "$T/bo.err"
# The stray hunt kills what a task left, never another child of the
# process that links exec.c (in its session or out of it), nor reaps one:
# tests/unit/strays.c runs a task as exec-run does, with children of its
# own.
check "a task's strays go, the runner's own children stay" \
    "$JOBKIT_UNITS/strays" "$T/strays"
check_same "unreaped by another" "$(cat "$T/err")" ""
check "and nothing of the task is left" \
    sh -c '! pgrep -f "slee[p] 3[789].5" >/dev/null'
done_testing
