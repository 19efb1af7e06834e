/*
 * cmd_token.c - `cairn token hash`: the SHA-256 of an API token as it goes
 * into cairn.yaml's api.tokens[].sha256, or `cairn token new` for a fresh
 * random token and its hash. The token is read from standard input, never
 * from the command line, so it stays out of shell history and ps.
 */
#include <stdio.h>
#include <string.h>

#include "cairn/hash.h"
#include "cli.h"

#include <sodium.h>

#define TOKEN_MAX 4096

static void token_usage(FILE *out)
{
	fprintf(out, "usage: cairn token hash < TOKEN_FILE\n"
	             "       cairn token new\n\n"
	             "hash: print the SHA-256 (hex) of the token read from standard input\n"
	             "      (one trailing newline is ignored), for api.tokens[].sha256.\n"
	             "new:  print a new random token (32 bytes, hex) on the first line and\n"
	             "      its SHA-256 on the second.\n");
}

static int token_hash(void)
{
	char buf[TOKEN_MAX + 2], hex[65];
	size_t n = fread(buf, 1, sizeof(buf), stdin);

	if (n > TOKEN_MAX) {
		fprintf(stderr, "cairn token hash: the token is longer than %d bytes\n", TOKEN_MAX);
		return 1;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		fprintf(stderr, "cairn token hash: no token on standard input\n");
		return 1;
	}
	cairn_sha256_hex(hex, buf, n);
	printf("%s\n", hex);
	return 0;
}

static int token_new(void)
{
	unsigned char raw[32];
	char tok[65], hex[65];

	if (sodium_init() < 0) {
		fprintf(stderr, "cairn token new: libsodium failed to start\n");
		return 1;
	}
	randombytes_buf(raw, sizeof(raw));
	cairn_hex_encode(tok, raw, sizeof(raw));
	cairn_sha256_hex(hex, tok, strlen(tok));
	printf("%s\n%s\n", tok, hex);
	return 0;
}

int cmd_token(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "hash") == 0 && argc == 2)
		return token_hash();
	if (argc >= 2 && strcmp(argv[1], "new") == 0 && argc == 2)
		return token_new();
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		token_usage(stdout);
		return 0;
	}
	token_usage(stderr);
	return 2;
}
