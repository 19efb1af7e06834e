/*
 * error.c - the per-thread last error (libgit2's giterr idea).
 */
#include <errno.h>
#include <stdarg.h>

#include "cairn/error.h"

static _Thread_local cairn_error last_error;

/* Cut `s` with "..." when it filled a buffer of `size` bytes. */
static void mark_truncated(char *s, size_t size, int wanted)
{
	if (wanted >= 0 && (size_t)wanted >= size && size > 4)
		memcpy(s + size - 4, "...", 4);
}

static void set_file(const char *file)
{
	size_t n;

	if (file == NULL) {
		last_error.file[0] = '\0';
		return;
	}
	n = strlen(file);
	if (n >= sizeof(last_error.file))
		n = sizeof(last_error.file) - 1;
	memcpy(last_error.file, file, n);
	last_error.file[n] = '\0';
}

__attribute__((format(printf, 5, 0))) static int set_va(int code, const char *file, int line,
                                                        int column, const char *fmt, va_list ap)
{
	int n;

	last_error.code = code;
	/* The message may quote the previous one (cairn_error_prefix): format
	 * into a scratch buffer first. */
	char tmp[CAIRN_ERROR_MSG_MAX];
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	mark_truncated(tmp, sizeof(tmp), n);
	memcpy(last_error.message, tmp, sizeof(tmp));
	set_file(file);
	last_error.line = line;
	last_error.column = column;
	return code;
}

int cairn_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_va(code, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return code;
}

int cairn_error_set_at(int code, const char *file, int line, int column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_va(code, file, line, column, fmt, ap);
	va_end(ap);
	return code;
}

int cairn_error_prefix(const char *fmt, ...)
{
	char prefix[CAIRN_ERROR_MSG_MAX];
	char tmp[CAIRN_ERROR_MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	mark_truncated(prefix, sizeof(prefix), n);
	n = snprintf(tmp, sizeof(tmp), "%s%s", prefix, last_error.message);
	mark_truncated(tmp, sizeof(tmp), n);
	memcpy(last_error.message, tmp, sizeof(tmp));
	if (last_error.code == CAIRN_OK)
		last_error.code = CAIRN_ERROR;
	return last_error.code;
}

int cairn_error_set_errno(int errnum, const char *fmt, ...)
{
	char what[CAIRN_ERROR_MSG_MAX];
	char ebuf[256];
	const char *estr;
	va_list ap;
	int code = CAIRN_EIO;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	mark_truncated(what, sizeof(what), n);
	estr = strerror_r(errnum, ebuf, sizeof(ebuf));
	if (errnum == ENOENT)
		code = CAIRN_ENOTFOUND;
	else if (errnum == EACCES || errnum == EPERM)
		code = CAIRN_EPERM;
	else if (errnum == ENOMEM)
		code = CAIRN_ENOMEM;
	else if (errnum == EEXIST)
		code = CAIRN_EEXISTS;
	return cairn_error_set(code, "%s: %s", what, estr);
}

const cairn_error *cairn_error_last(void)
{
	return &last_error;
}

void cairn_error_clear(void)
{
	memset(&last_error, 0, sizeof(last_error));
}

char *cairn_error_format(const cairn_error *err, char *buf, size_t size)
{
	int n;

	if (size == 0)
		return buf;
	if (err->file[0] != '\0' && err->line > 0 && err->column > 0)
		n = snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->column,
		             err->message);
	else if (err->file[0] != '\0' && err->line > 0)
		n = snprintf(buf, size, "%s:%d: %s", err->file, err->line, err->message);
	else if (err->file[0] != '\0')
		n = snprintf(buf, size, "%s: %s", err->file, err->message);
	else
		n = snprintf(buf, size, "%s", err->message);
	mark_truncated(buf, size, n);
	return buf;
}

const char *cairn_error_code_name(int code)
{
	switch (code) {
	case CAIRN_OK:
		return "ok";
	case CAIRN_ENOMEM:
		return "nomem";
	case CAIRN_EINVAL:
		return "invalid";
	case CAIRN_ELIMIT:
		return "limit";
	case CAIRN_EIO:
		return "io";
	case CAIRN_ENOTFOUND:
		return "notfound";
	case CAIRN_EEXISTS:
		return "exists";
	case CAIRN_ETIMEOUT:
		return "timeout";
	case CAIRN_EPERM:
		return "denied";
	case CAIRN_EBUSY:
		return "busy";
	case CAIRN_EUNSUPPORTED:
		return "unsupported";
	case CAIRN_ECORRUPT:
		return "corrupt";
	case CAIRN_EREADONLY:
		return "readonly";
	default:
		return "error";
	}
}
