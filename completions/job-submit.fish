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

# Spec options (jobkit-common.fish).
__jobkit_spec_options job-submit

complete -c job-submit -s q -l quiet -d 'print only job IDs'
complete -c job-submit -s c -l cancel -d 'cancel jobs'
complete -c job-submit -l release -d 'release held jobs'
complete -c job-submit -l retry -d 'retry finished jobs'
complete -c job-submit -l delete -d 'delete jobs'
complete -c job-submit -l context -x -a '(__fish_complete_directories)' -d 'pack a folder with the job'
complete -c job-submit -l strict -d 'refuse what cannot be published here'
complete -c job-submit -l each -d 'a job a line of stdin, {} replaced by it'
complete -c job-submit -l array -x -d 'a job an index, as sbatch --array (1-100%10)'
complete -c job-submit -s 0 -l null -d 'with --each, items end with NUL'
complete -c job-submit -l note -x -d 'add an event to jobs'
complete -c job-submit -l after-last -d 'run after the job you submitted last'
complete -c job-submit -s s -l start -d 'start a worker if none serves the queue'
complete -c job-submit -l idle-exit -x -d 'how long the worker started waits for work (60s)'
complete -c job-submit -s C -l clear -d 'delete your finished jobs'
complete -c job-submit -l older -x -d 'with --clear, those that ended that long ago (7d)'
complete -c job-submit -l config -x -d 'override a Determined config key (KEY=VALUE)'
complete -c job-submit -s f -l format -x -a 'json ndjson table text bacalhau studioml determined' -d 'output format, or the format of jobs on stdin'
complete -c job-submit -s d -l db -r -F -d 'task database'
complete -c job-submit -s h -l help -d 'print usage'
complete -c job-submit -s V -l version -d 'print the version'
