/*
 * cairn/log.h - logging for the programs (cairn, cairnd, cairn-sim).
 *
 * Library code does not log, except at debug level; programs log once,
 * where they decide what to do. On a terminal lines are human-readable
 * ("12:00:01 warn  message key=value"); otherwise each line is one JSON
 * object: {"time":..., "level":..., "msg":..., plus fields}. Never log
 * Secret data or credentials: pass them through cairn_log_redact() first.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_LOG_DEBUG = 0,
	CAIRN_LOG_INFO = 1,
	CAIRN_LOG_WARN = 2,
	CAIRN_LOG_ERROR = 3,
} cairn_log_level;

typedef enum {
	CAIRN_LOG_FORMAT_AUTO = 0, /**< human on a terminal, JSON otherwise */
	CAIRN_LOG_FORMAT_HUMAN,
	CAIRN_LOG_FORMAT_JSON,
} cairn_log_format;

/**
 * Configure the process-wide logger: minimum level, format and stream
 * (NULL = stderr). Call once at start-up, before threads start.
 */
void cairn_log_setup(cairn_log_level min, cairn_log_format format, FILE *stream);

/** Parse "debug", "info", "warn", "error". 0 or CAIRN_EINVAL. */
int cairn_log_level_parse(cairn_log_level *out, const char *name);

/**
 * Log one line. `fields` is NULL or a NULL-terminated list of alternating
 * key and value strings, e.g. (const char *[]){"app", "web", NULL}.
 * Thread-safe: each line is written with one call.
 */
void cairn_log(cairn_log_level level, const char *const *fields, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define cairn_log_debug(...) cairn_log(CAIRN_LOG_DEBUG, NULL, __VA_ARGS__)
#define cairn_log_info(...) cairn_log(CAIRN_LOG_INFO, NULL, __VA_ARGS__)
#define cairn_log_warn(...) cairn_log(CAIRN_LOG_WARN, NULL, __VA_ARGS__)
#define cairn_log_error(...) cairn_log(CAIRN_LOG_ERROR, NULL, __VA_ARGS__)

/** Replacement text for anything secret in a log line or output. */
#define CAIRN_REDACTED "++++++++"

#ifdef __cplusplus
}
#endif
#endif
