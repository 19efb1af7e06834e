/*
 * cmd_app_sync.c - `cairn app diff|sync|wait|history|rollback NAME` and the
 * live part of `cairn app get`: one Application in its Environment against
 * its cluster, through the sync module (cairn/sync.h) and the state
 * database under the state directory.
 *
 * The manifests are rendered in process by cairn_sync_render_app() (the
 * same pipeline as `cairn render NAME`); the revision is the commits its
 * sources resolved to in the mirror cache, ','-joined ("local" with
 * --repo-root). The cluster is --kubeconfig/--context, else the
 * Environment's spec.cluster kubeconfig/context, else $KUBECONFIG.
 *
 * `sync` and `rollback` record into the audit trail (sync.started, prune,
 * sync.succeeded/failed, rollback) when cairn.yaml sets `audit.key`; the
 * actor is --actor, else `audit.actor`, else the local user. Objects are
 * tracked as cairn.yaml's `tracking` says (annotation by default).
 *
 * Output: text by default (progress lines per wave and resource, coloured
 * on a terminal), or one JSON/YAML document with -o json|yaml (progress
 * then goes to stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_cli.h"
#include "cairn/audit.h"
#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/render.h"
#include "cairn/rollout.h"
#include "cairn/state.h"
#include "cairn/sync.h"
#include "cairn/util.h"
#include "cli.h"

#define WAIT_DEFAULT_MS (5 * 60 * 1000)
#define WAIT_POLL_MS 500

/* What a command against the cluster holds; app_live_dispose() frees it. */
struct app_live {
	const cairn_env *env;
	cairn_kube_client *kube;
	cairn_state *state;
	cairn_ignore *ignore;
	cairn_audit *audit;
	json_t *manifests;
	char revision[sizeof(((cairn_app_render_result *)0)->revision)];
	char hash[65];
	char actor[CAIRN_AUDIT_FIELD_MAX + 1];
	cairn_sync_ctx ctx;
	cairn_sync_request req;
};

/* Progress printing state: the last phase/wave printed as a header. */
struct progress {
	FILE *out;
	int tty;
	int have_wave;
	char phase[32];
	int wave;
};

static void app_live_dispose(struct app_live *l)
{
	cairn_kube_client_free(l->kube);
	cairn_state_close(l->state);
	cairn_ignore_free(l->ignore);
	json_decref(l->manifests);
	if (l->audit && cairn_audit_close(l->audit) < 0)
		cli_print_error("closing the audit log");
	l->audit = NULL;
}

static int want_output(const struct app_args *a)
{
	return a->output && strcmp(a->output, "wide") != 0;
}

/* The kube client of the cluster the app deploys to (see the file comment). */
static int open_cluster(struct app_live *l, const struct app_args *a)
{
	const char *path = a->kubeconfig, *context = a->context;
	cairn_kube_config *cfg = NULL;
	int in_cluster = !path && !context && l->env && l->env->in_cluster;
	int rc;

	if (!path && l->env)
		path = l->env->kubeconfig;
	if (!context && !a->kubeconfig && l->env)
		context = l->env->context;
	rc = cairn_kube_config_for(&cfg, path, context, in_cluster);
	if (rc == 0)
		rc = cairn_kube_client_new(&l->kube, cfg, NULL);
	cairn_kube_config_free(cfg);
	return rc;
}

/*
 * The revision the app tracks now, in the form a sync records: the commits
 * its git sources' targetRevisions resolve to in the mirror cache (fetched
 * unless --no-fetch), ','-joined in source order as cairn_sync_render_app()
 * gives them. With --repo-root the sources are a local folder: "local".
 */
static int resolve_revision(struct app_live *l, struct app_ctx *c, const struct app_args *a,
                            const cairn_app *x)
{
	char oid[CAIRN_SOURCE_OID_HEX_LEN];
	size_t len = 0;

	l->revision[0] = '\0';
	for (size_t i = 0; !a->repo_root && i < x->source_count; i++) {
		const cairn_app_source *s = &x->sources[i];

		if (s->chart || (s->ref && !s->path))
			continue;
		if (cairn_app_git_resolve(oid, c->git, s->repo_url, s->target_revision) < 0)
			return cairn_error_prefix("application '%s': ", x->name);
		snprintf(l->revision + len, sizeof(l->revision) - len, "%s%s", len ? "," : "", oid);
		len = strlen(l->revision);
	}
	if (len == 0)
		snprintf(l->revision, sizeof(l->revision), "local");
	return 0;
}

/*
 * Render the Application in its Environment in process; the manifests,
 * their render hash and the sources' commits (the revision) come back.
 */
static int render_app(struct app_live *l, struct app_ctx *c, const struct app_args *a,
                      const cairn_app *x)
{
	cairn_app_render_opts ro = {&c->cfg, c->git, a->repo_root, NULL, 0, NULL};
	cairn_app_render_result rr;
	int rc;

	if ((rc = cairn_sync_render_app(&rr, &ro, x, l->env)) < 0)
		return rc;
	l->manifests = json_incref(rr.objs);
	snprintf(l->hash, sizeof(l->hash), "%s", rr.hash);
	snprintf(l->revision, sizeof(l->revision), "%s", rr.revision[0] ? rr.revision : "local");
	cairn_app_render_result_dispose(&rr);
	return 0;
}

/*
 * The audit trail of `sync` and `rollback`: opened for writing with the
 * configuration's signer key when cairn.yaml sets `audit.key`; without
 * one nothing is recorded (as before the audit module landed). A log held
 * by another writer is an error: a sync that should be audited is not
 * run unaudited.
 */
static int open_audit(struct app_live *l, struct app_ctx *c)
{
	const cairn_audit_config *ac = &c->cfg.audit;
	cairn_audit_opts opts = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_signer *signer = NULL;
	int rc;

	if (ac->key_file == NULL || ac->key_file[0] == '\0')
		return 0;
	if ((rc = cairn_audit_signer_load(&signer, ac->key_file)) < 0)
		return cairn_error_prefix("loading the audit key: ");
	opts.state_dir = c->state_dir;
	opts.writable = 1;
	opts.signer = signer;
	opts.origin = ac->origin;
	opts.checkpoint_every = ac->checkpoint_every;
	opts.checkpoint_interval_ns = ac->checkpoint_interval;
	opts.sync = ac->sync;
	rc = cairn_audit_open(&l->audit, &opts, NULL);
	cairn_audit_signer_free(signer);
	if (rc == CAIRN_EBUSY)
		return cairn_error_set(rc,
		                       "another writer (the daemon?) holds the audit log in '%s': "
		                       "not syncing unaudited",
		                       c->state_dir);
	return rc < 0 ? cairn_error_prefix("opening the audit log: ") : 0;
}

/* Whether syncPolicy.syncOptions holds "key=true" (case-insensitive value). */
static int sync_option(const cairn_app *x, const char *key, const char *value)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < x->sync_option_count; i++)
		if (strncmp(x->sync_options[i], key, n) == 0 && x->sync_options[i][n] == '=' &&
		    strcasecmp(x->sync_options[i] + n + 1, value) == 0)
			return 1;
	return 0;
}

/* The sync request and context of the app (strings borrowed from x and l). */
static void fill_request(struct app_live *l, struct app_ctx *c, const struct app_args *a,
                         const cairn_app *x)
{
	cairn_sync_request *q = &l->req;

	q->app = x->name;
	q->env = x->environment ? x->environment : "";
	q->revision = l->revision;
	q->render_hash = l->hash;
	q->dest_namespace =
	        x->dest_namespace ? x->dest_namespace : (l->env ? l->env->default_namespace : NULL);
	q->manifests = l->manifests;
	q->ignore = l->ignore;
	q->prune = a->prune || x->prune;
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
	cairn_audit_default_actor(l->actor, sizeof(l->actor),
	                          a->actor ? a->actor : c->cfg.audit.actor);
	l->ctx.audit = l->audit;
	l->ctx.actor = l->actor;
	l->ctx.trigger = "cli";
	l->ctx.track = (cairn_track_mode)c->cfg.tracking;
	l->ctx.wait_timeout_ms = a->sub == APP_SYNC ? a->timeout_ms : 0;
}

/*
 * Everything a command against the cluster needs: environment, cluster,
 * state (read-write unless `readonly`), and, when `render` is set, the
 * revision and rendered manifests.
 */
static int app_live_open(struct app_live *l, struct app_ctx *c, const struct app_args *a,
                         const cairn_app *x, int render, int readonly)
{
	int rc;

	memset(l, 0, sizeof(*l));
	if (x->environment && c->envs)
		l->env = cairn_env_set_find(c->envs, x->environment);
	rc = cairn_state_open(&l->state, c->state_dir,
	                      readonly ? CAIRN_STATE_READONLY : CAIRN_STATE_CREATE);
	if (rc < 0)
		return rc;
	if (render && ((rc = render_app(l, c, a, x)) < 0 || (rc = open_cluster(l, a)) < 0))
		return rc;
	if (!readonly && (a->sub == APP_SYNC || a->sub == APP_ROLLBACK) && !a->dry_run &&
	    (rc = open_audit(l, c)) < 0)
		return rc;
	if (render && (rc = cairn_ignore_compile(&l->ignore, x->ignore_differences,
	                                         "spec.ignoreDifferences")) < 0)
		return rc;
	fill_request(l, c, a, x);
	return 0;
}

static const char *res_status(const cairn_sync_res *r)
{
	if (!r->desired)
		return "Extra";
	return r->synced ? "Synced" : "OutOfSync";
}

static const char *res_health(const cairn_sync_res *r)
{
	return r->health.none ? "" : cairn_health_status_string(r->health.status);
}

/* The resource tree of a comparison as JSON (for -o json|yaml). */
static json_t *result_json(const cairn_sync_result *res)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < res->n; i++) {
		const cairn_sync_res *r = &res->v[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "group",
		                                     r->id.group, "kind", r->id.kind, "namespace",
		                                     r->id.ns, "name", r->id.name, "status",
		                                     res_status(r), "health", res_health(r),
		                                     "message", r->health.message));
	}
	return arr;
}

/* The resource tree as a table, as `argocd app get` prints it. */
static void print_tree(const cairn_sync_result *res)
{
	printf("\n%-10s %-24s %-20s %-32s %-10s %-12s %s\n", "GROUP", "KIND", "NAMESPACE", "NAME",
	       "STATUS", "HEALTH", "MESSAGE");
	for (size_t i = 0; i < res->n; i++) {
		const cairn_sync_res *r = &res->v[i];

		printf("%-10s %-24s %-20s %-32s %-10s %-12s %s\n",
		       r->id.group[0] ? r->id.group : "", r->id.kind, r->id.ns, r->id.name,
		       res_status(r), res_health(r), r->health.message);
	}
}

/* Print the stored status and last operation of the app; NULL st: none. */
static json_t *stored_status(cairn_state *st, const cairn_app *x, int print)
{
	const char *env = x->environment ? x->environment : "";
	cairn_state_app *s = NULL;
	cairn_state_op **ops = NULL;
	size_t n = 0;
	json_t *doc = json_object();

	if (st && cairn_state_app_get(&s, st, x->name, env) == 0) {
		json_object_set_new(doc, "sync",
		                    json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b, s:I}", "status",
		                              s->sync_status, "health", s->health, "revision",
		                              s->revision, "renderHash", s->render_hash, "message",
		                              s->message, "paused", s->paused, "pinnedHistoryId",
		                              (json_int_t)s->pinned_history_id));
		if (print) {
			printf("Sync Status:  %s\n", s->sync_status);
			printf("Health:       %s\n", s->health);
			printf("Revision:     %s\n", s->revision ? s->revision : "-");
			printf("Render Hash:  %s\n", s->render_hash ? s->render_hash : "-");
			if (s->paused)
				printf("Auto-sync:    paused (pinned to history %" PRId64
				       " by a rollback)\n",
				       s->pinned_history_id);
		}
	} else if (print) {
		printf("Sync Status:  Unknown (never synced)\n");
	}
	if (st && cairn_state_op_list(&ops, &n, st, x->name, env, 1) == 0 && n == 1) {
		const cairn_state_op *op = ops[0];

		json_object_set_new(doc, "operation",
		                    json_pack("{s:I, s:s, s:s, s:s?, s:i, s:O}", "id",
		                              (json_int_t)op->id, "kind", op->kind, "phase",
		                              op->phase, "message", op->message, "attempt",
		                              op->attempt, "resources", op->resources));
		if (print) {
			printf("Operation:    %s #%" PRId64 " %s (attempt %d)%s%s\n", op->kind,
			       op->id, op->phase, op->attempt,
			       op->message && *op->message ? ": " : "",
			       op->message ? op->message : "");
		}
	}
	cairn_state_op_list_free(ops, n);
	cairn_state_app_free(s);
	return doc;
}

int app_get_status(struct app_ctx *c, const struct app_args *a, const cairn_app *x, json_t *doc)
{
	struct app_live l;
	cairn_sync_result *res = NULL;
	json_t *st;
	int rc;

	memset(&l, 0, sizeof(l));
	if (a->refresh)
		rc = app_live_open(&l, c, a, x, 1, 0);
	else if ((rc = app_live_open(&l, c, a, x, 0, 1)) == CAIRN_ENOTFOUND)
		rc = 0; /* no state database yet: never synced */
	if (rc == 0 && a->refresh)
		rc = cairn_sync_compare_app(&res, &l.ctx, &l.req);
	if (rc < 0) {
		cli_print_error("app get");
		goto out;
	}
	st = stored_status(l.state, x, doc == NULL);
	if (res && doc == NULL) {
		printf("Live:         %s, %s (render %s at %s)\n",
		       res->synced ? "Synced" : "OutOfSync",
		       cairn_health_status_string(res->health.status), l.hash, l.revision);
		print_tree(res);
	}
	if (res) {
		json_object_set_new(st, "live",
		                    json_pack("{s:s, s:s, s:s, s:s, s:o}", "status",
		                              res->synced ? "Synced" : "OutOfSync", "health",
		                              cairn_health_status_string(res->health.status),
		                              "revision", l.revision, "renderHash", l.hash,
		                              "resources", result_json(res)));
	}
	if (doc)
		json_object_set_new(doc, "status", st);
	else
		json_decref(st);
out:
	cairn_sync_result_free(res);
	app_live_dispose(&l);
	return rc;
}

/* ---- diff -------------------------------------------------------------- */

/* One differing object as JSON: its paths with live and wanted values. */
static json_t *diff_json(const cairn_sync_res *r)
{
	json_t *paths = json_array();
	char id[1024];

	cairn_res_id_format(&r->id, id, sizeof(id));
	for (size_t i = 0; r->diff && i < r->diff->n; i++) {
		const cairn_diff_entry *e = &r->diff->v[i];

		json_array_append_new(paths, json_pack("{s:s, s:O?, s:O?}", "path", e->path, "live",
		                                       e->live, "wanted", e->wanted));
	}
	return json_pack("{s:s, s:s, s:b, s:o}", "resource", id, "status", res_status(r), "missing",
	                 r->diff ? r->diff->missing : 0, "differences", paths);
}

/*
 * Print the differences of a comparison; returns how many objects differ
 * or a negative error. An object that would be pruned differs too.
 */
static int print_diffs(const cairn_sync_result *res, const struct app_args *a)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	int color = !want_output(a) && isatty(STDOUT_FILENO), n = 0, rc = 0;
	json_t *doc = json_array();
	char id[1024];

	for (size_t i = 0; i < res->n && rc == 0; i++) {
		const cairn_sync_res *r = &res->v[i];

		if (r->desired && (r->synced || !r->diff))
			continue;
		n++;
		if (want_output(a)) {
			json_array_append_new(doc, diff_json(r));
		} else if (r->desired) {
			rc = cairn_diff_format(&b, r->diff, color);
		} else {
			cairn_res_id_format(&r->id, id, sizeof(id));
			rc = cairn_buf_printf(
			        &b, "===== %s/%s %s/%s ======\n%s(not in git: %s)%s\n", r->id.group,
			        r->id.kind, r->id.ns, r->id.name, color ? "\033[31m" : "",
			        "would be pruned by 'cairn app sync --prune'",
			        color ? "\033[0m" : "");
		}
	}
	if (rc == 0 && want_output(a))
		rc = app_print_doc(doc, strcmp(a->output, "yaml") == 0);
	else if (rc == 0 && b.len)
		fwrite(b.ptr, 1, b.len, stdout);
	json_decref(doc);
	cairn_buf_dispose(&b);
	return rc < 0 ? rc : n;
}

/* `app diff`: 0 no difference, 1 differences, 2 error (as `argocd app diff`). */
int app_cmd_diff(struct app_ctx *c, const struct app_args *a, const cairn_app *x)
{
	struct app_live l;
	cairn_sync_result *res = NULL;
	int rc, status = CLI_EXIT_USAGE;

	if ((rc = app_live_open(&l, c, a, x, 1, 0)) < 0 ||
	    (rc = cairn_sync_compare_app(&res, &l.ctx, &l.req)) < 0 ||
	    (rc = print_diffs(res, a)) < 0) {
		cli_print_error("app diff");
		goto out;
	}
	status = rc > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	cairn_sync_result_free(res);
	app_live_dispose(&l);
	return status;
}

/* ---- sync -------------------------------------------------------------- */

static const char *result_color(const char *result)
{
	if (strcmp(result, "ok") == 0 || strcmp(result, "Healthy") == 0 ||
	    strcmp(result, "Succeeded") == 0)
		return "\033[32m";
	if (strncmp(result, "failed", 6) == 0 || strcmp(result, "Degraded") == 0)
		return "\033[31m";
	return "\033[33m";
}

/*
 * Progress of a sync. On a terminal: a header line per phase and wave,
 * then one coloured line per resource event. Otherwise plain lines with a
 * UTC time, phase, wave, resource, action and result, one per event, for
 * logs and scripts.
 */
static void on_progress(void *ud, const char *phase, int wave, const cairn_res_id *id,
                        const char *action, const char *result)
{
	struct progress *p = ud;
	char idbuf[1024] = "-", when[32];
	struct timespec ts;
	struct tm tm;

	if (id)
		cairn_res_id_format(id, idbuf, sizeof(idbuf));
	if (!p->tty) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(p->out, "%s %-8s wave %-3d %-50s %-8s %s\n", when, phase, wave, idbuf,
		        action, result);
		fflush(p->out);
		return;
	}
	if (!p->have_wave || strcmp(p->phase, phase) != 0 || p->wave != wave) {
		fprintf(p->out, "\033[1m%s wave %d\033[0m\n", phase, wave);
		snprintf(p->phase, sizeof(p->phase), "%s", phase);
		p->wave = wave;
		p->have_wave = 1;
	}
	fprintf(p->out, "  %-50s %-8s %s%s\033[0m\n", idbuf, action, result_color(result), result);
	fflush(p->out);
}

static json_t *outcome_json(const cairn_sync_outcome *o, const struct app_live *l)
{
	return json_pack("{s:I, s:I, s:i, s:b, s:I, s:I, s:I, s:s, s:s, s:s}", "operationId",
	                 (json_int_t)o->operation_id, "historyId", (json_int_t)o->history_id,
	                 "attempts", o->attempts, "succeeded", o->succeeded, "applied",
	                 (json_int_t)o->applied, "pruned", (json_int_t)o->pruned, "hooks",
	                 (json_int_t)o->hooks, "message", o->message, "revision", l->revision,
	                 "renderHash", l->hash);
}

/* Print the outcome of a sync or rollback; returns the exit status. */
static int report_outcome(int rc, const cairn_sync_outcome *o, const struct app_live *l,
                          const struct app_args *a, const char *what)
{
	if (want_output(a)) {
		json_t *doc = outcome_json(o, l);

		if (rc < 0)
			json_object_set_new(doc, "error", json_string(cairn_error_last()->message));
		app_print_doc(doc, strcmp(a->output, "yaml") == 0);
		json_decref(doc);
	} else {
		printf("Operation:    %s #%" PRId64 " %s after %d attempt%s\n", what,
		       o->operation_id, o->succeeded ? "Succeeded" : "Failed", o->attempts,
		       o->attempts == 1 ? "" : "s");
		printf("Revision:     %s (render %s)\n", l->revision, l->hash);
		printf("Changes:      %zu applied, %zu pruned, %zu hooks\n", o->applied, o->pruned,
		       o->hooks);
		if (o->history_id)
			printf("History:      %" PRId64 "\n", o->history_id);
		if (o->message[0])
			printf("Message:      %s\n", o->message);
	}
	fflush(stdout); /* before the error, so that the two read in order */
	if (rc < 0) {
		cli_print_error(what);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* Keep only the manifests --resource KIND/NAME names (kind case-insensitive). */
static int filter_resources(struct app_live *l, const struct app_args *a)
{
	json_t *keep = json_array(), *obj;
	size_t i;

	json_array_foreach(l->manifests, i, obj)
	{
		const char *kind = json_string_value(json_object_get(obj, "kind"));
		const char *name = json_string_value(
		        json_object_get(json_object_get(obj, "metadata"), "name"));

		for (size_t k = 0; kind && name && k < a->resource_count; k++) {
			const char *slash = strchr(a->resources[k], '/');

			if (strlen(kind) == (size_t)(slash - a->resources[k]) &&
			    strncasecmp(kind, a->resources[k], strlen(kind)) == 0 &&
			    strcmp(name, slash + 1) == 0) {
				json_array_append(keep, obj);
				break;
			}
		}
	}
	if (json_array_size(keep) == 0) {
		json_decref(keep);
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "no rendered object matches --resource '%s'",
		                       a->resources[0]);
	}
	json_decref(l->manifests);
	l->manifests = keep;
	l->req.manifests = keep;
	l->req.prune = 0; /* a partial sync never prunes, as in Argo CD */
	return 0;
}

/* `sync --dry-run`: what a sync would do, from a comparison. */
static int print_dry_run(const cairn_sync_result *res, const struct app_live *l,
                         const struct app_args *a)
{
	json_t *doc = json_array();
	int rc = 0;

	if (!want_output(a))
		printf("%-50s %s\n", "RESOURCE", "WOULD");
	for (size_t i = 0; i < res->n; i++) {
		const cairn_sync_res *r = &res->v[i];
		const char *act = !r->desired ? (l->req.prune ? "prune" : "prune-skipped")
		                  : r->synced ? "none"
		                  : r->live   ? "update"
		                              : "create";
		char id[1024];

		cairn_res_id_format(&r->id, id, sizeof(id));
		if (want_output(a))
			json_array_append_new(
			        doc, json_pack("{s:s, s:s}", "resource", id, "action", act));
		else
			printf("%-50s %s\n", id, act);
	}
	if (want_output(a))
		rc = app_print_doc(doc, strcmp(a->output, "yaml") == 0);
	json_decref(doc);
	return rc;
}

/* ---- rollouts in the foreground (no daemon) ------------------------------ */

/* How often a rollout that waits on nothing timed is looked at again. */
#define ROLLOUT_POLL_MS 1000

/* One Rollout of the app driven here. */
struct ro_drive {
	json_t *obj; /* the Rollout, namespace filled in */
	const char *name;
	int64_t id, last_event;
	cairn_rollout_result r;
	int settled; /* completed, aborted, or paused until a person acts */
	int pending; /* an operator's request waited when the run began */
};

static void print_rollout(const struct ro_drive *d, FILE *out)
{
	fprintf(out, "rollout %-24s %-12s step %-3d weight %3d%%  %s\n", d->name, d->r.phase,
	        d->r.step, d->r.weight, d->r.message);
	fflush(out);
}

/* Print the events of the rollout newer than the last printed (measurements, steps). */
static void print_events(struct ro_drive *d, cairn_state *st, FILE *out)
{
	cairn_state_rollout_event **ev = NULL;
	size_t n = 0;

	if (d->id == 0 || cairn_state_rollout_events(&ev, &n, st, d->id, d->last_event, 0) < 0) {
		cairn_error_clear();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *data = json_dumps(ev[i]->data, JSON_COMPACT | JSON_SORT_KEYS);
		char when[32];
		time_t t = (time_t)(ev[i]->at / 1000000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(out, "  %s %-12s %s\n", when, ev[i]->kind, data ? data : "{}");
		free(data);
		d->last_event = ev[i]->id;
	}
	fflush(out);
	cairn_state_rollout_event_list_free(ev, n);
}

static int settled(const cairn_rollout_result *r)
{
	return r->completed || r->aborted || (strcmp(r->phase, "Paused") == 0 && r->next_at == 0);
}

/* The Rollouts of the rendered set, each a copy with its namespace filled in. */
static size_t collect_rollouts(struct ro_drive **out, const struct app_live *l)
{
	const char *ns = l->req.dest_namespace ? l->req.dest_namespace
	                                       : cairn_kube_client_namespace(l->kube);
	struct ro_drive *v = calloc(json_array_size(l->manifests) + 1, sizeof(*v));
	size_t i, n = 0;
	json_t *o;

	json_array_foreach(l->manifests, i, o)
	{
		json_t *meta;

		if (!v || !cairn_rollout_is_rollout(o))
			continue;
		v[n].obj = json_deep_copy(o);
		meta = json_object_get(v[n].obj, "metadata");
		if (!json_is_object(meta))
			continue;
		if (!json_object_get(meta, "namespace") && ns)
			json_object_set_new(meta, "namespace", json_string(ns));
		v[n].name = json_string_value(json_object_get(meta, "name"));
		if (!v[n].name)
			continue;
		n++;
	}
	*out = v;
	return n;
}

/*
 * Look the rollout's row up, for its events; with `skip`, events written
 * before this run (earlier syncs) are not printed again.
 */
static void find_row(struct ro_drive *d, const struct app_live *l, int skip)
{
	cairn_state_rollout_event **ev = NULL;
	cairn_state_rollout *row = NULL;
	size_t n = 0;

	if (cairn_state_rollout_get(&row, l->state, l->req.app, l->req.env, d->name) == 0) {
		d->id = row->id;
		d->pending = row->request != NULL;
	}
	cairn_error_clear();
	cairn_state_rollout_free(row);
	if (skip && d->id && cairn_state_rollout_events(&ev, &n, l->state, d->id, 0, 0) == 0 && n)
		d->last_event = ev[n - 1]->id;
	cairn_error_clear();
	cairn_state_rollout_event_list_free(ev, n);
}

/* The time to sleep before the next look: the soonest timer, at most ROLLOUT_POLL_MS. */
static int64_t next_wait_ms(const struct ro_drive *v, size_t n)
{
	cairn_usec now = cairn_time_now(), soonest = now + ROLLOUT_POLL_MS * 1000;

	for (size_t i = 0; i < n; i++)
		if (!v[i].settled && v[i].r.next_at && v[i].r.next_at < soonest)
			soonest = v[i].r.next_at;
	return soonest > now ? (soonest - now + 999) / 1000 : 0;
}

static void sleep_ms(int64_t ms);

/*
 * Tick each unsettled rollout until every one completes, aborts or pauses
 * for a person, printing each change and the engine's events (steps,
 * weights, measurements) as they come.
 */
static int drive_loop(struct ro_drive *v, size_t n, const cairn_rollout_ctx *ctx,
                      const struct app_live *l, FILE *out)
{
	for (;;) {
		size_t open = 0;

		for (size_t i = 0; i < n; i++)
			open += !v[i].settled;
		if (open == 0)
			return 0;
		sleep_ms(next_wait_ms(v, n));
		for (size_t i = 0; i < n; i++) {
			cairn_rollout_result r;
			int rc;

			if (v[i].settled)
				continue;
			memset(&r, 0, sizeof(r));
			rc = cairn_rollout_tick(&r, ctx, l->req.app, l->req.env, v[i].name);
			if (rc < 0)
				return cairn_error_prefix("rollout '%s': ", v[i].name);
			if (r.changed || strcmp(r.phase, v[i].r.phase) != 0 ||
			    r.step != v[i].r.step || r.weight != v[i].r.weight ||
			    strcmp(r.message, v[i].r.message) != 0) {
				v[i].r = r;
				print_rollout(&v[i], out);
			}
			v[i].r = r;
			print_events(&v[i], l->state, out);
			v[i].settled = settled(&r);
		}
	}
}

/*
 * After a sync without a daemon: hand each Rollout to the engine, then
 * (unless --async) drive it here. Exit status: 0 when all are Healthy or
 * one is paused for `cairn rollout promote` (said so), 1 when one aborted
 * or is Degraded.
 */
static int drive_rollouts(struct app_live *l, const struct app_args *a, FILE *out)
{
	cairn_analysis_ctx actx = CAIRN_ANALYSIS_CTX_INIT;
	cairn_rollout_ctx ctx = {0};
	struct ro_drive *v = NULL;
	size_t n = collect_rollouts(&v, l), i;
	int rc = 0, status = CLI_EXIT_OK;

	ctx.kube = l->kube;
	ctx.state = l->state;
	ctx.audit = l->audit;
	ctx.actor = l->actor;
	actx.kube = l->kube;
	ctx.analysis = actx;
	for (i = 0; i < n && rc == 0; i++) {
		find_row(&v[i], l, 1);
		rc = cairn_rollout_apply(&v[i].r, &ctx, l->req.app, l->req.env, l->req.revision,
		                         v[i].obj, l->manifests);
		if (rc < 0) {
			cairn_error_prefix("rollout '%s': ", v[i].name);
			break;
		}
		if (v[i].id == 0)
			find_row(&v[i], l, 0); /* a new rollout: every event is this run's */
		print_rollout(&v[i], out);
		print_events(&v[i], l->state, out);
		/* a request (a retry of a rolled-back revision) is for the first tick */
		v[i].settled = !v[i].pending && settled(&v[i].r);
		if (v[i].pending)
			v[i].r.next_at = cairn_time_now();
	}
	if (rc == 0 && n && a->async) {
		fprintf(out, "rollouts started; follow them with 'cairn rollout get %s'\n",
		        l->req.app);
		goto out;
	}
	if (rc == 0)
		rc = drive_loop(v, n, &ctx, l, out);
	for (i = 0; rc == 0 && i < n; i++) {
		if (v[i].r.aborted || strcmp(v[i].r.phase, "Degraded") == 0)
			status = CLI_EXIT_FAIL;
		else if (strcmp(v[i].r.phase, "Paused") == 0)
			fprintf(out,
			        "rollout '%s' is paused: continue it with 'cairn rollout promote "
			        "%s'\n",
			        v[i].name, l->req.app);
	}
out:
	for (i = 0; v && i < n; i++)
		json_decref(v[i].obj);
	free(v);
	if (rc < 0) {
		cli_print_error("app sync");
		return CLI_EXIT_FAIL;
	}
	return status;
}

/* The failed revision of one of the app's rollouts equal to the one to sync. */
static int failed_revision(char *msg, size_t size, const struct app_live *l)
{
	cairn_state_rollout **v = NULL;
	size_t n = 0;
	int found = 0;

	if (cairn_state_rollout_list(&v, &n, l->state, l->req.app, l->req.env) < 0) {
		cairn_error_clear();
		return 0;
	}
	for (size_t i = 0; i < n && !found; i++)
		if (v[i]->failed_revision && strcmp(v[i]->failed_revision, l->req.revision) == 0 &&
		    !(v[i]->request && strcmp(v[i]->request, "retry") == 0)) {
			snprintf(msg, size, "rolled back from %.7s: %s", l->req.revision,
			         v[i]->failed_reason ? v[i]->failed_reason : "rollout aborted");
			found = 1;
		}
	cairn_state_rollout_list_free(v, n);
	return found;
}

int app_cmd_sync(struct app_ctx *c, const struct app_args *a, const cairn_app *x)
{
	struct app_live l;
	struct progress p = {0};
	cairn_sync_outcome o;
	cairn_sync_result *res = NULL;
	char held[600];
	int rc, status = CLI_EXIT_FAIL;

	memset(&o, 0, sizeof(o));
	if ((rc = app_live_open(&l, c, a, x, 1, 0)) < 0 ||
	    (a->resource_count && (rc = filter_resources(&l, a)) < 0)) {
		cli_print_error("app sync");
		goto out;
	}
	if (a->dry_run) {
		if ((rc = cairn_sync_compare_app(&res, &l.ctx, &l.req)) < 0 ||
		    (rc = print_dry_run(res, &l, a)) < 0)
			cli_print_error("app sync");
		else
			status = CLI_EXIT_OK;
		goto out;
	}
	p.out = want_output(a) ? stderr : stdout;
	p.tty = isatty(fileno(p.out));
	l.ctx.progress = on_progress;
	l.ctx.progress_ud = &p;
	if (l.req.interpret_rollouts && failed_revision(held, sizeof(held), &l)) {
		cairn_error_set(CAIRN_EPERM,
		                "application '%s' %s; not synced again until a newer commit or "
		                "'cairn rollout retry %s'",
		                x->name, held, x->name);
		cli_print_error("app sync");
		goto out;
	}
	rc = cairn_sync_run(&o, &l.ctx, &l.req);
	status = report_outcome(rc, &o, &l, a, "sync");
	if (rc == 0 && l.req.interpret_rollouts)
		status = drive_rollouts(&l, a, p.out);
out:
	cairn_sync_result_free(res);
	app_live_dispose(&l);
	return status;
}

/* ---- wait, history, rollback --------------------------------------------- */

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * `wait`: compare every WAIT_POLL_MS until the app is Healthy (--health)
 * and/or Synced (--sync; both when neither is given) or --timeout passes.
 * The manifests are rendered once.
 */
int app_cmd_wait(struct app_ctx *c, const struct app_args *a, const cairn_app *x)
{
	int64_t limit = a->timeout_ms ? a->timeout_ms : WAIT_DEFAULT_MS;
	int health = a->wait_health || !a->wait_sync, sync = a->wait_sync || !a->wait_health;
	struct timespec t0, t;
	struct app_live l;
	cairn_sync_result *res = NULL;
	int rc, status = CLI_EXIT_FAIL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = app_live_open(&l, c, a, x, 1, 0)) < 0)
		goto fail;
	for (;;) {
		cairn_sync_result_free(res);
		res = NULL;
		if ((rc = cairn_sync_compare_app(&res, &l.ctx, &l.req)) < 0)
			goto fail;
		if ((!health || res->health.status == CAIRN_HEALTH_HEALTHY) &&
		    (!sync || res->synced))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= limit) {
			cairn_error_set(CAIRN_ETIMEOUT,
			                "application '%s' is still %s and %s after %" PRId64 " ms",
			                x->name, res->synced ? "Synced" : "OutOfSync",
			                cairn_health_status_string(res->health.status), limit);
			goto fail;
		}
		sleep_ms(WAIT_POLL_MS);
	}
	printf("application '%s': %s, %s\n", x->name, res->synced ? "Synced" : "OutOfSync",
	       cairn_health_status_string(res->health.status));
	status = CLI_EXIT_OK;
	goto out;
fail:
	cli_print_error("app wait");
out:
	cairn_sync_result_free(res);
	app_live_dispose(&l);
	return status;
}

static void format_time(char *out, size_t size, cairn_usec t)
{
	time_t s = (time_t)(t / 1000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int app_cmd_history(struct app_ctx *c, const struct app_args *a, const cairn_app *x)
{
	struct app_live l;
	cairn_state_history **v = NULL;
	size_t n = 0;
	json_t *doc = json_array();
	char when[32];
	int rc, status = CLI_EXIT_FAIL;

	rc = app_live_open(&l, c, a, x, 0, 1);
	if (rc == 0)
		rc = cairn_state_history_list(&v, &n, l.state, x->name,
		                              x->environment ? x->environment : "");
	if (rc < 0 && rc != CAIRN_ENOTFOUND) {
		cli_print_error("app history");
		goto out;
	}
	if (!want_output(a))
		printf("%-6s %-21s %-41s %-16s %s\n", "ID", "DEPLOYED", "REVISION", "RENDER HASH",
		       "OPERATION");
	for (size_t i = 0; i < n; i++) {
		format_time(when, sizeof(when), v[i]->deployed_at);
		if (want_output(a))
			json_array_append_new(
			        doc, json_pack("{s:I, s:s, s:s?, s:s?, s:I}", "id",
			                       (json_int_t)v[i]->id, "deployedAt", when, "revision",
			                       v[i]->revision, "renderHash", v[i]->render_hash,
			                       "operationId", (json_int_t)v[i]->operation_id));
		else
			printf("%-6" PRId64 " %-21s %-41s %-16.16s %" PRId64 "\n", v[i]->id, when,
			       v[i]->revision ? v[i]->revision : "-",
			       v[i]->render_hash ? v[i]->render_hash : "-", v[i]->operation_id);
	}
	if (want_output(a) && app_print_doc(doc, strcmp(a->output, "yaml") == 0) < 0) {
		cli_print_error("app history");
		goto out;
	}
	status = CLI_EXIT_OK;
out:
	json_decref(doc);
	cairn_state_history_list_free(v, n);
	app_live_dispose(&l);
	return status;
}

/*
 * The Rollouts of the history entry a rollback deployed go to the engine
 * (the older template rolls out, or straight back when it is the stable
 * one), as cairnd does (src/daemon/worker.c); the exit status is the
 * rollouts' when the sync itself succeeded.
 */
static int rollback_rollouts(struct app_live *l, const struct app_args *a, FILE *out, int status)
{
	cairn_state_history *h = NULL;
	int rs;

	if (cairn_state_history_get(&h, l->state, a->history_id) < 0) {
		cli_print_error("app rollback");
		return CLI_EXIT_FAIL;
	}
	if (h->manifests != NULL) {
		json_decref(l->manifests);
		l->manifests = json_incref(h->manifests);
		l->req.manifests = l->manifests;
		snprintf(l->revision, sizeof(l->revision), "%s", h->revision ? h->revision : "");
		l->req.revision = l->revision;
		rs = drive_rollouts(l, a, out);
		if (status == CLI_EXIT_OK)
			status = rs;
	}
	cairn_state_history_free(h);
	return status;
}

/*
 * `rollback NAME ID`: sync history entry ID's stored manifests and pin
 * the app to it until a commit newer than the one it tracks now arrives
 * (the pin is the revision resolved here).
 */
int app_cmd_rollback(struct app_ctx *c, const struct app_args *a, const cairn_app *x)
{
	struct app_live l;
	struct progress p = {0};
	cairn_sync_outcome o;
	int rc, status = CLI_EXIT_FAIL;

	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	rc = app_live_open(&l, c, a, x, 0, 0);
	if (rc == 0)
		rc = resolve_revision(&l, c, a, x);
	if (rc == 0)
		rc = open_cluster(&l, a);
	if (rc == 0 && (l.manifests = json_array()) == NULL)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (rc < 0) {
		cli_print_error("app rollback");
		goto out;
	}
	fill_request(&l, c, a, x);
	snprintf(l.hash, sizeof(l.hash), "(history %" PRId64 ")", a->history_id);
	p.out = want_output(a) ? stderr : stdout;
	p.tty = isatty(fileno(p.out));
	l.ctx.progress = on_progress;
	l.ctx.progress_ud = &p;
	rc = cairn_sync_rollback(&o, &l.ctx, &l.req, a->history_id, l.revision);
	status = report_outcome(rc, &o, &l, a, "rollback");
	if (rc == 0 && !want_output(a))
		printf("Auto-sync:    paused for '%s' until a commit newer than %s arrives\n",
		       x->name, l.revision);
	if (rc == 0 && l.req.interpret_rollouts)
		status = rollback_rollouts(&l, a, p.out, status);
out:
	app_live_dispose(&l);
	return status;
}
