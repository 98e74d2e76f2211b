#include <stdio.h>
#include <string.h>

#include "jobname.h"

#define WORDS 64 /* of a shell string's command, at most */
#define DEPTH 4 /* sh -c 'sh -c ...' nested, at most */

/* Programs that run another: the options of theirs that take an argument,
 * and how many operands come before the command. */
static const struct {
	const char *name, *optarg;
	int operands;
} wrappers[] = {{"env", "uCS", 0}, {"nice", "n", 0}, {"nohup", "", 0},
    {"time", "fo", 0}, {"timeout", "sk", 1}, {"stdbuf", "ioe", 0},
    {"ionice", "cnp", 0}, {"setsid", "", 0}, {"exec", "a", 0},
    {"command", "", 0}, {"builtin", "", 0}, {"sudo", "ugCDhprT", 0},
    {"doas", "uC", 0}, {"chrt", "", 1}, {"taskset", "", 1}, {"flock", "wEc", 1},
    {"xvfb-run", "nsfe", 0}};

/* Interpreters: the options that give inline code (the job is then known
 * by the interpreter), a module (python -m), and take an argument. */
static const struct {
	const char *prefix, *code, *module, *optarg;
} interps[] = {{"python", "c", "m", "WXQ"}, {"pypy", "c", "m", "WXQ"},
    {"perl", "eE", "", ""}, {"ruby", "e", "", "Ir"}, {"node", "ep", "", "r"},
    {"nodejs", "ep", "", "r"}, {"Rscript", "e", "", ""}, {"julia", "e", "", ""},
    {"php", "r", "", "dc"}, {"lua", "e", "", "l"}, {"tclsh", "", "", ""},
    {"deno", "", "", ""}, {"bun", "e", "", ""}};

static const char *const shells[] = {
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", NULL};

/* Shell words that start a command saying nothing of the job. */
static const char *const idle[] = {"for", "while", "until", "if", "case",
    "select", "function", "cd", "pushd", "popd", "export", "set", "unset",
    "local", "readonly", "declare", "typeset", "shift", "trap", "umask",
    "ulimit", ":", "true", "[", "[[", "test", "wait", "alias", "source", ".",
    "exit", "return", "break", "continue", "done", "fi", "esac", "}", "in",
    "read", "sleep", "mkdir", "shopt", "eval", NULL};
/* Reserved words before a command, dropped. */
static const char *const leading[] = {
    "do", "then", "else", "elif", "!", "{", "time", NULL};

static const char *jobname_words(
    const char *const *w, int depth, char *buf, size_t len);
static const char *jobname_line(
    const char *line, int depth, char *buf, size_t len);

static int
among(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

static const char *
base(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : s;
}

/* Whether the word is a NAME=VALUE assignment. */
static int
assignment(const char *s)
{
	size_t n = strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	return n > 0 && s[n] == '=' && !(s[0] >= '0' && s[0] <= '9');
}

/* The words from w joined by spaces into buf, cut at a character's start
 * within JOBNAME_MAX. */
static const char *
join(const char *first, const char *const *w, char *buf, size_t len)
{
	size_t n, cap = len - 1 < JOBNAME_MAX ? len - 1 : JOBNAME_MAX;

	n = (size_t)snprintf(buf, len, "%s", first);
	for (; w != NULL && *w != NULL && n < cap; w++)
		n += (size_t)snprintf(buf + n, len - n, " %s", *w);
	if (n > cap) {
		/* Back to the start of the character cut, if one was. */
		size_t k = cap, need;
		unsigned char lead;
		while (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
			k--;
		lead = k > 0 ? (unsigned char)buf[k - 1] : 0;
		need = lead >= 0xf0 ? 4
		    : lead >= 0xe0  ? 3
		    : lead >= 0xc0  ? 2
				    : 1;
		buf[k > 0 && k - 1 + need > cap ? k - 1 : cap] = '\0';
	}
	return buf;
}

/* Past the options (and their arguments, those optarg names) of w; *opt
 * is set to the letter of the first option found in stop, with w at its
 * argument. */
static const char *const *
skip_options(
    const char *const *w, const char *optarg, const char *stop, int *opt)
{
	*opt = 0;
	for (; *w != NULL && (*w)[0] == '-' && (*w)[1] != '\0'; w++) {
		const char *o = *w + 1;
		if (strcmp(*w, "--") == 0)
			return w + 1;
		if (*o == '-')
			continue; /* --long or --long=value */
		for (; *o != '\0'; o++) {
			if (strchr(stop, *o) != NULL) {
				*opt = *o;
				return o[1] ? w : w + 1;
			}
			if (strchr(optarg, *o) != NULL) {
				if (o[1] == '\0' && w[1] != NULL)
					w++;
				break;
			}
		}
	}
	return w;
}

static int
interp_of(const char *prog)
{
	size_t i, n;

	for (i = 0; i < sizeof(interps) / sizeof(interps[0]); i++) {
		n = strlen(interps[i].prefix);
		if (strncmp(prog, interps[i].prefix, n) == 0 &&
		    strspn(prog + n, "0123456789.") == strlen(prog + n))
			return (int)i;
	}
	return -1;
}

/* A shell: its -c string, else its script and the script's arguments. */
static const char *
name_shell(
    const char *prog, const char *const *w, int depth, char *buf, size_t len)
{
	int opt;

	w = skip_options(w, "oO", "c", &opt);
	if (opt == 'c')
		return *w != NULL ? jobname_line(*w, depth + 1, buf, len)
				  : join(prog, NULL, buf, len);
	return *w != NULL ? join(base(*w), w + 1, buf, len)
			  : join(prog, NULL, buf, len);
}

static const char *
name_interp(
    int k, const char *prog, const char *const *w, char *buf, size_t len)
{
	char stop[8];
	int opt;

	snprintf(
	    stop, sizeof(stop), "%s%s", interps[k].code, interps[k].module);
	/* deno run x.ts, bun run x.ts: the subcommand says nothing. */
	if (*w != NULL && strcmp(*w, "run") == 0 && interps[k].prefix[0] != 'p')
		w++;
	w = skip_options(w, interps[k].optarg, stop, &opt);
	if (opt != 0 && strchr(interps[k].module, opt) != NULL && *w != NULL)
		return join(*w, w + 1, buf, len);
	if (opt != 0 || *w == NULL)
		return join(prog, NULL, buf, len);
	return join(base(*w), w + 1, buf, len);
}

static const char *
jobname_words(const char *const *w, int depth, char *buf, size_t len)
{
	const char *prog;
	size_t i;
	int k, opt;

	while (*w != NULL && assignment(*w))
		w++;
	if (*w == NULL)
		return join("job", NULL, buf, len);
	prog = base(*w);
	if (depth < DEPTH && among(prog, shells))
		return name_shell(prog, w + 1, depth, buf, len);
	if ((k = interp_of(prog)) >= 0)
		return name_interp(k, prog, w + 1, buf, len);
	for (i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++) {
		if (strcmp(prog, wrappers[i].name) != 0)
			continue;
		const char *const *rest =
		    skip_options(w + 1, wrappers[i].optarg, "", &opt);
		for (k = 0; k < wrappers[i].operands && *rest != NULL; k++)
			rest++;
		while (strcmp(prog, "env") == 0 && *rest != NULL &&
		    assignment(*rest))
			rest++;
		return *rest != NULL ? jobname_words(rest, depth, buf, len)
				     : join(prog, NULL, buf, len);
	}
	return join(prog, NULL, buf, len);
}

const char *
jobname_argv(const char *const *argv, char *buf, size_t len)
{
	return jobname_words(argv, 0, buf, len);
}

/*
 * The words of the next command of a shell line into store (cap bytes)
 * and w (WORDS + 1), quotes removed, redirections left out; *pp is moved
 * past the command's end.  Returns the number of words.
 */
static int
shell_command(const char **pp, char *store, size_t cap, const char **w)
{
	const char *p = *pp;
	size_t n = 0;
	int nw = 0, q = 0, inword = 0, target = 0;

	for (; *p != '\0'; p++) {
		char c = *p;
		if (q == 0 && strchr(" \t;&|\n()<>", c) != NULL) {
			if (inword) {
				store[n++] = '\0';
				inword = 0;
				/* A redirection's target, or its fd (2>x). */
				if (target ||
				    (strchr("<>", c) != NULL &&
					strspn(w[nw - 1], "0123456789") ==
					    strlen(w[nw - 1])))
					nw--;
				target = 0;
			}
			if (c == '<' || c == '>') {
				p += p[1] == c;
				if (p[1] == '&')
					p += 1 + strspn(p + 2, "0123456789-");
				else
					target = 1;
			} else if (c != ' ' && c != '\t' && nw > 0) {
				p++;
				break;
			}
			continue;
		}
		if (n + 2 >= cap || (!inword && nw == WORDS))
			break;
		if (!inword) {
			w[nw++] = store + n;
			inword = 1;
		}
		if (q == 0 && (c == '\'' || c == '"'))
			q = c;
		else if (q != 0 && c == q)
			q = 0;
		else if (c == '\\' && q != '\'' && p[1] != '\0')
			store[n++] = *++p;
		else
			store[n++] = c;
	}
	if (inword) {
		store[n] = '\0';
		nw -= target;
	}
	w[nw] = NULL;
	*pp = p;
	return nw;
}

static const char *
jobname_line(const char *line, int depth, char *buf, size_t len)
{
	char store[1024], first[64] = "";
	const char *w[WORDS + 1], *const *c;
	const char *p = line;

	while (*p != '\0') {
		if (shell_command(&p, store, sizeof(store), w) == 0)
			continue;
		for (c = w; *c != NULL && among(*c, leading); c++)
			;
		while (*c != NULL && assignment(*c))
			c++;
		if (*c == NULL)
			continue;
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s", base(*c));
		if (!among(*c, idle))
			return jobname_words(c, depth, buf, len);
	}
	return join(first[0] ? first : "sh", NULL, buf, len);
}

const char *
jobname_shell(const char *line, char *buf, size_t len)
{
	return jobname_line(line, 0, buf, len);
}
