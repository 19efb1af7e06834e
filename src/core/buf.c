/*
 * buf.c - bounded growable buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/error.h"

void cairn_buf_init(cairn_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : CAIRN_BUF_DEFAULT_MAX;
}

/* Grow so that `n` more bytes plus a NUL fit, doubling to amortise. */
int cairn_buf_reserve(cairn_buf *b, size_t n)
{
	size_t max = b->max ? b->max : CAIRN_BUF_DEFAULT_MAX;
	size_t need, cap;
	char *p;

	if (n > max || b->len > max - n)
		return cairn_error_set(CAIRN_ELIMIT, "buffer would exceed its limit of %zu bytes",
		                       max);
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > max + 1)
		cap = max + 1;
	p = realloc(b->ptr, cap);
	if (p == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory growing a buffer to %zu bytes",
		                       cap);
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int cairn_buf_put(cairn_buf *b, const void *data, size_t n)
{
	int rc = cairn_buf_reserve(b, n);

	if (rc < 0)
		return rc;
	if (n > 0)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int cairn_buf_puts(cairn_buf *b, const char *s)
{
	return cairn_buf_put(b, s, strlen(s));
}

int cairn_buf_putc(cairn_buf *b, char c)
{
	return cairn_buf_put(b, &c, 1);
}

int cairn_buf_vprintf(cairn_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return cairn_error_set(CAIRN_EINVAL, "bad format string '%s'", fmt);
	rc = cairn_buf_reserve(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int cairn_buf_printf(cairn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void cairn_buf_reset(cairn_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void cairn_buf_truncate(cairn_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->ptr[len] = '\0';
	}
}

void cairn_buf_dispose(cairn_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}

char *cairn_buf_detach(cairn_buf *b, size_t *len)
{
	char *p = b->ptr;

	if (p == NULL) {
		p = strdup("");
		if (p == NULL)
			return NULL;
	}
	if (len)
		*len = b->len;
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int cairn_buf_read_file(cairn_buf *b, const char *path)
{
	size_t max = b->max ? b->max : CAIRN_BUF_DEFAULT_MAX;
	size_t start = b->len;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cairn_error_set_errno(errno, "cannot open '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = cairn_error_set(CAIRN_EINVAL, "'%s' is a directory, expected a file", path);
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > max - b->len) {
		rc = cairn_error_set(CAIRN_ELIMIT, "'%s' is %lld bytes, more than the limit of %zu",
		                     path, (long long)st.st_size, max);
		goto out;
	}
	for (;;) {
		ssize_t n;

		rc = cairn_buf_reserve(b, 65536 < max - b->len ? 65536 : max - b->len);
		if (rc < 0) {
			cairn_error_prefix("reading '%s': ", path);
			goto out;
		}
		n = read(fd, b->ptr + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cairn_error_set_errno(errno, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->ptr[b->len] = '\0';
		if (b->len >= max) {
			char probe;
			ssize_t more = read(fd, &probe, 1);

			if (more > 0) {
				rc = cairn_error_set(CAIRN_ELIMIT,
				                     "'%s' is larger than the limit of %zu bytes",
				                     path, max);
				goto out;
			}
			break;
		}
	}
out:
	if (rc < 0)
		cairn_buf_truncate(b, start);
	close(fd);
	return rc;
}
