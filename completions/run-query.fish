# fish completion for run-query (jobkit)

# The helpers all four jobkit tools share: fish loads only the file of the
# command being completed, so each sources them from beside itself.
functions -q __jobkit_ids; or source (dirname (status filename))/jobkit-common.fish

# The kind asked for (jobs, tasks, runs, queues): the first operand.
function __run_query_noun
    set -l takes -s --state -u --user -Q --queue -l --label -n --name \
        -i --id -j --job --run --ident --cmd --since --until -t --time \
        --dependency-of --dependent-of -L --limit -o --sort -f --format \
        -d --db
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]
        if contains -- $words[1] $takes
            set -e words[1]
        else if not string match -q -- '-*' $words[1]
            echo $words[1]
            return
        end
        set -e words[1]
    end
    return 1
end

# The values of --state, --sort or --time ($argv[1]) for that kind.
function __run_query_values
    set -l noun (__run_query_noun); or set noun jobs
    switch $argv[1]:$noun
        case state:tasks
            echo running succeeded failed timed_out cancelled lost
        case state:runs
            echo running ended lost
        case 'state:*'
            echo waiting queued held running succeeded failed cancelled
        case sort:tasks
            echo created started ended keepalive attempt state id job
        case sort:runs
            echo created started ended keepalive id host
        case sort:queues
            echo created queue
        case 'sort:*'
            echo created started ended updated priority name state queue id owner
        case columns:tasks
            echo id job try name ident state exit elapsed cputime maxrss mem cpu start end host pid queue owner run error command
        case columns:runs
            echo id kind mode state owner host pid started ended capacity tasks
        case columns:queues
            echo queue jobs waiting queued held running succeeded failed cancelled
        case 'columns:*'
            echo id state owner queue prio created started ended time tries exit labels reason command name
        case time:tasks time:runs
            echo created started ended keepalive
        case 'time:*'
            echo created started ended updated
    end | string split ' '
end

# States for --state S[,S...]: complete the last of the list.
function __run_query_states
    set -l list (commandline -ct | string replace -r -- '^(--state=|-s)' '')
    set -l pre (string replace -r -- '[^,]*$' '' "$list")
    for s in (__run_query_values state)
        echo $pre$s
    end
end

# A format, or columns for --format C[,C...]: complete the last of the list.
function __run_query_formats
    set -l list (commandline -ct | string replace -r -- '^(--format=|-f)' '')
    set -l pre (string replace -r -- '[^,]*$' '' "$list")
    test -z "$pre"; and printf '%%s\n' json ndjson table text
    for c in (__run_query_values columns)
        echo $pre$c
    end
end

function __run_query_id
    set -l noun (__run_query_noun); or set noun jobs
    test $noun = jobs; and __jobkit_ids
end

complete -c run-query -f
complete -c run-query -n 'not __run_query_noun' -a 'jobs tasks runs queues' -d kind
complete -c run-query -s s -l state -x -a '(__run_query_states)' -d 'only these states'
complete -c run-query -s u -l user -x -a '(__fish_complete_users)' -d 'only this owner'
complete -c run-query -s Q -l queue -x -a '(__jobkit_queues)' -d 'only this queue'
complete -c run-query -s l -l label -x -d 'only with this label (K or K=V)'
complete -c run-query -s n -l name -x -d 'only names matching'
complete -c run-query -s i -l id -x -ka '(__run_query_id)' -d 'only IDs starting so'
complete -c run-query -s j -l job -x -ka '(__jobkit_ids)' -d 'only this job'
complete -c run-query -l run -x -ka '(__jobkit_run_query runs -q --reverse --limit 200)' -d 'only tasks of this run'
complete -c run-query -l ident -x -d 'only tasks of this ident (job name)'
complete -c run-query -l cmd -x -d 'only tasks whose cmd digest starts so (sha256:HEX)'
complete -c run-query -l alive -d 'only rows alive now'
complete -c run-query -l lost -d 'only rows whose lease expired'
complete -c run-query -l all-users -d 'tasks and runs of every user'
complete -c run-query -l since -x -d 'from this time on (2h, RFC 3339)'
complete -c run-query -l until -x -d 'up to this time (2h, RFC 3339)'
complete -c run-query -s t -l time -x -a '(__run_query_values time)' -d 'the time --since and --until filter'
complete -c run-query -l dependency-of -x -ka '(__jobkit_ids)' -d 'jobs this job waits for'
complete -c run-query -l dependent-of -x -ka '(__jobkit_ids)' -d 'jobs waiting for this job'
complete -c run-query -s L -l limit -x -d 'at most N rows'
complete -c run-query -s o -l sort -x -a '(__run_query_values sort)' -d 'sort by'
complete -c run-query -s r -l reverse -d 'reverse the order'
complete -c run-query -l with-run -d "give each task its run's row"
complete -c run-query -s c -l count -d 'print only how many'
complete -c run-query -l summary -d 'count by state and queue'
complete -c run-query -s q -l quiet -d 'print only IDs'
complete -c run-query -s a -l all -d 'jobs that ended over an hour ago too'
complete -c run-query -s f -l format -x -a '(__run_query_formats)' -d 'output format, or columns'
complete -c run-query -s d -l db -r -F -d 'task database'
complete -c run-query -s h -l help -d 'print usage'
complete -c run-query -s V -l version -d 'print the version'
