/*
 * bench_webhook.c - webhook requests per second through the daemon's HTTP
 * layer on a loopback port: a valid and a forged GitHub signature, with the
 * per-source rate limiter off and on, and resident memory before and after.
 * The load comes from keep-alive client threads in this process (each one
 * connection, one request in flight); `wrk` is run as well when installed.
 * Goal (issue 10): >= 10,000/s forged with the limiter off, memory flat.
 *
 *   bench_webhook [SECONDS per case, default 3] [CLIENTS, default 8]
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

#define SECRET "bench-secret"

static const char *body =
        "{\"ref\":\"refs/heads/main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
        "\"after\":\"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c\",\"repository\":{\"clone_url\":"
        "\"https://github.com/example-org/shop.git\",\"ssh_url\":\"git@github.com:example-org/"
        "shop.git\",\"html_url\":\"https://github.com/example-org/shop\"}}";

struct client {
	int port;
	const char *req;
	size_t req_len;
	cairn_usec until;
	uint64_t done, codes[6]; /* by first digit of the status */
	uint64_t c429;
	int failed;
};

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *fp = fopen("/proc/self/status", "r");
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = atol(line + 6);
	if (fp != NULL)
		fclose(fp);
	return kib;
}

static int connect_to(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * Read one response: headers up to the blank line, then Content-Length
 * bytes. Returns the status, or -1 when the connection closed.
 */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end = NULL;

	while (end == NULL) {
		ssize_t n = read(fd, buf + have, cap - have - 1);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end == NULL && have >= cap - 1)
			return -1;
	}
	int status = atoi(buf + 9);
	const char *cl = strcasestr(buf, "Content-Length:");
	size_t want = (size_t)(end + 4 - buf) + (cl ? (size_t)atol(cl + 15) : 0);
	while (have < want) {
		ssize_t n = read(fd, buf, cap - 1 < want - have ? cap - 1 : want - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return status;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char buf[8192];
	int fd = connect_to(c->port);

	while (fd >= 0 && cairn_time_mono() < c->until) {
		if (write(fd, c->req, c->req_len) != (ssize_t)c->req_len)
			break;
		int st = read_response(fd, buf, sizeof(buf));
		if (st < 0) {
			/* a refused request may close the connection: reconnect */
			close(fd);
			fd = connect_to(c->port);
			continue;
		}
		c->done++;
		c->codes[(st / 100) % 6]++;
		c->c429 += st == 429;
	}
	if (fd < 0)
		c->failed = 1;
	else
		close(fd);
	return NULL;
}

/* Run one case; prints requests/s and the status mix. */
static double run_case(const char *name, int port, const char *req, int secs, int nclients)
{
	struct client *cl = calloc((size_t)nclients, sizeof(*cl));
	pthread_t *th = calloc((size_t)nclients, sizeof(*th));
	cairn_usec t0 = cairn_time_mono();
	uint64_t total = 0, codes[6] = {0}, c429 = 0;

	for (int i = 0; i < nclients; i++) {
		cl[i] = (struct client){.port = port,
		                        .req = req,
		                        .req_len = strlen(req),
		                        .until = t0 + (cairn_usec)secs * 1000000};
		pthread_create(&th[i], NULL, client_main, &cl[i]);
	}
	for (int i = 0; i < nclients; i++) {
		pthread_join(th[i], NULL);
		total += cl[i].done;
		c429 += cl[i].c429;
		for (int k = 0; k < 6; k++)
			codes[k] += cl[i].codes[k];
	}
	double secs_run = (double)(cairn_time_mono() - t0) / 1e6, rate = (double)total / secs_run;
	printf("  %-34s %9.0f req/s  (2xx %llu, 4xx %llu of which 429 %llu, 5xx %llu)\n", name,
	       rate, (unsigned long long)codes[2], (unsigned long long)codes[4],
	       (unsigned long long)c429, (unsigned long long)codes[5]);
	free(cl);
	free(th);
	return rate;
}

static char *request(const char *sig)
{
	size_t cap = strlen(body) + 512;
	char *r = malloc(cap);
	snprintf(r, cap,
	         "POST /api/webhook/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
	         "application/json\r\n"
	         "X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=%s\r\nContent-Length: "
	         "%zu\r\n\r\n%s",
	         sig, strlen(body), body);
	return r;
}

static void wrk_case(int port, int secs)
{
	char script[] = "/tmp/cairn-bench-wrk-XXXXXX", cmd[512];
	int fd;

	if (system("command -v wrk >/dev/null 2>&1") != 0) {
		printf("  (wrk not installed: scripts/install-deps.sh installs it)\n");
		return;
	}
	if ((fd = mkstemp(script)) < 0)
		return;
	dprintf(fd,
	        "wrk.method = \"POST\"\nwrk.body = '%s'\nwrk.headers[\"X-GitHub-Event\"] = "
	        "\"push\"\n"
	        "wrk.headers[\"X-Hub-Signature-256\"] = \"sha256=%064d\"\n",
	        body, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
	         "wrk -t2 -c16 -d%ds -s %s http://127.0.0.1:%d/api/webhook/github | grep -E "
	         "'Requests/sec|Non-2xx'",
	         secs, script, port);
	printf("  wrk, forged, limiter off:\n");
	fflush(stdout);
	if (system(cmd) != 0)
		printf("  (wrk failed)\n");
	unlink(script);
}

static cairn_http *serve(double rate, int *port)
{
	cairn_http_opts o = CAIRN_HTTP_OPTS_INIT;
	cairn_http *srv;

	o.secrets[CAIRN_FORGE_GITHUB] = SECRET;
	o.rate = rate;
	o.burst = rate;
	o.dedup_max = 4096;
	if (cairn_http_new(&srv, &o) < 0 || cairn_http_start(srv) < 0) {
		fprintf(stderr, "bench_webhook: %s\n", cairn_error_last()->message);
		exit(1);
	}
	*port = cairn_http_port(srv);
	return srv;
}

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 3, nclients = argc > 2 ? atoi(argv[2]) : 8, port;
	uint8_t mac[32];
	char hex[65], zeros[65];

	cairn_hmac_sha256(mac, SECRET, strlen(SECRET), body, strlen(body));
	cairn_hex_encode(hex, mac, 32);
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	char *valid = request(hex), *forged = request(zeros);

	printf("webhook requests per second (%d keep-alive clients, %d s per case, body %zu "
	       "bytes)\n",
	       nclients, secs, strlen(body));
	long rss0 = rss_kib();
	cairn_http *srv = serve(0, &port);
	double forged_off = run_case("forged signature, limiter off", port, forged, secs, nclients);
	run_case("valid signature, limiter off", port, valid, secs, nclients);
	long rss1 = rss_kib();
	forged_off = forged_off > 0 ? forged_off : 0;
	wrk_case(port, secs);
	cairn_http_free(srv);

	srv = serve(100, &port);
	run_case("forged, limiter on (100/s)", port, forged, secs, nclients);
	run_case("valid, limiter on (100/s)", port, valid, secs, nclients);
	cairn_http_free(srv);
	long rss2 = rss_kib();

	printf("resident memory: %ld KiB before, %ld KiB after the limiter-off runs, %ld KiB at "
	       "the end\n",
	       rss0, rss1, rss2);
	printf("goal: >= 10000 req/s forged with the limiter off: %s (%.0f)\n",
	       forged_off >= 10000 ? "met" : "NOT met", forged_off);
	free(valid);
	free(forged);
	return 0;
}
