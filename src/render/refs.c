/*
 * refs.c - the images and replicas transformers, the name-reference
 * fix-up after renames, and kustomize's legacy output order.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "render_private.h"

void res_group(const json_t *obj, char *out, size_t size)
{
	const char *av = res_str(obj, "apiVersion", NULL);
	const char *slash = av ? strchr(av, '/') : NULL;

	if (slash == NULL)
		snprintf(out, size, "%s", "");
	else
		snprintf(out, size, "%.*s", (int)(slash - av), av);
}

/* ---- images --------------------------------------------------------------- */

/*
 * Rewrite one image reference as kustomize does: split into name, tag and
 * digest; the entry matches when the name equals its `name`; newName
 * replaces the name, and newTag and/or digest replace both tag and digest.
 */
static int image_apply(json_t *c, const json_t *img)
{
	const char *val = res_str(c, "image", NULL), *want = res_str(img, "name", NULL);
	const char *nn = res_str(img, "newName", NULL), *nt = res_str(img, "newTag", NULL);
	const char *dg = res_str(img, "digest", NULL);
	char name[1024], tag[256] = "", digest[256] = "", out[2048];
	const char *at, *slash, *colon;
	size_t nlen;

	if (val == NULL || want == NULL)
		return 0;
	at = strchr(val, '@');
	nlen = at ? (size_t)(at - val) : strlen(val);
	if (at != NULL)
		snprintf(digest, sizeof(digest), "%s", at + 1);
	slash = memrchr(val, '/', nlen);
	colon = memrchr(slash ? slash : val, ':', nlen - (size_t)((slash ? slash : val) - val));
	if (colon != NULL) {
		snprintf(tag, sizeof(tag), "%.*s", (int)(nlen - (size_t)(colon - val) - 1),
		         colon + 1);
		nlen = (size_t)(colon - val);
	}
	if (nlen >= sizeof(name))
		return 0;
	memcpy(name, val, nlen);
	name[nlen] = '\0';
	if (strcmp(name, want) != 0)
		return 0;
	if (nn != NULL)
		snprintf(name, sizeof(name), "%s", nn);
	if (nt != NULL || dg != NULL) {
		snprintf(tag, sizeof(tag), "%s", nt ? nt : "");
		snprintf(digest, sizeof(digest), "%s", dg ? dg : "");
	}
	snprintf(out, sizeof(out), "%s%s%s%s%s", name, tag[0] ? ":" : "", tag, digest[0] ? "@" : "",
	         digest);
	if (json_object_set_new(c, "image", json_string(out)) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* Every `containers` and `initContainers` list anywhere in the object, as
 * kustomize's image transformer searches them. */
static int images_walk(json_t *node, const json_t *images)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach(node, i, v)
		{
			int rc = images_walk(v, images);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (!json_is_object(node))
		return 0;
	json_object_foreach(node, k, v)
	{
		int rc = 0;
		if ((strcmp(k, "containers") == 0 || strcmp(k, "initContainers") == 0) &&
		    json_is_array(v)) {
			json_t *c;
			size_t j, m;
			json_array_foreach(v, j, c)
			{
				for (m = 0; rc == 0 && m < json_array_size(images); m++)
					rc = image_apply(c, json_array_get(images, m));
			}
		} else {
			rc = images_walk(v, images);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tf_images(rset *s, const json_t *images, const char *file)
{
	size_t i;
	json_t *e;

	if (!json_is_array(images))
		return cairn_error_set(CAIRN_EINVAL, "'images' is not a list, in %s", file);
	json_array_foreach(images, i, e)
	{
		const char *k;
		json_t *v;
		if (!json_is_object(e) || !json_is_string(json_object_get(e, "name")))
			return cairn_error_set(CAIRN_EINVAL, "images[%zu] has no 'name', in %s", i,
			                       file);
		json_object_foreach(e, k, v)
		{
			if (strcmp(k, "name") && strcmp(k, "newName") && strcmp(k, "newTag") &&
			    strcmp(k, "digest"))
				return cairn_error_set(CAIRN_EUNSUPPORTED,
				                       "images[%zu].%s is not supported, in %s", i,
				                       k, file);
			if (!json_is_string(v))
				return cairn_error_set(CAIRN_EINVAL,
				                       "images[%zu].%s is not a string, in %s", i,
				                       k, file);
		}
	}
	for (i = 0; i < s->n; i++) {
		int rc = images_walk(s->v[i].obj, images);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- replicas ------------------------------------------------------------- */

static int had_name(const rres *r, const char *name)
{
	size_t i;
	json_t *n;

	json_array_foreach(r->names, i, n)
	{
		if (strcmp(json_string_value(n), name) == 0)
			return 1;
	}
	return 0;
}

int tf_replicas(rset *s, const json_t *replicas, const char *file)
{
	static const char *const kinds[] = {"Deployment", "ReplicationController", "ReplicaSet",
	                                    "StatefulSet"};
	size_t i;
	json_t *e;

	if (!json_is_array(replicas))
		return cairn_error_set(CAIRN_EINVAL, "'replicas' is not a list, in %s", file);
	json_array_foreach(replicas, i, e)
	{
		const char *name = res_str(e, "name", NULL);
		json_t *count = json_object_get(e, "count");

		if (name == NULL || !json_is_integer(count) || json_object_size(e) != 2)
			return cairn_error_set(CAIRN_EINVAL,
			                       "replicas[%zu] needs exactly 'name' and an integer "
			                       "'count', in %s",
			                       i, file);
		for (size_t j = 0; j < s->n; j++) {
			const char *kind = res_str(s->v[j].obj, "kind", NULL);
			json_t *spec;
			int match = 0;
			for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
				match |= strcmp(kind, kinds[k]) == 0;
			if (!match || !had_name(&s->v[j], name))
				continue;
			spec = json_object_get(s->v[j].obj, "spec");
			if (!json_is_object(spec)) {
				spec = json_object();
				json_object_set_new(s->v[j].obj, "spec", spec);
			}
			if (spec == NULL || json_object_set(spec, "replicas", count) < 0)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* ---- name references ------------------------------------------------------ */

struct ref_ctx {
	rset *s;
	const struct rmap *names; /* (kind, every name had) -> position in s */
	const char *kind;         /* kind of the referred object */
	const char *ns;           /* namespace of the referrer */
};

/* The key of the name index: a kind and one name an object of it has had. */
static uint64_t name_hash(const char *kind, const char *name)
{
	return render__hash_mix(render__hash_mix(RENDER_HASH_INIT, kind, kind ? strlen(kind) : 0),
	                        name, name ? strlen(name) : 0);
}

/* Index every object under each name it has had, so that a reference is
 * resolved by looking at the objects that had its name, not at all of
 * them; names and kinds do not change while references are fixed. */
static int names_index(struct rmap *m, const rset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *kind = res_str(s->v[i].obj, "kind", NULL);
		size_t j;
		json_t *n;
		json_array_foreach(s->v[i].names, j, n)
		{
			int rc = render__rmap_put(m, name_hash(kind, json_string_value(n)), i);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* kustomize reads an unset namespace as "default" when matching. */
static const char *eff_ns(const char *ns)
{
	return ns == NULL || ns[0] == '\0' ? "default" : ns;
}

/*
 * Replace parent[key], a name of a `kind` object as it was before renames,
 * by that object's current name. Among objects that ever had the name, one
 * in the referrer's namespace (or cluster-scoped) is taken; none leaves the
 * value alone (it names something outside the set); several is an error.
 */
static int fix_ref(json_t *parent, const char *key, void *ud)
{
	struct ref_ctx *c = ud;
	const char *val = res_str(parent, key, NULL);
	rres *hit = NULL;

	size_t pos = SIZE_MAX, i;

	if (val == NULL)
		return 0;
	while (render__rmap_next(c->names, name_hash(c->kind, val), &pos, &i)) {
		rres *r = &c->s->v[i];
		const char *ns = res_str(r->obj, "metadata", "namespace");
		if (strcmp(res_str(r->obj, "kind", NULL), c->kind) != 0 || !had_name(r, val))
			continue;
		if (!kind_cluster_scoped(c->kind) && strcmp(eff_ns(ns), eff_ns(c->ns)) != 0)
			continue;
		if (hit != NULL && hit != r)
			return cairn_error_set(CAIRN_EINVAL,
			                       "%s name '%s' refers to several objects", c->kind,
			                       val);
		hit = r;
	}
	if (hit == NULL)
		return 0;
	if (json_object_set(parent, key,
	                    json_object_get(json_object_get(hit->obj, "metadata"), "name")) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

struct refspec {
	const char *kind; /* referred kind */
	const char *path; /* inside a pod spec */
};

static const struct refspec pod_refs[] = {
        {"ConfigMap", "volumes/configMap/name"},
        {"ConfigMap", "volumes/projected/sources/configMap/name"},
        {"ConfigMap", "containers/env/valueFrom/configMapKeyRef/name"},
        {"ConfigMap", "initContainers/env/valueFrom/configMapKeyRef/name"},
        {"ConfigMap", "containers/envFrom/configMapRef/name"},
        {"ConfigMap", "initContainers/envFrom/configMapRef/name"},
        {"Secret", "volumes/secret/secretName"},
        {"Secret", "volumes/projected/sources/secret/name"},
        {"Secret", "containers/env/valueFrom/secretKeyRef/name"},
        {"Secret", "initContainers/env/valueFrom/secretKeyRef/name"},
        {"Secret", "containers/envFrom/secretRef/name"},
        {"Secret", "initContainers/envFrom/secretRef/name"},
        {"Secret", "imagePullSecrets/name"},
        {"ServiceAccount", "serviceAccountName"},
        {"PersistentVolumeClaim", "volumes/persistentVolumeClaim/claimName"},
};

/* Where the pod spec of a workload kind is. */
static const char *pod_spec_path(const char *kind)
{
	static const char *const tmpl[] = {"Deployment",  "ReplicaSet", "DaemonSet",
	                                   "StatefulSet", "Job",        "ReplicationController"};
	if (strcmp(kind, "Pod") == 0)
		return "spec";
	if (strcmp(kind, "CronJob") == 0)
		return "spec/jobTemplate/spec/template/spec";
	for (size_t i = 0; i < sizeof(tmpl) / sizeof(tmpl[0]); i++)
		if (strcmp(kind, tmpl[i]) == 0)
			return "spec/template/spec";
	return NULL;
}

static int ref_walk(json_t *o, struct ref_ctx *c, const char *kind, const char *path)
{
	c->kind = kind;
	return walk_fields(o, path, 0, fix_ref, c);
}

/*
 * One subject of an RBAC binding, as `kubectl kustomize` treats it: whatever
 * its kind, a subject whose name a ServiceAccount of the set has had, and
 * whose namespace is unset or that account's, takes the account's current
 * name and (when the account has one) namespace.
 */
static int fix_subject(json_t *subj, const struct ref_ctx *c)
{
	const char *name = res_str(subj, "name", NULL), *sns = res_str(subj, "namespace", NULL);
	rres *hit = NULL;
	size_t pos = SIZE_MAX, i;

	if (name == NULL)
		return 0;
	while (render__rmap_next(c->names, name_hash("ServiceAccount", name), &pos, &i)) {
		rres *r = &c->s->v[i];
		const char *ns = res_str(r->obj, "metadata", "namespace");
		if (strcmp(res_str(r->obj, "kind", NULL), "ServiceAccount") != 0 ||
		    !had_name(r, name))
			continue;
		if (sns != NULL && sns[0] != '\0' && strcmp(eff_ns(sns), eff_ns(ns)) != 0)
			continue;
		if (hit != NULL && hit != r) /* r is listed once per name it had */
			return cairn_error_set(
			        CAIRN_EUNSUPPORTED,
			        "binding subject '%s' matches several ServiceAccounts", name);
		hit = r;
	}
	if (hit == NULL)
		return 0;
	if (json_object_set(subj, "name",
	                    json_object_get(json_object_get(hit->obj, "metadata"), "name")) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (res_str(hit->obj, "metadata", "namespace") != NULL &&
	    res_str(hit->obj, "metadata", "namespace")[0] != '\0' &&
	    json_object_set(subj, "namespace",
	                    json_object_get(json_object_get(hit->obj, "metadata"), "namespace")) <
	            0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* RBAC bindings: roleRef names a Role or ClusterRole (by roleRef.kind); the
 * subjects name ServiceAccounts (see fix_subject). */
static int rbac_refs(json_t *o, struct ref_ctx *c)
{
	json_t *ref = json_object_get(o, "roleRef"), *subj;
	const char *rk = res_str(ref, "kind", NULL);
	size_t i;
	int rc = 0;

	if (rk != NULL && (strcmp(rk, "Role") == 0 || strcmp(rk, "ClusterRole") == 0)) {
		c->kind = rk;
		rc = fix_ref(ref, "name", c);
	}
	json_array_foreach(json_object_get(o, "subjects"), i, subj)
	{
		if (rc == 0 && json_is_object(subj))
			rc = fix_subject(subj, c);
	}
	return rc;
}

int tf_namerefs(rset *s)
{
	struct rmap names = {0};
	int rc = names_index(&names, s);

	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		json_t *o = s->v[i].obj;
		const char *kind = res_str(o, "kind", NULL),
		           *ns = res_str(o, "metadata", "namespace");
		const char *pod = pod_spec_path(kind);
		struct ref_ctx c = {s, &names, NULL, ns ? ns : ""};
		char path[256];

		for (size_t j = 0; pod && rc == 0 && j < sizeof(pod_refs) / sizeof(pod_refs[0]);
		     j++) {
			snprintf(path, sizeof(path), "%s/%s", pod, pod_refs[j].path);
			rc = ref_walk(o, &c, pod_refs[j].kind, path);
		}
		if (rc == 0 && strcmp(kind, "StatefulSet") == 0)
			rc = ref_walk(o, &c, "Service", "spec/serviceName");
		if (rc == 0 && strcmp(kind, "Ingress") == 0) {
			rc = ref_walk(o, &c, "Service",
			              "spec/rules/http/paths/backend/service/name");
			if (rc == 0)
				rc = ref_walk(o, &c, "Service", "spec/defaultBackend/service/name");
			if (rc == 0)
				rc = ref_walk(o, &c, "Secret", "spec/tls/secretName");
		}
		if (rc == 0 &&
		    (strcmp(kind, "RoleBinding") == 0 || strcmp(kind, "ClusterRoleBinding") == 0))
			rc = rbac_refs(o, &c);
	}
	render__rmap_dispose(&names);
	return rc;
}

/* ---- legacy order --------------------------------------------------------- */

static const char *const order_first[] = {
        "Namespace",
        "ResourceQuota",
        "StorageClass",
        "CustomResourceDefinition",
        "ServiceAccount",
        "PodSecurityPolicy",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ConfigMap",
        "Secret",
        "Endpoints",
        "Service",
        "LimitRange",
        "PriorityClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Deployment",
        "StatefulSet",
        "CronJob",
        "PodDisruptionBudget",
};
static const char *const order_last[] = {"MutatingWebhookConfiguration",
                                         "ValidatingWebhookConfiguration"};

static int kind_rank(const char *kind)
{
	int n = (int)(sizeof(order_first) / sizeof(order_first[0]));

	for (int i = 0; i < n; i++)
		if (strcmp(kind, order_first[i]) == 0)
			return i - n;
	for (int i = 0; i < 2; i++)
		if (strcmp(kind, order_last[i]) == 0)
			return i + 1;
	return 0;
}

/* kustomize's "group_version_kind" with "~G"/"~V" for empty parts. */
static void gvk_string(const json_t *o, char *out, size_t size)
{
	const char *av = res_str(o, "apiVersion", NULL), *kind = res_str(o, "kind", NULL);
	const char *slash = av ? strchr(av, '/') : NULL;

	if (av == NULL || av[0] == '\0')
		snprintf(out, size, "~G_~V_%s", kind);
	else if (slash == NULL)
		snprintf(out, size, "~G_%s_%s", av, kind);
	else
		snprintf(out, size, "%.*s_%s_%s", (int)(slash - av), av, slash + 1, kind);
}

static void legacy_id(const json_t *o, char *out, size_t size)
{
	const char *kind = res_str(o, "kind", NULL), *ns = res_str(o, "metadata", "namespace");
	const char *name = res_str(o, "metadata", "name");

	if (kind_cluster_scoped(kind))
		ns = "_non_namespaceable_";
	else if (ns == NULL || ns[0] == '\0')
		ns = "default";
	snprintf(out, size, "%s|%s", ns, name);
}

static int legacy_cmp(const void *pa, const void *pb)
{
	const json_t *a = ((const rres *)pa)->obj, *b = ((const rres *)pb)->obj;
	int ra = kind_rank(res_str(a, "kind", NULL)), rb = kind_rank(res_str(b, "kind", NULL));
	char sa[1024], sb[1024];
	int c;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	gvk_string(a, sa, sizeof(sa));
	gvk_string(b, sb, sizeof(sb));
	c = strcmp(sa, sb);
	if (c != 0)
		return c;
	legacy_id(a, sa, sizeof(sa));
	legacy_id(b, sb, sizeof(sb));
	return strcmp(sa, sb);
}

/* One object's sort key, computed once instead of at every comparison. */
struct skey {
	int rank;
	char *gvk, *id; /* as gvk_string and legacy_id write them */
	rres r;
};

static int skey_cmp(const void *pa, const void *pb)
{
	const struct skey *a = pa, *b = pb;
	int c;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	c = strcmp(a->gvk, b->gvk);
	return c != 0 ? c : strcmp(a->id, b->id);
}

/* Fill k for r; the strings are truncated as legacy_cmp's buffers do. */
static int skey_make(struct skey *k, const rres *r)
{
	char b[1024];

	k->r = *r;
	k->rank = kind_rank(res_str(r->obj, "kind", NULL));
	gvk_string(r->obj, b, sizeof(b));
	k->gvk = strdup(b);
	legacy_id(r->obj, b, sizeof(b));
	k->id = strdup(b);
	return k->gvk && k->id ? 0 : -1;
}

/*
 * The keys are built once per object (two snprintf calls each) rather
 * than twice per comparison; skey_cmp answers every comparison as
 * legacy_cmp does, so the order is the same. Out of memory, the slow
 * path runs.
 */
void sort_legacy(rset *s)
{
	struct skey *k;
	size_t i, made;
	int ok;

	if (s->n < 2)
		return;
	k = calloc(s->n, sizeof(*k));
	ok = k != NULL;
	for (made = 0; ok && made < s->n; made++) /* made counts a failed one too */
		ok = skey_make(&k[made], &s->v[made]) == 0;
	if (!ok) {
		qsort(s->v, s->n, sizeof(s->v[0]), legacy_cmp);
	} else {
		qsort(k, s->n, sizeof(k[0]), skey_cmp);
		for (i = 0; i < s->n; i++)
			s->v[i] = k[i].r;
	}
	for (i = 0; k != NULL && i < made; i++) {
		free(k[i].gvk);
		free(k[i].id);
	}
	free(k);
}
