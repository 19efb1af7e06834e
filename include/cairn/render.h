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
#include <stdint.h>

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

/** Options of cairn_render_directory_opts(): Argo CD's `directory` source. */
typedef struct cairn_render_dir_opts {
	unsigned int version; /**< CAIRN_RENDER_DIR_OPTS_VERSION */
	int recurse;          /**< also the files of subdirectories */
	/** Glob a file's path relative to `dir` must match to be read (NULL or
	 * "": every file). Argo CD's glob syntax: `*` (any run of characters,
	 * '/' included), `?`, `[a-z]`, `[!x]`, `{a,b}` alternatives (nestable),
	 * `\` escapes. */
	const char *include;
	/** Glob of files left out, checked before `include` (NULL or "": none). */
	const char *exclude;
} cairn_render_dir_opts;

#define CAIRN_RENDER_DIR_OPTS_VERSION 1
#define CAIRN_RENDER_DIR_OPTS_INIT                                                                 \
	{                                                                                          \
		CAIRN_RENDER_DIR_OPTS_VERSION, 0, NULL, NULL                                       \
	}

/**
 * cairn_render_directory() with Argo CD's `directory` options: only the
 * .yaml, .yml and .json files whose path relative to `dir` matches
 * `include` and does not match `exclude` are read.
 *
 * @param opts  NULL means CAIRN_RENDER_DIR_OPTS_INIT; borrowed.
 * @return as cairn_render_directory(); also CAIRN_EINVAL for a malformed
 *         glob (unclosed `[` or `{`, trailing `\`) or an unknown
 *         `opts->version`, and CAIRN_ELIMIT for a glob of more than 1,024
 *         alternatives. `out` is untouched on failure. Thread-safety: as
 *         cairn_render_directory().
 */
int cairn_render_directory_opts(json_t **out, cairn_tree *t, const char *dir,
                                const cairn_render_dir_opts *opts);

/**
 * Whether `path` matches `pattern` in the glob syntax of
 * cairn_render_dir_opts (Argo CD's). Returns 1, 0, CAIRN_EINVAL (malformed
 * pattern, message set) or CAIRN_ELIMIT. Thread-safe.
 */
int cairn_render_glob_match(const char *pattern, const char *path);

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

/* ---- substitution, environment overrides, plugins, the pipeline ---------- */

/** Flag of the substitution calls: an undefined variable becomes "". */
#define CAIRN_RENDER_SUBST_LENIENT 1u

/**
 * Substitute `${...}` expressions in `text` as Flux's post-build
 * substitution does (docs/render.md, "Substitution"): `${var}`,
 * `${var:=default}` (also `:-`; the default is used when the variable is
 * unset or empty), `${var=default}` (also `-`; only when unset),
 * `${var:position}`, `${var:position:length}`, `${var/substring/replacement}`
 * (first match); `$${` is a literal `${`; `$var` and text whose name does
 * not match `^[_a-zA-Z][_a-zA-Z0-9]*$` are left alone.
 * @param out    the result is appended (untouched on failure).
 * @param vars   object of string values (borrowed), or NULL.
 * @param flags  0 (strict: an undefined variable without default is an
 *               error) or CAIRN_RENDER_SUBST_LENIENT.
 * @param what   names the input in messages (e.g. "Deployment 'ns/web'").
 * @return 0, CAIRN_EINVAL (undefined variable, naming it and `what`; an
 *         operator this dialect lacks; no closing brace), CAIRN_ELIMIT.
 * Thread-safe.
 */
int cairn_render_subst_text(cairn_buf *out, const char *text, size_t len, const json_t *vars,
                            unsigned flags, const char *what);

/**
 * Substitute every object of a manifest set through its YAML text, which
 * is parsed again (kubectl's scalar profile: `3` becomes an integer, `true`
 * a boolean). Objects labelled or annotated
 * `kustomize.toolkit.fluxcd.io/substitute: disabled` are kept as they are.
 * @param out  on success a new array (caller owns); objects without an
 *             expression are shared with `objs` (borrowed).
 * @return as cairn_render_subst_text(). Thread-safe.
 */
int cairn_render_subst(json_t **out, const json_t *objs, const json_t *vars, unsigned flags);

/** An external renderer (Argo CD config-management-plugin style). */
typedef struct cairn_render_plugin {
	const char *name;           /**< for messages */
	const char *const *command; /**< argv, NULL-terminated; argv[0] looked up in PATH */
	int64_t timeout_ms;         /**< 0: CAIRN_RENDER_PLUGIN_TIMEOUT_MS */
} cairn_render_plugin;

/** Default plugin timeout: 90 s, Argo CD's exec timeout. */
#define CAIRN_RENDER_PLUGIN_TIMEOUT_MS 90000

/**
 * Run a plugin on directory `dir` of `t`: the directory (recursively) is
 * copied into a new temporary directory, the command runs there with a
 * clean environment (PATH=/usr/local/bin:/usr/bin:/bin, HOME the
 * temporary directory, ARGOCD_APP_NAME, ARGOCD_APP_SOURCE_PATH, and one
 * ARGOCD_ENV_<NAME>=value per entry of `params`, as Argo CD names a
 * plugin's environment), and its stdout is read as a YAML stream of
 * objects (kubectl's profile; `kind: List` flattened). The temporary
 * directory is removed afterwards.
 * @param params  object of string values (borrowed) or NULL; names must
 *                match `^[_a-zA-Z][_a-zA-Z0-9]*$`.
 * @param app     the Application's name for ARGOCD_APP_NAME, or NULL.
 * @return 0 with `out` a new array; CAIRN_ENOTFOUND (no such command);
 *         CAIRN_ETIMEOUT; CAIRN_EINVAL (non-zero exit, naming the plugin and
 *         quoting its stderr; output that is not objects); CAIRN_EPERM and
 *         CAIRN_ELIMIT from reading the tree. Thread-safe for distinct trees.
 */
int cairn_render_plugin_run(json_t **out, cairn_tree *t, const char *dir,
                            const cairn_render_plugin *p, const json_t *params, const char *app);

#define CAIRN_RENDER_OPTS_VERSION 1

/** What cairn_render_build() renders, and the environment it renders for. */
typedef struct cairn_render_opts {
	unsigned int version; /**< CAIRN_RENDER_OPTS_VERSION */
	const char *path;     /**< directory in the tree; NULL or "" the root */
	int recursive;        /**< plain directories: subdirectories too */
	const char *include;  /**< plain directories: Argo CD `directory.include` glob, or NULL */
	const char *exclude;  /**< plain directories: `directory.exclude` glob, or NULL */
	/** Refuse sources of this kind with a message ("helm chart 'x'"):
	 *  set when the source is a Helm chart and no plugin renders it. */
	const char *refuse;
	const cairn_render_plugin *plugin; /**< non-NULL: render with it */
	const json_t *plugin_params;       /**< object of strings, or NULL */
	const char *app;                   /**< Application name, or NULL */
	const json_t *vars;     /**< substitution variables (object of strings) or NULL */
	unsigned subst_flags;   /**< 0 or CAIRN_RENDER_SUBST_LENIENT */
	int no_subst;           /**< 1: skip substitution */
	const json_t *images;   /**< kustomize-style images overrides, or NULL */
	const json_t *replicas; /**< kustomize-style replicas overrides, or NULL */
	const char *namespace_; /**< namespaced objects without one get it */
	/** NULL, or a recorder told which input set each path (provenance). */
	struct cairn_render_prov *prov;
} cairn_render_opts;

#define CAIRN_RENDER_OPTS_INIT                                                                     \
	{                                                                                          \
		.version = CAIRN_RENDER_OPTS_VERSION                                               \
	}

/**
 * Render an Application's source in an Environment: the kustomization in
 * `path` (native), else a plain directory, or the plugin when one is set;
 * then `${var}` substitution; then the environment's image overrides,
 * replica overrides (as kustomize's `images` and `replicas` fields) and
 * namespace. Same inputs, same objects and same hash.
 * @param out       on success a new array of objects (caller owns).
 * @param hash      NULL or on success the render hash (cairn_render_hash()).
 * @param t         the source tree (a git commit or a local directory).
 * @return 0 or the errors of the stages, CAIRN_EUNSUPPORTED for `refuse`.
 * Thread-safety: one tree is used by one thread at a time.
 */
int cairn_render_build(json_t **out, char hash[65], cairn_tree *t, const cairn_render_opts *opts);

/* ---- provenance: which input set each path ------------------------------- */

/** Where a rendered path came from. */
typedef enum cairn_render_origin_kind {
	CAIRN_ORIGIN_NONE = 0,      /**< nothing recorded */
	CAIRN_ORIGIN_RESOURCE,      /**< a resource file (file) */
	CAIRN_ORIGIN_TRANSFORMER,   /**< a field of a kustomization (file; detail: the field) */
	CAIRN_ORIGIN_PATCH,         /**< a patch (file: the kustomization; detail: the patch) */
	CAIRN_ORIGIN_GENERATOR,     /**< a configMap/secretGenerator (file: the kustomization) */
	CAIRN_ORIGIN_ENV_VARS,      /**< substitution (detail: the variables) */
	CAIRN_ORIGIN_ENV_OVERRIDES, /**< the environment's images/replicas/namespace (detail) */
	CAIRN_ORIGIN_APP,           /**< the Application (its variables; detail) */
} cairn_render_origin_kind;

/** One origin: borrowed from the recorder, valid until it is freed. */
typedef struct cairn_render_origin {
	cairn_render_origin_kind kind;
	const char *file;   /**< path in the tree, or NULL */
	const char *detail; /**< e.g. "namePrefix", "patch 'p.yaml'", "variables TAG", or NULL */
} cairn_render_origin;

/** A provenance recorder (opaque). */
typedef struct cairn_render_prov cairn_render_prov;

/**
 * A new, empty recorder. Put it in cairn_render_opts.prov: each stage of
 * cairn_render_build() then snapshots the objects before it runs and
 * records, for each JSON path that changed (and for each new object, at
 * its root), which input did it. Recording costs a deep copy of the set
 * per step; without a recorder nothing is copied.
 * @param out  the recorder (free with cairn_render_prov_free()).
 * @return 0 or CAIRN_ENOMEM. Thread-safety: one recorder per render.
 */
int cairn_render_prov_new(cairn_render_prov **out);

/** Free a recorder (NULL is fine); its origins become invalid. */
void cairn_render_prov_free(cairn_render_prov *p);

/**
 * Say that substitution variable `name` comes from the Application (not
 * the environment), so paths it sets are labelled CAIRN_ORIGIN_APP.
 * @return 0 or CAIRN_ENOMEM.
 */
int cairn_render_prov_var_from_app(cairn_render_prov *p, const char *name);

/**
 * The origin of `path` (a JSON pointer, "" the whole object) of `obj`, an
 * object of the set the recorded render returned (found by identity, so
 * pass the very element of the output array): the last recorded change at
 * `path` or at one of its ancestors, else the last one below `path`.
 * @return 1 with `out` set, 0 when nothing is recorded (`out` untouched).
 * Thread-safe for concurrent readers.
 */
int cairn_render_prov_find(cairn_render_origin *out, const cairn_render_prov *p, const json_t *obj,
                           const char *path);

/** A short lower-case name of `kind` ("resource", "patch", ...). */
const char *cairn_render_origin_kind_name(cairn_render_origin_kind kind);

/**
 * The JSON pointers (RFC 6901) at which `a` and `b` differ: scalars that
 * differ, keys present on one side only, arrays of different lengths (the
 * array itself); in document order, `a`'s keys first.
 * @param out  on success a new array of strings (caller owns).
 * @return 0, CAIRN_ENOMEM, CAIRN_ELIMIT (deeper than 256 levels).
 * Thread-safe.
 */
int cairn_render_json_diff(json_t **out, const json_t *a, const json_t *b);

#ifdef __cplusplus
}
#endif
#endif
