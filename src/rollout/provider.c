/*
 * provider.c - the provider interface: dispatch by name, the HTTP call the
 * prometheus and web providers share (libcurl), and the web provider's
 * jsonPath subset.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/error.h"
#include "provider_private.h"

static const struct {
	const char *name;
	provider_measure_fn fn;
} providers[] = {
        {"prometheus", provider__prometheus},
        {"web", provider__web},
        {"kubernetes", provider__kubernetes},
        /* "job" comes with the job provider (a later issue). */
};

int cairn_analysis_measure(cairn_value **out, const cairn_analysis_metric *m,
                           const cairn_analysis_ctx *ctx)
{
	cairn_analysis_ctx dflt = CAIRN_ANALYSIS_CTX_INIT;

	if (ctx == NULL)
		ctx = &dflt;
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcmp(m->provider, providers[i].name) == 0)
			return providers[i].fn(out, m->provider_spec, ctx);
	return cairn_error_set(CAIRN_EUNSUPPORTED,
	                       "metric '%s': provider '%s' is not supported yet", m->name,
	                       m->provider);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	cairn_buf *b = ud;

	if (cairn_buf_put(b, data, size * n) < 0)
		return 0; /* past the maximum: curl stops with a write error */
	return size * n;
}

/* `headers` is Argo's list of {key, value}. */
static int add_headers(struct curl_slist **list, const json_t *headers)
{
	size_t i;
	json_t *h;

	if (headers == NULL)
		return 0;
	if (!json_is_array(headers))
		return cairn_error_set(CAIRN_EINVAL, "headers: expected a list of {key, value}");
	json_array_foreach(headers, i, h)
	{
		const char *k = json_string_value(json_object_get(h, "key"));
		const char *v = json_string_value(json_object_get(h, "value"));
		char line[4096];
		struct curl_slist *n;

		if (k == NULL || v == NULL || k[0] == '\0' || strpbrk(k, ":\r\n") != NULL ||
		    strpbrk(v, "\r\n") != NULL)
			return cairn_error_set(CAIRN_EINVAL,
			                       "headers[%zu]: expected a key and a value "
			                       "without line breaks",
			                       i);
		if ((size_t)snprintf(line, sizeof(line), "%s: %s", k, v) >= sizeof(line))
			return cairn_error_set(CAIRN_ELIMIT, "headers[%zu]: longer than %zu bytes",
			                       i, sizeof(line));
		n = curl_slist_append(*list, line);
		if (n == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		*list = n;
	}
	return 0;
}

int provider__http(long *out_status, cairn_buf *body, const struct provider_http *req)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	long status = 0;
	int rc;

	if (curl == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = add_headers(&hdrs, req->headers)) < 0)
		goto out;
	if (req->content_type != NULL) {
		char line[256];
		struct curl_slist *n;

		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		if ((n = curl_slist_append(hdrs, line)) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		hdrs = n;
	}
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 10000L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	if (req->insecure) {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->method != NULL && strcmp(req->method, "GET") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
	}
	cc = curl_easy_perform(curl);
	if (cc == CURLE_WRITE_ERROR) {
		rc = cairn_error_set(CAIRN_ELIMIT, "%s %s: response larger than %zu bytes",
		                     req->method != NULL ? req->method : "GET", req->url,
		                     body->max);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = cairn_error_set(cc == CURLE_OPERATION_TIMEDOUT ? CAIRN_ETIMEOUT : CAIRN_EIO,
		                     "%s %s: %s", req->method != NULL ? req->method : "GET",
		                     req->url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	*out_status = status;
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return rc;
}

long provider__timeout_ms(const json_t *spec, const char *key, const cairn_analysis_ctx *ctx)
{
	const json_t *t = json_object_get(spec, key);

	if (json_is_integer(t) && json_integer_value(t) > 0 && json_integer_value(t) < 3600)
		return (long)json_integer_value(t) * 1000;
	return ctx->default_timeout_ms > 0 ? ctx->default_timeout_ms : 10000;
}

/* One step of a jsonPath: `.name`, `['name']`, `["name"]` or `[N]`. */
static int path_step(const json_t **cur, const char **pp, const char *path)
{
	const char *p = *pp;
	char key[256];
	size_t n = 0;

	if (*p == '.') {
		p++;
		while (*p != '\0' && *p != '.' && *p != '[' && n + 1 < sizeof(key))
			key[n++] = *p++;
		key[n] = '\0';
		if (n == 0 || strcmp(key, "*") == 0 || key[0] == '.')
			goto unsupported;
	} else if (p[0] == '[' && (p[1] == '\'' || p[1] == '"')) {
		char q = p[1];

		p += 2;
		while (*p != '\0' && *p != q && n + 1 < sizeof(key))
			key[n++] = *p++;
		key[n] = '\0';
		if (p[0] != q || p[1] != ']')
			return cairn_error_set(CAIRN_EINVAL, "jsonPath '%s': unterminated key",
			                       path);
		p += 2;
	} else if (p[0] == '[' && (p[1] >= '0' && p[1] <= '9')) {
		char *end;
		long idx = strtol(p + 1, &end, 10);

		if (*end != ']')
			goto unsupported;
		*pp = end + 1;
		if (!json_is_array(*cur) || (size_t)idx >= json_array_size(*cur))
			return cairn_error_set(CAIRN_ENOTFOUND, "jsonPath '%s': no element [%ld]",
			                       path, idx);
		*cur = json_array_get(*cur, (size_t)idx);
		return 0;
	} else {
		goto unsupported;
	}
	*pp = p;
	if (!json_is_object(*cur) || (*cur = json_object_get(*cur, key)) == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND, "jsonPath '%s': no member '%s'", path, key);
	return 0;
unsupported:
	return cairn_error_set(CAIRN_EUNSUPPORTED,
	                       "jsonPath '%s': only .name, ['name'] and [N] steps are supported "
	                       "(at '%s')",
	                       path, *pp);
}

int cairn_analysis_jsonpath(const json_t **out, const json_t *doc, const char *path)
{
	const json_t *cur = doc;
	const char *p = path;
	size_t len = strlen(path);
	char inner[1024];
	int rc;

	if (len < 2 || path[0] != '{' || path[len - 1] != '}' || len - 2 >= sizeof(inner))
		return cairn_error_set(CAIRN_EINVAL, "jsonPath '%s': expected '{$.field}'", path);
	memcpy(inner, path + 1, len - 2);
	inner[len - 2] = '\0';
	p = inner;
	if (*p == '$')
		p++;
	while (*p != '\0') {
		if ((rc = path_step(&cur, &p, path)) < 0)
			return rc;
	}
	*out = cur;
	return 0;
}
