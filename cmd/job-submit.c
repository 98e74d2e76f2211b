/*
 * job-submit: create jobs -- from a command line, a JSON spec or an NDJSON
 * stream -- and change the lifecycle of existing ones.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "jsonin.h"
#include "parse.h"
#include "spec.h"
#include "store.h"

enum opt {
	O_ENV_FILE = 256,
	O_GRACE,
	O_RETRY_ON,
	O_CPU,
	O_MEMORY,
	O_DISK,
	O_GPU,
	O_MAX_FILE,
	O_MAX_RETURN,
	O_AFTER_ANY,
	O_AT,
	O_RELEASE,
	O_RETRY,
	O_DELETE
};

static const struct option longopts[] = {{"name", required_argument, NULL, 'n'},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, O_ENV_FILE},
    {"workdir", required_argument, NULL, 'w'},
    {"timeout", required_argument, NULL, 't'},
    {"grace", required_argument, NULL, O_GRACE},
    {"retries", required_argument, NULL, 'r'},
    {"retry-on", required_argument, NULL, O_RETRY_ON},
    {"priority", required_argument, NULL, 'p'},
    {"queue", required_argument, NULL, 'Q'},
    {"label", required_argument, NULL, 'l'},
    {"cpu", required_argument, NULL, O_CPU},
    {"memory", required_argument, NULL, O_MEMORY},
    {"disk", required_argument, NULL, O_DISK},
    {"gpu", required_argument, NULL, O_GPU},
    {"max-file", required_argument, NULL, O_MAX_FILE},
    {"max-return", required_argument, NULL, O_MAX_RETURN},
    {"after", required_argument, NULL, 'a'},
    {"after-any", required_argument, NULL, O_AFTER_ANY},
    {"hold", no_argument, NULL, 'H'}, {"at", required_argument, NULL, O_AT},
    {"key", required_argument, NULL, 'k'},
    {"shell", required_argument, NULL, 'S'}, {"quiet", no_argument, NULL, 'q'},
    {"cancel", no_argument, NULL, 'c'},
    {"release", no_argument, NULL, O_RELEASE},
    {"retry", no_argument, NULL, O_RETRY},
    {"delete", no_argument, NULL, O_DELETE}, CLI_LONG, {NULL, 0, NULL, 0}};

static const struct emit_col columns[] = {{"id", "ID", 8, EMIT_SHORTID},
    {"state", "STATE", 9, 0}, {"queue", "QUEUE", 10, 0},
    {"priority", "PRIO", 4, EMIT_RIGHT}, {"name", "NAME", 0, 0},
    {NULL, NULL, 0, 0}};

struct submit {
	struct cli cli;
	json_t *over; /* spec fields given as options */
	int quiet;
	int action; /* -1: submit, else an enum store_action */
	int has_update; /* --priority or --queue given */
	struct job_change chg;
	const char *shell;
	char **argv; /* the command after "--", or NULL */
	struct store *st;
	struct emit *out;
	int status; /* first failure of a batch of actions */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: job-submit [options] -- command [argument ...]\n"
	    "       job-submit [options] -S|--shell 'command line'\n"
	    "       job-submit [options] < spec.json | specs.ndjson\n"
	    "       job-submit -c|--cancel | -H|--hold | --release | --retry |"
	    " --delete [id ...]\n"
	    "       job-submit -p|--priority N | -Q|--queue Q id ... | -\n"
	    "spec options:\n"
	    "  -n, --name NAME        -e, --env K=V|K       --env-file FILE\n"
	    "  -w, --workdir DIR      -t, --timeout DUR     --grace DUR\n"
	    "  -r, --retries N        --retry-on CODES      -p, --priority N\n"
	    "  -Q, --queue NAME       -l, --label K=V       --cpu CPU\n"
	    "  --memory SIZE          --disk SIZE           --gpu N\n"
	    "  --max-file SIZE        --max-return SIZE     -a, --after ID\n"
	    "  --after-any ID         -H, --hold            --at TIME\n"
	    "  -k, --key KEY\n"
	    "output and database:\n"
	    "  -q, --quiet            -f, --format json|ndjson|table|text\n"
	    "  -d, --db PATH          -h, --help            -V, --version\n");
}

/* Set over[obj][key] (or over[key] when obj is NULL) to v (stolen). */
static void
over_set(json_t *over, const char *obj, const char *key, json_t *v)
{
	json_t *o = over;

	if (obj != NULL) {
		if ((o = json_object_get(over, obj)) == NULL) {
			o = json_object();
			json_object_set_new(over, obj, o);
		}
	}
	if (json_object_set_new(o, key, v) == -1)
		errx(EX_OSERR, "out of memory");
}

static void
over_append(json_t *over, const char *key, const char *v)
{
	json_t *a = json_object_get(over, key);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(over, key, a);
	}
	json_array_append_new(a, json_string(v));
}

/* "K=V" into over[obj]; for env a bare "K" copies our environment. */
static void
over_pair(json_t *over, const char *obj, const char *opt, const char *arg)
{
	const char *eq = strchr(arg, '='), *val;
	char key[256];

	if (eq == NULL && strcmp(obj, "env") == 0) {
		if ((val = getenv(arg)) == NULL)
			errx(EX_USAGE, "%s: '%s' is not set in the environment",
			    opt, arg);
		eq = arg + strlen(arg);
	} else if (eq == NULL || eq == arg)
		errx(EX_USAGE, "%s: expected KEY=VALUE, got '%s'", opt, arg);
	else
		val = eq + 1;
	if ((size_t)(eq - arg) >= sizeof(key))
		errx(EX_USAGE, "%s: key too long in '%s'", opt, arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	over_set(over, obj, key, json_string(val));
}

static void
read_env_file(json_t *over, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;

	if (fp == NULL)
		err(errno == ENOENT ? EX_NOINPUT : EX_NOPERM, "--env-file: %s",
		    path);
	while ((n = getline(&line, &cap, fp)) != -1) {
		while (n > 0 && strchr("\r\n", line[n - 1]))
			line[--n] = '\0';
		p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		if (strchr(p, '=') == NULL)
			errx(EX_DATAERR,
			    "--env-file: %s: expected KEY=VALUE, "
			    "got '%s'",
			    path, p);
		over_pair(over, "env", "--env-file", p);
	}
	free(line);
	fclose(fp);
}

/* Check an option's value with a parser now, so errors name the option. */
static void
check_value(const char *opt, int r)
{
	if (r == -1)
		errx(EX_USAGE, "%s: %s", opt, error_msg());
}

static json_int_t
int_value(const char *opt, const char *arg, int64_t min, int64_t max)
{
	int64_t v;

	check_value(opt, parse_int(arg, min, max, &v));
	return (json_int_t)v;
}

static void
retry_on(json_t *over, const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	json_t *a = json_array();

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		json_array_append_new(
		    a, json_integer(int_value("--retry-on", tok, 0, 255)));
	free(copy);
	over_set(over, NULL, "retry_on", a);
}

static void
set_action(struct submit *s, int act)
{
	if (s->action != -1 && s->action != act)
		errx(EX_USAGE, "give one action at a time");
	s->action = act;
}

/* One option of the spec; returns 0 if c is not one. */
static int
spec_option(struct submit *s, int c, const char *arg)
{
	json_t *o = s->over;
	uint64_t size;
	int64_t v;

	switch (c) {
	case 'n':
		over_set(o, NULL, "name", json_string(arg));
		break;
	case 'e':
		over_pair(o, "env", "--env", arg);
		break;
	case O_ENV_FILE:
		read_env_file(o, arg);
		break;
	case 'w':
		over_set(o, NULL, "workdir", json_string(arg));
		break;
	case 't':
		check_value("--timeout", parse_duration(arg, &v));
		over_set(o, NULL, "timeout", json_string(arg));
		break;
	case O_GRACE:
		check_value("--grace", parse_duration(arg, &v));
		over_set(o, NULL, "grace", json_string(arg));
		break;
	case 'r':
		over_set(o, NULL, "retries",
		    json_integer(int_value("--retries", arg, 0, 1000)));
		break;
	case O_RETRY_ON:
		retry_on(o, arg);
		break;
	case 'l':
		over_pair(o, "labels", "--label", arg);
		break;
	case O_CPU:
		check_value("--cpu", parse_cpu(arg, &v));
		over_set(o, "resources", "cpu", json_string(arg));
		break;
	case O_MEMORY:
	case O_DISK:
	case O_MAX_FILE:
	case O_MAX_RETURN:
		check_value(c == O_MEMORY ? "--memory"
			: c == O_DISK	  ? "--disk"
			: c == O_MAX_FILE ? "--max-file"
					  : "--max-return",
		    parse_size(arg, &size));
		over_set(o,
		    c == O_MEMORY || c == O_DISK ? "resources" : "output",
		    c == O_MEMORY	  ? "memory"
			: c == O_DISK	  ? "disk"
			: c == O_MAX_FILE ? "max_file"
					  : "max_return",
		    json_string(arg));
		break;
	case O_GPU:
		over_set(o, "resources", "gpu",
		    json_integer(int_value("--gpu", arg, 0, 1024)));
		break;
	case 'a':
		over_append(o, "after", arg);
		break;
	case O_AFTER_ANY:
		over_append(o, "after_any", arg);
		break;
	case O_AT:
		check_value("--at", parse_time(arg, parse_now_ms(), 1, &v));
		over_set(o, NULL, "at", json_string(arg));
		break;
	case 'k':
		over_set(o, NULL, "key", json_string(arg));
		break;
	default:
		return 0;
	}
	return 1;
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
	while (
	    (c = getopt_long(end, argv, "n:e:w:t:r:p:Q:l:a:Hk:S:qc" CLI_SHORT,
		 longopts, NULL)) != -1) {
		if ((r = cli_option(&s->cli, c, optarg)) == -1)
			errx(EX_USAGE, "%s", error_msg());
		if (r == 1 || spec_option(s, c, optarg))
			continue;
		switch (c) {
		case 'p':
			s->chg.has_priority = 1;
			s->chg.priority =
			    int_value("--priority", optarg, -1000, 1000);
			over_set(s->over, NULL, "priority",
			    json_integer(s->chg.priority));
			s->has_update = 1;
			break;
		case 'Q':
			s->chg.queue = optarg;
			over_set(s->over, NULL, "queue", json_string(optarg));
			s->has_update = 1;
			break;
		case 'H':
			over_set(s->over, NULL, "hold", json_true());
			break;
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
		case O_DELETE:
			set_action(s, STORE_DELETE);
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
	if (s->argv != NULL && s->shell != NULL)
		errx(
		    EX_USAGE, "give a command after '--' or --shell, not both");
	if (s->argv != NULL && s->argv[0] == NULL)
		errx(EX_USAGE, "no command after '--'");
	if (s->action == -1 && optind < end)
		errx(
		    EX_USAGE, "'%s': put the command after '--'", argv[optind]);
}

/* Print one result row (a job's brief), honouring -q. */
static void
print_job(struct submit *s, json_t *job)
{
	if (s->quiet)
		printf("%s\n", json_string_value(json_object_get(job, "id")));
	else if (emit_row(s->out, job) == -1)
		errx(error_status(), "%s", error_msg());
}

/* Normalize one spec (stolen), apply options, and store it. */
static int
add_spec(struct submit *s, json_t *raw, FILE *results)
{
	struct job_new jn;
	json_t *spec = NULL, *job = NULL;
	int existed, r = -1;

	if (spec_merge(raw, s->over) == -1) {
		error_set(EX_OSERR, "out of memory");
		goto out;
	}
	if ((spec = spec_normalize(raw, parse_now_ms())) == NULL ||
	    spec_to_job(spec, &jn) == -1 ||
	    store_job_add(s->st, &jn, &job, &existed) == -1)
		goto out;
	if (s->quiet)
		fputs(json_string_value(json_object_get(job, "id")), results);
	else
		json_dumpf(job, results, JSON_COMPACT);
	fputc('\n', results);
	r = 0;
out:
	json_decref(raw);
	json_decref(spec);
	json_decref(job);
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

/*
 * Submit from argv or --shell, or every spec on stdin in one
 * transaction: all stored, or none.
 */
static void
submit(struct submit *s)
{
	struct jsonin *in = NULL;
	char *mem = NULL;
	size_t memlen = 0, line = 0;
	json_t *raw;
	int r;
	/* Results wait until the commit: in memory for one job, on disk
	 * for a stream of any length. */
	FILE *results = s->argv != NULL || s->shell != NULL
	    ? open_memstream(&mem, &memlen)
	    : tmpfile();

	if (results == NULL)
		err(EX_CANTCREAT, "cannot create a temporary file");
	if (store_begin(s->st) == -1)
		goto fail;
	if (s->argv != NULL || s->shell != NULL) {
		raw = json_object();
		if (s->shell != NULL)
			json_object_set_new(
			    raw, "shell", json_string(s->shell));
		else {
			json_t *a = json_array();
			for (char **p = s->argv; *p != NULL; p++)
				json_array_append_new(a, json_string(*p));
			json_object_set_new(raw, "command", a);
		}
		if (add_spec(s, raw, results) == -1)
			goto fail;
	} else {
		if ((in = jsonin_open(stdin, "stdin")) == NULL)
			goto fail;
		while ((r = jsonin_next(in, &raw, &line)) == 1)
			if (add_spec(s, raw, results) == -1) {
				error_wrap("stdin: line %zu", line);
				goto fail;
			}
		if (r == -1)
			goto fail;
		if (line == 0) {
			error_set(EX_DATAERR, "stdin: no job spec");
			goto fail;
		}
	}
	if (store_commit(s->st) == -1)
		goto fail;
	jsonin_close(in);
	if (s->argv != NULL || s->shell != NULL) {
		/* A memstream is write-only: read it back through fmemopen. */
		fclose(results);
		results = memlen ? fmemopen(mem, memlen, "r") : NULL;
		if (memlen && results == NULL)
			err(EX_OSERR, "cannot read back results");
	}
	if (results != NULL) {
		flush_results(s, results);
		fclose(results);
	}
	free(mem);
	return;
fail:
	store_rollback(s->st);
	jsonin_close(in);
	fclose(results);
	free(mem);
	store_close(s->st);
	json_decref(s->over);
	emit_close(s->out);
	errx(error_status(), "%s", error_msg());
}

/* Apply the action to one job named by an ID or prefix. */
static int
act_one(const char *ref, void *arg)
{
	struct submit *s = arg;
	char id[ID_LEN + 1];
	json_t *job;

	if (store_job_resolve(s->st, ref, id) == -1 ||
	    store_job_act(
		s->st, id, (enum store_action)s->action, &s->chg, &job) == -1) {
		warnx("%s", error_msg());
		if (s->status == 0)
			s->status = error_status();
		return 0;
	}
	print_job(s, job);
	json_decref(job);
	return 0;
}

static void
act(struct submit *s, char **ids)
{
	if (*ids == NULL || (strcmp(ids[0], "-") == 0 && ids[1] == NULL)) {
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
	struct submit s = {.action = -1};

	if ((s.over = json_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	parse_options(&s, argc, argv);
	if (s.cli.help) {
		usage(stdout);
		return 0;
	}
	if (s.cli.version) {
		printf("job-submit (jobkit) %s\n", JOBKIT_VERSION);
		return 0;
	}
	if (s.action == -1 && s.argv == NULL && s.shell == NULL &&
	    isatty(STDIN_FILENO))
		errx(EX_USAGE,
		    "no job: give a command after '--', --shell, "
		    "or specs on stdin");
	if ((s.st = cli_store(&s.cli)) == NULL)
		errx(error_status(), "%s", error_msg());
	if ((s.out = emit_open(stdout, s.cli.format, EMIT_TABLE, columns)) ==
	    NULL)
		errx(error_status(), "%s", error_msg());
	if (s.action == -1)
		submit(&s);
	else
		act(&s, argv + optind);
	if (emit_close(s.out) == -1 && s.status == 0)
		errx(error_status(), "%s", error_msg());
	store_close(s.st);
	json_decref(s.over);
	return s.status;
}
