/*
 * test_sched.c - cairnd's scheduler (cairn/sched.h) with a fake reconcile
 * function: one run at a time per app, coalescing, back-off, polling,
 * stop with a grace period, metrics.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/sched.h"
#include "testutil.h"

/* The fake: counts runs per app, notes overlap, can block and can fail. */
struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int runs[4];
	int active[4];
	int max_active[4];
	int overlap;   /* two runs of one app at once */
	int block;     /* runs wait while set */
	int fail;      /* bit i set: runs of app i return an error */
	int sleep_ms;  /* each run lasts this long */
	int in_flight; /* all apps */
	char last_reason[32];
};

static int app_index(const char *app)
{
	return app[0] - 'a';
}

static int fake_fn(void *ud, const char *app, const char *reason)
{
	struct fake *f = ud;
	int i = app_index(app), rc;

	pthread_mutex_lock(&f->mu);
	if (f->active[i]++ > 0)
		f->overlap = 1;
	if (f->active[i] > f->max_active[i])
		f->max_active[i] = f->active[i];
	f->in_flight++;
	snprintf(f->last_reason, sizeof(f->last_reason), "%s", reason);
	pthread_cond_broadcast(&f->cv);
	while (f->block)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	if (f->sleep_ms)
		usleep((useconds_t)f->sleep_ms * 1000);
	pthread_mutex_lock(&f->mu);
	f->active[i]--;
	f->in_flight--;
	f->runs[i]++;
	rc = (f->fail >> i) & 1 ? cairn_error_set(CAIRN_ERROR, "fake failure") : 0;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
}

/* Wait (bounded, 5 s) until runs[i] >= n; returns the count seen. */
static int wait_runs(struct fake *f, int i, int n)
{
	int v;

	for (int k = 0; k < 500; k++) {
		pthread_mutex_lock(&f->mu);
		v = f->runs[i];
		pthread_mutex_unlock(&f->mu);
		if (v >= n)
			return v;
		usleep(10000);
	}
	return v;
}

static void wait_in_flight(struct fake *f, int n)
{
	pthread_mutex_lock(&f->mu);
	while (f->in_flight < n)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

static void set_block(struct fake *f, int v)
{
	pthread_mutex_lock(&f->mu);
	f->block = v;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static cairn_sched *make(struct fake *f, unsigned workers, int64_t poll_ms)
{
	static const char *const names[] = {"a", "b", "c", "d"};
	cairn_sched_opts o = CAIRN_SCHED_OPTS_INIT;
	cairn_sched *s = NULL;

	o.workers = workers;
	o.poll_ms = poll_ms;
	/* long enough that a loaded machine's scheduling delays (hundreds of
	 * ms) cannot be mistaken for a back-off that ended early */
	o.backoff_min_ms = 1000;
	o.backoff_max_ms = 4000;
	o.fn = fake_fn;
	o.ud = f;
	ck_assert_int_eq(cairn_sched_new(&s, &o), 0);
	ck_assert_int_eq(cairn_sched_set_apps(s, names, 4, 0), 0);
	ck_assert_int_eq(cairn_sched_start(s), 0);
	return s;
}

/* Triggers while an app runs fold into exactly one more run, never overlapping. */
START_TEST(coalesce_while_running)
{
	struct fake f;
	cairn_sched *s;
	cairn_sched_app_info info;

	fake_init(&f);
	s = make(&f, 4, -1);
	f.block = 1;
	ck_assert_int_eq(cairn_sched_trigger(s, "a", "push"), 0);
	wait_in_flight(&f, 1);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(cairn_sched_trigger(s, "a", "push"), 0);
	ck_assert_int_eq(cairn_sched_info(s, "a", &info), 0);
	ck_assert_int_eq(info.running, 1);
	ck_assert_int_eq(info.pending, 1);
	ck_assert_uint_eq(info.coalesced, 9);
	set_block(&f, 0);
	ck_assert_int_eq(wait_runs(&f, 0, 2), 2);
	usleep(100000);
	ck_assert_int_eq(f.runs[0], 2); /* not 11 */
	ck_assert_int_eq(f.overlap, 0);
	ck_assert_str_eq(f.last_reason, "coalesced");
	cairn_sched_free(s);
}
END_TEST

/* Many triggers from many threads on a few apps: never two runs of one app at once. */
static void *hammer(void *arg)
{
	cairn_sched *s = arg;
	static const char *const names[] = {"a", "b", "c", "d"};

	for (int i = 0; i < 200; i++) {
		cairn_sched_trigger(s, names[i % 4], "webhook");
		if (i % 20 == 0)
			usleep(1000);
	}
	return NULL;
}

START_TEST(one_at_a_time)
{
	struct fake f;
	cairn_sched *s;
	pthread_t t[4];
	size_t queued = 1, running = 1;

	fake_init(&f);
	f.sleep_ms = 2;
	s = make(&f, 8, -1);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, s);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int k = 0; k < 500 && (queued || running); k++) {
		usleep(10000);
		cairn_sched_counts(s, &queued, &running, NULL);
	}
	ck_assert_uint_eq(queued + running, 0);
	ck_assert_int_eq(f.overlap, 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(f.max_active[i], 1);
		ck_assert_int_ge(f.runs[i], 1);
		ck_assert_int_lt(f.runs[i], 200); /* coalesced, not one run per trigger */
	}
	cairn_sched_free(s);
}
END_TEST

/* A failing app is backed off (doubling, capped) before polls; success clears it. */
START_TEST(backoff)
{
	struct fake f;
	cairn_sched *s;
	cairn_sched_app_info info;
	cairn_usec before;

	fake_init(&f);
	f.fail = 1 << 1;     /* "b" fails, "a" does not */
	s = make(&f, 2, 50); /* polls every ~50 ms, back-off 1..4 s */
	ck_assert_int_eq(cairn_sched_trigger(s, "b", "api"), 0);
	ck_assert_int_ge(wait_runs(&f, 1, 1), 1);
	usleep(20000);
	ck_assert_int_eq(cairn_sched_info(s, "b", &info), 0);
	ck_assert_uint_eq(info.failures, 1);
	ck_assert_int_eq(info.last_rc, CAIRN_ERROR);
	before = cairn_time_mono();
	ck_assert_int_gt(info.retry_at, before + 500000); /* ~1 s away */
	/* in 300 ms an unbacked app polls ~6 times; the failing one not again */
	usleep(300000);
	ck_assert_int_eq(f.runs[1], 1);
	ck_assert_int_ge(f.runs[0], 2);
	/* the second failure doubles the back-off */
	ck_assert_int_ge(wait_runs(&f, 1, 2), 2);
	usleep(20000);
	ck_assert_int_eq(cairn_sched_info(s, "b", &info), 0);
	ck_assert_uint_eq(info.failures, 2);
	ck_assert_int_gt(info.retry_at, cairn_time_mono() + 1250000); /* ~2 s away */
	/* an explicit trigger ignores the back-off; success resets it */
	pthread_mutex_lock(&f.mu);
	f.fail = 0;
	pthread_mutex_unlock(&f.mu);
	ck_assert_int_eq(cairn_sched_trigger(s, "b", "push"), 0);
	ck_assert_int_ge(wait_runs(&f, 1, 3), 3);
	usleep(20000);
	ck_assert_int_eq(cairn_sched_info(s, "b", &info), 0);
	ck_assert_uint_eq(info.failures, 0);
	ck_assert_int_eq(info.retry_at, 0);
	cairn_sched_free(s);
}
END_TEST

START_TEST(unknown_and_reload)
{
	struct fake f;
	cairn_sched *s;
	static const char *const fewer[] = {"a", "c"};

	fake_init(&f);
	s = make(&f, 1, -1);
	ck_assert_int_eq(cairn_sched_trigger(s, "zz", "push"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("unknown application 'zz'");
	ck_assert_int_eq(cairn_sched_set_apps(s, fewer, 2, 0), 0);
	ck_assert_int_eq(cairn_sched_trigger(s, "b", "push"), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_sched_trigger(s, "c", "push"), 0);
	ck_assert_int_eq(wait_runs(&f, 2, 1), 1);
	cairn_sched_free(s);
}
END_TEST

/* Stop waits for the run in flight within the grace, and refuses new triggers. */
START_TEST(stop_grace)
{
	struct fake f;
	cairn_sched *s;

	fake_init(&f);
	f.sleep_ms = 100;
	s = make(&f, 2, -1);
	ck_assert_int_eq(cairn_sched_trigger(s, "a", "push"), 0);
	ck_assert_int_eq(cairn_sched_trigger(s, "b", "push"), 0);
	wait_in_flight(&f, 1);
	ck_assert_int_eq(cairn_sched_stop(s, 5000), 0);
	ck_assert_int_eq(f.in_flight, 0);
	ck_assert_int_ge(f.runs[0] + f.runs[1], 1);
	ck_assert_int_eq(cairn_sched_trigger(s, "a", "push"), CAIRN_EBUSY);
	ck_assert_error_contains("stopping");
	cairn_sched_free(s);
}
END_TEST

START_TEST(stop_timeout)
{
	struct fake f;
	cairn_sched *s;

	fake_init(&f);
	f.block = 1;
	s = make(&f, 1, -1);
	ck_assert_int_eq(cairn_sched_trigger(s, "a", "push"), 0);
	wait_in_flight(&f, 1);
	ck_assert_int_eq(cairn_sched_stop(s, 50), CAIRN_ETIMEOUT);
	ck_assert_error_contains("still running");
	set_block(&f, 0);
	ck_assert_int_eq(cairn_sched_stop(s, 5000), 0);
	cairn_sched_free(s);
}
END_TEST

START_TEST(metrics)
{
	struct fake f;
	cairn_sched_opts o = CAIRN_SCHED_OPTS_INIT;
	static const char *const names[] = {"a"};
	cairn_metrics *m = NULL;
	cairn_sched *s = NULL;
	cairn_buf out;

	fake_init(&f);
	ck_assert_int_eq(cairn_metrics_new(&m), 0);
	o.workers = 1;
	o.poll_ms = -1;
	o.fn = fake_fn;
	o.ud = &f;
	o.metrics = m;
	ck_assert_int_eq(cairn_sched_new(&s, &o), 0);
	ck_assert_int_eq(cairn_sched_set_apps(s, names, 1, 0), 0);
	ck_assert_int_eq(cairn_sched_start(s), 0);
	ck_assert_int_eq(cairn_sched_trigger(s, "a", "push"), 0);
	ck_assert_int_eq(wait_runs(&f, 0, 1), 1);
	ck_assert_int_eq(cairn_sched_stop(s, 5000), 0);
	cairn_buf_init(&out, 1 << 20);
	ck_assert_int_eq(cairn_metrics_render(m, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "cairn_reconciles_total{result=\"succeeded\"} 1"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "cairn_queue_wait_seconds_count 1"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "cairn_queue_depth 0"));
	cairn_buf_dispose(&out);
	cairn_sched_free(s);
	cairn_metrics_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("sched");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, coalesce_while_running);
	tcase_add_test(tc, one_at_a_time);
	tcase_add_test(tc, backoff);
	tcase_add_test(tc, unknown_and_reload);
	tcase_add_test(tc, stop_grace);
	tcase_add_test(tc, stop_timeout);
	tcase_add_test(tc, metrics);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
