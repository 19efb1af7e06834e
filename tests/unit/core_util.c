/* core_util.c - Go durations, safe paths and subprocesses. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/util.h"
#include "testutil.h"

/* The fallback walk of path.c, exposed for these tests. */
int path__open_walk(int *out_fd, int rootfd, const char *rel, int flags);

#define NS 1LL
#define US (1000 * NS)
#define MS (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* ---- durations --------------------------------------------------------- */

static const struct {
	const char *in;
	int64_t ns;
} good_durations[] = {
        /* The cases of Go's own time.ParseDuration tests. */
        {"0", 0},
        {"5s", 5 * SEC},
        {"30s", 30 * SEC},
        {"1478s", 1478 * SEC},
        {"-5s", -5 * SEC},
        {"+5s", 5 * SEC},
        {"-0", 0},
        {"+0", 0},
        {"5.0s", 5 * SEC},
        {"5.6s", 5 * SEC + 600 * MS},
        {"5.s", 5 * SEC},
        {".5s", 500 * MS},
        {"1.004s", 1 * SEC + 4 * MS},
        {"1.0040s", 1 * SEC + 4 * MS},
        {"100.00100s", 100 * SEC + 1 * MS},
        {"10ns", 10 * NS},
        {"11us", 11 * US},
        {"12\xc2\xb5s", 12 * US},
        {"12\xce\xbcs", 12 * US},
        {"13ms", 13 * MS},
        {"15m", 15 * MIN},
        {"16h", 16 * HOUR},
        {"3h30m", 3 * HOUR + 30 * MIN},
        {"1h30m", 90 * MIN},
        {"1.5h", 90 * MIN},
        {"-3m", -3 * MIN},
        {"300ms", 300 * MS},
        {"2h45m0.5s", 2 * HOUR + 45 * MIN + 500 * MS},
        {"10.5s4m", 4 * MIN + 10 * SEC + 500 * MS},
        {"-2m3.4s", -(2 * MIN + 3 * SEC + 400 * MS)},
        {"1h2m3s4ms5us6ns", 1 * HOUR + 2 * MIN + 3 * SEC + 4 * MS + 5 * US + 6 * NS},
        {"39h9m14.425s", 39 * HOUR + 9 * MIN + 14 * SEC + 425 * MS},
        {"52763797000ns", 52763797000 * NS},
        {"0.3333333333333333333h", 20 * MIN},
        {"9007199254740993ns", (1LL << 53) + 1},
        {"9223372036854775807ns", INT64_MAX},
        {"9223372036854775.807us", INT64_MAX},
        {"9223372036s854ms775us807ns", INT64_MAX},
        {"-9223372036854775808ns", INT64_MIN},
        {"-9223372036854775.808us", INT64_MIN},
        {"-2562047h47m16.854775808s", INT64_MIN},
        {"0.100000000000000000000h", 6 * MIN},
        {"0.830103483285477580700h", 49 * MIN + 48 * SEC + 372539827 * NS},
};

START_TEST(duration_parse_good)
{
	size_t i;

	for (i = 0; i < sizeof(good_durations) / sizeof(good_durations[0]); i++) {
		int64_t ns = 12345;
		int rc = cairn_duration_parse(&ns, good_durations[i].in);

		ck_assert_msg(rc == 0, "'%s': %s", good_durations[i].in,
		              cairn_error_last()->message);
		ck_assert_msg(ns == good_durations[i].ns, "'%s': got %lld want %lld",
		              good_durations[i].in, (long long)ns, (long long)good_durations[i].ns);
	}
}
END_TEST

START_TEST(duration_parse_bad)
{
	static const char *invalid[] = {
	        "",         "3",    "-",      "s",   ".",     "-.",   ".s",   "+.s", "1d",  "1.5",
	        "\x85\x85", "\xff", "1h 30m", " 1h", "1h-5m", "--1s", "1e3s", "1S",  "1sec"};
	static const char *overflow[] = {"9223372036854775808ns",
	                                 "9223372036854775.808us",
	                                 "9223372036854ms775us808ns",
	                                 "-9223372036854775809ns",
	                                 "3000000h",
	                                 "99999999999999999999999s",
	                                 "9223372036s854ms775us808ns"};
	int64_t ns = 42;
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		ck_assert_msg(cairn_duration_parse(&ns, invalid[i]) == CAIRN_EINVAL,
		              "'%s' accepted", invalid[i]);
		ck_assert_error_contains("duration '");
	}
	for (i = 0; i < sizeof(overflow) / sizeof(overflow[0]); i++) {
		ck_assert_msg(cairn_duration_parse(&ns, overflow[i]) == CAIRN_ELIMIT,
		              "'%s' not an overflow", overflow[i]);
		ck_assert_error_contains(overflow[i]);
	}
	ck_assert_int_eq(ns, 42);

	ck_assert_int_eq(cairn_duration_parse(&ns, ""), CAIRN_EINVAL);
	ck_assert_str_eq(cairn_error_last()->message, "invalid duration ''");
	ck_assert_int_eq(cairn_duration_parse(&ns, "1"), CAIRN_EINVAL);
	ck_assert_error_contains("missing unit in duration '1'");
	ck_assert_int_eq(cairn_duration_parse(&ns, "1d"), CAIRN_EINVAL);
	ck_assert_error_contains("unknown unit 'd' in duration '1d'");
	ck_assert_int_eq(cairn_duration_parse(&ns, "5m3x2s"), CAIRN_EINVAL);
	ck_assert_error_contains("unknown unit 'x' in duration '5m3x2s'");
}
END_TEST

START_TEST(duration_format)
{
	static const struct {
		int64_t ns;
		const char *want;
	} cases[] = {
	        {0, "0s"},
	        {1, "1ns"},
	        {1100, "1.1\xc2\xb5s"},
	        {1 * US, "1\xc2\xb5s"},
	        {2200 * US, "2.2ms"},
	        {500 * MS, "500ms"},
	        {3300 * MS, "3.3s"},
	        {1500 * MS, "1.5s"},
	        {4 * MIN + 5 * SEC, "4m5s"},
	        {4 * MIN + 5001 * MS, "4m5.001s"},
	        {5 * HOUR + 6 * MIN + 7001 * MS, "5h6m7.001s"},
	        {8 * MIN + 1, "8m0.000000001s"},
	        {90 * MIN, "1h30m0s"},
	        {-3 * MIN, "-3m0s"},
	        {-1, "-1ns"},
	        {INT64_MAX, "2562047h47m16.854775807s"},
	        {INT64_MIN, "-2562047h47m16.854775808s"},
	};
	char out[CAIRN_DURATION_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t back = 0;

		cairn_duration_format(out, cases[i].ns);
		ck_assert_str_eq(out, cases[i].want);
		ck_assert_int_eq(cairn_duration_parse(&back, out), 0);
		ck_assert_int_eq(back, cases[i].ns);
	}
}
END_TEST

/* ---- lexical paths ----------------------------------------------------- */

START_TEST(path_check_relative)
{
	static const char *ok[] = {"a",     "a/b", "./a",   "a/../b", "a/b/../../c",
	                           "a//b/", "..a", "a/..b", ".",      "a/.."};
	static const char *escaping[] = {"..",   "../a",         "a/../..",  "a/../../b",
	                                 "./..", "a/b/../../..", "a/./../.."};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(cairn_path_check_relative(ok[i]) == 0, "'%s' refused", ok[i]);
	for (i = 0; i < sizeof(escaping) / sizeof(escaping[0]); i++) {
		ck_assert_msg(cairn_path_check_relative(escaping[i]) == CAIRN_EPERM, "'%s' allowed",
		              escaping[i]);
		ck_assert_error_contains("climbs above");
		ck_assert_error_contains(escaping[i]);
	}
	ck_assert_int_eq(cairn_path_check_relative("/etc/passwd"), CAIRN_EPERM);
	ck_assert_error_contains("absolute path '/etc/passwd'");
	ck_assert_int_eq(cairn_path_check_relative(""), CAIRN_EPERM);
	ck_assert_error_contains("empty path");
	/* A C string ends at NUL: what follows it is never seen. */
	ck_assert_int_eq(cairn_path_check_relative("a\0/../../etc"), 0);
}
END_TEST

START_TEST(path_clean_and_join)
{
	static const struct {
		const char *in, *want;
	} clean[] = {
	        {"", "."},
	        {".", "."},
	        {"a/./b/../c", "a/c"},
	        {"a//b///c/", "a/b/c"},
	        {"a/..", "."},
	        {"./a/b/..", "a"},
	        {"a/b/../../c", "c"},
	        {"abc/../def", "def"},
	        {"..a/b", "..a/b"},
	        {"a/.../b", "a/.../b"},
	};
	char *out = (char *)"untouched";
	size_t i;

	for (i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		char *c = NULL;

		ck_assert_int_eq(cairn_path_clean(&c, clean[i].in), 0);
		ck_assert_str_eq(c, clean[i].want);
		free(c);
	}
	ck_assert_int_eq(cairn_path_clean(&out, "a/../../b"), CAIRN_EPERM);
	ck_assert_error_contains("'a/../../b' climbs above");
	ck_assert_int_eq(cairn_path_clean(&out, "/a"), CAIRN_EPERM);
	ck_assert_str_eq(out, "untouched");

	ck_assert_int_eq(cairn_path_join(&out, "/srv/repo", "apps/./web/../api"), 0);
	ck_assert_str_eq(out, "/srv/repo/apps/api");
	free(out);
	ck_assert_int_eq(cairn_path_join(&out, "repo/", "a//b/"), 0);
	ck_assert_str_eq(out, "repo/a/b");
	free(out);
	ck_assert_int_eq(cairn_path_join(&out, "/", "etc"), 0);
	ck_assert_str_eq(out, "/etc");
	free(out);
	ck_assert_int_eq(cairn_path_join(&out, "/srv/repo", ""), 0);
	ck_assert_str_eq(out, "/srv/repo");
	free(out);
	ck_assert_int_eq(cairn_path_join(&out, "../base", "x"), 0);
	ck_assert_str_eq(out, "../base/x");
	free(out);
	out = (char *)"untouched";
	ck_assert_int_eq(cairn_path_join(&out, "/srv/repo", "../other"), CAIRN_EPERM);
	ck_assert_error_contains("'../other' climbs above its root");
	ck_assert_int_eq(cairn_path_join(&out, "/srv/repo", "a/../../other"), CAIRN_EPERM);
	ck_assert_int_eq(cairn_path_join(&out, "/srv/repo", "/etc/passwd"), CAIRN_EPERM);
	ck_assert_error_contains("absolute path '/etc/passwd'");
	ck_assert_str_eq(out, "untouched");
}
END_TEST

/* ---- opening beneath a root -------------------------------------------- */

static char tree_dir[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/*
 * tree_dir/outside.txt and tree_dir/root/ with legitimate and escaping
 * symlinks inside the root.
 */
static int make_tree(void)
{
	char p[256], q[256];
	int rootfd;

	snprintf(tree_dir, sizeof(tree_dir), "/tmp/cairn-path-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree_dir));
#define AT(rel) (snprintf(p, sizeof(p), "%s/%s", tree_dir, rel), p)
	write_file(AT("outside.txt"), "secret");
	ck_assert_int_eq(mkdir(AT("root"), 0755), 0);
	ck_assert_int_eq(mkdir(AT("root/a"), 0755), 0);
	ck_assert_int_eq(mkdir(AT("root/a/b"), 0755), 0);
	write_file(AT("root/a/b/file.txt"), "hello");
	ck_assert_int_eq(symlink("b/file.txt", AT("root/a/link_in")), 0);
	ck_assert_int_eq(symlink("b", AT("root/a/dirlink")), 0);
	ck_assert_int_eq(symlink("../a/b/../b/file.txt", AT("root/a/updown")), 0);
	snprintf(q, sizeof(q), "%s/outside.txt", tree_dir);
	ck_assert_int_eq(symlink(q, AT("root/esc_abs")), 0);
	ck_assert_int_eq(symlink("/etc", AT("root/etc_link")), 0);
	ck_assert_int_eq(symlink("../outside.txt", AT("root/esc_rel")), 0);
	ck_assert_int_eq(symlink("../../../outside.txt", AT("root/a/b/esc_deep")), 0);
	ck_assert_int_eq(symlink("..", AT("root/a/b/up")), 0);
	ck_assert_int_eq(symlink("loop2", AT("root/loop1")), 0);
	ck_assert_int_eq(symlink("loop1", AT("root/loop2")), 0);
	ck_assert_int_eq(symlink("self", AT("root/self")), 0);
	rootfd = open(AT("root"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#undef AT
	ck_assert_int_ge(rootfd, 0);
	return rootfd;
}

static void remove_tree(int rootfd)
{
	char cmd[128];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree_dir);
	ck_assert_int_eq(system(cmd), 0);
}

typedef int (*open_fn)(int *, int, const char *, int);

static void assert_reads(open_fn fn, int rootfd, const char *rel, const char *want)
{
	char buf[64];
	ssize_t n;
	int fd = -1;

	ck_assert_msg(fn(&fd, rootfd, rel, O_RDONLY) == 0, "'%s': %s", rel,
	              cairn_error_last()->message);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
	close(fd);
}

static void assert_refused(open_fn fn, int rootfd, const char *rel, int code, const char *msg)
{
	int fd = -7;

	ck_assert_msg(fn(&fd, rootfd, rel, O_RDONLY) == code, "'%s' not refused with %d: %s", rel,
	              code, cairn_error_last()->message);
	ck_assert_error_contains(msg);
	ck_assert_int_eq(fd, -7);
}

static void check_open(open_fn fn, int rootfd)
{
	int fd = -1;

	assert_reads(fn, rootfd, "a/b/file.txt", "hello");
	assert_reads(fn, rootfd, "./a//b/./file.txt", "hello");
	assert_reads(fn, rootfd, "a/link_in", "hello");
	assert_reads(fn, rootfd, "a/dirlink/file.txt", "hello");
	assert_reads(fn, rootfd, "a/updown", "hello");
	assert_reads(fn, rootfd, "a/b/up/b/file.txt", "hello");
	assert_reads(fn, rootfd, "a/b/../b/file.txt", "hello");

	assert_refused(fn, rootfd, "esc_rel", CAIRN_EPERM, "esc_rel");
	assert_refused(fn, rootfd, "a/b/esc_deep", CAIRN_EPERM, "esc_deep");
	assert_refused(fn, rootfd, "esc_abs", CAIRN_EPERM, "esc_abs");
	assert_refused(fn, rootfd, "etc_link/passwd", CAIRN_EPERM, "etc_link/passwd");
	assert_refused(fn, rootfd, "a/b/up/../../outside.txt", CAIRN_EPERM, "outside.txt");
	assert_refused(fn, rootfd, "loop1", CAIRN_EPERM, "loop1");
	assert_refused(fn, rootfd, "self", CAIRN_EPERM, "self");
	assert_refused(fn, rootfd, "a/missing.txt", CAIRN_ENOTFOUND, "a/missing.txt");
	assert_refused(fn, rootfd, "a/b/file.txt/x", CAIRN_EIO, "a/b/file.txt/x");
	{
		char longname[300];

		memset(longname, 'n', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_refused(fn, rootfd, longname, CAIRN_EIO, "too long");
	}

	/* A directory, for the caller to go on from. */
	ck_assert_int_eq(fn(&fd, rootfd, "a/dirlink", O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_eq(faccessat(fd, "file.txt", R_OK, 0), 0);
	close(fd);
}

START_TEST(path_open_beneath_openat2)
{
	int rootfd = make_tree();

	check_open(cairn_path_open_beneath, rootfd);
	/* Lexical escapes are refused before any system call. */
	assert_refused(cairn_path_open_beneath, rootfd, "../outside.txt", CAIRN_EPERM,
	               "climbs above");
	assert_refused(cairn_path_open_beneath, rootfd, "a/../../outside.txt", CAIRN_EPERM,
	               "climbs above");
	assert_refused(cairn_path_open_beneath, rootfd, "/etc/passwd", CAIRN_EPERM, "absolute");
	assert_refused(cairn_path_open_beneath, rootfd, "", CAIRN_EPERM, "empty path");
	{
		int fd = -7;

		ck_assert_int_eq(cairn_path_open_beneath(&fd, rootfd, "a/new", O_WRONLY | O_CREAT),
		                 CAIRN_EINVAL);
		ck_assert_error_contains("reading only");
	}
	remove_tree(rootfd);
}
END_TEST

START_TEST(path_open_beneath_fallback_walk)
{
	int rootfd = make_tree();

	check_open(path__open_walk, rootfd);
	assert_refused(path__open_walk, rootfd, "../outside.txt", CAIRN_EPERM, "outside its root");
	assert_refused(path__open_walk, rootfd, "a/../../outside.txt", CAIRN_EPERM,
	               "outside its root");
	remove_tree(rootfd);
}
END_TEST

/* ---- subprocesses ------------------------------------------------------ */

static int run(cairn_proc_result *r, const cairn_proc_opts *o, const char *a0, const char *a1,
               const char *a2)
{
	const char *argv[] = {a0, a1, a2, NULL};

	memset(r, 0, sizeof(*r));
	return cairn_proc_run(r, argv, o);
}

START_TEST(proc_exit_status_and_signals)
{
	cairn_proc_result r;

	ck_assert_int_eq(run(&r, NULL, "sh", "-c", "echo out; echo err >&2; exit 3"), 0);
	ck_assert_int_eq(r.exited, 1);
	ck_assert_int_eq(r.status, 3);
	ck_assert_int_eq(r.timed_out, 0);
	ck_assert_str_eq(r.out.ptr, "out\n");
	ck_assert_str_eq(r.err.ptr, "err\n");
	cairn_proc_result_dispose(&r);

	ck_assert_int_eq(run(&r, NULL, "true", NULL, NULL), 0);
	ck_assert_int_eq(r.exited, 1);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.out.len, 0);
	cairn_proc_result_dispose(&r);

	ck_assert_int_eq(run(&r, NULL, "sh", "-c", "kill -USR1 $$; sleep 5"), 0);
	ck_assert_int_eq(r.exited, 0);
	ck_assert_int_eq(r.status, SIGUSR1);
	cairn_proc_result_dispose(&r);
}
END_TEST

/* Whether `pid` is gone (or a zombie nobody reaped yet). */
static int process_gone(long pid)
{
	char path[64], stat[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	if (!fgets(stat, sizeof(stat), f))
		stat[0] = '\0';
	fclose(f);
	return strstr(stat, ") Z ") != NULL;
}

START_TEST(proc_timeout_kills_the_group)
{
	cairn_proc_opts o = CAIRN_PROC_OPTS_INIT;
	cairn_proc_result r;
	int64_t t0 = cairn_time_mono(), elapsed;
	long grandchild = 0;
	int i;

	o.timeout_ms = 300;
	ck_assert_int_eq(run(&r, &o, "sh", "-c", "sleep 10 & echo $!; sleep 10"), CAIRN_ETIMEOUT);
	elapsed = cairn_time_mono() - t0;
	ck_assert_error_contains("did not finish within 300 ms");
	ck_assert_int_eq(r.timed_out, 1);
	ck_assert_int_eq(r.exited, 0);
	ck_assert_int_eq(r.status, SIGTERM);
	ck_assert_msg(elapsed < 3000000, "took %lld us", (long long)elapsed);
	grandchild = strtol(r.out.ptr, NULL, 10);
	ck_assert_int_gt(grandchild, 1);
	for (i = 0; i < 100 && !process_gone(grandchild); i++)
		usleep(10000);
	ck_assert_msg(process_gone(grandchild), "grandchild %ld survived", grandchild);
	cairn_proc_result_dispose(&r);

	/* A child that ignores SIGTERM gets SIGKILL a second later. */
	t0 = cairn_time_mono();
	ck_assert_int_eq(run(&r, &o, "sh", "-c", "trap '' TERM; sleep 10"), CAIRN_ETIMEOUT);
	elapsed = cairn_time_mono() - t0;
	ck_assert_int_eq(r.exited, 0);
	ck_assert_int_eq(r.status, SIGKILL);
	ck_assert_msg(elapsed >= 1200000 && elapsed < 4000000, "took %lld us", (long long)elapsed);
	cairn_proc_result_dispose(&r);
}
END_TEST

START_TEST(proc_large_output_on_both_streams)
{
	cairn_proc_opts o = CAIRN_PROC_OPTS_INIT;
	cairn_proc_result r;

	ck_assert_int_eq(run(&r, NULL, "sh", "-c",
	                     "head -c 3000000 /dev/zero >&2 & head -c 5000000 /dev/zero; wait"),
	                 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.out.len, 5000000);
	ck_assert_uint_eq(r.err.len, 3000000);
	cairn_proc_result_dispose(&r);

	o.max_output = 100000;
	ck_assert_int_eq(
	        run(&r, &o, "sh", "-c", "head -c 100000 /dev/zero; head -c 1 /dev/zero >&2"), 0);
	ck_assert_uint_eq(r.out.len, 100000);
	cairn_proc_result_dispose(&r);
	ck_assert_int_eq(run(&r, &o, "sh", "-c", "exec yes"), CAIRN_ELIMIT);
	ck_assert_error_contains("'sh' printed more than 100000 bytes");
	ck_assert_ptr_null(r.out.ptr);
}
END_TEST

START_TEST(proc_stdin_and_environment)
{
	cairn_proc_opts o = CAIRN_PROC_OPTS_INIT;
	const char *allow[] = {"CAIRN_TEST_ALLOWED", "CAIRN_TEST_UNSET", NULL};
	const char *env[] = {"EXTRA=x=1", NULL};
	cairn_proc_result r;
	size_t big = 2000000, i;
	char *data = malloc(big);

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	o.stdin_data = data;
	o.stdin_len = big;
	ck_assert_int_eq(run(&r, &o, "cat", NULL, NULL), 0);
	ck_assert_uint_eq(r.out.len, big);
	ck_assert_mem_eq(r.out.ptr, data, big);
	cairn_proc_result_dispose(&r);

	/* The child stops reading early: no SIGPIPE for us. */
	ck_assert_int_eq(run(&r, &o, "head", "-c", "5"), 0);
	ck_assert_str_eq(r.out.ptr, "abcde");
	cairn_proc_result_dispose(&r);
	free(data);

	/* Without stdin_data the child reads /dev/null. */
	ck_assert_int_eq(run(&r, NULL, "cat", NULL, NULL), 0);
	ck_assert_uint_eq(r.out.len, 0);
	cairn_proc_result_dispose(&r);

	setenv("CAIRN_TEST_ALLOWED", "yes", 1);
	setenv("CAIRN_TEST_SECRET", "no", 1);
	unsetenv("CAIRN_TEST_UNSET");
	o = (cairn_proc_opts)CAIRN_PROC_OPTS_INIT;
	o.env = env;
	o.env_allow = allow;
	ck_assert_int_eq(run(&r, &o, "/usr/bin/env", NULL, NULL), 0);
	ck_assert_str_eq(r.out.ptr, "EXTRA=x=1\nCAIRN_TEST_ALLOWED=yes\n");
	cairn_proc_result_dispose(&r);
	unsetenv("CAIRN_TEST_SECRET");
	unsetenv("CAIRN_TEST_ALLOWED");

	o = (cairn_proc_opts)CAIRN_PROC_OPTS_INIT;
	o.cwd = "/";
	ck_assert_int_eq(run(&r, &o, "pwd", NULL, NULL), 0);
	ck_assert_str_eq(r.out.ptr, "/\n");
	cairn_proc_result_dispose(&r);
	o.cwd = "/nonexistent-cairn-dir";
	ck_assert_int_eq(run(&r, &o, "pwd", NULL, NULL), CAIRN_ENOTFOUND);
	ck_assert_error_contains("changing to directory '/nonexistent-cairn-dir'");
}
END_TEST

START_TEST(proc_no_fd_leaks_and_missing_programs)
{
	cairn_proc_result r;
	int leak = open("/dev/null", O_RDONLY); /* deliberately not O_CLOEXEC */

	ck_assert_int_ge(leak, 3);
	ck_assert_int_eq(run(&r, NULL, "sh", "-c", "ls /proc/$$/fd"), 0);
	ck_assert_str_eq(r.out.ptr, "0\n1\n2\n");
	cairn_proc_result_dispose(&r);
	close(leak);

	ck_assert_int_eq(run(&r, NULL, "cairn-no-such-program", NULL, NULL), CAIRN_ENOTFOUND);
	ck_assert_error_contains("program 'cairn-no-such-program' not found");
	ck_assert_int_eq(run(&r, NULL, "/nonexistent/prog", NULL, NULL), CAIRN_ENOTFOUND);
	ck_assert_error_contains("'/nonexistent/prog' not found");
	ck_assert_int_eq(run(&r, NULL, "/etc/passwd", NULL, NULL), CAIRN_EPERM);
	ck_assert_error_contains("running '/etc/passwd'");
	ck_assert_int_eq(run(&r, NULL, "", NULL, NULL), CAIRN_EINVAL);
	{
		cairn_proc_opts o = CAIRN_PROC_OPTS_INIT;

		o.version = 99;
		ck_assert_int_eq(run(&r, &o, "true", NULL, NULL), CAIRN_EINVAL);
		ck_assert_error_contains("version 99");
	}
}
END_TEST

/* A temporary directory under $TMPDIR, removed with a tree in it (a
 * symbolic link inside is removed, never followed); a name that does not
 * fit leaves nothing behind and says why. */
START_TEST(tempdir_make_and_remove_tree)
{
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[4096], sub[4200], keep[4200], small[8];
	struct stat st;
	int fd;

	ck_assert_int_eq(cairn_tempdir_make(dir, sizeof(dir), "cairn-ut"), 0);
	ck_assert_msg(strncmp(dir, tmp, strlen(tmp)) == 0 && strstr(dir, "/cairn-ut.") != NULL,
	              "%s", dir);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	/* a file kept outside, reached only through a link inside */
	snprintf(keep, sizeof(keep), "%s.keep", dir);
	fd = open(keep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/a/b/f", dir);
	fd = open(sub, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(sub, sizeof(sub), "%s/a/link", dir);
	ck_assert_int_eq(symlink(keep, sub), 0);
	cairn_path_remove_tree(dir);
	ck_assert_int_eq(stat(dir, &st), -1);
	ck_assert_int_eq(stat(keep, &st), 0);
	unlink(keep);
	ck_assert_int_eq(cairn_tempdir_make(small, sizeof(small), "cairn-ut"), CAIRN_ELIMIT);
	ck_assert_error_contains("too long");
	ck_assert_str_eq(small, "");
	cairn_path_remove_tree(small); /* "" is nothing */
}
END_TEST

void core_util_tests(Suite *s)
{
	TCase *tc = tcase_create("duration");

	tcase_add_test(tc, duration_parse_good);
	tcase_add_test(tc, duration_parse_bad);
	tcase_add_test(tc, duration_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("path");
	tcase_add_test(tc, path_check_relative);
	tcase_add_test(tc, path_clean_and_join);
	tcase_add_test(tc, path_open_beneath_openat2);
	tcase_add_test(tc, path_open_beneath_fallback_walk);
	tcase_add_test(tc, tempdir_make_and_remove_tree);
	suite_add_tcase(s, tc);

	tc = tcase_create("proc");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, proc_exit_status_and_signals);
	tcase_add_test(tc, proc_timeout_kills_the_group);
	tcase_add_test(tc, proc_large_output_on_both_streams);
	tcase_add_test(tc, proc_stdin_and_environment);
	tcase_add_test(tc, proc_no_fd_leaks_and_missing_programs);
	suite_add_tcase(s, tc);
}
