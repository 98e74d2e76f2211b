#!/bin/sh
# Completions: bash, zsh and fish know every long option of each tool's
# --help; bash completes live job IDs from the --db on the line, states,
# kinds and queues; zsh and fish files parse (when those shells are here)
# and fish completes IDs and states too.
. "$(dirname "$0")/lib.sh"
plan 42

C=$TOP/completions
TOOLS="job-submit job-describe run-query exec-run task-keepalive artifact-fetch"

# What bash completes for the last of the words given, one a line, as the
# function registered for the tool leaves it in COMPREPLY.  No
# bash-completion package is needed: the words are set as bash would.
complete_bash() {
	bash -c '
		set -u
		. "$0" || exit 1
		fn=$(complete -p "$1" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD - 1]}"
		if ((${#COMPREPLY[@]})); then
			printf "%s\n" "${COMPREPLY[@]}"
		fi' "$C/jobkit.bash" "$@"
}

# The long options a tool's --help names.
long_options() {
	"$JOBKIT_BIN/$1" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# The options of $1 (one a line) that no line of file $2 matches, as
# $3<option>$4 (extended regular expressions).
missing() {
	for _o in $1; do
		grep -Eq -- "$3$_o$4" "$2" || printf '%s ' "$_o"
	done
}

for t in $TOOLS; do
	opts=$(long_options "$t")
	complete_bash "$t" -- >"$T/got"
	check_same "bash completes every long option of $t --help" \
	    "$(missing "$opts" "$T/got" '^' '$')" ""
done
for t in $TOOLS; do
	check_same "jobkit.zsh names every long option of $t --help" \
	    "$(missing "$(long_options "$t")" "$C/jobkit.zsh" \
	    '(^|[^a-z0-9-])' '([^a-z0-9-]|$)')" ""
done
for t in $TOOLS; do
	opts=$(long_options "$t" | sed 's/^--//')
	# The spec options are a function of jobkit-common.fish a tool calls.
	cp "$C/$t.fish" "$T/fish"
	if grep -q "^__jobkit_spec_options $t\$" "$C/$t.fish"; then
		sed -n "s/^ *complete -c \\\$cmd /complete -c $t /p" \
		    "$C/jobkit-common.fish" >>"$T/fish"
	fi
	check_same "$t.fish names every long option of $t --help" \
	    "$(missing "$opts" "$T/fish" "^complete -c $t .*-l " '( |$)')" ""
done

a=$(job-submit --db "$T/j.db" -q -- true)
b=$(job-submit --db "$T/j.db" -q -- env A=1 sleep 1)
# An old job is completed too, not only what run-query shows by default.
sqlite3 "$T/j.db" "update jobs set state = 'succeeded', ended = 0 where rid = 1"
complete_bash job-describe --db "$T/j.db" '' >"$T/got"
check_same "bash: job IDs of the --db on the line, newest first, old ones too" \
    "$(cat "$T/got")" "$b
$a"
complete_bash job-describe --db = "$T/j.db" '' >"$T/got"
check_same "and of --db=PATH" "$(sort "$T/got")" "$(printf '%s\n' "$a" "$b")"
complete_bash job-submit --db "$T/j.db" --cancel '' >"$T/got"
check "job IDs after job-submit --cancel" grep -qx "$a" "$T/got"
complete_bash exec-run --db "$T/j.db" -- true '' >"$T/got"
check_same "never after -- (the command's own words)" \
    "$(grep -c -x -e "$a" -e "$b" "$T/got")" 0
complete_bash job-describe --db "$T/none.db" '' >"$T/got"
check_same "nothing from a database not there yet, nor is it created" \
    "$(cat "$T/got"; [ -e "$T/none.db" ] && echo created)" ""
complete_bash run-query jobs --state '' >"$T/got"
check "run-query jobs --state completes queued" grep -qx queued "$T/got"
complete_bash job-submit --can >"$T/got"
check_same "--can completes --cancel" "$(cat "$T/got")" --cancel
complete_bash job-submit -f '' >"$T/got"
check_same "job-submit -f: output formats and the formats it imports" \
    "$(sort "$T/got" | xargs)" "bacalhau determined json ndjson studioml table text"
complete_bash job-describe -f '' >"$T/got"
check_same "job-describe -f: output formats and Bacalhau's shape" \
    "$(sort "$T/got" | xargs)" "bacalhau json ndjson table text"
complete_bash run-query '' >"$T/got"
check_same "run-query's first operand is a kind" "$(sort "$T/got" | xargs)" \
    "jobs queues runs tasks"
complete_bash run-query --db "$T/j.db" --queue '' >"$T/got"
check_same "live queue names" "$(cat "$T/got")" default

if command -v zsh >/dev/null 2>&1; then
	check "zsh -n jobkit.zsh" zsh -n "$C/jobkit.zsh"
	# What _describe gets: "ID:name", newest first.
	zsh -c "source '$C/jobkit.zsh' 2>/dev/null
	    words=(job-describe --db '$T/j.db' ''); CURRENT=4; _jobkit_id_names" \
	    >"$T/got" 2>"$T/err"
	check_same "zsh: job IDs with their names, for _describe" \
	    "$(xargs <"$T/got")" "$b:sleep $a:true"
else
	skip "zsh is not installed"
	skip "zsh is not installed"
fi
for t in $TOOLS; do
	if command -v fish >/dev/null 2>&1; then
		check "fish -n $t.fish" fish -n "$C/$t.fish"
	else
		skip "fish is not installed"
	fi
done
if command -v fish >/dev/null 2>&1; then
	fish -c "source '$C/job-describe.fish'
	    complete -C 'job-describe --db $T/j.db '" >"$T/got" 2>"$T/err"
	check_same "fish: job IDs of the --db on the line" \
	    "$(cut -f1 "$T/got" | xargs)" "$b $a"
	check_same "fish: with their names beside them" \
	    "$(cut -f2 "$T/got" | xargs)" "sleep true"
	fish -c "source '$C/run-query.fish'
	    complete -C 'run-query tasks --state lost,'" >"$T/got" 2>"$T/err"
	check_same "fish: the states of tasks, in a list" \
	    "$(cut -f1 "$T/got" | xargs)" \
	    "lost,cancelled lost,failed lost,lost lost,running lost,succeeded lost,timed_out"
	fish -c "source '$C/job-submit.fish'
	    complete -C 'job-submit -f '" >"$T/got" 2>"$T/err"
	check_same "fish: job-submit -f offers the imported formats" \
	    "$(cut -f1 "$T/got" | sort | xargs)" "bacalhau determined json ndjson studioml table text"
else
	skip "fish is not installed"
	skip "fish is not installed"
	skip "fish is not installed"
	skip "fish is not installed"
fi
complete_bash task-keepalive --end '' >"$T/got"
check_same "task-keepalive --end completes the states it records" \
    "$(sort "$T/got" | xargs)" "cancelled failed succeeded timed_out"
done_testing
