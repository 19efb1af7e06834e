/*
 * api.c - cairnd's /api/v1 (docs/daemon.md "API"): one prefix route whose
 * handler dispatches on the rest of the path.
 *
 *   GET  applications                      list with stored status
 *   GET  applications/NAME                 definition summary and status
 *   POST applications/NAME/sync            queue a sync (202)
 *   GET  applications/NAME/diff            compare now (render + dry runs)
 *   GET  applications/NAME/resources       same, the resource list only
 *   GET  applications/NAME/history         deployment history
 *   POST applications/NAME/rollback        body {"id": N}: roll back now
 *   GET  environments
 *   GET  drift                             drift records (newest first)
 *   GET  operations[/ID]
 *   POST trigger                           what hooks/post-receive sends
 *   GET  events                            server-sent events (events.c)
 *
 * Roles: reads need viewer, sync/rollback/trigger deployer within the
 * token's environment scope (the app's environment); the Unix socket is
 * trusted (file permissions). Errors are {"error":{"code","message"}}
 * (cairn_http_error).
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/state.h"
#include "cairnd.h"

#define TRIGGER_REFS_MAX 256

static int reply(cairn_http_response *resp, unsigned status, json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	int rc;

	json_decref(doc);
	if (!s)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	resp->status = status;
	rc = cairn_buf_puts(&resp->body, s);
	free(s);
	return rc;
}

/* May the request do `action` in `env`? Local socket requests may do all. */
static int allowed(const cairn_http_request *req, cairn_action action, const char *env)
{
	if (req->local)
		return 0;
	if (!req->token)
		return cairn_error_set(CAIRN_EPERM, "no token");
	return cairn_auth_check(req->token, action, env && *env ? env : NULL);
}

static const char *actor(const cairn_http_request *req)
{
	return req->local ? "local" : req->token ? req->token->name : "anonymous";
}

static json_t *status_json(cairn_state *st, const cairn_app *a)
{
	cairn_state_app *s = NULL;
	json_t *o;

	if (!st || cairn_state_app_get(&s, st, a->name, a->environment ? a->environment : "") < 0)
		return json_pack("{s:s, s:s}", "sync", "Unknown", "health", "Unknown");
	o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b, s:I}", "sync", s->sync_status, "health",
	              s->health, "revision", s->revision, "renderHash", s->render_hash, "message",
	              s->message, "paused", s->paused, "updatedAt", (json_int_t)s->updated_at);
	cairn_state_app_free(s);
	return o;
}

static json_t *app_json(cairn_state *st, const cairn_app *a)
{
	json_t *srcs = json_array();

	for (size_t i = 0; i < a->source_count; i++)
		json_array_append_new(srcs, json_pack("{s:s, s:s, s:s?}", "repoURL",
		                                      a->sources[i].repo_url, "targetRevision",
		                                      a->sources[i].target_revision, "path",
		                                      a->sources[i].path));
	return json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:{s:s?, s:s?, s:s?}, s:b, s:b, s:b, s:s?, "
	                 "s:i, s:o, s:o}",
	                 "name", a->name, "environment", a->environment, "project", a->project,
	                 "group", a->group, "generator", a->generator, "destination", "server",
	                 a->dest_server, "name", a->dest_name, "namespace", a->dest_namespace,
	                 "automated", a->automated, "prune", a->prune, "selfHeal", a->self_heal,
	                 "file", a->file, "line", a->line, "sources", srcs, "status",
	                 status_json(st, a));
}

static int list_apps(cairnd *d, struct cairnd_defs *x, cairn_http_response *resp)
{
	cairn_state *st = NULL;
	json_t *arr = json_array();

	if (cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE) < 0)
		st = NULL;
	for (size_t i = 0; i < cairn_app_set_count(x->apps); i++)
		json_array_append_new(arr, app_json(st, cairn_app_set_at(x->apps, i)));
	cairn_state_close(st);
	return reply(resp, 200, json_pack("{s:o}", "items", arr));
}

static int history(cairnd *d, const cairn_app *a, cairn_http_response *resp)
{
	cairn_state_history **v = NULL;
	cairn_state *st = NULL;
	size_t n = 0;
	json_t *arr;
	int rc;

	if ((rc = cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_state_history_list(&v, &n, st, a->name,
	                                   a->environment ? a->environment : "")) < 0) {
		cairn_state_close(st);
		return rc;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		        arr, json_pack("{s:I, s:s?, s:s?, s:I, s:I}", "id", (json_int_t)v[i]->id,
		                       "revision", v[i]->revision, "renderHash", v[i]->render_hash,
		                       "deployedAt", (json_int_t)v[i]->deployed_at, "operation",
		                       (json_int_t)v[i]->operation_id));
	cairn_state_history_list_free(v, n);
	cairn_state_close(st);
	return reply(resp, 200, json_pack("{s:o}", "items", arr));
}

/* Rollback: the sync module does the work; the tracked revision is the stored one. */
static int rollback(cairnd *d, const cairn_app *a, const cairn_http_request *req,
                    cairn_http_response *resp)
{
	json_t *body = json_loadb(req->body, req->body_len, 0, NULL), *sum = NULL;
	json_int_t id = 0;
	int rc;

	if (!body || json_unpack(body, "{s:I}", "id", &id) < 0 || id <= 0) {
		json_decref(body);
		return cairn_error_set(CAIRN_EINVAL, "rollback wants a body {\"id\": HISTORY_ID}");
	}
	json_decref(body);
	cairnd_audit(d, actor(req), "app.rollback.requested", a->name, a->environment,
	             json_pack("{s:I}", "historyId", id));
	rc = cairnd_rollback_app(d, a->name, (int64_t)id, actor(req), &sum);
	if (rc < 0)
		return rc;
	return reply(resp, 200, sum);
}

static int app_route(cairnd *d, struct cairnd_defs *x, const cairn_http_request *req,
                     cairn_http_response *resp, const char *rest)
{
	char name[256];
	const char *slash = strchr(rest, '/'), *sub = slash ? slash + 1 : "";
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	const cairn_app *a;
	int post = strcmp(req->method, "POST") == 0, rc;
	json_t *sum = NULL;

	if (n == 0 || n >= sizeof(name))
		return cairn_error_set(CAIRN_ENOTFOUND, "no such route '%s'", req->path);
	memcpy(name, rest, n);
	name[n] = '\0';
	if (!(a = cairn_app_set_find(x->apps, name)))
		return cairn_error_set(CAIRN_ENOTFOUND, "unknown application '%s'", name);
	if ((rc = allowed(req, post ? CAIRN_ACTION_DEPLOY : CAIRN_ACTION_READ, a->environment)) < 0)
		return rc;
	if (!post && !*sub) {
		cairn_state *st = NULL;
		json_t *o;

		if (cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE) < 0)
			st = NULL;
		o = app_json(st, a);
		cairn_state_close(st);
		return reply(resp, 200, o);
	}
	if (post && strcmp(sub, "sync") == 0) {
		if ((rc = cairn_sched_trigger(d->sched, a->name, "api")) < 0)
			return rc;
		cairnd_audit(d, actor(req), "app.sync.requested", a->name, a->environment, NULL);
		return reply(resp, 202, json_pack("{s:s, s:b}", "app", a->name, "queued", 1));
	}
	if (post && strcmp(sub, "rollback") == 0)
		return rollback(d, a, req, resp);
	if (!post && (strcmp(sub, "diff") == 0 || strcmp(sub, "resources") == 0)) {
		if ((rc = cairnd_reconcile_app(d, a->name, CAIRND_COMPARE, actor(req), "api",
		                               &sum)) < 0)
			return rc;
		return reply(resp, 200, sum);
	}
	if (!post && strcmp(sub, "history") == 0)
		return history(d, a, resp);
	return cairn_error_set(CAIRN_ENOTFOUND, "no such route '%s %s'", req->method, req->path);
}

static int environments(struct cairnd_defs *x, cairn_http_response *resp)
{
	json_t *arr = json_array();
	size_t n = x->envs ? cairn_env_set_count(x->envs) : 0;

	for (size_t i = 0; i < n; i++) {
		const cairn_env *e = cairn_env_set_at(x->envs, i);

		json_array_append_new(arr, json_pack("{s:s, s:s?, s:s?, s:b, s:b, s:b}", "name",
		                                     e->name, "defaultNamespace",
		                                     e->default_namespace, "promotedFrom",
		                                     e->promoted_from, "autoSync", e->auto_sync,
		                                     "selfHeal", e->self_heal, "prune", e->prune));
	}
	return reply(resp, 200, json_pack("{s:o}", "items", arr));
}

static int drift(cairnd *d, cairn_http_response *resp)
{
	cairn_state_drift **v = NULL;
	cairn_state *st = NULL;
	size_t n = 0;
	json_t *arr;
	int rc;

	if ((rc = cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_state_drift_list(&v, &n, st, NULL, NULL, 200)) < 0) {
		cairn_state_close(st);
		return rc;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		        arr,
		        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:O, s:s?, s:s?, s:I, s:I}", "id",
		                  (json_int_t)v[i]->id, "app", v[i]->app, "env", v[i]->env, "kind",
		                  v[i]->kind, "namespace", v[i]->namespace_, "name", v[i]->name,
		                  "paths", v[i]->paths, "fieldManager", v[i]->field_manager, "mode",
		                  v[i]->mode, "seenAt", (json_int_t)v[i]->seen_at, "correctedAt",
		                  (json_int_t)v[i]->corrected_at));
	cairn_state_drift_list_free(v, n);
	cairn_state_close(st);
	return reply(resp, 200, json_pack("{s:o}", "items", arr));
}

static json_t *op_json(const cairn_state_op *op, int with_resources)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:I, s:I, s:i}",
	                      "id", (json_int_t)op->id, "app", op->app, "env", op->env, "kind",
	                      op->kind, "triggeredBy", op->trigger_who, "trigger", op->trigger_what,
	                      "revision", op->revision, "phase", op->phase, "message", op->message,
	                      "startedAt", (json_int_t)op->started_at, "finishedAt",
	                      (json_int_t)op->finished_at, "attempt", op->attempt);

	if (o && with_resources)
		json_object_set(o, "resources", op->resources);
	return o;
}

static int operations(cairnd *d, const char *rest, cairn_http_response *resp)
{
	cairn_state_op **v = NULL, *one = NULL;
	cairn_state *st = NULL;
	size_t n = 0;
	json_t *doc = NULL;
	int rc;

	if ((rc = cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE)) < 0)
		return rc;
	if (*rest) {
		char *end;
		long long id = strtoll(rest, &end, 10);

		if (*end || id <= 0)
			rc = cairn_error_set(CAIRN_EINVAL, "bad operation id '%s'", rest);
		else if ((rc = cairn_state_op_get(&one, st, id)) == 0)
			doc = op_json(one, 1);
	} else if ((rc = cairn_state_op_list(&v, &n, st, NULL, NULL, 200)) == 0) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, op_json(v[i], 0));
		doc = json_pack("{s:o}", "items", arr);
	}
	cairn_state_op_free(one);
	cairn_state_op_list_free(v, n);
	cairn_state_close(st);
	return rc < 0 ? rc : reply(resp, 200, doc);
}

/*
 * POST trigger: the body is what hooks/post-receive sends, a line
 * "repo URL" then git's "OLD NEW REF" lines. Every app of that repository
 * tracking one of the refs is queued. Needs an unscoped deployer (the hook's
 * token): which apps it reaches is decided by git, not by the caller.
 */
static int trigger(cairnd *d, const cairn_http_request *req, cairn_http_response *resp)
{
	char *copy = strndup(req->body, req->body_len), *save = NULL, *line;
	const char *refs[TRIGGER_REFS_MAX], *url = NULL;
	size_t n = 0, queued;
	json_t *names;
	int rc;

	if ((rc = allowed(req, CAIRN_ACTION_DEPLOY, NULL)) < 0) {
		free(copy);
		return rc;
	}
	if (!copy)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' ');

		if (strncmp(line, "repo ", 5) == 0)
			url = line + 5;
		else if (sp && n < TRIGGER_REFS_MAX)
			refs[n++] = sp + 1;
	}
	if (!url || n == 0) {
		free(copy);
		return cairn_error_set(CAIRN_EINVAL,
		                       "trigger wants a line 'repo URL' and 'OLD NEW REF' lines");
	}
	names = json_array();
	queued = cairnd_trigger_repo(d, url, refs, n, "push", names);
	if (queued > 0) {
		json_t *jrefs = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(jrefs, json_string(refs[i]));
		cairnd_audit_trigger(d, actor(req), "trigger.push", names,
		                     json_pack("{s:s, s:o}", "repo", url, "refs", jrefs));
	}
	free(copy);
	return reply(resp, 202,
	             json_pack("{s:I, s:o}", "queued", (json_int_t)queued, "apps", names));
}

static int api_handler(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	cairnd *d = ud;
	const char *p = req->route_arg ? req->route_arg : "";
	struct cairnd_defs *x;
	int get = strcmp(req->method, "GET") == 0, rc;

	if (strcmp(p, "trigger") == 0 && !get)
		return trigger(d, req, resp);
	if (strcmp(p, "events") == 0 && get)
		return (rc = allowed(req, CAIRN_ACTION_READ, NULL)) < 0
		               ? rc
		               : cairnd_events_stream(d, req, resp);
	x = cairnd_defs_get(d);
	if (strcmp(p, "applications") == 0 && get)
		rc = (rc = allowed(req, CAIRN_ACTION_READ, NULL)) < 0 ? rc : list_apps(d, x, resp);
	else if (strncmp(p, "applications/", 13) == 0)
		rc = app_route(d, x, req, resp, p + 13);
	else if (strcmp(p, "environments") == 0 && get)
		rc = (rc = allowed(req, CAIRN_ACTION_READ, NULL)) < 0 ? rc : environments(x, resp);
	else if (strcmp(p, "drift") == 0 && get)
		rc = (rc = allowed(req, CAIRN_ACTION_READ, NULL)) < 0 ? rc : drift(d, resp);
	else if ((strcmp(p, "operations") == 0 || strncmp(p, "operations/", 11) == 0) && get)
		rc = (rc = allowed(req, CAIRN_ACTION_READ, NULL)) < 0
		             ? rc
		             : operations(d, p[10] ? p + 11 : "", resp);
	else
		rc = cairn_error_set(CAIRN_ENOTFOUND, "no such route '%s %s'", req->method,
		                     req->path);
	cairnd_defs_put(d, x);
	return rc;
}

int cairnd_api_register(cairnd *d, cairn_http *srv)
{
	int rc;

	if (!d->events && (rc = cairnd_events_new(&d->events)) < 0)
		return rc;
	return cairn_http_route(srv, NULL, "/api/v1/", CAIRN_HTTP_ROUTE_PREFIX, api_handler, d);
}
