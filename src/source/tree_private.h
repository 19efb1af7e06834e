/*
 * tree_private.h - the backend interface behind cairn_tree.
 *
 * A backend answers four questions about paths that are already resolved
 * (clean, relative, "" for the root, no symlink among their parents); the
 * shared code in tree.c does path resolution, symlink following with the
 * stay-inside rule and loop detection, recursion and sorting, so both
 * backends behave the same by construction.
 */
#ifndef CAIRN_TREE_PRIVATE_H
#define CAIRN_TREE_PRIVATE_H

#include "cairn/source.h"

struct tree_node {
	cairn_tree_kind kind; /* CAIRN_TREE_SYMLINK for links: never followed here */
	uint64_t size;
	int executable;
};

/* Called once per entry of a directory listing. */
typedef int (*tree_list_cb)(void *ctx, const char *name, const struct tree_node *node);

struct tree_ops {
	/* Describe `path` without following it. A parent that is a symlink or
	 * not a directory counts as missing: CAIRN_ENOTFOUND (no message
	 * needed: tree.c writes it). */
	int (*lstat)(cairn_tree *t, const char *path, struct tree_node *out);
	/* Append a symlink's target to out (at most 4 KiB). */
	int (*readlink)(cairn_tree *t, const char *path, cairn_buf *out);
	/* Append the file's bytes; CAIRN_ELIMIT past `limit`. */
	int (*read)(cairn_tree *t, const char *path, cairn_buf *out, size_t limit);
	/* Call cb for each entry of the directory, in any order. */
	int (*list)(cairn_tree *t, const char *path, tree_list_cb cb, void *ctx);
	void (*free)(cairn_tree *t);
};

struct cairn_tree {
	const struct tree_ops *ops;
	const char *what; /* "commit 0123abc" or the directory, for messages */
};

#endif
