#!/bin/sh
# A Bacalhau job as its users write it, run here: a urlDownload input
# read at /inputs, results written to /outputs and published to S3, on a
# worker without docker that runs container jobs on the host in the
# sandbox (--engine host).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers.sh"
if ! bwrap --ro-bind / / --unshare-pid --unshare-net true 2>/dev/null; then
	echo "1..0 # SKIP bwrap cannot make namespaces here"
	exit 0
fi
servers_start http s3
plan 14

mkdir -p "$HOME/.aws"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$S3_KEY" "$S3_SECRET" >"$HOME/.aws/credentials"
s3_mkbucket results
printf 'hello from the web\n' >"$SRV_ROOT/words.txt"
R=$(dirname "$JOBKIT_DB")/results

# The later model (v1), in YAML, as `bacalhau job run job.yaml` takes it.
cat >"$T/job.yaml" <<YAML
Name: shout
Type: batch
Count: 1
Labels:
  team: words
Tasks:
  - Name: main
    Engine:
      Type: docker
      Params:
        Image: ubuntu:22.04
        Entrypoint: [sh, -c]
        Parameters:
          - tr a-z A-Z < /inputs/words/words.txt > /outputs/shout.txt; ls /inputs/words
    InputSources:
      - Source:
          Type: urlDownload
          Params:
            URL: $HTTP_URL/words.txt
        Target: /inputs/words
    ResultPaths:
      - Name: outputs
        Path: /outputs
    Publisher:
      Type: s3
      Params:
        Bucket: results
        Key: "jobs/{jobID}/"
        Endpoint: $S3_ENDPOINT
        Region: us-east-1
    Network:
      Type: None
    Timeouts:
      ExecutionTimeout: 60
YAML
check_exit 0 "a Bacalhau v1 job in YAML" sh -c 'job-submit -f bacalhau -q <"$T/job.yaml"'
j=$(cat "$T/out")
nodocker=$(dirname "$(command -v exec-run)"):/usr/bin:/bin
check_exit 0 "runs with --engine host on a worker without docker" \
    env PATH="$nodocker" exec-run --engine host "$j"
check_same "it read its input at /inputs, where urlDownload put it" \
    "$(cat "$R/$j.1/stdout")" "words.txt"
check_same "and wrote /outputs: the task's outputs folder" \
    "$(cat "$R/$j.1/work/outputs/shout.txt")" "HELLO FROM THE WEB"
s3_get "results/jobs/$j/outputs" >"$T/pub" 2>/dev/null ||
    s3_get "results/jobs/$j/outputs.tar.gz" >"$T/pub"
check "published to S3 under the key, {jobID} its ID" test -s "$T/pub"
check_same "holding what it wrote" \
    "$(tar xzOf "$T/pub" ./shout.txt 2>/dev/null || tar xzOf "$T/pub" shout.txt)" \
    "HELLO FROM THE WEB"
run job-describe -f ndjson "$j"
check_out '"uploads":\[\{"url":"s3://results/jobs/'"$j"'/outputs' "the task lists the upload"

# A Bacalhau node signs with its own AWS variables: so does a worker.
mv "$HOME/.aws/credentials" "$T/creds.away"
j5=$(job-submit -f bacalhau -q <"$T/job.yaml")
check_exit 0 "a worker with AWS keys in its environment, none in ~/.aws" \
    env PATH="$nodocker" AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET" \
    exec-run --engine host "$j5"
s3_get "results/jobs/$j5/outputs" >"$T/pub5" 2>/dev/null ||
    s3_get "results/jobs/$j5/outputs.tar.gz" >"$T/pub5"
check_same "what it wrote" \
    "$(tar xzOf "$T/pub5" ./shout.txt 2>/dev/null || tar xzOf "$T/pub5" shout.txt)" \
    "HELLO FROM THE WEB"
mv "$T/creds.away" "$HOME/.aws/credentials"

# Without --engine host and without docker, the task says what is missing.
j2=$(job-submit -f bacalhau -q <"$T/job.yaml")
check_exit 125 "no engine" env PATH="$nodocker" exec-run "$j2"
check_out "no container engine: docker or podman not found" "names the missing engine"

# Bacalhau's network default is none: the sandbox has none.
sed 's/Type: None/Type: None/; s|tr a-z A-Z.*|curl -s -o /dev/null '"$HTTP_URL"'/words.txt; echo curl=$?|' \
    "$T/job.yaml" >"$T/net.yaml"
j3=$(job-submit -f bacalhau -q <"$T/net.yaml")
check_exit 0 "a job that tries the network" env PATH="$nodocker" exec-run --engine host "$j3"
check "cannot reach a server on 127.0.0.1" sh -c "grep -q 'curl=[1-9]' '$R/$j3.1/stdout'"
sed 's/Type: None/Type: Full/' "$T/net.yaml" >"$T/full.yaml"
j4=$(job-submit -f bacalhau -q <"$T/full.yaml")
env PATH="$nodocker" exec-run --engine host "$j4" >/dev/null 2>&1
check_same "Network Full can" "$(cat "$R/$j4.1/stdout")" "curl=0"
