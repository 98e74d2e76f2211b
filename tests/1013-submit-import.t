#!/bin/sh
# job-submit --format studioml: another system's job on stdin becomes a
# jobkit spec that runs the same thing (python in the unpacked workspace);
# what cannot be honoured is refused with the path of the offender.
# Bacalhau's jobs are tests/1015's.
. "$(dirname "$0")/lib.sh"
plan 28
D=$TOP/tests/data
export D

# A stand-in for docker and python that prints its argv, the env-file it
# was given and its environment, so the generated command line is checked
# by running it.  Jobs get the submitter's PATH: it is first there.
mkdir -p "$T/bin"
cat >"$T/bin/docker" <<'SH'
#!/bin/sh
for a in "$@"; do printf '[%s]\n' "$a"; done
case " $* " in *" --env-file=/dev/fd/3 "*) sed 's/.*/{&}/' <&3 ;; esac
echo "LOG_LEVEL=$LOG_LEVEL PWD=$PWD"
SH
cp "$T/bin/docker" "$T/bin/python3"
chmod +x "$T/bin/docker" "$T/bin/python3"
PATH=$T/bin:$PATH

# Bad requests: (name, stdin, format, message); each exits 65, stores
# nothing.
bad() {
	printf '%s' "$2" >"$T/bad"
	before=$(db_sum)
	check_exit 65 "$1: exit 65" sh -c "job-submit -f $3 < \"\$T/bad\""
	check_stderr "$4" "$1: says so"
	check_same "$1: nothing stored" "$(db_sum)" "$before"
}

# StudioML: python in the unpacked workspace; the key makes it one job.
check_exit 0 "a StudioML request" sh -c 'job-submit -f studioml -q < "$D/studioml-request.json"'
id=$(cat "$T/out")
check_exit 0 "delivered again" sh -c 'job-submit -f studioml -q < "$D/studioml-request.json"'
check_same "is the same job" "$(cat "$T/out")" "$id"
run job-describe --spec --format ndjson "$id"
check_out '"shell":"set -e; export DATA_ROOT=\\"\$\{HOME\}/data \\\\\\"x\\\\\\"\\"; python3.9 -m venv .venv; .venv/bin/python -m pip install --quiet '"'numpy==1.26.4' 'boto3==1.34.0'"'; PATH=\\"\$PWD/.venv/bin:\$PATH\\"; cd workspace; exec python '"'train.py' '--epochs' '10'"'"' \
    "a virtualenv with pythonenv and pip, then the script in the workspace"
check_out '"env":\{"STUDIOML_EXPERIMENT":"1717171717_[^"]*","AWS_DEFAULT_REGION":"us-west-2"\}' "config.env and the experiment's key"
check_out '"timeout":7200' "max_duration is the timeout"
check_out '"labels":\{"project":"proj-1","owner":"alice@example.com"\}' "project and owner are labels"
check_out '"resources":\{"cpu":2,"memory":4000000000,"disk":10000000000\}' "resources_needed"
check_out '"name":"workspace","url":"s3://studioml-artifacts/experiments/1717171717/workspace.tar.gz","unpack":true,"path":"workspace","mutable":false,"credentials":\{"access_key_id":"AKIAXX","secret_access_key":"\*\*\*","region":"us-west-2"\}' \
    "artifacts are inputs in a folder of their name, credentials mapped and redacted"
check_out '"name":"output",[^}]*"mutable":true' "a mutable artifact stays mutable"
run sh -c "job-describe --spec --format ndjson $id | grep -c modeldir"
check_same "an artifact with no location is skipped, as the runner does" "$(cat "$T/out")" "0"

# A request with nothing to install runs python directly.
printf '{"experiment":{"key":"k2","filename":"-m","args":["json.tool","--x"],"pythonver":3}}' >"$T/plain"
check_exit 0 "a plain request" sh -c 'job-submit -f studioml -q < "$T/plain"'
id=$(cat "$T/out")
check_exit 0 "runs" exec-run "$id"
tr '\n' ' ' <"$(dirname "$JOBKIT_DB")/results/$id.1/stdout" >"$T/argv"
check "as python3 -m module args" grep -q '^\[-m\] \[json.tool\] \[--x\] ' "$T/argv"

bad "no experiment" '{"config":{}}' studioml "a StudioML request needs an 'experiment'"
bad "no filename" '{"experiment":{"key":"k"}}' studioml "needs a 'key' and a 'filename'"
bad "an s3 endpoint other than AWS's" '{"experiment":{"key":"k","filename":"f","artifacts":{"data":{"bucket":"ml","key":"x","qualified":"s3://minio.corp:9000/ml/x"}}}}' studioml \
    "artifacts\\.data: the s3 endpoint 'minio.corp:9000' is not supported"
bad "a bad pythonver" '{"experiment":{"key":"k","filename":"f","pythonver":"3; rm"}}' studioml \
    "'pythonver' must be a version"

check_exit 64 "with a command" job-submit -f studioml -- true
check_stderr "reads jobs on stdin only" "says so"
done_testing
