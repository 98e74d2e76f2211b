#!/bin/sh
# Jobs run as their owner.  A root worker runs each job as the user who
# submitted it -- uid, gid, supplementary groups, HOME, USER, LOGNAME --
# the user owning its results and work folders; a worker that is not root
# runs only its own user's jobs and says why it leaves the others; a job
# whose owner is gone fails, saying so.  Two real users, made here.
. "$(dirname "$0")/lib.sh"
plan 53

# The users and a folder they all reach: TMPDIR may be private (0700).
u=jk$$
S=""
cleanup() {
	[ -n "${w:-}" ] && kill "$w" 2>/dev/null
	for n in a b c d; do userdel "${u}$n" 2>/dev/null; done
	groupdel "${u}g" 2>/dev/null
	[ -n "$S" ] && rm -rf "$S"
	rm -rf "$T"
}
trap cleanup EXIT
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null ||
    ! command -v setpriv >/dev/null ||
    ! S=$(mktemp -d /tmp/jobkit-users.XXXXXX); then
	for i in $(seq 53); do skip "needs root, useradd and setpriv"; done
	exit 0
fi
chmod 0755 "$S"
groupadd "${u}g"
for n in a b c; do
	useradd -M -d "$S/home-$n" -s /bin/sh "${u}$n" || exit 1
	mkdir "$S/home-$n" && chown "${u}$n:" "$S/home-$n"
done
usermod -a -G "${u}g" "${u}a"
alice=${u}a bob=${u}b carol=${u}c
mkdir -m 1777 "$S/db"
export JOBKIT_DB=$S/db/jobkit.db
# As a user, with the environment a login would give.
as() {
	_who=$1
	shift
	setpriv --reuid="$_who" --regid="$_who" --init-groups \
	    env HOME="$S/home-${_who#$u}" USER="$_who" LOGNAME="$_who" \
	    PATH="$PATH" JOBKIT_DB="$JOBKIT_DB" "$@"
}
# The shared database: made by root, writable by all.
job-submit -q --hold -- true >/dev/null
chmod 0666 "$JOBKIT_DB" "$JOBKIT_DB"-wal "$JOBKIT_DB"-shm

# alice's job, run by a root worker: as alice, with her groups, in her
# folder, with her own variables.
mkdir "$S/alice-wd" && chown "$alice:" "$S/alice-wd"
a=$(cd "$S/alice-wd" && as "$alice" job-submit -q -- \
    sh -c 'id -un; id -gn; id -Gn; echo "$HOME $USER $LOGNAME"; pwd; touch mine')
s=$(as "$alice" job-submit -q --scratch -- sh -c 'id -un; pwd')
check_exit 0 "a root worker runs alice's jobs" exec-run --worker --drain -q
check_same "her job succeeded" "$(job_state "$a") $(job_state "$s")" "succeeded succeeded"
res=$S/db/results/$a.1
check_same "as alice, uid and gid" "$(sed -n 1,2p "$res/stdout" | tr '\n' ' ')" "$alice $alice "
check "with her supplementary groups (initgroups)" grep -q "^$alice .*${u}g" "$res/stdout"
check_same "with her HOME, USER and LOGNAME" "$(sed -n 4p "$res/stdout")" "$S/home-a $alice $alice"
check_same "in her work directory" "$(sed -n 5p "$res/stdout")" "$S/alice-wd"
check_same "what it made is hers" "$(stat -c %U "$S/alice-wd/mine")" "$alice"
check_same "she owns the task's results folder and files" \
    "$(stat -c %U "$res" "$res/stdout" "$res/stderr" "$res/exitCode" "$res/result.json" | sort -u)" "$alice"
check_same "and its fresh work folder" "$(stat -c %U "$S/db/results/$s.1/work")" "$alice"
check_exit 0 "she can read her job's output" as "$alice" exec-run --logs "$a"
check_out "^$alice\$" "(exec-run --logs, as alice)"
check_exit 1 "and bob cannot" as "$bob" cat "$res/stdout"

# Her task's leader still dies with a worker killed by SIGKILL: the parent
# death signal is set after the change of user, which clears it.
z=$(as "$alice" job-submit -q -- sleep 58.6)
exec-run --worker >/dev/null 2>&1 &
w=$!
until_state "$z" running
i=0
until pgrep -u "$alice" -f 'slee[p] 58.6' >/dev/null || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.05; done
kill -9 $w
wait $w 2>/dev/null
w=
i=0
while pgrep -f 'slee[p] 58.6' >/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
check "alice's task goes with the root worker killed (PR_SET_PDEATHSIG)" sh -c '! pgrep -f "slee[p] 58.6"'
job-submit -q --cancel "$z" >/dev/null

# A worker that is not root runs its own user's jobs only, and says why
# the others wait.
mkdir -m 0700 "$S/bob-results" && chown "$bob:" "$S/bob-results"
a2=$(as "$alice" job-submit -q -- true)
b2=$(as "$bob" job-submit -q -- id -un)
check_exit 0 "bob's worker" as "$bob" exec-run --worker --drain -q --results "$S/bob-results"
check_same "runs bob's job" "$(cat "$T/out")" "$b2.1"
check_same "and leaves alice's queued" "$(job_state "$a2")" "queued"
run job-describe -f ndjson "$a2"
check_out "\"reason\":\"no worker may run jobs of '$alice' here\"" "saying why"
check_exit 77 "bob may not run alice's job by name" \
    as "$bob" exec-run "$a2" --results "$S/bob-results"
check_stderr "job '$a2' belongs to '$alice'" "and is told whose it is"
check_same "which stays queued" "$(job_state "$a2")" "queued"

# Whoever may write a shared database may change its rows, but not sign
# them: a job changed to run as another user, or to run something else,
# is refused, fails and never runs.
rm -f "$S/ran"
f=$(as "$alice" job-submit -q -- sh -c 'id -un >"$0"' "$S/ran")
sqlite3 "$JOBKIT_DB" "update jobs set uid = 0, owner = 'root' where rid = (select max(rid) from jobs)"
check_exit 0 "a job of alice's forged to be root's" exec-run --worker --drain -q
check "does not run, as root or anyone" test ! -e "$S/ran"
run job-describe -f ndjson "$f"
check_out "\"state\":\"failed\".*\"reason\":\"refused: its signature is not that of its owner 'root': it was changed since it was submitted\"" \
    "it fails: its signature is not root's"
f=$(as "$alice" job-submit -q -- true)
sqlite3 "$JOBKIT_DB" "update jobs set spec = json_set(spec, '\$.command', json_array('sh', '-c', 'id -un >$S/ran')) where rid = (select max(rid) from jobs)"
exec-run --worker --drain -q >/dev/null
check "alice's job changed to run something else does not run" test ! -e "$S/ran"
run job-describe -f ndjson "$f"
check_out "refused: its signature is not that of its owner '$alice'" "and fails, saying so"
f=$(as "$alice" job-submit -q -- sh -c 'id -un >"$0"' "$S/ran")
sqlite3 "$JOBKIT_DB" "update jobs set uid = $(id -u "$bob"), owner = '$bob' where rid = (select max(rid) from jobs)"
check_exit 0 "a job alice made to be bob's, by bob's own worker" \
    as "$bob" exec-run --worker --drain -q --results "$S/bob-results"
check "does not run as bob" test ! -e "$S/ran"
# A job that a later jobkit signed (version 2: the environment hashed
# first) runs: the worker of this one checks both.
f=$(as "$alice" job-submit -q -- sh -c 'id -un >"$0"' "$S/home-a/v2")
/usr/bin/python3 - "$JOBKIT_DB" "$S/home-a/.local/share/jobkit/key" <<'PY'
import hashlib, hmac, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
key = bytes.fromhex(open(sys.argv[2]).read().strip())
rid, uid, owner, spec, env = db.execute(
    "select j.rid, j.uid, j.owner, j.spec, e.env from jobs j left join"
    " exports e on e.id = j.export order by j.rid desc limit 1").fetchone()
msg = b"".join(f.encode() + b"\0" for f in
    ["jobkit job 2", env or "", str(rid), str(uid), owner, spec])
db.execute("update jobs set sig = ? where rid = ?",
    (hmac.new(key, msg, hashlib.sha256).digest(), rid))
db.commit()
PY
exec-run --worker --drain -q >/dev/null
check_same "a job signed by version 2 runs, as its owner" "$(cat "$S/home-a/v2" 2>/dev/null)" "$alice"
# A signed row copied to another job is not signed there: a job cannot be
# run twice by copying it, nor swapped into another's place.
f=$(as "$alice" job-submit -q -H -- sh -c 'id -un >>"$0"' "$S/ran")
sqlite3 "$JOBKIT_DB" "insert into jobs (rid, name, owner, uid, state, queue, priority, created, updated, max_attempts, reason, spec, cpu_milli, memory, disk, gpu, export, sig) select rid + 1000, name, owner, uid, 'queued', queue, priority, created, updated, max_attempts, reason, spec, cpu_milli, memory, disk, gpu, export, sig from jobs where rid = (select max(rid) from jobs)"
exec-run --worker --drain -q >/dev/null
check "a signed row copied to a job of another number does not run" test ! -e "$S/ran"
job-submit -q --cancel "$f" >/dev/null
# The worker's own environment is not another user's job's: neither the
# variables a spec names (worker_env) nor, for a spec without a recorded
# environment, the rest of it.
f=$(echo '{"shell":"echo \"[$ROOT_ONLY]\"","worker_env":["ROOT_ONLY"]}' | as "$alice" job-submit -q)
check_exit 0 "a root worker with a secret of its own" env ROOT_ONLY=s3cr3t exec-run --worker --drain -q
check_same "does not hand it to alice's job" "$(cat "$S/db/results/$f.1/stdout")" "[]"
f=$(as "$alice" job-submit -q -- true)
sqlite3 "$JOBKIT_DB" "update jobs set sig = NULL where rid = (select max(rid) from jobs)"
exec-run --worker --drain -q >/dev/null
run job-describe -f ndjson "$f"
check_out "refused: it is not signed by its owner '$alice'" "an unsigned job in a shared database is refused"
# Changing a job's priority or queue signs it again, its owner's or root's.
p1=$(as "$alice" job-submit -q -H -- true)
check_exit 0 "alice changes her job's priority" as "$alice" job-submit -q -p 5 "$p1"
check_exit 0 "root changes its queue" job-submit -q -Q other "$p1"
job-submit -q --release "$p1" >/dev/null
exec-run --worker --drain -q -Q other >/dev/null
check_same "and it still runs" "$(job_state "$p1")" "succeeded"

# The results folder of a shared database is every user's, and a root
# worker follows no link in it: what a user put there in a task's place is
# not written through.
mkdir "$S/victim"
j=$(as "$alice" job-submit -q -- true)
next=$(as "$alice" job-submit -q -- true)
as "$alice" ln -s "$S/victim" "$S/db/results/$next.1"
exec-run --worker --drain -q >/dev/null 2>&1
check_same "a link in a task's place is not followed" "$(stat -c %U "$S/victim") $(ls "$S/victim" | wc -l)" "root 0"
check_same "but moved aside, and the task gets a folder of its own" \
    "$(job_state "$next") $(stat -c %U "$S/db/results/$next.1") $(ls -d "$S/db/results/$next.1".taken-* | wc -l)" \
    "succeeded $alice 1"
check_exit 0 "alice may run her own job in the foreground there" \
    as "$alice" sh -c 'cd "$0" && exec-run -- true' "$S/alice-wd"
check_exit 77 "bob may not read alice's job's output" as "$bob" exec-run --logs "$a"
check_stderr "Permission denied" "and is told so"

# A task's results folder is its owner's, and the root worker writing in
# it at the end neither blocks on a FIFO the job put in a file's place nor
# empties a file hard-linked there.
echo precious >"$S/alice-wd/precious"
chown "$alice:" "$S/alice-wd/precious"
h=$(as "$alice" job-submit -q -- sh -c 'd=$(dirname "$JOBKIT_DB")/results/$JOBKIT_TASK_ID
	mkfifo "$d/exitCode"; ln "$0" "$d/result.json"' "$S/alice-wd/precious")
check_exit 0 "a job that leaves a FIFO and a hard link among its results" \
    timeout 60 exec-run --worker --drain -q
check_same "does not hang the worker, nor empty the linked file" "$(cat "$S/alice-wd/precious")" "precious"
run job-describe -f ndjson "$h"
check_out '"state":"failed".*"error":"results: Operation not permitted"' "and fails: its results could not be written"
# A key that is a FIFO does not hang the worker either.
as "$alice" sh -c 'rm "$HOME/.local/share/jobkit/key"; mkfifo "$HOME/.local/share/jobkit/key"'
k=$(job-submit -q -- true)
sqlite3 "$JOBKIT_DB" "update jobs set uid = $(id -u "$alice"), owner = '$alice' where rid = (select max(rid) from jobs)"
check_exit 0 "a job whose owner's key is a FIFO" timeout 60 exec-run --worker --drain -q
run job-describe -f ndjson "$k"
check_out "refused: cannot check that it is $alice's: key '.*' is not a private file of its user's" "is refused at once"
as "$alice" rm "$S/home-a/.local/share/jobkit/key"
# A long-running worker reads an owner's key again when it was made anew.
exec-run --worker -q >"$T/lw.out" 2>"$T/lw.err" &
w=$!
k1=$(as "$alice" job-submit -q -- true)
until_state "$k1" succeeded
as "$alice" rm "$S/home-a/.local/share/jobkit/key"
k2=$(as "$alice" job-submit -q -- true)
until_state "$k2" succeeded
check_same "a key made anew is read anew by a worker that runs on" "$(job_state "$k2")" "succeeded"
kill $w
wait $w 2>/dev/null
w=

# A root worker writes only in a results folder of root's: one a user made
# (and could turn into a link) stops it before it claims anything.
mkdir -m 1777 "$S/db2"
JOBKIT_DB=$S/db2/jobkit.db job-submit -q -H -- true >/dev/null
chmod 0666 "$S"/db2/jobkit.db*
q=$(JOBKIT_DB=$S/db2/jobkit.db as "$alice" job-submit -q -- true)
as "$alice" mkdir "$S/db2/results"
check_exit 73 "a results folder alice made" env JOBKIT_DB="$S/db2/jobkit.db" exec-run --worker --drain -q
check_stderr "cannot use results folder '$S/db2/results': a worker run by root writes only in a folder of root's" \
    "is refused, saying why"
check_same "and her job is left queued" "$(JOBKIT_DB=$S/db2/jobkit.db job_state "$q")" "queued"

# A job whose owner no longer exists fails, saying so, and never runs; so
# does one whose uid is another user's since.
c=$(as "$carol" job-submit -q -r 3 -- true)
cuid=$(id -u "$carol")
userdel "$carol"
check_exit 0 "a root worker with a job of a user deleted since" exec-run --worker --drain -q
run job-describe -f ndjson "$c"
check_out "\"state\":\"failed\".*\"reason\":\"refused: its owner '$carol' \\(uid [0-9]+\\) no longer exists\"" \
    "fails the job, saying its owner is gone"
check_same "which never ran" "$(run-query tasks -j "$c" -c)" "0"
c=$(as "$alice" job-submit -q -- true)
sqlite3 "$JOBKIT_DB" "update jobs set uid = $cuid, owner = '$carol' where rid = (select max(rid) from jobs)"
useradd -M -u "$cuid" -d "$S/home-c" -s /bin/sh "${u}d"
exec-run --worker --drain -q >/dev/null
run job-describe -f ndjson "$c"
check_out "refused: its owner '$carol' \\(uid $cuid\\) no longer exists: that uid is now that of '${u}d'" \
    "a job whose owner's uid was given to another user is refused"
userdel "${u}d"
done_testing
