# fish completion for exec-run (jobkit)

# The helpers all four jobkit tools share: fish loads only the file of the
# command being completed, so each sources them from beside itself.
functions -q __jobkit_ids; or source (dirname (status filename))/jobkit-common.fish

# Job IDs, but not for a worker; the command after "--".
complete -c exec-run -f
complete -c exec-run -n 'not __jobkit_after_dashdash; and not __fish_seen_argument -l worker' -ka '(__jobkit_ids)' -d job
complete -c exec-run -n __jobkit_after_dashdash -a '(__jobkit_command)'

# Spec options (jobkit-common.fish).
__jobkit_spec_options exec-run

complete -c exec-run -l worker -d 'claim and run queued jobs'
complete -c exec-run -s j -l jobs -x -d 'tasks at once'
complete -c exec-run -l drain -d 'exit when nothing is left to run'
complete -c exec-run -l idle-exit -x -d 'exit after idling this long'
complete -c exec-run -l capacity -x -d 'what the worker offers (cpu=N,memory=SIZE,disk=SIZE,gpu=N)'
complete -c exec-run -l lease -x -d 'lease of the run and its tasks'
complete -c exec-run -l results -x -a '(__fish_complete_directories)' -d 'results folder'
complete -c exec-run -l engine -x -a 'auto docker podman host' -d 'what runs container jobs'
complete -c exec-run -l sandbox -d 'run every task in the sandbox (bubblewrap)'
complete -c exec-run -l gpus -x -d 'the GPUs of this worker (0,1,2)'
complete -c exec-run -l pip -d 'let tasks install the Python packages they name'
complete -c exec-run -l wait -d 'wait for the jobs to finish'
complete -c exec-run -l logs -d "print the output of a job's latest task (of your newest job)"
complete -c exec-run -l follow -d 'with --logs, until the job ends, attempt after attempt'
complete -c exec-run -l stderr -d 'with --logs, standard error'
complete -c exec-run -l both -d 'with --logs, stdout and stderr as written'
complete -c exec-run -l tail -x -d 'with --logs, only the last N lines'
complete -c exec-run -s q -l quiet -d 'print only task IDs'
complete -c exec-run -s f -l format -x -a 'json ndjson table text' -d 'output format'
complete -c exec-run -s d -l db -r -F -d 'task database'
complete -c exec-run -s h -l help -d 'print usage'
complete -c exec-run -s V -l version -d 'print the version'
