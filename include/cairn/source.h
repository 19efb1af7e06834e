/*
 * cairn/source.h - git repositories through libgit2: URL normalisation, the
 * mirror cache, fetch, revision resolution (Argo CD rules, semver
 * constraints over tags), read-only trees (a git commit or a local
 * directory) and commit+push for promotion.
 *
 * Mirrors live under `<state>/repos/<first 32 hex of sha256(normalised
 * URL)>.git` (bare), each guarded by an flock on `<same>.lock`. Credentials
 * are given by reference (a file or an environment variable), never inline,
 * and never appear in errors: every URL printed has its userinfo redacted.
 *
 * Commit signature verification is in cairn/source_verify.h.
 */
#ifndef CAIRN_SOURCE_H
#define CAIRN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- URLs ---------------------------------------------------------------- */

/** Longest repository URL accepted. */
#define CAIRN_SOURCE_URL_MAX 2048

/**
 * Normalise a repository URL so that spellings of one repository compare
 * equal: scheme and host lower-cased, default ports dropped, trailing "/"
 * and ".git" removed, scp-like "user@host:path" rewritten to
 * "ssh://user@host/path", "file://" and local paths made absolute and
 * cleaned. A password in the userinfo is refused (CAIRN_EINVAL): credentials
 * come from references (cairn_source_creds), never from URLs.
 * @param out  on success a malloc'd string the caller frees.
 * @return 0, CAIRN_EINVAL (message quotes the redacted URL) or CAIRN_ENOMEM.
 * Thread-safe.
 */
int cairn_source_url_normalize(char **out, const char *url);

/**
 * Copy `url` into `out` with any userinfo ("user:pass@") replaced by
 * "***@", for printing. Always NUL-terminates (cut if `size` is short).
 * Thread-safe.
 */
void cairn_source_url_redact(char *out, size_t size, const char *url);

/** Length of a mirror name: 32 hex digits + NUL. */
#define CAIRN_SOURCE_MIRROR_NAME_LEN 33

/**
 * The mirror directory name of `url` (without ".git"): the first 32 hex
 * digits of the SHA-256 of its normalised form. 0 or the error of
 * cairn_source_url_normalize(). Thread-safe.
 */
int cairn_source_mirror_name(char out[CAIRN_SOURCE_MIRROR_NAME_LEN], const char *url);

/* ---- credentials and known hosts --------------------------------------- */

/**
 * Credential references for one repository. Every secret is named, not
 * given: a file path or the name of an environment variable. All fields
 * may be NULL. Borrowed by the calls that take it.
 */
typedef struct cairn_source_creds {
	const char *username;      /**< http(s) user name (default: from the URL, else "git") */
	const char *password_file; /**< file holding the password or token (http(s)) */
	const char *password_env;  /**< environment variable holding it */
	const char *ssh_key_file;  /**< private key for ssh:// and scp-like URLs */
	const char *ssh_passphrase_env; /**< environment variable with the key's passphrase */
	const char *known_hosts_file;   /**< ssh host keys; required for ssh */
	const char *ca_file;            /**< PEM CA bundle for https (default: the system bundle) */
} cairn_source_creds;

/** A parsed known_hosts file (OpenSSH format, hashed entries included). */
typedef struct cairn_source_known_hosts cairn_source_known_hosts;

/**
 * Parse known_hosts text: "[marker] patterns keytype base64 [comment]"
 * lines, patterns with "*", "?", "!" and "[host]:port", hashed "|1|salt|hash"
 * entries. @cert-authority lines are skipped; @revoked keys are refused on
 * match. Errors name `name` and the line.
 * @param out  on success a new object the caller frees.
 * @return 0, CAIRN_EINVAL, CAIRN_ELIMIT (over 10,000 lines) or CAIRN_ENOMEM.
 */
int cairn_source_known_hosts_parse(cairn_source_known_hosts **out, const char *name,
                                   const char *text, size_t len);

/**
 * Check that `key` (the SSH wire-format public key blob) is a known key of
 * `host` at `port` (22 looks up "host", others "[host]:port").
 * @return 0 known; CAIRN_ENOTFOUND no entry for the host; CAIRN_EPERM the
 * host is listed with other keys, or the key is revoked. Thread-safe.
 */
int cairn_source_known_hosts_check(const cairn_source_known_hosts *kh, const char *host, int port,
                                   const uint8_t *key, size_t key_len);

/** Free a known_hosts object; NULL is fine. */
void cairn_source_known_hosts_free(cairn_source_known_hosts *kh);

/* ---- mirrors and fetch ---------------------------------------------------- */

#define CAIRN_SOURCE_OPTS_VERSION 1

/** Options of cairn_source_open(). */
typedef struct cairn_source_opts {
	unsigned int version;            /**< CAIRN_SOURCE_OPTS_VERSION */
	const char *state_dir;           /**< required: mirrors go to <state_dir>/repos */
	const cairn_source_creds *creds; /**< NULL: no credentials */
	int lock_timeout_ms;             /**< waiting for another fetch of the mirror; 0: 60 s */
} cairn_source_opts;

#define CAIRN_SOURCE_OPTS_INIT                                                                     \
	{                                                                                          \
		CAIRN_SOURCE_OPTS_VERSION, NULL, NULL, 0                                           \
	}

/** An opened mirror of one repository URL. */
typedef struct cairn_source_repo cairn_source_repo;

/**
 * Open the mirror of `url`, creating it (empty) when missing. Does not
 * touch the network. The handle keeps copies of the options' strings.
 * @param out  on success a handle the caller frees with cairn_source_repo_free().
 * @return 0, CAIRN_EINVAL (bad URL), CAIRN_EIO, CAIRN_ENOMEM.
 * A handle is used by one thread at a time.
 */
int cairn_source_open(cairn_source_repo **out, const char *url, const cairn_source_opts *opts);

/**
 * Fetch every branch and tag of the remote into the mirror (pruning
 * deleted ones) and point the mirror's HEAD at the remote's default branch.
 * Holds the mirror's lock for the duration; removes stale lock and
 * temporary files left by a killed fetch, and recreates a mirror that
 * fails its integrity check.
 * @return 0, CAIRN_EBUSY (lock wait timed out), CAIRN_EPERM (host key or
 * authentication refused), CAIRN_EIO (transport), CAIRN_ECORRUPT.
 */
int cairn_source_fetch(cairn_source_repo *repo);

/** The mirror's directory (borrowed, valid while the handle lives). */
const char *cairn_source_repo_path(const cairn_source_repo *repo);

/** Free a handle; NULL is fine. */
void cairn_source_repo_free(cairn_source_repo *repo);

/* ---- revisions ------------------------------------------------------------- */

/** A commit id as 40 hex digits + NUL. */
#define CAIRN_SOURCE_OID_HEX_LEN 41

/**
 * Resolve `revision` in the mirror as Argo CD does: "" or "HEAD" the
 * default branch; a full 40-hex commit id; a semver constraint (a version
 * or range such as "1.2.*", ">=1.2.0 <2.0.0", "~1.2", "^1.2") picks the
 * highest matching tag; else a branch or tag name (short or full ref
 * name, branches first); else an abbreviated commit id (7+ hex digits).
 * Annotated tags are peeled to their commit.
 * @return 0 with `out` set, CAIRN_ENOTFOUND (message names the revision),
 * CAIRN_EINVAL (ambiguous abbreviation).
 */
int cairn_source_resolve(char out[CAIRN_SOURCE_OID_HEX_LEN], cairn_source_repo *repo,
                         const char *revision);

/* ---- semantic versions --------------------------------------------------- */

/** A semantic version (SemVer 2.0.0; "v" prefix accepted). */
typedef struct cairn_semver {
	uint64_t major, minor, patch;
	char pre[128]; /**< pre-release without '-', "" when none */
} cairn_semver;

/**
 * Parse a version. `loose` accepts "1" and "1.2" (missing parts are 0), as
 * tags are matched; strict needs all three. Build metadata is ignored.
 * @return 0 or CAIRN_EINVAL. Thread-safe.
 */
int cairn_semver_parse(cairn_semver *out, const char *s, int loose);

/** Order two versions by SemVer precedence: <0, 0, >0. Thread-safe. */
int cairn_semver_compare(const cairn_semver *a, const cairn_semver *b);

/** A parsed constraint: OR of AND-groups of comparisons. */
typedef struct cairn_semver_constraint cairn_semver_constraint;

/**
 * Parse a constraint: groups separated by "||", comparisons in a group by
 * spaces or commas; operators = != > >= < <= ~ ^ (and "~>"), wildcards "x",
 * "X", "*" in any part, hyphen ranges "1.2 - 1.4.5"; a "v" prefix is
 * allowed. A bare version ("1.2.3") means "=1.2.3".
 * @param out  on success a new object freed with cairn_semver_constraint_free().
 * @return 0, CAIRN_EINVAL (quoting the text) or CAIRN_ENOMEM. Thread-safe.
 */
int cairn_semver_constraint_parse(cairn_semver_constraint **out, const char *s);

/**
 * Does `v` satisfy `c`? A pre-release version satisfies a comparison only
 * when the comparison's own version has a pre-release (the rule of the
 * semver library Argo CD uses), so "^1.2" never picks "1.3.0-rc1".
 */
int cairn_semver_constraint_match(const cairn_semver_constraint *c, const cairn_semver *v);

/** Free a constraint; NULL is fine. */
void cairn_semver_constraint_free(cairn_semver_constraint *c);

/* ---- read-only trees -------------------------------------------------------- */

/** A read-only file tree: a git commit's tree or a local directory. */
typedef struct cairn_tree cairn_tree;

typedef enum cairn_tree_kind {
	CAIRN_TREE_FILE = 1,
	CAIRN_TREE_DIR = 2,
	CAIRN_TREE_SYMLINK = 3, /**< reported by listings only; reads and stats follow */
	CAIRN_TREE_OTHER = 4,   /**< submodule, device, socket... never read */
} cairn_tree_kind;

/** One listing entry. */
typedef struct cairn_tree_entry {
	char *path;           /**< relative to the listed directory, '/'-separated */
	cairn_tree_kind kind; /**< not following symlinks */
	uint64_t size;        /**< bytes for files, 0 otherwise */
	int executable;       /**< files only */
} cairn_tree_entry;

/** A listing, sorted by path (byte order). */
typedef struct cairn_tree_list {
	cairn_tree_entry *entries;
	size_t count;
} cairn_tree_list;

/** Most entries one listing returns. */
#define CAIRN_TREE_LIST_MAX 1000000

/**
 * Open the tree of commit `commit` (40 hex digits) of an opened mirror.
 * The tree keeps its own handle on the repository: `repo` may be freed
 * first. @return 0, CAIRN_ENOTFOUND, CAIRN_EINVAL, CAIRN_ENOMEM.
 */
int cairn_tree_open_git(cairn_tree **out, cairn_source_repo *repo, const char *commit);

/**
 * Open the tree of a git repository directory (bare or not) at `commit`:
 * as cairn_tree_open_git() without the mirror cache.
 */
int cairn_tree_open_git_path(cairn_tree **out, const char *repo_path, const char *commit);

/**
 * Open a local directory as a tree. No path may leave `root` (symlinks
 * included). @return 0, CAIRN_ENOTFOUND, CAIRN_EIO.
 */
int cairn_tree_open_dir(cairn_tree **out, const char *root);

/**
 * Read the file at `path` (relative, '/'-separated) into `out` (appended),
 * following symlinks that stay inside the tree.
 * @param limit  most bytes accepted (0: out->max).
 * @return 0; CAIRN_ENOTFOUND; CAIRN_EINVAL (a directory or special file);
 * CAIRN_EPERM (path or symlink leaves the tree: the message names the
 * link); CAIRN_ELIMIT (larger than limit, or a symlink loop). `out` is
 * unchanged on failure.
 */
int cairn_tree_read(cairn_tree *t, cairn_buf *out, const char *path, size_t limit);

/**
 * Kind and size of `path` after following symlinks (never CAIRN_TREE_SYMLINK).
 * "" or "." is the root. Errors as cairn_tree_read().
 */
int cairn_tree_stat(cairn_tree *t, cairn_tree_kind *out_kind, uint64_t *out_size, const char *path);

/**
 * List directory `dir` ("" is the root; symlinks on the way are followed),
 * optionally recursively (into real directories, never into symlinks).
 * @param out  on success filled; release with cairn_tree_list_dispose().
 * @return 0, CAIRN_ENOTFOUND, CAIRN_EINVAL (not a directory), CAIRN_EPERM,
 * CAIRN_ELIMIT (more than CAIRN_TREE_LIST_MAX entries).
 */
int cairn_tree_list_dir(cairn_tree_list *out, cairn_tree *t, const char *dir, int recursive);

/** Free a listing's entries. */
void cairn_tree_list_dispose(cairn_tree_list *l);

/** Free a tree; NULL is fine. A tree is used by one thread at a time. */
void cairn_tree_free(cairn_tree *t);

/* ---- commit and push (promotion) ----------------------------------------- */

/** One file change of a commit: content, or deletion when `content` is NULL. */
typedef struct cairn_source_change {
	const char *path; /**< relative, '/'-separated */
	const char *content;
	size_t len;
} cairn_source_change;

/** Who wrote a commit. */
typedef struct cairn_source_signature {
	const char *name;
	const char *email;
} cairn_source_signature;

/**
 * Commit `changes` on top of branch `branch` of the mirror (which must
 * exist) with `message`, then push the branch to the remote with the
 * mirror's credentials. The remote must accept a fast-forward.
 * @param out  on success the new commit id.
 * @return 0; CAIRN_ENOTFOUND (no such branch); CAIRN_EINVAL (bad path);
 * CAIRN_EEXISTS (the push was rejected: fetch and retry); CAIRN_EIO.
 */
int cairn_source_commit_push(char out[CAIRN_SOURCE_OID_HEX_LEN], cairn_source_repo *repo,
                             const char *branch, const cairn_source_change *changes,
                             size_t nchanges, const cairn_source_signature *author,
                             const cairn_source_signature *committer, const char *message);

#ifdef __cplusplus
}
#endif
#endif
