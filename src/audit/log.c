/*
 * log.c - the writer: open (lock, scan, repair a torn tail, reconcile the
 * hash store), record with group commit, checkpoints, key rotation, close.
 *
 * Group commit: entries are built and signed one at a time under the
 * handle's mutex (each needs the previous one's hash), appended to a
 * pending buffer, and the first waiting thread becomes the leader: it
 * takes the whole buffer, writes it with one O_APPEND write and one
 * fdatasync outside the mutex, then wakes everyone whose entry it covered.
 * A caller returns only when `synced` has passed its seq.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_private.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"

struct cairn_audit {
	char *dir, *log_path, *cp_path, *tree_path;
	int log_fd, cp_fd, lock_fd;
	int writable;
	struct audit_io *io;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	cairn_audit_signer *signer;
	char origin[256];
	uint64_t cp_every;
	int64_t cp_interval_ns;
	cairn_audit_sync_mode sync;
	int64_t window_us;
	uint64_t next_seq; /* seq of the next entry built */
	uint8_t prev[32];  /* SHA-256 of the last built entry's leaf bytes */
	cairn_buf pending, spare;
	uint64_t synced; /* entries [0, synced) are durable */
	int leader;
	int readonly;
	char fail_msg[CAIRN_ERROR_MSG_MAX];
	atomic_int entering;
	audit_tree *tree;
	uint64_t cp_size;
	cairn_usec cp_time;
	cairn_buf last_note;
	uint8_t hmac[32];
};

/* Defined in redact.c: redact with the handle's key. */
int audit__redact_with(const uint8_t key[32], json_t *v);

/* ---- failures -------------------------------------------------------------- */

/* A failed write or sync: the handle is read-only from now on. Called with
 * the mutex held; errno describes the failure. Returns CAIRN_EIO. */
static int fail_locked(cairn_audit *log, int err, const char *what)
{
	int rc = cairn_error_set_errno(err, "audit log '%s': %s failed; the log is now read-only",
	                               log->log_path, what);

	if (!log->readonly) {
		log->readonly = 1;
		snprintf(log->fail_msg, sizeof(log->fail_msg), "%s", cairn_error_last()->message);
	}
	(void)rc;
	return CAIRN_EIO;
}

static int readonly_error(cairn_audit *log)
{
	return cairn_error_set(CAIRN_EREADONLY,
	                       "audit log is read-only after an earlier failure: %s",
	                       log->fail_msg);
}

/* ---- building entries ------------------------------------------------------ */

/*
 * Build, sign and queue one entry. Takes ownership of subject and details.
 * Called with the mutex held. The line goes to log->pending and its leaf
 * hash to the tree; *out_seq gets its seq.
 */
static int append_locked(cairn_audit *log, uint64_t *out_seq, const char *actor, const char *action,
                         json_t *subject, json_t *details)
{
	cairn_buf msg = CAIRN_BUF_INIT(CAIRN_AUDIT_LINE_MAX);
	cairn_buf line = CAIRN_BUF_INIT(CAIRN_AUDIT_LINE_MAX);
	char ts[CAIRN_TIME_RFC3339_LEN], prevhex[65], sigb64[96];
	uint8_t sig[64], leaf[32];
	json_t *e = json_object();
	int rc = CAIRN_ENOMEM;

	if (e == NULL || subject == NULL || details == NULL) {
		json_decref(subject);
		json_decref(details);
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	cairn_time_format(ts, cairn_time_now());
	cairn_hex_encode(prevhex, log->prev, 32);
	if (json_object_set_new(e, "seq", json_integer((json_int_t)log->next_seq)) < 0 ||
	    json_object_set_new(e, "time", json_string(ts)) < 0 ||
	    json_object_set_new(e, "actor", json_string(actor)) < 0 ||
	    json_object_set_new(e, "action", json_string(action)) < 0 ||
	    json_object_set_new(e, "subject", subject) < 0 ||
	    json_object_set_new(e, "details", details) < 0 ||
	    json_object_set_new(e, "key", json_string(log->signer->name)) < 0 ||
	    json_object_set_new(e, "prev", json_string(prevhex)) < 0) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory building an audit entry");
		goto out;
	}
	rc = cairn_json_canonical(&msg, e);
	if (rc < 0)
		goto out;
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.ptr, msg.len, log->signer->sk);
	cairn_base64_encode(sigb64, sig, 64);
	if (json_object_set_new(e, "sig", json_string(sigb64)) < 0) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	rc = cairn_json_canonical(&line, e);
	if (rc < 0) {
		if (rc == CAIRN_ELIMIT)
			cairn_error_set(CAIRN_ELIMIT, "audit entry is longer than %zu bytes",
			                (size_t)CAIRN_AUDIT_LINE_MAX);
		goto out;
	}
	if ((rc = cairn_buf_reserve(&log->pending, line.len + 1)) < 0)
		goto out;
	audit__leaf_hash(leaf, line.ptr, line.len);
	rc = audit__tree_append(log->tree, leaf);
	if (rc < 0) {
		/* The store no longer matches the log: refuse further writes. */
		fail_locked(log, EIO, "appending to the hash store");
		rc = CAIRN_EIO;
		goto out;
	}
	cairn_buf_put(&log->pending, line.ptr, line.len);
	cairn_buf_putc(&log->pending, '\n');
	cairn_sha256(log->prev, line.ptr, line.len);
	*out_seq = log->next_seq++;
out:
	json_decref(e);
	cairn_buf_dispose(&msg);
	cairn_buf_dispose(&line);
	return rc;
}

/* ---- checkpoints ----------------------------------------------------------- */

/* Sign and append a checkpoint for the synced entries. Mutex held. */
static int checkpoint_locked(cairn_audit *log)
{
	cairn_buf note = CAIRN_BUF_INIT(16384);
	audit_checkpoint cp;
	int rc;

	if (log->synced == log->cp_size)
		return 0;
	memset(&cp, 0, sizeof(cp));
	memcpy(cp.origin, log->origin, sizeof(cp.origin));
	cp.size = log->synced;
	rc = audit__tree_sync(log->tree);
	if (rc == 0)
		rc = audit__tree_root(log->tree, cp.size, cp.root);
	if (rc == 0)
		rc = audit__checkpoint_sign(&note, &cp, log->signer->name, log->signer->sk);
	if (rc < 0) {
		cairn_error_prefix("audit checkpoint: ");
		goto out;
	}
	if (audit__io_write(log->io, log->cp_fd, note.ptr, note.len) < 0) {
		rc = fail_locked(log, errno, "writing a checkpoint");
		goto out;
	}
	if (audit__io_sync(log->io, log->cp_fd) < 0) {
		rc = fail_locked(log, errno, "fdatasync of the checkpoints");
		goto out;
	}
	log->cp_size = cp.size;
	log->cp_time = cairn_time_mono();
	cairn_buf_reset(&log->last_note);
	rc = cairn_buf_put(&log->last_note, note.ptr, note.len);
out:
	cairn_buf_dispose(&note);
	return rc;
}

static int checkpoint_due(const cairn_audit *log)
{
	if (log->synced == log->cp_size)
		return 0;
	if (log->synced - log->cp_size >= log->cp_every)
		return 1;
	return log->cp_interval_ns >= 0 &&
	       (cairn_time_mono() - log->cp_time) * 1000 >= log->cp_interval_ns;
}

/* ---- durability ------------------------------------------------------------ */

/* Write what is pending and fdatasync it, all under the mutex. */
static int flush_locked(cairn_audit *log)
{
	uint64_t end = log->next_seq;

	if (log->pending.len > 0) {
		if (audit__io_write(log->io, log->log_fd, log->pending.ptr, log->pending.len) < 0)
			return fail_locked(log, errno, "write");
		cairn_buf_reset(&log->pending);
		if (audit__io_sync(log->io, log->log_fd) < 0)
			return fail_locked(log, errno, "fdatasync");
	}
	log->synced = end;
	return 0;
}

/*
 * Lead one batch: optionally wait (bounded) for threads already inside
 * record to queue their entries, take the pending buffer, write and sync
 * it without the mutex, then publish the result. Mutex held on entry and
 * exit.
 */
static void lead_batch(cairn_audit *log)
{
	cairn_buf batch;
	uint64_t end;
	int err = 0;
	const char *what = NULL;

	log->leader = 1;
	if (log->window_us > 0 && atomic_load(&log->entering) > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(log->window_us % 1000000) * 1000;
		ts.tv_sec += (time_t)(log->window_us / 1000000) + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		while (atomic_load(&log->entering) > 0 && !log->readonly)
			if (pthread_cond_timedwait(&log->cv, &log->mu, &ts) == ETIMEDOUT)
				break;
	}
	batch = log->pending;
	log->pending = log->spare;
	end = log->next_seq;
	pthread_mutex_unlock(&log->mu);
	if (batch.len > 0) {
		if (audit__io_write(log->io, log->log_fd, batch.ptr, batch.len) < 0)
			err = errno, what = "write";
		else if (audit__io_sync(log->io, log->log_fd) < 0)
			err = errno, what = "fdatasync";
	}
	pthread_mutex_lock(&log->mu);
	cairn_buf_reset(&batch);
	log->spare = batch;
	if (what != NULL) {
		fail_locked(log, err, what);
	} else if (!log->readonly) {
		log->synced = end;
		if (checkpoint_due(log))
			checkpoint_locked(log);
	}
	log->leader = 0;
	pthread_cond_broadcast(&log->cv);
}

static int wait_durable_locked(cairn_audit *log, uint64_t seq)
{
	for (;;) {
		if (log->synced > seq)
			return 0;
		if (log->readonly)
			return cairn_error_set(CAIRN_EIO, "audit entry %llu was not recorded: %s",
			                       (unsigned long long)seq, log->fail_msg);
		if (!log->leader)
			lead_batch(log);
		else
			pthread_cond_wait(&log->cv, &log->mu);
	}
}

/* Queue an entry (owning subject and details) and wait until it is durable. */
static int record_entry(cairn_audit *log, uint64_t *out_seq, const char *actor, const char *action,
                        json_t *subject, json_t *details)
{
	uint64_t seq = 0;
	int rc;

	atomic_fetch_add(&log->entering, 1);
	pthread_mutex_lock(&log->mu);
	if (log->readonly) {
		json_decref(subject);
		json_decref(details);
		rc = readonly_error(log);
	} else {
		rc = append_locked(log, &seq, actor, action, subject, details);
	}
	atomic_fetch_sub(&log->entering, 1);
	if (log->leader)
		pthread_cond_broadcast(&log->cv);
	if (rc == 0 && log->sync == CAIRN_AUDIT_SYNC_ENTRY) {
		while (log->leader)
			pthread_cond_wait(&log->cv, &log->mu);
		if (log->synced <= seq) {
			rc = flush_locked(log);
			if (rc == 0 && checkpoint_due(log))
				checkpoint_locked(log);
		}
	}
	if (rc == 0)
		rc = wait_durable_locked(log, seq);
	pthread_mutex_unlock(&log->mu);
	if (rc == 0 && out_seq != NULL)
		*out_seq = seq;
	return rc;
}

/* ---- public writing API ------------------------------------------------------ */

static int subject_build(json_t **out, const cairn_audit_subject *s)
{
	static const char *const names[] = {"app", "env", "revision", "renderHash"};
	json_t *o = json_object();

	if (o == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (s != NULL) {
		const char *vals[] = {s->app, s->env, s->revision, s->render_hash};

		for (int i = 0; i < 4; i++) {
			char what[32];

			if (vals[i] == NULL)
				continue;
			snprintf(what, sizeof(what), "subject %s", names[i]);
			if (audit__text_check(vals[i], what) < 0 ||
			    json_object_set_new(o, names[i], json_string(vals[i])) < 0) {
				json_decref(o);
				return cairn_error_last()->code ? cairn_error_last()->code
				                                : CAIRN_ENOMEM;
			}
		}
		if (s->objects != NULL &&
		    json_object_set_new(o, "objects", json_deep_copy(s->objects)) < 0) {
			json_decref(o);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	*out = o;
	return 0;
}

int cairn_audit_record(cairn_audit *log, uint64_t *out_seq, const char *actor, const char *action,
                       const cairn_audit_subject *subject, const json_t *details)
{
	json_t *subj = NULL, *det = NULL;
	int rc;

	if (log == NULL || !log->writable)
		return cairn_error_set(CAIRN_EPERM, "audit log was opened read-only");
	if (actor == NULL || action == NULL)
		return cairn_error_set(CAIRN_EINVAL, "an audit entry needs an actor and an action");
	if ((rc = audit__text_check(actor, "actor")) < 0 ||
	    (rc = cairn_audit_action_check(action)) < 0)
		return rc;
	if (strcmp(action, "key.rotated") == 0 || strcmp(action, "audit.torn-tail") == 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "action '%s' is written by the audit library only", action);
	rc = subject_build(&subj, subject);
	if (rc < 0)
		return rc;
	det = details != NULL ? json_deep_copy(details) : json_object();
	if (det == NULL) {
		json_decref(subj);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if ((rc = audit__redact_with(log->hmac, subj)) < 0 ||
	    (rc = audit__redact_with(log->hmac, det)) < 0) {
		json_decref(subj);
		json_decref(det);
		return rc;
	}
	return record_entry(log, out_seq, actor, action, subj, det);
}

int cairn_audit_checkpoint(cairn_audit *log, cairn_buf *out_note)
{
	int rc = 0;

	if (log == NULL || !log->writable)
		return cairn_error_set(CAIRN_EPERM, "audit log was opened read-only");
	pthread_mutex_lock(&log->mu);
	while (log->leader)
		pthread_cond_wait(&log->cv, &log->mu);
	if (log->readonly)
		rc = readonly_error(log);
	if (rc == 0)
		rc = checkpoint_locked(log);
	if (rc == 0 && out_note != NULL)
		rc = cairn_buf_put(out_note, log->last_note.ptr ? log->last_note.ptr : "",
		                   log->last_note.len);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/*
 * Rotation keeps the batch machinery out of the way (it becomes the leader
 * itself), so that the new key is switched in exactly after the rotation
 * entry is durable: every checkpoint of a size up to and including that
 * entry's predecessor is signed by the old key, later ones by the new.
 */
int cairn_audit_rotate_key(cairn_audit *log, uint64_t *out_seq, const char *actor,
                           const cairn_audit_signer *new_signer)
{
	cairn_buf text = CAIRN_BUF_INIT(4096);
	cairn_audit_verifier v;
	cairn_audit_signer *dup = NULL;
	json_t *det = NULL;
	uint64_t seq = 0;
	int rc;

	if (log == NULL || !log->writable)
		return cairn_error_set(CAIRN_EPERM, "audit log was opened read-only");
	if ((rc = audit__text_check(actor, "actor")) < 0)
		return rc;
	cairn_audit_signer_verifier(&v, new_signer);
	if ((rc = cairn_audit_verifier_format(&text, &v)) < 0)
		goto out;
	dup = audit__signer_dup(new_signer);
	det = json_pack("{s:s}", "newKey", text.ptr);
	if (dup == NULL || det == NULL) {
		json_decref(det);
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_lock(&log->mu);
	while (log->leader)
		pthread_cond_wait(&log->cv, &log->mu);
	if (log->readonly) {
		json_decref(det);
		rc = readonly_error(log);
	} else {
		rc = append_locked(log, &seq, actor, "key.rotated", json_object(), det);
		if (rc == 0)
			rc = flush_locked(log);
		if (rc == 0 && (rc = checkpoint_locked(log)) == 0) {
			cairn_audit_signer *old = log->signer;

			log->signer = dup;
			dup = old;
		}
	}
	pthread_cond_broadcast(&log->cv);
	pthread_mutex_unlock(&log->mu);
	if (rc == 0 && out_seq != NULL)
		*out_seq = seq;
out:
	cairn_audit_signer_free(dup);
	cairn_buf_dispose(&text);
	return rc;
}

uint64_t cairn_audit_size(cairn_audit *log)
{
	uint64_t n;

	pthread_mutex_lock(&log->mu);
	n = log->synced;
	pthread_mutex_unlock(&log->mu);
	return n;
}

int cairn_audit_is_readonly(cairn_audit *log)
{
	int r;

	pthread_mutex_lock(&log->mu);
	r = log->readonly;
	pthread_mutex_unlock(&log->mu);
	return r;
}

int cairn_audit_redact(cairn_audit *log, json_t *v)
{
	return audit__redact_with(log->hmac, v);
}

void cairn_audit_redact_value(cairn_audit *log, char out[CAIRN_AUDIT_REDACTED_LEN],
                              const void *value, size_t len)
{
	uint8_t mac[32];

	cairn_hmac_sha256(mac, log->hmac, 32, value, len);
	memcpy(out, CAIRN_AUDIT_REDACTED_PREFIX, 12);
	cairn_hex_encode(out + 12, mac, 32);
}

/* ---- open / close -------------------------------------------------------------- */

static void handle_free(cairn_audit *log)
{
	if (log == NULL)
		return;
	audit__tree_close(log->tree);
	if (log->log_fd >= 0) {
		audit__io_untrack(log->io, log->log_fd);
		close(log->log_fd);
	}
	if (log->cp_fd >= 0) {
		audit__io_untrack(log->io, log->cp_fd);
		close(log->cp_fd);
	}
	if (log->lock_fd >= 0)
		close(log->lock_fd); /* releases the flock */
	cairn_audit_signer_free(log->signer);
	cairn_buf_dispose(&log->pending);
	cairn_buf_dispose(&log->spare);
	cairn_buf_dispose(&log->last_note);
	sodium_memzero(log->hmac, sizeof(log->hmac));
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->cv);
	free(log->dir);
	free(log->log_path);
	free(log->cp_path);
	free(log->tree_path);
	free(log);
}

static int handle_new(cairn_audit **out, const cairn_audit_opts *opts)
{
	cairn_audit *log = calloc(1, sizeof(*log));
	pthread_condattr_t ca;
	char host[200];

	if (log == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	log->log_fd = log->cp_fd = log->lock_fd = -1;
	pthread_mutex_init(&log->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&log->cv, &ca);
	pthread_condattr_destroy(&ca);
	cairn_buf_init(&log->pending, 0);
	cairn_buf_init(&log->spare, 0);
	cairn_buf_init(&log->last_note, 1 << 20);
	atomic_init(&log->entering, 0);
	log->writable = opts->writable;
	log->io = opts->io;
	log->cp_every = opts->checkpoint_every ? opts->checkpoint_every : 1000;
	log->cp_interval_ns = opts->checkpoint_interval_ns ? opts->checkpoint_interval_ns
	                                                   : (int64_t)60 * 1000000000;
	log->sync = opts->sync;
	log->window_us = opts->batch_window_us ? opts->batch_window_us : 2000;
	if (opts->origin != NULL) {
		snprintf(log->origin, sizeof(log->origin), "%s", opts->origin);
	} else {
		if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(log->origin, sizeof(log->origin), "cairn.dev/audit/%s", host);
	}
	log->dir = strdup(opts->state_dir);
	log->log_path = audit__path(opts->state_dir, CAIRN_AUDIT_LOG_FILE);
	log->cp_path = audit__path(opts->state_dir, CAIRN_AUDIT_CHECKPOINTS_FILE);
	log->tree_path = audit__path(opts->state_dir, CAIRN_AUDIT_TREE_FILE);
	if (log->dir == NULL || log->log_path == NULL || log->cp_path == NULL ||
	    log->tree_path == NULL) {
		handle_free(log);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = log;
	return 0;
}

/* What the scan of an existing log found. */
struct scan_state {
	uint64_t n;      /* complete entries */
	size_t good_len; /* bytes up to the last "\n" */
	struct audit_frontier fr;
	uint8_t prev[32];
	char key[CAIRN_AUDIT_KEY_NAME_MAX + 1]; /* key of the last entry */
	int rotated;                            /* kc.cur holds a key from key.rotated */
	int last_rotation;                      /* the last entry is a key.rotated entry */
	struct audit_keychain kc;
	size_t last_off, last_len; /* the last entry's line */
};

/*
 * Check the structure of every complete line: canonical entry, seq in
 * order, prev chain; follow key.rotated entries. Signatures are left to
 * cairn_audit_verify() (except the last one, see check_signer()).
 */
static int scan_log(struct scan_state *st, const char *data, size_t len, const char *path)
{
	size_t off = 0;
	char prevhex[65];

	memset(st, 0, sizeof(*st));
	audit__frontier_init(&st->fr);
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t ll;
		struct audit_parsed p;
		uint8_t leaf[32];
		int rc, parsed;

		if (nl == NULL)
			break; /* torn tail */
		ll = (size_t)(nl - (data + off));
		rc = audit__entry_parse(&p, data + off, ll, 1);
		parsed = rc == 0;
		if (rc == 0 && p.seq != st->n)
			rc = cairn_error_set(CAIRN_ECORRUPT, "seq is %llu, expected %llu",
			                     (unsigned long long)p.seq, (unsigned long long)st->n);
		cairn_hex_encode(prevhex, st->prev, 32);
		if (rc == 0 && strcmp(p.prev, prevhex) != 0)
			rc = cairn_error_set(CAIRN_ECORRUPT,
			                     "'prev' does not match the previous entry's hash");
		st->last_rotation = 0;
		if (rc == 0 && strcmp(p.action, "key.rotated") == 0) {
			rc = audit__keychain_rotate(&st->kc, &p);
			st->rotated = 1;
			st->last_rotation = 1;
		}
		if (rc == 0)
			snprintf(st->key, sizeof(st->key), "%s", p.key);
		if (parsed)
			json_decref(p.json);
		if (rc < 0)
			return cairn_error_set(
			        CAIRN_ECORRUPT,
			        "audit log '%s' is corrupt at entry %llu (line %llu): %s; "
			        "refusing to append",
			        path, (unsigned long long)st->n, (unsigned long long)st->n + 1,
			        cairn_error_last()->message);
		audit__leaf_hash(leaf, data + off, ll);
		audit__frontier_push(&st->fr, leaf);
		cairn_sha256(st->prev, data + off, ll);
		st->last_off = off;
		st->last_len = ll;
		st->n++;
		off += ll + 1;
	}
	st->good_len = off;
	return 0;
}

/* The signer must be the log's current key: after a rotation, the rotated-in
 * key; otherwise the key that signed the last entry. */
static int check_signer(const struct scan_state *st, const cairn_audit_signer *s, const char *data)
{
	struct audit_parsed p;
	cairn_buf msg = CAIRN_BUF_INIT(CAIRN_AUDIT_LINE_MAX);
	uint8_t sig[64];
	size_t siglen = 0;
	int rc, ok;

	if (st->n == 0)
		return 0;
	if (st->rotated &&
	    (strcmp(st->kc.cur.name, s->name) != 0 || memcmp(st->kc.cur.pub, s->pub, 32) != 0))
		return cairn_error_set(CAIRN_EPERM,
		                       "signer key '%s' is not the log's current key '%s' "
		                       "(introduced by key rotation)",
		                       s->name, st->kc.cur.name);
	/* The last entry is the key.rotated entry itself, signed by the old key:
	 * the key chain (which matched name and public key above) is the proof. */
	if (st->last_rotation)
		return 0;
	if (strcmp(st->key, s->name) != 0)
		return cairn_error_set(CAIRN_EPERM,
		                       "signer key '%s' is not the log's current key '%s'; use "
		                       "rotate-key to change keys",
		                       s->name, st->key);
	rc = audit__entry_parse(&p, data + st->last_off, st->last_len, 0);
	if (rc < 0)
		return rc;
	rc = audit__entry_message(&msg, &p);
	ok = rc == 0 && cairn_base64_decode(sig, sizeof(sig), &siglen, p.sig, strlen(p.sig)) == 0 &&
	     siglen == 64 &&
	     crypto_sign_verify_detached(sig, (const unsigned char *)msg.ptr, msg.len, s->pub) == 0;
	json_decref(p.json);
	cairn_buf_dispose(&msg);
	if (rc < 0)
		return rc;
	if (!ok)
		return cairn_error_set(CAIRN_EPERM,
		                       "signer key '%s' did not sign the log's last entry: it is "
		                       "another key with the same name",
		                       s->name);
	return 0;
}

static int open_file(int *out, int *created, const char *path, int flags, int mode)
{
	int fd = open(path, flags | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd >= 0) {
		*created = 1;
	} else if (errno == EEXIST) {
		fd = open(path, flags | O_CLOEXEC);
	}
	if (fd < 0)
		return cairn_error_set_errno(errno, "cannot open '%s'", path);
	*out = fd;
	return 0;
}

static int take_lock(cairn_audit *log, int *created)
{
	char *path = audit__path(log->dir, CAIRN_AUDIT_LOCK_FILE);
	int rc;

	if (path == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = open_file(&log->lock_fd, created, path, O_RDWR, 0600);
	if (rc == 0 && flock(log->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			rc = cairn_error_set(
			        CAIRN_EBUSY,
			        "another writer holds the audit log in '%s' (the daemon?)",
			        log->dir);
		else
			rc = cairn_error_set_errno(errno, "cannot lock '%s'", path);
	}
	free(path);
	return rc;
}

/* Cut an incomplete note at the end of audit.checkpoints (never acknowledged)
 * and remember the latest complete one. */
static int scan_checkpoints(cairn_audit *log, uint64_t entries)
{
	struct audit_map m;
	size_t off = 0, note_len, last_off = 0, last_len = 0;
	audit_checkpoint cp;
	size_t nsigs;
	int rc = audit__map_file(&m, log->cp_path, 1);

	if (rc < 0)
		return rc;
	while (off < m.len && audit__checkpoint_split(m.ptr + off, m.len - off, &note_len) == 0 &&
	       note_len > 0) {
		last_off = off;
		last_len = note_len;
		off += note_len;
	}
	if (off < m.len && ftruncate(log->cp_fd, (off_t)off) < 0) {
		rc = cairn_error_set_errno(errno, "cannot cut the torn end of '%s'", log->cp_path);
		goto out;
	}
	if (last_len > 0) {
		rc = audit__checkpoint_parse(&cp, NULL, 0, &nsigs, m.ptr + last_off, last_len);
		if (rc < 0) {
			rc = cairn_error_set(CAIRN_ECORRUPT,
			                     "'%s': the latest checkpoint is damaged: %s",
			                     log->cp_path, cairn_error_last()->message);
			goto out;
		}
		if (cp.size > entries) {
			rc = cairn_error_set(
			        CAIRN_ECORRUPT,
			        "audit log '%s' has %llu entries but its latest checkpoint "
			        "covers %llu: the log was truncated; refusing to append",
			        log->log_path, (unsigned long long)entries,
			        (unsigned long long)cp.size);
			goto out;
		}
		log->cp_size = cp.size;
		rc = cairn_buf_put(&log->last_note, m.ptr + last_off, last_len);
	}
out:
	audit__map_free(&m);
	return rc;
}

/* Make audit.tree agree with the log: same size and root, else rebuild it. */
static int reconcile_tree(cairn_audit *log, const struct scan_state *st, const char *data,
                          cairn_audit_open_info *inf)
{
	uint8_t want[32], have[32];
	size_t off = 0;
	int rc = audit__tree_open(&log->tree, log->tree_path, 1);

	if (rc < 0)
		return cairn_error_prefix("audit hash store: ");
	audit__frontier_root(&st->fr, want);
	if (audit__tree_size(log->tree) == st->n &&
	    (st->n == 0 ||
	     (audit__tree_root(log->tree, st->n, have) == 0 && memcmp(have, want, 32) == 0)))
		return 0;
	inf->tree_rebuilt = 1;
	rc = audit__tree_truncate(log->tree, 0);
	while (rc == 0 && off < st->good_len) {
		const char *nl = memchr(data + off, '\n', st->good_len - off);
		uint8_t leaf[32];

		audit__leaf_hash(leaf, data + off, (size_t)(nl - (data + off)));
		rc = audit__tree_append(log->tree, leaf);
		off = (size_t)(nl - data) + 1;
	}
	if (rc == 0)
		rc = audit__tree_sync(log->tree);
	return rc < 0 ? cairn_error_prefix("rebuilding the audit hash store: ") : 0;
}

/* Cut a torn last line and say so in a new entry (after the rest is open). */
static int cut_torn_tail(cairn_audit *log, const struct scan_state *st, const char *data,
                         size_t len, json_t **out_details, cairn_audit_open_info *inf)
{
	char hex[65];

	if (st->good_len == len)
		return 0;
	cairn_sha256_hex(hex, data + st->good_len, len - st->good_len);
	*out_details =
	        json_pack("{s:I,s:s}", "bytes", (json_int_t)(len - st->good_len), "sha256", hex);
	if (*out_details == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	inf->torn_bytes = len - st->good_len;
	if (ftruncate(log->log_fd, (off_t)st->good_len) < 0 ||
	    audit__io_sync(log->io, log->log_fd) < 0)
		return cairn_error_set_errno(errno, "cannot cut the torn tail of '%s'",
		                             log->log_path);
	return 0;
}

static int make_state_dir(const char *dir, int *created)
{
	char *parent, *slash;
	int rc;

	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return 0;
		return cairn_error_set_errno(errno, "cannot create state directory '%s'", dir);
	}
	*created = 1;
	parent = strdup(dir);
	if (parent == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	slash = strrchr(parent, '/');
	if (slash == NULL)
		rc = audit__fsync_dir(".");
	else if (slash == parent)
		rc = audit__fsync_dir("/");
	else
		*slash = '\0', rc = audit__fsync_dir(parent);
	free(parent);
	return rc;
}

static int open_writable(cairn_audit *log, const cairn_audit_opts *opts, cairn_audit_open_info *inf)
{
	struct audit_map m = {NULL, 0, 0};
	struct scan_state st;
	json_t *torn = NULL;
	int created = 0, dircreated = 0, rc;
	uint64_t seq;

	if ((rc = make_state_dir(log->dir, &dircreated)) < 0 ||
	    (rc = take_lock(log, &created)) < 0 ||
	    (rc = cairn_audit_hmac_key_load(log->hmac, log->dir, 1)) < 0 ||
	    (rc = open_file(&log->log_fd, &created, log->log_path, O_RDWR | O_APPEND, 0640)) < 0 ||
	    (rc = open_file(&log->cp_fd, &created, log->cp_path, O_RDWR | O_APPEND, 0640)) < 0)
		goto out;
	audit__io_track(log->io, log->log_fd);
	audit__io_track(log->io, log->cp_fd);
	log->signer = audit__signer_dup(opts->signer);
	if (log->signer == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = audit__map_file(&m, log->log_path, 1)) < 0 ||
	    (rc = scan_log(&st, m.ptr, m.len, log->log_path)) < 0 ||
	    (rc = check_signer(&st, log->signer, m.ptr)) < 0 ||
	    (rc = scan_checkpoints(log, st.n)) < 0 ||
	    (rc = reconcile_tree(log, &st, m.ptr, inf)) < 0 ||
	    (rc = cut_torn_tail(log, &st, m.ptr, m.len, &torn, inf)) < 0)
		goto out;
	if (created && (rc = audit__fsync_dir(log->dir)) < 0)
		goto out;
	log->next_seq = log->synced = st.n;
	memcpy(log->prev, st.prev, 32);
	log->cp_time = cairn_time_mono();
	if (torn != NULL) {
		rc = record_entry(log, &seq, "cairn", "audit.torn-tail", json_object(), torn);
		torn = NULL;
		if (rc < 0)
			goto out;
		inf->torn_repair_seq = (int64_t)seq;
	}
	inf->entries = log->synced;
out:
	json_decref(torn);
	audit__map_free(&m);
	return rc;
}

/* A read-only handle only knows how many complete entries there are. */
static int open_readonly(cairn_audit *log, cairn_audit_open_info *inf)
{
	struct audit_map m;
	size_t off = 0;
	int rc = audit__map_file(&m, log->log_path, 1);

	if (rc < 0)
		return rc;
	while (off < m.len) {
		const char *nl = memchr(m.ptr + off, '\n', m.len - off);

		if (nl == NULL) {
			inf->torn_bytes = m.len - off;
			break;
		}
		log->synced++;
		off = (size_t)(nl - m.ptr) + 1;
	}
	inf->entries = log->synced;
	audit__map_free(&m);
	return 0;
}
int cairn_audit_open(cairn_audit **out, const cairn_audit_opts *opts, cairn_audit_open_info *info)
{
	cairn_audit *log = NULL;
	cairn_audit_open_info inf;
	int rc;

	if (opts == NULL || opts->version != CAIRN_AUDIT_OPTS_VERSION || opts->state_dir == NULL)
		return cairn_error_set(CAIRN_EINVAL, "audit open: options missing or of an unknown "
		                                     "version");
	if (opts->writable && opts->signer == NULL)
		return cairn_error_set(CAIRN_EINVAL, "a writable audit log needs a signer key");
	if (opts->origin != NULL && audit__text_check(opts->origin, "checkpoint origin") < 0)
		return CAIRN_EINVAL;
	rc = handle_new(&log, opts);
	if (rc < 0)
		return rc;
	memset(&inf, 0, sizeof(inf));
	inf.torn_repair_seq = -1;
	rc = opts->writable ? open_writable(log, opts, &inf) : open_readonly(log, &inf);
	if (rc < 0) {
		handle_free(log);
		return rc;
	}
	if (info != NULL)
		*info = inf;
	*out = log;
	return 0;
}

int cairn_audit_close(cairn_audit *log)
{
	int rc = 0;

	if (log == NULL)
		return 0;
	if (log->writable) {
		pthread_mutex_lock(&log->mu);
		while (log->leader)
			pthread_cond_wait(&log->cv, &log->mu);
		if (!log->readonly)
			rc = checkpoint_locked(log);
		pthread_mutex_unlock(&log->mu);
	}
	handle_free(log);
	return rc;
}
