/*
 * daemon_http.c - the metrics registry, the rate limiter, and the HTTP
 * server: routes dispatched in process (no sockets), then the same server
 * over a loopback port and its Unix socket with libcurl.
 */
#include "daemon_tests.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

#define SECRET "hook-secret"

START_TEST(metrics_render)
{
	cairn_metrics *m;
	cairn_metric *c, *g, *h, *again;
	cairn_buf out;
	static const char *const lab[] = {"provider", "result", NULL};
	static const double buckets[] = {0.1, 1};

	ck_assert_int_eq(cairn_metrics_new(&m), 0);
	ck_assert_int_eq(cairn_metrics_register(&c, m, CAIRN_METRIC_COUNTER, "t_hooks_total",
	                                        "Hooks.\nSecond line", lab, NULL, 0),
	                 0);
	ck_assert_int_eq(cairn_metrics_register(&g, m, CAIRN_METRIC_GAUGE, "t_depth",
	                                        "Queue depth.", NULL, NULL, 0),
	                 0);
	ck_assert_int_eq(cairn_metrics_register(&h, m, CAIRN_METRIC_HISTOGRAM, "t_seconds",
	                                        "Durations.", NULL, buckets, 2),
	                 0);
	ck_assert_int_eq(cairn_metrics_register(&again, m, CAIRN_METRIC_COUNTER, "t_hooks_total",
	                                        "x", lab, NULL, 0),
	                 0);
	ck_assert_ptr_eq(again, c);
	ck_assert_int_eq(cairn_metrics_register(&again, m, CAIRN_METRIC_GAUGE, "t_hooks_total", "x",
	                                        NULL, NULL, 0),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("already registered with another type");
	ck_assert_int_eq(
	        cairn_metrics_register(&again, m, CAIRN_METRIC_GAUGE, "9bad", "x", NULL, NULL, 0),
	        CAIRN_EINVAL);
	ck_assert_error_contains("metric name '9bad' is not a Prometheus name");

	const char *v1[] = {"github", "accepted"}, *v2[] = {"gitlab", "say \"hi\"\\"};
	ck_assert_int_eq(cairn_metric_add(c, v1, 1), 0);
	ck_assert_int_eq(cairn_metric_add(c, v1, 2), 0);
	ck_assert_int_eq(cairn_metric_add(c, v2, 1), 0);
	ck_assert_int_eq(cairn_metric_set(g, NULL, 7), 0);
	ck_assert_int_eq(cairn_metric_add(g, NULL, -2.5), 0);
	ck_assert_int_eq(cairn_metric_set(c, v1, 1), CAIRN_EINVAL); /* counters are not set */
	ck_assert_int_eq(cairn_metric_observe(g, NULL, 1), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_metric_observe(h, NULL, 0.05), 0);
	ck_assert_int_eq(cairn_metric_observe(h, NULL, 0.5), 0);
	ck_assert_int_eq(cairn_metric_observe(h, NULL, 3), 0);
	ck_assert(cairn_metric_value(c, v1) == 3);

	cairn_buf_init(&out, 1 << 20);
	ck_assert_int_eq(cairn_metrics_render(m, &out), 0);
	const char *want = "# HELP t_hooks_total Hooks.\\nSecond line\n"
	                   "# TYPE t_hooks_total counter\n"
	                   "t_hooks_total{provider=\"github\",result=\"accepted\"} 3\n"
	                   "t_hooks_total{provider=\"gitlab\",result=\"say \\\"hi\\\"\\\\\"} 1\n"
	                   "# HELP t_depth Queue depth.\n"
	                   "# TYPE t_depth gauge\n"
	                   "t_depth 4.5\n"
	                   "# HELP t_seconds Durations.\n"
	                   "# TYPE t_seconds histogram\n"
	                   "t_seconds_bucket{le=\"0.1\"} 1\n"
	                   "t_seconds_bucket{le=\"1\"} 2\n"
	                   "t_seconds_bucket{le=\"+Inf\"} 3\n"
	                   "t_seconds_sum 3.5499999999999998\n"
	                   "t_seconds_count 3\n";
	ck_assert_str_eq(out.ptr, want);
	cairn_buf_dispose(&out);
	cairn_metrics_free(m);
}
END_TEST

START_TEST(metrics_series_bound)
{
	cairn_metrics *m;
	cairn_metric *c;
	static const char *const lab[] = {"k", NULL};
	char v[32];
	const char *vals[] = {v};

	ck_assert_int_eq(cairn_metrics_new(&m), 0);
	ck_assert_int_eq(
	        cairn_metrics_register(&c, m, CAIRN_METRIC_COUNTER, "t_total", "", lab, NULL, 0),
	        0);
	for (int i = 0; i < CAIRN_METRIC_SERIES_MAX; i++) {
		snprintf(v, sizeof(v), "%d", i);
		ck_assert_int_eq(cairn_metric_add(c, vals, 1), 0);
	}
	snprintf(v, sizeof(v), "one-more");
	ck_assert_int_eq(cairn_metric_add(c, vals, 1), CAIRN_ELIMIT);
	ck_assert_error_contains("has 1024 series already");
	snprintf(v, sizeof(v), "7"); /* existing series still count */
	ck_assert_int_eq(cairn_metric_add(c, vals, 1), 0);
	ck_assert(cairn_metric_value(c, vals) == 2);
	cairn_metrics_free(m);
}
END_TEST

START_TEST(ratelimit)
{
	cairn_ratelimit *rl;
	cairn_usec t = 1000000000;

	ck_assert_int_eq(cairn_ratelimit_new(&rl, 2, 3, 2), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cairn_ratelimit_take(rl, "10.0.0.1", t), 1);
	ck_assert_int_eq(cairn_ratelimit_take(rl, "10.0.0.1", t), 0);
	/* another source has its own bucket */
	ck_assert_int_eq(cairn_ratelimit_take(rl, "10.0.0.2", t), 1);
	/* half a second refills one token at 2/s */
	ck_assert_int_eq(cairn_ratelimit_take(rl, "10.0.0.1", t + 500000), 1);
	ck_assert_int_eq(cairn_ratelimit_take(rl, "10.0.0.1", t + 500000), 0);
	/* a long pause refills to the burst, not beyond */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cairn_ratelimit_take(rl, "10.0.0.1", t + 100000000), 1);
	ck_assert_int_eq(cairn_ratelimit_take(rl, "10.0.0.1", t + 100000000), 0);
	cairn_ratelimit_free(rl);
	ck_assert_int_eq(cairn_ratelimit_new(&rl, 0, 1, 1), CAIRN_EINVAL);
}
END_TEST

/* ---- in-process dispatch --------------------------------------------------- */

struct seen {
	int n;
	char ref[128];
};

static void on_trigger(void *ud, const cairn_webhook_trigger *t)
{
	struct seen *s = ud;
	s->n++;
	snprintf(s->ref, sizeof(s->ref), "%s", t->n_refs ? t->refs[0].ref : "");
}

static int h_apps(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	(void)ud;
	if (strcmp(req->route_arg, "missing") == 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "application '%s' not found",
		                       req->route_arg);
	return cairn_buf_printf(&resp->body, "{\"token\":\"%s\",\"app\":\"%s\"}",
	                        req->token ? req->token->name : "local", req->route_arg);
}

static cairn_http *server(cairn_auth **auth, struct seen *seen, double rate)
{
	cairn_http_opts o = CAIRN_HTTP_OPTS_INIT;
	cairn_http *srv;
	char hex[65];

	ck_assert_int_eq(cairn_auth_new(auth), 0);
	cairn_sha256_hex(hex, "viewer-token", 12);
	ck_assert_int_eq(cairn_auth_add(*auth, "grafana", hex, CAIRN_ROLE_VIEWER, NULL, 0), 0);
	o.auth = *auth;
	o.secrets[CAIRN_FORGE_GITHUB] = SECRET;
	o.secrets[CAIRN_FORGE_GITLAB] = SECRET;
	o.max_body = 4096;
	o.rate = rate;
	o.burst = rate;
	o.on_trigger = on_trigger;
	o.trigger_ud = seen;
	o.version_string = "9.9.9-test";
	ck_assert_int_eq(cairn_http_new(&srv, &o), 0);
	ck_assert_int_eq(cairn_http_route(srv, "GET", "/api/v1/apps/", CAIRN_HTTP_ROUTE_PREFIX,
	                                  h_apps, NULL),
	                 0);
	return srv;
}

/* Serve one request in process; the response is returned for asserts. */
static unsigned call(cairn_http *srv, cairn_http_response *resp, const char *method,
                     const char *path, const cairn_http_header *h, size_t nh, const char *body)
{
	cairn_http_request req = {.method = method,
	                          .path = path,
	                          .headers = h,
	                          .n_headers = nh,
	                          .body = body ? body : "",
	                          .body_len = body ? strlen(body) : 0,
	                          .source = "127.0.0.1"};
	cairn_http_response_dispose(resp);
	cairn_http_response_init(resp);
	cairn_http_dispatch(srv, &req, resp);
	return resp->status;
}

static const char *github_push = "{\"ref\":\"refs/heads/main\",\"before\":\"aa\",\"after\":\"bb\","
                                 "\"repository\":{\"clone_url\":\"https://github.com/o/"
                                 "r.git\",\"ssh_url\":\"git@github.com:o/r.git\"}}";

START_TEST(dispatch_routes)
{
	cairn_auth *auth;
	struct seen seen = {0};
	cairn_http *srv = server(&auth, &seen, 0);
	cairn_http_response r;
	cairn_http_header bearer[] = {{"Authorization", "Bearer viewer-token"}};
	cairn_http_header wrong[] = {{"Authorization", "Bearer nope"}};

	cairn_http_response_init(&r);
	ck_assert_uint_eq(call(srv, &r, "GET", "/healthz", NULL, 0, NULL), 200);
	ck_assert_uint_eq(call(srv, &r, "GET", "/readyz", NULL, 0, NULL), 503);
	cairn_http_set_ready(srv, 1);
	ck_assert_uint_eq(call(srv, &r, "GET", "/readyz", NULL, 0, NULL), 200);
	ck_assert_uint_eq(call(srv, &r, "GET", "/nope", NULL, 0, NULL), 404);
	ck_assert_str_eq(r.body.ptr,
	                 "{\"error\":{\"code\":\"notfound\",\"message\":\"no such path\"}}\n");
	ck_assert_uint_eq(call(srv, &r, "DELETE", "/healthz", NULL, 0, NULL), 405);

	/* /api/v1 wants a token; the Unix socket does not */
	ck_assert_uint_eq(call(srv, &r, "GET", "/api/v1/apps/shop", NULL, 0, NULL), 401);
	ck_assert(strstr(r.body.ptr, "missing Authorization header") != NULL);
	ck_assert_uint_eq(call(srv, &r, "GET", "/api/v1/apps/shop", wrong, 1, NULL), 401);
	ck_assert(strstr(r.body.ptr, "unknown bearer token") != NULL);
	ck_assert_uint_eq(call(srv, &r, "GET", "/api/v1/apps/shop", bearer, 1, NULL), 200);
	ck_assert_str_eq(r.body.ptr, "{\"token\":\"grafana\",\"app\":\"shop\"}");
	cairn_http_request local = {.method = "GET",
	                            .path = "/api/v1/apps/web",
	                            .source = "local",
	                            .local = 1,
	                            .body = ""};
	cairn_http_response_dispose(&r);
	cairn_http_response_init(&r);
	cairn_http_dispatch(srv, &local, &r);
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.body.ptr, "{\"token\":\"local\",\"app\":\"web\"}");
	/* a handler's error becomes the JSON error with its status */
	ck_assert_uint_eq(call(srv, &r, "GET", "/api/v1/apps/missing", bearer, 1, NULL), 404);
	ck_assert_str_eq(r.body.ptr, "{\"error\":{\"code\":\"notfound\",\"message\":\"application "
	                             "'missing' not found\"}}\n");

	/* metrics count what happened */
	ck_assert_uint_eq(call(srv, &r, "GET", "/metrics", NULL, 0, NULL), 200);
	ck_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert(strstr(r.body.ptr, "cairn_http_refused_total{reason=\"unauthorized\"} 2\n") !=
	          NULL);
	ck_assert(strstr(r.body.ptr, "cairn_http_refused_total{reason=\"not_found\"} 1\n") != NULL);
	ck_assert(strstr(r.body.ptr, "cairn_build_info{version=\"9.9.9-test\"} 1\n") != NULL);
	ck_assert(strstr(r.body.ptr, "cairn_http_requests_total{code=\"200\"}") != NULL);
	cairn_http_response_dispose(&r);
	cairn_http_free(srv);
	cairn_auth_free(auth);
}
END_TEST

START_TEST(dispatch_webhooks)
{
	cairn_auth *auth;
	struct seen seen = {0};
	cairn_http *srv = server(&auth, &seen, 0);
	cairn_http_response r;
	char hex[65], sig[80];
	uint8_t mac[32];

	cairn_hmac_sha256(mac, SECRET, strlen(SECRET), github_push, strlen(github_push));
	cairn_hex_encode(hex, mac, 32);
	snprintf(sig, sizeof(sig), "sha256=%s", hex);
	cairn_http_header h[] = {{"X-GitHub-Event", "push"},
	                         {"X-GitHub-Delivery", "d-1"},
	                         {"X-Hub-Signature-256", sig}};
	cairn_http_response_init(&r);

	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/github", h, 3, github_push), 202);
	ck_assert_str_eq(r.body.ptr, "{\"status\":\"accepted\",\"event\":\"push\",\"refs\":1}\n");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.ref, "refs/heads/main");
	/* the same delivery again: coalesced */
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/github", h, 3, github_push), 200);
	ck_assert(strstr(r.body.ptr, "\"duplicate\"") != NULL);
	ck_assert_int_eq(seen.n, 1);
	/* a forged body */
	ck_assert_uint_eq(
	        call(srv, &r, "POST", "/api/webhook/github", h, 3, "{\"ref\":\"refs/heads/evil\"}"),
	        401);
	ck_assert_str_eq(r.body.ptr, "{\"error\":{\"code\":\"unauthorized\",\"message\":"
	                             "\"X-Hub-Signature-256 does not match the body\"}}\n");
	ck_assert_int_eq(seen.n, 1);
	/* an event that is not a push */
	h[0].value = "ping";
	h[1].value = "d-2";
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/github", h, 3, github_push), 200);
	ck_assert_str_eq(r.body.ptr, "{\"status\":\"ignored\"}\n");
	/* a provider without a secret is off; an unknown one does not exist */
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/gitea", h, 3, github_push), 404);
	ck_assert(strstr(r.body.ptr, "not configured") != NULL);
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/gogs", h, 3, github_push), 404);
	ck_assert_uint_eq(call(srv, &r, "GET", "/api/webhook/github", h, 3, NULL), 405);
	/* gitlab with its token */
	cairn_http_header gl[] = {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", SECRET}};
	const char *glbody =
	        "{\"object_kind\":\"push\",\"ref\":\"refs/heads/dev\",\"after\":\"cc\","
	        "\"project\":{\"git_http_url\":\"https://gl/o/r.git\"}}";
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/gitlab", gl, 2, glbody), 202);
	ck_assert_str_eq(seen.ref, "refs/heads/dev");
	gl[1].value = "guess";
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/gitlab", gl, 2, glbody), 401);
	/* a body over max_body */
	char *big = malloc(5000);
	memset(big, ' ', 4999);
	big[4999] = '\0';
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/gitlab", gl, 2, big), 413);
	free(big);

	ck_assert_uint_eq(call(srv, &r, "GET", "/metrics", NULL, 0, NULL), 200);
	ck_assert(strstr(
	        r.body.ptr,
	        "cairn_webhook_requests_total{provider=\"github\",result=\"accepted\"} 1\n"));
	ck_assert(strstr(
	        r.body.ptr,
	        "cairn_webhook_requests_total{provider=\"github\",result=\"duplicate\"} 1\n"));
	ck_assert(strstr(
	        r.body.ptr,
	        "cairn_webhook_requests_total{provider=\"github\",result=\"bad_signature\"} 1\n"));
	ck_assert(
	        strstr(r.body.ptr,
	               "cairn_webhook_requests_total{provider=\"github\",result=\"ignored\"} 1\n"));
	ck_assert(
	        strstr(r.body.ptr,
	               "cairn_webhook_requests_total{provider=\"gitea\",result=\"disabled\"} 1\n"));
	ck_assert(strstr(
	        r.body.ptr,
	        "cairn_webhook_requests_total{provider=\"gitlab\",result=\"bad_signature\"} 1\n"));
	ck_assert(strstr(r.body.ptr, "cairn_http_refused_total{reason=\"bad_signature\"} 2\n"));
	ck_assert(strstr(r.body.ptr, "cairn_http_refused_total{reason=\"body_too_large\"} 1\n"));
	cairn_http_response_dispose(&r);
	cairn_http_free(srv);
	cairn_auth_free(auth);
}
END_TEST

START_TEST(dispatch_rate_limit)
{
	cairn_auth *auth;
	struct seen seen = {0};
	cairn_http *srv = server(&auth, &seen, 2);
	cairn_http_response r;
	cairn_http_header h[] = {{"X-GitHub-Event", "push"}};

	cairn_http_response_init(&r);
	/* two forged requests use the burst; the third is refused before the
	 * signature is even looked at */
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/github", h, 1, "{}"), 401);
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/github", h, 1, "{}"), 401);
	ck_assert_uint_eq(call(srv, &r, "POST", "/api/webhook/github", h, 1, "{}"), 429);
	ck_assert_str_eq(r.retry_after, "1");
	ck_assert(strstr(r.body.ptr, "\"ratelimited\"") != NULL);
	/* other paths are not limited */
	ck_assert_uint_eq(call(srv, &r, "GET", "/healthz", NULL, 0, NULL), 200);
	ck_assert_uint_eq(call(srv, &r, "GET", "/metrics", NULL, 0, NULL), 200);
	ck_assert(strstr(
	        r.body.ptr,
	        "cairn_webhook_requests_total{provider=\"github\",result=\"rate_limited\"} 1\n"));
	ck_assert(strstr(r.body.ptr, "cairn_http_refused_total{reason=\"rate_limited\"} 1\n"));
	cairn_http_response_dispose(&r);
	cairn_http_free(srv);
	cairn_auth_free(auth);
}
END_TEST

/* ---- over sockets ------------------------------------------------------------ */

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	cairn_buf_put(ud, p, sz * n);
	return sz * n;
}

/* One request with libcurl; returns the status, body into `out`. */
static long fetch(const char *url, const char *unix_path, const char *body, struct curl_slist *hdrs,
                  cairn_buf *out)
{
	CURL *c = curl_easy_init();
	long code = 0;

	cairn_buf_reset(out);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (unix_path)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, unix_path);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

START_TEST(serve_sockets)
{
	cairn_http_opts o = CAIRN_HTTP_OPTS_INIT;
	cairn_http *srv;
	cairn_auth *auth;
	char sock[256], url[128], sig[128], hex[65];
	cairn_buf out;
	struct stat st;
	struct seen seen = {0};
	uint8_t mac[32];

	snprintf(sock, sizeof(sock), "/tmp/cairn-test-%d.sock", (int)getpid());
	ck_assert_int_eq(cairn_auth_new(&auth), 0);
	o.auth = auth;
	o.port = 0;
	o.unix_path = sock;
	o.max_body = 1024;
	o.secrets[CAIRN_FORGE_GITHUB] = SECRET;
	o.on_trigger = on_trigger;
	o.trigger_ud = &seen;
	ck_assert_int_eq(cairn_http_new(&srv, &o), 0);
	ck_assert_int_eq(cairn_http_route(srv, "GET", "/api/v1/apps/", CAIRN_HTTP_ROUTE_PREFIX,
	                                  h_apps, NULL),
	                 0);
	ck_assert_int_eq(cairn_http_start(srv), 0);
	ck_assert_int_gt(cairn_http_port(srv), 0);
	ck_assert_int_eq(stat(sock, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	cairn_buf_init(&out, 1 << 20);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", cairn_http_port(srv));
	ck_assert_int_eq(fetch(url, NULL, NULL, NULL, &out), 200);
	ck_assert_str_eq(out.ptr, "{\"status\":\"ok\"}\n");
	/* over TCP /api/v1 wants a token (none configured); the socket does not */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/apps/shop", cairn_http_port(srv));
	ck_assert_int_eq(fetch(url, NULL, NULL, NULL, &out), 401);
	ck_assert(strstr(out.ptr, "no API tokens are configured") != NULL);
	ck_assert_int_eq(fetch("http://localhost/api/v1/apps/shop", sock, NULL, NULL, &out), 200);
	ck_assert_str_eq(out.ptr, "{\"token\":\"local\",\"app\":\"shop\"}");

	/* a signed webhook over TCP reaches the callback */
	cairn_hmac_sha256(mac, SECRET, strlen(SECRET), github_push, strlen(github_push));
	cairn_hex_encode(hex, mac, 32);
	snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
	struct curl_slist *hl = curl_slist_append(NULL, sig);
	hl = curl_slist_append(hl, "X-GitHub-Event: push");
	hl = curl_slist_append(hl, "Content-Type: application/json");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/webhook/github", cairn_http_port(srv));
	ck_assert_int_eq(fetch(url, NULL, github_push, hl, &out), 202);
	ck_assert_int_eq(seen.n, 1);
	/* a declared body over the limit is refused before it is read */
	char *big = malloc(4000);
	memset(big, 'x', 3999);
	big[3999] = '\0';
	ck_assert_int_eq(fetch(url, NULL, big, hl, &out), 413);
	free(big);
	curl_slist_free_all(hl);
	cairn_buf_dispose(&out);
	cairn_http_free(srv);
	ck_assert_int_eq(access(sock, F_OK), -1); /* the socket file is removed */
	cairn_auth_free(auth);
}
END_TEST

void daemon_http_tests(Suite *s)
{
	TCase *tc = tcase_create("http");
	tcase_add_test(tc, metrics_render);
	tcase_add_test(tc, metrics_series_bound);
	tcase_add_test(tc, ratelimit);
	tcase_add_test(tc, dispatch_routes);
	tcase_add_test(tc, dispatch_webhooks);
	tcase_add_test(tc, dispatch_rate_limit);
	tcase_add_test(tc, serve_sockets);
	suite_add_tcase(s, tc);
}
