# Run inside the cgroup v2 guest of cgroup-v2.sh (busybox sh), as root.
n=0
fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
has() { grep -q -- "$1" "$2"; _r=$?; ok $_r "$3"; return $_r; }
left() { ls -d /sys/fs/cgroup/jobkit-* 2>/dev/null | wc -l; }
echo "1..19"

exec-run --memory 64M -- hog 300 >/tmp/out 2>/tmp/err
ok $(test $? = 137; echo $?) "a task over its memory.max is killed (137)"
last() { job-describe -f ndjson "$(run-query jobs -q --reverse --limit 1)" >/tmp/d; }
last
has '"signal":9,"error":"out of memory: killed at its memory limit' /tmp/d "and says why" ||
    sed 's/^/# /' /tmp/d
has '"enforcement":"cgroup"' /tmp/d "the task's result says cgroup"
has '"state":"failed"' /tmp/d "the task failed"
exec-run --memory 256M -- hog 100 >/tmp/out 2>&1
ok $? "a task within its memory.max succeeds"
ok $(test "$(left)" = 0; echo $?) "no task group is left behind"

# 0.25 of a core for 3 s: about 0.75 s of CPU, throttled, not killed.
exec-run --cpu 0.25 -t 3s -- sh -c 'while :; do :; done' >/tmp/out 2>&1
st=$?
ok $(test $st = 124; echo $?) "a spinning task held to 0.25 core times out (124), no SIGXCPU"
[ $st = 124 ] || { echo "# exit $st"; sed 's/^/# /' /tmp/out; }
last
cpu=$(sed -n 's/.*"user_cpu":\([0-9.]*\).*/\1/p' /tmp/d | head -1)
echo "# user_cpu $cpu s in 3 s at 0.25 core"
ok $(awk -v c="$cpu" 'BEGIN { exit !(c > 0.3 && c < 1.4) }'; echo $?) "its CPU time is about a quarter of the time (cpu.max)"
has '"enforcement":"cgroup"' /tmp/d "and the result says cgroup"

# A process of the task other than its leader over the limit: the whole
# task ends (memory.oom.group), and says why.
exec-run --memory 64M -- sh -c 'hog 300; sleep 30' >/dev/null 2>&1
ok $(test $? = 137; echo $?) "a child over memory.max ends the whole task (137)"
last
has '"error":"out of memory: killed at its memory limit' /tmp/d "and says why" ||
    sed 's/^/# /' /tmp/d

# A child that leaves the task's process group is still killed with it.
exec-run --memory 128M -- sh -c 'setsid sleep 300 & sleep 1; exit 3' >/dev/null 2>&1
ok $(test $? = 3; echo $?) "a task whose child left its group ends with its status"
sleep 1
ok $(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' | grep -q "sleep 30[0]"; test $? = 1; echo $?) "and the escaped child is gone (cgroup.kill)"
ok $(test "$(left)" = 0; echo $?) "no task group is left behind"

# A delegated group where exec-run is alone: it moves into a leaf of it.
mkdir /sys/fs/cgroup/svc
sh -c 'echo $$ >/sys/fs/cgroup/svc/cgroup.procs; exec exec-run --memory 64M -- hog 300' >/dev/null 2>&1
ok $(test $? = 137; echo $?) "alone in a delegated group: limits still hold"
ok $(test "$(ls -d /sys/fs/cgroup/svc/jobkit-* 2>/dev/null | wc -l)" = 0; echo $?) "and its leaf and task groups are gone after"

# A group shared with another process: no groups may be made; its
# resident memory is watched from /proc instead.
mkdir /sys/fs/cgroup/shared
echo $$ >/sys/fs/cgroup/shared/cgroup.procs
exec-run --memory 64M -- hog 300 >/tmp/out 2>&1
ok $(test $? = 137; echo $?) "in a shared group a task over its memory is killed (137)"
last
has '"enforcement":"watch"' /tmp/d "and the result says its RSS was watched" ||
    sed 's/^/# /' /tmp/d
ok $(test "$(ls -d /sys/fs/cgroup/shared/jobkit-* 2>/dev/null | wc -l)" = 0; echo $?) "nothing is left in the shared group"
