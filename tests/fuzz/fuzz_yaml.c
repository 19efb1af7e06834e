/*
 * fuzz_yaml.c - cairn_yaml_load under both profiles, with default and with
 * tiny limits (every limit path must fail cleanly, never crash or grow);
 * whatever loads is emitted with cairn_yaml_emit_stream and, when that
 * succeeds, loaded again: the documents must be equal, otherwise
 * abort(). Errors must carry a known code and, for input errors, a line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc)
{
	const cairn_error *e = cairn_error_last();

	if (rc != CAIRN_EINVAL && rc != CAIRN_ELIMIT && rc != CAIRN_ENOMEM)
		abort();
	if (e->code != rc || e->message[0] == '\0')
		abort();
	if (rc != CAIRN_ENOMEM && e->line < 1)
		abort();
}

/* json_equal, except that keys may hold NUL bytes (YAML's "\0"), which
 * jansson's own comparison looks up as C strings. Depth is bounded by the
 * loader's nesting limit. */
static int same(const json_t *a, const json_t *b)
{
	size_t i;
	void *it;

	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (!json_is_object(a))
		return json_equal(a, b);
	if (json_object_size(a) != json_object_size(b))
		return 0;
	for (it = json_object_iter((json_t *)a); it != NULL;
	     it = json_object_iter_next((json_t *)a, it)) {
		const json_t *other =
		        json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
		if (other == NULL || !same(json_object_iter_value(it), other))
			return 0;
	}
	return 1;
}

/* Emit `docs` and load the text again under the same options. */
static void round_trip(const json_t *docs, const cairn_yaml_opts *o)
{
	cairn_buf out = CAIRN_BUF_INIT(64 << 20);
	json_t *again = NULL;

	if (cairn_yaml_emit_stream(&out, docs) < 0)
		goto out;
	if (cairn_yaml_load(&again, NULL, out.ptr ? out.ptr : "", out.len, "emitted.yaml", o) < 0)
		abort();
	/* An empty stream and a stream of one null document print alike. */
	if (!same(docs, again) &&
	    !(json_array_size(docs) == 1 && json_is_null(json_array_get(docs, 0)) &&
	      json_array_size(again) == 0))
		abort();
out:
	json_decref(again);
	cairn_buf_dispose(&out);
}

static void one(const uint8_t *data, size_t size, const cairn_yaml_opts *o, int emit)
{
	json_t *docs = NULL;
	cairn_yaml_marks *marks = NULL;
	int rc = cairn_yaml_load(&docs, emit ? NULL : &marks, (const char *)data, size, "fuzz.yaml",
	                         o);

	if (rc < 0) {
		check_error(rc);
		return;
	}
	if (marks != NULL) {
		int line, col;
		if (cairn_yaml_marks_count(marks) != json_array_size(docs))
			abort();
		if (json_array_size(docs) > 0 &&
		    cairn_yaml_marks_lookup(marks, 0, "/x/0", &line, &col) == 0 &&
		    (line < 1 || col < 1))
			abort();
	}
	if (emit)
		round_trip(docs, o);
	cairn_yaml_marks_free(marks);
	json_decref(docs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	cairn_yaml_opts tiny = CAIRN_YAML_OPTS_INIT;

	one(data, size, &o, 1);
	o.profile = CAIRN_YAML_KUBECTL;
	one(data, size, &o, 1);
	tiny.max_input_bytes = 4096;
	tiny.max_scalar_bytes = 16;
	tiny.max_depth = 4;
	tiny.max_documents = 3;
	tiny.max_nodes = 64;
	tiny.max_alias_ratio = 1;
	one(data, size, &tiny, 0);
	return 0;
}
