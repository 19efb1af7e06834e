/*
 * fuzz_glob.c - cairn_render_glob_match (Argo CD's directory globs): the
 * input is PATTERN '\n' PATH. Any answer other than 1, 0, CAIRN_EINVAL or
 * CAIRN_ELIMIT is a bug; so is the PATH, with every glob character escaped,
 * failing to match itself, or "*" failing to match it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[2048], esc[4200];
	const char *nl, *path;
	size_t k = 0;
	int rc;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nl = strchr(text, '\n');
	if (nl == NULL)
		return 0;
	text[nl - text] = '\0';
	path = nl + 1;
	rc = cairn_render_glob_match(text, path);
	if (rc != 0 && rc != 1 && rc != CAIRN_EINVAL && rc != CAIRN_ELIMIT)
		abort();
	for (const char *p = path; *p; p++) {
		if (strchr("*?[]{},\\!-", *p) != NULL)
			esc[k++] = '\\';
		esc[k++] = *p;
	}
	esc[k] = '\0';
	if (cairn_render_glob_match(esc, path) != 1 || cairn_render_glob_match("*", path) != 1)
		abort();
	return 0;
}
