/*
 * fuzz_json.c - cairn_json_parse, then cairn_json_canonical; whatever
 * canonical text we produce must parse back and canonicalise to the same
 * bytes (JCS is idempotent), otherwise abort().
 *
 * One exception, documented in docs/hashing.md: a real with an integral
 * value of magnitude 2^53 or more and below 1e21 prints as plain digits
 * (ECMAScript does), which jansson reads back as an integer: too big for
 * json_int_t, or beyond the 2^53 that JCS integers may have. Those two
 * refusals, and only those, are accepted on the way back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_buf first = CAIRN_BUF_INIT(16 << 20), second = CAIRN_BUF_INIT(16 << 20);
	json_t *v = NULL, *again = NULL;
	char hex[65];

	if (cairn_json_parse(&v, (const char *)data, size, "fuzz.json") < 0)
		return 0;
	/* Integers beyond 2^53 are refused by design; nothing more to check. */
	if (cairn_json_canonical(&first, v) < 0) {
		if (cairn_error_last()->code != CAIRN_EINVAL)
			abort();
		goto out;
	}
	if (cairn_json_parse(&again, first.ptr, first.len, "canonical.json") < 0) {
		if (!strstr(cairn_error_last()->message, "too big integer") &&
		    !strstr(cairn_error_last()->message, "too big negative integer"))
			abort();
		goto out;
	}
	if (cairn_json_canonical(&second, again) < 0) {
		if (!strstr(cairn_error_last()->message, "beyond 2^53"))
			abort();
		goto out;
	}
	if (first.len != second.len || memcmp(first.ptr, second.ptr, first.len) != 0)
		abort();
	if (cairn_json_sha256_hex(hex, again) < 0 || strlen(hex) != 64)
		abort();
out:
	json_decref(v);
	json_decref(again);
	cairn_buf_dispose(&first);
	cairn_buf_dispose(&second);
	return 0;
}
