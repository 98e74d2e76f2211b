# fish completion for artifact-fetch (jobkit)

# The helpers all jobkit tools share (this one completes no job IDs, but
# the command after "--stage FD --" as exec-run does after "--").
functions -q __jobkit_command; or source (dirname (status filename))/jobkit-common.fish

# The profiles of the AWS credentials and config files.
function __artifact_fetch_aws_profiles
    set -l creds $HOME/.aws/credentials
    set -q AWS_SHARED_CREDENTIALS_FILE; and set creds $AWS_SHARED_CREDENTIALS_FILE
    set -l conf $HOME/.aws/config
    set -q AWS_CONFIG_FILE; and set conf $AWS_CONFIG_FILE
    begin
        string replace -rf '^\s*\[([^]]*)\].*' '$1' <$creds
        string replace -rf '^\s*\[(?:profile\s+)?([^]]*)\].*' '$1' <$conf
    end 2>/dev/null | sort -u
end

# Operands are URLs: offer their schemes.
complete -c artifact-fetch -f
complete -c artifact-fetch -n __jobkit_after_dashdash -a '(__jobkit_command)'
complete -c artifact-fetch -n 'not __jobkit_after_dashdash; and not string match -q -- "*://*" (commandline -ct)' -a 'http:// https:// s3:// ftp:// ftps:// file://' -d 'URL scheme'

complete -c artifact-fetch -s o -l output -r -F -d "where the one URL's object goes"
complete -c artifact-fetch -s C -l directory -x -a '(__fish_complete_directories)' -d 'where objects go'
complete -c artifact-fetch -s x -l unpack -d 'unpack archives into the folder'
complete -c artifact-fetch -s H -l hash -x -d 'the hash the object must have (sha256:HEX, md5:HEX)'
complete -c artifact-fetch -s u -l user -x -d 'log in as this user'
complete -c artifact-fetch -l password-env -x -a '(set -nx)' -d 'the password from this variable'
complete -c artifact-fetch -l password-file -r -F -d 'the password from the first line of a file'
complete -c artifact-fetch -l token-env -x -a '(set -nx)' -d 'a bearer token from this variable'
complete -c artifact-fetch -l token-file -r -F -d 'a bearer token from the first line of a file'
complete -c artifact-fetch -l netrc-file -r -F -d 'logins from this file instead of ~/.netrc'
complete -c artifact-fetch -l profile -x -a '(__artifact_fetch_aws_profiles)' -d 'the AWS profile'
complete -c artifact-fetch -l endpoint -x -d 'an S3-compatible server (path style)'
complete -c artifact-fetch -l cacert -r -F -d 'CA certificates for https'
complete -c artifact-fetch -l cache -x -a '(__fish_complete_directories)' -d 'the cache folder'
complete -c artifact-fetch -l no-cache -d 'fetch without the cache'
complete -c artifact-fetch -l cache-max -x -d 'bound of the cache (10GiB)'
complete -c artifact-fetch -l max-bytes -x -d 'refuse an object larger than this'
complete -c artifact-fetch -l max-size -x -d 'refuse an archive unpacking to more (10GiB)'
complete -c artifact-fetch -l max-files -x -d 'refuse an archive of more entries (100000)'
complete -c artifact-fetch -l connect-timeout -x -d 'give up connecting after this long (30s)'
complete -c artifact-fetch -l timeout -x -d 'give up a transfer after this long'
complete -c artifact-fetch -l retries -x -d 'retries on transient errors (4)'
complete -c artifact-fetch -l put -r -F -d 'upload this file or folder to the URL'
complete -c artifact-fetch -l pack -x -a 'tar tar.gz zip' -d 'pack a folder as'
complete -c artifact-fetch -l stage -x -d "stage a task's data around the command after -- (exec-run)"
complete -c artifact-fetch -l pack-context -x -a '(__fish_complete_directories)' -d "pack a folder to stdout as a job's context"
complete -c artifact-fetch -l notify -x -d 'POST the JSON on stdin to this webhook'
complete -c artifact-fetch -l job -x -ka '(__jobkit_ids)' -d 'record the notification as an event of this job'
complete -c artifact-fetch -s d -l db -r -F -d 'task database'
complete -c artifact-fetch -s q -l quiet -d 'no progress on a terminal'
complete -c artifact-fetch -s f -l format -x -a 'json ndjson table text' -d 'output format'
complete -c artifact-fetch -s h -l help -d 'print usage'
complete -c artifact-fetch -s V -l version -d 'print the version'
