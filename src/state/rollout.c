/*
 * rollout.c - the persisted state machines of rollouts, one row per
 * (app, env, Rollout name), and their event log (docs/state.md).
 *
 * The engine owns every column but `request`, which belongs to the
 * operator: put never writes it, request sets it, take_request reads and
 * clears it in one transaction, so a request made while the engine runs a
 * step is neither lost nor consumed twice.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "state/state_private.h"

/* Largest `data` object of one event (a measurement with its query and value). */
#define ROLLOUT_EVENT_DATA_MAX ((size_t)1 << 20)
/* Events kept per rollout; older ones are trimmed by the insert that adds one. */
#define ROLLOUT_EVENTS_KEEP 1000

/* ON CONFLICT keeps the row (and its id, which events reference) and its request. */
static const char sql_put[] =
        "INSERT INTO rollouts (app, env, name, namespace, strategy, phase, revision,"
        " stable_hash, canary_hash, step, weight, message, failed_revision, failed_reason,"
        " status, started_at, updated_at, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
        " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        " ON CONFLICT (app, env, name) DO UPDATE SET namespace = excluded.namespace,"
        " strategy = excluded.strategy, phase = excluded.phase, revision = excluded.revision,"
        " stable_hash = excluded.stable_hash, canary_hash = excluded.canary_hash,"
        " step = excluded.step, weight = excluded.weight, message = excluded.message,"
        " failed_revision = excluded.failed_revision, failed_reason = excluded.failed_reason,"
        " status = excluded.status, started_at = excluded.started_at,"
        " updated_at = excluded.updated_at, next_at = excluded.next_at"
        " RETURNING id";
#define ROLLOUT_COLS                                                                               \
	"id, app, env, name, namespace, strategy, phase, revision, stable_hash, canary_hash,"      \
	" message, request, failed_revision, failed_reason, step, weight, started_at,"             \
	" updated_at, next_at, status"
static const char sql_get[] =
        "SELECT " ROLLOUT_COLS " FROM rollouts WHERE app = ?1 AND env = ?2 AND name = ?3";
static const char sql_list[] = "SELECT " ROLLOUT_COLS " FROM rollouts"
                               " WHERE (?1 IS NULL OR app = ?1) AND (?2 IS NULL OR env = ?2)"
                               " ORDER BY app, env, name";
/* A pending request makes a row due at once, whatever its timer says. */
static const char sql_due[] =
        "SELECT " ROLLOUT_COLS " FROM rollouts"
        " WHERE (next_at IS NOT NULL AND next_at <= ?1) OR request IS NOT NULL"
        " ORDER BY coalesce(min(next_at, ?1), ?1), id";
static const char sql_request[] =
        "UPDATE rollouts SET request = ?4 WHERE app = ?1 AND env = ?2 AND name = ?3";
static const char sql_read_request[] =
        "SELECT request FROM rollouts WHERE app = ?1 AND env = ?2 AND name = ?3";
static const char sql_clear_request[] = "UPDATE rollouts SET request = NULL"
                                        " WHERE app = ?1 AND env = ?2 AND name = ?3";
static const char sql_delete[] = "DELETE FROM rollouts WHERE app = ?1 AND env = ?2 AND name = ?3";
static const char sql_event_add[] =
        "INSERT INTO rollout_events (rollout_id, at, kind, data) VALUES (?1, ?2, ?3, ?4)";
/* Everything at or below the 1,001st newest id goes. */
static const char sql_event_trim[] =
        "DELETE FROM rollout_events WHERE rollout_id = ?1 AND id <= (SELECT id FROM"
        " rollout_events WHERE rollout_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)";
static const char sql_events[] = "SELECT id, rollout_id, at, kind, data FROM rollout_events"
                                 " WHERE rollout_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

static const char *const requests[] = {"promote", "promote-full", "pause",
                                       "resume",  "abort",        "retry"};

static const char *env_or_unbound(const char *env)
{
	return env != NULL ? env : "";
}

static int check_writable(cairn_state *st)
{
	if (st->flags & CAIRN_STATE_READONLY)
		return cairn_error_set(CAIRN_EPERM, "state database '%s' is open read-only",
		                       st->path);
	return 0;
}

static int check_rollout(const cairn_state_rollout *r)
{
	static const char *names[] = {"rollout app",         "rollout env",
	                              "rollout name",        "rollout namespace",
	                              "rollout strategy",    "rollout phase",
	                              "rollout revision",    "rollout stable hash",
	                              "rollout canary hash", "rollout failed revision"};
	const char *vals[] = {
	        r->app,   r->env,      r->name,        r->namespace_,  r->strategy,
	        r->phase, r->revision, r->stable_hash, r->canary_hash, r->failed_revision};
	/* app, name, strategy and phase are required; env NULL means unbound (""). */
	static const int optional[] = {0, 1, 0, 1, 0, 0, 1, 1, 1, 1};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(vals) / sizeof(vals[0]); i++)
		rc = state__check_text(names[i], vals[i], CAIRN_STATE_NAME_MAX, optional[i]);
	if (rc == 0)
		rc = state__check_text("rollout message", r->message, CAIRN_STATE_MESSAGE_MAX, 1);
	if (rc == 0)
		rc = state__check_text("rollout failed reason", r->failed_reason,
		                       CAIRN_STATE_MESSAGE_MAX, 1);
	if (rc == 0 && strcmp(r->strategy, "canary") != 0 && strcmp(r->strategy, "blueGreen") != 0)
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "rollout strategy '%s' is not one of canary, blueGreen",
		                     r->strategy);
	if (rc == 0 && (r->weight < 0 || r->weight > 100))
		rc = cairn_error_set(CAIRN_EINVAL, "rollout weight %d is not between 0 and 100",
		                     r->weight);
	if (rc == 0 && r->step < -1)
		rc = cairn_error_set(CAIRN_EINVAL, "rollout step %d is below -1", r->step);
	return rc;
}

/* Bind the 18 columns of sql_put; `js` holds the status text until the step. */
static int bind_rollout(cairn_state *st, sqlite3_stmt *s, const cairn_state_rollout *r,
                        cairn_buf *js)
{
	cairn_usec now = cairn_time_now();
	int rc;

	state__bind_text(s, 1, r->app);
	state__bind_text(s, 2, env_or_unbound(r->env));
	state__bind_text(s, 3, r->name);
	state__bind_text(s, 4, r->namespace_);
	state__bind_text(s, 5, r->strategy);
	state__bind_text(s, 6, r->phase);
	state__bind_text(s, 7, r->revision);
	state__bind_text(s, 8, r->stable_hash);
	state__bind_text(s, 9, r->canary_hash);
	sqlite3_bind_int(s, 10, r->step);
	sqlite3_bind_int(s, 11, r->weight);
	state__bind_text(s, 12, r->message);
	state__bind_text(s, 13, r->failed_revision);
	state__bind_text(s, 14, r->failed_reason);
	rc = state__bind_json(st, s, 15, r->status, NULL, js);
	if (rc != 0)
		return rc == CAIRN_ELIMIT
		               ? cairn_error_set(CAIRN_ELIMIT,
		                                 "rollout status is larger than %zu bytes",
		                                 CAIRN_STATE_JSON_MAX)
		               : rc;
	sqlite3_bind_int64(s, 16, r->started_at ? r->started_at : now);
	sqlite3_bind_int64(s, 17, r->updated_at ? r->updated_at : now);
	if (r->next_at > 0)
		sqlite3_bind_int64(s, 18, r->next_at);
	return 0;
}

int cairn_state_rollout_put(int64_t *out_id, cairn_state *st, const cairn_state_rollout *r)
{
	cairn_buf js = CAIRN_BUF_INIT(CAIRN_STATE_JSON_MAX);
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc = check_rollout(r);

	if (rc == 0)
		rc = check_writable(st);
	if (rc == 0)
		rc = state__stmt(st, &s, sql_put);
	if (rc != 0)
		goto out;
	rc = bind_rollout(st, s, r, &js);
	if (rc != 0) {
		sqlite3_reset(s);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE || id == 0) {
		rc = state__sqlerr(st, rc, "cannot store a rollout");
		goto out;
	}
	if (out_id != NULL)
		*out_id = id;
	rc = 0;
out:
	cairn_buf_dispose(&js);
	return rc;
}

static int rollout_row(cairn_state *st, void **out, sqlite3_stmt *s)
{
	static const int cols[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
	static const size_t offs[] = {
	        offsetof(cairn_state_rollout, app),
	        offsetof(cairn_state_rollout, env),
	        offsetof(cairn_state_rollout, name),
	        offsetof(cairn_state_rollout, namespace_),
	        offsetof(cairn_state_rollout, strategy),
	        offsetof(cairn_state_rollout, phase),
	        offsetof(cairn_state_rollout, revision),
	        offsetof(cairn_state_rollout, stable_hash),
	        offsetof(cairn_state_rollout, canary_hash),
	        offsetof(cairn_state_rollout, message),
	        offsetof(cairn_state_rollout, request),
	        offsetof(cairn_state_rollout, failed_revision),
	        offsetof(cairn_state_rollout, failed_reason),
	};
	cairn_state_rollout *r = state__pack(sizeof(*r), s, cols, offs, 13);
	int rc;

	if (r == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	r->id = sqlite3_column_int64(s, 0);
	r->step = sqlite3_column_int(s, 14);
	r->weight = sqlite3_column_int(s, 15);
	r->started_at = sqlite3_column_int64(s, 16);
	r->updated_at = sqlite3_column_int64(s, 17);
	r->next_at = sqlite3_column_int64(s, 18);
	rc = state__column_json(st, &r->status, s, 19);
	if (rc != 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int not_found(cairn_state *st, const char *app, const char *env, const char *name)
{
	return cairn_error_set(CAIRN_ENOTFOUND,
	                       "no rollout '%s' of application '%s' in environment '%s' in state "
	                       "database '%s'",
	                       name ? name : "", app ? app : "", env_or_unbound(env), st->path);
}

/* Bind (app, env, name) to ?1..?3. */
static void bind_key(sqlite3_stmt *s, const char *app, const char *env, const char *name)
{
	state__bind_text(s, 1, app ? app : "");
	state__bind_text(s, 2, env_or_unbound(env));
	state__bind_text(s, 3, name ? name : "");
}

int cairn_state_rollout_get(cairn_state_rollout **out, cairn_state *st, const char *app,
                            const char *env, const char *name)
{
	sqlite3_stmt *s;
	void *r = NULL;
	int rc = state__stmt(st, &s, sql_get);

	if (rc != 0)
		return rc;
	bind_key(s, app, env, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = rollout_row(st, &r, s);
	else if (rc == SQLITE_DONE)
		rc = not_found(st, app, env, name);
	else
		rc = state__sqlerr(st, rc, "cannot read a rollout");
	sqlite3_reset(s);
	if (rc == 0)
		*out = r;
	return rc;
}

static void rollout_free_void(void *p)
{
	cairn_state_rollout_free(p);
}

int cairn_state_rollout_list(cairn_state_rollout ***out, size_t *count, cairn_state *st,
                             const char *app, const char *env)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_list);

	if (rc != 0)
		return rc;
	state__bind_text(s, 1, app);
	state__bind_text(s, 2, env);
	return state__collect(st, (void ***)out, count, s, rollout_row, rollout_free_void);
}

int cairn_state_rollout_due(cairn_state_rollout ***out, size_t *count, cairn_state *st,
                            cairn_usec until)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_due);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, until);
	return state__collect(st, (void ***)out, count, s, rollout_row, rollout_free_void);
}

static int check_request(const char *request)
{
	if (request == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		if (strcmp(request, requests[i]) == 0)
			return 0;
	}
	return cairn_error_set(
	        CAIRN_EINVAL,
	        "rollout request '%.64s' is not one of promote, promote-full, pause, "
	        "resume, abort, retry",
	        request);
}

int cairn_state_rollout_request(cairn_state *st, const char *app, const char *env, const char *name,
                                const char *request)
{
	sqlite3_stmt *s;
	int rc = check_request(request);

	if (rc == 0)
		rc = check_writable(st);
	if (rc == 0)
		rc = state__stmt(st, &s, sql_request);
	if (rc != 0)
		return rc;
	bind_key(s, app, env, name);
	state__bind_text(s, 4, request);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot store a rollout request");
	if (sqlite3_changes(st->db) == 0)
		return not_found(st, app, env, name);
	return 0;
}

/* Inside the write unit: read the request (malloc'd copy or NULL), then clear it. */
static int take_locked(cairn_state *st, char **req, const char *app, const char *env,
                       const char *name)
{
	sqlite3_stmt *s;
	const unsigned char *t;
	int rc = state__stmt(st, &s, sql_read_request);

	if (rc != 0)
		return rc;
	bind_key(s, app, env, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return not_found(st, app, env, name);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return state__sqlerr(st, rc, "cannot read a rollout request");
	}
	t = sqlite3_column_text(s, 0);
	if (t != NULL && (*req = strdup((const char *)t)) == NULL) {
		sqlite3_reset(s);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	sqlite3_reset(s);
	if (*req == NULL)
		return 0;
	rc = state__stmt(st, &s, sql_clear_request);
	if (rc != 0)
		return rc;
	bind_key(s, app, env, name);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : state__sqlerr(st, rc, "cannot clear a rollout request");
}

int cairn_state_rollout_take_request(char **out, cairn_state *st, const char *app, const char *env,
                                     const char *name)
{
	char *req = NULL;
	int rc = check_writable(st);

	if (rc == 0)
		rc = state__tx_begin(st);
	if (rc != 0)
		return rc;
	rc = take_locked(st, &req, app, env, name);
	rc = state__tx_end(st, rc);
	if (rc != 0) {
		free(req);
		return rc;
	}
	*out = req;
	return 0;
}

int cairn_state_rollout_delete(cairn_state *st, const char *app, const char *env, const char *name)
{
	sqlite3_stmt *s;
	int rc = check_writable(st);

	if (rc == 0)
		rc = state__stmt(st, &s, sql_delete);
	if (rc != 0)
		return rc;
	bind_key(s, app, env, name);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot delete a rollout");
	if (sqlite3_changes(st->db) == 0)
		return not_found(st, app, env, name);
	return 0;
}

void cairn_state_rollout_free(cairn_state_rollout *r)
{
	if (r == NULL)
		return;
	json_decref(r->status);
	free(r);
}

void cairn_state_rollout_list_free(cairn_state_rollout **v, size_t count)
{
	for (size_t i = 0; v != NULL && i < count; i++)
		cairn_state_rollout_free(v[i]);
	free(v);
}

/* Insert one event and trim the rollout's log; the caller holds the write unit. */
static int event_insert(cairn_state *st, int64_t *id, int64_t rollout_id, const char *kind,
                        const json_t *data, cairn_usec at, cairn_buf *js)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_event_add);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, rollout_id);
	sqlite3_bind_int64(s, 2, at ? at : cairn_time_now());
	state__bind_text(s, 3, kind);
	rc = state__bind_json(st, s, 4, data, "{}", js);
	if (rc != 0) {
		sqlite3_reset(s);
		return rc == CAIRN_ELIMIT ? cairn_error_set(CAIRN_ELIMIT,
		                                            "rollout event data is larger than %zu "
		                                            "bytes",
		                                            ROLLOUT_EVENT_DATA_MAX)
		                          : rc;
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return cairn_error_set(CAIRN_ENOTFOUND, "no rollout %lld in state database '%s'",
		                       (long long)rollout_id, st->path);
	if (rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot record a rollout event");
	*id = sqlite3_last_insert_rowid(st->db);
	rc = state__stmt(st, &s, sql_event_trim);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, rollout_id);
	sqlite3_bind_int(s, 2, ROLLOUT_EVENTS_KEEP);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : state__sqlerr(st, rc, "cannot trim rollout events");
}

int cairn_state_rollout_event_add(int64_t *out_id, cairn_state *st, int64_t rollout_id,
                                  const char *kind, const json_t *data, cairn_usec at)
{
	cairn_buf js = CAIRN_BUF_INIT(ROLLOUT_EVENT_DATA_MAX);
	int64_t id = 0;
	int rc = state__check_text("rollout event kind", kind, CAIRN_STATE_NAME_MAX, 0);

	if (rc == 0 && data != NULL && !json_is_object(data))
		rc = cairn_error_set(CAIRN_EINVAL, "rollout event data must be a JSON object");
	if (rc == 0)
		rc = check_writable(st);
	if (rc == 0)
		rc = state__tx_begin(st);
	if (rc != 0)
		goto out;
	rc = event_insert(st, &id, rollout_id, kind, data, at, &js);
	rc = state__tx_end(st, rc);
	if (rc == 0 && out_id != NULL)
		*out_id = id;
out:
	cairn_buf_dispose(&js);
	return rc;
}

static int event_row(cairn_state *st, void **out, sqlite3_stmt *s)
{
	static const int cols[] = {3};
	static const size_t offs[] = {offsetof(cairn_state_rollout_event, kind)};
	cairn_state_rollout_event *e = state__pack(sizeof(*e), s, cols, offs, 1);
	int rc;

	if (e == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	e->id = sqlite3_column_int64(s, 0);
	e->rollout_id = sqlite3_column_int64(s, 1);
	e->at = sqlite3_column_int64(s, 2);
	rc = state__column_json(st, &e->data, s, 4);
	if (rc != 0) {
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

static void event_free(void *p)
{
	cairn_state_rollout_event *e = p;

	if (e == NULL)
		return;
	json_decref(e->data);
	free(e);
}

int cairn_state_rollout_events(cairn_state_rollout_event ***out, size_t *count, cairn_state *st,
                               int64_t rollout_id, int64_t after_id, size_t limit)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_events);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, rollout_id);
	sqlite3_bind_int64(s, 2, after_id);
	sqlite3_bind_int64(s, 3, limit == 0 ? -1 : (sqlite3_int64)limit);
	return state__collect(st, (void ***)out, count, s, event_row, event_free);
}

void cairn_state_rollout_event_list_free(cairn_state_rollout_event **v, size_t count)
{
	for (size_t i = 0; v != NULL && i < count; i++)
		event_free(v[i]);
	free(v);
}
