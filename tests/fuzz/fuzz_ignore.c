/*
 * fuzz_ignore.c - arbitrary bytes as an ignoreDifferences rule list (JSON):
 * compiled, then applied to a fixed Deployment pair (with managedFields)
 * and a fixed Secret pair, each diffed and formatted. Invariants, else
 * abort(): a rule list that compiles never makes the compare fail; `equal`
 * agrees with the number of differences; no Secret byte (plain or base64)
 * reaches the formatted diff.
 *
 * libjq 1.6 has no execution timeout and known crashes of its own (regex
 * functions, implode), so jq expressions are kept to path-like text: words
 * outside a short list of finite builtins, and the characters ';', '$', '@'
 * and '*', make the input uninteresting. Everything else is fuzzed as it is.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libjq 1.6 leaks inside its parser on some syntax errors; those leaks are
 * its own (cairn_ignore_compile refuses the one kind we know of, an
 * unterminated string, before libjq sees it). */
const char *__lsan_default_suppressions(void)
{
	return "leak:libjq.so\n";
}

static const char *const allowed_words[] = {
        "select",  "startswith", "endswith", "has",      "contains",       "not",     "and",
        "or",      "length",     "keys",     "type",     "true",           "false",   "null",
        "empty",   "map",        "values",   "strings",  "numbers",        "objects", "arrays",
        "scalars", "first",      "last",     "if",       "then",           "else",    "elif",
        "end",     "try",        "catch",    "tostring", "ascii_downcase", "paths",   "leaf_paths",
};

/* 1 when `e` is jq text this harness lets libjq run. */
static int jq_text_ok(const char *e)
{
	size_t n = strlen(e);

	if (n > 200)
		return 0;
	for (size_t i = 0; i < n;) {
		char c = e[i];
		if (c == '"') { /* skip a string literal */
			for (i++; i < n && e[i] != '"'; i++)
				if (e[i] == '\\' || e[i] == '(')
					return 0; /* no escapes, no interpolation */
			i++;
			continue;
		}
		if (c == ';' || c == '$' || c == '@' || c == '*' || c == '#' ||
		    (unsigned char)c > 126)
			return 0;
		if (isalpha((unsigned char)c) || c == '_') {
			size_t j = i, k;
			int field = i > 0 && e[i - 1] == '.';
			while (j < n && (isalnum((unsigned char)e[j]) || e[j] == '_'))
				j++;
			for (k = 0; !field && k < sizeof(allowed_words) / sizeof(allowed_words[0]);
			     k++)
				if (strlen(allowed_words[k]) == j - i &&
				    memcmp(allowed_words[k], e + i, j - i) == 0)
					break;
			if (!field && k == sizeof(allowed_words) / sizeof(allowed_words[0]))
				return 0;
			i = j;
			continue;
		}
		i++;
	}
	return 1;
}

static int rules_ok(const json_t *rules)
{
	size_t i, j;
	json_t *r, *e;

	json_array_foreach(rules, i, r)
	{
		json_array_foreach(json_object_get(r, "jqPathExpressions"), j, e)
		{
			if (json_is_string(e) && !jq_text_ok(json_string_value(e)))
				return 0;
		}
	}
	return 1;
}

static const char dep_live[] =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"namespace\":\"prod\",\"labels\":{\"a\":\"1\"},\"finalizers\":[\"x\",\"y\"],"
        "\"managedFields\":[{\"manager\":\"hpa\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
        "\"f:spec\":{\"f:replicas\":{}}}},{\"manager\":\"istio\",\"fieldsType\":\"FieldsV1\","
        "\"fieldsV1\":{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"y\\\"\":{}}},\"f:spec\":{"
        "\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"p\\\"}\":{"
        "\".\":{},\"f:image\":{}}}}}}}}]},\"spec\":{\"replicas\":5,\"template\":{\"spec\":{"
        "\"containers\":[{\"name\":\"w\",\"image\":\"a\"},{\"name\":\"p\",\"image\":\"b\"}]}}},"
        "\"status\":{\"replicas\":5}}";
static const char dep_wanted[] =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"namespace\":\"prod\",\"labels\":{\"a\":\"2\"},\"finalizers\":[\"x\"]},\"spec\":{"
        "\"replicas\":2,\"template\":{\"spec\":{\"containers\":[{\"name\":\"w\",\"image\":"
        "\"c\"}]}}}}";
static const char sec_live[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{"
        "\"k\":\"c2VjcmV0LWxpdmUtdmFsdWU=\",\"j\":\"c2VjcmV0LWxpdmUtdmFsdWU=\"}}";
static const char sec_wanted[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
        "\"stringData\":{\"k\":\"secret-wanted-value\",\"n\":\"secret-new-value\"}}";
static const char *const leaks[] = {"secret-live-value",   "c2VjcmV0LWxpdmUtdmFsdWU",
                                    "secret-wanted-value", "c2VjcmV0LXdhbnRlZC12YWx1ZQ",
                                    "secret-new-value",    "c2VjcmV0LW5ldy12YWx1ZQ"};

static void check_pair(const char *wtext, const char *ltext, const cairn_ignore *ig)
{
	json_t *w = json_loads(wtext, 0, NULL), *l = json_loads(ltext, 0, NULL);
	cairn_diff *d = NULL;
	cairn_buf out = CAIRN_BUF_INIT(16 << 20);

	if (w == NULL || l == NULL)
		abort();
	if (cairn_sync_diff(&d, w, l, ig) < 0) {
		/* Only a limit may stop a compare once the rules compiled. */
		if (cairn_error_last()->code != CAIRN_ELIMIT &&
		    cairn_error_last()->code != CAIRN_ENOMEM)
			abort();
		goto out;
	}
	if (d->equal != (d->n == 0))
		abort();
	if (cairn_diff_format(&out, d, 1) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
		if (out.ptr != NULL && strstr(out.ptr, leaks[i]) != NULL)
			abort();
out:
	cairn_diff_free(d);
	cairn_buf_dispose(&out);
	json_decref(w);
	json_decref(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rules = NULL;
	cairn_ignore *ig = NULL;

	if (size > 8192 || cairn_json_parse(&rules, (const char *)data, size, "fuzz.json") < 0)
		return 0;
	if (!json_is_array(rules) || !rules_ok(rules))
		goto out;
	if (cairn_ignore_compile(&ig, rules, "fuzz") < 0) {
		if (cairn_error_last()->code != CAIRN_EINVAL &&
		    cairn_error_last()->code != CAIRN_ELIMIT)
			abort();
		goto out;
	}
	check_pair(dep_wanted, dep_live, ig);
	check_pair(sec_wanted, sec_live, ig);
out:
	cairn_ignore_free(ig);
	json_decref(rules);
	return 0;
}
