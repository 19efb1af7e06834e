/*
 * fuzz_allowed_signers.c - cairn_allowed_signers_parse on arbitrary text:
 * accept, or refuse with a message and a line inside the input. An
 * accepted file is then used for a check of a malformed signature, which
 * must be refused without touching the keys in a harmful way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/source_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sig[] = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n"
	                          "-----END SSH SIGNATURE-----\n";
	cairn_allowed_signers *as = NULL;
	cairn_sig_result r;
	size_t lines = 1;
	int rc = cairn_allowed_signers_parse(&as, (const char *)data, size, "fuzz");

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (rc < 0) {
		const cairn_error *e = cairn_error_last();

		if (as != NULL || e->message[0] == '\0' || e->line < 0 || (size_t)e->line > lines)
			abort();
		if (rc != CAIRN_EINVAL && rc != CAIRN_EUNSUPPORTED && rc != CAIRN_ELIMIT)
			abort();
		return 0;
	}
	if (cairn_allowed_signers_count(as) > lines)
		abort();
	if (cairn_sshsig_check(&r, as, sig, sizeof(sig) - 1, "m", 1, "git", 0) != 0 ||
	    r.status != CAIRN_SIG_MALFORMED)
		abort();
	cairn_allowed_signers_free(as);
	return 0;
}
