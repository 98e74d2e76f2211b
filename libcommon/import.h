/*
 * import: job descriptions of other systems turned into jobkit specs, as
 * jobkit-spec(5) describes under IMPORTED FORMATS: a Bacalhau job (its
 * docker task run with docker run) and a StudioML experiment request (its
 * script run with python in the unpacked workspace).  What would change
 * what runs but has no jobkit equivalent is refused, never dropped.
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <jansson.h>

enum import_format { IMPORT_NONE, IMPORT_BACALHAU, IMPORT_STUDIOML };

/* 0 and *f set when name is "bacalhau" or "studioml", else -1 (no error). */
int import_format_parse(const char *name, enum import_format *f);

/*
 * Convert one foreign document to an array of jobkit specs (a Bacalhau
 * job with Count N gives N).  Returns a new reference, or NULL with an
 * EX_DATAERR error naming the offender by its path in the document
 * ("$.Tasks[0].Engine.Type: ...").
 */
json_t *import_specs(enum import_format f, json_t *doc);

#endif
