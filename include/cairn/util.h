/*
 * cairn/util.h - time, durations, safe paths and subprocesses.
 */
#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- time ------------------------------------------------------------ */

/** One time type: microseconds since the Unix epoch (UTC). */
typedef int64_t cairn_usec;

/** Wall-clock now. */
cairn_usec cairn_time_now(void);
/** Monotonic clock, for timeouts and measuring. */
cairn_usec cairn_time_mono(void);

/** RFC 3339 UTC with microseconds: "2026-11-26T23:00:50.123456Z" (27 bytes + NUL; the buffer is larger). */
#define CAIRN_TIME_RFC3339_LEN 48
void cairn_time_format(char out[CAIRN_TIME_RFC3339_LEN], cairn_usec t);

/**
 * Parse RFC 3339 ("2026-11-26T23:00:50Z", optional fraction up to 9 digits,
 * "Z" or "+hh:mm" offset). 0 or CAIRN_EINVAL.
 */
int cairn_time_parse(cairn_usec *out, const char *s);

/* ---- Go-style durations ---------------------------------------------- */

/**
 * Parse a Go duration: a sequence of decimal numbers with optional fraction
 * and a unit ("ns", "us", "µs", "ms", "s", "m", "h"), optional leading sign,
 * e.g. "30s", "5m", "1h30m", "1.5h", "0". Result in nanoseconds.
 * 0, or CAIRN_EINVAL (with the text quoted) / CAIRN_ELIMIT on overflow.
 * Exactly Go's time.ParseDuration: "1" (no unit), "1d" and "" are invalid.
 * *out_ns is untouched on failure. Thread-safe.
 */
int cairn_duration_parse(int64_t *out_ns, const char *s);

/**
 * Print nanoseconds as Go's Duration.String does ("1h30m0s", "1.5s",
 * "500ms", "1µs", "0s") into `out` (>= 32 bytes), NUL-terminated.
 * Thread-safe.
 */
#define CAIRN_DURATION_LEN 32
void cairn_duration_format(char out[CAIRN_DURATION_LEN], int64_t ns);

/* ---- safe paths ------------------------------------------------------- */

/**
 * Check that `rel` is a relative path that stays inside its root when
 * resolved lexically: not absolute, no NUL, no ".." component that climbs
 * above the start, not empty. Returns 0 or CAIRN_EPERM naming the path.
 * (A C string ends at its first NUL: callers holding a length must check
 * for embedded NULs themselves.) Thread-safe.
 */
int cairn_path_check_relative(const char *rel);

/**
 * Join `root` and `rel` into a new malloc'd, lexically cleaned path
 * ("a/./b/../c" -> "a/c") that the caller frees. Refuses (CAIRN_EPERM)
 * absolute `rel` and any `rel` escaping `root`. Does not touch the file
 * system: symlinks are the caller's business (see cairn_path_open_beneath).
 */
int cairn_path_join(char **out, const char *root, const char *rel);

/**
 * Clean a relative path lexically into a new malloc'd string ("" becomes
 * "."). CAIRN_EPERM when it climbs above its start.
 */
int cairn_path_clean(char **out, const char *rel);

/**
 * Open `rel` beneath the directory fd `rootfd` for reading, refusing
 * anything that leaves the root, symlinks included (openat2
 * RESOLVE_BENEATH where the kernel has it, a component walk otherwise).
 * `flags` are open(2) flags for reading (O_RDONLY with e.g. O_DIRECTORY,
 * O_NOFOLLOW; O_CLOEXEC is added); writing or creating flags are
 * CAIRN_EINVAL. Symlink loops and escapes are CAIRN_EPERM.
 * Returns 0 with *out_fd set (the caller closes it), or CAIRN_EPERM /
 * CAIRN_ENOTFOUND / CAIRN_EIO. Thread-safe.
 */
int cairn_path_open_beneath(int *out_fd, int rootfd, const char *rel, int flags);

/**
 * Create a new private directory (mode 0700) named PREFIX.XXXXXX under
 * $TMPDIR, else /tmp, into `out` (`size` bytes). Returns 0, or CAIRN_ELIMIT
 * (the name does not fit) / an errno-based error naming the parent;
 * on error `out` is "" (size > 0). Thread-safe.
 */
int cairn_tempdir_make(char *out, size_t size, const char *prefix);

/**
 * Remove the tree at `path` (a directory or a file), depth first, never
 * following a symbolic link. Best effort: what cannot be removed stays.
 * Thread-safe (no chdir).
 */
void cairn_path_remove_tree(const char *path);

/* ---- subprocess -------------------------------------------------------- */

#define CAIRN_PROC_OPTS_VERSION 1

typedef struct cairn_proc_opts {
	unsigned int version;         /**< CAIRN_PROC_OPTS_VERSION */
	const char *cwd;              /**< NULL: inherit */
	const char *const *env;       /**< "NAME=value" entries passed as they are */
	const char *const *env_allow; /**< names copied from our environment;
	                                   nothing else is inherited */
	const void *stdin_data;       /**< NULL: /dev/null */
	size_t stdin_len;
	int64_t timeout_ms; /**< 0: none; on expiry the child's process
	                                 group gets SIGTERM, then SIGKILL 1 s later */
	size_t max_output;  /**< per stream; default 64 MiB; more is an error */
} cairn_proc_opts;

#define CAIRN_PROC_OPTS_INIT                                                                       \
	{                                                                                          \
		CAIRN_PROC_OPTS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0                           \
	}

typedef struct cairn_proc_result {
	int exited;    /**< 1 if it exited, 0 if killed by a signal */
	int status;    /**< exit status, or the signal number */
	int timed_out; /**< 1 when the timeout killed it */
	cairn_buf out; /**< captured stdout */
	cairn_buf err; /**< captured stderr */
} cairn_proc_result;

/**
 * Run argv[0] (looked up in PATH when it has no '/') with `argv`, capture
 * stdout and stderr, wait for it. A non-zero exit is not an error of this
 * function: read `result`. Returns 0, CAIRN_ENOTFOUND (no such program),
 * CAIRN_ETIMEOUT (result still filled, timed_out set), CAIRN_ELIMIT
 * (output over max_output; child killed; result not filled), CAIRN_EINVAL
 * (bad options) or CAIRN_EIO/CAIRN_EPERM (exec or chdir failed).
 * `opts` may be NULL (defaults). On 0 and CAIRN_ETIMEOUT the caller
 * disposes the result with cairn_proc_result_dispose(); otherwise it is
 * left as it was. Thread-safe: everything the child needs is prepared
 * before fork(), and SIGPIPE is blocked only in the calling thread while
 * it writes stdin. The caller must not ignore SIGCHLD (the child could
 * not be reaped) nor reap it with a wait(-1) elsewhere.
 */
int cairn_proc_run(cairn_proc_result *result, const char *const *argv, const cairn_proc_opts *opts);

/** Free the buffers of a result; accepts a zeroed result. */
void cairn_proc_result_dispose(cairn_proc_result *result);

#ifdef __cplusplus
}
#endif
#endif
