/*
 * defaults.c - the API server's defaulting of built-in kinds, for the
 * fields that show up in diffs (each default and its source is listed in
 * docs/sim-objects.md).
 *
 * Every setter here only fills a field that is absent, never overwrites
 * one, so defaulting an already defaulted object changes nothing.
 */
#include <stdint.h>
#include <string.h>

#include "sim/objects.h"

#include "cairn/error.h"

/* Set `key` of `obj` to `v` (stolen) when it is absent; `v` is dropped otherwise. */
static void put(json_t *obj, const char *key, json_t *v)
{
	if (json_is_object(obj) && json_object_get(obj, key) == NULL)
		json_object_set_new(obj, key, v);
	else
		json_decref(v);
}

/* The object member `key` of `obj`, created ({}) when absent. */
static json_t *child(json_t *obj, const char *key)
{
	json_t *c;

	if (!json_is_object(obj))
		return NULL;
	c = json_object_get(obj, key);
	if (c == NULL) {
		c = json_object();
		json_object_set_new(obj, key, c);
	}
	return json_is_object(c) ? c : NULL;
}

/* imagePullPolicy: Always for the tag "latest" or no tag (a digest counts
 * as a tag), IfNotPresent otherwise. */
static const char *pull_policy(const char *image)
{
	const char *slash, *colon;

	if (image == NULL)
		return "IfNotPresent";
	if (strchr(image, '@'))
		return "IfNotPresent";
	slash = strrchr(image, '/');
	colon = strrchr(slash ? slash : image, ':');
	if (colon == NULL || strcmp(colon + 1, "latest") == 0)
		return "Always";
	return "IfNotPresent";
}

static void default_probe(json_t *probe)
{
	json_t *http;

	if (!json_is_object(probe))
		return;
	put(probe, "timeoutSeconds", json_integer(1));
	put(probe, "periodSeconds", json_integer(10));
	put(probe, "successThreshold", json_integer(1));
	put(probe, "failureThreshold", json_integer(3));
	http = json_object_get(probe, "httpGet");
	if (json_is_object(http))
		put(http, "scheme", json_string("HTTP"));
}

static void default_container(json_t *c)
{
	json_t *ports, *env, *p, *e;
	size_t i;

	if (!json_is_object(c))
		return;
	put(c, "imagePullPolicy",
	    json_string(pull_policy(json_string_value(json_object_get(c, "image")))));
	put(c, "terminationMessagePath", json_string("/dev/termination-log"));
	put(c, "terminationMessagePolicy", json_string("File"));
	put(c, "resources", json_object());
	ports = json_object_get(c, "ports");
	json_array_foreach(ports, i, p) put(p, "protocol", json_string("TCP"));
	env = json_object_get(c, "env");
	json_array_foreach(env, i, e)
	{
		json_t *ref = json_object_get(json_object_get(e, "valueFrom"), "fieldRef");

		put(ref, "apiVersion", json_string("v1"));
	}
	default_probe(json_object_get(c, "livenessProbe"));
	default_probe(json_object_get(c, "readinessProbe"));
	default_probe(json_object_get(c, "startupProbe"));
}

static void default_volume(json_t *v)
{
	static const char *const moded[] = {"configMap", "secret", "projected", "downwardAPI"};

	for (size_t i = 0; i < sizeof(moded) / sizeof(moded[0]); i++) {
		json_t *src = json_object_get(v, moded[i]);

		put(src, "defaultMode", json_integer(420));
	}
}

static void default_pod_spec(json_t *spec)
{
	static const char *const lists[] = {"containers", "initContainers"};
	json_t *c, *vols;
	size_t i;

	if (!json_is_object(spec))
		return;
	put(spec, "restartPolicy", json_string("Always"));
	put(spec, "dnsPolicy", json_string("ClusterFirst"));
	put(spec, "schedulerName", json_string("default-scheduler"));
	put(spec, "securityContext", json_object());
	put(spec, "terminationGracePeriodSeconds", json_integer(30));
	for (size_t l = 0; l < 2; l++)
		json_array_foreach(json_object_get(spec, lists[l]), i, c) default_container(c);
	vols = json_object_get(spec, "volumes");
	json_array_foreach(vols, i, c) default_volume(c);
}

/* A Pod template inside a workload: its metadata prints creationTimestamp
 * null (a zero time in ObjectMeta), its spec gets the PodSpec defaults. */
static void default_template(json_t *tmpl)
{
	if (!json_is_object(tmpl))
		return;
	put(child(tmpl, "metadata"), "creationTimestamp", json_null());
	default_pod_spec(json_object_get(tmpl, "spec"));
}

static void default_deployment(json_t *spec)
{
	json_t *strategy;
	const char *t;

	put(spec, "replicas", json_integer(1));
	put(spec, "revisionHistoryLimit", json_integer(10));
	put(spec, "progressDeadlineSeconds", json_integer(600));
	strategy = child(spec, "strategy");
	put(strategy, "type", json_string("RollingUpdate"));
	t = json_string_value(json_object_get(strategy, "type"));
	if (t && strcmp(t, "RollingUpdate") == 0) {
		json_t *ru = child(strategy, "rollingUpdate");

		put(ru, "maxUnavailable", json_string("25%"));
		put(ru, "maxSurge", json_string("25%"));
	}
	default_template(json_object_get(spec, "template"));
}

static void default_replicaset(json_t *spec)
{
	put(spec, "replicas", json_integer(1));
	default_template(json_object_get(spec, "template"));
}

static void default_statefulset(json_t *spec)
{
	json_t *us, *ret;
	const char *t;

	put(spec, "replicas", json_integer(1));
	put(spec, "podManagementPolicy", json_string("OrderedReady"));
	put(spec, "revisionHistoryLimit", json_integer(10));
	us = child(spec, "updateStrategy");
	put(us, "type", json_string("RollingUpdate"));
	t = json_string_value(json_object_get(us, "type"));
	if (t && strcmp(t, "RollingUpdate") == 0)
		put(child(us, "rollingUpdate"), "partition", json_integer(0));
	ret = child(spec, "persistentVolumeClaimRetentionPolicy");
	put(ret, "whenDeleted", json_string("Retain"));
	put(ret, "whenScaled", json_string("Retain"));
	default_template(json_object_get(spec, "template"));
}

static void default_daemonset(json_t *spec)
{
	json_t *us;
	const char *t;

	put(spec, "revisionHistoryLimit", json_integer(10));
	us = child(spec, "updateStrategy");
	put(us, "type", json_string("RollingUpdate"));
	t = json_string_value(json_object_get(us, "type"));
	if (t && strcmp(t, "RollingUpdate") == 0) {
		json_t *ru = child(us, "rollingUpdate");

		put(ru, "maxUnavailable", json_integer(1));
		put(ru, "maxSurge", json_integer(0));
	}
	default_template(json_object_get(spec, "template"));
}

static void default_job(json_t *spec)
{
	put(spec, "parallelism", json_integer(1));
	put(spec, "completions", json_integer(1));
	put(spec, "backoffLimit", json_integer(6));
	put(spec, "completionMode", json_string("NonIndexed"));
	put(spec, "suspend", json_false());
	default_template(json_object_get(spec, "template"));
}

static void default_cronjob(json_t *spec)
{
	json_t *jt;

	put(spec, "concurrencyPolicy", json_string("Allow"));
	put(spec, "suspend", json_false());
	put(spec, "successfulJobsHistoryLimit", json_integer(3));
	put(spec, "failedJobsHistoryLimit", json_integer(1));
	jt = json_object_get(spec, "jobTemplate");
	if (json_is_object(jt)) {
		put(child(jt, "metadata"), "creationTimestamp", json_null());
		default_template(json_object_get(json_object_get(jt, "spec"), "template"));
	}
}

/* A deterministic address in 10.96.0.0/12 for a Service, from an FNV-1a
 * hash of "namespace/name"; 10.96.0.0, .1 (the kubernetes Service) and
 * .10 (cluster DNS) are never handed out. */
static json_t *cluster_ip(const char *ns, const char *name)
{
	uint32_t h = 2166136261u, off;
	char ip[32];
	const char *parts[3] = {ns ? ns : "", "/", name ? name : ""};

	for (int p = 0; p < 3; p++)
		for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++)
			h = (h ^ *s) * 16777619u;
	off = 2 + h % ((1u << 20) - 3);
	if (off == 10)
		off = 11;
	snprintf(ip, sizeof(ip), "10.%u.%u.%u", 96 + (off >> 16), (off >> 8) & 255, off & 255);
	return json_string(ip);
}

/* A deterministic node port in 30000-32767 for port `i` of a Service. */
static json_t *node_port(const char *ns, const char *name, size_t i)
{
	uint32_t h = 2166136261u;
	const char *parts[2] = {ns ? ns : "", name ? name : ""};

	for (int p = 0; p < 2; p++)
		for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++)
			h = (h ^ *s) * 16777619u;
	return json_integer(30000 + (json_int_t)((h + i * 7919u) % 2768u));
}

static void default_service(json_t *obj, json_t *spec)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *type, *ip;
	json_t *ports, *p;
	size_t i;

	put(spec, "type", json_string("ClusterIP"));
	type = json_string_value(json_object_get(spec, "type"));
	if (type == NULL)
		return;
	put(spec, "sessionAffinity", json_string("None"));
	if (strcmp(type, "ExternalName") == 0)
		goto status;
	ports = json_object_get(spec, "ports");
	json_array_foreach(ports, i, p)
	{
		put(p, "protocol", json_string("TCP"));
		if (json_object_get(p, "port"))
			put(p, "targetPort", json_deep_copy(json_object_get(p, "port")));
		if (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0)
			put(p, "nodePort", node_port(ns, name, i));
	}
	put(spec, "clusterIP", cluster_ip(ns, name));
	ip = json_string_value(json_object_get(spec, "clusterIP"));
	put(spec, "clusterIPs", json_pack("[s]", ip ? ip : ""));
	put(spec, "ipFamilies", json_pack("[s]", "IPv4"));
	put(spec, "ipFamilyPolicy", json_string("SingleStack"));
	put(spec, "internalTrafficPolicy", json_string("Cluster"));
	if (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0)
		put(spec, "externalTrafficPolicy", json_string("Cluster"));
	if (strcmp(type, "LoadBalancer") == 0)
		put(spec, "allocateLoadBalancerNodePorts", json_true());
status:
	child(child(obj, "status"), "loadBalancer");
}

int sim_default(json_t *obj)
{
	const char *av, *kind;
	json_t *spec;

	if (!json_is_object(obj))
		return 0;
	av = json_string_value(json_object_get(obj, "apiVersion"));
	kind = json_string_value(json_object_get(obj, "kind"));
	if (av == NULL || kind == NULL)
		return 0;
	spec = json_object_get(obj, "spec");
	if (strcmp(av, "v1") == 0) {
		if (strcmp(kind, "Pod") == 0) {
			default_pod_spec(spec);
			put(spec, "enableServiceLinks", json_true());
		} else if (strcmp(kind, "PodTemplate") == 0) {
			default_template(json_object_get(obj, "template"));
		} else if (strcmp(kind, "ReplicationController") == 0 && json_is_object(spec)) {
			put(spec, "replicas", json_integer(1));
			default_template(json_object_get(spec, "template"));
		} else if (strcmp(kind, "Service") == 0) {
			default_service(obj, child(obj, "spec"));
		} else if (strcmp(kind, "Namespace") == 0) {
			const char *name = json_string_value(
			        json_object_get(json_object_get(obj, "metadata"), "name"));

			if (name)
				put(child(child(obj, "metadata"), "labels"),
				    "kubernetes.io/metadata.name", json_string(name));
			put(child(obj, "spec"), "finalizers", json_pack("[s]", "kubernetes"));
			put(child(obj, "status"), "phase", json_string("Active"));
		} else if (strcmp(kind, "Secret") == 0) {
			put(obj, "type", json_string("Opaque"));
		}
	} else if (strcmp(av, "apps/v1") == 0 && json_is_object(spec)) {
		if (strcmp(kind, "Deployment") == 0)
			default_deployment(spec);
		else if (strcmp(kind, "ReplicaSet") == 0)
			default_replicaset(spec);
		else if (strcmp(kind, "StatefulSet") == 0)
			default_statefulset(spec);
		else if (strcmp(kind, "DaemonSet") == 0)
			default_daemonset(spec);
	} else if (strcmp(av, "batch/v1") == 0 && json_is_object(spec)) {
		if (strcmp(kind, "Job") == 0)
			default_job(spec);
		else if (strcmp(kind, "CronJob") == 0)
			default_cronjob(spec);
	}
	return 0;
}
