/*
 * app_private.h - shared between the files of the app module: the strict,
 * table-driven field checker, notices, and small string helpers.
 */
#ifndef CAIRN_APP_PRIVATE_H
#define CAIRN_APP_PRIVATE_H

#include <jansson.h>

#include "cairn/app.h"
#include "cairn/yaml.h"

/* Field types of the checker tables. */
enum app__type {
	APP_F_STR = 1, /* string */
	APP_F_BOOL,    /* boolean */
	APP_F_INT,     /* integer */
	APP_F_INTSTR,  /* integer or string (Kubernetes IntOrString) */
	APP_F_MAP,     /* mapping with the fields of `sub` */
	APP_F_LIST,    /* sequence of mappings with the fields of `sub` */
	APP_F_STRLIST, /* sequence of strings */
	APP_F_STRMAP,  /* mapping of string to string */
	APP_F_OBJ,     /* any mapping, checked elsewhere */
	APP_F_ANY,     /* anything, kept silently (metadata, status) */
	APP_F_IGNORED, /* accepted, not implemented: one notice */
	APP_F_REFUSED, /* recognised but refused (CAIRN_EUNSUPPORTED) */
};

struct app__field {
	const char *name;
	enum app__type type;
	const struct app__field *sub;
};

/* Notices "ignored: <path>", each once. */
struct app__notices {
	char **items;
	size_t count, cap;
};

int app__notice_add(struct app__notices *n, const char *text);
void app__notices_dispose(struct app__notices *n);

/* Where a document came from, for errors. */
struct app__where {
	const char *file;
	const cairn_yaml_marks *marks;
	size_t doc;
	struct app__notices *notices; /* may be NULL: notices dropped */
	const char *ptr_prefix;       /* NULL, or where a generated document's
	                                 template sits in the source document */
};

/* Set an error at the node `pointer` (RFC 6901) of the document. */
int app__err(const struct app__where *w, int code, const char *pointer, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Line of a node (0 when unknown). */
int app__line(const struct app__where *w, const char *pointer);

/*
 * Check `v` (the value at `pointer`, shown to users as `path`) against a
 * mapping's field table: unknown fields and wrong types are errors,
 * ignored fields become notices.
 */
int app__check_map(const struct app__where *w, const json_t *v, const struct app__field *fields,
                   const char *pointer, const char *path);

/* Check the apiVersion/kind/metadata/spec envelope of a document. */
int app__check_object(const struct app__where *w, const json_t *doc, const struct app__field *spec,
                      const struct app__field *top_extra);

/* The field tables. */
extern const struct app__field app__application_spec[];
extern const struct app__field app__project_spec[];
extern const struct app__field app__appset_spec[];
extern const struct app__field app__env_spec[];
extern const struct app__field app__config_fields[];

/* strdup of a JSON string member (NULL stays NULL); CAIRN_ENOMEM. */
int app__dup(char **out, const json_t *obj, const char *key);
/* strdup that sets CAIRN_ENOMEM; NULL in, NULL out. */
int app__strdup(char **out, const char *s);
/* Copy a JSON array of strings; CAIRN_ENOMEM. */
int app__strlist(char ***out, size_t *count, const json_t *arr);
void app__strlist_free(char **v, size_t n);

/* Applications: parse one Application manifest (owned reference stolen). */
int app__parse_application(cairn_app **out, json_t *manifest, const struct app__where *w);
void app__app_free(cairn_app *a);
int app__parse_project(cairn_app_project **out, const json_t *doc, const struct app__where *w);
void app__project_free(cairn_app_project *p);
int app__project_default(cairn_app_project **out);

/* Add an Application to the set (taken). */
int app__set_add_app(cairn_app_set *set, cairn_app *a, const struct app__where *w);
struct app__notices *app__set_notices(cairn_app_set *set);

/* ApplicationSets: expand into Applications added to `set`. */
int app__expand_appset(cairn_app_set *set, const json_t *doc, const struct app__where *w,
                       const cairn_app_load_opts *opts);

#endif
