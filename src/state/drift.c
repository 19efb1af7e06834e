/*
 * drift.c - drift records: a live object that moved away from git.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "state/state_private.h"

static const char sql_add[] =
        "INSERT INTO drift (app, env, obj_group, obj_kind, obj_namespace, obj_name, paths,"
        " field_manager, mode, changed_at, seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
        " ?10, ?11)";
static const char sql_corrected[] = "UPDATE drift SET corrected_at = ?2"
                                    " WHERE id = ?1 AND corrected_at IS NULL";
static const char sql_exists[] = "SELECT 1 FROM drift WHERE id = ?1";
#define DRIFT_COLS                                                                                 \
	"id, app, env, obj_group, obj_kind, obj_namespace, obj_name, field_manager, mode,"         \
	" changed_at, seen_at, corrected_at, paths"
static const char sql_get[] = "SELECT " DRIFT_COLS " FROM drift WHERE id = ?1";
static const char sql_list[] = "SELECT " DRIFT_COLS " FROM drift"
                               " WHERE (?1 IS NULL OR app = ?1) AND (?2 IS NULL OR env = ?2)"
                               " ORDER BY id DESC LIMIT ?3";

static int check_drift(const cairn_state_drift *d)
{
	static const char *names[] = {"app", "env", "group", "kind", "namespace", "name"};
	const char *vals[] = {d->app, d->env, d->group, d->kind, d->namespace_, d->name};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < 6; i++)
		rc = state__check_text(names[i], vals[i], CAIRN_STATE_NAME_MAX, 0);
	if (rc == 0)
		rc = state__check_text("field manager", d->field_manager, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0 && d->mode == NULL)
		rc = cairn_error_set(CAIRN_EINVAL, "drift mode is missing");
	if (rc == 0 && strcmp(d->mode, "detect") != 0 && strcmp(d->mode, "correct") != 0)
		rc = cairn_error_set(CAIRN_EINVAL, "drift mode '%s' is not one of detect, correct",
		                     d->mode);
	if (rc == 0 && !json_is_array(d->paths))
		rc = cairn_error_set(CAIRN_EINVAL, "drift paths must be a JSON array");
	return rc;
}

int cairn_state_drift_add(int64_t *out_id, cairn_state *st, const cairn_state_drift *d)
{
	cairn_buf js = CAIRN_BUF_INIT(CAIRN_STATE_JSON_MAX);
	sqlite3_stmt *s;
	int rc = check_drift(d);

	if (rc == 0)
		rc = state__stmt(st, &s, sql_add);
	if (rc != 0)
		goto out;
	state__bind_text(s, 1, d->app);
	state__bind_text(s, 2, d->env);
	state__bind_text(s, 3, d->group);
	state__bind_text(s, 4, d->kind);
	state__bind_text(s, 5, d->namespace_);
	state__bind_text(s, 6, d->name);
	rc = state__bind_json(st, s, 7, d->paths, NULL, &js);
	if (rc != 0)
		goto out;
	state__bind_text(s, 8, d->field_manager);
	state__bind_text(s, 9, d->mode);
	if (d->changed_at > 0)
		sqlite3_bind_int64(s, 10, d->changed_at);
	sqlite3_bind_int64(s, 11, d->seen_at ? d->seen_at : cairn_time_now());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		rc = state__sqlerr(st, rc, "cannot record a drift");
		goto out;
	}
	*out_id = sqlite3_last_insert_rowid(st->db);
	rc = 0;
out:
	cairn_buf_dispose(&js);
	return rc;
}

int cairn_state_drift_corrected(cairn_state *st, int64_t id, cairn_usec when)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_corrected);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, when ? when : cairn_time_now());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot mark a drift corrected");
	if (sqlite3_changes(st->db) > 0)
		return 0;
	rc = state__stmt(st, &s, sql_exists);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return cairn_error_set(CAIRN_EINVAL,
		                       "drift %lld is already corrected in state database '%s'",
		                       (long long)id, st->path);
	if (rc == SQLITE_DONE)
		return cairn_error_set(CAIRN_ENOTFOUND, "no drift %lld in state database '%s'",
		                       (long long)id, st->path);
	return state__sqlerr(st, rc, "cannot read a drift");
}

static int drift_row(cairn_state *st, void **out, sqlite3_stmt *s)
{
	static const int cols[] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const size_t offs[] = {
	        offsetof(cairn_state_drift, app),           offsetof(cairn_state_drift, env),
	        offsetof(cairn_state_drift, group),         offsetof(cairn_state_drift, kind),
	        offsetof(cairn_state_drift, namespace_),    offsetof(cairn_state_drift, name),
	        offsetof(cairn_state_drift, field_manager), offsetof(cairn_state_drift, mode),
	};
	cairn_state_drift *d = state__pack(sizeof(*d), s, cols, offs, 8);
	int rc;

	if (d == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	d->id = sqlite3_column_int64(s, 0);
	d->changed_at = sqlite3_column_int64(s, 9);
	d->seen_at = sqlite3_column_int64(s, 10);
	d->corrected_at = sqlite3_column_int64(s, 11);
	d->time_to_detect_us = d->changed_at > 0 ? d->seen_at - d->changed_at : -1;
	d->time_to_correct_us = d->corrected_at > 0 ? d->corrected_at - d->seen_at : -1;
	rc = state__column_json(st, &d->paths, s, 12);
	if (rc != 0) {
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int cairn_state_drift_get(cairn_state_drift **out, cairn_state *st, int64_t id)
{
	void *v = NULL;
	int rc = state__get_by_id(st, &v, sql_get, id, drift_row, "drift");

	if (rc == 0)
		*out = v;
	return rc;
}

static void drift_free_void(void *p)
{
	cairn_state_drift_free(p);
}

int cairn_state_drift_list(cairn_state_drift ***out, size_t *count, cairn_state *st,
                           const char *app, const char *env, size_t limit)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_list);

	if (rc != 0)
		return rc;
	state__bind_text(s, 1, app);
	state__bind_text(s, 2, env);
	sqlite3_bind_int64(s, 3, limit == 0 ? -1 : (sqlite3_int64)limit);
	return state__collect(st, (void ***)out, count, s, drift_row, drift_free_void);
}

void cairn_state_drift_free(cairn_state_drift *d)
{
	if (d == NULL)
		return;
	json_decref(d->paths);
	free(d);
}

void cairn_state_drift_list_free(cairn_state_drift **v, size_t count)
{
	for (size_t i = 0; v != NULL && i < count; i++)
		cairn_state_drift_free(v[i]);
	free(v);
}
