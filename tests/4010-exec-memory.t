#!/bin/sh
# --memory is resident memory, as users mean it: a program that reserves
# much address space and uses little (threads' stacks, a JVM) starts under
# it; one whose resident set grows past it is killed, all of it, and says
# why.  Where no cgroup v2 group can be made (this host; tests/vm checks
# cgroups), the task's RSS is watched from /proc.
. "$(dirname "$0")/lib.sh"
plan 14
H=$JOBKIT_HELPERS
last() { job-describe -f ndjson "$(run-query jobs -q --reverse --limit 1)"; }

# A host where cgroups hold tasks has them checked in tests/vm only.
exec-run -q --memory 1G -- true
if last | grep -q '"enforcement":"cgroup"'; then
	for i in $(seq 14); do skip "a cgroup v2 host: memory.max holds tasks"; done
	exit 0
fi

check_exit 0 "64 threads start under --memory 512M (their 512 MiB of stacks is not memory)" \
    exec-run --memory 512M -- "$H/threads" 64
check_out "^64 threads$" "and all ran"
run last
check_out '"enforcement":"watch"' "the result says memory was watched"
check_exit 0 "under --memory 2G too, with the spec's limits" \
    exec-run --memory 2G --cpu 2 -t 1m -- "$H/threads" 200

check_exit 137 "a task whose RSS grows past --memory 64M is killed (137)" \
    exec-run --memory 64M -- "$H/hog" 400 30
check_stderr "^exec-run: out of memory: RSS [0-9.]+MiB > limit 64MiB$" "exec-run says why"
run last
check_out '"signal":9,"error":"out of memory: RSS [0-9.]+MiB > limit 64MiB"' \
    "and so does the task's result"
check_out '^\{"id":"[a-z0-9]+","name":"hog","state":"failed"' "the job failed"
check_out '"reason":"attempt 1 failed \(out of memory: RSS [0-9.]+MiB > limit 64MiB\)"' \
    "and its reason says so, not only 'signal 9'"

# A child of the task's, not its leader, over the limit: the whole task
# goes, the leader that waits for it too.
start=$(date +%s)
check_exit 137 "a child over the limit ends the whole task" \
    exec-run --memory 64M -- sh -c '"$0" 400 30; sleep 30' "$H/hog"
check "at once, not after the sleep" test $(( $(date +%s) - start )) -lt 20
run last
check_out '"error":"out of memory: RSS' "and says so"

check_exit 0 "a task within its limit runs to its end" exec-run --memory 256M -- "$H/hog" 40
# Workers watch their tasks too.
j=$(job-submit -q --memory 48M -- "$H/hog" 300 30)
exec-run --worker --drain -q >/dev/null 2>&1
run job-describe -f ndjson "$j"
check_out '"error":"out of memory: RSS [0-9.]+MiB > limit 48MiB"' "a worker's task over its limit is killed, saying why"
done_testing
