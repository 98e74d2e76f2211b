#!/bin/sh
# Jobs of shards: a parent created with its shards in one transaction,
# at most `concurrency` of them running at once, ending when they all
# have (failed if any failed); cancel and retry go to the shards.  Jobs
# with a selector run only on workers whose labels match it.
. "$(dirname "$0")/lib.sh"
plan 44
db=$JOBKIT_DB

shard() { printf '{"shell":"sleep 0.5; echo %s"}' "$1"; }
spec="{\"name\":\"sweep\",\"concurrency\":2,\"notes\":[\"from a test\"],\"shards\":[$(shard a),$(shard b),$(shard c),$(shard d)]}"
check_exit 0 "a job of four shards" sh -c "echo '$spec' | job-submit -q"
check_same "is five jobs, the parent first" "$(tr '\n' ' ' <"$T/out")" "a001 a002 a003 a004 a005 "
check_same "the parent waits for its shards" "$(job_state a001)" "waiting"
run job-describe -f ndjson a001
check_out '"reason":"0 of 4 shards ended"' "saying how many ended"
check_out '"type":"note","state":"waiting","message":"from a test"' "a note is an event"
check_out '"dependencies":\[\{"id":"a002","kind":"shard"' "its shards are its dependencies"
run job-describe -f ndjson --spec a003
check_out '"labels":\{"parent":"a001","shard":"1"\},"parent":"a001"' \
    "a shard names its parent, in a field and in labels"
check_same "run-query finds the shards by label" \
    "$(run-query jobs -l parent=a001 -c)" "4"

check_exit 0 "a worker with four slots" exec-run --worker -j 4 --drain -q
check_same "runs them all" "$(run-query jobs -s succeeded -c)" "5"
# Two at a time: no moment has three running, some has two.
most=$(sqlite3 "$db" "select max(n) from (select (select count(*) from tasks u
    where u.started <= t.started and u.ended > t.started) as n from tasks t)")
check_same "never more than the concurrency at once" "$most" "2"
run job-describe -f ndjson a001
check_out '"state":"succeeded"' "the parent succeeded with them"
check_out '"reason":"4 of 4 shards ended"' "saying so"
check_same "the parent ran nothing itself" \
    "$(sqlite3 "$db" 'select count(*) from tasks where job = 1')" "0"
job-describe -f bacalhau a001 >"$T/bac"
check_same "job-describe -f bacalhau: one job of 4 shards" "$(/usr/bin/python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["Job"]
print(j["ExecutionPlan"]["ShardsTotal"], j["Deal"]["Concurrency"])' "$T/bac")" "4 2"
check_same "each shard's run under its index" "$(/usr/bin/python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["Job"]
print(" ".join(sorted(s["RunOutput"]["stdout"].strip() for n in j["JobState"]["Nodes"].values()
    for s in n["Shards"].values())))' "$T/bac")" "a b c d"

# One shard fails: the parent fails, naming it, once all have ended.
spec='{"shards":[{"shell":"exit 3"},{"shell":"sleep 0.3"}]}'
p=$(echo "$spec" | job-submit -q | head -1)
exec-run --worker --drain -q >/dev/null 2>&1
run job-describe -f ndjson "$p"
check_out '"state":"failed"' "a shard failed: the parent failed"
check_out '"reason":"shard [a-z0-9]* failed"' "naming the shard"
check_same "after the others ended" \
    "$(run-query jobs -l parent="$p" -s succeeded -c)" "1"
check_exit 0 "retrying the parent" job-submit --retry -q "$p"
check_same "waits again" "$(job_state "$p")" "waiting"
check_same "with its failed shard queued, the other left alone" \
    "$(run-query jobs -l parent="$p" -s queued -c) $(run-query jobs -l parent="$p" -s succeeded -c)" "1 1"

# Cancelling a parent cancels what of it has not ended.
p=$(echo '{"shards":[{"command":["true"]},{"command":["true"]}]}' | job-submit -q | head -1)
check_exit 0 "cancelling a parent" job-submit --cancel -q "$p"
check_same "cancels its shards" "$(run-query jobs -l parent="$p" -s cancelled -c)" "2"

# Named to exec-run, a job of shards is its shards.
p=$(echo '{"shards":[{"command":["true"]},{"shell":"exit 4"}]}' | job-submit -q | head -1)
check_exit 4 "exec-run given only the parent" sh -c "echo $p | exec-run -q"
check_same "runs its shards" "$(run-query jobs -l parent="$p" -s queued -c)" "0"
check_same "and the parent ends with them" "$(job_state "$p")" "failed"
p=$(echo '{"concurrency":1,"shards":[{"shell":"sleep 0.3"},{"shell":"sleep 0.3"},{"shell":"sleep 0.3"}]}' |
    job-submit -q | head -1)
check_exit 0 "exec-run -j 3 given a parent of concurrency 1" sh -c "echo $p | exec-run -j 3 -q"
most=$(sqlite3 "$db" "select max(n) from (select (select count(*) from tasks u
    join jobs ju on ju.rid = u.job where ju.parent = jt.parent and
    u.started <= t.started and u.ended > t.started) as n from tasks t
    join jobs jt on jt.rid = t.job where jt.parent = (select rid from jobs
    where json_extract(spec, '$.concurrency') = 1))")
check_same "runs its shards one at a time, as the cap says" "$most" "1"

# Bad jobs of shards are refused whole.
n=$(run-query jobs -c)
check_exit 65 "a parent with a command" sh -c \
    "echo '{\"command\":[\"x\"],\"shards\":[{\"command\":[\"true\"]}]}' | job-submit"
check_stderr "a job of shards runs nothing itself" "naming why"
check_exit 65 "a shard of shards" sh -c \
    "echo '{\"shards\":[{\"shards\":[{\"command\":[\"true\"]}]}]}' | job-submit"
check_stderr '\$.shards\[0\]: a shard cannot have shards' "naming the path"
check_exit 65 "a bad shard" sh -c \
    "echo '{\"shards\":[{\"command\":[\"true\"]},{\"timeout\":\"x\",\"command\":[\"true\"]}]}' | job-submit"
check_stderr '\$.shards\[1\].timeout' "naming its path"
check_same "nothing of them stored" "$(run-query jobs -c)" "$n"

# A selector: only a worker whose labels match runs the job.
s=$(echo '{"command":["true"],"selector":[{"key":"zone","operator":"in","values":["a","c"]},{"key":"gpu","operator":"!exists"}]}' | job-submit -q)
exec-run --worker -l zone=b --drain -q >/dev/null 2>&1
check_same "a worker in zone b leaves it" "$(job_state "$s")" "queued"
run job-describe -f ndjson "$s"
check_out '"reason":"waiting for a worker with zone in a,c"' "saying which label it waits for"
exec-run --worker -l zone=a -l gpu=yes --drain -q >/dev/null 2>&1
check_same "one with a label it must not have leaves it" "$(job_state "$s")" "queued"
check_exit 0 "a worker in zone a" exec-run --worker -l zone=a --drain -q
check_same "runs it" "$(job_state "$s")" "succeeded"

# A worker has the labels a Bacalhau node gives itself.
arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
s=$(echo '{"command":["true"],"selector":[{"key":"Architecture","operator":"=","values":["'"$arch"'"]},{"key":"Operating-System","operator":"=","values":["linux"]}]}' | job-submit -q)
check_exit 0 "a worker without -l" exec-run --worker --drain -q
check_same "runs a job that selects its Architecture and Operating-System" "$(job_state "$s")" "succeeded"
s=$(echo '{"command":["true"],"selector":[{"key":"Architecture","operator":"=","values":["riscv128"]}]}' | job-submit -q)
exec-run --worker --drain -q >/dev/null 2>&1
check_same "and leaves one for another architecture" "$(job_state "$s")" "queued"
