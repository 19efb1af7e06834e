/*
 * audit_private.h - what the files of the audit log share: the signer's
 * insides, the I/O layer with its test-only fault hooks, and the helpers
 * that check and parse entries (used by log.c, verify.c and the tests).
 */
#ifndef CAIRN_AUDIT_PRIVATE_H
#define CAIRN_AUDIT_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit/merkle.h"
#include "cairn/audit.h"

struct cairn_audit_signer {
	char name[CAIRN_AUDIT_KEY_NAME_MAX + 1];
	uint8_t key_id[4];
	uint8_t pub[32];
	uint8_t sk[64]; /* libsodium's secret key: seed || public key */
};

/* 0 when `name` is a valid key name, else CAIRN_EINVAL quoting it. */
int audit__key_name_check(const char *name);
/* Copy of a signer (caller frees), or NULL when out of memory. */
cairn_audit_signer *audit__signer_dup(const cairn_audit_signer *s);

/* ---- I/O layer (logio.c) -------------------------------------------------
 *
 * Every write and fdatasync of audit.log and audit.checkpoints goes through
 * here, so that tests can make them fail and can simulate a power loss.
 * A NULL io means plain system calls. An io must not be shared by two open
 * logs at once; it is not thread-safe beyond what the log's own lock gives.
 */
#define AUDIT_IO_MAX_FILES 4

struct audit_io {
	/* Faults, -1 = never. The write that would take the total written bytes
	 * past fail_write_after writes up to that limit, then fails with
	 * write_errno (ENOSPC when 0). fail_sync_after: that many fdatasyncs
	 * succeed, the next fails with sync_errno (EIO when 0). */
	int64_t fail_write_after;
	int write_errno;
	int64_t fail_sync_after;
	int sync_errno;
	/* Power-loss simulation: when crash_after_ops (counting writes and
	 * syncs) reaches 0, every tracked file is cut back to what its last
	 * completed fdatasync made durable (plus, with `tear`, a random prefix of
	 * what came after, from `seed`); from then on every call fails with EIO. */
	int64_t crash_after_ops;
	int tear;
	uint64_t seed;
	/* State kept by the layer. */
	int dead;
	uint64_t bytes_written;
	uint64_t syncs;
	struct {
		int fd;
		off_t synced; /* size at the last completed fdatasync */
	} files[AUDIT_IO_MAX_FILES];
	int nfiles;
};

/* An io with no faults armed (all -1, nothing tracked). */
void audit__io_init(struct audit_io *io);
/* Start tracking fd (its current size counts as synced). NULL io: no-op. */
void audit__io_track(struct audit_io *io, int fd);
/* Forget fd (before closing it). */
void audit__io_untrack(struct audit_io *io, int fd);
/* Write all n bytes (looping on short writes). 0 or -1 with errno set. */
int audit__io_write(struct audit_io *io, int fd, const void *buf, size_t n);
/* fdatasync. 0 or -1 with errno set. */
int audit__io_sync(struct audit_io *io, int fd);
/* Cut the tracked files now as a power loss would (see crash_after_ops). */
void audit__io_power_loss(struct audit_io *io);
/* fsync the directory `dir` (made durable: new names in it). 0 or CAIRN_EIO. */
int audit__fsync_dir(const char *dir);

/* ---- entries (log.c) ------------------------------------------------------ */

/* 0 when s is 1..CAIRN_AUDIT_FIELD_MAX bytes of UTF-8 without control
 * characters; else CAIRN_EINVAL naming `what`. */
int audit__text_check(const char *s, const char *what);

/* The fields of one parsed line, borrowed from `json` (owned by the caller). */
struct audit_parsed {
	json_t *json;
	uint64_t seq;
	cairn_usec time;
	const char *time_text;
	const char *actor;
	const char *action;
	const char *key;
	const char *prev;
	const char *sig;
	const json_t *subject;
	const json_t *details;
};

/*
 * Parse one line (leaf bytes, no "\n") into p: a JSON object with exactly
 * the entry members, of the right types. With `canonical`, also check the
 * line is the JCS form of what it holds. 0 or CAIRN_EINVAL with a message
 * that says what is wrong (no position: the caller adds the seq). On success
 * the caller json_decref()s p->json.
 */
int audit__entry_parse(struct audit_parsed *p, const char *line, size_t len, int canonical);

/* Parse with the canonical check and put the signed message in msg (reset
 * first), with one full JCS encoding. Same returns as audit__entry_parse(). */
int audit__entry_parse_msg(struct audit_parsed *p, const char *line, size_t len, cairn_buf *msg);

/* JCS of the parsed entry without "sig" (the signed message), appended to out. */
int audit__entry_message(cairn_buf *out, const struct audit_parsed *p);

/* The state of the key chain while reading a log. */
struct audit_keychain {
	cairn_audit_verifier cur;
	uint64_t keys;
};
/* Apply a key.rotated entry: details.newKey becomes current. 0 or CAIRN_EINVAL. */
int audit__keychain_rotate(struct audit_keychain *kc, const struct audit_parsed *p);

/* An RFC 6962 root kept incrementally: the roots of the perfect subtrees
 * along the binary digits of the size (at most 64). */
struct audit_frontier {
	uint8_t h[64][32];
	uint64_t size;
	int n;
};
void audit__frontier_init(struct audit_frontier *f);
void audit__frontier_push(struct audit_frontier *f, const uint8_t leaf[32]);
void audit__frontier_root(const struct audit_frontier *f, uint8_t out[32]);

/* Read a whole file into a malloc'd buffer (or mmap: see audit__map_free). */
struct audit_map {
	char *ptr;
	size_t len;
	int mapped;
};
/* 0, CAIRN_ENOTFOUND, CAIRN_EIO; an empty or missing file with `missing_ok`
 * gives len 0. */
int audit__map_file(struct audit_map *m, const char *path, int missing_ok);
void audit__map_free(struct audit_map *m);

/* Join state_dir and a file name: malloc'd, caller frees; NULL on ENOMEM. */
char *audit__path(const char *dir, const char *name);

#endif
