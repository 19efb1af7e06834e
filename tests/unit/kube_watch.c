/*
 * kube_watch.c - watch, pagination over 10,000 objects, SSA conflicts,
 * status reads, tls-server-name, Retry-After dates and exec credential
 * refresh, against a real cairn-sim over HTTPS (its own instance, started
 * with 10,000 ConfigMaps in namespace "bulk" and a short watch history).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "cairn/kube.h"
#include "cairn/util.h"
#include "kube_tests.h"
#include "testsim.h"
#include "testutil.h"

#define BULK 10000

static test_sim sim;
static char sim_state[sizeof(sim.dir) + 16];

/* The simulator's state file: a namespace and BULK ConfigMaps in it. */
static void write_state(void)
{
	FILE *f = fopen(sim_state, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"rv\":%d}\n", BULK + 10);
	fprintf(f, "{\"g\":\"\",\"p\":\"namespaces\",\"n\":\"\",\"o\":{\"apiVersion\":\"v1\","
	           "\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bulk\",\"uid\":\"u-ns\","
	           "\"resourceVersion\":\"5\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"}}}\n");
	for (int i = 0; i < BULK; i++)
		fprintf(f,
		        "{\"g\":\"\",\"p\":\"configmaps\",\"n\":\"bulk\",\"o\":{\"apiVersion\":"
		        "\"v1\","
		        "\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b%05d\",\"namespace\":"
		        "\"bulk\",\"uid\":\"u-%d\",\"resourceVersion\":\"%d\","
		        "\"creationTimestamp\":"
		        "\"2026-01-01T00:00:00Z\"},\"data\":{\"i\":\"%d\"}}}\n",
		        i, i, i + 6, i);
	ck_assert_int_eq(fclose(f), 0);
}

static void sim_start(void)
{
	static const char *args[] = {"--state", sim_state, "--history", "100", NULL};

	test_sim_init(&sim, "kube-watch");
	snprintf(sim_state, sizeof(sim_state), "%s/state", sim.dir);
	write_state();
	test_sim_start(&sim, "kube-watch", args, 1);
}

static void sim_stop(void)
{
	test_sim_stop(&sim, SIGKILL);
}

static cairn_kube_config *sim_config(const char *ctx)
{
	return test_sim_config(&sim, ctx);
}

static cairn_kube_client *sim_client(const char *ctx, const cairn_kube_client_opts *o)
{
	return test_sim_client(&sim, ctx, o);
}

static void faults(cairn_kube_client *c, const char *json)
{
	ck_assert_int_eq(cairn_kube_request(c, "DELETE", "/admin/faults", NULL, NULL, 0, NULL), 0);
	if (json != NULL)
		ck_assert_int_eq(cairn_kube_request(c, "PUT", "/admin/faults", "application/json",
		                                    json, strlen(json), NULL),
		                 0);
}

static void cm_mapping(cairn_kube_client *c, cairn_kube_mapping *m)
{
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "ConfigMap", m), 0);
}

static void apply_cm(cairn_kube_client *c, const char *name, const char *label, const char *v)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:s}}", "apiVersion", "v1", "kind",
	                      "ConfigMap", "metadata", "name", name, "labels", "w", label, "data",
	                      "v", v);

	ck_assert_int_eq(cairn_kube_apply(c, o, 0, NULL), 0);
	json_decref(o);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- pagination ---- */

START_TEST(list_10000_in_pages)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_mapping m;
	cairn_kube_list_opts lo = {0};
	json_t *l = NULL;
	char *cont = NULL;
	size_t seen = 0, pages = 0;
	const char *last = NULL;
	char prev[32] = "";

	cm_mapping(c, &m);
	lo.limit = 500;
	do {
		json_t *items;
		const char *next;

		lo.continue_ = cont;
		ck_assert_int_eq(cairn_kube_list(c, &m, "bulk", &lo, &l), 0);
		items = json_object_get(l, "items");
		ck_assert_uint_le(json_array_size(items), 500);
		seen += json_array_size(items);
		pages++;
		if (json_array_size(items) > 0) {
			/* pages follow each other in name order, no overlap */
			const char *first = json_string_value(json_object_get(
			        json_object_get(json_array_get(items, 0), "metadata"), "name"));

			ck_assert_str_gt(first, prev);
			last = json_string_value(json_object_get(
			        json_object_get(json_array_get(items, json_array_size(items) - 1),
			                        "metadata"),
			        "name"));
			snprintf(prev, sizeof(prev), "%s", last);
		}
		next = json_string_value(
		        json_object_get(json_object_get(l, "metadata"), "continue"));
		free(cont);
		cont = next != NULL && next[0] != '\0' ? strdup(next) : NULL;
		json_decref(l);
	} while (cont != NULL);
	ck_assert_uint_eq(seen, BULK);
	ck_assert_uint_eq(pages, BULK / 500);
	ck_assert_str_eq(prev, "b09999");
	cairn_kube_client_free(c);
}
END_TEST

/* ---- watch ---- */

typedef struct rec {
	int added, modified, deleted, bookmarks, synthetic;
	int stop_after_deleted; /* stop at the first DELETED */
	int stop_after;         /* stop after this many ADDED/MODIFIED/DELETED (0: never) */
	char names[64][16];     /* ADDED names in order */
	int n_names;
	char deleted_name[32];
} rec;

static int on_event(void *ud, const char *type, json_t *obj, int synthetic)
{
	rec *r = ud;
	const char *name =
	        json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

	r->synthetic += synthetic;
	if (strcmp(type, "ADDED") == 0) {
		r->added++;
		if (r->n_names < 64 && name != NULL)
			snprintf(r->names[r->n_names++], sizeof(r->names[0]), "%s", name);
	} else if (strcmp(type, "MODIFIED") == 0) {
		r->modified++;
	} else if (strcmp(type, "DELETED") == 0) {
		r->deleted++;
		snprintf(r->deleted_name, sizeof(r->deleted_name), "%s", name ? name : "");
		if (r->stop_after_deleted)
			return 1;
	} else if (strcmp(type, "BOOKMARK") == 0) {
		r->bookmarks++;
	}
	if (r->stop_after > 0 && r->added + r->modified + r->deleted >= r->stop_after)
		return 1;
	return 0;
}

typedef struct writer {
	const char *label;
	int n;
	long gap_ms;
	const char *delete_first;  /* delete this object at the end */
	const char *faults_before; /* set before writing */
} writer;

static void *write_thread(void *arg)
{
	writer *wr = arg;
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_mapping m;
	char name[32];

	sleep_ms(300);
	if (wr->faults_before != NULL)
		faults(c, wr->faults_before);
	cm_mapping(c, &m);
	for (int i = 0; i < wr->n; i++) {
		snprintf(name, sizeof(name), "%s%d", wr->label, i);
		apply_cm(c, name, wr->label, "1");
		sleep_ms(wr->gap_ms);
	}
	if (wr->delete_first != NULL)
		ck_assert_int_eq(cairn_kube_delete(c, &m, NULL, wr->delete_first, NULL), 0);
	cairn_kube_client_free(c);
	return NULL;
}

START_TEST(watch_events_in_order)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_watch_opts wo = {0};
	cairn_kube_mapping m;
	writer wr = {"ev", 5, 20, "ev0", NULL};
	rec r = {0};
	pthread_t t;
	char rv[64] = "";

	cm_mapping(c, &m);
	wo.label_selector = "w=ev";
	wo.deadline_ms = 20000;
	r.stop_after_deleted = 1;
	ck_assert_int_eq(pthread_create(&t, NULL, write_thread, &wr), 0);
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, rv, sizeof(rv)), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(r.added, 5);
	ck_assert_int_eq(r.synthetic, 0);
	ck_assert_int_eq(r.deleted, 1);
	ck_assert_str_eq(r.deleted_name, "ev0");
	for (int i = 0; i < 5; i++) {
		char want[16];

		snprintf(want, sizeof(want), "ev%d", i);
		ck_assert_str_eq(r.names[i], want);
	}
	ck_assert_str_ne(rv, "");
	cairn_kube_client_free(c);
}
END_TEST

/* Existing objects come first as synthetic ADDED (the first list). */
START_TEST(watch_lists_first)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_watch_opts wo = {0};
	cairn_kube_mapping m;
	rec r = {0};

	cm_mapping(c, &m);
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "lf%d", i);
		apply_cm(c, name, "lf", "1");
	}
	wo.label_selector = "w=lf";
	wo.list_limit = 2; /* two pages */
	r.stop_after = 3;
	wo.deadline_ms = 10000;
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, NULL, 0), 0);
	ck_assert_int_eq(r.added, 3);
	ck_assert_int_eq(r.synthetic, 3);
	ck_assert_str_eq(r.names[0], "lf0");
	ck_assert_str_eq(r.names[2], "lf2");
	cairn_kube_client_free(c);
}
END_TEST

/* Streams closed by the server every 300 ms: every event once, none lost. */
START_TEST(watch_survives_dropped_streams)
{
	cairn_kube_client *c = sim_client(NULL, NULL), *admin = sim_client(NULL, NULL);
	cairn_kube_watch_opts wo = {0};
	cairn_kube_mapping m;
	writer wr = {"dr", 12, 100, "dr0", NULL};
	rec r = {0};
	pthread_t t;
	uint64_t n0;

	cm_mapping(c, &m);
	faults(admin, "{\"drop_watch_after_ms\":300}");
	wo.label_selector = "w=dr";
	wo.deadline_ms = 20000;
	r.stop_after_deleted = 1;
	n0 = cairn_kube_request_count(c);
	ck_assert_int_eq(pthread_create(&t, NULL, write_thread, &wr), 0);
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, NULL, 0), 0);
	pthread_join(t, NULL);
	faults(admin, NULL);
	ck_assert_int_eq(r.added, 12);
	ck_assert_int_eq(r.deleted, 1);
	ck_assert_int_eq(r.synthetic, 0);
	/* 1.5 s of writes with streams of 0.3 s: several reconnects */
	ck_assert_uint_ge(cairn_kube_request_count(c) - n0, 4);
	cairn_kube_client_free(admin);
	cairn_kube_client_free(c);
}
END_TEST

/* A version older than the history (100 events) is 410 Gone: the watch
 * relists and reports the objects as synthetic events. */
START_TEST(watch_relists_on_gone)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_watch_opts wo = {0};
	cairn_kube_mapping m;
	rec r = {0};

	cm_mapping(c, &m);
	for (int i = 0; i < 110; i++) {
		char name[16];

		snprintf(name, sizeof(name), "gn%d", i % 3);
		apply_cm(c, name, "gn", i % 2 ? "a" : "b");
	}
	wo.label_selector = "w=gn";
	wo.resource_version = "2";
	wo.deadline_ms = 10000;
	r.stop_after = 3;
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, NULL, 0), 0);
	ck_assert_int_eq(r.added, 3);
	ck_assert_int_eq(r.synthetic, 3);
	cairn_kube_client_free(c);
}
END_TEST

/*
 * While the watch cannot get through (every list and watch 410, streams
 * dropped), an object is deleted and another added; once the faults are
 * off the relist reports both: DELETED (synthetic) and ADDED.
 */
typedef struct gone_plan {
	rec *r;
	cairn_kube_client *admin;
} gone_plan;

static int on_gone_event(void *ud, const char *type, json_t *obj, int synthetic)
{
	gone_plan *g = ud;
	int rc = on_event(g->r, type, obj, synthetic);

	if (strcmp(type, "ADDED") == 0 && synthetic && g->r->added == 2) {
		cairn_kube_mapping m;

		/* the callback may use other clients: from now on every list and
		 * watch of configmaps is 410; meanwhile rl0 goes and rl1 comes */
		faults(g->admin, "{\"gone_rate\":1,\"resource\":\"configmaps\"}");
		cm_mapping(g->admin, &m);
		ck_assert_int_eq(cairn_kube_delete(g->admin, &m, NULL, "rl0", NULL), 0);
		apply_cm(g->admin, "rl1", "rl", "1");
	}
	return rc;
}

static void *heal_thread(void *arg)
{
	cairn_kube_client *c = sim_client(NULL, NULL);

	(void)arg;
	sleep_ms(2500);
	faults(c, NULL);
	cairn_kube_client_free(c);
	return NULL;
}

START_TEST(watch_relist_reports_deletions)
{
	cairn_kube_client *c = sim_client(NULL, NULL), *admin = sim_client(NULL, NULL);
	cairn_kube_watch_opts wo = {0};
	cairn_kube_mapping m;
	rec r = {0};
	gone_plan g = {&r, admin};
	pthread_t t;

	cm_mapping(c, &m);
	wo.label_selector = "w=rl";
	wo.deadline_ms = 20000;
	r.stop_after_deleted = 1;
	ck_assert_int_eq(pthread_create(&t, NULL, heal_thread, NULL), 0);
	apply_cm(admin, "rl0", "rl", "1");
	apply_cm(admin, "rlx", "rl", "1");
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_gone_event, &g, NULL, 0), 0);
	pthread_join(t, NULL);
	faults(admin, NULL);
	ck_assert_int_eq(r.deleted, 1);
	ck_assert_str_eq(r.deleted_name, "rl0");
	/* all synthetic: rl0 and rlx from the first list, rl1 and rl0's DELETED from
	 * the relist once the 410s stop (rlx unchanged: not reported again) */
	ck_assert_int_eq(r.synthetic, 4);
	ck_assert_int_eq(r.added, 3);
	ck_assert_str_eq(r.names[2], "rl1");
	cairn_kube_client_free(admin);
	cairn_kube_client_free(c);
}
END_TEST

static volatile int stop_flag;

static void *stop_thread(void *arg)
{
	(void)arg;
	sleep_ms(300);
	stop_flag = 1;
	return NULL;
}

START_TEST(watch_stop_flag_and_deadline)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_watch_opts wo = {0};
	cairn_kube_mapping m;
	rec r = {0};
	pthread_t t;
	int64_t t0;

	cm_mapping(c, &m);
	wo.label_selector = "w=nothing";
	wo.stop = &stop_flag;
	stop_flag = 0;
	t0 = cairn_time_mono();
	ck_assert_int_eq(pthread_create(&t, NULL, stop_thread, NULL), 0);
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, NULL, 0), 0);
	pthread_join(t, NULL);
	ck_assert_int_lt(cairn_time_mono() - t0, 2500 * 1000);
	ck_assert_int_ge(cairn_time_mono() - t0, 300 * 1000);
	wo.stop = NULL;
	wo.deadline_ms = 400;
	t0 = cairn_time_mono();
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, NULL, 0), 0);
	ck_assert_int_lt(cairn_time_mono() - t0, 2500 * 1000);
	ck_assert_int_ge(cairn_time_mono() - t0, 400 * 1000);
	ck_assert_int_eq(r.added + r.modified + r.deleted, 0);
	cairn_kube_client_free(c);
}
END_TEST

/* A watch refused for good (403/404/...) is surfaced, not retried forever;
 * 500s are retried max_failures times, then surfaced. */
START_TEST(watch_errors_surface)
{
	cairn_kube_client_opts o = {0};
	cairn_kube_client *c, *admin = sim_client(NULL, NULL);
	cairn_kube_watch_opts wo = {0};
	cairn_kube_mapping m;
	rec r = {0};
	uint64_t n0;

	o.backoff_base_ms = 10;
	o.backoff_max_ms = 20;
	c = sim_client(NULL, &o);
	cm_mapping(c, &m);
	wo.resource_version = "999999999";
	wo.deadline_ms = 15000;
	wo.max_failures = 3;
	faults(admin, "{\"error_rate\":1,\"error_status\":500,\"resource\":\"configmaps\"}");
	n0 = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, NULL, 0), CAIRN_EIO);
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 500);
	ck_assert_uint_eq(cairn_kube_request_count(c) - n0, 4);
	faults(admin, "{\"error_rate\":1,\"error_status\":403,\"resource\":\"configmaps\"}");
	n0 = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_watch(c, &m, NULL, &wo, on_event, &r, NULL, 0), CAIRN_EPERM);
	ck_assert_uint_eq(cairn_kube_request_count(c) - n0, 1);
	ck_assert_error_contains("WATCH /api/v1/namespaces/default/configmaps?watch=1");
	faults(admin, NULL);
	cairn_kube_client_free(admin);
	cairn_kube_client_free(c);
}
END_TEST

/* ---- the other client features ---- */

/* Without force, applying a field another manager owns is a 409 Conflict,
 * surfaced with its Status and not retried. */
START_TEST(ssa_conflict_without_force)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	static const char body[] = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
	                           "{\"name\":\"own\"},\"data\":{\"v\":\"theirs\"}}";
	uint64_t n0;

	apply_cm(c, "own", "own", "mine");
	n0 = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_request(c, "PATCH",
	                                    "/api/v1/namespaces/default/configmaps/own"
	                                    "?fieldManager=other",
	                                    "application/apply-patch+yaml", body, strlen(body),
	                                    NULL),
	                 CAIRN_EEXISTS);
	ck_assert_uint_eq(cairn_kube_request_count(c) - n0, 1);
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 409);
	ck_assert_str_eq(cairn_kube_last_status(c)->reason, "Conflict");
	ck_assert_error_contains("cairn");
	/* with force=true (what cairn_kube_apply sends) the same write goes through */
	ck_assert_int_eq(cairn_kube_request(c, "PATCH",
	                                    "/api/v1/namespaces/default/configmaps/own"
	                                    "?fieldManager=other&force=true",
	                                    "application/apply-patch+yaml", body, strlen(body),
	                                    NULL),
	                 0);
	cairn_kube_client_free(c);
}
END_TEST

START_TEST(status_subresource)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_mapping m;
	json_t *d = json_loads(
	        "{\"apiVersion\":\"apps/"
	        "v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"st\"},"
	        "\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"a\":\"st\"}},"
	        "\"template\":{\"metadata\":{\"labels\":{\"a\":\"st\"}},\"spec\":{\"containers\":"
	        "[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}",
	        0, NULL);
	json_t *o = NULL;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(cairn_kube_apply(c, d, 0, NULL), 0);
	ck_assert_int_eq(cairn_kube_mapping_for(c, "apps/v1", "Deployment", &m), 0);
	ck_assert_int_eq(cairn_kube_get_status(c, &m, NULL, "st", &o), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "kind")), "Deployment");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
	                 "st");
	json_decref(o);
	ck_assert_int_eq(cairn_kube_get_status(c, &m, NULL, "absent", &o), CAIRN_ENOTFOUND);
	ck_assert_error_contains("/deployments/absent/status: 404");
	json_decref(d);
	cairn_kube_client_free(c);
}
END_TEST

/* tls-server-name: the name the certificate is checked against (the sim's
 * certificate names localhost and 127.0.0.1, not other.example). */
START_TEST(tls_server_name)
{
	cairn_kube_config *cfg = sim_config(NULL);
	cairn_kube_client *c = NULL;
	char v[64];

	free(cfg->tls_server_name);
	cfg->tls_server_name = strdup("localhost");
	ck_assert_int_eq(cairn_kube_client_new(&c, cfg, NULL), 0);
	ck_assert_int_eq(cairn_kube_server_version(c, v, sizeof(v)), 0);
	ck_assert_str_eq(v, "v1.28.15");
	cairn_kube_client_free(c);
	free(cfg->tls_server_name);
	cfg->tls_server_name = strdup("other.example");
	ck_assert_int_eq(cairn_kube_client_new(&c, cfg, NULL), 0);
	ck_assert_int_eq(cairn_kube_server_version(c, v, sizeof(v)), CAIRN_EIO);
	ck_assert_uint_eq(cairn_kube_request_count(c), 1); /* a bad certificate is not retried */
	cairn_kube_client_free(c);
	free(cfg->tls_server_name);
	cfg->tls_server_name = strdup("bad/name");
	ck_assert_int_eq(cairn_kube_client_new(&c, cfg, NULL), CAIRN_EINVAL);
	ck_assert_error_contains("bad tls-server-name 'bad/name'");
	cairn_kube_config_free(cfg);
}
END_TEST

START_TEST(latency_and_conflict_faults)
{
	cairn_kube_client_opts o = {0};
	cairn_kube_client *c, *admin = sim_client(NULL, NULL);
	cairn_kube_mapping m;
	json_t *out = NULL;
	uint64_t n0;
	int64_t t0;

	o.timeout_ms = 300;
	o.deadline_ms = 1000;
	o.backoff_base_ms = 10;
	c = sim_client(NULL, &o);
	cm_mapping(c, &m);
	/* every answer 2 s late: each attempt times out, the call ends at its deadline */
	faults(admin, "{\"latency_ms\":2000,\"resource\":\"configmaps\"}");
	t0 = cairn_time_mono();
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "x", &out), CAIRN_ETIMEOUT);
	ck_assert_int_lt(cairn_time_mono() - t0, 1800 * 1000);
	/* 409 on writes: surfaced at once, never retried */
	faults(admin, "{\"conflict_rate\":1,\"resource\":\"configmaps\"}");
	o.timeout_ms = 5000;
	o.deadline_ms = 10000;
	cairn_kube_client_free(c);
	c = sim_client(NULL, &o);
	cm_mapping(c, &m);
	out = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
	                "name", "cf");
	n0 = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_apply(c, out, 0, NULL), CAIRN_EEXISTS);
	ck_assert_uint_eq(cairn_kube_request_count(c) - n0, 1);
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 409);
	json_decref(out);
	faults(admin, NULL);
	cairn_kube_client_free(admin);
	cairn_kube_client_free(c);
}
END_TEST

/* A one-shot HTTP server: the first answer is a 429 whose Retry-After is an
 * HTTP date an hour ahead, the second the version. */
static int http_fd;

static void *date_server(void *arg)
{
	static const char first[] = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: %s\r\n"
	                            "Content-Length: 0\r\nConnection: close\r\n\r\n";
	static const char second[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                             "Content-Length: 21\r\nConnection: close\r\n\r\n"
	                             "{\"gitVersion\":\"v9.9\"}";
	char buf[4096], resp[512], date[64];
	time_t t = time(NULL) + 3600;
	struct tm tm;

	(void)arg;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	for (int i = 0; i < 2; i++) {
		int fd = accept(http_fd, NULL, NULL);
		int n;

		if (fd < 0)
			break;
		n = (int)read(fd, buf, sizeof(buf));
		(void)n;
		if (i == 0)
			n = snprintf(resp, sizeof(resp), first, date);
		else
			n = snprintf(resp, sizeof(resp), "%s", second);
		(void)!write(fd, resp, (size_t)n);
		close(fd);
	}
	return NULL;
}

START_TEST(retry_after_http_date_capped)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	cairn_kube_config cfg = {0};
	cairn_kube_client_opts o = {0};
	cairn_kube_client *c = NULL;
	pthread_t t;
	char url[64], v[32];
	int64_t t0;
	int rc;

	http_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(http_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(http_fd, 4), 0);
	ck_assert_int_eq(getsockname(http_fd, (struct sockaddr *)&a, &al), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	cfg.server = url;
	o.backoff_base_ms = 10;
	o.retry_after_cap_ms = 700;
	o.max_retries = 2;
	ck_assert_int_eq(cairn_kube_client_new(&c, &cfg, &o), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, date_server, NULL), 0);
	t0 = cairn_time_mono();
	rc = cairn_kube_server_version(c, v, sizeof(v));
	ck_assert_msg(rc == 0, "version: %d %s", rc, cairn_error_last()->message);
	/* the date was read (backoff alone waits ~10 ms) and capped (not an hour) */
	ck_assert_int_ge(cairn_time_mono() - t0, 700 * 1000);
	ck_assert_int_lt(cairn_time_mono() - t0, 5000 * 1000);
	ck_assert_str_eq(v, "v9.9");
	ck_assert_uint_eq(cairn_kube_request_count(c), 2);
	pthread_join(t, NULL);
	close(http_fd);
	cairn_kube_client_free(c);
}
END_TEST

/*
 * An exec plugin (a shell script) whose first credential the server
 * refuses ("stale"), and whose later ones carry the real token; every run
 * is counted in a file. `expiry` is its expirationTimestamp.
 */
static cairn_kube_client *exec_client(const char *expiry, const char *count)
{
	cairn_kube_config *cfg = sim_config(NULL);
	cairn_kubeconfig *kc = NULL;
	cairn_kube_client *c = NULL;
	char plugin[128], kc2[128], env[300], tok[128];
	FILE *f;

	snprintf(tok, sizeof(tok), "%s/token", sim.dir);
	f = fopen(tok, "w");
	fprintf(f, "%s", cfg->token);
	fclose(f);
	snprintf(plugin, sizeof(plugin), "%s/plugin.sh", sim.dir);
	f = fopen(plugin, "w");
	fprintf(f,
	        "#!/bin/sh\necho x >> %s\n"
	        "if [ $(wc -l < %s) -eq 1 ]; then t=stale; else t=$(cat %s); fi\n"
	        "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
	        "\"ExecCredential\",\"status\":{\"token\":\"%%s\",\"expirationTimestamp\":"
	        "\"%s\"}}' \"$t\"\n",
	        count, count, tok, expiry);
	fclose(f);
	chmod(plugin, 0700);
	snprintf(kc2, sizeof(kc2), "%s/kc-exec", sim.dir);
	f = fopen(kc2, "w");
	fprintf(f,
	        "apiVersion: v1\nkind: Config\nusers:\n- name: plug\n  user:\n    exec:\n"
	        "      apiVersion: client.authentication.k8s.io/v1\n      command: %s\n"
	        "contexts:\n- name: plug\n  context: {cluster: cairn-sim, user: plug}\n",
	        plugin);
	fclose(f);
	snprintf(env, sizeof(env), "%s:%s", sim.kc, kc2);
	setenv("KUBECONFIG", env, 1);
	cairn_kube_config_free(cfg);
	ck_assert_int_eq(cairn_kubeconfig_load(&kc, NULL, CAIRN_KUBECONFIG_TRUSTED), 0);
	ck_assert_int_eq(cairn_kube_config_resolve(&cfg, kc, "plug"), 0);
	ck_assert_str_eq(cfg->token, "stale");
	ck_assert_int_eq(cairn_kube_client_new(&c, cfg, NULL), 0);
	cairn_kube_config_free(cfg);
	cairn_kubeconfig_free(kc);
	return c;
}

static int lines_of(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, ch;

	if (f == NULL)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

START_TEST(exec_refresh_on_401)
{
	char count[128], v[32];
	cairn_kube_client *c;

	snprintf(count, sizeof(count), "%s/count401", sim.dir);
	c = exec_client("2999-01-01T00:00:00Z", count);
	ck_assert_int_eq(lines_of(count), 1);
	/* 401 with "stale": the plugin runs again and the call is sent again, once */
	ck_assert_int_eq(cairn_kube_server_version(c, v, sizeof(v)), 0);
	ck_assert_int_eq(lines_of(count), 2);
	ck_assert_uint_eq(cairn_kube_request_count(c), 2);
	ck_assert_int_eq(cairn_kube_server_version(c, v, sizeof(v)), 0);
	ck_assert_int_eq(lines_of(count), 2);
	ck_assert_uint_eq(cairn_kube_request_count(c), 3);
	cairn_kube_client_free(c);
}
END_TEST

START_TEST(exec_refresh_at_expiry)
{
	char count[128], v[32];
	cairn_kube_client *c;

	snprintf(count, sizeof(count), "%s/countexp", sim.dir);
	/* expired at once: the credential is renewed before each call is sent */
	c = exec_client("2020-01-01T00:00:00Z", count);
	ck_assert_int_eq(cairn_kube_server_version(c, v, sizeof(v)), 0);
	ck_assert_int_eq(lines_of(count), 2);
	ck_assert_uint_eq(cairn_kube_request_count(c), 1); /* no 401 first */
	ck_assert_int_eq(cairn_kube_server_version(c, v, sizeof(v)), 0);
	ck_assert_int_eq(lines_of(count), 3);
	cairn_kube_client_free(c);
}
END_TEST

void kube_watch_tests(Suite *s)
{
	TCase *tc = tcase_create("watch");

	tcase_add_unchecked_fixture(tc, sim_start, sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, list_10000_in_pages);
	tcase_add_test(tc, watch_events_in_order);
	tcase_add_test(tc, watch_lists_first);
	tcase_add_test(tc, watch_survives_dropped_streams);
	tcase_add_test(tc, watch_relists_on_gone);
	tcase_add_test(tc, watch_relist_reports_deletions);
	tcase_add_test(tc, watch_stop_flag_and_deadline);
	tcase_add_test(tc, watch_errors_surface);
	tcase_add_test(tc, ssa_conflict_without_force);
	tcase_add_test(tc, status_subresource);
	tcase_add_test(tc, tls_server_name);
	tcase_add_test(tc, latency_and_conflict_faults);
	tcase_add_test(tc, retry_after_http_date_capped);
	tcase_add_test(tc, exec_refresh_on_401);
	tcase_add_test(tc, exec_refresh_at_expiry);
	suite_add_tcase(s, tc);
}
