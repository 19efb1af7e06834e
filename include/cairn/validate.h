/*
 * cairn/validate.h - the library side of `cairn validate FILE|DIR...`:
 * walk files and directories, load every YAML/JSON document as `kubectl
 * apply -f` reads plain files, check that each is a Kubernetes object
 * (cairn_k8s_check_object()) and, with a schema set, that it follows its
 * OpenAPI schema (cairn_schema_validate()). Every problem becomes a finding
 * with the file, line and column of the node it is about.
 *
 * A cairn_validation collects the findings of one run; it is not shared
 * between threads (distinct runs in distinct threads are fine).
 */
#ifndef CAIRN_VALIDATE_H
#define CAIRN_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

#include "cairn/buf.h"
#include "cairn/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_SEVERITY_ERROR = 0, /**< makes `cairn validate` exit 1 */
	CAIRN_SEVERITY_WARNING,   /**< reported, does not fail the run */
} cairn_severity;

/** One problem, at a place in a file. */
typedef struct cairn_finding {
	char *file;      /**< as given or as found by the walk; owned by the validation */
	int line;        /**< from 1; 0 when the problem is about the whole file */
	int column;      /**< from 1; 0 with line 0 */
	char *message;   /**< what is wrong; owned by the validation */
	char *pointer;   /**< RFC 6901 pointer into the document, NULL for file-level
	                    problems (YAML errors, unreadable files) */
	size_t document; /**< index of the document in the file's stream */
	cairn_severity severity;
} cairn_finding;

/** The outcome of a run: findings in walk order and what was looked at. */
typedef struct cairn_validation {
	cairn_finding *findings;
	size_t count;
	size_t cap;
	size_t files;          /**< files read (or tried) */
	size_t objects;        /**< objects checked (items of a List count one by one) */
	size_t kustomizations; /**< kustomize configuration documents (read as YAML only) */
	size_t errors;         /**< findings of severity error */
} cairn_validation;

#define CAIRN_VALIDATE_OPTS_VERSION 1

/** Options of a run. */
typedef struct cairn_validate_opts {
	unsigned int version;            /**< CAIRN_VALIDATE_OPTS_VERSION */
	const cairn_schema_set *schemas; /**< NULL: identity checks only; borrowed */
	int ignore_missing_schemas;      /**< with schemas: no finding for kinds the
	                                      set has no schema for */
	size_t max_findings;             /**< stop collecting past this; 0: 100,000 */
	size_t max_file_bytes;           /**< largest file read; 0: 64 MiB */
} cairn_validate_opts;

#define CAIRN_VALIDATE_OPTS_INIT                                                                   \
	{                                                                                          \
		CAIRN_VALIDATE_OPTS_VERSION, NULL, 0, 0, 0                                         \
	}

/** Make `v` an empty validation (no allocation). */
void cairn_validation_init(cairn_validation *v);

/** Free what `v` holds; `v` is empty and reusable afterwards. Accepts NULL. */
void cairn_validation_dispose(cairn_validation *v);

/**
 * Validate files and directories. A directory is walked recursively in
 * byte order of names, taking files ending in .yaml, .yml or .json and
 * skipping hidden directories (names starting with '.'); symbolic links to
 * directories are not followed. A file named directly is read whatever its
 * name. A path that cannot be read, and a YAML error, become one finding
 * each and the walk goes on.
 *
 * @param v      collects the findings (see cairn_validation_init())
 * @param paths  `npaths` file or directory names (borrowed)
 * @param opts   NULL for defaults
 * @return 0 when the run completed (whatever it found), CAIRN_ENOMEM, or
 *         CAIRN_ELIMIT when more than max_findings were found (those found
 *         so far stay in `v`).
 */
int cairn_validate_paths(cairn_validation *v, const char *const *paths, size_t npaths,
                         const cairn_validate_opts *opts);

/**
 * Validate a stream held in memory as if it were the file `filename` (used
 * in findings only; may be NULL for "<input>"). Counts one file. Returns as
 * cairn_validate_paths(). Borrows `data`.
 */
int cairn_validate_bytes(cairn_validation *v, const char *data, size_t len, const char *filename,
                         const cairn_validate_opts *opts);

/**
 * Append the findings as text, one "file:line:col: message" line each
 * ("file: message" for file-level ones; warnings carry "warning: " before
 * the message). Returns 0 or a cairn_buf error.
 */
int cairn_validation_write_text(cairn_buf *out, const cairn_validation *v);

/**
 * The findings as a JSON value: {"findings":[{"file","line","column",
 * "message","severity","pointer"?}...], "files":N, "objects":M}. The caller
 * owns the new reference. Returns 0 or CAIRN_ENOMEM.
 */
int cairn_validation_to_json(json_t **out, const cairn_validation *v);

#ifdef __cplusplus
}
#endif
#endif
