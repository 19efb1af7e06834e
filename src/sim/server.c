/*
 * src/sim/server.c - libmicrohttpd HTTPS front end: authentication,
 * request bodies, fault injection, plain replies and chunked watch streams.
 *
 * MHD runs one thread per connection, so a watch stream may block in its
 * content reader while it waits for the next event.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/util.h"

#include "server_internal.h"
#include "sim.h"
#include "traffic.h"

#define SIM_MAX_BODY ((size_t)8 << 20)

struct req_ctx {
	cairn_buf body;
	int too_big;
};

const char *sim_query(const sim_request *rq, const char *key)
{
	if (!rq->conn)
		return NULL;
	return MHD_lookup_connection_value((struct MHD_Connection *)rq->conn, MHD_GET_ARGUMENT_KIND,
	                                   key);
}

/* The CN of a verified client certificate, or NULL. */
static char *client_cert_user(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s;
	const gnutls_datum_t *certs;
	unsigned int n = 0, status = 0;
	gnutls_x509_crt_t crt;
	char cn[256];
	size_t cnlen = sizeof cn;
	char *user = NULL;

	if (!ci || !ci->tls_session)
		return NULL;
	s = (gnutls_session_t)ci->tls_session;
	certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || n == 0)
		return NULL;
	if (gnutls_certificate_verify_peers2(s, &status) != 0 || status != 0)
		return NULL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen) == 0)
		user = strdup(cn);
	gnutls_x509_crt_deinit(crt);
	return user;
}

/* Who is asking: the bearer token's user or the client certificate's CN;
 * NULL when neither checks out. */
static char *authenticate(sim_server *srv, struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	char *user = client_cert_user(conn);

	if (user)
		return user;
	if (auth && !strncasecmp(auth, "Bearer ", 7) && srv->token && !strcmp(auth + 7, srv->token))
		return strdup("admin");
	return NULL;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, sim_http_reply *reply,
                                  int retry_after)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[16];

	resp = MHD_create_response_from_buffer(
	        reply->body.len, reply->body.ptr ? reply->body.ptr : "", MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
	                        reply->content_type ? reply->content_type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	for (const char *w = reply->warning; *w;) {
		char line[600];
		size_t n = strcspn(w, "\n");
		cairn_buf v = CAIRN_BUF_INIT(4096);
		/* 299 - "text", the text's quotes escaped. */
		snprintf(line, sizeof line, "%.*s", (int)(n < 500 ? n : 500), w);
		cairn_buf_puts(&v, "299 - \"");
		for (const char *c = line; *c; c++) {
			if (*c == '"' || *c == '\\')
				cairn_buf_putc(&v, '\\');
			cairn_buf_putc(&v, *c);
		}
		cairn_buf_putc(&v, '"');
		if (v.ptr)
			MHD_add_response_header(resp, "Warning", v.ptr);
		cairn_buf_dispose(&v);
		w += n;
		if (*w)
			w++;
	}
	if (retry_after > 0) {
		snprintf(ra, sizeof ra, "%d", retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	ret = MHD_queue_response(conn, (unsigned int)(reply->status ? reply->status : 200), resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Verb in the API server's terms, for fault injection. */
static const char *verb_of(const char *method, int watch, int named)
{
	if (watch)
		return "watch";
	if (!strcmp(method, "GET"))
		return named ? "get" : "list";
	if (!strcmp(method, "POST"))
		return "create";
	if (!strcmp(method, "PUT"))
		return "update";
	if (!strcmp(method, "PATCH"))
		return "patch";
	if (!strcmp(method, "DELETE"))
		return named ? "delete" : "deletecollection";
	return "get";
}

/* Watch stream state for the content reader. */
struct watch_stream {
	sim_server *srv;
	sim_watch *w;
	cairn_buf pending; /* bytes not yet handed to MHD */
	size_t off;
	cairn_usec deadline; /* monotonic; 0 = none */
	cairn_usec drop_at;  /* fault: close after this */
	cairn_usec last_bookmark;
	int bookmarks;
	int table; /* 0 no, 1 Table rows with metadata, 2 with whole objects */
	int done;
};

static ssize_t watch_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watch_stream *ws = cls;
	int rc;

	(void)pos;
	while (ws->off >= ws->pending.len) {
		cairn_usec now = cairn_time_mono();
		cairn_buf_reset(&ws->pending);
		ws->off = 0;
		if (ws->done || ws->srv->stopping || (ws->deadline && now >= ws->deadline) ||
		    (ws->drop_at && now >= ws->drop_at))
			return MHD_CONTENT_READER_END_OF_STREAM;
		rc = sim_watch_next(ws->w, &ws->pending, 500);
		if (rc == 1) {
			if (ws->table)
				sim_event_to_table(&ws->pending, ws->table == 2, 0);
			cairn_buf_putc(&ws->pending, '\n');
		} else if (rc == 0) {
			if (ws->bookmarks && now - ws->last_bookmark > 5 * 1000000) {
				ws->last_bookmark = now;
				sim_watch_bookmark(ws->w, &ws->pending);
			}
		} else if (rc == CAIRN_ELIMIT) {
			sim_watch_error_event(&ws->pending, 410, "Expired",
			                      cairn_error_last()->message);
			ws->done = 1;
		} else {
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
	}
	size_t n = ws->pending.len - ws->off;
	if (n > max)
		n = max;
	memcpy(buf, ws->pending.ptr + ws->off, n);
	ws->off += n;
	return (ssize_t)n;
}

static void watch_free(void *cls)
{
	struct watch_stream *ws = cls;

	sim_watch_close(ws->w);
	cairn_buf_dispose(&ws->pending);
	free(ws);
}

/* Start a chunked watch response: the initial events (if any) are in
 * `initial`, later ones come from w. Takes ownership of w. */
enum MHD_Result sim_server_stream(sim_server *srv, struct MHD_Connection *conn, sim_watch *w,
                                  cairn_buf *initial, int timeout_s, int bookmarks,
                                  int drop_after_ms, int table)
{
	struct watch_stream *ws = calloc(1, sizeof *ws);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!ws) {
		sim_watch_close(w);
		return MHD_NO;
	}
	ws->srv = srv;
	ws->w = w;
	ws->pending = *initial;
	memset(initial, 0, sizeof *initial);
	ws->pending.max = CAIRN_BUF_DEFAULT_MAX;
	ws->bookmarks = bookmarks;
	ws->table = table;
	ws->last_bookmark = cairn_time_mono();
	if (timeout_s > 0)
		ws->deadline = cairn_time_mono() + (cairn_usec)timeout_s * 1000000;
	if (drop_after_ms > 0)
		ws->drop_at = cairn_time_mono() + (cairn_usec)drop_after_ms * 1000;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, watch_reader, ws,
	                                         watch_free);
	if (!resp) {
		watch_free(ws);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	sim_server *srv = cls;
	struct req_ctx *ctx = *con_cls;
	sim_request rq = {0};
	sim_http_reply reply = {0};
	sim_fault_action fa = {0};
	const char *watchq;
	char *user = NULL;
	enum MHD_Result ret;
	int watch;

	(void)version;
	if (!ctx) {
		ctx = calloc(1, sizeof *ctx);
		if (!ctx)
			return MHD_NO;
		cairn_buf_init(&ctx->body, SIM_MAX_BODY);
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size) {
		if (cairn_buf_put(&ctx->body, upload, *upload_size))
			ctx->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	cairn_buf_init(&reply.body, CAIRN_BUF_DEFAULT_MAX);
	rq.method = method;
	rq.path = url;
	rq.conn = conn;
	rq.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	rq.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	rq.body = ctx->body.ptr ? ctx->body.ptr : "";
	rq.body_len = ctx->body.len;
	watchq = sim_query(&rq, "watch");
	watch = watchq && (!strcmp(watchq, "1") || !strcmp(watchq, "true"));

	user = authenticate(srv, conn);
	if (!user && strcmp(url, "/healthz") && strcmp(url, "/readyz") && strcmp(url, "/livez")) {
		sim_reply_status(&reply, 401, "Unauthorized", "Unauthorized", NULL, NULL, NULL);
		ret = send_reply(conn, &reply, 0);
		goto out;
	}
	rq.user = user;
	if (ctx->too_big) {
		sim_reply_status(&reply, 413, "RequestEntityTooLarge", "request entity too large",
		                 NULL, NULL, NULL);
		ret = send_reply(conn, &reply, 0);
		goto out;
	}
	if (srv->traffic &&
	    sim_traffic_route(srv->traffic, method, url, rq.body, rq.body_len, &reply)) {
		ret = send_reply(conn, &reply, 0);
		goto out;
	}
	if (srv->faults && strncmp(url, "/admin/", 7)) {
		const sim_resource *res = sim_resource_of_path(srv, url);
		int named = sim_path_is_named(url);
		sim_faults_decide(srv->faults, verb_of(method, watch, named), res, &fa);
		if (fa.latency_ms > 0)
			usleep((useconds_t)fa.latency_ms * 1000);
		if (fa.status) {
			sim_reply_fault(&reply, fa.status);
			ret = send_reply(conn, &reply, fa.retry_after);
			goto out;
		}
	}
	if (watch && !strcmp(method, "GET")) {
		ret = sim_handle_watch(srv, &rq, fa.drop_watch_after_ms);
		goto out;
	}
	sim_handle(srv, &rq, &reply);
	ret = send_reply(conn, &reply, 0);
out:
	free(user);
	cairn_buf_dispose(&reply.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *ctx = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (ctx) {
		cairn_buf_dispose(&ctx->body);
		free(ctx);
	}
	*con_cls = NULL;
}

/*
 * sim_server_start - start MHD on 127.0.0.1:port (0 = any) with TLS from t;
 * the bound port in *bound. Returns the daemon or NULL (message set).
 */
struct MHD_Daemon *sim_server_start(sim_server *srv, const sim_tls *t, int port, int *bound)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                             MHD_USE_TLS | MHD_USE_ERROR_LOG,
	                     0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &sa,
	                     MHD_OPTION_HTTPS_MEM_KEY, t->server_key_pem, MHD_OPTION_HTTPS_MEM_CERT,
	                     t->server_cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, t->ca_pem,
	                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000, MHD_OPTION_END);
	if (!d) {
		cairn_error_set(CAIRN_EIO, "cannot listen on 127.0.0.1:%d", port);
		return NULL;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*bound = di ? di->port : port;
	return d;
}
