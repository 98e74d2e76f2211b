#!/bin/sh
# GPUs: a worker knows its devices (--gpus, --capacity gpu=N) and gives
# each task as many distinct ones as it asked for, for its lifetime, in
# CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES, recorded in the task.
. "$(dirname "$0")/lib.sh"
plan 14
db=$JOBKIT_DB
res=$(dirname "$db")/results

gpujob() {
	job-submit -q --gpu "$1" -- sh -c \
	    'echo "$CUDA_VISIBLE_DEVICES $NVIDIA_VISIBLE_DEVICES"; sleep 0.4'
}
for n in 1 1 1 2 1 2; do gpujob $n; done >"$T/ids"
check_exit 0 "a worker with GPUs 0,1,2 and four slots" \
    exec-run --worker --gpus 0,1,2 -j 4 --drain -q
check_same "runs the six jobs" "$(run-query jobs -s succeeded -c)" "6"
# Each task's environment said its devices; the task records them too.
sqlite3 -separator ' ' "$db" "select t.started, t.ended, t.devices,
     json_extract(j.spec, '$.resources.gpu'), t.job from tasks t
     join jobs j on j.rid = t.job" >"$T/tasks"
for id in $(cat "$T/ids"); do
	printf '%s %s\n' "$id" "$(cat "$res/$id.1/stdout")"
done >"$T/env"
check "every task saw CUDA and NVIDIA variables alike" \
    awk 'NF != 3 || $2 != $3 { exit 1 }' "$T/env"
check "and as many devices as it asked for, of 0, 1 and 2" /usr/bin/python3 -c '
import sys
ok = True
for line in open(sys.argv[1]):
    t0, t1, dev, want, job = line.split()
    d = dev.split(",")
    ok &= len(d) == int(want) and len(set(d)) == len(d) and set(d) <= {"0", "1", "2"}
sys.exit(0 if ok else 1)' "$T/tasks"
check "the environment is what the task records" /usr/bin/python3 -c '
import sys
rec = [l.split()[2] for l in open(sys.argv[1])]
env = [l.split()[1] for l in open(sys.argv[2])]
sys.exit(0 if sorted(rec) == sorted(env) else 1)' "$T/tasks" "$T/env"
check "two tasks running at once never share a device" /usr/bin/python3 -c '
import sys
t = [l.split() for l in open(sys.argv[1])]
for i in range(len(t)):
    for j in range(i + 1, len(t)):
        a, b = t[i], t[j]
        if int(a[0]) < int(b[1]) and int(b[0]) < int(a[1]):
            if set(a[2].split(",")) & set(b[2].split(",")):
                sys.exit(1)
sys.exit(0)' "$T/tasks"
check "and some ran at once" /usr/bin/python3 -c '
import sys
t = [l.split() for l in open(sys.argv[1])]
sys.exit(0 if any(int(a[0]) < int(b[1]) and int(b[0]) < int(a[1])
    for a in t for b in t if a is not b) else 1)' "$T/tasks"
run job-describe -f ndjson "$(head -4 "$T/ids" | tail -1)"
check_out '"devices":"[0-2],[0-2]"' "job-describe shows a task's devices"

# --capacity gpu=N is devices 0 to N-1.
j=$(job-submit -q --gpu 2 -- sh -c 'echo "$CUDA_VISIBLE_DEVICES"')
check_exit 0 "a worker with --capacity gpu=2" exec-run --worker --capacity gpu=2 --drain -q
check_same "gives devices 0 and 1" "$(cat "$res/$j.1/stdout")" "0,1"
# Without GPUs (no nvidia-smi here, none given), a GPU job waits.
bin=$(dirname "$(command -v exec-run)")
j=$(job-submit -q --gpu 1 -- true)
PATH=$bin:/usr/bin:/bin exec-run --worker --drain -q >/dev/null
check_same "a worker without GPUs leaves a GPU job queued" "$(job_state "$j")" "queued"
check_exit 64 "--gpus and --capacity gpu= that disagree" \
    exec-run --worker --gpus 0,1 --capacity gpu=3 --drain
check_stderr "--gpus names 2 devices, --capacity gpu=3" "say so"
check_exit 64 "a bad --gpus" exec-run --worker --gpus '0,,1' --drain
