/*
 * fuzz_sim_patch.c - the simulator's object transformations on arbitrary
 * inputs. The input is a JSON array [target, patch]: the pair goes through
 * the JSON merge patch, the strategic merge patch, the JSON patch (when the
 * patch is a list), server-side apply (the target as the live object, the
 * patch as the applied configuration, with and without force, then again on
 * its own result), the managed fields of an update, and defaulting. Nothing
 * may crash or leak; a JSON merge patch applied twice must give what it
 * gave once (RFC 7386 patches are idempotent), and defaulting twice must
 * change nothing; otherwise abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "sim/objects.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_merge(const json_t *target, const json_t *patch)
{
	json_t *once = NULL, *twice = NULL;

	if (sim_patch_merge(&once, target, patch) == 0 &&
	    sim_patch_merge(&twice, once, patch) == 0 && !json_equal(once, twice))
		abort();
	json_decref(once);
	json_decref(twice);
}

static void check_apply(const json_t *live, const json_t *applied)
{
	sim_apply_opts opts = {"fuzz", 0, 0, "2026-01-01T00:00:00Z"};
	json_t *out = NULL, *again = NULL;

	if (sim_apply(&out, live, applied, &opts) == 0) {
		opts.manager = "other";
		opts.force = 1;
		if (sim_apply(&again, out, applied, &opts) == 0)
			json_decref(again);
		again = NULL;
		opts.subresource_status = 1;
		if (sim_apply(&again, out, applied, &opts) == 0)
			json_decref(again);
		json_decref(out);
	}
}

static void check_default(const json_t *v)
{
	json_t *a = json_deep_copy(v), *b;

	if (a == NULL)
		return;
	sim_default(a);
	b = json_deep_copy(a);
	sim_default(b);
	if (!json_equal(a, b))
		abort();
	json_decref(a);
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = NULL, *target, *patch, *out = NULL;

	if (size > 65536 || cairn_json_parse(&in, (const char *)data, size, "fuzz.json") < 0)
		return 0;
	if (!json_is_array(in) || json_array_size(in) != 2)
		goto out;
	target = json_array_get(in, 0);
	patch = json_array_get(in, 1);
	check_merge(target, patch);
	if (sim_patch_strategic(&out, target, patch) == 0)
		json_decref(out);
	out = NULL;
	if (sim_patch_json(&out, target, patch) == 0)
		json_decref(out);
	out = NULL;
	check_apply(json_is_object(target) ? target : NULL, patch);
	if (json_is_object(patch)) {
		json_t *copy = json_deep_copy(patch);

		if (copy && sim_managed_update(copy, json_is_object(target) ? target : NULL,
		                               "fuzz-update", "2026-01-01T00:00:00Z") == 0)
			check_apply(copy, patch);
		json_decref(copy);
	}
	check_default(target);
	check_default(patch);
out:
	json_decref(in);
	return 0;
}
