# fish: helpers shared by the jobkit completions (job-submit, job-describe,
# run-query, exec-run).  Each of those files sources this one, which is
# installed beside them.
# The database the line names (-d, --db), else the tools' default
# ($JOBKIT_DB, then the XDG data folder); fails when it is a file that does
# not exist yet, since opening it would create it.
function __jobkit_db
    set -l db
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]
        switch $words[1]
            case --
                break
            case -d --db
                set -q words[2]; and set db $words[2]
                set -e words[1]
            case '--db=*'
                set db (string replace -- --db= '' $words[1])
            case '-d?*'
                set db (string sub -s 3 -- $words[1])
        end
        set -e words[1]
    end
    set db (string replace -r -- '^~' $HOME "$db")
    test -n "$db"; or set db "$JOBKIT_DB"
    if test -z "$db"; and string match -q '/*' -- "$XDG_DATA_HOME"
        set db $XDG_DATA_HOME/jobkit/jobkit.db
    else if test -z "$db"
        set db $HOME/.local/share/jobkit/jobkit.db
    end
    string match -q '*://*' -- $db; or test -f $db; or return 1
    echo $db
end

# Run run-query on that database (the run-query beside the tool, when the
# tool was named by a path), silent whatever fails.
function __jobkit_run_query
    set -l db (__jobkit_db); or return 1
    set -l rq run-query
    set -l tool (commandline -opc)[1]
    if string match -q '*/*' -- $tool
        set rq (string replace -r -- '^~' $HOME (dirname -- $tool))/run-query
    end
    $rq --db $db $argv 2>/dev/null
end

# Live job IDs, newest first: every tool completes its IDs through here.
function __jobkit_ids
    # "ID<tab>name": fish shows the name beside the ID.
    __jobkit_run_query jobs --all -f ndjson --reverse --limit 200 |
        string replace -rf '^\{"id":"([^"]*)","name":"((?:[^"\\\\]|\\\\.)*)".*' '$1\t$2'
end

function __jobkit_queues
    __jobkit_run_query queues -q
end

function __jobkit_after_dashdash
    contains -- -- (commandline -opc)
end

# The words after "--" are a command line of their own.
function __jobkit_command
    set -l words (commandline -opc)
    set -e words[1..(contains -i -- -- $words)]
    if set -q words[1]
        __fish_complete_subcommand --commandline $words (commandline -ct)
    else
        __fish_complete_command
    end
end

# The spec options job-submit and exec-run share, for command $cmd.
function __jobkit_spec_options -a cmd
    complete -c $cmd -s n -l name -x -d 'name the job'
    complete -c $cmd -s e -l env -x -a '(set -nx)' -d 'set a variable (K=V), or pass ours (K)'
    complete -c $cmd -l env-file -r -F -d 'read K=V lines from a file'
    complete -c $cmd -l export -x -a 'ALL NONE (set -nx)' -d 'what of our environment the job gets'
    complete -c $cmd -s w -l workdir -x -a '(__fish_complete_directories)' -d 'work directory'
    complete -c $cmd -l scratch -d 'run in a fresh folder'
    complete -c $cmd -s t -l timeout -x -d 'time limit (90s, 1h30m)'
    complete -c $cmd -l grace -x -d 'time between SIGTERM and SIGKILL'
    complete -c $cmd -s r -l retries -x -d 'attempts after the first'
    complete -c $cmd -l retry-on -x -d 'exit codes that retry (1,2,...)'
    complete -c $cmd -s p -l priority -x -d 'priority, -1000 to 1000'
    complete -c $cmd -s Q -l queue -x -a '(__jobkit_queues)' -d queue
    complete -c $cmd -s l -l label -x -d 'add a label (K=V)'
    complete -c $cmd -l cpu -x -d 'CPUs needed (2, 500m)'
    complete -c $cmd -l memory -x -d 'memory needed (512MiB)'
    complete -c $cmd -l disk -x -d 'disk space needed'
    complete -c $cmd -l gpu -x -d 'GPUs needed'
    complete -c $cmd -l max-file -x -d 'size limit of each output file'
    complete -c $cmd -l max-return -x -d 'size of the output kept in the database'
    complete -c $cmd -s a -l after -x -ka '(__jobkit_ids)' -d 'start after this job succeeded'
    complete -c $cmd -l after-any -x -ka '(__jobkit_ids)' -d 'start after this job ended'
    complete -c $cmd -s H -l hold -d 'hold the job'
    complete -c $cmd -l at -x -d 'start no earlier than (+2h, RFC 3339)'
    complete -c $cmd -s k -l key -x -d 'idempotency key'
    complete -c $cmd -l notify -x -d 'POST a summary to this URL when the job ends'
    complete -c $cmd -l image -x -d 'run the command in a container of this image'
    complete -c $cmd -s S -l shell -x -d 'run a shell command line'
end
