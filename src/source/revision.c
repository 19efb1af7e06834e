/*
 * revision.c - resolve an Argo CD targetRevision to a commit id.
 *
 * The order follows Argo CD's repo server: a full commit id is taken as
 * is; then the revision is tried as a semver constraint over the tags
 * (highest match wins); then as a ref name, short or full; last as an
 * abbreviated commit id. A revision that is both a valid constraint and
 * a branch name ("1.0") resolves to the tag when one matches.
 */
#include <ctype.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/source.h"
#include "source_private.h"

static int is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Peel a ref or object to a commit id. */
static int peel_commit(git_oid *out, git_repository *git, const git_oid *id)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc = git_object_lookup(&obj, git, id, GIT_OBJECT_ANY);

	if (rc == 0)
		rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	if (rc == 0)
		git_oid_cpy(out, git_object_id(peeled));
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

/* Highest tag satisfying the constraint; 1 found, 0 none. */
static int max_tag(git_oid *out, git_repository *git, const cairn_semver_constraint *c)
{
	git_strarray tags = {0};
	cairn_semver best, v;
	const char *best_name = NULL;
	int found = 0;

	if (git_tag_list(&tags, git) < 0)
		return 0;
	for (size_t i = 0; i < tags.count; i++) {
		if (cairn_semver_parse(&v, tags.strings[i], 1) < 0 ||
		    !cairn_semver_constraint_match(c, &v))
			continue;
		if (!best_name || cairn_semver_compare(&v, &best) > 0) {
			best = v;
			best_name = tags.strings[i];
		}
	}
	if (best_name) {
		char ref[1024];
		git_oid id;
		snprintf(ref, sizeof(ref), "refs/tags/%s", best_name);
		if (git_reference_name_to_id(&id, git, ref) == 0 && peel_commit(out, git, &id) == 0)
			found = 1;
	}
	git_strarray_dispose(&tags);
	return found;
}

/* A ref by short or full name: HEAD, refs/..., branch, then tag. */
static int by_ref(git_oid *out, git_repository *git, const char *rev)
{
	static const char *const prefixes[] = {"", "refs/heads/", "refs/tags/"};
	char name[1024];
	git_oid id;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (i == 0 && strcmp(rev, "HEAD") != 0 && strncmp(rev, "refs/", 5) != 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", prefixes[i], rev);
		if (git_reference_name_to_id(&id, git, name) == 0 &&
		    peel_commit(out, git, &id) == 0)
			return 1;
	}
	return 0;
}

int cairn_source_resolve(char out[CAIRN_SOURCE_OID_HEX_LEN], cairn_source_repo *repo,
                         const char *revision)
{
	git_repository *git = repo->git;
	cairn_semver_constraint *c = NULL;
	const char *rev = revision && *revision ? revision : "HEAD";
	git_oid id;
	int found = 0;

	if (strlen(rev) > 512)
		return cairn_error_set(CAIRN_EINVAL, "revision longer than 512 bytes");
	if (is_hex(rev, 40, 40)) {
		git_oid_fromstr(&id, rev);
		if (peel_commit(&id, git, &id) < 0)
			return cairn_error_set(CAIRN_ENOTFOUND, "commit '%s' not found in '%s'",
			                       rev, repo->shown);
		found = 1;
	}
	if (!found && cairn_semver_constraint_parse(&c, rev) == 0) {
		found = max_tag(&id, git, c);
		cairn_semver_constraint_free(c);
	}
	if (!found)
		found = by_ref(&id, git, rev);
	if (!found && is_hex(rev, 7, 39)) {
		git_object *obj = NULL;
		int rc;

		if (git_oid_fromstrn(&id, rev, strlen(rev)) == 0) {
			rc = git_object_lookup_prefix(&obj, git, &id, strlen(rev),
			                              GIT_OBJECT_COMMIT);
			if (rc == GIT_EAMBIGUOUS)
				return cairn_error_set(
				        CAIRN_EINVAL,
				        "abbreviated commit id '%s' is ambiguous in '%s'", rev,
				        repo->shown);
			if (rc == 0) {
				git_oid_cpy(&id, git_object_id(obj));
				found = 1;
			}
			git_object_free(obj);
		}
	}
	if (!found)
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "revision '%s' not found in '%s': no such branch, tag, "
		                       "matching version tag or commit",
		                       rev, repo->shown);
	git_oid_tostr(out, CAIRN_SOURCE_OID_HEX_LEN, &id);
	return 0;
}
