# fish completion for job-describe (jobkit)

# The helpers all four jobkit tools share: fish loads only the file of the
# command being completed, so each sources them from beside itself.
functions -q __jobkit_ids; or source (dirname (status filename))/jobkit-common.fish

complete -c job-describe -f -ka '(__jobkit_ids)' -d job
complete -c job-describe -s s -l spec -d "print only the job's spec"
complete -c job-describe -s f -l format -x -a 'json ndjson table text bacalhau' -d 'output format'
complete -c job-describe -s d -l db -r -F -d 'task database'
complete -c job-describe -s h -l help -d 'print usage'
complete -c job-describe -s V -l version -d 'print the version'
