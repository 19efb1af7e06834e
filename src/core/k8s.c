/*
 * k8s.c - identity checks of Kubernetes objects: RFC 1123 / RFC 1035 names,
 * qualified names, label values, apiVersion and kind syntax, and the name
 * rule each kind needs. The rules are the ones the API server applies, so a
 * manifest that passes here is not refused by it for its name.
 */
#include <ctype.h>
#include <stdarg.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/k8s.h"

#define DNS_LABEL_MAX 63
#define DNS_SUBDOMAIN_MAX 253
#define QUALIFIED_NAME_MAX 63
#define LABEL_VALUE_MAX 63
/* The API server refuses metadata.annotations larger than this in total. */
#define ANNOTATIONS_TOTAL_MAX (256 * 1024)
/* Job names derived from a CronJob add 11 characters to a 63-character label. */
#define CRONJOB_NAME_MAX 52

static int is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(int c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* A DNS label given as a (pointer, length) slice, so that subdomains can be
 * checked label by label without copying. */
static int is_dns_label_n(const char *s, size_t n)
{
	if (n == 0 || n > DNS_LABEL_MAX)
		return 0;
	if (!is_lower_alnum((unsigned char)s[0]) || !is_lower_alnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int cairn_k8s_is_dns_label(const char *s)
{
	return s != NULL && is_dns_label_n(s, strlen(s));
}

int cairn_k8s_is_dns1035_label(const char *s)
{
	return cairn_k8s_is_dns_label(s) && s[0] >= 'a' && s[0] <= 'z';
}

static int is_dns_subdomain_n(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0 || n > DNS_SUBDOMAIN_MAX)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!is_dns_label_n(s + start, i - start))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

int cairn_k8s_is_dns_subdomain(const char *s)
{
	return s != NULL && is_dns_subdomain_n(s, strlen(s));
}

/* The name part of a qualified name, and a non-empty label value, share one
 * syntax: [A-Za-z0-9] at both ends, [-_.A-Za-z0-9] between. */
static int is_name_part(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return 0;
	if (!is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 1; i + 1 < n; i++) {
		int c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 1;
}

int cairn_k8s_is_qualified_name(const char *s)
{
	const char *slash;

	if (s == NULL)
		return 0;
	slash = strchr(s, '/');
	if (slash == NULL)
		return is_name_part(s, strlen(s), QUALIFIED_NAME_MAX);
	if (!is_dns_subdomain_n(s, (size_t)(slash - s)))
		return 0;
	return is_name_part(slash + 1, strlen(slash + 1), QUALIFIED_NAME_MAX);
}

int cairn_k8s_is_label_value(const char *s)
{
	if (s == NULL)
		return 0;
	if (s[0] == '\0')
		return 1;
	return is_name_part(s, strlen(s), LABEL_VALUE_MAX);
}

/* RBAC objects may be named like "system:controller:foo": any path segment,
 * that is anything but "." and ".." that has no '/' or '%'. */
static int is_path_segment(const char *s)
{
	if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return strpbrk(s, "/%") == NULL;
}

/* ---- reporting ------------------------------------------------------------ */

struct checker {
	cairn_k8s_report_fn report;
	void *ud;
	int count;
	int rc; /* first negative code returned by report */
};

static void problem(struct checker *c, const char *pointer, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void problem(struct checker *c, const char *pointer, const char *fmt, ...)
{
	char msg[CAIRN_ERROR_MSG_MAX];
	va_list ap;
	int rc;

	if (c->rc < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->count++;
	rc = c->report(c->ud, pointer, msg);
	if (rc < 0)
		c->rc = rc;
}

/* Append `key` escaped as an RFC 6901 reference token ('~' -> "~0",
 * '/' -> "~1") to a fixed buffer; cut (never overflowing) when too long. */
static void pointer_for(char *out, size_t size, const char *prefix, const char *key)
{
	size_t n = (size_t)snprintf(out, size, "%s/", prefix);

	for (const char *p = key; *p && n + 3 < size; p++) {
		if (*p == '~' || *p == '/') {
			out[n++] = '~';
			out[n++] = *p == '~' ? '0' : '1';
		} else {
			out[n++] = *p;
		}
	}
	if (n < size)
		out[n] = '\0';
}

static const char *json_kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "a mapping";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* ---- the checks ------------------------------------------------------------ */

static void check_api_version(struct checker *c, const json_t *v)
{
	const char *s, *slash;

	if (v == NULL) {
		problem(c, "", "missing apiVersion: every Kubernetes object needs one");
		return;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		problem(c, "/apiVersion", "apiVersion must be a non-empty string, not %s",
		        json_is_string(v) ? "an empty string" : json_kind_name(v));
		return;
	}
	s = json_string_value(v);
	slash = strchr(s, '/');
	if (slash == NULL) {
		if (strcmp(s, "v1") != 0)
			problem(c, "/apiVersion",
			        "apiVersion '%s' is not valid: expected 'v1' or 'group/version'",
			        s);
		return;
	}
	if (!is_dns_subdomain_n(s, (size_t)(slash - s)) || !cairn_k8s_is_dns_label(slash + 1))
		problem(c, "/apiVersion",
		        "apiVersion '%s' is not valid: expected 'group/version' with a DNS "
		        "subdomain group and a DNS label version",
		        s);
}

static int check_kind(struct checker *c, const json_t *v)
{
	const char *s;

	if (v == NULL) {
		problem(c, "", "missing kind: every Kubernetes object needs one");
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		problem(c, "/kind", "kind must be a non-empty string, not %s",
		        json_is_string(v) ? "an empty string" : json_kind_name(v));
		return 0;
	}
	s = json_string_value(v);
	if (!isalpha((unsigned char)s[0])) {
		problem(c, "/kind", "kind '%s' is not valid: it must start with a letter", s);
		return 0;
	}
	for (const char *p = s; *p; p++) {
		if (!is_alnum((unsigned char)*p)) {
			problem(c, "/kind",
			        "kind '%s' is not valid: only letters and digits are allowed", s);
			return 0;
		}
	}
	return 1;
}

enum name_rule {
	RULE_SUBDOMAIN,
	RULE_LABEL,
	RULE_1035,
	RULE_PATH
};

/* The name rule the API server applies to a kind. Kinds not listed (custom
 * resources included) use DNS subdomains. */
static enum name_rule name_rule_for(const char *kind)
{
	static const struct {
		const char *kind;
		enum name_rule rule;
	} rules[] = {
	        {"Namespace", RULE_LABEL},  {"Service", RULE_1035},
	        {"Role", RULE_PATH},        {"ClusterRole", RULE_PATH},
	        {"RoleBinding", RULE_PATH}, {"ClusterRoleBinding", RULE_PATH},
	};

	for (size_t i = 0; kind && i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].kind, kind) == 0)
			return rules[i].rule;
	return RULE_SUBDOMAIN;
}

/* generateName is a prefix the server completes with random characters: a
 * trailing '-' is fine there, so it is masked before the check. */
static int name_ok(enum name_rule rule, const char *name, int prefix)
{
	char buf[DNS_SUBDOMAIN_MAX + 2];
	size_t n = strlen(name);

	if (prefix && n > 0 && n < sizeof(buf) && name[n - 1] == '-') {
		memcpy(buf, name, n + 1);
		buf[n - 1] = 'a';
		name = buf;
	}
	switch (rule) {
	case RULE_LABEL:
		return cairn_k8s_is_dns_label(name);
	case RULE_1035:
		return cairn_k8s_is_dns1035_label(name);
	case RULE_PATH:
		return is_path_segment(name);
	default:
		return cairn_k8s_is_dns_subdomain(name);
	}
}

static const char *rule_text(enum name_rule rule)
{
	switch (rule) {
	case RULE_LABEL:
		return "a DNS label (RFC 1123: lower-case letters, digits and '-', "
		       "starting and ending with a letter or digit, at most 63 characters)";
	case RULE_1035:
		return "an RFC 1035 label (lower-case letters, digits and '-', starting with "
		       "a letter, ending with a letter or digit, at most 63 characters)";
	case RULE_PATH:
		return "a path segment (not '.' or '..', without '/' or '%')";
	default:
		return "a DNS subdomain (RFC 1123: lower-case letters, digits, '-' and '.', "
		       "starting and ending with a letter or digit, at most 253 characters)";
	}
}

static void check_name(struct checker *c, const json_t *meta, const char *kind)
{
	const json_t *name = json_object_get(meta, "name");
	const json_t *gen = json_object_get(meta, "generateName");
	enum name_rule rule = name_rule_for(kind);
	const char *what = kind ? kind : "object";

	if (name != NULL && !json_is_string(name)) {
		problem(c, "/metadata/name", "metadata.name must be a string, not %s",
		        json_kind_name(name));
		return;
	}
	if (gen != NULL && !json_is_string(gen)) {
		problem(c, "/metadata/generateName",
		        "metadata.generateName must be a string, not %s", json_kind_name(gen));
		return;
	}
	if ((name == NULL || json_string_length(name) == 0) &&
	    (gen == NULL || json_string_length(gen) == 0)) {
		problem(c, name ? "/metadata/name" : "/metadata",
		        "missing metadata.name: a %s needs a name (or metadata.generateName)",
		        what);
		return;
	}
	if (name != NULL && json_string_length(name) > 0) {
		const char *s = json_string_value(name);
		if (!name_ok(rule, s, 0))
			problem(c, "/metadata/name",
			        "metadata.name '%s' is not valid for a %s: it must be %s", s, what,
			        rule_text(rule));
		else if (kind && strcmp(kind, "CronJob") == 0 && strlen(s) > CRONJOB_NAME_MAX)
			problem(c, "/metadata/name",
			        "metadata.name '%s' is too long for a CronJob: at most %d "
			        "characters",
			        s, CRONJOB_NAME_MAX);
	} else if (!name_ok(rule, json_string_value(gen), 1)) {
		problem(c, "/metadata/generateName",
		        "metadata.generateName '%s' is not valid for a %s: it must be %s",
		        json_string_value(gen), what, rule_text(rule));
	}
}

static void check_namespace(struct checker *c, const json_t *meta)
{
	const json_t *ns = json_object_get(meta, "namespace");

	if (ns == NULL)
		return;
	if (!json_is_string(ns)) {
		problem(c, "/metadata/namespace", "metadata.namespace must be a string, not %s",
		        json_kind_name(ns));
		return;
	}
	/* An empty namespace means "the default one" to kubectl. */
	if (json_string_length(ns) > 0 && !cairn_k8s_is_dns_label(json_string_value(ns)))
		problem(c, "/metadata/namespace",
		        "metadata.namespace '%s' is not valid: it must be %s",
		        json_string_value(ns), rule_text(RULE_LABEL));
}

/* Labels and annotations: string-to-string maps with qualified-name keys;
 * label values have their own syntax, annotation values only a total size. */
static void check_string_map(struct checker *c, const json_t *meta, const char *field, int labels)
{
	const json_t *map = json_object_get(meta, field);
	char ptr[512], base[64];
	const char *key;
	json_t *v;
	size_t total = 0;

	if (map == NULL || json_is_null(map))
		return;
	snprintf(base, sizeof(base), "/metadata/%s", field);
	if (!json_is_object(map)) {
		problem(c, base, "metadata.%s must be a mapping, not %s", field,
		        json_kind_name(map));
		return;
	}
	json_object_foreach((json_t *)map, key, v)
	{
		pointer_for(ptr, sizeof(ptr), base, key);
		if (!cairn_k8s_is_qualified_name(key))
			problem(c, ptr,
			        "%s key '%s' is not valid: it must be a qualified name (an "
			        "optional "
			        "DNS subdomain prefix and '/', then at most 63 letters, digits, "
			        "'-', "
			        "'_' or '.', starting and ending with a letter or digit)",
			        labels ? "label" : "annotation", key);
		if (!json_is_string(v)) {
			problem(c, ptr, "%s '%s' must have a string value, not %s (quote it)",
			        labels ? "label" : "annotation", key, json_kind_name(v));
			continue;
		}
		total += strlen(key) + json_string_length(v);
		if (labels && !cairn_k8s_is_label_value(json_string_value(v)))
			problem(c, ptr,
			        "label '%s' has an invalid value '%s': at most 63 letters, digits, "
			        "'-', '_' or '.', starting and ending with a letter or digit",
			        key, json_string_value(v));
	}
	if (!labels && total > ANNOTATIONS_TOTAL_MAX)
		problem(c, base, "metadata.annotations are too long: %zu bytes, at most %d", total,
		        ANNOTATIONS_TOTAL_MAX);
}

int cairn_k8s_check_object(const json_t *obj, cairn_k8s_report_fn report, void *ud)
{
	struct checker c = {report, ud, 0, 0};
	const json_t *meta, *kindv;
	const char *kind = NULL;

	if (!json_is_object(obj)) {
		problem(&c, "", "a Kubernetes object must be a mapping, not %s",
		        json_kind_name(obj));
		return c.rc < 0 ? c.rc : c.count;
	}
	check_api_version(&c, json_object_get(obj, "apiVersion"));
	kindv = json_object_get(obj, "kind");
	if (check_kind(&c, kindv))
		kind = json_string_value(kindv);
	meta = json_object_get(obj, "metadata");
	if (meta == NULL) {
		problem(&c, "", "missing metadata: a %s needs metadata.name",
		        kind ? kind : "Kubernetes object");
	} else if (!json_is_object(meta)) {
		problem(&c, "/metadata", "metadata must be a mapping, not %s",
		        json_kind_name(meta));
	} else {
		check_name(&c, meta, kind);
		check_namespace(&c, meta);
		check_string_map(&c, meta, "labels", 1);
		check_string_map(&c, meta, "annotations", 0);
	}
	return c.rc < 0 ? c.rc : c.count;
}
