/*
 * cairn/render.h - from a source tree to a manifest set.
 *
 * Two sources are read through the read-only cairn_tree interface
 * (cairn/source.h), so the same code renders a git commit's tree and a
 * local directory, and no path may leave the tree's root:
 *   - a kustomization, rendered natively with byte parity with
 *     `kubectl kustomize` for the fields listed in docs/render.md; any other
 *     kustomization field is refused (CAIRN_EUNSUPPORTED naming the field and
 *     the file), never rendered wrongly;
 *   - a plain directory of .yaml, .yml and .json files (kubectl's scalar
 *     profile), multi-document, `kind: List` flattened.
 *
 * A rendered manifest set is a JSON array of objects. cairn_render_hash()
 * gives the render hash of DESIGN §3: SHA-256 over the RFC 8785 canonical
 * JSON of the objects sorted by group/kind/namespace/name.
 */
#ifndef CAIRN_RENDER_H
#define CAIRN_RENDER_H

#include <jansson.h>

#include "cairn/buf.h"
#include "cairn/source.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most bytes of one file read while rendering. */
#define CAIRN_RENDER_FILE_MAX (16u * 1024 * 1024)
/** Most kustomizations nested inside each other. */
#define CAIRN_RENDER_DEPTH_MAX 64
/** Most objects in one rendered set. */
#define CAIRN_RENDER_OBJECTS_MAX 200000

/**
 * Render the kustomization in directory `dir` of tree `t` ("" is the root).
 *
 * @param out  on success a new array of the objects in `kubectl kustomize`'s
 *             output order (legacy kind order); the caller owns it.
 * @return 0; CAIRN_ENOTFOUND (no kustomization file in `dir`);
 *         CAIRN_EUNSUPPORTED (a field or resource form the native renderer
 *         does not implement: the message names it and the file);
 *         CAIRN_EPERM (a path leaving the tree); CAIRN_EINVAL (bad YAML,
 *         a cycle of kustomizations, duplicate objects, bad field values);
 *         CAIRN_ELIMIT. `out` is untouched on failure.
 * Thread-safety: one tree is used by one thread at a time.
 */
int cairn_render_kustomize(json_t **out, cairn_tree *t, const char *dir);

/**
 * Render a plain directory: every .yaml, .yml and .json file of `dir`
 * (and of its subdirectories when `recursive`), in path order, each
 * document in order, `kind: List` items flattened, empty documents skipped.
 * Scalars are typed as `kubectl apply` reads them.
 *
 * @param out  on success a new array of objects (caller owns).
 * @return 0, CAIRN_ENOTFOUND, CAIRN_EINVAL (bad YAML or a document that is
 *         not an object with apiVersion and kind), CAIRN_EPERM, CAIRN_ELIMIT.
 */
int cairn_render_directory(json_t **out, cairn_tree *t, const char *dir, int recursive);

/**
 * Whether `dir` of `t` holds a kustomization file (kustomization.yaml,
 * kustomization.yml or Kustomization). Returns 1, 0, or a negative error.
 */
int cairn_render_is_kustomization(cairn_tree *t, const char *dir);

/**
 * The render hash of a manifest set: lower-case hex SHA-256 of the JCS bytes
 * of the array of `objs` sorted by (group, kind, namespace, name). The
 * input order does not matter. Borrows `objs`.
 * @return 0, CAIRN_EINVAL (an element is not an object), CAIRN_ENOMEM.
 * Thread-safe.
 */
int cairn_render_hash(char hex[65], const json_t *objs);

/**
 * Append a manifest set to `out`: as a YAML stream exactly as
 * `kubectl kustomize` prints it (`json` = 0), or as one JSON document
 * `{"apiVersion":"v1","kind":"List","items":[...]}` with two-space
 * indentation and a final newline (`json` = 1). Borrows `objs`.
 */
int cairn_render_emit(cairn_buf *out, const json_t *objs, int json);

#ifdef __cplusplus
}
#endif
#endif
