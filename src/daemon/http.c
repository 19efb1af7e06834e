/*
 * http.c - the daemon's HTTP server on libmicrohttpd: a routing table, JSON
 * errors, limits (body size, connections, idle timeout, per-source webhook
 * rate), /healthz, /readyz, /metrics and the webhook endpoints.
 *
 * Requests are served by cairn_http_dispatch(), which needs no sockets, so
 * the handlers are tested in process; the libmicrohttpd glue below only
 * gathers a request (headers, bounded body) and sends the response.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/log.h"

#define HTTP_ROUTES_MAX 64
#define HTTP_HEADERS_MAX 64
#define HTTP_RESPONSE_MAX (64u * 1024 * 1024)
#define ROUTE_WEBHOOK 0x100 /* internal flag: the webhook endpoint */
#define STREAM_KEEPALIVE_USEC (15 * 1000000LL)
#define STREAM_DRAIN_USEC (3 * 1000000LL)
#define TLS_PEM_MAX (1024 * 1024)
#define LOG_SOURCES 64                     /* sources the 401 log limiter remembers */
#define LOG_INTERVAL_USEC (10 * 1000000LL) /* one 401 line per source per interval */

struct route {
	const char *method;
	const char *path;
	int flags;
	cairn_http_handler fn;
	void *ud;
};

/*
 * One listening libmicrohttpd daemon and whether it is the Unix socket. A
 * TLS reload starts a new TCP listener on the same socket and retires the
 * old one: it stops accepting, its streams end, and it is stopped once its
 * connections are gone (or the idle timeout has passed).
 */
struct listener {
	cairn_http *srv;
	struct MHD_Daemon *d;
	int local;
	int fd;
	char *cert, *key;    /* PEM the daemon was started with (TLS), owned */
	int retiring;        /* set under stream_mu */
	cairn_usec deadline; /* retiring: stop it by then at the latest */
	struct listener *next;
};

/* How often a source was refused with 401 since it was last logged. */
struct log_slot {
	char source[INET6_ADDRSTRLEN + 8];
	cairn_usec last;
	long skipped;
};

struct cairn_http {
	cairn_http_opts o;
	struct route routes[HTTP_ROUTES_MAX];
	size_t n_routes;
	struct listener *tcp; /* the serving TCP listener; replaced by a TLS reload */
	struct listener unx;
	struct listener *retired; /* under stream_mu */
	int listen_fd;            /* the TCP socket every generation accepts on */
	char *tls_cert_file, *tls_key_file;
	pthread_mutex_t tls_mu; /* one reload at a time */
	pthread_mutex_t log_mu;
	struct log_slot log_slots[LOG_SOURCES];
	int unx_bound;
	int port;
	atomic_int ready;
	_Atomic cairn_usec last_refusal_log;
	atomic_long refusals_unlogged;
	cairn_metrics *metrics, *own_metrics;
	cairn_metric *m_webhooks, *m_refused, *m_requests, *m_duration, *m_build;
	cairn_ratelimit *rl;
	cairn_webhook_dedup *dedup;
	/* streamed responses (server-sent events): guarded by stream_mu */
	pthread_mutex_t stream_mu;
	pthread_cond_t stream_cv;
	struct stream *streams;
	size_t n_streams;
	int closing;
	pthread_t ticker;
	int ticker_started;
};

/*
 * One streamed response. A stream with nothing to send is parked: its
 * connection is suspended (so it costs no polling and blocks no thread)
 * until a wake-up or the keep-alive tick resumes it.
 */
struct stream {
	cairn_http *srv;
	struct listener *l; /* the daemon the connection belongs to */
	struct MHD_Connection *conn;
	cairn_http_stream_fn fn;
	cairn_http_stream_free_fn fr;
	void *cls;
	int parked, keepalive_due;
	cairn_usec last_write;
	struct stream *next, **pprev;
};

/* ---- responses ------------------------------------------------------------- */

void cairn_http_response_init(cairn_http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 200;
	resp->content_type = "application/json";
	cairn_buf_init(&resp->body, HTTP_RESPONSE_MAX);
}

void cairn_http_response_dispose(cairn_http_response *resp)
{
	if (resp == NULL)
		return;
	cairn_buf_dispose(&resp->body);
	if (resp->stream != NULL) {
		struct stream *s = resp->stream;
		s->fr(s->cls);
		free(s);
		resp->stream = NULL;
	}
}

int cairn_http_response_stream(cairn_http_response *resp, cairn_http_stream_fn fn,
                               cairn_http_stream_free_fn fr, void *cls)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		fr(cls);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	s->fn = fn;
	s->fr = fr;
	s->cls = cls;
	resp->stream = s;
	resp->content_type = "text/event-stream";
	return 0;
}

int cairn_http_error(cairn_http_response *resp, unsigned status, const char *code,
                     const char *message)
{
	json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
	                      message ? message : "");
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc;

	json_decref(o);
	if (s == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	cairn_buf_reset(&resp->body);
	resp->status = status;
	resp->content_type = "application/json";
	rc = cairn_buf_puts(&resp->body, s);
	if (rc == 0)
		rc = cairn_buf_putc(&resp->body, '\n');
	free(s);
	return rc;
}

/* The HTTP status that says what a CAIRN_E* code means to a client. */
static unsigned status_of(int code)
{
	switch (code) {
	case CAIRN_EINVAL:
		return 400;
	case CAIRN_EPERM:
		return 403;
	case CAIRN_ENOTFOUND:
		return 404;
	case CAIRN_EEXISTS:
	case CAIRN_EBUSY:
		return 409;
	case CAIRN_ELIMIT:
		return 413;
	case CAIRN_EUNSUPPORTED:
		return 501;
	default:
		return 500;
	}
}

static void refused(cairn_http *srv, const char *reason)
{
	const char *v[] = {reason};
	cairn_metric_add(srv->m_refused, v, 1);
}

static void webhook_count(cairn_http *srv, const char *forge, const char *result)
{
	const char *v[] = {forge, result};
	cairn_metric_add(srv->m_webhooks, v, 1);
}

/* ---- built-in handlers ----------------------------------------------------- */

static int h_healthz(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	(void)ud;
	(void)req;
	return cairn_buf_puts(&resp->body, "{\"status\":\"ok\"}\n");
}

static int h_readyz(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	cairn_http *srv = ud;
	(void)req;
	if (!atomic_load(&srv->ready))
		return cairn_http_error(resp, 503, "unavailable", "not ready");
	return cairn_buf_puts(&resp->body, "{\"status\":\"ready\"}\n");
}

static int h_metrics(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	cairn_http *srv = ud;
	(void)req;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return cairn_metrics_render(srv->metrics, &resp->body);
}

/*
 * Log a refused webhook (never its body), at most one line a second: a
 * flood of forged deliveries must not turn into a flood of log lines. The
 * next line says how many were left out.
 */
static void log_refusal(cairn_http *srv, const char *forge, const char *source, const char *why)
{
	cairn_usec now = cairn_time_mono(), last = atomic_load(&srv->last_refusal_log);

	if (now - last < 1000000 ||
	    !atomic_compare_exchange_strong(&srv->last_refusal_log, &last, now)) {
		atomic_fetch_add(&srv->refusals_unlogged, 1);
		return;
	}
	long skipped = atomic_exchange(&srv->refusals_unlogged, 0);
	if (skipped > 0)
		cairn_log_warn("webhook %s from %s refused: %s (%ld more refused since the last "
		               "such line)",
		               forge, source, why, skipped);
	else
		cairn_log_warn("webhook %s from %s refused: %s", forge, source, why);
}

/*
 * Log a 401 at most once per source address per LOG_INTERVAL_USEC, the
 * next line saying how many were left out: someone guessing tokens must not
 * fill the log. The table is small and fixed; a full one reuses the slot
 * logged longest ago, so many addresses cost lines, never memory.
 */
static void log_unauthorized(cairn_http *srv, const cairn_http_request *req, const char *why)
{
	cairn_usec now = cairn_time_mono();
	struct log_slot *slot = NULL;
	long skipped = 0;
	int log = 1;

	pthread_mutex_lock(&srv->log_mu);
	for (size_t i = 0; i < LOG_SOURCES; i++) {
		struct log_slot *x = &srv->log_slots[i];
		if (strcmp(x->source, req->source) == 0) {
			slot = x;
			break;
		}
		if (slot == NULL || x->last < slot->last)
			slot = x;
	}
	if (strcmp(slot->source, req->source) == 0 && slot->last != 0 &&
	    now - slot->last < LOG_INTERVAL_USEC) {
		slot->skipped++;
		log = 0;
	} else {
		if (strcmp(slot->source, req->source) == 0)
			skipped = slot->skipped;
		snprintf(slot->source, sizeof(slot->source), "%s", req->source);
		slot->last = now;
		slot->skipped = 0;
	}
	pthread_mutex_unlock(&srv->log_mu);
	if (!log)
		return;
	if (skipped > 0)
		cairn_log_warn("%s %s from %s refused (401): %s (%ld more 401s from this address "
		               "since the last such line)",
		               req->method, req->path, req->source, why, skipped);
	else
		cairn_log_warn("%s %s from %s refused (401): %s", req->method, req->path,
		               req->source, why);
}

/* Reply with a small JSON status object. */
static int reply_status(cairn_http_response *resp, unsigned status, const char *what,
                        const char *event, size_t refs)
{
	json_t *o = json_pack("{s:s}", "status", what);
	if (o != NULL && event != NULL)
		json_object_set_new(o, "event", json_string(event));
	if (o != NULL && refs > 0)
		json_object_set_new(o, "refs", json_integer((json_int_t)refs));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (s == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	resp->status = status;
	int rc = cairn_buf_printf(&resp->body, "%s\n", s);
	free(s);
	return rc;
}

/*
 * POST /api/webhook/{forge}: verify, parse, drop duplicates, hand over.
 * A refused delivery is logged (never its body) and counted, never audited.
 */
static int h_webhook(void *ud, const cairn_http_request *req, cairn_http_response *resp)
{
	cairn_http *srv = ud;
	cairn_webhook_trigger *t = NULL;
	cairn_forge forge;
	int rc;

	if (cairn_forge_parse(&forge, req->route_arg) < 0) {
		refused(srv, "not_found");
		return cairn_http_error(resp, 404, "notfound", cairn_error_last()->message);
	}
	const char *name = cairn_forge_name(forge), *secret = srv->o.secrets[forge];
	if (secret == NULL || secret[0] == '\0') {
		webhook_count(srv, name, "disabled");
		return cairn_http_error(resp, 404, "notfound",
		                        "webhooks from this provider are not configured");
	}
	rc = cairn_webhook_verify(forge, req->headers, req->n_headers, req->body, req->body_len,
	                          secret, cairn_time_now(), srv->o.tolerance_sec);
	if (rc < 0) {
		log_refusal(srv, name, req->source, cairn_error_last()->message);
		webhook_count(srv, name, "bad_signature");
		refused(srv, "bad_signature");
		return cairn_http_error(resp, 401, "unauthorized", cairn_error_last()->message);
	}
	rc = cairn_webhook_parse(&t, forge, req->headers, req->n_headers, req->body, req->body_len);
	if (rc < 0) {
		webhook_count(srv, name, "bad_payload");
		return cairn_http_error(resp, 400, "invalid", cairn_error_last()->message);
	}
	if (t == NULL) {
		webhook_count(srv, name, "ignored");
		return reply_status(resp, 200, "ignored", NULL, 0);
	}
	if (cairn_webhook_dedup_seen(srv->dedup, forge, t->delivery, cairn_time_now())) {
		webhook_count(srv, name, "duplicate");
		rc = reply_status(resp, 200, "duplicate", t->event, 0);
		goto out;
	}
	webhook_count(srv, name, "accepted");
	if (srv->o.on_trigger != NULL)
		srv->o.on_trigger(srv->o.trigger_ud, t);
	rc = reply_status(resp, 202, "accepted", t->event, t->n_refs);
out:
	cairn_webhook_trigger_free(t);
	return rc;
}

/* ---- routing ---------------------------------------------------------------- */

int cairn_http_route(cairn_http *srv, const char *method, const char *path, int flags,
                     cairn_http_handler fn, void *ud)
{
	if (srv->n_routes >= HTTP_ROUTES_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d HTTP routes", HTTP_ROUTES_MAX);
	if (path == NULL || path[0] != '/' || fn == NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "a route needs a path starting with '/' and a handler");
	srv->routes[srv->n_routes++] = (struct route){method, path, flags, fn, ud};
	return 0;
}

/* The route for a path; *method_ok says whether one also matched the method. */
static const struct route *route_find(const cairn_http *srv, const char *method, const char *path,
                                      int *path_matched)
{
	*path_matched = 0;
	for (size_t i = 0; i < srv->n_routes; i++) {
		const struct route *r = &srv->routes[i];
		size_t n = strlen(r->path);
		int match = (r->flags & CAIRN_HTTP_ROUTE_PREFIX) ? strncmp(path, r->path, n) == 0
		                                                 : strcmp(path, r->path) == 0;
		if (!match)
			continue;
		*path_matched = 1;
		if (r->method == NULL || strcmp(r->method, method) == 0)
			return r;
	}
	return NULL;
}

/* Whether a webhook request from this source is over its rate (and say so). */
static int rate_refused(cairn_http *srv, const char *path, const char *source,
                        cairn_http_response *resp)
{
	if (srv->rl == NULL || cairn_ratelimit_take(srv->rl, source, cairn_time_mono()))
		return 0;
	const char *forge = path + strlen("/api/webhook/");
	cairn_forge f;
	webhook_count(srv, cairn_forge_parse(&f, forge) == 0 ? cairn_forge_name(f) : "unknown",
	              "rate_limited");
	refused(srv, "rate_limited");
	cairn_error_clear();
	snprintf(resp->retry_after, sizeof(resp->retry_after), "1");
	cairn_http_error(resp, 429, "ratelimited", "too many webhook requests from this address");
	return 1;
}

/* Serve a request; `rate_checked` when the socket layer already took a token. */
static void serve(cairn_http *srv, const cairn_http_request *req, cairn_http_response *resp,
                  int rate_checked)
{
	cairn_http_request r = *req;
	int path_matched, rc;
	cairn_usec t0 = cairn_time_mono();
	const struct route *rt = route_find(srv, req->method, req->path, &path_matched);

	if (rt == NULL) {
		refused(srv, path_matched ? "method" : "not_found");
		if (path_matched)
			cairn_http_error(resp, 405, "method", "method not allowed on this path");
		else
			cairn_http_error(resp, 404, "notfound", "no such path");
		goto out;
	}
	if (req->body_len > srv->o.max_body) {
		refused(srv, "body_too_large");
		cairn_http_error(resp, 413, "limit", "request body is over the limit");
		goto out;
	}
	if ((rt->flags & ROUTE_WEBHOOK) && !rate_checked &&
	    rate_refused(srv, req->path, req->source, resp))
		goto out;
	if (!(rt->flags & CAIRN_HTTP_ROUTE_PUBLIC) && !req->local) {
		const cairn_auth_token *tok = NULL;
		if (cairn_auth_count(srv->o.auth) == 0 ||
		    cairn_auth_lookup(&tok, srv->o.auth,
		                      cairn_http_header_get(req->headers, req->n_headers,
		                                            "Authorization")) < 0) {
			refused(srv, "unauthorized");
			log_unauthorized(srv, req,
			                 cairn_auth_count(srv->o.auth)
			                         ? cairn_error_last()->message
			                         : "no API tokens are configured");
			cairn_http_error(resp, 401, "unauthorized",
			                 cairn_auth_count(srv->o.auth)
			                         ? cairn_error_last()->message
			                         : "no API tokens are configured");
			goto out;
		}
		r.token = tok;
	}
	r.route_arg = (rt->flags & CAIRN_HTTP_ROUTE_PREFIX) ? req->path + strlen(rt->path) : "";
	cairn_error_clear();
	rc = rt->fn(rt->ud, &r, resp);
	if (rc < 0) {
		const cairn_error *e = cairn_error_last();
		int code = e->code < 0 ? e->code : rc;
		cairn_http_error(resp, status_of(code), cairn_error_code_name(code),
		                 e->message[0] ? e->message : "internal error");
		/* A token without the role or scope: refused, so never audited. */
		if (resp->status == 403) {
			refused(srv, "forbidden");
			cairn_log_warn("%s %s from %s refused (403): %s", req->method, req->path,
			               req->source, e->message);
		}
	}
out:;
	char code[8];
	snprintf(code, sizeof(code), "%u", resp->status);
	const char *v[] = {code};
	cairn_metric_add(srv->m_requests, v, 1);
	cairn_metric_observe(srv->m_duration, NULL, (double)(cairn_time_mono() - t0) / 1e6);
}

void cairn_http_dispatch(cairn_http *srv, const cairn_http_request *req, cairn_http_response *resp)
{
	serve(srv, req, resp, 0);
}

/* ---- libmicrohttpd glue ---------------------------------------------------- */

/* Per-request state kept across the access handler's calls. */
struct conn {
	cairn_buf body;
	int too_large;
	unsigned early; /* a status already decided at the headers (413, 429) */
};

static enum MHD_Result send_response(struct MHD_Connection *c, cairn_http_response *resp)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        resp->body.len, resp->body.ptr ? resp->body.ptr : "", MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->retry_after[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, resp->retry_after);
	if (resp->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	enum MHD_Result ret = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * libmicrohttpd's content reader for a stream. Runs under stream_mu, the
 * lock cairn_http_streams_wake() takes too, so a wake-up between "nothing
 * to send" and the suspension cannot be lost.
 */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	cairn_http *srv = s->srv;
	ssize_t n;
	(void)pos;

	pthread_mutex_lock(&srv->stream_mu);
	if (srv->closing || s->l->retiring) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		n = s->fn(s->cls, buf, max);
		if (n == 0 && s->keepalive_due && max >= 14) {
			memcpy(buf, ": keep-alive\n\n", 14);
			n = 14;
		}
		s->keepalive_due = 0;
		if (n > 0) {
			s->last_write = cairn_time_mono();
		} else if (n == 0) {
			s->parked = 1;
			MHD_suspend_connection(s->conn);
		} else {
			n = MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	pthread_mutex_unlock(&srv->stream_mu);
	return n;
}

static void stream_done(void *cls)
{
	struct stream *s = cls;
	cairn_http *srv = s->srv;

	pthread_mutex_lock(&srv->stream_mu);
	if (s->pprev != NULL) {
		*s->pprev = s->next;
		if (s->next != NULL)
			s->next->pprev = s->pprev;
		srv->n_streams--;
	}
	pthread_cond_broadcast(&srv->stream_cv);
	pthread_mutex_unlock(&srv->stream_mu);
	s->fr(s->cls);
	free(s);
}

/* Resume a parked stream; stream_mu held. */
static void stream_resume(struct stream *s)
{
	if (s->parked) {
		s->parked = 0;
		MHD_resume_connection(s->conn);
	}
}

void cairn_http_streams_wake(cairn_http *srv)
{
	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->stream_mu);
	for (struct stream *s = srv->streams; s != NULL; s = s->next)
		stream_resume(s);
	pthread_mutex_unlock(&srv->stream_mu);
}

static void listener_stop(struct listener *l)
{
	if (l == NULL)
		return;
	if (l->d != NULL)
		MHD_stop_daemon(l->d);
	if (l->fd >= 0)
		close(l->fd);
	free(l->cert);
	free(l->key);
	free(l);
}

/*
 * Whether a retired daemon still has a parked stream (stopping a daemon
 * with a suspended connection is not allowed); stream_mu held.
 */
static int has_parked(cairn_http *srv, struct listener *l)
{
	for (struct stream *s = srv->streams; s != NULL; s = s->next)
		if (s->l == l && s->parked)
			return 1;
	return 0;
}

/*
 * Stop the retired listeners whose connections have ended, or whose
 * deadline (the idle timeout and a margin) has passed. Called with
 * stream_mu held; released around MHD_stop_daemon(), which waits for the
 * daemon's threads and they may be waiting for stream_mu.
 */
static void retire_done(cairn_http *srv, cairn_usec now)
{
	struct listener **pp = &srv->retired;

	while (*pp != NULL) {
		struct listener *l = *pp;
		const union MHD_DaemonInfo *di =
		        MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		int idle = di != NULL && di->num_connections == 0;

		if (has_parked(srv, l) || (!idle && now < l->deadline)) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		pthread_mutex_unlock(&srv->stream_mu);
		listener_stop(l);
		pthread_mutex_lock(&srv->stream_mu);
		pp = &srv->retired; /* the list may have changed meanwhile */
	}
}

/* Once a second: a stream silent for 15 s gets a keep-alive comment. */
static void *ticker_main(void *arg)
{
	cairn_http *srv = arg;

	pthread_mutex_lock(&srv->stream_mu);
	while (!srv->closing) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&srv->stream_cv, &srv->stream_mu, &ts);
		cairn_usec now = cairn_time_mono();
		for (struct stream *s = srv->streams; s != NULL; s = s->next)
			if (s->l->retiring) {
				stream_resume(s); /* to end it */
			} else if (s->parked && now - s->last_write >= STREAM_KEEPALIVE_USEC) {
				s->keepalive_due = 1;
				stream_resume(s);
			}
		retire_done(srv, now);
	}
	pthread_mutex_unlock(&srv->stream_mu);
	return NULL;
}

/* Queue a streamed response; its ownership moves to libmicrohttpd. */
static enum MHD_Result send_stream(struct listener *l, struct MHD_Connection *c,
                                   cairn_http_response *resp)
{
	struct stream *s = resp->stream;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
	                                                           stream_read, s, stream_done);

	if (r == NULL)
		return MHD_NO;
	cairn_http *srv = l->srv;
	resp->stream = NULL;
	s->srv = srv;
	s->l = l;
	s->conn = c;
	s->last_write = cairn_time_mono();
	pthread_mutex_lock(&srv->stream_mu);
	s->next = srv->streams;
	if (s->next != NULL)
		s->next->pprev = &s->next;
	s->pprev = &srv->streams;
	srv->streams = s;
	srv->n_streams++;
	pthread_mutex_unlock(&srv->stream_mu);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	enum MHD_Result ret = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

struct header_list {
	cairn_http_header h[HTTP_HEADERS_MAX];
	size_t n;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct header_list *l = cls;
	(void)kind;
	if (l->n < HTTP_HEADERS_MAX)
		l->h[l->n++] = (cairn_http_header){key, value ? value : ""};
	return MHD_YES;
}

static void client_address(struct MHD_Connection *c, int local, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci;

	snprintf(out, size, "%s", local ? "local" : "unknown");
	if (local ||
	    (ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) == NULL ||
	    ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, (socklen_t)size);
}

/*
 * The first call sees only the headers: a declared body over the limit or
 * a webhook over its rate is answered there, before any body is read, so
 * refusing stays cheap. Later calls collect the body up to max_body.
 */
static enum MHD_Result first_call(struct listener *l, struct MHD_Connection *c, const char *url,
                                  struct conn *st, const char *source)
{
	cairn_http *srv = l->srv;
	cairn_http_response resp;
	const char *cl =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	enum MHD_Result ret = MHD_YES;

	cairn_http_response_init(&resp);
	if (cl != NULL && strtoull(cl, NULL, 10) > srv->o.max_body) {
		refused(srv, "body_too_large");
		cairn_http_error(&resp, 413, "limit", "request body is over the limit");
		st->early = 413;
	} else if (strncmp(url, "/api/webhook/", 13) == 0 &&
	           rate_refused(srv, url, source, &resp)) {
		st->early = 429;
	}
	if (st->early) {
		char code[8];
		snprintf(code, sizeof(code), "%u", resp.status);
		const char *v[] = {code};
		cairn_metric_add(srv->m_requests, v, 1);
		ret = send_response(c, &resp);
	}
	cairn_http_response_dispose(&resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	cairn_http *srv = l->srv;
	struct conn *st = *con_cls;
	char source[INET6_ADDRSTRLEN + 8];
	(void)version;

	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		cairn_buf_init(&st->body, srv->o.max_body);
		*con_cls = st;
		client_address(c, l->local, source, sizeof(source));
		return first_call(l, c, url, st, source);
	}
	if (st->early) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!st->too_large && cairn_buf_put(&st->body, upload, *upload_size) < 0)
			st->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	cairn_http_response resp;
	struct header_list hl = {.n = 0};
	cairn_http_request req = {0};
	cairn_http_response_init(&resp);
	client_address(c, l->local, source, sizeof(source));
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hl);
	req.method = method;
	req.path = url;
	req.headers = hl.h;
	req.n_headers = hl.n;
	req.body = st->body.ptr ? st->body.ptr : "";
	req.body_len = st->too_large ? srv->o.max_body + 1 : st->body.len;
	req.source = source;
	req.local = l->local;
	serve(srv, &req, &resp, 1);
	enum MHD_Result ret = resp.stream != NULL && resp.status == 200 ? send_stream(l, c, &resp)
	                                                                : send_response(c, &resp);
	cairn_http_response_dispose(&resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn *st = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (st == NULL)
		return;
	cairn_buf_dispose(&st->body);
	free(st);
	*con_cls = NULL;
}

/* ---- life cycle ------------------------------------------------------------ */

static int register_metrics(cairn_http *srv)
{
	static const char *const wl[] = {"provider", "result", NULL},
	                         *const rl[] = {"reason", NULL}, *const cl[] = {"code", NULL},
	                         *const bl[] = {"version", NULL};
	cairn_metrics *m = srv->metrics;
	int rc = cairn_metrics_register(&srv->m_webhooks, m, CAIRN_METRIC_COUNTER,
	                                "cairn_webhook_requests_total",
	                                "Webhook deliveries by provider and result.", wl, NULL, 0);
	if (rc == 0)
		rc = cairn_metrics_register(&srv->m_refused, m, CAIRN_METRIC_COUNTER,
		                            "cairn_http_refused_total",
		                            "HTTP requests refused, by reason.", rl, NULL, 0);
	if (rc == 0)
		rc = cairn_metrics_register(&srv->m_requests, m, CAIRN_METRIC_COUNTER,
		                            "cairn_http_requests_total",
		                            "HTTP requests answered, by status code.", cl, NULL, 0);
	if (rc == 0)
		rc = cairn_metrics_register(&srv->m_duration, m, CAIRN_METRIC_HISTOGRAM,
		                            "cairn_http_request_duration_seconds",
		                            "Time to serve an HTTP request once its body is read.",
		                            NULL, NULL, 0);
	if (rc == 0)
		rc = cairn_metrics_register(&srv->m_build, m, CAIRN_METRIC_GAUGE,
		                            "cairn_build_info", "Always 1; the version in a label.",
		                            bl, NULL, 0);
	if (rc == 0) {
		const char *v[] = {srv->o.version_string};
		rc = cairn_metric_set(srv->m_build, v, 1);
	}
	return rc;
}

/* Fill in defaults for the options left at zero. */
static void opts_defaults(cairn_http_opts *o)
{
	if (o->address == NULL)
		o->address = "127.0.0.1";
	if (o->max_body == 0)
		o->max_body = 1024 * 1024;
	if (o->max_connections == 0)
		o->max_connections = 256;
	if (o->timeout_sec == 0)
		o->timeout_sec = 10;
	if (o->max_header == 0)
		o->max_header = 32 * 1024;
	if (o->threads == 0)
		o->threads = 2;
	if (o->dedup_max == 0)
		o->dedup_max = 4096;
	if (o->dedup_window_sec <= 0)
		o->dedup_window_sec = 3600;
	if (o->version_string == NULL)
		o->version_string = PACKAGE_VERSION;
}

int cairn_http_new(cairn_http **out, const cairn_http_opts *opts)
{
	cairn_http *srv;
	int rc;

	if (opts == NULL || opts->version != CAIRN_HTTP_OPTS_VERSION)
		return cairn_error_set(CAIRN_EINVAL, "HTTP options of an unknown version");
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	srv->o = *opts;
	opts_defaults(&srv->o);
	pthread_mutex_init(&srv->stream_mu, NULL);
	pthread_cond_init(&srv->stream_cv, NULL);
	pthread_mutex_init(&srv->tls_mu, NULL);
	pthread_mutex_init(&srv->log_mu, NULL);
	srv->listen_fd = -1;
	srv->unx = (struct listener){.srv = srv, .local = 1, .fd = -1};
	if ((opts->tls_cert_file != NULL) != (opts->tls_key_file != NULL)) {
		rc = cairn_error_set(CAIRN_EINVAL, "TLS needs both a certificate and a key");
		goto fail;
	}
	if (opts->tls_cert_file != NULL && (!(srv->tls_cert_file = strdup(opts->tls_cert_file)) ||
	                                    !(srv->tls_key_file = strdup(opts->tls_key_file)))) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	srv->metrics = opts->metrics;
	if (srv->metrics == NULL && (rc = cairn_metrics_new(&srv->own_metrics)) < 0)
		goto fail;
	if (srv->metrics == NULL)
		srv->metrics = srv->own_metrics;
	if ((rc = register_metrics(srv)) < 0)
		goto fail;
	if (srv->o.rate > 0 &&
	    (rc = cairn_ratelimit_new(&srv->rl, srv->o.rate, srv->o.burst, 4096)) < 0)
		goto fail;
	if ((rc = cairn_webhook_dedup_new(&srv->dedup, srv->o.dedup_max,
	                                  (cairn_usec)srv->o.dedup_window_sec * 1000000)) < 0)
		goto fail;
	cairn_http_route(srv, "GET", "/healthz", CAIRN_HTTP_ROUTE_PUBLIC, h_healthz, srv);
	cairn_http_route(srv, "GET", "/readyz", CAIRN_HTTP_ROUTE_PUBLIC, h_readyz, srv);
	cairn_http_route(srv, "GET", "/metrics", CAIRN_HTTP_ROUTE_PUBLIC, h_metrics, srv);
	cairn_http_route(srv, "POST", "/api/webhook/",
	                 CAIRN_HTTP_ROUTE_PUBLIC | CAIRN_HTTP_ROUTE_PREFIX | ROUTE_WEBHOOK,
	                 h_webhook, srv);
	*out = srv;
	return 0;
fail:
	cairn_http_free(srv);
	return rc;
}

/* A Unix socket only its owner may connect to: mode 0600 is set between
 * bind() and listen(), before anyone can connect. */
static int unix_listen(int *out, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return cairn_error_set(CAIRN_EINVAL, "socket path '%s' is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return cairn_error_set_errno(errno, "creating a Unix socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return cairn_error_set_errno(e, "listening on '%s'", path);
	}
	*out = fd;
	return 0;
}

/*
 * Start libmicrohttpd on the listener's socket, with TLS when the listener
 * holds a certificate and key. MHD_ALLOW_SUSPEND_RESUME implies an
 * inter-thread channel, which MHD_quiesce_daemon() needs for a reload.
 */
static struct MHD_Daemon *start_mhd(cairn_http *srv, struct listener *l)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
	                 MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem o[12];
	int n = 0;

	if (l->cert != NULL) {
		flags |= MHD_USE_TLS;
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert};
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, l->key};
	}

	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, srv->o.max_connections, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, srv->o.timeout_sec, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                                 (intptr_t)srv->o.max_header, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, srv->o.threads, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, l->fd, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_ARRAY, o,
	                        MHD_OPTION_END);
}

/* The TCP socket every listener generation accepts on (each gets a dup). */
static int tcp_listen(cairn_http *srv)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(*s4);
	int fd, on = 1;

	if (srv->o.port > 65535)
		return cairn_error_set(CAIRN_EINVAL, "port %d is not within 0..65535", srv->o.port);
	if (inet_pton(AF_INET, srv->o.address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)srv->o.port);
	} else if (inet_pton(AF_INET6, srv->o.address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)srv->o.port);
		len = sizeof(*s6);
	} else {
		return cairn_error_set(CAIRN_EINVAL, "listen address '%s' is not an IP address",
		                       srv->o.address);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return cairn_error_set_errno(errno, "creating a TCP socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		return cairn_error_set_errno(e, "cannot listen on '%s' port %d", srv->o.address,
		                             srv->o.port);
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		srv->port = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
	srv->listen_fd = fd;
	return 0;
}

/* Read a PEM file into a NUL-terminated string (at most TLS_PEM_MAX bytes). */
static int read_pem(char **out, const char *path, const char *what)
{
	cairn_buf b = CAIRN_BUF_INIT(TLS_PEM_MAX);
	char *s;

	if (cairn_buf_read_file(&b, path) < 0) {
		cairn_buf_dispose(&b);
		return cairn_error_prefix("TLS %s: ", what);
	}
	if (b.len == 0 || memchr(b.ptr, '\0', b.len) != NULL ||
	    strstr(b.ptr, "-----BEGIN ") == NULL) {
		if (b.ptr)
			explicit_bzero(b.ptr, b.cap);
		cairn_buf_dispose(&b);
		return cairn_error_set(CAIRN_EINVAL, "TLS %s '%s' is not a PEM file", what, path);
	}
	if ((s = cairn_buf_detach(&b, NULL)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = s;
	return 0;
}

/*
 * A new TCP listener on a dup of the listening socket, with the PEM files
 * read now. The pair is first tried on a daemon without a socket, so a bad
 * certificate or a key that does not match is refused before anything is
 * started (libmicrohttpd gives no reason: gnutls refused it).
 */
static int listener_new(struct listener **out, cairn_http *srv)
{
	struct listener *l = calloc(1, sizeof(*l));
	int rc = 0;

	if (l == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*l = (struct listener){.srv = srv, .fd = -1};
	if (srv->tls_cert_file != NULL) {
		if ((rc = read_pem(&l->cert, srv->tls_cert_file, "certificate")) < 0 ||
		    (rc = read_pem(&l->key, srv->tls_key_file, "key")) < 0)
			goto fail;
		struct MHD_Daemon *probe =
		        MHD_start_daemon(MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
		                         on_request, l, MHD_OPTION_HTTPS_MEM_CERT, l->cert,
		                         MHD_OPTION_HTTPS_MEM_KEY, l->key, MHD_OPTION_END);
		if (probe == NULL) {
			rc = cairn_error_set(
			        CAIRN_EINVAL,
			        "TLS certificate '%s' and key '%s' cannot be used "
			        "together (not a certificate and its private key in PEM)",
			        srv->tls_cert_file, srv->tls_key_file);
			goto fail;
		}
		MHD_stop_daemon(probe);
	}
	if ((l->fd = fcntl(srv->listen_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		rc = cairn_error_set_errno(errno, "duplicating the listening socket");
		goto fail;
	}
	/* On failure libmicrohttpd may or may not have closed the dup: leak it
	 * rather than risk closing a descriptor another thread just opened. */
	if ((l->d = start_mhd(srv, l)) == NULL) {
		l->fd = -1;
		rc = cairn_error_set(CAIRN_EIO, "cannot serve on '%s' port %d", srv->o.address,
		                     srv->port);
		goto fail;
	}
	l->fd = -1; /* libmicrohttpd closes it when stopped */
	*out = l;
	return 0;
fail:
	listener_stop(l);
	return rc;
}

int cairn_http_start(cairn_http *srv)
{
	int rc;

	if (!srv->ticker_started && pthread_create(&srv->ticker, NULL, ticker_main, srv) == 0)
		srv->ticker_started = 1;
	if (srv->o.port >= 0) {
		if ((rc = tcp_listen(srv)) < 0 || (rc = listener_new(&srv->tcp, srv)) < 0)
			return rc;
	}
	if (srv->o.unix_path != NULL) {
		if ((rc = unix_listen(&srv->unx.fd, srv->o.unix_path)) < 0)
			return rc;
		srv->unx_bound = 1;
		if ((srv->unx.d = start_mhd(srv, &srv->unx)) == NULL)
			return cairn_error_set(CAIRN_EIO, "cannot serve the Unix socket '%s'",
			                       srv->o.unix_path);
		srv->unx.fd = -1; /* libmicrohttpd closes it when stopped */
	}
	return 0;
}

int cairn_http_tls_reload(cairn_http *srv)
{
	struct listener *l = NULL, *old;
	int rc;

	if (srv == NULL || srv->tls_cert_file == NULL || srv->tcp == NULL)
		return 0;
	pthread_mutex_lock(&srv->tls_mu);
	if ((rc = listener_new(&l, srv)) < 0) {
		pthread_mutex_unlock(&srv->tls_mu);
		return cairn_error_prefix("TLS reload refused, keeping the certificate in use: ");
	}
	/* Both accept for a moment; then the old one stops accepting and its
	 * requests finish on their connections. Only reloads (serialised by
	 * tls_mu) and cairn_http_free() touch srv->tcp. */
	old = srv->tcp;
	srv->tcp = l;
	old->fd = MHD_quiesce_daemon(old->d);
	pthread_mutex_lock(&srv->stream_mu);
	old->retiring = 1;
	old->deadline = cairn_time_mono() + (cairn_usec)(srv->o.timeout_sec + 2) * 1000000;
	old->next = srv->retired;
	srv->retired = old;
	pthread_cond_broadcast(&srv->stream_cv);
	pthread_mutex_unlock(&srv->stream_mu);
	pthread_mutex_unlock(&srv->tls_mu);
	return 0;
}

int cairn_http_port(const cairn_http *srv)
{
	return srv ? srv->port : 0;
}

void cairn_http_set_ready(cairn_http *srv, int ready)
{
	atomic_store(&srv->ready, ready ? 1 : 0);
}

cairn_metrics *cairn_http_metrics(cairn_http *srv)
{
	return srv->metrics;
}

/*
 * Before libmicrohttpd stops, every stream is resumed and ends (stopping
 * with a suspended connection is not allowed): wait a bounded time for them
 * to finish, and for the ticker.
 */
static void streams_close(cairn_http *srv)
{
	cairn_usec until = cairn_time_mono() + STREAM_DRAIN_USEC;

	pthread_mutex_lock(&srv->stream_mu);
	srv->closing = 1;
	pthread_cond_broadcast(&srv->stream_cv);
	while (srv->n_streams > 0 && cairn_time_mono() < until) {
		for (struct stream *s = srv->streams; s != NULL; s = s->next)
			stream_resume(s);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->stream_cv, &srv->stream_mu, &ts);
	}
	pthread_mutex_unlock(&srv->stream_mu);
	if (srv->ticker_started)
		pthread_join(srv->ticker, NULL);
	srv->ticker_started = 0;
}

void cairn_http_free(cairn_http *srv)
{
	if (srv == NULL)
		return;
	streams_close(srv);
	listener_stop(srv->tcp);
	while (srv->retired != NULL) {
		struct listener *l = srv->retired;
		srv->retired = l->next;
		listener_stop(l);
	}
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	free(srv->tls_cert_file);
	free(srv->tls_key_file);
	if (srv->unx.d != NULL)
		MHD_stop_daemon(srv->unx.d);
	if (srv->unx.fd >= 0)
		close(srv->unx.fd);
	if (srv->unx_bound)
		unlink(srv->o.unix_path);
	cairn_ratelimit_free(srv->rl);
	cairn_webhook_dedup_free(srv->dedup);
	cairn_metrics_free(srv->own_metrics);
	pthread_mutex_destroy(&srv->stream_mu);
	pthread_cond_destroy(&srv->stream_cv);
	pthread_mutex_destroy(&srv->tls_mu);
	pthread_mutex_destroy(&srv->log_mu);
	free(srv);
}
