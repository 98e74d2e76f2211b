/*
 * Unit tests of the Bacalhau reader (libcommon/import-bacalhau.c): the
 * specs import_specs() makes of a document of each model, before
 * job-submit normalizes them.  argv[1] is tests/data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "import.h"
#include "tap.h"

static const char *data = "tests/data";

static json_t *
load(const char *name)
{
	char path[1024];
	json_error_t e;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/%s", data, name);
	if ((doc = json_load_file(path, 0, &e)) == NULL)
		printf("# %s: %s\n", path, e.text);
	return doc;
}

/* The specs of doc (stolen), or NULL with the error in buf. */
static json_t *
specs_of(json_t *doc, int strict, char *buf, size_t len)
{
	struct import_opts o = {.strict = strict};
	json_t *specs = import_specs(IMPORT_BACALHAU, doc, &o);

	json_decref(doc);
	if (specs == NULL)
		snprintf(buf, len, "error %d: %s", error_status(), error_msg());
	return specs;
}

/* Spec i's field as compact JSON, "-" when absent, or the error. */
static const char *
field(json_t *doc, size_t i, const char *name)
{
	static char buf[4096];
	json_t *specs = specs_of(doc, 0, buf, sizeof(buf)), *v;
	char *d;

	if (specs == NULL)
		return buf;
	v = json_object_get(json_array_get(specs, i), name);
	d = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	snprintf(buf, sizeof(buf), "%s", d ? d : "-");
	free(d);
	json_decref(specs);
	return buf;
}

static const char *
error_of(const char *doc, int strict)
{
	static char buf[1024];
	json_t *specs =
	    specs_of(json_loads(doc, 0, NULL), strict, buf, sizeof(buf));

	if (specs != NULL)
		snprintf(buf, sizeof(buf), "no error");
	json_decref(specs);
	return buf;
}

static const char *
inline_field(const char *doc, const char *name)
{
	return field(json_loads(doc, 0, NULL), 0, name);
}

static void
test_v1beta1(void)
{
	const char *f = "bacalhau-v1beta1.json";

	is_str(field(load(f), 0, "container"),
	    "{\"image\":\"ubuntu:22.04\",\"entrypoint\":[\"sh\",\"-c\",\"wc -w "
	    "/inputs/words.txt > /outputs/count\"],\"workdir\":\"/inputs\"}",
	    "v1beta1: Docker is the container, Entrypoint its whole command");
	is_str(field(load(f), 0, "command"), "-",
	    "v1beta1: no command beside the entrypoint");
	is_str(field(load(f), 0, "env"),
	    "{\"LANG\":\"C.UTF-8\",\"MODE\":\"fast\"}",
	    "v1beta1: EnvironmentVariables are the env");
	is_str(field(load(f), 0, "resources"),
	    "{\"cpu\":\"500m\",\"gpu\":1,\"memory\":1000000000,"
	    "\"disk\":3000000000}",
	    "v1beta1: resources, sizes as go-humanize reads them");
	is_str(field(load(f), 0, "timeout"), "1800", "v1beta1: Timeout");
	is_str(field(load(f), 0, "network"), "\"none\"",
	    "v1beta1: no network unless asked, as Bacalhau");
	is_str(field(load(f), 0, "labels"),
	    "{\"project\":\"demo\",\"nightly\":\"\"}",
	    "v1beta1: Annotations are labels, a bare word with no value");
	is_str(field(load(f), 0, "selector"),
	    "[{\"key\":\"zone\",\"operator\":\"in\",\"values\":[\"a\",\"b\"]}]",
	    "v1beta1: NodeSelectors are the selector");
	is_str(field(load(f), 0, "inputs"),
	    "[{\"name\":\"words\",\"url\":\"https://example.com/data/"
	    "words.txt\",\"path\":\"inputs/words.txt\"}]",
	    "v1beta1: a URL's file is staged in its path's folder");
	is_str(field(load(f), 0, "binds"),
	    "[{\"source\":\"inputs/words.txt\",\"target\":\"/inputs/"
	    "words.txt\",\"read_only\":true},{\"source\":\"outputs\","
	    "\"target\":\"/outputs\",\"read_only\":false}]",
	    "v1beta1: inputs bound read-only, outputs writable");
	is_str(field(load(f), 0, "foreign"),
	    "{\"$.ClientID\":\"ac13188e93c97a9c2e7cf8e86c7313156a73436036f30da1"
	    "ececc2ce79f9ea51\",\"$.Spec.Verifier\":\"Deterministic\",\"$."
	    "Spec.DoNotTrack\":true,\"$.Deal.Confidence\":2,\"$.Deal."
	    "MinBids\":3,\"$.APIVersion\":\"V1beta1\"}",
	    "v1beta1: what means nothing here is kept by its path");
	is_str(field(load(f), 0, "notes"), "-",
	    "v1beta1: a noop publisher needs no note");
	is_str(field(load(f), 0, "scratch"), "true",
	    "v1beta1: runs in a fresh folder");
}

static void
test_shapes(void)
{
	is_str(field(load("bacalhau-spec.json"), 0, "inputs"),
	    "[{\"name\":\"a\",\"url\":\"s3://datasets/csv/a.csv\",\"path\":"
	    "\"inputs/a.csv\",\"endpoint\":\"http://127.0.0.1:9000\","
	    "\"credentials\":{\"region\":\"eu-west-1\"}}]",
	    "bare spec: an S3 input with its endpoint and region");
	is_str(field(load("bacalhau-spec.json"), 0, "network"), "\"full\"",
	    "bare spec: Network Full");
	is_str(field(load("bacalhau-flat.json"), 0, "inputs"),
	    "[{\"url\":\"https://example.com/raw/foo_data.txt\",\"path\":"
	    "\"app/foo_data_1.txt\"}]",
	    "flat v1alpha1: a URL's file is its path, as before 0.3.2");
	is_str(field(load("bacalhau-flat.json"), 0, "env"),
	    "{\"GREETING\":\"hi\"}", "flat: job_spec_docker.env");
	is_str(field(load("bacalhau-flat.json"), 0, "notes"),
	    "[\"$.publisher_name: publisher 'IPFS' does not exist here: "
	    "outputs are kept in the task's results folder\"]",
	    "flat: an IPFS publisher is a note");
	is_str(field(load("bacalhau-v1beta2.json"), 0, "container"),
	    "{\"image\":\"alpine:3.19\",\"entrypoint\":[\"sh\",\"-c\"],"
	    "\"workdir\":\"/work\"}",
	    "v1beta2: EngineSpec Params");
	is_str(field(load("bacalhau-v1beta2.json"), 0, "command"),
	    "[\"ls -l /inputs > /outputs/listing\"]",
	    "v1beta2: Parameters are the command");
	is_str(field(load("bacalhau-v1beta2.json"), 0, "outputs"),
	    "[{\"name\":\"outputs\",\"url\":\"s3://results/runs/{job}/{task}/"
	    "outputs\",\"path\":\"outputs\",\"endpoint\":\"http://127.0.0.1:"
	    "9000\",\"credentials\":{\"region\":\"us-east-1\"}}]",
	    "v1beta2: an S3 PublisherSpec, placeholders as jobkit's");
	is_str(field(load("bacalhau-v1beta2.json"), 0, "binds"),
	    "[{\"source\":\"inputs\",\"target\":\"/inputs\",\"read_only\":"
	    "true},{\"source\":\"/srv/models\",\"target\":\"/models\","
	    "\"read_only\":true},{\"source\":\"outputs\",\"target\":\"/"
	    "outputs\",\"read_only\":false}]",
	    "v1beta2: an S3 prefix in its folder, a LocalDirectory bound");
	is_str(field(load("bacalhau-v1beta2.json"), 0, "notes"),
	    "[\"$.Spec.Network.Type: the job gets the full network: HTTP "
	    "networking cannot be limited here to example.com\"]",
	    "v1beta2: HTTP networking is the full network, said");
	is_str(field(load("bacalhau-wrapped.json"), 0, "notes"),
	    "[\"$.Job.Spec.Publisher: publisher 'Estuary' does not exist here: "
	    "outputs are kept in the task's results folder\",\"$.JobState, "
	    "$.JobEvents: not kept: Bacalhau's record of its own run\"]",
	    "wrapped: describe output; its run record is said to be dropped");
	is_str(field(load("bacalhau-wrapped.json"), 0, "foreign"),
	    "{\"$.Job.ID\":\"92d5d4ee-3765-"
	    "4f78-8353-623f5f26df08\",\"$.Job.RequesterNodeID\":\"QmXaXu9N5GNe"
	    "tatsvwnTfQqNtSeKAD6uCmarbh3LMRYAcF\",\"$.Job.ClientID\":\"ac13188"
	    "e93c97a9c2e7cf8e86c7313156a73436036f30da1ececc2ce79f9ea51\",\"$."
	    "Job.Spec.Verifier\":\"Noop\",\"$.Job.ExecutionPlan\":{\"Shards"
	    "Total\":1},\"$.Job.CreatedAt\":\"2022-11-17T13:29:01.871140291Z\","
	    "\"$.Job.APIVersion\":\"V1beta1\"}",
	    "wrapped: empty Language and Wasm are not kept, the rest is");
	is_str(field(load("bacalhau-noop.json"), 0, "command"), "[\"true\"]",
	    "noop: a job that succeeds at once");
	is_str(field(load("bacalhau-noop.json"), 0, "container"), "-",
	    "noop: no container");
}

static void
test_v1(void)
{
	const char *f = "bacalhau-job.json";
	json_t *specs;
	char err[256];

	specs = specs_of(load(f), 0, err, sizeof(err));
	ok(json_array_size(specs) == 2, "v1: Count 2 is two specs");
	json_decref(specs);
	is_str(field(load(f), 1, "container"),
	    "{\"image\":\"python:3.11-slim\",\"entrypoint\":[\"python\",\"/"
	    "code/wc.py\"],\"workdir\":\"/code\"}",
	    "v1: the engine's Params");
	is_str(field(load(f), 0, "command"), "[\"/inputs/data.txt\",\"it's\"]",
	    "v1: Parameters are the command");
	is_str(field(load(f), 0, "env"),
	    "{\"MODE\":\"fast\",\"LOG_LEVEL\":\"debug\"}",
	    "v1: EnvironmentVariables and Env");
	is_str(field(load(f), 0, "worker_env"),
	    "[\"HOST_TOKEN\",\"AWS_ACCESS_KEY_ID\",\"AWS_SECRET_ACCESS_KEY\","
	    "\"AWS_SESSION_TOKEN\",\"AWS_REGION\",\"AWS_DEFAULT_REGION\","
	    "\"AWS_PROFILE\",\"AWS_ENDPOINT_URL\"]",
	    "v1: an env:VAR of Env is the worker's variable, and with s3 "
	    "inputs so are the node's AWS variables");
	is_str(field(load(f), 0, "selector"),
	    "[{\"key\":\"Architecture\",\"operator\":\"=\",\"values\":["
	    "\"amd64\"]}]",
	    "v1: Constraints are the selector");
	is_str(field(load(f), 0, "binds"),
	    "[{\"source\":\"/srv/cfg\",\"target\":\"/cfg\",\"read_only\":"
	    "false},{\"source\":\"code/wc.py\",\"target\":\"/code/wc.py\","
	    "\"read_only\":true},{\"source\":\"inputs/data.txt\",\"target\":"
	    "\"/inputs/data.txt\",\"read_only\":true},{\"source\":\"outputs\","
	    "\"target\":\"/outputs\",\"read_only\":false}]",
	    "v1: a ReadWrite local input is a writable bind");
	is_str(field(load(f), 0, "foreign"),
	    "{\"$.Meta\":{\"owner\":\"alice\"},\"$.Tasks[0].Name\":\"main\","
	    "\"$.Tasks[0].Timeouts.QueueTimeout\":300,\"$.Tasks[0].Timeouts."
	    "TotalTimeout\":1800}",
	    "v1: a timeout not taken is kept");
}

/* The sharded document, its input the folder dir, its GlobPattern pat. */
static json_t *
sharded(const char *dir, const char *pat)
{
	json_t *doc = load("bacalhau-sharded.json"), *spec;

	spec = json_object_get(doc, "Spec");
	json_object_set_new(json_array_get(json_object_get(spec, "inputs"), 0),
	    "SourcePath", json_string(dir));
	json_object_set_new(
	    json_object_get(spec, "Sharding"), "GlobPattern", json_string(pat));
	return doc;
}

static void
touch(const char *dir, const char *name)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
}

/* A folder of ten files and one below, to shard. */
static void
test_sharding(void)
{
	char dir[] = "/tmp/jobkit-bacalhau.XXXXXX", name[64], err[512];
	json_t *specs, *shards, *s;
	size_t i, n = 0;

	if (mkdtemp(dir) == NULL)
		return;
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "f%zu.txt", i);
		touch(dir, name);
	}
	snprintf(name, sizeof(name), "%s/sub", dir);
	mkdir(name, 0700);
	touch(name, "x.csv");
	specs = specs_of(sharded(dir, "*.txt"), 0, err, sizeof(err));
	shards = json_object_get(json_array_get(specs, 0), "shards");
	ok(json_array_size(specs) == 1 && json_array_size(shards) == 4,
	    "sharding: one parent of 4 shards for 10 files in batches of 3");
	ok(json_integer_value(
	       json_object_get(json_array_get(specs, 0), "concurrency")) == 2,
	    "sharding: Deal.Concurrency caps the shards running");
	json_array_foreach(shards, i, s) n =
	    n * 10 + json_array_size(json_object_get(s, "binds")) - 1;
	ok(n == 3331, "sharding: 3, 3, 3 and 1 files, each bound (%zu)", n);
	s = json_array_get(shards, 3);
	is_str(json_string_value(json_object_get(
		   json_array_get(json_object_get(s, "binds"), 1), "target")),
	    "/inputs/f9.txt", "sharding: the last shard has the last file");
	ok(json_array_size(json_object_get(s, "inputs")) == 1,
	    "sharding: Contexts go to every shard");
	json_decref(specs);
	specs = specs_of(sharded(dir, "/**/*.csv"), 0, err, sizeof(err));
	shards = json_object_get(json_array_get(specs, 0), "shards");
	is_str(json_string_value(json_object_get(
		   json_array_get(
		       json_object_get(json_array_get(shards, 0), "binds"), 1),
		   "target")),
	    "/inputs/sub/x.csv", "sharding: ** crosses folders, as doublestar");
	json_decref(specs);
	specs = specs_of(sharded(dir, "*.png"), 0, err, sizeof(err));
	is_str(err,
	    "error 65: $.Spec.Sharding.GlobPattern: '*.png' matches none of "
	    "the 12 inputs below /inputs",
	    "sharding: a pattern matching nothing");
	snprintf(name, sizeof(name), "rm -rf '%s'", dir);
	if (system(name) != 0)
		printf("# could not remove %s\n", dir);
	specs = specs_of(sharded(dir, "*.txt"), 0, err, sizeof(err));
	ok(specs == NULL && error_status() == EX_NOINPUT,
	    "sharding: a folder that is not there (%s)", err);
}

static void
test_refused(void)
{
	const char *spec = "{\"Spec\":{\"Engine\":\"docker\",\"Docker\":{"
			   "\"Image\":\"a\"},%s}}";
	char doc[1024];

	is_str(field(load("bacalhau-ipfs.json"), 0, "inputs"),
	    "error 65: $.Spec.inputs[0].StorageSource: an input from IPFS "
	    "cannot be fetched here (URLDownload, S3 and LocalDirectory can)",
	    "an IPFS input is refused, its path named");
	is_str(error_of("{\"Spec\":{\"Engine\":\"wasm\"}}", 0),
	    "error 65: $.Spec.Engine: a Wasm engine cannot run here: jobkit "
	    "runs Docker and Noop jobs",
	    "a Wasm engine is refused");
	is_str(error_of("{\"Spec\":{\"Engine\":\"Docker\",\"Publisher\":"
			"\"ipfs\",\"Docker\":{\"Image\":\"a\"}}}",
		   1),
	    "error 65: $.Spec.Publisher: publisher 'IPFS' does not exist "
	    "here: outputs are kept in the task's results folder (refused: "
	    "--strict)",
	    "strict: an IPFS publisher is refused");
	is_str(error_of("{\"engine\":2,\"job_spec_docker\":{\"image\":\"a\"},"
			"\"inputs\":[{\"engine\":4,\"path\":\"/i\"}]}",
		   0),
	    "error 65: $.inputs[0].engine: an input from Filecoin cannot be "
	    "fetched here (URLDownload, S3 and LocalDirectory can)",
	    "numbered enums, as Bacalhau wrote them before 0.2.6");
	is_str(error_of("{\"Engine\":9}", 0),
	    "error 65: $.Engine: 9 is not the number of a Bacalhau engine (1 "
	    "to 5, as Bacalhau wrote them before 0.2.6)",
	    "a number out of the enum");
	snprintf(doc, sizeof(doc), spec, "\"Turbo\":true");
	is_str(error_of(doc, 0), "error 65: $.Spec.Turbo: unknown field",
	    "an unknown field is refused");
	snprintf(doc, sizeof(doc), spec, "\"JobSpecDocker\":{\"Image\":\"b\"}");
	is_str(error_of(doc, 0),
	    "error 65: $.Spec.JobSpecDocker.Image: given twice: also as "
	    "'$.Spec.Docker.Image'",
	    "two different values for one field");
	snprintf(doc, sizeof(doc), spec,
	    "\"inputs\":[{\"StorageSource\":"
	    "\"s3\",\"S3\":{\"Bucket\":\"b\","
	    "\"Key\":\"x/*.csv\"},\"path\":\"/i\"}]");
	is_str(error_of(doc, 0),
	    "error 65: $.Spec.inputs[0].S3.Key: key patterns ('x/*.csv') are "
	    "not supported: give a prefix ending in '/'",
	    "an S3 key pattern");
	snprintf(doc, sizeof(doc), spec,
	    "\"NodeSelectors\":[{\"Key\":\"k\",\"Operator\":\"~\"}]");
	is_str(error_of(doc, 0),
	    "error 65: $.Spec.NodeSelectors[0].Operator: a selector needs an "
	    "Operator: =, ==, !=, in, notin, exists, !, gt or lt",
	    "a selector operator");
	is_str(error_of(
		   "{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\","
		   "\"Params\":{\"Image\":\"a\"}},\"Env\":{\"A\":\"env:B\"}}]}",
		   0),
	    "no error", "v1: a worker's variable under another name is read");
	is_str(error_of("{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\","
			"\"Params\":{\"Image\":\"a\",\"EnvironmentVariables\":"
			"[\"1X=y\"]}}}]}",
		   0),
	    "error 65: $.Tasks[0].Engine.Params.EnvironmentVariables[0]: '1X' "
	    "does not name a variable",
	    "a variable's name is checked");
	is_str(error_of("[]", 0),
	    "error 65: $: a Bacalhau job must be an object", "not an object");
}

static void
test_values(void)
{
	const char *t = "{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\","
			"\"Params\":{\"Image\":\"img\"}},\"Resources\":%s}]}";
	char doc[512];

	snprintf(doc, sizeof(doc), t, "{\"Memory\":\"1.5 GB\",\"CPU\":2}");
	is_str(inline_field(doc, "resources"),
	    "{\"cpu\":\"2\",\"memory\":1500000000}",
	    "1.5 GB; a number where a string belongs is its text");
	snprintf(doc, sizeof(doc), t, "{\"Memory\":\"\",\"GPU\":\"0\"}");
	is_str(inline_field(doc, "resources"), "-",
	    "empty and zero amounts are no request");
	snprintf(doc, sizeof(doc), t, "{\"GPU\":\"1.5\"}");
	is_str(inline_field(doc, "resources"),
	    "error 65: $.Tasks[0].Resources.GPU: '1.5' is not a number of GPUs",
	    "a fraction of a GPU");
	is_str(inline_field("{\"Spec\":{\"Engine\":\"docker\",\"Docker\":{"
			    "\"Image\":\"a\",\"Entrypoint\":[\"x\",10,true]},"
			    "\"Network\":{\"Type\":\"none\"}}}",
		   "container"),
	    "{\"image\":\"a\",\"entrypoint\":[\"x\",\"10\",\"true\"]}",
	    "YAML scalars in a list of strings are their text");
	is_str(inline_field("{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\","
			    "\"Params\":{\"Image\":\"a\"}},\"Publisher\":{"
			    "\"Type\":\"s3\",\"Params\":{\"Bucket\":\"b\","
			    "\"Key\":\"k/{jobID}-{nodeID}\"}},\"ResultPaths\":"
			    "[{\"Name\":\"o\",\"Path\":\"/o/\"}]}]}",
		   "outputs"),
	    "[{\"name\":\"o\",\"url\":\"s3://b/k/{job}-local/o\",\"path\":"
	    "\"o\"}]",
	    "v1: an S3 publisher's key, {nodeID} as local");
}

/* What a spec holds of notes: 100 at most, control characters shown. */
static void
test_notes(void)
{
	json_t *doc = json_loads("{\"Spec\":{\"Engine\":\"docker\",\"Docker\":"
				 "{\"Image\":\"a\"},\"outputs\":[]}}",
	    0, NULL);
	json_t *outs = json_object_get(json_object_get(doc, "Spec"), "outputs");
	json_t *specs, *notes;
	char path[32];

	for (int i = 0; i < 150; i++) {
		snprintf(path, sizeof(path), "/o%d", i);
		json_array_append_new(outs,
		    json_pack(
			"{s:s, s:s}", "StorageSource", "IPFS", "path", path));
	}
	specs = import_specs(IMPORT_BACALHAU, doc, NULL);
	json_decref(doc);
	notes = json_object_get(json_array_get(specs, 0), "notes");
	ok(json_array_size(notes) == 100, "notes: 100 at most");
	is_str(json_string_value(json_array_get(notes, 99)),
	    "and 51 notes more", "notes: the rest counted");
	json_decref(specs);
	is_str(inline_field("{\"Spec\":{\"Engine\":\"docker\",\"Docker\":{"
			    "\"Image\":\"a\"},\"Network\":{\"Type\":\"http\","
			    "\"Domains\":[\"a.org\\nb\"]}}}",
		   "notes"),
	    "[\"$.Spec.Network.Type: the job gets the full network: HTTP "
	    "networking cannot be limited here to a.org?b\"]",
	    "notes: a control character of the document shown as ?");
	is_str(
	    inline_field("{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\","
			 "\"Params\":{\"Image\":\"a\"}},\"InputSources\":[{"
			 "\"Source\":{\"Type\":\"localDirectory\",\"Params\":"
			 "{\"SourcePath\":\"/d\",\"ReadWrite\":\"yes\"}},"
			 "\"Target\":\"/d\"}]}]}",
		"binds"),
	    "[{\"source\":\"/d\",\"target\":\"/d\",\"read_only\":false}]",
	    "YAML 1.1's yes is true");
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		data = argv[1];
	test_v1beta1();
	test_shapes();
	test_v1();
	test_sharding();
	test_refused();
	test_values();
	test_notes();
	return done_testing();
}
