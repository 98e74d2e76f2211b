/*
 * import: job descriptions of other systems turned into jobkit specs, as
 * jobkit-spec(5) describes under IMPORTED FORMATS: a Bacalhau job (every
 * model its users have files in), a StudioML experiment request and a
 * Determined command config.  What would change what runs but has no
 * jobkit equivalent is refused, never dropped; what means nothing on one
 * machine is recorded in the spec's "foreign" object.
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <jansson.h>

enum import_format {
	IMPORT_NONE,
	IMPORT_BACALHAU,
	IMPORT_STUDIOML,
	IMPORT_DETERMINED
};

struct import_opts {
	int strict; /* refuse what would otherwise run differently (an
		       output kept locally instead of published) */
	json_t *argv; /* the command given after --, or NULL */
	json_t *config; /* "KEY=VALUE" overrides (--config), or NULL */
	int context; /* a context folder goes with the jobs (--context) */
};

/* 0 and *f set when name is "bacalhau", "studioml" or "determined", else
 * -1 (no error). */
int import_format_parse(const char *name, enum import_format *f);

/* The name of a format, for messages. */
const char *import_format_name(enum import_format f);

/*
 * Convert one foreign document (already read from JSON or YAML) to an
 * array of jobkit specs, not yet normalized (a Bacalhau job with Count N
 * gives N).  o may be NULL.  Returns a new reference, or NULL with an
 * EX_DATAERR error naming the offender by its path in the document
 * ("$.Tasks[0].Engine.Type: ...").
 */
json_t *import_specs(
    enum import_format f, json_t *doc, const struct import_opts *o);

#endif
