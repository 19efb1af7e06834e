/*
 * fuzz_sshsig.c - cairn_sshsig_parse on arbitrary text: it must accept or
 * refuse with CAIRN_EINVAL/CAIRN_EUNSUPPORTED/CAIRN_ELIMIT, never crash;
 * an accepted signature must answer its accessors and go through
 * cairn_sshsig_verify (which refuses, since nobody signed the input) and
 * the whole check against an allowed-signers file holding its own key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/source_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check the signature against a file that allows its own key. */
static void check_with_own_key(const cairn_sshsig *sig, const uint8_t *data, size_t size)
{
	size_t klen;
	const uint8_t *key = cairn_sshsig_key_blob(sig, &klen);
	char *line = malloc(cairn_base64_encoded_len(klen) + 128);
	cairn_allowed_signers *as = NULL;
	cairn_sig_result r;
	int n;

	n = snprintf(line, 128, "p %s ", cairn_sshsig_key_type(sig));
	cairn_base64_encode(line + n, key, klen);
	if (cairn_allowed_signers_parse(&as, line, strlen(line), "fuzz") == 0) {
		if (cairn_sshsig_check(&r, as, (const char *)data, size, "m", 1, "git", 0) != 0)
			abort();
		if (r.status == CAIRN_SIG_VERIFIED)
			abort(); /* the input cannot hold a signature of "m" */
	}
	cairn_allowed_signers_free(as);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_sshsig *sig = NULL;
	char fp[CAIRN_SSH_FINGERPRINT_LEN];
	int rc = cairn_sshsig_parse(&sig, (const char *)data, size);

	if (rc < 0) {
		if (sig != NULL ||
		    (rc != CAIRN_EINVAL && rc != CAIRN_EUNSUPPORTED && rc != CAIRN_ELIMIT))
			abort();
		return 0;
	}
	size_t klen;
	const uint8_t *key = cairn_sshsig_key_blob(sig, &klen);

	cairn_ssh_fingerprint(fp, key, klen);
	if (strncmp(fp, "SHA256:", 7) != 0 || cairn_sshsig_namespace(sig)[0] == '\0')
		abort();
	rc = cairn_sshsig_verify(sig, "m", 1);
	if (rc == 0)
		abort();
	check_with_own_key(sig, data, size);
	cairn_sshsig_free(sig);
	return 0;
}
