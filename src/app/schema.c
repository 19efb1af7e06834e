/*
 * schema.c - the strict field checker of the app module and its tables.
 *
 * Argo CD decodes its resources strictly: a misspelt field is rejected, not
 * dropped. Each kind is described here by a table of its fields; the
 * checker walks a loaded document against it, reporting the first unknown
 * field or wrong type with the file, line and dotted field path, and
 * recording every accepted-but-unimplemented field once as a notice.
 */
#include <stdarg.h>

#include "app/app_private.h"
#include "cairn/error.h"

/* ---- notices and small helpers ------------------------------------------ */

int app__notice_add(struct app__notices *n, const char *text)
{
	char **grown;

	for (size_t i = 0; i < n->count; i++)
		if (strcmp(n->items[i], text) == 0)
			return 0;
	if (n->count >= CAIRN_APP_MAX_OBJECTS)
		return cairn_error_set(CAIRN_ELIMIT, "too many notices (more than %d)",
		                       CAIRN_APP_MAX_OBJECTS);
	if (n->count == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;
		grown = realloc(n->items, cap * sizeof(*grown));
		if (grown == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		n->items = grown;
		n->cap = cap;
	}
	n->items[n->count] = strdup(text);
	if (n->items[n->count] == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	n->count++;
	return 0;
}

void app__notices_dispose(struct app__notices *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->count; i++)
		free(n->items[i]);
	free(n->items);
	memset(n, 0, sizeof(*n));
}

int app__line(const struct app__where *w, const char *pointer)
{
	int line = 0, col = 0;

	char full[600];

	snprintf(full, sizeof(full), "%s%s", w->ptr_prefix ? w->ptr_prefix : "", pointer);
	if (w->marks == NULL || cairn_yaml_marks_lookup(w->marks, w->doc, full, &line, &col) < 0)
		return 0;
	return line;
}

int app__err(const struct app__where *w, int code, const char *pointer, const char *fmt, ...)
{
	char msg[CAIRN_ERROR_MSG_MAX];
	int line = 0, col = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->marks != NULL && pointer != NULL) {
		char full[600];
		snprintf(full, sizeof(full), "%s%s", w->ptr_prefix ? w->ptr_prefix : "", pointer);
		(void)cairn_yaml_marks_lookup(w->marks, w->doc, full, &line, &col);
	}
	return cairn_error_set_at(code, w->file ? w->file : "", line, col, "%s", msg);
}

int app__strdup(char **out, const char *s)
{
	char *d = NULL;

	if (s != NULL && (d = strdup(s)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = d;
	return 0;
}

int app__dup(char **out, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return app__strdup(out, json_is_string(v) ? json_string_value(v) : NULL);
}

void app__strlist_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int app__strlist(char ***out, size_t *count, const json_t *arr)
{
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	char **v;

	*out = NULL;
	*count = 0;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (app__strdup(&v[i], s ? s : "") < 0) {
			app__strlist_free(v, i);
			return CAIRN_ENOMEM;
		}
	}
	*out = v;
	*count = n;
	return 0;
}

/* ---- the checker ----------------------------------------------------------- */

static const char *type_name(enum app__type t)
{
	switch (t) {
	case APP_F_STR:
		return "a string";
	case APP_F_BOOL:
		return "a boolean (true or false)";
	case APP_F_INT:
		return "an integer";
	case APP_F_INTSTR:
		return "an integer or a string";
	case APP_F_MAP:
	case APP_F_OBJ:
	case APP_F_STRMAP:
		return "a mapping";
	case APP_F_LIST:
		return "a list of mappings";
	case APP_F_STRLIST:
		return "a list of strings";
	default:
		return "a value";
	}
}

/* Append "/key" (RFC 6901 escaped) to a pointer and ".key" to a path. */
static int extend(char *ptr, size_t psize, char *path, size_t size, const char *base_ptr,
                  const char *base_path, const char *key, long index)
{
	size_t pl;
	int n;

	n = snprintf(ptr, psize, "%s/", base_ptr);
	if (n < 0 || (size_t)n >= psize)
		return cairn_error_set(CAIRN_ELIMIT, "field path too long at '%s'", base_path);
	pl = (size_t)n;
	if (index >= 0) {
		n = snprintf(ptr + pl, psize - pl, "%ld", index);
		pl += n > 0 ? (size_t)n : 0;
		n = snprintf(path, size, "%s[%ld]", base_path, index);
	} else {
		for (const char *k = key; *k && pl + 3 < psize; k++) {
			if (*k == '~' || *k == '/') {
				ptr[pl++] = '~';
				ptr[pl++] = *k == '~' ? '0' : '1';
			} else {
				ptr[pl++] = *k;
			}
		}
		ptr[pl] = '\0';
		n = snprintf(path, size, "%s%s%s", base_path, base_path[0] ? "." : "", key);
	}
	if (n < 0 || (size_t)n >= size || pl + 3 >= psize)
		return cairn_error_set(CAIRN_ELIMIT, "field path too long at '%s'", base_path);
	return 0;
}

/* The notice path drops list indexes: "spec.sources[1].helm" -> "spec.sources.helm". */
static int notice_ignored(const struct app__where *w, const char *path)
{
	char text[600];
	size_t o = 0;

	if (w->notices == NULL)
		return 0;
	o = (size_t)snprintf(text, sizeof(text), "ignored: ");
	for (const char *p = path; *p && o + 1 < sizeof(text); p++) {
		if (*p == '[') {
			while (*p && *p != ']')
				p++;
			if (*p == '\0')
				break;
			continue;
		}
		text[o++] = *p;
	}
	text[o] = '\0';
	return app__notice_add(w->notices, text);
}

static int check_value(const struct app__where *w, const json_t *v, const struct app__field *f,
                       const char *ptr, const char *path);

static int check_list(const struct app__where *w, const json_t *v, const struct app__field *f,
                      const char *ptr, const char *path)
{
	char cptr[512], cpath[512];
	size_t i;
	json_t *item;
	int rc;

	json_array_foreach(v, i, item)
	{
		if ((rc = extend(cptr, sizeof(cptr), cpath, sizeof(cpath), ptr, path, NULL,
		                 (long)i)) < 0)
			return rc;
		if (f->type == APP_F_STRLIST) {
			if (!json_is_string(item))
				return app__err(w, CAIRN_EINVAL, cptr, "'%s' must be a string",
				                cpath);
		} else if ((rc = app__check_map(w, item, f->sub, cptr, cpath)) < 0) {
			return rc;
		}
	}
	return 0;
}

static int check_value(const struct app__where *w, const json_t *v, const struct app__field *f,
                       const char *ptr, const char *path)
{
	int ok;

	if (f->type == APP_F_IGNORED)
		return notice_ignored(w, path);
	if (f->type == APP_F_ANY)
		return 0;
	if (f->type == APP_F_REFUSED)
		return app__err(w, CAIRN_EUNSUPPORTED, ptr, "'%s' is not supported by Cairn", path);
	if (json_is_null(v))
		return 0; /* as in Go: null leaves the field unset */
	switch (f->type) {
	case APP_F_STR:
		ok = json_is_string(v);
		break;
	case APP_F_BOOL:
		ok = json_is_boolean(v);
		break;
	case APP_F_INT:
		ok = json_is_integer(v);
		break;
	case APP_F_INTSTR:
		ok = json_is_integer(v) || json_is_string(v);
		break;
	case APP_F_MAP:
		return app__check_map(w, v, f->sub, ptr, path);
	case APP_F_OBJ:
		ok = json_is_object(v);
		break;
	case APP_F_STRMAP: {
		const char *k;
		json_t *x;
		if (!json_is_object(v))
			return app__err(w, CAIRN_EINVAL, ptr, "'%s' must be a mapping of strings",
			                path);
		json_object_foreach((json_t *)v, k, x)
		{
			if (!json_is_string(x))
				return app__err(w, CAIRN_EINVAL, ptr,
				                "'%s.%s' must be a string (quote numbers and "
				                "booleans)",
				                path, k);
		}
		return 0;
	}
	case APP_F_LIST:
	case APP_F_STRLIST:
		if (!json_is_array(v))
			return app__err(w, CAIRN_EINVAL, ptr, "'%s' must be %s", path,
			                type_name(f->type));
		return check_list(w, v, f, ptr, path);
	default:
		ok = 1;
	}
	if (!ok)
		return app__err(w, CAIRN_EINVAL, ptr, "'%s' must be %s", path, type_name(f->type));
	return 0;
}

/* Up to five field names of a table, for "expected one of" messages. */
static void expected_names(char *out, size_t size, const struct app__field *fields)
{
	size_t o = 0, i;

	out[0] = '\0';
	for (i = 0; fields[i].name != NULL && o + 1 < size; i++) {
		int n = snprintf(out + o, size - o, "%s%s", i ? ", " : "", fields[i].name);
		if (n < 0 || (size_t)n >= size - o) {
			out[o] = '\0';
			break;
		}
		o += (size_t)n;
	}
}

int app__check_map(const struct app__where *w, const json_t *v, const struct app__field *fields,
                   const char *pointer, const char *path)
{
	char cptr[512], cpath[512], names[400];
	const char *key;
	json_t *x;
	int rc;

	if (!json_is_object(v))
		return app__err(w, CAIRN_EINVAL, pointer, "'%s' must be a mapping",
		                path[0] ? path : "document");
	json_object_foreach((json_t *)v, key, x)
	{
		const struct app__field *f = NULL;
		for (size_t i = 0; fields[i].name != NULL; i++)
			if (strcmp(fields[i].name, key) == 0) {
				f = &fields[i];
				break;
			}
		if ((rc = extend(cptr, sizeof(cptr), cpath, sizeof(cpath), pointer, path, key,
		                 -1)) < 0)
			return rc;
		if (f == NULL) {
			expected_names(names, sizeof(names), fields);
			return app__err(w, CAIRN_EINVAL, cptr,
			                "unknown field '%s' (expected one of: %s)", cpath, names);
		}
		if ((rc = check_value(w, x, f, cptr, cpath)) < 0)
			return rc;
	}
	return 0;
}

static const struct app__field metadata_fields[] = {
        {"name", APP_F_STR, NULL},
        {"generateName", APP_F_STR, NULL},
        {"namespace", APP_F_STR, NULL},
        {"labels", APP_F_STRMAP, NULL},
        {"annotations", APP_F_STRMAP, NULL},
        {"finalizers", APP_F_STRLIST, NULL},
        {"uid", APP_F_ANY, NULL},
        {"resourceVersion", APP_F_ANY, NULL},
        {"generation", APP_F_ANY, NULL},
        {"creationTimestamp", APP_F_ANY, NULL},
        {"deletionTimestamp", APP_F_ANY, NULL},
        {"deletionGracePeriodSeconds", APP_F_ANY, NULL},
        {"ownerReferences", APP_F_ANY, NULL},
        {"managedFields", APP_F_ANY, NULL},
        {"selfLink", APP_F_ANY, NULL},
        {NULL, 0, NULL},
};

int app__check_object(const struct app__where *w, const json_t *doc, const struct app__field *spec,
                      const struct app__field *top_extra)
{
	const char *key;
	json_t *x;
	int rc;

	json_object_foreach((json_t *)doc, key, x)
	{
		char ptr[300];
		snprintf(ptr, sizeof(ptr), "/%s", key);
		if (strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0)
			continue;
		if (strcmp(key, "metadata") == 0) {
			rc = app__check_map(w, x, metadata_fields, "/metadata", "metadata");
		} else if (strcmp(key, "spec") == 0) {
			rc = app__check_map(w, x, spec, "/spec", "spec");
		} else {
			const struct app__field *f = NULL;
			for (size_t i = 0; top_extra && top_extra[i].name; i++)
				if (strcmp(top_extra[i].name, key) == 0)
					f = &top_extra[i];
			if (f == NULL)
				return app__err(w, CAIRN_EINVAL, ptr,
				                "unknown field '%s' (expected apiVersion, kind, "
				                "metadata, spec)",
				                key);
			rc = check_value(w, x, f, ptr, key);
		}
		if (rc < 0)
			return rc;
	}
	x = json_object_get(doc, "metadata");
	if (!json_is_string(json_object_get(x, "name")) ||
	    json_string_value(json_object_get(x, "name"))[0] == '\0')
		return app__err(w, CAIRN_EINVAL, x ? "/metadata" : "",
		                "missing field 'metadata.name' (expected a non-empty string)");
	return 0;
}

/* ---- tables -------------------------------------------------------------- */

static const struct app__field directory_fields[] = {
        {"recurse", APP_F_BOOL, NULL},
        {"include", APP_F_STR, NULL},
        {"exclude", APP_F_STR, NULL},
        {"jsonnet", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field replica_fields[] = {
        {"name", APP_F_STR, NULL},
        {"count", APP_F_INTSTR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field kustomize_fields[] = {
        {"namePrefix", APP_F_STR, NULL},
        {"nameSuffix", APP_F_STR, NULL},
        {"namespace", APP_F_STR, NULL},
        {"images", APP_F_STRLIST, NULL},
        {"commonLabels", APP_F_STRMAP, NULL},
        {"commonAnnotations", APP_F_STRMAP, NULL},
        {"replicas", APP_F_LIST, replica_fields},
        {"version", APP_F_IGNORED, NULL},
        {"forceCommonLabels", APP_F_IGNORED, NULL},
        {"forceCommonAnnotations", APP_F_IGNORED, NULL},
        {"commonAnnotationsEnvsubst", APP_F_IGNORED, NULL},
        {"labelWithoutSelector", APP_F_IGNORED, NULL},
        {"labelIncludeTemplates", APP_F_IGNORED, NULL},
        {"patches", APP_F_IGNORED, NULL},
        {"components", APP_F_IGNORED, NULL},
        {"ignoreMissingComponents", APP_F_IGNORED, NULL},
        {"kubeVersion", APP_F_IGNORED, NULL},
        {"apiVersions", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field source_fields[] = {
        {"repoURL", APP_F_STR, NULL},
        {"targetRevision", APP_F_STR, NULL},
        {"path", APP_F_STR, NULL},
        {"chart", APP_F_STR, NULL},
        {"ref", APP_F_STR, NULL},
        {"name", APP_F_STR, NULL},
        {"directory", APP_F_MAP, directory_fields},
        {"kustomize", APP_F_MAP, kustomize_fields},
        {"helm", APP_F_IGNORED, NULL},
        {"plugin", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field destination_fields[] = {
        {"server", APP_F_STR, NULL},
        {"name", APP_F_STR, NULL},
        {"namespace", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field automated_fields[] = {
        {"prune", APP_F_BOOL, NULL},
        {"selfHeal", APP_F_BOOL, NULL},
        {"allowEmpty", APP_F_BOOL, NULL},
        {"enabled", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field backoff_fields[] = {
        {"duration", APP_F_STR, NULL},
        {"factor", APP_F_INT, NULL},
        {"maxDuration", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field retry_fields[] = {
        {"limit", APP_F_INT, NULL},
        {"backoff", APP_F_MAP, backoff_fields},
        {"refresh", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field sync_policy_fields[] = {
        {"automated", APP_F_MAP, automated_fields},
        {"syncOptions", APP_F_STRLIST, NULL},
        {"retry", APP_F_MAP, retry_fields},
        {"managedNamespaceMetadata", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field ignore_diff_fields[] = {
        {"group", APP_F_STR, NULL},
        {"kind", APP_F_STR, NULL},
        {"name", APP_F_STR, NULL},
        {"namespace", APP_F_STR, NULL},
        {"jsonPointers", APP_F_STRLIST, NULL},
        {"jqPathExpressions", APP_F_STRLIST, NULL},
        {"managedFieldsManagers", APP_F_STRLIST, NULL},
        {NULL, 0, NULL},
};

static const struct app__field info_fields[] = {
        {"name", APP_F_STR, NULL},
        {"value", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

const struct app__field app__application_spec[] = {
        {"project", APP_F_STR, NULL},
        {"source", APP_F_MAP, source_fields},
        {"sources", APP_F_LIST, source_fields},
        {"destination", APP_F_MAP, destination_fields},
        {"syncPolicy", APP_F_MAP, sync_policy_fields},
        {"ignoreDifferences", APP_F_LIST, ignore_diff_fields},
        {"revisionHistoryLimit", APP_F_INT, NULL},
        {"info", APP_F_LIST, info_fields},
        {"sourceHydrator", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field kind_rule_fields[] = {
        {"group", APP_F_STR, NULL},
        {"kind", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field window_fields[] = {
        {"kind", APP_F_STR, NULL},
        {"schedule", APP_F_STR, NULL},
        {"duration", APP_F_STR, NULL},
        {"applications", APP_F_STRLIST, NULL},
        {"namespaces", APP_F_STRLIST, NULL},
        {"clusters", APP_F_STRLIST, NULL},
        {"manualSync", APP_F_BOOL, NULL},
        {"timeZone", APP_F_STR, NULL},
        {"andOperator", APP_F_BOOL, NULL},
        {"description", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field signature_key_fields[] = {
        {"keyID", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

const struct app__field app__project_spec[] = {
        {"description", APP_F_STR, NULL},
        {"sourceRepos", APP_F_STRLIST, NULL},
        {"destinations", APP_F_LIST, destination_fields},
        {"clusterResourceWhitelist", APP_F_LIST, kind_rule_fields},
        {"clusterResourceBlacklist", APP_F_LIST, kind_rule_fields},
        {"namespaceResourceWhitelist", APP_F_LIST, kind_rule_fields},
        {"namespaceResourceBlacklist", APP_F_LIST, kind_rule_fields},
        {"syncWindows", APP_F_LIST, window_fields},
        {"signatureKeys", APP_F_LIST, signature_key_fields},
        {"roles", APP_F_IGNORED, NULL},
        {"orphanedResources", APP_F_IGNORED, NULL},
        {"sourceNamespaces", APP_F_IGNORED, NULL},
        {"permitOnlyProjectScopedClusters", APP_F_IGNORED, NULL},
        {"destinationServiceAccounts", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field list_gen_fields[] = {
        {"elements", APP_F_ANY, NULL},
        {"elementsYaml", APP_F_REFUSED, NULL},
        {"template", APP_F_REFUSED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field git_item_fields[] = {
        {"path", APP_F_STR, NULL},
        {"exclude", APP_F_BOOL, NULL},
        {NULL, 0, NULL},
};

static const struct app__field git_gen_fields[] = {
        {"repoURL", APP_F_STR, NULL},
        {"revision", APP_F_STR, NULL},
        {"directories", APP_F_LIST, git_item_fields},
        {"files", APP_F_LIST, git_item_fields},
        {"pathParamPrefix", APP_F_STR, NULL},
        {"values", APP_F_STRMAP, NULL},
        {"requeueAfterSeconds", APP_F_IGNORED, NULL},
        {"template", APP_F_REFUSED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field generator_fields[] = {
        {"list", APP_F_MAP, list_gen_fields},
        {"git", APP_F_MAP, git_gen_fields},
        {"selector", APP_F_REFUSED, NULL},
        {"clusters", APP_F_REFUSED, NULL},
        {"matrix", APP_F_REFUSED, NULL},
        {"merge", APP_F_REFUSED, NULL},
        {"scmProvider", APP_F_REFUSED, NULL},
        {"pullRequest", APP_F_REFUSED, NULL},
        {"clusterDecisionResource", APP_F_REFUSED, NULL},
        {"plugin", APP_F_REFUSED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field template_fields[] = {
        {"metadata", APP_F_OBJ, NULL},
        {"spec", APP_F_OBJ, NULL},
        {NULL, 0, NULL},
};

const struct app__field app__appset_spec[] = {
        {"generators", APP_F_LIST, generator_fields},
        {"template", APP_F_MAP, template_fields},
        {"goTemplate", APP_F_BOOL, NULL},
        {"goTemplateOptions", APP_F_STRLIST, NULL},
        {"templatePatch", APP_F_IGNORED, NULL},
        {"syncPolicy", APP_F_IGNORED, NULL},
        {"strategy", APP_F_IGNORED, NULL},
        {"preservedFields", APP_F_IGNORED, NULL},
        {"ignoreApplicationDifferences", APP_F_IGNORED, NULL},
        {"applyNestedSelectors", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

static const struct app__field cluster_fields[] = {
        {"server", APP_F_STR, NULL},     {"name", APP_F_STR, NULL},
        {"kubeconfig", APP_F_STR, NULL}, {"context", APP_F_STR, NULL},
        {"inCluster", APP_F_BOOL, NULL}, {NULL, 0, NULL},
};

static const struct app__field env_sync_fields[] = {
        {"autoSync", APP_F_BOOL, NULL},
        {"selfHeal", APP_F_BOOL, NULL},
        {"prune", APP_F_BOOL, NULL},
        {NULL, 0, NULL},
};

/* `cairn env diff`: JSON paths that must not differ between environments. */
static const struct app__field env_consistency_fields[] = {
        {"mustMatch", APP_F_STRLIST, NULL},
        {NULL, 0, NULL},
};

/* Environment overrides, as kustomize's `images` and `replicas` fields. */
static const struct app__field env_image_fields[] = {
        {"name", APP_F_STR, NULL},
        {"newName", APP_F_STR, NULL},
        {"newTag", APP_F_STR, NULL},
        {"digest", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field env_replica_fields[] = {
        {"name", APP_F_STR, NULL},
        {"count", APP_F_INT, NULL},
        {NULL, 0, NULL},
};

const struct app__field app__env_spec[] = {
        {"cluster", APP_F_MAP, cluster_fields},
        {"namespaces", APP_F_STRLIST, NULL},
        {"defaultNamespace", APP_F_STR, NULL},
        {"vars", APP_F_STRMAP, NULL},
        {"images", APP_F_LIST, env_image_fields},
        {"replicas", APP_F_LIST, env_replica_fields},
        {"promotedFrom", APP_F_STR, NULL},
        {"sync", APP_F_MAP, env_sync_fields},
        {"consistency", APP_F_MAP, env_consistency_fields},
        {"drift", APP_F_STR, NULL},
        {"rollouts", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field tls_fields[] = {
        {"cert", APP_F_STR, NULL},
        {"key", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field listen_fields[] = {
        {"api", APP_F_STR, NULL},
        {"metrics", APP_F_STR, NULL},
        {"tls", APP_F_MAP, tls_fields},
        {NULL, 0, NULL},
};

/* Numbers (a rate may be fractional): checked by the loader (src/app/config.c). */
static const struct app__field limits_fields[] = {
        {"webhookRate", APP_F_ANY, NULL},
        {"webhookBurst", APP_F_ANY, NULL},
        {NULL, 0, NULL},
};

static const struct app__field webhook_fields[] = {
        {"secret", APP_F_STR, NULL},
        {"secretFile", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field webhooks_fields[] = {
        {"github", APP_F_MAP, webhook_fields},
        {"gitlab", APP_F_MAP, webhook_fields},
        {"gitea", APP_F_MAP, webhook_fields},
        {"bitbucket", APP_F_MAP, webhook_fields},
        {NULL, 0, NULL},
};

static const struct app__field repo_fields[] = {
        {"url", APP_F_STR, NULL},
        {"username", APP_F_STR, NULL},
        {"passwordFile", APP_F_STR, NULL},
        {"passwordEnv", APP_F_STR, NULL},
        {"tokenFile", APP_F_STR, NULL},
        {"tokenEnv", APP_F_STR, NULL},
        {"sshKeyFile", APP_F_STR, NULL},
        {"sshPassphraseEnv", APP_F_STR, NULL},
        {"knownHostsFile", APP_F_STR, NULL},
        {"caFile", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field apps_fields[] = {
        {"path", APP_F_STR, NULL},
        {"repoURL", APP_F_STR, NULL},
        {"revision", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field plugin_fields[] = {
        {"name", APP_F_STR, NULL},
        {"command", APP_F_STRLIST, NULL},
        {"timeout", APP_F_STR, NULL},
        {NULL, 0, NULL},
};

static const struct app__field token_fields[] = {
        {"name", APP_F_STR, NULL}, {"sha256", APP_F_STR, NULL},
        {"role", APP_F_STR, NULL}, {"environments", APP_F_STRLIST, NULL},
        {NULL, 0, NULL},
};

static const struct app__field api_fields[] = {
        {"tokens", APP_F_LIST, token_fields},
        {NULL, 0, NULL},
};

const struct app__field app__config_fields[] = {
        {"stateDir", APP_F_STR, NULL},
        {"plugins", APP_F_LIST, plugin_fields},
        {"listen", APP_F_MAP, listen_fields},
        {"repositories", APP_F_LIST, repo_fields},
        {"apps", APP_F_LIST, apps_fields},
        {"environmentsDir", APP_F_STR, NULL},
        {"policiesDir", APP_F_STR, NULL},
        {"allowedSigners", APP_F_STR, NULL},
        {"tracking", APP_F_STR, NULL}, /* annotation, label or annotation+label */
        {"audit", APP_F_OBJ, NULL},
        {"api", APP_F_MAP, api_fields},
        {"webhooks", APP_F_MAP, webhooks_fields},
        {"limits", APP_F_MAP, limits_fields},
        {NULL, 0, NULL},
};
