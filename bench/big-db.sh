#!/bin/sh
# bench/big-db.sh DB N: a task database of N jobs, as a month of use would
# leave it.  The jobs go in through job-submit (first in PATH); their states,
# times, tasks and events are then spread with SQL.
set -eu
big=$1
nbig=$2
awk -v n="$nbig" 'BEGIN { for (i = 0; i < n; i++)
	printf "{\"name\":\"job-%d\",\"queue\":\"q%d\",\"command\":[\"./step\",\"%d\"],\"labels\":{\"exp\":\"e%d\"}}\n", i, i % 4, i, i % 50 }' |
    job-submit -d "$big" -q >/dev/null
now=$(date +%s)000
sqlite3 "$big" <<EOF
BEGIN;
UPDATE jobs SET
  created = $now - ($nbig - rid) * 2592,
  updated = $now - ($nbig - rid) * 2592 + 5000,
  state = CASE rid % 10 WHEN 6 THEN 'failed' WHEN 7 THEN 'cancelled'
    WHEN 8 THEN 'queued' WHEN 9 THEN CASE WHEN rid > $nbig - 1000
    THEN 'running' ELSE 'succeeded' END ELSE 'succeeded' END,
  attempts = CASE WHEN rid % 10 IN (7, 8) THEN 0 ELSE 1 END;
UPDATE jobs SET started = created + 1000 WHERE attempts = 1;
UPDATE jobs SET ended = created + 5000 WHERE state IN ('succeeded', 'failed', 'cancelled');
UPDATE events SET time = (SELECT created FROM jobs WHERE jobs.rid = events.job);
INSERT INTO runs (kind, owner, uid, host, pid, lease, started, keepalive)
  VALUES ('worker', 'bench', 0, 'bench', 1, 60000, $now - 2592000000, $now);
INSERT INTO tasks (job, attempt, run, host, pid, state, lease, started, cmd, ident,
  keepalive, ended, exit_code, usage, enforcement, results)
  SELECT rid, 1, 1, 'bench', 1, state, 60000, started,
    printf('sha256:%08x%056x', (rid * 2654435761) % 4294967296, rid), name,
    coalesce(ended, $now), ended, CASE state WHEN 'failed' THEN 1
    WHEN 'succeeded' THEN 0 END, '{"user_cpu":0.1,"system_cpu":0.0,"max_rss":1000000}',
    'rlimit', 'results/bench-' || rid
  FROM jobs WHERE attempts = 1;
INSERT INTO events (job, task, time, type, state, message)
  SELECT job, rid, started, 'started', 'running', 'attempt 1 started on bench'
  FROM tasks;
INSERT INTO events (job, task, time, type, state, message)
  SELECT job, rid, ended, state, state, 'attempt 1 ' || state FROM tasks
  WHERE ended IS NOT NULL;
COMMIT;
ANALYZE;
EOF
