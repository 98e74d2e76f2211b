#!/bin/sh
# job-submit --format studioml: a StudioML experiment request, as the
# go-runner reads it, becomes a jobkit spec that runs the same thing:
# python in the unpacked workspace, its artifacts staged beside it (on AWS
# or on a MinIO server named in the qualified URL), its lifetimes the
# timeout.  Bad requests are refused naming the offender by its path.
. "$(dirname "$0")/lib.sh"
plan 124
D=$TOP/tests/data
export D

# Stand-ins for python that say how they were run: their argv, their
# folder, and for a venv and pip what was asked.  Jobs get the submitter's
# PATH: $T/bin is first there.
mkdir -p "$T/bin"
cat >"$T/bin/python3" <<'SH'
#!/bin/sh
case "$1 $2" in
"-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0 ;;
"-m pip") echo "pip: $*"; exit 0 ;;
esac
echo "ran: $0"
for a in "$@"; do printf '[%s]\n' "$a"; done
echo "PWD=$PWD"
SH
chmod +x "$T/bin/python3"
PATH=$T/bin:$PATH
desc() { job-describe --spec --format ndjson "$1"; }
log() { cat "$(dirname "$JOBKIT_DB")/results/$1.1/$2"; }

# AWS: qualified URLs at s3.REGION.amazonaws.com are s3://bucket/key.
# A misspelt member is kept, not read, and an event says so.
/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
r["experiment"]["key"] = "typo"
r["experiment"]["max_durration"] = r["experiment"].pop("max_duration", "20m")
print(json.dumps(r))' "$D/studioml-request.json" >"$T/typo.json"
check_exit 0 "a request with a misspelt member" sh -c 'job-submit -f studioml -q < "$T/typo.json"'
typo=$(cat "$T/out")
run job-describe -f ndjson "$typo"
check_out '"type":"note","state":"queued","message":"not read, kept as they are: [^"]*\$\.experiment\.max_durration' \
    "an event names it"
check_out '"foreign":\{[^}]*"\$\.experiment\.max_durration":"2h"' "and it is kept"
n=$(run-query -c)
check_exit 65 "with --strict" sh -c 'job-submit -f studioml --strict < "$T/typo.json"'
check_stderr "^job-submit: stdin: line 1: .*\\(refused: --strict\\)$" "it is refused, saying why"
check_same "and nothing is stored" "$(run-query -c)" "$n"

check_exit 0 "a StudioML request" sh -c 'job-submit -f studioml -q < "$D/studioml-request.json"'
id=$(cat "$T/out")
check_exit 0 "delivered again" sh -c 'job-submit -f studioml -q < "$D/studioml-request.json"'
check_same "is the same job (experiment.key is its key)" "$(cat "$T/out")" "$id"
run desc "$id"
check_out '"name":"1717171717_5f0c2a9e-3b1d-4a7e-9f0e-2d3c4b5a6978"' "the experiment's key is its name"
check_out '"key":"studioml:1717171717_5f0c2a9e-[^"]*"' "and its idempotency key"
check_out '"env":\{"STUDIOML_EXPERIMENT":"1717171717_[^"]*","AWS_DEFAULT_REGION":"us-west-2"\}' "config.env and the experiment's key"
check_out 'export DATA_ROOT=\\"\$\{HOME\}/data \\\\\\"x\\\\\\"\\"; ' "a %VAR% value is exported by the shell"
check_out '"timeout":7200,' "max_duration (2h) is the timeout, being shorter than experimentLifetime (24h)"
check_out '"save_every":180,' "saveWorkspaceFrequency is save_every"
check_out '"labels":\{"project":"proj-1","owner":"alice@example.com"\}' "project and owner are labels"
check_out '"resources":\{"cpu":2,"memory":4000000000,"disk":10000000000\}' "resources_needed, sizes as go-humanize reads them"
check_out '"name":"workspace","url":"s3://studioml-artifacts/experiments/1717171717/workspace.tar.gz","unpack":true,"path":"workspace","mutable":false,"credentials":\{"access_key_id":"AKIAXX","secret_access_key":"\*\*\*","region":"us-west-2"\}\}' \
    "an AWS artifact: s3://bucket/key, no endpoint, credentials mapped and redacted"
check_out '"name":"output","url":"s3://studioml-artifacts/experiments/1717171717/output.tar","unpack":true,"path":"output","mutable":true,"credentials":\{"region":"us-west-2"\}' \
    "the region of an s3.REGION.amazonaws.com host"
check_out '"foreign":\{"\$\.experiment\.artifacts\.workspace\.saveFrequency":0,"\$\.experiment\.artifacts\.output\.saveFrequency":60\}' \
    "what has no meaning here is kept under its path"
desc "$id" >"$T/spec"
check "the request's bookkeeping is not" sh -c '! grep -q "time_added\|\"status\"\|projectId" "$T/spec"'
check "an artifact with no location is skipped, as the runner does" sh -c '! grep -q "\"name\":\"modeldir\"" "$T/spec"'
run job-describe --format ndjson "$id"
check_out '"type":"note","state":"queued","message":"artifact '"'modeldir'"' has no URL: not staged, as the go-runner skips it"' \
    "and an event says so"

# MinIO, as the go-runner's own templates write requests: the server in
# the qualified URL (doubled slashes and all), the keys in config.env.
check_exit 0 "a request for a MinIO server" sh -c 'job-submit -f studioml -q < "$D/studioml-minio.json"'
id=$(cat "$T/out")
run desc "$id"
check_out '"name":"workspace","url":"s3://studio/workspace.tar","unpack":true,"path":"workspace","mutable":false,"credentials":\{"access_key_id":"minio-user","secret_access_key":"\*\*\*","region":"us-west-2"\},"endpoint":"http://127.0.0.1:9000"\}' \
    "s3://HOST:PORT//bucket/key: the endpoint, plain http as the runner uses it, keys and region from config.env"
check_out '"name":"modeldir","url":"s3://studio/modeldir.tar","unpack":true,"path":"modeldir","mutable":true,[^}]*\},"endpoint":"http://127.0.0.1:9000"\}' \
    "s3://HOST:PORT/bucket//key too"
check_out '"name":"output","url":"s3://studio/output.tar","unpack":false,"path":"output/output.tar","mutable":true' \
    "an artifact not unpacked lands in a folder of its name, under its key's name"
check_out '"env":\{"STUDIOML_EXPERIMENT":"[^"]*","AWS_ACCESS_KEY_ID":"\*\*\*","AWS_DEFAULT_REGION":"us-west-2","AWS_SECRET_ACCESS_KEY":"\*\*\*"\}' \
    "the keys stay in the script's environment, as the runner gives them, never shown"
check_out '"timeout":1200,' "max_duration 20m beats experimentLifetime 30m"
check_out '"resources":\{"cpu":1,"memory":2000000000,"disk":3000000000,"gpu":2\}' "cpus, ram, hdd, gpus"
check_out '"notify":"https://hooks.slack.com/\*\*\*"' "runner.slack_destination is the webhook (its secret path not shown)"
check_same "the whole URL is stored, for the worker" \
    "$(sqlite3 "$JOBKIT_DB" "select json_extract(spec, '$.notify') from jobs where json_extract(spec, '$.notify') is not null")" \
    "https://hooks.slack.com/services/T0/B0/xyz"
check_out '"foreign":\{"\$\.experiment\.resources_needed\.gpuMem":"2gb"\}' "gpuMem is kept"
desc "$id" >"$T/spec"
check "neither the secret nor the queue's login is shown" sh -c '! grep -q "minio-password\|user:password" "$T/spec"'
run job-describe --format ndjson "$id"
check_out "\"message\":\"experiment.resources_needed.gpuMem '2gb' is recorded, not enforced: " "and said not to be enforced"
check "nothing of the request's own folders (local) is kept" sh -c '! grep -q "/home/alice" "$T/spec"'
run sqlite3 "$JOBKIT_DB" "select spec from jobs order by rid desc limit 1"
check "the stored spec has the keys, for the stager" grep -q '"secret_access_key":"minio-password"' "$T/out"

# A request in YAML: numbers where Go reads text, YAML 1.1's booleans.
cat >"$T/req.yaml" <<'EOF'
experiment:
  key: 1717
  filename: train.py
  args: [--epochs, 10]
  artifacts:
    data:
      qualified: s3://127.0.0.1:9000/bkt/d.tar
      unpack: yes
      mutable: off
      credentials:
        plain: {user: u, password: 1234}
config:
  env:
    PORT: 8080
EOF
check_exit 0 "a request in YAML" sh -c 'job-submit -f studioml -q <"$T/req.yaml"'
run desc "$(cat "$T/out")"
check_out '"name":"1717",' "a number for the key is its text"
check_out "exec python3 'train.py' '--epochs' '10'\"" "and for an argument"
check_out '"env":\{"STUDIOML_EXPERIMENT":"1717","PORT":"8080"\}' "and for a variable"
check_out '"unpack":true,"path":"data","mutable":false,"credentials":\{"username":"u","password":"\*\*\*"\}' \
    "yes and off are booleans; a number for a password is its text, never shown"

# What runs: python in the workspace, pythonver if the worker has it.
req() {
	printf '{"experiment":{"key":"%s","filename":"train.py","args":["--lr","0.1"],%s}}' "$1" "$2"
}
req k1 '"pythonver":"3.99"' | job-submit -f studioml -q >"$T/id" 2>/dev/null
id=$(cat "$T/id")
check_exit 0 "a request run" exec-run -q "$id"
check_same "python3 runs the script, with its args" "$(log "$id" stdout | tr '\n' ' ')" \
    "ran: $T/bin/python3 [train.py] [--lr] [0.1] PWD=$(dirname "$JOBKIT_DB")/results/$id.1/work "
check_same "the pythonver it lacks is said" "$(log "$id" stderr)" "studioml: pythonver 3.99: running python3"
ln -s python3 "$T/bin/python3.99"
req k2 '"pythonver":"3.99"' | job-submit -f studioml -q >"$T/id" 2>/dev/null
id=$(cat "$T/id")
check_exit 0 "a worker with that python" exec-run -q "$id"
check "runs it" grep -q "^ran: $T/bin/python3.99\$" "$(dirname "$JOBKIT_DB")/results/$id.1/stdout"
check_same "and says so" "$(log "$id" stderr)" "studioml: pythonver 3.99: running python3.99"
req k3 '"pythonenv":["numpy==1.26.4"]},"config":{"pip":["boto3"]' | job-submit -f studioml -q >"$T/id" 2>/dev/null
id=$(cat "$T/id")
check_exit 0 "packages, on a worker without --pip" exec-run -q "$id"
check_same "are not installed, and it says so" "$(log "$id" stderr)" \
    "studioml: pythonenv and pip packages not installed (exec-run --pip installs them)"
check "the script runs anyway" grep -q '^\[train.py\]' "$(dirname "$JOBKIT_DB")/results/$id.1/stdout"
req k4 '"pythonenv":["numpy==1.26.4"]},"config":{"pip":["boto3"]' | job-submit -f studioml -e JOBKIT_PIP=1 -q >"$T/id" 2>/dev/null
id=$(cat "$T/id")
check_exit 0 "packages, on a worker with --pip (JOBKIT_PIP=1)" exec-run -q "$id"
w=$(dirname "$JOBKIT_DB")/results/$id.1/work
check_same "go into the task's own venv, then the script runs with its python" \
    "$(log "$id" stdout | tr '\n' ' ')" \
    "pip: -m pip install --quiet numpy==1.26.4 boto3 ran: $w/.venv/bin/python [train.py] [--lr] [0.1] PWD=$w "

# Bad requests: (name, stdin, message); each exits 65 with one line naming
# the path, and stores nothing.
bad() {
	printf '%s' "$2" >"$T/bad"
	before=$(db_sum)
	check_exit 65 "$1: exit 65" sh -c 'job-submit -f studioml < "$T/bad"'
	check_stderr "^job-submit: stdin: line 1: $3" "$1: says so"
	check_same "$1: in one line" "$(wc -l <"$T/err" | tr -d ' ')" 1
	check_same "$1: nothing stored" "$(db_sum)" "$before"
}
exp() { printf '{"experiment":{"key":"k","filename":"f",%s}%s}' "$1" "${2:-}"; }
ws() { exp "\"artifacts\":{\"workspace\":{\"bucket\":\"b\",\"key\":\"w.tar\",\"qualified\":\"s3://127.0.0.1:9000/b/w.tar\",$1}}" "${2:-}"; }
n=$(run-query -q | wc -l)
bad "a workspace with no URL" "$(exp '"artifacts":{"workspace":{"bucket":"b","key":"w","qualified":""}}')" \
    "\\\$\\.experiment\\.artifacts\\.workspace: the workspace has no 'qualified' URL"
bad "aws credentials as a string" "$(ws '"credentials":{"aws":"AKIA:secret"}')" \
    "\\\$\\.experiment\\.artifacts\\.workspace\\.credentials\\.aws: must be an object"
bad "aws credentials without a secret" "$(ws '"credentials":{"aws":{"access_key":"AKIA"}}')" \
    "\\\$\\.experiment\\.artifacts\\.workspace\\.credentials\\.aws: an access_key and a secret_access_key go together"
bad "a member no credentials have" "$(ws '"credentials":{"plain":{"user":"u","password":"p","pin":"1"}}')" \
    "\\\$\\.experiment\\.artifacts\\.workspace\\.credentials\\.plain: 'pin' is not a member of plain credentials"
bad "keys in config.env without the secret" "$(ws '"unpack":true' ',"config":{"env":{"AWS_ACCESS_KEY_ID":"AKIA"}}')" \
    "\\\$\\.config\\.env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together"
bad "a Google Storage source" "$(exp '"artifacts":{"data":{"qualified":"gs://bucket/data.tar"}}')" \
    "\\\$\\.experiment\\.artifacts\\.data: storage 'gs' is not supported \\(s3, http, https, ftp, ftps, file\\)"
bad "an IPFS source" "$(exp '"artifacts":{"data":{"qualified":"ipfs://QmX"}}')" \
    "\\\$\\.experiment\\.artifacts\\.data: storage 'ipfs' is not supported"
bad "an s3 URL without a key" "$(exp '"artifacts":{"data":{"qualified":"s3://127.0.0.1:9000/bucket/"}}')" \
    "\\\$\\.experiment\\.artifacts\\.data: an s3 URL names a bucket and a key"
bad "a malformed max_duration" "$(exp '"max_duration":"soon"')" \
    "\\\$\\.experiment\\.max_duration: invalid duration 'soon'"
bad "a malformed experimentLifetime" "$(exp '"max_duration":"1h"' ',"config":{"experimentLifetime":"1 day"}')" \
    "\\\$\\.config\\.experimentLifetime: invalid duration '1 day'"
bad "a malformed ram size" "$(exp '"resources_needed":{"ram":"lots"}')" \
    "\\\$\\.experiment\\.resources_needed\\.ram: invalid size 'lots'"
bad "a malformed gpuMem" "$(exp '"resources_needed":{"gpuMem":"2qb"}')" \
    "\\\$\\.experiment\\.resources_needed\\.gpuMem: invalid size '2qb'"
bad "a fraction of a GPU" "$(exp '"resources_needed":{"gpus":0.5}')" \
    "\\\$\\.experiment\\.resources_needed\\.gpus: must be a whole number"
bad "a document that is not a request" '{"command":["true"]}' \
    "\\\$: not a StudioML request: it has no 'experiment'"
bad "no filename" '{"experiment":{"key":"k"}}' \
    "\\\$\\.experiment: an experiment needs a 'key' and a 'filename'"
bad "a bad pythonver" "$(exp '"pythonver":"3; rm"')" \
    "\\\$\\.experiment\\.pythonver: must be a version such as 3\\.9"
bad "a webhook that is not http" "$(exp '"max_duration":"1h"' ',"config":{"runner":{"slack_destination":"slack:#ml"}}')" \
    "\\\$\\.config\\.runner\\.slack_destination: 'slack:#ml' is not an http or https URL"
check_same "run-query finds none of them" "$(run-query -q | wc -l)" "$n"

check_exit 64 "with a command" job-submit -f studioml -- true
check_stderr "reads jobs on stdin only" "says so"
done_testing
