/*
 * import-bacalhau: a Bacalhau job, in every model its users have files
 * in, as jobkit specs (jobkit-spec(5), IMPORTED FORMATS):
 *
 *   legacy  V1alpha1, V1beta1 and V1beta2: a Job with a Spec (and Deal),
 *           a bare Spec, the older flat layout of 0.1 and 0.2, each also
 *           wrapped in "Job" as `bacalhau describe` prints it;
 *   v1      the later model: a Job with Type, Tasks[0], InputSources...
 *
 * Reading and deciding are apart.  Tables of fields, one per object of
 * the models, walk the document and leave each value in a slot, as Go's
 * decoders read it: names in any case, and a number or boolean where a
 * string belongs taken as its text (YAML's `GPU: 1`).  What means nothing
 * on one machine is kept in the spec's "foreign" object under its path;
 * any other name is refused.  Builders then turn the slots into the spec.
 * Every error names the document's own path ("$.Spec.inputs[0].URL: ...").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "error.h"
#include "import.h"
#include "importer.h"
#include "parse.h"
#include "spec.h"

#define PATHMAX 512
#define MAX_COUNT 1000 /* jobs from one v1 job's Count */
#define MAX_SHARDS 10000 /* shards of one sharded job */
#define MAX_LISTED 100000 /* entries listed under sharded directories */
#define MAX_DEPTH 64 /* folders listed below a sharded directory */
#define FOREIGN_MAX (60 * 1024) /* bytes kept of what means nothing here */
#define MAX_NOTES 100 /* as a spec holds them */

/* A value of the document (borrowed) and where it sits. */
struct slot {
	json_t *v;
	char path[PATHMAX];
};

/* The slots of a job: legacy Job, Spec and Deal; v1 Job and Task. */
enum {
	J_JOB, /* the "Job" of a wrapper */
	J_API,
	J_ENGINE,
	J_ENGINE_NAME,
	J_ETYPE, /* EngineSpec.Type, v1 Engine.Type */
	J_EPARAMS,
	J_PUBLISHER,
	J_PUBLISHER_NAME,
	J_PTYPE, /* PublisherSpec.Type, v1 Publisher.Type */
	J_PPARAMS,
	J_LANGUAGE,
	J_WASM,
	J_IMAGE,
	J_ENTRYPOINT,
	J_PARAMETERS,
	J_ENVVARS,
	J_WORKDIR,
	J_CPU,
	J_MEMORY,
	J_DISK,
	J_GPU,
	J_NETTYPE,
	J_DOMAINS,
	J_PORTS,
	J_TIMEOUT,
	J_EXEC_TIMEOUT,
	J_TOTAL_TIMEOUT,
	J_INPUTS,
	J_CONTEXTS,
	J_OUTPUTS,
	J_ANNOTATIONS,
	J_SELECTORS,
	J_GLOB,
	J_BATCH,
	J_BASE,
	J_CONCURRENCY,
	J_NAME,
	J_NAMESPACE,
	J_TYPE,
	J_PRIORITY,
	J_COUNT,
	J_LABELS,
	J_TASKS,
	J_TASKENV,
	J_N
};

/* The slots of an item: a StorageSpec, an InputSource, a ResultPath, a
 * selector, a publisher's Params. */
enum {
	I_KIND,
	I_KIND_NAME,
	I_NAME,
	I_CID,
	I_URL,
	I_BUCKET,
	I_KEY,
	I_REGION,
	I_ENDPOINT,
	I_VERSION,
	I_CHECKSUM,
	I_FILTER,
	I_PARTITION,
	I_REPO,
	I_SOURCEPATH,
	I_READWRITE,
	I_PATH,
	I_PARAMS,
	I_COMPRESS,
	I_OPERATOR,
	I_VALUES,
	I_N
};

/* What a value must be: a string (a scalar is taken as its text), an
 * array of them, an integer, a number, a boolean, an object, an array. */
enum kind { K_ANY, K_STR, K_STRS, K_INT, K_NUM, K_BOOL, K_OBJ, K_ARR };

/* What is done with it: kept in a slot, read with the object's own
 * table, kept in "foreign", or dropped (Bacalhau's record of its own
 * run), which a note says. */
enum act { A_SLOT, A_SUB, A_FOREIGN, A_DROP };

struct field {
	const char *name; /* matched in any case, as Go's decoders do */
	enum kind kind;
	enum act act;
	int slot;
	const struct field *sub;
};

#define SLOT(n, k, s) \
	{ \
		n, k, A_SLOT, s, NULL \
	}
#define SUB(n, t) \
	{ \
		n, K_OBJ, A_SUB, 0, t \
	}
#define FOREIGN(n) \
	{ \
		n, K_ANY, A_FOREIGN, 0, NULL \
	}
#define DROP(n) \
	{ \
		n, K_ANY, A_DROP, 0, NULL \
	}
#define END \
	{ \
		NULL, K_ANY, A_SLOT, 0, NULL \
	}

/* S3 objects: V1beta2's StorageSpec.S3, v1's Source.Params. */
static const struct field s3_fields[] = {SLOT("Bucket", K_STR, I_BUCKET),
    SLOT("Key", K_STR, I_KEY), SLOT("Region", K_STR, I_REGION),
    SLOT("Endpoint", K_STR, I_ENDPOINT), SLOT("VersionID", K_STR, I_VERSION),
    SLOT("Checksum", K_STR, I_CHECKSUM),
    SLOT("ChecksumSHA256", K_STR, I_CHECKSUM), SLOT("Filter", K_STR, I_FILTER),
    SLOT("Partition", K_ANY, I_PARTITION), END};

/* A legacy StorageSpec: inputs, Contexts, outputs. */
static const struct field storage_fields[] = {
    SLOT("StorageSource", K_ANY, I_KIND), SLOT("StorageEngine", K_ANY, I_KIND),
    SLOT("Engine", K_ANY, I_KIND), SLOT("EngineName", K_STR, I_KIND_NAME),
    SLOT("engine_name", K_STR, I_KIND_NAME), SLOT("Name", K_STR, I_NAME),
    SLOT("CID", K_STR, I_CID), SLOT("URL", K_STR, I_URL), SUB("S3", s3_fields),
    SLOT("Repo", K_STR, I_REPO), SLOT("SourcePath", K_STR, I_SOURCEPATH),
    SLOT("ReadWrite", K_BOOL, I_READWRITE), SLOT("Path", K_STR, I_PATH),
    FOREIGN("Metadata"), END};

/* v1: an InputSource, its Source, and the Params of each source type. */
static const struct field v1_source_fields[] = {
    SLOT("Type", K_STR, I_KIND), SLOT("Params", K_OBJ, I_PARAMS), END};
static const struct field v1_input_fields[] = {SUB("Source", v1_source_fields),
    SLOT("Alias", K_STR, I_NAME), SLOT("Target", K_STR, I_PATH),
    SLOT("ReadWrite", K_BOOL, I_READWRITE), END};
static const struct field url_params[] = {SLOT("URL", K_STR, I_URL), END};
static const struct field local_params[] = {
    SLOT("SourcePath", K_STR, I_SOURCEPATH),
    SLOT("ReadWrite", K_BOOL, I_READWRITE), END};
static const struct field presigned_params[] = {
    SLOT("PreSignedURL", K_STR, I_URL), SUB("SourceSpec", s3_fields), END};
static const struct field result_fields[] = {
    SLOT("Name", K_STR, I_NAME), SLOT("Path", K_STR, I_PATH), END};

/* NodeSelectors (legacy) and Constraints (v1). */
static const struct field selector_fields[] = {SLOT("Key", K_STR, I_KEY),
    SLOT("Operator", K_STR, I_OPERATOR), SLOT("Values", K_STRS, I_VALUES), END};

/* An S3 publisher's Params. */
static const struct field s3_publisher_fields[] = {
    SLOT("Bucket", K_STR, I_BUCKET), SLOT("Key", K_STR, I_KEY),
    SLOT("Region", K_STR, I_REGION), SLOT("Endpoint", K_STR, I_ENDPOINT),
    SLOT("Compress", K_BOOL, I_COMPRESS), END};

/* A docker engine: the Docker object (JobSpecDocker, job_spec_docker in
 * 0.1 with env and workdir), EngineSpec.Params, v1 Engine.Params. */
static const struct field docker_fields[] = {SLOT("Image", K_STR, J_IMAGE),
    SLOT("Entrypoint", K_STRS, J_ENTRYPOINT),
    SLOT("Parameters", K_STRS, J_PARAMETERS),
    SLOT("EnvironmentVariables", K_STRS, J_ENVVARS),
    SLOT("env", K_STRS, J_ENVVARS), SLOT("WorkingDirectory", K_STR, J_WORKDIR),
    SLOT("workdir", K_STR, J_WORKDIR), END};

static const struct field resource_fields[] = {SLOT("CPU", K_STR, J_CPU),
    SLOT("Memory", K_STR, J_MEMORY), SLOT("Disk", K_STR, J_DISK),
    SLOT("GPU", K_STR, J_GPU), END};

static const struct field network_fields[] = {SLOT("Type", K_STR, J_NETTYPE),
    SLOT("Domains", K_STRS, J_DOMAINS), SLOT("Ports", K_ANY, J_PORTS), END};

static const struct field sharding_fields[] = {
    SLOT("GlobPattern", K_STR, J_GLOB), SLOT("glob_pattern", K_STR, J_GLOB),
    SLOT("BatchSize", K_INT, J_BATCH), SLOT("batch_size", K_INT, J_BATCH),
    SLOT("GlobPatternBasePath", K_STR, J_BASE),
    SLOT("glob_pattern_base_path", K_STR, J_BASE), END};

static const struct field deal_fields[] = {
    SLOT("Concurrency", K_INT, J_CONCURRENCY), FOREIGN("Confidence"),
    FOREIGN("MinBids"), FOREIGN("TargetingMode"), END};

static const struct field engine_spec_fields[] = {
    SLOT("Type", K_STR, J_ETYPE), SLOT("Params", K_OBJ, J_EPARAMS), END};
static const struct field publisher_spec_fields[] = {
    SLOT("Type", K_STR, J_PTYPE), SLOT("Params", K_OBJ, J_PPARAMS), END};

/* A legacy Spec: also a bare one, and the flat layout of 0.1 and 0.2. */
static const struct field spec_fields[] = {SLOT("Engine", K_ANY, J_ENGINE),
    SLOT("EngineName", K_STR, J_ENGINE_NAME),
    SLOT("engine_name", K_STR, J_ENGINE_NAME),
    SUB("EngineSpec", engine_spec_fields), FOREIGN("Verifier"),
    FOREIGN("VerifierName"), FOREIGN("verifier_name"),
    SLOT("Publisher", K_ANY, J_PUBLISHER),
    SLOT("PublisherName", K_STR, J_PUBLISHER_NAME),
    SLOT("publisher_name", K_STR, J_PUBLISHER_NAME),
    SUB("PublisherSpec", publisher_spec_fields), SUB("Docker", docker_fields),
    SUB("JobSpecDocker", docker_fields), SUB("job_spec_docker", docker_fields),
    SLOT("Language", K_OBJ, J_LANGUAGE),
    SLOT("JobSpecLanguage", K_OBJ, J_LANGUAGE),
    SLOT("job_spec_language", K_OBJ, J_LANGUAGE), SLOT("Wasm", K_OBJ, J_WASM),
    SUB("Resources", resource_fields), SUB("Network", network_fields),
    SLOT("Timeout", K_ANY, J_TIMEOUT), SLOT("inputs", K_ARR, J_INPUTS),
    SLOT("Contexts", K_ARR, J_CONTEXTS), SLOT("outputs", K_ARR, J_OUTPUTS),
    SLOT("Annotations", K_STRS, J_ANNOTATIONS),
    SLOT("NodeSelectors", K_ARR, J_SELECTORS), SUB("Sharding", sharding_fields),
    FOREIGN("DoNotTrack"), SUB("Deal", deal_fields),
    SLOT("APIVersion", K_STR, J_API), SLOT("JobAPIVersion", K_STR, J_API), END};

/* A legacy Job (0.1's names with underscores too). */
static const struct field job_fields[] = {SLOT("APIVersion", K_STR, J_API),
    SLOT("JobAPIVersion", K_STR, J_API), FOREIGN("ID"),
    FOREIGN("RequesterNodeID"), FOREIGN("requester_node_id"),
    FOREIGN("RequesterPublicKey"), FOREIGN("ClientID"), FOREIGN("client_id"),
    FOREIGN("ExecutionPlan"), FOREIGN("execution_plan"), FOREIGN("CreatedAt"),
    FOREIGN("created_at"), FOREIGN("Metadata"), SUB("Spec", spec_fields),
    SUB("Deal", deal_fields), DROP("JobState"), DROP("JobEvents"),
    DROP("LocalJobEvents"), DROP("JobLocalEvents"), END};

/* What `bacalhau describe` prints around the job. */
static const struct field wrapper_fields[] = {SLOT("Job", K_OBJ, J_JOB),
    DROP("JobState"), DROP("JobEvents"), DROP("JobLocalEvents"),
    DROP("LocalJobEvents"), DROP("State"), DROP("History"), DROP("Executions"),
    END};

/* The v1 model. */
static const struct field v1_timeout_fields[] = {
    SLOT("ExecutionTimeout", K_ANY, J_EXEC_TIMEOUT),
    SLOT("TotalTimeout", K_ANY, J_TOTAL_TIMEOUT), FOREIGN("QueueTimeout"), END};
static const struct field v1_task_fields[] = {FOREIGN("Name"),
    SUB("Engine", engine_spec_fields), SUB("Publisher", publisher_spec_fields),
    SLOT("Env", K_OBJ, J_TASKENV), FOREIGN("Meta"),
    SLOT("InputSources", K_ARR, J_INPUTS),
    SLOT("ResultPaths", K_ARR, J_OUTPUTS), SUB("Resources", resource_fields),
    SUB("Network", network_fields), SUB("Timeouts", v1_timeout_fields), END};
static const struct field v1_job_fields[] = {FOREIGN("ID"),
    SLOT("Name", K_STR, J_NAME), SLOT("Namespace", K_STR, J_NAMESPACE),
    SLOT("Type", K_STR, J_TYPE), SLOT("Priority", K_INT, J_PRIORITY),
    SLOT("Count", K_INT, J_COUNT), SLOT("Constraints", K_ARR, J_SELECTORS),
    FOREIGN("Meta"), SLOT("Labels", K_OBJ, J_LABELS),
    SLOT("Tasks", K_ARR, J_TASKS), DROP("State"), FOREIGN("Version"),
    FOREIGN("Revision"), FOREIGN("CreateTime"), FOREIGN("ModifyTime"), END};

/* One document being read. */
struct bac {
	const struct import_opts *o;
	json_t *spec; /* the job (for a sharded one, what every shard has) */
	json_t *cands; /* with a GlobPattern: [{path, inputs, binds}] */
	json_t *foreign, *notes, *dropped;
	size_t foreign_bytes;
	size_t listed;
	size_t notes_over; /* notes past MAX_NOTES */
	int engine;
	int url_at_path; /* V1alpha1: a URL's file is mounted at its path */
	const char *input; /* the path of the input being read */
	struct slot j[J_N];
};

/* Bacalhau's enums.  Names match in any case; numbers are the places in
 * Go's const lists, as Bacalhau wrote them before 0.2.6 (0 is unset). */
enum { E_NONE, E_NOOP, E_DOCKER, E_WASM, E_LANGUAGE, E_PYTHONWASM };
static const char *const engine_names[] = {
    "", "Noop", "Docker", "Wasm", "Language", "PythonWasm", NULL};

enum {
	S_NONE,
	S_IPFS,
	S_URL,
	S_FILECOIN_UNSEALED,
	S_FILECOIN,
	S_ESTUARY,
	S_INLINE,
	S_LOCAL,
	S_S3,
	S_REPO,
	S_REPO_LFS,
	S_S3_PRESIGNED,
	S_NOOP,
	S_LOCAL_ALIAS
};
static const char *const source_names[] = {"", "IPFS", "URLDownload",
    "FilecoinUnsealed", "Filecoin", "Estuary", "Inline", "LocalDirectory", "S3",
    "RepoClone", "RepoCloneLFS", "S3PreSigned", "Noop", "Local", NULL};

enum { P_NONE, P_NOOP, P_IPFS, P_FILECOIN, P_ESTUARY, P_S3, P_LOCAL };
static const char *const publisher_names[] = {
    "", "Noop", "IPFS", "Filecoin", "Estuary", "S3", "Local", NULL};

/* Paths --------------------------------------------------------------- */

static void
at_key(char *buf, const char *path, const char *key)
{
	if ((size_t)snprintf(buf, PATHMAX, "%s.%s", path, key) >= PATHMAX)
		memcpy(buf + PATHMAX - 4, "...", 4);
}

static void
at_index(char *buf, const char *path, size_t i)
{
	if ((size_t)snprintf(buf, PATHMAX, "%s[%zu]", path, i) >= PATHMAX)
		memcpy(buf + PATHMAX - 4, "...", 4);
}

/* A slot's string: NULL when absent or empty. */
static const char *
sv(const struct slot *s)
{
	const char *v = json_string_value(s->v);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
oom(void)
{
	return error_set(EX_OSERR, "out of memory");
}

/* Notes and foreign fields -------------------------------------------- */

static int note(struct bac *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A note for the job's events (control characters of the document's
 * text shown as '?'); past MAX_NOTES, only counted. */
static int
note(struct bac *b, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (json_array_size(b->notes) >= MAX_NOTES - 1) {
		b->notes_over++;
		return 0;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *c = msg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			*c = '?';
	return json_array_append_new(b->notes, json_string(msg)) == -1 ? oom()
								       : 0;
}

/*
 * What would run differently here than on Bacalhau (results not
 * published where it said): a note, or with strict a refusal.
 */
static int
differs(struct bac *b, const char *path, const char *what)
{
	if (b->o->strict)
		return import_bad(path, "%s (refused: --strict)", what);
	return note(b, "%s: %s", path, what);
}

/* A value with nothing in it: Go writes its zero values. */
static int
zero(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (v == NULL)
		return 1;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, e) if (!zero(e)) return 0;
		return 1;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) if (!zero(e)) return 0;
		return 1;
	case JSON_STRING:
		return json_string_length(v) == 0;
	case JSON_INTEGER:
		return json_integer_value(v) == 0;
	case JSON_REAL:
		return json_real_value(v) == 0;
	case JSON_TRUE:
		return 0;
	default:
		return 1;
	}
}

/* Keep v in "foreign" under its path, unless it holds nothing. */
static int
keep_foreign(struct bac *b, const char *path, json_t *v)
{
	size_t n;

	if (zero(v))
		return 0;
	if (spec_json_len(v, &n) == -1)
		return -1;
	n += strlen(path);
	if (b->foreign_bytes + n > FOREIGN_MAX)
		return note(b,
		    "%s: not kept: the foreign fields kept are over "
		    "60 KiB",
		    path);
	b->foreign_bytes += n;
	return json_object_set_new(b->foreign, path, json_deep_copy(v)) == -1
	    ? oom()
	    : 0;
}

/* Walking the document ------------------------------------------------ */

static const struct field *
field_find(const struct field *t, const char *k)
{
	for (; t->name != NULL; t++)
		if (strcasecmp(t->name, k) == 0)
			return t;
	return NULL;
}

/* A number or boolean as the text Go's YAML reader gives a string field:
 * 1 and a new string in *out, 0 when v is neither, -1 when out of
 * memory. */
static int
scalar_text(json_t *v, json_t **out)
{
	char buf[64];

	if (json_is_integer(v))
		snprintf(
		    buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
		if (strtod(buf, NULL) != json_real_value(v))
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	} else if (json_is_boolean(v))
		snprintf(
		    buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
	else
		return 0;
	return (*out = json_string(buf)) != NULL ? 1 : oom();
}

/*
 * A boolean given as text: Bacalhau's v1 Params take "true", and YAML
 * 1.1's yes, no, on, off, y and n arrive as strings.  NULL for others.
 */
static json_t *
text_bool(json_t *v)
{
	static const char *const yes[] = {"true", "yes", "y", "on", NULL};
	static const char *const no[] = {"false", "no", "n", "off", NULL};
	const char *s = json_string_value(v);

	for (int i = 0; yes[i] != NULL; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return json_true();
	for (int i = 0; no[i] != NULL; i++)
		if (strcasecmp(s, no[i]) == 0)
			return json_false();
	return NULL;
}

/* Each element of an array a string (scalars taken as their text). */
static int
check_strings(const char *path, json_t *arr)
{
	char p[PATHMAX];
	json_t *e, *t;
	size_t i;
	int r;

	if (!json_is_array(arr))
		return import_bad(path, "must be an array of strings");
	json_array_foreach(arr, i, e)
	{
		if (json_is_string(e))
			continue;
		at_index(p, path, i);
		if ((r = scalar_text(e, &t)) == 0)
			return import_bad(p, "must be a string");
		if (r == -1 || json_array_set_new(arr, i, t) == -1)
			return oom();
	}
	return 0;
}

/* Check *v (member k of obj) is of kind; a scalar becomes a string. */
static int
check_kind(
    const char *path, json_t *obj, const char *k, json_t **v, enum kind kind)
{
	static const char *const what[] = {"", "a string",
	    "an array of strings", "an integer", "a number", "true or false",
	    "an object", "an array"};
	json_t *t;
	int ok = 1, r;

	switch (kind) {
	case K_STR:
		if (!json_is_string(*v)) {
			if ((r = scalar_text(*v, &t)) == 0)
				ok = 0;
			else if (r == -1 ||
			    json_object_set_new(obj, k, t) == -1)
				return oom();
			else
				*v = t;
		}
		break;
	case K_STRS:
		return check_strings(path, *v);
	case K_INT:
		ok = json_is_integer(*v);
		break;
	case K_NUM:
		ok = json_is_number(*v);
		break;
	case K_BOOL:
		if (json_is_string(*v) && (t = text_bool(*v)) != NULL) {
			if (json_object_set_new(obj, k, t) == -1)
				return oom();
			*v = t;
		}
		ok = json_is_boolean(*v);
		break;
	case K_OBJ:
		ok = json_is_object(*v);
		break;
	case K_ARR:
		ok = json_is_array(*v);
		break;
	case K_ANY:
		break;
	}
	return ok ? 0 : import_bad(path, "must be %s", what[kind]);
}

static int walk(struct bac *b, const char *path, json_t *obj,
    const struct field *t, struct slot *s);

/* Do what the table says with one member. */
static int
take(struct bac *b, const char *path, json_t *v, const struct field *f,
    struct slot *s)
{
	struct slot *to = &s[f->slot];

	switch (f->act) {
	case A_SUB:
		return walk(b, path, v, f->sub, s);
	case A_FOREIGN:
		return keep_foreign(b, path, v);
	case A_DROP:
		return json_array_append_new(b->dropped, json_string(path)) ==
			-1
		    ? oom()
		    : 0;
	case A_SLOT:
		break;
	}
	/* The same value twice (a Docker object and EngineSpec.Params in a
	 * described job) is one; two different ones are a mistake. */
	if (to->v != NULL && !json_equal(to->v, v))
		return import_bad(path, "given twice: also as '%s'", to->path);
	to->v = v;
	snprintf(to->path, sizeof(to->path), "%s", path);
	return 0;
}

/* Read the members of obj with table t into the slots s. */
static int
walk(struct bac *b, const char *path, json_t *obj, const struct field *t,
    struct slot *s)
{
	const struct field *f;
	char p[PATHMAX];
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return import_bad(path, "must be an object");
	json_object_foreach(obj, k, v)
	{
		at_key(p, path, k);
		if ((f = field_find(t, k)) == NULL)
			return import_bad(p, "unknown field");
		if (json_is_null(v))
			continue; /* Go's zero value */
		if (check_kind(p, obj, k, &v, f->kind) == -1 ||
		    take(b, p, v, f, s) == -1)
			return -1;
	}
	return 0;
}

/* Enums --------------------------------------------------------------- */

/* The names of an enum for a message: "Noop, Docker, Wasm". */
static void
names_list(const char *const *names, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 1; names[i] != NULL && n < len; i++)
		n += (size_t)snprintf(
		    buf + n, len - n, "%s%s", i > 1 ? ", " : "", names[i]);
}

/*
 * The value of enum slot s (0 when absent): a name of names in any case,
 * or a number up to numbered, the place in Go's const list as Bacalhau
 * wrote enums before 0.2.6.
 */
static int
enum_value(const struct slot *s, const char *what, const char *const *names,
    int numbered, int *out)
{
	char list[256];

	*out = 0;
	if (s->v == NULL)
		return 0;
	if (json_is_integer(s->v)) {
		json_int_t n = json_integer_value(s->v);
		if (n >= 0 && n <= numbered) {
			*out = (int)n;
			return 0;
		}
		return import_bad(s->path,
		    "%lld is not the number of a Bacalhau %s (1 to %d, as "
		    "Bacalhau wrote them before 0.2.6)",
		    (long long)n, what, numbered);
	}
	if (!json_is_string(s->v))
		return import_bad(s->path, "must be the name of a %s", what);
	if (json_string_length(s->v) == 0)
		return 0;
	for (int i = 1; names[i] != NULL; i++)
		if (strcasecmp(json_string_value(s->v), names[i]) == 0) {
			*out = i;
			return 0;
		}
	names_list(names, list, sizeof(list));
	return import_bad(s->path, "'%s' is not a Bacalhau %s (%s)",
	    json_string_value(s->v), what, list);
}

/*
 * The value of the first given of up to three slots naming one enum
 * (EngineSpec.Type before Engine before EngineName, as Bacalhau prefers
 * them); each is checked.  *at gets the path of the one that said it.
 */
static int
enum_first(const struct slot *const s[3], const char *what,
    const char *const *names, int numbered, int *out, const char **at)
{
	int v;

	*out = 0;
	*at = NULL;
	for (int i = 0; i < 3; i++) {
		if (s[i] == NULL)
			continue;
		if (enum_value(s[i], what, names, numbered, &v) == -1)
			return -1;
		if (v != 0 && *out == 0) {
			*out = v;
			*at = s[i]->path;
		}
	}
	return 0;
}

/* The engine --------------------------------------------------------- */

static int
set_strings(json_t *o, const char *k, const struct slot *s)
{
	if (json_array_size(s->v) == 0)
		return 0;
	return json_object_set(o, k, s->v) == -1 ? oom() : 0;
}

/* A docker image's own name, the default name of its job. */
static void
image_name(const char *image, char *buf, size_t len)
{
	const char *s = strrchr(image, '/');
	size_t n;

	s = s != NULL ? s + 1 : image;
	n = strcspn(s, ":@");
	snprintf(buf, len, "%.*s", (int)(n > 0 ? n : 3), n > 0 ? s : "job");
}

/* Image, Entrypoint, WorkingDirectory as the container; Parameters as
 * the command run in it. */
static int
build_container(struct bac *b, const char *at)
{
	const struct slot *im = &b->j[J_IMAGE], *wd = &b->j[J_WORKDIR];
	json_t *c;
	char name[256];

	if (sv(im) == NULL)
		return import_bad(
		    im->v ? im->path : at, "a docker engine needs an Image");
	if (*sv(im) == '-')
		return import_bad(
		    im->path, "Image '%s' is not an image name", sv(im));
	if (sv(wd) != NULL && *sv(wd) != '/')
		return import_bad(
		    wd->path, "'%s' is not an absolute path", sv(wd));
	if ((c = json_object()) == NULL ||
	    json_object_set_new(b->spec, "container", c) == -1)
		return oom();
	if (import_set_str(c, "image", sv(im)) == -1 ||
	    set_strings(c, "entrypoint", &b->j[J_ENTRYPOINT]) == -1 ||
	    set_strings(b->spec, "command", &b->j[J_PARAMETERS]) == -1 ||
	    import_set_str(c, "workdir", sv(wd)) == -1)
		return -1;
	if (json_object_get(b->spec, "name") == NULL) {
		image_name(sv(im), name, sizeof(name));
		return import_set_str(b->spec, "name", name);
	}
	return 0;
}

/* EnvironmentVariables: "NAME=value" each. */
static int
build_env(struct bac *b)
{
	const struct slot *s = &b->j[J_ENVVARS];
	char p[PATHMAX], name[256];
	const char *kv, *eq;
	json_t *v;
	size_t i;

	json_array_foreach(s->v, i, v)
	{
		kv = json_string_value(v);
		eq = strchr(kv, '=');
		at_index(p, s->path, i);
		if (eq == NULL || (size_t)(eq - kv) >= sizeof(name))
			return import_bad(p, "'%s' is not NAME=value", kv);
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		if (!spec_env_name_ok(name))
			return import_bad(
			    p, "'%s' does not name a variable", name);
		if (import_set_str(
			import_object_at(b->spec, "env"), name, eq + 1) == -1)
			return -1;
	}
	return 0;
}

/*
 * v1 Task.Env: a value, or "env:VAR", the worker's variable VAR
 * (worker_env NAME, or NAME=VAR when it is passed under another name).
 */
static int
build_task_env(struct bac *b)
{
	const struct slot *s = &b->j[J_TASKENV];
	char p[PATHMAX];
	const char *k, *val;
	json_t *v, *t;
	int r;

	json_object_foreach(s->v, k, v)
	{
		at_key(p, s->path, k);
		if (!json_is_string(v) && (r = scalar_text(v, &t)) != 0) {
			if (r == -1 || json_object_set_new(s->v, k, t) == -1)
				return oom();
			v = t;
		}
		if (!json_is_string(v) || !spec_env_name_ok(k))
			return import_bad(
			    p, "must be a string named like a variable");
		val = json_string_value(v);
		if (strncmp(val, "env:", 4) != 0)
			r = import_set_str(
			    import_object_at(b->spec, "env"), k, val);
		else if (!spec_env_name_ok(val + 4))
			return import_bad(p, "'%s' names no variable", val);
		else
			r = spec_append(import_array_at(b->spec, "worker_env"),
			    strcmp(val + 4, k) == 0
				? json_string(k)
				: json_sprintf("%s=%s", k, val + 4));
		if (r == -1)
			return -1;
	}
	return 0;
}

/* Resources ---------------------------------------------------------- */

static int
build_size(const struct slot *s, json_t *res, const char *field)
{
	json_t *n;

	if (sv(s) == NULL)
		return 0;
	if (import_humanize_size(s->path, sv(s), &n) == -1)
		return -1;
	if (json_integer_value(n) > 0 && json_object_set(res, field, n) == -1) {
		json_decref(n);
		return oom();
	}
	json_decref(n);
	return 0;
}

static int
build_resources(struct bac *b)
{
	const struct slot *cpu = &b->j[J_CPU], *gpu = &b->j[J_GPU];
	json_t *res = json_object();
	int64_t mc, n;

	if (res == NULL)
		return oom();
	if (sv(cpu) != NULL) {
		if (parse_cpu(sv(cpu), &mc) == -1) {
			json_decref(res);
			return error_wrap("%s", cpu->path);
		}
		if (mc > 0 && import_set_str(res, "cpu", sv(cpu)) == -1) {
			json_decref(res);
			return -1;
		}
	}
	if (sv(gpu) != NULL && parse_int(sv(gpu), 0, 1024, &n) == -1) {
		json_decref(res);
		return import_bad(
		    gpu->path, "'%s' is not a number of GPUs", sv(gpu));
	}
	if ((sv(gpu) != NULL && n > 0 &&
		spec_set(res, "gpu", json_integer(n)) == -1) ||
	    build_size(&b->j[J_MEMORY], res, "memory") == -1 ||
	    build_size(&b->j[J_DISK], res, "disk") == -1) {
		json_decref(res);
		return -1;
	}
	if (json_object_size(res) == 0) {
		json_decref(res);
		return 0;
	}
	return json_object_set_new(b->spec, "resources", res) == -1 ? oom() : 0;
}

/* A number of seconds, or nothing when 0. */
static int
seconds(const struct slot *s, json_t **out)
{
	*out = NULL;
	if (s->v == NULL)
		return 0;
	if (!json_is_number(s->v) || json_number_value(s->v) < 0 ||
	    json_number_value(s->v) > 3.2e9)
		return import_bad(s->path, "must be a number of seconds");
	if (json_number_value(s->v) > 0)
		*out = s->v;
	return 0;
}

/* Timeout (legacy), else Timeouts.ExecutionTimeout, else TotalTimeout. */
static int
build_timeout(struct bac *b)
{
	static const int order[] = {J_TIMEOUT, J_EXEC_TIMEOUT, J_TOTAL_TIMEOUT};
	json_t *t;

	for (int i = 0; i < 3; i++) {
		if (seconds(&b->j[order[i]], &t) == -1)
			return -1;
		if (t == NULL)
			continue;
		if (json_object_get(b->spec, "timeout") == NULL) {
			if (json_object_set(b->spec, "timeout", t) == -1)
				return oom();
		} else if (keep_foreign(b, b->j[order[i]].path, t) == -1)
			return -1;
	}
	return 0;
}

/* The network ------------------------------------------------------ */

/*
 * None, or Full and what amounts to it on one machine (v1's Host, Bridge
 * and Default: outbound connections); HTTP's domain list cannot be kept
 * to, so it is the full network, said in a note.  Absent: none, as
 * Bacalhau's docker jobs (before 1.7).
 */
static int
build_network(struct bac *b)
{
	static const char *const full[] = {
	    "full", "host", "bridge", "default", NULL};
	const struct slot *t = &b->j[J_NETTYPE], *d = &b->j[J_DOMAINS];
	const char *net = "none", *type = sv(t);
	char msg[512];
	size_t n;

	if (b->j[J_PORTS].v != NULL && !zero(b->j[J_PORTS].v))
		return import_bad(b->j[J_PORTS].path,
		    "ports are not published: jobkit runs batch jobs");
	for (int i = 0; type != NULL && full[i] != NULL; i++)
		if (strcasecmp(type, full[i]) == 0)
			net = "full";
	if (type != NULL && strcasecmp(type, "http") == 0) {
		n = (size_t)snprintf(msg, sizeof(msg),
		    "the job gets the full network: HTTP networking cannot be "
		    "limited here");
		for (size_t i = 0; i < json_array_size(d->v); i++)
			if (n < sizeof(msg))
				n += (size_t)snprintf(msg + n, sizeof(msg) - n,
				    "%s%s", i ? ", " : " to ",
				    json_string_value(json_array_get(d->v, i)));
		if (differs(b, t->path, msg) == -1)
			return -1;
		net = "full";
	} else if (type != NULL && strcmp(net, "none") == 0 &&
	    strcasecmp(type, "none") != 0)
		return import_bad(t->path,
		    "'%s' is not a network type (None, Full, Host, Bridge, "
		    "HTTP, Default)",
		    type);
	return import_set_str(b->spec, "network", net);
}

/* Selectors and labels ---------------------------------------------- */

/* A selector's Operator as jobkit's (Kubernetes' selection operators). */
static const char *
selector_op(const char *op)
{
	static const char *const ops[][2] = {{"=", "="}, {"==", "="},
	    {"!=", "!="}, {"in", "in"}, {"notin", "notin"},
	    {"exists", "exists"}, {"!", "!exists"}, {"!exists", "!exists"},
	    {"doesnotexist", "!exists"}, {"gt", "gt"}, {"lt", "lt"},
	    {NULL, NULL}};

	for (int i = 0; ops[i][0] != NULL; i++)
		if (strcasecmp(op, ops[i][0]) == 0)
			return ops[i][1];
	return NULL;
}

static int
selector_one(struct bac *b, const char *path, json_t *e)
{
	struct slot s[I_N];
	const char *op;
	json_t *sel;
	size_t n;

	memset(s, 0, sizeof(s));
	if (walk(b, path, e, selector_fields, s) == -1)
		return -1;
	if (sv(&s[I_KEY]) == NULL)
		return import_bad(path, "a selector needs a Key");
	op = sv(&s[I_OPERATOR]) ? selector_op(sv(&s[I_OPERATOR])) : NULL;
	if (op == NULL)
		return import_bad(s[I_OPERATOR].v ? s[I_OPERATOR].path : path,
		    "a selector needs an Operator: =, ==, !=, in, notin, "
		    "exists, !, gt or lt");
	n = json_array_size(s[I_VALUES].v);
	if (strstr(op, "exists") ? n != 0 : strstr(op, "in") ? n == 0 : n != 1)
		return import_bad(path, "operator '%s' takes %s", op,
		    strstr(op, "exists")   ? "no Values"
			: strstr(op, "in") ? "one or more Values"
					   : "one value in Values");
	sel = json_pack("{s:s, s:s}", "key", sv(&s[I_KEY]), "operator", op);
	if (sel == NULL ||
	    (n > 0 && json_object_set(sel, "values", s[I_VALUES].v) == -1)) {
		json_decref(sel);
		return oom();
	}
	return json_array_append_new(
		   import_array_at(b->spec, "selector"), sel) == -1
	    ? oom()
	    : 0;
}

/* NodeSelectors, Constraints: a match on the worker's run labels. */
static int
build_selector(struct bac *b)
{
	const struct slot *s = &b->j[J_SELECTORS];
	char p[PATHMAX];
	json_t *e;
	size_t i;

	json_array_foreach(s->v, i, e)
	{
		at_index(p, s->path, i);
		if (selector_one(b, p, e) == -1)
			return -1;
	}
	return 0;
}

/* A label key as jobkit-spec(5) has them. */
static int
label_ok(const char *k, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)*k))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && !strchr("._-/", k[i]))
			return 0;
	return 1;
}

/*
 * Annotations: "key=value" is the label key=value, a bare word the label
 * word with an empty value; one that cannot be a label key is kept in
 * "foreign".
 */
static int
build_annotations(struct bac *b)
{
	const struct slot *s = &b->j[J_ANNOTATIONS];
	const char *a, *eq;
	char p[PATHMAX], key[64];
	json_t *e;
	size_t i, n;

	json_array_foreach(s->v, i, e)
	{
		a = json_string_value(e);
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		at_index(p, s->path, i);
		if (!label_ok(a, n) || strlen(eq ? eq + 1 : "") > 256) {
			if (keep_foreign(b, p, e) == -1)
				return -1;
			continue;
		}
		snprintf(key, sizeof(key), "%.*s", (int)n, a);
		if (import_set_str(import_object_at(b->spec, "labels"), key,
			eq ? eq + 1 : "") == -1)
			return -1;
	}
	return 0;
}

/* v1 Labels, and the Namespace as the label namespace. */
static int
build_v1_labels(struct bac *b)
{
	const struct slot *s = &b->j[J_LABELS];
	char p[PATHMAX];
	const char *k;
	json_t *v, *labels;

	json_object_foreach(s->v, k, v)
	{
		at_key(p, s->path, k);
		if (!json_is_string(v))
			return import_bad(p, "must be a string");
		if (json_object_set(
			import_object_at(b->spec, "labels"), k, v) == -1)
			return oom();
	}
	labels = json_object_get(b->spec, "labels");
	if (sv(&b->j[J_NAMESPACE]) != NULL &&
	    json_object_get(labels, "namespace") == NULL)
		return import_set_str(import_object_at(b->spec, "labels"),
		    "namespace", sv(&b->j[J_NAMESPACE]));
	return 0;
}

/* Inputs ------------------------------------------------------------ */

static json_t *
bind_new(const char *source, const char *target, int read_only)
{
	return json_pack("{s:s, s:s, s:b}", "source", source, "target", target,
	    "read_only", read_only);
}

/* A target and a name below it, without doubled slashes. */
static int
join(char *buf, size_t len, const char *dir, const char *name)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if ((size_t)snprintf(buf, len, "%.*s/%s", (int)n, dir, name) >= len)
		return error_set(
		    EX_DATAERR, "'%s/%s': path too long", dir, name);
	return 0;
}

/*
 * An input staged at target (art, or NULL for a bind of a host path) and
 * bound there: into the spec, or, when sharded, a candidate for the
 * shards.  Takes art and bind (NULL when out of memory).
 */
static int
put_input(
    struct bac *b, int shard, const char *target, json_t *art, json_t *bind)
{
	json_t *c = shard ? json_object() : b->spec;
	int r = 0;

	/* Each step runs, failed or not: art and bind are taken. */
	if (shard &&
	    (import_set_str(c, "path", target) == -1 ||
		import_set_str(c, "input", b->input) == -1))
		r = -1;
	if (art != NULL && spec_append(import_array_at(c, "inputs"), art) == -1)
		r = -1;
	if (spec_append(import_array_at(c, "binds"), bind) == -1)
		r = -1;
	if (!shard)
		return r;
	if (r == -1) {
		json_decref(c);
		return -1;
	}
	return spec_append(b->cands, c);
}

/* The file an artifact staged at dir/file is, and its bind (read-only,
 * as Bacalhau mounts inputs). */
static int
put_artifact(struct bac *b, int shard, const struct slot *is, const char *url,
    const char *file)
{
	const char *rel = import_relative(file);
	json_t *art = json_object();

	if (art == NULL)
		return oom();
	if (import_set_str(art, "name", sv(&is[I_NAME])) == -1 ||
	    import_set_str(art, "url", url) == -1 ||
	    import_set_str(art, "path", rel) == -1 ||
	    import_set_str(art, "endpoint", sv(&is[I_ENDPOINT])) == -1 ||
	    (sv(&is[I_REGION]) != NULL &&
		import_set_str(import_object_at(art, "credentials"), "region",
		    sv(&is[I_REGION])) == -1)) {
		json_decref(art);
		return -1;
	}
	return put_input(b, shard, file, art, bind_new(rel, file, 1));
}

/* The last name of a URL's path, percent-decoded, as Bacalhau names the
 * file it downloads; "download" when it has none. */
static void
url_file(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url, "://"), *end, *last;
	size_t n = 0;

	p = p != NULL ? p + 3 : url;
	p += strcspn(p, "/?#");
	end = p + strcspn(p, "?#");
	for (last = p; p < end; p++)
		if (*p == '/')
			last = p + 1;
	for (p = last; p < end && n + 1 < len; p++, n++) {
		unsigned int c;
		if (*p == '%' && p + 2 < end + 0 + 1 &&
		    sscanf(p + 1, "%2x", &c) == 1 && c != 0 && c != '/') {
			buf[n] = (char)c;
			p += 2;
		} else
			buf[n] = *p;
	}
	buf[n] = '\0';
	if (n == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		snprintf(buf, len, "download");
}

static int
http_url(const struct slot *s, const char *what)
{
	const char *u = sv(s);

	if (strncasecmp(u, "http://", 7) != 0 &&
	    strncasecmp(u, "https://", 8) != 0)
		return import_bad(
		    s->path, "'%s' is not an http or https %s", u, what);
	return 0;
}

/* URLDownload (and s3PreSigned): the file at target/<its name>. */
static int
input_url(struct bac *b, const char *path, const struct slot *is,
    const char *target, int shard)
{
	char name[256], file[PATHMAX];

	if (sv(&is[I_URL]) == NULL)
		return import_bad(path, "a URLDownload input needs a URL");
	if (http_url(&is[I_URL], "URL") == -1)
		return -1;
	if (sv(&is[I_KEY]) != NULL) /* a pre-signed URL: the object's name */
		url_file(sv(&is[I_KEY]), name, sizeof(name));
	else
		url_file(sv(&is[I_URL]), name, sizeof(name));
	if (b->url_at_path)
		snprintf(file, sizeof(file), "%s", target);
	else if (join(file, sizeof(file), target, name) == -1)
		return error_wrap("%s", path);
	return put_artifact(b, shard, is, sv(&is[I_URL]), file);
}

/* S3: an object at target/<its name>, or every object under a prefix
 * (a key ending in '/') in target. */
static int
input_s3(struct bac *b, const char *path, const struct slot *is,
    const char *target, int shard)
{
	static const int refused[] = {
	    I_VERSION, I_CHECKSUM, I_FILTER, I_PARTITION};
	const char *key = sv(&is[I_KEY]) ? sv(&is[I_KEY]) : "";
	char file[PATHMAX], name[256], *url;
	int r;

	if (sv(&is[I_BUCKET]) == NULL)
		return import_bad(path, "an S3 input needs a Bucket");
	if (strchr(key, '*') != NULL)
		return import_bad(is[I_KEY].path,
		    "key patterns ('%s') are not supported: give a prefix "
		    "ending in '/'",
		    key);
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		if (is[refused[i]].v != NULL && !zero(is[refused[i]].v))
			return import_bad(
			    is[refused[i]].path, "is not supported");
	if (sv(&is[I_ENDPOINT]) != NULL &&
	    http_url(&is[I_ENDPOINT], "endpoint") == -1)
		return -1;
	snprintf(file, sizeof(file), "%s", target);
	if (*key != '\0' && key[strlen(key) - 1] != '/') {
		url_file(key, name, sizeof(name));
		if (join(file, sizeof(file), target, name) == -1)
			return error_wrap("%s", path);
	}
	if (asprintf(&url, "s3://%s/%s", sv(&is[I_BUCKET]), key) == -1)
		return oom();
	r = put_artifact(b, shard, is, url, file);
	free(url);
	return r;
}

/*
 * The entries below a sharded LocalDirectory, each a candidate bound on
 * its own: files and folders, as Bacalhau's sharding lists them.
 */
static int
list_local(struct bac *b, const char *path, const char *src, const char *target,
    int ro, int depth)
{
	char s2[PATHMAX], t2[PATHMAX];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int r = 0;

	if ((d = opendir(src)) == NULL)
		return error_set(errno == ENOENT || errno == ENOTDIR
			? EX_NOINPUT
			: errno == EACCES ? EX_NOPERM
					  : EX_IOERR,
		    "%s: cannot list '%s' to shard it: %s", path, src,
		    strerror(errno));
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (join(s2, sizeof(s2), src, e->d_name) == -1 ||
		    join(t2, sizeof(t2), target, e->d_name) == -1) {
			r = error_wrap("%s", path);
			break;
		}
		if (++b->listed > MAX_LISTED)
			r = import_bad(
			    path, "more than %d entries to shard", MAX_LISTED);
		else
			r = put_input(b, 1, t2, NULL, bind_new(s2, t2, ro));
		if (r == 0 && lstat(s2, &st) == 0 && S_ISDIR(st.st_mode) &&
		    depth < MAX_DEPTH)
			r = list_local(b, path, s2, t2, ro, depth + 1);
	}
	closedir(d);
	return r;
}

/* LocalDirectory: SourcePath bound at the target, read-only unless
 * ReadWrite. */
static int
input_local(struct bac *b, const char *path, const struct slot *is,
    const char *target, int shard)
{
	const char *src = sv(&is[I_SOURCEPATH]);
	int ro = !json_is_true(is[I_READWRITE].v);
	struct stat st;

	if (src == NULL || *src != '/')
		return import_bad(path,
		    "a LocalDirectory input needs an absolute SourcePath");
	if (shard && stat(src, &st) == -1)
		return error_set(errno == EACCES ? EX_NOPERM : EX_NOINPUT,
		    "%s: cannot list '%s' to shard it: %s",
		    is[I_SOURCEPATH].path, src, strerror(errno));
	if (shard && S_ISDIR(st.st_mode))
		return list_local(b, is[I_SOURCEPATH].path, src, target, ro, 0);
	return put_input(b, shard, target, NULL, bind_new(src, target, ro));
}

/* v1: a Source's Params, by its type. */
static int
input_params(struct bac *b, struct slot *is, int kind)
{
	const struct field *t = kind == S_URL ? url_params
	    : kind == S_S3		      ? s3_fields
	    : kind == S_LOCAL		      ? local_params
					      : presigned_params;

	if (is[I_PARAMS].v == NULL)
		return 0;
	return walk(b, is[I_PARAMS].path, is[I_PARAMS].v, t, is);
}

/* One input of either model, read into is. */
static int
input_one(struct bac *b, const char *path, struct slot *is, int v1, int shard)
{
	const struct slot *k[3] = {&is[I_KIND], &is[I_KIND_NAME], NULL};
	const char *target = sv(&is[I_PATH]), *at;
	char t[PATHMAX];
	int kind;

	if (enum_first(k, "storage source", source_names, 5, &kind, &at) == -1)
		return -1;
	if (kind == S_NONE)
		return import_bad(path, "an input needs a %s",
		    v1 ? "Source with a Type" : "StorageSource");
	if (kind == S_LOCAL_ALIAS)
		kind = S_LOCAL;
	if (kind != S_URL && kind != S_S3 && kind != S_LOCAL &&
	    kind != S_S3_PRESIGNED)
		return import_bad(at,
		    "an input from %s cannot be fetched here (URLDownload, "
		    "S3 and LocalDirectory can)",
		    source_names[kind]);
	if (!import_target_ok(target))
		return import_bad(path,
		    "an input needs an absolute %s without "
		    "'..'",
		    v1 ? "Target" : "path");
	snprintf(t, sizeof(t), "%s", target);
	for (size_t n = strlen(t); n > 1 && t[n - 1] == '/'; n--)
		t[n - 1] = '\0';
	if (v1 && input_params(b, is, kind) == -1)
		return -1;
	if (kind == S_S3)
		return input_s3(b, path, is, t, shard);
	if (kind == S_LOCAL)
		return input_local(b, path, is, t, shard);
	return input_url(b, path, is, t, shard);
}

/* inputs, Contexts (never sharded) or InputSources. */
static int
build_inputs(struct bac *b, int slot, int v1, int shard)
{
	const struct slot *s = &b->j[slot];
	struct slot is[I_N];
	char p[PATHMAX];
	json_t *e;
	size_t i;

	json_array_foreach(s->v, i, e)
	{
		memset(is, 0, sizeof(is));
		at_index(p, s->path, i);
		b->input = p;
		if (walk(b, p, e, v1 ? v1_input_fields : storage_fields, is) ==
			-1 ||
		    input_one(b, p, is, v1, shard) == -1)
			return -1;
	}
	return 0;
}

/* Outputs ------------------------------------------------------------ */

struct pub {
	int kind;
	const char *at; /* the path that named it */
	struct slot s[I_N]; /* an S3 publisher's Params */
};

/*
 * An S3 publisher's Key with Bacalhau's placeholders as jobkit's: the
 * job's and task's IDs, "local" for the node; {date} and {time} are the
 * time it was submitted.
 */
static char *
publish_key(const char *key)
{
	static const char *const from[] = {
	    "{jobID}", "{executionID}", "{nodeID}", "{date}", "{time}", NULL};
	char stamp[2][16], *out = NULL;
	const char *to[5] = {"{job}", "{task}", "local", stamp[0], stamp[1]};
	time_t now = time(NULL);
	struct tm tm;
	size_t len = 0;
	FILE *fp;

	gmtime_r(&now, &tm);
	strftime(stamp[0], sizeof(stamp[0]), "%Y%m%d", &tm);
	strftime(stamp[1], sizeof(stamp[1]), "%H%M%S", &tm);
	if ((fp = open_memstream(&out, &len)) == NULL)
		return NULL;
	while (*key != '\0') {
		int i;
		for (i = 0; from[i] != NULL; i++)
			if (strncmp(key, from[i], strlen(from[i])) == 0)
				break;
		if (from[i] != NULL) {
			fputs(to[i], fp);
			key += strlen(from[i]);
		} else
			fputc(*key++, fp);
	}
	if (fclose(fp) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* PublisherSpec (or v1 Publisher), else Publisher, else PublisherName. */
static int
build_publisher(struct bac *b, struct pub *p)
{
	const struct slot *k[3] = {
	    &b->j[J_PTYPE], &b->j[J_PUBLISHER], &b->j[J_PUBLISHER_NAME]};
	const struct slot *params = &b->j[J_PPARAMS];
	char what[128];

	if (enum_first(k, "publisher", publisher_names, 4, &p->kind, &p->at) ==
	    -1)
		return -1;
	if (p->kind != P_S3) {
		if (params->v != NULL &&
		    keep_foreign(b, params->path, params->v) == -1)
			return -1;
		if (p->kind != P_IPFS && p->kind != P_FILECOIN &&
		    p->kind != P_ESTUARY)
			return 0;
		snprintf(what, sizeof(what),
		    "publisher '%s' does not exist here: outputs are kept in "
		    "the task's results folder",
		    publisher_names[p->kind]);
		return differs(b, p->at, what);
	}
	if (params->v == NULL)
		return import_bad(p->at, "an S3 publisher needs Params");
	if (walk(b, params->path, params->v, s3_publisher_fields, p->s) == -1)
		return -1;
	if (sv(&p->s[I_BUCKET]) == NULL)
		return import_bad(
		    params->path, "an S3 publisher needs a Bucket");
	if (sv(&p->s[I_ENDPOINT]) != NULL &&
	    http_url(&p->s[I_ENDPOINT], "endpoint") == -1)
		return -1;
	return 0;
}

/* An output published to S3: the folder under the publisher's Key. */
static int
publish_one(
    struct bac *b, const struct pub *p, const char *name, const char *target)
{
	const char *k = sv(&p->s[I_KEY]);
	char *key, *url;
	json_t *art;
	int r;

	if ((key = publish_key(k != NULL ? k : "")) == NULL)
		return oom();
	r = asprintf(&url, "s3://%s/%s%s%s", sv(&p->s[I_BUCKET]), key,
	    *key != '\0' && key[strlen(key) - 1] != '/' ? "/" : "", name);
	free(key);
	if (r == -1 || (art = json_object()) == NULL) {
		if (r != -1)
			free(url);
		return oom();
	}
	r = import_set_str(art, "name", name);
	if (r == 0)
		r = import_set_str(art, "url", url);
	free(url);
	if (r == -1 ||
	    import_set_str(art, "path", import_relative(target)) == -1 ||
	    import_set_str(art, "endpoint", sv(&p->s[I_ENDPOINT])) == -1 ||
	    (sv(&p->s[I_REGION]) != NULL &&
		import_set_str(import_object_at(art, "credentials"), "region",
		    sv(&p->s[I_REGION])) == -1)) {
		json_decref(art);
		return -1;
	}
	return spec_append(import_array_at(b->spec, "outputs"), art);
}

/* A legacy output's StorageSource, with no publisher to say otherwise:
 * IPFS, Filecoin, Estuary do not exist here. */
static int
output_kind(struct bac *b, const struct pub *p, const struct slot *os)
{
	const struct slot *k[3] = {&os[I_KIND], &os[I_KIND_NAME], NULL};
	char what[128];
	const char *at;
	int kind;

	if (enum_first(k, "storage source", source_names, 5, &kind, &at) == -1)
		return -1;
	if (p->kind != P_NONE ||
	    (kind != S_IPFS && kind != S_FILECOIN && kind != S_ESTUARY &&
		kind != S_FILECOIN_UNSEALED))
		return 0;
	snprintf(what, sizeof(what),
	    "%s outputs do not exist here: they are kept in the task's "
	    "results folder",
	    source_names[kind]);
	return differs(b, at, what);
}

/* One of outputs or ResultPaths: bound from the work directory, and
 * published when the publisher is S3. */
static int
output_one(struct bac *b, const struct pub *p, const char *path,
    const struct slot *os, int v1)
{
	const char *target = sv(&os[I_PATH]), *name = sv(&os[I_NAME]);
	char t[PATHMAX];

	if (!import_target_ok(target) || (v1 && name == NULL))
		return import_bad(path,
		    "a result path needs a Name and an absolute Path without "
		    "'..'");
	snprintf(t, sizeof(t), "%s", target);
	for (size_t n = strlen(t); n > 1 && t[n - 1] == '/'; n--)
		t[n - 1] = '\0';
	if (name == NULL)
		name = strrchr(t, '/') + 1;
	if (!v1 && output_kind(b, p, os) == -1)
		return -1;
	if (json_array_append_new(import_array_at(b->spec, "binds"),
		bind_new(import_relative(t), t, 0)) == -1)
		return oom();
	return p->kind == P_S3 ? publish_one(b, p, name, t) : 0;
}

static int
build_outputs(struct bac *b, int v1)
{
	const struct slot *s = &b->j[J_OUTPUTS];
	struct slot os[I_N];
	struct pub p;
	char path[PATHMAX];
	json_t *e;
	size_t i;

	memset(&p, 0, sizeof(p));
	if (build_publisher(b, &p) == -1)
		return -1;
	json_array_foreach(s->v, i, e)
	{
		memset(os, 0, sizeof(os));
		at_index(path, s->path, i);
		if (walk(b, path, e, v1 ? result_fields : storage_fields, os) ==
			-1 ||
		    output_one(b, &p, path, os, v1) == -1)
			return -1;
	}
	return 0;
}

/* Sharding ----------------------------------------------------------- */

/*
 * A path against a pattern, segment by segment: fnmatch(3) within one
 * ('*', '?', '[...]' never cross a '/'), and a "**" segment for any
 * number of them, as Bacalhau's doublestar matches.
 */
static int
glob_match(const char *pat, const char *s)
{
	char ps[256], ss[256];
	size_t pn, sn;

	pat += strspn(pat, "/");
	s += strspn(s, "/");
	pn = strcspn(pat, "/");
	sn = strcspn(s, "/");
	if (pn == 2 && strncmp(pat, "**", 2) == 0) {
		const char *rest = pat + 2 + strspn(pat + 2, "/");
		if (*rest == '\0')
			return 1;
		for (;; s += sn + 1, sn = strcspn(s, "/")) {
			if (glob_match(rest, s))
				return 1;
			if (s[sn] == '\0')
				return 0;
		}
	}
	if (*pat == '\0' || *s == '\0')
		return *pat == '\0' && *s == '\0';
	if (pn >= sizeof(ps) || sn >= sizeof(ss))
		return 0;
	memcpy(ps, pat, pn);
	ps[pn] = '\0';
	memcpy(ss, s, sn);
	ss[sn] = '\0';
	return fnmatch(ps, ss, 0) == 0 && glob_match(pat + pn, s + sn);
}

/*
 * Bacalhau matches the pattern against the path below the base path;
 * without a base path given (the default is /inputs), an absolute
 * pattern is also tried on the whole path.
 */
static int
shard_match(const char *pat, const char *base, int base_given, const char *path)
{
	size_t n = strlen(base);
	const char *rel = path;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n > 0 && strncmp(path, base, n) == 0 && path[n] == '/')
		rel = path + n;
	if (glob_match(pat, rel))
		return 1;
	return !base_given && *pat == '/' && rel != path &&
	    glob_match(pat, path);
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(
	    json_string_value(json_object_get(*(json_t *const *)a, "path")),
	    json_string_value(json_object_get(*(json_t *const *)b, "path")));
}

static int
by_target(const void *a, const void *b)
{
	return strcmp(
	    json_string_value(json_object_get(*(json_t *const *)a, "target")),
	    json_string_value(json_object_get(*(json_t *const *)b, "target")));
}

/* Sort an array of objects in place (binds by target: a folder bound
 * before what is bound inside it). */
static int
sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(arr), i;
	json_t **v;
	int r = 0;

	if (n < 2)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return oom();
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp);
	json_array_clear(arr);
	/* Every one is taken back, or released, whatever fails. */
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, v[i]) == -1)
			r = -1;
	free(v);
	return r == 0 ? 0 : oom();
}

/* The noop engine runs nothing: nothing is staged for it either. */
static void
no_io(json_t *spec)
{
	json_object_del(spec, "inputs");
	json_object_del(spec, "outputs");
	json_object_del(spec, "binds");
}

/* A copy of what every shard has, with the inputs of m[0..n). */
static json_t *
shard_one(struct bac *b, json_t **m, size_t n)
{
	static const char *const parts[] = {"inputs", "binds"};
	json_t *s = json_deep_copy(b->spec), *e;
	size_t i, j;

	if (s == NULL) {
		oom();
		return NULL;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < 2; j++) {
			json_t *add = json_object_get(m[i], parts[j]);
			size_t k;
			json_array_foreach(add, k, e)
			{
				if (spec_append(import_array_at(s, parts[j]),
					json_deep_copy(e)) == -1)
					goto fail;
			}
		}
	if (spec_set(s, "scratch", json_true()) == -1)
		goto fail;
	if (b->engine == E_NOOP)
		no_io(s);
	if (sort_array(json_object_get(s, "binds"), by_target) == -1)
		goto fail;
	return s;
fail:
	json_decref(s);
	return NULL;
}

/* An input none of whose files the GlobPattern matched is in no shard,
 * as in Bacalhau (Contexts are for what every shard needs): said. */
static const char *
cand_input(json_t *c)
{
	return json_string_value(json_object_get(c, "input"));
}

static int
note_unsharded(struct bac *b)
{
	size_t n = json_array_size(b->cands);
	json_t *c, *next;
	int any = 0;

	/* The candidates of one input are together. */
	for (size_t i = 0; i < n; i++) {
		c = json_array_get(b->cands, i);
		next = json_array_get(b->cands, i + 1);
		any |= json_is_true(json_object_get(c, "matched"));
		if (next != NULL &&
		    strcmp(cand_input(next), cand_input(c)) == 0)
			continue;
		if (!any &&
		    note(b, "%s: matched by no GlobPattern: in no shard",
			cand_input(c)) == -1)
			return -1;
		any = 0;
	}
	return 0;
}

/* The candidates the GlobPattern matches, sorted by path: *mp (to be
 * freed), *np of them, at least one. */
static int
shard_matched(struct bac *b, json_t ***mp, size_t *np)
{
	const struct slot *g = &b->j[J_GLOB], *bp = &b->j[J_BASE];
	const char *base = sv(bp) != NULL ? sv(bp) : "/inputs";
	size_t n = 0, i;
	json_t **m, *e;

	if ((m = calloc(json_array_size(b->cands) + 1, sizeof(*m))) == NULL)
		return oom();
	json_array_foreach(b->cands, i, e)
	{
		if (!shard_match(sv(g), base, bp->v != NULL,
			json_string_value(json_object_get(e, "path"))))
			continue;
		if (json_object_set_new(e, "matched", json_true()) == -1) {
			free(m);
			return oom();
		}
		m[n++] = e;
	}
	if (n == 0) {
		free(m);
		return import_bad(g->path,
		    "'%s' matches none of the %zu inputs below %s", sv(g),
		    json_array_size(b->cands), base);
	}
	qsort(m, n, sizeof(*m), by_path);
	*mp = m;
	*np = n;
	return 0;
}

/* The inputs the GlobPattern matches in batches of BatchSize: one shard
 * each, under one parent. */
static int
build_shards(struct bac *b, json_t **parent)
{
	const struct slot *bs = &b->j[J_BATCH], *c = &b->j[J_CONCURRENCY];
	size_t batch = bs->v != NULL && json_integer_value(bs->v) > 0
	    ? (size_t)json_integer_value(bs->v)
	    : 1; /* as Bacalhau */
	size_t n = 0, i;
	json_t **m = NULL, *shards, *s;

	if (shard_matched(b, &m, &n) == -1)
		return -1;
	if ((n + batch - 1) / batch > MAX_SHARDS) {
		free(m);
		return import_bad(b->j[J_GLOB].path,
		    "'%s' makes more than %d "
		    "shards",
		    sv(&b->j[J_GLOB]), MAX_SHARDS);
	}
	shards = json_array();
	for (i = 0; shards != NULL && i < n; i += batch) {
		s = shard_one(b, m + i, n - i < batch ? n - i : batch);
		if (s == NULL || json_array_append_new(shards, s) == -1) {
			json_decref(shards);
			shards = NULL;
		}
	}
	free(m);
	/* Bacalhau runs every shard at once (its Concurrency is how many
	 * nodes run each): a cap only where the document gives one. */
	if (shards == NULL ||
	    (*parent = json_pack("{s:O, s:o}", "name",
		 json_object_get(b->spec, "name"), "shards", shards)) == NULL ||
	    (c->v != NULL && json_integer_value(c->v) > 0 &&
		json_object_set_new(*parent, "concurrency",
		    json_integer(json_integer_value(c->v))) == -1))
		return oom();
	if (json_object_get(b->spec, "labels") != NULL &&
	    json_object_set(
		*parent, "labels", json_object_get(b->spec, "labels")) == -1)
		return oom();
	return note_unsharded(b);
}

/* Finishing ---------------------------------------------------------- */

/* The record of Bacalhau's own run, which is not kept, in one note. */
static int
note_dropped(struct bac *b)
{
	char list[512];
	size_t n = 0, i;
	json_t *p;

	if (json_array_size(b->dropped) == 0)
		return 0;
	list[0] = '\0';
	json_array_foreach(b->dropped, i, p)
	{
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n,
			    "%s%s", i ? ", " : "", json_string_value(p));
	}
	return note(b, "%s: not kept: Bacalhau's record of its own run", list);
}

/* Deal.Concurrency without shards: how many nodes would run the job. */
static int
note_concurrency(struct bac *b)
{
	const struct slot *c = &b->j[J_CONCURRENCY];

	if (c->v == NULL || json_integer_value(c->v) <= 1)
		return 0;
	if (keep_foreign(b, c->path, c->v) == -1)
		return -1;
	return note(b,
	    "%s: %lld: Bacalhau runs the job on that many nodes at once; here "
	    "it runs once",
	    c->path, (long long)json_integer_value(c->v));
}

/* Does one of the artifacts of arr live on S3? */
static int
any_s3(json_t *arr)
{
	json_t *a;
	size_t i;

	json_array_foreach(arr, i, a)
	{
		const char *u = json_string_value(json_object_get(a, "url"));
		if (u != NULL && strncmp(u, "s3://", 5) == 0)
			return 1;
	}
	return 0;
}

/*
 * A Bacalhau node signs S3 inputs and publishes with its own AWS
 * variables: the worker's, here (worker_env), besides the submitter's
 * ~/.aws.  Only a job of the worker's own user gets them (exec-run(1)).
 */
static int
node_aws(json_t *spec)
{
	static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
	    "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", NULL};
	json_t *we, *v;
	size_t i;

	if (!any_s3(json_object_get(spec, "inputs")) &&
	    !any_s3(json_object_get(spec, "outputs")))
		return 0;
	we = import_array_at(spec, "worker_env");
	for (int k = 0; vars[k] != NULL; k++) {
		int had = 0;
		json_array_foreach(we, i, v)
		{
			const char *s = json_string_value(v);
			if (strncmp(s, vars[k], strlen(vars[k])) == 0 &&
			    (s[strlen(vars[k])] == '\0' ||
				s[strlen(vars[k])] == '='))
				had = 1;
		}
		if (!had &&
		    json_array_append_new(we, json_string(vars[k])) == -1)
			return oom();
	}
	return 0;
}

/* The specs: the job (Count copies), or the parent of its shards. */
static json_t *
finish(struct bac *b, json_int_t count)
{
	json_t *top = NULL, *out = NULL;

	if (b->engine == E_NOOP &&
	    (json_object_get(b->spec, "inputs") != NULL ||
		json_object_get(b->spec, "binds") != NULL ||
		json_array_size(b->cands) > 0) &&
	    note(b,
		"the Noop engine runs nothing: no input or output is "
		"staged") == -1)
		return NULL;
	if (b->engine == E_NOOP)
		no_io(b->spec);
	if (node_aws(b->spec) == -1)
		return NULL;
	if (b->cands != NULL ? build_shards(b, &top) == -1
			     : note_concurrency(b) == -1)
		goto fail;
	if (top == NULL && (top = json_incref(b->spec)) != NULL &&
	    sort_array(json_object_get(top, "binds"), by_target) == -1)
		goto fail;
	if (note_dropped(b) == -1 ||
	    (b->notes_over > 0 &&
		spec_append(b->notes,
		    json_sprintf("and %zu notes more", b->notes_over)) == -1))
		goto fail;
	if ((json_array_size(b->notes) > 0 &&
		json_object_set(top, "notes", b->notes) == -1) ||
	    (json_object_size(b->foreign) > 0 &&
		json_object_set(top, "foreign", b->foreign) == -1) ||
	    (out = json_array()) == NULL) {
		oom();
		goto fail;
	}
	for (json_int_t i = 1; i < count; i++)
		if (spec_append(out, json_deep_copy(top)) == -1)
			goto fail;
	if (spec_append(out, top) == 0)
		return out;
	top = NULL; /* released by spec_append() */
fail:
	json_decref(out);
	json_decref(top);
	return NULL;
}

/* The models --------------------------------------------------------- */

/* Language and Wasm objects of another engine: Go writes them empty. */
static int
keep_unused(struct bac *b, int slot)
{
	const struct slot *s = &b->j[slot];

	return s->v != NULL ? keep_foreign(b, s->path, s->v) : 0;
}

/* The docker engine's Params (V1beta2, v1) or Docker object. */
static int
build_docker(struct bac *b, const char *at)
{
	const struct slot *p = &b->j[J_EPARAMS];

	if (p->v != NULL && walk(b, p->path, p->v, docker_fields, b->j) == -1)
		return -1;
	if (build_container(b, at) == -1 || build_env(b) == -1 ||
	    build_network(b) == -1)
		return -1;
	return 0;
}

/* Docker: a container; Noop: a job that succeeds at once; others are
 * refused. */
static int
build_engine(struct bac *b, const char *at)
{
	const struct slot *p = &b->j[J_EPARAMS];

	if (keep_unused(b, J_LANGUAGE) == -1 || keep_unused(b, J_WASM) == -1)
		return -1;
	if (b->engine == E_DOCKER)
		return build_docker(b, at);
	if (b->engine != E_NOOP)
		return import_bad(at,
		    "a %s engine cannot run here: jobkit runs Docker and Noop "
		    "jobs",
		    engine_names[b->engine]);
	if (p->v != NULL && keep_foreign(b, p->path, p->v) == -1)
		return -1;
	if (json_object_get(b->spec, "name") == NULL &&
	    import_set_str(b->spec, "name", "noop") == -1)
		return -1;
	return spec_set(b->spec, "command", json_pack("[s]", "true"));
}

static int
build_common(struct bac *b, int v1)
{
	if (build_resources(b) == -1 || build_timeout(b) == -1 ||
	    build_selector(b) == -1 ||
	    build_inputs(b, J_INPUTS, v1, b->cands != NULL) == -1 ||
	    build_inputs(b, J_CONTEXTS, 0, 0) == -1 ||
	    build_outputs(b, v1) == -1)
		return -1;
	return 0;
}

/* V1alpha1, V1beta1, V1beta2: a Job with a Spec, or a Spec itself. */
static json_t *
read_legacy(struct bac *b, const char *path, json_t *job)
{
	const struct slot *const k[3] = {
	    &b->j[J_ETYPE], &b->j[J_ENGINE], &b->j[J_ENGINE_NAME]};
	const struct field *t =
	    import_member(job, "Spec", 1) != NULL ? job_fields : spec_fields;
	const char *at;

	if (walk(b, path, job, t, b->j) == -1 ||
	    enum_first(k, "engine", engine_names, 5, &b->engine, &at) == -1 ||
	    keep_foreign(b, b->j[J_API].path, b->j[J_API].v) == -1)
		return NULL;
	/* Before 0.3.2 a URL's file was mounted at the input's path itself;
	 * then in the folder the path names. */
	b->url_at_path = sv(&b->j[J_API]) != NULL &&
	    strcasecmp(sv(&b->j[J_API]), "V1alpha1") == 0;
	if (b->engine == E_NONE && sv(&b->j[J_IMAGE]) != NULL) {
		b->engine = E_DOCKER; /* 0.1's job_spec_docker alone */
		at = b->j[J_IMAGE].path;
	}
	if (b->engine == E_NONE) {
		import_bad(
		    path, "a Bacalhau job needs an Engine (Docker or Noop)");
		return NULL;
	}
	if (sv(&b->j[J_GLOB]) != NULL && (b->cands = json_array()) == NULL) {
		oom();
		return NULL;
	}
	if (build_engine(b, at) == -1 || build_annotations(b) == -1 ||
	    build_common(b, 0) == -1)
		return NULL;
	return finish(b, 1);
}

/* The later model: a Job of Type batch or ops, with one Task. */
static json_t *
read_v1(struct bac *b, const char *path, json_t *job)
{
	const struct slot *ty = &b->j[J_TYPE], *ts = &b->j[J_TASKS],
			  *c = &b->j[J_COUNT];
	const struct slot *const k[3] = {&b->j[J_ETYPE], NULL, NULL};
	char tp[PATHMAX];
	const char *at;

	if (walk(b, path, job, v1_job_fields, b->j) == -1)
		return NULL;
	if (sv(ty) != NULL && strcasecmp(sv(ty), "batch") != 0 &&
	    strcasecmp(sv(ty), "ops") != 0) {
		import_bad(path,
		    "'%s' jobs run until stopped: jobkit runs batch and ops "
		    "jobs",
		    sv(ty));
		return NULL;
	}
	if (c->v != NULL &&
	    (json_integer_value(c->v) < 0 ||
		json_integer_value(c->v) > MAX_COUNT)) {
		import_bad(c->path, "must be from 0 to %d", MAX_COUNT);
		return NULL;
	}
	if (json_array_size(ts->v) != 1) {
		import_bad(path, "a job needs exactly one task in 'Tasks'");
		return NULL;
	}
	at_index(tp, ts->path, 0);
	if (walk(b, tp, json_array_get(ts->v, 0), v1_task_fields, b->j) == -1)
		return NULL;
	if (b->j[J_ETYPE].v == NULL) {
		import_bad(tp, "a task needs an Engine with a Type");
		return NULL;
	}
	if (import_set_str(b->spec, "name", sv(&b->j[J_NAME])) == -1 ||
	    (b->j[J_PRIORITY].v != NULL &&
		json_object_set(b->spec, "priority", b->j[J_PRIORITY].v) ==
		    -1)) {
		oom();
		return NULL;
	}
	if (enum_first(k, "engine", engine_names, 0, &b->engine, &at) == -1 ||
	    build_v1_labels(b) == -1 || build_engine(b, at) == -1 ||
	    build_task_env(b) == -1 || build_common(b, 1) == -1)
		return NULL;
	return finish(b,
	    c->v != NULL && json_integer_value(c->v) > 1
		? json_integer_value(c->v)
		: 1);
}

/* `bacalhau describe` wraps the job in "Job", beside its state. */
static int
unwrap(struct bac *b, json_t **job, char *path)
{
	json_t *v = import_member(*job, "Job", 1);

	if (!json_is_object(v) || import_member(*job, "Tasks", 1) != NULL ||
	    import_member(*job, "Spec", 1) != NULL)
		return 0;
	if (walk(b, "$", *job, wrapper_fields, b->j) == -1)
		return -1;
	*job = b->j[J_JOB].v;
	snprintf(path, PATHMAX, "%s", b->j[J_JOB].path);
	memset(&b->j[J_JOB], 0, sizeof(b->j[J_JOB]));
	return 0;
}

json_t *
import_bacalhau(json_t *doc, const struct import_opts *o)
{
	struct bac *b = calloc(1, sizeof(*b));
	json_t *copy = NULL, *job, *out = NULL;
	char path[PATHMAX] = "$";

	if (b == NULL) {
		oom();
		return NULL;
	}
	b->o = o;
	b->spec = json_object();
	b->foreign = json_object();
	b->notes = json_array();
	b->dropped = json_array();
	if (!json_is_object(doc))
		import_bad("$", "a Bacalhau job must be an object");
	else if (b->spec == NULL || b->foreign == NULL || b->notes == NULL ||
	    b->dropped == NULL || (copy = json_deep_copy(doc)) == NULL)
		oom();
	else if (job = copy, unwrap(b, &job, path) == 0)
		out = import_member(job, "Tasks", 1) != NULL
		    ? read_v1(b, path, job)
		    : read_legacy(b, path, job);
	json_decref(copy);
	json_decref(b->spec);
	json_decref(b->cands);
	json_decref(b->foreign);
	json_decref(b->notes);
	json_decref(b->dropped);
	free(b);
	return out;
}
