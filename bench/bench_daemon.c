/*
 * bench_daemon.c - cairnd end to end (issue 10): push-to-live latency
 * through the real git hooks and cairn-sim, resident memory idle and with
 * many applications, webhook requests per second with wrk. The workload is
 * bench/daemon_setup.sh (git, kubectl, curl and wrk are driven from a shell
 * most simply); this program runs it with this build tree's programs,
 * passes its report through, and turns its "sample KEY VALUE us" lines into
 * a table of median and p99 per key, ours beside the peers of the same run.
 *
 *   bench_daemon [PUSHES, default 50] [APPS, default 1000] [WRK SECONDS, default 3]
 *
 * Goal (issue 10): median push-to-applied under 150 ms; under 20 MiB idle
 * and 64 MiB with 1,000 apps. Figures only: nothing here asserts a time.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BENCH_SRCDIR
#define BENCH_SRCDIR "."
#endif

#define MAX_KEYS 8
#define MAX_SAMPLES 4096

struct series {
	char key[32];
	double v[MAX_SAMPLES]; /* milliseconds */
	size_t n;
};

static struct series series[MAX_KEYS];
static size_t n_series;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void add_sample(const char *key, double ms)
{
	size_t i;

	for (i = 0; i < n_series && strcmp(series[i].key, key) != 0; i++)
		;
	if (i == n_series) {
		if (n_series == MAX_KEYS)
			return;
		snprintf(series[n_series++].key, sizeof(series[0].key), "%s", key);
	}
	if (series[i].n < MAX_SAMPLES)
		series[i].v[series[i].n++] = ms;
}

/*
 * The nearest-rank percentile of a sorted series: the smallest value with
 * at least p% of the samples at or below it (p99 of 50 samples is the
 * largest).
 */
static double percentile(const struct series *s, double p)
{
	size_t rank = (size_t)((p / 100.0) * (double)s->n + 0.999999);

	if (rank < 1)
		rank = 1;
	return s->v[rank > s->n ? s->n - 1 : rank - 1];
}

static const char *label(const char *key)
{
	static const char *const names[][2] = {
	        {"applied", "push to applied (5 ConfigMaps), ours"},
	        {"healthy", "push to Healthy (Deployment, ready delay 0), ours"},
	        {"git-push-hooked", "of which `git push` with both hooks"},
	        {"peer-git-push", "peer: `git push` alone, no hooks"},
	        {"peer-kubectl-apply", "peer: `kubectl apply --server-side` (5 CMs)"}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i][0], key) == 0)
			return names[i][1];
	return key;
}

static void report(void)
{
	if (n_series == 0)
		return;
	printf("latency (ms; median and p99 nearest rank; same run)\n");
	printf("  %-52s %5s %9s %9s %9s\n", "", "n", "median", "p99", "min");
	for (size_t i = 0; i < n_series; i++) {
		struct series *s = &series[i];

		qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
		printf("  %-52s %5zu %9.1f %9.1f %9.1f\n", label(s->key), s->n, percentile(s, 50),
		       percentile(s, 99), s->v[0]);
	}
	for (size_t i = 0; i < n_series; i++)
		if (strcmp(series[i].key, "applied") == 0)
			printf("goal: median push to applied under 150 ms: %s (%.1f ms)\n",
			       percentile(&series[i], 50) < 150 ? "met" : "NOT met",
			       percentile(&series[i], 50));
}

int main(int argc, char **argv)
{
	char exe[4096], cmd[8192], line[1024], key[32], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *pushes = argc > 1 ? argv[1] : "50", *apps = argc > 2 ? argv[2] : "1000",
	           *secs = argc > 3 ? argv[3] : "3";
	double us;
	FILE *p;
	int st;

	if (len <= 0)
		return 1;
	exe[len] = '\0';
	/* this program is BUILDDIR/bench/bench_daemon */
	for (int up = 0; up < 2 && (slash = strrchr(exe, '/')); up++)
		*slash = '\0';
	if (atoi(pushes) < 1 || atoi(apps) < 1 || atoi(secs) < 1) {
		fprintf(stderr, "usage: bench_daemon [PUSHES] [APPS] [WRK SECONDS]\n");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "bash '%s/bench/daemon_setup.sh' '%s' %d %d %d", BENCH_SRCDIR,
	         exe, atoi(pushes), atoi(apps), atoi(secs));
	if ((p = popen(cmd, "r")) == NULL) {
		perror("bench_daemon: popen");
		return 1;
	}
	while (fgets(line, sizeof(line), p) != NULL) {
		if (sscanf(line, "sample %31s %lf us", key, &us) == 2) {
			if (strcmp(key, "warmup") != 0)
				add_sample(key, us / 1000.0);
			continue;
		}
		fputs(line, stdout);
		fflush(stdout);
	}
	st = pclose(p);
	report();
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
