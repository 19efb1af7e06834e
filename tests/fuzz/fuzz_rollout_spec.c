/*
 * fuzz_rollout_spec.c - Rollout spec parsing: any JSON document is either
 * accepted with values inside their documented ranges (a 10-character
 * pod-template hash, weights 0..100, at most RO_MAX_STEPS steps, replica
 * arithmetic that never puts the canary above its target) or refused with
 * a message (never a crash, a leak or an unset error).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/rollout/rollout_private.h"
#include "cairn/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_spec(const ro_spec *s)
{
	size_t i;
	int w, c, st;

	if (strlen(s->hash) != 10 || s->n_steps > RO_MAX_STEPS || s->replicas < 0 ||
	    s->max_surge < 0 || s->max_unavailable < 0 || (s->blue_green && !s->active_service))
		abort();
	for (i = 0; i < s->n_steps; i++)
		if (s->steps[i].kind == RO_STEP_WEIGHT &&
		    (s->steps[i].weight < 0 || s->steps[i].weight > 100))
			abort();
	for (w = 0; w <= 100; w += 25) {
		ro_canary_counts(&c, &st, s->replicas, w, -1, s->max_surge, s->max_unavailable, 0,
		                 s->replicas, 0, s->replicas);
		if (c < 0 || st < 0 || c > (w * s->replicas + 99) / 100)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc;
	ro_spec s;

	if (size > 65536)
		return 0;
	doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (doc == NULL)
		return 0;
	(void)cairn_rollout_interpreted_kind(doc);
	cairn_error_clear();
	if (ro_spec_parse(&s, doc) == 0)
		check_spec(&s);
	else if (cairn_error_last()->message[0] == '\0')
		abort();
	json_decref(doc);
	return 0;
}
