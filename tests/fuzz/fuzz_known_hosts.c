/*
 * fuzz_known_hosts.c - cairn_source_known_hosts_parse on arbitrary text,
 * then a lookup of a fixed host with a fixed key.
 */
#include <stddef.h>
#include <stdint.h>

#include "cairn/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[] = {0,   0,   0,   11,  's', 's', 'h', '-',
	                              'e', 'd', '2', '5', '5', '1', '9'};
	cairn_source_known_hosts *kh = NULL;

	if (size > (1 << 16))
		return 0;
	if (cairn_source_known_hosts_parse(&kh, "fuzz", (const char *)data, size) == 0) {
		(void)cairn_source_known_hosts_check(kh, "git.example", 22, key, sizeof(key));
		(void)cairn_source_known_hosts_check(kh, "h", 2222, key, sizeof(key));
		cairn_source_known_hosts_free(kh);
	}
	return 0;
}
