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
    __jobkit_run_query jobs -q --reverse --limit 200
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
