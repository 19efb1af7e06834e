/* fuzz_validate.c - the validate pipeline (YAML load with the kubectl
 * profile, List flattening, object checks, findings and both output forms)
 * on the input as a file's bytes, without a schema set. */
#include <stddef.h>
#include <stdint.h>

#include "cairn/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_buf text = CAIRN_BUF_INIT(0);
	cairn_validation v;
	json_t *j = NULL;

	cairn_validation_init(&v);
	if (cairn_validate_bytes(&v, (const char *)data, size, "fuzz.yaml", NULL) == 0) {
		cairn_validation_write_text(&text, &v);
		if (cairn_validation_to_json(&j, &v) == 0)
			json_decref(j);
	}
	cairn_buf_dispose(&text);
	cairn_validation_dispose(&v);
	return 0;
}
