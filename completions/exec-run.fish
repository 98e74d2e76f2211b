# fish completion for exec-run (jobkit)

# The helpers all four jobkit tools share: fish loads only the file of the
# command being completed, so each sources them from beside itself.
functions -q __jobkit_ids; or source (dirname (status filename))/jobkit-common.fish

# Job IDs, but not for a worker; the command after "--".
complete -c exec-run -f
complete -c exec-run -n 'not __jobkit_after_dashdash; and not __fish_seen_argument -l worker' -ka '(__jobkit_ids)' -d job
complete -c exec-run -n __jobkit_after_dashdash -a '(__jobkit_command)'

# Spec options, as in job-submit.
complete -c exec-run -s n -l name -x -d 'name the job'
complete -c exec-run -s e -l env -x -a '(set -nx)' -d 'set a variable (K=V), or pass ours (K)'
complete -c exec-run -l env-file -r -F -d 'read K=V lines from a file'
complete -c exec-run -s w -l workdir -x -a '(__fish_complete_directories)' -d 'work directory'
complete -c exec-run -s t -l timeout -x -d 'time limit (90s, 1h30m)'
complete -c exec-run -l grace -x -d 'time between SIGTERM and SIGKILL'
complete -c exec-run -s r -l retries -x -d 'attempts after the first'
complete -c exec-run -l retry-on -x -d 'exit codes that retry (1,2,...)'
complete -c exec-run -s p -l priority -x -d 'priority, -1000 to 1000'
complete -c exec-run -s Q -l queue -x -a '(__jobkit_queues)' -d queue
complete -c exec-run -s l -l label -x -d 'add a label (K=V)'
complete -c exec-run -l cpu -x -d 'CPUs needed (2, 500m)'
complete -c exec-run -l memory -x -d 'memory needed (512MiB)'
complete -c exec-run -l disk -x -d 'disk space needed'
complete -c exec-run -l gpu -x -d 'GPUs needed'
complete -c exec-run -l max-file -x -d 'size limit of each output file'
complete -c exec-run -l max-return -x -d 'size of the output kept in the database'
complete -c exec-run -s a -l after -x -ka '(__jobkit_ids)' -d 'start after this job succeeded'
complete -c exec-run -l after-any -x -ka '(__jobkit_ids)' -d 'start after this job ended'
complete -c exec-run -s H -l hold -d 'hold the job'
complete -c exec-run -l at -x -d 'start no earlier than (+2h, RFC 3339)'
complete -c exec-run -s k -l key -x -d 'idempotency key'
complete -c exec-run -s S -l shell -x -d 'run a shell command line'

complete -c exec-run -l worker -d 'claim and run queued jobs'
complete -c exec-run -s j -l jobs -x -d 'tasks at once'
complete -c exec-run -l drain -d 'exit when nothing is left to run'
complete -c exec-run -l idle-exit -x -d 'exit after idling this long'
complete -c exec-run -l capacity -x -d 'what the worker offers (cpu=N,memory=SIZE,disk=SIZE,gpu=N)'
complete -c exec-run -l lease -x -d 'lease of the run and its tasks'
complete -c exec-run -l results -x -a '(__fish_complete_directories)' -d 'results folder'
complete -c exec-run -l wait -d 'wait for the jobs to finish'
complete -c exec-run -l logs -d "print the output of a job's latest task"
complete -c exec-run -l follow -d 'with --logs, until the task ends'
complete -c exec-run -l stderr -d 'with --logs, standard error'
complete -c exec-run -s q -l quiet -d 'print only task IDs'
complete -c exec-run -s f -l format -x -a 'json ndjson table text' -d 'output format'
complete -c exec-run -s d -l db -r -F -d 'task database'
complete -c exec-run -s h -l help -d 'print usage'
complete -c exec-run -s V -l version -d 'print the version'
