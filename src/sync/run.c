/*
 * run.c - execute a sync plan against a cluster: apply, hooks, waits for
 * health, prune, SyncFail hooks; record each attempt as an operation in the
 * state, retry with backoff, add history on success; roll back to a
 * history entry and pin the app.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/log.h"
#include "run_private.h"

/* Connections a wave's creates and updates are applied over at once. */
#define SYNC_APPLY_PARALLEL 8
/*
 * The fewest objects a batch is worth: each batch opens its connections
 * anew (a TLS handshake each), so a short run is faster on the one
 * kept-alive client. bench_sync (10 objects a wave) took 6.3-8.4 s batched
 * against 4.0-4.2 s one by one.
 */
#ifndef SYNC_BATCH_MIN
#define SYNC_BATCH_MIN 32
#endif
/* The first pause of a health wait, in ms (then x1.5 up to poll_ms). */
#define WAIT_FIRST_MS 20

/* One attempt in progress. */
typedef struct attempt {
	const cairn_sync_ctx *ctx;
	const cairn_sync_request *req;
	const char *kind; /* operation kind: sync or rollback */
	int64_t op_id;
	json_t *records; /* per-resource results, committed as they come */
	json_t *pruned;  /* ids of pruned objects (audit) */
	json_t *waiting; /* [{"obj":..., "hook":bool, "step":index}] of the current wave */
	cairn_health health;
	size_t applied, prunes, hooks;
} attempt;

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static const char *ns_or_null(const cairn_res_id *id)
{
	return id->ns[0] != '\0' ? id->ns : NULL;
}

/* Record the result of one step and commit it to the running operation. */
static int record(attempt *a, const cairn_plan_step *s, const char *action, const char *result,
                  const char *message)
{
	char idbuf[1024];

	cairn_res_id_format(&s->id, idbuf, sizeof(idbuf));
	json_array_append_new(a->records,
	                      json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "id", idbuf, "phase",
	                                cairn_sync_phase_name(s->phase), "wave", s->wave, "action",
	                                action, "result", result, "message",
	                                message != NULL ? message : ""));
	sync__progress(a->ctx, cairn_sync_phase_name(s->phase), s->wave, &s->id, action, result);
	if (a->ctx->state == NULL || a->op_id == 0)
		return 0;
	return cairn_state_op_update(a->ctx->state, a->op_id, NULL, a->records);
}

static int mapping_of(attempt *a, const json_t *obj, cairn_kube_mapping *m)
{
	return cairn_kube_mapping_for(a->ctx->kube,
	                              json_string_value(json_object_get(obj, "apiVersion")),
	                              json_string_value(json_object_get(obj, "kind")), m);
}

/* Delete an object and wait (bounded) until a GET no longer finds it. */
static int delete_and_wait(attempt *a, const json_t *obj, const cairn_res_id *id,
                           const char *propagation)
{
	cairn_kube_mapping m;
	int64_t deadline;
	int rc = mapping_of(a, obj, &m);

	if (rc < 0)
		return rc;
	rc = cairn_kube_delete(a->ctx->kube, &m, ns_or_null(id), id->name, propagation);
	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		return 0;
	}
	deadline = cairn_time_mono() + a->ctx->wait_timeout_ms * 1000;
	while (rc == 0) {
		json_t *o = NULL;

		rc = cairn_kube_get(a->ctx->kube, &m, ns_or_null(id), id->name, &o);
		json_decref(o);
		if (rc == CAIRN_ENOTFOUND) {
			cairn_error_clear();
			return 0;
		}
		if (rc == 0 && cairn_time_mono() > deadline)
			rc = cairn_error_set(CAIRN_ETIMEOUT, "'%s' still exists after deletion",
			                     id->name);
		if (rc == 0)
			sleep_ms(a->ctx->poll_ms);
	}
	return rc;
}

static int do_prune(attempt *a, const cairn_plan_step *s)
{
	char idbuf[1024];
	const char *prop = "Background";
	cairn_kube_mapping m;
	int rc;

	if (sync__rollout_owned(s->live))
		return record(a, s, "prune", "skipped", "owned by a rollout");
	if (a->req->prune_propagation != NULL &&
	    strcmp(a->req->prune_propagation, "foreground") == 0)
		prop = "Foreground";
	rc = mapping_of(a, s->live, &m);
	if (rc == 0)
		rc = cairn_kube_delete(a->ctx->kube, &m, ns_or_null(&s->id), s->id.name, prop);
	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		rc = 0;
	}
	if (rc < 0) {
		record(a, s, "prune", "failed", cairn_error_last()->message);
		return rc;
	}
	a->prunes++;
	cairn_res_id_format(&s->id, idbuf, sizeof(idbuf));
	json_array_append_new(a->pruned, json_string(idbuf));
	return record(a, s, "prune", "pruned", NULL);
}

/*
 * The answer of an apply is what a dry run of the same object over it would
 * predict (applying it again changes nothing): cache it so that the next
 * compare of an unchanged app makes no dry-run call.
 */
static void cache_applied(attempt *a, const cairn_plan_step *s, const json_t *got)
{
	char hash[65];
	const char *rv = json_string_value(
	        json_object_get(json_object_get(got, "metadata"), "resourceVersion"));

	if (a->ctx->state == NULL || rv == NULL || cairn_json_sha256_hex(hash, s->desired) < 0 ||
	    cairn_state_dryrun_put(a->ctx->state, hash, rv, got) < 0)
		cairn_error_clear(); /* a cache miss later costs one dry run, nothing more */
}

/*
 * Apply (or create a hook) and put the answer on the wave's wait list.
 * `pre`, when not NULL, is the outcome of this step's object in the wave's
 * batch (apply_batch()): its answer is used instead of applying again.
 */
static int do_apply(attempt *a, const cairn_plan_step *s, size_t index,
                    const cairn_kube_apply_result *pre)
{
	const char *action = cairn_sync_action_name(s->action);
	json_t *got = NULL;
	int rc = 0, hook = s->action == CAIRN_ACT_HOOK;

	if (pre != NULL) {
		if (pre->rc < 0) {
			record(a, s, action, "failed", pre->message);
			return cairn_error_set(pre->rc, "%s", pre->message);
		}
		got = json_incref(pre->obj);
	} else {
		if (s->action == CAIRN_ACT_UPDATE && sync__rollout_owned(s->live))
			return record(a, s, action, "skipped", "owned by a rollout");
		if (hook && s->live != NULL && (s->hook_delete & CAIRN_HOOK_DELETE_BEFORE_CREATION))
			rc = delete_and_wait(a, s->live, &s->id, "Background");
		if (rc == 0)
			rc = cairn_kube_apply(a->ctx->kube, s->desired, 0, &got);
		if (rc < 0) {
			record(a, s, action, "failed", cairn_error_last()->message);
			return rc;
		}
	}
	if (!hook)
		cache_applied(a, s, got);
	json_array_append_new(a->waiting, json_pack("{s:o,s:b,s:I}", "obj", got, "hook", hook,
	                                            "step", (json_int_t)index));
	if (hook)
		a->hooks++;
	else
		a->applied++;
	return record(a, s, action, "ok", NULL);
}

/*
 * A step a batch may apply: a create or an update no rollout owns. A
 * Namespace or a CustomResourceDefinition is applied alone, in plan order:
 * the objects after it in the wave may need it to exist.
 */
static int batchable(const cairn_plan_step *s)
{
	if (strcmp(s->id.kind, "Namespace") == 0 ||
	    strcmp(s->id.kind, "CustomResourceDefinition") == 0)
		return 0;
	return s->action == CAIRN_ACT_CREATE ||
	       (s->action == CAIRN_ACT_UPDATE && !sync__rollout_owned(s->live));
}

/* A step that sends nothing: a batch passes over it. */
static int quiet(const cairn_plan_step *s)
{
	return s->action == CAIRN_ACT_NONE || s->action == CAIRN_ACT_PRUNE_SKIP;
}

/*
 * Apply at once, with cairn_kube_apply_many() (parallel connections,
 * results in order), the batchable steps from `i` on up to the first step
 * that is neither batchable nor quiet. Each batched step j gets its
 * outcome in res[j - from]; the others keep rc 1 (not batched). *end is
 * the first step the batch did not look at. Fewer than SYNC_BATCH_MIN
 * batchable steps are left to run one by one (*end = i + 1). The error is only for memory:
 * an object's failure is in its result.
 */
static int apply_batch(cairn_kube_apply_result *res, size_t *end, attempt *a, const cairn_plan *p,
                       size_t from, size_t i, size_t to)
{
	cairn_kube_apply_result *got = NULL;
	json_t **objs = NULL;
	size_t n = 0, k = 0, j;
	int rc = 0;

	for (j = i; j < to && (batchable(&p->v[j]) || quiet(&p->v[j])); j++)
		n += batchable(&p->v[j]);
	*end = n < SYNC_BATCH_MIN ? i + 1 : j;
	if (n < SYNC_BATCH_MIN)
		return 0;
	got = calloc(n, sizeof(*got));
	objs = calloc(n, sizeof(*objs));
	if (got == NULL || objs == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t x = i; x < j; x++)
		if (batchable(&p->v[x]))
			objs[k++] = p->v[x].desired;
	if (cairn_kube_apply_many(a->ctx->kube, objs, n, CAIRN_KUBE_KEEP_ANSWER, got,
	                          SYNC_APPLY_PARALLEL) < 0)
		cairn_error_clear(); /* each object's outcome is in got[] */
	k = 0;
	for (size_t x = i; x < j; x++)
		if (batchable(&p->v[x]))
			res[x - from] = got[k++];
out:
	free(got);
	free(objs);
	return rc;
}

/*
 * Poll the wave's objects until each is done: no health, Healthy or
 * Suspended. Degraded fails at once (a hook Job that failed is Degraded);
 * the rest wait until the deadline. The first check is made at once; the
 * interval then starts short and grows by half each time up to poll_ms, so
 * a rollout that ends within a few hundred milliseconds is seen within
 * ~50% of its duration rather than up to a whole poll interval late, while
 * a long one is still polled at the configured rate.
 */
static int wait_wave(attempt *a, const cairn_plan *p)
{
	int64_t deadline = cairn_time_mono() + a->ctx->wait_timeout_ms * 1000;
	int64_t interval = a->ctx->poll_ms < WAIT_FIRST_MS ? a->ctx->poll_ms : WAIT_FIRST_MS;
	size_t i;
	json_t *w;

	for (;;) {
		const char *pending = NULL;

		json_array_foreach(a->waiting, i, w)
		{
			const cairn_plan_step *s =
			        &p->v[json_integer_value(json_object_get(w, "step"))];
			json_t *o = NULL;
			cairn_kube_mapping m;
			cairn_health h;
			int rc;

			if (json_is_true(json_object_get(w, "done")))
				continue;
			rc = mapping_of(a, s->desired, &m);
			if (rc == 0)
				rc = cairn_kube_get(a->ctx->kube, &m, ns_or_null(&s->id),
				                    s->id.name, &o);
			if (rc == CAIRN_ENOTFOUND)
				cairn_error_clear();
			else if (rc < 0)
				return rc;
			rc = cairn_health_assess(o, &h);
			json_decref(o);
			if (rc < 0)
				return rc;
			if (h.none || h.status == CAIRN_HEALTH_HEALTHY ||
			    h.status == CAIRN_HEALTH_SUSPENDED) {
				json_object_set_new(w, "done", json_true());
				if (!h.none)
					cairn_health_aggregate(&a->health, &h);
				continue;
			}
			if (h.status == CAIRN_HEALTH_DEGRADED) {
				cairn_health_aggregate(&a->health, &h);
				record(a, s, "wait", "Degraded", h.message);
				return cairn_error_set(CAIRN_EIO, "'%s' is Degraded: %s",
				                       s->id.name, h.message);
			}
			pending = s->id.name;
		}
		if (pending == NULL)
			return 0;
		if (cairn_time_mono() > deadline)
			return cairn_error_set(CAIRN_ETIMEOUT, "'%s' not healthy after %lld ms",
			                       pending, (long long)a->ctx->wait_timeout_ms);
		sleep_ms(interval);
		interval += interval / 2;
		if (interval > a->ctx->poll_ms)
			interval = a->ctx->poll_ms;
	}
}

/* Hook delete policies once a wave is over (ok: it succeeded). */
static void hook_cleanup(attempt *a, const cairn_plan *p, int ok)
{
	size_t i;
	json_t *w;

	json_array_foreach(a->waiting, i, w)
	{
		const cairn_plan_step *s = &p->v[json_integer_value(json_object_get(w, "step"))];
		unsigned want = ok ? CAIRN_HOOK_DELETE_SUCCEEDED : CAIRN_HOOK_DELETE_FAILED;

		if (!json_is_true(json_object_get(w, "hook")) || !(s->hook_delete & want))
			continue;
		if (delete_and_wait(a, s->desired, &s->id, "Background") < 0)
			cairn_error_clear(); /* best effort: the hook is reported, not fatal */
		else
			record(a, s, "hook-delete", "deleted", NULL);
	}
}

/*
 * Run the steps of one phase and wave [from, to). Runs of creates and
 * updates go out as batches (apply_batch()); every result is recorded in
 * the order of the steps. After a failure no further step runs, but the
 * rest of its batch, already applied, is still recorded.
 */
static int run_wave(attempt *a, const cairn_plan *p, size_t from, size_t to)
{
	cairn_kube_apply_result *res = NULL;
	char first[CAIRN_ERROR_MSG_MAX] = "";
	size_t covered = from, n = 0;
	int rc = 0;

	for (size_t i = from; i < to; i++)
		n += batchable(&p->v[i]);
	if (n >= SYNC_BATCH_MIN && (res = calloc(to - from, sizeof(*res))) != NULL)
		for (size_t i = 0; i < to - from; i++)
			res[i].rc = 1;
	json_array_clear(a->waiting);
	for (size_t i = from; i < to; i++) {
		const cairn_plan_step *s = &p->v[i];
		const cairn_kube_apply_result *pre = NULL;
		int r = 0;

		if (res != NULL && rc == 0 && i >= covered && batchable(s))
			r = apply_batch(res, &covered, a, p, from, i, to);
		if (res != NULL && res[i - from].rc != 1)
			pre = &res[i - from];
		if ((rc < 0 || r < 0) && pre == NULL) {
			if (rc == 0) { /* out of memory: nothing of the batch was applied */
				rc = r;
				snprintf(first, sizeof(first), "%s", cairn_error_last()->message);
			}
			continue;
		}
		switch (s->action) {
		case CAIRN_ACT_NONE:
			if (s->live != NULL) {
				cairn_health h;

				if (cairn_health_assess(s->live, &h) == 0 && !h.none)
					cairn_health_aggregate(&a->health, &h);
			}
			break;
		case CAIRN_ACT_CREATE:
		case CAIRN_ACT_UPDATE:
		case CAIRN_ACT_HOOK:
			r = do_apply(a, s, i, pre);
			break;
		case CAIRN_ACT_PRUNE:
			r = do_prune(a, s);
			break;
		case CAIRN_ACT_PRUNE_SKIP:
			r = record(a, s, "prune", "skipped", "pruning is disabled for this object");
			break;
		}
		if (rc == 0 && r < 0) {
			rc = r;
			snprintf(first, sizeof(first), "%s", cairn_error_last()->message);
		}
	}
	if (res != NULL)
		cairn_kube_apply_results_clear(res, to - from);
	free(res);
	if (rc < 0)
		cairn_error_set(rc, "%s", first); /* the first failure, not a later one */
	else
		rc = wait_wave(a, p);
	if (rc < 0) {
		/* the clean-up may set its own error: keep the wave's */
		char msg[CAIRN_ERROR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);
		hook_cleanup(a, p, 0);
		return cairn_error_set(rc, "%s", msg);
	}
	hook_cleanup(a, p, 1);
	return 0;
}

/* Execute the plan: every phase but SyncFail, wave by wave; SyncFail on failure. */
static int execute(attempt *a, const cairn_plan *p)
{
	size_t i = 0, j;
	int rc = 0;

	while (i < p->n && rc == 0) {
		if (p->v[i].phase == CAIRN_PHASE_SYNCFAIL) {
			i++;
			continue;
		}
		for (j = i + 1;
		     j < p->n && p->v[j].phase == p->v[i].phase && p->v[j].wave == p->v[i].wave;
		     j++)
			;
		sync__progress(a->ctx, cairn_sync_phase_name(p->v[i].phase), p->v[i].wave, NULL,
		               "wave", "start");
		rc = run_wave(a, p, i, j);
		i = j;
	}
	if (rc < 0) {
		char msg[CAIRN_ERROR_MSG_MAX];
		int code = rc;

		snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);
		for (i = 0; i < p->n; i = j) {
			for (j = i + 1; j < p->n && p->v[j].phase == p->v[i].phase &&
			                p->v[j].wave == p->v[i].wave;
			     j++)
				;
			if (p->v[i].phase == CAIRN_PHASE_SYNCFAIL && run_wave(a, p, i, j) < 0)
				cairn_error_clear();
		}
		cairn_error_set(code, "%s", msg);
		return code;
	}
	return 0;
}

static void audit(const cairn_sync_ctx *ctx, const cairn_sync_request *req, const char *action,
                  const json_t *objects, const char *message)
{
	cairn_audit_subject subj = {req->app, req->env, req->revision, req->render_hash, objects};
	json_t *details;

	if (ctx->audit == NULL)
		return;
	details = message != NULL ? json_pack("{s:s}", "message", message) : NULL;
	/* the sync's own result matters more than a failed audit write, which
	 * the audit handle reports itself (read-only from then on) */
	if (cairn_audit_record(ctx->audit, NULL, ctx->actor != NULL ? ctx->actor : "cairn", action,
	                       &subj, details) < 0)
		cairn_error_clear();
	json_decref(details);
}

/*
 * The live destination Namespace goes into the plan's live set with
 * CreateNamespace=true: the plan creates it only when it is not there.
 */
static int add_dest_namespace(json_t *live, const cairn_sync_ctx *ctx, const char *ns)
{
	cairn_kube_mapping m;
	json_t *o = NULL;
	int rc = cairn_kube_mapping_for(ctx->kube, "v1", "Namespace", &m);

	if (rc == 0)
		rc = cairn_kube_get(ctx->kube, &m, NULL, ns, &o);
	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		return 0;
	}
	if (rc == 0)
		json_array_append_new(live, o);
	return rc;
}

/* Compare and plan; the plan's input borrows the compare result. */
static int make_plan(cairn_plan **out, cairn_sync_result **cmp, const cairn_sync_ctx *ctx,
                     const cairn_sync_request *req)
{
	cairn_plan_input in = {0};
	const cairn_diff **diffs = NULL;
	json_t *desired = json_array(), *live = json_array();
	size_t nd = 0;
	int rc = cairn_sync_compare_app(cmp, ctx, req);

	if (rc < 0)
		goto out;
	diffs = calloc((*cmp)->n + 1, sizeof(*diffs));
	if (diffs == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory planning a sync");
		goto out;
	}
	for (size_t i = 0; i < (*cmp)->n; i++) {
		const cairn_sync_res *r = &(*cmp)->v[i];

		if (r->rollout) {
			sync__progress(ctx, "Sync", 0, &r->id, "rollout",
			               "handed to the rollout engine");
			continue;
		}
		if (r->desired) {
			json_array_append(desired, r->object);
			diffs[nd++] = r->diff;
		}
		if (r->live != NULL)
			json_array_append(live, r->live);
	}
	in.app = req->app;
	in.track = ctx->track;
	in.dest_namespace = req->dest_namespace != NULL ? req->dest_namespace
	                                                : cairn_kube_client_namespace(ctx->kube);
	if (req->create_namespace) {
		rc = add_dest_namespace(live, ctx, in.dest_namespace);
		if (rc < 0)
			goto out;
	}
	in.desired = desired;
	in.live = live;
	in.diffs = (const cairn_diff *const *)diffs;
	in.prune = req->prune;
	in.allow_empty = req->allow_empty;
	in.apply_out_of_sync_only = !req->apply_all;
	in.create_namespace = req->create_namespace;
	rc = cairn_sync_plan(out, &in);
out:
	free(diffs);
	json_decref(desired);
	json_decref(live);
	return rc;
}

/* Remember the kinds synced so that later compares list them for prune. */
static void remember_kinds(const cairn_sync_ctx *ctx, const cairn_sync_request *req)
{
	char key[CAIRN_STATE_KV_KEY_MAX], *old = NULL, *text;
	json_t *kinds = NULL, *o, *p;
	size_t i, j;

	if (sync__kinds_key(key, sizeof(key), req->app, req->env) < 0)
		goto out;
	if (cairn_state_kv_get(&old, ctx->state, key) == 0)
		kinds = json_loads(old, 0, NULL);
	if (!json_is_array(kinds)) {
		json_decref(kinds);
		kinds = json_array();
	}
	json_array_foreach(req->manifests, i, o)
	{
		json_t *pair =
		        json_pack("[s?,s?]", json_string_value(json_object_get(o, "apiVersion")),
		                  json_string_value(json_object_get(o, "kind")));
		int seen = req->interpret_rollouts && sync__rollout_kind(o);

		json_array_foreach(kinds, j, p) seen |= json_equal(p, pair);
		if (!seen && json_is_string(json_array_get(pair, 0)))
			json_array_append(kinds, pair);
		json_decref(pair);
	}
	text = json_dumps(kinds, JSON_COMPACT);
	if (text == NULL || cairn_state_kv_set(ctx->state, key, text) < 0)
		cairn_log_warn("sync: could not remember the kinds of '%s'", req->app);
	free(text);
out:
	cairn_error_clear();
	free(old);
	json_decref(kinds);
}

/* After a successful attempt: history entry, remembered kinds, app status. */
static int finish_success(attempt *a, cairn_sync_outcome *o)
{
	const cairn_sync_ctx *ctx = a->ctx;
	const cairn_sync_request *req = a->req;
	cairn_state_history h = {0};
	cairn_state_app st = {0}, *old = NULL;
	int rc;

	h.app = req->app;
	h.env = req->env != NULL ? req->env : "";
	h.revision = req->revision != NULL ? req->revision : "";
	h.render_hash = req->render_hash != NULL ? req->render_hash : "";
	h.manifests = (json_t *)req->manifests;
	h.operation_id = a->op_id;
	rc = cairn_state_history_add(&o->history_id, ctx->state, &h, req->history_limit);
	if (rc < 0)
		return rc;
	remember_kinds(ctx, req);
	if (cairn_state_app_get(&old, ctx->state, h.app, h.env) < 0)
		cairn_error_clear();
	if (old != NULL) {
		st.paused = old->paused;
		st.pinned_history_id = old->pinned_history_id;
		st.pinned_revision = old->pinned_revision;
	}
	st.app = h.app;
	st.env = h.env;
	st.sync_status = "Synced";
	st.health = cairn_health_status_string(a->health.none ? CAIRN_HEALTH_HEALTHY
	                                                      : a->health.status);
	st.revision = h.revision;
	st.render_hash = h.render_hash;
	st.message = "sync succeeded";
	rc = cairn_state_app_put(ctx->state, &st);
	cairn_state_app_free(old);
	return rc;
}

/* One attempt: operation record, compare, plan, execute, finish. */
static int run_attempt(cairn_sync_outcome *o, const cairn_sync_ctx *ctx,
                       const cairn_sync_request *req, const char *kind, int n)
{
	attempt a = {ctx, req, kind, 0, json_array(), json_array(), json_array(), {0}, 0, 0, 0};
	cairn_sync_result *cmp = NULL;
	cairn_plan *plan = NULL;
	int rc = 0;

	a.health.none = 1;
	if (ctx->state != NULL) {
		cairn_state_op op = {0};

		op.app = req->app;
		op.env = req->env != NULL ? req->env : "";
		op.kind = kind;
		op.trigger_who = ctx->actor != NULL ? ctx->actor : "cairn";
		op.trigger_what = ctx->trigger != NULL ? ctx->trigger : "cli";
		op.revision = req->revision;
		op.render_hash = req->render_hash;
		op.attempt = n;
		rc = cairn_state_op_start(&a.op_id, ctx->state, &op);
		if (rc < 0)
			goto out;
	}
	o->operation_id = a.op_id;
	rc = make_plan(&plan, &cmp, ctx, req);
	if (rc == 0)
		rc = execute(&a, plan);
	if (json_array_size(a.pruned) > 0)
		audit(ctx, req, "prune", a.pruned, NULL);
	if (rc == 0 && ctx->state != NULL)
		rc = finish_success(&a, o);
	snprintf(o->message, sizeof(o->message), "%s",
	         rc == 0 ? "sync succeeded" : cairn_error_last()->message);
	if (ctx->state != NULL) {
		char msg[CAIRN_ERROR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", o->message);
		int frc = cairn_state_op_finish(ctx->state, a.op_id,
		                                rc == 0 ? "Succeeded" : "Failed", msg, a.records);

		if (rc < 0)
			cairn_error_set(rc, "%s", msg);
		else
			rc = frc;
	}
out:
	o->applied = a.applied;
	o->pruned = a.prunes;
	o->hooks = a.hooks;
	cairn_plan_free(plan);
	cairn_sync_result_free(cmp);
	json_decref(a.records);
	json_decref(a.pruned);
	json_decref(a.waiting);
	return rc;
}

/* The backoff before attempt n+1 (n >= 1): duration * factor^(n-1), capped. */
static int64_t backoff_ms(const cairn_sync_request *req, int n)
{
	int64_t d = req->backoff_ms > 0 ? req->backoff_ms : 5000;
	int64_t max = req->backoff_max_ms > 0 ? req->backoff_max_ms : 180000;
	int f = req->backoff_factor > 0 ? req->backoff_factor : 2;

	for (int i = 1; i < n && d < max; i++)
		d *= f;
	return d < max ? d : max;
}

static int run_kind(cairn_sync_outcome *out, const cairn_sync_ctx *ctx0,
                    const cairn_sync_request *req, const char *kind)
{
	cairn_sync_ctx ctx = *ctx0;
	cairn_sync_outcome o;
	int rc = 0, n;

	memset(&o, 0, sizeof(o));
	if (ctx.wait_timeout_ms <= 0)
		ctx.wait_timeout_ms = 300000;
	if (ctx.poll_ms <= 0)
		ctx.poll_ms = 250;
	audit(&ctx, req, "sync.started", NULL, NULL);
	for (n = 1; n <= 1 + (req->retry_limit > 0 ? req->retry_limit : 0); n++) {
		if (n > 1)
			sleep_ms(backoff_ms(req, n - 1));
		o.attempts = n;
		rc = run_attempt(&o, &ctx, req, kind, n);
		/* a refused plan or bad input will not change by trying again */
		if (rc == 0 || rc == CAIRN_EPERM || rc == CAIRN_EINVAL)
			break;
	}
	o.succeeded = rc == 0;
	audit(&ctx, req, rc == 0 ? "sync.succeeded" : "sync.failed", NULL,
	      rc == 0 ? NULL : o.message);
	if (out != NULL)
		*out = o;
	return rc;
}

int cairn_sync_run(cairn_sync_outcome *out, const cairn_sync_ctx *ctx,
                   const cairn_sync_request *req)
{
	return run_kind(out, ctx, req, "sync");
}

int cairn_sync_rollback(cairn_sync_outcome *out, const cairn_sync_ctx *ctx,
                        const cairn_sync_request *req, int64_t history_id,
                        const char *tracked_revision)
{
	cairn_state_history *h = NULL;
	cairn_state_app *old = NULL, st = {0};
	cairn_sync_request r = *req;
	const char *env = req->env != NULL ? req->env : "";
	int rc;

	if (ctx->state == NULL)
		return cairn_error_set(CAIRN_EINVAL, "rollback needs the state store");
	rc = cairn_state_history_get(&h, ctx->state, history_id);
	if (rc < 0)
		goto out;
	if (strcmp(h->app, req->app) != 0 || strcmp(h->env, env) != 0 || h->manifests == NULL) {
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "history entry %lld is not a stored deployment of '%s'",
		                     (long long)history_id, req->app);
		goto out;
	}
	r.manifests = h->manifests;
	r.revision = h->revision;
	r.render_hash = h->render_hash;
	rc = run_kind(out, ctx, &r, "rollback");
	if (rc < 0)
		goto out;
	rc = cairn_state_app_get(&old, ctx->state, req->app, env);
	if (rc < 0)
		goto out;
	st = *old;
	st.paused = 1;
	st.pinned_history_id = history_id;
	st.pinned_revision = tracked_revision != NULL ? tracked_revision : "";
	st.message = "rolled back; automated sync paused until a new commit or re-enable";
	st.updated_at = 0;
	rc = cairn_state_app_put(ctx->state, &st);
	if (rc == 0)
		audit(ctx, &r, "rollback", NULL, NULL);
out:
	cairn_state_app_free(old);
	cairn_state_history_free(h);
	return rc;
}
