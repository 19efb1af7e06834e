/*
 * witness.c - mirror cairnd's signed audit checkpoints to a git ref
 * (docs/daemon.md "Witness").
 *
 * Each mirrored checkpoint is one commit on `audit.witness.ref` whose tree
 * holds `checkpoint` (the signed note, byte for byte as in
 * audit.checkpoints) and `key.pub` (the verifier key text of the daemon's
 * audit key), with the previous ref value as its only parent. The ref is
 * moved with a compare-and-swap on the value the commit was built on, so
 * two writers cannot drop each other's commit: the loser rebuilds on the
 * new tip. A failed write is logged and counted and retried at the next
 * round; it never touches the audit log itself.
 *
 * The witness state hangs off a small list keyed by the daemon (struct
 * cairnd has no slot for it), guarded by its own mutex.
 */
#include <errno.h>
#include <git2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "witness.h"

struct witness {
	struct witness *next;
	cairnd *d;
	git_repository *repo;
	char *repo_path;
	char *ref;
	char key_text[512];
	uint64_t every;
	int64_t interval_ns;
	uint64_t mirrored;  /* tree size of the checkpoint the ref holds (guarded by mu) */
	int64_t retry_at;   /* CLOCK_MONOTONIC ns before which no round is tried after a failure */
	pthread_mutex_t mu; /* one round at a time; stop flag */
	pthread_cond_t cv;
	int stop;
	int thread_started;
	pthread_t thread;
	cairn_metric *m_writes;
	cairn_metric *m_size;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static struct witness *list_head;

static struct witness *find(cairnd *d, int unlink_it)
{
	struct witness **p, *w = NULL;

	pthread_mutex_lock(&list_mu);
	for (p = &list_head; *p; p = &(*p)->next)
		if ((*p)->d == d) {
			w = *p;
			if (unlink_it)
				*p = w->next;
			break;
		}
	pthread_mutex_unlock(&list_mu);
	return w;
}

static int git_fail(const char *what, const char *path)
{
	const git_error *e = git_error_last();

	return cairn_error_set(CAIRN_EIO, "%s '%s': %s", what, path,
	                       e && e->message ? e->message : "unknown libgit2 error");
}

/* The tree size of a signed note: its second line. 0 when it is not one. */
static uint64_t note_size(const char *note, size_t len, char *origin, size_t osize, char *root,
                          size_t rsize)
{
	const char *nl1 = memchr(note, '\n', len), *nl2, *nl3;
	char *end;
	uint64_t n;

	if (!nl1 || !(nl2 = memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - note))))
		return 0;
	nl3 = memchr(nl2 + 1, '\n', len - (size_t)(nl2 + 1 - note));
	errno = 0;
	n = strtoull(nl1 + 1, &end, 10);
	if (errno || end != nl2 || end == nl1 + 1)
		return 0;
	if (origin)
		snprintf(origin, osize, "%.*s", (int)(nl1 - note), note);
	if (root)
		snprintf(root, rsize, "%.*s", nl3 ? (int)(nl3 - nl2 - 1) : 0, nl2 + 1);
	return n;
}

/* The tree of one witness commit: `checkpoint` and `key.pub`. */
static int make_tree(git_tree **out, struct witness *w, const char *note, size_t len)
{
	git_treebuilder *tb = NULL;
	git_oid cp, key, tree;
	char pub[sizeof(w->key_text) + 1];
	int n = snprintf(pub, sizeof(pub), "%s\n", w->key_text);
	int rc = -1;

	if (git_blob_create_from_buffer(&cp, w->repo, note, len) < 0 ||
	    git_blob_create_from_buffer(&key, w->repo, pub, (size_t)n) < 0 ||
	    git_treebuilder_new(&tb, w->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, "checkpoint", &cp, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_insert(NULL, tb, "key.pub", &key, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&tree, tb) < 0 || git_tree_lookup(out, w->repo, &tree) < 0)
		goto out;
	rc = 0;
out:
	git_treebuilder_free(tb);
	return rc < 0 ? git_fail("writing the witness tree in", w->repo_path) : 0;
}

/*
 * One commit on the ref: built on the tip read now, then the ref moved
 * only if it still points there (git_reference_create_matching; a ref
 * that did not exist must still not exist). A lost race is retried on
 * the new tip a few times.
 */
static int mirror(struct witness *w, const char *note, size_t len, uint64_t size)
{
	char origin[256], root[128], msg[1024];
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	int rc = 0, attempt;

	note_size(note, len, origin, sizeof(origin), root, sizeof(root));
	snprintf(msg, sizeof(msg),
	         "cairn audit checkpoint: %llu entries\n\norigin: %s\ntree size: %llu\nroot: "
	         "%s\nkey: %s\n",
	         (unsigned long long)size, origin, (unsigned long long)size, root, w->key_text);
	if ((rc = make_tree(&tree, w, note, len)) < 0)
		return rc;
	if (git_signature_now(&sig, "cairnd", "cairnd@localhost") < 0) {
		rc = git_fail("making the commit signature for", w->repo_path);
		goto out;
	}
	for (attempt = 0; attempt < 5; attempt++) {
		git_oid tip, id;
		git_commit *parent = NULL;
		git_reference *ref = NULL;
		int have = git_reference_name_to_id(&tip, w->repo, w->ref);
		int e;

		if (have < 0 && have != GIT_ENOTFOUND) {
			rc = git_fail("reading the witness ref of", w->repo_path);
			goto out;
		}
		if (have == 0 && git_commit_lookup(&parent, w->repo, &tip) < 0) {
			rc = git_fail("reading the witness ref's commit in", w->repo_path);
			goto out;
		}
		e = git_commit_create(&id, w->repo, NULL, sig, sig, NULL, msg, tree, parent ? 1 : 0,
		                      (const git_commit **)&parent);
		git_commit_free(parent);
		if (e < 0) {
			rc = git_fail("writing the witness commit in", w->repo_path);
			goto out;
		}
		e = have == 0 ? git_reference_create_matching(&ref, w->repo, w->ref, &id, 1, &tip,
		                                              "cairnd: audit checkpoint")
		              : git_reference_create(&ref, w->repo, w->ref, &id, 0,
		                                     "cairnd: audit checkpoint");
		git_reference_free(ref);
		if (e == 0)
			goto out;
		if (e != GIT_EMODIFIED && e != GIT_EEXISTS && e != GIT_ELOCKED) {
			rc = git_fail("moving the witness ref in", w->repo_path);
			goto out;
		}
	}
	rc = cairn_error_set(CAIRN_EBUSY, "the witness ref '%s' in '%s' kept moving under us",
	                     w->ref, w->repo_path);
out:
	git_signature_free(sig);
	git_tree_free(tree);
	return rc;
}

/*
 * One round under w->mu: a checkpoint of the synced entries (the latest
 * one when nothing was added), mirrored when the ref does not hold that
 * size yet. Failures are logged and counted; the next round retries.
 */
static int round_locked(struct witness *w)
{
	cairn_buf note = CAIRN_BUF_INIT(1 << 16);
	uint64_t size;
	int rc;

	if ((rc = cairn_audit_checkpoint(w->d->audit, &note)) < 0) {
		cairn_error_prefix("audit witness: checkpoint: ");
		goto out;
	}
	size = note.len ? note_size(note.ptr, note.len, NULL, 0, NULL, 0) : 0;
	if (size == 0 || size <= w->mirrored)
		goto out;
	if ((rc = mirror(w, note.ptr, note.len, size)) < 0) {
		cairn_error_prefix("audit witness: ");
		goto out;
	}
	w->mirrored = size;
	cairn_metric_add(w->m_writes, (const char *const[]){"ok"}, 1);
	cairn_metric_set(w->m_size, NULL, (double)size);
	cairn_log_info("audit witness: checkpoint of %llu entries mirrored to %s in '%s'",
	               (unsigned long long)size, w->ref, w->repo_path);
out:
	if (rc < 0) {
		/* A repository that stays broken is tried once a second, not at every poll. */
		w->retry_at = mono_ns() + 1000000000;
		cairn_metric_add(w->m_writes, (const char *const[]){"error"}, 1);
		cairn_log_warn("%s", cairn_error_last()->message);
	}
	cairn_buf_dispose(&note);
	return rc;
}

/* Whether a round is due: enough entries since the last mirror (count
 * mode) or any at all (interval mode: the thread wakes once per interval). */
static int due(struct witness *w)
{
	uint64_t n = cairn_audit_size(w->d->audit);

	if (w->every)
		return n >= w->mirrored + w->every;
	return n > w->mirrored;
}

static void *thread_main(void *arg)
{
	struct witness *w = arg;
	int64_t step = w->every ? 100000000 : w->interval_ns;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(step / 1000000000);
		ts.tv_nsec += (long)(step % 1000000000);
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0 || w->stop)
			continue;
		if (mono_ns() >= w->retry_at && due(w))
			round_locked(w);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void witness_free(struct witness *w)
{
	if (!w)
		return;
	git_repository_free(w->repo);
	free(w->repo_path);
	free(w->ref);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	git_libgit2_shutdown();
}

/*
 * What the ref holds already (a restart): the size of its checkpoint, so
 * the same checkpoint is not mirrored twice. A ref ahead of the log means
 * entries were lost or the log was replaced: said loudly, not fatal (the
 * log itself is for `cairn audit verify --checkpoint` to judge).
 */
static void read_tip(struct witness *w)
{
	char spec[600];
	git_object *obj = NULL;
	uint64_t n;

	snprintf(spec, sizeof(spec), "%s:checkpoint", w->ref);
	if (git_revparse_single(&obj, w->repo, spec) < 0 || git_object_type(obj) != GIT_OBJECT_BLOB)
		goto out;
	n = note_size(git_blob_rawcontent((git_blob *)obj),
	              (size_t)git_blob_rawsize((git_blob *)obj), NULL, 0, NULL, 0);
	if (n > cairn_audit_size(w->d->audit))
		cairn_log_error("audit witness: %s in '%s' holds a checkpoint of %llu entries but "
		                "the audit log has %llu: check it with 'cairn audit verify "
		                "--checkpoint'",
		                w->ref, w->repo_path, (unsigned long long)n,
		                (unsigned long long)cairn_audit_size(w->d->audit));
	w->mirrored = n;
out:
	git_object_free(obj);
}

/* Repository, ref name and key text of a new witness; errors name the key. */
static int witness_setup(struct witness *w, const cairn_audit_config *ac)
{
	cairn_audit_signer *signer = NULL;
	cairn_audit_verifier v;
	cairn_buf kt = CAIRN_BUF_INIT(sizeof(w->key_text) - 1);
	struct stat st;
	int valid = 0, rc;

	if (stat(ac->witness_repository, &st) < 0 || !S_ISDIR(st.st_mode))
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "audit.witness.repository: '%s' is not a directory (create "
		                       "the witness repository first, e.g. 'git init --bare %s')",
		                       ac->witness_repository, ac->witness_repository);
	if (git_repository_open_ext(&w->repo, ac->witness_repository, GIT_REPOSITORY_OPEN_NO_SEARCH,
	                            NULL) < 0)
		return git_fail("audit.witness.repository: cannot open the git repository",
		                ac->witness_repository);
	if (git_reference_name_is_valid(&valid, w->ref) < 0 || !valid)
		return cairn_error_set(CAIRN_EINVAL,
		                       "audit.witness.ref: '%s' is not a valid ref name", w->ref);
	if ((rc = cairn_audit_signer_load(&signer, ac->key_file)) < 0)
		return cairn_error_prefix("audit witness: loading the audit key: ");
	cairn_audit_signer_verifier(&v, signer);
	cairn_audit_signer_free(signer);
	rc = cairn_audit_verifier_format(&kt, &v);
	if (rc == 0)
		snprintf(w->key_text, sizeof(w->key_text), "%s", kt.ptr);
	cairn_buf_dispose(&kt);
	return rc;
}

int cairnd_witness_open(cairnd *d)
{
	const cairn_audit_config *ac = &d->defs->cfg.audit;
	struct witness *w;
	pthread_condattr_t ca;
	int rc;

	if (!ac->witness_repository)
		return 0;
	if (!d->audit)
		return cairn_error_set(CAIRN_EINVAL,
		                       "audit.witness needs audit.key in '%s': there are no "
		                       "checkpoints to mirror without an audit log",
		                       d->config_path);
	if (!(w = calloc(1, sizeof(*w))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	git_libgit2_init();
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->d = d;
	w->every = ac->witness_every;
	w->interval_ns = ac->witness_interval > 0 ? ac->witness_interval : (int64_t)60000000000;
	if (!(w->repo_path = strdup(ac->witness_repository)) ||
	    !(w->ref = strdup(ac->witness_ref ? ac->witness_ref : "refs/cairn/audit"))) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = witness_setup(w, ac)) < 0 ||
	    (rc = cairn_metrics_register(&w->m_writes, d->metrics, CAIRN_METRIC_COUNTER,
	                                 "cairn_audit_witness_writes_total",
	                                 "Checkpoints mirrored to the witness ref, by result.",
	                                 (const char *const[]){"result", NULL}, NULL, 0)) < 0 ||
	    (rc = cairn_metrics_register(
	             &w->m_size, d->metrics, CAIRN_METRIC_GAUGE, "cairn_audit_witness_tree_size",
	             "Tree size of the checkpoint the witness ref holds.", NULL, NULL, 0)) < 0)
		goto fail;
	read_tip(w);
	cairn_metric_set(w->m_size, NULL, (double)w->mirrored);
	if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
		rc = cairn_error_set(CAIRN_EIO, "cannot start the audit witness thread");
		goto fail;
	}
	w->thread_started = 1;
	pthread_mutex_lock(&list_mu);
	w->next = list_head;
	list_head = w;
	pthread_mutex_unlock(&list_mu);
	cairn_log_info("audit witness: mirroring checkpoints to %s in '%s'", w->ref, w->repo_path);
	return 0;
fail:
	witness_free(w);
	return rc;
}

void cairnd_witness_close(cairnd *d)
{
	struct witness *w = find(d, 1);

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->thread_started)
		pthread_join(w->thread, NULL);
	/* The shutdown checkpoint, mirrored before the log closes. */
	if (d->audit && cairn_audit_size(d->audit) > w->mirrored)
		round_locked(w);
	witness_free(w);
}
