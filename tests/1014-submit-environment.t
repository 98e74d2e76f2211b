#!/bin/sh
# What a job runs with: the submitter's PATH, HOME, USER, LOGNAME, SHELL,
# LANG, LC_* and TZ, recorded in its spec (--export=ALL, NONE or a list
# says otherwise; secret values are redacted); the submit directory
# (--scratch: a fresh folder); a shell script of several lines.
. "$(dirname "$0")/lib.sh"
plan 38

spec() { job-describe --spec -f ndjson "$1"; }
out() { cat "$T/results/$1.1/stdout"; }
printenv_job='for v in PATH HOME USER LANG LC_TIME TZ FOO PWD; do eval "echo $v=\${$v-unset}"; done'

# By default: the submitter's own variables, not the worker's.
mkdir "$T/sub" "$T/bin"
j=$(cd "$T/sub" && env PATH="$T/bin:$PATH" USER=sam LANG=C.UTF-8 LC_TIME=C \
    TZ=Europe/Paris FOO=submitter job-submit -q -- sh -c "$printenv_job")
run spec "$j"
check_out '"export":\{' "the spec records an export"
check_out "\"PATH\":\"$T/bin:" "of the submitter's PATH"
check_out '"USER":"sam"' "USER"
check_out '"LC_TIME":"C"' "LC_*"
check_out '"TZ":"Europe/Paris"' "and TZ"
check "not of anything else" sh -c '! grep -q "\"FOO\":" "$T/out"'
check_exit 0 "a worker with another environment runs it" \
    env FOO=worker USER=root TZ=UTC PATH="$PATH" exec-run "$j" -q
check "it gets the submitter's PATH" grep -q "^PATH=$T/bin:" "$T/results/$j.1/stdout"
check_same "the submitter's USER, LANG, LC_TIME and TZ" \
    "$(sed -n '3,6p' "$T/results/$j.1/stdout" | tr '\n' ' ')" \
    "USER=sam LANG=C.UTF-8 LC_TIME=C TZ=Europe/Paris "
check "none of the worker's own" grep -q "^FOO=unset$" "$T/results/$j.1/stdout"
check "and runs where it was submitted, PWD saying so" grep -q "^PWD=$T/sub$" "$T/results/$j.1/stdout"

j=$(env FOO=all MY_API_TOKEN=s3cr3t job-submit -q --export=ALL -- sh -c "$printenv_job")
exec-run -q "$j" >/dev/null
check "--export=ALL: everything" grep -q "^FOO=all$" "$T/results/$j.1/stdout"
run spec "$j"
check_out '"MY_API_TOKEN":"\*\*\*"' "a secret's value is redacted when shown"
check "and never shown" sh -c '! grep -q s3cr3t "$T/out"'
# (env, run without a shell, prints exactly what it was given.)
ours() { grep -v -e ^PWD= -e ^JOBKIT_ "$T/results/$1.1/stdout" | sort | tr '\n' ' '; }
j=$(env FOO=x job-submit -q --export=NONE -- env)
exec-run -q "$j" >/dev/null
check_same "--export=NONE: nothing of ours, only PWD and JOBKIT_*" "$(ours "$j")" ""
j=$(env FOO=x BAR=y job-submit -q --export=FOO,TZ=UTC -- env)
exec-run -q "$j" >/dev/null
check_same "--export=NAME,NAME=VALUE: those" "$(ours "$j")" "FOO=x TZ=UTC "
j=$(job-submit -q --export=NONE -e FOO=spec -- sh -c "$printenv_job")
exec-run -q "$j" >/dev/null
check "--env still sets what it names" grep -q "^FOO=spec$" "$T/results/$j.1/stdout"

before=$(db_sum)
check_exit 64 "--export=NONE with names" job-submit --export=NONE,FOO -- true
check_stderr "^job-submit: --export: expected ALL, NONE or NAME\\[=VALUE\\],..., got 'NONE,FOO'$" "is refused"
check_exit 64 "--export of a variable not set" env -u NOPE job-submit --export=NOPE -- true
check_stderr "^job-submit: --export: 'NOPE' is not set in the environment$" "says so"
check_exit 64 "--export of a bad name" job-submit --export=1X=2 -- true
check_stderr "^job-submit: --export: '1X' is not a variable name$" "says so"
check_same "and nothing is stored" "$(db_sum)" "$before"

# The work directory: where job-submit ran; a relative one in a JSON spec
# is the submitter's too; --scratch is a fresh one.
j=$(cd "$T/sub" && echo '{"command":["pwd"],"workdir":"."}' | job-submit -q)
run spec "$j"
check_out "\"workdir\":\"$T/sub\"" "a relative workdir in a spec is made absolute"
j=$(cd "$T/sub" && job-submit -q --scratch -- pwd)
exec-run -q "$j" >/dev/null
check_same "--scratch: a fresh folder" "$(out "$j")" "$T/results/$j.1/work"
check_exit 64 "--scratch with --workdir" job-submit --scratch -w /tmp -- true
check_stderr "^job-submit: --workdir and --scratch: give one" "is refused"
check_exit 65 "a spec with both" sh -c 'echo "{\"command\":[\"true\"],\"workdir\":\"/tmp\",\"scratch\":true}" | job-submit'
check_stderr "give workdir or scratch, not both" "is refused"

# A shell script of several lines, tabs and all.
j=$(job-submit -q -S "$(printf 'for x in a b; do\n\techo "$x"\ndone')")
exec-run -q "$j" >/dev/null
check_same "a shell string of several lines runs" "$(out "$j" | tr '\n' ' ')" "a b "
run job-describe -f ndjson "$j"
check_out '"name":"echo"' "named by its first command that does something"
j=$(printf '{"shell":"echo one\\necho two"}' | job-submit -q)
exec-run -q "$j" >/dev/null
check_same "in a JSON spec too" "$(out "$j" | tr '\n' ' ')" "one two "
run job-describe -f text "$j"
check_out "^             echo two$" "job-describe's text keeps its second line in the column"
check_exit 65 "a carriage return" job-submit -S "$(printf 'echo a\r')"
check_stderr "shell: contains a control character other than a tab or a newline" "is still refused"

# Jobs a job submits go to the database it came from.
check_exit 0 "a job that submits a job" \
    sh -c 'j=$(job-submit -q --db "$T/other.db" -- job-submit -q -- true) && exec-run -q --db "$T/other.db" "$j"'
check_same "puts it in its own database" "$(run-query jobs --db "$T/other.db" -c)" "2"
done_testing
