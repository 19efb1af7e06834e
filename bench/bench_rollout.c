/*
 * bench_rollout.c - automatic rollback (issue 11): the time from a metric
 * breach becoming visible in a real Prometheus to the canary having no
 * ready Pods, through cairnd, cairn-sim and the rollout engine, over
 * several runs; and the cluster writes per step. The workload is
 * bench/rollout_setup.sh (Prometheus, git and curl are driven from a shell
 * most simply); this program runs it with this build tree's programs,
 * passes its report through, and turns its "sample KEY VALUE us" lines into
 * a table of median and maximum per key, ours beside the peers of the same
 * run (one Prometheus query, the analysis interval).
 *
 *   bench_rollout [RUNS, default 5]
 *
 * Goal (issue 11): breach visible to no ready canary Pod within one
 * analysis interval (1 s here) plus the query time; under 1 s from the
 * decision to no ready canary Pod. Figures only: nothing here asserts a
 * time.
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
#define MAX_SAMPLES 8192
#define INTERVAL_MS 1000.0 /* the analysis interval of rollout_setup.sh's template */

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

/* The median of a sorted series (the lower middle one for an even count). */
static double median(const struct series *s)
{
	return s->v[(s->n - 1) / 2];
}

static const struct series *find(const char *key)
{
	for (size_t i = 0; i < n_series; i++)
		if (strcmp(series[i].key, key) == 0 && series[i].n > 0)
			return &series[i];
	return NULL;
}

static const char *label(const char *key)
{
	static const char *const names[][2] = {
	        {"visible-to-zero", "breach visible -> 0 ready canary Pods, ours"},
	        {"decision-to-zero", "decision (failing measurement) -> 0 ready, ours"},
	        {"visible-to-decision", "breach visible -> decision, ours"},
	        {"flip-to-visible", "error rule set -> breach visible in Prometheus"},
	        {"query", "peer: one Prometheus instant query (urllib)"}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i][0], key) == 0)
			return names[i][1];
	return key;
}

static void report(void)
{
	const struct series *vz, *dz, *q;

	if (n_series == 0)
		return;
	printf("latency (ms; median and maximum; same run)\n");
	printf("  %-52s %5s %9s %9s %9s\n", "", "n", "median", "max", "min");
	for (size_t i = 0; i < n_series; i++) {
		struct series *s = &series[i];

		qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
		printf("  %-52s %5zu %9.1f %9.1f %9.1f\n", label(s->key), s->n, median(s),
		       s->v[s->n - 1], s->v[0]);
	}
	printf("  %-52s %5s %9.1f\n", "peer: the analysis interval", "", INTERVAL_MS);
	vz = find("visible-to-zero");
	dz = find("decision-to-zero");
	q = find("query");
	if (vz != NULL && q != NULL)
		printf("goal: breach visible to 0 ready within one interval + the query time "
		       "(%.1f ms): median %s (%.1f ms), max %s (%.1f ms)\n",
		       INTERVAL_MS + median(q),
		       median(vz) <= INTERVAL_MS + median(q) ? "met" : "NOT met", median(vz),
		       vz->v[vz->n - 1] <= INTERVAL_MS + median(q) ? "met" : "NOT met",
		       vz->v[vz->n - 1]);
	if (dz != NULL)
		printf("goal: decision to 0 ready under 1000 ms: median %s (%.1f ms), max %s (%.1f "
		       "ms)\n",
		       median(dz) < 1000 ? "met" : "NOT met", median(dz),
		       dz->v[dz->n - 1] < 1000 ? "met" : "NOT met", dz->v[dz->n - 1]);
}

int main(int argc, char **argv)
{
	char exe[4096], cmd[8192], line[2048], key[32], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *runs = argc > 1 ? argv[1] : "5";
	double us;
	FILE *p;
	int st;

	if (len <= 0)
		return 1;
	exe[len] = '\0';
	/* this program is BUILDDIR/bench/bench_rollout */
	for (int up = 0; up < 2 && (slash = strrchr(exe, '/')); up++)
		*slash = '\0';
	if (atoi(runs) < 1) {
		fprintf(stderr, "usage: bench_rollout [RUNS]\n");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "bash '%s/bench/rollout_setup.sh' '%s' %d", BENCH_SRCDIR, exe,
	         atoi(runs));
	if ((p = popen(cmd, "r")) == NULL) {
		perror("bench_rollout: popen");
		return 1;
	}
	while (fgets(line, sizeof(line), p) != NULL) {
		if (sscanf(line, "sample %31s %lf us", key, &us) == 2) {
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
