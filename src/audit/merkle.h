/*
 * merkle.h - the audit trail's Merkle tree (RFC 6962 / RFC 9162), the hash
 * store kept beside the log, and C2SP signed-note checkpoints.
 *
 * This is the contract between the log (log.c, verify.c, ...) and the tree
 * (merkle.c, tree.c, checkpoint.c). Hashes are raw 32-byte SHA-256 values.
 * All int-returning functions return 0 or a negative CAIRN_E* code with the
 * message in cairn_error_last(): CAIRN_ECORRUPT when a proof or signature does
 * not verify (or a store is damaged), CAIRN_EINVAL for bad arguments or
 * malformed text. Outputs are set only on success. The pure functions are
 * thread-safe; an audit_tree must not be used from two threads at once.
 * The definitions an auditor needs are in docs/audit-merkle.md.
 */
#ifndef CAIRN_AUDIT_MERKLE_H
#define CAIRN_AUDIT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"

#define AUDIT_HASH_LEN 32
#define AUDIT_PROOF_MAX 64

/*
 * RFC 6962 §2.1: leaf = SHA-256(0x00 || entry bytes),
 * node = SHA-256(0x01 || left || right).
 */
void audit__leaf_hash(uint8_t out[32], const void *entry, size_t len);
void audit__node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]);

/*
 * MTH of `n` leaf hashes held in memory (n == 0: SHA-256 of the empty
 * string). Reads `leaves` only; uses O(log n) stack.
 */
void audit__root_of(uint8_t out[32], const uint8_t (*leaves)[32], uint64_t n);

/*
 * Auditor side, no tree needed: RFC 9162 §2.1.3.2 (inclusion of the leaf
 * hash `leaf` at `index` in a tree of `size` leaves with root `root`) and
 * §2.1.4.2 (the tree of `new_size` leaves with `new_root` extends the one of
 * `old_size` leaves with `old_root`). 0 when the proof verifies,
 * CAIRN_ECORRUPT when it does not, CAIRN_EINVAL for impossible arguments
 * (index >= size, old_size > new_size, path_len > AUDIT_PROOF_MAX).
 */
int audit__inclusion_verify(const uint8_t leaf[32], uint64_t index, uint64_t size,
                            const uint8_t (*path)[32], size_t path_len, const uint8_t root[32]);
int audit__consistency_verify(uint64_t old_size, uint64_t new_size, const uint8_t old_root[32],
                              const uint8_t new_root[32], const uint8_t (*proof)[32],
                              size_t proof_len);

/*
 * The hash store kept beside the log: leaf hashes plus the roots of the
 * completed perfect subtrees, so that roots and proofs read O(log n) hashes.
 * It is derived data: the log is the truth, and the log engineer rebuilds the
 * store from the log when their sizes disagree.
 *
 * audit__tree_open: opens `path` (created when `writable` and missing; a
 * writable open takes no lock, the log's lock covers it). A damaged or short
 * store fails with CAIRN_ECORRUPT (rebuild it: unlink and re-create).
 * The caller owns *out and frees it with audit__tree_close (accepts NULL).
 * audit__tree_append is buffered; audit__tree_sync writes and fdatasyncs
 * (a failed sync makes the tree read-only: CAIRN_EREADONLY afterwards).
 * audit__tree_truncate keeps the first `size` leaves (durable on return).
 * Reads see appended leaves even before they are synced.
 */
typedef struct audit_tree audit_tree;
int audit__tree_open(audit_tree **out, const char *path, int writable);
void audit__tree_close(audit_tree *t);
uint64_t audit__tree_size(const audit_tree *t);
int audit__tree_append(audit_tree *t, const uint8_t leaf[32]);
int audit__tree_sync(audit_tree *t);
int audit__tree_truncate(audit_tree *t, uint64_t size);
int audit__tree_leaf(const audit_tree *t, uint64_t index, uint8_t out[32]);
/* Root of the first `size` leaves (size <= audit__tree_size). */
int audit__tree_root(const audit_tree *t, uint64_t size, uint8_t out[32]);
/* RFC 9162 §2.1.3.1 / §2.1.4.1 proofs, *out_len hashes written to out. */
int audit__tree_inclusion(const audit_tree *t, uint64_t index, uint64_t size,
                          uint8_t out[AUDIT_PROOF_MAX][32], size_t *out_len);
int audit__tree_consistency(const audit_tree *t, uint64_t old_size, uint64_t new_size,
                            uint8_t out[AUDIT_PROOF_MAX][32], size_t *out_len);

/*
 * Checkpoints: C2SP tlog-checkpoint body in a C2SP signed note.
 * body = origin "\n" decimal size "\n" base64(root) "\n"; then "\n"; then one
 * line per signature: "\u2014 " name " " base64(key_id[4] || ed25519_sig[64]) "\n"
 * (U+2014 EM DASH, bytes E2 80 94). key id = first 4 bytes of
 * SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 public key). The signature
 * is over the body bytes. Origins and key names: printable ASCII/UTF-8
 * without whitespace other than inner spaces in the origin, no '+' in key
 * names, no newlines - anything that could forge a line is refused.
 */
typedef struct audit_checkpoint {
	char origin[256];
	uint64_t size;
	uint8_t root[32];
} audit_checkpoint;
typedef struct audit_note_sig {
	char name[128];
	uint8_t key_id[4];
	uint8_t sig[64];
} audit_note_sig;

void audit__key_id(uint8_t out[4], const char *key_name, const uint8_t pub[32]);
/* sk is libsodium's 64-byte Ed25519 secret key. Appends the whole note to out. */
int audit__checkpoint_sign(cairn_buf *out, const audit_checkpoint *cp, const char *key_name,
                           const uint8_t sk[64]);
/*
 * Length of the first complete note at the start of text (body, blank line,
 * >= 1 signature lines), so a checkpoints file holding notes one after
 * another can be walked. CAIRN_EINVAL when text does not start with one.
 */
int audit__checkpoint_split(const char *text, size_t len, size_t *note_len);
/*
 * Parse one note (exactly `len` bytes); up to max_sigs signatures are
 * returned in sigs (may be NULL when max_sigs is 0), *nsigs says how many
 * the note carries in all. Extension lines after the root are accepted and
 * not returned.
 */
int audit__checkpoint_parse(audit_checkpoint *cp, audit_note_sig *sigs, size_t max_sigs,
                            size_t *nsigs, const char *text, size_t len);
/* 0 when the note carries a valid signature by (key_name, pub); CAIRN_ECORRUPT otherwise. */
int audit__checkpoint_verify(const char *text, size_t len, const char *key_name,
                             const uint8_t pub[32]);

/*
 * Benchmark hook for bench/bench_audit.c: builds a store of `n` synthetic
 * leaves at `path` (replacing it), then times `reps` inclusion proofs at
 * spread indices against the full size. Writes the mean microseconds per
 * proof and the longest proof length. 0 or a CAIRN_E* code.
 */
int audit__tree_bench_inclusion(const char *path, uint64_t n, unsigned reps, double *us_per_proof,
                                size_t *max_len);

#endif
