/*
 * api_audit.c - POST /api/v1/audit/records: an operator's own audit entry
 * (what `cairn audit record` sends while a daemon owns the state
 * directory, because the daemon then holds the audit key and lock).
 * docs/daemon.md "Audit".
 *
 * Body: {"action": "note.approval", "actor": "...", "subject": {"app",
 * "env", "revision", "renderHash"}, "details": {...}}; only "action" is
 * required. Answer 201 {"seq": N}.
 *
 * Who the entry names as actor is decided here, never by the body alone:
 * with a bearer token it is the token's name (a claimed "actor" goes into
 * details.claimedActor); over the Unix socket, whose file permissions are
 * the only check, it is "local:<claimed actor>" (or "local"), so an entry
 * never looks more authenticated than it was.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairnd.h"

#define RECORD_BODY_MAX (256 * 1024)

/* A subject member: absent, or a string (the log checks its content). */
static int subject_str(const char **out, const json_t *subj, const char *key)
{
	const json_t *v = json_object_get(subj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cairn_error_set(CAIRN_EINVAL, "'subject.%s' must be a string", key);
	*out = json_string_value(v);
	return 0;
}

/* Parse and check everything the log could refuse, before recording. */
static int parse_record(json_t *body, const char **action, const char **claimed,
                        cairn_audit_subject *subj)
{
	const json_t *s = json_object_get(body, "subject"), *det = json_object_get(body, "details");
	const json_t *a = json_object_get(body, "actor");
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach(body, k, v)
	{
		if (strcmp(k, "action") && strcmp(k, "actor") && strcmp(k, "subject") &&
		    strcmp(k, "details"))
			return cairn_error_set(CAIRN_EINVAL,
			                       "unknown member '%s' (expected action, actor, "
			                       "subject, details)",
			                       k);
	}
	if (!json_is_string(json_object_get(body, "action")))
		return cairn_error_set(CAIRN_EINVAL, "'action' is required (a string)");
	*action = json_string_value(json_object_get(body, "action"));
	if ((rc = cairn_audit_action_check(*action)) < 0)
		return rc;
	if (strcmp(*action, "key.rotated") == 0 || strcmp(*action, "audit.torn-tail") == 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "action '%s' is reserved for the audit log itself", *action);
	if (a && !json_is_string(a))
		return cairn_error_set(CAIRN_EINVAL, "'actor' must be a string");
	*claimed = a ? json_string_value(a) : NULL;
	if (*claimed && !**claimed)
		*claimed = NULL;
	if (s && !json_is_object(s))
		return cairn_error_set(CAIRN_EINVAL, "'subject' must be an object");
	if (det && !json_is_null(det) && !json_is_object(det))
		return cairn_error_set(CAIRN_EINVAL, "'details' must be an object");
	if ((rc = subject_str(&subj->app, s, "app")) < 0 ||
	    (rc = subject_str(&subj->env, s, "env")) < 0 ||
	    (rc = subject_str(&subj->revision, s, "revision")) < 0 ||
	    (rc = subject_str(&subj->render_hash, s, "renderHash")) < 0)
		return rc;
	return 0;
}

/*
 * Record the entry. Needs an admin token (within its scope when the
 * subject names an environment), or the Unix socket.
 */
static int h_record(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	cairnd *d = ud;
	cairn_audit_subject subj = {0};
	const char *action = NULL, *claimed = NULL;
	json_t *body = NULL, *details = NULL, *doc = NULL;
	char actor[CAIRN_AUDIT_FIELD_MAX + 1];
	uint64_t seq = 0;
	char *out = NULL;
	int rc;

	if (req->body_len > RECORD_BODY_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "audit record body is over %d bytes",
		                       RECORD_BODY_MAX);
	if (!(body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL)) ||
	    !json_is_object(body)) {
		rc = cairn_error_set(CAIRN_EINVAL, "the body is not a JSON object");
		goto out;
	}
	if ((rc = parse_record(body, &action, &claimed, &subj)) < 0)
		goto out;
	if (!req->local && (rc = cairn_auth_check(req->token, CAIRN_ACTION_ADMIN, subj.env)) < 0)
		goto out;
	if (!d->audit) {
		cairn_http_error(resp, 409, "conflict",
		                 "this daemon has no audit.key: nothing can be recorded");
		rc = 0;
		goto out;
	}
	if (json_is_object(json_object_get(body, "details")))
		details = json_deep_copy(json_object_get(body, "details"));
	if (req->local) {
		snprintf(actor, sizeof(actor), "local%s%s", claimed ? ":" : "",
		         claimed ? claimed : "");
	} else {
		snprintf(actor, sizeof(actor), "%s", req->token->name);
		if (claimed) {
			if (!details)
				details = json_object();
			json_object_set_new(details, "claimedActor", json_string(claimed));
		}
	}
	if ((rc = cairn_audit_record(
	             d->audit, &seq, actor, action,
	             subj.app || subj.env || subj.revision || subj.render_hash ? &subj : NULL,
	             details)) < 0)
		goto out;
	resp->status = 201;
	doc = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "actor", actor);
	rc = doc && (out = json_dumps(doc, JSON_COMPACT))
	             ? cairn_buf_puts(&resp->body, out)
	             : cairn_error_set(CAIRN_ENOMEM, "out of memory");
out:
	free(out);
	json_decref(doc);
	json_decref(details);
	json_decref(body);
	return rc;
}

int cairnd_api_audit_register(cairnd *d, cairn_http *srv)
{
	return cairn_http_route(srv, "POST", "/api/v1/audit/records", 0, h_record, d);
}
