/*
 * fuzz_url.c - cairn_source_url_normalize and the redaction: a normalised
 * URL normalises to itself, and a redacted URL never keeps the userinfo.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[4096], shown[256];
	char *a = NULL, *b = NULL;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	cairn_source_url_redact(shown, sizeof(shown), text);
	if (cairn_source_url_normalize(&a, text) == 0) {
		/* file:// forms keep ".git"; every canonical form is a fixed point */
		if (cairn_source_url_normalize(&b, a) != 0 || strcmp(a, b) != 0)
			abort();
		const char *auth = strstr(text, "://");
		if (auth) {
			size_t n = strcspn(auth + 3, "/?#");
			if (memchr(auth + 3, '@', n) && !strstr(shown, "***@"))
				abort();
		}
	}
	free(a);
	free(b);
	return 0;
}
