#!/bin/sh
# make demo: a short tour of jobkit on the embedded sqlite database.
# It uses its own database under build/demo so it never touches yours.
set -eu
bin=$1
PATH=$bin:$PATH
dir=$(cd "$bin/.." && pwd)/demo
rm -rf "$dir"
mkdir -p "$dir"
JOBKIT_DB=$dir/jobkit.db
export JOBKIT_DB PATH

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; sh -c "$*"; }

echo "jobkit demo: database $JOBKIT_DB"
run "job-submit --name fetch -l project=demo -- sh -c 'echo fetching'"
fetch=$(run-query jobs --name fetch -q)
run "job-submit --name build --after $fetch -l project=demo -t 10m --cpu 2 --memory 1G -- make -j2"
run "job-submit --name nightly --key nightly-$(date +%F) --at +8h -Q batch -- ./nightly.sh"
run "job-submit --name nightly --key nightly-$(date +%F) --at +8h -Q batch -- ./nightly.sh   # same key: same job"
run "printf '%s\n' '{\"name\":\"sweep-1\",\"command\":[\"train\",\"--lr\",\"0.1\"],\"labels\":{\"project\":\"demo\"}}' '{\"name\":\"sweep-2\",\"command\":[\"train\",\"--lr\",\"0.01\"],\"labels\":{\"project\":\"demo\"}}' | job-submit"
run "run-query jobs --format table"
run "run-query jobs --label project=demo --state waiting,queued --format table"
run "job-submit --hold $(run-query jobs --name 'sweep-*' -q | head -1) --format table"
run "job-submit --cancel $fetch --format table   # build depended on it"
run "job-describe $(run-query jobs --name build -q) --format text"
run "run-query jobs --summary --format text"
run "run-query queues --format table"
echo
echo "demo done: try JOBKIT_DB=$JOBKIT_DB $bin/run-query jobs"
