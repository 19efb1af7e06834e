/*
 * verify_commit.c - the decision `git verify-commit` makes for an SSH
 * signature, on a commit read with libgit2.
 *
 * git 2.39 does not compare the committer's e-mail with anything: it asks
 * `ssh-keygen -Y find-principals` for the first allowed-signers line that
 * holds the signing key and is valid at the committer time, splits that
 * line's principals at commas, and runs `ssh-keygen -Y verify -n git -I P`
 * for each until one succeeds (see docs/signatures.md for the cases we
 * measured). We make the same two steps in process.
 */
#include <git2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/source_verify.h"
#include "sshsig_priv.h"

const char *cairn_sig_status_name(cairn_sig_status status)
{
	static const char *const names[] = {
	        "verified",
	        "unsigned",
	        "not-ssh",
	        "malformed",
	        "unsupported",
	        "wrong-namespace",
	        "bad-signature",
	        "key-not-allowed",
	        "expired",
	        "not-yet-valid",
	        "namespace-not-allowed",
	        "principal-refused",
	};

	if ((unsigned)status < sizeof(names) / sizeof(names[0]))
		return names[status];
	return "unknown";
}

static int refuse(cairn_sig_result *r, cairn_sig_status st, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int refuse(cairn_sig_result *r, cairn_sig_status st, const char *fmt, ...)
{
	va_list ap;

	r->status = st;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* What kind of signature other than SSH the armored text is, for the reason. */
static const char *other_kind(const char *text, size_t len)
{
	while (len > 0 && (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t'))
		text++, len--;
	if (len >= 29 && memcmp(text, "-----BEGIN PGP SIGNATURE-----", 29) == 0)
		return "an OpenPGP (GPG) signature";
	if (len >= 31 && memcmp(text, "-----BEGIN SIGNED MESSAGE-----", 30) == 0)
		return "an X.509 (gpgsm) signature";
	if (len >= 29 && memcmp(text, "-----BEGIN SSH SIGNATURE-----", 29) == 0)
		return NULL;
	return "not a signature format Cairn knows";
}

/*
 * Steps 4-5: which principal, if any, the allowed signers grant the key.
 * Mirrors find-principals (first valid line holding the key) and then
 * verify -I for each of that line's principals in order.
 */
static int match_principal(cairn_sig_result *r, const cairn_allowed_signers *as, const uint8_t *key,
                           size_t klen, const char *ns, int64_t t)
{
	const char *list, *p;
	int idx, why, nswhy = 0, line = 0;
	char one[256];

	idx = source__signers_find(as, key, klen, t, &why);
	if (idx < 0) {
		if (why == 1)
			return refuse(r, CAIRN_SIG_EXPIRED,
			              "the signing key %s is allowed only before the commit time "
			              "(valid-before)",
			              r->fingerprint);
		if (why == 2)
			return refuse(r, CAIRN_SIG_NOT_YET_VALID,
			              "the signing key %s is allowed only after the commit time "
			              "(valid-after)",
			              r->fingerprint);
		if (why == 3)
			return refuse(r, CAIRN_SIG_KEY_NOT_ALLOWED,
			              "the signing key %s is listed only as a cert-authority, and "
			              "certificates are not supported",
			              r->fingerprint);
		return refuse(r, CAIRN_SIG_KEY_NOT_ALLOWED,
		              "the signing key %s is not in the allowed signers", r->fingerprint);
	}
	list = source__signers_principals(as, idx);
	for (p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n > 0 && n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (source__signers_allow(as, one, key, klen, ns, t, &line, &nswhy)) {
				r->status = CAIRN_SIG_VERIFIED;
				r->line = line;
				snprintf(r->principal, sizeof(r->principal), "%s", one);
				snprintf(r->reason, sizeof(r->reason),
				         "good \"%s\" signature for %s with %s key %s", ns, one,
				         r->key_type, r->fingerprint);
				return 0;
			}
		}
		p = e ? e + 1 : p + n;
	}
	if (nswhy)
		return refuse(r, CAIRN_SIG_NAMESPACE_NOT_ALLOWED,
		              "the allowed signers do not permit the signing key %s for namespace "
		              "\"git\" (namespaces=)",
		              r->fingerprint);
	return refuse(
	        r, CAIRN_SIG_PRINCIPAL_REFUSED,
	        "the principals allowed for the signing key %s refuse it (a '!' pattern or no "
	        "matching line)",
	        r->fingerprint);
}

int cairn_sshsig_check(cairn_sig_result *out, const cairn_allowed_signers *as, const char *armor,
                       size_t armor_len, const void *payload, size_t payload_len, const char *ns,
                       int64_t verify_time)
{
	cairn_sig_result r;
	cairn_sshsig *sig = NULL;
	const char *kind = other_kind(armor, armor_len);
	const uint8_t *key;
	size_t klen;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	if (kind != NULL) {
		refuse(&r, CAIRN_SIG_NOT_SSH, "the commit carries %s, not an SSH signature", kind);
		goto done;
	}
	if ((rc = cairn_sshsig_parse(&sig, armor, armor_len)) < 0) {
		if (rc == CAIRN_ENOMEM)
			goto out;
		refuse(&r, rc == CAIRN_EUNSUPPORTED ? CAIRN_SIG_UNSUPPORTED : CAIRN_SIG_MALFORMED,
		       "%s", cairn_error_last()->message);
		goto done;
	}
	key = cairn_sshsig_key_blob(sig, &klen);
	cairn_ssh_fingerprint(r.fingerprint, key, klen);
	snprintf(r.key_type, sizeof(r.key_type), "%s", cairn_sshsig_key_type(sig));
	if (strcmp(cairn_sshsig_namespace(sig), ns) != 0) {
		r.status = CAIRN_SIG_WRONG_NAMESPACE;
		snprintf(r.reason, sizeof(r.reason),
		         "the signature was made for namespace '%s', not '%s'",
		         cairn_sshsig_namespace(sig), ns);
		goto done;
	}
	if ((rc = cairn_sshsig_verify(sig, payload, payload_len)) < 0) {
		if (rc != CAIRN_EPERM && rc != CAIRN_EUNSUPPORTED)
			goto out;
		refuse(&r, rc == CAIRN_EPERM ? CAIRN_SIG_BAD : CAIRN_SIG_UNSUPPORTED, "%s",
		       cairn_error_last()->message);
		goto done;
	}
	match_principal(&r, as, key, klen, ns, verify_time);
done:
	rc = 0;
	*out = r;
out:
	cairn_sshsig_free(sig);
	return rc;
}

/* Wrap the last libgit2 error, keeping its message. */
static int git_fail(int gerr, const char *what, const char *arg)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "unknown libgit2 error";

	if (gerr == GIT_ENOTFOUND)
		return cairn_error_set(CAIRN_ENOTFOUND, "%s '%s' not found: %s", what, arg, msg);
	if (gerr == GIT_EAMBIGUOUS || gerr == GIT_EINVALIDSPEC)
		return cairn_error_set(CAIRN_EINVAL, "%s '%s' is not usable: %s", what, arg, msg);
	return cairn_error_set(CAIRN_ERROR, "%s '%s': %s", what, arg, msg);
}

int cairn_source_verify_commit(cairn_sig_result *out, git_repository *repo, const char *rev,
                               const cairn_allowed_signers *as)
{
	git_object *obj = NULL, *peeled = NULL;
	git_buf sig = {0}, data = {0};
	cairn_sig_result r;
	const git_oid *id;
	int64_t when;
	int gerr, rc;

	if ((gerr = git_revparse_single(&obj, repo, rev)) < 0) {
		rc = git_fail(gerr, "revision", rev);
		goto out;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = cairn_error_set(CAIRN_EINVAL, "revision '%s' does not name a commit", rev);
		goto out;
	}
	id = git_object_id(peeled);
	when = (int64_t)git_commit_committer((git_commit *)peeled)->when.time;
	gerr = git_commit_extract_signature(&sig, &data, repo, (git_oid *)id, NULL);
	if (gerr == GIT_ENOTFOUND) {
		memset(&r, 0, sizeof(r));
		refuse(&r, CAIRN_SIG_UNSIGNED, "the commit is not signed");
	} else if (gerr < 0) {
		rc = git_fail(gerr, "reading the signature of", rev);
		goto out;
	} else if ((rc = cairn_sshsig_check(&r, as, sig.ptr, sig.size, data.ptr, data.size,
	                                    CAIRN_SSHSIG_NAMESPACE_GIT, when)) < 0) {
		goto out;
	}
	git_oid_tostr(r.commit_id, sizeof(r.commit_id), id);
	*out = r;
	rc = 0;
out:
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

int cairn_source_verify_commit_path(cairn_sig_result *out, const char *path, const char *rev,
                                    const cairn_allowed_signers *as)
{
	git_repository *repo = NULL;
	int gerr, rc;

	git_libgit2_init();
	if ((gerr = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) <
	    0) {
		rc = git_fail(gerr, "repository", path);
		goto out;
	}
	rc = cairn_source_verify_commit(out, repo, rev, as);
out:
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
