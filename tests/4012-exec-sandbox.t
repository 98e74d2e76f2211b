#!/bin/sh
# The sandbox and containers: a sandboxed task (bubblewrap) writes only its
# own folder and binds, has a private /tmp, its own PID namespace and no
# network unless its spec allows it; a container job runs on the host in
# it with --engine host, its inputs at /inputs and outputs from /outputs;
# docker gets the container's command line with no value on it; a missing
# engine or bwrap fails the task, saying so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
if ! command -v bwrap >/dev/null 2>&1; then
	echo "1..0 # SKIP needs bwrap (scripts/deps.sh test installs bubblewrap)"
	exit 0
fi
if ! bwrap --ro-bind / / --unshare-pid --unshare-net true 2>/dev/null; then
	echo "1..0 # SKIP bwrap cannot make namespaces here"
	exit 0
fi
servers_start http s3
plan 65

R=$(dirname "$JOBKIT_DB")/results
mkdir -p "$T/empty" "$T/bin" "$T/data" "$HOME/.aws"
echo served >"$SRV_ROOT/hello.txt"
# Run spec $1 (JSON) with exec-run's options after it; the job's ID in $j.
job() {
	_s=$1
	shift
	j=$(printf '%s\n' "$_s" | job-submit -q) || return 1
	run exec-run "$@" "$j"
}

# Writes: only its folder.  Outside /tmp the host is read-only; the
# sandbox's /tmp is its own (so $T, in it, is not the host's either).
out=/var/tmp/jobkit-4012-$$
job '{"shell":"echo x >'"$T"'/outside; echo x >'"$out"'; echo var=$?; echo x >/tmp/jobkit-4012-'$$'; echo mine >in-work","sandbox":true,"scratch":true}'
check_same "a sandboxed job runs" "$rc" 0
check "it cannot write a host folder outside /tmp" grep -qx 'var=2' "$R/$j.1/stdout"
check "read-only, says the shell" grep -q 'Read-only file system' "$R/$j.1/stderr"
check "nothing lands there" test ! -e "$out"
rm -f "$out"
check "what it writes to /tmp is not in the host's" test ! -e "/tmp/jobkit-4012-$$"
check "nor anywhere else under the host's /tmp" test ! -e "$T/outside"
check "its own folder it writes" grep -qx mine "$R/$j.1/work/in-work"
job '{"command":["sh","-c","touch /jobkit-4012; echo $?"],"sandbox":true,"scratch":true}'
check_same "the root is read-only too" "$(cat "$R/$j.1/stdout")" 1

# Its own PID namespace: it is process 2 and sees none of ours.
job '{"shell":"echo $$; ls /proc | grep -c \"^[0-9]\"; kill -0 '$$' 2>/dev/null && echo seen || echo unseen","sandbox":true}'
check_same "in its own PID namespace the job is process 2" "$(sed -n 1p "$R/$j.1/stdout")" 2
check "it sees a few processes" test "$(sed -n 2p "$R/$j.1/stdout")" -le 4
check_same "and not the test's" "$(sed -n 3p "$R/$j.1/stdout")" unseen

# Network: none by default, the host's with "full".
job '{"command":["curl","-sS","--max-time","20","'"$HTTP_URL"'/hello.txt"],"sandbox":true}'
check_same "no network: a server on 127.0.0.1 cannot be reached" "$rc" 7
check "curl says so" grep -q 'Failed to connect\|Could not connect\|Couldn.t connect' "$R/$j.1/stderr"
job '{"command":["curl","-sS","--max-time","20","'"$HTTP_URL"'/hello.txt"],"sandbox":true,"network":"full"}'
check_same "network full: it can" "$rc" 0
check_same "and gets what the server serves" "$(cat "$R/$j.1/stdout")" served
# exec-run --sandbox puts a job that did not ask into it.
job '{"command":["curl","-sS","--max-time","20","'"$HTTP_URL"'/hello.txt"]}' --sandbox
check_same "--sandbox: a job that did not ask runs in it, no network" "$rc" 7
job '{"command":["curl","-sS","--max-time","20","'"$HTTP_URL"'/hello.txt"]}'
check_same "without, the same job reaches the server" "$rc" 0

# A timeout reaches the sandboxed command; nothing of it is left.
job '{"command":["sleep","299.4012"],"sandbox":true,"timeout":"1s","grace":"2s"}'
check_same "a sandboxed job times out" "$rc" 124
check "and its command is gone" sh -c '! pgrep -f "[s]leep 299.4012" >/dev/null'
job '{"command":["no-such-command-4012"],"sandbox":true}'
check_same "a program not found in the sandbox is 127" "$rc" 127
check_out "\"error\":\"cannot run 'no-such-command-4012': command not found\"" "saying so"

# A Bacalhau-style container job on the host: input from HTTP at
# /inputs, output from /outputs uploaded to S3.
s3="s3://127.0.0.1:${S3_ENDPOINT##*:}"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_KEY" "$S3_SECRET" \
    >"$HOME/.aws/credentials"
s3_mkbucket bkt
echo 'from the input' >"$SRV_ROOT/in.txt"
cjob='"container":{"image":"ubuntu","entrypoint":["sh","-c"]},"binds":[{"source":"inputs","target":"/inputs","read_only":true},{"source":"outputs","target":"/outputs"}]'
job '{'"$cjob"',"command":["cat /inputs/in.txt >/outputs/out.txt; touch /inputs/new; echo touch=$?; pwd"],"inputs":[{"name":"in","url":"'"$HTTP_URL"'/in.txt","path":"inputs/in.txt"}],"outputs":[{"name":"out","url":"'"$s3"'/bkt/results/out.tar.gz","path":"outputs"}]}' \
    --engine host
check_same "a container job runs on the host with --engine host" "$rc" 0
check_same "it read its input at /inputs and wrote /outputs: in the work dir's outputs/" \
    "$(cat "$R/$j.1/work/outputs/out.txt")" 'from the input'
s3_get bkt/results/out.tar.gz >"$T/out.tgz"
check_same "which is uploaded to S3" \
    "$(tar xzOf "$T/out.tgz" ./out.txt 2>/dev/null || tar xzOf "$T/out.tgz" out.txt)" 'from the input'
check "a read_only bind refuses writes" grep -qx 'touch=1' "$R/$j.1/stdout"
check "and keeps nothing written" test ! -e "$R/$j.1/work/inputs/new"
check_same "it runs in its work directory" "$(sed -n 2p "$R/$j.1/stdout")" "$R/$j.1/work"
job '{"container":{"image":"ubuntu","workdir":"/code"},"shell":"pwd; ls","binds":[{"source":"outputs","target":"/outputs"}],"scratch":true}' \
    --engine host
check_same "a container's workdir the host has not is its work directory" \
    "$(cat "$R/$j.1/stdout")" "/code
outputs"
job '{"container":{"image":"ubuntu"}}' --engine host
check_same "a container with nothing to run on the host fails" "$rc" 125
check_out "\"error\":\"container image 'ubuntu' has no entrypoint to run on the host\"" "saying so"
job '{"command":["true"],"sandbox":true,"binds":[{"source":"x","target":"/usr/no-such-4012/x"}]}'
check_same "a bind target in a host folder that lacks it fails" "$rc" 125
check_out "\"error\":\"sandbox: cannot bind at '/usr/no-such-4012/x': " "saying where"

# Missing engines and bwrap: the task fails, never runs otherwise.
j=$(printf '{"container":{"image":"alpine"},"command":["touch","%s/ran"]}\n' "$T" | job-submit -q)
run env PATH="$T/empty" "$JOBKIT_BIN/exec-run" "$j"
check_same "no docker nor podman on PATH: the container job fails" "$rc" 125
check_out '"error":"no container engine: docker or podman not found \(exec-run --engine host runs it on the host\)"' \
    "saying what is missing"
run env PATH="$T/empty" "$JOBKIT_BIN/exec-run" --engine podman "$(printf '{"container":{"image":"alpine"},"command":["true"]}\n' | job-submit -q)"
check_same "an engine named and missing" "$rc" 125
check_out "\"error\":\"no container engine: 'podman' not found\"" "is named"
j=$(printf '{"command":["touch","%s/ran"],"sandbox":true}\n' "$T" | job-submit -q)
run env PATH="$T/empty" "$JOBKIT_BIN/exec-run" "$j"
check_same "no bwrap: a sandboxed job fails" "$rc" 125
check_out '"error":"sandbox: bwrap not found \(Debian package bubblewrap\)"' "saying what to install"
check "and does not run unsandboxed" test ! -e "$T/ran"
run job-describe -f ndjson "$j"
check_out '"reason":"attempt 1 failed \(sandbox: bwrap not found' "the job's failure says why"
check "its results have it too" grep -q '"error":"sandbox: bwrap not found' "$R/$j.1/result.json"
check_exit 64 "an engine that is none" exec-run --engine rkt "$j"
check_stderr "^exec-run: --engine: 'rkt' is not auto, docker, podman or host$" "is a usage error"
check_exit 64 "--gpus that is no list" exec-run --gpus '0,,2' "$j"
check_stderr "^exec-run: --gpus: '0,,2' is not a list of devices \(0,2\)$" "is a usage error"

# docker: the command line, from a stand-in that prints its argv and the
# variable the job set.  Values reach it in its environment only.
cat >"$T/bin/docker" <<'SH'
#!/bin/sh
for a in "$@"; do printf '[%s]\n' "$a"; done
echo "MODE=$MODE CUDA=$CUDA_VISIBLE_DEVICES"
SH
chmod +x "$T/bin/docker"
dspec='{"container":{"image":"python:3.11-slim","entrypoint":["python3","-u"],"workdir":"/code"},"command":["/code/run.py","it'"'"'s"],"binds":[{"source":"code","target":"/code","read_only":true},{"source":"'"$T"'/data","target":"/data"}],"env":{"MODE":"fast-4012"},"resources":{"cpu":0.5,"memory":"1GB","gpu":2},"scratch":true}'
j=$(printf '%s\n' "$dspec" | job-submit -q)
run env PATH="$T/bin:$PATH" exec-run --gpus 0,2 "$j"
check_same "a container job runs docker" "$rc" 0
tr '\n' ' ' <"$R/$j.1/stdout" >"$T/argv"
check "docker run --rm --init, no network, its workdir" grep -q \
    '^\[run\] \[--rm\] \[--init\] \[--network=none\] \[--workdir=/code\] ' "$T/argv"
check "binds as -v, a relative source in the work dir, :ro" grep -qF \
    "[-v] [$R/$j.1/work/code:/code:ro] [-v] [$T/data:/data] " "$T/argv"
check "the container's limits" grep -qF '[--cpus=0.500] [--memory=1000000000] ' "$T/argv"
check "its GPUs, one quoted value for docker's CSV" grep -qF '[--gpus] ["device=0,2"] ' "$T/argv"
check "each variable by name" grep -qF '[-e] [MODE] ' "$T/argv"
check "entrypoint, image, the rest of it and the command" grep -qF \
    "[--entrypoint] [python3] [python:3.11-slim] [-u] [/code/run.py] [it's] " "$T/argv"
check "no value is on docker's command line" sh -c '! grep -q "\[[^]]*fast-4012" "$T/argv"'
check "it is in docker's environment, with the GPUs" grep -q 'MODE=fast-4012 CUDA=0,2' "$T/argv"
check "the folder of a relative source is made" test -d "$R/$j.1/work/code"
j=$(printf '{"container":{"image":"alpine"},"shell":"echo hi","network":"full"}\n' | job-submit -q)
run env PATH="$T/bin:$PATH" exec-run "$j"
tr '\n' ' ' <"$R/$j.1/stdout" >"$T/argv"
check "network full is the host's; a shell runs as sh -c" grep -qF \
    '[--network=host] [--entrypoint] [sh] [alpine] [-c] [echo hi] ' "$T/argv"
cp "$T/bin/docker" "$T/bin/podman"
j=$(printf '{"container":{"image":"alpine"},"shell":"echo hi","network":"full","resources":{"gpu":2}}\n' | job-submit -q)
run env PATH="$T/bin:$PATH" exec-run --engine podman --gpus 0,2 "$j"
tr '\n' ' ' <"$R/$j.1/stdout" >"$T/argv"
check "podman: the same, its GPUs as CDI devices" grep -qF \
    '[--network=host] [--device] [nvidia.com/gpu=0] [--device] [nvidia.com/gpu=2] [--entrypoint] [sh] ' "$T/argv"
job '{"command":["sh","-c","echo $CUDA_VISIBLE_DEVICES $NVIDIA_VISIBLE_DEVICES"],"resources":{"gpu":2}}' --gpus 1,3
check_same "a task given GPUs has them in its environment" "$(cat "$R/$j.1/stdout")" "1,3 1,3"

# The fields, checked as any (65, the path named, nothing stored).
n=$(run-query -c)
check_exit 65 "a container without an image" sh -c 'echo "{\"container\":{}}" | job-submit'
check_stderr '^job-submit: .*\$\.container: a container needs an image$' "is refused"
check_exit 65 "a relative bind target" sh -c 'echo "{\"command\":[\"true\"],\"binds\":[{\"source\":\"a\",\"target\":\"b\"}]}" | job-submit'
check_stderr "\\\$\\.binds\\[0\\]\\.target: 'b' must be an absolute path without '\\.\\.'" "is refused"
check_exit 65 "a network that is none of none and full" sh -c 'echo "{\"command\":[\"true\"],\"network\":\"bridge\"}" | job-submit'
check_stderr "\\\$\\.network: 'bridge' is not one of none, full" "is refused"
check_same "and nothing is stored" "$(run-query -c)" "$n"
done_testing
