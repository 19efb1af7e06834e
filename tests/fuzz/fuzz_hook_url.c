/*
 * fuzz_hook_url.c - the post-receive hook's URL splitting and status line
 * (src/cli/hook_notify.c): never a crash, and what is accepted is
 * consistent: a host without '/', a port 1-65535, a path that starts with
 * '/' or is empty, never ends with '/', and holds no '?', '#' or space; a
 * status code of three digits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/hook_notify.h"
#include "cairn/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[2048];
	hook_url u;
	size_t n;
	int code = -1, port;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (hook_url_parse(&u, text) == 0) {
		port = atoi(u.port);
		n = strlen(u.path);
		if (u.host[0] == '\0' || strchr(u.host, '/') || port < 1 || port > 65535 ||
		    (n > 0 && (u.path[0] != '/' || u.path[n - 1] == '/')) ||
		    strpbrk(u.path, "?# ") != NULL)
			abort();
	}
	cairn_error_clear();
	if (hook_http_status(&code, (const char *)data, size) == 0 && (code < 0 || code > 999))
		abort();
	cairn_error_clear();
	return 0;
}
