# Shared helpers for jobkit's TAP tests (POSIX sh).  Source it first:
#   . "$(dirname "$0")/lib.sh"
# It puts the tools under test first in PATH ($JOBKIT_BIN, default
# build/bin), makes a private temporary directory $T (removed on exit),
# and points JOBKIT_DB, HOME and XDG_* inside it, so no test touches the
# user's real files.
#
#   plan N                      print the TAP plan
#   check "desc" cmd...         ok when cmd exits 0
#   check_exit N "desc" cmd...  ok when cmd exits N; output in $T/out, $T/err
#   check_stderr RE "desc"      ok when $T/err (of the last run) matches RE
#   check_out RE "desc"         ok when $T/out (of the last run) matches RE
#   check_same "desc" got want  ok when the two strings are equal
#   run cmd...                  run cmd, stdout to $T/out, stderr to $T/err,
#                               status in $rc
#   skip "why"                  an ok test marked skipped
#   db_sum                      a digest of the database's contents
#   on_tty "command line"       run it with a terminal as stdin (script(1))
#   job_state ID                the job's state
#   until_state ID STATE        wait (up to 30 s) until the job is in STATE
#   until_true cmd...           wait (up to 30 s) until cmd succeeds
#   task_field TASK FIELD       a member of a task's run-query row
#   gone PID                    whether nothing of the process runs
#   random N, fresh_ids BASE    a number below N; job IDs from BASE on

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
JOBKIT_BIN=${JOBKIT_BIN:-$TOP/build/bin}
JOBKIT_UNITS=${JOBKIT_UNITS:-$TOP/build/tests}
# Programs tests run as jobs (tests/helpers): hog, threads.
JOBKIT_HELPERS=${JOBKIT_HELPERS:-$TOP/build/tests}
PATH=$JOBKIT_BIN:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/jobkit-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
HOME=$T/home
XDG_DATA_HOME=$T/home/.local/share
XDG_CACHE_HOME=$T/home/.cache
JOBKIT_DB=$T/jobkit.db
mkdir -p "$HOME"
export PATH HOME XDG_DATA_HOME XDG_CACHE_HOME JOBKIT_DB JOBKIT_BIN T \
    JOBKIT_HELPERS
unset JOBKIT_FORMAT 2>/dev/null || true
# A user's JOBKIT_START=1 would start a worker at every submit of a test.
unset JOBKIT_START 2>/dev/null || true
# Tables fit COLUMNS when it is set, and are coloured unless NO_COLOR:
# a test sets its own.
unset COLUMNS NO_COLOR 2>/dev/null || true

_n=0
_failed=0

plan() { echo "1..$1"; }

_ok() {
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
		if [ -s "$T/err" ]; then sed 's/^/#   stderr: /' "$T/err" | head -5; fi
	fi
}

run() {
	# Output goes to $T/out only once the command is done, so a command
	# may read the previous $T/out (check "..." grep x "$T/out").
	"$@" >"$T/out.new" 2>"$T/err.new"
	rc=$?
	mv "$T/out.new" "$T/out"
	mv "$T/err.new" "$T/err"
	# A sanitizer report means the test failed, whatever it asserted.
	if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' \
	    -e 'ERROR: LeakSanitizer' "$T/err" 2>/dev/null; then
		echo "# sanitizer report from: $*"
		sed 's/^/#   /' "$T/err" | head -30
		_failed=$((_failed + 1))
	fi
	return 0
}

check() {
	_d=$1
	shift
	run "$@"
	_ok "$rc" "$_d"
}

check_exit() {
	_want=$1
	_d=$2
	shift 2
	run "$@"
	if [ "$rc" = "$_want" ]; then _ok 0 "$_d"; else
		echo "#   exit $rc, want $_want"
		_ok 1 "$_d"
	fi
}

check_stderr() {
	if grep -Eq -- "$1" "$T/err"; then _ok 0 "$2"; else
		echo "#   stderr does not match /$1/:"
		sed 's/^/#   /' "$T/err" | head -5
		_ok 1 "$2"
	fi
}

check_out() {
	if grep -Eq -- "$1" "$T/out"; then _ok 0 "$2"; else
		echo "#   stdout does not match /$1/:"
		sed 's/^/#   /' "$T/out" | head -5
		_ok 1 "$2"
	fi
}

check_same() {
	if [ "$2" = "$3" ]; then _ok 0 "$1"; else
		echo "#   got:  $2"
		echo "#   want: $3"
		_ok 1 "$1"
	fi
}

skip() {
	_n=$((_n + 1))
	echo "ok $_n # skip $1"
}

on_tty() { timeout 10 script -qec "$1" /dev/null </dev/null; }

job_state() {
	job-describe -f ndjson "$1" | sed 's/.*"state":"\([a-z_]*\)","owner".*/\1/'
}

# Wait for job $1 to be in state $2 (for 30 s at most).
_state_is() { [ "$(job_state "$1")" = "$2" ]; }
until_state() { until_true _state_is "$1" "$2"; }

# A digest of every row of every table, to prove nothing changed.
db_sum() {
	if [ ! -f "$JOBKIT_DB" ]; then echo none; return; fi
	for _t in $(sqlite3 "$JOBKIT_DB" "select name from sqlite_master where type='table' order by name"); do
		echo "$_t"
		sqlite3 "$JOBKIT_DB" "select * from \"$_t\""
	done | cksum
}

# Exit status for prove: non-zero when any test failed.
done_testing() {
	[ "$_failed" = 0 ]
}

# Poll (every 0.1 s, for 30 s at most) until the command succeeds.
until_true() {
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ "$_i" -gt 300 ] && return 1
		sleep 0.1
	done
	return 0
}

# Field $2 of task $1, from run-query (strings unquoted).
task_field() {
	run-query tasks -j "${1%.*}" -f ndjson | grep "\"id\":\"$1\"" |
	    sed -n "s/.*\"$2\":\"*\([^\",}]*\).*/\1/p"
}

# Whether process $1 is gone (a zombie is: nothing of it runs).
gone() {
	[ ! -e "/proc/$1" ] ||
	    [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# A random number below $1.
random() { echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1)); }

# Number the jobs of $JOBKIT_DB from $1 on, so that its task IDs are
# not those of another test's database beside it.
fresh_ids() {
	_id=$(job-submit -q -- true) &&
	    job-submit -q -c "$_id" >/dev/null &&
	    job-submit -q --delete "$_id" >/dev/null &&
	    sqlite3 "$JOBKIT_DB" "update sqlite_sequence set seq = $1 where name = 'jobs'"
}
