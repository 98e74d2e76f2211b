#!/bin/sh
# A StudioML request run end to end against the S3 emulator, as the
# go-runner runs one against MinIO: the workspace fetched from the server
# named in the qualified URL and unpacked, the script run in it, the
# mutable artifacts uploaded back after the run and every
# saveWorkspaceFrequency while it runs, max_duration enforced, the
# webhook told.  And the stager's own part: an artifact's endpoint, and
# {job}, {task}, {attempt} in the URLs it uploads to.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
servers_start s3
plan 35

port=${S3_ENDPOINT##*:}
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
    AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION 2>/dev/null || true
s3_mkbucket studio
puts() { grep -c "^PUT /studio/$1 " "$S3_LOG" || true; }
# A member of a tar on S3 (to stdout), or nothing.
member() { s3_get "studio/$1" 2>/dev/null | tar xOf - "$2" 2>/dev/null; }
model_is() { [ "$(member modeldir.tar model.txt)" = "$1" ]; }
# Wait until a command succeeds: 30 s at most, or $WAIT_S.
until_ok() {
	_i=0
	until "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -gt $((${WAIT_S:-30} * 20)) ] && return 1
		sleep 0.05
	done
}

# The workspace: a script and its data; a model folder to train.
mkdir -p "$T/ws" "$T/md"
cat >"$T/ws/train.py" <<'PY'
import os, sys, time
mode = sys.argv[1]
print("cwd=" + os.getcwd())
print("data=" + open("data.txt").read().strip())
if mode == "train":
    with open("../modeldir/model.txt", "w") as f:
        f.write("trained\n")
elif mode == "checkpoint":
    # Step 1, then wait (a minute at most) for the test to have seen it on
    # S3, uploaded while we run; then step 2.
    with open("../modeldir/model.txt", "w") as f:
        f.write("step 1\n")
    t = time.time()
    while not os.path.exists(sys.argv[2]) and time.time() - t < 60:
        time.sleep(0.05)
    with open("../modeldir/model.txt", "w") as f:
        f.write("step 2\n")
elif mode == "sleep":
    time.sleep(60)
PY
echo hello >"$T/ws/data.txt"
echo untrained >"$T/md/model.txt"
(cd "$T/ws" && tar cf "$T/workspace.tar" train.py data.txt)
(cd "$T/md" && tar cf "$T/modeldir.tar" model.txt)
s3_put "$T/workspace.tar" studio/workspace.tar
s3_put "$T/modeldir.tar" studio/modeldir.tar

# A request as the go-runner's templates write them: the server in the
# qualified URLs, the workspace's keys inline, the model's in config.env.
# request KEY ARGS [CONFIG...] [EXPERIMENT...]
request() {
	printf '{"config":{"env":{"AWS_ACCESS_KEY_ID":"%s","AWS_SECRET_ACCESS_KEY":"%s"}%s},' \
	    "$S3_KEY" "$S3_SECRET" "${3:-}"
	printf '"experiment":{"key":"%s","filename":"train.py","args":%s%s,"artifacts":{' "$1" "$2" "${4:-}"
	printf '"workspace":{"bucket":"studio","key":"workspace.tar","qualified":"s3://127.0.0.1:%s//studio/workspace.tar","unpack":true,"mutable":false,"credentials":{"aws":{"access_key":"%s","secret_access_key":"%s"}}},' \
	    "$port" "$S3_KEY" "$S3_SECRET"
	printf '"modeldir":{"bucket":"studio","key":"modeldir.tar","qualified":"s3://127.0.0.1:%s/studio//modeldir.tar","unpack":true,"mutable":true},' "$port"
	printf '"tb":{"bucket":"","key":"","qualified":"","mutable":true}}}}\n'
}
results() { sqlite3 "$JOBKIT_DB" "select results from tasks order by rid desc limit 1"; }

request e1 '["train"]' >"$T/req"
id=$(job-submit -f studioml -q <"$T/req")
check_exit 0 "a StudioML request on the S3 emulator" sh -c 'echo "$0" | exec-run' "$id"
res=$(results)
check_same "the script ran in the unpacked workspace" "$(head -2 "$res/stdout")" "cwd=$res/work/workspace
data=hello"
check_same "its mutable model folder is uploaded back, readable on S3" "$(member modeldir.tar model.txt)" trained
check_same "once" "$(puts modeldir.tar)" 2
check_same "the immutable workspace is not" "$(puts workspace.tar)" 1
job-describe -f ndjson "$id" >"$T/desc"
check "the task lists what it fetched from the emulator" \
    grep -q '"staged":{"inputs":\[{"url":"s3://studio/workspace.tar"' "$T/desc"
printf '%s\n' "$S3_SECRET" >"$T/pattern"
check "the keys are in no description, result or log" sh -c \
    '! cat "$T/desc" "$res"/stdout "$res"/stderr "$res"/result.json | grep -qF -f "$T/pattern"'
check "nor in any event" sh -c \
    '! sqlite3 "$JOBKIT_DB" "select * from events" | grep -qF -f "$T/pattern"'

# pythonver: pythonX.Y where the worker has it, else python3, said in an
# event; the packages are not installed without exec-run --pip.
request e5 '["train"]' ',"pip":["nosuchpkg==1"]' ',"pythonver":"3.99"' >"$T/req"
id=$(job-submit -f studioml -q <"$T/req")
check_exit 0 "a request for python 3.99" sh -c 'echo "$0" | exec-run' "$id"
job-describe -f ndjson "$id" >"$T/desc"
check "an event says python3 runs it" grep -q '"type":"note","state":"running","message":"pythonver 3.99: running python3"' "$T/desc"
check "and that its packages were not installed" grep -q '"message":"pythonenv and pip packages not installed (exec-run --pip installs them)"' "$T/desc"

# max_duration: the script is stopped, as timeout(1) would.
request e2 '["sleep"]' '' ',"max_duration":"2s"' >"$T/req"
check_exit 124 "a script past max_duration" sh -c 'job-submit -f studioml -q <"$T/req" | exec-run'
check_same "its task timed out" "$(sqlite3 "$JOBKIT_DB" 'select state from tasks order by rid desc limit 1')" timed_out
check_same "what it left is not uploaded" "$(puts modeldir.tar)" 2

# The stager alone, as exec-run runs it: save_every uploads the changed
# model while the script runs; {job}, {task}, {attempt} in an output URL.
mkdir -p "$T/stage" "$T/stage-res"
art() {
	printf '{"name":"%s","url":"s3://studio/%s","unpack":true,"path":"%s","mutable":%s,"endpoint":"%s","credentials":{"access_key_id":"%s","secret_access_key":"%s"}}' \
	    "$1" "$2" "$1" "$3" "$S3_ENDPOINT" "$S3_KEY" "$S3_SECRET"
}
printf '{"inputs":[%s,%s],"outputs":[{"name":"log","url":"s3://studio/runs/{job}/{task}/{attempt}/{other}.txt","path":"log.txt","endpoint":"%s","credentials":{"access_key_id":"%s","secret_access_key":"%s"}}],"results":"%s","save_every":0.5}\n' \
    "$(art workspace workspace.tar false)" "$(art modeldir modeldir.tar true)" \
    "$S3_ENDPOINT" "$S3_KEY" "$S3_SECRET" "$T/stage-res" >"$T/stage.json"
(cd "$T/stage" && JOBKIT_JOB_ID=J1 JOBKIT_TASK_ID=J1.1 JOBKIT_ATTEMPT=3 \
    artifact-fetch --stage 3 -- sh -c 'cd workspace && python3 train.py checkpoint "$0" >../log.txt' "$T/go" \
    3<"$T/stage.json" >"$T/stage.out" 2>&1) &
stager=$!
check "save_every: the model is uploaded while the script runs" until_ok model_is "step 1"
: >"$T/go"
wait "$stager"
check_same "the stager ends with the command's status" "$?" 0
check_same "and says nothing" "$(cat "$T/stage.out")" ""
check_same "and uploads what changed since, at the end" "$(member modeldir.tar model.txt)" "step 2"
check_same "the output URL holds the task's IDs; an unknown {word} stays" \
    "$(s3_get 'studio/runs/J1/J1.1/3/%7Bother%7D.txt' | head -1)" "cwd=$T/stage/workspace"
check "staged.json lists the upload while it ran" grep -q '"uploads":\[{"url":"s3://studio/modeldir.tar","size":[0-9]*,"sha256":"[0-9a-f]*","mutable":true}' "$T/stage-res/staged.json"

# An unchanged model is not uploaded, however often save_every comes.
n=$(puts modeldir.tar)
printf '{"inputs":[%s],"results":"%s","save_every":"100ms"}\n' "$(art modeldir modeldir.tar true)" "$T/stage-res" >"$T/stage.json"
(cd "$T/stage" && rm -rf modeldir && artifact-fetch --stage 3 -- sleep 1 3<"$T/stage.json")
check_same "save_every uploads nothing that did not change" "$(puts modeldir.tar)" "$n"

# artifact-fetch reads an artifact's endpoint from stdin too.
printf '{"url":"s3://studio/workspace.tar","endpoint":"%s","credentials":{"access_key_id":"%s","secret_access_key":"%s"}}\n' \
    "$S3_ENDPOINT" "$S3_KEY" "$S3_SECRET" >"$T/one"
check_exit 0 "an artifact with an endpoint on stdin" sh -c 'artifact-fetch -q --no-cache -C "$T/got" <"$T/one"'
check "is fetched from it" cmp "$T/got/workspace.tar" "$T/workspace.tar"
check_exit 65 "an endpoint that is not http" sh -c 'printf "{\"url\":\"s3://b/k\",\"endpoint\":\"s3.example.com\"}\n" | artifact-fetch -q -C "$T/got"'
check_stderr "endpoint: 's3.example.com' is not an http or https URL" "says so"

# A jobkit spec's outputs: {job} and {attempt} through exec-run.
j=$(printf '{"shell":"echo out >o.txt","outputs":[{"name":"o","url":"s3://studio/jobs/{job}/{attempt}.txt","path":"o.txt","endpoint":"%s","credentials":{"access_key_id":"%s","secret_access_key":"%s"}}]}\n' \
    "$S3_ENDPOINT" "$S3_KEY" "$S3_SECRET" | job-submit -q)
check_exit 0 "a job whose output URL holds {job} and {attempt}" exec-run -q "$j"
check_same "uploads to its own place" "$(s3_get "studio/jobs/$j/1.txt")" out
job-describe -f ndjson "$j" >"$T/desc"
check "and lists it so" grep -q "\"uploads\":\\[{\"url\":\"s3://studio/jobs/$j/1.txt\"" "$T/desc"

# What exec-run hands the stager, and posts, once the lead's part lands:
# save_every through exec-run (exec.c passes it in what to stage), and the
# webhook of runner.slack_destination.
rm -f "$T/go"
request e3 "[\"checkpoint\",\"$T/go\"]" ',"saveWorkspaceFrequency":"1s"' >"$T/req"
(job-submit -f studioml -q <"$T/req" | exec-run >"$T/e3.out" 2>&1) &
runner=$!
WAIT_S=10
check "save_every through exec-run: uploaded while it runs" \
    until_ok model_is "step 1"
WAIT_S=30
: >"$T/go"
wait "$runner"
check_same "and the job succeeds" "$?" 0
check "no sanitizer report from it" sh -c '! grep -q "Sanitizer\|runtime error" "$T/e3.out"'
check_same "with its last step uploaded at the end" "$(member modeldir.tar model.txt)" "step 2"

/usr/bin/python3 -I "$TOP/tests/servers/hook.py" "$T/hook.port" "$T/hook.body" &
hook=$!
trap 'kill "$hook" 2>/dev/null; servers_stop; rm -rf "$T"' EXIT
until_ok test -s "$T/hook.port"
WAIT_S=10
request e4 '["train"]' ",\"runner\":{\"slack_destination\":\"http://127.0.0.1:$(cat "$T/hook.port")/hook\"}" >"$T/req"
check_exit 0 "a request with a slack_destination" sh -c 'job-submit -f studioml -q <"$T/req" | exec-run'
check "the webhook is posted when it ends" until_ok test -s "$T/hook.body"
check "with the job's summary" grep -q '"state":"succeeded"' "$T/hook.body"
kill "$hook"
wait "$hook" 2>/dev/null
done_testing
