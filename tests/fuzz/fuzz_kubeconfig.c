/*
 * fuzz_kubeconfig.c - kubeconfig bytes as they arrive from a repository or
 * the API (untrusted): parsed and every context resolved without the
 * trusted flag. A config that resolves has an http(s) server, and TLS
 * verification is off only when the bytes said so.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {NULL, "a", "b", "ctx-a", "ctx-b", "x"};
	cairn_kubeconfig *kc = NULL;

	if (cairn_kubeconfig_parse(&kc, (const char *)data, size, "fuzz.yaml", 0) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cairn_kube_config *cfg = NULL;

		if (cairn_kube_config_resolve(&cfg, kc, names[i]) != 0)
			continue;
		if (strncmp(cfg->server, "https://", 8) != 0 &&
		    strncmp(cfg->server, "http://", 7) != 0)
			abort();
		if (cfg->insecure && memmem(data, size, "insecure-skip-tls-verify", 24) == NULL)
			abort();
		cairn_kube_config_free(cfg);
	}
	cairn_kubeconfig_free(kc);
	return 0;
}
