/*
 * cairn/source_verify.h - SSH commit-signature verification.
 *
 * Three layers, each usable alone:
 *
 *  - the sshsig format (OpenSSH PROTOCOL.sshsig): parse the armored
 *    "-----BEGIN SSH SIGNATURE-----" blob git stores in a commit's `gpgsig`
 *    header and check it against the signed bytes. Ed25519 keys are checked
 *    with libsodium, RSA (rsa-sha2-256/512) and ECDSA (nistp256/384/521)
 *    with OpenSSL; security-key (sk-*) keys and certificates are refused
 *    as unsupported;
 *  - the allowed-signers file in git's `gpg.ssh.allowedSignersFile` format
 *    (ssh-keygen(1), ALLOWED SIGNERS);
 *  - the decision git 2.39's `git verify-commit` makes with those two, on a
 *    commit named by a revision in a repository (docs/signatures.md).
 *
 * A refusal (unsigned, bad signature, key not allowed, ...) is not an
 * error: the checking functions return 0 and describe the outcome in a
 * cairn_sig_result. Negative returns are for failures to check at all
 * (repository missing, revision unknown, out of memory).
 */
#ifndef CAIRN_SOURCE_VERIFY_H
#define CAIRN_SOURCE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct git_repository;

/** Longest armored signature accepted, in bytes. */
#define CAIRN_SSHSIG_ARMOR_MAX ((size_t)64 << 10)
/** Largest allowed-signers file accepted, in bytes. */
#define CAIRN_ALLOWED_SIGNERS_MAX ((size_t)1 << 20)
/** Most entries (key lines) in one allowed-signers file. */
#define CAIRN_ALLOWED_SIGNERS_MAX_ENTRIES 10000
/** "SHA256:" + 43 base64 characters + NUL, as ssh-keygen -l prints. */
#define CAIRN_SSH_FINGERPRINT_LEN 51

/** A parsed sshsig signature. Opaque. */
typedef struct cairn_sshsig cairn_sshsig;

/**
 * Parse an armored SSH signature (the whole text from "-----BEGIN SSH
 * SIGNATURE-----" to "-----END SSH SIGNATURE-----", line breaks and
 * surrounding whitespace allowed).
 *
 * @param out   receives the signature; the caller frees it with
 *              cairn_sshsig_free(). Untouched on failure.
 * @param text  the armored text, need not be NUL-terminated
 * @param len   its length
 * @return 0; CAIRN_EINVAL when the text is not a well-formed sshsig (the
 *         message says which part is wrong); CAIRN_EUNSUPPORTED for a
 *         version, hash or key type Cairn does not handle; CAIRN_ELIMIT for
 *         an over-long text; CAIRN_ENOMEM.
 * Thread-safety: reentrant.
 */
int cairn_sshsig_parse(cairn_sshsig **out, const char *text, size_t len);

/** Free a signature; NULL is accepted. */
void cairn_sshsig_free(cairn_sshsig *sig);

/** The signature's namespace ("git" for commits). Borrowed from `sig`. */
const char *cairn_sshsig_namespace(const cairn_sshsig *sig);
/** The signing key's type name ("ssh-ed25519", ...). Borrowed from `sig`. */
const char *cairn_sshsig_key_type(const cairn_sshsig *sig);
/** The hash algorithm of the message digest ("sha512" or "sha256"). Borrowed. */
const char *cairn_sshsig_hash_alg(const cairn_sshsig *sig);
/**
 * The signing public key in SSH wire format, borrowed from `sig`;
 * `*len` receives its length.
 */
const uint8_t *cairn_sshsig_key_blob(const cairn_sshsig *sig, size_t *len);

/**
 * The SHA-256 fingerprint of an SSH public key blob, written as ssh-keygen
 * prints it ("SHA256:" + unpadded base64). Never fails.
 */
void cairn_ssh_fingerprint(char out[CAIRN_SSH_FINGERPRINT_LEN], const uint8_t *key, size_t len);

/**
 * Check the signature over `msg` cryptographically: the digest of `msg`
 * and the namespace recorded in the signature are what the key signed.
 * The namespace is not compared with anything here (see
 * cairn_sshsig_check()).
 *
 * @return 0 when the signature is good; CAIRN_EPERM ("bad signature")
 *         when it is not; CAIRN_EUNSUPPORTED for a key type that cannot be
 *         checked; CAIRN_ENOMEM.
 * Thread-safety: reentrant.
 */
int cairn_sshsig_verify(const cairn_sshsig *sig, const void *msg, size_t len);

/** A parsed allowed-signers file. Opaque. */
typedef struct cairn_allowed_signers cairn_allowed_signers;

/**
 * Parse allowed-signers text. Stricter than ssh-keygen, which skips lines
 * it cannot read: any malformed line fails the whole file, so a typo never
 * silently drops a signer or a restriction.
 *
 * @param out      receives the parsed file; free with
 *                 cairn_allowed_signers_free(). Untouched on failure.
 * @param text     the contents, need not be NUL-terminated
 * @param len      its length (at most CAIRN_ALLOWED_SIGNERS_MAX)
 * @param filename named in errors; may be NULL
 * @return 0; CAIRN_EINVAL with file:line:column and the reason;
 *         CAIRN_ELIMIT; CAIRN_ENOMEM.
 * Thread-safety: reentrant.
 */
int cairn_allowed_signers_parse(cairn_allowed_signers **out, const char *text, size_t len,
                                const char *filename);

/** Read and parse an allowed-signers file; errors name the file and line. */
int cairn_allowed_signers_load(cairn_allowed_signers **out, const char *path);

/** Free a parsed file; NULL is accepted. */
void cairn_allowed_signers_free(cairn_allowed_signers *as);

/** Number of key lines in the file. */
size_t cairn_allowed_signers_count(const cairn_allowed_signers *as);

/**
 * Outcome of a verification. Names (cairn_sig_status_name()) are stable:
 * they appear in JSON output.
 */
typedef enum cairn_sig_status {
	CAIRN_SIG_VERIFIED = 0,    /**< "verified" */
	CAIRN_SIG_UNSIGNED,        /**< "unsigned": no gpgsig header */
	CAIRN_SIG_NOT_SSH,         /**< "not-ssh": a signature of another kind (GPG, X.509) */
	CAIRN_SIG_MALFORMED,       /**< "malformed": an SSH signature that does not parse */
	CAIRN_SIG_UNSUPPORTED,     /**< "unsupported": key type or certificate Cairn cannot check */
	CAIRN_SIG_WRONG_NAMESPACE, /**< "wrong-namespace": signed for another namespace than "git" */
	CAIRN_SIG_BAD,             /**< "bad-signature": does not match the commit's bytes */
	CAIRN_SIG_KEY_NOT_ALLOWED, /**< "key-not-allowed": no allowed-signers line has the key */
	CAIRN_SIG_EXPIRED,         /**< "expired": the key's valid-before passed at commit time */
	CAIRN_SIG_NOT_YET_VALID,   /**< "not-yet-valid": commit time before valid-after */
	CAIRN_SIG_NAMESPACE_NOT_ALLOWED, /**< "namespace-not-allowed": namespaces= excludes "git" */
	CAIRN_SIG_PRINCIPAL_REFUSED,     /**< "principal-refused": the principal patterns refuse */
} cairn_sig_status;

/** Stable short name of a status ("verified", "unsigned", ...). */
const char *cairn_sig_status_name(cairn_sig_status status);

/** The outcome of a verification, filled by the checking functions. */
typedef struct cairn_sig_result {
	cairn_sig_status status;
	/** Human-readable sentence: why it was refused, or who signed. */
	char reason[512];
	/** The principal that verified (as git prints it); empty unless verified. */
	char principal[256];
	/** Signing key fingerprint, "SHA256:..."; empty when no key was read. */
	char fingerprint[CAIRN_SSH_FINGERPRINT_LEN];
	/** Signing key type ("ssh-ed25519", ...); empty when no key was read. */
	char key_type[64];
	/** The commit checked (40 hex digits), set by the commit functions. */
	char commit_id[41];
	/** Line of the allowed-signers file that allowed the key; 0 when none. */
	int line;
} cairn_sig_result;

/** The namespace git uses for commit signatures. */
#define CAIRN_SSHSIG_NAMESPACE_GIT "git"

/**
 * Decide as `git verify-commit` does (git 2.39 with OpenSSH 9.2): the
 * armored signature must parse, carry namespace `ns`, and be a good
 * signature over `payload`; then the first allowed-signers line holding
 * the key and valid at `verify_time` gives the candidate principals, and
 * one of them must be allowed for that key, namespace and time.
 *
 * @param out         filled on success (verified or refused)
 * @param as          the allowed signers
 * @param armor       the armored signature, `armor_len` bytes
 * @param payload     the signed bytes, `payload_len` bytes
 * @param ns          the required namespace (CAIRN_SSHSIG_NAMESPACE_GIT)
 * @param verify_time seconds since the epoch at which key validity is
 *                    judged (git uses the committer time)
 * @return 0 with `out` filled; CAIRN_ENOMEM.
 * Thread-safety: reentrant.
 */
int cairn_sshsig_check(cairn_sig_result *out, const cairn_allowed_signers *as, const char *armor,
                       size_t armor_len, const void *payload, size_t payload_len, const char *ns,
                       int64_t verify_time);

/**
 * Verify the commit `rev` names (any git_revparse_single() revision whose
 * target peels to a commit) in an open repository.
 *
 * @return 0 with `out` filled (verified or refused); CAIRN_ENOTFOUND when
 *         the revision does not resolve; CAIRN_EINVAL when it does not name
 *         a commit; CAIRN_ERROR for other libgit2 failures, keeping its
 *         message; CAIRN_ENOMEM.
 * Thread-safety: as libgit2: one thread at a time per repository.
 */
int cairn_source_verify_commit(cairn_sig_result *out, struct git_repository *repo, const char *rev,
                               const cairn_allowed_signers *as);

/**
 * As cairn_source_verify_commit(), opening the repository at `path` (a
 * work tree, its .git directory, or a bare repository). Initialises
 * libgit2 for the duration of the call.
 */
int cairn_source_verify_commit_path(cairn_sig_result *out, const char *path, const char *rev,
                                    const cairn_allowed_signers *as);

#ifdef __cplusplus
}
#endif
#endif
