/*
 * driftd.h - cairnd's drift watcher (driftd.c, docs/daemon.md "Drift"):
 * one cairn_drift_watch() per cluster over the last deployed render of
 * each app synced there, restarted when that set changes.
 */
#ifndef CAIRN_DRIFTD_H
#define CAIRN_DRIFTD_H

#include "cairnd.h"

/*
 * Start the watcher of `d` (its manager thread; nothing is watched until a
 * reconcile hands an app over). The full comparison period is
 * $CAIRN_DRIFT_INTERVAL (a duration), default 3 minutes.
 * @return 0, CAIRN_ENOMEM, CAIRN_EINVAL (a bad $CAIRN_DRIFT_INTERVAL).
 * Not thread-safe against cairnd_drift_stop() of the same daemon.
 */
int cairnd_drift_start(cairnd *d);

/*
 * After a successful reconcile (worker.c): when `req`'s render is the one
 * the app's last successful sync deployed (the newest history entry in
 * `st`), watch its manifests from now on, in the mode `app` and `env`
 * (may be NULL) ask for. Nothing changes when that render, mode and
 * cluster are already watched. Otherwise an app left out by
 * cairnd_drift_reconciling() is watched again when the deployed render is
 * still the one it held, else no more. Everything is copied. Thread-safe.
 */
void cairnd_drift_reconciled(cairnd *d, const cairn_app *app, const cairn_env *env,
                             const cairn_sync_request *req, cairn_state *st);

/*
 * Before a reconcile (worker.c) that may sync (`mode`: not a compare, an
 * automated app or an explicit sync/rollback) another render than the one
 * watched for `app`: leave the app out of its cluster's detector, and wait
 * (5 s at most) until the detector runs without it, so that a detector in
 * correct mode never puts back the old render while the new one is
 * applied. cairnd_drift_reconciled() watches it again. Thread-safe.
 */
void cairnd_drift_reconciling(cairnd *d, const cairn_app *app, const cairn_env *env,
                              const cairn_sync_request *req, enum cairnd_mode mode);

/* After a reload (daemon.c): stop watching apps that are no longer defined. Thread-safe. */
void cairnd_drift_reload(cairnd *d);

/* Stop every detector (within about a second) and free the watcher; a no-op when none. */
void cairnd_drift_stop(cairnd *d);

#endif
