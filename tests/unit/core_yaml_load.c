/*
 * core_yaml_load.c - the YAML loader: scalar tables (from what kubectl and
 * kustomize printed, see data/yaml/ORACLE.md), structure, merge keys,
 * duplicate keys, limits, errors with file:line:col, marks.
 */
#include <jansson.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/yaml.h"
#include "testutil.h"

/* Load `text` with `profile`; returns the documents or NULL (error set). */
static json_t *load(const char *text, cairn_yaml_profile profile)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	json_t *docs = NULL;

	o.profile = profile;
	if (cairn_yaml_load(&docs, NULL, text, strlen(text), "t.yaml", &o) < 0)
		return NULL;
	return docs;
}

static void assert_loads_as(const char *yaml, const char *json, cairn_yaml_profile profile)
{
	json_t *docs = load(yaml, profile);
	json_t *want = json_loads(json, JSON_DECODE_ANY, NULL);
	char *got;

	ck_assert_msg(docs != NULL, "'%s' failed: %s", yaml, cairn_error_last()->message);
	ck_assert_msg(want != NULL, "bad expectation '%s'", json);
	got = json_dumps(docs, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(docs, want), "'%s' (profile %d): got %s, want %s", yaml,
	              (int)profile, got, json);
	free(got);
	json_decref(docs);
	json_decref(want);
}

/* Expect an error `code` at line:col whose message contains `needle`. */
static void assert_fails(const char *yaml, const cairn_yaml_opts *o, int code, int line, int col,
                         const char *needle)
{
	json_t *docs = NULL;
	int rc = cairn_yaml_load(&docs, NULL, yaml, strlen(yaml), "t.yaml", o);

	ck_assert_msg(rc == code, "'%s': rc %d, want %d (%s)", yaml, rc, code,
	              cairn_error_last()->message);
	ck_assert_ptr_null(docs);
	ck_assert_str_eq(cairn_error_last()->file, "t.yaml");
	ck_assert_int_eq(cairn_error_last()->line, line);
	ck_assert_int_eq(cairn_error_last()->column, col);
	ck_assert_error_contains(needle);
}

/*
 * The scalar table: plain scalar -> JSON value under each profile. Written
 * from `kubectl kustomize` (kustomize v5.5.0) and `kubectl annotate --local
 * -o json` (kubectl v1.32.4) output; see data/yaml/ORACLE.md. Where a tool
 * printed an integer beyond int64 the expectation is the nearest double,
 * because jansson holds no wider integer.
 */
static const struct {
	const char *in, *kustomize, *kubectl;
} scalars[] = {
        {"on", "\"on\"", "true"},
        {"off", "\"off\"", "false"},
        {"yes", "\"yes\"", "true"},
        {"no", "\"no\"", "false"},
        {"y", "\"y\"", "true"},
        {"n", "\"n\"", "false"},
        {"Y", "\"Y\"", "true"},
        {"N", "\"N\"", "false"},
        {"Yes", "\"Yes\"", "true"},
        {"YES", "\"YES\"", "true"},
        {"On", "\"On\"", "true"},
        {"ON", "\"ON\"", "true"},
        {"Off", "\"Off\"", "false"},
        {"OFF", "\"OFF\"", "false"},
        {"No", "\"No\"", "false"},
        {"NO", "\"NO\"", "false"},
        {"true", "true", "true"},
        {"false", "false", "false"},
        {"True", "true", "true"},
        {"TRUE", "true", "true"},
        {"False", "false", "false"},
        {"FALSE", "false", "false"},
        {"tRUE", "\"tRUE\"", "\"tRUE\""},
        {"null", "null", "null"},
        {"Null", "null", "null"},
        {"NULL", "null", "null"},
        {"~", "null", "null"},
        {"", "null", "null"},
        {"\"\"", "\"\"", "\"\""},
        {"0777", "511", "511"},
        {"00777", "511", "511"},
        {"-0777", "-511", "-511"},
        {"+0777", "511", "511"},
        {"0o17", "15", "15"},
        {"0O17", "15", "15"},
        {"0o777", "511", "511"},
        {"-0o17", "-15", "-15"},
        {"0x1F", "31", "31"},
        {"0x1f", "31", "31"},
        {"0X1F", "31", "31"},
        {"-0x1F", "-31", "-31"},
        {"+0x1F", "31", "31"},
        {"0x_1F", "31", "31"},
        {"0xFF_FF", "65535", "65535"},
        {"0b101", "5", "5"},
        {"0B101", "5", "5"},
        {"-0b101", "-5", "-5"},
        {"0b2", "\"0b2\"", "\"0b2\""},
        {"0x", "\"0x\"", "\"0x\""},
        {"0o", "\"0o\"", "\"0o\""},
        {"0x1G", "\"0x1G\"", "\"0x1G\""},
        {"0x1p3", "\"0x1p3\"", "\"0x1p3\""},
        {"1e3", "1000", "1000"},
        {"1E3", "1000", "1000"},
        {"1e+3", "1000", "1000"},
        {"1.5e3", "1500", "1500"},
        {"12e03", "12000", "12000"},
        {"0.1e1", "1", "1"},
        {"-.5e3", "-500", "-500"},
        {"1e-3", "0.001", "0.001"},
        {"1E-3", "0.001", "0.001"},
        {"1e", "\"1e\"", "\"1e\""},
        {"1e3.5", "\"1e3.5\"", "\"1e3.5\""},
        {"1e20", "1e20", "1e20"},
        {"-1e20", "-1e20", "-1e20"},
        {"1.5e300", "1.5e300", "1.5e300"},
        {"1e400", "\"1e400\"", "\"1e400\""},
        {"-1e400", "\"-1e400\"", "\"-1e400\""},
        {"1e-400", "0", "0"},
        {"4.9e-324", "5e-324", "5e-324"},
        {"+1", "1", "1"},
        {"-1", "-1", "-1"},
        {"+", "\"+\"", "\"+\""},
        {".", "\".\"", "\".\""},
        {"+.", "\"+.\"", "\"+.\""},
        {".5", "0.5", "0.5"},
        {"-.5", "-0.5", "-0.5"},
        {"+.5", "0.5", "0.5"},
        {".5_0", "0.5", "0.5"},
        {"._5", "\"._5\"", "\"._5\""},
        {"1_000", "1000", "1000"},
        {"1_0.5", "10.5", "10.5"},
        {"1__0", "10", "10"},
        {"1_", "1", "1"},
        {"1.5_", "1.5", "1.5"},
        {"1_2", "12", "12"},
        {"0_7", "7", "7"},
        {"685.230_15e+03", "685230.15", "685230.15"},
        {"6.8523015e+5", "685230.15", "685230.15"},
        {"+1_000.5E+2", "100050", "100050"},
        {"9223372036854775807", "9223372036854775807", "9223372036854775807"},
        {"9223372036854775808", "9223372036854775808.0", "9223372036854775808.0"},
        {"-9223372036854775808", "-9223372036854775808", "-9223372036854775808"},
        {"18446744073709551616", "1.8446744073709552e19", "1.8446744073709552e19"},
        {"0xFFFFFFFFFFFFFFFF", "1.8446744073709552e19", "1.8446744073709552e19"},
        {"0x10000000000000000", "\"0x10000000000000000\"", "\"0x10000000000000000\""},
        {"123456789012345678901234567890", "1.2345678901234568e29", "1.2345678901234568e29"},
        {"-0", "0", "0"},
        {"+0", "0", "0"},
        {"0", "0", "0"},
        {"00", "0", "0"},
        {"07", "7", "7"},
        {"010", "8", "8"},
        {"08", "8", "8"},
        {"09", "9", "9"},
        {"01.5", "1.5", "1.5"},
        {"1.0", "1", "1"},
        {"1.", "1", "1"},
        {"0.", "0", "0"},
        {"1.50", "1.5", "1.5"},
        {"0.1", "0.1", "0.1"},
        {"-.0", "0", "0"},
        {"-0.0", "0", "0"},
        {"0.0", "0", "0"},
        {"0.000", "0", "0"},
        {"12:30", "\"12:30\"", "\"12:30\""},
        {"1:20:30", "\"1:20:30\"", "\"1:20:30\""},
        {"190:20:30.15", "\"190:20:30.15\"", "\"190:20:30.15\""},
        {"123abc", "\"123abc\"", "\"123abc\""},
        {"=", "\"=\"", "\"=\""},
        {"<<", "\"<<\"", "\"<<\""},
        {"2001-12-14", "\"2001-12-14T00:00:00Z\"", "\"2001-12-14\""},
        {"2001-1-2", "\"2001-01-02T00:00:00Z\"", "\"2001-1-2\""},
        {"2001-02-30", "\"2001-02-30\"", "\"2001-02-30\""},
        {"12001-12-14", "\"12001-12-14\"", "\"12001-12-14\""},
        {"2001-12-14t21:59:43.10-05:00", "\"2001-12-14T21:59:43.1-05:00\"",
         "\"2001-12-14t21:59:43.10-05:00\""},
        {"2001-12-14 21:59:43.10 -5", "\"2001-12-14 21:59:43.10 -5\"",
         "\"2001-12-14 21:59:43.10 -5\""},
        {"2001-12-14 21:59:43.10", "\"2001-12-14T21:59:43.1Z\"", "\"2001-12-14 21:59:43.10\""},
        {"2001-12-14T21:59:43Z", "\"2001-12-14T21:59:43Z\"", "\"2001-12-14T21:59:43Z\""},
        {"2001-12-14T21:59:43.123456789123+01:00", "\"2001-12-14T21:59:43.123456789+01:00\"",
         "\"2001-12-14T21:59:43.123456789123+01:00\""},
        {"2001-12-14T21:59:43+00:00", "\"2001-12-14T21:59:43Z\"", "\"2001-12-14T21:59:43+00:00\""},
        {"2001-12-14T21:59:43.500-00:00", "\"2001-12-14T21:59:43.5Z\"",
         "\"2001-12-14T21:59:43.500-00:00\""},
        {"2001-12-14T1:2:3Z", "\"2001-12-14T01:02:03Z\"", "\"2001-12-14T1:2:3Z\""},
        {"!!str 12", "\"12\"", "\"12\""},
        {"!!int \"12\"", "12", "12"},
        {"!!int 0x1F", "31", "31"},
        {"!!float \"12\"", "12", "12"},
        {"!!float 12", "12", "12"},
        {"!!bool \"true\"", "true", "true"},
        {"!!null \"\"", "null", "null"},
        {"!!binary aGVsbG8=", "\"hello\"", "\"hello\""},
        {"!custom 12", "\"12\"", "\"12\""},
        {"! 12", "12", "\"12\""},
        {"'12'", "\"12\"", "\"12\""},
        {"\"true\"", "\"true\"", "\"true\""},
};

START_TEST(scalar_table)
{
	char yaml[256], json[256];

	snprintf(yaml, sizeof(yaml), "k: %s\n", scalars[_i].in);
	snprintf(json, sizeof(json), "[{\"k\": %s}]", scalars[_i].kustomize);
	assert_loads_as(yaml, json, CAIRN_YAML_KUSTOMIZE);
	snprintf(json, sizeof(json), "[{\"k\": %s}]", scalars[_i].kubectl);
	assert_loads_as(yaml, json, CAIRN_YAML_KUBECTL);
}
END_TEST

START_TEST(scalar_integer_and_real_types)
{
	json_t *d = load("a: 1e3\nb: 1.5\nc: 9223372036854775808\nd: 07\n", CAIRN_YAML_KUSTOMIZE);
	json_t *o = json_array_get(d, 0);

	ck_assert(json_is_integer(json_object_get(o, "a")));
	ck_assert(json_is_real(json_object_get(o, "b")));
	ck_assert(json_is_real(json_object_get(o, "c")));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "d")), 7);
	json_decref(d);
}
END_TEST

START_TEST(scalar_nonfinite_is_an_error)
{
	assert_fails("a: 1\nb: .inf\n", NULL, CAIRN_EINVAL, 2, 4,
	             "'.inf' is not a number JSON can hold");
	assert_fails("b: -.Inf\n", NULL, CAIRN_EINVAL, 1, 4, "'-.Inf'");
	assert_fails("b: [.nan]\n", NULL, CAIRN_EINVAL, 1, 5, "'.nan'");
	assert_loads_as("b: '.inf'\n", "[{\"b\": \".inf\"}]", CAIRN_YAML_KUSTOMIZE);
}
END_TEST

START_TEST(scalar_tag_mismatch)
{
	assert_fails("a: !!int abc\n", NULL, CAIRN_EINVAL, 1, 4, "cannot read 'abc' as !!int");
	assert_fails("a: !!bool yes\n", NULL, CAIRN_EINVAL, 1, 4, "cannot read 'yes' as !!bool");
	assert_fails("a: !!binary '@@'\n", NULL, CAIRN_EINVAL, 1, 4, "invalid base64");
	assert_loads_as("a: !!bool yes\n", "[{\"a\": true}]", CAIRN_YAML_KUBECTL);
	assert_loads_as("a: !!str true\nb: !!str\n", "[{\"a\": \"true\", \"b\": \"\"}]",
	                CAIRN_YAML_KUSTOMIZE);
}
END_TEST

START_TEST(block_scalars_are_strings)
{
	assert_loads_as("a: |\n  12\nb: >-\n  true\n  x\nc: \"1\\tb\"\n",
	                "[{\"a\": \"12\\n\", \"b\": \"true x\", \"c\": \"1\\tb\"}]",
	                CAIRN_YAML_KUBECTL);
}
END_TEST

START_TEST(streams_and_documents)
{
	assert_loads_as("", "[]", CAIRN_YAML_KUSTOMIZE);
	assert_loads_as("# just a comment\n", "[]", CAIRN_YAML_KUSTOMIZE);
	assert_loads_as("---\n", "[null]", CAIRN_YAML_KUSTOMIZE);
	assert_loads_as("a: 1\n---\n---\nb: [x, {c: d}]\n...\n---\n- 1\n",
	                "[{\"a\": 1}, null, {\"b\": [\"x\", {\"c\": \"d\"}]}, [1]]",
	                CAIRN_YAML_KUSTOMIZE);
	assert_loads_as("{\"json\": [1, 2.5, \"x\", null, true]}",
	                "[{\"json\": [1, 2.5, \"x\", null, true]}]", CAIRN_YAML_KUSTOMIZE);
	assert_loads_as("plain scalar document\n", "[\"plain scalar document\"]",
	                CAIRN_YAML_KUSTOMIZE);
}
END_TEST

START_TEST(key_order_is_kept)
{
	json_t *d = load("z: 1\na: 2\nm: 3\n", CAIRN_YAML_KUSTOMIZE);
	char *s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);

	ck_assert_str_eq(s, "[{\"z\":1,\"a\":2,\"m\":3}]");
	free(s);
	json_decref(d);
}
END_TEST

START_TEST(non_string_keys_keep_their_text)
{
	assert_loads_as("1: a\ntrue: b\n~: c\n0x1F: d\n1.50: e\n\"q\": f\n",
	                "[{\"1\": \"a\", \"true\": \"b\", \"~\": \"c\", \"0x1F\": \"d\", "
	                "\"1.50\": \"e\", \"q\": \"f\"}]",
	                CAIRN_YAML_KUBECTL);
	assert_fails("a: 1\n[x]: 2\n", NULL, CAIRN_EINVAL, 2, 1,
	             "mapping key must be a scalar, not a sequence");
	assert_fails("? {x: 1}\n: 2\n", NULL, CAIRN_EINVAL, 1, 3,
	             "mapping key must be a scalar, not a mapping");
}
END_TEST

START_TEST(duplicate_keys)
{
	assert_fails("a: 1\nb: 2\na: 3\n", NULL, CAIRN_EINVAL, 3, 1,
	             "duplicate key 'a' in mapping");
	assert_fails("x:\n  - {k: 1, k: 2}\n", NULL, CAIRN_EINVAL, 2, 12, "duplicate key 'k'");
	/* "1" and 1 are the same JSON key. */
	assert_fails("1: a\n\"1\": b\n", NULL, CAIRN_EINVAL, 2, 1, "duplicate key '1'");
	/* The same key in two documents is fine. */
	assert_loads_as("a: 1\n---\na: 2\n", "[{\"a\": 1}, {\"a\": 2}]", CAIRN_YAML_KUSTOMIZE);
}
END_TEST

START_TEST(anchors_and_aliases)
{
	json_t *d = load("a: &x {k: [1, 2]}\nb: *x\nc: &s hello\nd: *s\n", CAIRN_YAML_KUSTOMIZE);
	json_t *o = json_array_get(d, 0);

	ck_assert_ptr_nonnull(d);
	ck_assert(json_equal(json_object_get(o, "a"), json_object_get(o, "b")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "d")), "hello");
	/* Expanded by copy: editing one place leaves the other alone. */
	ck_assert_ptr_ne(json_object_get(o, "a"), json_object_get(o, "b"));
	json_array_append_new(json_object_get(json_object_get(o, "b"), "k"), json_integer(3));
	ck_assert_int_eq(json_array_size(json_object_get(json_object_get(o, "a"), "k")), 2);
	json_decref(d);

	/* A later anchor of the same name wins from there on. */
	assert_loads_as("- &a 1\n- *a\n- &a 2\n- *a\n", "[[1, 1, 2, 2]]", CAIRN_YAML_KUSTOMIZE);
	/* Typed as written at the anchor. */
	assert_loads_as("- &a yes\n- *a\n", "[[true, true]]", CAIRN_YAML_KUBECTL);
	assert_fails("a: *nope\n", NULL, CAIRN_EINVAL, 1, 4, "unknown alias '*nope'");
	/* Anchors do not cross documents. */
	assert_fails("a: &x 1\n---\nb: *x\n", NULL, CAIRN_EINVAL, 3, 4, "unknown alias '*x'");
	/* A node cannot contain an alias to itself. */
	assert_fails("a: &x [1, *x]\n", NULL, CAIRN_EINVAL, 1, 11, "unknown alias '*x'");
}
END_TEST

START_TEST(merge_keys)
{
	assert_loads_as("base: &b {x: 1, y: 2}\no:\n  <<: *b\n  y: 3\n",
	                "[{\"base\": {\"x\": 1, \"y\": 2}, \"o\": {\"x\": 1, \"y\": 3}}]",
	                CAIRN_YAML_KUSTOMIZE);
	/* Explicit keys win whether they come before or after the merge. */
	assert_loads_as("o:\n  y: 3\n  <<: {x: 1, y: 2}\n", "[{\"o\": {\"y\": 3, \"x\": 1}}]",
	                CAIRN_YAML_KUSTOMIZE);
	/* In a list of maps the earlier map wins. */
	assert_loads_as("a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\nc:\n  <<: [*a, *b]\n  s: 3\n",
	                "[{\"a\": {\"p\": 1, \"q\": 1}, \"b\": {\"q\": 2, \"r\": 2}, "
	                "\"c\": {\"p\": 1, \"q\": 1, \"r\": 2, \"s\": 3}}]",
	                CAIRN_YAML_KUSTOMIZE);
	/* A key overridden after a merge must not then be written twice. */
	assert_fails("o:\n  <<: {y: 2}\n  y: 3\n  y: 4\n", NULL, CAIRN_EINVAL, 4, 3,
	             "duplicate key 'y'");
	/* A quoted "<<" is an ordinary key. */
	assert_loads_as("o: {\"<<\": {x: 1}}\n", "[{\"o\": {\"<<\": {\"x\": 1}}}]",
	                CAIRN_YAML_KUSTOMIZE);
	assert_fails("o:\n  <<: 5\n", NULL, CAIRN_EINVAL, 2, 3,
	             "merge key '<<' needs a mapping or a sequence of mappings");
	assert_fails("o:\n  <<: [{a: 1}, 2]\n", NULL, CAIRN_EINVAL, 2, 3, "merge key '<<'");
}
END_TEST

START_TEST(errors_name_file_line_column)
{
	assert_fails("a:\n\tb: 1\n", NULL, CAIRN_EINVAL, 2, 1,
	             "tab character where indentation is expected");
	assert_fails("a: [1, 2\nb: 3\n", NULL, CAIRN_EINVAL, 2, 2,
	             "did not find expected ',' or ']' while parsing a flow sequence (started at "
	             "line 1, column 4)");
	assert_fails("a: {x: 1\n", NULL, CAIRN_EINVAL, 2, 1,
	             "did not find expected ',' or '}' while parsing a flow mapping");
	assert_fails("a: \"abc\n", NULL, CAIRN_EINVAL, 2, 1,
	             "found unexpected end of stream while scanning a quoted scalar");
	assert_fails("a: 'abc", NULL, CAIRN_EINVAL, 1, 8, "while scanning a quoted scalar");
	assert_fails("a: ok\nb: \xc3\xa9\xff\n", NULL, CAIRN_EINVAL, 2, 5,
	             "invalid UTF-8: invalid leading UTF-8 octet (byte 0xff)");
	assert_fails("a: \xc3\n", NULL, CAIRN_EINVAL, 1, 5,
	             "invalid UTF-8: invalid trailing UTF-8 octet");
	assert_fails("a: b\n  c: d\n", NULL, CAIRN_EINVAL, 2, 4,
	             "mapping values are not allowed in this context");
	assert_fails("- a\nb: c\n", NULL, CAIRN_EINVAL, 2, 1, "did not find expected '-'");
}
END_TEST

START_TEST(load_file_names_the_file)
{
	char path[1024];
	json_t *docs = NULL;
	cairn_yaml_marks *marks = NULL;

	test_data_path(path, sizeof(path), "yaml/manifests.yaml");
	ck_assert_int_eq(cairn_yaml_load_file(&docs, &marks, path, NULL), 0);
	ck_assert_uint_eq(json_array_size(docs), 3);
	ck_assert_uint_eq(cairn_yaml_marks_count(marks), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(docs, 2), "kind")),
	                 "Service");
	json_decref(docs);
	cairn_yaml_marks_free(marks);

	test_data_path(path, sizeof(path), "yaml/tab-indent.yaml");
	ck_assert_int_eq(cairn_yaml_load_file(&docs, NULL, path, NULL), CAIRN_EINVAL);
	ck_assert_str_eq(cairn_error_last()->file, path);
	ck_assert_int_eq(cairn_error_last()->line, 6);
	ck_assert_int_eq(cairn_error_last()->column, 1);

	test_data_path(path, sizeof(path), "yaml/no-such-file.yaml");
	ck_assert_int_eq(cairn_yaml_load_file(&docs, NULL, path, NULL), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no-such-file.yaml");
}
END_TEST

START_TEST(marks_lookup)
{
	const char *y = "a: 1\nb:\n  - x\n  - {c: d, \"e/f~g\": 2}\n---\nz: &q [1]\nw: *q\n";
	json_t *docs = NULL;
	cairn_yaml_marks *m = NULL;
	int line = 0, col = 0;

	ck_assert_int_eq(cairn_yaml_load(&docs, &m, y, strlen(y), "m.yaml", NULL), 0);
	ck_assert_uint_eq(cairn_yaml_marks_count(m), 2);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 0, "", &line, &col), 0);
	ck_assert_int_eq(line, 1);
	ck_assert_int_eq(col, 1);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 0, "/a", &line, &col), 0);
	ck_assert_int_eq(line, 1);
	ck_assert_int_eq(col, 4);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 0, "/b", &line, &col), 0);
	ck_assert_int_eq(line, 3);
	ck_assert_int_eq(col, 3);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 0, "/b/1", &line, &col), 0);
	ck_assert_int_eq(line, 4);
	ck_assert_int_eq(col, 5);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 0, "/b/1/c", &line, &col), 0);
	ck_assert_int_eq(line, 4);
	ck_assert_int_eq(col, 9);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 0, "/b/1/e~1f~0g", &line, &col), 0);
	ck_assert_int_eq(line, 4);
	ck_assert_int_eq(col, 21);
	/* Unknown child: the nearest ancestor. */
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 0, "/b/1/nope/deeper", &line, &col), 0);
	ck_assert_int_eq(line, 4);
	ck_assert_int_eq(col, 5);
	/* Second document; an alias is marked where it is used. */
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 1, "/w", &line, &col), 0);
	ck_assert_int_eq(line, 7);
	ck_assert_int_eq(col, 4);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 1, "/z/0", &line, &col), 0);
	ck_assert_int_eq(line, 6);
	ck_assert_int_eq(col, 8);
	ck_assert_int_eq(cairn_yaml_marks_lookup(m, 2, "", &line, &col), CAIRN_ENOTFOUND);
	json_decref(docs);
	cairn_yaml_marks_free(m);
	cairn_yaml_marks_free(NULL);
}
END_TEST

START_TEST(outputs_untouched_on_failure)
{
	json_t *docs = (json_t *)0x1;
	cairn_yaml_marks *m = (cairn_yaml_marks *)0x1;

	ck_assert_int_eq(cairn_yaml_load(&docs, &m, "a: [", 4, "t.yaml", NULL), CAIRN_EINVAL);
	ck_assert_ptr_eq(docs, (json_t *)0x1);
	ck_assert_ptr_eq(m, (cairn_yaml_marks *)0x1);
}
END_TEST

/* ---- limits ----------------------------------------------------------- */

START_TEST(limit_input_size)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	json_t *d = NULL;

	o.max_input_bytes = 8;
	assert_fails("a: 12345\n", &o, CAIRN_ELIMIT, 1, 1, "input too large: 9 bytes, at most 8");
	o.max_input_bytes = 9;
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, "a: 12345\n", 9, "t.yaml", &o), 0);
	json_decref(d);
}
END_TEST

START_TEST(limit_scalar_size)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	json_t *d = NULL;

	o.max_scalar_bytes = 4;
	assert_fails("a: abcd\nb: abcde\n", &o, CAIRN_ELIMIT, 2, 4,
	             "scalar too long: 5 bytes, at most 4");
	assert_fails("abcde: 1\n", &o, CAIRN_ELIMIT, 1, 1, "scalar too long");
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, "abcd: abcd", 10, "t.yaml", &o), 0);
	json_decref(d);
}
END_TEST

START_TEST(limit_depth)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	size_t n = 100000;
	char *deep = malloc(n + 1);
	json_t *d = NULL;

	o.max_depth = 3;
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, "[[[1]]]", 7, "t.yaml", &o), 0);
	json_decref(d);
	assert_fails("a:\n  b:\n    c:\n      d: 1\n", &o, CAIRN_ELIMIT, 4, 7,
	             "nesting too deep: more than 3 levels");
	/* 100,000 '[': refused at the default depth as the 513th opens. */
	memset(deep, '[', n);
	deep[n] = '\0';
	assert_fails(deep, NULL, CAIRN_ELIMIT, 1, 513, "nesting too deep: more than 512 levels");
	free(deep);
}
END_TEST

START_TEST(limit_documents)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;

	o.max_documents = 2;
	assert_fails("a: 1\n---\nb: 2\n---\nc: 3\n", &o, CAIRN_ELIMIT, 4, 1,
	             "too many documents: more than 2");
}
END_TEST

START_TEST(limit_nodes)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	json_t *d = NULL;

	/* the mapping, key a, value 1, key b, the sequence, x: 6 nodes */
	o.max_nodes = 6;
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, "a: 1\nb: [x]\n", 12, "t.yaml", &o), 0);
	json_decref(d);
	o.max_nodes = 5;
	assert_fails("a: 1\nb: [x]\n", &o, CAIRN_ELIMIT, 2, 5, "too many nodes: more than 5");
	/* Aliases count what they expand to. */
	o.max_nodes = 8;
	assert_fails("a: &x [1, 2, 3]\nb: *x\n", &o, CAIRN_ELIMIT, 2, 4, "too many nodes");
}
END_TEST

START_TEST(limit_alias_expansion)
{
	char path[1024];
	json_t *d = NULL;
	cairn_buf b = CAIRN_BUF_INIT(0);
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	int i;

	test_data_path(path, sizeof(path), "yaml/billion-laughs.yaml");
	ck_assert_int_eq(cairn_yaml_load_file(&d, NULL, path, NULL), CAIRN_ELIMIT);
	ck_assert_error_contains("too much alias expansion");
	ck_assert_str_eq(cairn_error_last()->file, path);
	ck_assert_int_gt(cairn_error_last()->line, 1);

	/* Moderate reuse is fine: 90 aliases of a 101-node list (parsed:
	 * the list and its items, the root mapping, two keys, the "uses"
	 * sequence = 105; expanded 9,090, under 100 x 105). */
	cairn_buf_puts(&b, "base: &b [");
	for (i = 0; i < 100; i++)
		cairn_buf_printf(&b, "%s%d", i ? ", " : "", i);
	cairn_buf_puts(&b, "]\nuses:\n");
	for (i = 0; i < 90; i++)
		cairn_buf_puts(&b, "- *b\n");
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, b.ptr, b.len, "t.yaml", NULL), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(d, 0), "uses")), 90);
	json_decref(d);
	/* With a ratio of 1 a small stream may expand 10x what it parsed: a
	 * 1,001-node list (1,005 parsed) is refused at its 11th alias
	 * (11,011 > 10,050), on line 2 + 11. */
	cairn_buf_reset(&b);
	cairn_buf_puts(&b, "base: &b [");
	for (i = 0; i < 1000; i++)
		cairn_buf_printf(&b, "%s%d", i ? ", " : "", i);
	cairn_buf_puts(&b, "]\nuses:\n");
	for (i = 0; i < 500; i++)
		cairn_buf_puts(&b, "- *b\n");
	o.max_alias_ratio = 1;
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, b.ptr, b.len, "t.yaml", &o), CAIRN_ELIMIT);
	ck_assert_error_contains("too much alias expansion: 11011 nodes from aliases against 1005 "
	                         "parsed (at most 10 times as many)");
	ck_assert_int_eq(cairn_error_last()->line, 2 + 11);
	ck_assert_int_eq(cairn_error_last()->column, 3);
	/* The default allows 100x on a small stream: refused at the 101st. */
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, b.ptr, b.len, "t.yaml", NULL), CAIRN_ELIMIT);
	ck_assert_int_eq(cairn_error_last()->line, 2 + 101);
	ck_assert_error_contains("(at most 100 times as many)");
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(opts_version_checked)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	json_t *d = NULL;

	o.version = 99;
	ck_assert_int_eq(cairn_yaml_load(&d, NULL, "a: 1", 4, NULL, &o), CAIRN_EINVAL);
	ck_assert_error_contains("unsupported cairn_yaml_opts version 99");
}
END_TEST

void core_yaml_load_tests(Suite *s)
{
	TCase *tc = tcase_create("yaml_load");

	tcase_add_loop_test(tc, scalar_table, 0, (int)(sizeof(scalars) / sizeof(scalars[0])));
	tcase_add_test(tc, scalar_integer_and_real_types);
	tcase_add_test(tc, scalar_nonfinite_is_an_error);
	tcase_add_test(tc, scalar_tag_mismatch);
	tcase_add_test(tc, block_scalars_are_strings);
	tcase_add_test(tc, streams_and_documents);
	tcase_add_test(tc, key_order_is_kept);
	tcase_add_test(tc, non_string_keys_keep_their_text);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, anchors_and_aliases);
	tcase_add_test(tc, merge_keys);
	tcase_add_test(tc, errors_name_file_line_column);
	tcase_add_test(tc, load_file_names_the_file);
	tcase_add_test(tc, marks_lookup);
	tcase_add_test(tc, outputs_untouched_on_failure);
	tcase_add_test(tc, limit_input_size);
	tcase_add_test(tc, limit_scalar_size);
	tcase_add_test(tc, limit_depth);
	tcase_add_test(tc, limit_documents);
	tcase_add_test(tc, limit_nodes);
	tcase_add_test(tc, limit_alias_expansion);
	tcase_add_test(tc, opts_version_checked);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
}
