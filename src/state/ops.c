/*
 * ops.c - operation records (sync, rollback, prune attempts).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "state/state_private.h"

static const char sql_start[] =
        "INSERT INTO operations (app, env, kind, trigger_who, trigger_what, revision, render_hash,"
        " started_at, phase, resources, attempt, owner)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'Running', ?9, ?10, ?11)";
static const char sql_phase[] = "SELECT phase FROM operations WHERE id = ?1";
static const char sql_update[] =
        "UPDATE operations SET message = coalesce(?2, message), resources = coalesce(?3, resources)"
        " WHERE id = ?1 AND phase = 'Running'";
static const char sql_finish[] =
        "UPDATE operations SET phase = ?2, finished_at = ?4, message = coalesce(?3, message),"
        " resources = coalesce(?5, resources) WHERE id = ?1 AND phase = 'Running'";
#define OP_COLS                                                                                    \
	"id, app, env, kind, trigger_who, trigger_what, revision, render_hash, started_at,"        \
	" finished_at, phase, message, resources, attempt"
static const char sql_get[] = "SELECT " OP_COLS " FROM operations WHERE id = ?1";
static const char sql_list[] = "SELECT " OP_COLS " FROM operations"
                               " WHERE (?1 IS NULL OR app = ?1) AND (?2 IS NULL OR env = ?2)"
                               " ORDER BY id DESC LIMIT ?3";

static int check_kind(const char *kind)
{
	if (kind == NULL)
		return cairn_error_set(CAIRN_EINVAL, "operation kind is missing");
	if (strcmp(kind, "sync") != 0 && strcmp(kind, "rollback") != 0 &&
	    strcmp(kind, "prune") != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "operation kind '%s' is not one of sync, rollback, prune",
		                       kind);
	return 0;
}

static int check_op(const cairn_state_op *op)
{
	int rc = state__check_text("app", op->app, CAIRN_STATE_NAME_MAX, 0);

	if (rc == 0)
		rc = state__check_text("env", op->env, CAIRN_STATE_NAME_MAX, 0);
	if (rc == 0)
		rc = check_kind(op->kind);
	if (rc == 0)
		rc = state__check_text("trigger who", op->trigger_who, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0)
		rc = state__check_text("trigger what", op->trigger_what, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0)
		rc = state__check_text("revision", op->revision, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0)
		rc = state__check_text("render hash", op->render_hash, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0 && op->attempt < 0)
		rc = cairn_error_set(CAIRN_EINVAL, "operation attempt %d is negative", op->attempt);
	return rc;
}

int cairn_state_op_start(int64_t *out_id, cairn_state *st, const cairn_state_op *op)
{
	cairn_buf js = CAIRN_BUF_INIT(CAIRN_STATE_JSON_MAX);
	char owner[128];
	sqlite3_stmt *s;
	int rc = check_op(op);

	if (rc == 0 && (st->flags & CAIRN_STATE_READONLY))
		rc = cairn_error_set(CAIRN_EPERM, "state database '%s' is open read-only",
		                     st->path);
	if (rc == 0)
		rc = state__stmt(st, &s, sql_start);
	if (rc != 0)
		goto out;
	state__owner_token(owner, sizeof(owner), (long)getpid());
	state__bind_text(s, 1, op->app);
	state__bind_text(s, 2, op->env);
	state__bind_text(s, 3, op->kind);
	state__bind_text(s, 4, op->trigger_who);
	state__bind_text(s, 5, op->trigger_what);
	state__bind_text(s, 6, op->revision);
	state__bind_text(s, 7, op->render_hash);
	sqlite3_bind_int64(s, 8, op->started_at ? op->started_at : cairn_time_now());
	rc = state__bind_json(st, s, 9, op->resources, "[]", &js);
	if (rc != 0)
		goto out;
	sqlite3_bind_int(s, 10, op->attempt > 0 ? op->attempt : 1);
	state__bind_text(s, 11, owner);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		rc = state__sqlerr(st, rc, "cannot record an operation");
		goto out;
	}
	*out_id = sqlite3_last_insert_rowid(st->db);
	rc = 0;
out:
	cairn_buf_dispose(&js);
	return rc;
}

/* After an UPDATE that matched no row: say whether the id is unknown or the
 * operation is no longer Running. */
static int not_running(cairn_state *st, int64_t id)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_phase);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = cairn_error_set(
		        CAIRN_EINVAL,
		        "operation %lld is not running (phase '%s') in state database '%s'",
		        (long long)id, (const char *)sqlite3_column_text(s, 0), st->path);
	else if (rc == SQLITE_DONE)
		rc = cairn_error_set(CAIRN_ENOTFOUND, "no operation %lld in state database '%s'",
		                     (long long)id, st->path);
	else
		rc = state__sqlerr(st, rc, "cannot read an operation");
	sqlite3_reset(s);
	return rc;
}

/* Shared by update and finish: bind, step, and explain a miss. */
static int op_write(cairn_state *st, const char *sql, int64_t id, const char *phase,
                    const char *message, const json_t *resources)
{
	cairn_buf js = CAIRN_BUF_INIT(CAIRN_STATE_JSON_MAX);
	sqlite3_stmt *s;
	int rc = state__check_text("message", message, CAIRN_STATE_MESSAGE_MAX, 1);

	if (rc == 0)
		rc = state__stmt(st, &s, sql);
	if (rc != 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	if (sql == sql_finish) {
		state__bind_text(s, 2, phase);
		state__bind_text(s, 3, message);
		sqlite3_bind_int64(s, 4, cairn_time_now());
		rc = state__bind_json(st, s, 5, resources, NULL, &js);
	} else {
		state__bind_text(s, 2, message);
		rc = state__bind_json(st, s, 3, resources, NULL, &js);
	}
	if (rc != 0)
		goto out;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		rc = state__sqlerr(st, rc, "cannot update an operation");
	else if (sqlite3_changes(st->db) == 0)
		rc = not_running(st, id);
	else
		rc = 0;
out:
	cairn_buf_dispose(&js);
	return rc;
}

int cairn_state_op_update(cairn_state *st, int64_t id, const char *message, const json_t *resources)
{
	return op_write(st, sql_update, id, NULL, message, resources);
}

int cairn_state_op_finish(cairn_state *st, int64_t id, const char *phase, const char *message,
                          const json_t *resources)
{
	if (phase == NULL || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0 &&
	                      strcmp(phase, "Error") != 0))
		return cairn_error_set(
		        CAIRN_EINVAL, "operation phase '%s' is not one of Succeeded, Failed, Error",
		        phase ? phase : "");
	return op_write(st, sql_finish, id, phase, message, resources);
}

static int op_row(cairn_state *st, void **out, sqlite3_stmt *s)
{
	static const int cols[] = {1, 2, 3, 4, 5, 6, 7, 10, 11};
	static const size_t offs[] = {
	        offsetof(cairn_state_op, app),          offsetof(cairn_state_op, env),
	        offsetof(cairn_state_op, kind),         offsetof(cairn_state_op, trigger_who),
	        offsetof(cairn_state_op, trigger_what), offsetof(cairn_state_op, revision),
	        offsetof(cairn_state_op, render_hash),  offsetof(cairn_state_op, phase),
	        offsetof(cairn_state_op, message),
	};
	cairn_state_op *op = state__pack(sizeof(*op), s, cols, offs, 9);
	int rc;

	if (op == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	op->id = sqlite3_column_int64(s, 0);
	op->started_at = sqlite3_column_int64(s, 8);
	op->finished_at = sqlite3_column_int64(s, 9);
	op->attempt = sqlite3_column_int(s, 13);
	rc = state__column_json(st, &op->resources, s, 12);
	if (rc == 0 && op->resources == NULL)
		op->resources = json_array();
	if (rc != 0 || op->resources == NULL) {
		free(op);
		return rc ? rc : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = op;
	return 0;
}

int cairn_state_op_get(cairn_state_op **out, cairn_state *st, int64_t id)
{
	void *v = NULL;
	int rc = state__get_by_id(st, &v, sql_get, id, op_row, "operation");

	if (rc == 0)
		*out = v;
	return rc;
}

static void op_free_void(void *p)
{
	cairn_state_op_free(p);
}

int cairn_state_op_list(cairn_state_op ***out, size_t *count, cairn_state *st, const char *app,
                        const char *env, size_t limit)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_list);

	if (rc != 0)
		return rc;
	state__bind_text(s, 1, app);
	state__bind_text(s, 2, env);
	sqlite3_bind_int64(s, 3, limit == 0 ? -1 : (sqlite3_int64)limit);
	return state__collect(st, (void ***)out, count, s, op_row, op_free_void);
}

void cairn_state_op_free(cairn_state_op *op)
{
	if (op == NULL)
		return;
	json_decref(op->resources);
	free(op);
}

void cairn_state_op_list_free(cairn_state_op **v, size_t count)
{
	for (size_t i = 0; v != NULL && i < count; i++)
		cairn_state_op_free(v[i]);
	free(v);
}
