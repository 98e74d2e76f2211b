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
run "job-submit --name fetch -l project=demo -- sh -c 'echo fetching data; sleep 0.3'"
fetch=$(run-query jobs --name fetch -q)
run "job-submit --name build --after $fetch -l project=demo -t 10m --cpu 1 --memory 1G -- sh -c 'echo building; echo warning: demo >&2'"
run "job-submit --name nightly --key nightly-$(date +%F) --at +8h -Q batch -- ./nightly.sh"
run "job-submit --name nightly --key nightly-$(date +%F) --at +8h -Q batch -- ./nightly.sh   # same key: same job"
run "printf '%s\n' '{\"name\":\"sweep-1\",\"shell\":\"echo lr=0.1\",\"labels\":{\"project\":\"demo\"}}' '{\"name\":\"sweep-2\",\"shell\":\"echo lr=0.01; exit 3\",\"labels\":{\"project\":\"demo\"}}' '{\"name\":\"sweep-3\",\"shell\":\"echo lr=0.001\",\"labels\":{\"project\":\"demo\"}}' | job-submit"
run "run-query jobs --format table"
run "job-submit --hold $(run-query jobs --name sweep-3 -q) --format table"
run "exec-run --worker -j 2 --drain --format table   # runs what is ready, two at a time"
run "run-query tasks --format table"
run "exec-run --logs $(run-query jobs --name build -q) --stderr"
run "job-describe $(run-query jobs --name build -q) --format text"
run "run-query jobs --state failed -q | job-submit --retry --format table"
run "exec-run -t 1s -- sh -c 'echo in the foreground; sleep 5' || echo \"exit status \$?: timed out, like timeout(1)\""
say "# at the terminal, as with tsp or nq: submit and it runs"
run "job-submit -s --idle-exit 2s -- sh -c 'echo started for you; sleep 0.2; echo done' >/dev/null   # -s starts a worker when none serves the queue"
run "exec-run --logs --follow   # the output of your last job, followed to its end"
run "printf '%s\\n' 0.1 0.01 | job-submit -s --idle-exit 2s --format table --each -- echo lr={}   # a job a line"
run "job-submit -q -s --idle-exit 2s -n sweep --array 1-4%2 -- sh -c 'echo index \$JOBKIT_ARRAY_INDEX' | head -1 | exec-run --wait && echo all four indices done   # two at a time"
run "run-query --format table   # what is active, and what ended in the last hour"
run "task-keepalive -n backup -k backup -- sh -c 'echo backing up; sleep 1'   # a cron line, as a task with a lease"
run "task-keepalive -n backup -k backup -- sh -c 'echo backing up; sleep 1'   # the next night: the same job, its next attempt"
run "run-query tasks --ident backup --format table"
run "run-query runs --format table"
run "run-query jobs --summary --format text"
run "run-query queues --format table"
echo
echo "demo done: try JOBKIT_DB=$JOBKIT_DB $bin/run-query jobs"
