/*
 * bench_source.c - the source module against git itself.
 *
 * Builds, with `git`, a repository in a temporary directory whose commit
 * holds a 5,000-file tree (YAML-like files of 200 B to 64 KB, four
 * directory levels), then measures:
 *   - reading every file of that commit through Cairn's tree API (open the
 *     commit's tree, list it recursively, read each blob) against
 *     `git archive COMMIT | tar -x -C DIR` of the same commit;
 *   - a no-op fetch of an up-to-date mirror, cairn_source_fetch() against
 *     `git fetch --prune` in an equivalent bare mirror, from a local path
 *     and over git:// (git daemon on 127.0.0.1).
 * Prints the medians of RUNS runs side by side and the ratios, then removes
 * the temporary directory. Build it optimised: `make bench`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/source.h"
#include "cairn/util.h"

/* Paths are built under a short mkdtemp() directory: gcc cannot see that
 * bound through the pointers and would warn on every snprintf. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

extern char **environ;

#define RUNS 7
#define NFILES 5000
#define PATH_LEN 512

static char tmp[256];
/* Where `tar -x` writes: tmpfs when there is one, so that figure measures
 * git and tar rather than this machine's disk. */
static char xdir[PATH_LEN];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Index of the last argument, to name the failing command. */
static int argc_last(const char *const *argv)
{
	int n = 0;

	while (argv[n + 1])
		n++;
	return n;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* Run a command with git's identity and no user or system configuration,
 * failing loudly: a benchmark on a half-built repository means nothing. */
static int run(const char *const *argv)
{
	static const char *const env[] = {"GIT_CONFIG_NOSYSTEM=1",
	                                  "GIT_AUTHOR_NAME=Bench",
	                                  "GIT_AUTHOR_EMAIL=b@example.com",
	                                  "GIT_COMMITTER_NAME=Bench",
	                                  "GIT_COMMITTER_EMAIL=b@example.com",
	                                  NULL};
	static const char *const allow[] = {"PATH", "HOME", "TMPDIR", NULL};
	cairn_proc_opts o = CAIRN_PROC_OPTS_INIT;
	cairn_proc_result r;
	int rc;

	o.env = env;
	o.env_allow = allow;
	o.timeout_ms = 300000;
	rc = cairn_proc_run(&r, argv, &o);
	if (rc < 0 && rc != CAIRN_ETIMEOUT) {
		fprintf(stderr, "bench_source: %s: %s\n", argv[0], cairn_error_last()->message);
		return -1;
	}
	if (!r.exited || r.status != 0) {
		fprintf(stderr, "bench_source: '%s' failed: %.*s\n", argv[0], (int)r.err.len,
		        r.err.ptr ? r.err.ptr : "");
		rc = -1;
	}
	cairn_proc_result_dispose(&r);
	return rc < 0 ? -1 : 0;
}

static int sh(const char *script)
{
	const char *argv[] = {"sh", "-c", script, NULL};
	return run(argv);
}

/* Wall time of one command, spawned directly and waited for by PID with
 * its output sent to /dev/null: what a user waits for (background work git
 * may leave holding the pipes, such as auto-maintenance, is not counted).
 * Returns seconds, or -1 when it cannot run or fails. */
static double timed(const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	double t0 = now();
	pid_t pid;
	int st = 0, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_source: '%s' failed\n", argv[argc_last(argv)]);
		return -1;
	}
	return now() - t0;
}

/* File sizes of a manifests repository: mostly small, a tail of larger
 * ones (generated CRDs, dashboards); deterministic. */
static size_t file_size(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	unsigned int r = (*seed >> 8) % 1000;
	if (r < 700)
		return 200 + r * 4; /* 200 B - 3 KB */
	if (r < 950)
		return 3000 + (r - 700) * 40; /* 3 - 13 KB */
	return 16384 + (r - 950) * 1000;      /* 16 - 66 KB */
}

static int write_file(const char *path, size_t size, int n)
{
	FILE *f = fopen(path, "w");
	size_t len = 0;
	int line = 0;

	if (!f)
		return -1;
	len += (size_t)fprintf(
	        f, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n", n);
	while (len < size) {
		len += (size_t)fprintf(f, "  key-%05d: \"value %d of file %d, padded text\"\n",
		                       line, line * 7, n);
		line++;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int mkdir1(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* apps/aN/envM/kK/fI.yaml: 10 x 5 x 10 directories of 10 files. */
static int make_tree(const char *root)
{
	char p[PATH_LEN];
	unsigned int seed = 42;
	int n = 0;

	snprintf(p, sizeof(p), "%s/apps", root);
	if (mkdir1(root) < 0 || mkdir1(p) < 0)
		return -1;
	for (int a = 0; a < 10; a++)
		for (int e = 0; e < 5; e++)
			for (int k = 0; k < 10; k++) {
				snprintf(p, sizeof(p), "%s/apps/a%d", root, a);
				mkdir1(p);
				snprintf(p, sizeof(p), "%s/apps/a%d/env%d", root, a, e);
				mkdir1(p);
				snprintf(p, sizeof(p), "%s/apps/a%d/env%d/k%d", root, a, e, k);
				if (mkdir1(p) < 0)
					return -1;
				for (int i = 0; i < 10; i++, n++) {
					size_t size = file_size(&seed);
					snprintf(p, sizeof(p), "%s/apps/a%d/env%d/k%d/f%d.yaml",
					         root, a, e, k, i);
					if (write_file(p, size, n) < 0)
						return -1;
				}
			}
	return n == NFILES ? 0 : -1;
}

/* Read every file of the commit's tree; the byte count proves the reads. */
static int cairn_read_all(cairn_source_repo *repo, const char *commit, uint64_t *bytes,
                          size_t *files)
{
	cairn_tree *t = NULL;
	cairn_tree_list l = {0};
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);
	int rc;

	*bytes = 0;
	*files = 0;
	rc = cairn_tree_open_git(&t, repo, commit);
	if (rc == 0)
		rc = cairn_tree_list_dir(&l, t, "", 1);
	for (size_t i = 0; rc == 0 && i < l.count; i++) {
		if (l.entries[i].kind != CAIRN_TREE_FILE)
			continue;
		cairn_buf_reset(&b);
		rc = cairn_tree_read(t, &b, l.entries[i].path, 0);
		*bytes += b.len;
		(*files)++;
	}
	cairn_buf_dispose(&b);
	cairn_tree_list_dispose(&l);
	cairn_tree_free(t);
	return rc;
}

/* A free port on 127.0.0.1 (the kernel's pick; released for git daemon). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int wait_port(int port)
{
	for (int i = 0; i < 200; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		usleep(20000);
	}
	return -1;
}

/* git daemon on 127.0.0.1 serving <tmp>/srv; its PID, or -1. */
static pid_t start_daemon(int port)
{
	char portarg[32], base[PATH_LEN], dir[PATH_LEN];
	pid_t pid;

	snprintf(portarg, sizeof(portarg), "--port=%d", port);
	snprintf(base, sizeof(base), "--base-path=%s/srv", tmp);
	snprintf(dir, sizeof(dir), "%s/srv", tmp);
	char *const argv[] = {"git",         "daemon", "--listen=127.0.0.1",
	                      portarg,       base,     "--export-all",
	                      "--reuseaddr", dir,      NULL};
	posix_spawn_file_actions_t fa;
	int rc;

	/* upload-pack's complaints when a client hangs up after the ref
	 * advertisement (a no-op fetch) are not the benchmark's output */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	if (wait_port(port) < 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* Median seconds of RUNS no-op fetches of `url`: Cairn's mirror first,
 * then `git fetch --prune` in a bare mirror cloned from the same URL. */
static int bench_fetch(const char *url, const char *name, double *cairn_s, double *git_s)
{
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	cairn_source_repo *repo = NULL;
	char state[PATH_LEN], mirror[PATH_LEN];
	double c[RUNS], g[RUNS], t0;
	int rc;

	snprintf(state, sizeof(state), "%s/state-%s", tmp, name);
	snprintf(mirror, sizeof(mirror), "%s/mirror-%s.git", tmp, name);
	o.state_dir = state;
	rc = cairn_source_open(&repo, url, &o);
	if (rc == 0)
		rc = cairn_source_fetch(repo);
	for (int i = 0; rc == 0 && i < RUNS; i++) {
		t0 = now();
		rc = cairn_source_fetch(repo);
		c[i] = now() - t0;
	}
	cairn_source_repo_free(repo);
	if (rc < 0) {
		fprintf(stderr, "bench_source: %s\n", cairn_error_last()->message);
		return -1;
	}
	const char *clone[] = {"git", "clone", "-q", "--mirror", url, mirror, NULL};
	const char *fetch[] = {"git", "-C", mirror, "fetch", "-q", "--prune", "origin", NULL};
	if (run(clone) < 0)
		return -1;
	for (int i = 0; i < RUNS; i++)
		if ((g[i] = timed(fetch)) < 0)
			return -1;
	*cairn_s = median(c, RUNS);
	*git_s = median(g, RUNS);
	return 0;
}

/* Median seconds of reading the whole tree: Cairn, then git archive | tar. */
static int bench_read(const char *srv, double *cairn_s, double *git_s)
{
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	cairn_source_repo *repo = NULL;
	char state[PATH_LEN], commit[CAIRN_SOURCE_OID_HEX_LEN], script[3 * PATH_LEN];
	double c[RUNS], g[RUNS], t0;
	uint64_t bytes = 0;
	size_t files = 0;
	int rc;

	snprintf(state, sizeof(state), "%s/state-read", tmp);
	o.state_dir = state;
	rc = cairn_source_open(&repo, srv, &o);
	if (rc == 0)
		rc = cairn_source_fetch(repo);
	if (rc == 0)
		rc = cairn_source_resolve(commit, repo, "HEAD");
	for (int i = 0; rc == 0 && i < RUNS; i++) {
		t0 = now();
		rc = cairn_read_all(repo, commit, &bytes, &files);
		c[i] = now() - t0;
	}
	cairn_source_repo_free(repo);
	if (rc < 0) {
		fprintf(stderr, "bench_source: %s\n", cairn_error_last()->message);
		return -1;
	}
	printf("source: tree of %zu files, %.1f MB, commit %.12s\n", files, (double)bytes / 1e6,
	       commit);
	for (int i = 0; i < RUNS; i++) {
		snprintf(script, sizeof(script), "rm -rf '%s' && mkdir '%s'", xdir, xdir);
		if (sh(script) < 0)
			return -1;
		snprintf(script, sizeof(script), "git -C '%s' archive %s | tar -x -C '%s'", srv,
		         commit, xdir);
		const char *argv[] = {"sh", "-c", script, NULL};
		if ((g[i] = timed(argv)) < 0)
			return -1;
	}
	*cairn_s = median(c, RUNS);
	*git_s = median(g, RUNS);
	return files == NFILES ? 0 : -1;
}

static void report(const char *what, const char *git_what, double c, double g)
{
	printf("source: %-28s cairn %8.2f ms   %-30s %8.2f ms   cairn/git %.2f\n", what, c * 1e3,
	       git_what, g * 1e3, c / g);
}

static int setup(char *srv, size_t size)
{
	char work[PATH_LEN];

	snprintf(work, sizeof(work), "%s/work", tmp);
	snprintf(srv, size, "%s/srv/repo.git", tmp);
	if (make_tree(work) < 0) {
		fprintf(stderr, "bench_source: cannot write the tree under '%s'\n", work);
		return -1;
	}
	const char *init[] = {"git", "-C", work, "init", "-q", "-b", "main", NULL};
	const char *add[] = {"git", "-C", work, "add", "-A", NULL};
	const char *commit[] = {"git", "-C", work, "commit", "-q", "-m", "5,000 files", NULL};
	const char *bare[] = {"git", "clone", "-q", "--bare", work, srv, NULL};
	if (run(init) < 0 || run(add) < 0 || run(commit) < 0 || run(bare) < 0)
		return -1;
	return 0;
}

int main(void)
{
	char srv[PATH_LEN], url[PATH_LEN], script[2 * PATH_LEN + 16];
	double c, g, fc, fg, dc, dg;
	pid_t daemon = -1;
	int port, rc = 1;

	snprintf(tmp, sizeof(tmp), "%s/cairn-bench-source.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("bench_source: mkdtemp");
		return 1;
	}
	snprintf(xdir, sizeof(xdir), "/dev/shm/cairn-bench-x.XXXXXX");
	if (!mkdtemp(xdir))
		snprintf(xdir, sizeof(xdir), "%s/x", tmp);
	if (setup(srv, sizeof(srv)) < 0 || bench_read(srv, &c, &g) < 0 ||
	    bench_fetch(srv, "local", &fc, &fg) < 0)
		goto out;
	port = free_port();
	daemon = port > 0 ? start_daemon(port) : -1;
	if (daemon < 0) {
		fprintf(stderr, "bench_source: cannot start git daemon on 127.0.0.1\n");
		goto out;
	}
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/repo.git", port);
	if (bench_fetch(url, "daemon", &dc, &dg) < 0)
		goto out;
	printf("source: median of %d runs; tar extracts into %s\n", RUNS, xdir);
	report("read every file", "git archive | tar -x", c, g);
	report("no-op fetch, local path", "git fetch --prune", fc, fg);
	report("no-op fetch, git://", "git fetch --prune", dc, dg);
	rc = 0;
out:
	if (daemon > 0) {
		kill(daemon, SIGTERM);
		waitpid(daemon, NULL, 0);
	}
	snprintf(script, sizeof(script), "rm -rf '%s' '%s'", tmp, xdir);
	sh(script);
	return rc;
}
