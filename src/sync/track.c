/*
 * track.c - resource identity and Argo CD 3 resource tracking: the
 * tracking-id annotation "<app>:<group>/<Kind>:<namespace>/<name>", the
 * app.kubernetes.io/instance label, or both (the annotation decides).
 */
#include <string.h>

#include "cairn/error.h"
#include "cairn/sync.h"
#include "compare_private.h"

/* The built-in kinds that have no namespace (a public fact of the API). */
static const char *const cluster_kinds[] = {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ComponentStatus",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "SelfSubjectAccessReview",
        "SelfSubjectReview",
        "SelfSubjectRulesReview",
        "StorageClass",
        "SubjectAccessReview",
        "TokenReview",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
};

int sync__kind_cluster_scoped(const char *kind)
{
	for (size_t i = 0; i < sizeof(cluster_kinds) / sizeof(cluster_kinds[0]); i++)
		if (strcmp(kind, cluster_kinds[i]) == 0)
			return 1;
	return 0;
}

/* Copy `s` into a fixed field, refusing what does not fit. */
static int copy_field(char *dst, size_t size, const char *s, const char *what)
{
	size_t n = strlen(s);

	if (n >= size)
		return cairn_error_set(CAIRN_EINVAL, "%s is longer than %zu bytes", what, size - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

int cairn_res_id_of(cairn_res_id *out, const json_t *obj, const char *default_ns)
{
	cairn_res_id id;
	const char *api, *kind, *name, *ns = "", *slash;
	json_t *meta;
	int rc;

	memset(&id, 0, sizeof(id));
	if (!json_is_object(obj))
		return cairn_error_set(CAIRN_EINVAL, "object is not a JSON object");
	api = json_string_value(json_object_get(obj, "apiVersion"));
	kind = json_string_value(json_object_get(obj, "kind"));
	meta = json_object_get(obj, "metadata");
	name = json_string_value(json_object_get(meta, "name"));
	if (api == NULL || api[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "object has no apiVersion");
	if (kind == NULL || kind[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "object of apiVersion '%s' has no kind", api);
	if (name == NULL || name[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "%s object has no metadata.name", kind);
	if (json_string_value(json_object_get(meta, "namespace")) != NULL)
		ns = json_string_value(json_object_get(meta, "namespace"));
	if (sync__kind_cluster_scoped(kind))
		ns = "";
	else if (ns[0] == '\0' && default_ns != NULL)
		ns = default_ns;
	slash = strchr(api, '/');
	if (slash != NULL) {
		if ((size_t)(slash - api) >= sizeof(id.group))
			return cairn_error_set(CAIRN_EINVAL, "API group of '%s' is too long", api);
		memcpy(id.group, api, (size_t)(slash - api));
	}
	if ((rc = copy_field(id.kind, sizeof(id.kind), kind, "kind")) < 0 ||
	    (rc = copy_field(id.ns, sizeof(id.ns), ns, "namespace")) < 0 ||
	    (rc = copy_field(id.name, sizeof(id.name), name, "name")) < 0)
		return rc;
	*out = id;
	return 0;
}

int cairn_res_id_cmp(const cairn_res_id *a, const cairn_res_id *b)
{
	int c;

	if ((c = strcmp(a->group, b->group)) != 0)
		return c;
	if ((c = strcmp(a->kind, b->kind)) != 0)
		return c;
	if ((c = strcmp(a->ns, b->ns)) != 0)
		return c;
	return strcmp(a->name, b->name);
}

void cairn_res_id_format(const cairn_res_id *id, char *out, size_t size)
{
	if (size == 0)
		return;
	(void)snprintf(out, size, "%s/%s/%s/%s", id->group, id->kind, id->ns, id->name);
}

int cairn_track_id(char *out, size_t size, const char *app, const cairn_res_id *id)
{
	int n = snprintf(out, size, "%s:%s/%s:%s/%s", app, id->group, id->kind, id->ns, id->name);

	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		return cairn_error_set(CAIRN_ELIMIT,
		                       "tracking id of '%s/%s' in application '%s' is longer than "
		                       "%zu bytes",
		                       id->kind, id->name, app, size ? size - 1 : 0);
	}
	return 0;
}

/* metadata.<field> of `obj` as an object, created when missing. */
static json_t *meta_map(json_t *obj, const char *field)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *map;

	if (!json_is_object(meta)) {
		meta = json_object();
		if (meta == NULL || json_object_set_new(obj, "metadata", meta) < 0)
			return NULL;
	}
	map = json_object_get(meta, field);
	if (!json_is_object(map)) {
		map = json_object();
		if (map == NULL || json_object_set_new(meta, field, map) < 0)
			return NULL;
	}
	return map;
}

/*
 * The label value for an app: Argo CD truncates it to 63 characters in the
 * annotation+label mode (the label is informational there); we also trim
 * what would leave it ending in a non-alphanumeric, so the API accepts it.
 */
static int label_value(char out[64], const char *app, cairn_track_mode mode)
{
	size_t n = strlen(app);

	if (n > 63 && mode == CAIRN_TRACK_LABEL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "application name '%s' is longer than 63 characters and "
		                       "cannot be a label value; use annotation tracking",
		                       app);
	if (n > 63)
		n = 63;
	memcpy(out, app, n);
	while (n > 0 && (out[n - 1] == '-' || out[n - 1] == '_' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
	return 0;
}

int cairn_track_set(json_t *obj, const char *app, const cairn_res_id *id, cairn_track_mode mode)
{
	char tid[1024], label[64];
	json_t *map;
	int rc;

	if (!json_is_object(obj))
		return cairn_error_set(CAIRN_EINVAL, "object is not a JSON object");
	if (mode != CAIRN_TRACK_LABEL) {
		if ((rc = cairn_track_id(tid, sizeof(tid), app, id)) < 0)
			return rc;
	}
	if (mode != CAIRN_TRACK_ANNOTATION) {
		if ((rc = label_value(label, app, mode)) < 0)
			return rc;
	}
	if (mode != CAIRN_TRACK_LABEL) {
		map = meta_map(obj, "annotations");
		if (map == NULL ||
		    json_object_set_new(map, CAIRN_TRACKING_ANNOTATION, json_string(tid)) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (mode != CAIRN_TRACK_ANNOTATION) {
		map = meta_map(obj, "labels");
		if (map == NULL ||
		    json_object_set_new(map, CAIRN_TRACKING_LABEL, json_string(label)) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * Split a tracking id "<app>:<group>/<Kind>:<namespace>/<name>" as Argo CD
 * does: exactly three ':'-separated parts, the second and third cut at
 * their first '/'. Returns 0 or -1 (malformed: not tracked).
 */
static int parse_tracking_id(const char *v, char app[254], cairn_res_id *id)
{
	const char *c1 = strchr(v, ':'), *c2, *s1, *s2, *end = v + strlen(v);

	if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL || strchr(c2 + 1, ':') != NULL)
		return -1;
	s1 = memchr(c1 + 1, '/', (size_t)(c2 - c1 - 1));
	s2 = strchr(c2 + 1, '/');
	if (s1 == NULL || s2 == NULL)
		return -1;
	if ((size_t)(c1 - v) >= 254 || (size_t)(s1 - c1 - 1) >= sizeof(id->group) ||
	    (size_t)(c2 - s1 - 1) >= sizeof(id->kind) || (size_t)(s2 - c2 - 1) >= sizeof(id->ns) ||
	    (size_t)(end - s2 - 1) >= sizeof(id->name))
		return -1;
	memset(id, 0, sizeof(*id));
	memcpy(app, v, (size_t)(c1 - v));
	app[c1 - v] = '\0';
	memcpy(id->group, c1 + 1, (size_t)(s1 - c1 - 1));
	memcpy(id->kind, s1 + 1, (size_t)(c2 - s1 - 1));
	memcpy(id->ns, c2 + 1, (size_t)(s2 - c2 - 1));
	memcpy(id->name, s2 + 1, (size_t)(end - s2 - 1));
	return 0;
}

int cairn_track_owned(const json_t *obj, const char *app, cairn_track_mode mode)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *v, *obj_ns;
	char tapp[254];
	cairn_res_id tid, self;

	if (mode == CAIRN_TRACK_LABEL) {
		v = json_string_value(
		        json_object_get(json_object_get(meta, "labels"), CAIRN_TRACKING_LABEL));
		return v != NULL && strcmp(v, app) == 0;
	}
	v = json_string_value(
	        json_object_get(json_object_get(meta, "annotations"), CAIRN_TRACKING_ANNOTATION));
	if (v == NULL || parse_tracking_id(v, tapp, &tid) < 0 || strcmp(tapp, app) != 0)
		return 0;
	if (cairn_res_id_of(&self, obj, NULL) < 0) {
		cairn_error_clear();
		return 0;
	}
	/* A copied object keeps the id of the one it was copied from: the id
	 * must name this very object. As Argo CD, an object without a
	 * namespace (cluster-scoped) matches whatever namespace the id says. */
	obj_ns = json_string_value(json_object_get(meta, "namespace"));
	if (obj_ns == NULL)
		obj_ns = "";
	return strcmp(tid.group, self.group) == 0 && strcmp(tid.kind, self.kind) == 0 &&
	       strcmp(tid.name, self.name) == 0 &&
	       (obj_ns[0] == '\0' || strcmp(obj_ns, tid.ns) == 0);
}
