/*
 * cache.c - the dry-run cache and the key/value table.
 *
 * The dry-run cache maps (desired object hash, live resourceVersion) to the
 * object a server-side-apply dry run predicted, as JCS text. Recency is a
 * counter (max(used) + 1) rather than a clock, so eviction order is exact
 * even when many entries are touched within one clock tick.
 *
 * A hit must not cost a commit (with synchronous=FULL that is an fsync, and
 * a resync of an unchanged app is all hits), so hits are remembered in the
 * handle and written as recency updates in the next put's transaction, or
 * in one transaction per STATE_TOUCH_MAX hits, or at close.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "state/state_private.h"

static const char sql_put[] =
        "INSERT OR REPLACE INTO dryrun_cache (desired_hash, resource_version, predicted, size, "
        "used)"
        " VALUES (?1, ?2, ?3, ?4, (SELECT coalesce(max(used), 0) + 1 FROM dryrun_cache))";
static const char sql_get[] =
        "SELECT predicted FROM dryrun_cache WHERE desired_hash = ?1 AND resource_version = ?2";
static const char sql_touch[] =
        "UPDATE dryrun_cache SET used = (SELECT coalesce(max(used), 0) + 1 FROM dryrun_cache)"
        " WHERE desired_hash = ?1 AND resource_version = ?2";
static const char sql_stats[] = "SELECT count(*), coalesce(sum(size), 0) FROM dryrun_cache";
static const char sql_evict[] =
        "DELETE FROM dryrun_cache WHERE rowid = (SELECT rowid FROM dryrun_cache ORDER BY used"
        " LIMIT 1)";
static const char sql_kv_set[] =
        "INSERT OR REPLACE INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3)";
static const char sql_kv_get[] = "SELECT value FROM kv WHERE key = ?1";
static const char sql_kv_delete[] = "DELETE FROM kv WHERE key = ?1";

int cairn_state_dryrun_limits(cairn_state *st, int64_t max_entries, int64_t max_bytes)
{
	if (max_entries < 1 || max_bytes < 1)
		return cairn_error_set(CAIRN_EINVAL, "dry-run cache bounds must be at least 1");
	st->dryrun_max_entries = max_entries;
	st->dryrun_max_bytes = max_bytes;
	return 0;
}

int cairn_state_dryrun_stats(int64_t *entries, int64_t *bytes, cairn_state *st)
{
	sqlite3_stmt *s;
	int rc = state__stmt(st, &s, sql_stats);

	if (rc != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = state__sqlerr(st, rc, "cannot count the dry-run cache");
		sqlite3_reset(s);
		return rc;
	}
	*entries = sqlite3_column_int64(s, 0);
	*bytes = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/* Drop least recently used entries until both bounds hold. */
static int evict(cairn_state *st)
{
	int64_t entries, bytes;
	sqlite3_stmt *s;
	int rc;

	for (;;) {
		rc = cairn_state_dryrun_stats(&entries, &bytes, st);
		if (rc != 0 || (entries <= st->dryrun_max_entries && bytes <= st->dryrun_max_bytes))
			return rc;
		rc = state__stmt(st, &s, sql_evict);
		if (rc != 0)
			return rc;
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return state__sqlerr(st, rc, "cannot evict from the dry-run cache");
	}
}

static int check_key(const char *desired_hash, const char *rv)
{
	int rc = state__check_text("desired object hash", desired_hash, CAIRN_STATE_NAME_MAX, 0);

	if (rc == 0)
		rc = state__check_text("resourceVersion", rv, CAIRN_STATE_NAME_MAX, 0);
	return rc;
}

int cairn_state_dryrun_put(cairn_state *st, const char *desired_hash, const char *resource_version,
                           const json_t *predicted)
{
	cairn_buf js = CAIRN_BUF_INIT(CAIRN_STATE_DRYRUN_ENTRY_MAX);
	sqlite3_stmt *s;
	int rc = check_key(desired_hash, resource_version);

	if (rc == 0 && predicted == NULL)
		rc = cairn_error_set(CAIRN_EINVAL, "predicted object is missing");
	if (rc == 0 && cairn_json_canonical(&js, predicted) != 0)
		rc = cairn_error_last()->code == CAIRN_ELIMIT
		             ? cairn_error_set(CAIRN_ELIMIT,
		                               "predicted object is larger than the %zu bytes the "
		                               "dry-run cache keeps",
		                               CAIRN_STATE_DRYRUN_ENTRY_MAX)
		             : cairn_error_prefix("cannot cache a dry run: ");
	if (rc == 0 && (int64_t)js.len > st->dryrun_max_bytes)
		rc = cairn_error_set(
		        CAIRN_ELIMIT,
		        "predicted object of %zu bytes is larger than the dry-run cache "
		        "bound of %lld bytes",
		        js.len, (long long)st->dryrun_max_bytes);
	if (rc == 0)
		rc = state__tx_begin(st);
	if (rc != 0)
		goto out;
	state__touch_flush(st, 1);
	rc = state__stmt(st, &s, sql_put);
	if (rc == 0) {
		state__bind_text(s, 1, desired_hash);
		state__bind_text(s, 2, resource_version);
		sqlite3_bind_text(s, 3, js.ptr, (int)js.len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)js.len);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		rc = rc == SQLITE_DONE ? 0 : state__sqlerr(st, rc, "cannot cache a dry run");
	}
	if (rc == 0)
		rc = evict(st);
	rc = state__tx_end(st, rc);
out:
	cairn_buf_dispose(&js);
	return rc;
}

void state__touch_flush(cairn_state *st, int in_unit)
{
	sqlite3_stmt *s;
	int rc = 0;

	if (st->ntouch == 0)
		return;
	if (!in_unit)
		rc = state__tx_begin(st);
	for (size_t i = 0; i < st->ntouch; i++) {
		if (rc == 0 && state__stmt(st, &s, sql_touch) == 0) {
			state__bind_text(s, 1, st->touch[i].hash);
			state__bind_text(s, 2, st->touch[i].rv);
			sqlite3_step(s);
			sqlite3_reset(s);
		}
		free(st->touch[i].hash);
		free(st->touch[i].rv);
	}
	st->ntouch = 0;
	if (!in_unit && rc == 0)
		state__tx_end(st, 0);
	cairn_error_clear();
}

/* Remember a hit; a full list is written first. Out of memory drops it. */
static void remember_hit(cairn_state *st, const char *hash, const char *rv)
{
	char *h, *r;

	if (st->ntouch == STATE_TOUCH_MAX)
		state__touch_flush(st, 0);
	h = strdup(hash);
	r = strdup(rv);
	if (h == NULL || r == NULL) {
		free(h);
		free(r);
		return;
	}
	st->touch[st->ntouch].hash = h;
	st->touch[st->ntouch].rv = r;
	st->ntouch++;
}

int cairn_state_dryrun_get(json_t **out, cairn_state *st, const char *desired_hash,
                           const char *resource_version)
{
	sqlite3_stmt *s;
	json_t *v = NULL;
	int rc = check_key(desired_hash, resource_version);

	if (rc == 0)
		rc = state__stmt(st, &s, sql_get);
	if (rc != 0)
		return rc;
	state__bind_text(s, 1, desired_hash);
	state__bind_text(s, 2, resource_version);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = state__column_json(st, &v, s, 0);
	else if (rc == SQLITE_DONE)
		rc = cairn_error_set(CAIRN_ENOTFOUND,
		                     "no cached dry run for '%s' at resourceVersion '%s'",
		                     desired_hash, resource_version);
	else
		rc = state__sqlerr(st, rc, "cannot read the dry-run cache");
	sqlite3_reset(s);
	if (rc != 0)
		return rc;
	if (!(st->flags & CAIRN_STATE_READONLY))
		remember_hit(st, desired_hash, resource_version);
	*out = v;
	return 0;
}

int cairn_state_kv_set(cairn_state *st, const char *key, const char *value)
{
	sqlite3_stmt *s;
	int rc = state__check_text("key", key, CAIRN_STATE_KV_KEY_MAX, 0);

	if (rc == 0 && value == NULL)
		rc = cairn_error_set(CAIRN_EINVAL, "value of key '%s' is missing", key);
	if (rc == 0 && strlen(value) > CAIRN_STATE_KV_VALUE_MAX)
		rc = cairn_error_set(CAIRN_ELIMIT, "value of key '%s' is longer than %zu bytes",
		                     key, CAIRN_STATE_KV_VALUE_MAX);
	if (rc == 0)
		rc = state__stmt(st, &s, sql_kv_set);
	if (rc != 0)
		return rc;
	state__bind_text(s, 1, key);
	state__bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, cairn_time_now());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : state__sqlerr(st, rc, "cannot set a key");
}

int cairn_state_kv_get(char **out, cairn_state *st, const char *key)
{
	sqlite3_stmt *s;
	char *v = NULL;
	int rc = state__check_text("key", key, CAIRN_STATE_KV_KEY_MAX, 0);

	if (rc == 0)
		rc = state__stmt(st, &s, sql_kv_get);
	if (rc != 0)
		return rc;
	state__bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		v = strdup((const char *)sqlite3_column_text(s, 0));
		rc = v ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "no key '%s' in state database '%s'", key,
		                     st->path);
	} else {
		rc = state__sqlerr(st, rc, "cannot read a key");
	}
	sqlite3_reset(s);
	if (rc == 0)
		*out = v;
	return rc;
}

int cairn_state_kv_delete(cairn_state *st, const char *key)
{
	sqlite3_stmt *s;
	int rc = state__check_text("key", key, CAIRN_STATE_KV_KEY_MAX, 0);

	if (rc == 0)
		rc = state__stmt(st, &s, sql_kv_delete);
	if (rc != 0)
		return rc;
	state__bind_text(s, 1, key);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot delete a key");
	if (sqlite3_changes(st->db) == 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "no key '%s' in state database '%s'", key,
		                       st->path);
	return 0;
}
