/*
 * fuzz_webhook.c - webhook verification and payload parsing. The input is
 * one byte choosing the provider, header lines "Name: value\n" up to an
 * empty line, then the body. Verification may only answer 0, CAIRN_EPERM
 * or CAIRN_EINVAL; a body signed here with the secret must verify for the
 * HMAC providers; parsing may only answer 0 (with a trigger that names a
 * URL and holds no NULL ref name) or CAIRN_EINVAL/CAIRN_ELIMIT.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fuzz-secret"
#define NOW ((cairn_usec)1790000000 * 1000000)

/* Split "Name: value" lines in place; returns the body start. */
static char *headers(char *text, cairn_http_header *h, size_t *nh, size_t max)
{
	char *p = text;
	*nh = 0;
	while (*p != '\0') {
		char *nl = strchr(p, '\n');
		if (nl == NULL)
			return p + strlen(p);
		*nl = '\0';
		if (p == nl)
			return nl + 1;
		char *colon = strchr(p, ':');
		if (colon != NULL && *nh < max) {
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ')
				v++;
			h[(*nh)++] = (cairn_http_header){p, v};
		}
		p = nl + 1;
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_http_header h[17];
	size_t nh;
	cairn_webhook_trigger *t = NULL;

	if (size < 1 || size > 65536)
		return 0;
	cairn_forge forge = (cairn_forge)(data[0] % CAIRN_FORGE_COUNT);
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	char *body = headers(text, h, &nh, 16);
	size_t blen = (size - 1) - (size_t)(body - text);
	if (body > text + size - 1)
		blen = 0;

	int rc = cairn_webhook_verify(forge, h, nh, body, blen, SECRET, NOW, 0);
	if (rc != 0 && rc != CAIRN_EPERM && rc != CAIRN_EINVAL)
		abort();
	if (forge != CAIRN_FORGE_GITLAB) {
		uint8_t mac[32];
		char sig[80];
		cairn_hmac_sha256(mac, SECRET, strlen(SECRET), body, blen);
		memcpy(sig, "sha256=", 7);
		cairn_hex_encode(sig + 7, mac, 32);
		const char *name = forge == CAIRN_FORGE_GITHUB  ? "X-Hub-Signature-256"
		                   : forge == CAIRN_FORGE_GITEA ? "X-Gitea-Signature"
		                                                : "X-Hub-Signature";
		h[nh] = (cairn_http_header){name, forge == CAIRN_FORGE_GITEA ? sig + 7 : sig};
		/* the signature goes first so that it is the one found */
		cairn_http_header signed_h[17];
		signed_h[0] = h[nh];
		memcpy(signed_h + 1, h, nh * sizeof(h[0]));
		if (cairn_webhook_verify(forge, signed_h, nh + 1, body, blen, SECRET, NOW, 0) != 0)
			abort();
	}
	rc = cairn_webhook_parse(&t, forge, h, nh, body, blen);
	if (rc != 0 && rc != CAIRN_EINVAL && rc != CAIRN_ELIMIT)
		abort();
	if (t != NULL) {
		if (t->n_urls == 0 || t->event == NULL)
			abort();
		for (size_t i = 0; i < t->n_refs; i++)
			if (t->refs[i].ref == NULL || t->refs[i].ref[0] == '\0')
				abort();
	}
	cairn_webhook_trigger_free(t);
	free(text);
	return 0;
}
