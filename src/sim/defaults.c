/*
 * defaults.c - the API server's defaulting of built-in kinds.
 */
#include "sim/objects.h"

#include "cairn/error.h"

int sim_default(json_t *obj)
{
	(void)obj;
	return cairn_error_set(CAIRN_EUNSUPPORTED, "defaulting is not implemented yet");
}
