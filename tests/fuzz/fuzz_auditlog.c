/*
 * fuzz_auditlog.c - arbitrary bytes as an audit.log (and, after a "\0CP\0"
 * separator, as audit.checkpoints) through the in-memory verifier, the line
 * parser and the proof reader: never crash, never leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "audit/audit_private.h"
#include "cairn/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\0CP\0";
	cairn_audit_verify_opts o = CAIRN_AUDIT_VERIFY_OPTS_INIT;
	cairn_audit_verify_result r;
	cairn_audit_verifier v;
	const char *log = (const char *)data, *cps = NULL;
	size_t log_len = size, cps_len = 0;
	json_t *j;

	if (size < 1)
		return 0;
	/* a fixed verifier; fast mode (by the first byte) lets the chain checks run on
	 * inputs whose signatures cannot verify */
	memset(&v, 0, sizeof(v));
	memcpy(v.name, "k1", 3);
	audit__key_id(v.key_id, v.name, v.pub);
	o.trusted = &v;
	o.fast = data[0] & 1;
	for (size_t i = 0; i + 4 <= size; i++) {
		if (memcmp(data + i, sep, 4) == 0) {
			log_len = i;
			cps = (const char *)data + i + 4;
			cps_len = size - i - 4;
			break;
		}
	}
	cairn_audit_verify_mem(&r, log, log_len, cps, cps_len, &o);
	/* each line alone through the parser */
	for (size_t off = 0; off < log_len;) {
		const char *nl = memchr(log + off, '\n', log_len - off);
		size_t ll = nl ? (size_t)(nl - (log + off)) : log_len - off;
		struct audit_parsed p;

		if (audit__entry_parse(&p, log + off, ll, 1) == 0)
			json_decref(p.json);
		off += ll + 1;
	}
	/* the bytes as a proof file */
	j = json_loadb(log, log_len, 0, NULL);
	if (j != NULL) {
		cairn_audit_proof p;

		if (cairn_audit_proof_from_json(&p, j) == 0) {
			cairn_audit_check_proof(&p, &v);
			cairn_audit_proof_dispose(&p);
		}
		json_decref(j);
	}
	return 0;
}
