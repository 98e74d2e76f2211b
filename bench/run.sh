#!/bin/sh
# make bench: jobkit side by side with what users would otherwise pick,
# every figure from one run on this machine, reported as ratios.
#
# Usage: bench/run.sh BINDIR
# Knobs: BENCH_SUBMIT (invocations per loop, 200), BENCH_RUN (jobs per
# runner comparison, 1000), BENCH_BIG (rows in the query database, 1000000),
# BENCH_QUICK=1 (fewer repetitions, for trying the script), BENCH_BIG_DB
# (keep the query database there, made once), BENCH_ONLY (sections to run,
# e.g. "3 5").
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
cleanup() {
	tsp -K >/dev/null 2>&1 || true
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

want() { case " ${BENCH_ONLY:-1 2 3 4 5 6} " in *" $1 "*) return 0 ;; esac; return 1; }
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

# per SECONDS COUNT: milliseconds per item.
per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.3f", s * 1000 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

say "jobkit bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores," \
    "$(uname -sr), $(hyperfine --version)"
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
say "2. NDJSON stream of 100000 specs in one transaction (target >= 100000 jobs/s)"
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
hf query -N --warmup 5 --runs "$qruns" \
    -n jobs-state-window "run-query -d $big jobs -s failed --since 2h -L 100" \
    -n jobs-2states-range "run-query -d $big jobs -s failed,cancelled --since 7d --until 6d -L 100" \
    -n tasks-ended-window "run-query -d $big tasks -s succeeded -t ended --since 1d -L 100" \
    -n jobs-label-queue "run-query -d $big jobs -Q q1 -l exp=e7 --since 3d -L 100" \
    -n jobs-count "run-query -d $big jobs -s queued --count" \
    -n describe "job-describe -d $big $one" \
    -n describe-prefix "job-describe -d $big $(printf %.5s "$one")"
say "3. a database of $counts (ms per query, target < 20; describe < 5)"
i=1
for n in "run-query jobs -s failed --since 2h -L 100" \
    "run-query jobs -s failed,cancelled --since 7d --until 6d -L 100" \
    "run-query tasks -s succeeded -t ended --since 1d -L 100" \
    "run-query jobs -Q q1 -l exp=e7 --since 3d -L 100" \
    "run-query jobs -s queued --count" \
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
# record nothing (tsp keeps an output file per job).
awk -v n="$nrun" 'BEGIN { for (i = 0; i < n; i++) print "{\"command\":[\"true\"]}" }' \
    >"$tmp/run.ndjson"
hf runner --runs "$runs" --warmup 1 \
    --prepare "rm -rf $tmp/w.db* $tmp/res $tmp/tsp-out; mkdir $tmp/tsp-out; tsp -K >/dev/null 2>&1 || true; job-submit -d $tmp/w.db -q < $tmp/run.ndjson >/dev/null" \
    -n exec-run "exec-run -d $tmp/w.db --results $tmp/res --worker -j 2 --drain -q" \
    -n parallel "seq $nrun | parallel -j2 true" \
    -n tsp "TMPDIR=$tmp/tsp-out; export TMPDIR; tsp -S 2; for i in \$(seq $nrun); do tsp true >/dev/null; done; tsp -w" \
    -n xargs "seq $nrun | xargs -P2 -n1 true"
hf both --runs "$runs" --prepare "rm -rf $tmp/w.db* $tmp/res" \
    -n submit+exec-run "job-submit -d $tmp/w.db -q < $tmp/run.ndjson >/dev/null && exec-run -d $tmp/w.db --results $tmp/res --worker -j 2 --drain -q"
er=$(mean runner 1) pa=$(mean runner 2) tr=$(mean runner 3) xa=$(mean runner 4) both=$(mean both 1)
say "4. $nrun trivial jobs (true), two at a time (ms per job; target <= 1.5, < parallel, < tsp, <= 1.5x xargs)"
say "   exec-run --worker -j 2 --drain $(per "$er" "$nrun")   parallel -j2 $(per "$pa" "$nrun")   tsp -S 2 $(per "$tr" "$nrun")   xargs -P2 $(per "$xa" "$nrun")"
say "   ratio exec-run/parallel $(ratio "$er" "$pa")   exec-run/tsp $(ratio "$er" "$tr")   exec-run/xargs $(ratio "$er" "$xa")"
say "   (submitting the $nrun by NDJSON and then draining: $(per "$both" "$nrun") ms per job)"
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
    "added $(added "$fe" "$ft") ms (target <= 2)"
say "   floor: sh -c 'true; :' $(ms "$fs") ms, added $(added "$fs" "$ft") ms" \
    "with no record at all; exec-run adds $(added "$fe" "$fs") ms to that"
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

say "raw figures: $out/*.csv, $out/*.json"
