/* sim_traffic.c - the traffic model of cairn-sim: the split of a Service's
 * rate over its ready Pods, exact error counts, histogram buckets from the
 * latency rule, a zero rate and a Service without ready Pods. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "cairn/buf.h"
#include "sim/sim.h"
#include "sim/traffic.h"
#include "testutil.h"

#define SEC 1000000

/* traffic.c answers /admin/traffic through two helpers of the API core,
 * which this suite does not link (nor call). */
int sim__buf_json(cairn_buf *b, const json_t *v);
int sim__reply_status(sim_http_reply *reply, int code, const char *reason, const char *message);
int sim__buf_json(cairn_buf *b, const json_t *v)
{
	(void)b;
	(void)v;
	ck_abort_msg("sim__buf_json is not expected here");
	return -1;
}
int sim__reply_status(sim_http_reply *reply, int code, const char *reason, const char *message)
{
	(void)reply;
	(void)code;
	(void)reason;
	(void)message;
	ck_abort_msg("sim__reply_status is not expected here");
	return -1;
}

struct seen {
	sim_traffic_series s[16];
	size_t n;
};

static int keep(void *ud, const sim_traffic_series *s)
{
	struct seen *v = ud;

	if (v->n < 16)
		v->s[v->n++] = *s; /* the strings stay valid until the next collect */
	return 0;
}

static const sim_traffic_series *find(const struct seen *v, const char *pod)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->s[i].pod, pod))
			return &v->s[i];
	return NULL;
}

static void add_pod(sim_store *st, const char *name, const char *image, int ready)
{
	sim_key k = {"", "pods", "default", name};
	json_t *p = json_pack("{sssss{sss{ss}}s{s[{ssss}]}s{s[{ssss}]}}", "apiVersion", "v1",
	                      "kind", "Pod", "metadata", "name", name, "labels", "app", "web",
	                      "spec", "containers", "name", "c", "image", image, "status",
	                      "conditions", "type", "Ready", "status", ready ? "True" : "False");

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sim_store_create(st, &k, p), 0);
	json_decref(p);
}

static void add_service(sim_store *st, const char *name, const char *app)
{
	sim_key k = {"", "services", "default", name};
	json_t *s = json_pack("{sssss{ss}s{s{ss}}}", "apiVersion", "v1", "kind", "Service",
	                      "metadata", "name", name, "spec", "selector", "app", app);

	ck_assert_int_eq(sim_store_create(st, &k, s), 0);
	json_decref(s);
}

/* Two collections dt seconds apart; the second one's series in v. */
static void run(sim_traffic *t, double dt, struct seen *v)
{
	struct seen first = {.n = 0};

	v->n = 0;
	ck_assert_int_eq(sim_traffic_collect(t, 10 * SEC, keep, &first), 0);
	ck_assert_int_eq(sim_traffic_collect(t, 10 * SEC + (cairn_usec)(dt * SEC), keep, v), 0);
}

START_TEST(split_by_ready_pods_and_exact_errors)
{
	sim_store *st = NULL;
	sim_traffic *t = NULL;
	struct seen v;
	const sim_traffic_series *a, *c, *nr;

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	add_service(st, "web", "web");
	add_pod(st, "s1", "app:v1", 1);
	add_pod(st, "s2", "app:v1", 1);
	add_pod(st, "s3", "app:v1", 1);
	add_pod(st, "c1", "app:v2", 1);
	add_pod(st, "down", "app:v1", 0);
	ck_assert_int_eq(sim_traffic_new(&t, st, 100), 0);
	ck_assert_int_eq(sim_traffic_add_rule(t, "image=*:v2,error_ratio=0.25,code=503"), 0);
	run(t, 2, &v);
	a = find(&v, "s1");
	c = find(&v, "c1");
	nr = find(&v, "down");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(nr);
	/* 100/s over 2 s split over 4 ready Pods; the unready one gets nothing. */
	ck_assert_double_eq_tol(a->count, 50, 1e-9);
	ck_assert_double_eq_tol(c->count, 50, 1e-9);
	ck_assert_double_eq_tol(nr->count, 0, 1e-12);
	ck_assert_double_eq_tol(a->errors, 0, 1e-12);
	ck_assert_double_eq_tol(c->errors, 12.5, 1e-9);
	ck_assert_double_eq_tol(c->ok, 37.5, 1e-9);
	ck_assert_int_eq(c->code, 503);
	ck_assert_str_eq(c->service, "web");
	sim_traffic_free(t);
	sim_store_free(st);
}
END_TEST

START_TEST(histogram_from_p50_p99)
{
	sim_store *st = NULL;
	sim_traffic *t = NULL;
	struct seen v;
	const sim_traffic_series *s;
	const double *b = sim_traffic_bounds();
	int i;

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	add_service(st, "web", "web");
	add_pod(st, "p", "app:v1", 1);
	ck_assert_int_eq(sim_traffic_new(&t, st, 100), 0);
	ck_assert_int_eq(sim_traffic_add_rule(t, "p50_ms=50,p99_ms=400"), 0);
	run(t, 1, &v);
	ck_assert_ptr_nonnull(s = find(&v, "p"));
	ck_assert_double_eq_tol(b[3], 0.05, 1e-12);
	/* Half the requests at or under the median, 99% under the 99th percentile
	 * (0.5 is the first bound above 400 ms); cumulative and never above count. */
	ck_assert_double_eq_tol(s->buckets[3], 50, 1e-6);
	ck_assert(s->buckets[5] < 99 && s->buckets[6] > 99);
	for (i = 1; i < SIM_TRAFFIC_NBUCKETS; i++)
		ck_assert(s->buckets[i] >= s->buckets[i - 1]);
	ck_assert(s->buckets[SIM_TRAFFIC_NBUCKETS - 1] <= s->count);
	ck_assert(s->sum > 100 * 0.05);
	sim_traffic_free(t);

	/* Equal p50 and p99: every request takes exactly that long. */
	ck_assert_int_eq(sim_traffic_new(&t, st, 100), 0);
	ck_assert_int_eq(sim_traffic_add_rule(t, "p50_ms=30,p99_ms=30"), 0);
	run(t, 1, &v);
	ck_assert_ptr_nonnull(s = find(&v, "p"));
	ck_assert_double_eq_tol(s->buckets[2], 0, 1e-9);
	ck_assert_double_eq_tol(s->buckets[3], 100, 1e-9);
	ck_assert_double_eq_tol(s->sum, 3, 1e-9);
	sim_traffic_free(t);
	sim_store_free(st);
}
END_TEST

START_TEST(zero_rate_and_no_ready_pod)
{
	sim_store *st = NULL;
	sim_traffic *t = NULL;
	struct seen v;
	const sim_traffic_series *s;

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	add_service(st, "web", "web");
	add_service(st, "empty", "nothing");
	add_pod(st, "p", "app:v1", 1);
	ck_assert_int_eq(sim_traffic_new(&t, st, 0), 0);
	run(t, 5, &v);
	ck_assert_uint_eq(v.n, 1); /* a Service selecting no Pod has no series */
	ck_assert_ptr_nonnull(s = find(&v, "p"));
	ck_assert_double_eq_tol(s->count, 0, 1e-12);
	ck_assert_double_eq_tol(s->sum, 0, 1e-12);
	sim_traffic_free(t);
	sim_store_free(st);

	/* Only unready Pods: their series exist and stay at zero. */
	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	add_service(st, "web", "web");
	add_pod(st, "q", "app:v1", 0);
	ck_assert_int_eq(sim_traffic_new(&t, st, 100), 0);
	run(t, 5, &v);
	ck_assert_ptr_nonnull(s = find(&v, "q"));
	ck_assert_double_eq_tol(s->count, 0, 1e-12);
	ck_assert_double_eq_tol(s->errors, 0, 1e-12);
	sim_traffic_free(t);
	sim_store_free(st);
}
END_TEST

START_TEST(bad_rule_refused)
{
	sim_store *st = NULL;
	sim_traffic *t = NULL;

	ck_assert_int_eq(sim_store_new(&st, 16), 0);
	ck_assert_int_eq(sim_traffic_new(&t, st, 10), 0);
	ck_assert_int_lt(sim_traffic_add_rule(t, "image=*:v2,error_ratio=2"), 0);
	ck_assert_error_contains("traffic rule 'error_ratio' must be a number from 0 to 1");
	sim_traffic_free(t);
	sim_store_free(st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim_traffic");
	TCase *tc = tcase_create("traffic");

	tcase_add_test(tc, split_by_ready_pods_and_exact_errors);
	tcase_add_test(tc, histogram_from_p50_p99);
	tcase_add_test(tc, zero_rate_and_no_ready_pod);
	tcase_add_test(tc, bad_rule_refused);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
