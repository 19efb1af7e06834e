/*
 * events.c - cairnd's server-sent events (docs/daemon.md "Events"):
 * GET /api/v1/events streams status changes as `id:`/`event:`/`data:`
 * records.
 *
 * Events go into one bounded ring (EVENTS_RING); each stream is a cursor
 * into it, so publishing never waits for a client: a client that falls a
 * whole ring behind is dropped (its stream ends; it reconnects with
 * Last-Event-ID and gets what the ring still holds). `Last-Event-ID`
 * replays from the ring. A token scoped to environments sees only events of
 * those environments (and the ones of no environment, such as reloads).
 * The HTTP layer parks a stream with nothing to send and wakes it when an
 * event is published (cairn_http_streams_wake) or to send a keep-alive.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/state.h"
#include "cairnd.h"

#define EVENTS_RING 1024
#define EVENTS_STREAMS_MAX 16
#define EVENTS_APPS_MAX 8192
#define EVENTS_DATA_MAX (64 * 1024)

struct event {
	uint64_t id;
	char *type;
	char *env; /* NULL: every stream sees it */
	char *data;
};

/* The last status announced for one (app, env). */
struct app_status {
	char *key; /* "app\nenv" */
	char *sync, *health;
};

struct cairnd_events {
	pthread_mutex_t mu;
	struct event ring[EVENTS_RING];
	uint64_t next_id; /* id of the next event; ids start at 1 */
	size_t n_streams;
	struct app_status *apps;
	size_t n_apps;
};

/* One client's stream: where it is in the ring and what it may see. */
struct sub {
	cairnd *d;
	uint64_t next;
	int hello_sent, dropped;
	char **envs; /* NULL with n_envs 0: every environment */
	size_t n_envs;
	cairn_buf pending;
	size_t off;
};

int cairnd_events_new(struct cairnd_events **out)
{
	struct cairnd_events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	pthread_mutex_init(&ev->mu, NULL);
	ev->next_id = 1;
	*out = ev;
	return 0;
}

void cairnd_events_free(struct cairnd_events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < EVENTS_RING; i++) {
		free(ev->ring[i].type);
		free(ev->ring[i].env);
		free(ev->ring[i].data);
	}
	for (size_t i = 0; i < ev->n_apps; i++) {
		free(ev->apps[i].key);
		free(ev->apps[i].sync);
		free(ev->apps[i].health);
	}
	free(ev->apps);
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}

void cairnd_event_publish(cairnd *d, const char *type, json_t *data)
{
	struct cairnd_events *ev = d ? d->events : NULL;
	const char *env = json_string_value(json_object_get(data, "env"));
	char *s = data ? json_dumps(data, JSON_COMPACT) : strdup("{}");
	int has_env = env && *env;
	char *t = strdup(type), *e = has_env ? strdup(env) : NULL;

	json_decref(data); /* env points into it */
	if (!ev || !s || !t || (has_env && !e) || strlen(s) > EVENTS_DATA_MAX) {
		free(s);
		free(t);
		free(e);
		return;
	}
	pthread_mutex_lock(&ev->mu);
	struct event *slot = &ev->ring[ev->next_id % EVENTS_RING];
	free(slot->type);
	free(slot->env);
	free(slot->data);
	*slot = (struct event){ev->next_id++, t, e, s};
	pthread_mutex_unlock(&ev->mu);
	cairn_http_streams_wake(d->http);
}

static int sub_sees(const struct sub *u, const char *env)
{
	if (!env || u->n_envs == 0)
		return 1;
	for (size_t i = 0; i < u->n_envs; i++)
		if (strcmp(u->envs[i], env) == 0)
			return 1;
	return 0;
}

/*
 * Format the next event this stream may see into `pending`: 1 when one
 * was, 0 when it is up to date, -1 when it fell out of the ring (dropped).
 */
static int sub_next(struct sub *u)
{
	struct cairnd_events *ev = u->d->events;
	int rc = 0;

	pthread_mutex_lock(&ev->mu);
	uint64_t oldest = ev->next_id > EVENTS_RING ? ev->next_id - EVENTS_RING : 1;
	if (u->next < oldest)
		rc = -1;
	while (rc == 0 && u->next < ev->next_id) {
		const struct event *e = &ev->ring[u->next % EVENTS_RING];

		u->next++;
		if (!sub_sees(u, e->env))
			continue;
		cairn_buf_reset(&u->pending);
		u->off = 0;
		rc = cairn_buf_printf(&u->pending, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n",
		                      e->id, e->type, e->data) < 0
		             ? -1
		             : 1;
	}
	pthread_mutex_unlock(&ev->mu);
	return rc;
}

static long sub_read(void *cls, char *buf, size_t max)
{
	struct sub *u = cls;
	size_t n;

	if (!u->hello_sent) {
		/* something at once, so clients see the headers and the stream open */
		cairn_buf_reset(&u->pending);
		u->off = 0;
		if (cairn_buf_puts(&u->pending, ": cairn events\nretry: 2000\n\n") < 0)
			return -1;
		u->hello_sent = 1;
	}
	if (u->off >= u->pending.len) {
		int rc = sub_next(u);

		if (rc < 0) {
			cairn_log_warn("events: a client fell more than %d events behind; dropped",
			               EVENTS_RING);
			return -1;
		}
		if (rc == 0)
			return 0;
	}
	n = u->pending.len - u->off;
	if (n > max)
		n = max;
	memcpy(buf, u->pending.ptr + u->off, n);
	u->off += n;
	return (long)n;
}

static void sub_free(void *cls)
{
	struct sub *u = cls;

	if (!u)
		return;
	pthread_mutex_lock(&u->d->events->mu);
	u->d->events->n_streams--;
	pthread_mutex_unlock(&u->d->events->mu);
	for (size_t i = 0; i < u->n_envs; i++)
		free(u->envs[i]);
	free(u->envs);
	cairn_buf_dispose(&u->pending);
	free(u);
}

/* The stream's start: after Last-Event-ID when given, else from now. */
static uint64_t start_at(struct cairnd_events *ev, const cairn_http_request *req)
{
	const char *h = cairn_http_header_get(req->headers, req->n_headers, "Last-Event-ID");
	uint64_t oldest = ev->next_id > EVENTS_RING ? ev->next_id - EVENTS_RING : 1;
	char *end;

	if (!h || !*h)
		return ev->next_id;
	unsigned long long last = strtoull(h, &end, 10);
	if (*end || last + 1 > ev->next_id)
		return ev->next_id; /* unknown (an earlier daemon's): from now */
	return last + 1 < oldest ? oldest : last + 1;
}

int cairnd_events_stream(cairnd *d, const cairn_http_request *req, cairn_http_response *resp)
{
	struct cairnd_events *ev = d->events;
	struct sub *u = calloc(1, sizeof(*u));
	const cairn_auth_token *tok = req->local ? NULL : req->token;

	if (!u)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	u->d = d;
	cairn_buf_init(&u->pending, EVENTS_DATA_MAX + 256);
	if (tok && tok->n_envs > 0) {
		if (!(u->envs = calloc(tok->n_envs, sizeof(*u->envs)))) {
			free(u);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		for (; u->n_envs < tok->n_envs; u->n_envs++)
			if (!(u->envs[u->n_envs] = strdup(tok->envs[u->n_envs]))) {
				sub_free(u);
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			}
	}
	pthread_mutex_lock(&ev->mu);
	if (ev->n_streams >= EVENTS_STREAMS_MAX) {
		pthread_mutex_unlock(&ev->mu);
		for (size_t i = 0; i < u->n_envs; i++)
			free(u->envs[i]);
		free(u->envs);
		free(u);
		return cairn_http_error(resp, 503, "unavailable", "too many event streams");
	}
	ev->n_streams++;
	u->next = start_at(ev, req);
	pthread_mutex_unlock(&ev->mu);
	return cairn_http_response_stream(resp, sub_read, sub_free, u);
}

/* ---- what a reconcile publishes ------------------------------------------ */

static struct app_status *app_entry(struct cairnd_events *ev, const char *key)
{
	for (size_t i = 0; i < ev->n_apps; i++)
		if (strcmp(ev->apps[i].key, key) == 0)
			return &ev->apps[i];
	if (ev->n_apps >= EVENTS_APPS_MAX)
		return NULL;
	if (ev->n_apps % 64 == 0) {
		struct app_status *v = realloc(ev->apps, (ev->n_apps + 64) * sizeof(*v));
		if (!v)
			return NULL;
		ev->apps = v;
	}
	struct app_status *a = &ev->apps[ev->n_apps];
	if (!(a->key = strdup(key)))
		return NULL;
	a->sync = a->health = NULL;
	ev->n_apps++;
	return a;
}

static int str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/*
 * Compare the stored status of the app with the last one seen and publish
 * app.status when it moved. With `quiet`, only remember it (the status
 * before a reconcile).
 */
static void status_check(cairnd *d, cairn_state *st, const cairn_app *a, int quiet)
{
	struct cairnd_events *ev = d->events;
	const char *env = a->environment ? a->environment : "";
	cairn_state_app *s = NULL;
	char key[512];
	json_t *data = NULL;

	if (cairn_state_app_get(&s, st, a->name, env) < 0)
		return;
	snprintf(key, sizeof(key), "%s\n%s", a->name, env);
	pthread_mutex_lock(&ev->mu);
	struct app_status *e = app_entry(ev, key);
	if (e && (str_differs(e->sync, s->sync_status) || str_differs(e->health, s->health))) {
		if (!quiet)
			data = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?}", "app", a->name,
			                 "env", env, "sync", s->sync_status, "health", s->health,
			                 "revision", s->revision, "previousSync", e->sync,
			                 "previousHealth", e->health);
		free(e->sync);
		free(e->health);
		e->sync = strdup(s->sync_status);
		e->health = strdup(s->health);
	}
	pthread_mutex_unlock(&ev->mu);
	cairn_state_app_free(s);
	if (data)
		cairnd_event_publish(d, "app.status", data);
}

void cairnd_events_reconcile_start(cairnd *d, const cairn_app *a, const char *why)
{
	cairn_state *st = NULL;

	if (!d->events || !a)
		return;
	if (cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE) == 0) {
		status_check(d, st, a, 1);
		cairn_state_close(st);
	}
	cairnd_event_publish(d, "reconcile.started",
	                     json_pack("{s:s, s:s, s:s}", "app", a->name, "env",
	                               a->environment ? a->environment : "", "trigger", why));
}

void cairnd_events_reconciled(cairnd *d, const cairn_app *a, const char *why, int rc,
                              const json_t *sum)
{
	cairn_state *st = NULL;
	json_t *data;

	if (!d->events || !a)
		return;
	data = json_pack("{s:s, s:s, s:s, s:b}", "app", a->name, "env",
	                 a->environment ? a->environment : "", "trigger", why, "succeeded",
	                 rc == 0);
	if (data && rc < 0)
		json_object_set_new(data, "message", json_string(cairn_error_last()->message));
	if (data && sum) {
		const char *keys[] = {"operation", "revision", "synced", "applied", "health"};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *v = json_object_get(sum, keys[i]);
			if (v)
				json_object_set(data, keys[i], v);
		}
	}
	int op = sum && json_integer_value(json_object_get(sum, "operation")) > 0;
	cairnd_event_publish(d, op ? "operation.finished" : "reconcile.finished", data);
	if (cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE) == 0) {
		status_check(d, st, a, 0);
		cairn_state_close(st);
	}
}
