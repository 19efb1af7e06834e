/*
 * provider_kubernetes.c - a workload's state as a measurement, through the
 * kube client: its health as Argo CD assesses it, its replica counts and
 * the container restarts of the Pods its selector picks (the canary's,
 * when the workload is the canary's ReplicaSet or Deployment).
 *
 *   provider:
 *     kubernetes:
 *       apiVersion: apps/v1      # default
 *       kind: Deployment         # default; StatefulSet, ReplicaSet, DaemonSet
 *       name: web-canary
 *       namespace: shop          # default: the client's
 *
 * result = {health, message, replicas, readyReplicas, availableReplicas,
 *           updatedReplicas, restarts, pods}; a missing workload is
 *           health 'Missing' with zero counts, not an error.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/kube.h"
#include "provider_private.h"

/* spec.selector.matchLabels as a label selector "k=v,k2=v2". */
static int selector_of(cairn_buf *out, const json_t *obj)
{
	const json_t *ml = json_object_get(
	        json_object_get(json_object_get(obj, "spec"), "selector"), "matchLabels");
	const char *k;
	json_t *v;
	int rc = 0;

	if (json_object_size(ml) == 0)
		return cairn_error_set(CAIRN_EINVAL, "kubernetes: the workload has no "
		                                     "spec.selector.matchLabels");
	json_object_foreach((json_t *)ml, k, v)
	{
		if (!json_is_string(v))
			return cairn_error_set(CAIRN_EINVAL,
			                       "kubernetes: label '%s' is not a string", k);
		if (out->len > 0)
			rc = cairn_buf_putc(out, ',');
		if (rc == 0)
			rc = cairn_buf_printf(out, "%s=%s", k, json_string_value(v));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Sum of restartCount over the containers of the selected Pods. */
static int count_restarts(int64_t *restarts, int64_t *pods, cairn_kube_client *c, const char *ns,
                          const json_t *obj)
{
	cairn_buf sel = CAIRN_BUF_INIT(16 * 1024);
	cairn_kube_list_opts lo = {0};
	cairn_kube_mapping pm;
	json_t *list = NULL, *p, *cs;
	size_t i, k;
	int rc;

	*restarts = 0;
	*pods = 0;
	if ((rc = selector_of(&sel, obj)) < 0 ||
	    (rc = cairn_kube_mapping_for(c, "v1", "Pod", &pm)) < 0)
		goto out;
	lo.label_selector = sel.ptr;
	if ((rc = cairn_kube_list(c, &pm, ns, &lo, &list)) < 0)
		goto out;
	json_array_foreach(json_object_get(list, "items"), i, p)
	{
		(*pods)++;
		json_array_foreach(
		        json_object_get(json_object_get(p, "status"), "containerStatuses"), k, cs)
		{
			*restarts += json_integer_value(json_object_get(cs, "restartCount"));
		}
	}
out:
	json_decref(list);
	cairn_buf_dispose(&sel);
	return rc;
}

static int put_int(cairn_value *map, const char *key, int64_t v)
{
	return cairn_value_add(map, key, cairn_value_new_float((double)v));
}

int provider__kubernetes(cairn_value **out, const json_t *spec, const cairn_analysis_ctx *ctx)
{
	const char *api = json_string_value(json_object_get(spec, "apiVersion"));
	const char *kind = json_string_value(json_object_get(spec, "kind"));
	const char *name = json_string_value(json_object_get(spec, "name"));
	const char *ns = json_string_value(json_object_get(spec, "namespace"));
	cairn_kube_mapping m;
	cairn_health h;
	cairn_value *res = NULL;
	json_t *obj = NULL;
	const json_t *st;
	int64_t restarts = 0, pods = 0;
	int rc;

	if (ctx->kube == NULL)
		return cairn_error_set(CAIRN_EINVAL, "kubernetes: no cluster client was given");
	if (name == NULL || name[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "kubernetes: 'name' is required");
	if ((rc = cairn_kube_mapping_for(ctx->kube, api ? api : "apps/v1",
	                                 kind ? kind : "Deployment", &m)) < 0)
		return cairn_error_prefix("kubernetes: ");
	rc = cairn_kube_get(ctx->kube, &m, ns, name, &obj);
	if (rc < 0 && rc != CAIRN_ENOTFOUND)
		return cairn_error_prefix("kubernetes: ");
	if ((rc = cairn_health_assess(obj, &h)) < 0)
		goto out;
	if (obj != NULL && (rc = count_restarts(&restarts, &pods, ctx->kube, ns, obj)) < 0) {
		cairn_error_prefix("kubernetes: ");
		goto out;
	}
	st = json_object_get(obj, "status");
	if ((res = cairn_value_new_map()) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = cairn_value_add(
	             res, "health",
	             cairn_value_new_string(h.none ? "Healthy"
	                                           : cairn_health_status_string(h.status)))) < 0 ||
	    (rc = cairn_value_add(res, "message", cairn_value_new_string(h.message))) < 0 ||
	    (rc = put_int(res, "replicas", json_integer_value(json_object_get(st, "replicas")))) <
	            0 ||
	    (rc = put_int(res, "readyReplicas",
	                  json_integer_value(json_object_get(st, "readyReplicas")))) < 0 ||
	    (rc = put_int(res, "availableReplicas",
	                  json_integer_value(json_object_get(st, "availableReplicas")))) < 0 ||
	    (rc = put_int(res, "updatedReplicas",
	                  json_integer_value(json_object_get(st, "updatedReplicas")))) < 0 ||
	    (rc = put_int(res, "restarts", restarts)) < 0 || (rc = put_int(res, "pods", pods)) < 0)
		goto out;
	*out = res;
	res = NULL;
out:
	cairn_value_free(res);
	json_decref(obj);
	return rc;
}
