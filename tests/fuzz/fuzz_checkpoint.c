/*
 * fuzz_checkpoint.c - libFuzzer harness for the signed-note checkpoint
 * parser: walk the input as a file of notes with audit__checkpoint_split,
 * parse each note (and the whole input), and when a parse succeeds re-sign
 * the checkpoint with a fixed test key, then check that the new note parses
 * back to the same values and verifies. Must never crash or leak.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/audit/merkle.h"
#include "cairn/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pk[32], sk[64];

static void resign(const audit_checkpoint *cp)
{
	cairn_buf note = CAIRN_BUF_INIT(4096);
	audit_checkpoint back;
	size_t n;

	if (audit__checkpoint_sign(&note, cp, "fuzz.test/key", sk) != 0)
		abort(); /* a parsed origin is always signable */
	if (audit__checkpoint_parse(&back, NULL, 0, &n, note.ptr, note.len) != 0 || n != 1 ||
	    strcmp(back.origin, cp->origin) != 0 || back.size != cp->size ||
	    memcmp(back.root, cp->root, 32) != 0)
		abort();
	if (audit__checkpoint_verify(note.ptr, note.len, "fuzz.test/key", pk) != 0)
		abort();
	cairn_buf_dispose(&note);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	audit_checkpoint cp;
	audit_note_sig sigs[4];
	size_t pos = 0, len, n;

	if (pk[0] == 0 && pk[1] == 0) {
		uint8_t seed[32] = {1, 2, 3};

		if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) != 0)
			abort();
	}
	if (audit__checkpoint_parse(&cp, sigs, 4, &n, text, size) == 0)
		resign(&cp);
	(void)audit__checkpoint_verify(text, size, "fuzz.test/key", pk);
	while (pos < size && audit__checkpoint_split(text + pos, size - pos, &len) == 0) {
		if (len == 0 || len > size - pos)
			abort();
		if (audit__checkpoint_parse(&cp, sigs, 1, &n, text + pos, len) == 0)
			resign(&cp);
		pos += len;
	}
	return 0;
}
