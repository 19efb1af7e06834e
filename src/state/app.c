/*
 * app.c - application status rows, one per (app, env).
 */
#include <stddef.h>
#include <stdlib.h>

#include "cairn/error.h"
#include "state/state_private.h"

static const char sql_put[] =
        "INSERT OR REPLACE INTO app_status (app, env, sync_status, health, revision,"
        " render_hash, message, updated_at, paused, pinned_history_id, pinned_revision)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
#define APP_COLS                                                                                   \
	"app, env, sync_status, health, revision, render_hash, message, updated_at, paused,"       \
	" pinned_history_id, pinned_revision"
static const char sql_get[] = "SELECT " APP_COLS " FROM app_status WHERE app = ?1 AND env = ?2";
static const char sql_list[] = "SELECT " APP_COLS " FROM app_status ORDER BY app, env";
static const char sql_list_env[] =
        "SELECT " APP_COLS " FROM app_status WHERE env = ?1 ORDER BY app, env";
static const char sql_delete[] = "DELETE FROM app_status WHERE app = ?1 AND env = ?2";

static int check_app(const cairn_state_app *s)
{
	int rc = state__check_text("app", s->app, CAIRN_STATE_NAME_MAX, 0);

	if (rc == 0)
		rc = state__check_text("env", s->env, CAIRN_STATE_NAME_MAX, 0);
	if (rc == 0)
		rc = state__check_text("sync status", s->sync_status, CAIRN_STATE_NAME_MAX, 0);
	if (rc == 0)
		rc = state__check_text("health", s->health, CAIRN_STATE_NAME_MAX, 0);
	if (rc == 0)
		rc = state__check_text("revision", s->revision, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0)
		rc = state__check_text("render hash", s->render_hash, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0)
		rc = state__check_text("message", s->message, CAIRN_STATE_MESSAGE_MAX, 1);
	if (rc == 0)
		rc = state__check_text("pinned revision", s->pinned_revision, CAIRN_STATE_NAME_MAX,
		                       1);
	return rc;
}

int cairn_state_app_put(cairn_state *st, const cairn_state_app *a)
{
	sqlite3_stmt *s;
	int rc = check_app(a);

	if (rc != 0)
		return rc;
	if (st->flags & CAIRN_STATE_READONLY)
		return cairn_error_set(CAIRN_EPERM, "state database '%s' is open read-only",
		                       st->path);
	rc = state__stmt(st, &s, sql_put);
	if (rc != 0)
		return rc;
	state__bind_text(s, 1, a->app);
	state__bind_text(s, 2, a->env);
	state__bind_text(s, 3, a->sync_status);
	state__bind_text(s, 4, a->health);
	state__bind_text(s, 5, a->revision);
	state__bind_text(s, 6, a->render_hash);
	state__bind_text(s, 7, a->message);
	sqlite3_bind_int64(s, 8, a->updated_at ? a->updated_at : cairn_time_now());
	sqlite3_bind_int(s, 9, a->paused ? 1 : 0);
	if (a->pinned_history_id > 0)
		sqlite3_bind_int64(s, 10, a->pinned_history_id);
	state__bind_text(s, 11, a->pinned_revision);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot store the status of an application");
	return 0;
}

static int app_row(cairn_state *st, void **out, sqlite3_stmt *s)
{
	static const int cols[] = {0, 1, 2, 3, 4, 5, 6, 10};
	static const size_t offs[] = {
	        offsetof(cairn_state_app, app),         offsetof(cairn_state_app, env),
	        offsetof(cairn_state_app, sync_status), offsetof(cairn_state_app, health),
	        offsetof(cairn_state_app, revision),    offsetof(cairn_state_app, render_hash),
	        offsetof(cairn_state_app, message),     offsetof(cairn_state_app, pinned_revision),
	};
	cairn_state_app *a = state__pack(sizeof(*a), s, cols, offs, 8);

	(void)st;
	if (a == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	a->updated_at = sqlite3_column_int64(s, 7);
	a->paused = sqlite3_column_int(s, 8);
	a->pinned_history_id = sqlite3_column_int64(s, 9);
	*out = a;
	return 0;
}

int cairn_state_app_get(cairn_state_app **out, cairn_state *st, const char *app, const char *env)
{
	sqlite3_stmt *s;
	void *a = NULL;
	int rc = state__stmt(st, &s, sql_get);

	if (rc != 0)
		return rc;
	state__bind_text(s, 1, app);
	state__bind_text(s, 2, env);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = app_row(st, &a, s);
	else if (rc == SQLITE_DONE)
		rc = cairn_error_set(CAIRN_ENOTFOUND,
		                     "no status for application '%s' in environment '%s' in state "
		                     "database '%s'",
		                     app ? app : "", env ? env : "", st->path);
	else
		rc = state__sqlerr(st, rc, "cannot read the status of an application");
	sqlite3_reset(s);
	if (rc == 0)
		*out = a;
	return rc;
}

int cairn_state_app_list(cairn_state_app ***out, size_t *count, cairn_state *st, const char *env)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, env ? sql_list_env : sql_list);

	if (rc != 0)
		return rc;
	if (env != NULL)
		state__bind_text(s, 1, env);
	return state__collect(st, (void ***)out, count, s, app_row, free);
}

int cairn_state_app_delete(cairn_state *st, const char *app, const char *env)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_delete);

	if (rc != 0)
		return rc;
	state__bind_text(s, 1, app);
	state__bind_text(s, 2, env);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot delete the status of an application");
	if (sqlite3_changes(st->db) == 0)
		return cairn_error_set(
		        CAIRN_ENOTFOUND,
		        "no status for application '%s' in environment '%s' in state "
		        "database '%s'",
		        app ? app : "", env ? env : "", st->path);
	return 0;
}

void cairn_state_app_free(cairn_state_app *a)
{
	free(a);
}

void cairn_state_app_list_free(cairn_state_app **v, size_t count)
{
	for (size_t i = 0; v != NULL && i < count; i++)
		free(v[i]);
	free(v);
}
