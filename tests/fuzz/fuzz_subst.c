/*
 * fuzz_subst.c - cairn_render_subst_text on arbitrary text with a few
 * variables, strict and lenient. Invariants: an error has a known code and
 * a message and leaves the output untouched; text without "${" comes back
 * unchanged; lenient never fails on an undefined variable; whatever the
 * strict run produces the lenient run produces too. The first byte picks
 * whether the text is also run as a YAML object through cairn_render_subst.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *vars;

static void check_error(int rc, const cairn_buf *b)
{
	if (rc != CAIRN_EINVAL && rc != CAIRN_ELIMIT && rc != CAIRN_ENOMEM)
		abort();
	if (cairn_error_last()->message[0] == '\0' || b->len != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_buf strict = CAIRN_BUF_INIT(1 << 20), lenient = CAIRN_BUF_INIT(1 << 20);
	const char *text = (const char *)data;
	int rs, rl;

	if (vars == NULL)
		vars = json_pack("{s:s,s:s,s:s,s:s}", "A", "3", "B", "true", "EMPTY", "", "LONG",
		                 "abcdefghijklmnopqrstuvwxyz");
	rs = cairn_render_subst_text(&strict, text, size, vars, 0, "fuzz");
	rl = cairn_render_subst_text(&lenient, text, size, vars, CAIRN_RENDER_SUBST_LENIENT,
	                             "fuzz");
	if (rs < 0)
		check_error(rs, &strict);
	if (rl < 0)
		check_error(rl, &lenient);
	if (rl < 0 && strncmp(cairn_error_last()->message, "variable '", 10) == 0)
		abort();
	if (rs == 0 && (rl != 0 || strict.len != lenient.len ||
	                (strict.len && memcmp(strict.ptr, lenient.ptr, strict.len) != 0)))
		abort();
	if (rs == 0 && memmem(text, size, "${", 2) == NULL &&
	    (strict.len != size || (size && memcmp(strict.ptr, text, size) != 0)))
		abort();
	if (size > 0 && data[0] == '#') {
		json_t *objs = json_pack("[{s:s,s:s,s:{s:s},s:{s:s#}}]", "apiVersion", "v1", "kind",
		                         "ConfigMap", "metadata", "name", "x", "data", "k", text,
		                         (int)size);
		json_t *out = NULL;

		if (objs && cairn_render_subst(&out, objs, vars, CAIRN_RENDER_SUBST_LENIENT) == 0 &&
		    !json_is_array(out))
			abort();
		json_decref(out);
		json_decref(objs);
	}
	cairn_buf_dispose(&strict);
	cairn_buf_dispose(&lenient);
	return 0;
}
