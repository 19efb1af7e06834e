/*
 * fuzz_kustomization.c - a kustomization and its resources from fuzz bytes,
 * rendered natively from a small temporary tree. The input is split at NUL
 * bytes into kustomization.yaml, a.yaml, b.yaml, sub/kustomization.yaml and
 * sub/c.yaml (missing parts are empty files). Invariants: an error carries
 * one of the render module's codes and a message; a success is an array of
 * objects that can be printed as YAML and JSON and hashed, twice to the
 * same hash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];
static const char *const names[] = {"kustomization.yaml", "a.yaml", "b.yaml",
                                    "sub/kustomization.yaml", "sub/c.yaml"};

static void write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static void check_error(int rc)
{
	if (rc != CAIRN_EINVAL && rc != CAIRN_ELIMIT && rc != CAIRN_ENOMEM && rc != CAIRN_EPERM &&
	    rc != CAIRN_ENOTFOUND && rc != CAIRN_EUNSUPPORTED)
		abort();
	if (cairn_error_last()->message[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_buf out = CAIRN_BUF_INIT(0);
	cairn_tree *t = NULL;
	json_t *objs = NULL;
	char h1[65], h2[65];
	size_t at = 0;
	int rc;

	if (root[0] == '\0') {
		char sub[96];

		snprintf(root, sizeof(root), "/tmp/cairn-fuzz-kust-XXXXXX");
		if (mkdtemp(root) == NULL)
			abort();
		snprintf(sub, sizeof(sub), "%s/sub", root);
		mkdir(sub, 0700);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const uint8_t *nul = at < size ? memchr(data + at, 0, size - at) : NULL;
		size_t end = nul ? (size_t)(nul - data) : size;

		write_file(names[i], data + at, at < size ? end - at : 0);
		at = end < size ? end + 1 : size;
	}
	if (cairn_tree_open_dir(&t, root) < 0)
		abort();
	rc = cairn_render_kustomize(&objs, t, "");
	if (rc < 0) {
		check_error(rc);
		if (objs != NULL)
			abort();
	} else {
		if (!json_is_array(objs))
			abort();
		if (cairn_render_hash(h1, objs) != 0 || cairn_render_hash(h2, objs) != 0 ||
		    strcmp(h1, h2) != 0)
			abort();
		rc = cairn_render_emit(&out, objs, 0);
		if (rc < 0)
			check_error(rc);
		cairn_buf_reset(&out);
		rc = cairn_render_emit(&out, objs, 1);
		if (rc < 0)
			check_error(rc);
	}
	json_decref(objs);
	cairn_tree_free(t);
	cairn_buf_dispose(&out);
	return 0;
}
