/*
 * state_private.h - what the files of the state module share.
 */
#ifndef CAIRN_STATE_PRIVATE_H
#define CAIRN_STATE_PRIVATE_H

#include <sqlite3.h>

#include "cairn/buf.h"
#include "cairn/state.h"

/* Prepared statements are cached per handle, keyed by the address of their
 * SQL text (each SQL string is a static constant in its file). */
#define STATE_STMT_CACHE 64

/* Dry-run cache hits waiting to be written as recency updates (see cache.c). */
#define STATE_TOUCH_MAX 256

struct state_touch {
	char *hash;
	char *rv;
};

struct state_stmt {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct cairn_state {
	sqlite3 *db;
	char *path;
	int flags;
	int version;
	int interrupted;
	int in_tx; /* cairn_state_begin() was called */
	int64_t dryrun_max_entries;
	int64_t dryrun_max_bytes;
	struct state_stmt stmts[STATE_STMT_CACHE];
	size_t nstmts;
	struct state_touch touch[STATE_TOUCH_MAX];
	size_t ntouch;
};

/* One step of the schema: run `sql` to go from version-1 to `version`. */
struct state_migration {
	int version;
	const char *sql;
};

/* The migrations of this code, ordered; count in *n. */
const struct state_migration *state__migrations(size_t *n);

/*
 * Open with a given list of migrations (the tests add a synthetic v2 on
 * top of the real ones); cairn_state_open() passes state__migrations().
 */
int state__open_with(cairn_state **out, const char *dir, int flags,
                     const struct state_migration *migrations, size_t nmigrations);

/* Mark Running operations whose owning process is gone as interrupted. */
int state__recover(cairn_state *st, int *count);

/* This process's owner token: "<boot id>:<pid>:<start time>". */
int state__owner_token(char *out, size_t size, long pid);

/* The cached statement for `sql`, reset and with bindings cleared. */
int state__stmt(cairn_state *st, sqlite3_stmt **out, const char *sql);

/* Set the error from SQLite's: "<what> in state database '<path>': <msg>",
 * mapping the SQLite result code to a CAIRN_E* code, which is returned. */
int state__sqlerr(cairn_state *st, int rc, const char *what);

/* Start / end a write unit: BEGIN IMMEDIATE, or a savepoint when the caller
 * opened a transaction with cairn_state_begin(). state__tx_end commits when
 * rc is 0 and rolls back otherwise; it returns rc, or the commit's error. */
int state__tx_begin(cairn_state *st);
int state__tx_end(cairn_state *st, int rc);

/* Check a required (or, with optional set, NULL-able) text field's length. */
int state__check_text(const char *field, const char *v, size_t max, int optional);

/* Bind a text or NULL. */
int state__bind_text(sqlite3_stmt *s, int idx, const char *v);

/* Bind a JSON value as JCS text (NULL binds `dflt`, or SQL NULL when dflt is NULL). */
int state__bind_json(cairn_state *st, sqlite3_stmt *s, int idx, const json_t *v, const char *dflt,
                     cairn_buf *scratch);

/* Parse a JSON column (NULL column: *out NULL). */
int state__column_json(cairn_state *st, json_t **out, sqlite3_stmt *s, int col);

/*
 * Pack struct + strings into one allocation: `size` bytes of zeroed struct,
 * then the text of columns cols[i] copied after it, each one's address
 * stored in the `const char *` member at offset offs[i] (NULL for NULL
 * columns). Returns the block (free()) or NULL when out of memory.
 */
void *state__pack(size_t size, sqlite3_stmt *s, const int *cols, const size_t *offs, size_t n);

/* Write the pending dry-run cache recency updates (best effort: on failure
 * they are dropped, as a cache may forget recency). Joins an open unit when
 * in_unit is set, else runs its own transaction. */
void state__touch_flush(cairn_state *st, int in_unit);

/* Step a query returning rows into a growing pointer array via `row`. */
typedef int (*state_row_fn)(cairn_state *st, void **out, sqlite3_stmt *s);
int state__collect(cairn_state *st, void ***out, size_t *count, sqlite3_stmt *s, state_row_fn row,
                   void (*free_fn)(void *));

/* Run `sql` (one `?` bound to `id`) and read its one row with `row`;
 * CAIRN_ENOTFOUND "no <what> <id> in state database '<path>'" when none.
 * `what` names the record ("operation", "history entry", "drift"). */
int state__get_by_id(cairn_state *st, void **out, const char *sql, int64_t id, state_row_fn row,
                     const char *what);

#endif
