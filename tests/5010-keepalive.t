#!/bin/sh
# task-keepalive: a command wrapped as a task, kept alive past many leases
# and exiting like timeout(1); a job claimed and held by a script; a task or
# run kept by another process and ended with --end; a cancel; and every
# bad input refused with its status and its message, nothing written.
# (Crashes, takeovers and concurrent reapers: 5011.)
. "$(dirname "$0")/lib.sh"
plan 209

S=""
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	if [ -n "$S" ]; then
		for n in a b; do userdel "${u}$n" 2>/dev/null; done
		rm -rf "$S"
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# ms since the epoch of an ISO time run-query printed.
ms() { date -d "$1" +%s%3N; }
# A reaper kills what is left of a lost task by its JOBKIT_TASK_ID and its
# JOBKIT_DB (once by the ID alone, killing other tests' tasks beside it
# under prove -j2).  The jobs of each database here are still numbered
# from a random base, so that no test leans on that alone.
# Bad input $3 (a command line): exit status $1, stderr matching $2, and
# nothing written to the database.  Three tests.
refused() {
	_want=$1 _re=$2 _d=$3
	shift 3
	_before=$(db_sum)
	check_exit "$_want" "$_d: $_want" "$@"
	check_stderr "$_re" "$_d: says so"
	check_same "$_d: writes nothing" "$(db_sum)" "$_before"
}

fresh_ids $((32768 + $(random 16777216)))

# --- A wrapped command lives through several leases. ---
# A lease of 2 s renewed every 500 ms, a command of 6 s: three leases.
task-keepalive -v --lease 2s --interval 500ms -- \
    sh -c 'echo "$JOBKIT_TASK_ID" >"$0"; sleep 6; echo done' "$T/long.id" \
    >"$T/long.out" 2>"$T/long.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/long.id"
t=$(cat "$T/long.id")
j=${t%.*}
started=$(ms "$(task_field "$t" started)")
# The time that must pass: more than a lease and a half after the start.
until [ "$(date +%s%3N)" -gt $((started + 3500)) ]; do sleep 0.1; done
check_same "past its lease of 2 s, the task is still running" \
    "$(task_field "$t" state)" running
keepalive=$(ms "$(task_field "$t" keepalive)")
check "its keepalive was renewed past its start plus the lease" \
    test "$keepalive" -gt $((started + 2000))
check_exit 0 "a reaper meanwhile" task-keepalive --reap
check_same "finds nothing expired" "$(cat "$T/out")" ""
wait $k
check_same "the command ran to its end: task-keepalive exits 0" "$?" 0
check_same "the task succeeded, never lost, its last keepalive past start + lease" \
    "$(task_field "$t" state) $(task_field "$t" exit_code) $(test "$(ms "$(task_field "$t" keepalive)")" -gt $((started + 2000)) && echo later)" \
    "succeeded 0 later"
check_same "and its job, attempt 1 the only one" \
    "$(job_state "$j") $(run-query tasks -j "$j" -q)" "succeeded $t"
check "the lease was renewed every 500 ms (-v)" \
    test "$(grep -c "^task-keepalive: renewed 'r[0-9a-z]*' in [0-9.]* ms\$" "$T/long.err")" -ge 5
check_same "the command's output is passed through" "$(cat "$T/long.out")" done
check_same "and captured beside the database" "$(cat "$T/results/$t/stdout")" done

# --- It exits like timeout(1); each end is recorded. ---
check_exit 3 "a command exiting 3: task-keepalive exits 3" \
    task-keepalive -- sh -c 'echo "$JOBKIT_TASK_ID" >"$0"; exit 3' "$T/id3"
t=$(cat "$T/id3")
check_same "its task failed with exit code 3" \
    "$(task_field "$t" state) $(task_field "$t" exit_code)" "failed 3"
check_same "and its job failed" "$(job_state "${t%.*}")" failed
check_exit 143 "a command killed by SIGTERM: 143" \
    task-keepalive -- sh -c 'echo "$JOBKIT_TASK_ID" >"$0"; kill -TERM $$' "$T/id143"
t=$(cat "$T/id143")
check_same "its task ended by signal 15, no exit code" \
    "$(task_field "$t" state) $(task_field "$t" signal) $(task_field "$t" exit_code)" "failed 15 "
check_exit 124 "a command past its timeout (-t 1s): 124" \
    task-keepalive -t 1s -- sh -c 'echo "$JOBKIT_TASK_ID" >"$0"; exec sleep 30' "$T/id124"
t=$(cat "$T/id124")
check_same "its task timed out" "$(task_field "$t" state)" timed_out
check_exit 127 "a command not found: 127" task-keepalive -- "$T/no-such-command"
check_stderr "^task-keepalive: cannot run '$T/no-such-command': command not found\$" "saying so"
printf '#!/bin/sh\n' >"$T/not-executable"
check_exit 126 "a command not executable: 126" task-keepalive -- "$T/not-executable"
check_stderr "^task-keepalive: cannot run '$T/not-executable': Permission denied\$" "saying so"
: >"$T/a-file"
check_exit 125 "its own failure, a database it cannot make: 125" \
    task-keepalive -d "$T/a-file/db" -- touch "$T/ran125"
check_stderr "^task-keepalive: cannot create database '$T/a-file/db': Not a directory\$" "saying so"
check "and the command is not run" test ! -e "$T/ran125"

# --- --job ID -- cmd: an existing job, run here as its attempt. ---
j=$(job-submit -q -- touch "$T/spec-command")
check_exit 0 "a queued job claimed by --job and run" \
    task-keepalive --job "$j" -- sh -c 'echo "$JOBKIT_TASK_ID"'
check_same "as its attempt 1, the command given" "$(cat "$T/out")" "$j.1"
check "not its spec's" test ! -e "$T/spec-command"
check_same "the job succeeded" "$(job_state "$j")" succeeded

# --- -k KEY: one job per command line. ---
check_exit 0 "a keyed command" \
    task-keepalive -k nightly -- sh -c 'echo "$JOBKIT_TASK_ID"'
kj=$(sed 's/[.].*//' "$T/out")
check_exit 0 "the same key once it ended" \
    task-keepalive -k nightly -- sh -c 'echo "$JOBKIT_TASK_ID"'
check_same "runs its job again, as attempt 2" "$(cat "$T/out")" "$kj.2"
task-keepalive -k nightly -- sh -c 'echo "$JOBKIT_TASK_ID" >"$0"; exec sleep 300' "$T/keyed" \
    >/dev/null 2>&1 &
k=$!
pids="$pids $k"
until_true test -s "$T/keyed"
# (Its lease of 60 s is renewed every 20 s: the database holds still.)
refused 75 "^task-keepalive: job '$kj' of key 'nightly' is running: not starting it twice\$" \
    "the same key while it runs" task-keepalive -k nightly -- touch "$T/ran-twice"
refused 65 "^task-keepalive: cannot run job '$kj': it is running\$" \
    "--job of a running job" task-keepalive --job "$kj" -- touch "$T/ran-twice"
refused 65 "^task-keepalive: cannot run job '$kj': it is running\$" \
    "--job of a running job, claim only" task-keepalive --job "$kj"
check "and the commands are not run" test ! -e "$T/ran-twice"
kill -TERM $k
wait $k 2>/dev/null
check_same "SIGTERM stops the command; task-keepalive dies by it (143)" "$?" 143
kt=$(cat "$T/keyed")
check_same "its task recorded cancelled, by signal 15" \
    "$(task_field "$kt" state) $(task_field "$kt" signal)" "cancelled 15"

# --- --job ID alone: claimed for a script, held until told. ---
j=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive --job "$j" --lease 2s >"$T/claim.out" 2>"$T/claim.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/claim.out"
run cat "$T/claim.out"
check_out "^\\{\"id\":\"$j.1\",\"job\":\"$j\",\"attempt\":1,\"owner\":\"$(id -un)\",\"run\":\"r[0-9a-z]+\",\"lease_s\":2\\}\$" \
    "a claim prints its task, one NDJSON line"
check_same "one line only" "$(wc -l <"$T/claim.out" | tr -d ' ')" 1
check_same "the job is running" "$(job_state "$j")" running
check_exit 0 "another process ends the task (--task --end --now)" \
    task-keepalive --task "$j.1" --end succeeded --now
wait $k
check_same "the holder then exits 0" "$?" 0
run cat "$T/claim.err"
check_out "^task-keepalive: task '$j.1' was ended by another\$" "saying so"
check_same "the job succeeded" "$(job_state "$j")" succeeded

j=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive -q --job "$j" --lease 2s --end failed >"$T/claim.out" 2>"$T/claim.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/claim.out"
check_same "-q prints only the task ID" "$(cat "$T/claim.out")" "$j.1"
kill -TERM $k
wait $k
check_same "SIGTERM to a holder with --end failed: it exits 0" "$?" 0
check_same "having ended the task and job failed" \
    "$(task_field "$j.1" state) $(job_state "$j")" "failed failed"

j=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive --job "$j" --lease 2s >"$T/claim.out" 2>"$T/claim.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/claim.out"
kill -INT $k
wait $k
check_same "SIGINT to a holder without --end: it exits 0" "$?" 0
run cat "$T/claim.err"
check_out "^task-keepalive: '$j.1' is left to its lease: it ends lost unless renewed\$" "saying so"
check_same "the task is left running" "$(task_field "$j.1" state)" running
check_exit 64 "--task: --interval not shorter than the row's own lease" \
    task-keepalive --task "$j.1" --interval 2s
check_stderr "shorter than the lease \(2s\)" "naming the row's lease"
task-keepalive -v --task "$j.1" --interval 300ms 2>"$T/keep2.err" &
k=$!
pids="$pids $k"
until_true grep -q renewed "$T/keep2.err"
kill -TERM $k
wait $k
check_same "--task without --lease keeps the row's lease" \
    "$(task_field "$j.1" lease)" 2000
check_exit 0 "until ended as cancelled" task-keepalive --task "$j.1" --end cancelled --now
check_same "which it then is, and its job" \
    "$(task_field "$j.1" state) $(job_state "$j")" "cancelled cancelled"

j=$(job-submit -q -- true)
check_exit 0 "on a terminal, a claim ended at once (--end --now)" \
    on_tty "task-keepalive --job $j --end succeeded --now"
check_out "^TASK +JOB +TRY +RUN +LEASE" "prints a table"
check_out "^$j.1 +$j +1 +r[0-9a-z]+ +60" "of the task, its lease 60 s"
check_same "the job succeeded" "$(job_state "$j")" succeeded

# --- --task ID: another process keeps a task alive, then ends it. ---
j=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive -q --job "$j" --lease 1s >"$T/claim.out" 2>/dev/null &
k=$!
until_true test -s "$T/claim.out"
kill -INT $k
wait $k
task-keepalive -v --task "$j.1" --lease 3s --interval 500ms --end timed_out 2>"$T/keep.err" &
k=$!
pids="$pids $k"
until_true grep -q renewed "$T/keep.err"
# The time that must pass: the lease of 1 s the holder left it, and more.
sleep 2
check_exit 0 "a task kept by --task outlives the lease its holder left" \
    task-keepalive --reap
check_same "no reaper takes it" "$(cat "$T/out") $(task_field "$j.1" state)" " running"
kill -TERM $k
wait $k
check_same "SIGTERM: --task --end timed_out exits 0" "$?" 0
check_same "the task timed out, its job failed" \
    "$(task_field "$j.1" state) $(job_state "$j")" "timed_out failed"

# --- --run ID: a run's tasks kept, and ended together. ---
j=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive --job "$j" --lease 1s >"$T/claim.out" 2>/dev/null &
k=$!
until_true test -s "$T/claim.out"
r=$(sed 's/.*"run":"\([^"]*\)".*/\1/' "$T/claim.out")
# Its holder gone without ending the run, another process keeps it.
kill -9 $k
wait $k 2>/dev/null
task-keepalive -v --run "$r" --lease 3s --interval 500ms --end succeeded 2>"$T/keep.err" &
k=$!
pids="$pids $k"
until_true grep -q renewed "$T/keep.err"
sleep 2
check_exit 0 "a run kept by --run" task-keepalive --reap
check_same "is not reaped, nor its task" "$(cat "$T/out") $(task_field "$j.1" state)" " running"
kill -TERM $k
wait $k
check_same "SIGTERM: --run --end succeeded exits 0" "$?" 0
check_same "having ended its task succeeded, and its job" \
    "$(task_field "$j.1" state) $(job_state "$j")" "succeeded succeeded"
run run-query runs -f ndjson
check_out "^\\{\"id\":\"$r\",\"kind\":\"task-keepalive\",\"mode\":\"claim\",.*\"state\":\"ended\"" \
    "and the run ended"
j=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive --job "$j" --lease 2s >"$T/claim.out" 2>/dev/null &
k=$!
until_true test -s "$T/claim.out"
r2=$(sed 's/.*"run":"\([^"]*\)".*/\1/' "$T/claim.out")
check_exit 0 "--run --end failed --now ends a holder's run at once" \
    task-keepalive --run "$r2" --end failed --now
wait $k
check_same "the holder then exits 0" "$?" 0
check_same "its task and job failed" \
    "$(task_field "$j.1" state) $(job_state "$j")" "failed failed"

# --- A job cancelled while its command runs. ---
task-keepalive --lease 2s -- sh -c 'echo "$JOBKIT_TASK_ID $$" >"$0"; exec sleep 300' "$T/cancel" \
    >/dev/null 2>"$T/cancel.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/cancel"
read -r t cpid <"$T/cancel"
job-submit -q -c "${t%.*}" >/dev/null
wait $k
check_same "job-submit -c: task-keepalive stops the command and exits 122" "$?" 122
run cat "$T/cancel.err"
check_out "^task-keepalive: $t: its job was cancelled: the command was stopped\$" "saying so"
check "the command is gone" until_true gone "$cpid"
check_same "its task and job are cancelled" \
    "$(task_field "$t" state) $(job_state "${t%.*}")" "cancelled cancelled"
j=$(job-submit -q -- true)
rm -f "$T/claim.out"
task-keepalive -q --job "$j" --lease 2s >"$T/claim.out" 2>"$T/claim.err" &
k=$!
pids="$pids $k"
until_true test -s "$T/claim.out"
job-submit -q -c "$j" >/dev/null
wait $k
check_same "a holder whose job is cancelled exits 122" "$?" 122
run cat "$T/claim.err"
check_out "^task-keepalive: '$j.1': its job was asked to cancel\$" "saying so"
check_same "its task and job are cancelled" \
    "$(task_field "$j.1" state) $(job_state "$j")" "cancelled cancelled"

# --- Bad input: the status, the message, nothing written. ---
held=$(job-submit -q -H -- true)
waiting=$(job-submit -q -a "$held" -- true)
ended=$(job-submit -q -- true)
exec-run -q "$ended" >/dev/null
refused 64 "^task-keepalive: --interval: '0' must be more than zero\$" \
    "--interval 0" task-keepalive --interval 0 -- touch "$T/ran"
refused 64 "^task-keepalive: --interval: invalid duration '-1s'" \
    "--interval negative" task-keepalive --interval -1s -- touch "$T/ran"
refused 64 "^task-keepalive: --interval must be shorter than the lease \\(2s\\)\$" \
    "--interval as long as --lease" task-keepalive --lease 2s --interval 2s -- touch "$T/ran"
refused 64 "^task-keepalive: --interval must be shorter than the lease \\(60s\\)\$" \
    "--interval longer than the default lease" task-keepalive --interval 1m -- touch "$T/ran"
refused 64 "^task-keepalive: --lease: at least 1s\$" \
    "--lease under 1s" task-keepalive --lease 500ms -- touch "$T/ran"
refused 64 "^task-keepalive: --lease: '0' must be more than zero\$" \
    "--lease 0" task-keepalive --lease 0 -- touch "$T/ran"
refused 64 "^task-keepalive: --end: unknown state 'lost' \\(one of: succeeded, failed, timed_out, cancelled\\)\$" \
    "--end lost (a reaper's)" task-keepalive --task "$ended.1" --end lost --now
refused 64 "^task-keepalive: --now goes with --end STATE\$" \
    "--now without --end" task-keepalive --task "$ended.1" --now
refused 64 "^task-keepalive: --end goes with --job, --task or --run: a command's end is its own\$" \
    "--end with a command" task-keepalive --end failed -- touch "$T/ran"
refused 64 "^task-keepalive: give one of --job, --task, --run, --reap\$" \
    "--task with --reap" task-keepalive --task "$ended.1" --reap
refused 64 "^task-keepalive: give a command after '--', --job, --task, --run or --reap\$" \
    "no command, no mode" task-keepalive
refused 64 "^task-keepalive: no command after '--'\$" \
    "'--' alone" task-keepalive --
refused 64 "^task-keepalive: a command goes after '--'\$" \
    "a word before '--'" task-keepalive --reap touch
refused 64 "^task-keepalive: --task takes no command: it keeps a lease while something else runs\$" \
    "--task with a command" task-keepalive --task "$ended.1" -- touch "$T/ran"
refused 64 "^task-keepalive: spec options are for a command task-keepalive submits, not with --job, --task, --run or --reap\$" \
    "a spec option with --job" task-keepalive -n other --job "$held"
refused 64 "^task-keepalive: --hold: a command given here runs now \\(job-submit queues it for later\\)\$" \
    "--hold with a command" task-keepalive -H -- touch "$T/ran"
refused 64 "^task-keepalive: unrecognized option '--bogus'\$" \
    "an unknown option" task-keepalive --bogus -- touch "$T/ran"
refused 65 "^task-keepalive: cannot run job '$held': it is held\$" \
    "--job of a held job" task-keepalive --job "$held" -- touch "$T/ran"
refused 65 "^task-keepalive: cannot run job '$waiting': it is waiting\$" \
    "--job of a waiting job" task-keepalive --job "$waiting"
refused 65 "^task-keepalive: cannot run job '$ended': it is succeeded\$" \
    "--job of an ended job" task-keepalive --job "$ended" -- touch "$T/ran"
refused 65 "^task-keepalive: job '[0-9a-z]+' is waiting: a command given here runs now, once what it is --after has ended as asked\$" \
    "a command after an unfinished job" task-keepalive -a "$held" -- touch "$T/ran"
refused 65 "^task-keepalive: task '$ended.1' has ended: succeeded\$" \
    "--task of an ended task" task-keepalive --task "$ended.1"
refused 65 "^task-keepalive: task '$ended.1' has ended: succeeded\$" \
    "--end --now of an ended task" task-keepalive --task "$ended.1" --end failed --now
# A run that ended (not lost) is refused with 65 (it once gave 70 and an
# empty message).
refused 65 "^task-keepalive: run '$r' has ended\$" \
    "--run of an ended run" task-keepalive --run "$r"
refused 65 "^task-keepalive: run '$r' has ended\$" \
    "--end --now of an ended run" task-keepalive --run "$r" --end failed --now
refused 66 "^task-keepalive: no such job 'zzzz'\$" \
    "--job unknown" task-keepalive --job zzzz -- touch "$T/ran"
refused 66 "^task-keepalive: task 'zzzz.1': no such job 'zzzz'\$" \
    "--task of an unknown job" task-keepalive --task zzzz.1
refused 66 "^task-keepalive: no such task '$ended.7'\$" \
    "--task of an unknown attempt" task-keepalive --task "$ended.7" --end failed --now
refused 66 "^task-keepalive: no such task 'nodot' \\(task IDs are JOB.ATTEMPT\\)\$" \
    "--task not a task ID" task-keepalive --task nodot
refused 66 "^task-keepalive: no such run 'rzzzz'\$" \
    "--run unknown" task-keepalive --run rzzzz
check "none of the commands ran" test ! -e "$T/ran"
# Without a database, only a submission or claim makes one.
JOBKIT_DB=$T/absent/jobkit.db
refused 66 "^task-keepalive: no database '$T/absent/jobkit.db' \\(nothing was submitted there\\)\$" \
    "--reap without a database" task-keepalive --reap
refused 66 "^task-keepalive: no database '$T/absent/jobkit.db' \\(nothing was submitted there\\)\$" \
    "--task without a database" task-keepalive --task zzzz.1 --end failed --now
# Nothing can be claimed in a database that does not exist: 66, as
# exec-run ID says it, and no file left behind.
refused 66 "^task-keepalive: (no database '$T/absent/jobkit.db' \\(nothing was submitted there\\)|no such job 'zzzz')\$" \
    "--job without a database" task-keepalive --job zzzz
check "leaves no database behind" test ! -e "$T/absent"
JOBKIT_DB=$T/jobkit.db

# --- Another user's job, task or run: 77. ---
u=jk$$
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null ||
    ! command -v setpriv >/dev/null ||
    ! S=$(mktemp -d /tmp/jobkit-users.XXXXXX); then
	S=""
	for i in $(seq 21); do skip "needs root, useradd and setpriv"; done
else
	chmod 0755 "$S"
	for n in a b; do
		useradd -M -d "$S/home-$n" -s /bin/sh "${u}$n" || exit 1
		mkdir "$S/home-$n" && chown "${u}$n:" "$S/home-$n"
	done
	alice=${u}a bob=${u}b
	mkdir -m 1777 "$S/db"
	JOBKIT_DB=$S/db/jobkit.db
	as() {
		_who=$1
		shift
		setpriv --reuid="$_who" --regid="$_who" --init-groups \
		    env HOME="$S/home-${_who#$u}" USER="$_who" LOGNAME="$_who" \
		    PATH="$PATH" JOBKIT_DB="$JOBKIT_DB" "$@"
	}
	fresh_ids $((32768 + $(random 16777216)))
	job-submit -q -H -- true >/dev/null
	chmod 0666 "$JOBKIT_DB" "$JOBKIT_DB"-wal "$JOBKIT_DB"-shm
	a=$(as "$alice" job-submit -q -- true)
	refused 77 "^task-keepalive: job '$a' belongs to '$alice'\$" \
	    "bob's --job of alice's job" as "$bob" task-keepalive --job "$a"
	refused 77 "^task-keepalive: job '$a' belongs to '$alice'\$" \
	    "bob's --job of alice's job with a command" \
	    as "$bob" task-keepalive --job "$a" -- touch "$S/db/ran"
	# (Not through as(): $! is then task-keepalive's own PID.)
	setpriv --reuid="$alice" --regid="$alice" --init-groups \
	    env HOME="$S/home-a" USER="$alice" LOGNAME="$alice" PATH="$PATH" \
	    JOBKIT_DB="$JOBKIT_DB" task-keepalive --job "$a" >"$S/claim.out" 2>/dev/null &
	k=$!
	pids="$pids $k"
	until_true test -s "$S/claim.out"
	ar=$(sed 's/.*"run":"\([^"]*\)".*/\1/' "$S/claim.out")
	# (Its lease of 60 s is renewed every 20 s: the database holds still.)
	refused 77 "^task-keepalive: task '$a.1' is another user's\$" \
	    "bob's --task of alice's task" as "$bob" task-keepalive --task "$a.1"
	refused 77 "^task-keepalive: task '$a.1' is another user's\$" \
	    "bob's --end --now of alice's task" \
	    as "$bob" task-keepalive --task "$a.1" --end failed --now
	refused 77 "^task-keepalive: run '$ar' is another user's\$" \
	    "bob's --run of alice's run" as "$bob" task-keepalive --run "$ar"
	refused 77 "^task-keepalive: run '$ar' is another user's\$" \
	    "bob's --end --now of alice's run" \
	    as "$bob" task-keepalive --run "$ar" --end failed --now
	check "none of bob's commands ran" test ! -e "$S/db/ran"
	check_exit 0 "alice may end her own task" \
	    as "$alice" task-keepalive --task "$a.1" --end succeeded --now
	check_same "her job succeeded" "$(job_state "$a")" succeeded
	kill -TERM $k
	wait $k
	JOBKIT_DB=$T/jobkit.db
fi
done_testing
before=$(db_sum)
check_exit 65 "a command that is not UTF-8" task-keepalive -- echo "$(printf '\377')"
check_stderr "^task-keepalive: the command is not UTF-8$" "says so"
check_same "and writes nothing" "$(db_sum)" "$before"
