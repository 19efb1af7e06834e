/*
 * merge.c - RFC 7386 JSON merge patch and Kubernetes strategic merge patch.
 */
#include "sim/objects.h"

#include "cairn/error.h"

int sim_patch_merge(json_t **out, const json_t *target, const json_t *patch)
{
	(void)out, (void)target, (void)patch;
	return cairn_error_set(CAIRN_EUNSUPPORTED, "merge patch is not implemented yet");
}

int sim_patch_strategic(json_t **out, const json_t *target, const json_t *patch)
{
	(void)out, (void)target, (void)patch;
	return cairn_error_set(CAIRN_EUNSUPPORTED, "strategic merge patch is not implemented yet");
}
