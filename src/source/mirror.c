/*
 * mirror.c - the mirror cache: one bare repository per normalised URL under
 * <state>/repos, guarded by an flock, repaired after a killed fetch.
 *
 * Crash safety rests on libgit2 writing packs and loose objects to temporary
 * files renamed into place, and refs through "<ref>.lock" files renamed
 * over the ref. A fetch killed mid-way therefore leaves at worst stale
 * ".lock" files and temporary packs; holding the mirror's flock we know no
 * one else is writing, so those leftovers are removed before each fetch.
 * Anything worse (a mirror libgit2 cannot open, or a ref naming a missing
 * object) makes us recreate the mirror from scratch.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/source.h"
#include "cairn/util.h"
#include "source_private.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void shutdown_libgit2(void)
{
	git_libgit2_shutdown();
}

static void init_libgit2(void)
{
	if (git_libgit2_init() < 0) {
		init_rc = -1;
		return;
	}
	/* Release libgit2's per-thread caches at exit (leak checkers see them). */
	atexit(shutdown_libgit2);
	/* mbedTLS has no default trust store: point it at Debian's bundle. */
	if (access(SYSTEM_CA_BUNDLE, R_OK) == 0)
		git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, SYSTEM_CA_BUNDLE, NULL);
	/* Mirrors are ours, and local sources may belong to other users. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

int source__init(void)
{
	pthread_once(&init_once, init_libgit2);
	if (init_rc < 0)
		return cairn_error_set(CAIRN_ERROR, "cannot initialise libgit2");
	return 0;
}

int source__git_error(int code, const char *what, const char *shown)
{
	const git_error *e = git_error_last();
	char msg[CAIRN_ERROR_MSG_MAX];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "unknown error");
	/* libgit2 messages may quote the URL we gave it: never show userinfo. */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	if (shown)
		return cairn_error_set(code, "%s '%s': %s", what, shown, msg);
	return cairn_error_set(code, "%s: %s", what, msg);
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return cairn_error_set(CAIRN_ELIMIT, "path too long: '%s'", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return cairn_error_set_errno(errno, "creating '%s'", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return cairn_error_set_errno(errno, "creating '%s'", tmp);
	return 0;
}

int source__lock(struct cairn_source_repo *r, int *fd)
{
	int timeout = r->lock_timeout_ms > 0 ? r->lock_timeout_ms : 60000;
	int f = open(r->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (f < 0)
		return cairn_error_set_errno(errno, "opening the mirror lock '%s'", r->lock_path);
	for (int waited = 0; flock(f, LOCK_EX | LOCK_NB) < 0; waited += 20) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(f);
			return cairn_error_set_errno(e, "locking '%s'", r->lock_path);
		}
		if (waited >= timeout) {
			close(f);
			return cairn_error_set(
			        CAIRN_EBUSY,
			        "the mirror of '%s' is locked by another fetch (waited "
			        "%d ms)",
			        r->shown, timeout);
		}
		nanosleep(&ts, NULL);
	}
	*fd = f;
	return 0;
}

void source__unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

/* Remove what a killed writer leaves: "*.lock" files anywhere under refs/
 * and at the top, and libgit2's temporary pack and object files. */
static int stale_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	size_t n = strlen(base);

	if (flag != FTW_F)
		return 0;
	if ((n > 5 && strcmp(base + n - 5, ".lock") == 0) || strncmp(base, "tmp_", 4) == 0 ||
	    strncmp(base, "pack_git2_", 10) == 0 || strncmp(base, "tmp_object_git2_", 16) == 0)
		unlink(path);
	return 0;
}

static int ref_ok(git_reference *ref, void *payload)
{
	git_odb *odb = payload;
	const git_oid *id = git_reference_target(ref);
	int bad = id && !git_odb_exists(odb, id);

	git_reference_free(ref);
	return bad ? -1 : 0;
}

/* Open the mirror and check that every direct ref names an object we
 * have; 0 healthy, <0 not (no error recorded: the caller recreates). */
static int mirror_check(struct cairn_source_repo *r)
{
	git_repository *git = NULL;
	git_odb *odb = NULL;
	int rc;

	git_reference *head = NULL;

	rc = git_repository_open_bare(&git, r->path);
	if (rc == 0)
		rc = git_reference_lookup(&head, git, "HEAD");
	git_reference_free(head);
	if (rc == 0)
		rc = git_repository_odb(&odb, git);
	if (rc == 0)
		rc = git_reference_foreach(git, ref_ok, odb);
	git_odb_free(odb);
	if (rc < 0) {
		git_repository_free(git);
		return -1;
	}
	git_repository_free(r->git);
	r->git = git;
	return 0;
}

/* With the lock held: clean leftovers, check, recreate if needed. */
static int mirror_repair(struct cairn_source_repo *r)
{
	struct stat st;
	int rc;

	if (stat(r->path, &st) == 0) {
		nftw(r->path, stale_entry, 16, FTW_PHYS);
		if (mirror_check(r) == 0)
			return 0;
		cairn_log_debug("recreating the damaged mirror of '%s'", r->shown);
		git_repository_free(r->git);
		r->git = NULL;
		cairn_path_remove_tree(r->path);
	}
	rc = git_repository_init(&r->git, r->path, 1);
	if (rc < 0)
		return source__git_error(CAIRN_EIO, "creating the mirror of", r->shown);
	return 0;
}

static char *dup_or_null(const char *s, int *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = 1;
	return d;
}

/* Parse the host and port of an ssh URL for the known_hosts check. */
static int parse_ssh_host(struct cairn_source_repo *r, const char *url)
{
	const char *h, *end, *at, *colon;

	if (source__url_is_scp(url)) {
		colon = strchr(url, ':');
		at = memchr(url, '@', (size_t)(colon - url));
		h = at ? at + 1 : url;
		r->host = strndup(h, (size_t)(colon - h));
		r->port = 22;
		return r->host ? 0 : -1;
	}
	if (strncmp(url, "ssh://", 6) != 0)
		return 0;
	h = url + 6;
	end = h + strcspn(h, "/");
	at = NULL;
	for (const char *q = h; q < end; q++)
		if (*q == '@')
			at = q;
	h = at ? at + 1 : h;
	colon = memchr(h, ':', (size_t)(end - h));
	r->port = colon ? atoi(colon + 1) : 22;
	r->host = strndup(h, (size_t)((colon ? colon : end) - h));
	return r->host ? 0 : -1;
}

static int copy_opts(struct cairn_source_repo *r, const char *url, const cairn_source_opts *o)
{
	const cairn_source_creds *c = o->creds;
	int fail = 0;

	if (source__url_is_local(url) || strncmp(url, "file://", 7) == 0) {
		char *norm = NULL;
		if (cairn_source_url_normalize(&norm, url) < 0)
			return -1;
		r->fetch_url = strdup(norm + 7);
		free(norm);
	} else {
		r->fetch_url = strdup(url);
	}
	if (!r->fetch_url || parse_ssh_host(r, url) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (c) {
		r->creds.username = dup_or_null(c->username, &fail);
		r->creds.password_file = dup_or_null(c->password_file, &fail);
		r->creds.password_env = dup_or_null(c->password_env, &fail);
		r->creds.ssh_key_file = dup_or_null(c->ssh_key_file, &fail);
		r->creds.ssh_passphrase_env = dup_or_null(c->ssh_passphrase_env, &fail);
		r->creds.known_hosts_file = dup_or_null(c->known_hosts_file, &fail);
		r->creds.ca_file = dup_or_null(c->ca_file, &fail);
	}
	r->lock_timeout_ms = o->lock_timeout_ms;
	return fail ? cairn_error_set(CAIRN_ENOMEM, "out of memory") : 0;
}

int cairn_source_open(cairn_source_repo **out, const char *url, const cairn_source_opts *opts)
{
	struct cairn_source_repo *r = NULL;
	char name[CAIRN_SOURCE_MIRROR_NAME_LEN], *dir = NULL;
	int rc, lockfd = -1;

	if (!opts || opts->version != CAIRN_SOURCE_OPTS_VERSION || !opts->state_dir)
		return cairn_error_set(CAIRN_EINVAL, "source options without a state directory");
	rc = source__init();
	if (rc == 0)
		rc = cairn_source_mirror_name(name, url);
	if (rc < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	cairn_source_url_redact(r->shown, sizeof(r->shown), url);
	rc = copy_opts(r, url, opts);
	if (rc < 0)
		goto out;
	if (asprintf(&dir, "%s/repos", opts->state_dir) < 0 ||
	    asprintf(&r->path, "%s/%s.git", dir, name) < 0 ||
	    asprintf(&r->lock_path, "%s/%s.lock", dir, name) < 0) {
		r->path = NULL;
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	rc = mkdir_p(dir);
	if (rc == 0)
		rc = source__lock(r, &lockfd);
	if (rc == 0)
		rc = mirror_repair(r);
	source__unlock(lockfd);
	if (rc < 0)
		goto out;
	*out = r;
	r = NULL;
out:
	free(dir);
	cairn_source_repo_free(r);
	return rc;
}

const char *cairn_source_repo_path(const cairn_source_repo *repo)
{
	return repo->path;
}

void cairn_source_repo_free(cairn_source_repo *r)
{
	if (!r)
		return;
	git_repository_free(r->git);
	free(r->fetch_url);
	free(r->path);
	free(r->lock_path);
	free(r->host);
	free((char *)r->creds.username);
	free((char *)r->creds.password_file);
	free((char *)r->creds.password_env);
	free((char *)r->creds.ssh_key_file);
	free((char *)r->creds.ssh_passphrase_env);
	free((char *)r->creds.known_hosts_file);
	free((char *)r->creds.ca_file);
	free(r);
}

int source__remote(git_remote **out, struct cairn_source_repo *r)
{
	git_remote_create_options o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = r->git;
	/* Anonymous (nothing stored in the mirror's config), and no url.insteadOf
	 * rewriting: the URL fetched is the URL configured. */
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, r->fetch_url, &o);
}

/* Make HEAD follow the remote's default branch (when it has one). */
static void update_head(struct cairn_source_repo *r, git_remote *remote)
{
	git_buf head = {0};
	git_reference *ref = NULL;

	if (git_remote_default_branch(&head, remote) == 0 &&
	    strncmp(head.ptr, "refs/heads/", 11) == 0)
		git_reference_symbolic_create(&ref, r->git, "HEAD", head.ptr, 1, "cairn fetch");
	git_reference_free(ref);
	git_buf_dispose(&head);
}

/* Connect, download every branch and tag, update and prune refs. */
static int fetch_locked(struct cairn_source_repo *r)
{
	static char *specs[] = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
	git_strarray refspecs = {specs, 2};
	git_remote *remote = NULL;
	git_fetch_options fo;
	int rc;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	r->auth_attempts = 0;
	r->host_key_error = 0;
	source__callbacks(&fo.callbacks, r);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	/* Process-wide in libgit2: fetches with different CA files must not overlap. */
	if (r->creds.ca_file)
		git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, r->creds.ca_file, NULL);
	rc = source__remote(&remote, r);
	if (rc == 0)
		rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &fo.callbacks, NULL, NULL);
	if (rc == 0)
		rc = git_remote_download(remote, &refspecs, &fo);
	if (rc == 0)
		rc = git_remote_update_tips(remote, &fo.callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE,
		                            "cairn fetch");
	if (rc == 0)
		rc = git_remote_prune(remote, &fo.callbacks);
	if (rc == 0)
		update_head(r, remote);
	if (rc < 0) {
		if (r->host_key_error)
			rc = cairn_error_last()->code;
		else
			rc = source__git_error(r->auth_attempts > 1 ? CAIRN_EPERM : CAIRN_EIO,
			                       "fetching", r->shown);
	}
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	return rc;
}

int cairn_source_fetch(cairn_source_repo *r)
{
	int rc, lockfd = -1;

	rc = source__lock(r, &lockfd);
	if (rc < 0)
		return rc;
	rc = mirror_repair(r);
	if (rc == 0)
		rc = fetch_locked(r);
	source__unlock(lockfd);
	return rc;
}
