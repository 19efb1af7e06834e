/*
 * migrate.c - the schema, as an ordered list of migrations.
 *
 * A migration is appended, never edited once released: a database at
 * version N runs migrations N+1.. in order, each in its own transaction
 * together with the PRAGMA user_version bump (see migrate() in open.c).
 * Raise CAIRN_STATE_SCHEMA_VERSION in state.h with each new step.
 *
 * Times are INTEGER microseconds since the Unix epoch (cairn_usec). JSON
 * columns hold RFC 8785 (JCS) text, so their bytes are stable and hashable.
 */
#include "state/state_private.h"

/* Version 1: status, operations, history, drift, dry-run cache, key/value. */
static const char v1[] =
        "CREATE TABLE app_status ("
        " app TEXT NOT NULL,"
        " env TEXT NOT NULL,"
        " sync_status TEXT NOT NULL,"
        " health TEXT NOT NULL,"
        " revision TEXT,"
        " render_hash TEXT,"
        " message TEXT,"
        " updated_at INTEGER NOT NULL,"
        " paused INTEGER NOT NULL DEFAULT 0,"
        " pinned_history_id INTEGER,"
        " pinned_revision TEXT,"
        " PRIMARY KEY (app, env));"
        "CREATE TABLE operations ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " app TEXT NOT NULL,"
        " env TEXT NOT NULL,"
        " kind TEXT NOT NULL CHECK (kind IN ('sync', 'rollback', 'prune')),"
        " trigger_who TEXT,"
        " trigger_what TEXT,"
        " revision TEXT,"
        " render_hash TEXT,"
        " started_at INTEGER NOT NULL,"
        " finished_at INTEGER,"
        " phase TEXT NOT NULL"
        "  CHECK (phase IN ('Running', 'Succeeded', 'Failed', 'Error')),"
        " message TEXT,"
        " resources TEXT NOT NULL DEFAULT '[]',"
        " attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),"
        " owner TEXT);"
        "CREATE INDEX operations_by_app ON operations (app, env, id);"
        "CREATE INDEX operations_running ON operations (phase) WHERE phase = 'Running';"
        "CREATE TABLE history ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " app TEXT NOT NULL,"
        " env TEXT NOT NULL,"
        " revision TEXT NOT NULL,"
        " render_hash TEXT,"
        " manifests TEXT,"
        " manifests_ref TEXT,"
        " deployed_at INTEGER NOT NULL,"
        " operation_id INTEGER REFERENCES operations (id) ON DELETE SET NULL,"
        " CHECK (manifests IS NOT NULL OR manifests_ref IS NOT NULL));"
        "CREATE INDEX history_by_app ON history (app, env, id);"
        "CREATE TABLE drift ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " app TEXT NOT NULL,"
        " env TEXT NOT NULL,"
        " obj_group TEXT NOT NULL,"
        " obj_kind TEXT NOT NULL,"
        " obj_namespace TEXT NOT NULL,"
        " obj_name TEXT NOT NULL,"
        " paths TEXT NOT NULL,"
        " field_manager TEXT,"
        " mode TEXT NOT NULL CHECK (mode IN ('detect', 'correct')),"
        " changed_at INTEGER,"
        " seen_at INTEGER NOT NULL,"
        " corrected_at INTEGER);"
        "CREATE INDEX drift_by_app ON drift (app, env, id);"
        "CREATE TABLE dryrun_cache ("
        " desired_hash TEXT NOT NULL,"
        " resource_version TEXT NOT NULL,"
        " predicted TEXT NOT NULL,"
        " size INTEGER NOT NULL,"
        " used INTEGER NOT NULL,"
        " PRIMARY KEY (desired_hash, resource_version));"
        "CREATE INDEX dryrun_by_use ON dryrun_cache (used);"
        "CREATE TABLE kv ("
        " key TEXT PRIMARY KEY,"
        " value TEXT NOT NULL,"
        " updated_at INTEGER NOT NULL);";

/*
 * Version 2 (reserved): rollout state machines (issue 11), one row per
 * active rollout of (app, env, workload) with its strategy step, weights,
 * analysis runs and the time its current step started, so that a restarted
 * daemon resumes at the step it was on. Append it here as { 2, v2 }.
 */
static const struct state_migration migrations[] = {
        {1, v1},
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == CAIRN_STATE_SCHEMA_VERSION,
               "CAIRN_STATE_SCHEMA_VERSION must be the number of migrations");

const struct state_migration *state__migrations(size_t *n)
{
	*n = sizeof(migrations) / sizeof(migrations[0]);
	return migrations;
}
