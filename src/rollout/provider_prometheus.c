/*
 * provider_prometheus.c - an instant query over Prometheus's HTTP API
 * (GET /api/v1/query). A vector becomes a list of floats in the order
 * Prometheus returns the series, a scalar a float; "NaN", "+Inf" and
 * "-Inf" sample values become NaN and the infinities. An empty vector is
 * an empty list: the conditions decide what that means (result[0] of it
 * is an evaluation error, so an Error measurement).
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/json.h"
#include "provider_private.h"

/* A sample [timestamp, "value"] to a float. */
static int sample_value(double *out, const json_t *sample)
{
	const char *s = json_string_value(json_array_get(sample, 1));
	char *end;

	if (s == NULL || s[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "prometheus: a sample without a value");
	*out = strtod(s, &end);
	if (*end != '\0')
		return cairn_error_set(CAIRN_EINVAL,
		                       "prometheus: sample value '%s' is not a number", s);
	return 0;
}

static int parse_answer(cairn_value **out, const json_t *doc)
{
	const json_t *data = json_object_get(doc, "data");
	const char *type = json_string_value(json_object_get(data, "resultType"));
	const json_t *res = json_object_get(data, "result");
	cairn_value *list;
	double f;
	size_t i;
	json_t *e;
	int rc;

	if (type == NULL || res == NULL)
		return cairn_error_set(CAIRN_EINVAL, "prometheus: answer without data.resultType");
	if (strcmp(type, "scalar") == 0) {
		if ((rc = sample_value(&f, res)) < 0)
			return rc;
		*out = cairn_value_new_float(f);
		return *out != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (strcmp(type, "vector") != 0)
		return cairn_error_set(
		        CAIRN_EUNSUPPORTED,
		        "prometheus: result type '%s' is not supported (use an instant "
		        "vector or a scalar)",
		        type);
	if ((list = cairn_value_new_list()) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_array_foreach(res, i, e)
	{
		if ((rc = sample_value(&f, json_object_get(e, "value"))) < 0 ||
		    (rc = cairn_value_add(list, NULL, cairn_value_new_float(f))) < 0) {
			cairn_value_free(list);
			return rc;
		}
	}
	*out = list;
	return 0;
}

int provider__prometheus(cairn_value **out, const json_t *spec, const cairn_analysis_ctx *ctx)
{
	const char *address = json_string_value(json_object_get(spec, "address"));
	const char *query = json_string_value(json_object_get(spec, "query"));
	cairn_buf url = CAIRN_BUF_INIT(64 * 1024), body = CAIRN_BUF_INIT(CAIRN_ANALYSIS_MAX_BODY);
	struct provider_http req = {0};
	json_t *doc = NULL;
	char *esc = NULL;
	long status = 0;
	size_t alen;
	int rc;

	if (address == NULL || address[0] == '\0' || query == NULL || query[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL,
		                       "prometheus: 'address' and 'query' are required");
	if (json_object_get(spec, "authentication") != NULL)
		return cairn_error_set(
		        CAIRN_EUNSUPPORTED,
		        "prometheus: 'authentication' (sigv4, oauth2) is not supported; "
		        "use headers");
	alen = strlen(address);
	while (alen > 0 && address[alen - 1] == '/')
		alen--;
	esc = curl_easy_escape(NULL, query, 0);
	if (esc == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = cairn_buf_printf(&url, "%.*s/api/v1/query?query=%s", (int)alen, address, esc)) <
	    0)
		goto out;
	req.url = url.ptr;
	req.headers = json_object_get(spec, "headers");
	req.timeout_ms = provider__timeout_ms(spec, "timeout", ctx);
	req.insecure = json_is_true(json_object_get(spec, "insecure"));
	if ((rc = provider__http(&status, &body, &req)) < 0) {
		cairn_error_prefix("prometheus: ");
		goto out;
	}
	if (cairn_json_parse(&doc, body.ptr != NULL ? body.ptr : "", body.len, "prometheus") < 0) {
		rc = cairn_error_set(CAIRN_EIO, "prometheus: HTTP %ld with a body that is not JSON",
		                     status);
		goto out;
	}
	if (status / 100 != 2 ||
	    strcmp(json_string_value(json_object_get(doc, "status")) ?: "", "success") != 0) {
		const char *msg = json_string_value(json_object_get(doc, "error"));

		rc = cairn_error_set(CAIRN_EIO, "prometheus: HTTP %ld: %s", status,
		                     msg != NULL ? msg : "the query did not succeed");
		goto out;
	}
	rc = parse_answer(out, doc);
out:
	json_decref(doc);
	curl_free(esc);
	cairn_buf_dispose(&url);
	cairn_buf_dispose(&body);
	return rc;
}
