/*
 * cairn/json.h - canonical JSON (RFC 8785, JCS) and hashes over it.
 *
 * Every hash and signature in Cairn is computed over JCS bytes, so that
 * other tools (Python's json + hashlib, for one) can recompute them:
 * object members sorted by their UTF-16 code units, no insignificant
 * whitespace, strings escaped as JCS says, numbers printed as ECMAScript
 * prints an IEEE 754 double. jansson integers are exact up to 2^53;
 * larger magnitudes cannot be represented in JCS and are an error.
 */
#ifndef CAIRN_JSON_H
#define CAIRN_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "cairn/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Append the JCS form of `v` to `out`. Borrows `v`.
 * Returns 0, CAIRN_EINVAL (a non-finite real, an integer beyond 2^53, a
 * string or key that is not valid UTF-8) or CAIRN_ELIMIT (out->max, or
 * nesting deeper than 4096) / CAIRN_ENOMEM. On failure `out` is cut back
 * to its length before the call. Thread-safe for distinct `out`s; `v`
 * may be shared if nobody modifies it meanwhile.
 */
int cairn_json_canonical(cairn_buf *out, const json_t *v);

/**
 * SHA-256 of the JCS form of `v`, as 64 lower-case hex digits and a NUL
 * into `hex` (65 bytes; untouched on failure). Borrows `v`.
 * Returns 0 or as cairn_json_canonical(). Thread-safe.
 */
int cairn_json_sha256_hex(char hex[65], const json_t *v);

/**
 * Parse JSON text (any value at the top level) with duplicate keys
 * rejected and a 64 MiB size limit (CAIRN_ELIMIT). "\u0000" is accepted
 * in strings (lengths are kept); jansson refuses it in object keys.
 * Syntax errors are CAIRN_EINVAL and carry the file name (may be NULL),
 * line and column. On success the caller owns *out (json_decref); *out is
 * untouched on failure. Thread-safe.
 */
int cairn_json_parse(json_t **out, const char *data, size_t len, const char *filename);

#ifdef __cplusplus
}
#endif
#endif
