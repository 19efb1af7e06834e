/*
 * scheduler.c - cairnd's work queue (cairn/sched.h).
 *
 * One mutex guards everything: the application table (an array of entries
 * that is only ever appended to, so an entry pointer stays valid for the
 * scheduler's life), the FIFO of queued entries, and the counters. Each
 * entry carries its own flags (queued, running, pending): a trigger on a
 * queued entry is folded in, a trigger on a running one sets `pending` so
 * that it runs once more when the worker is done, which is how "at most
 * one reconcile per app" and "coalescing" are the same mechanism.
 *
 * A timer thread wakes at the earliest due poll (or every second at most)
 * and queues the entries whose poll is due and whose back-off has passed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/sched.h"

struct entry {
	char *name;
	int active; /* in the current app list */
	int queued, running, pending;
	unsigned failures;
	uint64_t runs, coalesced;
	cairn_usec next_poll, retry_at, enqueued_at;
	int last_rc;
	char reason[32];
};

struct cairn_sched {
	cairn_sched_opts o;
	pthread_mutex_t mu;
	pthread_cond_t work;  /* queue not empty, or stopping */
	pthread_cond_t idle;  /* a worker finished a run */
	pthread_cond_t timer; /* the timer thread's wake-up */
	struct entry **apps;  /* entries, never removed */
	size_t n_apps, cap_apps;
	struct entry **queue; /* ring of queued entries; capacity cap_apps */
	size_t q_head, q_len;
	size_t running;
	uint64_t done;
	int started, stopping;
	size_t workers_alive;
	pthread_t *threads;
	pthread_t timer_thread;
	uint64_t rng;
	cairn_metric *m_depth, *m_wait, *m_runs, *m_running;
};

static cairn_usec now_us(void)
{
	return cairn_time_mono();
}

/* xorshift64*: jitter needs spread, not secrecy. Called with mu held. */
static double rand_unit(cairn_sched *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (double)((s->rng * 0x2545F4914F6CDD1DULL) >> 11) / (double)(1ULL << 53);
}

/* One polling interval from now, spread by +-jitter so apps do not poll in step. */
static cairn_usec next_poll_at(cairn_sched *s, cairn_usec from)
{
	double f;

	if (s->o.poll_ms < 0)
		return 0;
	f = 1.0 + s->o.jitter * (2.0 * rand_unit(s) - 1.0);
	return from + (cairn_usec)((double)s->o.poll_ms * 1000.0 * f);
}

static void update_gauges(cairn_sched *s)
{
	if (s->m_depth)
		cairn_metric_set(s->m_depth, NULL, (double)s->q_len);
	if (s->m_running)
		cairn_metric_set(s->m_running, NULL, (double)s->running);
}

/* Append `e` to the queue (mu held; the ring holds every entry at most once). */
static void enqueue(cairn_sched *s, struct entry *e, const char *reason)
{
	e->queued = 1;
	e->enqueued_at = now_us();
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "trigger");
	s->queue[(s->q_head + s->q_len) % s->cap_apps] = e;
	s->q_len++;
	update_gauges(s);
	pthread_cond_signal(&s->work);
}

static struct entry *find(cairn_sched *s, const char *name)
{
	for (size_t i = 0; i < s->n_apps; i++)
		if (strcmp(s->apps[i]->name, name) == 0)
			return s->apps[i];
	return NULL;
}

static void register_metrics(cairn_sched *s)
{
	static const char *const result[] = {"result", NULL};
	static const double wait_buckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120};

	if (!s->o.metrics)
		return;
	cairn_metrics_register(&s->m_depth, s->o.metrics, CAIRN_METRIC_GAUGE, "cairn_queue_depth",
	                       "Applications waiting in the reconcile queue.", NULL, NULL, 0);
	cairn_metrics_register(&s->m_running, s->o.metrics, CAIRN_METRIC_GAUGE,
	                       "cairn_reconciles_running", "Reconciles in flight.", NULL, NULL, 0);
	cairn_metrics_register(&s->m_wait, s->o.metrics, CAIRN_METRIC_HISTOGRAM,
	                       "cairn_queue_wait_seconds",
	                       "Time from queueing an application to a worker taking it.", NULL,
	                       wait_buckets, sizeof(wait_buckets) / sizeof(wait_buckets[0]));
	cairn_metrics_register(&s->m_runs, s->o.metrics, CAIRN_METRIC_COUNTER,
	                       "cairn_reconciles_total", "Reconciles by result.", result, NULL, 0);
}

int cairn_sched_new(cairn_sched **out, const cairn_sched_opts *opts)
{
	cairn_sched *s;
	long cpus;

	if (!opts || !opts->fn)
		return cairn_error_set(CAIRN_EINVAL, "scheduler needs a reconcile function");
	if (opts->workers > CAIRN_SCHED_WORKERS_MAX)
		return cairn_error_set(CAIRN_EINVAL, "too many workers '%u' (at most %d)",
		                       opts->workers, CAIRN_SCHED_WORKERS_MAX);
	if (!(s = calloc(1, sizeof(*s))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	s->o = *opts;
	if (s->o.workers == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		s->o.workers = cpus > 0 ? (unsigned)(2 * cpus) : 2;
		if (s->o.workers > CAIRN_SCHED_WORKERS_MAX)
			s->o.workers = CAIRN_SCHED_WORKERS_MAX;
	}
	if (s->o.poll_ms == 0)
		s->o.poll_ms = CAIRN_SCHED_POLL_MS_DEFAULT;
	if (s->o.jitter <= 0 || s->o.jitter >= 1)
		s->o.jitter = 0.1;
	if (s->o.backoff_min_ms <= 0)
		s->o.backoff_min_ms = CAIRN_SCHED_BACKOFF_MIN_MS_DEFAULT;
	if (s->o.backoff_max_ms <= 0)
		s->o.backoff_max_ms = CAIRN_SCHED_BACKOFF_MAX_MS_DEFAULT;
	s->rng = (uint64_t)cairn_time_now() | 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->idle, NULL);
	pthread_cond_init(&s->timer, NULL);
	register_metrics(s);
	*out = s;
	return 0;
}

/* Make room for `n` entries in the table and the ring (mu held). */
static int grow(cairn_sched *s, size_t n)
{
	struct entry **apps, **ring;
	size_t cap = s->cap_apps ? s->cap_apps : 16;

	if (n <= s->cap_apps)
		return 0;
	while (cap < n)
		cap *= 2;
	if (!(apps = realloc(s->apps, cap * sizeof(*apps))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	s->apps = apps;
	if (!(ring = calloc(cap, sizeof(*ring))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->q_len; i++)
		ring[i] = s->queue[(s->q_head + i) % s->cap_apps];
	free(s->queue);
	s->queue = ring;
	s->q_head = 0;
	s->cap_apps = cap;
	return 0;
}

int cairn_sched_set_apps(cairn_sched *s, const char *const *names, size_t n, int initial_poll)
{
	cairn_usec now = now_us();
	int rc = 0;

	if (n > CAIRN_SCHED_APPS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "too many applications '%zu' (at most %d)", n,
		                       CAIRN_SCHED_APPS_MAX);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n_apps; i++)
		s->apps[i]->active = 0;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = find(s, names[i]);

		if (e) {
			e->active = 1;
			continue;
		}
		if ((rc = grow(s, s->n_apps + 1)) < 0)
			break;
		if (!(e = calloc(1, sizeof(*e))) || !(e->name = strdup(names[i]))) {
			free(e);
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		e->active = 1;
		if (s->o.poll_ms > 0)
			e->next_poll = initial_poll
			                       ? now + (cairn_usec)(rand_unit(s) * s->o.jitter *
			                                            (double)s->o.poll_ms * 1000.0)
			                       : next_poll_at(s, now);
		s->apps[s->n_apps++] = e;
	}
	pthread_cond_signal(&s->timer);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int cairn_sched_trigger(cairn_sched *s, const char *app, const char *reason)
{
	struct entry *e;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	e = find(s, app);
	if (s->stopping)
		rc = cairn_error_set(CAIRN_EBUSY, "scheduler is stopping: '%s' not queued", app);
	else if (!e || !e->active)
		rc = cairn_error_set(CAIRN_ENOTFOUND, "unknown application '%s'", app);
	else if (e->queued || (e->running && e->pending))
		e->coalesced++;
	else if (e->running)
		e->pending = 1;
	else
		enqueue(s, e, reason);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Record the end of a run of `e` (mu held): counters, back-off, next poll. */
static void finish_run(cairn_sched *s, struct entry *e, int rc)
{
	cairn_usec now = now_us();

	e->running = 0;
	e->runs++;
	e->last_rc = rc;
	s->running--;
	s->done++;
	if (rc < 0) {
		int64_t ms = s->o.backoff_min_ms;

		if (e->failures < 64)
			e->failures++;
		for (unsigned i = 1; i < e->failures && ms < s->o.backoff_max_ms; i++)
			ms *= 2;
		if (ms > s->o.backoff_max_ms)
			ms = s->o.backoff_max_ms;
		e->retry_at = now + ms * 1000;
	} else {
		e->failures = 0;
		e->retry_at = 0;
	}
	e->next_poll = next_poll_at(s, now);
	if (s->m_runs)
		cairn_metric_add(s->m_runs, (const char *const[]){rc < 0 ? "failed" : "succeeded"},
		                 1);
	if (e->pending && !s->stopping && e->active) {
		e->pending = 0;
		enqueue(s, e, "coalesced");
	}
	e->pending = 0;
	update_gauges(s);
	pthread_cond_broadcast(&s->idle);
	pthread_cond_signal(&s->timer);
}

static void *worker_main(void *arg)
{
	cairn_sched *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct entry *e;
		char reason[32];
		int rc;

		while (!s->stopping && s->q_len == 0)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->stopping)
			break;
		e = s->queue[s->q_head];
		s->q_head = (s->q_head + 1) % s->cap_apps;
		s->q_len--;
		e->queued = 0;
		e->running = 1;
		s->running++;
		memcpy(reason, e->reason, sizeof(reason));
		if (s->m_wait)
			cairn_metric_observe(s->m_wait, NULL,
			                     (double)(now_us() - e->enqueued_at) / 1e6);
		update_gauges(s);
		pthread_mutex_unlock(&s->mu);
		rc = s->o.fn(s->o.ud, e->name, reason);
		pthread_mutex_lock(&s->mu);
		finish_run(s, e, rc);
	}
	s->workers_alive--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/*
 * Queue every active, idle entry whose poll is due and whose back-off has
 * passed; return the earliest future due time (0: none). mu held.
 */
static cairn_usec queue_due(cairn_sched *s, cairn_usec now)
{
	cairn_usec earliest = 0;

	for (size_t i = 0; i < s->n_apps; i++) {
		struct entry *e = s->apps[i];
		cairn_usec due = e->next_poll;

		if (!e->active || due == 0 || e->queued || e->running)
			continue;
		if (e->retry_at > due)
			due = e->retry_at;
		if (due <= now) {
			enqueue(s, e, "poll");
			continue;
		}
		if (earliest == 0 || due < earliest)
			earliest = due;
	}
	return earliest;
}

static void *timer_main(void *arg)
{
	cairn_sched *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		cairn_usec now = now_us(), next = queue_due(s, now), wait;
		struct timespec ts;

		wait = next == 0 || next - now > 1000000 ? 1000000 : next - now;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(wait / 1000000);
		ts.tv_nsec += (long)(wait % 1000000) * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->timer, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int cairn_sched_start(cairn_sched *s)
{
	if (s->started)
		return 0;
	if (!(s->threads = calloc(s->o.workers, sizeof(*s->threads))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	pthread_mutex_lock(&s->mu);
	if (grow(s, 16) < 0) {
		pthread_mutex_unlock(&s->mu);
		return CAIRN_ENOMEM;
	}
	for (unsigned i = 0; i < s->o.workers; i++) {
		if (pthread_create(&s->threads[i], NULL, worker_main, s) != 0) {
			pthread_mutex_unlock(&s->mu);
			return cairn_error_set(CAIRN_ERROR, "cannot start worker thread: %s",
			                       strerror(errno));
		}
		s->workers_alive++;
	}
	if (pthread_create(&s->timer_thread, NULL, timer_main, s) != 0) {
		pthread_mutex_unlock(&s->mu);
		return cairn_error_set(CAIRN_ERROR, "cannot start timer thread");
	}
	s->started = 1;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int cairn_sched_stop(cairn_sched *s, int64_t grace_ms)
{
	cairn_usec deadline = cairn_time_now() + grace_ms * 1000;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->stopping && !s->started) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->stopping = 1;
	for (size_t i = 0; i < s->q_len; i++)
		s->queue[(s->q_head + i) % s->cap_apps]->queued = 0;
	s->q_len = 0;
	update_gauges(s);
	pthread_cond_broadcast(&s->work);
	pthread_cond_broadcast(&s->timer);
	/* idle workers leave at once; only reconciles in flight are waited for */
	while (s->running > 0) {
		struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000),
		                      .tv_nsec = (long)(deadline % 1000000) * 1000};

		if (pthread_cond_timedwait(&s->idle, &s->mu, &ts) == ETIMEDOUT && s->running > 0) {
			rc = cairn_error_set(
			        CAIRN_ETIMEOUT,
			        "%zu reconcile(s) still running after the %lld ms grace",
			        s->running, (long long)grace_ms);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (rc == 0 && s->started) {
		for (unsigned i = 0; i < s->o.workers; i++)
			pthread_join(s->threads[i], NULL);
		pthread_join(s->timer_thread, NULL);
		s->started = 0;
	}
	return rc;
}

int cairn_sched_stopping(cairn_sched *s)
{
	int v;

	pthread_mutex_lock(&s->mu);
	v = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return v;
}

int cairn_sched_info(cairn_sched *s, const char *app, cairn_sched_app_info *out)
{
	struct entry *e;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (!(e = find(s, app))) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "unknown application '%s'", app);
	} else {
		out->queued = e->queued;
		out->running = e->running;
		out->pending = e->pending;
		out->failures = e->failures;
		out->runs = e->runs;
		out->coalesced = e->coalesced;
		out->next_poll = e->next_poll;
		out->retry_at = e->retry_at;
		out->last_rc = e->last_rc;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void cairn_sched_counts(cairn_sched *s, size_t *queued, size_t *running, uint64_t *done)
{
	pthread_mutex_lock(&s->mu);
	if (queued)
		*queued = s->q_len;
	if (running)
		*running = s->running;
	if (done)
		*done = s->done;
	pthread_mutex_unlock(&s->mu);
}

void cairn_sched_free(cairn_sched *s)
{
	if (!s)
		return;
	if (cairn_sched_stop(s, 0) < 0 && s->started)
		return; /* a reconcile still runs with our memory: leave it be */
	for (size_t i = 0; i < s->n_apps; i++) {
		free(s->apps[i]->name);
		free(s->apps[i]);
	}
	free(s->apps);
	free(s->queue);
	free(s->threads);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->timer);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
