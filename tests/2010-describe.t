#!/bin/sh
# job-describe: by ID, prefix and stdin; spec redacted; dependencies,
# tasks and events; text on a terminal; nothing written.
. "$(dirname "$0")/lib.sh"
plan 27

a=$(job-submit -q -e API_TOKEN=hunter2 -e PATH=/usr/bin -l team=ml -- echo hi)
b=$(job-submit -q --after "$a" -- true)
check_exit 0 "describe by full ID" job-describe "$a"
check_out "^\{\"id\":\"$a\",\"name\":\"echo\",\"state\":\"queued\",\"owner\":\"$(id -un)\"" \
    "id, name, state and owner first"
check_out '"created":"20[0-9-]+T[0-9:.]+Z"' "times in RFC 3339 UTC"
check_out '"API_TOKEN":"\*\*\*"' "secrets are redacted"
check_same "and do not leak" "$(grep -c hunter2 "$T/out")" "0"
check_out '"PATH":"/usr/bin"' "other variables are kept"
check_out "\"dependents\":\[\{\"id\":\"$b\",\"kind\":\"success\",\"state\":\"waiting\"\}\]" \
    "dependents are listed"
check_out '"events":\[\{"time":"[^"]+","type":"submitted","state":"queued"' \
    "the event history"
run job-describe "$b"
check_out "\"dependencies\":\[\{\"id\":\"$a\",\"kind\":\"success\",\"state\":\"queued\"\}\]" \
    "dependencies are listed with their state"
exec-run "$a" >/dev/null
run job-describe "$a"
check_out '"tasks":\[\{"id":"'"$a"'.1","attempt":1,"state":"succeeded"' "every task with its result"
check_out '"stdout":"hi\\n"' "and its output summary"
check_exit 0 "a task ID names its job" job-describe "$a.1"
check_out "^\\{\"id\":\"$a\"" "which is described"
check_exit 0 "task rows on stdin name their jobs" \
    sh -c "run-query tasks -j $a | job-describe"
check_out "^\\{\"id\":\"$a\"" "by their \"job\" field"

pre=$(printf '%.4s' "$a")
check_exit 0 "describe by a 4-character prefix" job-describe "$pre"
check_out "\"id\":\"$a\"" "resolves it"
run sh -c "job-submit -- true | job-describe"
check_out '"state":"queued"' "job-submit | job-describe works"
check_exit 0 "-s prints only the spec" job-describe -s "$a"
check_out '^\{"command":\["echo","hi"\]' "the spec itself"
check_exit 0 "text format" job-describe -f text "$a"
check_out "^events" "is a readable page"

before=$(db_sum)
check_exit 66 "an unknown ID among known ones" job-describe "$a" azzz "$b"
check_same "the others are still described, nothing written" \
    "$(wc -l <"$T/out" | tr -d ' ') $(db_sum)" "2 $before"
check_exit 64 "no IDs and a terminal for stdin" on_tty job-describe
check_out "no job: give job IDs, or pipe jobs in" "says so instead of waiting"
check_exit 0 "piped from a job-submit that makes a new database (slowly)" \
    sh -c '{ sleep 0.5; job-submit --db "$T/fresh.db" -q -- true; } | job-describe --db "$T/fresh.db" -f ndjson'
done_testing
