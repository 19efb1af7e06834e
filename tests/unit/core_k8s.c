/* core_k8s.c - names, object identity checks, and the merge-key table
 * checked against the Kubernetes v1.28 swagger.json read in place. */
#include <jansson.h>

#include "cairn/buf.h"
#include "cairn/k8s.h"
#include "testutil.h"

START_TEST(test_dns_names)
{
	ck_assert(cairn_k8s_is_dns_label("web-1"));
	ck_assert(cairn_k8s_is_dns_label("1abc"));
	ck_assert(!cairn_k8s_is_dns_label(""));
	ck_assert(!cairn_k8s_is_dns_label("-web"));
	ck_assert(!cairn_k8s_is_dns_label("web-"));
	ck_assert(!cairn_k8s_is_dns_label("Web"));
	ck_assert(!cairn_k8s_is_dns_label("a.b"));
	ck_assert(cairn_k8s_is_dns_label(
	        "a23456789012345678901234567890123456789012345678901234567890123"));
	ck_assert(!cairn_k8s_is_dns_label(
	        "a234567890123456789012345678901234567890123456789012345678901234"));
	ck_assert(cairn_k8s_is_dns_subdomain("a.b-c.d"));
	ck_assert(!cairn_k8s_is_dns_subdomain("a..b"));
	ck_assert(!cairn_k8s_is_dns_subdomain(".a"));
	ck_assert(!cairn_k8s_is_dns_subdomain("a_b"));
	ck_assert(!cairn_k8s_is_dns1035_label("1abc"));
	ck_assert(cairn_k8s_is_dns1035_label("abc1"));
}
END_TEST

START_TEST(test_subdomain_length)
{
	char s[300];

	/* 4 labels of 63 plus 3 dots = 255 > 253 */
	memset(s, 'a', sizeof(s));
	for (int i = 63; i < 255; i += 64)
		s[i] = '.';
	s[255] = '\0';
	ck_assert(!cairn_k8s_is_dns_subdomain(s));
	s[253] = '\0';
	s[252] = 'a';
	ck_assert(cairn_k8s_is_dns_subdomain(s));
}
END_TEST

START_TEST(test_qualified_names)
{
	ck_assert(cairn_k8s_is_qualified_name("app"));
	ck_assert(cairn_k8s_is_qualified_name("app.kubernetes.io/name"));
	ck_assert(cairn_k8s_is_qualified_name("A_b.c-D"));
	ck_assert(!cairn_k8s_is_qualified_name("_app"));
	ck_assert(!cairn_k8s_is_qualified_name("Example.com/x"));
	ck_assert(!cairn_k8s_is_qualified_name("a/b/c"));
	ck_assert(!cairn_k8s_is_qualified_name("example.com/"));
	ck_assert(cairn_k8s_is_label_value(""));
	ck_assert(cairn_k8s_is_label_value("v1.2_3-x"));
	ck_assert(!cairn_k8s_is_label_value("a b"));
	ck_assert(!cairn_k8s_is_label_value("-a"));
}
END_TEST

/* Collects "pointer|message" lines. */
static int collect(void *ud, const char *pointer, const char *message)
{
	cairn_buf *b = ud;

	return cairn_buf_printf(b, "%s|%s\n", pointer, message);
}

static int check_json(cairn_buf *out, const char *text)
{
	json_error_t jerr;
	json_t *obj = json_loads(text, 0, &jerr);
	int n;

	ck_assert_msg(obj != NULL, "bad test JSON: %s", jerr.text);
	cairn_buf_reset(out);
	n = cairn_k8s_check_object(obj, collect, out);
	json_decref(obj);
	return n;
}

START_TEST(test_check_object_good)
{
	cairn_buf b = CAIRN_BUF_INIT(0);

	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
	                                "\"metadata\":{\"name\":\"web.v2\",\"namespace\":\"prod\","
	                                "\"labels\":{\"app.kubernetes.io/name\":\"web\"},"
	                                "\"annotations\":{\"note\":\"any text: here\"}}}"),
	                 0);
	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	                                "\"metadata\":{\"generateName\":\"job-\"}}"),
	                 0);
	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
	                                "\"kind\":\"ClusterRole\","
	                                "\"metadata\":{\"name\":\"system:aggregate-to-view\"}}"),
	                 0);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_check_object_missing)
{
	cairn_buf b = CAIRN_BUF_INIT(0);

	ck_assert_int_eq(check_json(&b, "{\"metadata\":{}}"), 3);
	ck_assert_ptr_nonnull(strstr(b.ptr, "|missing apiVersion"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "|missing kind"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "/metadata|missing metadata.name"));
	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}"), 1);
	ck_assert_ptr_nonnull(strstr(b.ptr, "|missing metadata: a Pod needs metadata.name"));
	ck_assert_int_eq(check_json(&b, "[1]"), 1);
	ck_assert_ptr_nonnull(strstr(b.ptr, "must be a mapping, not a list"));
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_check_object_syntax)
{
	cairn_buf b = CAIRN_BUF_INIT(0);

	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"apps\",\"kind\":\"Deploy-ment\","
	                                "\"metadata\":{\"name\":\"x\"}}"),
	                 2);
	ck_assert_ptr_nonnull(strstr(b.ptr, "/apiVersion|apiVersion 'apps' is not valid"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "/kind|kind 'Deploy-ment' is not valid"));
	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	                                "\"metadata\":{\"name\":\"a.b\"}}"),
	                 1);
	ck_assert_ptr_nonnull(strstr(b.ptr, "/metadata/name|metadata.name 'a.b' is not valid for a "
	                                    "Namespace: it must be a DNS label"));
	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	                                "\"metadata\":{\"name\":\"9svc\",\"namespace\":\"Prod\"}}"),
	                 2);
	ck_assert_ptr_nonnull(strstr(b.ptr, "it must be an RFC 1035 label"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "/metadata/namespace|metadata.namespace 'Prod'"));
	ck_assert_int_eq(check_json(&b,
	                            "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\","
	                            "\"metadata\":{\"name\":\"a2345678901234567890123456789012345"
	                            "678901234567890123\"}}"),
	                 1);
	ck_assert_ptr_nonnull(strstr(b.ptr, "too long for a CronJob"));
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_check_object_labels)
{
	cairn_buf b = CAIRN_BUF_INIT(0);

	ck_assert_int_eq(check_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	                                "\"metadata\":{\"name\":\"c\",\"labels\":{\"a/b/c\":\"x\","
	                                "\"ok\":true,\"v\":\"bad value\"},"
	                                "\"annotations\":{\"n\":1}}}"),
	                 4);
	ck_assert_ptr_nonnull(
	        strstr(b.ptr, "/metadata/labels/a~1b~1c|label key 'a/b/c' is not valid"));
	ck_assert_ptr_nonnull(strstr(
	        b.ptr, "/metadata/labels/ok|label 'ok' must have a string value, not a boolean"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "/metadata/labels/v|label 'v' has an invalid value"));
	ck_assert_ptr_nonnull(strstr(b.ptr, "/metadata/annotations/n|annotation 'n' must have a "
	                                    "string value, not a number"));
	cairn_buf_dispose(&b);
}
END_TEST

/* ---- the table against swagger.json -------------------------------------- */

static json_t *load_swagger(void)
{
	char path[4096], dir[4000];
	json_error_t jerr;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/swagger.json", test_k8s_openapi_dir(dir, sizeof(dir)));
	doc = json_load_file(path, 0, &jerr);
	ck_assert_msg(doc != NULL, "cannot read %s: %s", path, jerr.text);
	return doc;
}

static const char *ref_name(const json_t *prop)
{
	const char *ref = json_string_value(json_object_get(prop, "$ref"));

	if (ref == NULL)
		ref = json_string_value(json_object_get(json_object_get(prop, "items"), "$ref"));
	if (ref == NULL)
		ref = json_string_value(
		        json_object_get(json_object_get(prop, "additionalProperties"), "$ref"));
	return ref ? strrchr(ref, '/') + 1 : NULL;
}

static unsigned int strategy_flags(const char *s)
{
	unsigned int f = 0;

	if (s == NULL)
		return 0;
	if (strstr(s, "merge"))
		f |= CAIRN_PATCH_MERGE;
	if (strstr(s, "retainKeys"))
		f |= CAIRN_PATCH_RETAIN_KEYS;
	if (strstr(s, "replace"))
		f |= CAIRN_PATCH_REPLACE;
	return f;
}

static cairn_list_type list_type_of(const char *s)
{
	if (s == NULL)
		return CAIRN_LIST_UNSPECIFIED;
	if (strcmp(s, "atomic") == 0)
		return CAIRN_LIST_ATOMIC;
	if (strcmp(s, "set") == 0)
		return CAIRN_LIST_SET;
	if (strcmp(s, "map") == 0)
		return CAIRN_LIST_MAP;
	return (cairn_list_type)-1;
}

/* Compare one row with its property in the document; describe differences. */
static void row_diff(cairn_buf *bad, const cairn_merge_key *r, const json_t *prop)
{
	const json_t *keys = json_object_get(prop, "x-kubernetes-list-map-keys");
	const char *pk = json_string_value(json_object_get(prop, "x-kubernetes-patch-merge-key"));
	const char *item = ref_name(prop);
	size_t nkeys = 0;

	if (strategy_flags(json_string_value(
	            json_object_get(prop, "x-kubernetes-patch-strategy"))) != r->patch_strategy)
		cairn_buf_printf(bad, "%s.%s: patch strategy differs\n", r->type, r->field);
	if ((pk == NULL) != (r->patch_key == NULL) || (pk && strcmp(pk, r->patch_key) != 0))
		cairn_buf_printf(bad, "%s.%s: patch merge key differs\n", r->type, r->field);
	if (list_type_of(json_string_value(json_object_get(prop, "x-kubernetes-list-type"))) !=
	    r->list_type)
		cairn_buf_printf(bad, "%s.%s: list type differs\n", r->type, r->field);
	while (nkeys < 3 && r->list_map_keys[nkeys])
		nkeys++;
	if (json_array_size(keys) != nkeys)
		cairn_buf_printf(bad, "%s.%s: list-map keys differ\n", r->type, r->field);
	for (size_t i = 0; i < nkeys && i < json_array_size(keys); i++)
		if (strcmp(json_string_value(json_array_get(keys, i)), r->list_map_keys[i]) != 0)
			cairn_buf_printf(bad, "%s.%s: list-map key %zu differs\n", r->type,
			                 r->field, i);
	if ((item == NULL) != (r->item_type == NULL) || (item && strcmp(item, r->item_type) != 0))
		cairn_buf_printf(bad, "%s.%s: item type differs\n", r->type, r->field);
}

START_TEST(test_merge_table_matches_swagger)
{
	json_t *doc = load_swagger();
	const json_t *defs = json_object_get(doc, "definitions");
	cairn_buf bad = CAIRN_BUF_INIT(0);
	size_t n;
	const cairn_merge_key *rows = cairn_k8s_merge_keys(&n);

	ck_assert_uint_gt(n, 80);
	for (size_t i = 0; i < n; i++) {
		const json_t *prop = json_object_get(
		        json_object_get(json_object_get(defs, rows[i].type), "properties"),
		        rows[i].field);
		if (i > 0) {
			int c = strcmp(rows[i - 1].type, rows[i].type);
			ck_assert_msg(
			        c < 0 || (c == 0 && strcmp(rows[i - 1].field, rows[i].field) < 0),
			        "table not sorted at %s.%s", rows[i].type, rows[i].field);
		}
		if (prop == NULL)
			cairn_buf_printf(&bad, "%s.%s: no such field\n", rows[i].type,
			                 rows[i].field);
		else
			row_diff(&bad, &rows[i], prop);
		ck_assert_ptr_eq(cairn_k8s_merge_key_find(rows[i].type, rows[i].field), &rows[i]);
	}
	ck_assert_msg(bad.len == 0, "rows that differ from swagger.json:\n%s", bad.ptr);
	cairn_buf_dispose(&bad);
	json_decref(doc);
}
END_TEST

/* Every field with a merge key, list-map keys, a patch strategy or a list
 * type of set or map must have a row. */
START_TEST(test_merge_table_complete)
{
	json_t *doc = load_swagger();
	const json_t *defs = json_object_get(doc, "definitions");
	cairn_buf missing = CAIRN_BUF_INIT(0);
	const char *name, *field;
	json_t *def, *prop;
	size_t checked = 0;

	json_object_foreach((json_t *)defs, name, def)
	{
		json_object_foreach(json_object_get(def, "properties"), field, prop)
		{
			const char *lt =
			        json_string_value(json_object_get(prop, "x-kubernetes-list-type"));
			if (!json_object_get(prop, "x-kubernetes-patch-merge-key") &&
			    !json_object_get(prop, "x-kubernetes-list-map-keys") &&
			    !json_object_get(prop, "x-kubernetes-patch-strategy") &&
			    !(lt && (strcmp(lt, "set") == 0 || strcmp(lt, "map") == 0)))
				continue;
			checked++;
			if (cairn_k8s_merge_key_find(name, field) == NULL)
				cairn_buf_printf(&missing, "%s.%s\n", name, field);
		}
	}
	ck_assert_uint_gt(checked, 80);
	ck_assert_msg(missing.len == 0, "missing from the merge-key table:\n%s", missing.ptr);
	cairn_buf_dispose(&missing);
	json_decref(doc);
}
END_TEST

START_TEST(test_kinds_match_swagger)
{
	json_t *doc = load_swagger();
	const json_t *defs = json_object_get(doc, "definitions");
	cairn_buf bad = CAIRN_BUF_INIT(0);
	size_t n, nf;
	const cairn_k8s_kind *kinds = cairn_k8s_kinds(&n);
	const cairn_k8s_field *fields = cairn_k8s_fields(&nf);

	for (size_t i = 0; i < n; i++) {
		const json_t *gvks = json_object_get(json_object_get(defs, kinds[i].definition),
		                                     "x-kubernetes-group-version-kind");
		const json_t *g = json_array_get(gvks, 0);
		if (g == NULL ||
		    strcmp(json_string_value(json_object_get(g, "group")), kinds[i].group) != 0 ||
		    strcmp(json_string_value(json_object_get(g, "version")), kinds[i].version) !=
		            0 ||
		    strcmp(json_string_value(json_object_get(g, "kind")), kinds[i].kind) != 0)
			cairn_buf_printf(&bad, "kind %s: definition %s differs\n", kinds[i].kind,
			                 kinds[i].definition);
	}
	for (size_t i = 0; i < nf; i++) {
		const json_t *prop = json_object_get(
		        json_object_get(json_object_get(defs, fields[i].type), "properties"),
		        fields[i].field);
		const char *r = prop ? ref_name(prop) : NULL;
		if (r == NULL || strcmp(r, fields[i].field_type) != 0)
			cairn_buf_printf(&bad, "field %s.%s is not a %s\n", fields[i].type,
			                 fields[i].field, fields[i].field_type);
	}
	ck_assert_msg(bad.len == 0, "%s", bad.ptr);
	cairn_buf_dispose(&bad);
	json_decref(doc);
}
END_TEST

/* ---- atomic maps against swagger.json ------------------------------------ */

/* Whether a property of the document is an atomic map: it says so itself,
 * or it refers (directly, not through list items) to a definition that says
 * so and does not override it with "granular". */
static int prop_atomic(const json_t *defs, const json_t *prop)
{
	const char *mt = json_string_value(json_object_get(prop, "x-kubernetes-map-type"));
	const char *ref = json_string_value(json_object_get(prop, "$ref"));
	const char *dmt;

	if (mt)
		return strcmp(mt, "atomic") == 0;
	if (ref == NULL)
		return 0;
	dmt = json_string_value(json_object_get(json_object_get(defs, strrchr(ref, '/') + 1),
	                                        "x-kubernetes-map-type"));
	return dmt && strcmp(dmt, "atomic") == 0;
}

START_TEST(test_atomic_maps_match_swagger)
{
	json_t *doc = load_swagger();
	const json_t *defs = json_object_get(doc, "definitions");
	cairn_buf bad = CAIRN_BUF_INIT(0);
	size_t n;
	const cairn_k8s_field *rows = cairn_k8s_atomic_maps(&n);

	ck_assert_uint_ge(n, 4);
	for (size_t i = 0; i < n; i++) {
		const json_t *prop = json_object_get(
		        json_object_get(json_object_get(defs, rows[i].type), "properties"),
		        rows[i].field);
		const char *ref = prop ? json_string_value(json_object_get(prop, "$ref")) : NULL;

		if (i > 0) {
			int c = strcmp(rows[i - 1].type, rows[i].type);
			ck_assert_msg(
			        c < 0 || (c == 0 && strcmp(rows[i - 1].field, rows[i].field) < 0),
			        "atomic map table not sorted at %s.%s", rows[i].type,
			        rows[i].field);
		}
		if (prop == NULL || !prop_atomic(defs, prop))
			cairn_buf_printf(&bad, "%s.%s: not an atomic map\n", rows[i].type,
			                 rows[i].field);
		else if ((ref == NULL) != (rows[i].field_type == NULL) ||
		         (ref && strcmp(strrchr(ref, '/') + 1, rows[i].field_type) != 0))
			cairn_buf_printf(&bad, "%s.%s: type differs\n", rows[i].type,
			                 rows[i].field);
		ck_assert_int_eq(cairn_k8s_map_is_atomic(rows[i].type, rows[i].field), 1);
	}
	ck_assert_msg(bad.len == 0, "atomic maps that differ from swagger.json:\n%s", bad.ptr);
	cairn_buf_dispose(&bad);
	json_decref(doc);
}
END_TEST

/* Whether a definition is one the table covers: a built-in kind, or a type
 * the walk map leads to or from. */
static int covered_type(const char *name)
{
	size_t n, nf;
	const cairn_k8s_kind *kinds = cairn_k8s_kinds(&n);
	const cairn_k8s_field *fields = cairn_k8s_fields(&nf);

	for (size_t i = 0; i < n; i++)
		if (strcmp(kinds[i].definition, name) == 0)
			return 1;
	for (size_t i = 0; i < nf; i++)
		if (strcmp(fields[i].type, name) == 0 || strcmp(fields[i].field_type, name) == 0)
			return 1;
	return 0;
}

/* Every field-level atomic map of the document has a row, and so has every
 * field of a covered definition that holds an atomic structure; granular
 * maps have none. */
START_TEST(test_atomic_maps_complete)
{
	json_t *doc = load_swagger();
	const json_t *defs = json_object_get(doc, "definitions");
	cairn_buf missing = CAIRN_BUF_INIT(0);
	const char *name, *field;
	json_t *def, *prop;
	size_t own = 0, granular = 0;

	json_object_foreach((json_t *)defs, name, def)
	{
		json_object_foreach(json_object_get(def, "properties"), field, prop)
		{
			const char *mt =
			        json_string_value(json_object_get(prop, "x-kubernetes-map-type"));
			int want;

			if (mt && strcmp(mt, "granular") == 0) {
				granular++;
				ck_assert_msg(!cairn_k8s_map_is_atomic(name, field),
				              "%s.%s is granular", name, field);
				continue;
			}
			own += mt != NULL;
			want = prop_atomic(defs, prop) && (mt || covered_type(name));
			if (want && !cairn_k8s_map_is_atomic(name, field))
				cairn_buf_printf(&missing, "%s.%s\n", name, field);
		}
	}
	ck_assert_uint_ge(own, 4);
	ck_assert_uint_ge(granular, 1);
	ck_assert_msg(missing.len == 0, "missing from the atomic map table:\n%s", missing.ptr);
	ck_assert_int_eq(cairn_k8s_map_is_atomic("io.k8s.api.core.v1.ServiceSpec", "selector"), 1);
	ck_assert_int_eq(cairn_k8s_map_is_atomic("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
	                                         "labels"),
	                 0);
	ck_assert_int_eq(cairn_k8s_map_is_atomic(NULL, "selector"), 0);
	cairn_buf_dispose(&missing);
	json_decref(doc);
}
END_TEST

/* The atomic definitions are exactly those the document marks atomic. */
START_TEST(test_atomic_types_match_swagger)
{
	json_t *doc = load_swagger();
	const json_t *defs = json_object_get(doc, "definitions");
	cairn_buf bad = CAIRN_BUF_INIT(0);
	const char *name;
	json_t *def;
	size_t n, marked = 0;
	const char *const *types = cairn_k8s_atomic_types(&n);

	for (size_t i = 0; i < n; i++) {
		const char *mt = json_string_value(
		        json_object_get(json_object_get(defs, types[i]), "x-kubernetes-map-type"));

		if (i > 0)
			ck_assert_msg(strcmp(types[i - 1], types[i]) < 0, "not sorted at %s",
			              types[i]);
		if (mt == NULL || strcmp(mt, "atomic") != 0)
			cairn_buf_printf(&bad, "%s is not atomic\n", types[i]);
	}
	json_object_foreach((json_t *)defs, name, def)
	{
		const char *mt = json_string_value(json_object_get(def, "x-kubernetes-map-type"));

		if (mt == NULL || strcmp(mt, "atomic") != 0)
			continue;
		marked++;
		if (!cairn_k8s_type_is_atomic(name))
			cairn_buf_printf(&bad, "%s is missing\n", name);
	}
	ck_assert_msg(bad.len == 0, "atomic definitions that differ from swagger.json:\n%s",
	              bad.ptr);
	ck_assert_uint_eq(marked, n);
	ck_assert_int_eq(cairn_k8s_type_is_atomic("io.k8s.api.core.v1.PodSpec"), 0);
	ck_assert_int_eq(cairn_k8s_type_is_atomic(NULL), 0);
	cairn_buf_dispose(&bad);
	json_decref(doc);
}
END_TEST

START_TEST(test_walk_deployment)
{
	const char *t = cairn_k8s_kind_type("apps/v1", "Deployment");
	const cairn_merge_key *row;

	ck_assert_str_eq(t, "io.k8s.api.apps.v1.Deployment");
	ck_assert_ptr_null(cairn_k8s_kind_type("apps/v2", "Deployment"));
	ck_assert_ptr_null(cairn_k8s_kind_type("v1", "Deployment"));
	ck_assert_str_eq(cairn_k8s_kind_type("v1", "Service"), "io.k8s.api.core.v1.Service");
	t = cairn_k8s_field_type(t, "spec");
	t = cairn_k8s_field_type(t, "template");
	t = cairn_k8s_field_type(t, "spec");
	ck_assert_str_eq(t, "io.k8s.api.core.v1.PodSpec");
	row = cairn_k8s_merge_key_find(t, "containers");
	ck_assert_int_eq(row->strategy, CAIRN_MERGE_BY_KEY);
	ck_assert_str_eq(row->patch_key, "name");
	t = cairn_k8s_field_type(t, "containers");
	row = cairn_k8s_merge_key_find(t, "ports");
	ck_assert_str_eq(row->patch_key, "containerPort");
	ck_assert_str_eq(row->list_map_keys[0], "containerPort");
	ck_assert_str_eq(row->list_map_keys[1], "protocol");
	ck_assert_ptr_null(row->list_map_keys[2]);
	ck_assert_str_eq(cairn_k8s_merge_key_find(t, "volumeMounts")->patch_key, "mountPath");
	ck_assert_ptr_null(cairn_k8s_merge_key_find(t, "args"));
	ck_assert_str_eq(cairn_k8s_field_type("io.k8s.api.core.v1.Pod", "metadata"),
	                 "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
	ck_assert_int_eq(cairn_k8s_merge_key_find("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
	                                          "finalizers")
	                         ->strategy,
	                 CAIRN_MERGE_SET);
}
END_TEST

void core_k8s_tests(Suite *s)
{
	TCase *tc = tcase_create("k8s");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dns_names);
	tcase_add_test(tc, test_subdomain_length);
	tcase_add_test(tc, test_qualified_names);
	tcase_add_test(tc, test_check_object_good);
	tcase_add_test(tc, test_check_object_missing);
	tcase_add_test(tc, test_check_object_syntax);
	tcase_add_test(tc, test_check_object_labels);
	tcase_add_test(tc, test_merge_table_matches_swagger);
	tcase_add_test(tc, test_merge_table_complete);
	tcase_add_test(tc, test_kinds_match_swagger);
	tcase_add_test(tc, test_walk_deployment);
	tcase_add_test(tc, test_atomic_maps_match_swagger);
	tcase_add_test(tc, test_atomic_maps_complete);
	tcase_add_test(tc, test_atomic_types_match_swagger);
	suite_add_tcase(s, tc);
}
