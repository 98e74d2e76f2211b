#!/bin/sh
# bench/keepalive.sh DIR N S: N task-keepalive on one database, DIR/k.db,
# each wrapping a sleep as the task of a job of its own and renewing its
# run and task every second (lease 10 s), all N at once for S seconds.
# What it measured goes to DIR/figures as NAME=VALUE lines for
# bench/run.sh to read; each process's stderr is kept in DIR/err/.
set -eu

dir=${1:?usage: bench/keepalive.sh DIR N S}
n=${2:?usage: bench/keepalive.sh DIR N S}
s=${3:?usage: bench/keepalive.sh DIR N S}
iv=1000 # the renewal interval, ms
db=$dir/k.db
JOBKIT_DB=$db
export JOBKIT_DB
mkdir -p "$dir/err"

fail() {
	echo "bench: keepalive: $*" >&2
	exit 1
}
now_ms() { date +%s%3N; }

# --- Can N be started at all? ----------------------------------------------
# Each task-keepalive is a process and so is its sleep; the sampler and
# what waits add a few.  RLIMIT_NPROC counts the threads of our real uid,
# pid_max and threads-max every thread on the machine, a pids cgroup ours.
need=$((2 * n + 20))
limit() { awk -v w="$1" 'index($0, w) == 1 { v = substr($0, 27, 20); gsub(/ /, "", v); print v }' /proc/self/limits; }
room() {
	[ "$2" = unlimited ] || [ $(($3 + need)) -le "$2" ] ||
	    fail "cannot start $n: $1 is $2, $3 in use, $need more needed"
}
room "the process limit (ulimit -u)" "$(limit 'Max processes')" \
    "$(ps -L -U "$(id -ru)" -o lwp= | wc -l)"
threads=$(cut -d' ' -f4 /proc/loadavg | cut -d/ -f2)
room "kernel.pid_max" "$(cat /proc/sys/kernel/pid_max)" "$threads"
room "kernel.threads-max" "$(cat /proc/sys/kernel/threads-max)" "$threads"
cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
for f in "/sys/fs/cgroup$cg" \
    "/sys/fs/cgroup/pids$(sed -n 's/^[0-9]*:pids://p' /proc/self/cgroup)"; do
	if [ -r "$f/pids.max" ] && [ -r "$f/pids.current" ]; then
		room "the pids cgroup's pids.max ($f)" "$(sed 's/^max$/unlimited/' "$f/pids.max")" \
		    "$(cat "$f/pids.current")"
	fi
done
# A task-keepalive holds about a dozen descriptors (the database, its WAL
# and shm, a signalfd, its command's pipes); the machine must have room
# for all of them, and each process for its own.
[ "$(limit 'Max open files')" = unlimited ] || [ "$(limit 'Max open files')" -ge 64 ] ||
    fail "cannot start $n: the open file limit (ulimit -n) is $(limit 'Max open files'), 64 are needed"
set -- $(cat /proc/sys/fs/file-nr)
fopen=$1 fmax=$3
[ $((fopen + 16 * n)) -le "$fmax" ] ||
    fail "cannot start $n: fs.file-max is $fmax, $fopen open, $((16 * n)) more needed"

# --- Start them ------------------------------------------------------------
# The database is made first, by one that runs true, so that the N do not
# all race to make its schema.
task-keepalive --lease 10s -- true 2>"$dir/err/first" ||
    fail "task-keepalive -- true failed: $(cat "$dir/err/first")"

# Ours to stop if we are stopped: by PID and start time, so that a PID
# reused after its process ended is never signalled.
stop_all() {
	: >"$dir/stop"
	[ -f "$dir/started" ] || return 0
	for p in $(awk '{ f = "/proc/" $1 "/stat"
	    if ((getline l < f) > 0) { sub(/.*\) /, "", l); split(l, a, " ")
		    if (a[20] == $2) print $1 }
	    close(f) }' "$dir/started"); do
		kill -TERM "$p" 2>/dev/null || true
	done
	wait
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Their leases are measured from the database, not from their stderr:
# every renewal writes its time (ms) into the task's keepalive, so the
# distinct values a task shows are the times of its renewals, exact to
# the ms, and a sampler that looks more often than once an interval sees
# every one of them.  One sqlite3 every 200 ms reads all N (a WAL reader,
# it blocks no writer); timestamping N stderr streams would take N more
# processes, or one reading N pipes, and only say when a line was read.
# The sample's own time (sqlite's 'now', the same clock) also says how old
# the oldest committed keepalive was.
sampler() {
	while [ ! -e "$dir/stop" ]; do
		sqlite3 -cmd '.timeout 5000' "$db" "SELECT
		    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
		    r.pid, t.keepalive FROM tasks t JOIN runs r ON r.rid = t.run
		    WHERE t.ended IS NULL AND r.kind = 'task-keepalive'" \
		    >>"$dir/samples" 2>>"$dir/sampler.err" || true
		sleep 0.2
	done
}
: >"$dir/samples"
: >"$dir/sampler.err"
sampler &
sampler_pid=$!

# The sleep outlives the window by the time allowed for all N to start
# (ramp): whatever the order they start in, all N run for the S seconds
# after the last has started.  One shell starts them and waits for each
# (their exit statuses), so that its children's CPU time (times) is
# theirs, whole lives and their sleeps' included, summed by the kernel
# before it is rounded to a tick.
ramp=$((5 + n / 50))
life=$((s + ramp))
t_launch=$(now_ms)
: >"$dir/pids"
(
	i=0
	while [ $i -lt "$n" ]; do
		task-keepalive -v --lease 10s --interval 1s -- sleep "$life" \
		    </dev/null >/dev/null 2>"$dir/err/$i" &
		echo "$!" >>"$dir/pids"
		i=$((i + 1))
	done
	awk '{ f = "/proc/" $1 "/stat"
	    if ((getline l < f) > 0) { sub(/.*\) /, "", l); split(l, a, " "); print $1, a[20] }
	    close(f) }' "$dir/pids" >"$dir/started.part"
	mv "$dir/started.part" "$dir/started"
	while read -r p; do
		rc=0
		wait "$p" || rc=$?
		echo "$p $rc"
	done <"$dir/pids" >"$dir/statuses"
	times >"$dir/times"
) &
starter=$!
running() {
	sqlite3 -cmd '.timeout 5000' "$db" \
	    "SELECT count(*) FROM tasks WHERE ended IS NULL AND state = 'running'"
}
until [ -f "$dir/started" ] && [ "$(running)" -ge "$n" ]; do
	[ $(($(now_ms) - t_launch)) -le $((ramp * 1000)) ] ||
	    fail "only $(running) of $n started within ${ramp}s: $(cat "$dir"/err/* | sort | uniq -c | sort -rn | head -3)"
	sleep 0.1
done
w0=$(now_ms)

# CPU of the N in the window: the time each process was on a CPU (ns),
# from /proc/PID/schedstat, its own and not its sleep's.  (utime and
# stime in /proc/PID/stat are whole ticks, each process's rounded down:
# a process using 13 ms in a minute would count 0 or 10.)
cpu() {
	awk '{ f = "/proc/" $1 "/schedstat"
	    if ((getline l < f) > 0) { split(l, b, " "); ns += b[1]; n++ }
	    close(f) }
	END { printf "%.0f %.0f\n", n, ns }' "$dir/pids"
}
c0=$(cpu)
sleep "$s"
c1=$(cpu)
w1=$(now_ms)
set -- $c0 $c1
alive0=$1 alive1=$3
cpu_on=$(awk -v a="$2" -v b="$4" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')

# --- Their ends ------------------------------------------------------------
wait "$starter" || fail "the shell that started them failed"
nonzero=$(awk '$2 != 0' "$dir/statuses" | wc -l)
statuses=$(awk '$2 != 0 { printf "%s%s:%s", sep, $1, $2; sep = " " }' "$dir/statuses" | cut -c1-200)
# times: the starter's own user and system time, then its children's.
set -- $(sed -n 2p "$dir/times" | sed 's/m/ /g; s/s//g')
cpu_user=$(awk -v m="$1" -v s="$2" 'BEGIN { printf "%.2f", m * 60 + s }')
cpu_sys=$(awk -v m="$3" -v s="$4" 'BEGIN { printf "%.2f", m * 60 + s }')
: >"$dir/stop"
wait "$sampler_pid" || true

# --- What the database showed ----------------------------------------------
# A gap longer than 1.5 intervals between two renewals of a task is a
# missed renewal (round(gap / interval) - 1 of them).  Those of the window
# (the later renewal in it) are the figure; those of the start, when N
# start at once, or of the seconds after it, are said apart.
awk -F'|' -v w0="$w0" -v w1="$w1" -v iv="$iv" -v t0="$t_launch" '
$1 != t { if (t != "" && $1 - t > spc) spc = $1 - t; t = $1; ns++ }
{
	if ($1 >= w0 && $1 < w1 && $1 - $3 > age) age = $1 - $3
	if (!($2 in last)) { last[$2] = $3; k[$2] = 0; next }
	if ($3 == last[$2]) next
	g = $3 - last[$2]; last[$2] = $3; seen++; k[$2]++
	w = $3 >= w0 && $3 < w1 ? "" : "_out"
	if (w == "") win++
	if (g > gap[w]) gap[w] = g
	if (g <= 1.5 * iv) next
	late[w]++; missed[w] += int(g / iv + 0.5) - 1; first[w] += k[$2] == 1
	if (ex[w] == "")
		ex[w] = sprintf("pid %s: renewal %d came %d ms after the one before, %.1f s after the first start", $2, k[$2], g, ($3 - t0) / 1000)
}
END {
	printf "samples=%d\nsample_gap=%d\noldest=%d\nseen=%d\nwindow=%d\n", ns, spc, age, seen, win
	for (i = 0; i <= 1; i++) {
		w = i ? "_out" : ""
		printf "longest%s=%d\nlate%s=%d\nmissed%s=%d\n", w, gap[w], w, late[w], w, missed[w]
		printf "late_first%s=%d\n", w, first[w]
		printf "missed_example%s=\"%s\"\n", w, ex[w]
	}
}' "$dir/samples" >"$dir/figures"

# --- What their stderr said ------------------------------------------------
cat "$dir"/err/[0-9]* >"$dir/all.err"
# Every line but a renewal, with its process's number, and the statuses
# other than 0, for a reader to look into.
{
	grep -v 'renewed .* ms$' "$dir"/err/[0-9]* | sed "s|^$dir/err/||" || true
	awk '$2 != 0 { print "exit status of pid " $1 ": " $2 }' "$dir/statuses"
	sqlite3 -cmd '.timeout 5000' "$db" "SELECT r.pid, t.ended, t.state,
	    coalesce(t.error, '') FROM tasks t JOIN runs r ON r.rid = t.run
	    WHERE r.kind = 'task-keepalive' AND t.state != 'succeeded'" |
	    awk -F'|' -v t0="$t_launch" '{ printf "task of pid %s: %s, %.1f s after the first start: %s\n", $1, $3, ($2 - t0) / 1000, $4 }'
} >"$dir/odd"
grep 'renewed .* ms$' "$dir/all.err" | awk '{ print $(NF - 1) }' | sort -n >"$dir/lat"
lat() { awk -v q="$1" '{ v[NR] = $1 } END { i = int(NR * q); if (i < NR * q) i++; if (i < 1) i = 1; print v[i] }' "$dir/lat"; }
first_of() { grep -m1 -E "$1" "$dir/all.err" | tr -d '"$`\\' || true; }
{
	echo "started_in=$((w0 - t_launch))"
	echo "wall=$((w1 - w0))"
	echo "renewals=$(wc -l <"$dir/lat")"
	echo "expected=$((n * s * 1000 / iv))"
	echo "p50=$(lat 0.5) p99=$(lat 0.99) max=$(tail -1 "$dir/lat")"
	echo "lock_errors=$(grep -ciE 'busy|locked|renewal failed' "$dir/all.err" || true)"
	echo "lock_example=\"$(first_of 'busy|locked|renewal failed')\""
	echo "lost=$(grep -c 'lease lost' "$dir/all.err" || true)"
	echo "lost_example=\"$(first_of 'lease lost')\""
	other='renewed .* ms$|busy|locked|renewal failed|lease lost'
	echo "other=$(grep -vcE "$other" "$dir/all.err" || true)"
	echo "other_example=\"$(grep -vE "$other" "$dir/all.err" | head -1 | tr -d '"$`\\')\""
	echo "alive0=$alive0 alive1=$alive1"
	echo "nonzero=$nonzero"
	echo "statuses=\"$statuses\""
	echo "task_example=\"$(grep -m1 '^task of pid' "$dir/odd" | tr -d '"$`\\' || true)\""
	echo "cpu_user=$cpu_user cpu_sys=$cpu_sys cpu_on=$cpu_on"
	echo "sampler_errors=$(wc -l <"$dir/sampler.err")"
} >>"$dir/figures"
