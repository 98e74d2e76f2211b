#!/bin/sh
# The database: where it is, how it is made, and what is refused.
. "$(dirname "$0")/lib.sh"
plan 60

unset JOBKIT_DB
check_exit 0 "with no JOBKIT_DB the default database is used" job-submit -q -- true
check "it is under XDG_DATA_HOME" test -f "$XDG_DATA_HOME/jobkit/jobkit.db"
check_same "the file is 0600" "$(stat -c %a "$XDG_DATA_HOME/jobkit/jobkit.db")" "600"
check_same "its new folder 0700" "$(stat -c %a "$XDG_DATA_HOME/jobkit")" "700"
check_same "in WAL mode" "$(sqlite3 "$XDG_DATA_HOME/jobkit/jobkit.db" 'pragma journal_mode')" "wal"
check_same "with a schema version" "$(sqlite3 "$XDG_DATA_HOME/jobkit/jobkit.db" 'pragma user_version')" "7"
JOBKIT_DB=$T/env.db
export JOBKIT_DB
check_exit 0 "JOBKIT_DB chooses another" job-submit -q -- true
check "which is made" test -f "$T/env.db"
check_exit 0 "--db wins over JOBKIT_DB" job-submit -q --db "$T/opt.db" -- true
check_same "only the --db database has the second job" \
    "$(sqlite3 "$T/opt.db" 'select count(*) from jobs') $(sqlite3 "$T/env.db" 'select count(*) from jobs')" "1 1"

touch "$T/file"
check_exit 73 "a database under a regular file cannot be made" \
    job-submit --db "$T/file/sub/db" -- true
check_stderr "^job-submit: cannot create folder '$T/file/sub': Not a directory" "one line naming it"
check_same "exactly one line" "$(wc -l <"$T/err" | tr -d ' ')" "1"

head -c 4096 /dev/urandom >"$T/junk"
sum=$(cksum <"$T/junk")
check_exit 65 "a file that is not sqlite" run-query --db "$T/junk"
check_stderr "'$T/junk' is not a jobkit database" "is named"
check_same "and left alone" "$(cksum <"$T/junk")" "$sum"
sqlite3 "$T/other.db" 'create table mine (x); insert into mine values (1)'
check_exit 65 "someone else's sqlite database" job-submit --db "$T/other.db" -- true
check_stderr "not a jobkit database" "is refused"
check_same "and left alone" "$(sqlite3 "$T/other.db" 'select count(*) from sqlite_master')" "1"
check_exit 69 "a PostgreSQL URL" run-query --db postgresql://localhost/jobs
check_stderr "built without PostgreSQL" "says the backend is not built in"
sqlite3 "$T/env.db" 'pragma user_version = 99'
check_exit 69 "a database from a newer jobkit" run-query
# Tools that only read never make a database at a mistyped path.
check_exit 66 "run-query on a missing database" run-query --db "$T/typo/j.db" --count
check_stderr "no database '.*typo/j.db'" "says so"
check_exit 66 "job-describe on a missing database" job-describe --db "$T/typo/j.db" a001
check_exit 66 "exec-run --wait on a missing database" exec-run --db "$T/typo/j.db" --wait a001
check_same "and none was made" "$(ls "$T/typo" 2>&1 | grep -c 'No such')" "1"
check_exit 0 "job-submit makes it" job-submit -q --db "$T/typo/j.db" -- true
check_exit 0 "after which run-query reads it" run-query --db "$T/typo/j.db" --count

# The WAL is kept between tools (libcommon/walvfs.h).  A tool leaves a
# short one as it is, for the next tool to read, rather than pay two syncs
# to copy it into the database; the one whose commit made it longer than 64
# frames copies it at its close and zeroes its header rather than truncate
# the file, and sqlite reads the database whole.
w=$T/wal.db
zero=0000000000000000000000000000000000000000000000000000000000000000
hdr() { head -c 32 "$w-wal" | od -An -v -tx1 | tr -d ' \n'; }
job-submit -q --db "$w" -- true >/dev/null
check "a short WAL is left as it is" test "$(hdr)" != "$zero"
check_same "and read by the next tool" "$(run-query --db "$w" -a --count)" "1"
awk 'BEGIN { for (i = 0; i < 2000; i++) print "{\"command\":[\"true\"]}" }' |
    job-submit -q --db "$w" >/dev/null
check "a WAL made longer is kept with its blocks" test "$(stat -c %s "$w-wal")" -gt 4096
check_same "with a zeroed header" "$(hdr)" "$zero"
check_same "which sqlite reads as an empty WAL" \
    "$(sqlite3 "$w" 'pragma integrity_check; select count(*) from jobs')" "ok
2001"
check_exit 0 "the next tool writes over it" job-submit -q --db "$w" -- true
check_same "and everything is there" \
    "$(run-query --db "$w" -a --count) $(sqlite3 "$w" 'pragma integrity_check')" "2002 ok"
awk 'BEGIN { for (i = 0; i < 30000; i++) print "{\"command\":[\"true\"]}" }' |
    job-submit -q --db "$w" >/dev/null
check_same "a WAL a big transaction made longer than 4 MiB is truncated" \
    "$(stat -c %s "$w-wal")" "0"
check_same "with every job kept" "$(run-query --db "$w" -a --count)" "32002"

# A foreground exec-run, or task-keepalive running its command, copies the
# WAL into the database while the command runs, once its start made the
# WAL long enough that its close would have: the two syncs of that copy are
# then paid while no one waits.  300 labels of 250 bytes make a start of
# more than 64 frames, and an end of few.  The copy runs beside the
# command, so the command waits for it (up to 30 s).
v=$(head -c 250 /dev/zero | tr '\0' x)
idle() {
	f=$T/idle-$1.db
	job-submit -q --db "$f" -- true >/dev/null
	want=$(($(stat -c %s "$f") + 100000))
	check_exit 0 "$1: a job of 300 long labels runs" sh -c '
	    tool=$1 f=$2 v=$3 out=$4 want=$5
	    shift 5
	    for i in $(seq 300); do set -- "$@" -l "k$i=$v"; done
	    exec "$tool" -q --db "$f" "$@" -- sh -c "
		i=0
		while [ \$(stat -c %s $f) -le $want ] && [ \$i -lt 300 ]; do
		    sleep 0.1; i=\$((i + 1))
		done
		stat -c %s $f >$out"' sh "$1" "$f" "$v" "$T/during" "$want"
	check "$1: while it ran, the database file came to hold its start" \
	    test "$(cat "$T/during")" -gt "$want"
	w=$f
	check "$1: its close left the WAL of its end as it is" \
	    test "$(hdr)" != "$zero"
	check_same "$1: which the next tool reads" \
	    "$(run-query --db "$f" -a --state succeeded --count) $(sqlite3 "$f" 'pragma integrity_check')" \
	    "1 ok"
}
idle exec-run
idle task-keepalive

# A database of schema version 1 is migrated forward, in one transaction:
# what its queued jobs ask for goes into columns the claim tests.
v=$T/v1.db
sqlite3 "$v" <"$TOP/tests/data/schema-v1.sql"
check_exit 0 "a version 1 database opens" run-query --db "$v" -c
check_same "and is migrated to version 7" "$(sqlite3 "$v" 'pragma user_version')" "7"
check_same "its jobs' requests are in columns" \
    "$(sqlite3 "$v" "select rid, cpu_milli, memory, disk, gpu from jobs where state = 'queued' order by rid" | tr '\n' ' ')" \
    "1|4000|8589934592|0|2 4|500|1073741824|0|0 "
check_exit 0 "a worker without GPUs on it" exec-run --db "$v" --worker --capacity gpu=0 --drain -q
check_same "runs the job that fits" "$(cat "$T/out")" "a004.1"
check_same "and the rest is as it was" "$(run-query --db "$v" -s succeeded -c) $(sqlite3 "$v" 'pragma integrity_check')" "3 ok"
# Jobs stored unsigned (by an older jobkit) run from a database only its
# user may write, not from one others may.
u=$(job-submit -q --db "$v" -H -- true)
sqlite3 "$v" "update jobs set sig = NULL where rid = (select max(rid) from jobs)"
job-submit -q --db "$v" --release "$u" >/dev/null
check_exit 0 "an unsigned job in a private database" exec-run --db "$v" -q "$u"
check_same "runs" "$(job-describe --db "$v" -f ndjson "$u" | grep -c '"state":"succeeded"')" "1"
u=$(job-submit -q --db "$v" -H -- true)
sqlite3 "$v" "update jobs set sig = NULL where rid = (select max(rid) from jobs)"
job-submit -q --db "$v" --release "$u" >/dev/null
chmod 0666 "$v-wal"
check_exit 77 "once its WAL may be written by others" exec-run --db "$v" -q "$u"
check_stderr "refused: it is not signed by its owner" "it is refused"
chmod 0600 "$v-wal"
mkdir -m 1777 "$T/sticky"
job-submit -q --db "$T/sticky/j.db" -H -- true >/dev/null
u=$(job-submit -q --db "$T/sticky/j.db" -H -- true)
sqlite3 "$T/sticky/j.db" "update jobs set sig = NULL where rid = (select max(rid) from jobs)"
job-submit -q --db "$T/sticky/j.db" --release "$u" >/dev/null
check_exit 77 "nor from one in a folder where others may make its WAL" \
    exec-run --db "$T/sticky/j.db" -q "$u"
sqlite3 "$T/v1bad.db" <"$TOP/tests/data/schema-v1.sql"
sqlite3 "$T/v1bad.db" 'alter table jobs add column gpu integer'
check_exit 70 "a migration that fails half-way" run-query --db "$T/v1bad.db" -c
check_stderr "cannot migrate database: .*duplicate column name: gpu" "says why"
check_same "leaves the database as it was" \
    "$(sqlite3 "$T/v1bad.db" "pragma user_version; select count(*) from pragma_table_info('jobs') where name = 'cpu_milli'" | tr '\n' ' ')" "1 0 "
done_testing
