/*
 * tree.c - the read-only tree interface: path resolution shared by the
 * git and directory backends.
 *
 * Paths are resolved one component at a time, as the kernel does: "."
 * is skipped, ".." drops the last resolved component, and a symlink met
 * on the way (or at the end, when following) is replaced by its target
 * read relative to the link's directory. A target that is absolute, or
 * whose ".." climbs above the root, is refused with an error naming the
 * link; more than TREE_HOPS_MAX links in one resolution is a loop.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/source.h"
#include "cairn/util.h"
#include "tree_private.h"

/* Most symlinks followed while resolving one path (Linux's limit). */
#define TREE_HOPS_MAX 40
/* Longest path handled. */
#define TREE_PATH_MAX 4096

struct resolver {
	cairn_tree *t;
	const char *path;         /* as asked, for messages */
	cairn_buf cur;            /* resolved so far */
	cairn_buf rest;           /* still to resolve */
	char link[TREE_PATH_MAX]; /* last link followed, for messages */
	int hops;
};

/* Pop the next component of r->rest into comp (NUL-terminated). */
static int next_comp(struct resolver *r, char *comp, size_t size)
{
	char *s = r->rest.ptr;
	size_t skip = 0, n;

	while (skip < r->rest.len && s[skip] == '/')
		skip++;
	n = strcspn(s + skip, "/");
	if (n == 0)
		return 0;
	if (n >= size)
		return cairn_error_set(CAIRN_ELIMIT, "path component longer than %zu bytes",
		                       size - 1);
	memcpy(comp, s + skip, n);
	comp[n] = '\0';
	memmove(s, s + skip + n, r->rest.len - skip - n + 1);
	r->rest.len -= skip + n;
	return 1;
}

static int rest_empty(const struct resolver *r)
{
	return strspn(r->rest.ptr, "/") == r->rest.len;
}

static int climb(struct resolver *r)
{
	char *slash;

	if (r->cur.len == 0) {
		if (r->link[0])
			return cairn_error_set(CAIRN_EPERM,
			                       "symlink '%s' points outside the tree of %s",
			                       r->link, r->t->what);
		return cairn_error_set(CAIRN_EPERM, "path '%s' leaves the tree of %s", r->path,
		                       r->t->what);
	}
	slash = strrchr(r->cur.ptr, '/');
	cairn_buf_truncate(&r->cur, slash ? (size_t)(slash - r->cur.ptr) : 0);
	return 0;
}

/* Replace the symlink at `at` by its target in front of the rest. */
static int follow(struct resolver *r, const char *at)
{
	cairn_buf target = CAIRN_BUF_INIT(TREE_PATH_MAX);
	cairn_buf rest = CAIRN_BUF_INIT(TREE_PATH_MAX * 2);
	int rc;

	snprintf(r->link, sizeof(r->link), "%s", at);
	if (++r->hops > TREE_HOPS_MAX)
		return cairn_error_set(CAIRN_ELIMIT,
		                       "too many levels of symbolic links at '%s' (a loop?) in %s",
		                       at, r->t->what);
	rc = r->t->ops->readlink(r->t, at, &target);
	if (rc < 0)
		goto out;
	if (target.len == 0 || target.ptr[0] == '/' || memchr(target.ptr, '\0', target.len)) {
		rc = cairn_error_set(CAIRN_EPERM,
		                     "symlink '%s' points outside the tree of %s: '%s'", at,
		                     r->t->what, target.ptr ? target.ptr : "");
		goto out;
	}
	rc = cairn_buf_printf(&rest, "%s/%s", target.ptr, r->rest.ptr);
	if (rc == 0) {
		cairn_buf_reset(&r->rest);
		rc = cairn_buf_put(&r->rest, rest.ptr, rest.len);
	}
out:
	cairn_buf_dispose(&target);
	cairn_buf_dispose(&rest);
	return rc;
}

static int step(struct resolver *r, const char *comp, int follow_last, struct tree_node *node)
{
	size_t keep = r->cur.len;
	int rc;

	if (strcmp(comp, ".") == 0)
		return 0;
	if (strcmp(comp, "..") == 0)
		return climb(r);
	rc = keep ? cairn_buf_printf(&r->cur, "/%s", comp) : cairn_buf_puts(&r->cur, comp);
	if (rc < 0)
		return rc;
	rc = r->t->ops->lstat(r->t, r->cur.ptr, node);
	if (rc == CAIRN_ENOTFOUND)
		return cairn_error_set(CAIRN_ENOTFOUND, "'%s' not found in %s", r->path,
		                       r->t->what);
	if (rc < 0)
		return rc;
	if (node->kind == CAIRN_TREE_SYMLINK && (follow_last || !rest_empty(r))) {
		char at[TREE_PATH_MAX];
		snprintf(at, sizeof(at), "%s", r->cur.ptr);
		cairn_buf_truncate(&r->cur, keep);
		return follow(r, at);
	}
	if (node->kind != CAIRN_TREE_DIR && !rest_empty(r))
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "'%s' not found in %s: '%s' is not a directory", r->path,
		                       r->t->what, r->cur.ptr);
	return 0;
}

/* Resolve `path` to a symlink-free path in *out (malloc'd) and its node. */
static int resolve(char **out, struct tree_node *out_node, cairn_tree *t, const char *path,
                   int follow_last)
{
	struct resolver r = {
	        t, path, CAIRN_BUF_INIT(TREE_PATH_MAX), CAIRN_BUF_INIT(TREE_PATH_MAX * 2), "", 0};
	struct tree_node node = {CAIRN_TREE_DIR, 0, 0};
	char comp[256];
	int rc;

	if (!path)
		path = "";
	if (strlen(path) >= TREE_PATH_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "path longer than %d bytes", TREE_PATH_MAX);
	if (path[0] == '/')
		return cairn_error_set(CAIRN_EPERM,
		                       "path '%s' is absolute: expected a path inside %s", path,
		                       t->what);
	/* Fast path: a clean path whose parents are real directories. */
	if (path[0] && !strstr(path, "//") && cairn_path_check_relative(path) == 0 &&
	    !strstr(path, "./") && path[strlen(path) - 1] != '.' && path[strlen(path) - 1] != '/' &&
	    t->ops->lstat(t, path, &node) == 0 &&
	    (node.kind != CAIRN_TREE_SYMLINK || !follow_last)) {
		*out = strdup(path);
		*out_node = node;
		return *out ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	node = (struct tree_node){CAIRN_TREE_DIR, 0, 0};
	rc = cairn_buf_puts(&r.rest, path);
	if (rc == 0)
		rc = cairn_buf_puts(&r.cur, "");
	while (rc == 0 && (rc = next_comp(&r, comp, sizeof(comp))) == 1)
		rc = step(&r, comp, follow_last, &node);
	if (rc == 0 && r.cur.len == 0)
		node = (struct tree_node){CAIRN_TREE_DIR, 0, 0};
	if (rc == 0) {
		*out = cairn_buf_detach(&r.cur, NULL);
		*out_node = node;
		if (!*out)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	cairn_buf_dispose(&r.cur);
	cairn_buf_dispose(&r.rest);
	return rc;
}

int cairn_tree_stat(cairn_tree *t, cairn_tree_kind *out_kind, uint64_t *out_size, const char *path)
{
	struct tree_node node;
	char *res = NULL;
	int rc = resolve(&res, &node, t, path, 1);

	if (rc < 0)
		return rc;
	free(res);
	if (out_kind)
		*out_kind = node.kind;
	if (out_size)
		*out_size = node.size;
	return 0;
}

int cairn_tree_read(cairn_tree *t, cairn_buf *out, const char *path, size_t limit)
{
	struct tree_node node;
	char *res = NULL;
	size_t before = out->len;
	int rc = resolve(&res, &node, t, path, 1);

	if (rc < 0)
		return rc;
	if (limit == 0)
		limit = out->max;
	if (node.kind != CAIRN_TREE_FILE) {
		rc = cairn_error_set(CAIRN_EINVAL, "'%s' in %s is %s, not a file", path, t->what,
		                     node.kind == CAIRN_TREE_DIR ? "a directory"
		                                                 : "a special file");
	} else if (node.size > limit) {
		rc = cairn_error_set(CAIRN_ELIMIT,
		                     "file '%s' in %s is %llu bytes, more than the limit of %zu",
		                     path, t->what, (unsigned long long)node.size, limit);
	} else {
		rc = t->ops->read(t, res, out, limit);
		if (rc < 0)
			cairn_buf_truncate(out, before);
		if (rc == CAIRN_ELIMIT)
			cairn_error_set(CAIRN_ELIMIT,
			                "file '%s' in %s is more than the limit of %zu bytes", path,
			                t->what, limit);
	}
	free(res);
	return rc;
}

struct list_ctx {
	cairn_tree *t;
	cairn_tree_list *l;
	size_t cap;
	const char *prefix; /* relative to the listed directory */
	const char *real;   /* resolved directory */
	int recursive;
};

static int list_add(void *vctx, const char *name, const struct tree_node *node)
{
	struct list_ctx *c = vctx;
	cairn_tree_entry *e;
	int rc = 0;

	if (c->l->count >= CAIRN_TREE_LIST_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d entries in a listing of %s",
		                       CAIRN_TREE_LIST_MAX, c->t->what);
	if (c->l->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		e = realloc(c->l->entries, cap * sizeof(*e));
		if (!e)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		c->l->entries = e;
		c->cap = cap;
	}
	e = &c->l->entries[c->l->count];
	if (asprintf(&e->path, "%s%s%s", c->prefix, *c->prefix ? "/" : "", name) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	e->kind = node->kind;
	e->size = node->size;
	e->executable = node->executable;
	c->l->count++;
	if (c->recursive && node->kind == CAIRN_TREE_DIR) {
		struct list_ctx sub = *c;
		char *real = NULL;
		if (asprintf(&real, "%s%s%s", c->real, *c->real ? "/" : "", name) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		sub.prefix = e->path;
		sub.real = real;
		rc = c->t->ops->list(c->t, real, list_add, &sub);
		c->cap = sub.cap;
		free(real);
	}
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const cairn_tree_entry *)a)->path, ((const cairn_tree_entry *)b)->path);
}

int cairn_tree_list_dir(cairn_tree_list *out, cairn_tree *t, const char *dir, int recursive)
{
	cairn_tree_list l = {NULL, 0};
	struct list_ctx c = {t, &l, 0, "", NULL, recursive};
	struct tree_node node;
	char *res = NULL;
	int rc = resolve(&res, &node, t, dir, 1);

	if (rc < 0)
		return rc;
	if (node.kind != CAIRN_TREE_DIR) {
		rc = cairn_error_set(CAIRN_EINVAL, "'%s' in %s is not a directory", dir, t->what);
		goto out;
	}
	c.real = res;
	rc = t->ops->list(t, res, list_add, &c);
	if (rc < 0)
		goto out;
	qsort(l.entries, l.count, sizeof(*l.entries), entry_cmp);
	*out = l;
	l.entries = NULL;
	l.count = 0;
out:
	cairn_tree_list_dispose(&l);
	free(res);
	return rc;
}

void cairn_tree_list_dispose(cairn_tree_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->entries[i].path);
	free(l->entries);
	l->entries = NULL;
	l->count = 0;
}

void cairn_tree_free(cairn_tree *t)
{
	if (t)
		t->ops->free(t);
}
