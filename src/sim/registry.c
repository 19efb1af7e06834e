/*
 * registry.c - cairn-sim's resource table: the built-in groups of issue 6
 * and the resources CustomResourceDefinitions add at run time.
 *
 * Rows are never freed while the registry lives: a CRD that is removed or
 * replaced moves its rows to a retired list, so a sim_resource pointer a
 * request thread still holds stays readable until sim_registry_free().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "api_internal.h"

#define VERBS_ALL "create,delete,deletecollection,get,list,patch,update,watch"
#define VERBS_NS "create,delete,get,list,patch,update,watch"
#define MAX_CRD_VERSIONS 32
#define MAX_ROWS 4096

struct sim_registry {
	pthread_rwlock_t lock;
	struct sim_entry **rows;
	size_t n, cap;
	struct sim_entry **retired;
	size_t nretired, capretired;
};

/* The built-in table: group, version, kind, plural, singular, short names,
 * categories, namespaced, status, scale — as a v1.28 API server lists them. */
struct builtin {
	const char *group, *version, *kind, *plural, *singular, *shorts, *cats;
	int ns, status, scale;
	const char *verbs;
};

static const struct builtin builtins[] = {
        {"", "v1", "ConfigMap", "configmaps", "configmap", "cm", NULL, 1, 0, 0, VERBS_ALL},
        {"", "v1", "Endpoints", "endpoints", "endpoints", "ep", NULL, 1, 0, 0, VERBS_ALL},
        {"", "v1", "Event", "events", "event", "ev", NULL, 1, 0, 0, VERBS_ALL},
        {"", "v1", "LimitRange", "limitranges", "limitrange", "limits", NULL, 1, 0, 0, VERBS_ALL},
        {"", "v1", "Namespace", "namespaces", "namespace", "ns", NULL, 0, 1, 0, VERBS_NS},
        {"", "v1", "Node", "nodes", "node", "no", NULL, 0, 1, 0, VERBS_ALL},
        {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim",
         "pvc", NULL, 1, 1, 0, VERBS_ALL},
        {"", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", "pv", NULL, 0, 1, 0,
         VERBS_ALL},
        {"", "v1", "Pod", "pods", "pod", "po", "all", 1, 1, 0, VERBS_ALL},
        {"", "v1", "PodTemplate", "podtemplates", "podtemplate", NULL, NULL, 1, 0, 0, VERBS_ALL},
        {"", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", "rc",
         "all", 1, 1, 1, VERBS_ALL},
        {"", "v1", "ResourceQuota", "resourcequotas", "resourcequota", "quota", NULL, 1, 1, 0,
         VERBS_ALL},
        {"", "v1", "Secret", "secrets", "secret", NULL, NULL, 1, 0, 0, VERBS_ALL},
        {"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", "sa", NULL, 1, 0, 0,
         VERBS_ALL},
        {"", "v1", "Service", "services", "service", "svc", "all", 1, 1, 0, VERBS_NS},
        {"apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", NULL,
         NULL, 1, 0, 0, VERBS_ALL},
        {"apps", "v1", "DaemonSet", "daemonsets", "daemonset", "ds", "all", 1, 1, 0, VERBS_ALL},
        {"apps", "v1", "Deployment", "deployments", "deployment", "deploy", "all", 1, 1, 1,
         VERBS_ALL},
        {"apps", "v1", "ReplicaSet", "replicasets", "replicaset", "rs", "all", 1, 1, 1, VERBS_ALL},
        {"apps", "v1", "StatefulSet", "statefulsets", "statefulset", "sts", "all", 1, 1, 1,
         VERBS_ALL},
        {"batch", "v1", "CronJob", "cronjobs", "cronjob", "cj", "all", 1, 1, 0, VERBS_ALL},
        {"batch", "v1", "Job", "jobs", "job", NULL, "all", 1, 1, 0, VERBS_ALL},
        {"networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", NULL, NULL, 0,
         0, 0, VERBS_ALL},
        {"networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", "ing", NULL, 1, 1, 0,
         VERBS_ALL},
        {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", "netpol",
         NULL, 1, 0, 0, VERBS_ALL},
        {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget",
         "pdb", NULL, 1, 1, 0, VERBS_ALL},
        {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
         "clusterrolebinding", NULL, NULL, 0, 0, 0, VERBS_ALL},
        {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", NULL,
         NULL, 0, 0, 0, VERBS_ALL},
        {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", NULL,
         NULL, 1, 0, 0, VERBS_ALL},
        {"rbac.authorization.k8s.io", "v1", "Role", "roles", "role", NULL, NULL, 1, 0, 0,
         VERBS_ALL},
        {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
         "horizontalpodautoscaler", "hpa", "all", 1, 1, 0, VERBS_ALL},
        {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", NULL, NULL,
         1, 0, 0, VERBS_ALL},
        {"coordination.k8s.io", "v1", "Lease", "leases", "lease", NULL, NULL, 1, 0, 0, VERBS_ALL},
        {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
         "customresourcedefinition", "crd,crds", "api-extensions", 0, 1, 0, VERBS_ALL},
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void entry_free(struct sim_entry *e)
{
	if (!e)
		return;
	free(e->res.group);
	free(e->res.version);
	free(e->res.kind);
	free(e->res.list_kind);
	free(e->res.plural);
	free(e->res.singular);
	free(e->res.short_names);
	free(e->res.categories);
	json_decref(e->res.schema);
	free(e->crd_name);
	free(e);
}

/* A new row with its strings copied; NULL on allocation failure. */
static struct sim_entry *entry_new(const char *group, const char *version, const char *kind,
                                   const char *plural, const char *singular, const char *shorts,
                                   const char *cats)
{
	struct sim_entry *e = calloc(1, sizeof(*e));
	size_t klen = strlen(kind);

	if (!e)
		return NULL;
	e->res.group = strdup(group);
	e->res.version = strdup(version);
	e->res.kind = strdup(kind);
	e->res.list_kind = malloc(klen + 5);
	e->res.plural = strdup(plural);
	e->res.singular = strdup(singular);
	e->res.short_names = dup_or_null(shorts);
	e->res.categories = dup_or_null(cats);
	e->served = 1;
	e->storage = 1;
	if (!e->res.group || !e->res.version || !e->res.kind || !e->res.list_kind ||
	    !e->res.plural || !e->res.singular || (shorts && !e->res.short_names) ||
	    (cats && !e->res.categories)) {
		entry_free(e);
		return NULL;
	}
	memcpy(e->res.list_kind, kind, klen);
	memcpy(e->res.list_kind + klen, "List", 5);
	return e;
}

static int push(struct sim_entry ***arr, size_t *n, size_t *cap, struct sim_entry *e)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct sim_entry **p = realloc(*arr, ncap * sizeof(*p));

		if (!p)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory growing the registry");
		*arr = p;
		*cap = ncap;
	}
	(*arr)[(*n)++] = e;
	return 0;
}

int sim_registry_new(sim_registry **out)
{
	sim_registry *r = calloc(1, sizeof(*r));
	size_t i;

	if (!r)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory creating the registry");
	pthread_rwlock_init(&r->lock, NULL);
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		const struct builtin *b = &builtins[i];
		struct sim_entry *e = entry_new(b->group, b->version, b->kind, b->plural,
		                                b->singular, b->shorts, b->cats);

		if (!e || push(&r->rows, &r->n, &r->cap, e) < 0) {
			entry_free(e);
			sim_registry_free(r);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory creating the registry");
		}
		e->res.namespaced = b->ns;
		e->res.has_status = b->status;
		e->res.has_scale = b->scale;
		e->verbs = b->verbs;
	}
	*out = r;
	return 0;
}

void sim_registry_free(sim_registry *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		entry_free(r->rows[i]);
	for (i = 0; i < r->nretired; i++)
		entry_free(r->retired[i]);
	free(r->rows);
	free(r->retired);
	pthread_rwlock_destroy(&r->lock);
	free(r);
}

void sim__registry_rdlock(const sim_registry *r)
{
	pthread_rwlock_rdlock(&((sim_registry *)r)->lock);
}

void sim__registry_unlock(const sim_registry *r)
{
	pthread_rwlock_unlock(&((sim_registry *)r)->lock);
}

size_t sim__registry_count(const sim_registry *r)
{
	return r->n;
}

const struct sim_entry *sim__registry_at(const sim_registry *r, size_t i)
{
	return i < r->n ? r->rows[i] : NULL;
}

const sim_resource *sim_registry_find(const sim_registry *r, const char *group, const char *version,
                                      const char *plural)
{
	const sim_resource *found = NULL;
	size_t i;

	if (!r || !group || !version || !plural)
		return NULL;
	sim__registry_rdlock(r);
	for (i = 0; i < r->n && !found; i++) {
		const sim_resource *res = &r->rows[i]->res;

		if (r->rows[i]->served && strcmp(res->plural, plural) == 0 &&
		    strcmp(res->group, group) == 0 && strcmp(res->version, version) == 0)
			found = res;
	}
	sim__registry_unlock(r);
	return found;
}

const sim_resource *sim_registry_find_kind(const sim_registry *r, const char *group,
                                           const char *version, const char *kind)
{
	const sim_resource *found = NULL;
	size_t i;

	if (!r || !group || !version || !kind)
		return NULL;
	sim__registry_rdlock(r);
	for (i = 0; i < r->n && !found; i++) {
		const sim_resource *res = &r->rows[i]->res;

		if (r->rows[i]->served && strcmp(res->kind, kind) == 0 &&
		    strcmp(res->group, group) == 0 && strcmp(res->version, version) == 0)
			found = res;
	}
	sim__registry_unlock(r);
	return found;
}

/* Join a JSON array of strings with commas; NULL (and *out NULL) when empty. */
static int join_strings(char **out, const json_t *arr)
{
	cairn_buf b = CAIRN_BUF_INIT(4096);
	size_t i;
	json_t *v;

	*out = NULL;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return 0;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			continue;
		if ((i && cairn_buf_putc(&b, ',') < 0) ||
		    cairn_buf_puts(&b, json_string_value(v)) < 0) {
			cairn_buf_dispose(&b);
			return cairn_error_set(CAIRN_ELIMIT, "CRD names list is too long");
		}
	}
	*out = cairn_buf_detach(&b, NULL);
	return 0;
}

/* Build the rows of one CRD (one per served or unserved version) into rows[]. */
static int crd_rows(const json_t *crd, const char *crd_name, struct sim_entry **rows, size_t *nrows)
{
	const json_t *spec = json_object_get(crd, "spec");
	const json_t *names = json_object_get(spec, "names");
	const char *group = json_string_value(json_object_get(spec, "group"));
	const char *plural = json_string_value(json_object_get(names, "plural"));
	const char *kind = json_string_value(json_object_get(names, "kind"));
	const char *singular = json_string_value(json_object_get(names, "singular"));
	const char *scope = json_string_value(json_object_get(spec, "scope"));
	const json_t *versions = json_object_get(spec, "versions");
	const json_t *ver;
	char *shorts = NULL, *cats = NULL;
	char lower[256];
	size_t i, n = 0;
	int rc = 0;

	if (!group || !*group || !plural || !*plural || !kind || !*kind)
		return cairn_error_set(CAIRN_EINVAL,
		                       "CRD '%s' lacks spec.group, spec.names.plural or "
		                       "spec.names.kind",
		                       crd_name);
	if (!json_is_array(versions) || json_array_size(versions) == 0 ||
	    json_array_size(versions) > MAX_CRD_VERSIONS)
		return cairn_error_set(CAIRN_EINVAL, "CRD '%s' must list 1 to %d spec.versions",
		                       crd_name, MAX_CRD_VERSIONS);
	if (!singular || !*singular) {
		size_t k = strlen(kind);

		if (k >= sizeof(lower))
			return cairn_error_set(CAIRN_EINVAL, "CRD '%s' kind is too long", crd_name);
		for (i = 0; i <= k; i++)
			lower[i] =
			        (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32 : kind[i]);
		singular = lower;
	}
	if ((rc = join_strings(&shorts, json_object_get(names, "shortNames"))) < 0 ||
	    (rc = join_strings(&cats, json_object_get(names, "categories"))) < 0)
		goto out;
	json_array_foreach(versions, i, ver)
	{
		const char *vname = json_string_value(json_object_get(ver, "name"));
		const json_t *sub = json_object_get(ver, "subresources");
		const json_t *schema =
		        json_object_get(json_object_get(ver, "schema"), "openAPIV3Schema");
		struct sim_entry *e;

		if (!vname || !*vname) {
			rc = cairn_error_set(CAIRN_EINVAL, "CRD '%s' has a version without a name",
			                     crd_name);
			goto out;
		}
		e = entry_new(group, vname, kind, plural, singular, shorts, cats);
		if (!e || !(e->crd_name = strdup(crd_name))) {
			entry_free(e);
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory registering a CRD");
			goto out;
		}
		rows[n++] = e;
		e->verbs = VERBS_ALL;
		e->res.namespaced = !scope || strcmp(scope, "Cluster") != 0;
		e->res.has_status = json_object_get(sub, "status") != NULL;
		e->res.has_scale = json_object_get(sub, "scale") != NULL;
		e->served = !json_is_false(json_object_get(ver, "served"));
		e->storage = json_is_true(json_object_get(ver, "storage"));
		if (schema)
			e->res.schema = json_deep_copy(schema);
	}
out:
	free(shorts);
	free(cats);
	if (rc < 0) {
		while (n)
			entry_free(rows[--n]);
		return rc;
	}
	*nrows = n;
	return 0;
}

/* Move every row of CRD `name` to the retired list; the count moved. */
static size_t retire(sim_registry *r, const char *name)
{
	size_t i = 0, moved = 0;

	while (i < r->n) {
		struct sim_entry *e = r->rows[i];

		if (e->crd_name && strcmp(e->crd_name, name) == 0 &&
		    push(&r->retired, &r->nretired, &r->capretired, e) == 0) {
			memmove(&r->rows[i], &r->rows[i + 1], (r->n - i - 1) * sizeof(*r->rows));
			r->n--;
			moved++;
		} else {
			i++;
		}
	}
	return moved;
}

int sim_registry_put_crd(sim_registry *r, const json_t *crd)
{
	struct sim_entry *rows[MAX_CRD_VERSIONS];
	const char *name =
	        json_string_value(json_object_get(json_object_get(crd, "metadata"), "name"));
	size_t n = 0, i;
	int rc;

	if (!name || !*name)
		return cairn_error_set(CAIRN_EINVAL, "CRD has no metadata.name");
	if ((rc = crd_rows(crd, name, rows, &n)) < 0)
		return rc;
	pthread_rwlock_wrlock(&r->lock);
	for (i = 0; i < r->n; i++) {
		const struct sim_entry *e = r->rows[i];

		if (!e->crd_name && strcmp(e->res.group, rows[0]->res.group) == 0 &&
		    strcmp(e->res.plural, rows[0]->res.plural) == 0) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "CRD '%s' names the built-in resource '%s.%s'", name,
			                     e->res.plural, e->res.group);
			goto out;
		}
	}
	if (r->n + n > MAX_ROWS) {
		rc = cairn_error_set(CAIRN_ELIMIT, "too many resources registered (limit %d)",
		                     MAX_ROWS);
		goto out;
	}
	retire(r, name);
	for (i = 0; i < n; i++) {
		if ((rc = push(&r->rows, &r->n, &r->cap, rows[i])) < 0)
			goto out;
		rows[i] = NULL;
	}
out:
	pthread_rwlock_unlock(&r->lock);
	for (i = 0; i < n; i++)
		entry_free(rows[i]);
	return rc;
}

int sim_registry_remove_crd(sim_registry *r, const char *crd_name)
{
	size_t moved;

	if (!r || !crd_name)
		return cairn_error_set(CAIRN_EINVAL, "no CRD name given");
	pthread_rwlock_wrlock(&r->lock);
	moved = retire(r, crd_name);
	pthread_rwlock_unlock(&r->lock);
	if (!moved)
		return cairn_error_set(CAIRN_ENOTFOUND, "CRD '%s' is not registered", crd_name);
	return 0;
}
