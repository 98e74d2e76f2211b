/*
 * specopt: the command-line options that set fields of a job spec, shared
 * by job-submit and exec-run so both accept exactly the same ones.  Values
 * are checked as they are read, so an error names the option.
 */
#ifndef SPECOPT_H
#define SPECOPT_H

#include <getopt.h>
#include <jansson.h>

enum specopt_long {
	SPECOPT_ENV_FILE = 300,
	SPECOPT_GRACE,
	SPECOPT_RETRY_ON,
	SPECOPT_CPU,
	SPECOPT_MEMORY,
	SPECOPT_DISK,
	SPECOPT_GPU,
	SPECOPT_MAX_FILE,
	SPECOPT_MAX_RETURN,
	SPECOPT_AFTER_ANY,
	SPECOPT_AT,
	SPECOPT_EXPORT,
	SPECOPT_SCRATCH,
	SPECOPT_NOTIFY,
	SPECOPT_IMAGE
};

#define SPECOPT_SHORT "n:e:w:t:r:p:Q:l:a:Hk:"
#define SPECOPT_LONG \
	{"name", required_argument, NULL, 'n'}, \
	    {"env", required_argument, NULL, 'e'}, \
	    {"env-file", required_argument, NULL, SPECOPT_ENV_FILE}, \
	    {"export", required_argument, NULL, SPECOPT_EXPORT}, \
	    {"workdir", required_argument, NULL, 'w'}, \
	    {"scratch", no_argument, NULL, SPECOPT_SCRATCH}, \
	    {"timeout", required_argument, NULL, 't'}, \
	    {"grace", required_argument, NULL, SPECOPT_GRACE}, \
	    {"retries", required_argument, NULL, 'r'}, \
	    {"retry-on", required_argument, NULL, SPECOPT_RETRY_ON}, \
	    {"priority", required_argument, NULL, 'p'}, \
	    {"queue", required_argument, NULL, 'Q'}, \
	    {"label", required_argument, NULL, 'l'}, \
	    {"cpu", required_argument, NULL, SPECOPT_CPU}, \
	    {"memory", required_argument, NULL, SPECOPT_MEMORY}, \
	    {"disk", required_argument, NULL, SPECOPT_DISK}, \
	    {"gpu", required_argument, NULL, SPECOPT_GPU}, \
	    {"max-file", required_argument, NULL, SPECOPT_MAX_FILE}, \
	    {"max-return", required_argument, NULL, SPECOPT_MAX_RETURN}, \
	    {"after", required_argument, NULL, 'a'}, \
	    {"after-any", required_argument, NULL, SPECOPT_AFTER_ANY}, \
	    {"hold", no_argument, NULL, 'H'}, \
	    {"at", required_argument, NULL, SPECOPT_AT}, \
	    {"notify", required_argument, NULL, SPECOPT_NOTIFY}, \
	    {"image", required_argument, NULL, SPECOPT_IMAGE}, \
	{ \
		"key", required_argument, NULL, 'k' \
	}

/* The usage lines of these options, for the tools' --help: all of them,
 * and those of a job that runs now (no -H, --at). */
#define SPECOPT_USAGE_NOW \
	"  -n, --name NAME        -e, --env K=V|K       --env-file FILE\n" \
	"  --export ALL|NONE|NAME[=V],...               --scratch\n" \
	"  -w, --workdir DIR      -t, --timeout DUR     --grace DUR\n" \
	"  -r, --retries N        --retry-on CODES      -p, --priority N\n" \
	"  -Q, --queue NAME       -l, --label K=V       --cpu CPU\n" \
	"  --memory SIZE          --disk SIZE           --gpu N\n" \
	"  --max-file SIZE        --max-return SIZE     -a, --after ID\n" \
	"  --after-any ID         -k, --key KEY         --notify URL\n" \
	"  --image IMAGE\n"
#define SPECOPT_USAGE SPECOPT_USAGE_NOW "  -H, --hold             --at TIME\n"

/*
 * The environment jobs record of their submitter unless their spec says
 * (sbatch's default): what --export put in over (taken out of it, so that
 * it is not copied into each spec of a stream), else the submitter's PATH,
 * HOME, USER, LOGNAME, SHELL, LANG, LC_* and TZ.  A new object, or NULL
 * with an error.
 */
json_t *specopt_export(json_t *over);

/*
 * The current directory as spec's work directory unless it has one or is
 * a scratch job; a relative one is made absolute against it.  A job with
 * inputs or outputs and no work directory becomes a scratch one: its data
 * is staged in a fresh folder.  Returns 0, or -1 with an error.
 */
int specopt_workdir(json_t *spec);

/*
 * The words of a command (argv, NULL-terminated) as a new array of
 * strings, or NULL with an error: EX_DATAERR "the command is not UTF-8",
 * or EX_OSERR when out of memory.
 */
json_t *specopt_argv(char *const *argv);

/*
 * Apply option c with argument arg to over, an object of spec fields.
 * Returns 1 when c is a spec option, 0 when it is not, -1 with an error
 * (EX_USAGE naming the option; EX_NOINPUT for a missing --env-file).
 */
int specopt_apply(json_t *over, int c, const char *arg);

#endif
