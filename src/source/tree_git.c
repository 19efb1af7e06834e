/*
 * tree_git.c - the cairn_tree backend reading a commit's tree straight
 * from the object database: no checkout, no working directory.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/source.h"
#include "source_private.h"
#include "tree_private.h"

struct git_tree_impl {
	struct cairn_tree base;
	git_repository *git;
	git_odb *odb;
	git_tree *root;
	char what[64];
};

static struct git_tree_impl *impl(cairn_tree *t)
{
	return (struct git_tree_impl *)t;
}

static void node_of(struct git_tree_impl *g, const git_tree_entry *e, struct tree_node *out)
{
	size_t len = 0;
	git_object_t type;

	memset(out, 0, sizeof(*out));
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		out->kind = CAIRN_TREE_DIR;
		break;
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		out->executable = 1;
		/* fall through */
	case GIT_FILEMODE_BLOB:
		out->kind = CAIRN_TREE_FILE;
		if (git_odb_read_header(&len, &type, g->odb, git_tree_entry_id(e)) == 0)
			out->size = len;
		break;
	case GIT_FILEMODE_LINK:
		out->kind = CAIRN_TREE_SYMLINK;
		break;
	default:
		out->kind = CAIRN_TREE_OTHER;
	}
}

static int g_lstat(cairn_tree *t, const char *path, struct tree_node *out)
{
	struct git_tree_impl *g = impl(t);
	git_tree_entry *e = NULL;

	if (!*path) {
		*out = (struct tree_node){CAIRN_TREE_DIR, 0, 0};
		return 0;
	}
	if (git_tree_entry_bypath(&e, g->root, path) < 0)
		return CAIRN_ENOTFOUND;
	node_of(g, e, out);
	git_tree_entry_free(e);
	return 0;
}

/* Append the blob at `path` to out, refusing more than `limit` bytes. */
static int read_blob(struct git_tree_impl *g, const char *path, cairn_buf *out, size_t limit)
{
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	git_object_size_t size;
	int rc;

	if (git_tree_entry_bypath(&e, g->root, path) < 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "'%s' not found in %s", path, g->what);
	rc = git_blob_lookup(&blob, g->git, git_tree_entry_id(e));
	if (rc < 0) {
		rc = source__git_error(CAIRN_ECORRUPT, "reading", path);
		goto out;
	}
	size = git_blob_rawsize(blob);
	if (size > limit) {
		rc = cairn_error_set(CAIRN_ELIMIT, "'%s' is larger than %zu bytes", path, limit);
		goto out;
	}
	rc = cairn_buf_put(out, git_blob_rawcontent(blob), (size_t)size);
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	return rc;
}

static int g_readlink(cairn_tree *t, const char *path, cairn_buf *out)
{
	return read_blob(impl(t), path, out, 4096);
}

static int g_read(cairn_tree *t, const char *path, cairn_buf *out, size_t limit)
{
	return read_blob(impl(t), path, out, limit);
}

static int g_list(cairn_tree *t, const char *path, tree_list_cb cb, void *ctx)
{
	struct git_tree_impl *g = impl(t);
	git_tree_entry *e = NULL;
	git_tree *dir = NULL;
	int rc = 0;

	if (*path) {
		if (git_tree_entry_bypath(&e, g->root, path) < 0 ||
		    git_tree_lookup(&dir, g->git, git_tree_entry_id(e)) < 0) {
			git_tree_entry_free(e);
			return cairn_error_set(CAIRN_ENOTFOUND, "directory '%s' not found in %s",
			                       path, g->what);
		}
		git_tree_entry_free(e);
	}
	for (size_t i = 0, n = git_tree_entrycount(dir ? dir : g->root); i < n && rc == 0; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(dir ? dir : g->root, i);
		struct tree_node node;

		node_of(g, te, &node);
		rc = cb(ctx, git_tree_entry_name(te), &node);
	}
	git_tree_free(dir);
	return rc;
}

static void g_free(cairn_tree *t)
{
	struct git_tree_impl *g = impl(t);

	git_tree_free(g->root);
	git_odb_free(g->odb);
	git_repository_free(g->git);
	free(g);
}

static const struct tree_ops git_ops = {g_lstat, g_readlink, g_read, g_list, g_free};

int cairn_tree_open_git_path(cairn_tree **out, const char *repo_path, const char *commit)
{
	struct git_tree_impl *g;
	git_commit *c = NULL;
	git_oid id;
	int rc;

	rc = source__init();
	if (rc < 0)
		return rc;
	if (!commit || strlen(commit) != 40 || git_oid_fromstr(&id, commit) < 0)
		return cairn_error_set(CAIRN_EINVAL, "bad commit id '%s': expected 40 hex digits",
		                       commit ? commit : "");
	g = calloc(1, sizeof(*g));
	if (!g)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	g->base.ops = &git_ops;
	snprintf(g->what, sizeof(g->what), "commit %.12s", commit);
	g->base.what = g->what;
	if (git_repository_open_ext(&g->git, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		rc = source__git_error(CAIRN_ENOTFOUND, "opening the repository", repo_path);
		goto out;
	}
	if (git_repository_odb(&g->odb, g->git) < 0) {
		rc = source__git_error(CAIRN_EIO, "opening the object database of", repo_path);
		goto out;
	}
	if (git_commit_lookup(&c, g->git, &id) < 0 || git_commit_tree(&g->root, c) < 0) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "commit '%s' not found", commit);
		goto out;
	}
	*out = &g->base;
	g = NULL;
out:
	git_commit_free(c);
	if (g)
		g_free(&g->base);
	return rc;
}

int cairn_tree_open_git(cairn_tree **out, cairn_source_repo *repo, const char *commit)
{
	return cairn_tree_open_git_path(out, repo->path, commit);
}
