/*
 * cairn/error.h - error codes and the per-thread last error.
 *
 * Every function that can fail returns an int: 0 on success, a negative
 * CAIRN_E* code otherwise. The human-readable message, and the place in the
 * input (file:line:column) when the error comes from input, are kept in a
 * per-thread record that cairn_error_last() returns. Library code never
 * calls exit() and never prints errors; the CLI and the daemon do.
 */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. Stable: they appear in JSON output and exit statuses. */
enum {
	CAIRN_OK = 0,
	CAIRN_ERROR = -1,         /**< generic failure */
	CAIRN_ENOMEM = -2,        /**< out of memory */
	CAIRN_EINVAL = -3,        /**< bad input: parse or validation error */
	CAIRN_ELIMIT = -4,        /**< a configured limit was exceeded */
	CAIRN_EIO = -5,           /**< an operating-system I/O call failed */
	CAIRN_ENOTFOUND = -6,     /**< a named thing does not exist */
	CAIRN_EEXISTS = -7,       /**< a thing that must not exist does */
	CAIRN_ETIMEOUT = -8,      /**< a deadline passed */
	CAIRN_EPERM = -9,         /**< refused: path escape, permission, policy */
	CAIRN_EBUSY = -10,        /**< a lock is held by someone else */
	CAIRN_EUNSUPPORTED = -11, /**< a feature Cairn does not implement */
	CAIRN_ECORRUPT = -12,     /**< stored data failed an integrity check */
	CAIRN_EREADONLY = -13,    /**< an object was made read-only by an earlier fatal error */
};

/** Longest message kept; longer ones are cut with "...". */
#define CAIRN_ERROR_MSG_MAX 1024
/** Longest file name kept in an error. */
#define CAIRN_ERROR_FILE_MAX 512

/**
 * The last error of the calling thread. `file` is empty and `line`/`column`
 * are 0 when the error is not tied to a place in some input. Lines and
 * columns count from 1.
 */
typedef struct cairn_error {
	int code;
	char message[CAIRN_ERROR_MSG_MAX];
	char file[CAIRN_ERROR_FILE_MAX];
	int line;
	int column;
} cairn_error;

/**
 * Record an error for the calling thread and return `code`, so that callers
 * can write `return cairn_error_set(CAIRN_EINVAL, "...", ...);`.
 * Messages start lower-case, say what is wrong first, and quote user
 * values in single quotes.
 */
int cairn_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** As cairn_error_set(), with the place in the input (file may be NULL). */
int cairn_error_set_at(int code, const char *file, int line, int column, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/**
 * Prefix the current message with more context ("reading 'x': " + old),
 * keeping code and place. Returns the current code.
 */
int cairn_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Record `errno`-style failure: "<what>: <strerror(errnum)>". Returns CAIRN_EIO
 * (or CAIRN_ENOTFOUND for ENOENT, CAIRN_EPERM for EACCES/EPERM). */
int cairn_error_set_errno(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * The calling thread's last error. Never NULL; when no error was set the
 * code is CAIRN_OK and the message empty. Borrowed: valid until the next
 * cairn_error_* call on this thread.
 */
const cairn_error *cairn_error_last(void);

/** Forget the calling thread's last error. */
void cairn_error_clear(void);

/**
 * Format an error as "file:line:col: message" (or "file: message", or just
 * "message" when there is no place) into `buf`, always NUL-terminated.
 * Returns `buf`.
 */
char *cairn_error_format(const cairn_error *err, char *buf, size_t size);

/** A short stable name for a code ("invalid", "limit", ...), for JSON output. */
const char *cairn_error_code_name(int code);

#ifdef __cplusplus
}
#endif
#endif
