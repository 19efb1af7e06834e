/*
 * cairn/sched.h - cairnd's scheduler: one work queue of applications, a
 * fixed pool of worker threads, at most one reconcile per application at a
 * time, coalescing of repeated triggers, per-application polling with
 * jitter and back-off for failing applications. docs/daemon.md.
 *
 * The scheduler knows applications by name only; what a reconcile does is
 * the caller's function (cairnd's: fetch, render, sync; tests': a fake).
 * All functions are thread-safe (one mutex) unless said otherwise.
 */
#ifndef CAIRN_SCHED_H
#define CAIRN_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/daemon.h"
#include "cairn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default polling interval of an application (3 minutes). */
#define CAIRN_SCHED_POLL_MS_DEFAULT (3 * 60 * 1000)
/** Default first back-off after a failure, and its cap. */
#define CAIRN_SCHED_BACKOFF_MIN_MS_DEFAULT 5000
#define CAIRN_SCHED_BACKOFF_MAX_MS_DEFAULT (5 * 60 * 1000)
/** Most applications one scheduler tracks. */
#define CAIRN_SCHED_APPS_MAX 100000
/** Most workers. */
#define CAIRN_SCHED_WORKERS_MAX 256

/**
 * One reconcile of application `app`: `reason` says why it runs ("poll",
 * "push", "webhook", "api", ... the first trigger of a coalesced batch).
 * Runs on a worker thread, never twice at once for the same `app`.
 * Returns 0 on success, a negative CAIRN_E* code on failure (the app is
 * then backed off).
 */
typedef int (*cairn_sched_fn)(void *ud, const char *app, const char *reason);

#define CAIRN_SCHED_OPTS_VERSION 1

/** Scheduler options; zero fields take the default. */
typedef struct cairn_sched_opts {
	int version;            /**< CAIRN_SCHED_OPTS_VERSION */
	unsigned workers;       /**< 0: 2 x online CPUs */
	int64_t poll_ms;        /**< polling interval; 0: default; < 0: no polling */
	double jitter;          /**< +- fraction of poll_ms; 0: 0.1 */
	int64_t backoff_min_ms; /**< 0: default */
	int64_t backoff_max_ms; /**< 0: default */
	cairn_metrics *metrics; /**< registry for the queue metrics (borrowed), or NULL */
	cairn_sched_fn fn;      /**< required */
	void *ud;
} cairn_sched_opts;

#define CAIRN_SCHED_OPTS_INIT                                                                      \
	{                                                                                          \
		.version = CAIRN_SCHED_OPTS_VERSION                                                \
	}

typedef struct cairn_sched cairn_sched;

/** What cairn_sched_info() tells of one application. */
typedef struct cairn_sched_app_info {
	int queued;           /**< waiting in the queue */
	int running;          /**< a worker reconciles it now */
	int pending;          /**< triggered again while running: runs once more after */
	unsigned failures;    /**< consecutive failures (0 after a success) */
	uint64_t runs;        /**< reconciles done */
	uint64_t coalesced;   /**< triggers folded into an already queued/pending run */
	cairn_usec next_poll; /**< when the next poll is due (0: no polling) */
	cairn_usec retry_at;  /**< back-off: no poll before this (0: none) */
	int last_rc;          /**< the last reconcile's result */
} cairn_sched_app_info;

/**
 * Create a scheduler (not running: cairn_sched_start()). `opts` is copied.
 * @return 0, CAIRN_EINVAL (no fn, too many workers), CAIRN_ENOMEM.
 */
int cairn_sched_new(cairn_sched **out, const cairn_sched_opts *opts);

/**
 * Set the applications that exist (replacing the previous list, e.g. after a
 * reload): new ones get a first poll due at once (staggered by jitter when
 * `initial_poll` is 1, else one interval away); removed ones are no longer
 * polled nor triggerable, but a run in flight finishes. State (failures,
 * queue position) of the ones kept is kept.
 * @return 0, CAIRN_ELIMIT (over CAIRN_SCHED_APPS_MAX), CAIRN_ENOMEM.
 */
int cairn_sched_set_apps(cairn_sched *s, const char *const *names, size_t n, int initial_poll);

/**
 * Ask for a reconcile of `app` now. Coalesced: when the app is already
 * queued the trigger is folded in; when it is running it runs once more
 * afterwards (however many triggers came). An explicit trigger ignores the
 * back-off (a new commit may be the fix).
 * @return 0, CAIRN_ENOTFOUND (not a known app), CAIRN_EBUSY when the
 *         scheduler is stopping.
 */
int cairn_sched_trigger(cairn_sched *s, const char *app, const char *reason);

/** Start the workers and the timer thread. @return 0 or CAIRN_ERROR. */
int cairn_sched_start(cairn_sched *s);

/**
 * Stop taking work, drop what is queued, and wait up to `grace_ms` for the
 * reconciles in flight. @return 0 when every worker finished, CAIRN_ETIMEOUT
 * when some still run (the caller then exits without cairn_sched_free()).
 */
int cairn_sched_stop(cairn_sched *s, int64_t grace_ms);

/** 1 once cairn_sched_stop() was called (reconcile functions may check it). */
int cairn_sched_stopping(cairn_sched *s);

/** The state of `app`; CAIRN_ENOTFOUND when unknown. */
int cairn_sched_info(cairn_sched *s, const char *app, cairn_sched_app_info *out);

/** Queued items, running reconciles, and finished reconciles so far. */
void cairn_sched_counts(cairn_sched *s, size_t *queued, size_t *running, uint64_t *done);

/** Free a scheduler (stopping it with no grace first); accepts NULL. */
void cairn_sched_free(cairn_sched *s);

#ifdef __cplusplus
}
#endif
#endif
