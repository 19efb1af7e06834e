/*
 * core_yaml_emit.c - the YAML emitter against `kubectl kustomize`'s output.
 *
 * The fixtures under data/emit/<case>/ hold in.yaml (JSON documents
 * separated by "---" lines, read here with jansson alone) and expected.yaml,
 * which regen.sh captured from `kubectl kustomize` (see ORACLE.md).
 */
#include <math.h>
#include <stdlib.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/yaml.h"
#include "testutil.h"

static const char *const emit_cases[] = {
        "bool-null",
        "configmap-multiline",
        "crd-description",
        "deep-nesting",
        "deployment",
        "empty-collections",
        "fold-plain",
        "fold-quoted",
        "keep-chomp-last",
        "key-order-basic",
        "key-order-natural",
        "keys-complex",
        "keys-quoted",
        "line-separators",
        "literal-chomping",
        "literal-fallback-double",
        "literal-indent-indicator",
        "nested-sequences",
        "numbers-int",
        "numbers-real",
        "scalar-double-escapes",
        "scalar-plain-safe",
        "scalar-retyped-double",
        "scalar-single-quoted",
        "scalar-unicode",
        "secret-long-base64",
        "service",
        "stream-multi",
};
#define N_CASES ((int)(sizeof(emit_cases) / sizeof(emit_cases[0])))

static void read_case_file(cairn_buf *b, const char *name, const char *file)
{
	char rel[256], path[1024];

	snprintf(rel, sizeof(rel), "emit/%s/%s", name, file);
	test_data_path(path, sizeof(path), rel);
	cairn_buf_init(b, 0);
	ck_assert_msg(cairn_buf_read_file(b, path) == 0, "cannot read %s: %s", path,
	              cairn_error_last()->message);
}

/* in.yaml: JSON documents separated by lines holding only "---". */
static json_t *read_case_docs(const char *name)
{
	cairn_buf in;
	json_t *docs = json_array();
	char *p, *end, *sep;

	read_case_file(&in, name, "in.yaml");
	p = in.ptr;
	end = in.ptr + in.len;
	while (p < end) {
		json_error_t jerr;
		json_t *doc;
		size_t n;

		sep = strstr(p, "\n---\n");
		n = sep ? (size_t)(sep - p) : (size_t)(end - p);
		doc = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		ck_assert_msg(doc != NULL, "%s: bad JSON: %s", name, jerr.text);
		json_array_append_new(docs, doc);
		p = sep ? sep + 5 : end;
	}
	cairn_buf_dispose(&in);
	return docs;
}

static void assert_text_eq(const char *name, const char *what, const cairn_buf *got,
                           const cairn_buf *want)
{
	size_t i = 0;

	while (i < got->len && i < want->len && got->ptr[i] == want->ptr[i])
		i++;
	ck_assert_msg(got->len == want->len && i == got->len,
	              "%s (%s): output differs from kubectl kustomize at byte %zu:\n"
	              "--- got ---\n%s\n--- want ---\n%s",
	              name, what, i, got->ptr ? got->ptr : "", want->ptr);
}

START_TEST(fixture_matches_kustomize)
{
	const char *name = emit_cases[_i];
	json_t *docs = read_case_docs(name);
	cairn_buf want, got = CAIRN_BUF_INIT(0);

	read_case_file(&want, name, "expected.yaml");
	ck_assert_int_eq(cairn_yaml_emit_stream(&got, docs), 0);
	assert_text_eq(name, "jansson input", &got, &want);
	json_decref(docs);
	cairn_buf_dispose(&want);
	cairn_buf_dispose(&got);
}
END_TEST

/* Load in.yaml with our loader (kustomize profile), emit, compare. */
START_TEST(fixture_load_emit_matches_kustomize)
{
	const char *name = emit_cases[_i];
	cairn_buf in, want, got = CAIRN_BUF_INIT(0);
	json_t *docs = NULL;

	read_case_file(&in, name, "in.yaml");
	read_case_file(&want, name, "expected.yaml");
	ck_assert_msg(cairn_yaml_load(&docs, NULL, in.ptr, in.len, "in.yaml", NULL) == 0,
	              "%s: load failed: %s", name, cairn_error_last()->message);
	ck_assert_int_eq(cairn_yaml_emit_stream(&got, docs), 0);
	assert_text_eq(name, "loaded in.yaml", &got, &want);
	json_decref(docs);
	cairn_buf_dispose(&in);
	cairn_buf_dispose(&want);
	cairn_buf_dispose(&got);
}
END_TEST

/*
 * Stability: emit(load(emit(x))) == emit(x), and load(emit(x)) equals x
 * except where the printed form cannot carry the value: a real with no
 * fraction prints as an integer, and kustomize's layout of a line
 * separator inside quotes adds indentation.
 */
START_TEST(fixture_round_trip_is_stable)
{
	const char *name = emit_cases[_i];
	json_t *docs = read_case_docs(name), *back = NULL;
	cairn_buf first = CAIRN_BUF_INIT(0), second = CAIRN_BUF_INIT(0);

	ck_assert_int_eq(cairn_yaml_emit_stream(&first, docs), 0);
	ck_assert_msg(cairn_yaml_load(&back, NULL, first.ptr, first.len, "emitted", NULL) == 0,
	              "%s: reload failed: %s", name, cairn_error_last()->message);
	ck_assert_int_eq(cairn_yaml_emit_stream(&second, back), 0);
	assert_text_eq(name, "emit(load(emit(x)))", &second, &first);
	if (strcmp(name, "numbers-real") != 0 && strcmp(name, "line-separators") != 0)
		ck_assert_msg(json_equal(docs, back), "%s: load(emit(x)) differs from x", name);
	json_decref(docs);
	json_decref(back);
	cairn_buf_dispose(&first);
	cairn_buf_dispose(&second);
}
END_TEST

/* Emit {"k": value} and compare with the line kustomize prints. */
static void check_value(json_t *value, const char *want)
{
	json_t *doc = json_pack("{s:o}", "k", value);
	cairn_buf out = CAIRN_BUF_INIT(0);

	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(cairn_yaml_emit(&out, doc), 0);
	ck_assert_str_eq(out.ptr, want);
	cairn_buf_dispose(&out);
	json_decref(doc);
}

#define STR(s, want) check_value(json_string(s), want)

START_TEST(scalars_quoting)
{
	STR("on", "k: \"on\"\n");
	STR("yes", "k: \"yes\"\n");
	STR("y", "k: \"y\"\n");
	STR("1", "k: \"1\"\n");
	STR("1.27", "k: \"1.27\"\n");
	STR("true", "k: \"true\"\n");
	STR("null", "k: \"null\"\n");
	STR("~", "k: \"~\"\n");
	STR("0777", "k: \"0777\"\n");
	STR("1e3", "k: \"1e3\"\n");
	STR("0x1F", "k: \"0x1F\"\n");
	STR(".inf", "k: \".inf\"\n");
	STR("2001-12-14", "k: \"2001-12-14\"\n");
	STR("2001-02-30", "k: 2001-02-30\n");
	STR("1:20", "k: \"1:20\"\n");
	STR("", "k: \"\"\n");
	STR("<<", "k: <<\n");
	{
		/* as a key it is quoted: plain, it would read back as a merge key */
		json_t *doc = json_pack("{s:s,s:[{s:i}]}", "a", "<<", "<<", "z", 1), *again = NULL;
		cairn_buf out = CAIRN_BUF_INIT(0);
		cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;

		ck_assert_int_eq(cairn_yaml_emit(&out, doc), 0);
		ck_assert_str_eq(out.ptr, "\"<<\":\n- z: 1\na: <<\n");
		ck_assert_int_eq(cairn_yaml_load(&again, NULL, out.ptr, out.len, "t.yaml", &o), 0);
		ck_assert(json_equal(json_array_get(again, 0), doc));
		json_decref(again);
		cairn_buf_dispose(&out);
		json_decref(doc);
	}
	STR("nginx:1.25", "k: nginx:1.25\n");
	STR(" lead", "k: ' lead'\n");
	STR("trail ", "k: 'trail '\n");
	STR("a: b", "k: 'a: b'\n");
	STR("a #b", "k: 'a #b'\n");
	STR("a#b", "k: a#b\n");
	STR("- a", "k: '- a'\n");
	STR("-a", "k: -a\n");
	STR("'a", "k: '''a'\n");
	STR("@a", "k: '@a'\n");
	STR("tab\there", "k: \"tab\\there\"\n");
	STR("\x01", "k: \"\\x01\"\n");
	STR("\xF0\x9F\x98\x80", "k: \"\\U0001F600\"\n");
	STR("\xC3\xA9", "k: \xC3\xA9\n");
	/* kustomize cannot print NEL (its reader folds it first); the YAML escape is ours */
	STR("nel\xC2\x85x", "k: \"nel\\Nx\"\n");
}
END_TEST

START_TEST(scalars_block_literals)
{
	STR("a\nb\n", "k: |\n  a\n  b\n");
	STR("a\nb", "k: |-\n  a\n  b\n");
	STR("a\n\n", "k: |+\n  a\n\n");
	STR("  x\ny\n", "k: |2\n    x\n  y\n");
	STR("\n", "k: |2+\n\n");
	STR("a \nb\n", "k: \"a \\nb\\n\"\n");
	STR("a\r\nb\n", "k: \"a\\r\\nb\\n\"\n");
}
END_TEST

START_TEST(scalars_numbers)
{
	check_value(json_integer(-9223372036854775807LL - 1), "k: -9223372036854775808\n");
	check_value(json_real(1.0), "k: 1\n");
	check_value(json_real(1.5), "k: 1.5\n");
	check_value(json_real(1e21), "k: 1e+21\n");
	check_value(json_real(1e20), "k: 1e+20\n");
	check_value(json_real(1e19), "k: 10000000000000000000\n");
	check_value(json_real(0.000001), "k: 1e-06\n");
	check_value(json_real(0.0001), "k: 0.0001\n");
	check_value(json_real(-0.0), "k: 0\n");
	check_value(json_real(1234567.5), "k: 1.2345675e+06\n");
	check_value(json_real(123456.5), "k: 123456.5\n");
	check_value(json_true(), "k: true\n");
	check_value(json_false(), "k: false\n");
	check_value(json_null(), "k: null\n");
}
END_TEST

START_TEST(layout_rules)
{
	check_value(json_pack("[ss]", "a", "b"), "k:\n- a\n- b\n");
	check_value(json_pack("[{ssss}]", "name", "x", "image", "nginx"),
	            "k:\n- image: nginx\n  name: x\n");
	check_value(json_pack("[[ss]]", "a", "b"), "k:\n- - a\n  - b\n");
	check_value(json_object(), "k: {}\n");
	check_value(json_array(), "k: []\n");
	check_value(json_pack("{s{si}}", "b", "c", 1), "k:\n  b:\n    c: 1\n");
}
END_TEST

START_TEST(stream_separators)
{
	cairn_buf out = CAIRN_BUF_INIT(0);
	json_t *docs = json_pack("[{si}{si}]", "a", 1, "b", 2);

	ck_assert_int_eq(cairn_yaml_emit_stream(&out, docs), 0);
	ck_assert_str_eq(out.ptr, "a: 1\n---\nb: 2\n");
	json_decref(docs);
	cairn_buf_reset(&out);
	docs = json_array();
	ck_assert_int_eq(cairn_yaml_emit_stream(&out, docs), 0);
	ck_assert_uint_eq(out.len, 0);
	json_decref(docs);
	cairn_buf_dispose(&out);
}
END_TEST

/* jansson refuses NaN and infinities, so a bad string stands in for a bad value. */
START_TEST(errors_leave_buffer_unchanged)
{
	cairn_buf out = CAIRN_BUF_INIT(0);
	json_t *doc = json_object(), *docs;

	ck_assert_ptr_null(json_real(NAN));
	ck_assert_int_eq(cairn_buf_puts(&out, "prefix\n"), 0);
	json_object_set_new(doc, "a", json_string("written first"));
	json_object_set_new(doc, "bad", json_stringn_nocheck("\xff\xfe", 2));
	ck_assert_int_eq(cairn_yaml_emit(&out, doc), CAIRN_EINVAL);
	ck_assert_error_contains("not valid UTF-8");
	ck_assert_str_eq(out.ptr, "prefix\n");

	ck_assert_int_eq(cairn_yaml_emit(&out, NULL), CAIRN_EINVAL);
	ck_assert_error_contains("NULL document");
	ck_assert_int_eq(cairn_yaml_emit_stream(&out, json_null()), CAIRN_EINVAL);
	ck_assert_error_contains("expected an array");

	docs = json_pack("[{si}O]", "a", 1, doc);
	ck_assert_int_eq(cairn_yaml_emit_stream(&out, docs), CAIRN_EINVAL);
	ck_assert_str_eq(out.ptr, "prefix\n");
	json_decref(docs);
	json_decref(doc);
	cairn_buf_dispose(&out);
}
END_TEST

START_TEST(limits)
{
	cairn_buf small = CAIRN_BUF_INIT(16);
	json_t *doc = json_pack("{s:s}", "key", "a value longer than sixteen bytes");
	json_t *deep = json_array(), *cur = deep;
	int k;

	ck_assert_int_eq(cairn_yaml_emit(&small, doc), CAIRN_ELIMIT);
	ck_assert_uint_eq(small.len, 0);
	json_decref(doc);
	cairn_buf_dispose(&small);

	for (k = 0; k < 2000; k++) {
		json_t *next = json_array();

		json_array_append_new(cur, next);
		cur = next;
	}
	cairn_buf_init(&small, 0);
	ck_assert_int_eq(cairn_yaml_emit(&small, deep), CAIRN_ELIMIT);
	ck_assert_error_contains("deeper than");
	ck_assert_uint_eq(small.len, 0);
	json_decref(deep);
	cairn_buf_dispose(&small);
}
END_TEST

/* Found by fuzz_yaml in the soak tier: a 200-digit string was written
 * plain and read back as a number; kubectl kustomize quotes it. */
START_TEST(long_digit_string_is_quoted)
{
	char digits[201];
	cairn_buf out = CAIRN_BUF_INIT(4096);
	json_t *doc, *back = NULL;

	memset(digits, '0', 200);
	digits[200] = '\0';
	doc = json_pack("{s:s}", "a", digits);
	ck_assert_int_eq(cairn_yaml_emit(&out, doc), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "a: \"000"));
	ck_assert_int_eq(cairn_yaml_load(&back, NULL, out.ptr, out.len, "t", NULL), 0);
	ck_assert(json_equal(json_array_get(back, 0), doc));
	json_decref(back);
	json_decref(doc);
	cairn_buf_dispose(&out);
	/* and with a leading dot and underscores, which the reader drops */
	doc = json_pack("{s:s}", "a", ".0_5");
	ck_assert_int_eq(cairn_yaml_emit(&out, doc), 0);
	ck_assert_str_eq(out.ptr, "a: \".0_5\"\n");
	json_decref(doc);
	cairn_buf_dispose(&out);
}
END_TEST

void core_yaml_emit_tests(Suite *s)
{
	TCase *tc = tcase_create("yaml_emit");

	tcase_add_test(tc, long_digit_string_is_quoted);

	tcase_add_loop_test(tc, fixture_matches_kustomize, 0, N_CASES);
	tcase_add_loop_test(tc, fixture_load_emit_matches_kustomize, 0, N_CASES);
	tcase_add_loop_test(tc, fixture_round_trip_is_stable, 0, N_CASES);
	tcase_add_test(tc, scalars_quoting);
	tcase_add_test(tc, scalars_block_literals);
	tcase_add_test(tc, scalars_numbers);
	tcase_add_test(tc, layout_rules);
	tcase_add_test(tc, stream_separators);
	tcase_add_test(tc, errors_leave_buffer_unchanged);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
}
