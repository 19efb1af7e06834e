/*
 * cairn/yaml.h - YAML streams to jansson documents and back.
 *
 * Loading: libyaml events are turned into json_t trees, one per document of
 * a stream. Scalars are typed by one of two profiles, because the tools our
 * users compare against differ:
 *   - CAIRN_YAML_KUSTOMIZE: exactly as `kubectl kustomize` resolves plain
 *     scalars (YAML 1.2 core-ish: `on`, `yes`, `no`, `y` stay strings;
 *     `true`/`false`, `null`/`~`/empty are typed; `0777` is 511; `1e3` is
 *     1000);
 *   - CAIRN_YAML_KUBECTL: as `kubectl apply -f` reads plain files (YAML 1.1:
 *     `yes`/`on` become true).
 * Quoted scalars, and scalars tagged `!!str`, are always strings. Anchors,
 * aliases and merge keys (`<<`) are supported; duplicate keys are an error;
 * key order is kept. Every hostile-input limit in cairn_yaml_opts is a
 * clear CAIRN_ELIMIT error naming file, line and column, never unbounded
 * memory or CPU. Invalid UTF-8, tabs in indentation and truncated files are
 * CAIRN_EINVAL errors naming file, line and column.
 *
 * Emitting: json_t documents to YAML with `kubectl kustomize`'s output
 * conventions (2-space indent, block style, sequences under a key not
 * indented, map keys sorted, `---` between documents, strings quoted when
 * YAML 1.1 or 1.2 would read them as another type, block literals for
 * multi-line strings). Load -> emit -> load is stable.
 */
#ifndef CAIRN_YAML_H
#define CAIRN_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "cairn/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_YAML_KUSTOMIZE = 0,
	CAIRN_YAML_KUBECTL = 1,
} cairn_yaml_profile;

#define CAIRN_YAML_OPTS_VERSION 1

/** Options for cairn_yaml_load(). A zero limit means "use the default". */
typedef struct cairn_yaml_opts {
	unsigned int version; /**< CAIRN_YAML_OPTS_VERSION */
	cairn_yaml_profile profile;
	size_t max_input_bytes;  /**< whole stream; default 64 MiB */
	size_t max_scalar_bytes; /**< one scalar; default 16 MiB */
	size_t max_depth;        /**< nesting of collections; default 512 */
	size_t max_documents;    /**< documents in a stream; default 100000 */
	size_t max_nodes;        /**< nodes after alias expansion, whole stream;
	                                default 10,000,000 */
	size_t max_alias_ratio;  /**< alias budget, after go-yaml's: nodes
	                                copied from aliases may be at most
	                                10x this factor times the nodes parsed
	                                while the stream has up to 400,000
	                                nodes, falling linearly to this factor
	                                at 4,000,000; nothing is refused below
	                                1,000 copied nodes; default 10 */
} cairn_yaml_opts;

#define CAIRN_YAML_OPTS_INIT                                                                       \
	{                                                                                          \
		CAIRN_YAML_OPTS_VERSION, CAIRN_YAML_KUSTOMIZE, 0, 0, 0, 0, 0, 0                    \
	}

/** Positions of the nodes of a loaded stream (see cairn_yaml_load()). */
typedef struct cairn_yaml_marks cairn_yaml_marks;

/**
 * Parse a YAML (or JSON) stream.
 *
 * @param out_docs   on success, a new JSON array holding one element per
 *                   document, in order; an empty document is json null.
 *                   The caller owns the reference (json_decref()).
 * @param out_marks  NULL, or on success a new position table (caller frees
 *                   with cairn_yaml_marks_free()).
 * @param data, len  the bytes; need not be NUL-terminated.
 * @param filename   used in error messages and marks only (may be NULL).
 * @param opts       NULL for defaults (kustomize profile).
 * @return 0, or CAIRN_EINVAL / CAIRN_ELIMIT / CAIRN_ENOMEM with the error
 *         (file:line:column) in cairn_error_last(). Outputs untouched on
 *         failure. Thread-safe.
 */
int cairn_yaml_load(json_t **out_docs, cairn_yaml_marks **out_marks, const char *data, size_t len,
                    const char *filename, const cairn_yaml_opts *opts);

/** Read a file and cairn_yaml_load() it; errors name the file. */
int cairn_yaml_load_file(json_t **out_docs, cairn_yaml_marks **out_marks, const char *path,
                         const cairn_yaml_opts *opts);

/**
 * Where a node starts in the input: document index `doc` (0-based) and an
 * RFC 6901 JSON pointer inside it ("" is the document itself). When the
 * exact node is unknown the nearest ancestor's position is returned.
 * Lines and columns count from 1. Returns 0 or CAIRN_ENOTFOUND.
 */
int cairn_yaml_marks_lookup(const cairn_yaml_marks *marks, size_t doc, const char *pointer,
                            int *line, int *column);

/** Number of documents the marks describe. */
size_t cairn_yaml_marks_count(const cairn_yaml_marks *marks);

/** Free a position table; accepts NULL. */
void cairn_yaml_marks_free(cairn_yaml_marks *marks);

/**
 * Append the YAML of one document to `out` with kustomize's conventions
 * (no leading `---`, ends with a newline). Borrows `doc`.
 * Returns 0, CAIRN_EINVAL (e.g. a non-finite real) or CAIRN_ELIMIT.
 */
int cairn_yaml_emit(cairn_buf *out, const json_t *doc);

/**
 * Append several documents separated by "---\n", as `kubectl kustomize`
 * prints a stream. Borrows the array and its elements.
 */
int cairn_yaml_emit_stream(cairn_buf *out, const json_t *docs);

#ifdef __cplusplus
}
#endif
#endif
