/*
 * cairn/state.h - the state store: one SQLite database in WAL mode.
 *
 * Files inside the state directory (docs/state.md has the schema):
 *   state.db        the database (the truth)
 *   state.db-wal    SQLite's write-ahead log (part of the database: back up
 *                   with `sqlite3 state.db ".backup FILE"`, never by copying
 *                   state.db alone)
 *   state.db-shm    SQLite's shared-memory index of the WAL (derived)
 *
 * What is kept: application status, operation records (every sync, rollback
 * and prune with its per-resource results), deployment history trimmed to a
 * revisionHistoryLimit, drift records, a bounded dry-run cache and a small
 * key/value table for daemon bookkeeping.
 *
 * Durability: every write is its own transaction (or part of one opened with
 * cairn_state_begin()); with the default synchronous=FULL a committed
 * transaction survives a kill -9 and a power loss. CAIRN_STATE_SYNC_NORMAL
 * keeps kill -9 safety but may lose the last commits on power loss.
 *
 * Threads and processes: a handle is one SQLite connection and must be used
 * by one thread at a time (one handle per thread). Any number of processes
 * and threads may open the same directory; writers wait for each other up to
 * the busy timeout (5 s), then fail with CAIRN_EBUSY. The directory must be
 * on a local file system (WAL needs shared memory).
 *
 * Errors: every int function returns 0 or a negative CAIRN_E* code and sets
 * cairn_error_last(); messages name the database path. Outputs are set only
 * on success. Times are cairn_usec (microseconds since the Unix epoch).
 */
#ifndef CAIRN_STATE_H
#define CAIRN_STATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the database file inside the state directory. */
#define CAIRN_STATE_DB_FILE "state.db"
/** The schema version this code writes (PRAGMA user_version). */
#define CAIRN_STATE_SCHEMA_VERSION 2
/** PRAGMA application_id of a Cairn state database ("CRNS"). */
#define CAIRN_STATE_APPLICATION_ID 0x43524e53
/** Busy timeout: how long a writer waits for another one. */
#define CAIRN_STATE_BUSY_TIMEOUT_MS 5000

/** Longest name, revision, hash, phase or other short text field (bytes). */
#define CAIRN_STATE_NAME_MAX 1024
/** Longest message field (bytes). */
#define CAIRN_STATE_MESSAGE_MAX 8192
/** Largest JSON document stored in one field (resources, paths, manifests). */
#define CAIRN_STATE_JSON_MAX ((size_t)64 << 20)
/** Longest key / value of the key/value table (bytes). */
#define CAIRN_STATE_KV_KEY_MAX 256
#define CAIRN_STATE_KV_VALUE_MAX ((size_t)64 << 10)
/** Default revisionHistoryLimit. */
#define CAIRN_STATE_HISTORY_DEFAULT 10
/** Default bounds of the dry-run cache. */
#define CAIRN_STATE_DRYRUN_ENTRIES_DEFAULT 20000
#define CAIRN_STATE_DRYRUN_BYTES_DEFAULT ((int64_t)256 << 20)
/** Largest single predicted object the dry-run cache keeps. */
#define CAIRN_STATE_DRYRUN_ENTRY_MAX ((size_t)4 << 20)

/** Flags of cairn_state_open(). */
enum {
	CAIRN_STATE_CREATE = 1 << 0,      /**< create the directory (0700) and database */
	CAIRN_STATE_READONLY = 1 << 1,    /**< no writes, no migration, no recovery */
	CAIRN_STATE_SYNC_NORMAL = 1 << 2, /**< synchronous=NORMAL (see the file comment) */
};

/** An open state database (one SQLite connection). Opaque. */
typedef struct cairn_state cairn_state;

/**
 * Open (and with CAIRN_STATE_CREATE create) DIR/state.db: WAL mode,
 * synchronous=FULL (or NORMAL), foreign keys on, busy timeout, then the
 * migrations up to CAIRN_STATE_SCHEMA_VERSION, each in its own transaction.
 * Read-write opens then mark every operation left Running by a process that
 * no longer exists as phase Error, message "interrupted" (see
 * cairn_state_interrupted()).
 * @param out    on success the handle; free with cairn_state_close().
 * @param dir    the state directory.
 * @param flags  CAIRN_STATE_* flags.
 * @return 0; CAIRN_ENOTFOUND (no database and no CAIRN_STATE_CREATE);
 *   CAIRN_EUNSUPPORTED (schema newer than this code); CAIRN_ECORRUPT (not a
 *   Cairn or not an SQLite database); CAIRN_EBUSY; CAIRN_EIO; CAIRN_EPERM;
 *   CAIRN_EINVAL (a read-only open of a database that needs migrating).
 * Thread-safe (distinct handles).
 */
int cairn_state_open(cairn_state **out, const char *dir, int flags);

/**
 * Close the handle: roll back a transaction left open, write pending
 * dry-run cache recency marks (best effort), finalise cached statements.
 * Accepts NULL.
 */
void cairn_state_close(cairn_state *st);

/** The database path (borrowed, valid while the handle is open). */
const char *cairn_state_path(const cairn_state *st);

/** The schema version of the open database. */
int cairn_state_schema_version(const cairn_state *st);

/** How many Running operations this open marked "interrupted". */
int cairn_state_interrupted(const cairn_state *st);

/**
 * Group writes into one transaction (BEGIN IMMEDIATE: takes the write lock
 * now, waiting up to the busy timeout). API calls made inside it join it.
 * Not nestable. cairn_state_commit() makes the writes durable;
 * cairn_state_rollback() drops them (accepts a handle with no transaction).
 * @return 0, CAIRN_EBUSY, CAIRN_EINVAL (already in one / not in one), CAIRN_EIO.
 */
int cairn_state_begin(cairn_state *st);
int cairn_state_commit(cairn_state *st);
int cairn_state_rollback(cairn_state *st);

/**
 * PRAGMA integrity_check. Returns 0 when it says "ok", CAIRN_ECORRUPT with
 * its first finding otherwise.
 */
int cairn_state_check(cairn_state *st);

/* ---- application status -------------------------------------------------- */

/**
 * The status of one application in one environment (env "" when unbound).
 * Strings are NULL when unset. Returned structs are one allocation: free
 * with cairn_state_app_free().
 */
typedef struct cairn_state_app {
	const char *app;
	const char *env;
	const char *sync_status; /**< Synced, OutOfSync, Unknown */
	const char *health;      /**< Healthy, Progressing, Degraded, ... */
	const char *revision;
	const char *render_hash;
	const char *message;
	cairn_usec updated_at;       /**< 0 on input: now */
	int paused;                  /**< automated sync paused (rollback pin) */
	int64_t pinned_history_id;   /**< 0: not pinned */
	const char *pinned_revision; /**< the tracked revision when pinned */
} cairn_state_app;

/**
 * Insert or replace the status of (app, env). app, env, sync_status and
 * health are required. Borrows `s`.
 * @return 0, CAIRN_EINVAL (missing or too long field), CAIRN_EBUSY, CAIRN_EIO.
 */
int cairn_state_app_put(cairn_state *st, const cairn_state_app *s);

/** Read the status of (app, env); CAIRN_ENOTFOUND when none. */
int cairn_state_app_get(cairn_state_app **out, cairn_state *st, const char *app, const char *env);

/**
 * All statuses, of one environment when `env` is not NULL, ordered by app
 * and env. `*out` is an array of `*count` pointers; free with
 * cairn_state_app_list_free(). An empty result is *out NULL, *count 0.
 */
int cairn_state_app_list(cairn_state_app ***out, size_t *count, cairn_state *st, const char *env);

/** Delete the status of (app, env); CAIRN_ENOTFOUND when none. */
int cairn_state_app_delete(cairn_state *st, const char *app, const char *env);

void cairn_state_app_free(cairn_state_app *s);
void cairn_state_app_list_free(cairn_state_app **v, size_t count);

/* ---- operations --------------------------------------------------------- */

/**
 * One operation (a sync, rollback or prune attempt). Returned structs own
 * `resources` (a JSON array of per-resource results, never NULL when
 * returned) and are freed with cairn_state_op_free().
 */
typedef struct cairn_state_op {
	int64_t id;
	const char *app;
	const char *env;
	const char *kind;         /**< sync, rollback, prune */
	const char *trigger_who;  /**< user, token name, "cairnd" */
	const char *trigger_what; /**< webhook, push, poll, cli, drift, ... */
	const char *revision;
	const char *render_hash;
	cairn_usec started_at;
	cairn_usec finished_at; /**< 0 while Running */
	const char *phase;      /**< Running, Succeeded, Failed, Error */
	const char *message;
	json_t *resources;
	int attempt; /**< 1 for the first try; retries count up */
} cairn_state_op;

/**
 * Record the start of an operation (phase Running). Reads app, env, kind,
 * trigger_who, trigger_what, revision, render_hash, started_at (0: now),
 * attempt (0 means 1) and resources (NULL: []); borrows `op`. The row names
 * this process as its owner, so that a later open finds it if the process
 * dies.
 * @param out_id  the new operation id.
 * @return 0, CAIRN_EINVAL, CAIRN_EBUSY, CAIRN_EIO.
 */
int cairn_state_op_start(int64_t *out_id, cairn_state *st, const cairn_state_op *op);

/**
 * Update the message and/or the per-resource results of a Running
 * operation (either may be NULL to keep it). Borrows `resources`.
 * @return 0, CAIRN_ENOTFOUND, CAIRN_EINVAL (not Running), ...
 */
int cairn_state_op_update(cairn_state *st, int64_t id, const char *message,
                          const json_t *resources);

/**
 * Finish a Running operation with phase Succeeded, Failed or Error at the
 * current time; `message` and `resources` may be NULL (kept).
 * @return 0, CAIRN_ENOTFOUND, CAIRN_EINVAL (bad phase, or not Running).
 */
int cairn_state_op_finish(cairn_state *st, int64_t id, const char *phase, const char *message,
                          const json_t *resources);

/** Read one operation; CAIRN_ENOTFOUND when none. */
int cairn_state_op_get(cairn_state_op **out, cairn_state *st, int64_t id);

/**
 * Operations of (app, env) newest first (app NULL: all apps; env NULL: all
 * environments), at most `limit` (0: no limit). Free the array with
 * cairn_state_op_list_free().
 */
int cairn_state_op_list(cairn_state_op ***out, size_t *count, cairn_state *st, const char *app,
                        const char *env, size_t limit);

void cairn_state_op_free(cairn_state_op *op);
void cairn_state_op_list_free(cairn_state_op **v, size_t count);

/* ---- history ------------------------------------------------------------ */

/**
 * One deployed revision. The manifest set is kept either inline
 * (`manifests`, stored as JCS bytes) or by location (`manifests_ref`, e.g.
 * a commit and path to re-render); at least one is needed. Returned structs
 * own `manifests` (NULL when not stored); free with cairn_state_history_free().
 */
typedef struct cairn_state_history {
	int64_t id;
	const char *app;
	const char *env;
	const char *revision;
	const char *render_hash;
	json_t *manifests;
	const char *manifests_ref;
	cairn_usec deployed_at; /**< 0 on input: now */
	int64_t operation_id;   /**< 0: none */
} cairn_state_history;

/**
 * Add a history entry and, in the same transaction, trim (app, env) to its
 * newest `limit` entries (<= 0: CAIRN_STATE_HISTORY_DEFAULT), never deleting
 * an entry an application is pinned to. Borrows `h`.
 * @return 0, CAIRN_EINVAL (missing field, unknown operation id), CAIRN_ELIMIT
 *   (manifests over CAIRN_STATE_JSON_MAX), CAIRN_EBUSY, CAIRN_EIO.
 */
int cairn_state_history_add(int64_t *out_id, cairn_state *st, const cairn_state_history *h,
                            int limit);

/** Read one entry; CAIRN_ENOTFOUND when none. */
int cairn_state_history_get(cairn_state_history **out, cairn_state *st, int64_t id);

/** Entries of (app, env) newest first, without their manifests (NULL). */
int cairn_state_history_list(cairn_state_history ***out, size_t *count, cairn_state *st,
                             const char *app, const char *env);

void cairn_state_history_free(cairn_state_history *h);
void cairn_state_history_list_free(cairn_state_history **v, size_t count);

/* ---- drift records -------------------------------------------------------- */

/**
 * One detected drift of one live object. `paths` is a JSON array of
 * {"path","old","new"} (Secret values already masked by the caller).
 * Returned structs own `paths`; free with cairn_state_drift_free().
 */
typedef struct cairn_state_drift {
	int64_t id;
	const char *app;
	const char *env;
	const char *group; /**< "" for the core group */
	const char *kind;
	const char *namespace_; /**< "" for cluster-scoped objects */
	const char *name;
	json_t *paths;
	const char *field_manager; /**< who made the change, NULL when unknown */
	const char *mode;          /**< detect or correct */
	cairn_usec changed_at;     /**< when the change was made (0: unknown) */
	cairn_usec seen_at;        /**< when it was detected (0 on input: now) */
	cairn_usec corrected_at;   /**< 0: not corrected */
	/* Derived on read, -1 when unknown: */
	int64_t time_to_detect_us;  /**< seen_at - changed_at */
	int64_t time_to_correct_us; /**< corrected_at - seen_at */
} cairn_state_drift;

/** Record a drift; borrows `d`. CAIRN_EINVAL on a missing field or bad mode. */
int cairn_state_drift_add(int64_t *out_id, cairn_state *st, const cairn_state_drift *d);

/**
 * Mark a drift corrected at `when` (0: now). CAIRN_ENOTFOUND when no such
 * record, CAIRN_EINVAL when it was already corrected.
 */
int cairn_state_drift_corrected(cairn_state *st, int64_t id, cairn_usec when);

/** Read one record; CAIRN_ENOTFOUND when none. */
int cairn_state_drift_get(cairn_state_drift **out, cairn_state *st, int64_t id);

/** Records newest first (app/env NULL: all), at most `limit` (0: all). */
int cairn_state_drift_list(cairn_state_drift ***out, size_t *count, cairn_state *st,
                           const char *app, const char *env, size_t limit);

void cairn_state_drift_free(cairn_state_drift *d);
void cairn_state_drift_list_free(cairn_state_drift **v, size_t count);

/* ---- dry-run cache ----------------------------------------------------------- */

/**
 * Bounds of the dry-run cache (per database, shared by all handles that
 * write to it). Entries beyond either bound are evicted least recently used
 * first, in the transaction that inserts. Defaults:
 * CAIRN_STATE_DRYRUN_ENTRIES_DEFAULT and CAIRN_STATE_DRYRUN_BYTES_DEFAULT.
 * @return 0, CAIRN_EINVAL (a bound < 1).
 */
int cairn_state_dryrun_limits(cairn_state *st, int64_t max_entries, int64_t max_bytes);

/**
 * Cache the server-side-apply dry-run result `predicted` (stored as JCS
 * bytes; borrowed) for the desired object whose hash is `desired_hash`
 * applied over the live object at `resource_version`.
 * @return 0, CAIRN_ELIMIT (predicted larger than CAIRN_STATE_DRYRUN_ENTRY_MAX
 *   or the byte bound), CAIRN_EINVAL, CAIRN_EBUSY, CAIRN_EIO.
 */
int cairn_state_dryrun_put(cairn_state *st, const char *desired_hash, const char *resource_version,
                           const json_t *predicted);

/**
 * Look up a cached result and mark it recently used. The mark costs no
 * commit: it is kept in the handle and written with the next put, every
 * 256 hits, or at close. On success the caller owns *out (json_decref).
 * CAIRN_ENOTFOUND on a miss.
 */
int cairn_state_dryrun_get(json_t **out, cairn_state *st, const char *desired_hash,
                           const char *resource_version);

/** Entries and bytes currently cached. */
int cairn_state_dryrun_stats(int64_t *entries, int64_t *bytes, cairn_state *st);

/* ---- key/value ------------------------------------------------------------------ */

/** Set `key` to `value` (text). CAIRN_ELIMIT beyond the KV bounds. */
int cairn_state_kv_set(cairn_state *st, const char *key, const char *value);

/** Get the value of `key` (malloc'd, caller frees); CAIRN_ENOTFOUND when unset. */
int cairn_state_kv_get(char **out, cairn_state *st, const char *key);

/** Delete `key`; CAIRN_ENOTFOUND when unset. */
int cairn_state_kv_delete(cairn_state *st, const char *key);

/* ---- rollouts (issue 11, docs/rollout.md) ------------------------------------------ */

/**
 * The persisted state machine of one rollout: one row per (app, env, name),
 * `name` being the Rollout object's name. The typed columns are what lists
 * and the CLI show; `status` is the engine's own record (the Rollout object
 * it runs, the step's intent and whether it is done, analysis runs, ...),
 * opaque to the state module. Strings are NULL when unset. Returned structs
 * are one allocation plus `status`: free with cairn_state_rollout_free().
 */
typedef struct cairn_state_rollout {
	int64_t id;
	const char *app;
	const char *env;        /**< "" when unbound */
	const char *name;       /**< the Rollout's metadata.name */
	const char *namespace_; /**< the Rollout's namespace */
	const char *strategy;   /**< "canary" or "blueGreen" */
	const char *phase;      /**< Progressing, Paused, Healthy, Degraded, ... (Argo's names) */
	const char *revision;   /**< git revision being rolled out (the canary's) */
	const char *stable_hash;
	const char *canary_hash; /**< NULL or equal to stable_hash when nothing is rolling out */
	int step;                /**< current canary step index, -1 when none */
	int weight;              /**< canary weight in effect (0..100) */
	const char *message;
	/**
	 * The operator's pending request (promote, promote-full, pause, resume,
	 * abort, retry), or NULL. Output only: cairn_state_rollout_put() never
	 * writes it, so a request made while the engine runs is not lost; it is
	 * set by cairn_state_rollout_request() and consumed by
	 * cairn_state_rollout_take_request().
	 */
	const char *request;
	/**
	 * The revision marked failed for this environment after an automatic
	 * rollback (automated sync does not re-attempt it until a newer commit
	 * or a retry), and why; NULL when none.
	 */
	const char *failed_revision;
	const char *failed_reason;
	json_t *status;        /**< the engine's record (borrowed on input, owned on output) */
	cairn_usec started_at; /**< when the current rollout started (0 on input: now) */
	cairn_usec updated_at; /**< 0 on input: now */
	cairn_usec next_at;    /**< when the engine wants to run again (0: only on change) */
} cairn_state_rollout;

/**
 * Insert or replace the row of (app, env, name), in one transaction (the
 * engine writes an intent, then its completion, each as one put). Every
 * column but `request` is written. Borrows `r`.
 * @param out_id  the row id (may be NULL)
 * @return 0, CAIRN_EINVAL (missing app/name/strategy/phase, or too long),
 *         CAIRN_EBUSY, CAIRN_EIO.
 */
int cairn_state_rollout_put(int64_t *out_id, cairn_state *st, const cairn_state_rollout *r);

/** Read the row of (app, env, name); CAIRN_ENOTFOUND when none. */
int cairn_state_rollout_get(cairn_state_rollout **out, cairn_state *st, const char *app,
                            const char *env, const char *name);

/**
 * Rows of one app and/or env (NULL: any), ordered by app, env, name. Free
 * with cairn_state_rollout_list_free(). An empty result is *out NULL, *count 0.
 */
int cairn_state_rollout_list(cairn_state_rollout ***out, size_t *count, cairn_state *st,
                             const char *app, const char *env);

/**
 * Rows whose next_at is set and at or before `until`, soonest first (the
 * daemon's rollout timers after a restart).
 */
int cairn_state_rollout_due(cairn_state_rollout ***out, size_t *count, cairn_state *st,
                            cairn_usec until);

/**
 * Set (or clear, with NULL) the pending request of (app, env, name). A new
 * request replaces an unconsumed one.
 * @return 0, CAIRN_ENOTFOUND (no such rollout), CAIRN_EINVAL (unknown request)
 */
int cairn_state_rollout_request(cairn_state *st, const char *app, const char *env, const char *name,
                                const char *request);

/**
 * Read and clear the pending request atomically. *out is a malloc'd string,
 * or NULL when none is pending.
 */
int cairn_state_rollout_take_request(char **out, cairn_state *st, const char *app, const char *env,
                                     const char *name);

/** Delete the row of (app, env, name) and its events; CAIRN_ENOTFOUND when none. */
int cairn_state_rollout_delete(cairn_state *st, const char *app, const char *env, const char *name);

void cairn_state_rollout_free(cairn_state_rollout *r);
void cairn_state_rollout_list_free(cairn_state_rollout **v, size_t count);

/**
 * One event of a rollout: a step, a weight change, a selector switch, a
 * scale, an analysis measurement, a promotion, an abort, a rollback, an
 * operator request. `data` is the event's JSON object.
 */
typedef struct cairn_state_rollout_event {
	int64_t id;
	int64_t rollout_id;
	cairn_usec at;
	const char *
	        kind; /**< "step", "weight", "switch", "scale", "measurement", "promote", "abort", ... */
	json_t *data;
} cairn_state_rollout_event;

/** Append an event (`at` 0: now). Borrows `data`. Keeps the newest 1,000 per rollout. */
int cairn_state_rollout_event_add(int64_t *out_id, cairn_state *st, int64_t rollout_id,
                                  const char *kind, const json_t *data, cairn_usec at);

/**
 * Events of a rollout with id > `after_id`, oldest first, at most `limit`
 * (0: all). Free with cairn_state_rollout_event_list_free().
 */
int cairn_state_rollout_events(cairn_state_rollout_event ***out, size_t *count, cairn_state *st,
                               int64_t rollout_id, int64_t after_id, size_t limit);

void cairn_state_rollout_event_list_free(cairn_state_rollout_event **v, size_t count);

#ifdef __cplusplus
}
#endif
#endif
