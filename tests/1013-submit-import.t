#!/bin/sh
# job-submit --format bacalhau: another system's job on stdin becomes a
# jobkit spec that runs the same thing (docker run for a Bacalhau docker
# task); what cannot be honoured is refused with the path of the offender.
# StudioML requests are tests/1016's.
. "$(dirname "$0")/lib.sh"
plan 60
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

# Bacalhau: a job with Count 2 is two jobs.
check_exit 0 "a Bacalhau job" sh -c 'job-submit -f bacalhau -q < "$D/bacalhau-job.json"'
check_same "Count 2 makes two jobs" "$(tr '\n' ' ' <"$T/out")" "a001 a002 "
run job-describe --spec --format ndjson a001
check_out '"name":"wordcount"' "Name is the job's name"
check_out '"priority":50' "Priority is kept"
check_out '"labels":\{"project":"demo","namespace":"default"\}' "Labels and the Namespace are labels"
check_out '"timeout":600' "ExecutionTimeout is the timeout"
check_out '"resources":\{"cpu":0.5,"disk":2147483648\}' \
    "CPU and Disk (sized as Bacalhau reads them: gib) are the job's resources"
check_out "docker run --rm --init --network=none --workdir='/code' --memory=1000000000 --cpus=0.500 " \
    "Memory (gb: 10^9) and CPU are the container's limits"
check_out '"env":\{"JOBKIT_ENV_MODE":"fast","JOBKIT_ENV_LOG_LEVEL":"debug"\}' \
    "EnvironmentVariables and Env values are kept under names of jobkit's"
check_out '"worker_env":\["HOST_TOKEN"\]' "an Env env:VAR is the worker's variable"
check_out '"scratch":true' "the job runs in a fresh folder, where its inputs go"
check_out '"url":"https://example.com/wc.py","path":"code/wc.py"' "a urlDownload input lands at its Target"
check_out '"name":"data","url":"s3://datasets/text/data.txt","path":"inputs/data.txt","credentials":\{"region":"us-east-1"\}' \
    "an s3 input, with its Alias and Region"
check_out '"url":"file:///srv/cfg","path":"cfg","mutable":true' "a ReadWrite local input is mutable"
check_out '"outputs":\[\{"name":"outputs","url":"s3://results/wc/outputs","path":"outputs"' \
    "ResultPaths published to s3 are outputs"
# Its inputs are on the internet, which no test reaches (staging is
# tests/4011's): the same job without them shows how docker is run.
dj=$(job-describe --spec -f ndjson a001 | /usr/bin/python3 -c 'import json, sys
s = json.load(sys.stdin)
for k in ("inputs", "outputs"): s.pop(k, None)
print(json.dumps(s))' | job-submit -q)
check_exit 0 "the job runs docker" env HOST_TOKEN=tok exec-run "$dj"
res=$(dirname "$JOBKIT_DB")/results/$dj.1
tr '\n' ' ' <"$res/stdout" >"$T/argv"
check "docker run --rm --init, network none, workdir, limits, env-file" grep -q \
    '^\[run\] \[--rm\] \[--init\] \[--network=none\] \[--workdir=/code\] \[--memory=1000000000\] \[--cpus=0.500\] \[--env-file=/dev/fd/3\] ' "$T/argv"
check "the env-file has every variable, the worker's too" grep -q \
    '{MODE=fast} {LOG_LEVEL=debug} {API_TOKEN=tok} ' "$T/argv"
check "and no value is on docker's command line (ps shows it)" sh -c \
    '! grep "\[[^]]*\(fast\|debug\|tok\)[^]]*\]" "$T/argv"'
run job-describe --spec -f ndjson a001
check "nor in the stored command" sh -c \
    '! grep -q "\"shell\":\"[^\"]*\(fast\|debug\)" "$T/out"'
check "inputs and results mounted from the work directory" grep -q \
    "\[--volume=$res/work/code/wc.py:/code/wc.py\] .*\[--volume=$res/work/outputs:/outputs\]" "$T/argv"
check "entrypoint, image, parameters (quotes kept)" grep -q \
    "\[--entrypoint=python\] \[python:3.11-slim\] \[/code/wc.py\] \[/inputs/data.txt\] \[it's\] " "$T/argv"
check "the docker client runs in no variable the job set" grep -q "LOG_LEVEL= PWD" "$T/argv"

# `bacalhau job describe --output json` wraps the job in "Job".
printf '{"Job":{"Name":"w","Tasks":[{"Name":"t","Engine":{"type":"docker","params":{"image":"alpine","parameters":["echo","hi"]}}}]},"History":[]}' >"$T/wrapped"
check_exit 0 "a described job, names in any case" sh -c 'job-submit -f bacalhau -q < "$T/wrapped"'
run job-describe --spec --format ndjson "$(cat "$T/out")"
check_out "\"shell\":\"exec docker run --rm --init 'alpine' 'echo' 'hi'\"" "runs its image and parameters"

# Options apply to imported jobs as to any spec; one transaction for all.
printf '%s\n%s\n' "$(tr -d '\n' <"$T/wrapped")" "$(tr -d '\n' <"$T/wrapped")" >"$T/two"
check_exit 0 "a stream of two, with options" sh -c 'job-submit -f bacalhau -Q batch -p 7 -q < "$T/two"'
run job-describe --spec --format ndjson "$(tail -1 "$T/out")"
check_out '"priority":7,"queue":"batch"' "options override"

# Bad Bacalhau jobs: (name, stdin, message); each exits 65, stores nothing.
bad() {
	printf '%s' "$2" >"$T/bad"
	before=$(db_sum)
	check_exit 65 "$1: exit 65" sh -c "job-submit -f $3 < \"\$T/bad\""
	check_stderr "$4" "$1: says so"
	check_same "$1: nothing stored" "$(db_sum)" "$before"
}
task='"Engine":{"Type":"docker","Params":{"Image":"a"}}'
bad "a service job" "{\"Type\":\"service\",\"Tasks\":[{$task}]}" bacalhau \
    "line 1: \\$: 'service' jobs run until stopped"
bad "a wasm task" '{"Tasks":[{"Engine":{"Type":"wasm","Params":{}}}]}' bacalhau \
    "\\$\\.Tasks\\[0\\]\\.Engine: engine 'wasm' is not supported"
bad "no task" '{"Name":"x","Tasks":[]}' bacalhau "exactly one task"
bad "an ipfs input" "{\"Tasks\":[{$task,\"InputSources\":[{\"Source\":{\"Type\":\"ipfs\",\"Params\":{}},\"Target\":\"/in\"}]}]}" bacalhau \
    "\\$\\.Tasks\\[0\\]\\.InputSources\\[0\\]\\.Source\\.Params: source type 'ipfs' is not supported"
bad "a bad memory size" "{\"Tasks\":[{$task,\"Resources\":{\"Memory\":\"lots\"}}]}" bacalhau \
    "\\$\\.Tasks\\[0\\]\\.Resources\\.Memory: invalid size 'lots'"
bad "a wrong type" "{\"Tasks\":[{$task,\"Timeouts\":{\"ExecutionTimeout\":\"10m\"}}]}" bacalhau \
    "'ExecutionTimeout' must be a number of seconds"
bad "an option for an image" "{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\",\"Params\":{\"Image\":\"--privileged\"}}}]}" bacalhau \
    "Image '--privileged' is not an image name"
bad "a result path out of the work directory" "{\"Tasks\":[{$task,\"ResultPaths\":[{\"Name\":\"r\",\"Path\":\"/x/../../etc\"}]}]}" bacalhau \
    "ResultPaths\\[0\\]: a result path needs a Name and an absolute Path without '\\.\\.'"
bad "an HTTP network" "{\"Tasks\":[{$task,\"Network\":{\"Type\":\"HTTP\",\"Domains\":[\"x.org\"]}}]}" bacalhau \
    "network type 'HTTP' is not supported"
bad "an environment value of two lines" "{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\",\"Params\":{\"Image\":\"a\",\"EnvironmentVariables\":[\"MODE=fast\\nINJECTED=1\"]}}}]}" bacalhau \
    "'EnvironmentVariables\\[0\\]': a value may not hold a line break"
bad "one bad job of two" "$(printf '{"Tasks":[{%s}]}\n{"Tasks":[{"Engine":{"Type":"docker","Params":{}}}]}\n' "$task")" bacalhau \
    "line 2: .*a docker engine needs an Image"
done_testing
