/*
 * http.c - the HTTP layer of the kube client, on one libcurl easy handle
 * per cluster (its connection cache keeps the connection alive between
 * calls).
 *
 * Redirects are never followed: the API server does not redirect API
 * calls, and not following is the one way to be sure that neither the
 * token nor the client certificate reaches another host.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/util.h"
#include "kube_internal.h"

/* The largest answer we read: a page of a big list stays far below. */
#define HTTP_MAX_BODY ((size_t)256 << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int dupstr(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

static int dupbuf(cairn_buf *dst, const cairn_buf *src)
{
	cairn_buf_init(dst, src->len + 1);
	return src->len > 0 ? cairn_buf_put(dst, src->ptr, src->len) : 0;
}

void cairn_kube_client_free(cairn_kube_client *c)
{
	if (c == NULL)
		return;
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	free(c->server);
	free(c->ns);
	kube_str_wipe(c->token);
	free(c->username);
	kube_str_wipe(c->password);
	kube_buf_wipe(&c->ca);
	kube_buf_wipe(&c->cert);
	kube_buf_wipe(&c->key);
	json_decref(c->disc);
	curl_slist_free_all(c->connect_to);
	free(c->exec_json);
	free(c->exec_user);
	free(c);
}

static void opts_default(cairn_kube_client_opts *o)
{
	if (o->connect_timeout_ms <= 0)
		o->connect_timeout_ms = 5000;
	if (o->timeout_ms <= 0)
		o->timeout_ms = 30000;
	if (o->deadline_ms <= 0)
		o->deadline_ms = 60000;
	if (o->max_retries < 0)
		o->max_retries = 0;
	if (o->backoff_base_ms <= 0)
		o->backoff_base_ms = 100;
	if (o->backoff_max_ms <= 0)
		o->backoff_max_ms = 5000;
	if (o->retry_after_cap_ms <= 0)
		o->retry_after_cap_ms = 10000;
	if (o->discovery_ttl_ms <= 0)
		o->discovery_ttl_ms = 300000;
}

/*
 * tls-server-name: libcurl checks the certificate against, and sends as
 * SNI, the host of the URL. So the URL is rewritten to name the TLS name
 * and CURLOPT_CONNECT_TO sends the connection to the real address.
 */
static int http_tls_name(cairn_kube_client *c, const char *name)
{
	const char *host = c->server + 8, *end, *port = "443";
	char map[1024], url[1024];
	size_t hl;

	if (strncmp(c->server, "https://", 8) != 0)
		return 0;
	if (strpbrk(name, ":/[]@ ") != NULL)
		return cairn_error_set(CAIRN_EINVAL, "bad tls-server-name '%s'", name);
	end = host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
	if (end != NULL && *end == ']')
		end++;
	if (end == NULL)
		end = host + strlen(host);
	if (*end == ':')
		port = end + 1;
	hl = (size_t)(end - host);
	if ((size_t)snprintf(map, sizeof(map), "%s:%s:%.*s:%s", name, port, (int)hl, host, port) >=
	            sizeof(map) ||
	    (size_t)snprintf(url, sizeof(url), "https://%s:%s", name, port) >= sizeof(url))
		return cairn_error_set(CAIRN_ELIMIT, "server URL too long");
	c->connect_to = curl_slist_append(NULL, map);
	free(c->server);
	c->server = strdup(url);
	if (c->connect_to == NULL || c->server == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

int cairn_kube_client_new(cairn_kube_client **out, const cairn_kube_config *cfg,
                          const cairn_kube_client_opts *opts)
{
	cairn_kube_client *c;
	int rc;

	if (cfg->server == NULL ||
	    (strncmp(cfg->server, "https://", 8) != 0 && strncmp(cfg->server, "http://", 7) != 0))
		return cairn_error_set(CAIRN_EINVAL, "server '%s' is not an http or https URL",
		                       cfg->server != NULL ? cfg->server : "");
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return cairn_error_set(CAIRN_ERROR, "libcurl failed to initialise");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (opts != NULL)
		c->opts = *opts;
	else
		c->opts.max_retries = 4;
	opts_default(&c->opts);
	c->rng = (uint64_t)cairn_time_mono() ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ull;
	rc = dupstr(&c->server, cfg->server);
	if (rc == 0)
		rc = dupstr(&c->ns, cfg->namespace_ != NULL ? cfg->namespace_ : "default");
	if (rc == 0)
		rc = dupstr(&c->token, cfg->token);
	if (rc == 0)
		rc = dupstr(&c->username, cfg->username);
	if (rc == 0)
		rc = dupstr(&c->password,
		            cfg->password != NULL || cfg->username == NULL ? cfg->password : "");
	if (rc == 0)
		rc = dupbuf(&c->ca, &cfg->ca_pem);
	if (rc == 0)
		rc = dupbuf(&c->cert, &cfg->cert_pem);
	if (rc == 0)
		rc = dupbuf(&c->key, &cfg->key_pem);
	c->insecure = cfg->insecure;
	c->token_expiry_us = cfg->token_expiry_us;
	if (rc == 0)
		rc = dupstr(&c->exec_json, cfg->exec_json);
	if (rc == 0)
		rc = dupstr(&c->exec_user, cfg->exec_user != NULL ? cfg->exec_user : "");
	if (rc == 0 && cfg->tls_server_name != NULL && cfg->tls_server_name[0] != '\0')
		rc = http_tls_name(c, cfg->tls_server_name);
	if (rc == 0) {
		c->h = curl_easy_init();
		if (c->h == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "libcurl could not make a handle");
	}
	if (rc != 0) {
		cairn_kube_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

const char *cairn_kube_client_namespace(const cairn_kube_client *c)
{
	return c->ns;
}

const cairn_kube_status *cairn_kube_last_status(const cairn_kube_client *c)
{
	return &c->status;
}

uint64_t cairn_kube_request_count(const cairn_kube_client *c)
{
	return c->requests;
}

typedef struct http_sink {
	cairn_buf *body;
	int64_t retry_after_s; /* -1: none */
	int overflow;
} http_sink;

static size_t http_write(char *p, size_t size, size_t n, void *ud)
{
	http_sink *s = ud;

	if (cairn_buf_put(s->body, p, size * n) != 0) {
		s->overflow = 1;
		return 0;
	}
	return size * n;
}

/* Retry-After as delay-seconds or as an HTTP-date (RFC 9110 10.2.3); a date
 * in the past means now. The cap is applied by the caller. */
static size_t http_header(char *p, size_t size, size_t n, void *ud)
{
	http_sink *s = ud;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		char tmp[64];
		size_t k = len - (sizeof(name) - 1);
		char *end;
		long long v;

		if (k >= sizeof(tmp))
			k = sizeof(tmp) - 1;
		memcpy(tmp, p + sizeof(name) - 1, k);
		tmp[k] = '\0';
		v = strtoll(tmp, &end, 10);
		while (*end == ' ' || *end == '\r' || *end == '\n')
			end++;
		if (end != tmp && *end == '\0' && v >= 0) {
			s->retry_after_s = v;
		} else {
			time_t t;

			while (k > 0 && (tmp[k - 1] == '\r' || tmp[k - 1] == '\n'))
				tmp[--k] = '\0';
			t = curl_getdate(tmp, NULL);
			if (t > 0)
				s->retry_after_s = t > time(NULL) ? (int64_t)(t - time(NULL)) : 0;
		}
	}
	return len;
}

/*
 * The field causes of an Invalid Status ("; spec.x: must be ...") that its
 * message does not already name, so a person sees every finding.
 */
static const char *http_causes(const json_t *st, char *out, size_t size)
{
	const char *msg = json_string_value(json_object_get(st, "message"));
	const json_t *c;
	size_t i, used = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(json_object_get(st, "details"), "causes"), i, c)
	{
		const char *f = json_string_value(json_object_get(c, "field"));
		const char *m = json_string_value(json_object_get(c, "message"));
		int n;

		if (f == NULL || m == NULL || (msg != NULL && strstr(msg, m) != NULL) ||
		    used >= size)
			continue;
		n = snprintf(out + used, size - used, "; %s: %s", f, m);
		used += n > 0 ? (size_t)n : 0;
	}
	return out;
}

/*
 * Keep the Status of a failed answer and set the error from it: the API's
 * message when there is one (it names the object), else the HTTP code.
 */
int kube_http_fail(cairn_kube_client *c, long code, const cairn_buf *body, const char *method,
                   const char *path)
{
	json_t *st = NULL;
	const char *reason = NULL, *msg = NULL;
	char causes[512];
	int err;

	c->status.code = code;
	c->status.reason[0] = c->status.message[0] = '\0';
	if (body->len > 0 && cairn_json_parse(&st, body->ptr, body->len, "status") == 0) {
		reason = json_string_value(json_object_get(st, "reason"));
		msg = json_string_value(json_object_get(st, "message"));
	}
	cairn_error_clear();
	snprintf(c->status.reason, sizeof(c->status.reason), "%s", reason != NULL ? reason : "");
	snprintf(c->status.message, sizeof(c->status.message), "%s", msg != NULL ? msg : "");
	switch (code) {
	case 404:
		err = CAIRN_ENOTFOUND;
		break;
	case 409:
		err = CAIRN_EEXISTS;
		break;
	case 400:
	case 422:
		err = CAIRN_EINVAL;
		break;
	case 401:
	case 403:
		err = CAIRN_EPERM;
		break;
	default:
		err = CAIRN_EIO;
	}
	if (code >= 300 && code < 400)
		cairn_error_set(err, "%s %s answered a redirect (%ld), which is not followed",
		                method, path, code);
	else
		cairn_error_set(err, "%s %s: %ld %s: %s%s", method, path, code,
		                reason != NULL ? reason : "", msg != NULL ? msg : "(no Status)",
		                http_causes(st, causes, sizeof(causes)));
	json_decref(st);
	return err;
}

static uint64_t http_rand(cairn_kube_client *c)
{
	/* splitmix64: jitter only, not secrets */
	uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The wait before retry `attempt` (0-based): Retry-After capped, else
 * exponential backoff with jitter in [d/2, d]. */
static int64_t http_wait_ms(cairn_kube_client *c, int attempt, int64_t retry_after_s)
{
	int64_t d;

	if (retry_after_s >= 0) {
		d = retry_after_s > c->opts.retry_after_cap_ms / 1000 ? c->opts.retry_after_cap_ms
		                                                      : retry_after_s * 1000;
		return d;
	}
	d = c->opts.backoff_base_ms;
	for (int i = 0; i < attempt && d < c->opts.backoff_max_ms; i++)
		d *= 2;
	if (d > c->opts.backoff_max_ms)
		d = c->opts.backoff_max_ms;
	return d / 2 + (int64_t)(http_rand(c) % (uint64_t)(d / 2 + 1));
}

static void http_sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Set up handle `h` for one attempt (kube_http_setup() without the sink). */
static void http_setup(cairn_kube_client *c, const char *url, const char *method,
                       struct curl_slist *hdrs, const void *body, size_t len, http_sink *sink,
                       int64_t timeout_ms)
{
	CURL *h = c->h;

	kube_http_setup(c, h, url, hdrs, timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, sink);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
}

void kube_http_setup(cairn_kube_client *c, void *handle, const char *url, struct curl_slist *hdrs,
                     int64_t timeout_ms)
{
	CURL *h = handle;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cairn");
	if (c->connect_to != NULL)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to);
	if (c->ca.len > 0) {
		struct curl_blob b = {c->ca.ptr, c->ca.len, CURL_BLOB_NOCOPY};

		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->cert.len > 0) {
		struct curl_blob cb = {c->cert.ptr, c->cert.len, CURL_BLOB_NOCOPY};
		struct curl_blob kb = {c->key.ptr, c->key.len, CURL_BLOB_NOCOPY};

		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->token != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, c->token);
	} else if (c->username != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
}

/* Whether a failed transfer may be sent again: `idem` calls always; others
 * only when the request cannot have reached the server. */
static int http_conn_retryable(CURLcode cc, int idem)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
		return idem;
	default:
		return 0;
	}
}

int cairn_kube_request(cairn_kube_client *c, const char *method, const char *path,
                       const char *content_type, const void *body, size_t body_len, cairn_buf *out)
{
	cairn_buf resp = CAIRN_BUF_INIT(HTTP_MAX_BODY);
	struct curl_slist *hdrs = NULL;
	cairn_buf url = CAIRN_BUF_INIT(65536);
	char ct[160];
	int idem = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	           strcmp(method, "DELETE") == 0 ||
	           (strcmp(method, "PATCH") == 0 && content_type != NULL &&
	            strcmp(content_type, "application/apply-patch+yaml") == 0);
	int64_t deadline = cairn_time_mono() + c->opts.deadline_ms * 1000;
	int rc, refreshed = 0;

	c->status.code = 0;
	c->status.reason[0] = c->status.message[0] = '\0';
	rc = cairn_buf_printf(&url, "%s%s", c->server, path);
	if (rc != 0) {
		rc = cairn_error_set(rc, "request path too long");
		goto out;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (content_type != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, ct);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (hdrs == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		http_sink sink = {&resp, -1, 0};
		int64_t left = (deadline - cairn_time_mono()) / 1000, wait;
		CURLcode cc;
		long code = 0;
		int retry;

		if (left <= 0) {
			rc = cairn_error_set(CAIRN_ETIMEOUT, "%s %s: deadline of %lld ms passed",
			                     method, path, (long long)c->opts.deadline_ms);
			goto out;
		}
		if (kube_creds_expiring(c) && !refreshed) {
			refreshed = 1;
			rc = kube_exec_refresh(c);
			if (rc != 0)
				goto out;
		}
		cairn_buf_reset(&resp);
		http_setup(c, url.ptr, method, hdrs, body, body_len, &sink,
		           left < c->opts.timeout_ms ? left : c->opts.timeout_ms);
		c->requests++;
		cc = curl_easy_perform(c->h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
		if (cc == CURLE_OK && code >= 200 && code < 300) {
			if (out != NULL) {
				rc = cairn_buf_put(out, resp.ptr != NULL ? resp.ptr : "", resp.len);
				if (rc != 0)
					rc = cairn_error_set(rc, "%s %s: answer too large", method,
					                     path);
			}
			goto out;
		}
		if (cc != CURLE_OK) {
			retry = http_conn_retryable(cc, idem);
			rc = cairn_error_set(sink.overflow                    ? CAIRN_ELIMIT
			                     : cc == CURLE_OPERATION_TIMEDOUT ? CAIRN_ETIMEOUT
			                                                      : CAIRN_EIO,
			                     "%s %s: %s", method, path,
			                     sink.overflow ? "answer too large"
			                                   : curl_easy_strerror(cc));
		} else {
			retry = code == 429 || (code >= 500 && idem);
			rc = kube_http_fail(c, code, &resp, method, path);
			/* an exec token the server no longer takes: run the plugin once more
			 * and send again (the request was refused, so it did not land) */
			if (code == 401 && c->exec_json != NULL && !refreshed) {
				refreshed = 1;
				if (kube_exec_refresh(c) != 0)
					goto out;
				attempt--;
				continue;
			}
		}
		if (!retry || attempt >= c->opts.max_retries)
			goto out;
		wait = http_wait_ms(c, attempt,
		                    code == 429 || code == 503 ? sink.retry_after_s : -1);
		if ((cairn_time_mono() + wait * 1000) >= deadline)
			goto out; /* keep the last error: waiting would pass the deadline */
		http_sleep_ms(wait);
	}
out:
	curl_slist_free_all(hdrs);
	cairn_buf_dispose(&url);
	cairn_buf_dispose(&resp);
	return rc;
}
