/* sim_server_store.c - the object store: versions, concurrency, pagination,
 * dependents, persistence and watch history. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "sim/sim.h"
#include "sim_server_tests.h"
#include "testutil.h"

static json_t *cm(const char *name, const char *val)
{
	return json_pack("{sssss{ss}s{ss}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
	                 "name", name, "data", "k", val);
}

static json_t *deploy(const char *name, int replicas)
{
	return json_pack("{sssss{ss}s{si}}", "apiVersion", "apps/v1", "kind", "Deployment",
	                 "metadata", "name", name, "spec", "replicas", replicas);
}

static const char *meta_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), k));
}

START_TEST(create_stamps_and_versions)
{
	sim_store *st = NULL;
	sim_key k = {"", "configmaps", "default", "a"};
	json_t *o = cm("a", "1"), *got = NULL;
	unsigned long long rv1;

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	ck_assert_int_eq(sim_store_create(st, &k, o), 0);
	ck_assert_ptr_nonnull(meta_str(o, "uid"));
	ck_assert_int_eq(strlen(meta_str(o, "uid")), 36);
	ck_assert_ptr_nonnull(meta_str(o, "creationTimestamp"));
	ck_assert_ptr_null(json_object_get(json_object_get(o, "metadata"), "generation"));
	rv1 = strtoull(meta_str(o, "resourceVersion"), NULL, 10);
	ck_assert_uint_eq(rv1, sim_store_rv(st));
	ck_assert_int_eq(sim_store_get(st, &k, &got), 0);
	ck_assert(json_equal(got, o));
	json_decref(got);
	/* A second create of the same key is refused. */
	json_t *dup = cm("a", "2");
	ck_assert_int_eq(sim_store_create(st, &k, dup), CAIRN_EEXISTS);
	ck_assert_error_contains("already exists");
	json_decref(dup);
	/* The same name in another namespace is another object. */
	sim_key k2 = {"", "configmaps", "other", "a"};
	json_t *o2 = cm("a", "3");
	ck_assert_int_eq(sim_store_create(st, &k2, o2), 0);
	ck_assert_uint_gt(strtoull(meta_str(o2, "resourceVersion"), NULL, 10), rv1);
	ck_assert_str_ne(meta_str(o2, "uid"), meta_str(o, "uid"));
	ck_assert_uint_eq(sim_store_count(st), 2);
	json_decref(o);
	json_decref(o2);
	sim_store_free(st);
}
END_TEST

START_TEST(optimistic_concurrency_and_generation)
{
	sim_store *st = NULL;
	sim_key k = {"apps", "deployments", "default", "web"};
	json_t *d = deploy("web", 1), *u, *got = NULL;
	char stale[32];

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	ck_assert_int_eq(sim_store_create(st, &k, d), 0);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(d, "metadata"), "generation")),
	        1);
	snprintf(stale, sizeof stale, "%s", meta_str(d, "resourceVersion"));
	/* Spec change: generation 2. */
	u = json_deep_copy(d);
	json_object_set_new(json_object_get(u, "spec"), "replicas", json_integer(3));
	ck_assert_int_eq(sim_store_update(st, &k, u), 0);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(u, "metadata"), "generation")),
	        2);
	ck_assert_str_eq(meta_str(u, "uid"), meta_str(d, "uid"));
	/* Stale resourceVersion: conflict, nothing stored. */
	json_t *s = json_deep_copy(d);
	json_object_set_new(json_object_get(s, "spec"), "replicas", json_integer(9));
	ck_assert_int_eq(sim_store_update(st, &k, s), CAIRN_EBUSY);
	ck_assert_error_contains("the object has been modified");
	ck_assert_int_eq(sim_store_get(st, &k, &got), 0);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(got, "spec"), "replicas")), 3);
	/* Label and status changes keep the generation. */
	json_object_set_new(json_object_get(got, "metadata"), "labels",
	                    json_pack("{ss}", "a", "b"));
	json_object_set_new(got, "status", json_pack("{si}", "replicas", 3));
	ck_assert_int_eq(sim_store_update(st, &k, got), 0);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(got, "metadata"), "generation")),
	        2);
	ck_assert_str_ne(meta_str(got, "resourceVersion"), meta_str(u, "resourceVersion"));
	sim_key missing = {"apps", "deployments", "default", "nope"};
	ck_assert_int_eq(sim_store_update(st, &missing, s), CAIRN_ENOTFOUND);
	json_decref(got);
	json_decref(s);
	json_decref(u);
	json_decref(d);
	sim_store_free(st);
}
END_TEST

struct iterc {
	char names[64][64];
	int n, stop_at;
};

static int iter_cb(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
	struct iterc *c = ud;

	(void)json;
	(void)len;
	snprintf(c->names[c->n++], 64, "%s/%s", ns, name);
	return c->stop_at && c->n >= c->stop_at ? 1 : 0;
}

START_TEST(ordered_iteration_and_continue)
{
	sim_store *st = NULL;
	const char *nss[] = {"b", "a", "b", "a", "c"};
	const char *names[] = {"x", "y", "a", "a", "m"};
	struct iterc c = {0};

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	for (int i = 0; i < 5; i++) {
		sim_key k = {"", "configmaps", nss[i], names[i]};
		json_t *o = cm(names[i], "v");
		ck_assert_int_eq(sim_store_create(st, &k, o), 0);
		json_decref(o);
	}
	ck_assert_int_eq(sim_store_iter(st, "", "configmaps", NULL, NULL, iter_cb, &c), 0);
	ck_assert_int_eq(c.n, 5);
	ck_assert_str_eq(c.names[0], "a/a");
	ck_assert_str_eq(c.names[1], "a/y");
	ck_assert_str_eq(c.names[2], "b/a");
	ck_assert_str_eq(c.names[4], "c/m");
	/* One namespace only. */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(sim_store_iter(st, "", "configmaps", "b", NULL, iter_cb, &c), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.names[1], "b/x");
	/* A page of two, then continue after the last key. */
	memset(&c, 0, sizeof c);
	c.stop_at = 2;
	sim_store_iter(st, "", "configmaps", NULL, NULL, iter_cb, &c);
	ck_assert_int_eq(c.n, 2);
	c.n = 0;
	c.stop_at = 0;
	sim_store_iter(st, "", "configmaps", NULL, "a/y", iter_cb, &c);
	ck_assert_int_eq(c.n, 3);
	ck_assert_str_eq(c.names[0], "b/a");
	/* Other resources are separate. */
	memset(&c, 0, sizeof c);
	sim_store_iter(st, "", "secrets", NULL, NULL, iter_cb, &c);
	ck_assert_int_eq(c.n, 0);
	sim_store_free(st);
}
END_TEST

START_TEST(dependents_and_namespace_keys)
{
	sim_store *st = NULL;
	sim_key kd = {"apps", "deployments", "default", "web"};
	sim_key kr = {"apps", "replicasets", "default", "web-1"};
	sim_key kc = {"", "configmaps", "other", "c"};
	json_t *d = deploy("web", 1), *rs = deploy("web-1", 1), *c = cm("c", "v"), *keys = NULL;

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	ck_assert_int_eq(sim_store_create(st, &kd, d), 0);
	json_object_set_new(rs, "kind", json_string("ReplicaSet"));
	json_object_set_new(json_object_get(rs, "metadata"), "ownerReferences",
	                    json_pack("[{ssssssss}]", "apiVersion", "apps/v1", "kind", "Deployment",
	                              "name", "web", "uid", meta_str(d, "uid")));
	ck_assert_int_eq(sim_store_create(st, &kr, rs), 0);
	ck_assert_int_eq(sim_store_create(st, &kc, c), 0);
	ck_assert_int_eq(sim_store_dependents(st, meta_str(d, "uid"), &keys), 0);
	ck_assert_int_eq(json_array_size(keys), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 0), "name")),
	                 "web-1");
	json_decref(keys);
	ck_assert_int_eq(sim_store_dependents(st, meta_str(rs, "uid"), &keys), 0);
	ck_assert_int_eq(json_array_size(keys), 0);
	json_decref(keys);
	ck_assert_int_eq(sim_store_namespaced_keys(st, "other", &keys), 0);
	ck_assert_int_eq(json_array_size(keys), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 0), "plural")),
	                 "configmaps");
	json_decref(keys);
	json_t *gone = NULL;
	ck_assert_int_eq(sim_store_delete(st, &kd, &gone), 0);
	ck_assert_str_ne(meta_str(gone, "resourceVersion"), meta_str(d, "resourceVersion"));
	ck_assert_int_eq(sim_store_delete(st, &kd, NULL), CAIRN_ENOTFOUND);
	json_decref(gone);
	json_decref(d);
	json_decref(rs);
	json_decref(c);
	sim_store_free(st);
}
END_TEST

START_TEST(persistence_round_trip)
{
	char path[] = "/tmp/cairn-sim-state-XXXXXX";
	int fd = mkstemp(path);
	sim_store *st = NULL, *st2 = NULL;
	sim_key k = {"apps", "deployments", "default", "web"};
	json_t *d = deploy("web", 4), *got = NULL;
	uint64_t rv;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	ck_assert_int_eq(sim_store_create(st, &k, d), 0);
	rv = sim_store_rv(st);
	ck_assert_int_eq(sim_store_save(st, path), 0);
	ck_assert_int_eq(sim_store_new(&st2, 16), 0);
	ck_assert_int_eq(sim_store_load(st2, path), 0);
	ck_assert_uint_eq(sim_store_rv(st2), rv);
	ck_assert_int_eq(sim_store_get(st2, &k, &got), 0);
	ck_assert(json_equal(got, d));
	/* New writes after a reload continue the version sequence. */
	json_t *c = cm("x", "y");
	sim_key kc = {"", "configmaps", "default", "x"};
	ck_assert_int_eq(sim_store_create(st2, &kc, c), 0);
	ck_assert_uint_gt(strtoull(meta_str(c, "resourceVersion"), NULL, 10), rv);
	/* A malformed state file is refused with its line. */
	FILE *f = fopen(path, "w");
	fputs("{\"rv\":3}\nnot json\n", f);
	fclose(f);
	sim_store *st3 = NULL;
	ck_assert_int_eq(sim_store_new(&st3, 16), 0);
	ck_assert_int_ne(sim_store_load(st3, path), 0);
	sim_store_free(st3);
	unlink(path);
	json_decref(c);
	json_decref(got);
	json_decref(d);
	sim_store_free(st);
	sim_store_free(st2);
}
END_TEST

START_TEST(watch_events_and_gone)
{
	sim_store *st = NULL;
	sim_watch *w = NULL, *w2 = NULL;
	sim_key k = {"", "configmaps", "default", "a"};
	sim_key ks = {"", "secrets", "default", "s"};
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);
	json_t *o = cm("a", "1"), *s = cm("s", "1");

	ck_assert_int_eq(sim_store_new(&st, 3), 0);
	ck_assert_int_eq(sim_watch_open(st, &w, "", "configmaps", NULL, 0), 0);
	ck_assert_int_eq(sim_watch_next(w, &b, 10), 0);    /* nothing yet */
	ck_assert_int_eq(sim_store_create(st, &ks, s), 0); /* another resource */
	ck_assert_int_eq(sim_store_create(st, &k, o), 0);
	ck_assert_int_eq(sim_watch_next(w, &b, 1000), 1);
	ck_assert(strstr(b.ptr, "{\"type\":\"ADDED\",\"object\":") == b.ptr);
	ck_assert_ptr_nonnull(strstr(b.ptr, "\"name\":\"a\""));
	cairn_buf_reset(&b);
	ck_assert_int_eq(sim_store_delete(st, &k, NULL), 0);
	ck_assert_int_eq(sim_watch_next(w, &b, 1000), 1);
	ck_assert(strstr(b.ptr, "{\"type\":\"DELETED\"") == b.ptr);
	/* Push the ring past its capacity: an old version is gone (410). */
	for (int i = 0; i < 5; i++) {
		char n[8];
		snprintf(n, sizeof n, "n%d", i);
		sim_key kn = {"", "configmaps", "default", n};
		json_t *x = cm(n, "v");
		ck_assert_int_eq(sim_store_create(st, &kn, x), 0);
		json_decref(x);
	}
	ck_assert_int_eq(sim_watch_open(st, &w2, "", "configmaps", NULL, 2), CAIRN_ELIMIT);
	ck_assert_error_contains("too old resource version");
	cairn_buf_reset(&b);
	ck_assert_int_eq(sim_watch_next(w, &b, 10), CAIRN_ELIMIT);
	sim_watch_close(w);
	cairn_buf_dispose(&b);
	json_decref(o);
	json_decref(s);
	sim_store_free(st);
}
END_TEST

struct writer {
	sim_store *st;
	int id;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;

	for (int i = 0; i < 200; i++) {
		char n[32];
		snprintf(n, sizeof n, "w%d-%d", wr->id, i);
		sim_key k = {"", "configmaps", "default", n};
		json_t *o = cm(n, "v");
		if (sim_store_create(wr->st, &k, o) != 0)
			abort();
		json_decref(o);
	}
	return NULL;
}

START_TEST(concurrent_writers_get_unique_versions)
{
	sim_store *st = NULL;
	pthread_t t[4];
	struct writer wr[4];
	sim_watch *w = NULL;
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);
	int events = 0;

	ck_assert_int_eq(sim_store_new(&st, 1000), 0);
	ck_assert_int_eq(sim_watch_open(st, &w, "", "configmaps", "default", 0), 0);
	for (int i = 0; i < 4; i++) {
		wr[i].st = st;
		wr[i].id = i;
		pthread_create(&t[i], NULL, writer_main, &wr[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(sim_store_count(st), 800);
	ck_assert_uint_eq(sim_store_rv(st), 1 + 800);
	while (sim_watch_next(w, &b, 10) == 1)
		events++;
	ck_assert_int_eq(events, 800);
	sim_watch_close(w);
	cairn_buf_dispose(&b);
	sim_store_free(st);
}
END_TEST

/* The API server writes metav1.Time with whole seconds: no ".000000". */
static int is_whole_second_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

	if (!s || strlen(s) != sizeof shape - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return 0;
	return 1;
}

START_TEST(timestamps_are_whole_seconds)
{
	sim_store *st = NULL;
	sim_key k = {"", "configmaps", "default", "t"};
	json_t *o = cm("t", "1");
	char ts[CAIRN_TIME_RFC3339_LEN];

	/* 2026-11-27T00:07:32.999999Z and a time before the epoch with a fraction. */
	sim_time_format(ts, (cairn_usec)1795738052 * 1000000 + 999999);
	ck_assert_str_eq(ts, "2026-11-27T00:07:32Z");
	sim_time_format(ts, -1);
	ck_assert_str_eq(ts, "1969-12-31T23:59:59Z");
	sim_time_now(ts);
	ck_assert_msg(is_whole_second_time(ts), "sim_time_now gave '%s'", ts);
	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	ck_assert_int_eq(sim_store_create(st, &k, o), 0);
	ck_assert_msg(is_whole_second_time(meta_str(o, "creationTimestamp")),
	              "creationTimestamp '%s'", meta_str(o, "creationTimestamp"));
	json_decref(o);
	/* kubectl create sends "creationTimestamp": null; the server stamps it. */
	k.name = "n";
	o = cm("n", "1");
	json_object_set_new(json_object_get(o, "metadata"), "creationTimestamp", json_null());
	ck_assert_int_eq(sim_store_create(st, &k, o), 0);
	ck_assert_msg(is_whole_second_time(meta_str(o, "creationTimestamp")),
	              "creationTimestamp after null '%s'", meta_str(o, "creationTimestamp"));
	json_decref(o);
	sim_store_free(st);
}
END_TEST

void sim_server_store_tests(Suite *s)
{
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, create_stamps_and_versions);
	tcase_add_test(tc, timestamps_are_whole_seconds);
	tcase_add_test(tc, optimistic_concurrency_and_generation);
	tcase_add_test(tc, ordered_iteration_and_continue);
	tcase_add_test(tc, dependents_and_namespace_keys);
	tcase_add_test(tc, persistence_round_trip);
	tcase_add_test(tc, watch_events_and_gone);
	tcase_add_test(tc, concurrent_writers_get_unique_versions);
	suite_add_tcase(s, tc);
}
