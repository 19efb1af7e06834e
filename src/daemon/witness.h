/*
 * witness.h - cairnd's audit witness (docs/daemon.md "Witness"): signed
 * checkpoints of the audit log mirrored as commits on a git ref
 * (`audit.witness` in cairn.yaml) of a local repository the daemon does not
 * otherwise touch. Private to src/daemon.
 */
#ifndef CAIRN_DAEMON_WITNESS_H
#define CAIRN_DAEMON_WITNESS_H

#include <stdint.h>

#include "cairnd.h"

/**
 * Start the witness of `d` when its cairn.yaml has `audit.witness`: open
 * the repository (it must exist: a missing one is an error naming the
 * key), read the checkpoint the ref holds, register the metrics and start
 * the thread that checkpoints at the configured cadence. A no-op (0) when
 * no witness is configured. Needs d->audit (audit.key) and d->metrics.
 * @return 0, CAIRN_ENOTFOUND (no such repository), CAIRN_EINVAL (no audit
 *         key, bad ref), CAIRN_ENOMEM.
 * Not thread-safe against cairnd_witness_close() of the same daemon.
 */
int cairnd_witness_open(cairnd *d);

/**
 * Stop the witness thread of `d`, write a final checkpoint and mirror it
 * (a failure is logged and counted, never returned), and free everything.
 * Call before the audit log is closed; a no-op when none was opened.
 */
void cairnd_witness_close(cairnd *d);

#endif
