# fish completion for task-keepalive (jobkit)

# The helpers all jobkit tools share: fish loads only the file of the
# command being completed, so each sources them from beside itself.
functions -q __jobkit_ids; or source (dirname (status filename))/jobkit-common.fish

# Live IDs of the tasks and runs that have not ended, newest first.
function __task_keepalive_tasks
    __jobkit_run_query tasks -s running -q --reverse --limit 200
end

function __task_keepalive_runs
    __jobkit_run_query runs -s running -q --reverse --limit 200
end

# The command after "--".
complete -c task-keepalive -f
complete -c task-keepalive -n __jobkit_after_dashdash -a '(__jobkit_command)'

# Spec options (jobkit-common.fish), for a command it submits; it runs its
# command from an argv only, so not -S.
__jobkit_spec_options task-keepalive
complete -c task-keepalive -e -s S -l shell

complete -c task-keepalive -s j -l job -x -ka '(__jobkit_ids)' -d 'claim this job instead of submitting one'
complete -c task-keepalive -l task -x -ka '(__task_keepalive_tasks)' -d 'keep or end this task'
complete -c task-keepalive -l run -x -ka '(__task_keepalive_runs)' -d 'keep or end this run'
complete -c task-keepalive -l end -x -a 'succeeded failed timed_out cancelled' -d 'the end to record when stopped'
complete -c task-keepalive -l now -d 'record the end at once'
complete -c task-keepalive -l reap -d 'mark expired leases lost'
complete -c task-keepalive -l lease -x -d 'lease of the run and its task, or of the row kept (60s)'
complete -c task-keepalive -l interval -x -d 'how often the lease is renewed'
complete -c task-keepalive -l results -x -a '(__fish_complete_directories)' -d 'results folder'
complete -c task-keepalive -s v -l verbose -d 'say each renewal on stderr'
complete -c task-keepalive -s q -l quiet -d 'print only IDs'
complete -c task-keepalive -s f -l format -x -a 'json ndjson table text' -d 'output format'
complete -c task-keepalive -s d -l db -r -F -d 'task database'
complete -c task-keepalive -s h -l help -d 'print usage'
complete -c task-keepalive -s V -l version -d 'print the version'
