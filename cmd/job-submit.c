/*
 * job-submit: create jobs -- from a command line, a JSON spec or an NDJSON
 * stream -- and change the lifecycle of existing ones.
 */
#include <err.h>
#include <fcntl.h>
#include <ftw.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "import.h"
#include "jsonin.h"
#include "yamljson.h"
#include "parse.h"
#include "relay.h"
#include "sha256.h"
#include "spec.h"
#include "specopt.h"
#include "store.h"
#include "thread.h"
#include "utf8.h"

enum opt {
	O_RELEASE = 256,
	O_RETRY,
	O_DELETE,
	O_CONTEXT,
	O_STRICT,
	O_CONFIG,
	O_NOTE,
	O_EACH,
	O_ARRAY,
	O_AFTER_LAST,
	O_OLDER,
	O_IDLE_EXIT
};

/* Not store_actions: --note appends an event, changing nothing; --clear
 * deletes the caller's finished jobs. */
#define ACT_CLEAR 1001

/* Not a store_action: --note appends an event, changing nothing. */
#define ACT_NOTE 1000

static const struct option longopts[] = {SPECOPT_LONG,
    {"shell", required_argument, NULL, 'S'}, {"quiet", no_argument, NULL, 'q'},
    {"cancel", no_argument, NULL, 'c'},
    {"release", no_argument, NULL, O_RELEASE},
    {"retry", no_argument, NULL, O_RETRY},
    {"delete", no_argument, NULL, O_DELETE},
    {"context", required_argument, NULL, O_CONTEXT},
    {"strict", no_argument, NULL, O_STRICT},
    {"config", required_argument, NULL, O_CONFIG},
    {"note", required_argument, NULL, O_NOTE},
    {"each", no_argument, NULL, O_EACH}, {"null", no_argument, NULL, '0'},
    {"array", required_argument, NULL, O_ARRAY},
    {"after-last", no_argument, NULL, O_AFTER_LAST},
    {"clear", no_argument, NULL, 'C'},
    {"older", required_argument, NULL, O_OLDER},
    {"start", no_argument, NULL, 's'},
    {"idle-exit", required_argument, NULL, O_IDLE_EXIT}, CLI_LONG,
    {NULL, 0, NULL, 0}};

static const struct emit_col columns[] = {{"id", "ID", 8, EMIT_SHORTID, 0},
    {"state", "STATE", 9, 0, 0}, {"queue", "QUEUE", 10, 0, 0},
    {"priority", "PRIO", 4, EMIT_RIGHT, 0}, {"name", "NAME", 0, 0, 0},
    {NULL, NULL, 0, 0, 0}};

struct submit {
	struct cli cli;
	json_t *over; /* spec fields given as options */
	int quiet;
	int action; /* -1: submit, else an enum store_action */
	int has_update; /* --priority or --queue given */
	enum import_format import; /* stdin holds another system's jobs */
	struct import_opts iopts; /* and how to read them */
	struct job_change chg;
	const char *shell;
	const char *note; /* --note TEXT */
	char **argv; /* the command after "--", or NULL */
	int each; /* --each: a job a line of stdin */
	int nul; /* -0: items end with NUL, not a newline */
	const char *array; /* --array 1-100%10 */
	int after_last; /* --after-last */
	int64_t older; /* --clear --older DURATION, ms; -1 not given */
	int start; /* --start or JOBKIT_START: a worker if none serves */
	const char *idle_exit; /* and how long it waits for work */
	json_t *queues; /* of the jobs submitted, for --start */
	struct store *st;
	struct emit *out;
	int status; /* first failure of a batch of actions */
	int report_failed; /* stdout could not take what was done */
	json_t *export; /* what jobs without their own record of it */
	const char *context; /* --context DIR */
	char *ctx_data; /* it, packed, and its sha256 */
	size_t ctx_len;
	char ctx_sha[65];
	const char *text; /* the next spec's, as stored, or NULL (ahead) */
	/* The job handed to a worker (relay.h): if it did not answer
	 * (relayed.sent), the job is stored here with its token, and so
	 * not twice. */
	struct relay_job relayed;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: job-submit [spec options] -- command [argument ...]\n"
	    "       job-submit [spec options] -S 'command line'\n"
	    "       job-submit [spec options] < spec.json | specs.ndjson\n"
	    "       job-submit -f bacalhau | studioml [--strict] [spec options]"
	    " < jobs.json|yaml\n"
	    "       job-submit -f determined [--config KEY=VALUE] [spec "
	    "options]"
	    " < config.yaml\n"
	    "                  [-- command [argument ...]]\n"
	    "       job-submit -c | --release | --retry | --delete"
	    " [id ... | -]\n"
	    "       job-submit -H | -p N | -Q queue id ... | -\n"
	    "       job-submit -C [--older DURATION]\n"
	    "spec options:\n" SPECOPT_USAGE "  -S, --shell CMDLINE\n"
	    "  --context DIR          pack DIR with the job (95MiB at most)\n"
	    "  --each                 a job a line of stdin: {} {.} {/} {//} "
	    "{/.}"
	    " {#}\n"
	    "  -0, --null             with --each, items end with NUL\n"
	    "  --array 1-100:5%%10    a job an index (JOBKIT_ARRAY_INDEX), "
	    "under "
	    "a parent\n"
	    "  --after-last           after the job you submitted last\n"
	    "  -s, --start            start a worker if none serves the queue\n"
	    "  --idle-exit DUR        which leaves when idle that long (60s)\n"
	    "actions:\n"
	    "  -c, --cancel           --release             --retry\n"
	    "  --delete               --note TEXT           and -H, -p, -Q "
	    "with "
	    "job IDs\n"
	    "  -C, --clear            delete your finished jobs\n"
	    "  --older DURATION       with --clear, those ended that long ago\n"
	    "output and database:\n"
	    "  -q, --quiet            -f, --format json|ndjson|table|text\n"
	    "  -f, --format bacalhau|studioml|determined (read those on "
	    "stdin)\n"
	    "  --strict               refuse what cannot be published here\n"
	    "  --config KEY=VALUE     override a Determined config key\n"
	    "  -d, --db PATH          -h, --help            -V, --version\n");
}

/* --config KEY=VALUE: a dotted key of a Determined config. */
static void
config_option(struct submit *s, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		errx(EX_USAGE, "--config: '%s' is not KEY=VALUE", arg);
	if ((s->iopts.config == NULL &&
		(s->iopts.config = json_array()) == NULL) ||
	    spec_append(s->iopts.config, json_string(arg)) == -1)
		errx(EX_OSERR, "out of memory");
}

/* What goes with --format FOREIGN: stdin, and for Determined's configs
 * the command after "--" and --config. */
static void
import_options(struct submit *s)
{
	const char *f = import_format_name(s->import);

	if (s->import == IMPORT_NONE) {
		if (s->iopts.strict || s->iopts.config != NULL)
			errx(EX_USAGE,
			    "--%s goes with --format bacalhau, "
			    "studioml or determined",
			    s->iopts.strict ? "strict" : "config");
		return;
	}
	if (s->action != -1 || s->shell != NULL ||
	    (s->argv != NULL && s->import != IMPORT_DETERMINED))
		errx(EX_USAGE, "--format %s reads jobs on stdin only", f);
	if (s->iopts.config != NULL && s->import != IMPORT_DETERMINED)
		errx(EX_USAGE, "--config goes with --format determined");
	if (s->argv != NULL && s->argv[0] != NULL) {
		if ((s->iopts.argv = specopt_argv(s->argv)) == NULL)
			errx(error_status(), "%s", error_msg());
		s->argv = NULL;
	}
	s->iopts.context = s->context != NULL;
}

static void
set_action(struct submit *s, int act)
{
	if (s->action != -1 && s->action != act)
		errx(EX_USAGE, "give one action at a time");
	s->action = act;
}

static void
parse_options(struct submit *s, int argc, char **argv)
{
	int c, end = argc, r;

	/* Options stop at "--": what follows is the command, untouched. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			end = i;
			s->argv = argv + i + 1;
			break;
		}
	while ((c = getopt_long(end, argv, SPECOPT_SHORT "S:qc0Cs" CLI_SHORT,
		    longopts, NULL)) != -1) {
		if (c == 'f' && import_format_parse(optarg, &s->import) == 0)
			continue;
		if ((r = cli_option(&s->cli, c, optarg)) == 0)
			r = specopt_apply(s->over, c, optarg);
		if (r == -1)
			errx(error_status(), "%s", error_msg());
		if (c == 'p' || c == 'Q') {
			/* Also what --priority/--queue change on given jobs. */
			s->has_update = 1;
			if (c == 'Q')
				s->chg.queue = optarg;
			else {
				s->chg.has_priority = 1;
				s->chg.priority = json_integer_value(
				    json_object_get(s->over, "priority"));
			}
		}
		if (r == 1)
			continue;
		switch (c) {
		case 'S':
			s->shell = optarg;
			break;
		case 'q':
			s->quiet = 1;
			break;
		case 'c':
			set_action(s, STORE_CANCEL);
			break;
		case O_RELEASE:
			set_action(s, STORE_RELEASE);
			break;
		case O_RETRY:
			set_action(s, STORE_RETRY);
			break;
		case O_NOTE:
			if (*optarg == '\0')
				errx(EX_USAGE, "--note: no text");
			s->note = optarg;
			set_action(s, ACT_NOTE);
			break;
		case O_DELETE:
			set_action(s, STORE_DELETE);
			break;
		case O_CONTEXT:
			s->context = optarg;
			break;
		case O_STRICT:
			s->iopts.strict = 1;
			break;
		case O_CONFIG:
			config_option(s, optarg);
			break;
		case O_EACH:
			s->each = 1;
			break;
		case '0':
			s->nul = 1;
			break;
		case O_ARRAY:
			s->array = optarg;
			break;
		case O_AFTER_LAST:
			s->after_last = 1;
			break;
		case 'C':
			set_action(s, ACT_CLEAR);
			break;
		case O_OLDER:
			if (parse_duration(optarg, &s->older) == -1)
				errx(EX_USAGE, "--older: %s", error_msg());
			break;
		case 's':
			s->start = 1;
			break;
		case O_IDLE_EXIT:
			if (parse_duration(optarg, &(int64_t){0}) == -1)
				errx(EX_USAGE, "--idle-exit: %s", error_msg());
			s->idle_exit = optarg;
			break;
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (optind < end && s->action == -1 && s->argv == NULL &&
	    s->shell == NULL) {
		/* Operands without "--" name jobs: hold, or update them. */
		if (json_is_true(json_object_get(s->over, "hold")))
			s->action = STORE_HOLD;
		else if (s->has_update)
			s->action = STORE_UPDATE;
		else
			errx(EX_USAGE,
			    "'%s': put the command after '--' (job "
			    "IDs go with an action such as --cancel)",
			    argv[optind]);
	}
	if (s->action != -1 && (s->argv != NULL || s->shell != NULL))
		errx(EX_USAGE, "an action takes job IDs, not a command");
	import_options(s);
	if (s->argv != NULL && s->shell != NULL)
		errx(
		    EX_USAGE, "give a command after '--' or --shell, not both");
	if (s->argv != NULL && s->argv[0] == NULL)
		errx(EX_USAGE, "no command after '--'");
	if (s->action == -1 && optind < end)
		errx(
		    EX_USAGE, "'%s': put the command after '--'", argv[optind]);
	if (s->nul && !s->each)
		errx(EX_USAGE, "-0 goes with --each");
	if (s->older >= 0 && s->action != ACT_CLEAR)
		errx(EX_USAGE, "--older goes with --clear");
	if (s->action == ACT_CLEAR && optind < end)
		errx(EX_USAGE, "--clear takes no job IDs ('%s')", argv[optind]);
	if (s->action != -1 && (s->start || s->idle_exit || s->after_last))
		errx(EX_USAGE, "--%s goes with a new job, not an action",
		    s->after_last  ? "after-last"
			: s->start ? "start"
				   : "idle-exit");
	if (s->array != NULL &&
	    (s->each || s->action != -1 || s->import != IMPORT_NONE ||
		(s->argv == NULL && s->shell == NULL)))
		errx(EX_USAGE,
		    "--array takes a command (after '--' or "
		    "--shell), and no --each");
	if (s->each &&
	    (s->action != -1 || s->import != IMPORT_NONE ||
		(s->argv == NULL && s->shell == NULL)))
		errx(EX_USAGE,
		    "--each takes a command (after '--' or "
		    "--shell) to run once a line of stdin");
}

/*
 * An action on existing jobs takes no spec options but the ones it uses,
 * and those are checked as a spec would be.
 */
static void
check_action_options(struct submit *s)
{
	const char *k;
	json_t *v, *spec;

	json_object_foreach(s->over, k, v)
	{
		if (s->action == STORE_UPDATE &&
		    (strcmp(k, "priority") == 0 || strcmp(k, "queue") == 0))
			continue;
		if (s->action == STORE_HOLD && strcmp(k, "hold") == 0)
			continue;
		errx(EX_USAGE,
		    "spec field '%s' does not apply to %s existing jobs", k,
		    s->action == STORE_HOLD ? "holding" : "changing");
	}
	if ((spec = json_deep_copy(s->over)) == NULL ||
	    json_object_set_new(spec, "command", json_pack("[s]", "x")) == -1)
		errx(EX_OSERR, "out of memory");
	json_decref(v = spec_normalize(spec, parse_now_ms()));
	json_decref(spec);
	if (v == NULL)
		errx(error_status(), "%s", error_msg());
}

/*
 * What was done could not be reported: it is done (committed), so say so,
 * once, and keep the status a reader of it would have seen -- a script
 * that retries a failed submit would make a duplicate.
 */
static void
report_failed(struct submit *s, int e)
{
	if (s->report_failed++ == 0)
		warnx("done, but cannot write what was done: %s",
		    strerror(e ? e : EIO));
}

/*
 * The environment jobs record unless their spec has its own, checked as a
 * spec's: the --export option's, else sbatch's default.  Stored once for
 * a whole stream, it is kept out of each spec until then.
 */
static void
take_export(struct submit *s)
{
	json_t *probe, *spec;

	if ((s->export = specopt_export(s->over)) == NULL)
		errx(error_status(), "%s", error_msg());
	probe = json_pack("{s:[s], s:O}", "command", "x", "export", s->export);
	if (probe == NULL)
		errx(EX_OSERR, "out of memory");
	spec = spec_normalize(probe, 0);
	json_decref(probe);
	if (spec == NULL)
		errx(error_status(), "%s", error_msg());
	json_decref(spec);
}

/* Print one result row (a job's brief), honouring -q. */
static void
print_job(struct submit *s, json_t *job)
{
	if (s->quiet)
		printf("%s\n", json_string_value(json_object_get(job, "id")));
	else if (emit_row(s->out, job) == -1)
		report_failed(s, errno);
}

/*
 * Apply the options to one spec (stolen) and check it.  A job of shards
 * runs nothing itself: what the options say of running is for its shards,
 * each of which gets them too.
 */
static json_t *
check_spec(struct submit *s, json_t *raw)
{
	json_t *spec = NULL, *shards = json_object_get(raw, "shards"), *one;
	json_t *over = json_copy(s->over);
	size_t i;
	int r = over != NULL ? 0 : error_set(EX_OSERR, "out of memory");

	/* A key names the job of shards, not each of them. */
	json_object_del(over, "key");

	json_array_foreach(shards, i, one)
	{
		if (r == 0 && json_is_object(one))
			r = spec_merge(one, over);
		if (r == 0 && json_is_object(one))
			r = specopt_workdir(one);
	}
	if (r == 0)
		r = spec_merge(raw, s->over);
	if (r == 0 && shards != NULL) {
		json_object_del(raw, "workdir");
		json_object_del(raw, "scratch");
	} else if (r == 0)
		r = specopt_workdir(raw);
	if (r == 0)
		spec = spec_normalize(raw, parse_now_ms());
	json_decref(over);
	json_decref(raw);
	return spec;
}

static int store_shards(
    struct submit *s, json_t *shards, const char *parent, FILE *results);

/*
 * Store one checked spec (stolen), spooling its result for the commit; a
 * job of shards, then its shards (unless it existed already).
 */
static int
store_spec(struct submit *s, json_t *spec, size_t line, FILE *results)
{
	struct job_new jn;
	json_t *job = NULL, *shards = NULL;
	char id[ID_LEN + 1];
	int existed, r = -1;

	(void)line;
	/* With -q only the ID is wanted: no object is built. */
	if (spec == NULL || spec_to_job(spec, &jn) == -1)
		goto out;
	/* Each shard is a job of its own, not a part of its parent's spec. */
	if ((shards = json_object_get(spec, "shards")) != NULL) {
		json_incref(shards);
		json_object_del(spec, "shards");
	}
	if (json_object_get(spec, "export") == NULL)
		jn.export = s->export;
	/* The text the reader dumped is this spec's, not its shards'. */
	jn.text = s->text;
	s->text = NULL;
	jn.token = s->relayed.sent ? s->relayed.token : NULL;
	if (s->start && shards == NULL &&
	    json_object_set_new(s->queues, jn.queue, json_true()) == -1) {
		error_set(EX_OSERR, "out of memory");
		goto out;
	}
	if (store_job_add(s->st, &jn, id, s->quiet ? NULL : &job, &existed) ==
	    -1)
		goto out;
	if (s->quiet)
		fputs(id, results);
	else if (json_dumpf(job, results, JSON_COMPACT) == -1 &&
	    !ferror(results)) {
		error_set(EX_OSERR, "out of memory");
		goto out;
	}
	fputc('\n', results);
	r = shards && !existed ? store_shards(s, shards, id, results) : 0;
out:
	json_decref(shards);
	json_decref(spec);
	json_decref(job);
	return r;
}

/* The shards of job parent, each labelled with it and its index. */
static int
store_shards(
    struct submit *s, json_t *shards, const char *parent, FILE *results)
{
	json_t *shard, *labels;
	char index[24];
	size_t i;

	json_array_foreach(shards, i, shard)
	{
		snprintf(index, sizeof(index), "%zu", i);
		if ((shard = json_deep_copy(shard)) == NULL)
			return error_set(EX_OSERR, "out of memory");
		if (((labels = json_object_get(shard, "labels")) == NULL &&
			spec_set(shard, "labels", labels = json_object()) ==
			    -1) ||
		    spec_set(shard, "parent", json_string(parent)) == -1 ||
		    spec_set(labels, "parent", json_string(parent)) == -1 ||
		    spec_set(labels, "shard", json_string(index)) == -1) {
			json_decref(shard);
			return -1;
		}
		if (store_spec(s, shard, 0, results) == -1)
			return error_wrap("shard %zu", i);
	}
	return 0;
}

/* One foreign document (stolen) as jobkit specs, each handed to fn. */
static int
import_one(struct submit *s, json_t *doc, size_t line,
    int (*fn)(struct submit *, json_t *, size_t, FILE *), FILE *fp)
{
	json_t *specs = import_specs(s->import, doc, &s->iopts), *one, *spec;
	size_t i;
	int r = specs == NULL ? -1 : 0;

	json_decref(doc);
	json_array_foreach(specs, i, one)
	{
		if ((spec = check_spec(s, json_incref(one))) == NULL ||
		    fn(s, spec, line, fp) == -1) {
			r = -1;
			break;
		}
	}
	json_decref(specs);
	return r;
}

/*
 * Another system's documents in YAML, all of stdin: its first bytes (what
 * was read to tell it from JSON) are in buf already.
 */
static int
read_yaml(struct submit *s, char *buf, size_t len,
    int (*fn)(struct submit *, json_t *, size_t, FILE *), FILE *fp)
{
	size_t cap = len, n;
	json_t *docs, *doc;
	int r = 0;

	do {
		if (len == cap &&
		    (buf = realloc(buf, cap = cap * 2 + 4096)) == NULL)
			return error_set(EX_OSERR, "out of memory");
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
	} while (n > 0 && len <= JSONIN_MAX_BYTES);
	if (ferror(stdin))
		r = error_set(EX_IOERR, "stdin: %s", strerror(errno));
	else if (len > JSONIN_MAX_BYTES)
		r = error_set(EX_DATAERR, "stdin: larger than 10MiB");
	else if ((docs = yamljson_parse(buf, len)) == NULL)
		r = error_wrap("stdin");
	free(buf);
	if (r == -1)
		return -1;
	if (json_array_size(docs) == 0)
		r = error_set(EX_DATAERR, "stdin: no job document");
	json_array_foreach(docs, n, doc)
	{
		if (r == 0 && import_one(s, json_incref(doc), 0, fn, fp) == -1)
			r = json_array_size(docs) > 1
			    ? error_wrap("stdin: document %zu", n + 1)
			    : error_wrap("stdin");
	}
	json_decref(docs);
	return r;
}

/*
 * The next spec of a JSON stream, checked: 1 with *spec (the caller's) and
 * *line, 0 at its end, -1 with the error set.
 */
static int
next_spec(struct submit *s, struct jsonin *in, json_t **spec, size_t *line)
{
	json_t *raw;
	int r;

	*spec = NULL;
	if ((r = jsonin_next(in, &raw, line)) != 1)
		return r;
	if (!json_is_object(raw)) {
		json_decref(raw);
		return error_set(EX_DATAERR,
		    "stdin: line %zu: expected a JSON object", *line);
	}
	if ((*spec = check_spec(s, raw)) == NULL)
		return error_wrap("stdin: line %zu", *line);
	return 1;
}

/*
 * Specs read and checked on a thread of their own while the caller stores
 * the ones before (in a stream of many, the reading is a third of the
 * work).  They are handed over in order through a ring, AHEAD_BATCH at a
 * time, each side taking the lock once a batch; the reader waits while
 * the ring is full, so memory stays flat however long the stream.  Its
 * first failure ends it, its message kept to be the caller's once the
 * specs before it are stored: the same error, from the same line, as
 * without the thread.  Specs stored go back to the reader to be freed:
 * memory freed on the thread that allocated it stays out of malloc's slow
 * paths (a stream of 100,000 took 0.96 s with the caller freeing them,
 * 0.75 s so, 0.88 s without the thread).
 */
#define AHEAD_RING 256
#define AHEAD_BATCH 16
/* A stream this long is read on the thread: a spec or few is not worth
 * starting one. */
#define AHEAD_AFTER 32

struct spec_at {
	json_t *spec;
	char *text; /* as stored (store.h), or NULL */
	size_t line;
};

struct ahead {
	struct submit *s;
	struct jsonin *in;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t put, took;
	/* Under mu: the ring (head taken, tail put), and the specs stored
	 * for the reader to free. */
	struct spec_at ring[AHEAD_RING];
	unsigned head, tail;
	struct spec_at back[AHEAD_RING];
	unsigned nback;
	int end, r; /* the reader stopped, with next_spec()'s 0 or -1 */
	int status;
	char msg[1024]; /* its error, for r == -1 */
	int stop; /* the caller wants no more */
	int want, full; /* one side waits for the other: signal it */
	/* The caller's: a batch taken, and the specs it stored since. */
	struct spec_at mine[AHEAD_BATCH];
	unsigned nmine, imine;
	struct spec_at done[AHEAD_BATCH];
	unsigned ndone;
};

/* The reader's batch into the ring (r: the last next_spec()); what the
 * caller stored comes back into drop. */
static int
ahead_put(struct ahead *a, struct spec_at *b, unsigned n, int r,
    struct spec_at *drop, unsigned *ndrop)
{
	int stop;

	pthread_mutex_lock(&a->mu);
	while (a->tail - a->head > AHEAD_RING - n && !a->stop) {
		a->full = 1;
		pthread_cond_wait(&a->took, &a->mu);
	}
	if (!(stop = a->stop)) {
		for (unsigned i = 0; i < n; i++)
			a->ring[a->tail++ % AHEAD_RING] = b[i];
		if (r != 1) {
			a->end = 1;
			a->r = r;
			a->status = error_status();
			snprintf(a->msg, sizeof(a->msg), "%s", error_msg());
		}
	}
	*ndrop = a->nback;
	memcpy(drop, a->back, a->nback * sizeof(*drop));
	a->nback = 0;
	if (a->want) {
		a->want = 0;
		pthread_cond_signal(&a->put);
	}
	pthread_mutex_unlock(&a->mu);
	return stop;
}

/*
 * What the store would store of a spec (spec_stored()), dumped on the
 * reader's thread (store.h's job_new.text): for a spec the store will not
 * change, with its default name given as spec_to_job() would.
 */
static char *
spec_text(json_t *spec)
{
	if (json_object_get(spec, "after") != NULL ||
	    json_object_get(spec, "after_any") != NULL ||
	    json_object_get(spec, "shards") != NULL ||
	    json_object_get(spec, "parent") != NULL || spec_name(spec) == -1)
		return NULL;
	return spec_stored(spec);
}

/* Free what the caller stored, or what it will not take. */
static void
spec_at_free(struct spec_at *at)
{
	json_decref(at->spec);
	free(at->text);
}

static void *
ahead_main(void *arg)
{
	struct ahead *a = arg;
	struct spec_at b[AHEAD_BATCH], drop[AHEAD_RING];
	unsigned n = 0, ndrop;
	int r, stop;

	do {
		r = next_spec(a->s, a->in, &b[n].spec, &b[n].line);
		if (r == 1) {
			b[n].text = spec_text(b[n].spec);
			n++;
		}
		if (r == 1 && n < AHEAD_BATCH)
			continue;
		stop = ahead_put(a, b, n, r, drop, &ndrop);
		while (ndrop > 0)
			spec_at_free(&drop[--ndrop]);
		while (stop && n > 0)
			spec_at_free(&b[--n]);
		n = 0;
	} while (r == 1 && !stop);
	return NULL;
}

/* Hand the specs stored back to the reader (the caller holds mu). */
static void
ahead_give_back(struct ahead *a)
{
	while (a->ndone > 0 && a->nback < AHEAD_RING)
		a->back[a->nback++] = a->done[--a->ndone];
	while (a->ndone > 0)
		spec_at_free(&a->done[--a->ndone]);
}

/* The next spec the thread checked, and its text: as next_spec(). */
static int
ahead_next(struct ahead *a, json_t **spec, char **text, size_t *line)
{
	int r = 1;

	if (a->imine < a->nmine) {
		*spec = a->mine[a->imine].spec;
		*text = a->mine[a->imine].text;
		*line = a->mine[a->imine++].line;
		return 1;
	}
	pthread_mutex_lock(&a->mu);
	ahead_give_back(a);
	while (a->head == a->tail && !a->end) {
		a->want = 1;
		pthread_cond_wait(&a->put, &a->mu);
	}
	for (a->nmine = a->imine = 0;
	     a->head < a->tail && a->nmine < AHEAD_BATCH; a->head++)
		a->mine[a->nmine++] = a->ring[a->head % AHEAD_RING];
	/* The reader, once it waits for room, is woken with half the ring
	 * free, not at every batch. */
	if (a->full && a->tail - a->head <= AHEAD_RING / 2) {
		a->full = 0;
		pthread_cond_signal(&a->took);
	}
	if (a->nmine == 0 && (r = a->r) == -1)
		error_set(a->status, "%s", a->msg);
	pthread_mutex_unlock(&a->mu);
	if (a->nmine > 0) {
		*spec = a->mine[0].spec;
		*text = a->mine[0].text;
		*line = a->mine[0].line;
		a->imine = 1;
	}
	return r;
}

/* A spec stored (the caller's reference) and its text, for the reader to
 * free. */
static void
ahead_back(struct ahead *a, json_t *spec, char *text)
{
	a->done[a->ndone].spec = spec;
	a->done[a->ndone++].text = text;
	if (a->ndone < AHEAD_BATCH)
		return;
	pthread_mutex_lock(&a->mu);
	ahead_give_back(a);
	pthread_mutex_unlock(&a->mu);
}

/* Stop the thread, and drop what it checked that was not taken. */
static void
ahead_stop(struct ahead *a)
{
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_signal(&a->took);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	for (; a->head < a->tail; a->head++)
		spec_at_free(&a->ring[a->head % AHEAD_RING]);
	while (a->imine < a->nmine)
		spec_at_free(&a->mine[a->imine++]);
	while (a->nback > 0)
		spec_at_free(&a->back[--a->nback]);
	while (a->ndone > 0)
		spec_at_free(&a->done[--a->ndone]);
	pthread_cond_destroy(&a->put);
	pthread_cond_destroy(&a->took);
	pthread_mutex_destroy(&a->mu);
}

/* Start reading on a thread; 0, or -1 when there is none to be had (the
 * caller reads on). */
static int
ahead_start(struct ahead *a, struct submit *s, struct jsonin *in)
{
	memset(a, 0, sizeof(*a));
	a->s = s;
	a->in = in;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->put, NULL);
	pthread_cond_init(&a->took, NULL);
	if (thread_start(&a->thread, ahead_main, a) == 0)
		return 0;
	pthread_cond_destroy(&a->put);
	pthread_cond_destroy(&a->took);
	pthread_mutex_destroy(&a->mu);
	return -1;
}

/* Hand every spec of a JSON stream to fn (store_spec() reads ahead on a
 * thread once the stream is long).  Returns how many, or -1. */
static long
read_specs(struct submit *s, struct jsonin *in,
    int (*fn)(struct submit *, json_t *, size_t, FILE *), FILE *fp)
{
	struct ahead a;
	json_t *spec;
	char *text = NULL;
	size_t line = 0;
	long n = 0;
	int r, threaded = 0;

	for (;;) {
		if (!threaded && n == AHEAD_AFTER && fn == store_spec &&
		    ahead_start(&a, s, in) == 0)
			threaded = 1;
		r = threaded ? ahead_next(&a, &spec, &text, &line)
			     : next_spec(s, in, &spec, &line);
		if (r != 1)
			break;
		n++;
		if (threaded)
			json_incref(spec);
		s->text = text;
		r = fn(s, spec, line, fp);
		s->text = NULL;
		if (threaded)
			ahead_back(&a, spec, text);
		if (r == -1) {
			r = error_wrap("stdin: line %zu", line);
			break;
		}
	}
	if (threaded)
		ahead_stop(&a);
	return r == -1 ? -1 : n;
}

/*
 * Read and check every spec on stdin, handing each (stolen) to fn with its
 * line number.  Another system's documents may be JSON or YAML, told
 * apart by their first character.
 */
static int
read_stdin(struct submit *s,
    int (*fn)(struct submit *, json_t *, size_t, FILE *), FILE *fp)
{
	struct jsonin *in;
	json_t *raw;
	size_t line = 0, len = 0;
	char *head = NULL;
	long n = 0;
	int r = 0, c;

	while (s->import != IMPORT_NONE && (c = getchar()) != EOF) {
		if ((len & 255) == 0 &&
		    (head = realloc(head, len + 256)) == NULL)
			return error_set(EX_OSERR, "out of memory");
		head[len++] = (char)c;
		if (!strchr(" \t\r\n", c))
			break;
	}
	if (len > 0 && yamljson_looks_like(head, len))
		return read_yaml(s, head, len, fn, fp);
	if (len > 0)
		ungetc(head[len - 1], stdin);
	free(head);
	if ((in = jsonin_open(stdin, "stdin")) == NULL)
		return -1;
	/* Specs may come as an array too (--format json). */
	jsonin_accept(in, s->import == IMPORT_NONE ? JSONIN_ITEMS : 0);
	if (s->import == IMPORT_NONE) {
		if ((n = read_specs(s, in, fn, fp)) == -1)
			r = -1;
	} else
		while (r >= 0 && (r = jsonin_next(in, &raw, &line)) == 1) {
			n++;
			if (import_one(s, raw, line, fn, fp) == -1)
				r = error_wrap("stdin: line %zu", line);
		}
	if (r == 0 && n == 0)
		r = error_set(EX_DATAERR, "stdin: no job spec");
	jsonin_close(in);
	return r;
}

/* Spool one checked spec (stolen) as a line of compact JSON. */
static int
spool_spec(struct submit *s, json_t *spec, size_t line, FILE *spool)
{
	(void)s;
	fprintf(spool, "%zu\t", line);
	/* A write error is the spool's, seen when it is flushed. */
	if (json_dumpf(spec, spool, JSON_COMPACT) == -1 && !ferror(spool)) {
		json_decref(spec);
		return error_set(EX_OSERR, "out of memory");
	}
	json_decref(spec);
	return fputc('\n', spool) == EOF ? -1 : 0;
}

/*
 * A pipe is read whole, and its specs spooled, before the transaction
 * begins: a process earlier in the pipeline may still write to the
 * database, and must not wait for our lock.
 */
static FILE *
spool_stdin(struct submit *s)
{
	FILE *spool = tmpfile();

	if (spool == NULL) {
		error_set(EX_CANTCREAT, "cannot create a temporary file: %s",
		    strerror(errno));
		return NULL;
	}
	if (read_stdin(s, spool_spec, spool) == -1)
		goto fail;
	if (fflush(spool) == EOF || ferror(spool)) {
		error_set(EX_IOERR, "cannot write a temporary file: %s",
		    strerror(errno));
		goto fail;
	}
	rewind(spool);
	return spool;
fail:
	fclose(spool);
	return NULL;
}

/* Store the spooled specs; the caller holds the transaction. */
static int
store_spool(struct submit *s, FILE *spool, FILE *results)
{
	char *text = NULL, *tab;
	size_t cap = 0, line;
	int r = 0;

	while (r == 0 && getline(&text, &cap, spool) != -1) {
		line = strtoul(text, &tab, 10);
		r = store_spec(s, json_loads(tab + 1, 0, NULL), line, results);
		if (r == -1 && line > 0)
			error_wrap("stdin: line %zu", line);
		else if (r == -1)
			error_wrap("stdin");
	}
	free(text);
	return r;
}

/* Copy the results spooled during the transaction to the output. */
static void
flush_results(struct submit *s, FILE *results)
{
	char *line = NULL;
	size_t cap = 0;
	json_t *job;

	rewind(results);
	while (getline(&line, &cap, results) != -1) {
		if (s->quiet || emit_format(s->out) == EMIT_NDJSON) {
			fputs(line, stdout);
			continue;
		}
		if ((job = json_loads(line, 0, NULL)) == NULL)
			errx(EX_SOFTWARE, "cannot read back results");
		print_job(s, job);
		json_decref(job);
	}
	free(line);
}

/* 1 when one job, of the command line, is all there is to store: a
 * worker may store it (relay.h). */
static int
relayable(const struct submit *s)
{
	return s->action == -1 && (s->argv != NULL || s->shell != NULL) &&
	    !s->each && s->array == NULL && s->context == NULL &&
	    !s->after_last;
}

static void start_workers(struct submit *s);

/* --start, after a worker stored the job: one that serves its queue ran
 * it already, else one is started, as without (start_workers()). */
static void
relay_start(struct submit *s, json_t *spec)
{
	json_t *q = json_object_get(spec, "queue");

	if (!s->start || s->relayed.served)
		return;
	if (json_object_set_new(s->queues,
		q != NULL ? json_string_value(q) : SPEC_DEFAULT_QUEUE,
		json_true()) == -1)
		errx(EX_OSERR, "out of memory");
	if ((s->st = cli_store(&s->cli, 1)) == NULL) {
		warnx("--start: %s", error_msg());
		s->status = EX_UNAVAILABLE;
		return;
	}
	start_workers(s);
}

/*
 * Hand the job of spec to a worker that has the database open, if one
 * serves it.  1 when it stored the job and it is printed; 0 when it is to
 * be stored here (with the token, if the worker may have stored it).
 */
static int
relay_one(struct submit *s, json_t *spec)
{
	struct relay_job *rj = &s->relayed;
	char id[ID_LEN + 1], *db;
	json_t *job = NULL;
	int r;

	if (spec == NULL || json_object_get(spec, "shards") != NULL ||
	    (db = store_locate(s->cli.db)) == NULL)
		return 0;
	rj->spec = spec;
	rj->export = json_object_get(spec, "export") ? NULL : s->export;
	rj->brief = !s->quiet;
	r = relay_submit(db, rj, id, s->quiet ? NULL : &job);
	free(db);
	if (r == -1)
		errx(error_status(), "%s", error_msg());
	if (r == 0)
		return 0;
	relay_start(s, spec);
	if (s->quiet)
		printf("%s\n", id);
	else
		print_job(s, job);
	json_decref(job);
	return 1;
}

/*
 * Submit from argv or --shell, or every spec on stdin in one
 * transaction: all stored, or none.
 */
/*
 * --context DIR: the folder packed by artifact-fetch (the one
 * implementation of archives), kept in memory with its sha256, and named
 * in every job submitted; stored with them, once.
 */
static void
pack_context(struct submit *s)
{
	char af[4096],
	    *argv[] = {af, "--pack-context", (char *)s->context, NULL};
	size_t cap = 0;
	int p[2], ws;
	pid_t pid;

	if (cli_sibling("artifact-fetch", af, sizeof(af)) == -1)
		errx(error_status(), "--context: %s", error_msg());
	if (pipe(p) == -1 || (pid = fork()) == -1)
		err(EX_OSERR, "--context");
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execv(af, argv);
		_exit(126);
	}
	close(p[1]);
	for (;;) {
		if (s->ctx_len == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((s->ctx_data = realloc(s->ctx_data, cap)) == NULL)
				errx(EX_OSERR, "out of memory");
		}
		ssize_t n =
		    read(p[0], s->ctx_data + s->ctx_len, cap - s->ctx_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		s->ctx_len += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
		;
	/* It said why on stderr. */
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : EX_SOFTWARE);
	sha256_hex(s->ctx_data, s->ctx_len, s->ctx_sha);
	char name[80];
	snprintf(name, sizeof(name), "sha256:%s", s->ctx_sha);
	if (spec_set(s->over, "context", json_string(name)) == -1)
		errx(EX_OSERR, "out of memory");
}

/* One term of an --array list, "a", "a-b" or "a-b:step", onto idx. */
static void
array_term(const char *spec, char *term, json_t *idx)
{
	char *colon = strchr(term, ':'), *dash = strchr(term, '-');
	int64_t a, b, step = 1;

	if (colon != NULL)
		*colon++ = '\0';
	if (dash != NULL)
		*dash++ = '\0';
	if (parse_int(term, 0, 4000000, &a) == -1 ||
	    (dash != NULL && parse_int(dash, 0, 4000000, &b) == -1) ||
	    (colon != NULL &&
		(dash == NULL || parse_int(colon, 1, 4000000, &step) == -1)))
		errx(EX_USAGE,
		    "--array: '%s' is not a list of N, N-M or N-M:STEP (and "
		    "%%MAX)",
		    spec);
	if (dash == NULL)
		b = a;
	if (b < a)
		errx(EX_USAGE, "--array: '%s': a range must rise", spec);
	for (; a <= b; a += step) {
		if (json_array_size(idx) >= SPEC_MAX_SHARDS)
			errx(EX_USAGE, "--array: '%s': more than %d jobs", spec,
			    SPEC_MAX_SHARDS);
		if (spec_append(idx, json_integer(a)) == -1)
			errx(EX_OSERR, "out of memory");
	}
}

/*
 * --array (Slurm's sbatch --array): a parent job with a shard an index,
 * each with JOBKIT_ARRAY_INDEX set, at most %MAX of them running at once.
 */
static json_t *
array_spec(struct submit *s, json_t *cmd)
{
	char *list = strdup(s->array), *pct, *tok, *save = NULL, name[300];
	json_t *raw, *idx, *shards, *v;
	const char *base;
	int64_t cap = 0;
	size_t i;

	if (list == NULL)
		errx(EX_OSERR, "out of memory");
	if ((pct = strchr(list, '%')) != NULL) {
		*pct++ = '\0';
		if (parse_int(pct, 1, SPEC_MAX_SHARDS, &cap) == -1)
			errx(EX_USAGE, "--array: '%s': %%%s: %s", s->array, pct,
			    error_msg());
	}
	if ((idx = json_array()) == NULL || (shards = json_array()) == NULL)
		errx(EX_OSERR, "out of memory");
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		array_term(s->array, tok, idx);
	if (json_array_size(idx) == 0)
		errx(EX_USAGE, "--array: '%s' names no index", s->array);
	/* The parent is named after the command, its shards by index. */
	base = json_string_value(json_object_get(s->over, "name"));
	if (base == NULL) {
		base = s->shell != NULL ? "sh" : strrchr(s->argv[0], '/');
		base = base == NULL ? s->argv[0] : s->shell ? base : base + 1;
	}
	json_array_foreach(idx, i, v)
	{
		json_t *one = json_deep_copy(cmd);
		char num[24];

		snprintf(
		    num, sizeof(num), "%lld", (long long)json_integer_value(v));
		snprintf(name, sizeof(name), "%.256s[%s]", base, num);
		if (spec_set(one, "name", json_string(name)) == -1 ||
		    spec_set(one, "env",
			json_pack("{s:s}", "JOBKIT_ARRAY_INDEX", num)) == -1 ||
		    spec_append(shards, one) == -1)
			errx(EX_OSERR, "out of memory");
	}
	raw = json_pack("{s:s, s:o}", "name", base, "shards", shards);
	if (raw == NULL ||
	    (cap > 0 && spec_set(raw, "concurrency", json_integer(cap)) == -1))
		errx(EX_OSERR, "out of memory");
	json_decref(idx);
	json_decref(cmd);
	free(list);
	/* The shards are named by index, not by --name. */
	json_object_del(s->over, "name");
	return raw;
}

/*
 * GNU parallel's replacement strings, longest first: the item, without
 * its extension, its base name, its folder, its base name without
 * extension, its number (from 1).
 */
static const char *const each_marks[] = {
    "{//}", "{/.}", "{/}", "{.}", "{#}", "{}", NULL};

/* The part of item mark k stands for, into out (a memstream). */
static void
each_part(FILE *out, int k, const char *item, size_t seq)
{
	const char *slash = strrchr(item, '/'),
		   *base = slash ? slash + 1 : item;
	const char *dot = strrchr(base, '.');
	size_t n =
	    dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);

	switch (k) {
	case 0: /* {//} */
		if (slash == NULL)
			fputs(".", out);
		else
			fwrite(item, 1,
			    slash == item ? 1 : (size_t)(slash - item), out);
		break;
	case 1: /* {/.} */
		fwrite(base, 1, n, out);
		break;
	case 2: /* {/} */
		fputs(base, out);
		break;
	case 3: /* {.} */
		fwrite(item, 1, (size_t)(base - item) + n, out);
		break;
	case 4: /* {#} */
		fprintf(out, "%zu", seq);
		break;
	default: /* {} */
		fputs(item, out);
	}
}

/* tmpl with its marks replaced: a new string; *used set when it had one. */
static char *
each_subst(const char *tmpl, const char *item, size_t seq, int *used)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int k;

	if (out == NULL)
		errx(EX_OSERR, "out of memory");
	while (*tmpl != '\0') {
		for (k = 0; each_marks[k] != NULL; k++)
			if (strncmp(tmpl, each_marks[k],
				strlen(each_marks[k])) == 0)
				break;
		if (each_marks[k] == NULL) {
			fputc(*tmpl++, out);
			continue;
		}
		each_part(out, k, item, seq);
		tmpl += strlen(each_marks[k]);
		*used = 1;
	}
	if (fclose(out) == EOF)
		errx(EX_OSERR, "out of memory");
	return buf;
}

/* Set member key of o to its template in over, replaced for item. */
static void
each_member(
    json_t *o, json_t *over, const char *key, const char *item, size_t seq)
{
	const char *t = json_string_value(json_object_get(over, key));
	int used = 0;
	char *v;

	if (t == NULL)
		return;
	v = each_subst(t, item, seq, &used);
	if (spec_set(o, key, json_string(v)) == -1)
		errx(EX_OSERR, "out of memory");
	free(v);
}

/* The raw spec of item seq: the command, and over's name and key,
 * replaced. */
static json_t *
each_spec(struct submit *s, json_t *over, const char *item, size_t seq)
{
	json_t *raw = json_object(), *a = json_array();
	int used = 0;
	char *v;

	if (raw == NULL || a == NULL)
		errx(EX_OSERR, "out of memory");
	if (s->shell != NULL) {
		v = each_subst(s->shell, item, seq, &used);
		if (spec_set(raw, "shell", json_string(v)) == -1)
			errx(EX_OSERR, "out of memory");
		free(v);
	} else {
		for (char **p = s->argv; *p != NULL; p++) {
			v = each_subst(*p, item, seq, &used);
			if (spec_append(a, json_string(v)) == -1)
				errx(EX_OSERR, "out of memory");
			free(v);
		}
		/* As GNU parallel does, the item goes last when no mark
		 * says where. */
		if ((!used && spec_append(a, json_string(item)) == -1) ||
		    spec_set(raw, "command", a) == -1)
			errx(EX_OSERR, "out of memory");
		a = NULL;
	}
	json_decref(a);
	each_member(raw, over, "name", item, seq);
	each_member(raw, over, "key", item, seq);
	return raw;
}

/*
 * The command given here (--shell, or the words after --) as a raw spec.
 * JSON text is UTF-8: a command that is not, or no memory, stops the tool.
 */
static json_t *
command_spec(struct submit *s)
{
	json_t *a = NULL, *raw;

	if (s->shell == NULL && (a = specopt_argv(s->argv)) == NULL)
		errx(error_status(), "%s", error_msg());
	if (s->shell != NULL && !utf8_valid(s->shell, strlen(s->shell)))
		errx(EX_DATAERR, "the command is not UTF-8");
	raw = a != NULL ? json_pack("{s:o}", "command", a)
			: json_pack("{s:s}", "shell", s->shell);
	if (raw == NULL)
		errx(EX_OSERR, "out of memory");
	return raw;
}

/*
 * --each: read every item of stdin (a line, or with -0 up to a NUL) and
 * spool a checked spec for each, before the transaction begins.
 */
static FILE *
each_spool(struct submit *s)
{
	FILE *spool = tmpfile();
	json_t *over = s->over, *mine, *spec;
	char *item = NULL;
	size_t cap = 0, seq = 0, line = 0;
	ssize_t n;

	if (spool == NULL)
		err(EX_CANTCREAT, "cannot create a temporary file");
	if (s->shell != NULL && strstr(s->shell, "{") == NULL)
		errx(EX_USAGE, "--each --shell: put {} where the line goes");
	/* The templates are checked here: what each_spec() makes of them
	 * and of a line is UTF-8 too. */
	if (s->shell != NULL || s->argv != NULL)
		json_decref(command_spec(s));
	/* What --name and --key say is a template, replaced job by job. */
	if ((mine = json_deep_copy(over)) == NULL)
		errx(EX_OSERR, "out of memory");
	json_object_del(mine, "name");
	json_object_del(mine, "key");
	s->over = mine;
	while ((n = getdelim(&item, &cap, s->nul ? '\0' : '\n', stdin)) > 0) {
		line++;
		if (!s->nul && item[n - 1] == '\n')
			item[--n] = '\0';
		if (!s->nul && n > 0 && item[n - 1] == '\r')
			item[--n] = '\0';
		if (s->nul && item[n - 1] == '\0')
			n--;
		if (n == 0)
			continue; /* a blank line is no item */
		if (strlen(item) != (size_t)n)
			errx(EX_DATAERR,
			    "stdin: line %zu holds a NUL (items "
			    "that may: -0)",
			    line);
		if (!utf8_valid(item, (size_t)n))
			errx(EX_DATAERR, "stdin: line %zu is not UTF-8", line);
		if ((spec = check_spec(s, each_spec(s, over, item, ++seq))) ==
		    NULL)
			errx(error_status(), "stdin: item %zu: %s", line,
			    error_msg());
		if (spool_spec(s, spec, line, spool) == -1 && !ferror(spool))
			errx(error_status(), "%s", error_msg());
	}
	free(item);
	s->over = over;
	json_decref(mine);
	if (ferror(stdin))
		err(EX_IOERR, "stdin");
	if (fflush(spool) == EOF || ferror(spool))
		err(EX_IOERR, "cannot write a temporary file");
	rewind(spool);
	return spool;
}

/* ---- --start: a worker for a queue no live worker serves ---- */

/*
 * Start exec-run --worker for queue, detached (its own session, stdin and
 * stdout /dev/null, stderr appended to log), and return its pid, or -1.
 */
static pid_t
spawn_worker(
    struct submit *s, const char *db, const char *queue, const char *log)
{
	char tool[4096];
	const char *argv[] = {"exec-run", "--worker", "-Q", queue,
	    "--idle-exit", s->idle_exit ? s->idle_exit : "60s", "--db", db,
	    NULL};
	int p[2], fd;
	pid_t pid, worker = -1;

	if (cli_sibling("exec-run", tool, sizeof(tool)) == -1)
		snprintf(tool, sizeof(tool), "exec-run");
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		/* Twice forked, so that it is no child of ours to reap. */
		if (setsid() == -1 || (pid = fork()) == -1)
			_exit(1);
		if (pid > 0) {
			(void)!write(p[1], &pid, sizeof(pid));
			_exit(0);
		}
		if ((fd = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(fd, 0) == -1 || dup2(fd, 1) == -1)
			_exit(1);
		if ((fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600)) >= 0)
			dup2(fd, 2);
		(void)!chdir("/");
		setenv("JOBKIT_DB", db, 1);
		if (strchr(tool, '/') != NULL)
			execv(tool, (char **)argv);
		else
			execvp(tool, (char **)argv);
		_exit(127);
	}
	close(p[1]);
	waitpid(pid, NULL, 0);
	if (read(p[0], &worker, sizeof(worker)) != sizeof(worker))
		worker = -1;
	close(p[0]);
	return worker;
}

/* Wait until a worker serves queue (the one started is pid), at most
 * 10 s.  Returns 0, or -1 when it is gone or never came. */
static int
await_worker(struct submit *s, const char *queue, pid_t pid)
{
	struct timespec ts = {0, 2000000};
	int served = 0;

	for (int i = 0; i < 5000; i++) {
		if (store_queue_served(s->st, queue, &served) == -1)
			return -1;
		if (served)
			return 0;
		if (kill(pid, 0) == -1)
			break;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/*
 * --start: for each queue of the jobs submitted that no live worker
 * serves, a worker.  Submitters take a lock beside the database while
 * they look and start, so that two at once start one worker.
 */
static void
start_workers(struct submit *s)
{
	char *db = NULL, *results = NULL, *lock = NULL, *log = NULL;
	const char *queue;
	json_t *v;
	pid_t pid;
	int fd = -1, served;

	if (!s->start || json_object_size(s->queues) == 0)
		return;
	if (cli_paths(&s->cli, &db, &results) == -1 ||
	    asprintf(&lock, "%s.start", db) == -1 ||
	    asprintf(&log, "%s/worker.log", dirname(results)) == -1)
		err(EX_OSERR, "out of memory");
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(fd, LOCK_EX) == -1)
		warn("--start: %s", lock);
	json_object_foreach(s->queues, queue, v)
	{
		if (store_queue_served(s->st, queue, &served) == -1) {
			warnx("--start: %s", error_msg());
			break;
		}
		if (served)
			continue;
		if ((pid = spawn_worker(s, db, queue, log)) == -1)
			warn("--start: cannot start a worker");
		else if (await_worker(s, queue, pid) == -1)
			warnx("--start: the worker for queue '%s' did not "
			      "start (its jobs are queued); see %s",
			    queue, log);
		else
			continue;
		s->status = EX_UNAVAILABLE;
	}
	if (fd != -1)
		close(fd);
	free(db);
	free(results);
	free(lock);
	free(log);
}

static void
submit(struct submit *s)
{
	FILE *spool = NULL, *results;
	char *mem = NULL;
	size_t memlen = 0;
	json_t *raw = NULL;
	int from_argv = !s->each && (s->argv != NULL || s->shell != NULL);
	struct stat sb;
	/* A regular file is no pipeline: read it as we store. */
	int direct = !from_argv && !s->each && fstat(STDIN_FILENO, &sb) == 0 &&
	    S_ISREG(sb.st_mode);

	if (from_argv) {
		raw = command_spec(s);
		if (s->array != NULL)
			raw = array_spec(s, raw);
		if ((raw = check_spec(s, raw)) == NULL)
			goto fail;
		if (s->st == NULL && relay_one(s, raw)) {
			json_decref(raw);
			return;
		}
		if (s->st == NULL && (s->st = cli_store(&s->cli, 1)) == NULL)
			goto fail;
	} else if (s->each)
		spool = each_spool(s);
	else if (!direct && (spool = spool_stdin(s)) == NULL)
		goto fail;
	/* Results wait until the commit: in memory for one job, on disk
	 * for a stream of any length. */
	results = from_argv ? open_memstream(&mem, &memlen) : tmpfile();
	if (results == NULL)
		err(EX_CANTCREAT, "cannot create a temporary file");
	if (store_begin(s->st) == -1) {
		fclose(results);
		goto fail;
	}
	/* A stream's plain jobs go in many to a statement. */
	store_batch(s->st);
	if ((s->context != NULL &&
		store_context_put(s->st, s->ctx_sha, s->ctx_data, s->ctx_len) ==
		    -1) ||
	    (from_argv	     ? store_spec(s, json_incref(raw), 0, results)
		    : direct ? read_stdin(s, store_spec, results)
			     : store_spool(s, spool, results)) == -1 ||
	    store_commit(s->st) == -1) {
		store_rollback(s->st);
		fclose(results);
		goto fail;
	}
	if (spool != NULL)
		fclose(spool);
	if (from_argv) {
		/* A memstream is write-only: read it back through fmemopen. */
		fclose(results);
		results = memlen ? fmemopen(mem, memlen, "r") : NULL;
		if (memlen && results == NULL)
			err(EX_OSERR, "cannot read back results");
	}
	start_workers(s);
	if (results != NULL) {
		flush_results(s, results);
		fclose(results);
	}
	free(mem);
	json_decref(raw);
	return;
fail:
	if (spool != NULL)
		fclose(spool);
	free(mem);
	json_decref(raw);
	store_close(s->st);
	json_decref(s->over);
	emit_close(s->out);
	errx(error_status(), "%s", error_msg());
}

/* JOBKIT_START=1 is --start for every submit (and only submits). */
static void
start_env(struct submit *s)
{
	const char *e = getenv("JOBKIT_START");

	if (s->action == -1 && e != NULL && *e != '\0' && strcmp(e, "0") != 0)
		s->start = 1;
	if (s->idle_exit != NULL && !s->start)
		errx(EX_USAGE, "--idle-exit goes with --start");
	if (s->start && (s->queues = json_object()) == NULL)
		errx(EX_OSERR, "out of memory");
}

/* --after-last: after the caller's last job, if there is one. */
static void
after_last(struct submit *s)
{
	char id[ID_LEN + 1];

	if (store_job_last(s->st, id) == -1) {
		if (error_status() == EX_NOINPUT)
			return;
		errx(error_status(), "%s", error_msg());
	}
	if (specopt_apply(s->over, 'a', id) == -1)
		errx(error_status(), "%s", error_msg());
}

/* --note: an event of job id, which is printed as the actions print. */
static int
note_one(struct submit *s, const char *id, json_t **job)
{
	static const char *const keys[] = {
	    "id", "name", "state", "queue", "priority", "created", NULL};
	json_t *d;

	if (store_job_note(s->st, id, "note", s->note) == -1 ||
	    (d = store_job_describe(s->st, id)) == NULL)
		return -1;
	*job = json_object();
	for (int i = 0; *job != NULL && keys[i] != NULL; i++)
		if (json_object_get(d, keys[i]) != NULL &&
		    json_object_set(
			*job, keys[i], json_object_get(d, keys[i])) == -1) {
			json_decref(*job);
			*job = NULL;
		}
	json_decref(d);
	return *job != NULL ? 0 : error_set(EX_OSERR, "out of memory");
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

/*
 * The results folders of job id's tasks, as a new array: a folder is one
 * when it is named after its task, as exec-run makes them.
 */
static json_t *
results_of(struct submit *s, const char *id)
{
	json_t *d = store_job_describe(s->st, id), *out = json_array(), *t;
	const char *dir, *slash;
	size_t i;

	json_array_foreach(json_object_get(d, "tasks"), i, t)
	{
		dir = json_string_value(json_object_get(t, "results"));
		slash = dir != NULL ? strrchr(dir, '/') : NULL;
		if (slash != NULL &&
		    strcmp(slash + 1,
			json_string_value(json_object_get(t, "id"))) == 0 &&
		    spec_append(out, json_string(dir)) == -1) {
			json_decref(d);
			json_decref(out);
			return NULL;
		}
	}
	json_decref(d);
	if (out == NULL)
		error_set(EX_OSERR, "out of memory");
	return out;
}

/* After a job's rows are gone (committed), its results folders. */
static void
remove_results(struct submit *s, json_t *dirs)
{
	json_t *v;
	size_t i;

	json_array_foreach(dirs, i, v)
	{
		const char *dir = json_string_value(v);
		if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
		    errno != ENOENT) {
			warn("cannot remove '%s'", dir);
			if (s->status == 0)
				s->status = EX_IOERR;
		}
	}
}

/*
 * Apply the action to one job named by an ID or prefix (NULL: a bad line
 * of stdin, the error set).
 */
static int
act_one(const char *ref, void *arg)
{
	struct submit *s = arg;
	char id[ID_LEN + 1];
	json_t *job, *dirs = NULL;

	if (ref == NULL || store_job_resolve(s->st, ref, id) == -1 ||
	    (s->action == STORE_DELETE && (dirs = results_of(s, id)) == NULL) ||
	    (s->action == ACT_NOTE
		    ? note_one(s, id, &job)
		    : store_job_act(s->st, id, (enum store_action)s->action,
			  &s->chg, &job)) == -1) {
		warnx("%s", error_msg());
		if (s->status == 0)
			s->status = error_status();
		json_decref(dirs);
		return 0;
	}
	remove_results(s, dirs);
	json_decref(dirs);
	print_job(s, job);
	json_decref(job);
	return 0;
}

static int
clear_row(json_t *row, void *arg)
{
	if (json_array_append(arg, json_object_get(row, "id")) == -1)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

/* --clear: delete the caller's finished jobs (ended --older ago). */
static void
clear(struct submit *s)
{
	static const char *done[] = {"succeeded", "failed", "cancelled", NULL};
	struct store_query q = {.noun = STORE_JOBS,
	    .states = done,
	    .time = "ended",
	    .since = INT64_MIN,
	    .until = INT64_MAX};
	json_t *ids = json_array(), *v;
	size_t i;

	q.user = store_caller(s->st);
	if (s->older > 0)
		q.until = parse_now_ms() - s->older;
	if (ids == NULL || store_query(s->st, &q, clear_row, ids) == -1)
		errx(error_status(), "%s", error_msg());
	s->action = STORE_DELETE;
	json_array_foreach(ids, i, v) act_one(json_string_value(v), s);
	json_decref(ids);
}

static void
act(struct submit *s, char **ids)
{
	if (s->action == ACT_CLEAR) {
		clear(s);
		return;
	}
	if (*ids == NULL || (strcmp(ids[0], "-") == 0 && ids[1] == NULL)) {
		/* '-' says IDs will be typed; nothing says it by mistake. */
		if (*ids == NULL && isatty(STDIN_FILENO))
			errx(EX_USAGE,
			    "no job: give job IDs, '-', or pipe jobs in");
		if (cli_read_ids(stdin, act_one, s) == -1)
			errx(error_status(), "%s", error_msg());
		return;
	}
	for (; *ids != NULL; ids++)
		act_one(*ids, s);
}

int
main(int argc, char **argv)
{
	struct submit s = {.action = -1, .older = -1};

	/* getopt(3)'s messages name the tool, not the path it ran by. */
	argv[0] = program_invocation_short_name;
	cli_guard_fds();
	if ((s.over = json_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	parse_options(&s, argc, argv);
	start_env(&s);
	if (s.cli.help || s.cli.version) {
		json_decref(s.over);
		if (s.cli.help)
			usage(stdout);
		else
			printf("job-submit (jobkit) %s\n", JOBKIT_VERSION);
		return 0;
	}
	if (s.action != -1 && s.context != NULL)
		errx(EX_USAGE, "--context goes with a new job, not an action");
	if (s.action != -1)
		check_action_options(&s);
	else
		take_export(&s);
	if (s.action == -1 && s.argv == NULL && s.shell == NULL &&
	    isatty(STDIN_FILENO))
		errx(EX_USAGE,
		    "no job: give a command after '--', --shell, "
		    "or specs on stdin");
	/* A job a worker may store is stored here only if none does. */
	if (!relayable(&s) && (s.st = cli_store(&s.cli, 1)) == NULL)
		errx(error_status(), "%s", error_msg());
	if ((s.out = emit_open(stdout, s.cli.format, EMIT_TABLE, columns)) ==
	    NULL)
		errx(error_status(), "%s", error_msg());
	if (s.action == -1 && s.context != NULL)
		pack_context(&s);
	if (s.after_last)
		after_last(&s);
	if (s.action == -1)
		submit(&s);
	else
		act(&s, argv + optind);
	if (emit_close(s.out) == -1 || fflush(stdout) == EOF || ferror(stdout))
		report_failed(&s, errno);
	store_close(s.st);
	json_decref(s.over);
	json_decref(s.export);
	json_decref(s.iopts.argv);
	json_decref(s.iopts.config);
	json_decref(s.queues);
	free(s.ctx_data);
	return s.status;
}
