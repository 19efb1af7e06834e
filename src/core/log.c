/*
 * log.c - one line per event, human on a terminal, JSON otherwise.
 *
 * The logger is configured once at start-up (cairn_log_setup) before any
 * thread starts; afterwards it is only read, and each line is built in a
 * buffer and written with one fwrite under the stream lock, so lines from
 * several threads never interleave.
 */
#include <stdarg.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "cairn/buf.h"
#include "cairn/log.h"
#include "cairn/util.h"

static struct {
	cairn_log_level min;
	int json;
	FILE *stream;
	int configured;
} logger = {CAIRN_LOG_INFO, 0, NULL, 0};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void cairn_log_setup(cairn_log_level min, cairn_log_format format, FILE *stream)
{
	logger.min = min;
	logger.stream = stream ? stream : stderr;
	if (format == CAIRN_LOG_FORMAT_AUTO)
		logger.json = !isatty(fileno(logger.stream));
	else
		logger.json = format == CAIRN_LOG_FORMAT_JSON;
	logger.configured = 1;
}

int cairn_log_level_parse(cairn_log_level *out, const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (cairn_log_level)i;
			return 0;
		}
	}
	return -3; /* CAIRN_EINVAL; the caller words the message */
}

/* Append `s` as a JSON string (quotes included). */
static void put_json_string(cairn_buf *b, const char *s)
{
	json_t *str = json_string(s);
	char *enc;

	if (str == NULL) {
		/* not UTF-8: drop it rather than write an invalid line */
		cairn_buf_puts(b, "\"<invalid utf-8>\"");
		return;
	}
	enc = json_dumps(str, JSON_ENCODE_ANY | JSON_COMPACT);
	if (enc)
		cairn_buf_puts(b, enc);
	free(enc);
	json_decref(str);
}

/* Human lines escape control characters so one event stays one line. */
static void put_human(cairn_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			cairn_buf_puts(b, "\\n");
		else if (c < 0x20 || c == 0x7f)
			cairn_buf_printf(b, "\\x%02x", c);
		else
			cairn_buf_putc(b, (char)c);
	}
}

void cairn_log(cairn_log_level level, const char *const *fields, const char *fmt, ...)
{
	cairn_buf line = CAIRN_BUF_INIT(1 << 20);
	cairn_buf msg = CAIRN_BUF_INIT(1 << 20);
	char ts[CAIRN_TIME_RFC3339_LEN];
	FILE *out;
	va_list ap;

	if (!logger.configured)
		cairn_log_setup(CAIRN_LOG_INFO, CAIRN_LOG_FORMAT_AUTO, NULL);
	if (level < logger.min)
		return;
	out = logger.stream;
	va_start(ap, fmt);
	cairn_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	cairn_time_format(ts, cairn_time_now());
	if (logger.json) {
		cairn_buf_puts(&line, "{\"time\":\"");
		cairn_buf_puts(&line, ts);
		cairn_buf_printf(&line, "\",\"level\":\"%s\",\"msg\":", level_names[level]);
		put_json_string(&line, msg.ptr ? msg.ptr : "");
		for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
			cairn_buf_putc(&line, ',');
			put_json_string(&line, fields[i]);
			cairn_buf_putc(&line, ':');
			put_json_string(&line, fields[i + 1]);
		}
		cairn_buf_puts(&line, "}\n");
	} else {
		/* "2026-11-26T23:00:50.123456Z" -> "23:00:50" */
		cairn_buf_put(&line, ts + 11, 8);
		cairn_buf_printf(&line, " %-5s ", level_names[level]);
		put_human(&line, msg.ptr ? msg.ptr : "");
		for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
			cairn_buf_putc(&line, ' ');
			put_human(&line, fields[i]);
			cairn_buf_putc(&line, '=');
			put_human(&line, fields[i + 1]);
		}
		cairn_buf_putc(&line, '\n');
	}
	if (line.ptr) {
		flockfile(out);
		fwrite(line.ptr, 1, line.len, out);
		fflush(out);
		funlockfile(out);
	}
	cairn_buf_dispose(&line);
	cairn_buf_dispose(&msg);
}
