/*
 * history.c - deployed revisions per (app, env), trimmed to a limit.
 */
#include <stddef.h>
#include <stdlib.h>

#include "cairn/error.h"
#include "state/state_private.h"

static const char sql_add[] =
        "INSERT INTO history (app, env, revision, render_hash, manifests, manifests_ref,"
        " deployed_at, operation_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
/* Keep the newest `limit` entries, and any entry an application is pinned to. */
static const char sql_trim[] = "DELETE FROM history WHERE app = ?1 AND env = ?2"
                               " AND id NOT IN (SELECT id FROM history WHERE app = ?1 AND env = ?2"
                               "  ORDER BY id DESC LIMIT ?3)"
                               " AND id NOT IN (SELECT pinned_history_id FROM app_status"
                               "  WHERE pinned_history_id IS NOT NULL)";
#define HIST_COLS "id, app, env, revision, render_hash, manifests_ref, deployed_at, operation_id"
static const char sql_get[] = "SELECT " HIST_COLS ", manifests FROM history WHERE id = ?1";
static const char sql_list[] = "SELECT " HIST_COLS " FROM history WHERE app = ?1 AND env = ?2"
                               " ORDER BY id DESC";

static int check_history(const cairn_state_history *h)
{
	int rc = state__check_text("app", h->app, CAIRN_STATE_NAME_MAX, 0);

	if (rc == 0)
		rc = state__check_text("env", h->env, CAIRN_STATE_NAME_MAX, 0);
	if (rc == 0)
		rc = state__check_text("revision", h->revision, CAIRN_STATE_NAME_MAX, 0);
	if (rc == 0)
		rc = state__check_text("render hash", h->render_hash, CAIRN_STATE_NAME_MAX, 1);
	if (rc == 0)
		rc = state__check_text("manifests location", h->manifests_ref, CAIRN_STATE_NAME_MAX,
		                       1);
	if (rc == 0 && h->manifests == NULL && h->manifests_ref == NULL)
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "history entry has neither a manifest set nor its location");
	return rc;
}

/* Insert one row; the caller holds the write transaction. */
static int insert(cairn_state *st, int64_t *id, const cairn_state_history *h, cairn_buf *js)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_add);

	if (rc != 0)
		return rc;
	state__bind_text(s, 1, h->app);
	state__bind_text(s, 2, h->env);
	state__bind_text(s, 3, h->revision);
	state__bind_text(s, 4, h->render_hash);
	rc = state__bind_json(st, s, 5, h->manifests, NULL, js);
	if (rc != 0)
		return rc == CAIRN_ELIMIT ? cairn_error_set(CAIRN_ELIMIT,
		                                            "manifest set is larger than %zu bytes",
		                                            CAIRN_STATE_JSON_MAX)
		                          : rc;
	state__bind_text(s, 6, h->manifests_ref);
	sqlite3_bind_int64(s, 7, h->deployed_at ? h->deployed_at : cairn_time_now());
	if (h->operation_id > 0)
		sqlite3_bind_int64(s, 8, h->operation_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "history entry names operation %lld, which is not in state "
			        "database '%s'",
			        (long long)h->operation_id, st->path);
		return state__sqlerr(st, rc, "cannot record a history entry");
	}
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int cairn_state_history_add(int64_t *out_id, cairn_state *st, const cairn_state_history *h,
                            int limit)
{
	cairn_buf js = CAIRN_BUF_INIT(CAIRN_STATE_JSON_MAX);
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc = check_history(h);

	if (rc == 0)
		rc = state__tx_begin(st);
	if (rc != 0)
		goto out;
	rc = insert(st, &id, h, &js);
	if (rc == 0)
		rc = state__stmt(st, &s, sql_trim);
	if (rc == 0) {
		state__bind_text(s, 1, h->app);
		state__bind_text(s, 2, h->env);
		sqlite3_bind_int(s, 3, limit > 0 ? limit : CAIRN_STATE_HISTORY_DEFAULT);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		rc = rc == SQLITE_DONE ? 0 : state__sqlerr(st, rc, "cannot trim the history");
	}
	rc = state__tx_end(st, rc);
	if (rc == 0)
		*out_id = id;
out:
	cairn_buf_dispose(&js);
	return rc;
}

static int history_row(cairn_state *st, void **out, sqlite3_stmt *s)
{
	static const int cols[] = {1, 2, 3, 4, 5};
	static const size_t offs[] = {
	        offsetof(cairn_state_history, app),
	        offsetof(cairn_state_history, env),
	        offsetof(cairn_state_history, revision),
	        offsetof(cairn_state_history, render_hash),
	        offsetof(cairn_state_history, manifests_ref),
	};
	cairn_state_history *h = state__pack(sizeof(*h), s, cols, offs, 5);
	int rc = 0;

	if (h == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	h->id = sqlite3_column_int64(s, 0);
	h->deployed_at = sqlite3_column_int64(s, 6);
	h->operation_id = sqlite3_column_int64(s, 7);
	if (sqlite3_column_count(s) > 8)
		rc = state__column_json(st, &h->manifests, s, 8);
	if (rc != 0) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int cairn_state_history_get(cairn_state_history **out, cairn_state *st, int64_t id)
{
	void *v = NULL;
	int rc = state__get_by_id(st, &v, sql_get, id, history_row, "history entry");

	if (rc == 0)
		*out = v;
	return rc;
}

static void history_free_void(void *p)
{
	cairn_state_history_free(p);
}

int cairn_state_history_list(cairn_state_history ***out, size_t *count, cairn_state *st,
                             const char *app, const char *env)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_list);

	if (rc != 0)
		return rc;
	state__bind_text(s, 1, app);
	state__bind_text(s, 2, env);
	return state__collect(st, (void ***)out, count, s, history_row, history_free_void);
}

void cairn_state_history_free(cairn_state_history *h)
{
	if (h == NULL)
		return;
	json_decref(h->manifests);
	free(h);
}

void cairn_state_history_list_free(cairn_state_history **v, size_t count)
{
	for (size_t i = 0; v != NULL && i < count; i++)
		cairn_state_history_free(v[i]);
	free(v);
}
