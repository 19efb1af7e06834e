/*
 * provider_private.h - what the provider files share: the provider
 * function type and one HTTP call over libcurl.
 */
#ifndef CAIRN_ROLLOUT_PROVIDER_PRIVATE_H
#define CAIRN_ROLLOUT_PROVIDER_PRIVATE_H

#include <jansson.h>

#include "cairn/analysis.h"
#include "cairn/buf.h"

/* Measure with the provider's spec (the object under provider.NAME). */
typedef int (*provider_measure_fn)(cairn_value **out, const json_t *spec,
                                   const cairn_analysis_ctx *ctx);

int provider__prometheus(cairn_value **out, const json_t *spec, const cairn_analysis_ctx *ctx);
int provider__web(cairn_value **out, const json_t *spec, const cairn_analysis_ctx *ctx);
int provider__kubernetes(cairn_value **out, const json_t *spec, const cairn_analysis_ctx *ctx);

struct provider_http {
	const char *method; /* NULL: GET */
	const char *url;
	const json_t *headers;    /* Argo's [{key, value}], or NULL */
	const char *body;         /* NULL: none */
	const char *content_type; /* NULL: none added */
	long timeout_ms;
	int insecure;
};

/* One request; `body` (with its maximum) receives the answer whatever the
 * status. 0 with *out_status set, or CAIRN_EIO / CAIRN_ETIMEOUT /
 * CAIRN_ELIMIT with the URL in the message. */
int provider__http(long *out_status, cairn_buf *body, const struct provider_http *req);

/* The timeout in milliseconds from an integer seconds field, else the
 * context's default. */
long provider__timeout_ms(const json_t *spec, const char *key, const cairn_analysis_ctx *ctx);

#endif
