/*
 * fuzz_duration.c - cairn_duration_parse: when it accepts the input,
 * formatting the value and parsing that again must give the same value.
 * Likewise cairn_time_parse with cairn_time_format, which keeps
 * microseconds: the formatted time must parse back exactly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], out[CAIRN_DURATION_LEN], when[CAIRN_TIME_RFC3339_LEN];
	int64_t ns, back;
	cairn_usec t, t2;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (cairn_duration_parse(&ns, text) == 0) {
		cairn_duration_format(out, ns);
		if (cairn_duration_parse(&back, out) != 0 || back != ns)
			abort();
	} else if (cairn_error_last()->code != CAIRN_EINVAL &&
	           cairn_error_last()->code != CAIRN_ELIMIT) {
		abort();
	}

	if (cairn_time_parse(&t, text) == 0) {
		cairn_time_format(when, t);
		if (cairn_time_parse(&t2, when) != 0 || t2 != t)
			abort();
	}
	return 0;
}
