#!/bin/sh
# job-submit from argv: every spec option lands in the stored spec.
. "$(dirname "$0")/lib.sh"
plan 50

spec() { job-describe --spec --format ndjson "$1"; }

check_exit 0 "submit a command" job-submit -- echo hello world
check_out '^\{"id":"a001","name":"echo","state":"queued","queue":"default","priority":0,"created":"[0-9T:.-]+Z"\}$' \
    "one object with id, name, state, queue, priority, created"
run spec a001
check_out '"command":\["echo","hello","world"\]' "argv is kept as given"

check_exit 0 "options after -- belong to the command" job-submit -q -- ls -l --color
check_same "-q prints just the ID" "$(cat "$T/out")" "a002"
run spec a002
check_out '"command":\["ls","-l","--color"\]' "and reach the command untouched"

export COPIED=from-env
printf '# comment\nexport A=1\n\nB=two words\n' >"$T/envfile"
id=$(job-submit -q -n build -e X=1 -e COPIED --env-file "$T/envfile" \
    -w /tmp -t 1h30m --grace 5s -r 3 --retry-on 1,2 -p 7 -Q gpu \
    -l team=ml -l tier=2 --cpu 500m --memory 2G --disk 10GB --gpu 1 \
    --max-file 1M --max-return 2K -- true)
run spec "$id"
check_out '"name":"build"' "-n sets the name"
check_out '"env":\{"X":"1","COPIED":"from-env","A":"1","B":"two words"\}' \
    "-e K=V, -e K from the environment, --env-file with comments and export"
check_out '"workdir":"/tmp"' "-w sets the work directory"
check_out '"timeout":5400' "-t is stored in seconds"
check_out '"grace":5' "--grace in seconds"
check_out '"retries":3' "-r sets retries"
check_out '"retry_on":\[1,2\]' "--retry-on takes a list"
check_out '"priority":7' "-p sets the priority"
check_out '"queue":"gpu"' "-Q sets the queue"
check_out '"labels":\{"team":"ml","tier":"2"\}' "-l sets labels"
check_out '"resources":\{"cpu":0.5,"memory":2147483648,"disk":10000000000,"gpu":1\}' \
    "--cpu, --memory (binary G), --disk (decimal GB), --gpu"
check_out '"output":\{"max_file":1048576,"max_return":2048\}' "--max-file, --max-return"

dep=$(job-submit -q -- true)
w=$(job-submit -q --after "$dep" --after-any a001 -- true)
run job-describe --format ndjson "$w"
check_out '"state":"waiting"' "a job after an unfinished one waits"
check_out "\"dependencies\":\[\{\"id\":\"a001\",\"kind\":\"any\",\"state\":\"queued\"\},\{\"id\":\"$dep\",\"kind\":\"success\"" \
    "its dependencies, with their kind"
check_exit 66 "a dependency that does not exist" job-submit --after azzz -- true
check_stderr "dependency: no such job 'azzz'" "is named"
check_exit 65 "a dependency that is no ID at all" job-submit --after 'zz!z' -- true
check_stderr "after\[0\]: 'zz!z' is not a job ID" "is refused as bad data"

h=$(job-submit -q -H -- true)
run job-describe --format ndjson "$h"
check_out '"state":"held"' "-H submits held"
at=$(job-submit -q --at +2h -- true)
run job-describe --format ndjson "$at"
check_out '"not_before":"20' "--at sets not-before"
run job-submit -f ndjson --at 2h -- true
check_out '"created":"[^"]*","not_before":"20' "and the new job's object shows it, as a read-back does"

k1=$(job-submit -q -k nightly -- true)
k2=$(job-submit -q -k nightly -- true)
check_same "a key submitted twice gives the same job" "$k2" "$k1"
check_same "and one job only" "$(sqlite3 "$JOBKIT_DB" "select count(*) from jobs where idem_key='nightly'")" "1"

check_exit 0 "--shell" job-submit -q -S 'make -j4 && echo ok'
run spec "$(cat "$T/out")"
check_out '"shell":"make -j4 && echo ok".*"name":"make"' "is stored as a shell string"

for f in json ndjson text; do
	check_exit 0 "--format $f" job-submit -f "$f" -- true
done
check_exit 0 "--format table" job-submit -f table -- true
check_out '^ID +STATE' "the table has a header"
check_exit 0 "--db" job-submit -q --db "$T/other.db" -- true
check_same "goes to that database" "$(sqlite3 "$T/other.db" 'select count(*) from jobs')" "1"
check_exit 0 "--help" job-submit --help
check_out '^usage: job-submit' "prints usage to stdout"
check_exit 64 "--max-return past 1 MiB" job-submit --max-return 2M -- true
check_stderr "^job-submit: --max-return: at most 1MiB, not '2M'\$" "says so"
mkdir -p "$T/sub"
id=$(cd "$T" && job-submit -q -w sub -- true)
run spec "$id"
check_out "\"workdir\":\"$T/sub\"" "a relative -w is stored made absolute"
check_exit 64 "a bad option" job-submit --bogus -- true
check_stderr "usage: job-submit" "prints usage to stderr and exits 64"
run "$JOBKIT_BIN/job-submit" --bogus -- true
check_stderr "^job-submit: unrecognized option '--bogus'" "run by its path, it names the tool"
check_exit 74 "--env-file naming a directory" job-submit --env-file "$T" -- true
check_stderr "--env-file: .*: Is a directory" "says it cannot be read"
check_exit 66 "--env-file naming nothing" job-submit --env-file "$T/nope" -- true
check_stderr "--env-file: .*nope: No such file" "says so"
done_testing
