/* sim_api_registry.c - the resource table, discovery documents and OpenAPI serving. */
#include <string.h>

#include "cairn/error.h"

#include "sim_api_tests.h"
#include "testutil.h"

static const char *widget_crd =
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"widgets.example.com\"},"
        "\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
        "\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\","
        "\"shortNames\":[\"wd\"],\"categories\":[\"all\"]},"
        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
        "\"subresources\":{\"status\":{}},"
        "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":"
        "{\"type\":\"object\",\"properties\":{\"size\":{\"type\":\"integer\"}}}}}}}]}}";

static sim_registry *with_widget(void)
{
	sim_registry *r = NULL;
	json_t *crd = json_loads(widget_crd, 0, NULL);

	ck_assert_ptr_nonnull(crd);
	ck_assert_int_eq(sim_registry_new(&r), 0);
	ck_assert_int_eq(sim_registry_put_crd(r, crd), 0);
	json_decref(crd);
	return r;
}

START_TEST(builtin_rows)
{
	sim_registry *r = NULL;
	const sim_resource *d, *ns, *cm;

	ck_assert_int_eq(sim_registry_new(&r), 0);
	d = sim_registry_find(r, "apps", "v1", "deployments");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->kind, "Deployment");
	ck_assert_str_eq(d->list_kind, "DeploymentList");
	ck_assert_str_eq(d->short_names, "deploy");
	ck_assert_str_eq(d->categories, "all");
	ck_assert(d->namespaced && d->has_status && d->has_scale);
	ck_assert_ptr_eq(sim_registry_find_kind(r, "apps", "v1", "Deployment"), d);
	ns = sim_registry_find(r, "", "v1", "namespaces");
	ck_assert_ptr_nonnull(ns);
	ck_assert_int_eq(ns->namespaced, 0);
	cm = sim_registry_find_kind(r, "", "v1", "ConfigMap");
	ck_assert_str_eq(cm->plural, "configmaps");
	ck_assert_int_eq(cm->has_status, 0);
	ck_assert_str_eq(
	        sim_registry_find(r, "autoscaling", "v2", "horizontalpodautoscalers")->short_names,
	        "hpa");
	ck_assert_ptr_null(sim_registry_find(r, "apps", "v1beta1", "deployments"));
	ck_assert_ptr_null(sim_registry_find(r, "", "v1", "deployments"));
	ck_assert_ptr_null(sim_registry_find_kind(r, "apps", "v1", "Pod"));
	sim_registry_free(r);
}
END_TEST

START_TEST(crd_put_and_remove)
{
	sim_registry *r = with_widget();
	const sim_resource *w = sim_registry_find(r, "example.com", "v1", "widgets");
	json_t *bad =
	        json_loads("{\"metadata\":{\"name\":\"x.example.com\"},\"spec\":{\"names\":"
	                   "{\"plural\":\"x\",\"kind\":\"X\"},\"versions\":[{\"name\":\"v1\"}]}}",
	                   0, NULL);
	json_t *clash = json_loads(
	        "{\"metadata\":{\"name\":\"deployments.apps\"},\"spec\":{\"group\":\"apps\","
	        "\"names\":{\"plural\":\"deployments\",\"kind\":\"Deployment\"},"
	        "\"versions\":[{\"name\":\"v2\"}]}}",
	        0, NULL);

	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w->kind, "Widget");
	ck_assert_str_eq(w->short_names, "wd");
	ck_assert(w->namespaced && w->has_status && !w->has_scale);
	ck_assert_ptr_nonnull(w->schema);
	ck_assert_int_eq(sim_registry_put_crd(r, bad), CAIRN_EINVAL);
	ck_assert_error_contains("CRD 'x.example.com' lacks spec.group");
	ck_assert_int_eq(sim_registry_put_crd(r, clash), CAIRN_EINVAL);
	ck_assert_error_contains("names the built-in resource 'deployments.apps'");
	ck_assert_int_eq(sim_registry_remove_crd(r, "widgets.example.com"), 0);
	ck_assert_ptr_null(sim_registry_find(r, "example.com", "v1", "widgets"));
	/* the retired row stays readable for requests that still hold it */
	ck_assert_str_eq(w->plural, "widgets");
	ck_assert_int_eq(sim_registry_remove_crd(r, "widgets.example.com"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("CRD 'widgets.example.com' is not registered");
	json_decref(bad);
	json_decref(clash);
	sim_registry_free(r);
}
END_TEST

static json_t *find_named(const json_t *arr, const char *key, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		const char *n = json_string_value(json_object_get(v, key));

		if (n && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

START_TEST(legacy_discovery)
{
	sim_registry *r = with_widget();
	sim_http_reply rep;
	int h;
	json_t *d, *row, *g;

	d = sim_api_get(r, NULL, "/api", NULL, &rep, &h);
	ck_assert_int_eq(h, 1);
	ck_assert_int_eq(rep.status, 200);
	ck_assert_str_eq(rep.content_type, "application/json");
	ck_assert_str_eq(json_string_value(json_object_get(d, "kind")), "APIVersions");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "versions"), 0)),
	                 "v1");
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/api/v1", NULL, &rep, &h);
	row = find_named(json_object_get(d, "resources"), "name", "pods");
	ck_assert_ptr_nonnull(row);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(row, "shortNames"), 0)),
	                 "po");
	ck_assert(json_is_true(json_object_get(row, "namespaced")));
	ck_assert_ptr_nonnull(find_named(json_object_get(d, "resources"), "name", "pods/status"));
	ck_assert_ptr_null(find_named(json_object_get(d, "resources"), "name", "deployments"));
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/apis", NULL, &rep, &h);
	ck_assert_str_eq(json_string_value(json_object_get(d, "kind")), "APIGroupList");
	g = find_named(json_object_get(d, "groups"), "name", "example.com");
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(g, "preferredVersion"),
	                                                   "groupVersion")),
	                 "example.com/v1");
	ck_assert_ptr_nonnull(find_named(json_object_get(d, "groups"), "name", "autoscaling"));
	ck_assert_ptr_null(find_named(json_object_get(d, "groups"), "name", ""));
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/apis/apps/v1/", NULL, &rep, &h);
	row = find_named(json_object_get(d, "resources"), "name", "deployments/scale");
	ck_assert_ptr_nonnull(row);
	ck_assert_str_eq(json_string_value(json_object_get(row, "group")), "autoscaling");
	ck_assert_str_eq(json_string_value(json_object_get(row, "kind")), "Scale");
	ck_assert_str_eq(json_string_value(json_object_get(d, "groupVersion")), "apps/v1");
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/apis/nope.io/v1", NULL, &rep, &h);
	ck_assert_int_eq(h, 1);
	ck_assert_int_eq(rep.status, 404);
	ck_assert_str_eq(json_string_value(json_object_get(d, "reason")), "NotFound");
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	sim_api_get(r, NULL, "/apis/apps/v1/namespaces/default/deployments", NULL, &rep, &h);
	ck_assert_int_eq(h, 0);
	sim_api_get(r, NULL, "/api/v1/namespaces", NULL, &rep, &h);
	ck_assert_int_eq(h, 0);
	sim_api_get(r, NULL, "/version", NULL, &rep, &h);
	ck_assert_int_eq(h, 0);

	ck_assert_int_eq(sim_registry_remove_crd(r, "widgets.example.com"), 0);
	d = sim_api_get(r, NULL, "/apis", NULL, &rep, &h);
	ck_assert_ptr_null(find_named(json_object_get(d, "groups"), "name", "example.com"));
	json_decref(d);
	cairn_buf_dispose(&rep.body);
	sim_registry_free(r);
}
END_TEST

START_TEST(aggregated_discovery)
{
	sim_registry *r = with_widget();
	sim_http_reply rep;
	int h;
	json_t *d, *item, *res, *sub;

	d = sim_api_get(r, NULL, "/apis",
	                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
	                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
	                "application/json",
	                &rep, &h);
	ck_assert_str_eq(rep.content_type,
	                 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
	ck_assert_str_eq(json_string_value(json_object_get(d, "apiVersion")),
	                 "apidiscovery.k8s.io/v2");
	ck_assert_int_eq(json_array_size(json_object_get(d, "items")),
	                 10); /* with discovery.k8s.io */
	item = json_array_get(json_object_get(d, "items"), 0);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(item, "metadata"), "name")),
	        "apps");
	res = find_named(
	        json_object_get(json_array_get(json_object_get(item, "versions"), 0), "resources"),
	        "resource", "deployments");
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(json_string_value(json_object_get(res, "scope")), "Namespaced");
	sub = find_named(json_object_get(res, "subresources"), "subresource", "scale");
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(sub, "responseKind"), "group")),
	        "autoscaling");
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/api",
	                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
	                "application/json",
	                &rep, &h);
	ck_assert_str_eq(json_string_value(json_object_get(d, "apiVersion")),
	                 "apidiscovery.k8s.io/v2beta1");
	ck_assert_int_eq(json_array_size(json_object_get(d, "items")), 1);
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	/* plain JSON first: the legacy document */
	d = sim_api_get(r, NULL, "/apis",
	                "application/json, application/json;g=apidiscovery.k8s.io;v=v2;"
	                "as=APIGroupDiscoveryList",
	                &rep, &h);
	ck_assert_str_eq(json_string_value(json_object_get(d, "kind")), "APIGroupList");
	json_decref(d);
	cairn_buf_dispose(&rep.body);
	sim_registry_free(r);
}
END_TEST

START_TEST(openapi_from_dir)
{
	sim_registry *r = with_widget();
	sim_http_reply rep;
	char dir[1024];
	int h;
	json_t *d;
	const char *url;

	test_k8s_openapi_dir(dir, sizeof(dir));
	d = sim_api_get(r, dir, "/openapi/v3", "application/json", &rep, &h);
	url = json_string_value(json_object_get(
	        json_object_get(json_object_get(d, "paths"), "apis/apps/v1"), "serverRelativeURL"));
	ck_assert_ptr_nonnull(url);
	ck_assert_int_eq(strncmp(url, "/openapi/v3/apis/apps/v1?hash=", 30), 0);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(d, "paths"), "apis/example.com/v1"));
	ck_assert_ptr_null(json_object_get(json_object_get(d, "paths"), "apis/node.k8s.io/v1"));
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, dir, "/openapi/v3/apis/apps/v1", "application/json", &rep, &h);
	ck_assert_int_eq(rep.status, 200);
	ck_assert_ptr_nonnull(
	        json_object_get(json_object_get(json_object_get(d, "components"), "schemas"),
	                        "io.k8s.api.apps.v1.Deployment"));
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, dir, "/openapi/v2",
	                "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", &rep, &h);
	ck_assert_int_eq(rep.status, 200);
	ck_assert_str_eq(rep.content_type,
	                 "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
	/* field 1 (swagger) "2.0", field 2 (info) of 22 bytes: title, version */
	ck_assert_uint_eq(rep.body.len, 29);
	ck_assert_int_eq(memcmp(rep.body.ptr,
	                        "\x0a\x03"
	                        "2.0\x12\x16\x0a\x0a"
	                        "Kubernetes",
	                        17),
	                 0);
	ck_assert_ptr_null(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, dir, "/openapi/v2", "application/json", &rep, &h);
	ck_assert_int_eq(rep.status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(d, "swagger")), "2.0");
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, dir, "/openapi/v3/apis/node.k8s.io/v1", NULL, &rep, &h);
	ck_assert_int_eq(rep.status, 404);
	json_decref(d);
	cairn_buf_dispose(&rep.body);
	d = sim_api_get(r, dir, "/openapi/v3/apis/../../etc/v1", NULL, &rep, &h);
	ck_assert_int_eq(rep.status, 404);
	json_decref(d);
	cairn_buf_dispose(&rep.body);
	sim_registry_free(r);
}
END_TEST

/* The PATCH operation of a generated document's path, for its parameter names. */
static int has_param(const json_t *doc, const char *path, const char *param)
{
	const json_t *op =
	        json_object_get(json_object_get(json_object_get(doc, "paths"), path), "patch");

	return find_named(json_object_get(op, "parameters"), "name", param) != NULL;
}

START_TEST(openapi_generated)
{
	sim_registry *r = with_widget();
	sim_http_reply rep;
	int h;
	json_t *d, *w;

	d = sim_api_get(r, NULL, "/openapi/v3/apis/apps/v1", NULL, &rep, &h);
	ck_assert_int_eq(rep.status, 200);
	ck_assert(has_param(d, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
	                    "fieldValidation"));
	ck_assert(
	        has_param(d, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "dryRun"));
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/openapi/v3/api/v1", NULL, &rep, &h);
	ck_assert(has_param(d, "/api/v1/namespaces/{name}", "fieldValidation"));
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/openapi/v3/apis/example.com/v1", NULL, &rep, &h);
	w = json_object_get(json_object_get(json_object_get(d, "components"), "schemas"),
	                    "com.example.v1.Widget");
	ck_assert_ptr_nonnull(w);
	w = json_object_get(json_object_get(w, "properties"), "spec");
	w = json_object_get(json_object_get(w, "properties"), "size");
	ck_assert_str_eq(json_string_value(json_object_get(w, "type")), "integer");
	json_decref(d);
	cairn_buf_dispose(&rep.body);

	d = sim_api_get(r, NULL, "/openapi/v2", NULL, &rep, &h);
	ck_assert_ptr_nonnull(
	        json_object_get(json_object_get(d, "definitions"), "io.k8s.api.core.v1.ConfigMap"));
	json_decref(d);
	cairn_buf_dispose(&rep.body);
	sim_registry_free(r);
}
END_TEST

void sim_api_registry_tests(Suite *s)
{
	TCase *tc = tcase_create("registry");

	tcase_add_test(tc, builtin_rows);
	tcase_add_test(tc, crd_put_and_remove);
	tcase_add_test(tc, legacy_discovery);
	tcase_add_test(tc, aggregated_discovery);
	tcase_add_test(tc, openapi_from_dir);
	tcase_add_test(tc, openapi_generated);
	suite_add_tcase(s, tc);
}
