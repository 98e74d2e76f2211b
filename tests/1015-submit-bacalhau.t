#!/bin/sh
# job-submit --format bacalhau: a Bacalhau job of every model its users
# have files in (V1alpha1's flat layout, V1beta1, a bare Spec, V1beta2's
# EngineSpec, the v1 model; JSON and YAML) becomes the jobkit spec that
# runs the same thing; what cannot run here is refused with its path;
# job-describe --format bacalhau shows a job in Bacalhau's own shape.
. "$(dirname "$0")/lib.sh"
plan 127
D=$TOP/tests/data
export D

# A Python expression over job $1's stored spec s: a string as it is,
# anything else as sorted compact JSON, so that the checks hold whatever
# order the normalized spec has.
q() {
	job-describe --spec -f ndjson "$1" | python3 -c 'import json, sys
s = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":")))' "$2"
}

# Binds as "source>target:ro|rw", one word each.
BINDS='" ".join("%s>%s:%s" % (b["source"], b["target"], "ro" if b.get("read_only") else "rw") for b in s.get("binds", []))'
# Artifacts as "url>path".
ARTS='" ".join("%s>%s" % (a["url"], a.get("path", "")) for a in s.get(WHICH, []))'
INPUTS=$(echo "$ARTS" | sed 's/WHICH/"inputs"/')
OUTPUTS=$(echo "$ARTS" | sed 's/WHICH/"outputs"/')

submit() {
	check_exit 0 "$1" sh -c "job-submit -f bacalhau -q ${3-} < \"$2\""
	id=$(tail -1 "$T/out")
}

# Bad documents: (name, stdin, message); each exits 65 and stores nothing.
bad() {
	printf '%s' "$2" >"$T/bad"
	before=$(db_sum)
	check_exit 65 "$1: exit 65" sh -c 'job-submit -f bacalhau < "$T/bad"'
	check_stderr "$3" "$1: says so"
	check_same "$1: nothing stored" "$(db_sum)" "$before"
}

# What cannot run here is refused before anything is stored.
check_exit 65 "an IPFS input" sh -c 'job-submit -f bacalhau < "$D/bacalhau-ipfs.json"'
check_stderr '^job-submit: stdin: line 1: \$\.Spec\.inputs\[0\]\.StorageSource: an input from IPFS cannot be fetched here' \
    "an IPFS input: refused, its path named"
check_same "an IPFS input: nothing stored" "$(run-query -q 2>/dev/null | wc -l)" 0
task='"Engine":{"Type":"docker","Params":{"Image":"a"}}'
spec='"Engine":"Docker","Docker":{"Image":"a"}'
bad "a Wasm engine" '{"APIVersion":"V1beta1","Spec":{"Engine":"Wasm","Wasm":{"EntryPoint":"_start"}}}' \
    '\$\.Spec\.Engine: a Wasm engine cannot run here'
bad "a v1 wasm task" '{"Tasks":[{"Engine":{"Type":"wasm","Params":{}}}]}' \
    '\$\.Tasks\[0\]\.Engine\.Type: a Wasm engine cannot run here'
bad "a service job" "{\"Type\":\"service\",\"Tasks\":[{$task}]}" \
    "line 1: \\$: 'service' jobs run until stopped"
bad "no task" '{"Name":"x","Tasks":[]}' "exactly one task"
bad "a v1 ipfs input" "{\"Tasks\":[{$task,\"InputSources\":[{\"Source\":{\"Type\":\"ipfs\",\"Params\":{}},\"Target\":\"/in\"}]}]}" \
    '\$\.Tasks\[0\]\.InputSources\[0\]\.Source\.Type: an input from IPFS cannot be fetched here'
bad "a bad memory size" "{\"Tasks\":[{$task,\"Resources\":{\"Memory\":\"lots\"}}]}" \
    "\\$\\.Tasks\\[0\\]\\.Resources\\.Memory: invalid size 'lots'"
bad "a timeout not in seconds" "{\"Tasks\":[{$task,\"Timeouts\":{\"ExecutionTimeout\":\"10m\"}}]}" \
    'ExecutionTimeout: must be a number of seconds'
bad "an option for an image" '{"Spec":{"Engine":"Docker","Docker":{"Image":"--privileged"}}}' \
    "Image '--privileged' is not an image name"
bad "a result path out of the work directory" "{\"Tasks\":[{$task,\"ResultPaths\":[{\"Name\":\"r\",\"Path\":\"/x/../../etc\"}]}]}" \
    "ResultPaths\\[0\\]: a result path needs a Name and an absolute Path without '\\.\\.'"
bad "an unknown field" "{\"Spec\":{$spec,\"Turbo\":true}}" '\$\.Spec\.Turbo: unknown field'
rn=$(echo "{\"Tasks\":[{$task,\"Env\":{\"TOKEN\":\"env:HOST_TOKEN\"}}]}" | job-submit -f bacalhau -q)
check_same "a worker's variable under another name" "$(q "$rn" 's["worker_env"]')" '["TOKEN=HOST_TOKEN"]'
j=$(echo '{"shell":"echo \"[$TOKEN]\"","worker_env":["TOKEN=HOST_TOKEN"]}' | job-submit -q)
HOST_TOKEN=s3cr3t exec-run -q "$j" >/dev/null
check_same "is the worker's variable under that name" \
    "$(cat "$(dirname "$JOBKIT_DB")/results/$j.1/stdout")" "[s3cr3t]"
check_exit 65 "a worker_env that is neither NAME nor NAME=VAR" sh -c \
    'echo "{\"shell\":\"true\",\"worker_env\":[\"A=B=C\"]}" | job-submit'
bad "an engine number out of Go's list" '{"engine":9}' \
    '\$\.engine: 9 is not the number of a Bacalhau engine'
bad "one bad job of two" "$(printf '{"Tasks":[{%s}]}\n{"Tasks":[{"Engine":{"Type":"docker","Params":{}}}]}\n' "$task")" \
    "line 2: .*a docker engine needs an Image"

# job-describe --format bacalhau: a job in Bacalhau's V1beta1 shape, one
# RunCommandResult per execution.
id=$(job-submit -q -l team=x -- sh -c 'echo out; echo err >&2; exit 3')
exec-run "$id" >/dev/null
run job-describe -f bacalhau "$id"
check_same "describe -f bacalhau: one line off a terminal" "$(wc -l <"$T/out")" 1
python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["Job"]
shard = j["JobState"]["Nodes"][sys.argv[2]]["Shards"]["0"]
print(j["APIVersion"], j["ID"] == sys.argv[3], j["Spec"]["Engine"],
    j["Spec"]["Docker"]["Entrypoint"], j["Spec"]["Annotations"])
print(shard["NodeId"], shard["State"], shard["Status"])
print(json.dumps(shard["RunOutput"], sort_keys=True))
print(" ".join(e["EventName"] for e in j["JobEvents"]))' "$T/out" "$(hostname)" "$id" >"$T/b" 2>&1
check_same "describe -f bacalhau: the Job" "$(sed -n 1p "$T/b")" \
    "V1beta1 True Docker ['sh', '-c', 'echo out; echo err >&2; exit 3'] ['team=x']"
check_same "describe -f bacalhau: the shard on its node" "$(sed -n 2p "$T/b")" \
    "$(hostname) Error exit status 3"
check_same "describe -f bacalhau: its RunCommandResult" "$(sed -n 3p "$T/b")" \
    '{"exitCode": 3, "runnerError": "", "stderr": "err\n", "stderrtruncated": false, "stdout": "out\n", "stdouttruncated": false}'
check_same "describe -f bacalhau: events by Bacalhau's names" "$(sed -n 4p "$T/b")" \
    "Created Running ComputeError"
run job-describe -f bacalhau -s "$id"
check_out '^\{"Engine":"Docker","Docker":\{"Entrypoint":\["sh","-c",' "describe -f bacalhau -s: the Spec alone"
on_tty "job-describe -f bacalhau $id" >"$T/tty"
check "describe -f bacalhau: indented 4 spaces on a terminal" grep -q '^    "Job": {' "$T/tty"
check_exit 64 "describe: an unknown format" job-describe -f yaml "$id"

# V1beta1, JSON: the Docker engine as a container, Resources, Timeout,
# inputs, outputs, Annotations, NodeSelectors; the rest kept.
submit "a V1beta1 job" "$D/bacalhau-v1beta1.json"
v1beta1=$id
check_same "V1beta1: one job" "$(wc -l <"$T/out")" 1
check_same "V1beta1: the container" "$(q "$id" 's["container"]')" \
    '{"entrypoint":["sh","-c","wc -w /inputs/words.txt > /outputs/count"],"image":"ubuntu:22.04","workdir":"/inputs"}'
check_same "V1beta1: resources" "$(q "$id" 's["resources"]')" \
    '{"cpu":0.5,"disk":3000000000,"gpu":1,"memory":1000000000}'
check_same "V1beta1: Timeout in seconds" "$(q "$id" 's["timeout"]')" 1800
check_same "V1beta1: EnvironmentVariables" "$(q "$id" 's["env"]')" '{"LANG":"C.UTF-8","MODE":"fast"}'
check_same "V1beta1: no network, as Bacalhau" "$(q "$id" 's["network"]')" none
check_same "V1beta1: Annotations as labels" "$(q "$id" 's["labels"]')" '{"nightly":"","project":"demo"}'
check_same "V1beta1: NodeSelectors as the selector" "$(q "$id" 's["selector"]')" \
    '[{"key":"zone","operator":"in","values":["a","b"]}]'
check_same "V1beta1: a URL's file in its path" "$(q "$id" "$INPUTS")" \
    "https://example.com/data/words.txt>inputs/words.txt"
check_same "V1beta1: bound read-only, outputs writable" "$(q "$id" "$BINDS")" \
    "inputs/words.txt>/inputs/words.txt:ro outputs>/outputs:rw"
check_same "V1beta1: what means nothing here is kept" \
    "$(q "$id" 'sorted(s["foreign"])')" \
    '["$.APIVersion","$.ClientID","$.Deal.Confidence","$.Deal.MinBids","$.Spec.DoNotTrack","$.Spec.Verifier"]'
check_same "V1beta1: its own scratch folder" "$(q "$id" 's["scratch"]')" true
job-describe -f bacalhau "$v1beta1" >"$T/again.json"
submit "describe -f bacalhau reads back" "$T/again.json"
SAME='{k: v for k, v in s.items() if k not in ("foreign", "notes")}'
check_same "describe -f bacalhau reads back as the same job" "$(q "$id" "$SAME")" \
    "$(q "$v1beta1" "$SAME")"

# A bare Spec; the flat layout; V1beta2; a described job.
submit "a bare Spec" "$D/bacalhau-spec.json"
check_same "bare Spec: an S3 input at its endpoint" "$(q "$id" "$INPUTS")" \
    "s3://datasets/csv/a.csv>inputs/a.csv"
check_same "bare Spec: the input's endpoint and region" \
    "$(q "$id" '[s["inputs"][0]["endpoint"], s["inputs"][0]["credentials"]["region"]]')" \
    '["http://127.0.0.1:9000","eu-west-1"]'
check_same "bare Spec: Network Full" "$(q "$id" 's["network"]')" full
submit "the flat layout of 0.2" "$D/bacalhau-flat.json"
flat=$id
check_same "flat: job_spec_docker" "$(q "$id" '[s["container"]["image"], s["env"]]')" \
    '["ubuntu",{"GREETING":"hi"}]'
check_same "flat: a URL's file is its path, as before 0.3.2" "$(q "$id" "$INPUTS")" \
    "https://example.com/raw/foo_data.txt>app/foo_data_1.txt"
run job-describe -f ndjson "$id"
check_out "publisher 'IPFS' does not exist here: outputs are kept in the task's results folder" \
    "flat: an IPFS publisher runs, its outputs kept, said in an event"
submit "a V1beta2 job" "$D/bacalhau-v1beta2.json"
check_same "V1beta2: EngineSpec" "$(q "$id" '[s["container"], s["command"]]')" \
    '[{"entrypoint":["sh","-c"],"image":"alpine:3.19","workdir":"/work"},["ls -l /inputs > /outputs/listing"]]'
check_same "V1beta2: an S3 prefix and a LocalDirectory" "$(q "$id" "$BINDS")" \
    "inputs>/inputs:ro /srv/models>/models:ro outputs>/outputs:rw"
check_same "V1beta2: PublisherSpec S3, placeholders as jobkit's" "$(q "$id" "$OUTPUTS")" \
    "s3://results/runs/{job}/{task}/outputs>outputs"
check_same "V1beta2: HTTP networking is the full network" "$(q "$id" 's["network"]')" full
run job-describe -f ndjson "$id"
check_out 'HTTP networking cannot be limited here to example.com' "V1beta2: and says so"
submit "a described job" "$D/bacalhau-wrapped.json"
check_same "described: its spec" "$(q "$id" '[s["container"]["image"], s["timeout"]]')" '["ubuntu",1800]'
check_same "described: Bacalhau's IDs kept" "$(q "$id" 's["foreign"]["$.Job.ID"]')" \
    92d5d4ee-3765-4f78-8353-623f5f26df08
run job-describe -f ndjson "$id"
check_out "JobState, .*JobEvents: not kept: Bacalhau's record of its own run" \
    "described: its run record is not kept, said"

# The v1 model (read before): Count 2 is two jobs.
submit "a v1 job" "$D/bacalhau-job.json"
check_same "v1: Count 2 makes two jobs" "$(wc -l <"$T/out")" 2
check_same "v1: name, priority, labels" "$(q "$id" '[s["name"], s["priority"], s["labels"]]')" \
    '["wordcount",50,{"namespace":"default","project":"demo"}]'
check_same "v1: ExecutionTimeout is the timeout" "$(q "$id" 's["timeout"]')" 600
check_same "v1: resources (gb: 10^9, gib: 2^30)" "$(q "$id" 's["resources"]')" \
    '{"cpu":0.5,"disk":2147483648,"memory":1000000000}'
check_same "v1: Params" "$(q "$id" '[s["container"], s["command"]]')" \
    "[{\"entrypoint\":[\"python\",\"/code/wc.py\"],\"image\":\"python:3.11-slim\",\"workdir\":\"/code\"},[\"/inputs/data.txt\",\"it's\"]]"
check_same "v1: EnvironmentVariables and Env" "$(q "$id" '[s["env"], s["worker_env"]]')" \
    '[{"LOG_LEVEL":"debug","MODE":"fast"},["HOST_TOKEN","AWS_ACCESS_KEY_ID","AWS_SECRET_ACCESS_KEY","AWS_SESSION_TOKEN","AWS_REGION","AWS_DEFAULT_REGION","AWS_PROFILE","AWS_ENDPOINT_URL"]]'
check_same "v1: Constraints as the selector" "$(q "$id" 's["selector"]')" \
    '[{"key":"Architecture","operator":"=","values":["amd64"]}]'
check_same "v1: urlDownload and s3 inputs in their Targets" "$(q "$id" "$INPUTS")" \
    "https://example.com/wc.py>code/wc.py s3://datasets/text/data.txt>inputs/data.txt"
check_same "v1: a ReadWrite local input is a writable bind" "$(q "$id" "$BINDS")" \
    "/srv/cfg>/cfg:rw code/wc.py>/code/wc.py:ro inputs/data.txt>/inputs/data.txt:ro outputs>/outputs:rw"
check_same "v1: ResultPaths published to s3" "$(q "$id" "$OUTPUTS")" "s3://results/wc/outputs>outputs"

# Options apply to imported jobs as to any spec; one transaction for all.
printf '{"Job":{"Name":"w","Tasks":[{"Name":"t","Engine":{"type":"docker","params":{"image":"alpine","parameters":["echo","hi"]}}}]},"History":[]}' >"$T/wrapped"
printf '%s\n%s\n' "$(cat "$T/wrapped")" "$(cat "$T/wrapped")" >"$T/two"
submit "a stream of two, with options" "$T/two" "-Q batch -p 7"
check_same "options override" "$(q "$id" '[s["priority"], s["queue"], s["command"]]')" \
    '[7,"batch",["echo","hi"]]'

# The Noop engine: a job that succeeds at once with empty output.
submit "a Noop job" "$D/bacalhau-noop.json"
check_exit 0 "noop: runs" exec-run "$id"
check_same "noop: succeeded" "$(job_state "$id")" succeeded
check_same "noop: printed nothing" "$(job-describe -f ndjson "$id" | python3 -c 'import json, sys
t = json.load(sys.stdin)["tasks"][0]; print(repr(t.get("stdout", "")), t["exit_code"])')" "'' 0"

# Sharding: 10 files in batches of 3 are 4 shards of one parent.
mkdir -p "$T/data"
for i in 0 1 2 3 4 5 6 7 8 9; do echo "$i" >"$T/data/f$i.txt"; done
echo x >"$T/data/notes.md"
sed "s|@DIR@|$T/data|" "$D/bacalhau-sharded.json" >"$T/sharded.json"
submit "a sharded job" "$T/sharded.json"
pid=$(run-query -l shard=0 -f ndjson | python3 -c 'import json, sys
print(json.loads(sys.stdin.readline())["labels"]["parent"])' 2>/dev/null)
check_same "sharded: 4 shard jobs" "$(run-query -q -l "parent=$pid" | wc -l)" 4
files=
for i in 0 1 2 3; do
	sid=$(run-query -q -l "parent=$pid" -l "shard=$i")
	files="$files $(q "$sid" 'len([b for b in s["binds"] if b["target"].startswith("/inputs/")])' 2>/dev/null)"
done
check_same "sharded: 3, 3, 3 and 1 files, bound one by one" "$files" " 3 3 3 1"
check_same "sharded: the last shard has the last file" "$(q "$sid" "$BINDS")" \
    "code/code.py>/code/code.py:ro $T/data/f9.txt>/inputs/f9.txt:ro"
check_same "sharded: Deal.Concurrency caps the shards at once" "$(q "$pid" 's["concurrency"]')" 2
grep -v '"Deal"' "$T/sharded.json" | sed 's/^  },$/  }/' >"$T/nodeal.json"
p2=$(job-submit -f bacalhau -q <"$T/nodeal.json" | head -1)
check_same "sharded: without a Deal, no cap (Bacalhau runs all shards at once)" \
    "$(q "$p2" 's.get("concurrency", "none")')" none
sed 's|"\*\.txt"|"*.png"|' "$T/sharded.json" >"$T/nomatch.json"
before=$(db_sum)
check_exit 65 "sharded: a GlobPattern matching nothing" sh -c 'job-submit -f bacalhau < "$T/nomatch.json"'
check_stderr "\\\$\\.Spec\\.Sharding\\.GlobPattern: '\\*\\.png' matches none of the 11 inputs" \
    "sharded: a GlobPattern matching nothing: says so"
check_same "sharded: a GlobPattern matching nothing: nothing stored" "$(db_sum)" "$before"

# --strict: outputs that would be published somewhere that does not exist
# here are refused instead of kept.
submit "an IPFS publisher" "$D/bacalhau-ipfs-publisher.json"
run job-describe "$id"
check_out "publisher 'IPFS' does not exist here" "an IPFS publisher: job-describe says where the outputs are"
before=$(db_sum)
check_exit 65 "--strict: an IPFS publisher" sh -c 'job-submit -f bacalhau --strict < "$D/bacalhau-ipfs-publisher.json"'
check_stderr "\\\$\\.Spec\\.Publisher: publisher 'IPFS' does not exist here.*--strict" "--strict: says so"
check_same "--strict: nothing stored" "$(db_sum)" "$before"

# YAML: the same jobs as Bacalhau users write them.
submit "a V1beta1 job in YAML" "$D/bacalhau-v1beta1.yaml"
check_same "YAML: the same spec as the JSON document's" "$(q "$id" 's')" "$(q "$v1beta1" 's')"
submit "the flat layout of 0.3 in YAML" "$D/bacalhau-flat.yaml"
check_same "flat YAML: JobSpecDocker" "$(q "$id" 's["container"]')" \
    '{"entrypoint":["/bin/bash","-c","echo \"hello\""],"image":"ubuntu"}'
check_same "flat YAML: its outputs kept" "$(q "$id" "$BINDS")" "outputs>/outputs:rw"
check_exit 65 "YAML: a Wasm engine" sh -c 'job-submit -f bacalhau < "$D/bacalhau-wasm.yaml"'
check_stderr '\$\.Spec\.Engine: a Wasm engine cannot run here' "YAML: a Wasm engine: its path named"
cat "$D/bacalhau-v1beta1.yaml" >"$T/stream.yaml"
printf -- '---\n' >>"$T/stream.yaml"
cat "$D/bacalhau-flat.yaml" >>"$T/stream.yaml"
submit "YAML: a stream of two documents" "$T/stream.yaml"
check_same "YAML: two jobs" "$(wc -l <"$T/out")" 2

# The shards run on the host engine, in the sandbox, two at a time (in a
# database of their own: the worker runs every job it finds).
JOBKIT_DB=$T/shards.db
if command -v bwrap >/dev/null; then
	sed "s|@DIR@|$T/data|; s|\"cat /inputs/\\*.txt\"|\"sleep 0.3; cat /inputs/*.txt\"|" \
	    "$D/bacalhau-sharded.json" | python3 -c 'import json, sys
d = json.load(sys.stdin); del d["Spec"]["Contexts"]; print(json.dumps(d))' >"$T/run.json"
	submit "a sharded job to run" "$T/run.json"
	pid=$(run-query -l shard=0 -f ndjson | python3 -c 'import json, sys
print([json.loads(l) for l in sys.stdin][-1]["labels"]["parent"])' 2>/dev/null)
	check_exit 0 "sharded: a worker runs them" timeout 60 exec-run --worker -j 4 --drain --engine host
	check_same "sharded: the parent succeeded with its shards" "$(job_state "$pid")" succeeded
	run-query tasks -f ndjson >"$T/tasks"
	check_same "sharded: never more than 2 at once" "$(python3 -c 'import json, sys
ts = [json.loads(l) for l in open(sys.argv[1])]
ts = [t for t in ts if t["job"] in sys.argv[2:]]
at = sorted([(t["started"], 1) for t in ts] + [(t["ended"], -1) for t in ts], key=lambda e: (e[0], e[1]))
n = most = 0
for _, d in at:
    n += d; most = max(most, n)
print(len(ts), most)' "$T/tasks" $(run-query -q -l "parent=$pid"))" "4 2"
else
	skip "no bubblewrap: the shards cannot run on the host engine"
	skip "no bubblewrap"
	skip "no bubblewrap"
	skip "no bubblewrap"
fi
done_testing
