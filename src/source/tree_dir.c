/*
 * tree_dir.c - the cairn_tree backend over a local directory.
 *
 * lstat walks the parents with O_NOFOLLOW|O_DIRECTORY from the root fd,
 * so a symlinked parent counts as missing and tree.c resolves it with the
 * same rules as in git. Files are opened with cairn_path_open_beneath,
 * which refuses to leave the root even if the tree changes under us.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/source.h"
#include "cairn/util.h"
#include "tree_private.h"

struct dir_tree_impl {
	struct cairn_tree base;
	int rootfd;
	char *label; /* "directory '<root>'" */
};

static struct dir_tree_impl *impl(cairn_tree *t)
{
	return (struct dir_tree_impl *)t;
}

/* Open the parent directory of `path` without following any symlink;
 * *name points at the last component. */
static int open_parent(struct dir_tree_impl *d, const char *path, const char **name, int *out)
{
	const char *p = path, *slash;
	int fd = dup(d->rootfd);

	if (fd < 0)
		return cairn_error_set_errno(errno, "dup");
	while ((slash = strchr(p, '/')) != NULL) {
		char comp[256];
		size_t n = (size_t)(slash - p);
		int next;

		if (n >= sizeof(comp)) {
			close(fd);
			return CAIRN_ENOTFOUND;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return CAIRN_ENOTFOUND;
		fd = next;
		p = slash + 1;
	}
	*name = p;
	*out = fd;
	return 0;
}

static void node_of(const struct stat *st, struct tree_node *out)
{
	memset(out, 0, sizeof(*out));
	if (S_ISREG(st->st_mode)) {
		out->kind = CAIRN_TREE_FILE;
		out->size = (uint64_t)st->st_size;
		out->executable = (st->st_mode & 0100) != 0;
	} else if (S_ISDIR(st->st_mode)) {
		out->kind = CAIRN_TREE_DIR;
	} else if (S_ISLNK(st->st_mode)) {
		out->kind = CAIRN_TREE_SYMLINK;
	} else {
		out->kind = CAIRN_TREE_OTHER;
	}
}

static int d_lstat(cairn_tree *t, const char *path, struct tree_node *out)
{
	struct dir_tree_impl *d = impl(t);
	const char *name;
	struct stat st;
	int fd, rc;

	if (!*path) {
		*out = (struct tree_node){CAIRN_TREE_DIR, 0, 0};
		return 0;
	}
	rc = open_parent(d, path, &name, &fd);
	if (rc < 0)
		return rc;
	rc = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? CAIRN_ENOTFOUND : 0;
	close(fd);
	if (rc == 0)
		node_of(&st, out);
	return rc;
}

static int d_readlink(cairn_tree *t, const char *path, cairn_buf *out)
{
	const char *name;
	char target[4097];
	ssize_t n;
	int fd, rc;

	rc = open_parent(impl(t), path, &name, &fd);
	if (rc < 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "'%s' not found", path);
	n = readlinkat(fd, name, target, sizeof(target));
	close(fd);
	if (n < 0)
		return cairn_error_set_errno(errno, "reading the symlink '%s'", path);
	if ((size_t)n >= sizeof(target))
		return cairn_error_set(CAIRN_ELIMIT, "symlink '%s' target longer than 4096 bytes",
		                       path);
	return cairn_buf_put(out, target, (size_t)n);
}

static int d_read(cairn_tree *t, const char *path, cairn_buf *out, size_t limit)
{
	size_t start = out->len;
	char chunk[65536];
	int fd, rc;

	rc = cairn_path_open_beneath(&fd, impl(t)->rootfd, path, O_RDONLY | O_NOFOLLOW);
	if (rc < 0)
		return rc;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cairn_error_set_errno(errno, "reading '%s'", path);
			break;
		}
		if (n == 0)
			break;
		if (out->len - start + (size_t)n > limit) {
			rc = cairn_error_set(CAIRN_ELIMIT, "'%s' is larger than %zu bytes", path,
			                     limit);
			break;
		}
		rc = cairn_buf_put(out, chunk, (size_t)n);
		if (rc < 0)
			break;
	}
	close(fd);
	return rc;
}

static int d_list(cairn_tree *t, const char *path, tree_list_cb cb, void *ctx)
{
	struct dir_tree_impl *d = impl(t);
	struct dirent *de;
	DIR *dir;
	int fd, rc = 0;

	rc = cairn_path_open_beneath(&fd, d->rootfd, *path ? path : ".",
	                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (rc < 0)
		return rc;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return cairn_error_set_errno(errno, "listing '%s'", path);
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		struct tree_node node;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* git stores no .git directory in a tree: skip it for parity. */
		if (strcmp(de->d_name, ".git") == 0)
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		node_of(&st, &node);
		rc = cb(ctx, de->d_name, &node);
	}
	closedir(dir);
	return rc;
}

static void d_free(cairn_tree *t)
{
	struct dir_tree_impl *d = impl(t);

	if (d->rootfd >= 0)
		close(d->rootfd);
	free(d->label);
	free(d);
}

static const struct tree_ops dir_ops = {d_lstat, d_readlink, d_read, d_list, d_free};

int cairn_tree_open_dir(cairn_tree **out, const char *root)
{
	struct dir_tree_impl *d = calloc(1, sizeof(*d));

	if (!d)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	d->base.ops = &dir_ops;
	d->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0) {
		int e = errno;
		free(d);
		return cairn_error_set_errno(e, "opening the directory '%s'", root);
	}
	if (asprintf(&d->label, "directory '%s'", root) < 0) {
		d->label = NULL;
		d_free(&d->base);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	d->base.what = d->label;
	*out = &d->base;
	return 0;
}
