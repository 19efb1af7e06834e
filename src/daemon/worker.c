/*
 * worker.c - what cairnd does for one application (cairnd_reconcile_app)
 * and how a moved ref finds the applications to reconcile
 * (cairnd_trigger_repo).
 *
 * A reconcile: resolve the sources' revisions and render through the git
 * mirrors (cairn_sync_render_app, under the daemon's git mutex), open the
 * cluster of the app's Environment, then either sync (automated apps, or
 * an explicit sync) or compare only, and write the status. An app pinned
 * by a rollback is compared, not synced, until its tracked revision moves.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/log.h"
#include "cairn/state.h"
#include "cairnd.h"
#include "driftd.h"

/* Everything one reconcile holds; live_dispose() frees it. */
struct live {
	const cairn_app *app;
	const cairn_env *env;
	cairn_app_render_result rr;
	int rendered;
	cairn_kube_client *kube;
	cairn_state *state;
	cairn_ignore *ignore;
	cairn_sync_ctx ctx;
	cairn_sync_request req;
};

static void live_dispose(struct live *l)
{
	if (l->rendered)
		cairn_app_render_result_dispose(&l->rr);
	cairn_kube_client_free(l->kube);
	cairn_state_close(l->state);
	cairn_ignore_free(l->ignore);
}

/* The kube client of the Environment's cluster, else the default kubeconfig. */
static int open_cluster(struct live *l)
{
	cairn_kubeconfig *kc = NULL;
	cairn_kube_config *cfg = NULL;
	int rc;

	if (l->env && l->env->in_cluster) {
		rc = cairn_kube_config_in_cluster(&cfg, NULL);
	} else {
		rc = cairn_kubeconfig_load(&kc, l->env ? l->env->kubeconfig : NULL,
		                           CAIRN_KUBECONFIG_TRUSTED);
		if (rc == 0)
			rc = cairn_kube_config_resolve(&cfg, kc, l->env ? l->env->context : NULL);
	}
	if (rc == 0)
		rc = cairn_kube_client_new(&l->kube, cfg, NULL);
	cairn_kube_config_free(cfg);
	cairn_kubeconfig_free(kc);
	return rc;
}

static int sync_option(const cairn_app *x, const char *key, const char *value)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < x->sync_option_count; i++)
		if (strncmp(x->sync_options[i], key, n) == 0 && x->sync_options[i][n] == '=' &&
		    strcasecmp(x->sync_options[i] + n + 1, value) == 0)
			return 1;
	return 0;
}

static void fill_request(struct live *l, cairnd *d, const char *who, const char *why)
{
	const cairn_app *x = l->app;
	cairn_sync_request *q = &l->req;

	q->app = x->name;
	q->env = x->environment ? x->environment : "";
	q->revision = l->rr.revision[0] ? l->rr.revision : "local";
	q->render_hash = l->rr.hash;
	q->dest_namespace =
	        x->dest_namespace ? x->dest_namespace : (l->env ? l->env->default_namespace : NULL);
	q->manifests = l->rr.objs;
	q->ignore = l->ignore;
	q->prune = x->prune || (l->env && l->env->prune);
	q->allow_empty = x->allow_empty;
	q->create_namespace = sync_option(x, "CreateNamespace", "true");
	q->retry_limit = (int)x->retry_limit;
	q->backoff_ms = x->backoff_duration_ns / 1000000;
	q->backoff_factor = (int)x->backoff_factor;
	q->backoff_max_ms = x->backoff_max_duration_ns / 1000000;
	q->history_limit = x->revision_history_limit > 0 ? (int)x->revision_history_limit : 0;
	q->prune_propagation =
	        sync_option(x, "PrunePropagationPolicy", "foreground") ? "foreground" : NULL;
	q->interpret_rollouts = !(l->env && l->env->rollouts == CAIRN_ENV_ROLLOUTS_EXTERNAL);
	l->ctx.kube = l->kube;
	l->ctx.state = l->state;
	l->ctx.audit = d->audit;
	l->ctx.actor = who;
	l->ctx.trigger = why;
	l->ctx.track = CAIRN_TRACK_ANNOTATION;
}

/* Resolve and render under the git mutex (one mirrors session per render). */
static int render(cairnd *d, struct cairnd_defs *x, struct live *l)
{
	cairn_app_render_opts ro = {0};
	cairn_app_git *git = NULL;
	int rc;

	pthread_mutex_lock(&d->git_mu);
	rc = cairn_app_git_new(&git, d->state_dir, &x->cfg, 0);
	ro.cfg = &x->cfg;
	ro.git = git;
	if (rc == 0 && (rc = cairn_sync_render_app(&l->rr, &ro, l->app, l->env)) == 0)
		l->rendered = 1;
	cairn_app_git_free(git);
	pthread_mutex_unlock(&d->git_mu);
	return rc;
}

static json_t *result_json(const cairn_sync_result *res)
{
	json_t *arr = json_array();

	for (size_t i = 0; res && i < res->n; i++) {
		const cairn_sync_res *r = &res->v[i];
		char id[1024];

		cairn_res_id_format(&r->id, id, sizeof(id));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "id", id, "status",
		                                     !r->desired ? "Prune"
		                                     : r->synced ? "Synced"
		                                                 : "OutOfSync",
		                                     "health",
		                                     cairn_health_status_string(r->health.status),
		                                     "desired", r->desired));
	}
	return arr;
}

/* Compare only, and record the status (a sync writes its own). */
static int compare(struct live *l, json_t *sum)
{
	cairn_sync_result *res = NULL;
	cairn_state_app st = {0};
	int rc;

	if ((rc = cairn_sync_compare_app(&res, &l->ctx, &l->req)) < 0)
		return rc;
	st.app = l->req.app;
	st.env = l->req.env;
	st.sync_status = res->synced ? "Synced" : "OutOfSync";
	st.health = cairn_health_status_string(res->health.status);
	st.revision = l->req.revision;
	st.render_hash = l->req.render_hash;
	rc = cairn_state_app_put(l->state, &st);
	json_object_set_new(sum, "synced", json_boolean(res->synced));
	json_object_set_new(sum, "health", json_string(st.health));
	json_object_set_new(sum, "resources", result_json(res));
	cairn_sync_result_free(res);
	return rc;
}

/* Whether a rollback pinned the app at the revision it still tracks. */
static int pinned(struct live *l)
{
	cairn_state_app *st = NULL;
	int pin = 0;

	if (cairn_state_app_get(&st, l->state, l->req.app, l->req.env) == 0) {
		pin = st->paused && st->pinned_revision &&
		      strcmp(st->pinned_revision, l->req.revision) == 0;
		cairn_state_app_free(st);
	}
	return pin;
}

/*
 * Whether the render at hand is the one the last successful sync deployed
 * (the newest history entry of the app). An automated sync only runs for a
 * new render or, with selfHeal, to put back a drifted object: as Argo CD,
 * a push that does not change an app's manifests leaves it alone (no
 * operation, no history entry, no audit entry).
 */
static int deployed_already(struct live *l)
{
	cairn_state_history **v = NULL;
	size_t n = 0;
	int same = 0;

	if (!l->req.render_hash ||
	    cairn_state_history_list(&v, &n, l->state, l->req.app, l->req.env) < 0)
		return 0;
	same = n > 0 && v[0]->render_hash && strcmp(v[0]->render_hash, l->req.render_hash) == 0;
	cairn_state_history_list_free(v, n);
	return same;
}

/* An automated reconcile of an already deployed render: compare, and sync
 * only when something drifted and the app self-heals. */
static int auto_resync(struct live *l, json_t *sum)
{
	int self_heal = l->app->self_heal || (l->env && l->env->self_heal);
	int rc = compare(l, sum);

	if (rc < 0 || !self_heal || json_is_true(json_object_get(sum, "synced")))
		return rc < 0 ? rc : 1;
	return 0;
}

static int run(struct live *l, enum cairnd_mode mode, int64_t hid, json_t *sum)
{
	cairn_sync_outcome oc;
	int automated = l->app->automated || (l->env && l->env->auto_sync);
	int rc;

	memset(&oc, 0, sizeof(oc));
	if (mode == CAIRND_ROLLBACK) {
		rc = cairn_sync_rollback(&oc, &l->ctx, &l->req, hid, l->req.revision);
		json_object_set_new(sum, "operation", json_integer(oc.operation_id));
		json_object_set_new(sum, "succeeded", json_boolean(rc == 0));
		json_object_set_new(sum, "message", json_string(oc.message));
		return rc;
	}
	if (mode == CAIRND_COMPARE || (mode == CAIRND_SYNC_AUTO && (!automated || pinned(l))))
		return compare(l, sum);
	if (mode == CAIRND_SYNC_AUTO && deployed_already(l) && (rc = auto_resync(l, sum)) != 0)
		return rc < 0 ? rc : 0;
	rc = cairn_sync_run(&oc, &l->ctx, &l->req);
	json_object_set_new(sum, "operation", json_integer(oc.operation_id));
	json_object_set_new(sum, "synced", json_boolean(rc == 0));
	json_object_set_new(sum, "applied", json_integer((json_int_t)oc.applied));
	json_object_set_new(sum, "message", json_string(oc.message));
	return rc;
}

/*
 * A rollback deployed history entry `hid`'s manifests, so its Rollouts go
 * to the engine, not those of the tracked revision's render: the older
 * template rolls out by its strategy (or goes straight back when it is the
 * stable one, as Argo Rollouts' fast-track rollback). Without this a
 * rollback would move everything but the Rollouts' workloads.
 */
static int rollback_rollouts(cairnd *d, struct live *l, int64_t hid, json_t *sum)
{
	cairn_state_history *h = NULL;
	cairn_sync_request q = l->req;
	int rc;

	if (!l->req.interpret_rollouts || !json_is_true(json_object_get(sum, "succeeded")))
		return cairnd_rollouts_reconciled(d, &l->ctx, &l->req, NULL, 0, sum);
	if ((rc = cairn_state_history_get(&h, l->state, hid)) < 0)
		return rc;
	if (h->manifests) {
		q.manifests = h->manifests;
		q.revision = h->revision;
		q.render_hash = h->render_hash;
		rc = cairnd_rollouts_after_sync(d, l->ctx.kube, l->ctx.state, &q, l->ctx.actor);
	}
	cairn_state_history_free(h);
	return rc;
}

static int reconcile(cairnd *d, const char *name, enum cairnd_mode mode, int64_t hid,
                     const char *who, const char *why, json_t **out)
{
	struct cairnd_defs *x = cairnd_defs_get(d);
	cairn_usec t0 = cairn_time_mono(), t_render = 0;
	json_t *sum = NULL;
	struct live l;
	int rc;

	memset(&l, 0, sizeof(l));
	if (!(l.app = cairn_app_set_find(x->apps, name))) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "unknown application '%s'", name);
		goto out;
	}
	if (l.app->environment && x->envs)
		l.env = cairn_env_set_find(x->envs, l.app->environment);
	cairnd_events_reconcile_start(d, l.app, why);
	if ((rc = render(d, x, &l)) == 0)
		t_render = cairn_time_mono();
	if (rc < 0 || (rc = open_cluster(&l)) < 0 ||
	    (rc = cairn_state_open(&l.state, d->state_dir, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_ignore_compile(&l.ignore, l.app->ignore_differences,
	                               "spec.ignoreDifferences")) < 0)
		goto out;
	fill_request(&l, d, who, why);
	sum = json_pack("{s:s, s:s, s:s, s:s}", "app", name, "env", l.req.env, "revision",
	                l.req.revision, "trigger", why);
	char held[600] = "";

	/* the drift watcher lets go of the app before another render is applied */
	cairnd_drift_reconciling(d, l.app, l.env, &l.req, mode);

	/* a revision its rollout rolled back is compared, not synced (rollouts.c) */
	if (mode != CAIRND_ROLLBACK &&
	    cairnd_rollouts_held(held, sizeof(held), l.state, &l.req, mode))
		rc = compare(&l, sum);
	else
		rc = run(&l, mode, hid, sum);
	if (rc == 0 && mode == CAIRND_ROLLBACK)
		rc = rollback_rollouts(d, &l, hid, sum);
	else if (rc == 0)
		rc = cairnd_rollouts_reconciled(d, &l.ctx, &l.req, held[0] ? held : NULL,
		                                deployed_already(&l), sum);
	if (rc == 0)
		cairnd_drift_reconciled(d, l.app, l.env, &l.req, l.state);
out:
	cairnd_events_reconciled(d, l.app, why, rc, sum);
	if (rc < 0) {
		cairn_log(CAIRN_LOG_WARN, (const char *const[]){"app", name, "trigger", why, NULL},
		          "reconcile failed: %s", cairn_error_last()->message);
	} else {
		char ms[32], rms[32];

		/* the render share (fetch, resolve, render; waiting for the git lock
		 * included) against the whole, to see where a reconcile's time goes */
		snprintf(ms, sizeof(ms), "%.1f", (double)(cairn_time_mono() - t0) / 1000.0);
		snprintf(rms, sizeof(rms), "%.1f", (double)(t_render - t0) / 1000.0);
		cairn_log(CAIRN_LOG_INFO,
		          (const char *const[]){"app", name, "trigger", why, "ms", ms, "render_ms",
		                                rms, NULL},
		          "reconciled");
		if (out) {
			*out = sum;
			sum = NULL;
		}
	}
	json_decref(sum);
	live_dispose(&l);
	cairnd_defs_put(d, x);
	return rc;
}

int cairnd_reconcile_app(cairnd *d, const char *name, enum cairnd_mode mode, const char *who,
                         const char *why, json_t **out)
{
	return reconcile(d, name, mode, 0, who, why, out);
}

int cairnd_rollback_app(cairnd *d, const char *app, int64_t history_id, const char *who,
                        json_t **out)
{
	return reconcile(d, app, CAIRND_ROLLBACK, history_id, who, "api", out);
}

/*
 * Repository URLs compared as the same repository: a "file://" prefix,
 * trailing slashes and a ".git" suffix dropped, and a local path made
 * absolute and canonical (the post-receive hook sends the bare
 * repository's physical path).
 */
static void norm_url(char *out, size_t size, const char *url)
{
	char tmp[PATH_MAX], real[PATH_MAX];
	size_t n;

	if (strncmp(url, "file://", 7) == 0)
		url += 7;
	snprintf(tmp, sizeof(tmp), "%s", url);
	n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	if (tmp[0] == '/' && realpath(tmp, real))
		snprintf(tmp, sizeof(tmp), "%s", real);
	n = strlen(tmp);
	if (n > 4 && strcmp(tmp + n - 4, ".git") == 0)
		tmp[n - 4] = '\0';
	snprintf(out, size, "%s", tmp);
}

/*
 * The default branch of a local repository ("refs/heads/main"), read from
 * its HEAD file (bare or not), into `out`; "" when it cannot be known (a
 * remote URL, a detached HEAD): then a HEAD-tracking app follows every
 * branch.
 */
static void default_branch(char *out, size_t size, const char *norm)
{
	char path[PATH_MAX], line[512];
	FILE *f = NULL;

	out[0] = '\0';
	if (norm[0] != '/')
		return;
	for (int i = 0; i < 3 && !f; i++) {
		/* bare "repo.git" (normalised to "repo"), "repo", or a work tree */
		snprintf(path, sizeof(path), "%s%s/HEAD", norm,
		         i == 0   ? ".git"
		         : i == 1 ? ""
		                  : "/.git");
		f = fopen(path, "re");
	}
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && strncmp(line, "ref: refs/heads/", 16) == 0) {
		line[strcspn(line, "\r\n")] = '\0';
		snprintf(out, size, "%s", line + 5);
	}
	fclose(f);
}

/*
 * Whether an app tracking `rev` follows `ref`: HEAD (or none) follows the
 * repository's default branch `defbranch`, every branch when that is ""
 * (not known, as for a webhook from a forge); a full ref name itself, a
 * short name the branch or tag of that name; a commit id follows nothing.
 */
static int tracks(const char *rev, const char *ref, const char *defbranch)
{
	if (!rev || !*rev || strcmp(rev, "HEAD") == 0)
		return *defbranch ? strcmp(ref, defbranch) == 0
		                  : strncmp(ref, "refs/heads/", 11) == 0;
	if (strncmp(rev, "refs/", 5) == 0)
		return strcmp(rev, ref) == 0;
	return (strncmp(ref, "refs/heads/", 11) == 0 && strcmp(ref + 11, rev) == 0) ||
	       (strncmp(ref, "refs/tags/", 10) == 0 && strcmp(ref + 10, rev) == 0);
}

/* Whether `rev` of the repository `want` (normalised) moves with one of `refs`. */
static int moved(const char *want, const char *have_url, const char *rev, const char *const *refs,
                 size_t n, const char *defbranch)
{
	char have[PATH_MAX];

	norm_url(have, sizeof(have), have_url);
	if (strcmp(want, have) != 0)
		return 0;
	if (!refs)
		return 1;
	for (size_t k = 0; k < n; k++)
		if (tracks(rev, refs[k], defbranch))
			return 1;
	return 0;
}

static int app_matches(const cairn_app *a, const char *want, const char *const *refs, size_t n,
                       const char *defbranch)
{
	for (size_t i = 0; i < a->source_count; i++) {
		const cairn_app_source *s = &a->sources[i];

		if (!s->chart && s->repo_url &&
		    moved(want, s->repo_url, s->target_revision, refs, n, defbranch))
			return 1;
	}
	return 0;
}

/*
 * Whether the push moved the repository cairnd reads Application
 * definitions from (cairn.yaml apps[] with a repoURL): then they are
 * re-read before the apps are matched, as SIGHUP does.
 */
static int defs_moved(cairnd *d, const char *want, const char *const *refs, size_t n,
                      const char *defbranch)
{
	struct cairnd_defs *x = cairnd_defs_get(d);
	int hit = 0;

	for (size_t i = 0; i < x->cfg.apps_count && !hit; i++)
		hit = x->cfg.apps[i].repo_url && moved(want, x->cfg.apps[i].repo_url,
		                                       x->cfg.apps[i].revision, refs, n, defbranch);
	cairnd_defs_put(d, x);
	return hit;
}

size_t cairnd_trigger_repo(cairnd *d, const char *url, const char *const *refs, size_t n_refs,
                           const char *why, json_t *names)
{
	char want[PATH_MAX], defbranch[512];
	struct cairnd_defs *x;
	size_t queued = 0;

	norm_url(want, sizeof(want), url);
	default_branch(defbranch, sizeof(defbranch), want);
	if (defs_moved(d, want, refs, n_refs, defbranch)) {
		if (cairnd_reload(d) < 0)
			cairn_log_warn("%s", cairn_error_last()->message);
		else
			cairn_log_info("definitions re-read: their repository '%s' moved", url);
	}
	x = cairnd_defs_get(d);
	for (size_t i = 0; i < cairn_app_set_count(x->apps); i++) {
		const cairn_app *a = cairn_app_set_at(x->apps, i);

		if (!app_matches(a, want, refs, n_refs, defbranch))
			continue;
		if (cairn_sched_trigger(d->sched, a->name, why) < 0) {
			cairn_log_warn("trigger of '%s' dropped: %s", a->name,
			               cairn_error_last()->message);
			continue;
		}
		queued++;
		if (names)
			json_array_append_new(names, json_string(a->name));
	}
	if (d->m_triggers && queued)
		cairn_metric_add(d->m_triggers, (const char *const[]){why}, (double)queued);
	cairnd_defs_put(d, x);
	return queued;
}
