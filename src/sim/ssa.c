/*
 * ssa.c - server-side apply and managed fields (FieldsV1).
 */
#include "sim/objects.h"

#include "cairn/error.h"

int sim_apply(json_t **out, const json_t *live, const json_t *applied, const sim_apply_opts *opts)
{
	(void)out, (void)live, (void)applied, (void)opts;
	return cairn_error_set(CAIRN_EUNSUPPORTED, "server-side apply is not implemented yet");
}

int sim_managed_update(json_t *obj, const json_t *old, const char *manager, const char *now)
{
	(void)obj, (void)old, (void)manager, (void)now;
	return cairn_error_set(CAIRN_EUNSUPPORTED, "managed fields are not implemented yet");
}
