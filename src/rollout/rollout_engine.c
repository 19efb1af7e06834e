/*
 * rollout_engine.c - the rollout engine's core: cairn_rollout_apply() and
 * cairn_rollout_tick(), the persisted status (intent/done around every
 * cluster write), operator requests, abort and completion, events and
 * audit entries. The strategies are canary.c and bluegreen.c; the
 * analysis runs are rollout_analysis.c. docs/rollout.md.
 *
 * The status JSON of a row (cairn_state_rollout.status):
 *   rollout          the Rollout being rolled out (the canary's template)
 *   stable_rollout   the Rollout that made the stable ReplicaSet
 *   stable_hash, canary_hash, old_hash (+ old_rollout, old_down_at)
 *   phase, message, step, weight, revision, stage, paused, aborted
 *   intent, done     the last cluster write and whether it completed
 *   templates        AnalysisTemplates by kind/name, from the manifests
 *   analysis         runs by key: their measurements, replayed on load
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/audit.h"
#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/state.h"
#include "rollout_private.h"

cairn_usec ro_now(const ro_run *r)
{
	return r->ctx->now ? r->ctx->now : cairn_time_now();
}

int ro_geti(const json_t *st, const char *key, int dflt)
{
	const json_t *v = json_object_get(st, key);

	return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

void ro_seti(json_t *st, const char *key, int64_t v)
{
	json_object_set_new(st, key, json_integer(v));
}

const char *ro_gets(const json_t *st, const char *key)
{
	return json_string_value(json_object_get(st, key));
}

void ro_sets(json_t *st, const char *key, const char *v)
{
	if (v == NULL)
		json_object_del(st, key);
	else
		json_object_set_new(st, key, json_string(v));
}

static int64_t geti64(const json_t *st, const char *key)
{
	return json_integer_value(json_object_get(st, key));
}

void ro_wake(ro_run *r, cairn_usec at)
{
	if (at > 0 && (r->next_at == 0 || at < r->next_at))
		r->next_at = at;
}

void ro_phase(ro_run *r, const char *phase, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ro_sets(r->st, "phase", phase);
	ro_sets(r->st, "message", msg);
}

/* Persist the row: the typed columns mirror the status. */
int ro_save(ro_run *r)
{
	cairn_state_rollout row = *r->row;
	int64_t id = 0;
	int rc;

	row.strategy = r->spec.blue_green ? "blueGreen" : "canary";
	row.phase = ro_gets(r->st, "phase");
	row.message = ro_gets(r->st, "message");
	row.revision = ro_gets(r->st, "revision");
	row.stable_hash = ro_gets(r->st, "stable_hash");
	row.canary_hash = ro_gets(r->st, "canary_hash");
	row.step = ro_geti(r->st, "step", -1);
	row.weight = ro_geti(r->st, "weight", 0);
	row.failed_revision = ro_gets(r->st, "failed_revision");
	row.failed_reason = ro_gets(r->st, "failed_reason");
	row.started_at = geti64(r->st, "started_at");
	row.next_at = r->next_at;
	row.updated_at = 0;
	row.request = NULL;
	row.status = r->st;
	rc = cairn_state_rollout_put(&id, r->ctx->state, &row);
	if (rc == 0)
		r->row->id = id;
	return rc;
}

/* The Rollout object that made the ReplicaSet of `hash`. */
static const json_t *rollout_for(const ro_run *r, const char *hash)
{
	static const char *const keys[][2] = {{"canary_hash", "rollout"},
	                                      {"stable_hash", "stable_rollout"},
	                                      {"old_hash", "old_rollout"}};
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *h = ro_gets(r->st, keys[i][0]);
		if (h != NULL && strcmp(h, hash) == 0)
			return json_object_get(r->st, keys[i][1]);
	}
	return NULL;
}

/* Carry out an intent: one idempotent server-side apply. */
static int perform(ro_run *r, const json_t *intent)
{
	return ro_ssa(r->ctx->kube, json_object_get(intent, "obj"));
}

int ro_write(ro_run *r, json_t *intent)
{
	int rc;

	json_object_set_new(r->st, "intent", intent);
	json_object_set_new(r->st, "done", json_false());
	rc = ro_save(r);
	if (rc < 0)
		return rc;
	rc = perform(r, intent);
	if (rc < 0)
		return rc;
	r->changed = 1;
	json_object_set_new(r->st, "done", json_true());
	return ro_save(r);
}

int ro_scale(ro_run *r, const char *hash, int replicas)
{
	const json_t *ro = rollout_for(r, hash);
	ro_spec s;
	json_t *rs;
	int rc;

	if (ro == NULL)
		return cairn_error_set(CAIRN_ERROR, "no Rollout recorded for hash '%s'", hash);
	rc = ro_spec_parse(&s, ro);
	if (rc < 0)
		return rc;
	rs = ro_replicaset(s.name, s.ns, s.selector, s.template_, hash, replicas,
	                   ro_gets(r->st, strcmp(hash, s.hash) == 0 ? "revision" : "none"));
	if (rs == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = ro_write(r, json_pack("{s:s,s:s,s:i,s:o}", "op", "scale", "hash", hash, "replicas",
	                           replicas, "obj", rs));
	if (rc == 0)
		ro_event(r, "scale", NULL,
		         json_pack("{s:s,s:i}", "hash", hash, "replicas", replicas));
	return rc;
}

/* The Rollout field that names Service `svc`, for messages. */
static const char *service_field(const ro_spec *s, const char *svc)
{
	static const char *const fields[] = {
	        "spec.strategy.canary.canaryService", "spec.strategy.canary.stableService",
	        "spec.strategy.blueGreen.activeService", "spec.strategy.blueGreen.previewService"};
	const char *names[] = {s->canary_service, s->stable_service, s->active_service,
	                       s->preview_service};

	for (size_t i = 0; i < 4; i++)
		if (names[i] != NULL && strcmp(names[i], svc) == 0)
			return fields[i];
	return "a Service field";
}

/*
 * The selector to apply for `svc`: the live one with the hash key set. A
 * Service's spec.selector is an atomic map (x-kubernetes-map-type), so the
 * applier states all of it; applying the hash key alone would leave a
 * selector of only that key on an API server. A Service the cluster does
 * not have is an error naming the Rollout's field: applying a selector
 * alone would create half a Service.
 */
static int service_selector(json_t **out, ro_run *r, const char *svc, const char *hash)
{
	cairn_kube_mapping m;
	json_t *live = NULL, *sel;
	int rc;

	if ((rc = cairn_kube_mapping_for(r->ctx->kube, "v1", "Service", &m)) < 0)
		return rc;
	rc = cairn_kube_get(r->ctx->kube, &m, r->spec.ns, svc, &live);
	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "Service '%s' named by %s of Rollout '%s' does not exist in "
		                       "namespace '%s'",
		                       svc, service_field(&r->spec, svc), r->spec.name, r->spec.ns);
	}
	if (rc < 0)
		return rc;
	sel = json_object_get(json_object_get(live, "spec"), "selector");
	sel = json_is_object(sel) ? json_deep_copy(sel) : json_object();
	json_decref(live);
	if (sel == NULL ||
	    json_object_set_new(sel, CAIRN_ROLLOUT_HASH_LABEL, json_string(hash)) < 0) {
		json_decref(sel);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = sel;
	return 0;
}

/* What st.services records for a Service pointed at `hash`. */
static json_t *service_mark(const char *hash, int mark)
{
	return json_pack("{s:s,s:b}", "hash", hash, "marked", mark);
}

int ro_select(ro_run *r, const char *svc, const char *hash, int mark)
{
	json_t *o, *sel = NULL, *seen;
	int rc;

	if ((rc = service_selector(&sel, r, svc, hash)) < 0)
		return rc;
	o = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:o}}", "apiVersion", "v1", "kind", "Service",
	              "metadata", "name", svc, "namespace", r->spec.ns, "spec", "selector", sel);
	if (o == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (mark)
		json_object_set_new(json_object_get(o, "metadata"), "annotations",
		                    json_pack("{s:s}", CAIRN_ROLLOUT_MARKER, r->spec.name));
	/* recorded with the intent: a resumed write is not issued a second time */
	seen = json_object_get(r->st, "services");
	if (!json_is_object(seen)) {
		seen = json_object();
		json_object_set_new(r->st, "services", seen);
	}
	json_object_set_new(seen, svc, service_mark(hash, mark));
	rc = ro_write(r, json_pack("{s:s,s:s,s:s,s:o}", "op", "select", "service", svc, "hash",
	                           hash, "obj", o));
	if (rc == 0)
		ro_event(r, "switch", NULL,
		         json_pack("{s:s,s:s,s:b}", "service", svc, "hash", hash, "marked", mark));
	return rc;
}

int ro_point(ro_run *r, const char *svc, const char *hash, int mark)
{
	json_t *want, *had;
	int same;

	if (svc == NULL || hash == NULL)
		return 0;
	had = json_object_get(json_object_get(r->st, "services"), svc);
	want = service_mark(hash, mark);
	same = json_equal(had, want);
	json_decref(want);
	return same ? 0 : ro_select(r, svc, hash, mark);
}

/* Audit actions this engine records; older audit modules do not know all
 * of them, so each has a known fallback. */
static const char *audit_action(const char *want)
{
	static const char *const map[][2] = {{"rollout.promoted", "promotion"},
	                                     {"rollout.measurement", "rollout.step"},
	                                     {"rollout.completed", "rollout.step"}};
	size_t i;

	if (cairn_audit_action_check(want) == 0)
		return want;
	cairn_error_clear();
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], want) == 0)
			return map[i][1];
	return "rollout.step";
}

void ro_event(ro_run *r, const char *kind, const char *action, json_t *data)
{
	cairn_audit_subject subj = {0};
	json_t *objs = NULL;
	char obj[512];

	if (data == NULL)
		return;
	json_object_set_new(data, "rollout", json_string(r->row->name));
	if (cairn_state_rollout_event_add(NULL, r->ctx->state, r->row->id, kind, data, ro_now(r)) <
	    0)
		cairn_error_clear(); /* a lost event must not stop the rollout */
	if (r->ctx->audit != NULL && action != NULL) {
		snprintf(obj, sizeof(obj), "argoproj.io/Rollout/%s/%s", r->row->namespace_,
		         r->row->name);
		objs = json_pack("[s]", obj);
		subj.app = r->row->app;
		subj.env = r->row->env;
		subj.revision = ro_gets(r->st, "revision");
		subj.objects = objs;
		json_object_set_new(data, "event", json_string(kind));
		if (cairn_audit_record(r->ctx->audit, NULL, r->ctx->actor ? r->ctx->actor : "cairn",
		                       audit_action(action), &subj, data) < 0)
			cairn_error_clear();
		json_decref(objs);
	}
	json_decref(data);
}

/* The reason shortened to the revision's first 7 characters. */
static void short_rev(char out[16], const char *rev)
{
	snprintf(out, 16, "%.7s", rev && *rev ? rev : "unknown");
}

/*
 * A canary's Services when the canary goes away (abort, revert): both on
 * `hash` (the stable's), unmarked. A Service missing by now has nothing to
 * point: the abort goes on without it.
 */
static int canary_services_back(ro_run *r, const char *hash)
{
	const char *svcs[2] = {r->spec.canary_service, r->spec.stable_service};
	int rc;

	for (size_t i = 0; i < 2; i++) {
		rc = ro_point(r, svcs[i], hash, 0);
		if (rc == CAIRN_ENOTFOUND)
			cairn_error_clear();
		else if (rc < 0)
			return rc;
	}
	return 0;
}

int ro_abort(ro_run *r, const char *reason, int automatic)
{
	const char *canary = ro_gets(r->st, "canary_hash");
	const char *stable = ro_gets(r->st, "stable_hash");
	char sr[16];
	int rc = 0;

	if (!r->spec.blue_green && (rc = canary_services_back(r, stable ? stable : canary)) < 0)
		return rc;
	if (canary != NULL && stable != NULL && strcmp(canary, stable) != 0) {
		if (r->spec.blue_green) {
			if ((rc = ro_select(r, r->spec.active_service, stable, 0)) < 0)
				return rc;
			if (r->spec.preview_service != NULL &&
			    (rc = ro_select(r, r->spec.preview_service, stable, 0)) < 0)
				return rc;
		}
		/* replica-ratio: traffic leaves the canary with its last ready Pod */
		if ((rc = ro_scale(r, canary, 0)) < 0)
			return rc;
	}
	if (stable != NULL) {
		const json_t *sro = json_object_get(r->st, "stable_rollout");
		ro_spec s;
		if (ro_spec_parse(&s, sro) == 0 && (rc = ro_scale(r, stable, s.replicas)) < 0)
			return rc;
		cairn_error_clear();
	}
	short_rev(sr, ro_gets(r->st, "revision"));
	ro_phase(r, "Degraded", "rolled back from %s: %s", sr, reason);
	ro_sets(r->st, "failed_revision",
	        ro_gets(r->st, "revision") ? ro_gets(r->st, "revision") : "");
	ro_sets(r->st, "failed_reason", reason);
	json_object_set_new(r->st, "aborted", json_true());
	ro_sets(r->st, "aborted_hash", canary);
	ro_sets(r->st, "canary_hash", NULL);
	ro_seti(r->st, "weight", 0);
	r->aborted = r->done = 1;
	ro_event(r, "abort", "rollout.aborted",
	         json_pack("{s:s,s:b,s:O?}", "reason", reason, "automatic", automatic, "analysis",
	                   json_object_get(r->st, "analysis")));
	return ro_save(r);
}

int ro_complete(ro_run *r)
{
	const char *canary = ro_gets(r->st, "canary_hash");

	json_object_set(r->st, "stable_rollout", json_object_get(r->st, "rollout"));
	ro_sets(r->st, "stable_hash", canary);
	ro_sets(r->st, "stable_revision", ro_gets(r->st, "revision"));
	ro_sets(r->st, "canary_hash", NULL);
	ro_seti(r->st, "step", -1);
	ro_seti(r->st, "weight", 0);
	json_object_del(r->st, "stage");
	json_object_del(r->st, "analysis");
	ro_phase(r, "Healthy", "%s", "rollout completed");
	r->done = 1;
	ro_event(r, "complete", "rollout.completed",
	         json_pack("{s:s?}", "hash", ro_gets(r->st, "stable_hash")));
	return ro_save(r);
}

/* ---- loading, requests, results ---- */

/* Parse the spec of the status' Rollout into r->spec. */
static int load_spec(ro_run *r)
{
	int rc = ro_spec_parse(&r->spec, json_object_get(r->st, "rollout"));

	if (rc < 0)
		return cairn_error_prefix("rollout '%s': stored Rollout: ", r->row->name);
	r->have_spec = 1;
	return 0;
}

static int load_run(ro_run *r, const cairn_rollout_ctx *ctx, const char *app, const char *env,
                    const char *name)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	rc = cairn_state_rollout_get(&r->row, ctx->state, app, env ? env : "", name);
	if (rc < 0)
		return rc;
	r->st = r->row->status;
	if (!json_is_object(r->st))
		return cairn_error_set(CAIRN_ECORRUPT, "rollout '%s': status is not an object",
		                       name);
	r->now = ro_now(r);
	return load_spec(r);
}

static void free_run(ro_run *r)
{
	cairn_state_rollout_free(r->row);
	r->row = NULL;
}

/* An intent written but not known done: the engine stopped between the
 * intent and its completion. Issue the same idempotent write again before
 * anything else, so nothing moves past it. */
static int resume_intent(ro_run *r)
{
	json_t *intent = json_object_get(r->st, "intent");

	if (intent == NULL || json_is_true(json_object_get(r->st, "done")))
		return 0;
	json_incref(intent);
	int rc = ro_write(r, intent);
	if (rc == 0)
		ro_event(r, "resume", NULL, json_pack("{s:s?}", "op", ro_gets(intent, "op")));
	return rc;
}

/* Start rolling out the template of the status' Rollout from step 0. */
static void start_rollout(ro_run *r)
{
	ro_sets(r->st, "canary_hash", r->spec.hash);
	ro_seti(r->st, "step", 0);
	ro_seti(r->st, "weight", 0);
	ro_seti(r->st, "started_at", r->now);
	ro_seti(r->st, "progress_at", r->now);
	json_object_del(r->st, "stage");
	json_object_del(r->st, "analysis");
	json_object_del(r->st, "pause_until");
	json_object_del(r->st, "paused");
	json_object_del(r->st, "aborted");
	json_object_del(r->st, "canary_scale");
	json_object_del(r->st, "promote");
	ro_phase(r, "Progressing", "rolling out %s", r->spec.hash);
	ro_event(r, "start", "rollout.step",
	         json_pack("{s:s,s:s?,s:s?}", "hash", r->spec.hash, "stable",
	                   ro_gets(r->st, "stable_hash"), "revision", ro_gets(r->st, "revision")));
}

static int in_progress(const ro_run *r)
{
	return ro_gets(r->st, "canary_hash") != NULL;
}

/* Operator requests (state.h): promote, promote-full, pause, resume,
 * abort, retry. */
static int take_request(ro_run *r)
{
	char *req = NULL;
	int rc;

	rc = cairn_state_rollout_take_request(&req, r->ctx->state, r->row->app, r->row->env,
	                                      r->row->name);
	if (rc < 0 || req == NULL)
		return rc;
	ro_event(r, "request", NULL, json_pack("{s:s}", "request", req));
	if (strcmp(req, "retry") == 0) {
		ro_sets(r->st, "failed_revision", NULL);
		ro_sets(r->st, "failed_reason", NULL);
		if (json_is_true(json_object_get(r->st, "aborted")))
			start_rollout(r);
	} else if (!in_progress(r)) {
		/* nothing rolls out: the request has nothing to act on */
	} else if (strcmp(req, "abort") == 0) {
		rc = ro_abort(r, "aborted by request", 0);
	} else if (strcmp(req, "pause") == 0) {
		json_object_set_new(r->st, "paused", json_true());
		ro_phase(r, "Paused", "%s", "paused by request");
	} else if (strcmp(req, "resume") == 0) {
		json_object_del(r->st, "paused");
		ro_phase(r, "Progressing", "%s", "resumed by request");
	} else if (strcmp(req, "promote") == 0 || strcmp(req, "promote-full") == 0) {
		json_object_del(r->st, "paused");
		json_object_set_new(r->st, "promote", json_string(req));
		ro_phase(r, "Progressing", "%s", req);
		ro_event(r, "promote", "rollout.promoted", json_pack("{s:s}", "request", req));
	}
	free(req);
	return rc;
}

static void fill_result(cairn_rollout_result *out, const ro_run *r)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->phase, sizeof(out->phase), "%s",
	         ro_gets(r->st, "phase") ? ro_gets(r->st, "phase") : "");
	snprintf(out->message, sizeof(out->message), "%s",
	         ro_gets(r->st, "message") ? ro_gets(r->st, "message") : "");
	out->step = ro_geti(r->st, "step", -1);
	out->weight = ro_geti(r->st, "weight", 0);
	out->changed = r->changed;
	out->completed = r->done || !in_progress(r);
	out->aborted = r->aborted || json_is_true(json_object_get(r->st, "aborted"));
	out->next_at = r->next_at;
}

/* Advance whatever is in progress, and the blue-green scale-down of an
 * old ReplicaSet after its delay. */
static int advance(ro_run *r)
{
	int rc = 0;

	if (in_progress(r) && !json_is_true(json_object_get(r->st, "paused")))
		rc = r->spec.blue_green ? ro_bluegreen_advance(r) : ro_canary_advance(r);
	else if (r->spec.blue_green && ro_gets(r->st, "old_hash") != NULL)
		rc = ro_bluegreen_advance(r);
	if (rc < 0)
		return rc;
	return ro_save(r);
}

int cairn_rollout_tick(cairn_rollout_result *out, const cairn_rollout_ctx *ctx, const char *app,
                       const char *env, const char *name)
{
	ro_run r;
	int rc;

	rc = load_run(&r, ctx, app, env, name);
	if (rc < 0)
		goto out;
	if ((rc = resume_intent(&r)) < 0 || (rc = take_request(&r)) < 0 || (rc = advance(&r)) < 0)
		goto out;
	fill_result(out, &r);
out:
	free_run(&r);
	return rc;
}

/* The AnalysisTemplates of the rendered set, by "Kind/name", kept in the
 * status so that ticks without the manifests can start runs. */
static json_t *collect_templates(const json_t *manifests)
{
	json_t *t = json_object();
	char key[320];
	size_t i;

	for (i = 0; t != NULL && i < json_array_size(manifests); i++) {
		const json_t *o = json_array_get(manifests, i);
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name =
		        json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
		if (!cairn_rollout_interpreted_kind(o) || name == NULL ||
		    strcmp(kind, "Rollout") == 0)
			continue;
		snprintf(key, sizeof(key), "%s/%s", kind, name);
		json_object_set(t, key, (json_t *)o);
	}
	return t;
}

/* The first sight of a Rollout: a row whose status knows nothing yet. */
static int create_row(const cairn_rollout_ctx *ctx, const char *app, const char *env,
                      const ro_spec *s)
{
	cairn_state_rollout row = {0};
	json_t *st = json_object();
	int rc;

	if (st == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	row.app = app;
	row.env = env ? env : "";
	row.name = s->name;
	row.namespace_ = s->ns;
	row.strategy = s->blue_green ? "blueGreen" : "canary";
	row.phase = "Progressing";
	row.step = -1;
	row.status = st;
	rc = cairn_state_rollout_put(NULL, ctx->state, &row);
	json_decref(st);
	return rc;
}

/* The template went back to the stable one while another rolled out (a
 * revert in git): the canary goes, the stable takes all the traffic. */
static int back_to_stable(ro_run *r, const char *stable)
{
	const char *canary = ro_gets(r->st, "canary_hash");
	int rc = 0;

	if (!r->spec.blue_green && (rc = canary_services_back(r, stable)) < 0)
		return rc;
	if (canary != NULL && strcmp(canary, stable) != 0) {
		if (r->spec.blue_green &&
		    (rc = ro_select(r, r->spec.active_service, stable, 0)) < 0)
			return rc;
		if (r->spec.blue_green && r->spec.preview_service != NULL &&
		    (rc = ro_select(r, r->spec.preview_service, stable, 0)) < 0)
			return rc;
		if ((rc = ro_scale(r, canary, 0)) < 0)
			return rc;
	}
	if ((rc = ro_scale(r, stable, r->spec.replicas)) < 0)
		return rc;
	ro_sets(r->st, "canary_hash", NULL);
	ro_seti(r->st, "step", -1);
	ro_seti(r->st, "weight", 0);
	ro_phase(r, "Healthy", "back on the stable template %s", stable);
	r->done = 1;
	ro_event(r, "rollback", "rollout.aborted",
	         json_pack("{s:s,s:s?}", "reason", "template returned to the stable one", "from",
	                   canary));
	return 0;
}

/* Decide what a (re-)applied Rollout means for the row loaded in `r`. */
static int apply_rollout(ro_run *r, const json_t *rollout, const ro_spec *s, const char *rev)
{
	const char *canary = ro_gets(r->st, "canary_hash");
	const char *stable = ro_gets(r->st, "stable_hash");
	const char *old = ro_gets(r->st, "old_hash");
	int rc = 0;

	if (canary != NULL && strcmp(s->hash, canary) == 0) {
		json_object_set(r->st, "rollout", (json_t *)rollout); /* steps may have changed */
		ro_sets(r->st, "revision", rev);
		return load_spec(r);
	}
	if (stable != NULL && strcmp(s->hash, stable) == 0) {
		json_object_set(r->st, "stable_rollout", (json_t *)rollout);
		if (canary != NULL)
			rc = back_to_stable(r, stable);
		json_object_set(r->st, "rollout", (json_t *)rollout);
		ro_sets(r->st, "revision", rev);
		return rc < 0 ? rc : load_spec(r);
	}
	if (s->blue_green && old != NULL && strcmp(s->hash, old) == 0 && canary == NULL)
		return ro_bluegreen_switch_back(r, rollout, rev);
	if (canary != NULL && (rc = ro_scale(r, canary, 0)) < 0) /* a newer template replaces it */
		return rc;
	json_object_set(r->st, "rollout", (json_t *)rollout);
	ro_sets(r->st, "revision", rev);
	if ((rc = load_spec(r)) < 0)
		return rc;
	if (stable == NULL)
		ro_sets(r->st, "stage", "init");
	start_rollout(r);
	if (stable == NULL)
		ro_sets(r->st, "stage", "init");
	return 0;
}

int cairn_rollout_apply(cairn_rollout_result *out, const cairn_rollout_ctx *ctx, const char *app,
                        const char *env, const char *revision, const json_t *rollout,
                        const json_t *manifests)
{
	const char *failed;
	ro_run r;
	ro_spec s;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = ro_spec_parse(&s, rollout);
	if (rc < 0) {
		cairn_error_prefix("Rollout '%s': ",
		                   s.name ? s.name
		                          : json_string_value(json_object_get(
		                                    json_object_get(rollout, "metadata"), "name")));
		return rc;
	}
	rc = cairn_state_rollout_get(&r.row, ctx->state, app, env ? env : "", s.name);
	if (rc == CAIRN_ENOTFOUND)
		rc = create_row(ctx, app, env, &s);
	cairn_state_rollout_free(r.row);
	r.row = NULL;
	if (rc < 0)
		return rc;
	rc = load_run(&r, ctx, app, env, s.name);
	if (rc == CAIRN_EINVAL &&
	    json_object_get(r.row ? r.row->status : NULL, "rollout") == NULL) {
		/* a new row: no stored Rollout yet */
		cairn_error_clear();
		json_object_set(r.st, "rollout", (json_t *)rollout);
		rc = load_spec(&r);
	}
	if (rc < 0 || (rc = resume_intent(&r)) < 0)
		goto out;
	json_object_set_new(r.st, "templates", collect_templates(manifests));
	failed = ro_gets(r.st, "failed_revision");
	if (failed != NULL && revision != NULL && strcmp(failed, revision) == 0) {
		fill_result(out, &r);
		snprintf(out->message, sizeof(out->message),
		         "revision %.12s was rolled back (%s): not rolled out again until retried",
		         revision,
		         ro_gets(r.st, "failed_reason") ? ro_gets(r.st, "failed_reason")
		                                        : "failed");
		out->changed = 0;
		goto out;
	}
	if ((rc = apply_rollout(&r, rollout, &s, revision)) < 0 || (rc = advance(&r)) < 0)
		goto out;
	fill_result(out, &r);
out:
	free_run(&r);
	return rc;
}
