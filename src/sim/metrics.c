/*
 * metrics.c - the traffic model in the Prometheus text exposition format
 * (version 0.0.4), served on the HTTPS API at /metrics and, with
 * --metrics-listen, on a plain-HTTP loopback port that serves nothing else.
 *
 * A metric family's lines must be contiguous, so one pass over the series
 * fills the counter family and the histogram family into two buffers that
 * are joined at the end.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cairn/error.h"

#include "api_internal.h"
#include "traffic.h"

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define REQ "sim_http_requests_total"
#define DUR "sim_http_request_duration_seconds"

struct render {
	cairn_buf req, dur;
	int err; /* the first failure of a buffer write (its maximum reached) */
};

static void emit(struct render *r, cairn_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void emit(struct render *r, cairn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc < 0 && !r->err)
		r->err = rc;
}

/* A metric name and its labels up to the closing brace (exclusive): label
 * values with backslash, double quote and newline escaped, as the
 * exposition format requires. */
static void put_series(struct render *r, cairn_buf *b, const char *name,
                       const sim_traffic_series *s)
{
	static const char *const names[] = {"namespace",  "service", "workload",
	                                    "replicaset", "pod",     "pod_template_hash"};
	const char *values[] = {s->ns, s->service, s->workload, s->replicaset, s->pod, s->hash};

	emit(r, b, "%s{", name);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		emit(r, b, "%s%s=\"", i ? "," : "", names[i]);
		for (const char *v = values[i]; *v;) {
			size_t n = strcspn(v, "\\\"\n");
			if (n) {
				emit(r, b, "%.*s", (int)n, v);
				v += n;
				continue;
			}
			emit(r, b, "%s", *v == '\n' ? "\\n" : *v == '"' ? "\\\"" : "\\\\");
			v++;
		}
		emit(r, b, "\"");
	}
}

/* Counter values print with three decimals: the model integrates
 * fractional requests, and keeping the fraction keeps ratios exact. */
static int render_one(void *ud, const sim_traffic_series *s)
{
	struct render *r = ud;
	const double *bounds = sim_traffic_bounds();
	double prev = 0;

	put_series(r, &r->req, REQ, s);
	emit(r, &r->req, ",code=\"200\"} %.3f\n", s->ok);
	put_series(r, &r->req, REQ, s);
	emit(r, &r->req, ",code=\"%d\"} %.3f\n", s->code, s->errors);
	for (size_t i = 0; i < SIM_TRAFFIC_NBUCKETS; i++) {
		/* cumulative and never above the count, whatever the rounding */
		double v = s->buckets[i] > s->count ? s->count : s->buckets[i];
		if (v < prev)
			v = prev;
		prev = v;
		put_series(r, &r->dur, DUR "_bucket", s);
		emit(r, &r->dur, ",le=\"%g\"} %.3f\n", bounds[i], v);
	}
	put_series(r, &r->dur, DUR "_bucket", s);
	emit(r, &r->dur, ",le=\"+Inf\"} %.3f\n", s->count);
	put_series(r, &r->dur, DUR "_sum", s);
	emit(r, &r->dur, "} %.6f\n", s->sum);
	put_series(r, &r->dur, DUR "_count", s);
	emit(r, &r->dur, "} %.3f\n", s->count);
	if (r->err)
		return cairn_error_set(CAIRN_ELIMIT, "the metrics page is larger than %zu bytes",
		                       r->req.max);
	return 0;
}

int sim_metrics_render(sim_traffic *t, cairn_usec now, cairn_buf *out)
{
	struct render r = {.err = 0};
	int rc;

	cairn_buf_init(&r.req, out->max);
	cairn_buf_init(&r.dur, out->max);
	emit(&r, &r.req,
	     "# HELP " REQ " Requests answered by a simulated Pod behind a Service.\n"
	     "# TYPE " REQ " counter\n");
	emit(&r, &r.dur,
	     "# HELP " DUR " Latency of the requests answered by a simulated Pod behind a "
	     "Service.\n# TYPE " DUR " histogram\n");
	if ((rc = sim_traffic_collect(t, now, render_one, &r)) < 0)
		goto out;
	if (cairn_buf_put(out, r.req.ptr, r.req.len) < 0 ||
	    cairn_buf_put(out, r.dur.ptr, r.dur.len) < 0)
		rc = cairn_error_set(CAIRN_ELIMIT, "the metrics page is larger than %zu bytes",
		                     out->max);
out:
	cairn_buf_dispose(&r.req);
	cairn_buf_dispose(&r.dur);
	return rc;
}

int sim_traffic_route(sim_traffic *t, const char *method, const char *path, const char *body,
                      size_t len, sim_http_reply *reply)
{
	if (!strcmp(path, "/admin/traffic")) {
		sim_traffic_admin(t, method, body, len, reply);
		return 1;
	}
	if (strcmp(path, "/metrics"))
		return 0;
	if (strcmp(method, "GET")) {
		sim__reply_status(reply, 405, "MethodNotAllowed", "use GET on /metrics");
		return 1;
	}
	if (sim_metrics_render(t, cairn_time_mono(), &reply->body) < 0) {
		cairn_buf_reset(&reply->body);
		sim__reply_status(reply, 500, "InternalError", cairn_error_last()->message);
		return 1;
	}
	reply->status = 200;
	reply->content_type = CT_METRICS;
	return 1;
}

/* The plain-HTTP listener: GET /metrics and nothing else, no credentials
 * (it only ever binds the loopback address). */
static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	static int seen;
	sim_http_reply reply = {0};
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	if (!*con_cls) {
		*con_cls = &seen; /* answer on the second call, once headers are in */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* a body is ignored */
		return MHD_YES;
	}
	cairn_buf_init(&reply.body, CAIRN_BUF_DEFAULT_MAX);
	if (strcmp(url, "/metrics")) {
		reply.status = 404;
		reply.content_type = "text/plain";
		cairn_buf_puts(&reply.body, "not found: this port serves only /metrics\n");
	} else if (!sim_traffic_route(cls, method, url, NULL, 0, &reply)) {
		reply.status = 500;
	}
	resp = MHD_create_response_from_buffer(reply.body.len, reply.body.ptr ? reply.body.ptr : "",
	                                       MHD_RESPMEM_MUST_COPY);
	if (!resp) {
		cairn_buf_dispose(&reply.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
	                        reply.content_type ? reply.content_type : "text/plain");
	ret = MHD_queue_response(conn, (unsigned int)reply.status, resp);
	MHD_destroy_response(resp);
	cairn_buf_dispose(&reply.body);
	return ret;
}

void *sim_metrics_listen(sim_traffic *t, int port, int *bound)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                             MHD_USE_ERROR_LOG,
	                     0, NULL, NULL, on_metrics, t, MHD_OPTION_SOCK_ADDR, &sa,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_END);
	if (!d) {
		cairn_error_set(CAIRN_EIO, "cannot listen for metrics on 127.0.0.1:%d", port);
		return NULL;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*bound = di ? di->port : port;
	return d;
}

void sim_metrics_stop(void *daemon)
{
	if (daemon)
		MHD_stop_daemon(daemon);
}
