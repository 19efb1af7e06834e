/*
 * cairn/buf.h - bounded growable byte buffers.
 *
 * Every buffer filled from input has a maximum size; growing past it fails
 * with CAIRN_ELIMIT and leaves the buffer as it was (curl's dynbuf idea).
 * The contents are always NUL-terminated (the NUL is not counted in len),
 * so text can be used as a C string.
 */
#ifndef CAIRN_BUF_H
#define CAIRN_BUF_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_buf {
	char *ptr;  /**< owned; NULL until the first write */
	size_t len; /**< bytes in use, not counting the trailing NUL */
	size_t cap; /**< bytes allocated */
	size_t max; /**< the most `len` may reach */
} cairn_buf;

/** Default maximum when none is given: 256 MiB. */
#define CAIRN_BUF_DEFAULT_MAX ((size_t)256 << 20)
/** Static initialiser for an empty buffer with a maximum. */
#define CAIRN_BUF_INIT(maxbytes)                                                                   \
	{                                                                                          \
		NULL, 0, 0, (maxbytes)                                                             \
	}

/** Initialise an empty buffer with maximum `max` (0 = default). */
void cairn_buf_init(cairn_buf *b, size_t max);
/** Append `n` bytes. 0, CAIRN_ELIMIT or CAIRN_ENOMEM (buffer unchanged). */
int cairn_buf_put(cairn_buf *b, const void *data, size_t n);
/** Append a C string. */
int cairn_buf_puts(cairn_buf *b, const char *s);
/** Append one byte. */
int cairn_buf_putc(cairn_buf *b, char c);
/** Append formatted text. */
int cairn_buf_printf(cairn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cairn_buf_vprintf(cairn_buf *b, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
/** Make room for `n` more bytes without changing len. */
int cairn_buf_reserve(cairn_buf *b, size_t n);
/** Drop the contents, keep the allocation. */
void cairn_buf_reset(cairn_buf *b);
/** Cut to `len` bytes (no-op when already shorter). */
void cairn_buf_truncate(cairn_buf *b, size_t len);
/** Free the contents; the buffer is empty and reusable afterwards. */
void cairn_buf_dispose(cairn_buf *b);
/**
 * Take the contents: returns a malloc'd NUL-terminated string (never NULL
 * on success, "" for an empty buffer) which the caller frees; the buffer is
 * left empty. `len` may be NULL. Returns NULL only when out of memory.
 */
char *cairn_buf_detach(cairn_buf *b, size_t *len);

/**
 * Read a whole file into `b` (appending), refusing files larger than
 * `b->max`. Errors name the file.
 */
int cairn_buf_read_file(cairn_buf *b, const char *path);

#ifdef __cplusplus
}
#endif
#endif
