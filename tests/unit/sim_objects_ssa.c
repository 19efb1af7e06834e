/* sim_objects_ssa.c - server-side apply: managed fields in the FieldsV1
 * encoding, ownership, removal, conflicts and force, the status
 * subresource, and the Update entries of ordinary writes. */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "sim/objects.h"
#include "sim_objects_tests.h"

#define T1 "2026-01-01T00:00:00Z"
#define T2 "2026-01-02T00:00:00Z"

/* An applied Deployment with `replicas` and the container image. */
static json_t *deploy(int replicas, const char *image, const char *extra_label)
{
	json_t *d =
	        json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:i,s:{s:{s:[{s:s,s:s,s:[{s:i}]}]}}}}",
	                  "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", "web",
	                  "namespace", "default", "labels", "app", "web", "spec", "replicas",
	                  replicas, "template", "spec", "containers", "name", "web", "image", image,
	                  "ports", "containerPort", 80);

	ck_assert_ptr_nonnull(d);
	if (extra_label)
		json_object_set_new(json_object_get(json_object_get(d, "metadata"), "labels"),
		                    extra_label, json_string("yes"));
	return d;
}

static json_t *apply(const json_t *live, const json_t *cfg, const char *mgr, int force,
                     const char *now)
{
	sim_apply_opts o = {mgr, force, 0, now};
	json_t *out = NULL;
	int rc = sim_apply(&out, live, cfg, &o);

	ck_assert_msg(rc == 0, "apply by %s: %s", mgr, cairn_error_last()->message);
	return out;
}

static json_t *managed(json_t *obj)
{
	return json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

/* The entry of `mgr` in managedFields, or NULL. */
static json_t *entry_of(json_t *obj, const char *mgr)
{
	size_t i;
	json_t *e;

	json_array_foreach(managed(obj), i,
	                   e) if (strcmp(json_string_value(json_object_get(e, "manager")), mgr) ==
	                          0) return e;
	return NULL;
}

START_TEST(test_apply_create)
{
	json_t *cfg = deploy(2, "nginx:1", NULL), *o = apply(NULL, cfg, "alice", 0, T1);
	json_t *e;

	ck_assert_int_eq(json_array_size(managed(o)), 1);
	e = json_array_get(managed(o), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "manager")), "alice");
	ck_assert_str_eq(json_string_value(json_object_get(e, "operation")), "Apply");
	ck_assert_str_eq(json_string_value(json_object_get(e, "apiVersion")), "apps/v1");
	ck_assert_str_eq(json_string_value(json_object_get(e, "time")), T1);
	ck_assert_str_eq(json_string_value(json_object_get(e, "fieldsType")), "FieldsV1");
	ck_assert_ptr_null(json_object_get(e, "subresource"));
	/* written by hand from the FieldsV1 format: f: fields, k: keyed items
	 * with "." for the item itself, the ports key with its defaulted protocol */
	ck_assert_json_eq(
	        json_object_get(e, "fieldsV1"),
	        "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
	        "\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{"
	        "\"k:{\\\"name\\\":\\\"web\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},"
	        "\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
	        "{\".\":{},\"f:containerPort\":{}}}}}}}}}");
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
	                 "web");
	json_decref(cfg);
	json_decref(o);
}
END_TEST

START_TEST(test_apply_update_and_removal)
{
	json_t *c1 = deploy(2, "nginx:1", "old"), *o1 = apply(NULL, c1, "alice", 0, T1);
	json_t *c2 = deploy(2, "nginx:2", NULL), *o2 = apply(o1, c2, "alice", 0, T2);
	json_t *labels = json_object_get(json_object_get(o2, "metadata"), "labels");

	/* the label alice stopped applying is gone; the image changed */
	ck_assert_ptr_null(json_object_get(labels, "old"));
	ck_assert_ptr_nonnull(json_object_get(labels, "app"));
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_array_get(
	                        json_object_get(
	                                json_object_get(json_object_get(json_object_get(o2, "spec"),
	                                                                "template"),
	                                                "spec"),
	                                "containers"),
	                        0),
	                "image")),
	        "nginx:2");
	ck_assert_int_eq(json_array_size(managed(o2)), 1);
	ck_assert_str_eq(json_string_value(json_object_get(entry_of(o2, "alice"), "time")), T2);
	ck_assert_json_eq(
	        json_object_get(json_object_get(entry_of(o2, "alice"), "fieldsV1"), "f:metadata"),
	        "{\"f:labels\":{\"f:app\":{}}}");
	json_decref(c1);
	json_decref(o1);
	json_decref(c2);
	json_decref(o2);
}
END_TEST

START_TEST(test_apply_co_owned_field_stays)
{
	json_t *ca = deploy(2, "nginx:1", "shared"), *o1 = apply(NULL, ca, "alice", 0, T1);
	json_t *cb = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
	               "\"web\",\"labels\":{\"shared\":\"yes\"}}}");
	json_t *o2 = apply(o1, cb, "bob", 0, T1);
	json_t *ca2 = deploy(2, "nginx:1", NULL), *o3 = apply(o2, ca2, "alice", 0, T2);

	/* same value: no conflict, both own it; alice dropping it leaves bob's */
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(o3, "metadata"), "labels"), "shared")),
	        "yes");
	ck_assert_json_eq(json_object_get(entry_of(o3, "bob"), "fieldsV1"),
	                  "{\"f:metadata\":{\"f:labels\":{\"f:shared\":{}}}}");
	json_decref(ca);
	json_decref(cb);
	json_decref(ca2);
	json_decref(o1);
	json_decref(o2);
	json_decref(o3);
}
END_TEST

START_TEST(test_apply_conflict_and_force)
{
	json_t *ca = deploy(2, "nginx:1", NULL), *o1 = apply(NULL, ca, "alice", 0, T1);
	json_t *cb = deploy(3, "nginx:1", NULL), *out = NULL, *o2;
	sim_apply_opts opts = {"bob", 0, 0, T2};

	ck_assert_int_eq(sim_apply(&out, o1, cb, &opts), CAIRN_EBUSY);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(cairn_error_last()->message,
	                 "Apply failed with 1 conflict: conflict with \"alice\" using apps/v1: "
	                 ".spec.replicas");
	o2 = apply(o1, cb, "bob", 1, T2);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(o2, "spec"), "replicas")), 3);
	/* the field moved: alice keeps the rest, bob owns replicas too */
	ck_assert_ptr_null(json_object_get(
	        json_object_get(json_object_get(entry_of(o2, "alice"), "fieldsV1"), "f:spec"),
	        "f:replicas"));
	ck_assert_ptr_nonnull(json_object_get(
	        json_object_get(json_object_get(entry_of(o2, "bob"), "fieldsV1"), "f:spec"),
	        "f:replicas"));
	json_decref(ca);
	json_decref(cb);
	json_decref(o1);
	json_decref(o2);
}
END_TEST

/* A Service whose selector has `app: web` and, when `hash` is given, the
 * rollout hash key too; `label` adds a metadata label team=<label>. */
static json_t *svc(const char *hash, const char *label)
{
	json_t *s = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:{s:s}}}", "apiVersion", "v1", "kind",
	                      "Service", "metadata", "name", "web", "namespace", "default", "spec",
	                      "selector", "app", "web");

	ck_assert_ptr_nonnull(s);
	if (hash)
		json_object_set_new(json_object_get(json_object_get(s, "spec"), "selector"),
		                    "rollouts-pod-template-hash", json_string(hash));
	if (label)
		json_object_set_new(json_object_get(s, "metadata"), "labels",
		                    json_pack("{s:s}", "team", label));
	return s;
}

static json_t *selector_of(json_t *obj)
{
	return json_object_get(json_object_get(obj, "spec"), "selector");
}

/* Service spec.selector is an atomic map (x-kubernetes-map-type atomic):
 * one field owned as a leaf, conflicting and replaced as a whole. */
START_TEST(test_apply_atomic_map)
{
	json_t *cb = svc("h1", NULL), *ca = svc(NULL, NULL), *out = NULL, *o1, *o2, *o3, *e;
	sim_apply_opts opts = {"alice", 0, 0, T2};

	o1 = apply(NULL, cb, "bob", 0, T1);
	ck_assert_json_eq(json_object_get(entry_of(o1, "bob"), "fieldsV1"),
	                  "{\"f:spec\":{\"f:selector\":{}}}");
	/* a different map conflicts on the whole map, not on a key */
	ck_assert_int_eq(sim_apply(&out, o1, ca, &opts), CAIRN_EBUSY);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(cairn_error_last()->message,
	                 "Apply failed with 1 conflict: conflict with \"bob\" using v1: "
	                 ".spec.selector");
	/* forced, alice's map replaces bob's whole: the hash key goes */
	o2 = apply(o1, ca, "alice", 1, T2);
	ck_assert_json_eq(selector_of(o2), "{\"app\":\"web\"}");
	ck_assert_json_eq(json_object_get(entry_of(o2, "alice"), "fieldsV1"),
	                  "{\"f:spec\":{\"f:selector\":{}}}");
	e = entry_of(o2, "bob");
	ck_assert_ptr_null(
	        e ? json_object_get(json_object_get(json_object_get(e, "fieldsV1"), "f:spec"),
	                            "f:selector")
	          : NULL);
	/* the owner applying a smaller map removes the keys it leaves out */
	o3 = apply(o1, ca, "bob", 0, T2);
	ck_assert_json_eq(selector_of(o3), "{\"app\":\"web\"}");
	json_decref(o3);
	/* the same map applied by a second manager is shared, no conflict */
	o3 = apply(o1, cb, "alice", 0, T2);
	ck_assert_json_eq(selector_of(o3),
	                  "{\"app\":\"web\",\"rollouts-pod-template-hash\":\"h1\"}");
	ck_assert_json_eq(json_object_get(entry_of(o3, "alice"), "fieldsV1"),
	                  "{\"f:spec\":{\"f:selector\":{}}}");
	ck_assert_json_eq(json_object_get(entry_of(o3, "bob"), "fieldsV1"),
	                  "{\"f:spec\":{\"f:selector\":{}}}");
	json_decref(ca);
	json_decref(cb);
	json_decref(o1);
	json_decref(o2);
	json_decref(o3);
}
END_TEST

/* Granular maps (labels) still merge key by key; a Deployment's
 * LabelSelector and its pods' nodeSelector are atomic too. */
START_TEST(test_apply_granular_map_and_nested_atomic)
{
	json_t *ca = svc(NULL, "a"), *cb = svc(NULL, NULL), *o1, *o2, *d, *o3;
	json_t *spec;

	json_object_set_new(json_object_get(cb, "metadata"), "labels",
	                    json_pack("{s:s}", "tier", "front"));
	o1 = apply(NULL, ca, "alice", 0, T1);
	o2 = apply(o1, cb, "bob", 0, T2);
	ck_assert_json_eq(json_object_get(json_object_get(o2, "metadata"), "labels"),
	                  "{\"team\":\"a\",\"tier\":\"front\"}");
	ck_assert_json_eq(json_object_get(entry_of(o2, "bob"), "fieldsV1"),
	                  "{\"f:metadata\":{\"f:labels\":{\"f:tier\":{}}},"
	                  "\"f:spec\":{\"f:selector\":{}}}");
	d = deploy(1, "nginx:1", NULL);
	spec = json_object_get(d, "spec");
	json_object_set_new(spec, "selector", json_pack("{s:{s:s}}", "matchLabels", "app", "web"));
	json_object_set_new(json_object_get(json_object_get(spec, "template"), "spec"),
	                    "nodeSelector", json_pack("{s:s}", "disk", "ssd"));
	o3 = apply(NULL, d, "alice", 0, T1);
	spec = json_object_get(json_object_get(entry_of(o3, "alice"), "fieldsV1"), "f:spec");
	ck_assert_json_eq(json_object_get(spec, "f:selector"), "{}");
	ck_assert_json_eq(
	        json_object_get(json_object_get(json_object_get(spec, "f:template"), "f:spec"),
	                        "f:nodeSelector"),
	        "{}");
	json_decref(ca);
	json_decref(cb);
	json_decref(o1);
	json_decref(o2);
	json_decref(d);
	json_decref(o3);
}
END_TEST

/* A ConfigMap owned by one OwnerReference (an atomic definition), with
 * `controller: true` when `ctl` is set. */
static json_t *owned_cm(int ctl)
{
	json_t *c = json_pack("{s:s,s:s,s:{s:s,s:s,s:[{s:s,s:s,s:s,s:s}]}}", "apiVersion", "v1",
	                      "kind", "ConfigMap", "metadata", "name", "cm", "namespace", "default",
	                      "ownerReferences", "apiVersion", "v1", "kind", "Secret", "name", "s",
	                      "uid", "u1");

	ck_assert_ptr_nonnull(c);
	if (ctl)
		json_object_set_new(json_array_get(json_object_get(json_object_get(c, "metadata"),
		                                                   "ownerReferences"),
		                                   0),
		                    "controller", json_true());
	return c;
}

/* Items of a keyed list whose type is atomic (OwnerReference) are owned by
 * their key alone, conflict as a whole and are replaced whole. */
START_TEST(test_apply_atomic_list_item)
{
	json_t *ca = owned_cm(1), *cb = owned_cm(0), *out = NULL, *o1, *o2, *refs;
	sim_apply_opts opts = {"bob", 0, 0, T2};

	o1 = apply(NULL, ca, "alice", 0, T1);
	ck_assert_json_eq(
	        json_object_get(json_object_get(json_object_get(entry_of(o1, "alice"), "fieldsV1"),
	                                        "f:metadata"),
	                        "f:ownerReferences"),
	        "{\"k:{\\\"uid\\\":\\\"u1\\\"}\":{}}");
	ck_assert_int_eq(sim_apply(&out, o1, cb, &opts), CAIRN_EBUSY);
	ck_assert_str_eq(cairn_error_last()->message,
	                 "Apply failed with 1 conflict: conflict with \"alice\" using v1: "
	                 ".metadata.ownerReferences[uid=\"u1\"]");
	o2 = apply(o1, cb, "bob", 1, T2);
	refs = json_object_get(json_object_get(o2, "metadata"), "ownerReferences");
	ck_assert_int_eq(json_array_size(refs), 1);
	ck_assert_ptr_null(json_object_get(json_array_get(refs, 0), "controller"));
	ck_assert_ptr_null(entry_of(o2, "alice"));
	json_decref(ca);
	json_decref(cb);
	json_decref(o1);
	json_decref(o2);
}
END_TEST

START_TEST(test_apply_two_conflicts_message)
{
	json_t *ca = deploy(2, "nginx:1", NULL), *o1 = apply(NULL, ca, "alice", 0, T1);
	json_t *cb = deploy(3, "nginx:9", NULL), *out = NULL;
	sim_apply_opts opts = {"bob", 0, 0, T2};

	ck_assert_int_eq(sim_apply(&out, o1, cb, &opts), CAIRN_EBUSY);
	ck_assert_str_eq(cairn_error_last()->message,
	                 "Apply failed with 2 conflicts: conflicts with \"alice\" using apps/v1:\n"
	                 "- .spec.replicas\n"
	                 "- .spec.template.spec.containers[name=\"web\"].image");
	json_decref(ca);
	json_decref(cb);
	json_decref(o1);
}
END_TEST

START_TEST(test_managed_update_takes_fields)
{
	json_t *ca = deploy(2, "nginx:1", NULL), *o1 = apply(NULL, ca, "alice", 0, T1);
	json_t *edited = json_deep_copy(o1), *out = NULL;
	sim_apply_opts opts = {"alice", 0, 0, T2};

	json_object_set_new(json_object_get(edited, "spec"), "replicas", json_integer(5));
	ck_assert_int_eq(sim_managed_update(edited, o1, "kubectl-edit", T2), 0);
	ck_assert_str_eq(
	        json_string_value(json_object_get(entry_of(edited, "kubectl-edit"), "operation")),
	        "Update");
	ck_assert_json_eq(json_object_get(entry_of(edited, "kubectl-edit"), "fieldsV1"),
	                  "{\"f:spec\":{\"f:replicas\":{}}}");
	/* Apply sorts before Update */
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(managed(edited), 0), "manager")),
	        "alice");
	/* alice re-applying replicas 2 now conflicts with the editor */
	ck_assert_int_eq(sim_apply(&out, edited, ca, &opts), CAIRN_EBUSY);
	ck_assert_error_contains("conflict with \"kubectl-edit\" using apps/v1: .spec.replicas");
	json_decref(ca);
	json_decref(o1);
	json_decref(edited);
}
END_TEST

START_TEST(test_managed_update_on_create)
{
	json_t *obj =
	        J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
	          "\"namespace\":\"default\"},\"data\":{\"k\":\"v\"}}");

	json_t *svc =
	        J("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":"
	          "\"s\"},\"spec\":{\"type\":\"ClusterIP\"},\"status\":{\"loadBalancer\":{}}}");

	/* a built-in kind's status is not owned through the main resource */
	ck_assert_int_eq(sim_managed_update(svc, NULL, "kubectl-create", T1), 0);
	ck_assert_json_eq(json_object_get(json_array_get(managed(svc), 0), "fieldsV1"),
	                  "{\"f:spec\":{\"f:type\":{}}}");
	json_decref(svc);
	ck_assert_int_eq(sim_managed_update(obj, NULL, "kubectl-client-side-apply", T1), 0);
	ck_assert_json_eq(managed(obj), "[{\"manager\":\"kubectl-client-side-apply\",\"operation\":"
	                                "\"Update\",\"apiVersion\":\"v1\",\"time\":\"" T1 "\","
	                                "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{"
	                                "\"f:k\":{}}}}]");
	json_decref(obj);
}
END_TEST

START_TEST(test_apply_status_subresource)
{
	json_t *ca = deploy(2, "nginx:1", NULL), *o1 = apply(NULL, ca, "alice", 0, T1);
	json_t *st = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
	               "\"web\"},\"spec\":{\"replicas\":7},\"status\":{\"replicas\":2}}");
	sim_apply_opts opts = {"ctrl", 0, 1, T2};
	json_t *out = NULL, *e;

	ck_assert_int_eq(sim_apply(&out, o1, st, &opts), 0);
	/* only the status is touched through the subresource */
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 2);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(out, "status"), "replicas")), 2);
	e = entry_of(out, "ctrl");
	ck_assert_str_eq(json_string_value(json_object_get(e, "subresource")), "status");
	ck_assert_json_eq(json_object_get(e, "fieldsV1"), "{\"f:status\":{\"f:replicas\":{}}}");
	json_decref(ca);
	json_decref(o1);
	json_decref(st);
	json_decref(out);
}
END_TEST

START_TEST(test_apply_list_items_and_sets)
{
	json_t *c1 = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
	               "\"finalizers\":[\"x/y\"]},\"spec\":{\"containers\":[{\"name\":\"a\","
	               "\"image\":\"i\",\"args\":[\"1\"]},{\"name\":\"b\",\"image\":\"j\"}]}}");
	json_t *o1 = apply(NULL, c1, "alice", 0, T1);
	json_t *c2 = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
	               "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}");
	json_t *o2 = apply(o1, c2, "alice", 0, T2);

	ck_assert_json_eq(
	        json_object_get(entry_of(o1, "alice"), "fieldsV1"),
	        "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"x/y\\\"\":{}}},"
	        "\"f:spec\":{\"f:containers\":{"
	        "\"k:{\\\"name\\\":\\\"a\\\"}\":{\".\":{},\"f:args\":{},\"f:image\":{},"
	        "\"f:name\":{}},"
	        "\"k:{\\\"name\\\":\\\"b\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}");
	/* container b, its args and the finalizer are no longer applied: removed */
	ck_assert_json_eq(json_object_get(o2, "spec"),
	                  "{\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}");
	ck_assert_int_eq(
	        json_array_size(json_object_get(json_object_get(o2, "metadata"), "finalizers")), 0);
	json_decref(c1);
	json_decref(o1);
	json_decref(c2);
	json_decref(o2);
}
END_TEST

/* spec.template.spec of a Deployment (borrowed). */
static json_t *at_spec(json_t *d)
{
	return json_object_get(json_object_get(json_object_get(d, "spec"), "template"), "spec");
}

START_TEST(test_apply_errors)
{
	json_t *c = deploy(1, "x", NULL), *out = NULL;
	json_t *nokind = J("{\"apiVersion\":\"v1\"}");
	sim_apply_opts none = {NULL, 0, 0, T1}, ok = {"m", 0, 0, T1};

	ck_assert_int_eq(sim_apply(&out, NULL, c, &none), CAIRN_EINVAL);
	ck_assert_error_contains("requires fieldManager parameter");
	ck_assert_int_eq(sim_apply(&out, NULL, nokind, &ok), CAIRN_EINVAL);
	ck_assert_error_contains("has no kind");
	ck_assert_ptr_null(out);
	json_array_append_new(
	        json_object_get(at_spec(c), "containers"),
	        json_deep_copy(json_array_get(json_object_get(at_spec(c), "containers"), 0)));
	ck_assert_int_eq(sim_apply(&out, NULL, c, &ok), CAIRN_EINVAL);
	ck_assert_str_eq(
	        cairn_error_last()->message,
	        ".spec.template.spec.containers: duplicate entries for key [name=\"web\"]");
	json_object_del(json_array_get(json_object_get(at_spec(c), "containers"), 1), "name");
	ck_assert_int_eq(sim_apply(&out, NULL, c, &ok), CAIRN_EINVAL);
	ck_assert_str_eq(
	        cairn_error_last()->message,
	        ".spec.template.spec.containers: element 1: associative list with keys has "
	        "an element that omits key field \"name\"");
	ck_assert_ptr_null(out);
	json_decref(c);
	json_decref(nokind);
}
END_TEST

START_TEST(test_apply_noop_keeps_time)
{
	json_t *c = deploy(2, "nginx:1", NULL), *o1 = apply(NULL, c, "alice", 0, T1);
	json_t *o2 = apply(o1, c, "alice", 0, T2), *c3 = deploy(4, "nginx:1", NULL);
	json_t *o3 = apply(o2, c3, "alice", 0, T2);

	/* the same configuration again changes nothing, not even the time */
	ck_assert(json_equal(o1, o2));
	ck_assert_str_eq(json_string_value(json_object_get(entry_of(o3, "alice"), "time")), T2);
	json_decref(c);
	json_decref(c3);
	json_decref(o1);
	json_decref(o2);
	json_decref(o3);
}
END_TEST

void sim_objects_ssa_tests(Suite *s)
{
	TCase *tc = tcase_create("apply");

	tcase_add_test(tc, test_apply_create);
	tcase_add_test(tc, test_apply_update_and_removal);
	tcase_add_test(tc, test_apply_co_owned_field_stays);
	tcase_add_test(tc, test_apply_conflict_and_force);
	tcase_add_test(tc, test_apply_two_conflicts_message);
	tcase_add_test(tc, test_apply_atomic_map);
	tcase_add_test(tc, test_apply_atomic_list_item);
	tcase_add_test(tc, test_apply_granular_map_and_nested_atomic);
	tcase_add_test(tc, test_managed_update_takes_fields);
	tcase_add_test(tc, test_managed_update_on_create);
	tcase_add_test(tc, test_apply_status_subresource);
	tcase_add_test(tc, test_apply_list_items_and_sets);
	tcase_add_test(tc, test_apply_errors);
	tcase_add_test(tc, test_apply_noop_keeps_time);
	suite_add_tcase(s, tc);
}
