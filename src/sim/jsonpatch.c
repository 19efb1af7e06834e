/*
 * jsonpatch.c - RFC 6902 JSON patch with RFC 6901 pointers.
 */
#include "sim/objects.h"

#include "cairn/error.h"

int sim_patch_json(json_t **out, const json_t *target, const json_t *ops)
{
	(void)out, (void)target, (void)ops;
	return cairn_error_set(CAIRN_EUNSUPPORTED, "json patch is not implemented yet");
}
