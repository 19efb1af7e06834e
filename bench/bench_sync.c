/*
 * bench_sync.c - the sync engine on cairn-sim (started from this build
 * tree): N apps (default 1,000) of 10 ConfigMaps each, one namespace per
 * app.
 *
 *   first sync       cairn_sync_run() per app: wall time, API requests
 *                    (cairn_kube_request_count()), writes
 *   no-op resync     the same again with nothing changed: CPU time (user +
 *                    system of this process), requests, writes and dry runs
 *                    (goal: zero writes, zero dry runs)
 *   peer             `kubectl apply --server-side -f` of the same objects
 *                    into fresh namespaces, one file (when kubectl exists)
 *
 * Usage: bench_sync [APPS]. Bounded: it runs via `make bench`, not in check.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/state.h"
#include "cairn/sync.h"

#define RESOURCES 10

static char dir[] = "/tmp/cairn-bench-sync-XXXXXX";
static char kc[128], simstate[128], peer[128], sim[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds (user + system) process `pid` has used, from /proc; -1: unknown. */
static double cpu_of(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields 14 and 15 (utime, stime) follow the ")" that ends the name */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static pid_t start_sim(void)
{
	struct stat st;
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl(sim, sim, "--listen", "127.0.0.1:0", "--kubeconfig-out", kc, "--state",
		      simstate, (char *)NULL);
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

/* The 10 ConfigMaps of app i in namespace `prefix`<i>. */
static json_t *manifests(int i, const char *prefix)
{
	json_t *arr = json_array();
	char ns[64], name[64];

	snprintf(ns, sizeof(ns), "%s%d", prefix, i);
	for (int r = 0; r < RESOURCES; r++) {
		snprintf(name, sizeof(name), "cm-%d", r);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i}}",
		                                     "apiVersion", "v1", "kind", "ConfigMap",
		                                     "metadata", "name", name, "namespace", ns,
		                                     "data", "app", ns, "r", r));
	}
	return arr;
}

/* One pass of cairn_sync_run() over every app; sums its writes. */
static int pass(cairn_sync_ctx *ctx, int apps, size_t *writes)
{
	char app[64], ns[64];

	*writes = 0;
	for (int i = 0; i < apps; i++) {
		cairn_sync_request req = {0};
		cairn_sync_outcome o;
		json_t *m = manifests(i, "s");
		int rc;

		snprintf(app, sizeof(app), "app-%d", i);
		snprintf(ns, sizeof(ns), "s%d", i);
		req.app = app;
		req.env = "bench";
		req.revision = "r1";
		req.render_hash = "h1";
		req.dest_namespace = ns;
		req.manifests = m;
		req.create_namespace = 1;
		rc = cairn_sync_run(&o, ctx, &req);
		json_decref(m);
		if (rc != 0) {
			fprintf(stderr, "bench_sync: sync of %s failed: %s\n", app,
			        cairn_error_last()->message);
			return -1;
		}
		*writes += o.applied + o.pruned + o.hooks;
	}
	return 0;
}

/* Dry runs a compare of every app makes (the cache should answer them all). */
static long compare_dry_runs(cairn_sync_ctx *ctx, int apps)
{
	long n = 0;
	char app[64], ns[64];

	for (int i = 0; i < apps; i++) {
		cairn_sync_request req = {0};
		cairn_sync_result *r = NULL;
		json_t *m = manifests(i, "s");

		snprintf(app, sizeof(app), "app-%d", i);
		snprintf(ns, sizeof(ns), "s%d", i);
		req.app = app;
		req.env = "bench";
		req.dest_namespace = ns;
		req.manifests = m;
		if (cairn_sync_compare_app(&r, ctx, &req) == 0)
			n += (long)r->dry_runs;
		else
			n = -1000000;
		cairn_sync_result_free(r);
		json_decref(m);
	}
	return n;
}

/* kubectl apply --server-side of the same objects (namespaces p<i>). */
static double peer_apply(int apps)
{
	FILE *f = fopen(peer, "w");
	char cmd[512];
	double t;

	if (f == NULL)
		return -1;
	for (int i = 0; i < apps; i++) {
		json_t *m = manifests(i, "p"), *o;
		size_t k;

		fprintf(f, "apiVersion: v1\nkind: Namespace\nmetadata: {name: p%d}\n---\n", i);
		json_array_foreach(m, k, o)
		{
			char *s = json_dumps(o, JSON_COMPACT);
			fprintf(f, "%s\n---\n", s);
			free(s);
		}
		json_decref(m);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd),
	         "kubectl --kubeconfig %s apply --server-side -f %s >/dev/null 2>&1", kc, peer);
	t = now();
	if (system(cmd) != 0)
		return -1;
	return now() - t;
}

int main(int argc, char **argv)
{
	int apps = argc > 1 ? atoi(argv[1]) : 1000, status = 1;
	int have_kubectl = system("kubectl version --client >/dev/null 2>&1") == 0;
	char exe[4096], sdir[256];
	cairn_kube_client *kube = NULL;
	cairn_state *st = NULL;
	cairn_sync_ctx ctx = {0};
	size_t w1 = 0, w2 = 0;
	uint64_t q0, q1, q2;
	double t, wall1, cpu2, sim2, peer_s = -1;
	long dry;
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (apps <= 0 || n <= 0 || mkdtemp(dir) == NULL)
		return 2;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(sim, sizeof(sim), "%s/../cairn-sim", exe);
	snprintf(kc, sizeof(kc), "%s/kubeconfig", dir);
	snprintf(simstate, sizeof(simstate), "%s/sim.json", dir);
	snprintf(peer, sizeof(peer), "%s/peer.yaml", dir);
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	if ((pid = start_sim()) < 0 || (kube = connect_sim()) == NULL ||
	    cairn_state_open(&st, sdir, CAIRN_STATE_CREATE | CAIRN_STATE_SYNC_NORMAL) != 0) {
		fprintf(stderr, "bench_sync: cannot start cairn-sim or open the state\n");
		goto out;
	}
	ctx.kube = kube;
	ctx.state = st;
	ctx.poll_ms = 20;
	q0 = cairn_kube_request_count(kube);
	t = now();
	if (pass(&ctx, apps, &w1) != 0)
		goto out;
	wall1 = now() - t;
	q1 = cairn_kube_request_count(kube);
	t = cpu();
	sim2 = cpu_of(pid);
	if (pass(&ctx, apps, &w2) != 0)
		goto out;
	cpu2 = cpu() - t;
	sim2 = sim2 >= 0 && cpu_of(pid) >= 0 ? cpu_of(pid) - sim2 : -1;
	q2 = cairn_kube_request_count(kube);
	dry = compare_dry_runs(&ctx, apps);
	if (have_kubectl)
		peer_s = peer_apply(apps);
	printf("sync (%d apps x %d ConfigMaps on cairn-sim, one client, state in %s):\n", apps,
	       RESOURCES, sdir);
	printf("  first sync      wall %8.2f s   requests %8llu   writes %6zu\n", wall1,
	       (unsigned long long)(q1 - q0), w1);
	printf("  no-op resync    cpu  %8.2f s   requests %8llu   writes %6zu   "
	       "(goal: < 1 s CPU, 0 writes)\n",
	       cpu2, (unsigned long long)(q2 - q1), w2);
	printf("                  cpu of cairn-sim answering it %.2f s (-1: unknown)\n", sim2);
	printf("  compare pass    dry runs %ld (goal 0: answered by the dry-run cache)\n", dry);
	if (peer_s >= 0)
		printf("  peer: kubectl apply --server-side, same objects, one file: wall %8.2f "
		       "s\n",
		       peer_s);
	else
		printf("  peer: kubectl not run\n");
	status = 0;
out:
	cairn_state_close(st);
	cairn_kube_client_free(kube);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	snprintf(exe, sizeof(exe), "rm -rf '%s'", dir);
	if (system(exe) != 0)
		fprintf(stderr, "bench_sync: could not remove %s\n", dir);
	return status;
}
