#!/bin/sh
# task-keepalive when things go wrong: killed with SIGKILL (the command's
# leader goes with it, the rest is killed by the next reaper on this host,
# the job runs again); stalled past its lease and taken over by a reaper
# (122, the command stopped, its end not recorded); a database locked for
# a whole lease; four reapers at once; and 50 workers and task-keepalives
# killed at random moments, after which every job has exactly one end.
. "$(dirname "$0")/lib.sh"
plan 64

pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

alive() { ! gone "$1"; }
# A reaper kills what is left of a lost task by its JOBKIT_TASK_ID and its
# JOBKIT_DB (once by the ID alone, killing other tests' tasks beside it
# under prove -j2).  The jobs of each database here are still numbered
# from a random base, so that no test leans on that alone.

fresh_ids $((32768 + $(random 16777216)))

# --- SIGKILL: the leader dies with it, a reaper kills the rest. ---
# Attempt 1 leaves a grandchild, orphaned once its parent is gone; the
# attempt run again after the lease just succeeds.
task-keepalive --lease 1s -- sh -c '[ "$JOBKIT_ATTEMPT" = 1 ] || exit 0
	sleep 300 & echo "$JOBKIT_TASK_ID $$ $!" >"$0"; wait' "$T/kill9" \
    >/dev/null 2>&1 &
k=$!
pids="$pids $k"
until_true test -s "$T/kill9"
read -r t leader orphan <"$T/kill9"
pids="$pids $orphan"
j=${t%.*}
kill -9 $k
wait $k 2>/dev/null
check_same "task-keepalive killed by SIGKILL" "$?" 137
check "the command's leader dies with it (PR_SET_PDEATHSIG)" until_true gone "$leader"
check "its child lives on, orphaned" alive "$orphan"
check_same "and the task is left running until its lease ends" \
    "$(task_field "$t" state) $(job_state "$j")" "running running"
# The time that must pass: the lease of 1 s, and more.
sleep 1.5
check_exit 0 "after the lease, --reap" task-keepalive --reap
check_out "^\\{\"id\":\"$t\",\"kind\":\"task\",\"job\":\"$j\",\"state\":\"lost\",\"job_state\":\"queued\",\"host\":\"[^\"]+\",\"pid\":$leader,\"error\":\"lease expired: no keepalive for [0-9]+s\",\"killed\":1\\}\$" \
    "marks the task lost, its job queued, and kills the one process left of it"
check_out "^\\{\"id\":\"r[0-9a-z]+\",\"kind\":\"run\",\"state\":\"lost\"," "and its run lost"
check "the orphan is gone" until_true gone "$orphan"
check_same "the task is lost, its job queued again" \
    "$(task_field "$t" state) $(job_state "$j")" "lost queued"
check_exit 0 "a reaper again" task-keepalive --reap
check_same "finds nothing more" "$(cat "$T/out")" ""
check_exit 0 "a worker then" timeout 60 exec-run --worker --drain --lease 1s -q
check_same "runs it as attempt 2" "$(cat "$T/out")" "$j.2"
check_same "which succeeds: one succeeded attempt after the lost one" \
    "$(job_state "$j") $(run-query tasks -j "$j" -s succeeded -q) $(run-query tasks -j "$j" -s lost -q)" \
    "succeeded $j.2 $j.1"

# --- A stall past the lease: a reaper takes over. ---
task-keepalive --lease 1s -- sh -c 'echo "$JOBKIT_TASK_ID $$" >"$0"; exec sleep 300' "$T/stall1" \
    >/dev/null 2>"$T/stall1.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/stall1"
read -r t cmd <"$T/stall1"
pids="$pids $cmd"
kill -STOP $k
sleep 1.5
check_exit 0 "task-keepalive stopped past its lease: --reap" task-keepalive --reap
check_out "^\\{\"id\":\"$t\",\"kind\":\"task\",.*\"state\":\"lost\",\"job_state\":\"queued\",.*\"killed\":1\\}\$" \
    "takes its task, killing its command"
kill -CONT $k
wait $k
check_same "continued, task-keepalive exits 122" "$?" 122
run cat "$T/stall1.err"
check_out "^task-keepalive: lease lost: run 'r[0-9a-z]+' was found lost by a reaper\$" "saying the lease was lost"
check_out "^task-keepalive: $t: stopped, its lease lost: its end is not recorded \\(it may run again as another attempt\\)\$" \
    "and that its end is not recorded"
check "the command is no longer running" until_true gone "$cmd"
check_same "the task stays lost, its job queued" \
    "$(task_field "$t" state) $(job_state "${t%.*}")" "lost queued"
job-submit -q -c "${t%.*}" >/dev/null

# A command the reaper cannot find, that ignores SIGTERM: task-keepalive
# itself stops it, SIGKILL after the grace, once it finds its lease lost.
task-keepalive --lease 1s --grace 1s -- sh -c 'trap "" TERM
	echo "$JOBKIT_TASK_ID $$" >"$0"; exec env -u JOBKIT_TASK_ID sleep 300' "$T/stall2" \
    >/dev/null 2>"$T/stall2.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/stall2"
read -r t cmd <"$T/stall2"
pids="$pids $cmd"
kill -STOP $k
sleep 1.5
check_exit 0 "another stopped past its lease: --reap" task-keepalive --reap
check_out "^\\{\"id\":\"$t\",\"kind\":\"task\",.*\"state\":\"lost\",.*\"killed\":0\\}\$" \
    "takes its task, finding none of its processes"
check "its command still runs" alive "$cmd"
kill -CONT $k
wait $k
check_same "continued, task-keepalive exits 122" "$?" 122
check "having stopped its command (SIGKILL after the grace)" gone "$cmd"
run cat "$T/stall2.err"
check_out "^task-keepalive: $t: stopped, its lease lost: its end is not recorded" "its end not recorded"
run run-query tasks -j "${t%.*}" -f ndjson
check_out "\"state\":\"lost\",.*\"error\":\"lease expired: no keepalive for [0-9]+s\"" \
    "the task stays as the reaper left it"
check_same "and its job queued" "$(job_state "${t%.*}")" queued
job-submit -q -c "${t%.*}" >/dev/null

# A holder of a claim (--job alone) stopped past its lease.
j=$(job-submit -q -- true)
task-keepalive --job "$j" --lease 1s >"$T/claim.out" 2>"$T/claim.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/claim.out"
r=$(sed 's/.*"run":"\([^"]*\)".*/\1/' "$T/claim.out")
kill -STOP $k
sleep 1.5
check_exit 0 "a claim's holder stopped past its lease: --reap -q" task-keepalive --reap -q
check_same "prints the IDs of its task and run" \
    "$(tr '\n' ' ' <"$T/out")" "$j.1 $r "
kill -CONT $k
wait $k
check_same "continued, the holder exits 122" "$?" 122
run cat "$T/claim.err"
check_out "^task-keepalive: lease lost: run '$r' was found lost by a reaper\$" "saying so"
check_same "the job is queued again" "$(job_state "$j")" queued
job-submit -q -c "$j" >/dev/null

# Stalled past its lease with no reaper about: back, it keeps its lease.
task-keepalive --lease 1s -- sh -c 'echo "$JOBKIT_TASK_ID" >"$0"; sleep 3' "$T/stall3" \
    >/dev/null 2>"$T/stall3.err" &
k=$!
until_true test -s "$T/stall3"
t=$(cat "$T/stall3")
kill -STOP $k
sleep 1.5
kill -CONT $k
wait $k
check_same "stalled past its lease, nobody reaping: the command ends, exit 0" "$?" 0
check_same "its task succeeded, never lost" \
    "$(task_field "$t" state) $(run-query tasks -j "${t%.*}" -c)" "succeeded 1"

# --- Renewals refused for a whole lease: the lease is lost. ---
# A renewal the locked database refuses past the lease loses it, as
# lease.h says ("no renewal succeeded for a whole lease"); it once waited
# the store's default 60 s and revived the lease:
# lost after about 1 s, the command stopped, 122.  (The command is 8 s
# long, so that the test ends either way.)
task-keepalive --lease 1s -- sh -c 'echo "$JOBKIT_TASK_ID $$" >"$0"; exec sleep 8' "$T/busy" \
    >/dev/null 2>"$T/busy.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/busy"
read -r t cmd <"$T/busy"
pids="$pids $cmd"
# The database's write lock, held for 2.5 s.
sqlite3 "$JOBKIT_DB" 'BEGIN IMMEDIATE;' '.shell sleep 2.5' 'COMMIT;' >/dev/null
wait $k
check_same "no renewal for a whole lease (database locked): 122" "$?" 122
run cat "$T/busy.err"
check_out "^task-keepalive: lease lost: no renewal succeeded for [0-9]+s: " "saying why"
check "the command is stopped" until_true gone "$cmd"
sleep 1.2
check_exit 0 "a reaper after the lock" task-keepalive --reap -q
check_same "finds its task lost: its end was not recorded" "$(task_field "$t" state)" lost

# --- A reaper kills only what is its own database's. ---
# Two databases whose tasks have the same ID, one running in A, one lost
# in B: B's reaper leaves A's command alone ("killed":0).
base=$((32768 + $(random 16777216)))
JOBKIT_DB=$T/a.db
fresh_ids $base
task-keepalive -- sh -c 'echo "$JOBKIT_TASK_ID $$" >"$0"; exec sleep 300' "$T/db-a" \
    >/dev/null 2>&1 &
ka=$!
pids="$pids $ka"
until_true test -s "$T/db-a"
read -r ta cmda <"$T/db-a"
pids="$pids $cmda"
JOBKIT_DB=$T/b.db
fresh_ids $base
jb=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive -q --job "$jb" --lease 1s >"$T/claim.out" 2>/dev/null &
k=$!
until_true test -s "$T/claim.out"
kill -9 $k
wait $k 2>/dev/null
check_same "(the same task ID in both)" "$jb.1" "$ta"
sleep 1.5
check_exit 0 "database B's reaper, B's task $jb.1 lost, A's $ta running" task-keepalive --reap
check_out "^\\{\"id\":\"$jb.1\",\"kind\":\"task\",.*\"killed\":0\\}\$" \
    "kills nothing: no process of B's task is left"
check "A's command still runs" alive "$cmda"
JOBKIT_DB=$T/a.db
kill -TERM $ka
wait $ka 2>/dev/null
check_same "A's task-keepalive, stopped by SIGTERM, dies by it" "$?" 143
check_same "A's task is cancelled, as its signal said" "$(task_field "$ta" state)" cancelled
JOBKIT_DB=$T/jobkit.db

# --- Four reapers at once over expired leases. ---
# Six holders of claims and two wrapped commands that leave an orphan
# each, all killed with SIGKILL.
: >"$T/holders"
for i in 1 2 3 4 5 6; do
	j=$(job-submit -q -- true)
	task-keepalive -q --job "$j" --lease 1s >"$T/held.$i" 2>/dev/null &
	echo $! >>"$T/holders"
done
for i in 7 8; do
	task-keepalive --lease 1s -- sh -c 'sleep 300 & echo "$JOBKIT_TASK_ID" >"$0"
		echo $! >"$0.orphan"; wait' "$T/held.$i" >/dev/null 2>&1 &
	echo $! >>"$T/holders"
done
pids="$pids $(cat "$T/holders")"
for i in 1 2 3 4 5 6 7 8; do until_true test -s "$T/held.$i"; done
for i in 7 8; do until_true test -s "$T/held.$i.orphan"; done
pids="$pids $(cat "$T"/held.*.orphan)"
for p in $(cat "$T/holders"); do kill -9 "$p"; done
for p in $(cat "$T/holders"); do wait "$p" 2>/dev/null; done
sort "$T"/held.[1-8] >"$T/lost.want"
sleep 1.5
for r in 1 2 3 4; do
	(
		until [ -e "$T/go" ]; do sleep 0.01; done
		task-keepalive --reap >"$T/reap.$r" 2>"$T/reap.err.$r"
		echo $? >"$T/reap.rc.$r"
	) &
done
touch "$T/go"
wait
check_same "four reapers at once all exit 0" "$(cat "$T"/reap.rc.* | tr -d '\n')" "0000"
check_same "with nothing on stderr" "$(cat "$T"/reap.err.*)" ""
sed -n 's/^{"id":"\([^"]*\)","kind":"task".*/\1/p' "$T"/reap.[1-4] | sort >"$T/lost.got"
check_same "between them, each lost task exactly once" \
    "$(tr '\n' ' ' <"$T/lost.got")" "$(tr '\n' ' ' <"$T/lost.want")"
check_same "each run of them exactly once" \
    "$(grep -h '"kind":"run"' "$T"/reap.[1-4] | sed 's/^{"id":"\([^"]*\)".*/\1/' | sort | uniq -d | wc -l | tr -d ' ') $(grep -ch '"kind":"run"' "$T"/reap.[1-4] | awk '{ n += $1 } END { print n }')" \
    "0 8"
check_same "the two orphans killed once, by whichever reaper took each" \
    "$(sed -n 's/.*"killed":\([0-9]*\)}$/\1/p' "$T"/reap.[1-4] | awk '{ n += $1 } END { print n }')" 2
check "and gone" until_true sh -c 'for p in $(cat "$0"/held.*.orphan); do
	[ ! -e "/proc/$p" ] || [ "$(sed "s/.*) \(.\).*/\1/" "/proc/$p/stat")" = Z ] || exit 1
done' "$T"
check_same "every job of them queued again" \
    "$(for t in $(cat "$T/lost.want"); do job_state "${t%.*}"; done | sort -u)" queued
for t in $(cat "$T/lost.want"); do echo "${t%.*}"; done | job-submit -q -c - >/dev/null

# --- 50 workers and task-keepalives killed at random moments. ---
# Each trial submits a job and runs it with a worker (exec-run --worker),
# task-keepalive --job ID, or task-keepalive submitting it, then kills that
# with SIGKILL after a random 0-450 ms: before its claim, while its command
# runs, or after its end.  Then the leases run out, a reaper and a
# draining worker recover: every job must end once, none lost.
JOBKIT_DB=$T/trials.db
fresh_ids $((32768 + $(random 16777216)))
cmd='echo "$JOBKIT_TASK_ID" >>"$0"; sleep 0.2'
killed=0 ended=0 i=0
: >"$T/trial.jobs"
: >"$T/trial.states"
while [ $i -lt 50 ]; do
	case $((i % 3)) in
	0)
		j=$(job-submit -q -n "trial-$i" -- sh -c "$cmd" "$T/ran")
		exec-run --worker --drain --lease 1s -j 2 -q >/dev/null 2>&1 &
		;;
	1)
		j=$(job-submit -q -n "trial-$i" -- sh -c "$cmd" "$T/ran")
		task-keepalive --job "$j" --lease 1s -- sh -c "$cmd" "$T/ran" >/dev/null 2>&1 &
		;;
	2)
		j=""
		task-keepalive -n "trial-$i" --lease 1s -- sh -c "$cmd" "$T/ran" >/dev/null 2>&1 &
		;;
	esac
	p=$!
	ms=$(random 450)
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	if gone $p; then ended=$((ended + 1)); else killed=$((killed + 1)); fi
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	# Its job, if task-keepalive lived to submit it, and how it was left.
	[ -n "$j" ] || j=$(run-query jobs -q -n "trial-$i")
	if [ -n "$j" ]; then
		echo "$j" >>"$T/trial.jobs"
		job_state "$j" >>"$T/trial.states"
	else
		echo unsubmitted >>"$T/trial.states"
	fi
	i=$((i + 1))
done
unsubmitted=$(grep -c unsubmitted "$T/trial.states")
# How many of each state in $1 (NDJSON rows, or states one a line).
states() {
	sed 's/.*"state":"\([a-z_]*\)".*/\1/' "$1" | sort | uniq -c |
	    awk '{ printf "%s%s %s", s, $1, $2; s = ", " }'
}
# The time that must pass: the lease of 1 s since the last kill, and more.
sleep 1.5
check_exit 0 "after the trials, a reaper" task-keepalive --reap -q
reaped=$(wc -l <"$T/out" | tr -d ' ')
check_exit 0 "and a draining worker" timeout 60 exec-run --worker --drain --lease 1s -j 2 -q
run-query jobs -f ndjson >"$T/jobs.end"
run-query tasks -f ndjson >"$T/tasks.end"
echo "# tally: 50 trials, $killed killed while running, $ended had ended by then; their jobs left: $(states "$T/trial.states")"
echo "# tally: $(wc -l <"$T/trial.jobs" | tr -d ' ') jobs: $(states "$T/jobs.end"); tasks: $(states "$T/tasks.end"); $reaped reaped; commands run: $(wc -l <"$T/ran" | tr -d ' ')"
check_same "every trial's job is in the database" \
    "$(sort -u "$T/trial.jobs" | wc -l | tr -d ' ') $(wc -l <"$T/jobs.end" | tr -d ' ')" \
    "$((50 - unsubmitted)) $((50 - unsubmitted))"
check_same "every job ended: none queued, running or silently lost" \
    "$(grep -cv '"state":"\(succeeded\|failed\)"' "$T/jobs.end")" 0
check_same "no task left running" "$(grep -c '"state":"running"' "$T/tasks.end")" 0
sed -n 's/.*"job":"\([^"]*\)".*"state":"succeeded".*/\1/p' "$T/tasks.end" | sort >"$T/succeeded.jobs"
check_same "no job has two succeeded attempts" "$(uniq -d "$T/succeeded.jobs")" ""
check_same "the succeeded jobs are those with a succeeded attempt" \
    "$(sed -n 's/^{"id":"\([^"]*\)".*"state":"succeeded".*/\1/p' "$T/jobs.end" | sort | tr '\n' ' ')" \
    "$(tr '\n' ' ' <"$T/succeeded.jobs")"
check_same "a failed job failed only by its attempts lost" \
    "$(grep '"state":"failed"' "$T/jobs.end" | grep -cv '"reason":"attempt [0-9]* lost')" 0
check_same "no attempt's command ran twice" "$(sort "$T/ran" | uniq -d)" ""
sort "$T/ran" >"$T/ran.sorted"
check_same "every succeeded attempt's command ran" \
    "$(sed -n 's/^{"id":"\([^"]*\)".*"state":"succeeded".*/\1/p' "$T/tasks.end" | sort | comm -23 - "$T/ran.sorted")" ""
done_testing
