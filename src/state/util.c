/*
 * util.c - binding, reading and packing helpers shared by the state files.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "state/state_private.h"

int state__check_text(const char *field, const char *v, size_t max, int optional)
{
	if (v == NULL)
		return optional ? 0 : cairn_error_set(CAIRN_EINVAL, "%s is missing", field);
	if (strlen(v) > max)
		return cairn_error_set(CAIRN_EINVAL, "%s is longer than %zu bytes", field, max);
	return 0;
}

int state__bind_text(sqlite3_stmt *s, int idx, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, idx);
	return sqlite3_bind_text(s, idx, v, -1, SQLITE_STATIC);
}

/*
 * JSON goes in as JCS text through a scratch buffer the caller keeps alive
 * until the statement has run (the binding is SQLITE_STATIC).
 */
int state__bind_json(cairn_state *st, sqlite3_stmt *s, int idx, const json_t *v, const char *dflt,
                     cairn_buf *scratch)
{
	int rc;

	(void)st;
	if (v == NULL) {
		state__bind_text(s, idx, dflt);
		return 0;
	}
	cairn_buf_reset(scratch);
	rc = cairn_json_canonical(scratch, v);
	if (rc != 0)
		return cairn_error_prefix("cannot store JSON: ");
	sqlite3_bind_text(s, idx, scratch->ptr, (int)scratch->len, SQLITE_STATIC);
	return 0;
}

int state__column_json(cairn_state *st, json_t **out, sqlite3_stmt *s, int col)
{
	const char *text = (const char *)sqlite3_column_text(s, col);
	int n = sqlite3_column_bytes(s, col);

	if (text == NULL) {
		*out = NULL;
		return 0;
	}
	if (cairn_json_parse(out, text, (size_t)n, NULL) != 0)
		return cairn_error_set(CAIRN_ECORRUPT,
		                       "stored JSON is not valid in state database '%s': %s",
		                       st->path, cairn_error_last()->message);
	return 0;
}

void *state__pack(size_t size, sqlite3_stmt *s, const int *cols, const size_t *offs, size_t n)
{
	size_t total = size;
	char *block, *pool;

	for (size_t i = 0; i < n; i++) {
		if (sqlite3_column_type(s, cols[i]) != SQLITE_NULL)
			total += (size_t)sqlite3_column_bytes(s, cols[i]) + 1;
	}
	block = calloc(1, total);
	if (block == NULL)
		return NULL;
	pool = block + size;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *t;
		size_t len;

		if (sqlite3_column_type(s, cols[i]) == SQLITE_NULL)
			continue;
		t = sqlite3_column_text(s, cols[i]);
		len = (size_t)sqlite3_column_bytes(s, cols[i]);
		if (t == NULL) {
			free(block);
			return NULL;
		}
		memcpy(pool, t, len);
		pool[len] = '\0';
		memcpy(block + offs[i], &pool, sizeof(pool));
		pool += len + 1;
	}
	return block;
}

/*
 * Step `s` to its end, turning each row into an item with `row`. The array
 * grows by doubling; on any failure everything built so far is freed and
 * the outputs stay untouched.
 */
int state__collect(cairn_state *st, void ***out, size_t *count, sqlite3_stmt *s, state_row_fn row,
                   void (*free_fn)(void *))
{
	void **v = NULL, **nv;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
		}
		rc = row(st, &v[n], s);
		if (rc != 0)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		rc = state__sqlerr(st, rc, "cannot list records");
		goto out;
	}
	rc = 0;
out:
	sqlite3_reset(s);
	if (rc != 0) {
		for (size_t i = 0; i < n; i++)
			free_fn(v[i]);
		free(v);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}

int state__get_by_id(cairn_state *st, void **out, const char *sql, int64_t id, state_row_fn row,
                     const char *what)
{
	sqlite3_stmt *s;
	void *v = NULL;
	char msg[96];
	int rc = state__stmt(st, &s, sql);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		rc = row(st, &v, s);
	} else if (rc == SQLITE_DONE) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "no %s %lld in state database '%s'", what,
		                     (long long)id, st->path);
	} else {
		snprintf(msg, sizeof(msg), "cannot read %s %lld", what, (long long)id);
		rc = state__sqlerr(st, rc, msg);
	}
	sqlite3_reset(s);
	if (rc == 0)
		*out = v;
	return rc;
}
