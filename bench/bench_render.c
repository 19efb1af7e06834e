/*
 * bench_render.c - rendering, Cairn beside `kubectl kustomize`:
 *   (a) each fixture overlay of tests/fixtures/kustomize as whole processes,
 *       `cairn render --path DIR` vs `KUBECONFIG=/dev/null kubectl kustomize
 *       DIR`, median of 5 runs each, the ratio per fixture and the median
 *       ratio; Cairn's bare start-up (`cairn version`) separately;
 *   (b) a generated large app (1,000 resources, 50 patches, 3 layers of
 *       overlays) written to a temporary directory: wall time and peak RSS
 *       (wait4's rusage) of both, median of 3, and whether the outputs are
 *       byte-identical;
 *   (c) the same app rendered in process through cairn_render_build(), as
 *       the daemon does: renders per second.
 * Skips kubectl's side when it is not installed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/render.h"

#define RUNS 5
#define FIXTURES_MAX 128

static char tmp[] = "/tmp/cairn-bench-render-XXXXXX";
static char cairn[4096], fixtures[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + system, all threads) of the last run's child, in s:
 * on a loaded machine wall time measures the scheduler as much as the
 * program, so both are printed. */
static double last_cpu;

/* Run argv (stdout to `out` or /dev/null); wall time in s and peak RSS in
 * KiB of the child, or -1 when it failed. */
static double run(char *const argv[], const char *out, long *rss_kb)
{
	struct rusage ru;
	double t0;
	int st = 0;
	pid_t pid;

	fflush(stdout); /* else the child's freopen() prints our buffer again */
	t0 = now();
	pid = fork();
	if (pid == 0) {
		setenv("KUBECONFIG", "/dev/null", 1);
		if (freopen(out ? out : "/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_render: %s %s %s failed (status %d)\n", argv[0], argv[1],
		        argv[2] ? argv[2] : "", st);
		return -1;
	}
	if (rss_kb)
		*rss_kb = ru.ru_maxrss;
	last_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median wall time of n runs (n <= 16); the median CPU time in *cpu
 * (when not NULL); the median peak RSS. */
static double median(char *const argv[], int n, long *rss_kb, double *cpu)
{
	double t[16], c[16];
	long r[16];

	for (int i = 0; i < n; i++) {
		if ((t[i] = run(argv, NULL, &r[i])) < 0)
			return -1;
		c[i] = last_cpu;
	}
	if (cpu) {
		qsort(c, (size_t)n, sizeof(double), cmp_double);
		*cpu = c[n / 2];
	}
	if (rss_kb) {
		long rs[16];
		memcpy(rs, r, sizeof(long) * (size_t)n);
		for (int i = 0; i < n; i++) /* the median of the RSS values */
			for (int j = i + 1; j < n; j++)
				if (rs[j] < rs[i]) {
					long x = rs[i];
					rs[i] = rs[j];
					rs[j] = x;
				}
		*rss_kb = rs[n / 2];
	}
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	return t[n / 2];
}

/* The overlay of a fixture: DIR/overlay when it exists, else DIR. */
static void overlay_of(char *out, size_t size, const char *name)
{
	struct stat st;

	snprintf(out, size, "%s/%s/overlay", fixtures, name);
	if (stat(out, &st) != 0)
		snprintf(out, size, "%s/%s", fixtures, name);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* (a): every fixture, both tools; prints the table and the median ratio. */
static int fixtures_bench(int have_kubectl)
{
	char *names[FIXTURES_MAX], dir[4096];
	double ratios[FIXTURES_MAX], cratios[FIXTURES_MAX];
	size_t n = 0, nr = 0;
	struct dirent *e;
	DIR *d = opendir(fixtures);

	if (d == NULL) {
		fprintf(stderr, "bench_render: no fixtures at %s\n", fixtures);
		return -1;
	}
	while ((e = readdir(d)) != NULL && n < FIXTURES_MAX)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(char *), by_name);
	printf("%-24s %12s %16s %8s %14s %14s %8s\n", "fixture", "cairn (ms)", "kubectl (ms)",
	       "ratio", "cairn cpu ms", "kubectl cpu ms", "cpu x");
	for (size_t i = 0; i < n; i++) {
		char *ca[] = {cairn, "render", "--path", dir, NULL};
		char *ka[] = {"kubectl", "kustomize", dir, NULL};
		double c, k = -1, cc = 0, kc = 0;
		overlay_of(dir, sizeof(dir), names[i]);
		c = median(ca, RUNS, NULL, &cc);
		if (have_kubectl)
			k = median(ka, RUNS, NULL, &kc);
		if (c > 0 && k > 0 && cc > 0) {
			cratios[nr] = kc / cc;
			ratios[nr++] = k / c;
			printf("%-24s %12.2f %16.1f %7.0fx %14.2f %14.1f %7.0fx\n", names[i],
			       c * 1e3, k * 1e3, k / c, cc * 1e3, kc * 1e3, kc / cc);
		} else {
			printf("%-24s %12.2f %16s %8s\n", names[i], c * 1e3, "-", "-");
		}
		free(names[i]);
	}
	if (nr) {
		qsort(ratios, nr, sizeof(double), cmp_double);
		qsort(cratios, nr, sizeof(double), cmp_double);
		printf("median ratio over %zu fixtures: %.0fx wall, %.0fx CPU time (median of %d "
		       "runs each)\n",
		       nr, ratios[nr / 2], cratios[nr / 2], RUNS);
	}
	return 0;
}

static int put(const char *rel, const char *text)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/*
 * (b)'s app: base/ holds 500 Deployments and 500 ConfigMaps in 10 files;
 * mid/ adds a prefix, labels and 50 strategic-merge patches (one file
 * each); top/ sets a namespace, an image tag and replicas.
 */
static int write_app(void)
{
	char p[4096], rel[64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/base", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/mid", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/top", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/base/kustomization.yaml", tmp);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fprintf(f, "resources:\n");
	for (int i = 0; i < 10; i++)
		fprintf(f, "- r%d.yaml\n", i);
	fclose(f);
	for (int i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "%s/base/r%d.yaml", tmp, i);
		if ((f = fopen(p, "w")) == NULL)
			return -1;
		for (int j = 0; j < 50; j++) {
			int k = i * 50 + j;
			fprintf(f,
			        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app%d\n"
			        "  labels: {app: app%d}\nspec:\n  replicas: 1\n  selector:\n"
			        "    matchLabels: {app: app%d}\n  template:\n    metadata:\n"
			        "      labels: {app: app%d}\n    spec:\n      containers:\n"
			        "      - name: main\n        image: registry.local/app:1.0\n"
			        "        envFrom:\n        - configMapRef: {name: conf%d}\n"
			        "        ports:\n        - containerPort: 8080\n---\n"
			        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf%d\n"
			        "data:\n  key: value-%d\n  level: info\n---\n",
			        k, k, k, k, k, k, k);
		}
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/mid/kustomization.yaml", tmp);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fprintf(f, "resources:\n- ../base\nnamePrefix: team-\ncommonLabels:\n  team: blue\n"
	           "patches:\n");
	for (int i = 0; i < 50; i++)
		fprintf(f, "- path: p%d.yaml\n", i);
	fclose(f);
	for (int i = 0; i < 50; i++) {
		char text[512];
		snprintf(rel, sizeof(rel), "mid/p%d.yaml", i);
		snprintf(text, sizeof(text),
		         "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app%d\n"
		         "spec:\n  template:\n    spec:\n      containers:\n      - name: main\n"
		         "        resources:\n          limits: {cpu: 500m, memory: 256Mi}\n",
		         i * 10);
		if (put(rel, text) < 0)
			return -1;
	}
	return put("top/kustomization.yaml",
	           "resources:\n- ../mid\nnamespace: prod\nimages:\n- name: registry.local/app\n"
	           "  newTag: '2.0'\nreplicas:\n- name: team-app1\n  count: 3\n");
}

/* (b) and (c). */
static int large_bench(int have_kubectl)
{
	char top[4096], co[4200], ko[4200];
	char *ca[] = {cairn, "render", "--path", top, "--root", tmp, NULL};
	char *ka[] = {"kubectl", "kustomize", top, NULL};
	cairn_tree *t = NULL;
	long crss = 0, krss = 0;
	double c, k = -1, t0, cc = 0, kc = 0;
	int n = 0;

	snprintf(top, sizeof(top), "%s/top", tmp);
	snprintf(co, sizeof(co), "%s/cairn.out", tmp);
	snprintf(ko, sizeof(ko), "%s/kubectl.out", tmp);
	if (write_app() < 0 || run(ca, co, NULL) < 0)
		return -1;
	c = median(ca, 3, &crss, &cc);
	if (have_kubectl && run(ka, ko, NULL) > 0)
		k = median(ka, 3, &krss, &kc);
	printf("large app (1,000 resources, 50 patches, 3 layers), median of 3:\n");
	printf("  cairn render --path   %8.1f ms  %7.1f MiB peak RSS  %8.1f ms CPU\n", c * 1e3,
	       crss / 1024.0, cc * 1e3);
	if (k > 0) {
		char cmd[9000];
		snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", co, ko);
		printf("  kubectl kustomize     %8.1f ms  %7.1f MiB peak RSS  %8.1f ms CPU\n",
		       k * 1e3, krss / 1024.0, kc * 1e3);
		printf("  ratio: %.1fx faster (%.1fx CPU time), %.1fx less memory; outputs %s\n",
		       k / c, cc > 0 ? kc / cc : 0.0, (double)krss / (double)crss,
		       system(cmd) == 0 ? "byte-identical" : "DIFFER");
	}
	if (cairn_tree_open_dir(&t, tmp) < 0)
		return -1;
	t0 = now();
	while (now() - t0 < 3.0) {
		cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
		json_t *objs = NULL;
		char hash[65];
		o.path = "top";
		if (cairn_render_build(&objs, hash, t, &o) < 0) {
			fprintf(stderr, "bench_render: %s\n", cairn_error_last()->message);
			cairn_tree_free(t);
			return -1;
		}
		json_decref(objs);
		n++;
	}
	printf("  in process (cairn_render_build + render hash): %.1f renders/s (%d in %.1f s)\n",
	       n / (now() - t0), n, now() - t0);
	cairn_tree_free(t);
	return 0;
}

int main(int argc, char **argv)
{
	char exe[4096], *slash, cmd[4200];
	char *va[] = {cairn, "version", NULL};
	int have_kubectl =
	        system("KUBECONFIG=/dev/null kubectl version --client >/dev/null 2>&1") == 0;
	const char *src = getenv("CAIRN_SRCDIR");
	int status = 0;

	(void)argc;
	snprintf(exe, sizeof(exe), "%s", argv[0]);
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(exe, sizeof(exe), ".");
	snprintf(cairn, sizeof(cairn), "%s/../cairn", exe);
	snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/kustomize",
	         src ? src : (snprintf(cmd, sizeof(cmd), "%s/../..", exe), cmd));
	if (!have_kubectl)
		printf("kubectl not found: Cairn's side only\n");
	{
		double cpu = 0, wall = median(va, RUNS, NULL, &cpu);
		printf("start-up: cairn version %.2f ms, %.2f ms CPU (median of %d)\n", wall * 1e3,
		       cpu * 1e3, RUNS);
	}
	if (fixtures_bench(have_kubectl) < 0)
		status = 1;
	if (mkdtemp(tmp) == NULL)
		return 1;
	if (large_bench(have_kubectl) < 0)
		status = 1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		status = 1;
	return status;
}
