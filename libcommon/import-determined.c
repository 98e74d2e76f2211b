#include <jansson.h>

#include "error.h"
#include "importer.h"

/* Determined command configs: not read yet. */
json_t *
import_determined(json_t *doc, const struct import_opts *o)
{
	(void)doc;
	(void)o;
	error_set(EX_DATAERR, "$: Determined configs are not read yet");
	return NULL;
}
