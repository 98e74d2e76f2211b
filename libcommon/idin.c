#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "idin.h"
#include "jsonin.h"

struct idin {
	FILE *fp;
	const char *name;
	struct jsonin *js;
	json_t *cur; /* the value *ref points into */
};

struct idin *
idin_open(FILE *fp, const char *name)
{
	struct idin *in;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->js = jsonin_open(fp, name)) == NULL) {
		free(in);
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	jsonin_accept(in->js, JSONIN_ITEMS | JSONIN_WORDS);
	in->fp = fp;
	in->name = name;
	return in;
}

void
idin_close(struct idin *in)
{
	if (in == NULL)
		return;
	json_decref(in->cur);
	jsonin_close(in->js);
	free(in);
}

/* The job that value v (from line) names, into *ref. */
static int
idin_ref(struct idin *in, json_t *v, size_t line, const char **ref)
{
	const char *key = "job";
	json_t *m;

	if (json_is_string(v)) {
		*ref = json_string_value(v);
		return 1;
	}
	if (!json_is_object(v))
		return error_set(EX_DATAERR,
		    "%s: line %zu: expected a job ID or an object with \"id\"",
		    in->name, line);
	/* A task or a result names its job in "job". */
	if ((m = json_object_get(v, key)) == NULL &&
	    (m = json_object_get(v, key = "id")) == NULL)
		return error_set(EX_DATAERR,
		    "%s: line %zu: object has no \"id\"", in->name, line);
	if (!json_is_string(m))
		return error_set(EX_DATAERR,
		    "%s: line %zu: \"%s\" is not a string", in->name, line,
		    key);
	/* Job IDs start with a length class a-k; a run's with 'r'. */
	if (*key == 'i' && json_string_value(m)[0] == 'r')
		return error_set(EX_DATAERR,
		    "%s: line %zu: '%s' is a run, not a job", in->name, line,
		    json_string_value(m));
	*ref = json_string_value(m);
	return 1;
}

int
idin_next(struct idin *in, const char **ref)
{
	size_t line;
	int r;

	json_decref(in->cur);
	in->cur = NULL;
	if ((r = jsonin_next(in->js, &in->cur, &line)) == 1)
		return idin_ref(in, in->cur, line, ref);
	/* Read to the end, so that the writer is not cut off and the
	 * caller sees the input's end. */
	if (r == -1 && jsonin_broken(in->js))
		while (getc(in->fp) != EOF)
			;
	return r;
}
