#!/bin/sh
# make bench: jobkit side by side with what users would otherwise pick,
# every figure from one run on this machine, reported as ratios.
#
# Usage: bench/run.sh BINDIR
# Knobs: BENCH_SUBMIT (invocations per loop, 200), BENCH_RUN (jobs per
# runner comparison, 1000), BENCH_BIG (rows in the query database, 1000000),
# BENCH_QUICK=1 (fewer repetitions, for trying the script), BENCH_BIG_DB
# (keep the query database there, made once), BENCH_ONLY (sections to run,
# e.g. "3 5"), BENCH_KEEP=1 (keep section 7's tar.gz in bench/out, made
# once), BENCH_KEEPALIVE_N (task-keepalive processes in section 8, 500),
# BENCH_KEEPALIVE_S (the seconds they all run, 60), BENCH_CLAIM (the most
# jobs in the way of section 9's claims, 1000000).  Section 7 starts its
# own nginx on 127.0.0.1 and needs a few GiB free beside TMPDIR; section 8
# starts twice BENCH_KEEPALIVE_N processes; section 9 makes databases of
# up to BENCH_CLAIM jobs (400 MB a million) in TMPDIR, one at a time.
# Results: bench/out/results.txt, hyperfine's CSV and JSON beside it.
set -eu

bin=${1:?usage: bench/run.sh BINDIR}
PATH=$bin:$PATH
export PATH
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/bench/out
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jobkit-bench.XXXXXX")
export TS_SOCKET="$tmp/ts.sock" NQDIR="$tmp/nq"
export TS_MAXFINISHED=100000 TMPDIR="$tmp"
rw=
cleanup() {
	tsp -K >/dev/null 2>&1 || true
	[ -z "$rw" ] || kill "$rw" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsub=${BENCH_SUBMIT:-200}
nrun=${BENCH_RUN:-1000}
nbig=${BENCH_BIG:-1000000}
if [ "${BENCH_QUICK:-0}" = 1 ]; then runs=2 qruns=10; else runs=5 qruns=40; fi
results=$out/results.txt
: >"$results"

want() { case " ${BENCH_ONLY:-1 2 3 4 5 6 7 8 9} " in *" $1 "*) return 0 ;; esac; return 1; }
say() { printf '%s\n' "$*" | tee -a "$results"; }

# hf NAME [hyperfine options] COMMAND...: run hyperfine and keep the
# mean of each command, in seconds, in $out/NAME.csv.
hf() {
	name=$1
	shift
	# hyperfine's warnings about noise go to a file; its errors to us.
	if ! hyperfine --style none --export-csv "$out/$name.csv" \
	    --export-json "$out/$name.json" "$@" >/dev/null 2>"$out/$name.err"; then
		cat "$out/$name.err" >&2
		exit 1
	fi
}

# mean NAME ROW: the mean in seconds of command ROW (1-based) of NAME.
mean() {
	awk -F, -v row="$2" 'NR == row + 1 { print $2 }' "$out/$1.csv"
}

# median NAME ROW: the same, the median: a difference of two runs on a
# loaded machine, as section 9 takes, is not moved by a few slow runs.
median() {
	awk -F, -v row="$2" 'NR == row + 1 { print $4 }' "$out/$1.csv"
}

# per SECONDS COUNT: milliseconds per item.
per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.3f", s * 1000 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

# traced N CMD...: "S syscalls, F syncs" per item of the N that CMD does,
# as strace -c -f counts them (fsync, fdatasync and sync_file_range are
# syncs), so that a change can see what it added to the fixed costs.
traced() {
	_n=$1
	shift
	strace -f -c -o "$tmp/strace.txt" "$@" >/dev/null 2>&1 || true
	awk -v n="$_n" '$NF == "total" { t = $4 }
	    $NF ~ /^(fsync|fdatasync|sync_file_range)$/ && $4 ~ /^[0-9]+$/ { f += $4 }
	    END { printf "%.1f syscalls, %.2f syncs", t / n, f / n }' \
	    "$tmp/strace.txt"
}

# Writes the disk under TMPDIR completed so far (its /sys stat, field 5),
# or nothing where that is not a block device of its own (tmpfs, overlay):
# a commit's data, an inode the kernel wrote with it and a cache flush are
# one each.
blk=/sys/dev/block/$(stat -c '%Hd:%Ld' "$tmp" 2>/dev/null)/stat
writes() { [ -r "$blk" ] && awk '{ print $5 }' "$blk"; }
per_write() {
	[ -n "$1" ] && [ -n "$2" ] &&
	    awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.2f", (b - a) / n }'
}

say "jobkit bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores," \
    "$(uname -sr), $(hyperfine --version)"
# The machine's floor, which every figure below stands on: a process that
# does nothing, one that starts another and waits for it (sh -c with a
# second command, so that sh cannot exec true in its place), and a 4 KiB
# write synced to the disk the databases are on, as a commit waits for it
# (1000 pwrite and fdatasync of one block of a file synced once before, so
# that only its data goes each time; timed inside the loop).
hf floor -N --warmup 10 --runs $((qruns * 5)) \
    -n true "true" \
    -n sh "sh -c '/usr/bin/true; :'"
sync_ms=$(python3 -Ic 'import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
b = bytes(4096)
os.pwrite(fd, b, 0)
os.fsync(fd)
n = 1000
t = time.perf_counter()
for i in range(n):
    os.pwrite(fd, b, 0)
    os.fdatasync(fd)
print("%.3f" % ((time.perf_counter() - t) * 1000 / n))
os.close(fd)
os.unlink(sys.argv[1])' "$tmp/sync")
# And what a task's results folder costs the file system under TMPDIR: a
# folder and four files, 1000 times.  On ext4 without a journal each new
# inode is checked against those deleted in the last 60 s, or 360 s while
# their inode table block is not yet written (recently_deleted() in the
# kernel's ext4/ialloc.c), so this is many times its usual cost after a
# big deletion there (another bench run or a make check just before, say),
# and so is every worker figure below.  Kept until the bench ends, for the
# same reason.
dir_us=$(python3 -Ic 'import os, sys, time
root = sys.argv[1]
os.mkdir(root)
n = 1000
t = time.perf_counter()
for i in range(n):
    d = os.path.join(root, "t%d" % i)
    os.mkdir(d, 0o700)
    for f in ("stdout", "stderr", "exitCode", "result.json"):
        os.close(os.open(os.path.join(d, f), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
print("%.0f" % ((time.perf_counter() - t) * 1e6 / n))' "$tmp/folders")
say "floor: true $(ms "$(mean floor 1)") ms   sh -c 'true; :' $(ms "$(mean floor 2)") ms" \
    "  fdatasync of 4 KiB $sync_ms ms (1000 pwrite + fdatasync in TMPDIR)" \
    "  a task's results folder $dir_us us (a folder and 4 files, 1000 in TMPDIR)"
say ""

# --- 1. one job per invocation, in a shell loop ---------------------------
if want 1; then
# job-submit acknowledges a job only after sqlite's fsync (synchronous=FULL);
# tsp keeps its queue in the server's memory and nq writes a file without
# fsync, so they promise less.
loop() { printf 'for i in $(seq %d); do %s >/dev/null; done' "$nsub" "$1"; }
hf submit --runs "$runs" --warmup 1 \
    --prepare "rm -rf $tmp/s.db* $tmp/nq; mkdir $tmp/nq; tsp -K >/dev/null 2>&1 || true; job-submit -d $tmp/s.db -q -- true >/dev/null" \
    -n job-submit "$(loop "job-submit -d $tmp/s.db -q -- true")" \
    -n tsp "$(loop "tsp true")" \
    -n nq "$(loop "nq true")"
js=$(mean submit 1) ts=$(mean submit 2) nq=$(mean submit 3)
say "1. submit one job per invocation, $nsub in a shell loop (ms per job)"
say "   job-submit $(per "$js" "$nsub")   tsp $(per "$ts" "$nsub")   nq $(per "$nq" "$nsub")"
say "   ratio job-submit/tsp $(ratio "$js" "$ts")   job-submit/nq $(ratio "$js" "$nq")   (target <= 1.0)"
# submits DB: the block writes a submit to DB makes, over $nsub of them.
submits() {
	_w0=$(writes)
	_i=0
	while [ "$_i" -lt "$nsub" ]; do
		job-submit -d "$1" -q -- true >/dev/null
		_i=$((_i + 1))
	done
	per_write "$_w0" "$(writes)" "$nsub"
}
bw=$(submits "$tmp/s.db")
say "   per job-submit: $(traced 1 job-submit -d "$tmp/s.db" -q -- true)${bw:+, $bw block writes}"
# The same with a worker running on the database, as tsp's server runs:
# the worker stores each job for job-submit (relay.h) and runs it, as tsp
# and nq run theirs.  It listens once a job submitted has a token.
rm -rf "$tmp/r.db"*
job-submit -d "$tmp/r.db" -q -H -- true >/dev/null
exec-run -d "$tmp/r.db" --results "$tmp/res/relay" --worker -q \
    >/dev/null 2>&1 &
rw=$!
i=0
until [ "$(sqlite3 "$tmp/r.db" 'select count(token) from jobs')" -gt 0 ]; do
	i=$((i + 1))
	[ "$i" -le 300 ] || { echo "bench: the worker does not relay" >&2; exit 1; }
	job-submit -d "$tmp/r.db" -q -H -- true >/dev/null
	sleep 0.01
done
hf submit-w --runs "$runs" --warmup 1 \
    -n job-submit-worker "$(loop "job-submit -d $tmp/r.db -q -- true")"
jw=$(mean submit-w 1)
bw=$(submits "$tmp/r.db")
say "   with a worker running, which stores each job and runs it, as tsp's server does:"
say "   job-submit $(per "$jw" "$nsub")   ratio job-submit/tsp $(ratio "$jw" "$ts")   job-submit/nq $(ratio "$jw" "$nq")   (target <= 1.0)"
say "   per job-submit: $(traced 1 job-submit -d "$tmp/r.db" -q -- true)${bw:+, $bw block writes (the worker's too: it stores and runs the job)}"
kill "$rw"
wait "$rw" 2>/dev/null || true
rw=
say ""
tsp -K >/dev/null 2>&1 || true
fi

# --- 2. an NDJSON stream of 100,000 specs ----------------------------------
if want 2; then
# The same stream twice: specs with a name and a command, and the same
# specs with a label each (a label is a row of its own, indexed).
awk 'BEGIN { for (i = 0; i < 100000; i++)
	printf "{\"name\":\"job-%d\",\"command\":[\"true\",\"%d\"]}\n", i, i }' \
    >"$tmp/plain.ndjson"
awk 'BEGIN { for (i = 0; i < 100000; i++)
	printf "{\"name\":\"job-%d\",\"command\":[\"true\",\"%d\"],\"labels\":{\"batch\":\"b%d\"}}\n", i, i, i % 100 }' \
    >"$tmp/labelled.ndjson"
hf stream --runs 3 --prepare "rm -f $tmp/n.db*" \
    -n plain "job-submit -d $tmp/n.db -q < $tmp/plain.ndjson" \
    -n labelled "job-submit -d $tmp/n.db -q < $tmp/labelled.ndjson"
rate() { awk -v s="$1" 'BEGIN { printf "%.0f", 100000 / s }'; }
say "2. NDJSON stream of 100000 specs in one transaction (target >= 200,000 jobs per second)"
say "   name and command: $(ms "$(mean stream 1)") ms, $(rate "$(mean stream 1)") jobs/s"
say "   and a label each: $(ms "$(mean stream 2)") ms, $(rate "$(mean stream 2)") jobs/s"
say ""
fi

# --- 3. queries on a database of a million jobs and tasks -----------------
if want 3; then
big=${BENCH_BIG_DB:-$tmp/big.db}
[ -f "$big" ] || "$top/bench/big-db.sh" "$big" "$nbig"
counts=$(sqlite3 "$big" 'SELECT (SELECT count(*) FROM jobs) || " jobs, " ||
    (SELECT count(*) FROM tasks) || " tasks, " || (SELECT count(*) FROM events) || " events"')
one=$(run-query -d "$big" jobs -s failed --since 1d -L 1 -q)
# A unique prefix of a command digest, as a user would paste it.
cmd=$(run-query -d "$big" tasks --ident job-500000 -f ndjson |
    sed 's/.*"cmd":"sha256:\([0-9a-f]\{12\}\).*/\1/')
hf query -N --warmup 5 --runs "$qruns" \
    -n jobs-state-window "run-query -d $big jobs -s failed --since 2h -L 100" \
    -n jobs-2states-range "run-query -d $big jobs -s failed,cancelled --since 7d --until 6d -L 100" \
    -n tasks-ended-window "run-query -d $big tasks -s succeeded -t ended --since 1d -L 100" \
    -n jobs-label-queue "run-query -d $big jobs -Q q1 -l exp=e7 --since 3d -L 100" \
    -n jobs-count "run-query -d $big jobs -s queued --count" \
    -n tasks-ident "run-query -d $big tasks --ident job-500000" \
    -n tasks-cmd "run-query -d $big tasks --cmd $cmd" \
    -n tasks-alive "run-query -d $big tasks --alive -L 100" \
    -n tasks-lost "run-query -d $big tasks --lost -L 100" \
    -n tasks-alive-window "run-query -d $big tasks --since 2h --until 1h -L 100" \
    -n jobs-default "run-query -d $big jobs -L 100" \
    -n jobs-default-count "run-query -d $big jobs --count" \
    -n jobs-default-table "env COLUMNS=80 run-query -d $big jobs -f table -L 100" \
    -n describe "job-describe -d $big $one" \
    -n describe-prefix "job-describe -d $big $(printf %.5s "$one")"
say "3. a database of $counts (ms per query, target < 20; describe < 5)"
i=1
for n in "run-query jobs -s failed --since 2h -L 100" \
    "run-query jobs -s failed,cancelled --since 7d --until 6d -L 100" \
    "run-query tasks -s succeeded -t ended --since 1d -L 100" \
    "run-query jobs -Q q1 -l exp=e7 --since 3d -L 100" \
    "run-query jobs -s queued --count" \
    "run-query tasks --ident NAME" "run-query tasks --cmd PREFIX" \
    "run-query tasks --alive -L 100" "run-query tasks --lost -L 100" \
    "run-query tasks --since 2h --until 1h -L 100 (alive in the window)" \
    "run-query jobs -L 100 (the default: active, and ended this hour)" \
    "run-query jobs --count (the same)" \
    "COLUMNS=80 run-query jobs -f table -L 100 (fitted, with reasons)" \
    "job-describe ID" "job-describe PREFIX"; do
	say "   $(ms "$(mean query $i)")   $n"
	i=$((i + 1))
done
say ""
[ -n "${BENCH_BIG_DB:-}" ] || rm -f "$big" "$big"-*
fi

# --- 4. trivial jobs through a worker and its peers -----------------------
if want 4; then
# Each jobkit task is a durable row and a results directory; the peers
# record nothing (tsp keeps an output file per job).  Each run writes its
# files in a folder of its own, and all are removed only when the bench
# ends: on ext4 without a journal a new inode is checked against those
# deleted in the last one to six minutes, and removing a run's 5000 files
# before the next (or this section's 30,000 before the foreground's
# section) would time the file system's memory of that.
awk -v n="$nrun" 'BEGIN { for (i = 0; i < n; i++) print "{\"command\":[\"true\"]}" }' \
    >"$tmp/run.ndjson"
hf runner --runs "$runs" --warmup 1 \
    --prepare "rm -rf $tmp/w.db*; tsp -K >/dev/null 2>&1 || true; job-submit -d $tmp/w.db -q < $tmp/run.ndjson >/dev/null" \
    -n exec-run "exec-run -d $tmp/w.db --results $tmp/res/\$(date +%s%N) --worker -j 2 --drain -q" \
    -n parallel "seq $nrun | parallel -j2 true" \
    -n tsp "TMPDIR=$tmp/tsp-out/\$(date +%s%N); mkdir -p \$TMPDIR; export TMPDIR; tsp -S 2; for i in \$(seq $nrun); do tsp true >/dev/null; done; tsp -w" \
    -n xargs "seq $nrun | xargs -P2 -n1 true"
hf both --runs "$runs" --prepare "rm -rf $tmp/w.db*" \
    -n submit+exec-run "job-submit -d $tmp/w.db -q < $tmp/run.ndjson >/dev/null && exec-run -d $tmp/w.db --results $tmp/res/\$(date +%s%N) --worker -j 2 --drain -q"
er=$(mean runner 1) pa=$(mean runner 2) tr=$(mean runner 3) xa=$(mean runner 4) both=$(mean both 1)
say "4. $nrun trivial jobs (true), two at a time (ms per job; target <= 1.5x xargs -P2, faster than tsp -S 2 and parallel -j2)"
say "   exec-run --worker -j 2 --drain $(per "$er" "$nrun")   parallel -j2 $(per "$pa" "$nrun")   tsp -S 2 $(per "$tr" "$nrun")   xargs -P2 $(per "$xa" "$nrun")"
say "   ratio exec-run/parallel $(ratio "$er" "$pa")   exec-run/tsp $(ratio "$er" "$tr")   exec-run/xargs $(ratio "$er" "$xa")"
say "   (submitting the $nrun by NDJSON and then draining: $(per "$both" "$nrun") ms per job)"
# On a machine of few cores the worker's own CPU competes with its jobs:
# xargs and its jobs use C of CPU a job, the worker W more, so on two cores
# a job takes at least (C + W) / 2 where xargs takes C / 2 -- a ratio of at
# least 1 + W / C, whatever else the worker waits for.  perf stat -i counts
# the worker alone, not the jobs it starts; like the runs above, it writes
# into a folder of its own (see above).
if perf stat -i -x, -e task-clock true >/dev/null 2>&1; then
	rm -rf "$tmp"/w.db*
	job-submit -d "$tmp/w.db" -q <"$tmp/run.ndjson" >/dev/null
	w0=$(writes)
	own=$(perf stat -i -x, -e task-clock exec-run -d "$tmp/w.db" \
	    --results "$tmp/res/cpu" --worker -j 2 --drain -q 2>&1 >/dev/null |
	    awk -F, '/task-clock/ { print $1 / 1000 }')
	bw=$(per_write "$w0" "$(writes)" "$nrun")
	all=$(perf stat -x, -e task-clock sh -c "seq $nrun | xargs -P2 -n1 true" \
	    2>&1 >/dev/null | awk -F, '/task-clock/ { print $1 / 1000 }')
	say "   CPU a job: the worker's own $(per "$own" "$nrun") ms, xargs' with" \
	    "its true $(per "$all" "$nrun") ms: on $(nproc) cores a ratio to xargs" \
	    "of at least $(awk -v w="$own" -v c="$all" 'BEGIN { printf "%.2f", 1 + w / c }')"
	[ -z "$bw" ] || say "   block writes a job, as the disk under TMPDIR counted them: $bw"
fi
rm -rf "$tmp"/w.db*
job-submit -d "$tmp/w.db" -q <"$tmp/run.ndjson" >/dev/null
say "   per job of exec-run --worker: $(traced "$nrun" exec-run -d "$tmp/w.db" --results "$tmp/res/traced" --worker -j 2 --drain -q)"
# Each task makes five files (its folder, stdout, stderr, exitCode,
# result.json): what that costs is the file system's, which the same run
# with the results in memory shows (on ext4 without a journal each new
# inode is checked against those deleted recently).
if shm=$(mktemp -d /dev/shm/jobkit-bench.XXXXXX 2>/dev/null); then
	hf shm --runs "$runs" --prepare "rm -rf $tmp/w.db* $shm/res; job-submit -d $tmp/w.db -q < $tmp/run.ndjson >/dev/null" \
	    -n exec-run-shm "exec-run -d $tmp/w.db --results $shm/res --worker -j 2 --drain -q"
	say "   the same with its results on tmpfs: $(per "$(mean shm 1)" "$nrun") ms per job," \
	    "ratio to xargs $(ratio "$(mean shm 1)" "$xa"); results on $(stat -f -c %T "$tmp")"
	rm -rf "$shm"
fi
say ""
tsp -K >/dev/null 2>&1 || true
fi

# --- 5. the foreground: exec-run -- true against true ---------------------
if want 5; then
# The floor of any runner: a process that starts true and waits for it
# (sh -c with a second command, so that sh cannot exec true in its place).
hf fore -N --warmup 10 --runs $((qruns * 5)) \
    -n exec-run "exec-run -d $tmp/f.db --results $tmp/fres -- true" \
    -n true "true" \
    -n sh "sh -c '/usr/bin/true; :'"
fe=$(mean fore 1) ft=$(mean fore 2) fs=$(mean fore 3)
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a - b) * 1000 }'; }
say "5. foreground: exec-run -- true $(ms "$fe") ms, true $(ms "$ft") ms," \
    "added $(added "$fe" "$ft") ms"
say "   floor: sh -c 'true; :' $(ms "$fs") ms, added $(added "$fs" "$ft") ms" \
    "with no record at all; exec-run adds $(added "$fe" "$fs") ms to that" \
    "(target <= 1)"
say ""
fi

# --- 6. a worker's memory while its job prints 1 GiB ----------------------
if want 6; then
job-submit -d "$tmp/m.db" -q --max-file 10M -S 'head -c 1073741824 /dev/zero' >/dev/null
start=$(date +%s%N)
exec-run -d "$tmp/m.db" --results "$tmp/mres" --worker --drain -q >/dev/null &
pid=$!
hwm=$("$top"/scripts/peak-rss "$pid")
wait "$pid"
took=$(( ($(date +%s%N) - start) / 1000000 ))
say "6. worker peak RSS while its job prints 1 GiB: $((hwm / 1024)).$(( (hwm % 1024) * 10 / 1024 )) MiB" \
    "(target < 16), stdout kept $(stat -c %s "$tmp"/mres/*/stdout) bytes, ${took} ms"
say ""
fi

# --- 7. data staging: artifact-fetch against curl, tar and cp -------------
if want 7; then
# One nginx of our own (one process, in the foreground, everything under
# $tmp/ng) serves a file of random bytes on 127.0.0.1; what is fetched or
# unpacked goes to $tmp/dl, on the bench's filesystem, removed at the end.
# All three parts run on files in the page cache: the floor is the CPU
# (hashing, copying), not the disk.
if [ "${BENCH_QUICK:-0}" = 1 ]; then size=268435456 sruns=2; else size=1073741824 sruns=3; fi
mib=$((size / 1048576))
ngx=""
for p in $(command -v nginx) /usr/sbin/nginx /sbin/nginx; do
	[ -x "$p" ] && ngx=$p && break
done
[ -n "$ngx" ] || { echo "bench: section 7 needs nginx (scripts/deps.sh bench)" >&2; exit 1; }
ng=$tmp/ng www=$tmp/www dl=$tmp/dl
mkdir -p "$ng/tmp" "$www" "$dl"
echo ok >"$www/ping"
head -c "$size" /dev/urandom >"$www/blob"
hex=$(sha256sum "$www/blob" | cut -d' ' -f1)
# nginx by PID (and start time, so a reused PID is never signalled).
ng_pid=""
ng_stop() {
	[ -n "$ng_pid" ] || return 0
	if [ "$(sed 's/.*) //' "/proc/${ng_pid%%:*}/stat" 2>/dev/null | cut -d' ' -f20)" = "${ng_pid#*:}" ]; then
		kill -TERM "${ng_pid%%:*}" 2>/dev/null || true
		wait "${ng_pid%%:*}" 2>/dev/null || true
	fi
	ng_pid=""
}
trap 'ng_stop; cleanup' EXIT
for try in 1 2 3; do
	port=$(python3 -Ic 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$ng/nginx.conf" <<NGINX
master_process off;
daemon off;
pid $ng/nginx.pid;
error_log $ng/error.log;
events { worker_connections 64; }
http {
	client_body_temp_path $ng/tmp/body;
	proxy_temp_path $ng/tmp/proxy;
	fastcgi_temp_path $ng/tmp/fastcgi;
	uwsgi_temp_path $ng/tmp/uwsgi;
	scgi_temp_path $ng/tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	log_format bench '\$remote_addr \$request_method "\$request_uri" \$status \$body_bytes_sent';
	access_log $ng/access.log bench;
	server {
		listen 127.0.0.1:$port;
		root $www;
	}
}
NGINX
	"$ngx" -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" >"$ng/out" 2>&1 &
	ng_pid=$!:$(sed 's/.*) //' "/proc/$!/stat" | cut -d' ' -f20)
	url=http://127.0.0.1:$port
	i=0
	until curl -sf -o /dev/null "$url/ping"; do
		kill -0 "${ng_pid%%:*}" 2>/dev/null || break
		i=$((i + 1))
		[ $i -le 200 ] || break
		sleep 0.05
	done
	curl -sf -o /dev/null "$url/ping" && break
	ng_stop
	[ $try -lt 3 ] || { echo "bench: nginx did not start:" >&2; tail -5 "$ng/error.log" "$ng/out" >&2; exit 1; }
done
# The lines of nginx's access log, once the last request is logged.
lines() { sleep 0.2; wc -l <"$ng/access.log"; }

# a) a download, its sha256 checked: in one pass against curl and
# sha256sum, piped (two processes, two cores) or one after the other.
hf stage-get --warmup 1 --runs "$sruns" --prepare "rm -f $dl/F $dl/G" \
    -n artifact-fetch "artifact-fetch -q --no-cache -H sha256:$hex -o $dl/F $url/blob" \
    -n curl-pipe "curl -s $url/blob | sha256sum" \
    -n curl-then "curl -s -o $dl/G $url/blob && sha256sum $dl/G"
# (Floors: no warm-up, the file is in the page cache already.)
hf stage-floor --runs "$sruns" \
    -n cat "cat $www/blob >/dev/null" \
    -n sha256sum "sha256sum $www/blob" \
    -n curl-null "curl -s -o /dev/null $url/blob"
# Peak RSS of one such fetch: GNU time's %M if there is one, else VmHWM
# sampled from /proc.
rm -f "$dl/F"
if /usr/bin/time -f %M true >/dev/null 2>&1; then
	/usr/bin/time -o "$tmp/rss" -f %M artifact-fetch -q --no-cache \
	    -H "sha256:$hex" -o "$dl/F" "$url/blob" >/dev/null
	hwm=$(tail -1 "$tmp/rss") how="GNU time"
else
	artifact-fetch -q --no-cache -H "sha256:$hex" -o "$dl/F" "$url/blob" >/dev/null &
	pid=$!
	hwm=$("$top"/scripts/peak-rss "$pid")
	wait "$pid"
	how="VmHWM, sampled"
fi
[ "$(sha256sum <"$dl/F" | cut -d' ' -f1)" = "$hex" ] ||
    { echo "bench: artifact-fetch wrote a file with another hash" >&2; exit 1; }
rm -f "$dl/F" "$dl/G"

# b) unpacking a tar.gz of 256 files in 16 folders, each half seq's lines,
# half base64 of random bytes (gzip -6 makes it about half its size).
if [ -n "${BENCH_KEEP:-}" ]; then tgz=$out/stage-$mib.tar.gz; else tgz=$tmp/stage.tar.gz; fi
if [ ! -f "$tgz" ]; then
	per=$((size / 256)) half=$((size / 512))
	for d in $(seq 0 15); do
		mkdir -p "$tmp/tree/d$d"
		for f in $(seq 0 15); do
			n=$((d * 16 + f))
			{ seq $((n * 1000000)) $((n * 1000000 + 999999)) | head -c "$half"
			  base64 -w 76 </dev/urandom | head -c $((per - half)); } >"$tmp/tree/d$d/f$f.txt"
		done
	done
	tar -C "$tmp/tree" -cf - . | gzip >"$tgz.part"
	mv "$tgz.part" "$tgz"
	rm -rf "$tmp/tree"
fi
tgzmib=$(( $(stat -c %s "$tgz") / 1048576 ))
hf stage-unpack --warmup 1 --runs "$sruns" --prepare "rm -rf $dl/x; mkdir $dl/x" \
    -n artifact-fetch "artifact-fetch -q --no-cache -x -C $dl/x file://$tgz" \
    -n tar "tar xzf $tgz -C $dl/x"
hf stage-gunzip --runs "$sruns" -n gzip-d "gzip -dc $tgz >/dev/null"
rm -rf "$dl/x"

# c) a cache hit: the hash is known and its object is in the cache, so
# there is no request at all (nginx's log says so); against a copy of
# that object with cp.
cache=$tmp/cache
l0=$(lines)
artifact-fetch -q --cache "$cache" -H "sha256:$hex" -o "$dl/F" "$url/blob" >/dev/null
l1=$(lines)
obj=$cache/objects/$hex
[ -f "$obj" ] || { echo "bench: the cache has no $obj" >&2; exit 1; }
hf stage-hit --warmup 1 --runs "$sruns" --prepare "rm -f $dl/F2 $dl/F3" \
    -n artifact-fetch "artifact-fetch -q --cache $cache -H sha256:$hex -o $dl/F2 $url/blob" \
    -n cp "cp --reflink=auto $obj $dl/F3"
# hyperfine's last prepare removed F2: one more hit, to check its bytes.
artifact-fetch -q --cache "$cache" -H "sha256:$hex" -o "$dl/F2" "$url/blob" >/dev/null
l2=$(lines)
[ "$(sha256sum <"$dl/F2" | cut -d' ' -f1)" = "$hex" ] ||
    { echo "bench: a cache hit wrote a file with another hash" >&2; exit 1; }
hits=$((sruns + 2))
if [ $((l2 - l1)) = 0 ]; then
	logged="nginx logged no request in the $hits hits (the fill: $((l1 - l0)))"
else
	logged="nginx logged $((l2 - l1)) requests in the $hits hits, expected none"
fi
rm -rf "$dl" "$cache" "$www"
ng_stop
trap cleanup EXIT

ag=$(mean stage-get 1) cp_=$(mean stage-get 2) ct=$(mean stage-get 3)
fc=$(mean stage-floor 1) fs=$(mean stage-floor 2) fn=$(mean stage-floor 3)
ux=$(mean stage-unpack 1) ut=$(mean stage-unpack 2) ug=$(mean stage-gunzip 1)
ha=$(mean stage-hit 1) hc=$(mean stage-hit 2)
say "7. data staging of $mib MiB, in the page cache (ms per run, $sruns runs)"
say "   fetch over loopback HTTP (nginx), sha256 checked: artifact-fetch -H $(ms "$ag")" \
    "  curl | sha256sum $(ms "$cp_")   curl -o F && sha256sum F $(ms "$ct")"
say "   ratio artifact-fetch/curl|sha256sum $(ratio "$ag" "$cp_") (target <= 1.0)" \
    "  artifact-fetch/curl-then-sha256sum $(ratio "$ag" "$ct") (target < 1.0)"
say "   artifact-fetch peak RSS $((hwm / 1024)).$(( (hwm % 1024) * 10 / 1024 )) MiB ($how; target < 16)"
say "   floor: cat F >/dev/null $(ms "$fc")   sha256sum F $(ms "$fs")   curl -o /dev/null $(ms "$fn")"
say "   unpack a $tgzmib MiB tar.gz ($mib MiB in 256 files) from a file: artifact-fetch -x $(ms "$ux")" \
    "  tar xzf $(ms "$ut")   (floor: gzip -dc >/dev/null $(ms "$ug"))"
say "   ratio artifact-fetch -x/tar xzf $(ratio "$ux" "$ut") (target <= 1.1)"
say "   cache hit, hash known: artifact-fetch --cache $(ms "$ha")   cp --reflink=auto $(ms "$hc")" \
    "  ratio $(ratio "$ha" "$hc") (target <= 1.0)"
say "   $logged"
say ""
fi

# --- 8. leases: many task-keepalive renewing on one database --------------
if want 8; then
# Issue 11: N processes each keep a task's lease (10 s, renewed every 1 s)
# on one sqlite database while their sleep runs; bench/keepalive.sh runs
# them and measures.  The floors come first, before the N start: a
# process start, and a write synced to the disk the database is on (dd's
# oflag=dsync is a write and an fdatasync, on a file synced once before,
# so that only its data goes each time).
kn=${BENCH_KEEPALIVE_N:-500} ks=${BENCH_KEEPALIVE_S:-60}
hf kfloor -N --warmup 10 --runs $((qruns * 5)) \
    -n true "true" \
    -n sh "sh -c '/usr/bin/true; :'"
dd if=/dev/zero of="$tmp/sync" bs=4096 count=200 conv=fsync 2>/dev/null
t0=$(date +%s%N)
dd if=/dev/zero of="$tmp/sync" bs=4096 count=200 oflag=dsync conv=notrunc 2>/dev/null
fsync_ms=$(awk -v t=$(( $(date +%s%N) - t0 )) 'BEGIN { printf "%.2f", t / 200 / 1e6 }')
rm -f "$tmp/sync"
load=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir "$tmp/ka"
"$top/bench/keepalive.sh" "$tmp/ka" "$kn" "$ks"
. "$tmp/ka/figures"
cp "$tmp/ka/odd" "$out/keepalive-stderr.txt"
pct() { awk -v c="$1" -v w="$2" 'BEGIN { printf "%.1f", c * 100000 / w }'; }
say "8. $kn task-keepalive renewing every 1 s on one sqlite database, all at once for $ks s" \
    "(target: no missed renewal, no lock error)"
say "   missed renewals in the window $missed ($late gaps > 1.5 s between renewals of a task; longest $longest ms)" \
    "  lock errors $lock_errors   leases lost $lost   exits other than 0: $nonzero of $kn"
[ "$missed" = 0 ] || say "   first: $missed_example"
[ "$late_out" = 0 ] || say "   outside the window (the start of all $kn at once, the seconds after):" \
    "$missed_out missed in $late_out gaps ($late_first_out of them before a task's first renewal)," \
    "longest $longest_out ms; first: $missed_example_out"
[ "$lock_errors" = 0 ] || say "   first lock error: $lock_example"
[ "$lost" = 0 ] || say "   first lease lost: $lost_example"
[ "$nonzero" = 0 ] || say "   exit statuses (pid:status): $statuses; $task_example"
[ "$alive0" = "$kn" ] && [ "$alive1" = "$kn" ] ||
    say "   alive when the window began: $alive0, when it ended: $alive1 (of $kn)"
[ "$other" = 0 ] || say "   other stderr lines: $other, first: $other_example"
[ "$sampler_errors" = 0 ] || say "   the sampler's sqlite3 failed: $sampler_errors lines of errors"
[ ! -s "$out/keepalive-stderr.txt" ] ||
    say "   all but the renewals they printed, and the exits other than 0: $out/keepalive-stderr.txt"
say "   renewals $window in the $(awk -v w="$wall" 'BEGIN { printf "%.1f", w / 1000 }') s window" \
    "(expected $expected), $renewals in all ($seen seen in the database by $samples samples," \
    "at most $sample_gap ms apart; the oldest keepalive one saw in the window: $oldest ms)"
say "   renewal latency (-v) p50 $p50 ms   p99 $p99 ms   max $max ms"
say "   CPU of the $kn in the window: $cpu_on s on a CPU (schedstat) = $(pct "$cpu_on" "$wall")% of one core," \
    "$(awk -v c="$cpu_on" -v r="$window" 'BEGIN { printf "%.3f", c * 1000 / r }') ms per renewal;" \
    "whole lives, start, end and sleep included: user $cpu_user s + sys $cpu_sys s (times)"
say "   floor: true $(ms "$(mean kfloor 1)") ms   sh -c 'true; :' $(ms "$(mean kfloor 2)") ms" \
    "  fdatasync of 4 KiB $fsync_ms ms (dd oflag=dsync)   all $kn started in $started_in ms   load before: $load"
say ""
fi

# --- 9. a claim with a million queued jobs in the way ---------------------
if want 9; then
# Issue 13: what a claim costs when N queued jobs ahead of the one job that
# fits are jobs the worker cannot take: they ask for a GPU it does not
# have, are not due for a year, or are of a queue it does not serve; and
# when N queued jobs all fit (it takes the first).  claim-once (built
# beside the tools) makes one claim as a worker with no GPU that serves
# two queues, and nothing else: open, record a run, claim, end the run.
# hyperfine times the process; the claim in it is timed inside and its
# steps counted (store_steps(), what tests/unit/claim.c asserts on).  A
# worker does more around its claims: asking when the next is due, which
# this does not measure, and noting why the unfit wait, which note-once
# does for the million that want a GPU.  The job that fits
# is submitted before each run; those in the way stay as they are.
ncl=${BENCH_CLAIM:-1000000}
co=$(cd "$bin/.." && pwd)/bench/claim-once
no=$(cd "$bin/.." && pwd)/bench/note-once
[ -x "$co" ] || { echo "bench: section 9 needs $co (make builds it)" >&2; exit 1; }
[ -x "$no" ] || { echo "bench: section 9 needs $no (make builds it)" >&2; exit 1; }
# cdb NAME N SPEC: the database NAME of N queued jobs of SPEC (JSON).
cdb() {
	if [ "$2" = 0 ]; then
		job-submit -d "$tmp/$1.db" -q --hold -- true >/dev/null
	else
		awk -v n="$2" -v s="$3" 'BEGIN { for (i = 0; i < n; i++) print s }' |
		    job-submit -d "$tmp/$1.db" -q >/dev/null
	fi
}
# claim NAME N RUNS [fit]: claims on NAME, by hyperfine and inside; with
# fit, the N fit and no job is added.  Sets $inside (the median ms of the
# claim in 11 runs) and $steps.
claim() {
	db=$tmp/$1.db
	add="job-submit -d $db -q -- true"
	[ $# = 3 ] || add=true
	hf "claim-$1" -N --warmup 3 --runs "$3" --prepare "$add" \
	    -n "claim-once-$1" "$co $db default batch"
	: >"$tmp/inside"
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		if [ $# = 3 ]; then
			want=$(job-submit -d "$db" -q -- true)
		else
			want=$(run-query -d "$db" jobs -s queued -q -L 1 --sort created)
		fi
		"$co" "$db" default batch >>"$tmp/inside" ||
		    { echo "bench: claim-once claimed nothing in $1" >&2; exit 1; }
		# It claimed the job that fits, and only it.
		case $(tail -1 "$tmp/inside") in
		"$want".*) ;;
		*) echo "bench: claim-once took $(tail -1 "$tmp/inside") in $1, not $want" >&2; exit 1 ;;
		esac
	done
	inside=$(sort -n -k2 "$tmp/inside" | awk 'NR == 6 { print $2 }')
	steps=$(sort -n -k3 "$tmp/inside" | awk 'NR == 6 { print $3 }')
	[ $# = 4 ] || [ "$(run-query -d "$db" jobs -s queued -c)" = "$2" ] ||
	    { echo "bench: the jobs in the way of $1 did not stay queued" >&2; exit 1; }
	# A worker with no GPU says why the N that want one wait: its first
	# note looks at all of them, the next only at what changed.
	[ "$1" != gpu ] || note=$("$no" "$db") ||
	    { echo "bench: note-once failed in $1" >&2; exit 1; }
	rm -f "$db" "$db"-*
}
cdb none 0
claim none 0 "$qruns"
p0=$(mean claim-none 1) i0=$inside
say "9. a claim with N queued jobs ahead that the worker cannot take (target: flat, < 5 ms)"
say "   claim-once, as a worker with no GPU of queues default and batch: the process" \
    "(hyperfine), the claim in it (median of 11), its steps"
say "   none in the way: $(ms "$p0") ms, the claim $inside ms, $steps steps"
for c in "gpu1k 1000 asking for a GPU" "gpu100k 100000 asking for a GPU" \
    "gpu $ncl asking for a GPU" "due $ncl not due for a year" \
    "queue $ncl of another queue" "fit $ncl that fit, ahead (it takes the first)"; do
	set -- $c
	cn=$1 cnum=$2
	shift 2
	case $cn in
	gpu*) spec='{"command":["true"],"resources":{"gpu":1}}' ;;
	due) spec='{"command":["true"],"at":"+8760h"}' ;;
	queue) spec='{"command":["true"],"queue":"other"}' ;;
	fit) spec='{"command":["true"]}' ;;
	esac
	cdb "$cn" "$cnum" "$spec"
	if [ "$cnum" -gt 100000 ]; then cr=$((runs * 4)); else cr=$qruns; fi
	if [ "$cn" = fit ]; then claim "$cn" "$cnum" "$cr" fit; else claim "$cn" "$cnum" "$cr"; fi
	pn=$(mean "claim-$cn" 1)
	say "   $cnum $*: $(ms "$pn") ms (ratio $(ratio "$pn" "$p0")), the claim" \
	    "$inside ms (ratio $(ratio "$inside" "$i0")), $steps steps"
	[ "$cn" != gpu ] || say "   and why they wait (note-once): the first note" \
	    "$(echo "$note" | cut -d' ' -f1) ms, the note after one more" \
	    "$(echo "$note" | cut -d' ' -f2) ms, $(echo "$note" | cut -d' ' -f3) steps"
done
say ""
fi

say "raw figures: $out/*.csv, $out/*.json"
