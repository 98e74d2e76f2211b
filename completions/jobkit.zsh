#compdef job-submit job-describe run-query exec-run task-keepalive artifact-fetch
# zsh completion for jobkit: job-submit, job-describe, run-query, exec-run,
# task-keepalive, artifact-fetch.
#
# Job, task and run IDs and queue names come live from run-query, on the database named by
# --db on the line, else the tools' default.  Nothing is looked up while that
# database does not exist yet: opening it would create it.

# Set REPLY to the database the line names (-d, --db), else the tools'
# default ($JOBKIT_DB, then the XDG data folder); fail when it is a file that
# does not exist yet.
_jobkit_db() {
  local i w db=

  for (( i = 2; i < CURRENT; i++ )); do
    w=$words[i]
    case $w in
      (--) break ;;
      (-d|--db) (( i + 1 < CURRENT )) && db=${(Q)words[i+1]} ;;
      (--db=*) db=${(Q)w#--db=} ;;
      (-d?*) db=${(Q)w#-d} ;;
    esac
  done
  db=${db/#\~/$HOME}
  [[ -n $db ]] || db=${JOBKIT_DB:-}
  if [[ -z $db && $XDG_DATA_HOME == /* ]]; then
    db=$XDG_DATA_HOME/jobkit/jobkit.db
  elif [[ -z $db ]]; then
    db=$HOME/.local/share/jobkit/jobkit.db
  fi
  [[ $db == *://* || -f $db ]] || return 1
  REPLY=$db
}

# Run run-query on that database (the run-query beside the tool, when the
# tool was named by a path), silent whatever fails.
_jobkit_run_query() {
  local REPLY rq=run-query

  _jobkit_db || return 1
  [[ $words[1] == */* ]] && rq=${${words[1]:h}/#\~/$HOME}/run-query
  $rq --db $REPLY "$@" 2>/dev/null
}

# Live job IDs, newest first: every tool completes its IDs through here.
_jobkit_ids() {
  local -a ids

  ids=(${(f)"$(_jobkit_id_names)"})
  _describe -V -t job-ids 'job ID' ids
}

# "ID:name" lines of those jobs, for _describe to show the names beside.
_jobkit_id_names() {
  _jobkit_run_query jobs --all -f ndjson --reverse --limit 200 |
    sed -n 's/^{"id":"\([^"]*\)","name":"\(\([^"\\]\|\\.\)*\)".*/\1:\2/p'
}

# Live IDs of the tasks or runs ($1) that match the filters after it,
# newest first.
_jobkit_rows() {
  local expl
  local -a ids

  ids=(${(f)"$(_jobkit_run_query "$@" -q --reverse --limit 200)"})
  _wanted -V ${1%s}-ids expl "${1%s} ID" compadd -a ids
}

_jobkit_queues() {
  local expl
  local -a queues

  queues=(${(f)"$(_jobkit_run_query queues -q)"})
  _wanted queues expl queue compadd -a queues
}

# The words after "--" are a command line of their own; before it, run the
# action given as arguments.
_jobkit_rest() {
  local i=${words[(i)--]}

  if (( i < CURRENT )); then
    shift $i words
    (( CURRENT -= i ))
    _normal
  else
    "$@"
  fi
}

# job-submit takes job IDs after an action.
_jobkit_action_ids() {
  if (( ${words[(I)(-c|--cancel|-H|--hold|--release|--retry|--delete|-p|--priority|-Q|--queue)(|=*)]} )); then
    _jobkit_ids
  else
    _message 'a command after --'
  fi
}

# Set the caller's spec (job-submit and exec-run) and common (every tool)
# arrays of _arguments specs.
_jobkit_options() {
  spec=(
    '(-n --name)'{-n+,--name=}'[name the job]:name: '
    '*'{-e+,--env=}'[set a variable (K=V), or pass ours (K)]:variable:_parameters -g "*export*"'
    '*--env-file=[read K=V lines from a file]:file:_files'
    '--export=[what of our environment the job gets]:variables:_values -s , variable ALL NONE ${(k)parameters[(R)*export*]}'
    '(-w --workdir --scratch)'{-w+,--workdir=}'[work directory]:directory:_directories'
    '(-w --workdir)--scratch[run in a fresh folder]'
    '(-t --timeout)'{-t+,--timeout=}'[time limit]:duration (90s, 1h30m): '
    '--grace=[time between SIGTERM and SIGKILL]:duration: '
    '(-r --retries)'{-r+,--retries=}'[attempts after the first]:count: '
    '--retry-on=[exit codes that retry]:codes (1,2,...): '
    '(-p --priority)'{-p+,--priority=}'[priority, -1000 to 1000]:priority: '
    '*'{-Q+,--queue=}'[queue]:queue:_jobkit_queues'
    '*'{-l+,--label=}'[add a label]:label (K=V): '
    '--cpu=[CPUs needed]:cpu (2, 500m): '
    '--memory=[memory needed]:size (512MiB): '
    '--disk=[disk space needed]:size: '
    '--gpu=[GPUs needed]:count: '
    '--max-file=[size limit of each output file]:size: '
    '--max-return=[size of the output kept in the database]:size: '
    '*'{-a+,--after=}'[start after this job succeeded]:job ID:_jobkit_ids'
    '*--after-any=[start after this job ended]:job ID:_jobkit_ids'
    '(-H --hold)'{-H,--hold}'[hold the job]'
    '--at=[start no earlier than]:time (+2h, RFC 3339): '
    '(-k --key)'{-k+,--key=}'[idempotency key]:key: '
    '--notify=[POST a summary to this URL when the job ends]:URL:_urls'
    '--image=[run the command in a container of this image]:image: '
    '(-S --shell)'{-S+,--shell=}'[run a shell command line]:command line:_cmdstring'
  )
  common=(
    '(-f --format)'{-f+,--format=}'[output format]:format:(json ndjson table text)'
    '(-d --db)'{-d+,--db=}'[task database]:database:_files'
    '(- *)'{-h,--help}'[print usage]'
    '(- *)'{-V,--version}'[print the version]'
  )
}

_job_submit() {
  local -a spec common

  _jobkit_options
  # job-submit also reads other systems' jobs.
  common=(
    '(-f --format)'{-f+,--format=}'[output format, or the format of jobs on stdin]:format:(json ndjson table text bacalhau studioml determined)'
    "${(@)common[3,-1]}"
  )
  _arguments -s -S : $spec $common \
    '(-q --quiet)'{-q,--quiet}'[print only job IDs]' \
    '(-c --cancel)'{-c,--cancel}'[cancel jobs]' \
    '--release[release held jobs]' \
    '--retry[retry finished jobs]' \
    '--delete[delete jobs]' \
    '--context=[pack a folder with the job]:directory:_directories' \
    '--strict[refuse what cannot be published here]' \
    '--each[a job a line of stdin, {} replaced by it]' \
    '--array=[a job an index, as sbatch --array]:indices (1-100%10): ' \
    '(-0 --null)'{-0,--null}'[with --each, items end with NUL]' \
    '--after-last[run after the job you submitted last]' \
    '(-s --start)'{-s,--start}'[start a worker if none serves the queue]' \
    '--idle-exit=[how long the worker started waits for work]:duration (60s): ' \
    '(-C --clear)'{-C,--clear}'[delete your finished jobs]' \
    '--older=[with --clear, those that ended that long ago]:duration (7d): ' \
    '--note=[add an event to jobs]:text: ' \
    '*--config=[override a Determined config key]:KEY=VALUE: ' \
    '*: :{_jobkit_rest _jobkit_action_ids}'
}

_job_describe() {
  local -a spec common

  _jobkit_options
  common=(
    '(-f --format)'{-f+,--format=}'[output format]:format:(json ndjson table text bacalhau)'
    "${(@)common[3,-1]}"
  )
  _arguments -s -S : $common \
    '(-s --spec)'{-s,--spec}'[print only the spec]' \
    '*:job ID:_jobkit_ids'
}

_run_query() {
  local curcontext=$curcontext state state_descr line expl noun
  local -a spec common values
  typeset -A opt_args

  _jobkit_options
  # A format, or a list of columns for a table.
  common=(${common:#*--format*}
    '(-f --format)'{-f+,--format=}'[output format, or columns for a table]:format:->format')
  _arguments -s -S -C : $common \
    '*'{-s+,--state=}'[only these states]:state:->state' \
    '(-u --user --all-users)'{-u+,--user=}'[only this owner]:user:_users' \
    '(-Q --queue)'{-Q+,--queue=}'[only this queue]:queue:_jobkit_queues' \
    '*'{-l+,--label=}'[only with this label]:label (K or K=V): ' \
    '(-n --name)'{-n+,--name=}'[only names matching]:glob: ' \
    '(-i --id)'{-i+,--id=}'[only IDs starting so]:ID prefix:->id' \
    '(-j --job)'{-j+,--job=}'[only this job]:job ID:_jobkit_ids' \
    '--run=[only tasks of this run]:run ID:_jobkit_rows runs' \
    '--ident=[only tasks of this ident (job name)]:ident: ' \
    '--cmd=[only tasks whose cmd digest starts so]:digest (sha256\:HEX): ' \
    '(--lost)--alive[only rows alive now]' \
    '(--alive)--lost[only rows whose lease expired]' \
    '(-u --user)--all-users[tasks and runs of every user]' \
    '--since=[from this time on]:time (2h, RFC 3339): ' \
    '--until=[up to this time]:time (2h, RFC 3339): ' \
    '(-t --time)'{-t+,--time=}'[the time --since and --until filter]:time field:->time' \
    '--dependency-of=[jobs this job waits for]:job ID:_jobkit_ids' \
    '--dependent-of=[jobs waiting for this job]:job ID:_jobkit_ids' \
    '(-L --limit)'{-L+,--limit=}'[at most N rows]:count: ' \
    '(-o --sort)'{-o+,--sort=}'[sort by]:field:->sort' \
    '(-r --reverse)'{-r,--reverse}'[reverse the order]' \
    '--with-run[give each task its run'\''s row]' \
    '(-c --count --summary)'{-c,--count}'[print only how many]' \
    '(-c --count --summary)--summary[count by state and queue]' \
    '(-q --quiet)'{-q,--quiet}'[print only IDs]' \
    '(-a --all)'{-a,--all}'[jobs that ended over an hour ago too]' \
    '1:kind:(jobs tasks runs queues)' && return

  noun=${line[1]:-jobs}
  case $state:$noun in
    (state:tasks) values=(running succeeded failed timed_out cancelled lost) ;;
    (state:runs) values=(running ended lost) ;;
    (state:*) values=(waiting queued held running succeeded failed cancelled) ;;
    (sort:tasks) values=(created started ended keepalive attempt state id job) ;;
    (sort:runs) values=(created started ended keepalive id host) ;;
    (sort:queues) values=(created queue) ;;
    (sort:*) values=(created started ended updated priority name state queue id owner) ;;
    (time:tasks|time:runs) values=(created started ended keepalive) ;;
    (time:*) values=(created started ended updated) ;;
    (format:tasks) values=(json ndjson table text id job try name ident state exit elapsed cputime maxrss mem cpu start end host pid queue owner run error command) ;;
    (format:runs) values=(json ndjson table text id kind mode state owner host pid started ended capacity tasks) ;;
    (format:queues) values=(json ndjson table text queue jobs waiting queued held running succeeded failed cancelled) ;;
    (format:*) values=(json ndjson table text id state owner queue prio created started ended time tries exit labels reason command name) ;;
    (id:jobs) _jobkit_ids; return ;;
    (*) return 1 ;;
  esac
  if [[ $state == state || $state == format ]]; then
    _values -s , $state $values
  else
    _wanted $state expl "$state_descr" compadd -a values
  fi
}

_exec_run() {
  local -a spec common

  _jobkit_options
  _arguments -s -S : $spec $common \
    '(--wait --logs)--worker[claim and run queued jobs]' \
    '(-j --jobs)'{-j+,--jobs=}'[tasks at once]:count: ' \
    '--drain[exit when nothing is left to run]' \
    '--idle-exit=[exit after idling this long]:duration: ' \
    '--capacity=[what the worker offers]:capacity (cpu=N,memory=SIZE,disk=SIZE,gpu=N): ' \
    '--lease=[lease of the run and its tasks]:duration: ' \
    '--results=[results folder]:directory:_directories' \
    '--engine=[what runs container jobs]:engine:(auto docker podman host)' \
    '--sandbox[run every task in the sandbox (bubblewrap)]' \
    '--gpus=[the GPUs of this worker]:devices (0,1,2): ' \
    '--pip[let tasks install the Python packages they name]' \
    '(--worker --logs)--wait[wait for the jobs to finish]' \
    '(--worker --wait)--logs[print the output of a job'\''s latest task (of your newest job)]' \
    '--follow[with --logs, until the job ends, attempt after attempt]' \
    '(--both)--stderr[with --logs, standard error]' \
    '(--stderr)--both[with --logs, stdout and stderr as written]' \
    '--tail=[with --logs, only the last lines]:lines: ' \
    '(-q --quiet)'{-q,--quiet}'[print only task IDs]' \
    '*: :{_jobkit_rest _jobkit_ids}'
}

_task_keepalive() {
  local -a spec common modes

  _jobkit_options
  # Spec options go with a command submitted, not with a lease kept.
  modes=(-j --job --task --run --reap)
  _arguments -s -S : ${spec:#\(-S --shell\)*} $common \
    "($modes)"{-j+,--job=}'[claim this job instead of submitting one]:job ID:_jobkit_ids' \
    "($modes)--task=[keep or end this task]:task ID:_jobkit_rows tasks -s running" \
    "($modes)--run=[keep or end this run]:run ID:_jobkit_rows runs -s running" \
    "($modes --end --now)--reap[mark expired leases lost]" \
    '(--reap)--end=[the end to record when stopped]:state:(succeeded failed timed_out cancelled)' \
    '(--reap)--now[record the end at once]' \
    '--lease=[lease of the run and its task, or of the row kept]:duration (60s): ' \
    '--interval=[how often the lease is renewed]:duration: ' \
    '--results=[results folder]:directory:_directories' \
    '(-v --verbose)'{-v,--verbose}'[say each renewal on stderr]' \
    '(-q --quiet)'{-q,--quiet}'[print only IDs]' \
    '*: :{_jobkit_rest _message "a command after --"}'
}

# The profiles of the AWS credentials and config files.
_jobkit_aws_profiles() {
  local expl creds=${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}
  local conf=${AWS_CONFIG_FILE:-$HOME/.aws/config}
  local -a profiles

  profiles=(
    ${(f)"$(sed -n 's/^[[:space:]]*\[\([^]]*\)\].*/\1/p' $creds 2>/dev/null)"}
    ${(f)"$(sed -n 's/^[[:space:]]*\[\(profile[[:space:]]\{1,\}\)\{0,1\}\([^]]*\)\].*/\2/p' $conf 2>/dev/null)"}
  )
  _wanted profiles expl 'AWS profile' compadd -- ${(u)profiles}
}

_artifact_fetch() {
  local -a spec common

  _jobkit_options
  _arguments -s -S : \
    '(-o --output -C --directory)'{-o+,--output=}'[where the one URL'\''s object goes]:file:_files' \
    '(-o --output -C --directory)'{-C+,--directory=}'[where objects go]:directory:_directories' \
    '(-x --unpack)'{-x,--unpack}'[unpack archives into the folder]' \
    '(-H --hash)'{-H+,--hash=}'[the hash the object must have]:hash (sha256\:HEX, md5\:HEX): ' \
    '(-u --user)'{-u+,--user=}'[log in as this user]:user name: ' \
    '--password-env=[the password from this variable]:variable:_parameters -g "*export*"' \
    '--password-file=[the password from the first line of a file]:file:_files' \
    '--token-env=[a bearer token from this variable]:variable:_parameters -g "*export*"' \
    '--token-file=[a bearer token from the first line of a file]:file:_files' \
    '--netrc-file=[logins from this file instead of ~/.netrc]:file:_files' \
    '--profile=[the AWS profile]:profile:_jobkit_aws_profiles' \
    '--endpoint=[an S3-compatible server (path style)]:URL:_urls' \
    '--cacert=[CA certificates for https]:file:_files' \
    '(--no-cache)--cache=[the cache folder]:directory:_directories' \
    '(--cache)--no-cache[fetch without the cache]' \
    '--cache-max=[bound of the cache]:size (10GiB): ' \
    '--max-bytes=[refuse an object larger than this]:size: ' \
    '--max-size=[refuse an archive unpacking to more]:size (10GiB): ' \
    '--max-files=[refuse an archive of more entries]:count (100000): ' \
    '--connect-timeout=[give up connecting after this long]:duration (30s): ' \
    '--timeout=[give up a transfer after this long]:duration: ' \
    '--retries=[retries on transient errors]:count (4): ' \
    '--put=[upload this file or folder to the URL]:file or folder:_files' \
    '--pack=[pack a folder as]:format:(tar tar.gz zip)' \
    '--stage=[stage a task'\''s data around the command after -- (exec-run)]:descriptor: ' \
    '--pack-context=[pack a folder to stdout as a job'\''s context]:directory:_directories' \
    '--notify=[POST the JSON on stdin to this webhook]:URL:_urls' \
    '--job=[record the notification as an event of this job]:job ID:_jobkit_ids' \
    '(-d --db)'{-d+,--db=}'[task database]:database:_files' \
    '(-q --quiet)'{-q,--quiet}'[no progress on a terminal]' \
    "${(@)common[1,2]}" "${(@)common[5,-1]}" \
    '*: :{_jobkit_rest _urls}'
}

_jobkit() {
  case $service in
    (job-submit) _job_submit ;;
    (job-describe) _job_describe ;;
    (run-query) _run_query ;;
    (exec-run) _exec_run ;;
    (task-keepalive) _task_keepalive ;;
    (artifact-fetch) _artifact_fetch ;;
  esac
}

# Autoloaded from fpath: complete now; sourced by hand: register.
if [[ $funcstack[1] == _jobkit ]]; then
  _jobkit "$@"
else
  compdef _jobkit job-submit job-describe run-query exec-run task-keepalive \
    artifact-fetch
fi
