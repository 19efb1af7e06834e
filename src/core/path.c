/*
 * path.c - paths that must stay inside a root.
 *
 * Paths come from repositories and configuration written by other people
 * (kustomization entries, template names, policy files), so every one is
 * checked twice: lexically (no absolute path, no ".." above the start)
 * and, when a file is opened, by the kernel or by our own walk that
 * follows symlinks one at a time and refuses any that leads out.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/util.h"

/* Symlinks followed in one open before giving up, as Linux's MAXSYMLINKS. */
#define PATH_MAX_SYMLINKS 40
/* Directory levels kept open during the fallback walk. */
#define PATH_MAX_DEPTH 256

/* Exposed to the unit tests so that the fallback is tested on kernels
 * that have openat2 too. */
int path__open_walk(int *out_fd, int rootfd, const char *rel, int flags);

/*
 * Lexical cleaning as Go's path.Clean: repeated slashes and "." go,
 * "x/.." pairs cancel. With `refuse_climb` a ".." that would climb above
 * the start is an error (CAIRN_EPERM); otherwise a relative path keeps
 * its leading ".." and a rooted one drops ".." at the root.
 * Returns a malloc'd string ("." for an empty result).
 */
static int clean_path(char **out, const char *in, int refuse_climb, const char *what)
{
	size_t n = strlen(in), w = 0, r = 0, floor = 0;
	int rooted = in[0] == '/';
	char *buf = malloc(n + 2);

	if (!buf)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory cleaning a path");
	if (rooted)
		buf[w++] = '/', r = 1, floor = 1;
	while (r < n) {
		size_t end = r;

		while (end < n && in[end] != '/')
			end++;
		if (end == r || (end - r == 1 && in[r] == '.')) {
			/* empty or "." component */
		} else if (end - r == 2 && in[r] == '.' && in[r + 1] == '.') {
			if (w > floor) {
				while (w > floor && buf[w - 1] != '/')
					w--;
				if (w > floor)
					w--; /* the separator before it */
			} else if (refuse_climb) {
				free(buf);
				return cairn_error_set(CAIRN_EPERM, "path '%s' climbs above its %s",
				                       in, what);
			} else if (!rooted) {
				if (w > 0)
					buf[w++] = '/';
				memcpy(buf + w, "..", 2);
				w += 2;
				floor = w;
			}
		} else {
			if (w > (rooted ? 1 : 0) && buf[w - 1] != '/')
				buf[w++] = '/';
			memcpy(buf + w, in + r, end - r);
			w += end - r;
		}
		r = end + 1;
	}
	if (w == 0)
		buf[w++] = '.';
	buf[w] = '\0';
	*out = buf;
	return 0;
}

int cairn_path_check_relative(const char *rel)
{
	char *clean = NULL;
	int rc;

	if (!rel || !*rel)
		return cairn_error_set(CAIRN_EPERM, "empty path where a relative path is needed");
	if (rel[0] == '/')
		return cairn_error_set(CAIRN_EPERM,
		                       "absolute path '%s' where a relative path is needed", rel);
	rc = clean_path(&clean, rel, 1, "directory");
	free(clean);
	return rc;
}

int cairn_path_clean(char **out, const char *rel)
{
	if (!rel)
		return cairn_error_set(CAIRN_EINVAL, "no path to clean");
	if (rel[0] == '/')
		return cairn_error_set(CAIRN_EPERM,
		                       "absolute path '%s' where a relative path is needed", rel);
	return clean_path(out, rel, 1, "directory");
}

int cairn_path_join(char **out, const char *root, const char *rel)
{
	char *crel = NULL, *joined = NULL;
	size_t rl, cl;
	int rc;

	if (!root || !rel)
		return cairn_error_set(CAIRN_EINVAL, "no path to join");
	if (rel[0] == '/')
		return cairn_error_set(CAIRN_EPERM, "absolute path '%s' cannot be joined to '%s'",
		                       rel, root);
	if ((rc = clean_path(&crel, rel, 1, "root")) < 0)
		goto out;
	rl = strlen(root), cl = strlen(crel);
	if (!(joined = malloc(rl + cl + 2))) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory joining paths");
		goto out;
	}
	/* The cleaned `rel` only descends, so cleaning the concatenation
	 * cannot take it above `root`. */
	memcpy(joined, root, rl);
	joined[rl] = '/';
	memcpy(joined + rl + 1, crel, cl + 1);
	rc = clean_path(out, *root ? joined : crel, 0, "root");
out:
	free(crel);
	free(joined);
	return rc;
}

static int open_error(int err, const char *rel)
{
	if (err == EXDEV)
		return cairn_error_set(CAIRN_EPERM, "path '%s' leads outside its root", rel);
	if (err == ELOOP)
		return cairn_error_set(CAIRN_EPERM,
		                       "path '%s' has too many symlinks or a symlink loop", rel);
	return cairn_error_set_errno(err, "opening '%s'", rel);
}

/* Flags we accept: reading only, no creation, no truncation. */
static int check_flags(int flags)
{
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) ||
	    (flags & O_TMPFILE) == O_TMPFILE)
		return cairn_error_set(CAIRN_EINVAL,
		                       "cairn_path_open_beneath opens for reading only (flags %#x)",
		                       (unsigned)flags);
	return 0;
}

/*
 * The fallback walk's state: a stack of directory fds from the root down
 * (the root itself is borrowed, not closed) and the path still to go,
 * which grows in front when a symlink is expanded.
 */
struct walk {
	int fds[PATH_MAX_DEPTH];
	int depth;
	char todo[2 * PATH_MAX + 2];
	size_t todo_len;
};

static void walk_pop(struct walk *w)
{
	if (w->depth > 0)
		close(w->fds[w->depth--]);
}

/* Put `target` + "/" in front of the remaining path. */
static int walk_prepend(struct walk *w, const char *target, size_t tlen, const char *rel)
{
	if (tlen + 1 + w->todo_len >= sizeof(w->todo))
		return cairn_error_set(CAIRN_ELIMIT, "path '%s' expands to more than %d bytes", rel,
		                       (int)sizeof(w->todo) - 1);
	memmove(w->todo + tlen + 1, w->todo, w->todo_len + 1);
	memcpy(w->todo, target, tlen);
	w->todo[tlen] = '/';
	w->todo_len += tlen + 1;
	return 0;
}

/*
 * Expand the symlink `name` in the current directory (opened O_PATH as
 * `fd`). Absolute targets are refused outright, as RESOLVE_BENEATH does;
 * relative ones are walked like the rest, so a ".." in them is checked
 * against the stack.
 */
static int walk_symlink(struct walk *w, int fd, int *links, const char *rel)
{
	char target[PATH_MAX];
	ssize_t n;

	if (++*links > PATH_MAX_SYMLINKS)
		return open_error(ELOOP, rel);
	n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return cairn_error_set_errno(errno, "reading a symlink in '%s'", rel);
	if ((size_t)n >= sizeof(target))
		return cairn_error_set(CAIRN_ELIMIT, "symlink in '%s' is too long", rel);
	if (n == 0 || target[0] == '/')
		return cairn_error_set(CAIRN_EPERM,
		                       "path '%s' has a symlink to '%.*s' outside its root", rel,
		                       (int)n, target);
	return walk_prepend(w, target, (size_t)n, rel);
}

/*
 * Take the next component off the front of the remaining path into
 * `name`. Returns its length, or -1 when it is longer than a file name
 * can be (cutting it would open some other file).
 */
static ssize_t walk_next(struct walk *w, char *name, size_t size)
{
	size_t i = 0, len = 0;

	while (i < w->todo_len && w->todo[i] == '/')
		i++;
	while (i + len < w->todo_len && w->todo[i + len] != '/')
		len++;
	if (len >= size)
		return -1;
	memcpy(name, w->todo + i, len);
	name[len] = '\0';
	i += len;
	memmove(w->todo, w->todo + i, w->todo_len - i + 1);
	w->todo_len -= i;
	return (ssize_t)len;
}

static int walk_is_last(const struct walk *w)
{
	size_t i;

	for (i = 0; i < w->todo_len; i++) {
		if (w->todo[i] != '/')
			return 0;
	}
	return 1;
}

/*
 * Resolve `rel` one component at a time with O_PATH|O_NOFOLLOW, expanding
 * symlinks ourselves, and open the last one with `flags`|O_NOFOLLOW, so a
 * symlink swapped in after the check fails instead of being followed.
 */
int path__open_walk(int *out_fd, int rootfd, const char *rel, int flags)
{
	struct walk *w = calloc(1, sizeof(*w));
	char name[NAME_MAX + 1];
	int links = 0, rc = 0, fd = -1;

	if (!w)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory opening '%s'", rel);
	w->fds[0] = rootfd;
	if ((rc = walk_prepend(w, rel, strlen(rel), rel)) < 0)
		goto out;
	for (;;) {
		struct stat st;
		int cur = w->fds[w->depth], last;
		ssize_t len = walk_next(w, name, sizeof(name));

		if (len < 0) {
			rc = open_error(ENAMETOOLONG, rel);
			goto out;
		}
		if (len == 0 && walk_is_last(w)) {
			/* Nothing left ("." or a trailing slash): the current dir. */
			fd = openat(cur, ".", flags | O_CLOEXEC);
			if (fd < 0)
				rc = open_error(errno, rel);
			goto out;
		}
		last = walk_is_last(w);
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (w->depth == 0) {
				rc = cairn_error_set(CAIRN_EPERM,
				                     "path '%s' leads outside its root", rel);
				goto out;
			}
			walk_pop(w);
			continue;
		}
		fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			rc = open_error(errno, rel);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			rc = walk_symlink(w, fd, &links, rel);
			close(fd), fd = -1;
			if (rc < 0)
				goto out;
			continue;
		}
		if (last) {
			close(fd);
			fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				rc = open_error(errno, rel);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd), fd = -1;
			rc = open_error(ENOTDIR, rel);
			goto out;
		}
		if (w->depth + 1 >= PATH_MAX_DEPTH) {
			close(fd), fd = -1;
			rc = cairn_error_set(CAIRN_ELIMIT, "path '%s' is nested too deeply", rel);
			goto out;
		}
		w->fds[++w->depth] = fd;
		fd = -1;
	}
out:
	while (w->depth > 0)
		walk_pop(w);
	free(w);
	if (rc == 0)
		*out_fd = fd;
	return rc;
}

int cairn_path_open_beneath(int *out_fd, int rootfd, const char *rel, int flags)
{
	struct open_how how = {0};
	int rc, fd;

	if ((rc = cairn_path_check_relative(rel)) < 0 || (rc = check_flags(flags)) < 0)
		return rc;
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	do {
		fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0) {
		*out_fd = fd;
		return 0;
	}
	/* ENOSYS: a kernel before 5.6; EPERM: a seccomp filter refusing the
	 * syscall (container runtimes did, before they knew it). */
	if (errno != ENOSYS && errno != EPERM)
		return open_error(errno, rel);
	return path__open_walk(out_fd, rootfd, rel, flags);
}

int cairn_tempdir_make(char *out, size_t size, const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(out, size, "%s/%s.XXXXXX", tmp, prefix);
	if (n < 0 || (size_t)n >= size) {
		out[0] = '\0';
		return cairn_error_set(CAIRN_ELIMIT, "temporary directory name under '%s' too long",
		                       tmp);
	}
	if (mkdtemp(out) == NULL) {
		out[0] = '\0'; /* nothing to remove */
		return cairn_error_set_errno(errno, "cannot create a directory in '%s'", tmp);
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0; /* best effort: go on with the rest */
}

void cairn_path_remove_tree(const char *path)
{
	if (path != NULL && *path != '\0')
		(void)nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
