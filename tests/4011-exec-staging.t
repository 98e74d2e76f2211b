#!/bin/sh
# Staging in exec-run: a task's inputs are fetched into its work directory
# before its command runs, its outputs uploaded after, its mutable inputs
# uploaded back only when changed; a failed input leaves the command unrun.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
servers_start s3
plan 35

s3="s3://127.0.0.1:${S3_ENDPOINT##*:}"
mkdir -p "$HOME/.aws" "$T/in"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_KEY" "$S3_SECRET" \
    >"$HOME/.aws/credentials"
echo hello >"$T/in/one"
(cd "$T/in" && tar czf "$T/in.tgz" one)
sha=$(sha256sum <"$T/in.tgz" | cut -c1-64)
echo v1 >"$T/state"
s3_mkbucket bkt
s3_put "$T/in.tgz" bkt/in.tgz
s3_put "$T/state" bkt/state.txt
puts() { grep -c "^PUT /bkt/$1 " "$S3_LOG" || true; }

# StudioML's way: qualified s3:// URLs, keys in the owner's ~/.aws.
spec() {
	printf '{"shell":"%s","inputs":[{"name":"data","url":"%s/bkt/in.tgz","hash":"sha256:%s","unpack":true,"path":"data"},{"name":"state","url":"%s/bkt/state.txt","path":"state.txt","mutable":true}],"outputs":[{"name":"out","url":"%s/bkt/results/%s.tar.gz","path":"out"}]}\n' \
	    "$1" "$s3" "$sha" "$s3" "$s3" "$2"
}
j=$(spec 'mkdir out && cat data/one >out/copy && cat state.txt >>out/copy' r1 | job-submit -q)
check_exit 0 "a job with inputs and outputs" exec-run -q "$j"
check_same "it succeeded" "$(job_state "$j")" succeeded
s3_get bkt/results/r1.tar.gz >"$T/r1.tgz"
check_same "its output folder is uploaded, packed" "$(tar xzOf "$T/r1.tgz" ./copy 2>/dev/null || tar xzOf "$T/r1.tgz" copy)" "hello
v1"
check_same "the unchanged mutable input is not uploaded back" "$(puts state.txt)" 1
run job-describe -f ndjson "$j"
check_out "\"staged\":\\{\"inputs\":\\[\\{\"url\":\"$s3/bkt/in.tgz\",\"path\":\"data\",\"size\":[0-9]+,\"sha256\":\"$sha\"" \
    "the task's result lists the inputs fetched"
check_out "\"uploads\":\\[\\{\"url\":\"$s3/bkt/results/r1.tar.gz\",\"size\":[0-9]+,\"sha256\":\"[0-9a-f]{64}\"\\}\\]" \
    "and each object uploaded, with size and sha256"
run job-describe -f text "$j"
check_out "^      in  $s3/bkt/in.tgz -> data  [0-9.]+[KMG]?i?B  sha256 [0-9a-f]{12}" "job-describe's page lists the inputs"
check_out "^      out $s3/bkt/results/r1.tar.gz  [0-9.]+[KMG]?i?B  sha256 [0-9a-f]{12}\$" "and the uploads"
res=$(sqlite3 "$JOBKIT_DB" "select results from tasks order by rid desc limit 1")
check "result.json says it too" grep -q '"uploads":\[{"url":"' "$res/result.json"

j=$(spec 'mkdir out && echo v2 >state.txt' r2 | job-submit -q)
check_exit 0 "a job that changes its mutable input" exec-run -q "$j"
check_same "has it uploaded back" "$(s3_get bkt/state.txt)" v2
check_same "once" "$(puts state.txt)" 2
run job-describe -f ndjson "$j"
check_out '"url":"'"$s3"'/bkt/state.txt","size":3,"sha256":"[0-9a-f]{64}","mutable":true' "listed as such"

# An input that cannot be fetched: the attempt fails naming it, and the
# command never runs.
j=$(printf '{"command":["touch","%s"],"inputs":[{"name":"gone","url":"%s/bkt/nothing"}]}\n' "$T/ran" "$s3" | job-submit -q)
check_exit 66 "a job whose input is missing" exec-run -q "$j"
check "its command did not run" test ! -e "$T/ran"
run job-describe -f ndjson "$j"
check_out "\"error\":\"input 'gone': '$s3/bkt/nothing': no such object \\(HTTP 404\\)\"" "the task's error names the input"
check_out '"state":"failed","owner"' "the job failed"
check_out "\"type\":\"failed\",\"state\":\"failed\",\"task\":\"$j.1\",\"message\":\"attempt 1 failed \\(input 'gone': " \
    "and its event says why"
# Inline keys of an input are the spec's: never in a result, an event, a
# log or job-describe.
printf '%s\n' "$S3_SECRET" >"$T/pattern"
j=$(printf '{"command":["true"],"inputs":[{"name":"in","url":"%s/bkt/state.txt","credentials":{"access_key_id":"%s","secret_access_key":"%s"}}]}\n' \
    "$s3" "$S3_KEY" "$S3_SECRET" | job-submit -q)
check_exit 0 "a job with inline keys" exec-run -q "$j"
job-describe -f ndjson "$j" >"$T/desc"
res=$(sqlite3 "$JOBKIT_DB" "select results from tasks order by rid desc limit 1")
check "the secret is in no description, result or log" sh -c \
    '! cat "$T/desc" "$res"/* | grep -qF -f "$T/pattern"'
check "nor in any event or task row" sh -c \
    '! sqlite3 "$JOBKIT_DB" "select * from events; select * from tasks" | grep -qF -f "$T/pattern"'
# A command that cannot be run is said as exec-run says it.
j=$(printf '{"command":["no-such-command-here"],"inputs":[{"url":"%s/bkt/state.txt"}]}\n' "$s3" | job-submit -q)
check_exit 127 "a staged job whose command is not found" exec-run -q "$j"
run job-describe -f ndjson "$j"
check_out "\"error\":\"cannot run 'no-such-command-here': command not found\"" "says so"
# An output that cannot be uploaded fails the attempt.
j=$(printf '{"command":["true"],"outputs":[{"name":"res","url":"%s/nobucket/x","path":"."}]}\n' "$s3" | job-submit -q)
check_exit 66 "a job whose output cannot be uploaded" exec-run -q "$j"
run job-describe -f ndjson "$j"
check_out "\"error\":\"output 'res': " "fails, naming the output"

# A job's context: a folder packed with it into the database (honouring
# .jobkitignore), unpacked into a fresh work directory before it runs.
mkdir -p "$T/ctx/sub"
echo from-context >"$T/ctx/sub/a"
echo noise >"$T/ctx/big.log"
printf '# logs stay home\n*.log\n' >"$T/ctx/.jobkitignore"
j=$(cd "$T/ctx" && job-submit -q --context . -- sh -c 'cat sub/a; ls; pwd')
check_exit 0 "a job with --context" exec-run -q "$j"
exec-run --logs "$j" >"$T/log"
check_same "runs with the folder's files" "$(head -1 "$T/log")" from-context
check "without the ignored ones" sh -c '! grep -q big.log "$T/log"'
check "in a fresh folder, not the submitter's" sh -c '! grep -qx "$T/ctx" "$T/log"'
check_same "the context is stored once per content" \
    "$(cd "$T/ctx" && job-submit -q --context . -- true >/dev/null && sqlite3 "$JOBKIT_DB" 'select count(*) from contexts')" 1
head -c 100000000 /dev/urandom >"$T/ctx/huge"
n=$(run-query -c)
check_exit 65 "a context over 95 MiB" job-submit -q --context "$T/ctx" -- true
check_stderr "^artifact-fetch: --context '$T/ctx': the archive of '$T/ctx' is over 99614720 bytes" "is refused, saying so"
check_same "and submits nothing" "$(run-query -c)" "$n"
check_exit 64 "--context with an action" job-submit --context "$T/ctx" --cancel "$j"
# Staged jobs run in a fresh folder, not where they were submitted.
mkdir "$T/here"
j=$(cd "$T/here" && spec 'mkdir out' r3 | job-submit -q)
exec-run -q "$j" >/dev/null 2>&1
check_same "a job with inputs leaves the submit directory alone" "$(ls -A "$T/here")" ""
done_testing
