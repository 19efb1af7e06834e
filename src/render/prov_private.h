/*
 * prov_private.h - how the render stages report to a provenance recorder
 * (provenance.c). Every call is a no-op when the recorder is NULL, so an
 * unrecorded render pays nothing but a pointer test.
 */
#ifndef CAIRN_PROV_PRIVATE_H
#define CAIRN_PROV_PRIVATE_H

#include <jansson.h>

#include "cairn/render.h"
#include "render_private.h"

/* The objects of a set before a step: their pointers and deep copies. */
typedef struct prov_snap {
	json_t **ptr;
	json_t **copy;
	size_t n;
} prov_snap;

/* Snapshot the objects of `s` (or of the array `arr`) before a step. */
int prov__snap_rset(prov_snap *snap, cairn_render_prov *p, const rset *s);
int prov__snap_array(prov_snap *snap, cairn_render_prov *p, const json_t *arr);

/* After the step: record every path that changed (and every new object,
 * at its root) with this origin, then free the snapshot. `vars`: the
 * substitution variables, for naming the ones a changed value used. */
int prov__commit_rset(prov_snap *snap, cairn_render_prov *p, const rset *s,
                      cairn_render_origin_kind kind, const char *file, const char *detail);
int prov__commit_array(prov_snap *snap, cairn_render_prov *p, const json_t *arr,
                       cairn_render_origin_kind kind, const char *file, const char *detail);
void prov__snap_dispose(prov_snap *snap);

/* The records of from[i] now belong to to[i] (a stage made new objects). */
int prov__rekey(cairn_render_prov *p, const json_t *from, const json_t *to);

/* A stage that made new objects, one for one and in order, from the
 * snapshot's: hand the records over and record what changed. */
int prov__commit_stage(prov_snap *snap, cairn_render_prov *p, const json_t *to,
                       cairn_render_origin_kind kind, const char *detail);

/* Record the whole of each object of `s` as coming from `file`. */
int prov__resources(cairn_render_prov *p, const rset *s, const char *file);

/* kustomize.c: cairn_render_kustomize() that reports to `p`. */
int kustomize__build(json_t **out, cairn_tree *t, const char *dir, cairn_render_prov *p);

#endif
