/* core_basics.c - errors, buffers, time. */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include <jansson.h>
#include "cairn/util.h"
#include "testutil.h"

START_TEST(error_set_and_format)
{
	char out[2048];

	cairn_error_clear();
	ck_assert_int_eq(cairn_error_last()->code, CAIRN_OK);
	ck_assert_int_eq(cairn_error_set_at(CAIRN_EINVAL, "a.yaml", 3, 7, "bad key '%s'", "x"),
	                 CAIRN_EINVAL);
	cairn_error_format(cairn_error_last(), out, sizeof(out));
	ck_assert_str_eq(out, "a.yaml:3:7: bad key 'x'");
	cairn_error_prefix("loading: ");
	cairn_error_format(cairn_error_last(), out, sizeof(out));
	ck_assert_str_eq(out, "a.yaml:3:7: loading: bad key 'x'");
	cairn_error_set(CAIRN_EIO, "plain");
	cairn_error_format(cairn_error_last(), out, sizeof(out));
	ck_assert_str_eq(out, "plain");
	ck_assert_str_eq(cairn_error_code_name(CAIRN_ELIMIT), "limit");
}
END_TEST

START_TEST(error_errno_maps_codes)
{
	ck_assert_int_eq(cairn_error_set_errno(ENOENT, "cannot open '%s'", "x"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("cannot open 'x': ");
	ck_assert_int_eq(cairn_error_set_errno(EIO, "write"), CAIRN_EIO);
}
END_TEST

START_TEST(error_long_message_truncated)
{
	char big[4000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cairn_error_set(CAIRN_EINVAL, "%s", big);
	ck_assert_uint_eq(strlen(cairn_error_last()->message), CAIRN_ERROR_MSG_MAX - 1);
	ck_assert_str_eq(cairn_error_last()->message + CAIRN_ERROR_MSG_MAX - 4, "...");
}
END_TEST

START_TEST(buf_limit_is_an_error_and_keeps_contents)
{
	cairn_buf b = CAIRN_BUF_INIT(8);

	ck_assert_int_eq(cairn_buf_puts(&b, "12345"), 0);
	ck_assert_int_eq(cairn_buf_puts(&b, "6789"), CAIRN_ELIMIT);
	ck_assert_str_eq(b.ptr, "12345");
	ck_assert_int_eq(cairn_buf_printf(&b, "%d", 678), 0);
	ck_assert_str_eq(b.ptr, "12345678");
	ck_assert_int_eq(cairn_buf_putc(&b, 'x'), CAIRN_ELIMIT);
	ck_assert_uint_eq(b.len, 8);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(buf_detach_and_truncate)
{
	cairn_buf b;
	size_t len;
	char *s;

	cairn_buf_init(&b, 0);
	s = cairn_buf_detach(&b, &len);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
	cairn_buf_puts(&b, "hello world");
	cairn_buf_truncate(&b, 5);
	s = cairn_buf_detach(&b, &len);
	ck_assert_str_eq(s, "hello");
	ck_assert_ptr_null(b.ptr);
	free(s);
}
END_TEST

START_TEST(buf_read_file_limit)
{
	char path[] = "/tmp/cairn-buf-XXXXXX";
	int fd = mkstemp(path);
	cairn_buf b = CAIRN_BUF_INIT(10);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789abc", 13), 13);
	close(fd);
	ck_assert_int_eq(cairn_buf_read_file(&b, path), CAIRN_ELIMIT);
	ck_assert_error_contains(path);
	ck_assert_uint_eq(b.len, 0);
	b.max = 100;
	ck_assert_int_eq(cairn_buf_read_file(&b, path), 0);
	ck_assert_str_eq(b.ptr, "0123456789abc");
	ck_assert_int_eq(cairn_buf_read_file(&b, "/nonexistent/x"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("'/nonexistent/x'");
	cairn_buf_dispose(&b);
	unlink(path);
}
END_TEST

START_TEST(time_round_trip)
{
	char s[CAIRN_TIME_RFC3339_LEN];
	cairn_usec t;

	ck_assert_int_eq(cairn_time_parse(&t, "2026-11-26T23:00:50.123456Z"), 0);
	ck_assert_int_eq(t, INT64_C(1795734050123456));
	cairn_time_format(s, t);
	ck_assert_str_eq(s, "2026-11-26T23:00:50.123456Z");
	ck_assert_int_eq(cairn_time_parse(&t, "2026-11-27T00:00:50+01:00"), 0);
	cairn_time_format(s, t);
	ck_assert_str_eq(s, "2026-11-26T23:00:50.000000Z");
	ck_assert_int_eq(cairn_time_parse(&t, "1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(t, 0);
	ck_assert_int_eq(cairn_time_parse(&t, "2025-02-29T00:00:00Z"), CAIRN_EINVAL);
	ck_assert_error_contains("'2025-02-29T00:00:00Z'");
	ck_assert_int_eq(cairn_time_parse(&t, "2026-11-26 23:00"), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_time_parse(&t, "2026-11-26T23:00:50Zjunk"), CAIRN_EINVAL);
	/* found by fuzz_duration: an offset past the last year RFC 3339 writes */
	ck_assert_int_eq(cairn_time_parse(&t, "9999-12-31T23:59:59-20:10"), CAIRN_EINVAL);
	ck_assert_error_contains("outside the years 0000-9999");
	ck_assert_int_eq(cairn_time_parse(&t, "0000-01-01T00:00:00+00:01"), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_time_parse(&t, "9999-12-31T23:59:59.999999Z"), 0);
	cairn_time_format(s, t);
	ck_assert_str_eq(s, "9999-12-31T23:59:59.999999Z");
}
END_TEST

/* Read back what the logger wrote to a temporary stream. */
static char *log_capture(cairn_log_format format, cairn_log_level min, void (*emit)(void))
{
	FILE *f = tmpfile();
	char *text;
	long n;

	ck_assert_ptr_nonnull(f);
	cairn_log_setup(min, format, f);
	emit();
	fflush(f);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(fread(text, 1, (size_t)n, f), n);
	fclose(f);
	cairn_log_setup(CAIRN_LOG_WARN, CAIRN_LOG_FORMAT_HUMAN, stderr);
	return text;
}

static void emit_two(void)
{
	cairn_log(CAIRN_LOG_INFO, (const char *[]){"app", "web\nforged", NULL}, "synced %d objects",
	          3);
	cairn_log_debug("hidden below the minimum level");
}

START_TEST(log_json_one_object_per_line)
{
	char *text = log_capture(CAIRN_LOG_FORMAT_JSON, CAIRN_LOG_INFO, emit_two);
	json_error_t jerr;
	json_t *line;
	char *nl = strchr(text, '\n');

	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl + 1, ""); /* exactly one line: debug was filtered */
	line = json_loadb(text, (size_t)(nl - text), 0, &jerr);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(json_string_value(json_object_get(line, "level")), "info");
	ck_assert_str_eq(json_string_value(json_object_get(line, "msg")), "synced 3 objects");
	ck_assert_str_eq(json_string_value(json_object_get(line, "app")), "web\nforged");
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(line, "time"))), 27);
	json_decref(line);
	free(text);
}
END_TEST

START_TEST(log_human_escapes_newlines)
{
	char *text = log_capture(CAIRN_LOG_FORMAT_HUMAN, CAIRN_LOG_DEBUG, emit_two);
	char *first = strchr(text, '\n');

	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(strstr(text, " info  synced 3 objects app=web\\nforged\n"));
	ck_assert_ptr_nonnull(strstr(first + 1, " debug hidden below the minimum level\n"));
	free(text);
}
END_TEST

void core_basics_tests(Suite *s)
{
	TCase *tc = tcase_create("basics");

	tcase_add_test(tc, error_set_and_format);
	tcase_add_test(tc, error_errno_maps_codes);
	tcase_add_test(tc, error_long_message_truncated);
	tcase_add_test(tc, buf_limit_is_an_error_and_keeps_contents);
	tcase_add_test(tc, buf_detach_and_truncate);
	tcase_add_test(tc, buf_read_file_limit);
	tcase_add_test(tc, time_round_trip);
	tcase_add_test(tc, log_json_one_object_per_line);
	tcase_add_test(tc, log_human_escapes_newlines);
	suite_add_tcase(s, tc);
}
