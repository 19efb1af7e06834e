/*
 * fuzz_semver.c - version and constraint parsing: no crash, and ordering
 * is antisymmetric for any two versions parsed from the input halves.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[2048];
	cairn_semver_constraint *c = NULL;
	cairn_semver a, b;
	char *half;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cairn_semver_constraint_parse(&c, text) == 0) {
		if (cairn_semver_parse(&a, "1.2.3", 0) == 0)
			(void)cairn_semver_constraint_match(c, &a);
		cairn_semver_constraint_free(c);
	}
	half = strchr(text, '\n');
	if (half) {
		*half++ = '\0';
		if (cairn_semver_parse(&a, text, 1) == 0 && cairn_semver_parse(&b, half, 1) == 0) {
			int x = cairn_semver_compare(&a, &b), y = cairn_semver_compare(&b, &a);
			if ((x > 0) != (y < 0) || (x == 0) != (y == 0))
				abort();
		}
	}
	return 0;
}
