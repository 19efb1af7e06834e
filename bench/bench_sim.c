/*
 * bench_sim.c - cairn-sim's figures, measured from a local HTTPS client
 * (libcurl, one kept-alive connection), never through Cairn's kube module:
 *   GET requests/s on one ConfigMap;
 *   server-side apply requests/s (PATCH application/apply-patch+yaml,
 *   fieldManager=bench, force, a changing data value each time);
 *   resident memory (VmRSS of the simulator) holding 10,000 ConfigMaps of
 *   this shape: 3 labels, 2 data keys of 8 and 16 bytes, names cm-00000...
 * Then the workload controllers (issue 7): 1,000 Deployments of 2 replicas
 * created at once, the time until all are available, the simulator's CPU
 * while they progress and at rest, and its resident memory holding them.
 * Beside them the quoted reference for a real kube-apiserver with
 * etcd idle (~350 MB); none runs here, so it is not measured.
 * Bounded: ~2 s per rate, 10,000 creates or 120 s; the simulator (started
 * from this build tree) is stopped by its PID.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/hash.h"

#define OBJECTS 10000
#define RATE_SECONDS 2.0
#define CREATE_LIMIT_SECONDS 120.0
#define DEPLOYMENTS 1000
#define ROLLOUT_LIMIT_SECONDS 180.0
/* The full-relist controller before the incremental one (commit e00aa67),
 * measured by this program on the same 2-core machine, -O2: printed beside
 * the figures of this run. */
#define BEFORE_AVAILABLE_S 52.2
#define BEFORE_PROGRESS_CPU_PCT 22.0
#define BEFORE_REST_CPU_PCT 17.0
#define BEFORE_RSS_MIB 179.3

static char server[256], token[512], ca_path[512], kc_path[512];
static cairn_buf ca_pem = CAIRN_BUF_INIT(1 << 20);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* Copy the value of "key: value" from the kubeconfig text. */
static int kc_value(const char *text, const char *key, char *out, size_t size)
{
	const char *p = strstr(text, key), *e;

	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ')
		p++;
	e = p + strcspn(p, "\r\n");
	if ((size_t)(e - p) >= size)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int read_kubeconfig(void)
{
	cairn_buf kc = CAIRN_BUF_INIT(1 << 20);
	char b64[16384];
	uint8_t pem[12288];
	size_t n;
	FILE *f;

	if (cairn_buf_read_file(&kc, kc_path) < 0 || !kc.ptr)
		return -1;
	if (kc_value(kc.ptr, "server:", server, sizeof(server)) < 0 ||
	    kc_value(kc.ptr, "token:", token, sizeof(token)) < 0 ||
	    kc_value(kc.ptr, "certificate-authority-data:", b64, sizeof(b64)) < 0 ||
	    cairn_base64_decode(pem, sizeof(pem), &n, b64, strlen(b64)) < 0) {
		cairn_buf_dispose(&kc);
		return -1;
	}
	cairn_buf_dispose(&kc);
	if (!(f = fopen(ca_path, "w")))
		return -1;
	fwrite(pem, 1, n, f);
	fclose(f);
	return cairn_buf_put(&ca_pem, pem, n);
}

/* One request on the kept-alive handle; the HTTP status or -1. */
static long request(CURL *h, const char *method, const char *path, const char *ctype,
                    const char *body)
{
	char url[512], auth[600], ct[128];
	struct curl_slist *hdr = NULL;
	long code = -1;

	snprintf(url, sizeof(url), "%s%s", server, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	hdr = curl_slist_append(hdr, auth);
	if (ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		hdr = curl_slist_append(hdr, ct);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	if (!body)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	return code;
}

static long vmrss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static const char *cm_json(char *buf, size_t size, int i, const char *value)
{
	snprintf(buf, size,
	         "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%05d\","
	         "\"labels\":{\"app\":\"bench\",\"tier\":\"backend\",\"index\":\"i%05d\"}},"
	         "\"data\":{\"key-one\":\"%s\",\"key-two\":\"0123456789abcdef\"}}",
	         i, i, value);
	return buf;
}

/* Start cairn-sim from this build tree; its PID, or -1. */
static pid_t start_sim(const char *exe_dir, char *tmpdir)
{
	char sim[1024];
	pid_t pid;
	int i;

	if (snprintf(sim, sizeof(sim), "%s/../cairn-sim", exe_dir) >= (int)sizeof(sim))
		return -1;
	snprintf(kc_path, sizeof(kc_path), "%s/kubeconfig", tmpdir);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tmpdir);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(sim, sim, "--listen", "127.0.0.1:0", "--kubeconfig-out", kc_path,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; pid > 0 && i < 100; i++) {
		if (access(kc_path, R_OK) == 0 && read_kubeconfig() == 0)
			return pid;
		usleep(100000);
	}
	fprintf(stderr, "bench_sim: cairn-sim (%s) did not write its kubeconfig\n", sim);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* CPU seconds (user + system) the process has used so far. */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the parenthesised command name: state is field 3,
	 * utime and stime are fields 14 and 15. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static size_t keep(char *p, size_t size, size_t n, void *ud)
{
	return cairn_buf_put(ud, p, size * n) ? 0 : size * n;
}

/* How many Deployments of the list report 2 available replicas. */
static long count_available(CURL *h)
{
	cairn_buf body = CAIRN_BUF_INIT((size_t)256 << 20);
	const char *p;
	long n = 0;

	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	if (request(h, "GET", "/apis/apps/v1/namespaces/default/deployments", NULL, NULL) == 200 &&
	    cairn_buf_putc(&body, '\0') == 0)
		for (p = body.ptr; (p = strstr(p, "\"availableReplicas\":2")); p++)
			n++;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	cairn_buf_dispose(&body);
	return n;
}

/* 1,000 Deployments at once: 0 when all became available in time. */
static int workloads(CURL *h, pid_t pid)
{
	char body[1024];
	double t0, t, c0, c1, c2;
	long bad = 0, avail = 0;
	int i;

	c0 = cpu_seconds(pid);
	t0 = now();
	for (i = 0; i < DEPLOYMENTS; i++) {
		snprintf(body, sizeof(body),
		         "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
		         "\"name\":\"bench-%04d\"},\"spec\":{\"replicas\":2,\"selector\":{"
		         "\"matchLabels\":{\"app\":\"bench-%04d\"}},\"template\":{\"metadata\":{"
		         "\"labels\":{\"app\":\"bench-%04d\"}},\"spec\":{\"containers\":[{"
		         "\"name\":\"main\",\"image\":\"nginx:1.25\"}]}}}}",
		         i, i, i);
		bad += request(h, "POST", "/apis/apps/v1/namespaces/default/deployments",
		               "application/json", body) != 201;
	}
	printf("%-28s %9.1f s  (%d Deployments of 2 replicas, %ld not 201)\n", "create deployments",
	       now() - t0, DEPLOYMENTS, bad);
	while ((t = now() - t0) < ROLLOUT_LIMIT_SECONDS && avail < DEPLOYMENTS) {
		usleep(250000);
		avail = count_available(h);
	}
	c1 = cpu_seconds(pid);
	printf("%-28s %9.1f s  (%ld of %d available; pod ready delay 1 s; simulator CPU %.1f s, "
	       "%.0f%% of one core; before: %.1f s, %.0f%%)\n",
	       "all available", t, avail, DEPLOYMENTS, c1 - c0, 100.0 * (c1 - c0) / t,
	       BEFORE_AVAILABLE_S, BEFORE_PROGRESS_CPU_PCT);
	sleep(5);
	c2 = cpu_seconds(pid);
	printf("%-28s %9.0f%% of one core  (controller at rest with %d ReplicaSets, %d Pods; "
	       "before: %.0f%%)\n",
	       "CPU at rest", 100.0 * (c2 - c1) / 5.0, DEPLOYMENTS, 2 * DEPLOYMENTS,
	       BEFORE_REST_CPU_PCT);
	printf("resident memory: %.1f MiB holding them (and the ConfigMaps above; before: %.1f "
	       "MiB)\n",
	       vmrss_kib(pid) / 1024.0, BEFORE_RSS_MIB);
	return avail == DEPLOYMENTS && bad == 0 ? 0 : 1;
}

static void rate(CURL *h, const char *what, int apply)
{
	char body[1024], val[32];
	double t0 = now(), t;
	long n = 0, bad = 0;

	do {
		long code;

		if (apply) {
			snprintf(val, sizeof(val), "v%08ld", n);
			code = request(
			        h, "PATCH",
			        "/api/v1/namespaces/default/configmaps/cm-99999?fieldManager="
			        "bench&force=true",
			        "application/apply-patch+yaml",
			        cm_json(body, sizeof(body), 99999, val));
		} else {
			code = request(h, "GET", "/api/v1/namespaces/default/configmaps/cm-99999",
			               NULL, NULL);
		}
		bad += code < 200 || code > 299;
		n++;
	} while ((t = now() - t0) < RATE_SECONDS);
	printf("%-28s %9.0f requests/s  (%ld requests in %.1f s, %ld not 2xx)\n", what,
	       (double)n / t, n, t, bad);
}

int main(void)
{
	char exe[1024], tmpdir[] = "/tmp/bench_sim.XXXXXX", body[1024], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	long before, after, created = 0, bad = 0;
	double t0, t;
	pid_t pid;
	CURL *h;

	if (len <= 0 || !mkdtemp(tmpdir))
		return 1;
	exe[len] = '\0';
	if ((slash = strrchr(exe, '/')))
		*slash = '\0';
	if ((pid = start_sim(exe, tmpdir)) < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_CAINFO, ca_path);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	before = vmrss_kib(pid);
	request(h, "POST", "/api/v1/namespaces/default/configmaps", "application/json",
	        cm_json(body, sizeof(body), 99999, "seed"));
	rate(h, "GET one ConfigMap", 0);
	rate(h, "server-side apply", 1);
	t0 = now();
	for (created = 0; created < OBJECTS && (t = now() - t0) < CREATE_LIMIT_SECONDS; created++) {
		long code = request(h, "POST", "/api/v1/namespaces/default/configmaps",
		                    "application/json",
		                    cm_json(body, sizeof(body), (int)created, "01234567"));

		bad += code != 201;
	}
	t = now() - t0;
	after = vmrss_kib(pid);
	printf("%-28s %9.0f requests/s  (%ld in %.1f s, %ld not 201)\n", "create", created / t,
	       created, t, bad);
	printf("resident memory: %.1f MiB idle, %.1f MiB holding %ld ConfigMaps "
	       "(3 labels, 2 data keys; goal < 100 MiB)\n",
	       before / 1024.0, after / 1024.0, created - bad);
	printf("reference (quoted in issue 6, not measured here): a real kube-apiserver with "
	       "etcd takes ~350 MB idle\n");
	bad += workloads(h, pid);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(kc_path);
	unlink(ca_path);
	rmdir(tmpdir);
	cairn_buf_dispose(&ca_pem);
	return created == OBJECTS && bad == 0 ? 0 : 1;
}
