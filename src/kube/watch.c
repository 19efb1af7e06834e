/*
 * watch.c - cairn_kube_watch(): one resource type watched as a stream of
 * JSON lines, resumed from the last resourceVersion when the stream ends
 * and relisted on 410 Gone.
 *
 * The stream runs on its own libcurl handle; its write callback cuts the
 * body into lines (each at most max_event bytes) and hands each event to
 * the caller as it arrives. What the watch has seen is kept as a set of
 * "namespace/name" -> resourceVersion, so a relist can tell the caller
 * what changed while it was not watching (including deletions).
 */
#include <curl/curl.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/util.h"
#include "kube_internal.h"

typedef struct watch {
	cairn_kube_client *c;
	const cairn_kube_mapping *m;
	const char *ns; /* NULL: all namespaces */
	cairn_kube_watch_opts o;
	cairn_kube_watch_fn fn;
	void *ud;
	CURL *h;
	json_t *known; /* "ns/name" -> resourceVersion */
	char rv[128];
	int64_t deadline; /* monotonic us; 0: none */
	/* one stream */
	cairn_buf line;
	cairn_buf errbody;
	long code;
	int cb_rc;  /* the callback's answer: 1 stop, < 0 error */
	int gone;   /* an ERROR event with code 410 */
	int failed; /* an ERROR event with another code, or a bad line */
	int events;
} watch;

static int watch_stopped(const watch *w)
{
	return (w->o.stop != NULL && *w->o.stop) ||
	       (w->deadline > 0 && cairn_time_mono() >= w->deadline);
}

static void watch_key(const json_t *obj, char *key, size_t size)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));

	snprintf(key, size, "%s/%s", ns != NULL ? ns : "", name != NULL ? name : "");
}

/* Record what an event says, then hand it to the caller. */
static int watch_emit(watch *w, const char *type, json_t *obj, int synthetic)
{
	const char *rv = json_string_value(
	        json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	char key[512];

	if (strcmp(type, "BOOKMARK") != 0) {
		watch_key(obj, key, sizeof(key));
		if (strcmp(type, "DELETED") == 0)
			json_object_del(w->known, key);
		else if (json_object_set_new(w->known, key, json_string(rv != NULL ? rv : "")) != 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (!synthetic && rv != NULL && rv[0] != '\0')
		snprintf(w->rv, sizeof(w->rv), "%s", rv);
	w->cb_rc = w->fn(w->ud, type, obj, synthetic);
	return w->cb_rc;
}

/* One line of the stream: {"type": ..., "object": ...}. */
static void watch_line(watch *w, const char *p, size_t n)
{
	json_t *ev = NULL, *obj;
	const char *type;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0)
		return;
	if (cairn_json_parse(&ev, p, n, "watch event") != 0) {
		w->failed = 1;
		return;
	}
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (type == NULL || !json_is_object(obj)) {
		cairn_error_set(CAIRN_EINVAL, "watch event without type or object");
		w->failed = 1;
	} else if (strcmp(type, "ERROR") == 0) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		const char *msg = json_string_value(json_object_get(obj, "message"));

		if (code == 410)
			w->gone = 1;
		else
			w->failed = 1;
		cairn_error_set(CAIRN_EIO, "watch %s: ERROR event %lld: %s", w->m->resource,
		                (long long)code, msg != NULL ? msg : "");
	} else if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 ||
	           strcmp(type, "DELETED") == 0 || strcmp(type, "BOOKMARK") == 0) {
		w->events++;
		watch_emit(w, type, obj, 0);
	}
	json_decref(ev);
}

/*
 * libcurl's write callback: cut into lines. Returning less than n stops
 * the transfer, which we do when the caller or an ERROR event ends it.
 */
static size_t watch_write(char *p, size_t size, size_t n, void *ud)
{
	watch *w = ud;
	size_t len = size * n, i, start = 0;

	if (w->code == 0)
		curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->code);
	if (w->code != 200) {
		/* a Status body: what does not fit is dropped */
		(void)cairn_buf_put(&w->errbody, p, len);
		return len;
	}
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (cairn_buf_put(&w->line, p + start, i - start) != 0)
			goto too_long;
		watch_line(w, w->line.ptr != NULL ? w->line.ptr : "", w->line.len);
		cairn_buf_reset(&w->line);
		start = i + 1;
		if (w->cb_rc != 0 || w->gone || w->failed)
			return 0;
	}
	if (cairn_buf_put(&w->line, p + start, len - start) != 0)
		goto too_long;
	return len;
too_long:
	cairn_error_set(CAIRN_ELIMIT, "watch %s: event longer than %zu bytes", w->m->resource,
	                w->o.max_event);
	w->cb_rc = CAIRN_ELIMIT;
	return 0;
}

/* Called by libcurl about once a second even when nothing arrives. */
static int watch_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return watch_stopped(ud) ? 1 : 0;
}

/* Synthetic DELETED for an object a relist no longer shows. */
static int watch_emit_deleted(watch *w, const char *key, const char *rv)
{
	const char *slash = strchr(key, '/');
	char av[200];
	json_t *obj;
	int rc;

	snprintf(av, sizeof(av), "%s%s%s", w->m->group, w->m->group[0] ? "/" : "", w->m->version);
	obj = json_pack("{s:s,s:s,s:{s:s,s:s%,s:s}}", "apiVersion", av, "kind", w->m->kind,
	                "metadata", "name", slash + 1, "namespace", key, (size_t)(slash - key),
	                "resourceVersion", rv);
	if (obj == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (slash == key)
		json_object_del(json_object_get(obj, "metadata"), "namespace");
	rc = watch_emit(w, "DELETED", obj, 1);
	json_decref(obj);
	return rc;
}

/* Report one listed object against what was known: ADDED, MODIFIED or nothing. */
static int watch_relist_item(watch *w, json_t *item, json_t *seen, char *av)
{
	const char *rv = json_string_value(
	        json_object_get(json_object_get(item, "metadata"), "resourceVersion"));
	const char *old;
	char key[512];

	if (json_object_get(item, "apiVersion") == NULL)
		json_object_set_new(item, "apiVersion", json_string(av));
	if (json_object_get(item, "kind") == NULL)
		json_object_set_new(item, "kind", json_string(w->m->kind));
	watch_key(item, key, sizeof(key));
	if (json_object_set_new(seen, key, json_true()) != 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	old = json_string_value(json_object_get(w->known, key));
	if (old != NULL && rv != NULL && strcmp(old, rv) == 0)
		return 0;
	return watch_emit(w, old != NULL ? "MODIFIED" : "ADDED", item, 1);
}

/*
 * List every page, then report what changed since the objects last seen
 * and take the list's resourceVersion as the point to watch from.
 */
static int watch_relist(watch *w)
{
	cairn_kube_list_opts lo = {w->o.label_selector, w->o.field_selector, w->o.list_limit, NULL,
	                           w->ns == NULL};
	json_t *seen = json_object(), *page = NULL, *item;
	char *cont = NULL, av[200];
	const char *key;
	json_t *v;
	size_t i;
	int rc = seen != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");

	snprintf(av, sizeof(av), "%s%s%s", w->m->group, w->m->group[0] ? "/" : "", w->m->version);
	while (rc == 0) {
		const json_t *md;
		const char *next, *rv;

		lo.continue_ = cont;
		rc = cairn_kube_list(w->c, w->m, w->ns, &lo, &page);
		if (rc != 0)
			break;
		md = json_object_get(page, "metadata");
		rv = json_string_value(json_object_get(md, "resourceVersion"));
		if (rv != NULL && rv[0] != '\0')
			snprintf(w->rv, sizeof(w->rv), "%s", rv);
		json_array_foreach(json_object_get(page, "items"), i, item)
		{
			rc = watch_relist_item(w, item, seen, av);
			if (rc != 0)
				break;
		}
		next = json_string_value(json_object_get(md, "continue"));
		free(cont);
		cont = rc == 0 && next != NULL && next[0] != '\0' ? strdup(next) : NULL;
		json_decref(page);
		page = NULL;
		if (cont == NULL)
			break;
	}
	if (rc == 0) {
		void *tmp;

		json_object_foreach_safe(w->known, tmp, key, v)
		{
			if (json_object_get(seen, key) != NULL)
				continue;
			rc = watch_emit_deleted(w, key, json_string_value(v));
			if (rc != 0)
				break;
		}
	}
	free(cont);
	json_decref(seen);
	return rc;
}

/* The watch URL from the current resourceVersion. */
static int watch_url(watch *w, cairn_buf *url)
{
	cairn_buf p = CAIRN_BUF_INIT(65536);
	char ts[32];
	int rc = kube_path(&p, w->c, w->m, w->ns, NULL);

	snprintf(ts, sizeof(ts), "%lld", (long long)w->o.stream_timeout_s);
	if (rc == 0)
		rc = kube_qadd(&p, "watch", "1");
	if (rc == 0)
		rc = kube_qadd(&p, "allowWatchBookmarks", "true");
	if (rc == 0)
		rc = kube_qadd(&p, "timeoutSeconds", ts);
	if (rc == 0 && w->rv[0] != '\0')
		rc = kube_qadd(&p, "resourceVersion", w->rv);
	if (rc == 0 && w->o.label_selector != NULL)
		rc = kube_qadd(&p, "labelSelector", w->o.label_selector);
	if (rc == 0 && w->o.field_selector != NULL)
		rc = kube_qadd(&p, "fieldSelector", w->o.field_selector);
	if (rc == 0 && cairn_buf_printf(url, "%s%s", w->c->server, p.ptr) != 0)
		rc = cairn_error_set(CAIRN_ELIMIT, "watch URL too long");
	cairn_buf_dispose(&p);
	return rc;
}

/*
 * One watch request, read until it ends. Returns 0 when the stream ended
 * (by the server, a drop, the caller or the deadline; w->gone / w->failed
 * say why), or the error of an answer that is not retried.
 */
static int watch_stream(watch *w, int *retry)
{
	cairn_buf url = CAIRN_BUF_INIT(65536);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	int64_t tmo = (w->o.stream_timeout_s + 30) * 1000;
	CURLcode cc;
	int rc;

	*retry = 0;
	w->code = 0;
	w->gone = w->failed = w->events = 0;
	cairn_buf_reset(&w->line);
	cairn_buf_reset(&w->errbody);
	if (w->deadline > 0 && (w->deadline - cairn_time_mono()) / 1000 + 1 < tmo)
		tmo = (w->deadline - cairn_time_mono()) / 1000 + 1;
	rc = hdrs != NULL ? watch_url(w, &url) : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (rc != 0)
		goto out;
	if (kube_creds_expiring(w->c) && (rc = kube_exec_refresh(w->c)) != 0)
		goto out;
	kube_http_setup(w->c, w->h, url.ptr, hdrs, tmo);
	curl_easy_setopt(w->h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w->h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(w->h, CURLOPT_XFERINFOFUNCTION, watch_progress);
	curl_easy_setopt(w->h, CURLOPT_XFERINFODATA, w);
	w->c->requests++;
	cc = curl_easy_perform(w->h);
	if (w->cb_rc != 0 || watch_stopped(w))
		goto out;
	if (w->code == 0)
		curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->code);
	if (w->code == 410) {
		w->gone = 1;
	} else if (w->code != 200 && w->code != 0) {
		rc = kube_http_fail(w->c, w->code, &w->errbody, "WATCH",
		                    url.ptr + strlen(w->c->server));
		*retry = w->code == 429 || w->code >= 500;
	} else if (cc != CURLE_OK && cc != CURLE_WRITE_ERROR && !w->gone && !w->failed) {
		rc = cairn_error_set(cc == CURLE_OPERATION_TIMEDOUT ? CAIRN_ETIMEOUT : CAIRN_EIO,
		                     "watch %s: %s", w->m->resource, curl_easy_strerror(cc));
		*retry = 1;
	}
out:
	curl_slist_free_all(hdrs);
	cairn_buf_dispose(&url);
	return rc;
}

/* Sleep before reconnect number `n` (1-based), waking for the stop flag. */
static void watch_backoff(watch *w, int n)
{
	int64_t d = w->c->opts.backoff_base_ms, end;

	for (int i = 1; i < n && d < w->c->opts.backoff_max_ms; i++)
		d *= 2;
	if (d > w->c->opts.backoff_max_ms)
		d = w->c->opts.backoff_max_ms;
	end = cairn_time_mono() + d * 1000;
	while (!watch_stopped(w) && cairn_time_mono() < end) {
		struct timespec ts = {0, 20 * 1000000L};

		nanosleep(&ts, NULL);
	}
}

static void watch_defaults(cairn_kube_watch_opts *o)
{
	if (o->stream_timeout_s <= 0)
		o->stream_timeout_s = 300;
	if (o->max_event == 0)
		o->max_event = (size_t)16 << 20;
	if (o->max_failures <= 0)
		o->max_failures = 10;
	if (o->list_limit <= 0)
		o->list_limit = 500;
}

/* Whether a failed list may be tried again: 410 (the list's own version
 * expired), 429, 5xx and connection failures. */
static int watch_retryable(const watch *w, int rc)
{
	long code = cairn_kube_last_status(w->c)->code;

	if (code == 0)
		return rc == CAIRN_EIO || rc == CAIRN_ETIMEOUT;
	return code == 410 || code == 429 || code >= 500;
}

/* The loop: (re)list when needed, stream, resume or relist, until stopped. */
static int watch_loop(watch *w)
{
	int rc = 0, failures = 0, relist = w->rv[0] == '\0', retry;
	int64_t t0;

	while (!watch_stopped(w)) {
		if (relist) {
			rc = watch_relist(w);
			if (w->cb_rc != 0)
				break;
			if (rc != 0 && watch_retryable(w, rc) && ++failures <= w->o.max_failures) {
				watch_backoff(w, failures);
				continue;
			}
			if (rc != 0)
				break;
			relist = 0;
		}
		t0 = cairn_time_mono();
		rc = watch_stream(w, &retry);
		if (w->cb_rc != 0 || watch_stopped(w))
			break;
		if (w->events > 0)
			failures = 0;
		else if (rc == 0 && !w->gone && cairn_time_mono() - t0 < 1000000)
			w->failed = 1; /* closed at once with nothing: do not spin */
		if (w->gone) {
			relist = 1;
			w->rv[0] = '\0';
			rc = 0;
			continue;
		}
		if (rc != 0 && !retry)
			break;
		if (rc != 0 || w->failed) {
			if (++failures > w->o.max_failures) {
				if (rc == 0)
					rc = cairn_error_prefix("watch %s: %d failures in a row: ",
					                        w->m->resource, failures);
				break;
			}
			watch_backoff(w, failures);
		}
		rc = 0;
	}
	if (w->cb_rc < 0)
		return w->cb_rc;
	return w->cb_rc > 0 || watch_stopped(w) ? 0 : rc;
}

int cairn_kube_watch(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                     const cairn_kube_watch_opts *opts, cairn_kube_watch_fn fn, void *ud,
                     char *rv_out, size_t rv_size)
{
	watch w = {0};
	int rc;

	w.c = c;
	w.m = m;
	if (opts != NULL)
		w.o = *opts;
	watch_defaults(&w.o);
	w.ns = w.o.all_namespaces ? NULL : (ns != NULL ? ns : "");
	w.fn = fn;
	w.ud = ud;
	if (w.o.deadline_ms > 0)
		w.deadline = cairn_time_mono() + w.o.deadline_ms * 1000;
	if (w.o.resource_version != NULL &&
	    (size_t)snprintf(w.rv, sizeof(w.rv), "%s", w.o.resource_version) >= sizeof(w.rv))
		return cairn_error_set(CAIRN_EINVAL, "resourceVersion '%.40s...' too long",
		                       w.o.resource_version);
	cairn_buf_init(&w.line, w.o.max_event);
	cairn_buf_init(&w.errbody, 65536);
	w.known = json_object();
	w.h = curl_easy_init();
	if (w.known == NULL || w.h == NULL)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	else
		rc = watch_loop(&w);
	if (rc == 0 && rv_out != NULL && rv_size > 0)
		snprintf(rv_out, rv_size, "%s", w.rv);
	if (w.h != NULL)
		curl_easy_cleanup(w.h);
	json_decref(w.known);
	cairn_buf_dispose(&w.line);
	cairn_buf_dispose(&w.errbody);
	return rc;
}
