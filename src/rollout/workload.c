/*
 * workload.c - what the rollout engine writes to and reads from the
 * cluster: the ReplicaSet of each pod template, its scale, and the Service
 * selectors, all written with server-side apply as field manager
 * CAIRN_ROLLOUT_FIELD_MANAGER (force), so the fields the engine owns stay
 * separate from sync's ("cairn").
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/sync.h"
#include "rollout_private.h"

/* A copy of `obj` (an object, or a new one) with `key` set to `val`. */
static json_t *with_label(const json_t *labels, const char *k1, const char *v1, const char *k2,
                          const char *v2)
{
	json_t *o = json_is_object(labels) ? json_deep_copy(labels) : json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, k1, json_string(v1));
	if (k2 != NULL)
		json_object_set_new(o, k2, json_string(v2));
	return o;
}

json_t *ro_replicaset(const char *rollout, const char *ns, const json_t *selector,
                      const json_t *template_, const char *hash, int replicas, const char *revision)
{
	json_t *rs = NULL, *tpl = NULL, *sel = NULL, *labels = NULL, *meta;
	char name[256];

	snprintf(name, sizeof(name), "%s-%s", rollout, hash);
	tpl = json_deep_copy(template_);
	sel = json_deep_copy(selector);
	if (tpl == NULL || sel == NULL)
		goto fail;
	meta = json_object_get(tpl, "metadata");
	if (meta == NULL) {
		meta = json_object();
		json_object_set_new(tpl, "metadata", meta);
	}
	json_object_set_new(meta, "labels",
	                    with_label(json_object_get(meta, "labels"), CAIRN_ROLLOUT_HASH_LABEL,
	                               hash, NULL, NULL));
	json_object_set_new(sel, "matchLabels",
	                    with_label(json_object_get(sel, "matchLabels"),
	                               CAIRN_ROLLOUT_HASH_LABEL, hash, NULL, NULL));
	labels = with_label(json_object_get(meta, "labels"), CAIRN_ROLLOUT_MARKER, rollout, NULL,
	                    NULL);
	rs = json_pack("{s:s,s:s,s:{s:s,s:s,s:o,s:{s:s}},s:{s:i,s:o,s:o}}", "apiVersion", "apps/v1",
	               "kind", "ReplicaSet", "metadata", "name", name, "namespace", ns, "labels",
	               labels, "annotations", "cairn.dev/rollout-revision",
	               revision ? revision : "", "spec", "replicas", replicas, "selector", sel,
	               "template", tpl);
	return rs;
fail:
	json_decref(tpl);
	json_decref(sel);
	return NULL;
}

int ro_ssa(cairn_kube_client *kube, const json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	cairn_kube_mapping m;
	char path[1024];
	char *body = NULL;
	int rc;

	rc = cairn_kube_mapping_for(kube, av, kind, &m);
	if (rc < 0)
		return rc;
	if (ns == NULL)
		ns = cairn_kube_client_namespace(kube);
	/* /api/VERSION for the core group, /apis/GROUP/VERSION for the others */
	snprintf(path, sizeof(path), "%s%s/%s%s%s/%s/%s?fieldManager=%s&force=true",
	         m.group[0] ? "/apis/" : "/api", m.group, m.version,
	         m.namespaced ? "/namespaces/" : "", m.namespaced ? ns : "", m.resource, name,
	         CAIRN_ROLLOUT_FIELD_MANAGER);
	body = json_dumps(obj, JSON_COMPACT);
	if (body == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = cairn_kube_request(kube, "PATCH", path, "application/apply-patch+yaml", body,
	                        strlen(body), NULL);
	free(body);
	if (rc < 0)
		cairn_error_prefix("apply %s '%s/%s' as %s: ", kind, ns, name,
		                   CAIRN_ROLLOUT_FIELD_MANAGER);
	return rc;
}

int ro_rs_status(cairn_kube_client *kube, const char *rollout, const char *ns, const char *hash,
                 int *replicas, int *ready)
{
	cairn_kube_mapping m;
	json_t *rs = NULL;
	char name[256];
	int rc;

	*replicas = *ready = 0;
	rc = cairn_kube_mapping_for(kube, "apps/v1", "ReplicaSet", &m);
	if (rc < 0)
		return rc;
	snprintf(name, sizeof(name), "%s-%s", rollout, hash);
	rc = cairn_kube_get(kube, &m, ns, name, &rs);
	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	*replicas =
	        (int)json_integer_value(json_object_get(json_object_get(rs, "spec"), "replicas"));
	*ready = (int)json_integer_value(
	        json_object_get(json_object_get(rs, "status"), "readyReplicas"));
	json_decref(rs);
	return 0;
}

/* The first container of `pod` waiting for a reason that will not pass. */
static const char *pod_stuck(const json_t *pod)
{
	const json_t *cs = json_object_get(json_object_get(pod, "status"), "containerStatuses");
	size_t i;

	for (i = 0; i < json_array_size(cs); i++) {
		const json_t *w =
		        json_object_get(json_object_get(json_array_get(cs, i), "state"), "waiting");
		const char *reason = json_string_value(json_object_get(w, "reason"));
		if (reason != NULL && (strcmp(reason, "CrashLoopBackOff") == 0 ||
		                       strcmp(reason, "ImagePullBackOff") == 0 ||
		                       strcmp(reason, "ErrImagePull") == 0))
			return reason;
	}
	return NULL;
}

int ro_rs_degraded(cairn_kube_client *kube, const char *ns, const char *hash, char *why,
                   size_t size)
{
	cairn_kube_list_opts lo = {0};
	cairn_kube_mapping m;
	json_t *list = NULL;
	char sel[128];
	size_t i;
	int rc, bad = 0;

	rc = cairn_kube_mapping_for(kube, "v1", "Pod", &m);
	if (rc < 0)
		return rc;
	snprintf(sel, sizeof(sel), "%s=%s", CAIRN_ROLLOUT_HASH_LABEL, hash);
	lo.label_selector = sel;
	rc = cairn_kube_list(kube, &m, ns, &lo, &list);
	if (rc < 0)
		return rc;
	for (i = 0; i < json_array_size(json_object_get(list, "items")); i++) {
		const json_t *pod = json_array_get(json_object_get(list, "items"), i);
		const char *r = pod_stuck(pod);
		if (r != NULL) {
			snprintf(why, size, "pod '%s' is in %s",
			         json_string_value(
			                 json_object_get(json_object_get(pod, "metadata"), "name")),
			         r);
			bad = 1;
			break;
		}
	}
	json_decref(list);
	return bad;
}
