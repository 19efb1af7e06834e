/*
 * render_private.h - shared between the files of the render module.
 */
#ifndef CAIRN_RENDER_PRIVATE_H
#define CAIRN_RENDER_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "cairn/source.h"
#include "cairn/yaml.h"

/* One resource being rendered: its object and every name it has had
 * (oldest first), for the name-reference fix-up at the end. */
typedef struct rres {
	json_t *obj;
	json_t *names;
	int hash; /* a generated object whose name takes the content hash */
} rres;

typedef struct rset {
	rres *v;
	size_t n, cap;
} rset;

/* index.c: a hash multimap (hash -> position in an rset), entries never
 * removed; render__rmap_next walks the positions stored under h, starting
 * with *pos == SIZE_MAX, and returns 0 when there are no more. */
struct rmap_ent {
	uint64_t h;
	size_t v;
	int used;
};
struct rmap {
	struct rmap_ent *e;
	size_t cap, n;
	size_t covered; /* rset_append: dst->v[0..covered) are in the map */
};
uint64_t render__hash_mix(uint64_t h, const char *s, size_t n);
#define RENDER_HASH_INIT 0xcbf29ce484222325ULL
int render__rmap_put(struct rmap *m, uint64_t h, size_t v);
int render__rmap_next(const struct rmap *m, uint64_t h, size_t *pos, size_t *v);
void render__rmap_dispose(struct rmap *m);

int rset_add(rset *s, json_t *obj, const char *file);
/* Move src's resources to the end of dst, refusing ids dst already has;
 * idx indexes dst's ids and is kept up to date (NULL: a throw-away one). */
int rset_append(rset *dst, rset *src, const char *file, struct rmap *idx);
void rset_dispose(rset *s);
const char *res_str(const json_t *obj, const char *a, const char *b);
void res_group(const json_t *obj, char *out, size_t size);
int kind_cluster_scoped(const char *kind);
int walk_fields(json_t *node, const char *path, int create,
                int (*fn)(json_t *parent, const char *key, void *ud), void *ud);

int tf_namespace(rset *s, const char *ns, const char *file);
int tf_prefix_suffix(rset *s, const char *prefix, const char *suffix);
int tf_common_labels(rset *s, const json_t *labels, const char *file);
int tf_labels(rset *s, const json_t *list, const char *file);
int tf_annotations(rset *s, const json_t *annotations, const char *file);
int tf_images(rset *s, const json_t *images, const char *file);
int tf_replicas(rset *s, const json_t *replicas, const char *file);
int tf_namerefs(rset *s);

struct cairn_tree;
/* patch.c, smp.c: kustomize's patch transformers (the tree reads `path:`
 * patches, relative to the directory of `file`). */
int tf_patches(rset *s, struct cairn_tree *t, const json_t *list, const char *file);
int tf_patches_smp(rset *s, struct cairn_tree *t, const json_t *list, const char *file);
int tf_patches_json6902(rset *s, struct cairn_tree *t, const json_t *list, const char *file);
int json_patch_apply(json_t *obj, const json_t *ops);
int smp_apply(json_t *obj, const json_t *patch);
void sort_legacy(rset *s);

/* generate.c: configMapGenerator/secretGenerator of kustomization `kz`
 * (file `file` in directory `dir`) into s; then, once the top-level build
 * is done, the content-hash suffixes (gen_hash: kustomize's 10 chars). */
int gen_run(rset *s, cairn_tree *t, const char *dir, const json_t *kz, const char *file);
int gen_hash(char out[11], const json_t *obj);
int gen_hash_names(rset *s);

/* kustomize.c, shared with directory.c: a file's YAML documents, and their
 * objects added to s (empty documents skipped, Lists flattened). */
int load_docs(json_t **out, cairn_tree *t, const char *path, cairn_yaml_profile prof);
int add_docs(rset *s, json_t *docs, const char *path);

#endif
