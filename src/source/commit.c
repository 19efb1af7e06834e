/*
 * commit.c - commit changed files on a branch of the mirror and push it,
 * for promotion between environments.
 *
 * The new tree is built from the branch tip's tree with tree builders,
 * one level at a time along each changed path, so no index or working
 * directory is involved. The branch ref is moved only if it still points
 * at the parent we built on, and the push must be accepted as a
 * fast-forward: a concurrent change makes the caller fetch and retry.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/source.h"
#include "cairn/util.h"
#include "source_private.h"

/* Write a tree equal to `base` (may be NULL) with `path` set to blob
 * `blob` (or removed when blob is NULL); result in *out. */
static int tree_put(git_oid *out, git_repository *git, git_tree *base, const char *path,
                    const git_oid *blob)
{
	const char *slash = strchr(path, '/');
	git_treebuilder *tb = NULL;
	git_tree *sub = NULL;
	char name[256];
	size_t n = slash ? (size_t)(slash - path) : strlen(path);
	int rc;

	if (n == 0 || n >= sizeof(name))
		return GIT_EINVALID;
	memcpy(name, path, n);
	name[n] = '\0';
	rc = git_treebuilder_new(&tb, git, base);
	if (rc < 0)
		goto out;
	if (slash) {
		const git_tree_entry *e = base ? git_tree_entry_byname(base, name) : NULL;
		git_oid subid;

		if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = git_tree_lookup(&sub, git, git_tree_entry_id(e));
		if (rc == 0)
			rc = tree_put(&subid, git, sub, slash + 1, blob);
		if (rc == 0)
			rc = git_treebuilder_insert(NULL, tb, name, &subid, GIT_FILEMODE_TREE);
	} else if (blob) {
		rc = git_treebuilder_insert(NULL, tb, name, blob, GIT_FILEMODE_BLOB);
	} else if (git_treebuilder_get(tb, name)) {
		rc = git_treebuilder_remove(tb, name);
	}
	if (rc == 0)
		rc = git_treebuilder_write(out, tb);
out:
	git_tree_free(sub);
	git_treebuilder_free(tb);
	return rc;
}

/* Apply every change to `tree`, giving the new tree id. */
static int build_tree(git_oid *out, git_repository *git, git_tree *tree,
                      const cairn_source_change *changes, size_t n)
{
	git_tree *cur = tree, *next = NULL;
	git_oid id = *git_tree_id(tree);
	int rc = 0, owned = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		git_oid blob;
		const cairn_source_change *c = &changes[i];

		if (!c->path || cairn_path_check_relative(c->path) < 0 || strstr(c->path, "..") ||
		    strstr(c->path, "//") || strstr(c->path, "./") ||
		    c->path[strlen(c->path) - 1] == '/') {
			rc = cairn_error_set(
			        CAIRN_EINVAL,
			        "bad path '%s' in a commit: expected a clean relative path",
			        c->path ? c->path : "");
			break;
		}
		if (c->content)
			rc = git_blob_create_from_buffer(&blob, git, c->content, c->len);
		if (rc == 0)
			rc = tree_put(&id, git, cur, c->path, c->content ? &blob : NULL);
		if (rc == 0)
			rc = git_tree_lookup(&next, git, &id);
		if (rc == 0) {
			/* Compare ownership, not pointers: libgit2's cache may hand
			 * back the very object `tree` when the content is unchanged. */
			if (owned)
				git_tree_free(cur);
			cur = next;
			owned = 1;
			next = NULL;
		} else {
			rc = source__git_error(CAIRN_EIO, "writing the tree for", c->path);
		}
	}
	if (owned)
		git_tree_free(cur);
	if (rc == 0)
		*out = id;
	return rc;
}

/* Remote refusals of a pushed ref arrive here (payload: the repo). */
static int push_ref_cb(const char *refname, const char *status, void *data)
{
	struct cairn_source_repo *r = data;

	if (status) {
		r->push_rejected = 1;
		snprintf(r->push_msg, sizeof(r->push_msg), "%s: %s", refname, status);
	}
	return 0;
}

static int push(struct cairn_source_repo *r, const char *ref)
{
	git_push_options po;
	git_remote *remote = NULL;
	char spec[1100];
	char *specs[] = {spec};
	git_strarray refspecs = {specs, 1};
	int rc;

	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	snprintf(spec, sizeof(spec), "%s:%s", ref, ref);
	r->auth_attempts = 0;
	r->host_key_error = 0;
	r->push_rejected = 0;
	r->push_msg[0] = '\0';
	source__callbacks(&po.callbacks, r);
	po.callbacks.push_update_reference = push_ref_cb;
	rc = source__remote(&remote, r);
	if (rc == 0)
		rc = git_remote_connect(remote, GIT_DIRECTION_PUSH, &po.callbacks, NULL, NULL);
	if (rc == 0)
		rc = git_remote_upload(remote, &refspecs, &po);
	if (rc < 0 && !r->host_key_error) {
		const git_error *e = git_error_last();
		/* The local transport refuses a non-fast-forward itself. */
		int nonff = e && e->message &&
		            (strstr(e->message, "fastforward") ||
		             strstr(e->message, "not present locally"));
		rc = source__git_error(nonff ? CAIRN_EEXISTS : CAIRN_EIO,
		                       nonff ? "push rejected by" : "pushing to", r->shown);
	} else if (rc < 0) {
		rc = cairn_error_last()->code;
	} else if (r->push_rejected)
		rc = cairn_error_set(CAIRN_EEXISTS, "push to '%s' rejected: %s", r->shown,
		                     r->push_msg);
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	return rc;
}

/* Commit on top of refs/heads/<branch>; the ref moves only if unchanged. */
static int commit_locked(git_oid *out, struct cairn_source_repo *r, const char *ref,
                         const cairn_source_change *changes, size_t n,
                         const cairn_source_signature *author,
                         const cairn_source_signature *committer, const char *message)
{
	git_reference *head = NULL, *moved = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL, *newtree = NULL;
	git_signature *a = NULL, *c = NULL;
	git_oid treeid;
	int rc;

	if (git_reference_lookup(&head, r->git, ref) < 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "branch '%s' not found in '%s'", ref + 11,
		                       r->shown);
	rc = git_commit_lookup(&parent, r->git, git_reference_target(head));
	if (rc == 0)
		rc = git_commit_tree(&tree, parent);
	if (rc < 0) {
		rc = source__git_error(CAIRN_ECORRUPT, "reading the tip of", ref);
		goto out;
	}
	rc = build_tree(&treeid, r->git, tree, changes, n);
	if (rc < 0)
		goto out;
	if (git_tree_lookup(&newtree, r->git, &treeid) < 0 ||
	    git_signature_now(&a, author->name, author->email) < 0 ||
	    git_signature_now(&c, committer->name, committer->email) < 0) {
		rc = source__git_error(CAIRN_EINVAL, "preparing the commit on", ref);
		goto out;
	}
	if (git_commit_create(out, r->git, NULL, a, c, NULL, message, newtree, 1,
	                      (const git_commit **)&parent) < 0 ||
	    git_reference_set_target(&moved, head, out, "cairn commit") < 0) {
		rc = source__git_error(CAIRN_EIO, "committing on", ref);
		goto out;
	}
out:
	git_signature_free(a);
	git_signature_free(c);
	git_tree_free(newtree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_reference_free(moved);
	git_reference_free(head);
	return rc;
}

int cairn_source_commit_push(char out[CAIRN_SOURCE_OID_HEX_LEN], cairn_source_repo *repo,
                             const char *branch, const cairn_source_change *changes,
                             size_t nchanges, const cairn_source_signature *author,
                             const cairn_source_signature *committer, const char *message)
{
	char ref[512];
	git_oid id;
	int rc, lockfd = -1;

	if (!branch || !*branch || strlen(branch) > 400 || !author || !committer || !message)
		return cairn_error_set(CAIRN_EINVAL,
		                       "commit without a branch, author, committer or message");
	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	if (!git_reference_is_valid_name(ref))
		return cairn_error_set(CAIRN_EINVAL, "bad branch name '%s'", branch);
	rc = source__lock(repo, &lockfd);
	if (rc < 0)
		return rc;
	rc = commit_locked(&id, repo, ref, changes, nchanges, author, committer, message);
	if (rc == 0)
		rc = push(repo, ref);
	source__unlock(lockfd);
	if (rc == 0)
		git_oid_tostr(out, CAIRN_SOURCE_OID_HEX_LEN, &id);
	return rc;
}
