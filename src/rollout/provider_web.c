/*
 * provider_web.c - Argo's web provider: an HTTP call whose JSON answer is
 * reduced by `jsonPath` ({$.data.ok}) to the value the conditions see.
 * Numbers come out as floats (as Go's encoding/json gives them to Argo).
 */
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/json.h"
#include "provider_private.h"

/* The request body: `body` as given, or `jsonBody` serialised. */
static int request_body(char **out, const char **ctype, const json_t *spec)
{
	const json_t *body = json_object_get(spec, "body");
	const json_t *jbody = json_object_get(spec, "jsonBody");

	*out = NULL;
	*ctype = NULL;
	if (body != NULL && jbody != NULL)
		return cairn_error_set(CAIRN_EINVAL, "web: 'body' and 'jsonBody' are exclusive");
	if (body != NULL) {
		if (!json_is_string(body))
			return cairn_error_set(CAIRN_EINVAL, "web: 'body' must be a string");
		*out = strdup(json_string_value(body));
	} else if (jbody != NULL) {
		*out = json_dumps(jbody, JSON_COMPACT | JSON_ENCODE_ANY);
		*ctype = "application/json";
	} else {
		return 0;
	}
	return *out != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

static int header_given(const json_t *headers, const char *name)
{
	size_t i;
	json_t *h;

	json_array_foreach(headers, i, h)
	{
		const char *k = json_string_value(json_object_get(h, "key"));

		if (k != NULL && strcasecmp(k, name) == 0)
			return 1;
	}
	return 0;
}

int provider__web(cairn_value **out, const json_t *spec, const cairn_analysis_ctx *ctx)
{
	const char *url = json_string_value(json_object_get(spec, "url"));
	const char *method = json_string_value(json_object_get(spec, "method"));
	const char *path = json_string_value(json_object_get(spec, "jsonPath"));
	cairn_buf body = CAIRN_BUF_INIT(CAIRN_ANALYSIS_MAX_BODY);
	struct provider_http req = {0};
	const json_t *val;
	json_t *doc = NULL;
	char *payload = NULL;
	long status = 0;
	int rc;

	if (url == NULL || url[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "web: 'url' is required");
	if (method == NULL)
		method = "GET";
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
		return cairn_error_set(CAIRN_EINVAL, "web: method '%s' is not GET, POST or PUT",
		                       method);
	if ((rc = request_body(&payload, &req.content_type, spec)) < 0)
		return rc;
	if (payload != NULL && strcmp(method, "GET") == 0) {
		rc = cairn_error_set(CAIRN_EINVAL, "web: a body needs method POST or PUT");
		goto out;
	}
	if (req.content_type != NULL &&
	    header_given(json_object_get(spec, "headers"), "Content-Type"))
		req.content_type = NULL;
	req.method = method;
	req.url = url;
	req.headers = json_object_get(spec, "headers");
	req.body = payload;
	req.timeout_ms = provider__timeout_ms(spec, "timeoutSeconds", ctx);
	req.insecure = json_is_true(json_object_get(spec, "insecure"));
	if ((rc = provider__http(&status, &body, &req)) < 0) {
		cairn_error_prefix("web: ");
		goto out;
	}
	if (status / 100 != 2) {
		rc = cairn_error_set(CAIRN_EIO, "web: %s %s: HTTP %ld", method, url, status);
		goto out;
	}
	if (cairn_json_parse(&doc, body.ptr != NULL ? body.ptr : "", body.len, url) < 0) {
		rc = cairn_error_prefix("web: the answer is not JSON: ");
		goto out;
	}
	if ((rc = cairn_analysis_jsonpath(&val, doc, path != NULL ? path : "{$}")) < 0) {
		cairn_error_prefix("web: ");
		goto out;
	}
	rc = cairn_value_from_json(out, val);
out:
	json_decref(doc);
	free(payload);
	cairn_buf_dispose(&body);
	return rc;
}
