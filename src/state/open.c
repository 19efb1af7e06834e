/*
 * open.c - opening and closing the state database, the statement cache,
 * SQLite error mapping and transactions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/error.h"
#include "state/state_private.h"

#define STATE_PATH_MAX 4096

int state__sqlerr(cairn_state *st, int rc, const char *what)
{
	const char *msg =
	        st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
	const char *path = st != NULL && st->path != NULL ? st->path : "?";
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = CAIRN_EBUSY;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = CAIRN_ECORRUPT;
		break;
	case SQLITE_NOMEM:
		code = CAIRN_ENOMEM;
		break;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
		code = CAIRN_EINVAL;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = CAIRN_EPERM;
		break;
	case SQLITE_TOOBIG:
		code = CAIRN_ELIMIT;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		code = CAIRN_EIO;
		break;
	default:
		code = CAIRN_ERROR;
		break;
	}
	return cairn_error_set(code, "%s in state database '%s': %s", what, path, msg);
}

/* Run SQL without results (pragmas, transaction control, migrations). */
static int exec_sql(cairn_state *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : state__sqlerr(st, rc, what);
}

/* The single integer a pragma returns (user_version, application_id). */
static int pragma_int(cairn_state *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = state__sqlerr(st, rc, "cannot read the schema");
		sqlite3_finalize(s);
		return rc;
	}
	*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

int state__stmt(cairn_state *st, sqlite3_stmt **out, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc;

	for (size_t i = 0; i < st->nstmts; i++) {
		if (st->stmts[i].sql == sql) {
			sqlite3_reset(st->stmts[i].stmt);
			sqlite3_clear_bindings(st->stmts[i].stmt);
			*out = st->stmts[i].stmt;
			return 0;
		}
	}
	if (st->nstmts == STATE_STMT_CACHE)
		return cairn_error_set(CAIRN_ELIMIT,
		                       "too many cached statements for state database '%s'",
		                       st->path);
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK)
		return state__sqlerr(st, rc, "cannot prepare a statement");
	st->stmts[st->nstmts].sql = sql;
	st->stmts[st->nstmts].stmt = s;
	st->nstmts++;
	*out = s;
	return 0;
}

int state__tx_begin(cairn_state *st)
{
	if (st->flags & CAIRN_STATE_READONLY)
		return cairn_error_set(CAIRN_EPERM, "state database '%s' is open read-only",
		                       st->path);
	if (st->in_tx)
		return exec_sql(st, "SAVEPOINT cairn_unit", "cannot start a write");
	return exec_sql(st, "BEGIN IMMEDIATE", "cannot start a write");
}

int state__tx_end(cairn_state *st, int rc)
{
	int crc;

	if (st->in_tx) {
		if (rc == 0)
			return exec_sql(st, "RELEASE cairn_unit", "cannot finish a write");
		sqlite3_exec(st->db, "ROLLBACK TO cairn_unit; RELEASE cairn_unit", NULL, NULL,
		             NULL);
		return rc;
	}
	if (rc != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	crc = exec_sql(st, "COMMIT", "cannot commit");
	if (crc != 0 && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return crc;
}

int cairn_state_begin(cairn_state *st)
{
	int rc;

	if (st->in_tx)
		return cairn_error_set(CAIRN_EINVAL,
		                       "a transaction is already open on state database '%s'",
		                       st->path);
	if (st->flags & CAIRN_STATE_READONLY)
		return cairn_error_set(CAIRN_EPERM, "state database '%s' is open read-only",
		                       st->path);
	rc = exec_sql(st, "BEGIN IMMEDIATE", "cannot start a transaction");
	if (rc == 0)
		st->in_tx = 1;
	return rc;
}

int cairn_state_commit(cairn_state *st)
{
	int rc;

	if (!st->in_tx)
		return cairn_error_set(CAIRN_EINVAL,
		                       "no transaction is open on state database '%s'", st->path);
	st->in_tx = 0;
	rc = exec_sql(st, "COMMIT", "cannot commit");
	if (rc != 0 && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int cairn_state_rollback(cairn_state *st)
{
	if (st == NULL || !st->in_tx)
		return 0;
	st->in_tx = 0;
	return exec_sql(st, "ROLLBACK", "cannot roll back");
}

int cairn_state_check(cairn_state *st)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL);
	const char *res;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = state__sqlerr(st, rc, "cannot check integrity");
		goto out;
	}
	res = (const char *)sqlite3_column_text(s, 0);
	if (res != NULL && strcmp(res, "ok") == 0)
		rc = 0;
	else
		rc = cairn_error_set(CAIRN_ECORRUPT,
		                     "state database '%s' failed its integrity check: %s", st->path,
		                     res ? res : "(no result)");
out:
	sqlite3_finalize(s);
	return rc;
}

/*
 * Bring the schema from its current version up to the last migration, one
 * transaction per step. BEGIN IMMEDIATE takes the write lock before the
 * version is read again, so two processes opening a fresh directory at once
 * do not both run a step: the second waits, then sees the new version.
 */
static int migrate(cairn_state *st, const struct state_migration *m, size_t n)
{
	char sql[96];
	int64_t cur;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (m[i].version != (int)i + 1)
			return cairn_error_set(CAIRN_EINVAL, "state migration %zu has version %d",
			                       i, m[i].version);
		if (m[i].version <= st->version)
			continue;
		rc = exec_sql(st, "BEGIN IMMEDIATE", "cannot start a migration");
		if (rc == 0)
			rc = pragma_int(st, "PRAGMA user_version", &cur);
		if (rc == 0 && cur < m[i].version) {
			rc = exec_sql(st, m[i].sql, "cannot migrate the schema");
			snprintf(sql, sizeof(sql),
			         "PRAGMA user_version = %d; PRAGMA application_id = %d",
			         m[i].version, CAIRN_STATE_APPLICATION_ID);
			if (rc == 0)
				rc = exec_sql(st, sql, "cannot migrate the schema");
		}
		if (rc != 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return cairn_error_prefix("migrating to schema version %d: ", m[i].version);
		}
		rc = exec_sql(st, "COMMIT", "cannot commit a migration");
		if (rc != 0)
			return rc;
		st->version = m[i].version;
	}
	return 0;
}

/* Identify the file, set the connection's pragmas, check the version. */
static int configure(cairn_state *st, size_t latest)
{
	int64_t appid, ver;
	char sql[96];
	int rc;

	sqlite3_busy_timeout(st->db, CAIRN_STATE_BUSY_TIMEOUT_MS);
	rc = pragma_int(st, "PRAGMA application_id", &appid);
	if (rc == 0)
		rc = pragma_int(st, "PRAGMA user_version", &ver);
	if (rc == CAIRN_ECORRUPT)
		return cairn_error_set(CAIRN_ECORRUPT, "'%s' is not an SQLite database", st->path);
	if (rc != 0)
		return rc;
	if (appid != 0 && appid != CAIRN_STATE_APPLICATION_ID)
		return cairn_error_set(CAIRN_ECORRUPT,
		                       "'%s' is not a cairn state database (application_id 0x%llx)",
		                       st->path, (unsigned long long)appid);
	if (ver > (int64_t)latest)
		return cairn_error_set(
		        CAIRN_EUNSUPPORTED,
		        "state database '%s' has schema version %lld, newer than the "
		        "version %zu this cairn knows: upgrade cairn or restore a backup",
		        st->path, (long long)ver, latest);
	/* Version 0 with tables is some other program's database: never add ours to it. */
	if (ver == 0 && rc == 0) {
		rc = pragma_int(st, "SELECT count(*) FROM sqlite_master", &appid);
		if (rc == 0 && appid > 0)
			return cairn_error_set(
			        CAIRN_ECORRUPT,
			        "'%s' is not a cairn state database (it has tables but no "
			        "schema version)",
			        st->path);
		if (rc != 0)
			return rc;
	}
	st->version = (int)ver;
	if (!(st->flags & CAIRN_STATE_READONLY)) {
		rc = exec_sql(st, "PRAGMA journal_mode = WAL", "cannot switch to WAL mode");
		if (rc != 0)
			return rc;
	} else if ((size_t)ver < latest) {
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "state database '%s' has schema version %lld and needs migrating "
		        "to %zu: open it read-write once",
		        st->path, (long long)ver, latest);
	}
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s; PRAGMA foreign_keys = ON",
	         (st->flags & CAIRN_STATE_SYNC_NORMAL) ? "NORMAL" : "FULL");
	return exec_sql(st, sql, "cannot configure the connection");
}

/* Make DIR (one level, 0700) when asked to; build DIR/state.db. */
static int make_path(char **out, const char *dir, int flags)
{
	size_t n;
	char *p;
	struct stat sb;

	if (dir == NULL || dir[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "state directory is empty");
	n = strlen(dir) + sizeof("/" CAIRN_STATE_DB_FILE);
	if (n > STATE_PATH_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "state directory path is longer than %d bytes",
		                       STATE_PATH_MAX);
	if ((flags & CAIRN_STATE_CREATE) && !(flags & CAIRN_STATE_READONLY) &&
	    mkdir(dir, 0700) != 0 && errno != EEXIST)
		return cairn_error_set_errno(errno, "cannot create state directory '%s'", dir);
	p = malloc(n);
	if (p == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	snprintf(p, n, "%s/%s", dir, CAIRN_STATE_DB_FILE);
	if (!(flags & CAIRN_STATE_CREATE) && stat(p, &sb) != 0) {
		int rc = errno == ENOENT ? cairn_error_set(CAIRN_ENOTFOUND,
		                                           "state database '%s' does not exist", p)
		                         : cairn_error_set_errno(errno, "cannot stat '%s'", p);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int state__open_with(cairn_state **out, const char *dir, int flags,
                     const struct state_migration *migrations, size_t nmigrations)
{
	cairn_state *st = calloc(1, sizeof(*st));
	int oflags = SQLITE_OPEN_NOMUTEX;
	int rc;

	if (st == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	st->flags = flags;
	st->dryrun_max_entries = CAIRN_STATE_DRYRUN_ENTRIES_DEFAULT;
	st->dryrun_max_bytes = CAIRN_STATE_DRYRUN_BYTES_DEFAULT;
	rc = make_path(&st->path, dir, flags);
	if (rc != 0)
		goto out;
	oflags |= (flags & CAIRN_STATE_READONLY) ? SQLITE_OPEN_READONLY
	                                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(st->path, &st->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		rc = state__sqlerr(st, rc, "cannot open");
		goto out;
	}
	rc = configure(st, nmigrations);
	if (rc == 0 && !(flags & CAIRN_STATE_READONLY))
		rc = migrate(st, migrations, nmigrations);
	if (rc == 0 && !(flags & CAIRN_STATE_READONLY))
		rc = state__recover(st, &st->interrupted);
out:
	if (rc != 0) {
		cairn_state_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int cairn_state_open(cairn_state **out, const char *dir, int flags)
{
	size_t n;
	const struct state_migration *m = state__migrations(&n);

	return state__open_with(out, dir, flags, m, n);
}

void cairn_state_close(cairn_state *st)
{
	if (st == NULL)
		return;
	if (st->in_tx && st->db != NULL) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->in_tx = 0;
	}
	if (st->db != NULL)
		state__touch_flush(st, 0);
	for (size_t i = 0; i < st->nstmts; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

const char *cairn_state_path(const cairn_state *st)
{
	return st->path;
}

int cairn_state_schema_version(const cairn_state *st)
{
	return st->version;
}

int cairn_state_interrupted(const cairn_state *st)
{
	return st->interrupted;
}
