#!/bin/sh
# job-submit --format determined: a Determined command config (YAML or
# JSON), as `det cmd run --config-file FILE [--config K=V] [cmd ...]`
# reads it, becomes a jobkit spec: the command after -- (else the
# entrypoint), the image for the slots, its variables and bind mounts,
# the priority turned round, the pool as the queue.  Other files, and
# keys that could change what runs, are refused naming their path.
. "$(dirname "$0")/lib.sh"
plan 95
D=$TOP/tests/data
export D
desc() { job-describe --spec --format ndjson "$1"; }

check_exit 0 "a command config, a command after --" sh -c \
    'job-submit -f determined -q <"$D/determined-command.yaml" -- python3 eval.py --split test'
id=$(cat "$T/out")
run desc "$id"
check_out '"name":"train mnist"' "description is the name"
check_out '"command":\["python3","eval.py","--split","test"\]' "the command given beats the entrypoint"
check_out '"resources":\{"gpu":2\}' "resources.slots are GPUs"
check_out '"priority":32,' "priority 10 (smaller first) is 42 - 10 (larger first)"
check_out '"queue":"gpu-pool"' "resource_pool is the queue"
check_out '"container":\{"image":"determinedai/environments:cuda-11.3-pytorch-1.12-gpu-0.19.4","workdir":"/mnt/data"\}' \
    "with slots, the cuda image; work_dir is where it runs in it"
check_out '"env":\{"DEVICE":"cuda","NCCL_DEBUG":"INFO","OPTS":"--lr=0.1 --fast"\}' \
    "and the cuda variables, a value holding = and spaces kept"
check_out '"binds":\[\{"source":"/srv/datasets","target":"/mnt/data","read_only":true\},\{"source":"/srv/checkpoints","target":"/mnt/ckpt"\}\]' \
    "bind_mounts are binds (read_only: yes is true, as YAML 1.1 says)"
check_out '"foreign":\{"\$\.resources\.weight":2,"\$\.idle_timeout":"30m","\$\.notebook_idle_type":"kernels_or_terminals"\}' \
    "what only notebooks and the fair-share scheduler use is kept"
check_out '"scratch":true' "it runs in a fresh folder"
run job-describe --format ndjson "$id"
check_out '"type":"note","state":"queued","message":"kept, not applied to a command here: resources.weight, idle_timeout, notebook_idle_type"' \
    "and an event says so"
n=$(run-query -c)
check_exit 65 "with --strict" sh -c 'job-submit -f determined --strict < "$D/determined-command.yaml" -- python3 train.py'
check_stderr "kept, not applied to a command here: .*\\(refused: --strict\\)$" "it is refused, saying why"
check_same "and nothing is stored" "$(run-query -c)" "$n"

# --config KEY=VALUE beats the file, its values read as YAML.
check_exit 0 "--config overrides" sh -c 'job-submit -f determined -q --config resources.slots=0 \
    --config description=sweep --config resources.priority=1 --config "environment.environment_variables=[A=1, B=two]" \
    <"$D/determined-command.yaml"'
id=$(cat "$T/out")
run desc "$id"
check_out '"name":"sweep"' "on the description"
check_out '"command":\["python3","train.py","--epochs","3"\]' "without a command, the entrypoint (its number as a word)"
check_out '"priority":41,' "priority 1, Determined's first, is 41"
check_out '"container":\{"image":"determinedai/environments:py-3.9-pytorch-1.12-cpu-0.19.4"' "no slots: the cpu image"
check_out '"env":\{"A":"1","B":"two"\}' "a flow list replaces the variables"
check "and no GPU" sh -c "! job-describe --spec -f ndjson $id | grep -q '\"gpu\"'"
check_exit 0 "a dotted key the file lacks" sh -c \
    'job-submit -f determined -q --config environment.image=alpine:3 <"$D/determined-command.yaml" -- true'
run desc "$(cat "$T/out")"
check_out '"container":\{"image":"alpine:3","workdir":"/mnt/data"\}' "is made"

# One word is a shell line, as Determined's command-entrypoint.sh has it.
printf 'environment:\n  environment_variables: [WHO=det]\n' >"$T/host.yaml"
check_exit 0 "a one-word command" sh -c 'job-submit -f determined -q <"$T/host.yaml" -- "echo hi from \$WHO; echo again"'
id=$(cat "$T/out")
run desc "$id"
check_out '"shell":"echo hi from \$WHO; echo again"' "is a shell line"
run job-describe --format ndjson "$id"
check_out "\"message\":\"no environment.image: the command runs on the worker itself, not in Determined's default image\"" \
    "without an image it runs on the worker, and says so"
check_exit 0 "and runs" exec-run -q "$id"
check_same "with its variables" "$(exec-run --logs "$id")" "hi from det
again"
printf 'entrypoint: echo from the entrypoint\n' >"$T/ep.yaml"
check_exit 0 "an entrypoint string, no command" sh -c 'job-submit -f determined -q <"$T/ep.yaml"'
id=$(cat "$T/out")
check_exit 0 "runs the entrypoint" exec-run -q "$id"
check_same "through sh" "$(exec-run --logs "$id")" "from the entrypoint"
printf '{"entrypoint":["echo","json"],"resources":{"slots":1},"environment":{"image":"i","environment_variables":{"gpu":["G=1"]}}}' >"$T/c.json"
check_exit 0 "a JSON config" sh -c 'job-submit -f determined -q <"$T/c.json"'
run desc "$(cat "$T/out")"
check_out '"env":\{"G":"1"\}' "a gpu list serves slots when there is no cuda one"

# Bad configs: each exits 65 with one line naming the path, stores nothing.
bad() {
	printf '%s\n' "$2" >"$T/bad"
	before=$(db_sum)
	shift 2
	check_exit 65 "$_what: exit 65" sh -c 'job-submit -f determined "$@" <"$T/bad"' sh "$@"
	check_stderr "^job-submit: stdin: $_re" "$_what: says so"
	check_same "$_what: in one line" "$(wc -l <"$T/err" | tr -d ' ')" 1
	check_same "$_what: nothing stored" "$(db_sum)" "$before"
}
n=$(run-query -q | wc -l)
_what="a config policy" _re='\$\.invariant_config: this is a config policy, not a command config'
bad x "$(cat "$D/determined-policy.yaml")" -- true
_what="an experiment config" _re='\$\.searcher: this is an experiment config'
bad x 'searcher: {name: single, metric: loss}' -- true
_what="an unknown key" _re='\$\.resources\.slots_per_trial: unknown key'
bad x 'resources: {slots_per_trial: 2}' -- true
_what="capabilities" _re='\$\.environment\.add_capabilities: is not supported'
bad x 'environment: {image: a, add_capabilities: [SYS_ADMIN]}' -- true
_what="a relative host_path" _re="\\\$\\.bind_mounts\\[0\\]\\.host_path: must be an absolute path without '\\.\\.'"
bad x 'bind_mounts: [{host_path: data, container_path: /d}]' -- true
_what="a bind without its container_path" _re='\$\.bind_mounts\[0\]: a bind mount needs a host_path and a container_path'
bad x 'bind_mounts: [{host_path: /data}]' -- true
_what="a priority out of range" _re='\$\.resources\.priority: must be from 1 to 99'
bad x 'resources: {priority: 100}' -- true
_what="a variable without =" _re="\\\$\\.environment\\.environment_variables\\[0\\]: 'VERBOSE' is not NAME=VALUE"
bad x 'environment: {environment_variables: [VERBOSE]}' -- true
_what="work_dir without an image" _re='\$\.work_dir: a work directory is a place in the container'
bad x 'work_dir: /w' -- true
mkdir -p "$T/ctx" && echo x >"$T/ctx/f"
_what="work_dir with --context" _re='\$\.work_dir: is refused with --context, as Determined refuses'
bad x 'work_dir: /w
environment: {image: a}' --context "$T/ctx" -- true
_what="nothing to run" _re='\$: a command config needs an entrypoint, or a command after --'
bad x 'description: idle'
_what="a --config value that is not YAML" _re="--config 'description=\\[a': line [0-9]+, column [0-9]+: "
bad x 'entrypoint: "true"' --config 'description=[a'
_what="an empty key in --config" _re="--config 'resources\\.\\.slots=1': an empty or long key"
bad x 'entrypoint: "true"' --config resources..slots=1
_what="a --config below a value" _re="--config 'description\\.x=1': 'description' is not a map"
bad x 'description: d
entrypoint: "true"' --config description.x=1
_what="a document that is not a map" _re='\$: a Determined command config must be a map'
bad x '- entrypoint: true' -- true
check_same "run-query finds none of them" "$(run-query -q | wc -l)" "$n"
done_testing
