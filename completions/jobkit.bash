# bash completion for jobkit: job-submit, job-describe, run-query, exec-run,
# task-keepalive, artifact-fetch.
#
# One file for the six tools, installed once under each name: sourcing it
# again only defines the same functions again.  It needs nothing from the
# bash-completion package, but hands the command after "--" to its
# _command_offset when that is loaded.
#
# Job, task and run IDs and queue names come live from run-query, on the
# database named by --db on the line, else the tools' default.  Nothing is
# looked up while that database does not exist yet: opening it would create
# it.

_jobkit_spec_args='-n --name -e --env --env-file --export -w --workdir -t --timeout
	--grace -r --retries --retry-on -p --priority -Q --queue -l --label
	--cpu --memory --disk --gpu --max-file --max-return -a --after
	--after-any --at -k --key --notify --image'
_jobkit_spec_flags='-H --hold --scratch'
_jobkit_cli_args='-f --format -d --db'
_jobkit_cli_flags='-h --help -V --version'

_jobkit_submit_args="$_jobkit_spec_args -S --shell --context --config --note --array
	--idle-exit --older $_jobkit_cli_args"
_jobkit_submit_flags="$_jobkit_spec_flags -q --quiet -c --cancel --release
	--retry --delete --strict --each -0 --null --after-last -s --start
	-C --clear $_jobkit_cli_flags"
_jobkit_describe_args=$_jobkit_cli_args
_jobkit_describe_flags="-s --spec $_jobkit_cli_flags"
_jobkit_query_args="-s --state -u --user -Q --queue -l --label -n --name
	-i --id -j --job --run --ident --cmd --since --until -t --time
	--dependency-of --dependent-of -L --limit -o --sort $_jobkit_cli_args"
_jobkit_query_flags="-r --reverse -c --count --summary -q --quiet --alive
	--lost --with-run --all-users -a --all $_jobkit_cli_flags"
_jobkit_exec_args="$_jobkit_spec_args -S --shell -j --jobs --idle-exit
	--capacity --lease --results --engine --gpus --tail $_jobkit_cli_args"
_jobkit_exec_flags="$_jobkit_spec_flags --worker --drain --wait --logs
	--follow --stderr --both -q --quiet --sandbox --pip $_jobkit_cli_flags"
_jobkit_keep_args="$_jobkit_spec_args -j --job --task --run --end --lease
	--interval --results $_jobkit_cli_args"
_jobkit_keep_flags="$_jobkit_spec_flags --now --reap -v --verbose -q --quiet
	$_jobkit_cli_flags"
_jobkit_fetch_args='-o --output -C --directory -H --hash -u --user
	--password-env --password-file --token-env --token-file --netrc-file
	--profile --endpoint --cacert --cache --cache-max --max-bytes --max-size
	--max-files --connect-timeout --timeout --retries --put --pack --stage
	--pack-context --notify --job -d --db -f --format'
_jobkit_fetch_flags="-x --unpack --no-cache -q --quiet $_jobkit_cli_flags"

# Set the caller's cur and prev.  bash splits "--opt=value" at "=" (see
# COMP_WORDBREAKS): take it as "--opt value".
_jobkit_words()
{
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
}

# The index of the first "--" before the word completed, else 0.
_jobkit_dashdash()
{
	local i

	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			echo "$i"
			return
		fi
	done
	echo 0
}

# Succeed when one of the arguments is a word before the one completed.
_jobkit_seen()
{
	local w o

	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		for o; do
			[[ $w == "$o" ]] && return 0
		done
	done
	return 1
}

# Print the database the line names (-d, --db), else the tools' default
# ($JOBKIT_DB, then the XDG data folder); fail when it is a file that does
# not exist yet.
_jobkit_db()
{
	local i w db=

	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--) break ;;
		-d | --db)
			[[ ${COMP_WORDS[i + 1]} == = ]] && ((i += 1))
			((i + 1 < COMP_CWORD)) && db=${COMP_WORDS[i + 1]}
			;;
		--db=*) db=${w#--db=} ;;
		-d?*) db=${w#-d} ;;
		esac
	done
	db=${db/#\~/$HOME}
	[[ -n $db ]] || db=${JOBKIT_DB-}
	if [[ -z $db && ${XDG_DATA_HOME-} == /* ]]; then
		db=$XDG_DATA_HOME/jobkit/jobkit.db
	elif [[ -z $db ]]; then
		db=${HOME-}/.local/share/jobkit/jobkit.db
	fi
	[[ $db == *://* || -f $db ]] && printf '%s\n' "$db"
}

# Run run-query on that database (the run-query beside the tool, when the
# tool was named by a path), silent whatever fails.
_jobkit_run_query()
{
	local db rq=run-query

	db=$(_jobkit_db) || return
	if [[ ${COMP_WORDS[0]} == */* ]]; then
		rq=${COMP_WORDS[0]%/*}/run-query
		rq=${rq/#\~/$HOME}
	fi
	"$rq" --db "$db" "$@" 2>/dev/null
}

# Set COMPREPLY to what compgen, given these arguments, prints for cur.
_jobkit_compgen()
{
	mapfile -t COMPREPLY < <(compgen "$@" -- "$cur")
}

# Live job IDs, newest first: every tool completes its IDs through here.
_jobkit_ids()
{
	compopt -o nosort 2>/dev/null
	_jobkit_compgen -W "$(_jobkit_run_query jobs --all -q --reverse --limit 200)"
}

# Live IDs of the tasks or runs ($1) that match the filters after it,
# newest first.
_jobkit_rows()
{
	compopt -o nosort 2>/dev/null
	_jobkit_compgen -W "$(_jobkit_run_query "$@" -q --reverse --limit 200)"
}

_jobkit_queues()
{
	_jobkit_compgen -W "$(_jobkit_run_query queues -q)"
}

# Files (-f) or folders (-d).
_jobkit_files()
{
	compopt -o filenames 2>/dev/null
	_jobkit_compgen "$1"
}

# The words after the "--" at index $1 are a command line of their own.
_jobkit_command()
{
	local i=$(($1 + 1))

	if declare -F _command_offset >/dev/null; then
		_command_offset "$i"
	elif ((COMP_CWORD == i)); then
		_jobkit_compgen -c
	else
		_jobkit_files -f
	fi
}

# Values of the options several tools share; fail when prev is none of them.
_jobkit_value()
{
	case $prev in
	-f | --format) _jobkit_compgen -W 'json ndjson table text' ;;
	-d | --db | --env-file) _jobkit_files -f ;;
	-w | --workdir | --results) _jobkit_files -d ;;
	-Q | --queue) _jobkit_queues ;;
	-a | --after | --after-any) _jobkit_ids ;;
	-e | --env) _jobkit_compgen -e ;;
	--export) _jobkit_list "ALL NONE $(compgen -e)" ;;
	*) return 1 ;;
	esac
}

# Complete the last item of a comma-separated list of the words in $1.
_jobkit_list()
{
	local pre=

	[[ $cur == *,* ]] && pre=${cur%,*},
	mapfile -t COMPREPLY < <(compgen -P "$pre" -W "$1" -- "${cur##*,}")
}

# run-query's kind (jobs, tasks, runs, queues): the first operand.
_jobkit_noun()
{
	local i w

	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ " $_jobkit_query_args " == *[[:space:]]"$w"[[:space:]]* ]]
		then
			((i += 1))
			[[ ${COMP_WORDS[i]} == = ]] && ((i += 1))
		elif [[ $w == -- ]]; then
			:
		elif [[ $w != -* ]]; then
			echo "$w"
			return
		fi
	done
}

# run-query's values for --state, --sort, --time or the columns of --format
# ($1) of a kind ($2).
_jobkit_fields()
{
	case $1:$2 in
	state:tasks) echo running succeeded failed timed_out cancelled lost ;;
	state:runs) echo running ended lost ;;
	state:*) echo waiting queued held running succeeded failed cancelled ;;
	sort:tasks) echo created started ended keepalive attempt state id job ;;
	sort:runs) echo created started ended keepalive id host ;;
	sort:queues) echo created queue ;;
	sort:*) echo created started ended updated priority name state queue \
	    id owner ;;
	time:tasks | time:runs) echo created started ended keepalive ;;
	columns:tasks) echo id job try name ident state exit elapsed cputime maxrss mem cpu start end host pid queue owner run error command ;;
	columns:runs) echo id kind mode state owner host pid started ended capacity tasks ;;
	columns:queues) echo queue jobs waiting queued held running succeeded failed cancelled ;;
	columns:*) echo id state owner queue prio created started ended time tries exit labels reason command name ;;
	time:*) echo created started ended updated ;;
	esac
}

# Succeed when prev is one of the options in $1 (those taking a value).
_jobkit_takes()
{
	[[ -n $prev && " $1 " == *[[:space:]]"$prev"[[:space:]]* ]]
}

_job_submit()
{
	local cur prev dd

	_jobkit_words
	COMPREPLY=()
	dd=$(_jobkit_dashdash)
	if ((dd)); then
		_jobkit_command "$dd"
	elif [[ $prev == -f || $prev == --format ]]; then
		# job-submit also reads other systems' jobs.
		_jobkit_compgen -W 'json ndjson table text bacalhau studioml determined'
	elif [[ $prev == --context ]]; then
		_jobkit_compgen -d
	elif _jobkit_value || _jobkit_takes "$_jobkit_submit_args"; then
		:
	elif [[ $cur == -* ]]; then
		_jobkit_compgen -W "$_jobkit_submit_args $_jobkit_submit_flags"
	elif _jobkit_seen -c --cancel -H --hold --release --retry --delete \
	    -p --priority -Q --queue; then
		_jobkit_ids
	fi
}

_job_describe()
{
	local cur prev

	_jobkit_words
	COMPREPLY=()
	if [[ $prev == -f || $prev == --format ]]; then
		# job-describe also shows jobs as Bacalhau does.
		_jobkit_compgen -W 'json ndjson table text bacalhau'
	elif _jobkit_value || _jobkit_takes "$_jobkit_describe_args"; then
		:
	elif [[ $cur == -* ]] && ! _jobkit_seen --; then
		_jobkit_compgen -W "$_jobkit_describe_args $_jobkit_describe_flags"
	else
		_jobkit_ids # after "--" too: they are still job IDs
	fi
}

_run_query()
{
	local cur prev noun

	_jobkit_words
	COMPREPLY=()
	noun=$(_jobkit_noun)
	case $prev in
	-s | --state) _jobkit_list "$(_jobkit_fields state "$noun")" ;;
	-o | --sort) _jobkit_compgen -W "$(_jobkit_fields sort "$noun")" ;;
	-t | --time) _jobkit_compgen -W "$(_jobkit_fields time "$noun")" ;;
	-j | --job | --dependency-of | --dependent-of) _jobkit_ids ;;
	--run) _jobkit_rows runs ;;
	-i | --id) [[ ${noun:-jobs} == jobs ]] && _jobkit_ids ;;
	-u | --user) _jobkit_compgen -u ;;
	-f | --format)
		# A format, or a list of columns for a table.
		if [[ $cur == *,* ]]; then
			_jobkit_list "$(_jobkit_fields columns "$noun")"
		else
			_jobkit_list "json ndjson table text $(_jobkit_fields columns "$noun")"
		fi
		;;
	*)
		if _jobkit_value || _jobkit_takes "$_jobkit_query_args"; then
			:
		elif [[ $cur == -* ]] && ! _jobkit_seen --; then
			_jobkit_compgen -W "$_jobkit_query_args $_jobkit_query_flags"
		elif [[ -z $noun ]]; then
			_jobkit_compgen -W 'jobs tasks runs queues'
		fi
		;;
	esac
}

_exec_run()
{
	local cur prev dd

	_jobkit_words
	COMPREPLY=()
	dd=$(_jobkit_dashdash)
	if ((dd)); then
		_jobkit_command "$dd"
	elif [[ $prev == --engine ]]; then
		_jobkit_compgen -W 'auto docker podman host'
	elif _jobkit_value || _jobkit_takes "$_jobkit_exec_args"; then
		:
	elif [[ $cur == -* ]]; then
		_jobkit_compgen -W "$_jobkit_exec_args $_jobkit_exec_flags"
	elif ! _jobkit_seen --worker; then
		_jobkit_ids
	fi
}

_task_keepalive()
{
	local cur prev dd

	_jobkit_words
	COMPREPLY=()
	dd=$(_jobkit_dashdash)
	if ((dd)); then
		_jobkit_command "$dd"
		return
	fi
	case $prev in
	-j | --job) _jobkit_ids ;;
	--task) _jobkit_rows tasks -s running ;;
	--run) _jobkit_rows runs -s running ;;
	--end) _jobkit_compgen -W 'succeeded failed timed_out cancelled' ;;
	*)
		if _jobkit_value || _jobkit_takes "$_jobkit_keep_args"; then
			:
		elif [[ $cur == -* ]]; then
			_jobkit_compgen -W "$_jobkit_keep_args $_jobkit_keep_flags"
		fi
		;;
	esac
}

# The profiles of the AWS credentials and config files.
_jobkit_aws_profiles()
{
	local creds=${AWS_SHARED_CREDENTIALS_FILE:-${HOME-}/.aws/credentials}
	local conf=${AWS_CONFIG_FILE:-${HOME-}/.aws/config}

	_jobkit_compgen -W "$({
		sed -n 's/^[[:space:]]*\[\([^]]*\)\].*/\1/p' "$creds"
		sed -n 's/^[[:space:]]*\[\(profile[[:space:]]\{1,\}\)\{0,1\}\([^]]*\)\].*/\2/p' "$conf"
	} 2>/dev/null | sort -u)"
}

_artifact_fetch()
{
	local cur prev dd

	_jobkit_words
	COMPREPLY=()
	dd=$(_jobkit_dashdash)
	if ((dd)); then
		_jobkit_command "$dd" # after --stage FD --
		return
	fi
	case $prev in
	-f | --format) _jobkit_compgen -W 'json ndjson table text' ;;
	--pack) _jobkit_compgen -W 'tar tar.gz zip' ;;
	-o | --output | --password-file | --token-file | --netrc-file | \
	    --cacert) _jobkit_files -f ;;
	--put) _jobkit_files -f ;; # a file or a folder
	-C | --directory | --cache | --pack-context) _jobkit_files -d ;;
	--password-env | --token-env) _jobkit_compgen -e ;;
	--profile) _jobkit_aws_profiles ;;
	-u | --user) ;;
	*)
		if _jobkit_takes "$_jobkit_fetch_args"; then
			:
		elif [[ $cur == -* ]]; then
			_jobkit_compgen -W "$_jobkit_fetch_args $_jobkit_fetch_flags"
		elif [[ $cur != *://* ]]; then
			# Operands are URLs: offer their schemes.
			compopt -o nospace 2>/dev/null
			_jobkit_compgen -W 'http:// https:// s3:// ftp:// ftps:// file://'
		fi
		;;
	esac
}

complete -F _job_submit job-submit
complete -F _job_describe job-describe
complete -F _run_query run-query
complete -F _exec_run exec-run
complete -F _task_keepalive task-keepalive
complete -F _artifact_fetch artifact-fetch
