/*
 * drift_watch.c - the drift detector: a full comparison of every app, then
 * one watch thread (with a kube client of its own) per desired kind and
 * namespace, every event compared under one lock, records written to the
 * state, audited, and reverted in correct mode. See docs/drift.md.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/sync.h"
#include "drift_private.h"
#include "run_private.h"

struct tracked {
	size_t app; /* index into the detector's apps */
	cairn_res_id id;
	json_t *desired; /* the object to apply, tracking written */
	json_t *wanted;  /* the server's prediction of it (dry run) */
	char *last_sig;  /* the drifted paths last recorded, NULL: in sync */
	int64_t pending; /* the record whose correction failed (0: none) */
	cairn_usec pending_seen;
};

struct watch {
	struct detector *d;
	cairn_kube_mapping m;
	char ns[254];
	char rv[128];
	pthread_t thread;
	int started;
	int rc;
};

struct detector {
	const cairn_sync_ctx *ctx;
	const cairn_drift_app *apps;
	size_t napps;
	const cairn_drift_opts *opts;
	pthread_mutex_t lock;
	struct tracked *t;
	size_t nt, tcap;
	struct watch w[CAIRN_DRIFT_WATCHES_MAX];
	size_t nw;
	json_t *orphans; /* app index (string) -> array of ids */
	volatile int stop;
	uint64_t reports;
	int failed; /* a watch ended with an error */
};

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * The prediction of `desired` applied over `live`, from the state's dry-run
 * cache under the keys the sync uses (so a fresh sync costs no dry run
 * here), else one dry-run apply that is cached.
 */
static int predict(json_t **out, const cairn_sync_ctx *ctx, const json_t *desired,
                   const json_t *live)
{
	char hash[65];
	const char *rv = NULL;
	json_t *w = NULL;
	int rc;

	if (live != NULL)
		rv = json_string_value(
		        json_object_get(json_object_get(live, "metadata"), "resourceVersion"));
	if (rv == NULL)
		rv = "absent";
	if ((rc = cairn_json_sha256_hex(hash, desired)) < 0)
		return rc;
	if (ctx->state != NULL) {
		rc = cairn_state_dryrun_get(&w, ctx->state, hash, rv);
		if (rc == 0) {
			*out = w;
			return 0;
		}
		if (rc != CAIRN_ENOTFOUND)
			return rc;
		cairn_error_clear();
	}
	if ((rc = cairn_kube_apply(ctx->kube, desired, CAIRN_KUBE_DRY_RUN, &w)) < 0)
		return cairn_error_prefix("dry run");
	if (ctx->state != NULL && (rc = cairn_state_dryrun_put(ctx->state, hash, rv, w)) < 0)
		cairn_error_clear(); /* not cached: predicted again next time */
	*out = w;
	return 0;
}

/* Add a (kind, namespace) watch unless one exists. */
static int add_watch(struct detector *d, const cairn_kube_mapping *m, const char *ns)
{
	for (size_t i = 0; i < d->nw; i++)
		if (strcmp(d->w[i].m.group, m->group) == 0 &&
		    strcmp(d->w[i].m.kind, m->kind) == 0 && strcmp(d->w[i].ns, ns) == 0)
			return 0;
	if (d->nw == CAIRN_DRIFT_WATCHES_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d kinds x namespaces to watch",
		                       CAIRN_DRIFT_WATCHES_MAX);
	d->w[d->nw].d = d;
	d->w[d->nw].m = *m;
	(void)snprintf(d->w[d->nw].ns, sizeof(d->w[d->nw].ns), "%s", ns);
	d->nw++;
	return 0;
}

static int add_tracked(struct detector *d, size_t app, const cairn_sync_res *r)
{
	const char *api = json_string_value(json_object_get(r->object, "apiVersion"));
	cairn_kube_mapping m;
	struct tracked *t;
	json_t *wanted = NULL;
	int rc;

	if ((rc = cairn_kube_mapping_for(d->ctx->kube, api, r->id.kind, &m)) < 0 ||
	    (rc = add_watch(d, &m, m.namespaced ? r->id.ns : "")) < 0 ||
	    (rc = predict(&wanted, d->ctx, r->object, r->live)) < 0)
		return rc;
	if (d->nt == d->tcap) {
		size_t nc = d->tcap ? d->tcap * 2 : 16;
		struct tracked *nv = realloc(d->t, nc * sizeof(*nv));

		if (nv == NULL) {
			json_decref(wanted);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		d->t = nv;
		d->tcap = nc;
	}
	t = &d->t[d->nt++];
	t->app = app;
	t->id = r->id;
	t->desired = json_incref(r->object);
	t->wanted = wanted;
	t->last_sig = NULL;
	t->pending = 0;
	t->pending_seen = 0;
	return 0;
}

/* Compare every app once and keep what the watches compare against. */
static int load_apps(struct detector *d)
{
	int rc = 0;

	for (size_t a = 0; a < d->napps && rc == 0; a++) {
		cairn_sync_result *res = NULL;

		rc = cairn_sync_compare_app(&res, d->ctx, d->apps[a].req);
		for (size_t i = 0; rc == 0 && i < res->n; i++)
			/* an object the rollout engine interprets (a Rollout, with
			 * interpret_rollouts) is not in the cluster: nothing to watch */
			if (res->v[i].desired && res->v[i].object != NULL && !res->v[i].rollout)
				rc = add_tracked(d, a, &res->v[i]);
		if (rc < 0)
			rc = cairn_error_prefix("app '%s': ", d->apps[a].req->app);
		cairn_sync_result_free(res);
	}
	return rc;
}

static struct tracked *find_tracked(struct detector *d, const cairn_res_id *id)
{
	for (size_t i = 0; i < d->nt; i++)
		if (cairn_res_id_cmp(&d->t[i].id, id) == 0)
			return &d->t[i];
	return NULL;
}

/* Audit one drift event; steals `details`. */
static void audit(struct detector *d, const struct tracked *t, const char *action, json_t *details)
{
	const cairn_sync_request *req = d->apps[t->app].req;
	char idstr[1024];
	json_t *objs;

	if (d->ctx->audit == NULL) {
		json_decref(details);
		return;
	}
	cairn_res_id_format(&t->id, idstr, sizeof(idstr));
	objs = json_pack("[s]", idstr);
	cairn_audit_subject subj = {req->app, req->env, req->revision, req->render_hash, objs};
	/* a failed audit write is reported by the audit handle itself (read-only
	 * from then on); the drift record stays the primary result */
	if (cairn_audit_record(d->ctx->audit, NULL, d->ctx->actor ? d->ctx->actor : "cairn", action,
	                       &subj, details) < 0)
		cairn_error_clear();
	json_decref(objs);
	json_decref(details);
}

/*
 * Re-apply the desired object; fills the report's correction fields. An
 * apply carries no resourceVersion, so a 409 (a server that checks its own
 * read-modify-write against a concurrent writer, such as a controller's
 * status update) is safe to repeat: up to four more tries, 25 ms apart and
 * growing. A correction that still fails stays pending on the object and is
 * tried again with its next event or full comparison.
 */
static void correct(struct detector *d, struct tracked *t, cairn_kube_client *kube,
                    cairn_drift_report *r, char *err, size_t errsize)
{
	int rc = cairn_kube_apply(kube, t->desired, 0, NULL);

	for (int i = 1; rc == CAIRN_EEXISTS && i < 5; i++) {
		cairn_error_clear();
		sleep_ms(25 * i);
		rc = cairn_kube_apply(kube, t->desired, 0, NULL);
	}
	if (rc < 0) {
		(void)snprintf(err, errsize, "%s", cairn_error_last()->message);
		r->error = err;
		cairn_error_clear();
		t->pending = r->record_id > 0 ? r->record_id : -1;
		t->pending_seen = r->seen_at;
		return;
	}
	t->pending = 0;
	r->corrected = 1;
	r->corrected_at = cairn_time_now();
	if (d->ctx->state != NULL && r->record_id > 0 &&
	    cairn_state_drift_corrected(d->ctx->state, r->record_id, r->corrected_at) < 0)
		cairn_error_clear();
	audit(d, t, "drift.corrected",
	      json_pack("{s:I, s:I}", "recordId", (json_int_t)r->record_id, "timeToCorrectUs",
	                (json_int_t)(r->corrected_at - r->seen_at)));
}

/* Whether the caller paused app `i` (it applies another render now). */
static int app_paused(const struct detector *d, size_t i)
{
	return d->apps[i].paused != NULL && *d->apps[i].paused != 0;
}

/*
 * Record one drift of `t` (paths already compared): the state record, the
 * audit entry, the correction in correct mode, the report.
 */
static void record(struct detector *d, struct tracked *t, json_t *paths, cairn_usec changed_at,
                   cairn_kube_client *kube)
{
	const cairn_drift_app *app = &d->apps[t->app];
	const char *mgr = json_string_value(json_object_get(json_array_get(paths, 0), "manager"));
	cairn_drift_report r = {0};
	char err[CAIRN_ERROR_MSG_MAX];

	r.app = app->req->app;
	r.env = app->req->env != NULL ? app->req->env : "";
	r.id = &t->id;
	r.paths = paths;
	r.manager = mgr;
	r.seen_at = cairn_time_now();
	if (d->ctx->state != NULL) {
		cairn_state_drift sd = {0};

		sd.app = r.app;
		sd.env = r.env;
		sd.group = t->id.group;
		sd.kind = t->id.kind;
		sd.namespace_ = t->id.ns;
		sd.name = t->id.name;
		sd.paths = paths;
		sd.field_manager = mgr;
		sd.mode = app->mode == CAIRN_DRIFT_CORRECT ? "correct" : "detect";
		sd.changed_at = changed_at;
		sd.seen_at = r.seen_at;
		if (cairn_state_drift_add(&r.record_id, d->ctx->state, &sd) < 0)
			cairn_error_clear();
	}
	r.written_at = cairn_time_now();
	audit(d, t, "drift.detected",
	      json_pack("{s:I, s:O, s:s?}", "recordId", (json_int_t)r.record_id, "paths", paths,
	                "manager", mgr));
	/* checked again: a pause can arrive while the record is written */
	if (app->mode == CAIRN_DRIFT_CORRECT && !app_paused(d, t->app))
		correct(d, t, kube, &r, err, sizeof(err));
	d->reports++;
	if (d->opts->report != NULL)
		d->opts->report(d->opts->report_ud, &r);
}

/* Try a failed correction again for the same drift; reports it again. */
static void retry_correct(struct detector *d, struct tracked *t, json_t *paths,
                          cairn_kube_client *kube)
{
	const cairn_sync_request *req = d->apps[t->app].req;
	cairn_drift_report r = {0};
	char err[CAIRN_ERROR_MSG_MAX];

	r.app = req->app;
	r.env = req->env != NULL ? req->env : "";
	r.id = &t->id;
	r.paths = paths;
	r.manager = json_string_value(json_object_get(json_array_get(paths, 0), "manager"));
	r.record_id = t->pending > 0 ? t->pending : 0;
	r.seen_at = t->pending_seen;
	r.written_at = t->pending_seen;
	correct(d, t, kube, &r, err, sizeof(err));
	d->reports++;
	if (d->opts->report != NULL)
		d->opts->report(d->opts->report_ud, &r);
}

/* Whether an untracked live object counts as an orphan of some app. */
static int orphan_candidate(const json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (name == NULL || json_array_size(json_object_get(meta, "ownerReferences")) > 0 ||
	    drift__rollout_marked(obj) ||
	    json_object_get(json_object_get(meta, "annotations"), CAIRN_TRACKING_ANNOTATION) ||
	    json_object_get(json_object_get(meta, "labels"), CAIRN_TRACKING_LABEL))
		return 0;
	/* made by the cluster in every namespace */
	if (kind != NULL &&
	    ((strcmp(kind, "ConfigMap") == 0 && strcmp(name, "kube-root-ca.crt") == 0) ||
	     (strcmp(kind, "ServiceAccount") == 0 && strcmp(name, "default") == 0)))
		return 0;
	return 1;
}

/* Report `obj` as an orphan of each app with tracked objects in its namespace. */
static void orphan(struct detector *d, const json_t *obj, const cairn_res_id *id)
{
	char idstr[1024], key[CAIRN_STATE_KV_KEY_MAX], akey[32];

	cairn_res_id_format(id, idstr, sizeof(idstr));
	for (size_t a = 0; a < d->napps; a++) {
		const cairn_sync_request *req = d->apps[a].req;
		json_t *list;
		size_t i, k;
		json_t *v;
		int uses = 0;

		for (k = 0; k < d->nt && !uses; k++)
			uses = d->t[k].app == a && strcmp(d->t[k].id.ns, id->ns) == 0 &&
			       strcmp(d->t[k].id.kind, id->kind) == 0;
		if (!uses || id->ns[0] == '\0')
			continue;
		(void)snprintf(akey, sizeof(akey), "%zu", a);
		list = json_object_get(d->orphans, akey);
		if (list == NULL) {
			list = json_array();
			json_object_set_new(d->orphans, akey, list);
		}
		json_array_foreach(list, i,
		                   v) if (strcmp(json_string_value(v), idstr) == 0) goto next;
		json_array_append_new(list, json_string(idstr));
		if (d->ctx->state != NULL) {
			char *text = json_dumps(list, JSON_COMPACT);

			(void)snprintf(key, sizeof(key), "drift.orphans/%s/%s", req->app,
			               req->env ? req->env : "");
			if (text == NULL || cairn_state_kv_set(d->ctx->state, key, text) < 0)
				cairn_error_clear();
			free(text);
		}
		{
			cairn_drift_report r = {0};

			r.app = req->app;
			r.env = req->env ? req->env : "";
			r.id = id;
			r.orphan = 1;
			r.seen_at = cairn_time_now();
			d->reports++;
			if (d->opts->report != NULL)
				d->opts->report(d->opts->report_ud, &r);
		}
	next:;
	}
	(void)obj;
}

/*
 * Compare one live object (an event or a listed item) and record what
 * drifted. A deleted tracked object drifts as a whole (path ""). Runs with
 * the lock held; `kube` is the caller's client, used to correct.
 */
static void handle(struct detector *d, const char *type, const json_t *obj, cairn_kube_client *kube)
{
	cairn_res_id id;
	struct tracked *t;
	json_t *paths = NULL;
	cairn_usec changed_at = 0;
	char *sig = NULL;

	if (strcmp(type, "BOOKMARK") == 0 || cairn_res_id_of(&id, obj, NULL) < 0) {
		cairn_error_clear();
		return;
	}
	t = find_tracked(d, &id);
	if (t != NULL && app_paused(d, t->app))
		return;
	if (t == NULL) {
		if (strcmp(type, "DELETED") != 0 && orphan_candidate(obj))
			orphan(d, obj, &id);
		return;
	}
	/* a correction puts back git's fields, not an old rollout hash */
	if (strcmp(type, "DELETED") != 0 && sync__rollout_hash_keep(t->desired, obj) < 0) {
		cairn_error_clear();
		return;
	}
	if (strcmp(type, "DELETED") == 0) {
		paths = json_pack("[{s:s, s:s, s:n, s:n}]", "path", "", "old", "present", "new",
		                  "manager");
	} else if (cairn_drift_compare(&paths, &changed_at, t->desired, t->wanted, obj,
	                               d->apps[t->app].req->ignore) < 0) {
		cairn_error_clear();
		return;
	}
	if (paths == NULL)
		return;
	if (json_array_size(paths) == 0) {
		free(t->last_sig);
		t->last_sig = NULL;
		t->pending = 0;
		goto out;
	}
	sig = json_dumps(paths, JSON_COMPACT | JSON_SORT_KEYS);
	if (sig != NULL && t->last_sig != NULL && strcmp(sig, t->last_sig) == 0 &&
	    t->pending != 0 && d->apps[t->app].mode == CAIRN_DRIFT_CORRECT) {
		retry_correct(d, t, paths, kube);
		goto out;
	}
	if (sig == NULL || (t->last_sig != NULL && strcmp(sig, t->last_sig) == 0))
		goto out;
	free(t->last_sig);
	t->last_sig = sig;
	sig = NULL;
	record(d, t, paths, changed_at, kube);
out:
	free(sig);
	json_decref(paths);
}

/*
 * List one (kind, namespace) page by page and compare every item; keeps
 * the list's resourceVersion for the watch to start from.
 */
static int scan_one(struct detector *d, struct watch *w, cairn_kube_client *kube)
{
	char cont[4096] = "";
	int rc = 0;

	do {
		cairn_kube_list_opts lo = {NULL, NULL, 500, cont[0] ? cont : NULL, 0};
		json_t *list = NULL, *item;
		const char *c, *rv;
		size_t i;

		if ((rc = cairn_kube_list(kube, &w->m, w->ns[0] ? w->ns : NULL, &lo, &list)) < 0)
			return rc;
		pthread_mutex_lock(&d->lock);
		json_array_foreach(json_object_get(list, "items"), i, item)
		{
			/* list items carry no apiVersion/kind: give them the mapping's */
			char api[200];

			(void)snprintf(api, sizeof(api), "%s%s%s", w->m.group,
			               w->m.group[0] ? "/" : "", w->m.version);
			json_object_set_new(item, "apiVersion", json_string(api));
			json_object_set_new(item, "kind", json_string(w->m.kind));
			handle(d, "ADDED", item, kube);
		}
		pthread_mutex_unlock(&d->lock);
		rv = json_string_value(
		        json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
		if (rv != NULL)
			(void)snprintf(w->rv, sizeof(w->rv), "%s", rv);
		c = json_string_value(
		        json_object_get(json_object_get(list, "metadata"), "continue"));
		(void)snprintf(cont, sizeof(cont), "%s", c ? c : "");
		json_decref(list);
	} while (cont[0] != '\0');
	return 0;
}

static int full_scan(struct detector *d)
{
	int rc;

	for (size_t i = 0; i < d->nw; i++)
		if ((rc = scan_one(d, &d->w[i], d->ctx->kube)) < 0)
			return rc;
	return 0;
}

struct event_ud {
	struct detector *d;
	cairn_kube_client *kube;
};

static int on_event(void *ud, const char *type, json_t *obj, int synthetic)
{
	struct event_ud *e = ud;

	(void)synthetic;
	pthread_mutex_lock(&e->d->lock);
	handle(e->d, type, obj, e->kube);
	pthread_mutex_unlock(&e->d->lock);
	return 0;
}

/* One watch thread: its own client, from the listed version until stopped. */
static void *watch_main(void *arg)
{
	struct watch *w = arg;
	struct detector *d = w->d;
	cairn_kube_client *kube = NULL;
	struct event_ud e = {d, NULL};
	cairn_kube_watch_opts wo = {0};

	wo.resource_version = w->rv;
	wo.stop = &d->stop;
	wo.stream_timeout_s = 60;
	w->rc = cairn_kube_client_new(&kube, d->opts->kube_cfg, NULL);
	if (w->rc == 0) {
		e.kube = kube;
		w->rc = cairn_kube_watch(kube, &w->m, w->ns[0] ? w->ns : NULL, &wo, on_event, &e,
		                         w->rv, sizeof(w->rv));
	}
	if (w->rc < 0) {
		pthread_mutex_lock(&d->lock);
		d->failed = 1;
		pthread_mutex_unlock(&d->lock);
	}
	cairn_kube_client_free(kube);
	return NULL;
}

static int should_stop(struct detector *d, cairn_usec end)
{
	int s;

	pthread_mutex_lock(&d->lock);
	s = d->failed || (d->opts->max_reports > 0 && d->reports >= d->opts->max_reports);
	pthread_mutex_unlock(&d->lock);
	return s || (d->opts->stop != NULL && *d->opts->stop) ||
	       (end > 0 && cairn_time_mono() >= end);
}

/* Run the watches and the periodic full comparison until told to stop. */
static int run(struct detector *d)
{
	int64_t every = d->opts->full_interval_ms > 0 ? d->opts->full_interval_ms
	                                              : CAIRN_DRIFT_FULL_INTERVAL_MS_DEFAULT;
	cairn_usec end =
	        d->opts->duration_ms > 0 ? cairn_time_mono() + d->opts->duration_ms * 1000 : 0;
	cairn_usec next = cairn_time_mono() + every * 1000;
	int rc = 0;

	for (size_t i = 0; i < d->nw; i++) {
		if (pthread_create(&d->w[i].thread, NULL, watch_main, &d->w[i]) != 0) {
			rc = cairn_error_set(CAIRN_ENOMEM, "cannot start a watch thread");
			break;
		}
		d->w[i].started = 1;
	}
	if (rc == 0 && d->opts->ready != NULL)
		d->opts->ready(d->opts->report_ud, d->nt, d->nw);
	while (rc == 0 && !should_stop(d, end)) {
		sleep_ms(20);
		if (cairn_time_mono() >= next) {
			rc = full_scan(d);
			next = cairn_time_mono() + every * 1000;
		}
	}
	d->stop = 1;
	for (size_t i = 0; i < d->nw; i++)
		if (d->w[i].started)
			pthread_join(d->w[i].thread, NULL);
	for (size_t i = 0; rc == 0 && i < d->nw; i++)
		if (d->w[i].rc < 0)
			rc = cairn_error_set(d->w[i].rc, "watch of %s in '%s' failed",
			                     d->w[i].m.kind, d->w[i].ns);
	return rc;
}

int cairn_drift_watch(const cairn_sync_ctx *ctx, const cairn_drift_app *apps, size_t n,
                      const cairn_drift_opts *opts)
{
	struct detector *d;
	int rc;

	if (ctx == NULL || ctx->kube == NULL || opts == NULL || opts->kube_cfg == NULL ||
	    (n > 0 && apps == NULL))
		return cairn_error_set(CAIRN_EINVAL, "drift watch needs a kube client and config");
	if (opts->version != CAIRN_DRIFT_OPTS_VERSION)
		return cairn_error_set(CAIRN_EINVAL, "drift options version %d, expected %d",
		                       opts->version, CAIRN_DRIFT_OPTS_VERSION);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	d->ctx = ctx;
	d->apps = apps;
	d->napps = n;
	d->opts = opts;
	d->orphans = json_object();
	pthread_mutex_init(&d->lock, NULL);
	if ((rc = load_apps(d)) == 0 && (rc = full_scan(d)) == 0)
		rc = run(d);
	pthread_mutex_destroy(&d->lock);
	for (size_t i = 0; i < d->nt; i++) {
		json_decref(d->t[i].desired);
		json_decref(d->t[i].wanted);
		free(d->t[i].last_sig);
	}
	free(d->t);
	json_decref(d->orphans);
	free(d);
	return rc;
}
