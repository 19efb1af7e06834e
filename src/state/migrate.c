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
 * Version 2: rollout state machines (issue 11), one row per (app, env,
 * Rollout name) with the columns lists show and the engine's own record
 * in `status`, and their event log (steps, measurements, decisions),
 * trimmed per rollout by the insert that adds an event. `request` is the
 * operator's pending request, which the engine consumes. Strategy and
 * request names are checked in rollout.c, not here, so that a later
 * strategy needs no table rebuild.
 */
static const char v2[] =
        "CREATE TABLE rollouts ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " app TEXT NOT NULL,"
        " env TEXT NOT NULL,"
        " name TEXT NOT NULL,"
        " namespace TEXT,"
        " strategy TEXT NOT NULL,"
        " phase TEXT NOT NULL,"
        " revision TEXT,"
        " stable_hash TEXT,"
        " canary_hash TEXT,"
        " step INTEGER NOT NULL DEFAULT -1,"
        " weight INTEGER NOT NULL DEFAULT 0 CHECK (weight BETWEEN 0 AND 100),"
        " message TEXT,"
        " request TEXT,"
        " failed_revision TEXT,"
        " failed_reason TEXT,"
        " status TEXT,"
        " started_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL,"
        " next_at INTEGER,"
        " UNIQUE (app, env, name));"
        "CREATE INDEX rollouts_next ON rollouts (next_at) WHERE next_at IS NOT NULL;"
        "CREATE TABLE rollout_events ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " rollout_id INTEGER NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,"
        " at INTEGER NOT NULL,"
        " kind TEXT NOT NULL,"
        " data TEXT NOT NULL DEFAULT '{}');"
        "CREATE INDEX rollout_events_by_rollout ON rollout_events (rollout_id, id);";

static const struct state_migration migrations[] = {
        {1, v1},
        {2, v2},
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == CAIRN_STATE_SCHEMA_VERSION,
               "CAIRN_STATE_SCHEMA_VERSION must be the number of migrations");

const struct state_migration *state__migrations(size_t *n)
{
	*n = sizeof(migrations) / sizeof(migrations[0]);
	return migrations;
}
