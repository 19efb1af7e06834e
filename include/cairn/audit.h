/*
 * cairn/audit.h - the signed, hash-chained, append-only audit trail.
 *
 * Files under the state directory (see cairn_audit_state_dir()):
 *   audit.log          JSON lines, one entry per line (the truth)
 *   audit.checkpoints  C2SP signed notes (tree size + Merkle root), one after another
 *   audit.tree         the Merkle hash store (derived; rebuilt from the log when stale)
 *   audit.lock         flock()ed by the single writer
 *   audit.hmac-key     32 random bytes (mode 0600) keying the redaction HMAC
 *
 * An entry is the RFC 8785 (JCS) canonical JSON object
 *   {"action","actor","details","key","prev","seq","sig","subject","time"}
 * where subject = {"app","env","revision","renderHash","objects"} (members
 * left out when not given), details is free JSON ({} when not given), key is
 * the signing key's name, prev is the lower-case hex SHA-256 of the previous
 * entry's leaf bytes (64 zeros for seq 0), sig is base64 Ed25519.
 *   signed message = JCS(entry without "sig")
 *   leaf bytes     = JCS(entry with "sig") = the line in audit.log WITHOUT its "\n"
 *   Merkle leaf    = SHA-256(0x00 || leaf bytes)
 * docs/audit-format.md has every byte an auditor needs.
 *
 * Errors: every int function returns 0 or a negative CAIRN_E* code with the
 * message in cairn_error_last(); outputs are set only on success unless a
 * comment says otherwise.
 */
#ifndef CAIRN_AUDIT_H
#define CAIRN_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"
#include "cairn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** File names inside the state directory. */
#define CAIRN_AUDIT_LOG_FILE "audit.log"
#define CAIRN_AUDIT_CHECKPOINTS_FILE "audit.checkpoints"
#define CAIRN_AUDIT_TREE_FILE "audit.tree"
#define CAIRN_AUDIT_LOCK_FILE "audit.lock"
#define CAIRN_AUDIT_HMAC_KEY_FILE "audit.hmac-key"

/** Longest key name (bytes, no NUL); names are printable ASCII without '+' or spaces. */
#define CAIRN_AUDIT_KEY_NAME_MAX 127
/** Longest actor / action / subject string (bytes). */
#define CAIRN_AUDIT_FIELD_MAX 512
/** Longest line (entry) in audit.log; longer entries are refused. */
#define CAIRN_AUDIT_LINE_MAX ((size_t)1 << 20)
/** Most hashes in a proof. */
#define CAIRN_AUDIT_PROOF_MAX 64
/** "hmac-sha256:" + 64 hex digits + NUL. */
#define CAIRN_AUDIT_REDACTED_LEN 77
/** Prefix of every redacted value. */
#define CAIRN_AUDIT_REDACTED_PREFIX "hmac-sha256:"

/* ---- state directory and minimal configuration --------------------------- */

/**
 * Resolve the state directory: `flag` when not NULL, else $CAIRN_STATE_DIR,
 * else /var/lib/cairn when running as root, else $XDG_STATE_HOME/cairn,
 * else $HOME/.local/state/cairn. Does not create it.
 * @param out  on success a malloc'd path the caller frees.
 * @return 0, CAIRN_EINVAL (no HOME to fall back on) or CAIRN_ENOMEM. Thread-safe.
 */
int cairn_audit_state_dir(char **out, const char *flag);

typedef enum cairn_audit_sync_mode {
	CAIRN_AUDIT_SYNC_BATCH = 0, /**< group commit: one fdatasync per batch (default) */
	CAIRN_AUDIT_SYNC_ENTRY = 1, /**< one write + fdatasync per entry */
} cairn_audit_sync_mode;

/**
 * The minimal configuration read from a cairn.yaml until the engine config
 * module exists. Every string is malloc'd and owned by the struct (NULL when
 * not set); free with cairn_audit_config_dispose().
 */
typedef struct cairn_audit_config {
	char *state_dir;             /**< `stateDir` */
	char *key_file;              /**< `audit.key`: signer key file */
	char *trusted_key;           /**< `audit.trustedKey`: verifier key text or file */
	char *actor;                 /**< `audit.actor` */
	char *origin;                /**< `audit.origin` */
	uint64_t checkpoint_every;   /**< `audit.checkpointEvery`; default 1000 */
	int64_t checkpoint_interval; /**< `audit.checkpointInterval` in ns; default 1m */
	cairn_audit_sync_mode sync;  /**< `audit.sync`: "batch" (default) or "entry" */
	/** `audit.witness.repository`: a local git repository (file:// stripped, a relative
	    path made absolute against the config file's directory); NULL: no witness */
	char *witness_repository;
	char *witness_ref;        /**< `audit.witness.ref`; "refs/cairn/audit" when a
	                                repository is set */
	uint64_t witness_every;   /**< `audit.witness.every` as an entry count, else 0 */
	int64_t witness_interval; /**< `audit.witness.every` as a duration in ns (default 1m
	                                when a repository is set and no count is given), else 0 */
} cairn_audit_config;

/**
 * Load the configuration from `path`, or from $CAIRN_CONFIG when `path` is
 * NULL; when neither is set, `out` gets the defaults and 0 is returned.
 * Unknown keys under `audit` are errors naming file, line and key.
 * @param out  filled on success; dispose with cairn_audit_config_dispose().
 * @return 0, CAIRN_ENOTFOUND (file missing), CAIRN_EINVAL (bad YAML or value).
 */
int cairn_audit_config_load(cairn_audit_config *out, const char *path);
/** Free the strings of a config; accepts NULL and a zeroed struct. */
void cairn_audit_config_dispose(cairn_audit_config *cfg);

/**
 * The actor for a CLI write: `configured` when not NULL/empty, else
 * "user:$USER (unverified)" (or "user:unknown (unverified)").
 * Writes a NUL-terminated string into out (size >= 64 recommended, cut to fit).
 */
void cairn_audit_default_actor(char *out, size_t size, const char *configured);

/* ---- keys (C2SP signed-note key formats) -------------------------------- */

/**
 * A public (verifier) key: text form
 *   <name>+<8 hex digits key id>+<base64(0x01 || 32-byte Ed25519 public key)>
 * key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
 * A plain value: copy freely.
 */
typedef struct cairn_audit_verifier {
	char name[CAIRN_AUDIT_KEY_NAME_MAX + 1];
	uint8_t key_id[4];
	uint8_t pub[32];
} cairn_audit_verifier;

/**
 * A private (signer) key, opaque; text form
 *   PRIVATE+KEY+<name>+<8 hex digits key id>+<base64(0x01 || 32-byte seed)>
 * The secret is wiped by cairn_audit_signer_free().
 */
typedef struct cairn_audit_signer cairn_audit_signer;

/**
 * Make a new random key pair called `name` (printable ASCII, no '+', no
 * whitespace, 1..127 bytes). Caller frees *out with cairn_audit_signer_free().
 * @return 0, CAIRN_EINVAL (bad name), CAIRN_ENOMEM. Thread-safe.
 */
int cairn_audit_signer_generate(cairn_audit_signer **out, const char *name);
/**
 * Parse a signer key from text (surrounding whitespace ignored; the key id
 * must match). Caller frees *out. 0 or CAIRN_EINVAL ("not a signer key ...").
 */
int cairn_audit_signer_parse(cairn_audit_signer **out, const char *text, size_t len);
/**
 * Read a signer key file (refused when group/other may read it: CAIRN_EPERM).
 * Caller frees *out. 0, CAIRN_ENOTFOUND, CAIRN_EPERM, CAIRN_EINVAL (naming the file).
 */
int cairn_audit_signer_load(cairn_audit_signer **out, const char *path);
/** Wipe and free; accepts NULL. */
void cairn_audit_signer_free(cairn_audit_signer *s);
/** The public half of a signer. Never fails. */
void cairn_audit_signer_verifier(cairn_audit_verifier *out, const cairn_audit_signer *s);
/** Append the private key text (no newline) to `out`. 0 or CAIRN_ELIMIT/ENOMEM. */
int cairn_audit_signer_format(cairn_buf *out, const cairn_audit_signer *s);

/** Parse verifier key text (whitespace around ignored; key id checked). 0 or CAIRN_EINVAL. */
int cairn_audit_verifier_parse(cairn_audit_verifier *out, const char *text, size_t len);
/**
 * `file_or_text` is the path of a file holding verifier key text or, when
 * no such file exists and it contains '+', the key text itself (base64 may
 * contain '/', so text is not told apart by its characters).
 * 0, CAIRN_ENOTFOUND, CAIRN_EINVAL.
 */
int cairn_audit_verifier_load(cairn_audit_verifier *out, const char *file_or_text);
/** Append the verifier key text (no newline) to `out`. */
int cairn_audit_verifier_format(cairn_buf *out, const cairn_audit_verifier *v);

/**
 * `cairn audit keygen`: generate a key called `name` and write
 * `<prefix>.key` (mode 0600, created with O_EXCL: an existing file is
 * CAIRN_EEXISTS) and `<prefix>.pub`, each one line ending in "\n", both
 * fsynced with their directory.
 * @param out_pub  NULL or receives the public key.
 */
int cairn_audit_keygen_files(cairn_audit_verifier *out_pub, const char *prefix, const char *name);

/* ---- writing ----------------------------------------------------------- */

/** Test-only I/O fault hooks (src/audit/audit_private.h); NULL in production. */
struct audit_io;

#define CAIRN_AUDIT_OPTS_VERSION 1

/** Options for cairn_audit_open(). Zero fields mean the default. */
typedef struct cairn_audit_opts {
	unsigned int version;             /**< CAIRN_AUDIT_OPTS_VERSION */
	const char *state_dir;            /**< required; created (0700) when writable and missing */
	int writable;                     /**< 0: read-only handle (no lock, no key needed) */
	const cairn_audit_signer *signer; /**< required when writable; copied, caller keeps
	                                       ownership */
	const char *origin;        /**< checkpoint origin; default "cairn.dev/audit/<hostname>" */
	uint64_t checkpoint_every; /**< checkpoint after this many new entries; default 1000 */
	int64_t checkpoint_interval_ns; /**< or when this old and entries were added; default 60 s;
	                                     < 0 disables the timer (close still checkpoints) */
	cairn_audit_sync_mode sync;     /**< default CAIRN_AUDIT_SYNC_BATCH */
	int64_t batch_window_us;        /**< batch mode: how long a batch leader waits for other
	                                     threads already inside cairn_audit_record(); default 2000 */
	struct audit_io *io;            /**< test-only fault hooks; NULL = real system calls */
} cairn_audit_opts;

#define CAIRN_AUDIT_OPTS_INIT                                                                      \
	{                                                                                          \
		CAIRN_AUDIT_OPTS_VERSION, NULL, 0, NULL, NULL, 0, 0, CAIRN_AUDIT_SYNC_BATCH, 0,    \
		        NULL                                                                       \
	}

/** An open log. Opaque. */
typedef struct cairn_audit cairn_audit;

/** What cairn_audit_open() found and repaired. */
typedef struct cairn_audit_open_info {
	uint64_t entries;        /**< entries in the log after open (repair entry included) */
	uint64_t torn_bytes;     /**< bytes of a torn last line that were cut (0: none) */
	int64_t torn_repair_seq; /**< seq of the "audit.torn-tail" entry written, -1: none */
	int tree_rebuilt;        /**< 1 when audit.tree disagreed with the log and was rebuilt */
} cairn_audit_open_info;

/**
 * Open the log under opts->state_dir.
 *
 * Writable: takes the flock on audit.lock without waiting (held by another
 * process: CAIRN_EBUSY "another writer holds the audit log ... (the
 * daemon?)"), creates the files (fsyncing the directory), reads the whole
 * log checking sequence, chain and structure (not signatures). A torn last
 * line (bytes after the last "\n") is repaired: an "audit.torn-tail" entry
 * whose details are {"bytes": N, "sha256": hex of the torn bytes} is
 * appended after cutting them, and synced. Any other damage is
 * CAIRN_ECORRUPT naming the seq: the writer refuses to append. The signer
 * must be the log's current key (name and, when the log has a key.rotated
 * entry, public key): else CAIRN_EPERM.
 *
 * Read-only: no lock, no key; only cairn_audit_size() and close are useful
 * (reading goes through cairn_audit_foreach() and friends).
 *
 * @param out   on success the handle; close with cairn_audit_close().
 * @param info  NULL or receives what was found.
 */
int cairn_audit_open(cairn_audit **out, const cairn_audit_opts *opts, cairn_audit_open_info *info);

/**
 * Write a final checkpoint when entries were added since the last one, sync,
 * release the lock and free. Accepts NULL (returns 0). The handle is freed
 * even when the final checkpoint fails (that error is returned).
 * Not to be called while other threads still record.
 */
int cairn_audit_close(cairn_audit *log);

/** Subject of an entry; NULL members are left out of the entry. All borrowed. */
typedef struct cairn_audit_subject {
	const char *app;
	const char *env;
	const char *revision;
	const char *render_hash; /**< written as "renderHash" */
	const json_t *objects;   /**< e.g. an array of "group/kind/ns/name" strings; redacted */
} cairn_audit_subject;

/**
 * Known actions: sync.started sync.succeeded sync.failed prune drift.detected
 * drift.corrected rollback promotion rollout.step rollout.aborted
 * policy.denied key.rotated config.reloaded audit.torn-tail; plus operator
 * actions "note.<word>" and "x-<word>" where <word> is 1..64 of [a-z0-9._-].
 * 0 or CAIRN_EINVAL quoting the action.
 */
int cairn_audit_action_check(const char *action);

/**
 * Append one entry and return once it is durable (its batch fdatasynced).
 *
 * Actor: 1..512 bytes of valid UTF-8 without control characters (C0, DEL,
 * C1, U+2028/2029); subject strings likewise (they may be NULL). Action:
 * see cairn_audit_action_check(); "key.rotated" and "audit.torn-tail" are
 * reserved for the library. `details` may be NULL ({}). Secret objects
 * anywhere in subject->objects or details are redacted on a copy (see
 * cairn_audit_redact()); the caller's values are not changed.
 *
 * Thread-safe: several threads may record at once; in batch mode one of
 * them syncs for all (group commit). After a failed write or fdatasync
 * (ENOSPC, EIO, EFBIG, ...) the handle is read-only for good: that call
 * returns CAIRN_EIO (with the system's message) and every later one
 * CAIRN_EREADONLY. A failed sync is never retried.
 *
 * @param out_seq  NULL or receives the entry's seq (set only on success).
 * @param details  borrowed.
 * @return 0, CAIRN_EINVAL (bad input; nothing written), CAIRN_ELIMIT (entry
 *         over CAIRN_AUDIT_LINE_MAX), CAIRN_EIO, CAIRN_EREADONLY, CAIRN_EPERM
 *         (read-only handle).
 */
int cairn_audit_record(cairn_audit *log, uint64_t *out_seq, const char *actor, const char *action,
                       const cairn_audit_subject *subject, const json_t *details);

/**
 * Write a checkpoint for the synced entries now (no-op when the latest
 * checkpoint already covers them). Thread-safe.
 * @param out_note  NULL, or the note text is appended (also when it was a no-op:
 *                  then the latest checkpoint's text; empty when the log is empty).
 */
int cairn_audit_checkpoint(cairn_audit *log, cairn_buf *out_note);

/**
 * Key rotation: append a "key.rotated" entry signed by the current key whose
 * details are {"newKey": "<verifier key text of new_signer>"}; entries after
 * it are signed by `new_signer` (copied). Durable on return. Thread-safe.
 */
int cairn_audit_rotate_key(cairn_audit *log, uint64_t *out_seq, const char *actor,
                           const cairn_audit_signer *new_signer);

/** Number of entries in the log (synced ones for a writable handle). Thread-safe. */
uint64_t cairn_audit_size(cairn_audit *log);
/** 1 when a write failure made the handle read-only. Thread-safe. */
int cairn_audit_is_readonly(cairn_audit *log);

/* ---- redaction ---------------------------------------------------------- */

/**
 * Replace, in place, the values of `data` and `stringData` of every object
 * with "kind": "Secret" found anywhere in `v` by
 * "hmac-sha256:<hex HMAC-SHA256(installation key, value bytes)>" (for
 * `data` the value is the base64 text as given). Equal values give equal
 * strings; the value itself is never kept. `v` is modified (borrowed).
 * @return 0 or CAIRN_ENOMEM. Thread-safe.
 */
int cairn_audit_redact(cairn_audit *log, json_t *v);
/** Redact one value: out = "hmac-sha256:<hex>". Thread-safe. */
void cairn_audit_redact_value(cairn_audit *log, char out[CAIRN_AUDIT_REDACTED_LEN],
                              const void *value, size_t len);
/**
 * Read (or, with `create`, make: 32 random bytes, 0600, O_EXCL, fsynced)
 * `<state_dir>/audit.hmac-key`. 0, CAIRN_ENOTFOUND, CAIRN_EIO, CAIRN_ECORRUPT
 * (wrong size).
 */
int cairn_audit_hmac_key_load(uint8_t key[32], const char *state_dir, int create);

/* ---- reading ----------------------------------------------------------- */

/** One entry handed to a callback. Everything borrowed for the call only. */
typedef struct cairn_audit_entry {
	uint64_t seq;
	cairn_usec time;
	const char *time_text; /**< as written */
	const char *actor;
	const char *action;
	const char *key; /**< signing key name */
	const char *app; /**< NULL when absent; likewise env, revision, render_hash */
	const char *env;
	const char *revision;
	const char *render_hash;
	const json_t *json; /**< the whole parsed entry */
	const char *line;   /**< leaf bytes (no "\n") */
	size_t line_len;
	uint64_t offset; /**< byte offset of the line in audit.log */
} cairn_audit_entry;

#define CAIRN_AUDIT_FILTER_VERSION 1

/** Filters for cairn_audit_foreach(); NULL/0 members match everything. */
typedef struct cairn_audit_filter {
	unsigned int version; /**< CAIRN_AUDIT_FILTER_VERSION */
	const char *app;
	const char *env;
	const char *action; /**< exact, or a prefix when it ends in '.' or '*' ("sync.*") */
	const char *actor;
	cairn_usec since; /**< time >= since (0: no bound) */
	cairn_usec until; /**< time < until (0: no bound) */
} cairn_audit_filter;

#define CAIRN_AUDIT_FILTER_INIT                                                                    \
	{                                                                                          \
		CAIRN_AUDIT_FILTER_VERSION, NULL, NULL, NULL, NULL, 0, 0                           \
	}

/** Callback: return 0 to go on, anything else stops the walk and is returned. */
typedef int (*cairn_audit_entry_cb)(void *ctx, const cairn_audit_entry *e);

/**
 * Walk the entries of `<state_dir>/audit.log` in order, calling `cb` for
 * those matching `filter` (NULL: all). Does not verify signatures or the
 * chain (use cairn_audit_verify()); a line that does not parse is
 * CAIRN_ECORRUPT naming its line number; a torn last line is skipped.
 * @param io_offset  NULL, or in: byte offset to start at (a line boundary,
 *                   e.g. 0 or a value it returned), out: offset just after
 *                   the last complete line read (for `tail -f` polling).
 * No lock is taken: safe beside a running writer. Thread-safe.
 */
int cairn_audit_foreach(const char *state_dir, const cairn_audit_filter *filter,
                        uint64_t *io_offset, cairn_audit_entry_cb cb, void *ctx);

/* ---- verification ------------------------------------------------------ */

#define CAIRN_AUDIT_VERIFY_OPTS_VERSION 1

typedef struct cairn_audit_verify_opts {
	unsigned int version;                /**< CAIRN_AUDIT_VERIFY_OPTS_VERSION */
	const cairn_audit_verifier *trusted; /**< required: the first key of the chain */
	int fast;                            /**< 1: checkpoint-only mode, skip per-entry
	                                            signatures (chain, Merkle roots and
	                                            checkpoint signatures still checked) */
	const char *extra_checkpoint;        /**< NULL, or text of one more signed note
	                                            (e.g. from `--checkpoint FILE`) */
	size_t extra_checkpoint_len;
} cairn_audit_verify_opts;

#define CAIRN_AUDIT_VERIFY_OPTS_INIT                                                               \
	{                                                                                          \
		CAIRN_AUDIT_VERIFY_OPTS_VERSION, NULL, 0, NULL, 0                                  \
	}

typedef enum cairn_audit_problem {
	CAIRN_AUDIT_OK = 0,
	CAIRN_AUDIT_BAD_ENTRY = 1,      /**< bad_seq names the entry */
	CAIRN_AUDIT_BAD_CHECKPOINT = 2, /**< bad_checkpoint names the note (0-based; -1 = the
	                                     extra one); bad_seq the first entry it disagrees
	                                     with when known */
	CAIRN_AUDIT_TRUNCATED = 3,      /**< a checkpoint covers more entries than the log has;
	                                     bad_seq = first missing seq */
} cairn_audit_problem;

/** The verdict. A plain value. */
typedef struct cairn_audit_verify_result {
	int ok; /**< 1 when everything verified */
	cairn_audit_problem problem;
	int64_t bad_seq;        /**< -1 when not about an entry */
	int64_t bad_checkpoint; /**< index in audit.checkpoints, -1 extra / none */
	char reason[512];       /**< what is wrong, e.g. "signature does not verify" */
	uint64_t entries;       /**< complete entries read */
	uint64_t checkpoints;   /**< checkpoints verified */
	uint64_t keys;          /**< keys in the chain (1 + rotations) */
	char first_time[CAIRN_TIME_RFC3339_LEN]; /**< "" when empty */
	char last_time[CAIRN_TIME_RFC3339_LEN];
	uint64_t torn_bytes;              /**< a torn last line (not tampering): its length */
	cairn_audit_verifier current_key; /**< the key current at the end of the chain */
} cairn_audit_verify_result;

/**
 * Verify `<state_dir>/audit.log` and `audit.checkpoints`: seq from 0 without
 * gaps, time parses, canonical JCS lines, the prev chain, every signature
 * (following key.rotated entries from opts->trusted; skipped when fast),
 * each checkpoint's signature (by the key that signed its last entry, i.e.
 * a checkpoint covering a key.rotated entry is still signed by the old key;
 * the trusted key for size 0) and its
 * Merkle root, and that no checkpoint covers more entries than the log has.
 * Stops at the first problem. A torn last line is not tampering: it is
 * reported in torn_bytes and does not make ok 0.
 *
 * @param out  always filled when the return value is 0 (read out->ok).
 * @return 0 when a verdict was reached (good or bad), CAIRN_EINVAL (no
 *         trusted key), CAIRN_EIO / CAIRN_ENOTFOUND (cannot read the files).
 * Thread-safe; takes no lock.
 */
int cairn_audit_verify(cairn_audit_verify_result *out, const char *state_dir,
                       const cairn_audit_verify_opts *opts);

/**
 * As cairn_audit_verify() on in-memory contents of audit.log and
 * audit.checkpoints (either may be NULL with length 0). Used by the fuzzer.
 */
int cairn_audit_verify_mem(cairn_audit_verify_result *out, const char *log, size_t log_len,
                           const char *checkpoints, size_t checkpoints_len,
                           const cairn_audit_verify_opts *opts);

/* ---- proofs ------------------------------------------------------------ */

/**
 * An inclusion proof of one entry against a signed checkpoint: all an
 * auditor needs, with no access to the log. Owned strings are malloc'd;
 * dispose with cairn_audit_proof_dispose().
 *
 * JSON form (what `cairn audit prove -o json` prints and `check-proof --proof`
 * reads): {"seq": N, "treeSize": N, "entry": "<leaf bytes as a string>",
 *  "leafHash": "<hex>", "proof": ["<hex>", ...], "checkpoint": "<note text>"}
 */
typedef struct cairn_audit_proof {
	uint64_t seq;       /**< = leaf index */
	uint64_t tree_size; /**< of the checkpoint */
	char *entry;        /**< leaf bytes, NUL-terminated (owned) */
	size_t entry_len;
	uint8_t leaf_hash[32]; /**< SHA-256(0x00 || entry) */
	uint8_t path[CAIRN_AUDIT_PROOF_MAX][32];
	size_t path_len;
	char *checkpoint; /**< the signed note (owned) */
	size_t checkpoint_len;
} cairn_audit_proof;

/**
 * Prove entry `seq` against the latest checkpoint in audit.checkpoints.
 * @return 0, CAIRN_ENOTFOUND (no checkpoint, or seq not covered by it: the
 *         message says the checkpoint's size), CAIRN_ECORRUPT (store/log disagree).
 */
int cairn_audit_prove(cairn_audit_proof *out, const char *state_dir, uint64_t seq);
/** Free the owned members; accepts NULL and a zeroed struct. */
void cairn_audit_proof_dispose(cairn_audit_proof *p);
/** The JSON form above; caller owns *out. */
int cairn_audit_proof_to_json(json_t **out, const cairn_audit_proof *p);
/** Parse the JSON form (borrowed); dispose *out after. 0 or CAIRN_EINVAL. */
int cairn_audit_proof_from_json(cairn_audit_proof *out, const json_t *j);
/**
 * The auditor's check: the checkpoint is signed by `key`, its size equals
 * tree_size, leaf_hash is SHA-256(0x00 || entry), the entry's seq equals
 * p->seq, and the path leads from the leaf to the checkpoint's root.
 * @return 0 or CAIRN_ECORRUPT (message says which part failed), CAIRN_EINVAL.
 */
int cairn_audit_check_proof(const cairn_audit_proof *p, const cairn_audit_verifier *key);

/** A consistency proof between two tree sizes (plain value). */
typedef struct cairn_audit_consistency {
	uint64_t old_size, new_size;
	uint8_t old_root[32], new_root[32];
	uint8_t path[CAIRN_AUDIT_PROOF_MAX][32];
	size_t path_len;
} cairn_audit_consistency;

/**
 * Consistency proof from the hash store (rebuilt in memory from the log
 * when stale). 0 < old_size <= new_size <= entries, else CAIRN_EINVAL.
 */
int cairn_audit_consistency_prove(cairn_audit_consistency *out, const char *state_dir,
                                  uint64_t old_size, uint64_t new_size);
/** Check a consistency proof (RFC 9162 §2.1.4.2). 0 or CAIRN_ECORRUPT. */
int cairn_audit_consistency_check(const cairn_audit_consistency *c);

#ifdef __cplusplus
}
#endif
#endif
