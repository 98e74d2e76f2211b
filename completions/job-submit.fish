# fish completion for job-submit (jobkit)

# The helpers all four jobkit tools share: fish loads only the file of the
# command being completed, so each sources them from beside itself.
functions -q __jobkit_ids; or source (dirname (status filename))/jobkit-common.fish

# Job IDs after an action; the command after "--".
function __job_submit_action
    __fish_seen_argument -s c -l cancel -s H -l hold -l release -l retry \
        -l delete -s p -l priority -s Q -l queue
end

complete -c job-submit -f
complete -c job-submit -n 'not __jobkit_after_dashdash; and __job_submit_action' -ka '(__jobkit_ids)' -d job
complete -c job-submit -n __jobkit_after_dashdash -a '(__jobkit_command)'

# Spec options, as in job-submit.
complete -c job-submit -s n -l name -x -d 'name the job'
complete -c job-submit -s e -l env -x -a '(set -nx)' -d 'set a variable (K=V), or pass ours (K)'
complete -c job-submit -l env-file -r -F -d 'read K=V lines from a file'
complete -c job-submit -s w -l workdir -x -a '(__fish_complete_directories)' -d 'work directory'
complete -c job-submit -s t -l timeout -x -d 'time limit (90s, 1h30m)'
complete -c job-submit -l grace -x -d 'time between SIGTERM and SIGKILL'
complete -c job-submit -s r -l retries -x -d 'attempts after the first'
complete -c job-submit -l retry-on -x -d 'exit codes that retry (1,2,...)'
complete -c job-submit -s p -l priority -x -d 'priority, -1000 to 1000'
complete -c job-submit -s Q -l queue -x -a '(__jobkit_queues)' -d queue
complete -c job-submit -s l -l label -x -d 'add a label (K=V)'
complete -c job-submit -l cpu -x -d 'CPUs needed (2, 500m)'
complete -c job-submit -l memory -x -d 'memory needed (512MiB)'
complete -c job-submit -l disk -x -d 'disk space needed'
complete -c job-submit -l gpu -x -d 'GPUs needed'
complete -c job-submit -l max-file -x -d 'size limit of each output file'
complete -c job-submit -l max-return -x -d 'size of the output kept in the database'
complete -c job-submit -s a -l after -x -ka '(__jobkit_ids)' -d 'start after this job succeeded'
complete -c job-submit -l after-any -x -ka '(__jobkit_ids)' -d 'start after this job ended'
complete -c job-submit -s H -l hold -d 'hold the job'
complete -c job-submit -l at -x -d 'start no earlier than (+2h, RFC 3339)'
complete -c job-submit -s k -l key -x -d 'idempotency key'
complete -c job-submit -s S -l shell -x -d 'run a shell command line'

complete -c job-submit -s q -l quiet -d 'print only job IDs'
complete -c job-submit -s c -l cancel -d 'cancel jobs'
complete -c job-submit -l release -d 'release held jobs'
complete -c job-submit -l retry -d 'retry finished jobs'
complete -c job-submit -l delete -d 'delete jobs'
complete -c job-submit -s f -l format -x -a 'json ndjson table text bacalhau studioml' -d 'output format, or the format of jobs on stdin'
complete -c job-submit -s d -l db -r -F -d 'task database'
complete -c job-submit -s h -l help -d 'print usage'
complete -c job-submit -s V -l version -d 'print the version'
