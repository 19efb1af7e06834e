/*
 * src/sim/watch.c - watch streams over the store's event ring.
 *
 * A watcher remembers the last resourceVersion it delivered and, on each
 * call, looks for the next event of its resource (and namespace) after
 * it; when none is there it sleeps on the store's condition variable.
 * The ring is bounded: a watcher that asks for a version older than the
 * newest evicted event gets "too old resource version" (410 Gone), as the
 * API server does when etcd has compacted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/json.h"

#include "sim.h"
#include "store_internal.h"

struct sim_watch {
	sim_store *st;
	char *group, *plural, *ns; /* ns NULL: every namespace */
	uint64_t last;
	char *api_version, *kind;
	sim_selector *sel;
};

static const char *type_name(int t)
{
	switch (t) {
	case SIM_EV_ADDED:
		return "ADDED";
	case SIM_EV_MODIFIED:
		return "MODIFIED";
	case SIM_EV_DELETED:
		return "DELETED";
	default:
		return "BOOKMARK";
	}
}

/*
 * sim_watch_open - start watching group/plural (ns NULL = all namespaces)
 * for events after resourceVersion `since` (0 = after the current one).
 * CAIRN_ELIMIT "too old resource version: X (Y)" when events after `since`
 * were already dropped. Thread-safe; *out owned by the caller.
 */
int sim_watch_open(sim_store *st, sim_watch **out, const char *group, const char *plural,
                   const char *ns, uint64_t since)
{
	sim_watch *w;
	int rc = 0;

	sim_store_lock(st);
	if (since == 0)
		since = st->rv;
	else if (since < st->evicted_rv)
		rc = cairn_error_set(CAIRN_ELIMIT, "too old resource version: %llu (%llu)",
		                     (unsigned long long)since,
		                     (unsigned long long)st->evicted_rv + 1);
	sim_store_unlock(st);
	if (rc)
		return rc;
	w = calloc(1, sizeof *w);
	if (!w || !(w->group = strdup(group)) || !(w->plural = strdup(plural)) ||
	    (ns && !(w->ns = strdup(ns)))) {
		sim_watch_close(w);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	w->st = st;
	w->last = since;
	*out = w;
	return 0;
}

void sim_watch_close(sim_watch *w)
{
	if (!w)
		return;
	free(w->group);
	free(w->plural);
	free(w->ns);
	free(w->api_version);
	free(w->kind);
	sim_selector_free(w->sel);
	free(w);
}

void sim_store_close_watches(sim_store *st)
{
	sim_store_lock(st);
	st->closing = 1;
	pthread_cond_broadcast(&st->cond);
	sim_store_unlock(st);
}

static int selected(sim_watch *w, const struct sim_event *ev)
{
	json_t *obj = NULL;
	int ok;

	if (cairn_json_parse(&obj, ev->json, ev->len, NULL))
		return 0;
	ok = sim_selector_match(w->sel, obj);
	json_decref(obj);
	return ok;
}

/* The next matching event after w->last, or NULL; under the lock. Events
 * in the ring are in rv order, so a binary search finds the start. */
static struct sim_event *next_event(sim_watch *w)
{
	sim_store *st = w->st;
	size_t lo = 0, hi = st->hist_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->hist[(st->hist_head + mid) % st->hist_cap].rv <= w->last)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < st->hist_n; i++) {
		struct sim_event *ev = &st->hist[(st->hist_head + i) % st->hist_cap];
		if (strcmp(ev->group, w->group) || strcmp(ev->plural, w->plural) ||
		    (w->ns && strcmp(ev->ns, w->ns))) {
			w->last = ev->rv;
			continue;
		}
		if (w->sel && !selected(w, ev)) {
			w->last = ev->rv;
			continue;
		}
		return ev;
	}
	return NULL;
}

/*
 * sim_watch_next - the next event as one JSON object
 * {"type":"ADDED","object":{...}} appended to out (no newline). Waits up to
 * timeout_ms. Returns 1 for an event, 0 on timeout, CAIRN_ELIMIT when the
 * watcher fell behind the ring, CAIRN_EIO when the store is closing.
 */
int sim_watch_next(sim_watch *w, cairn_buf *out, int timeout_ms)
{
	sim_store *st = w->st;
	struct timespec dl;
	struct sim_event *ev;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	sim_store_lock(st);
	for (;;) {
		if (st->closing) {
			rc = cairn_error_set(CAIRN_EIO, "server shutting down");
			break;
		}
		if (w->last < st->evicted_rv) {
			rc = cairn_error_set(CAIRN_ELIMIT, "too old resource version: %llu (%llu)",
			                     (unsigned long long)w->last,
			                     (unsigned long long)st->evicted_rv + 1);
			break;
		}
		ev = next_event(w);
		if (ev) {
			w->last = ev->rv;
			rc = cairn_buf_printf(out,
			                      "{\"type\":\"%s\",\"object\":", type_name(ev->type));
			rc = rc ? rc : cairn_buf_put(out, ev->json, ev->len);
			rc = rc ? rc : cairn_buf_putc(out, '}');
			rc = rc ? rc : 1;
			break;
		}
		if (pthread_cond_timedwait(&st->cond, &st->mu, &dl) == ETIMEDOUT) {
			rc = 0;
			break;
		}
	}
	sim_store_unlock(st);
	return rc;
}

int sim_watch_set_kind(sim_watch *w, const char *api_version, const char *kind)
{
	free(w->api_version);
	free(w->kind);
	w->api_version = strdup(api_version);
	w->kind = strdup(kind);
	if (!w->api_version || !w->kind)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/*
 * sim_watch_bookmark - append a BOOKMARK event line (with newline) carrying
 * only the kind and the newest resourceVersion this watcher has passed
 * (never beyond an event it has not delivered).
 */
void sim_watch_bookmark(sim_watch *w, cairn_buf *out)
{
	cairn_buf_printf(out,
	                 "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
	                 "\"metadata\":{\"resourceVersion\":\"%llu\"}}}\n",
	                 w->kind ? w->kind : "", w->api_version ? w->api_version : "",
	                 (unsigned long long)w->last);
}

/* Filter this watch's events by a selector (takes ownership). */
void sim_watch_set_selector(sim_watch *w, sim_selector *sel)
{
	sim_selector_free(w->sel);
	w->sel = sel;
}
