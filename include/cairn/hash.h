/*
 * cairn/hash.h - SHA-256, HMAC-SHA256, hex and base64 helpers.
 * All functions are thread-safe and never fail except as documented.
 */
#ifndef CAIRN_HASH_H
#define CAIRN_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_SHA256_LEN 32

/** SHA-256 of `len` bytes into `out`. */
void cairn_sha256(uint8_t out[CAIRN_SHA256_LEN], const void *data, size_t len);

/** Incremental SHA-256 (opaque storage big enough for any backend). */
typedef struct cairn_sha256_ctx {
	uint64_t opaque[64];
} cairn_sha256_ctx;
void cairn_sha256_init(cairn_sha256_ctx *ctx);
void cairn_sha256_update(cairn_sha256_ctx *ctx, const void *data, size_t len);
void cairn_sha256_final(cairn_sha256_ctx *ctx, uint8_t out[CAIRN_SHA256_LEN]);

/** HMAC-SHA256 of `len` bytes under `key`. */
void cairn_hmac_sha256(uint8_t out[CAIRN_SHA256_LEN], const void *key, size_t keylen,
                       const void *data, size_t len);

/** Lower-case hex of `len` bytes into `out` (2*len+1 bytes, NUL-terminated). */
void cairn_hex_encode(char *out, const uint8_t *in, size_t len);

/**
 * Decode exactly `len` bytes of hex (either case) from `hex`; 0 or
 * CAIRN_EINVAL when `hex` is not exactly 2*len hex digits.
 */
int cairn_hex_decode(uint8_t *out, size_t len, const char *hex);

/** SHA-256 hex of bytes into `hex` (65 bytes). */
void cairn_sha256_hex(char hex[65], const void *data, size_t len);

/**
 * Standard base64 (RFC 4648, with padding). cairn_base64_encode writes
 * a NUL-terminated string into `out` of size >= cairn_base64_encoded_len(n).
 */
size_t cairn_base64_encoded_len(size_t n);
void cairn_base64_encode(char *out, const uint8_t *in, size_t n);
/** Decode; 0 with *outlen set, or CAIRN_EINVAL / CAIRN_ELIMIT (outcap too small). */
int cairn_base64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen);

#ifdef __cplusplus
}
#endif
#endif
