/*
 * bench_kube.c - the kube client as whole processes against kubectl, on the
 * same files and the same cairn-sim (started from this build tree):
 *   server-side apply of 1,000 ConfigMaps from one file:
 *     `cairn kube apply -f F` vs `kubectl apply --server-side -f F`
 *     (the file names no namespace: each tool creates them in its own
 *     empty namespace, given with -n);
 *   listing 10,000 ConfigMaps (loaded into the simulator from its state
 *   file): `cairn kube get cm -n bulk` vs `kubectl get cm -n bulk`,
 *   median of 3 runs each.
 * Prints both with the ratio, the parallelism of cairn's apply (its
 * default, 8 connections, and --parallel 1 beside it), and, from this
 * process through the library, the requests one cairn_kube_apply_many() of
 * the same objects sends (discovery included). Skips kubectl's side when
 * it is not installed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/yaml.h"

#define APPLY_N 1000
#define LIST_N 10000
#define PARALLEL 8

static char dir[] = "/tmp/cairn-bench-kube-XXXXXX";
static char kc[128], state[128], objs[128], cairn[4096], sim[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run argv with output to /dev/null; returns the wall time in s, or -1. */
static double run(char *const argv[])
{
	double t0 = now();
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_kube: %s %s %s failed (status %d)\n", argv[0], argv[1],
		        argv[2], st);
		return -1;
	}
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median3(char *const argv[])
{
	double t[3];

	for (int i = 0; i < 3; i++)
		if ((t[i] = run(argv)) < 0)
			return -1;
	qsort(t, 3, sizeof(t[0]), cmp_double);
	return t[1];
}

static int write_files(void)
{
	FILE *f = fopen(state, "w"), *g = fopen(objs, "w");
	int rc_f, rc_g;

	if (f == NULL || g == NULL)
		return -1;
	fprintf(f, "{\"rv\":%d}\n", LIST_N + 10);
	for (int i = 0; i < 5; i++)
		fprintf(f,
		        "{\"g\":\"\",\"p\":\"namespaces\",\"n\":\"\",\"o\":{\"apiVersion\":\"v1\","
		        "\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\",\"uid\":\"u-ns%d\","
		        "\"resourceVersion\":\"%d\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"}"
		        "}}\n",
		        (const char *const[]){"bulk", "apply-c", "apply-k", "apply-1",
		                              "apply-l"}[i],
		        i, i + 2);
	for (int i = 0; i < LIST_N; i++)
		fprintf(f,
		        "{\"g\":\"\",\"p\":\"configmaps\",\"n\":\"bulk\",\"o\":{\"apiVersion\":"
		        "\"v1\","
		        "\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%05d\",\"namespace\":"
		        "\"bulk\",\"uid\":\"u-%d\",\"resourceVersion\":\"%d\",\"labels\":{\"app\":"
		        "\"bench\"},\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},\"data\":"
		        "{\"a\":\"%08d\",\"b\":\"value-%010d\"}}}\n",
		        i, i, i + 6, i, i);
	for (int i = 0; i < APPLY_N; i++)
		fprintf(g,
		        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%04d\n"
		        "  labels:\n    bench: kube\n    tier: web\n"
		        "data:\n  index: \"%d\"\n  config: |\n    listen 8080\n    workers 4\n",
		        i, i);
	rc_f = fclose(f);
	rc_g = fclose(g);
	return rc_f == 0 && rc_g == 0 ? 0 : -1;
}

static pid_t start_sim(void)
{
	struct stat st;
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl(sim, sim, "--listen", "127.0.0.1:0", "--kubeconfig-out", kc, "--state", state,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 600; i++) {
		if (stat(kc, &st) == 0 && st.st_size > 0)
			return pid;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static cairn_kube_client *connect_sim(void)
{
	cairn_kubeconfig *k = NULL;
	cairn_kube_config *cfg = NULL;
	cairn_kube_client *c = NULL;

	if (cairn_kubeconfig_load(&k, kc, CAIRN_KUBECONFIG_TRUSTED) != 0 ||
	    cairn_kube_config_resolve(&cfg, k, NULL) != 0 ||
	    cairn_kube_client_new(&c, cfg, NULL) != 0)
		c = NULL;
	cairn_kube_config_free(cfg);
	cairn_kubeconfig_free(k);
	return c;
}

/* The number of objects in namespace `ns`, or -1. */
static long applied(const char *ns)
{
	cairn_kube_client *c = connect_sim();
	cairn_buf b = CAIRN_BUF_INIT((size_t)64 << 20);
	char path[256];
	json_t *l = NULL;
	long n = -1;

	if (c == NULL)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps", ns);
	if (cairn_kube_request(c, "GET", path, NULL, NULL, 0, &b) != 0)
		goto out;
	l = json_loadb(b.ptr, b.len, 0, NULL);
	n = (long)json_array_size(json_object_get(l, "items"));
	if (n != APPLY_N)
		fprintf(stderr, "bench_kube: %ld objects in namespace '%s', not %d\n", n, ns,
		        APPLY_N);
out:
	if (n < 0)
		fprintf(stderr, "bench_kube: %s\n", cairn_error_last()->message);
	json_decref(l);
	cairn_buf_dispose(&b);
	cairn_kube_client_free(c);
	return n;
}

/*
 * The same objects through cairn_kube_apply_many() from this process, into
 * namespace apply-l: the wall time and the requests sent (discovery
 * included), so the one-request-per-object claim is counted, not assumed.
 */
static int library_apply(void)
{
	cairn_kube_client *c = connect_sim();
	cairn_yaml_opts yo = CAIRN_YAML_OPTS_INIT;
	json_t *docs = NULL, **set = NULL;
	cairn_kube_apply_result *res = NULL;
	size_t n = 0, i;
	json_t *d;
	double t0;
	int rc = -1;

	yo.profile = CAIRN_YAML_KUBECTL;
	if (c == NULL || cairn_yaml_load_file(&docs, NULL, objs, &yo) != 0)
		goto out;
	set = calloc(json_array_size(docs) + 1, sizeof(*set));
	res = calloc(json_array_size(docs) + 1, sizeof(*res));
	if (set == NULL || res == NULL)
		goto out;
	json_array_foreach(docs, i, d)
	{
		if (json_is_object(d)) {
			json_object_set_new(json_object_get(d, "metadata"), "namespace",
			                    json_string("apply-l"));
			set[n++] = d;
		}
	}
	t0 = now();
	if (cairn_kube_apply_many(c, set, n, 0, res, PARALLEL) != 0)
		goto out;
	printf("%-40s cairn %8.1f ms   %llu requests for %zu objects, parallelism %d\n",
	       "  library: cairn_kube_apply_many", (now() - t0) * 1e3,
	       (unsigned long long)cairn_kube_request_count(c), n, PARALLEL);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_kube: library apply: %s\n", cairn_error_last()->message);
	free(res);
	free(set);
	json_decref(docs);
	cairn_kube_client_free(c);
	return rc;
}

static void line(const char *what, double c, double k)
{
	if (k > 0)
		printf("%-40s cairn %8.1f ms   kubectl %8.1f ms   ratio %5.1fx\n", what, c * 1e3,
		       k * 1e3, k / c);
	else
		printf("%-40s cairn %8.1f ms   kubectl (not run)\n", what, c * 1e3);
}

/* Both sides of both figures; 0 when every run succeeded. */
static int measure(int have_kubectl)
{
	char *capply[] = {cairn,     "kube",  "--kubeconfig", kc,   "-n",
	                  "apply-c", "apply", "-f",           objs, NULL};
	char *kapply[] = {"kubectl", "--kubeconfig",  kc,   "-n", "apply-k",
	                  "apply",   "--server-side", "-f", objs, NULL};
	char *capply1[] = {cairn,   "kube", "--kubeconfig", kc,           "-n", "apply-1",
	                   "apply", "-f",   objs,           "--parallel", "1",  NULL};
	char *cget[] = {cairn, "kube", "--kubeconfig", kc, "-n", "bulk", "get", "cm", NULL};
	char *kget[] = {"kubectl", "--kubeconfig", kc, "-n", "bulk", "get", "cm", NULL};
	double ca, ca1, ka = -1, cl, kl = -1;

	if (have_kubectl && ((ka = run(kapply)) < 0 || applied("apply-k") != APPLY_N))
		return -1;
	if ((ca = run(capply)) < 0 || applied("apply-c") != APPLY_N)
		return -1;
	if ((ca1 = run(capply1)) < 0 || applied("apply-1") != APPLY_N)
		return -1;
	if ((cl = median3(cget)) < 0 || (have_kubectl && (kl = median3(kget)) < 0))
		return -1;
	printf("kube (cairn-sim over HTTPS, whole processes, same files):\n");
	line("server-side apply, 1,000 ConfigMaps (8)", ca, ka);
	line("  same, cairn --parallel 1", ca1, ka);
	line("list 10,000 ConfigMaps (median of 3)", cl, kl);
	return library_apply();
}

int main(int argc, char **argv)
{
	char exe[4096], *slash;
	int have_kubectl = system("kubectl version --client >/dev/null 2>&1") == 0;
	pid_t pid;
	int status = 1;

	(void)argc;
	snprintf(exe, sizeof(exe), "%s", argv[0]);
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(exe, sizeof(exe), ".");
	snprintf(cairn, sizeof(cairn), "%s/../cairn", exe);
	snprintf(sim, sizeof(sim), "%s/../cairn-sim", exe);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(kc, sizeof(kc), "%s/kc", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(objs, sizeof(objs), "%s/objects.yaml", dir);
	if (write_files() != 0 || (pid = start_sim()) < 0) {
		fprintf(stderr, "bench_kube: could not start %s\n", sim);
	} else {
		status = measure(have_kubectl) == 0 ? 0 : 1;
		kill(pid, SIGKILL); /* not SIGTERM: that would save the state */
		waitpid(pid, NULL, 0);
	}
	unlink(kc);
	unlink(state);
	unlink(objs);
	rmdir(dir);
	return status;
}
