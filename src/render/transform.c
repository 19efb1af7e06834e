/*
 * transform.c - kustomize's built-in transformers over a resource set:
 * namespace, name prefix/suffix, labels, annotations, images, replicas,
 * and the name-reference fix-up, each following the field specs kustomize
 * applies by default (see docs/render.md for the exact list).
 */
#include <string.h>

#include "cairn/error.h"
#include "render_private.h"

/* One default field spec: where a transformer writes in objects of a kind
 * (NULL: every kind), and whether missing maps on the way are created. */
struct fspec {
	const char *kind;
	const char *path;
	int create;
};

#define AFF "spec/template/spec/affinity/"
static const struct fspec label_specs[] = {
        {"Service", "spec/selector", 1},
        {"ReplicationController", "spec/selector", 1},
        {"ReplicationController", "spec/template/metadata/labels", 1},
        {"Deployment", "spec/selector/matchLabels", 1},
        {"Deployment", "spec/template/metadata/labels", 1},
        {"ReplicaSet", "spec/selector/matchLabels", 1},
        {"ReplicaSet", "spec/template/metadata/labels", 1},
        {"DaemonSet", "spec/selector/matchLabels", 1},
        {"DaemonSet", "spec/template/metadata/labels", 1},
        {"StatefulSet", "spec/selector/matchLabels", 1},
        {"StatefulSet", "spec/template/metadata/labels", 1},
        {"StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", 1},
        {"Deployment",
         AFF "podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/"
             "labelSelector/matchLabels",
         0},
        {"Deployment",
         AFF "podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
         0},
        {"Deployment",
         AFF "podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/"
             "labelSelector/matchLabels",
         0},
        {"Deployment",
         AFF
         "podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
         0},
        {"Deployment", "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", 0},
        {"StatefulSet",
         AFF "podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/"
             "labelSelector/matchLabels",
         0},
        {"StatefulSet",
         AFF "podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
         0},
        {"StatefulSet",
         AFF "podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/"
             "labelSelector/matchLabels",
         0},
        {"StatefulSet",
         AFF
         "podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
         0},
        {"StatefulSet", "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
         0},
        {"Job", "spec/selector/matchLabels", 0},
        {"Job", "spec/template/metadata/labels", 1},
        {"CronJob", "spec/jobTemplate/spec/selector/matchLabels", 0},
        {"CronJob", "spec/jobTemplate/metadata/labels", 1},
        {"CronJob", "spec/jobTemplate/spec/template/metadata/labels", 1},
        {"PodDisruptionBudget", "spec/selector/matchLabels", 0},
        {"NetworkPolicy", "spec/podSelector/matchLabels", 0},
        {"NetworkPolicy", "spec/ingress/from/podSelector/matchLabels", 0},
        {"NetworkPolicy", "spec/egress/to/podSelector/matchLabels", 0},
};

static const struct fspec annotation_specs[] = {
        {"ReplicationController", "spec/template/metadata/annotations", 1},
        {"Deployment", "spec/template/metadata/annotations", 1},
        {"ReplicaSet", "spec/template/metadata/annotations", 1},
        {"DaemonSet", "spec/template/metadata/annotations", 1},
        {"StatefulSet", "spec/template/metadata/annotations", 1},
        {"Job", "spec/template/metadata/annotations", 1},
        {"CronJob", "spec/jobTemplate/metadata/annotations", 1},
        {"CronJob", "spec/jobTemplate/spec/template/metadata/annotations", 1},
};

/* Kinds whose objects have no namespace (the built-in ones). */
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
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "SelfSubjectAccessReview",
        "SelfSubjectRulesReview",
        "StorageClass",
        "SubjectAccessReview",
        "TokenReview",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
};

int kind_cluster_scoped(const char *kind)
{
	for (size_t i = 0; i < sizeof(cluster_kinds) / sizeof(cluster_kinds[0]); i++)
		if (strcmp(kind, cluster_kinds[i]) == 0)
			return 1;
	return 0;
}

typedef int (*leaf_fn)(json_t *parent, const char *key, void *ud);

/*
 * Walk `path` ('/'-separated) from `node`, fanning out over every element
 * of the arrays met on the way, and call `fn` with the parent object and
 * the last key. With `create`, missing maps on the way are made (never
 * array elements); otherwise a missing step ends that branch quietly.
 */
int walk_fields(json_t *node, const char *path, int create, leaf_fn fn, void *ud)
{
	const char *slash = strchr(path, '/');
	char key[128];
	size_t n = slash ? (size_t)(slash - path) : strlen(path);
	json_t *child;

	if (json_is_array(node)) {
		size_t i;
		json_t *e;
		json_array_foreach(node, i, e)
		{
			int rc = walk_fields(e, path, create, fn, ud);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (!json_is_object(node) || n >= sizeof(key))
		return 0;
	memcpy(key, path, n);
	key[n] = '\0';
	if (slash == NULL)
		return fn(node, key, ud);
	/* "name[]" is a list: walked when present, never created */
	if (n > 2 && strcmp(key + n - 2, "[]") == 0) {
		key[n - 2] = '\0';
		child = json_object_get(node, key);
		return json_is_array(child) ? walk_fields(child, slash + 1, create, fn, ud) : 0;
	}
	child = json_object_get(node, key);
	if (child == NULL || json_is_null(child)) {
		if (!create)
			return 0;
		child = json_object();
		if (child == NULL || json_object_set_new(node, key, child) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	return walk_fields(child, slash + 1, create, fn, ud);
}

const char *res_str(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

struct map_ctx {
	const json_t *add;
	int create;
	const char *what, *file;
};

/* Merge the string map ctx->add into parent[key] (made when allowed). */
static int put_map(json_t *parent, const char *key, void *ud)
{
	struct map_ctx *c = ud;
	json_t *m = json_object_get(parent, key);
	const char *k;
	json_t *v;

	if (m == NULL || json_is_null(m)) {
		if (!c->create)
			return 0;
		m = json_object();
		if (m == NULL || json_object_set_new(parent, key, m) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (!json_is_object(m))
		return cairn_error_set(CAIRN_EINVAL, "%s: field '%s' is not a map, in %s", c->what,
		                       key, c->file);
	json_object_foreach((json_t *)c->add, k, v)
	{
		if (json_object_set(m, k, v) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

/* Which default field specs a label transformer writes: metadata only,
 * plus the pod (and claim) templates, or plus the selectors too. */
enum spec_mode {
	SPEC_META,
	SPEC_TEMPLATES,
	SPEC_ALL
};

static int apply_specs(rset *s, const struct fspec *specs, size_t n, const char *meta,
                       enum spec_mode mode, struct map_ctx *c)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *o = s->v[i].obj;
		const char *kind = res_str(o, "kind", NULL);
		char path[64];
		int rc;

		snprintf(path, sizeof(path), "metadata/%s", meta);
		c->create = 1;
		rc = walk_fields(o, path, 1, put_map, c);
		for (size_t j = 0; rc == 0 && mode != SPEC_META && j < n; j++) {
			if (kind == NULL || strcmp(kind, specs[j].kind) != 0)
				continue;
			if (mode == SPEC_TEMPLATES && strstr(specs[j].path, "elector") != NULL)
				continue;
			c->create = specs[j].create;
			rc = walk_fields(o, specs[j].path, specs[j].create, put_map, c);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_string_map(const json_t *m, const char *what, const char *file)
{
	const char *k;
	json_t *v;

	if (!json_is_object(m))
		return cairn_error_set(CAIRN_EINVAL, "'%s' is not a map of strings, in %s", what,
		                       file);
	json_object_foreach((json_t *)m, k, v)
	{
		if (!json_is_string(v))
			return cairn_error_set(CAIRN_EINVAL,
			                       "'%s' value of '%s' is not a string, in %s", what, k,
			                       file);
	}
	return 0;
}

int tf_common_labels(rset *s, const json_t *labels, const char *file)
{
	struct map_ctx c = {labels, 1, "commonLabels", file};
	int rc = check_string_map(labels, "commonLabels", file);

	if (rc < 0)
		return rc;
	return apply_specs(s, label_specs, sizeof(label_specs) / sizeof(label_specs[0]), "labels",
	                   SPEC_ALL, &c);
}

/*
 * The `labels` field: a list of {pairs, includeSelectors, includeTemplates}.
 * Custom `fields` are not implemented and are refused.
 */
int tf_labels(rset *s, const json_t *list, const char *file)
{
	size_t i;
	json_t *e;

	if (!json_is_array(list))
		return cairn_error_set(CAIRN_EINVAL, "'labels' is not a list, in %s", file);
	json_array_foreach(list, i, e)
	{
		const json_t *pairs = json_object_get(e, "pairs");
		const json_t *sel = json_object_get(e, "includeSelectors");
		const json_t *tpl = json_object_get(e, "includeTemplates");
		struct map_ctx c = {pairs, 1, "labels", file};
		const char *k;
		json_t *v;
		int rc;

		if (!json_is_object(e))
			return cairn_error_set(CAIRN_EINVAL, "labels[%zu] is not a map, in %s", i,
			                       file);
		json_object_foreach(e, k, v)
		{
			if (strcmp(k, "pairs") && strcmp(k, "includeSelectors") &&
			    strcmp(k, "includeTemplates"))
				return cairn_error_set(CAIRN_EUNSUPPORTED,
				                       "labels[%zu].%s is not supported, in %s", i,
				                       k, file);
		}
		if ((sel && !json_is_boolean(sel)) || (tpl && !json_is_boolean(tpl)))
			return cairn_error_set(CAIRN_EINVAL,
			                       "labels[%zu]: includeSelectors and includeTemplates "
			                       "must be booleans, in %s",
			                       i, file);
		if (pairs == NULL || json_is_null(pairs))
			continue;
		rc = check_string_map(pairs, "labels", file);
		if (rc == 0)
			rc = apply_specs(s, label_specs,
			                 sizeof(label_specs) / sizeof(label_specs[0]), "labels",
			                 json_is_true(sel)   ? SPEC_ALL
			                 : json_is_true(tpl) ? SPEC_TEMPLATES
			                                     : SPEC_META,
			                 &c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tf_annotations(rset *s, const json_t *annotations, const char *file)
{
	struct map_ctx c = {annotations, 1, "commonAnnotations", file};
	int rc = check_string_map(annotations, "commonAnnotations", file);

	if (rc < 0)
		return rc;
	return apply_specs(s, annotation_specs,
	                   sizeof(annotation_specs) / sizeof(annotation_specs[0]), "annotations",
	                   SPEC_ALL, &c);
}

static int set_str(json_t *obj, const char *a, const char *b, const char *val)
{
	json_t *m = json_object_get(obj, a);

	if (b != NULL) {
		if (!json_is_object(m)) {
			m = json_object();
			if (m == NULL || json_object_set_new(obj, a, m) < 0)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		obj = m;
		a = b;
	}
	if (json_object_set_new(obj, a, json_string(val)) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* Whether an object holds a namespace reference the namespace transformer
 * would rewrite besides metadata (not implemented here). */
static int ns_refs_elsewhere(const json_t *o, const char *kind)
{
	const json_t *v;
	size_t i;

	if (strcmp(kind, "RoleBinding") == 0 || strcmp(kind, "ClusterRoleBinding") == 0) {
		json_array_foreach(json_object_get(o, "subjects"), i, v)
		{
			const char *k = res_str(v, "kind", NULL);
			if (k != NULL && strcmp(k, "ServiceAccount") == 0)
				return 1;
		}
		return 0;
	}
	if (strcmp(kind, "ValidatingWebhookConfiguration") == 0 ||
	    strcmp(kind, "MutatingWebhookConfiguration") == 0) {
		json_array_foreach(json_object_get(o, "webhooks"), i, v)
		{
			if (json_object_get(json_object_get(v, "clientConfig"), "service"))
				return 1;
		}
		return 0;
	}
	if (strcmp(kind, "APIService") == 0)
		return json_object_get(json_object_get(o, "spec"), "service") != NULL;
	if (strcmp(kind, "CustomResourceDefinition") == 0)
		return json_object_get(json_object_get(o, "spec"), "conversion") != NULL;
	return 0;
}

/*
 * kustomize's namespace transformer sets metadata.namespace of every
 * namespaced object (replacing what was there) and renames Namespace
 * objects to the namespace. The fields it also rewrites in RBAC subjects,
 * webhook configurations, APIServices and CRD conversion webhooks are not
 * implemented: objects using them are refused rather than rendered wrong.
 */
int tf_namespace(rset *s, const char *ns, const char *file)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *o = s->v[i].obj;
		const char *kind = res_str(o, "kind", NULL);
		int rc;

		if (ns_refs_elsewhere(o, kind))
			return cairn_error_set(
			        CAIRN_EUNSUPPORTED,
			        "'namespace' over a %s ('%s') that names a namespace "
			        "inside is not supported, in %s",
			        kind, res_str(o, "metadata", "name"), file);
		if (strcmp(kind, "Namespace") == 0)
			rc = set_str(o, "metadata", "name", ns);
		else if (kind_cluster_scoped(kind))
			continue;
		else
			rc = set_str(o, "metadata", "namespace", ns);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tf_prefix_suffix(rset *s, const char *prefix, const char *suffix)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *o = s->v[i].obj;
		const char *kind = res_str(o, "kind", NULL), *name = res_str(o, "metadata", "name");
		char grp[256];
		char *nn;
		size_t len;
		int rc;

		res_group(o, grp, sizeof(grp));
		if (strcmp(kind, "Namespace") == 0 ||
		    strcmp(kind, "CustomResourceDefinition") == 0 ||
		    (strcmp(kind, "APIService") == 0 && strcmp(grp, "apiregistration.k8s.io") == 0))
			continue;
		len = strlen(prefix) + strlen(name) + strlen(suffix) + 1;
		nn = malloc(len);
		if (nn == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		snprintf(nn, len, "%s%s%s", prefix, name, suffix);
		rc = set_str(o, "metadata", "name", nn);
		if (rc == 0 && json_array_append_new(s->v[i].names, json_string(nn)) < 0)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		free(nn);
		if (rc < 0)
			return rc;
	}
	return 0;
}
