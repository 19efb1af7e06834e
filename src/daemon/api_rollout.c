/*
 * api_rollout.c - cairnd's rollout routes (docs/daemon.md "Rollouts"):
 *
 *   GET  /api/v1/rollouts                         every rollout in the state
 *   GET  /api/v1/apps/APP/rollouts                the rollouts of one app
 *   POST /api/v1/apps/APP/rollout/ACTION          promote, promote-full, pause,
 *                                                 resume, abort, retry
 *
 * A POST writes the operator's request into the state (the same place
 * `cairn rollout ...` writes it without a daemon), records
 * rollout.ACTION.requested in the audit trail with the token's name as the
 * actor, and queues a tick of the app at once; the engine consumes the
 * request under the app's one-job-at-a-time exclusion. The body may name
 * one rollout ({"name": "web"}); without it the request goes to every
 * rollout of the app. Roles as the other routes: reads need viewer, actions
 * deployer within the token's environment scope; the Unix socket is trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/state.h"
#include "cairnd.h"

static const char *const actions[] = {"promote", "promote-full", "pause",
                                      "resume",  "abort",        "retry"};

static int reply(cairn_http_response *resp, unsigned status, json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	int rc;

	json_decref(doc);
	if (!s)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	resp->status = status;
	rc = cairn_buf_puts(&resp->body, s);
	free(s);
	return rc;
}

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

static json_t *rollout_json(const cairn_state_rollout *r)
{
	return json_pack(
	        "{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:s?, s:s?, "
	        "s:s?, s:s?, s:I, s:I, s:I}",
	        "app", r->app, "env", r->env ? r->env : "", "name", r->name, "namespace",
	        r->namespace_, "strategy", r->strategy, "phase", r->phase, "revision", r->revision,
	        "stableHash", r->stable_hash, "canaryHash", r->canary_hash, "step", r->step,
	        "weight", r->weight, "message", r->message, "request", r->request, "failedRevision",
	        r->failed_revision, "failedReason", r->failed_reason, "startedAt",
	        (json_int_t)r->started_at, "updatedAt", (json_int_t)r->updated_at, "nextAt",
	        (json_int_t)r->next_at);
}

/* The rollouts of (app, env), or of all apps when app is NULL, as {"items": [...]}. */
static int list(cairnd *d, const char *app, const char *env, cairn_http_response *resp)
{
	cairn_state_rollout **v = NULL;
	cairn_state *st = NULL;
	size_t n = 0;
	json_t *arr;
	int rc;

	if ((rc = cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_state_rollout_list(&v, &n, st, app, env)) < 0) {
		cairn_state_close(st);
		return rc;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, rollout_json(v[i]));
	cairn_state_rollout_list_free(v, n);
	cairn_state_close(st);
	return reply(resp, 200, json_pack("{s:o}", "items", arr));
}

/* The rollout the body names, or NULL for all; CAIRN_EINVAL on a bad body. */
static int body_name(char *out, size_t size, const cairn_http_request *req)
{
	json_t *body;
	const char *name;

	out[0] = '\0';
	if (req->body_len == 0)
		return 0;
	body = json_loadb(req->body, req->body_len, 0, NULL);
	name = json_string_value(json_object_get(body, "name"));
	if (!json_is_object(body) || (json_object_get(body, "name") && !name) ||
	    (name && strlen(name) >= size)) {
		json_decref(body);
		return cairn_error_set(CAIRN_EINVAL,
		                       "a rollout action wants no body or {\"name\": ROLLOUT}");
	}
	if (name)
		snprintf(out, size, "%s", name);
	json_decref(body);
	return 0;
}

/* Write `action` as the pending request of the app's rollouts (or the named one). */
static int request(cairnd *d, const cairn_app *a, const char *action, const cairn_http_request *req,
                   cairn_http_response *resp)
{
	const char *env = a->environment ? a->environment : "";
	cairn_state_rollout **v = NULL;
	cairn_state *st = NULL;
	char name[256], audit_action[64];
	json_t *names = NULL;
	size_t n = 0;
	int rc;

	if ((rc = body_name(name, sizeof(name), req)) < 0 ||
	    (rc = cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_state_rollout_list(&v, &n, st, a->name, env)) < 0)
		goto out;
	names = json_array();
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (name[0] && strcmp(v[i]->name, name) != 0)
			continue;
		if ((rc = cairn_state_rollout_request(st, a->name, env, v[i]->name, action)) == 0)
			json_array_append_new(names, json_string(v[i]->name));
	}
	if (rc < 0)
		goto out;
	if (json_array_size(names) == 0) {
		rc = name[0] ? cairn_error_set(CAIRN_ENOTFOUND,
		                               "application '%s' has no rollout '%s'", a->name,
		                               name)
		             : cairn_error_set(CAIRN_ENOTFOUND, "application '%s' has no rollouts",
		                               a->name);
		goto out;
	}
	snprintf(audit_action, sizeof(audit_action), "rollout.%s.requested", action);
	cairnd_audit(d, actor(req), audit_action, a->name, a->environment,
	             json_pack("{s:O}", "rollouts", names));
	if (cairnd_rollouts_kick(d, a->name) < 0)
		cairn_error_clear(); /* the 200 ms timer finds the request anyway */
	rc = reply(
	        resp, 202,
	        json_pack("{s:s, s:s, s:O}", "app", a->name, "request", action, "rollouts", names));
out:
	json_decref(names);
	cairn_state_rollout_list_free(v, n);
	cairn_state_close(st);
	return rc;
}

/* /api/v1/apps/APP/rollouts and /api/v1/apps/APP/rollout/ACTION */
static int app_route(cairnd *d, const cairn_http_request *req, cairn_http_response *resp)
{
	const char *rest = req->route_arg ? req->route_arg : "";
	const char *slash = strchr(rest, '/'), *sub = slash ? slash + 1 : "";
	int post = strcmp(req->method, "POST") == 0, rc;
	struct cairnd_defs *x;
	const cairn_app *a;
	char name[256];
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

	if (n == 0 || n >= sizeof(name))
		return cairn_error_set(CAIRN_ENOTFOUND, "no such route '%s'", req->path);
	memcpy(name, rest, n);
	name[n] = '\0';
	x = cairnd_defs_get(d);
	if (!(a = cairn_app_set_find(x->apps, name))) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "unknown application '%s'", name);
		goto out;
	}
	if ((rc = allowed(req, post ? CAIRN_ACTION_DEPLOY : CAIRN_ACTION_READ, a->environment)) < 0)
		goto out;
	rc = cairn_error_set(CAIRN_ENOTFOUND, "no such route '%s %s'", req->method, req->path);
	if (!post && strcmp(sub, "rollouts") == 0) {
		cairn_error_clear();
		rc = list(d, a->name, a->environment ? a->environment : "", resp);
	} else if (post && strncmp(sub, "rollout/", 8) == 0) {
		for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (strcmp(sub + 8, actions[i]) == 0) {
				cairn_error_clear();
				rc = request(d, a, actions[i], req, resp);
				break;
			}
	}
out:
	cairnd_defs_put(d, x);
	return rc;
}

static int all_route(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	int rc = allowed(req, CAIRN_ACTION_READ, NULL);

	return rc < 0 ? rc : list(ud, NULL, NULL, resp);
}

static int apps_route(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	return app_route(ud, req, resp);
}

int cairnd_api_rollout_register(cairnd *d, cairn_http *srv)
{
	int rc = cairn_http_route(srv, "GET", "/api/v1/rollouts", 0, all_route, d);

	if (rc == 0)
		rc = cairn_http_route(srv, NULL, "/api/v1/apps/", CAIRN_HTTP_ROUTE_PREFIX,
		                      apps_route, d);
	return rc;
}
