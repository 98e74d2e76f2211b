#!/bin/sh
# run-query runs|tasks as Reflow's task database answers them: by run,
# alive or lost, with their run, by command identity and name, by a
# window of time the rows were alive in, by user; reflow ps on a tty.
. "$(dirname "$0")/lib.sh"
plan 32
cd "$T" || exit 1

q() { run run-query "$@"; }
ids() { tr '\n' ' ' <"$T/out"; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T/out" | head -1; }

# Two runs of the same command under two names, one of another command.
task-keepalive -q -n first -- sh -c 'exit 0' >/dev/null
task-keepalive -q -n second -- sh -c 'exit 0' >/dev/null
task-keepalive -q -n other -- sh -c 'exit 2' >/dev/null
q tasks -f ndjson
check_same "every task records a command digest" \
    "$(grep -c '"cmd":"sha256:[0-9a-f]\{64\}"' "$T/out")" 3
check_out '"ident":"first"' "and a name, its job's"
first=$(sed -n 1p "$T/out" | sed 's/.*"cmd":"\([^"]*\)".*/\1/')
second=$(sed -n 2p "$T/out" | sed 's/.*"cmd":"\([^"]*\)".*/\1/')
other=$(sed -n 3p "$T/out" | sed 's/.*"cmd":"\([^"]*\)".*/\1/')
check_same "the same command under two names has one digest" \
    "$first" "$second"
check "another command has another" test "$first" != "$other"

q tasks --cmd "$first" -f ndjson
check_same "--cmd finds every execution of the command" \
    "$(grep -o '"ident":"[a-z]*"' "$T/out" | tr '\n' ' ')" \
    '"ident":"first" "ident":"second" '
pre=$(echo "$first" | cut -c8-19)
q tasks --cmd "$pre" -q
check_same "--cmd takes a unique prefix, without sha256:" "$(ids)" \
    "$(run-query tasks --cmd "$first" -q | tr '\n' ' ')"
check_exit 64 "an ambiguous prefix is refused" run-query tasks --cmd "sha256:"
check_stderr "ambiguous: sha256:" "naming the candidates"
check_exit 64 "a prefix that is no digest's" run-query tasks --cmd 'xyz!'
check_stderr "not the start of a sha256" "says so"
q tasks --cmd 0000000000000000 -q
check_same "a digest no task ran finds nothing" "$(ids)" ""

q tasks --ident second -q
check_same "--ident" "$(ids)" "$(run-query tasks -q | sed -n 2p) "
check_exit 64 "--ident is for tasks" run-query jobs --ident x
check_exit 64 "--alive is for tasks and runs" run-query jobs --alive

# A live task and a lost one.
task-keepalive -n live --lease 30s -- sh -c 'echo x > live.started;
    while [ ! -f live.stop ]; do sleep 0.05; done' >/dev/null 2>&1 &
live=$!
task-keepalive -n doomed --lease 1s -- sleep 60 >/dev/null 2>&1 &
doomed=$!
i=0
until [ -f live.started ] &&
    [ "$(run-query tasks --alive -q | wc -l)" -ge 2 ]; do
	i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.05
done
kill -9 $doomed
sleep 1.5 # the doomed task's lease of 1 s runs out
q tasks --alive -f ndjson
check_same "--alive: only the task whose lease holds" \
    "$(grep -o '"ident":"[a-z]*"' "$T/out" | tr '\n' ' ')" '"ident":"live" '
livetask=$(field id)
liverun=$(field run)
q tasks --lost -f ndjson
check_same "--lost: the task whose lease expired, before any reaper" \
    "$(grep -o '"ident":"[a-z]*","cmd"' "$T/out" | tr '\n' ' ')" \
    '"ident":"doomed","cmd" '
check_out '"state":"lost"' "shown lost"
q runs --lost -q
check_same "and its run is lost too" "$(ids | wc -w)" 1
q tasks --run "$liverun" -q
check_same "--run: the tasks of a run" "$(ids)" "$livetask "
q tasks --run "$liverun" --with-run -f ndjson
check_out "\"run_row\":\\{\"id\":\"$liverun\",\"kind\":\"task-keepalive\"" \
    "--with-run embeds the task's run"
check_out '"run_row":\{[^}]*"state":"running"' "with its state"
q runs --alive -q
check_same "runs --alive" "$(ids)" "$liverun "

# On a terminal, what is alive reads like reflow ps.
run on_tty "stty cols 200; NO_COLOR=1 run-query tasks --alive"
check_out 'TASK +IDENT +START +ELAPSED +STATE +MEM +CPU +COMMAND' \
    "a ps header on a terminal"
check_out "$livetask +live +.* running .*sh -c" "and the live task's row"

# A window: rows alive at some moment in it.
: >live.stop
wait $live
sleep 0.2
q tasks --since 1h -q
check_same "--since: every task alive in the last hour" "$(ids | wc -w)" 5
q tasks --until 1h -q
check_same "--until an hour ago: none had started" "$(ids)" ""
end=$(run-query tasks --ident first -f ndjson | sed 's/.*"ended":"\([^"]*\)".*/\1/')
q tasks --since "+1h" -q
check_same "a window after every end finds none but the lost unreaped" \
    "$(ids | wc -w)" 1
q tasks --since "$end" --time ended -q
check "with --time, the window is on that time alone" test -s "$T/out"

# Runs and tasks are the caller's unless told.
q runs -q
n=$(ids | wc -w)
check_same "runs are the caller's by default" "$n" 5
q runs --user nobody-here -q
check_same "--user another's" "$(ids)" ""
q runs --all-users -q
check_same "--all-users" "$(ids | wc -w)" "$n"
check_exit 64 "--user and --all-users" run-query runs --user x --all-users
