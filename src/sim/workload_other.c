/*
 * src/sim/workload_other.c - the simpler controllers of cairn-sim: Jobs
 * (to Complete or Failed), StatefulSets (ordered Pods name-0..N-1, one
 * rolling step at a time), DaemonSets (one Pod per Node, or one pretend
 * node), and Services (Endpoints and EndpointSlices from ready Pods, an
 * ingress address for LoadBalancers after a delay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "workload.h"

#define SIM_NODE "cairn-sim-node"
#define REV_LABEL "controller-revision-hash"

static json_t *status_of(json_t *obj)
{
	json_t *st = json_object_get(obj, "status");

	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(obj, "status", st);
	}
	return st;
}

static void put_count(json_t *st, const char *f, long n)
{
	if (n)
		json_object_set_new(st, f, json_integer(n));
	else
		json_object_del(st, f);
}

static const char *phase(const json_t *pod)
{
	const char *p = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
	return p ? p : "";
}

static const char *label(const json_t *obj, const char *k)
{
	return json_string_value(
	        json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"), k));
}

static int deleting(const json_t *obj)
{
	return json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp") != NULL;
}

static void write_if_changed(sim_workloads *w, const char *g, const char *p, json_t *obj,
                             const json_t *old)
{
	if (!json_equal(obj, old))
		sim_wl__update(w, g, p, obj, old);
}

/* ---- Jobs ---- */

static int job_finished(const json_t *job)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(job, "status"), "conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && (!strcmp(t, "Complete") || !strcmp(t, "Failed")) &&
		    !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True"))
			return 1;
	}
	return 0;
}

static void job_finish(sim_workloads *w, json_t *st, const char *type, const char *reason,
                       const char *msg)
{
	char ts[CAIRN_TIME_RFC3339_LEN];
	json_t *conds = json_object_get(st, "conditions"), *c;

	sim_wl__ts(w, ts);
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(st, "conditions", conds);
	}
	c = json_pack("{ssssssss}", "type", type, "status", "True", "lastProbeTime", ts,
	              "lastTransitionTime", ts);
	if (reason) {
		json_object_set_new(c, "reason", json_string(reason));
		json_object_set_new(c, "message", json_string(msg));
	}
	json_array_append_new(conds, c);
	if (!strcmp(type, "Complete"))
		json_object_set_new(st, "completionTime", json_string(ts));
}

static void job_sync(sim_workloads *w, json_t *job, json_t *owned)
{
	json_t *old, *st, *p, *extra;
	long comp = (long)sim_wl__int(job, "spec", "completions", 1);
	long par = (long)sim_wl__int(job, "spec", "parallelism", 1);
	long limit = (long)sim_wl__int(job, "spec", "backoffLimit", 6);
	long active = 0, ok = 0, failed = 0, ready = 0;
	char ts[CAIRN_TIME_RFC3339_LEN];
	size_t i;

	if (deleting(job) || job_finished(job) ||
	    json_is_true(json_object_get(json_object_get(job, "spec"), "suspend")))
		return;
	json_array_foreach(owned, i, p)
	{
		if (!strcmp(phase(p), "Succeeded"))
			ok++;
		else if (!strcmp(phase(p), "Failed"))
			failed++;
		else if (!deleting(p)) {
			active++;
			ready += sim_wl__pod_ready(p);
		}
	}
	old = json_deep_copy(job);
	st = status_of(job);
	sim_wl__ts(w, ts);
	if (!json_object_get(st, "startTime"))
		json_object_set_new(st, "startTime", json_string(ts));
	if (failed > limit) {
		json_array_foreach(owned, i, p)
		{
			if (sim_wl__pod_active(p))
				sim_wl__delete(w, "", "pods", p);
		}
		active = ready = 0;
		job_finish(w, st, "Failed", "BackoffLimitExceeded",
		           "Job has reached the specified backoff limit");
	} else if (ok >= comp) {
		job_finish(w, st, "Complete", NULL, NULL);
	} else {
		extra = json_pack("{ssssssss}", "controller-uid", sim_wl__uid(job), "job-name",
		                  sim_wl__name(job), "batch.kubernetes.io/controller-uid",
		                  sim_wl__uid(job), "batch.kubernetes.io/job-name",
		                  sim_wl__name(job));
		for (; active < par && active < comp - ok; active++) {
			char name[300], r5[6];
			sim_wl__rand5(w, r5);
			snprintf(name, sizeof name, "%s-%s", sim_wl__name(job), r5);
			if (sim_wl__make_pod(
			            w, job, "batch/v1", "Job",
			            json_object_get(json_object_get(job, "spec"), "template"), name,
			            extra))
				break;
		}
		json_decref(extra);
	}
	put_count(st, "active", active);
	put_count(st, "succeeded", ok);
	put_count(st, "failed", failed);
	json_object_set_new(st, "ready", json_integer(ready));
	if (!json_object_get(st, "uncountedTerminatedPods"))
		json_object_set_new(st, "uncountedTerminatedPods", json_object());
	write_if_changed(w, "batch", "jobs", job, old);
	json_decref(old);
}

void sim_wl__jobs(sim_workloads *w, json_t *pods_by_owner)
{
	json_t *jobs = sim_wl__work(w, "batch", "jobs"), *j;
	size_t i;

	json_array_foreach(jobs, i, j)
	{
		w->cur = sim_wl__uid(j);
		job_sync(w, j, json_object_get(pods_by_owner, sim_wl__uid(j)));
	}
	w->cur = NULL;
	json_decref(jobs);
}

/* ---- StatefulSets ---- */

static json_t *sts_pod_template(const json_t *sts, int ord)
{
	json_t *t = json_deep_copy(json_object_get(json_object_get(sts, "spec"), "template"));
	json_t *spec = json_object_get(t, "spec");
	const char *svc =
	        json_string_value(json_object_get(json_object_get(sts, "spec"), "serviceName"));
	char host[300];

	snprintf(host, sizeof host, "%s-%d", sim_wl__name(sts), ord);
	if (json_is_object(spec)) {
		json_object_set_new(spec, "hostname", json_string(host));
		if (svc && *svc)
			json_object_set_new(spec, "subdomain", json_string(svc));
	}
	return t;
}

static int sts_make(sim_workloads *w, const json_t *sts, int ord, const char *rev)
{
	char name[300], idx[16];
	json_t *t = sts_pod_template(sts, ord), *extra;
	int rc;

	snprintf(name, sizeof name, "%s-%d", sim_wl__name(sts), ord);
	snprintf(idx, sizeof idx, "%d", ord);
	extra = json_pack("{ssssss}", REV_LABEL, rev, "statefulset.kubernetes.io/pod-name", name,
	                  "apps.kubernetes.io/pod-index", idx);
	rc = sim_wl__make_pod(w, sts, "apps/v1", "StatefulSet", t, name, extra);
	json_decref(extra);
	json_decref(t);
	return rc;
}

/* Pods by ordinal (NULL where missing); ordinals >= cap are counted in
 * *beyond and the highest such Pod returned in *top. */
static void sts_index(const json_t *sts, const json_t *owned, json_t **by, int cap, int *beyond,
                      json_t **top)
{
	size_t nl = strlen(sim_wl__name(sts)), i;
	int best = -1;
	json_t *p;

	*beyond = 0;
	*top = NULL;
	json_array_foreach(owned, i, p)
	{
		const char *n = sim_wl__name(p);
		char *end;
		long ord;
		if (!sim_wl__pod_active(p) || strlen(n) <= nl + 1)
			continue;
		ord = strtol(n + nl + 1, &end, 10);
		if (*end || ord < 0)
			continue;
		if (ord < cap) {
			by[ord] = p;
		} else {
			(*beyond)++;
			if (ord > best) {
				best = (int)ord;
				*top = p;
			}
		}
	}
}

static void sts_sync(sim_workloads *w, json_t *sts, json_t *owned)
{
	json_t *old, *st, *top, **by;
	long want = (long)sim_wl__int(sts, "spec", "replicas", 1);
	const char *pol = json_string_value(
	        json_object_get(json_object_get(sts, "spec"), "podManagementPolicy"));
	int ordered = !pol || strcmp(pol, "Parallel");
	int beyond, n = 0, ready = 0, updated = 0, blocked = 0;
	char rev[300], hash[16];
	const char *cur;

	if (deleting(sts) || want < 0 || want > 10000)
		return;
	by = calloc((size_t)want + 1, sizeof *by);
	if (!by)
		return;
	sim_wl__hash(json_object_get(json_object_get(sts, "spec"), "template"), -1, hash);
	snprintf(rev, sizeof rev, "%s-%s", sim_wl__name(sts), hash);
	sts_index(sts, owned, by, (int)want, &beyond, &top);
	for (int i = 0; i < want; i++) {
		if (!by[i]) {
			if (!blocked)
				sts_make(w, sts, i, rev);
			if (ordered)
				blocked = 1;
			continue;
		}
		n++;
		ready += sim_wl__pod_ready(by[i]);
		updated += label(by[i], REV_LABEL) && !strcmp(label(by[i], REV_LABEL), rev);
		if (!sim_wl__pod_ready(by[i]) && ordered)
			blocked = 1;
	}
	if (top && (!ordered || ready == n))
		sim_wl__delete(w, "", "pods", top); /* scale down from the highest ordinal */
	else if (!beyond && n == want && ready == n && updated < n) {
		for (int i = (int)want - 1; i >= 0; i--) {
			const char *l = label(by[i], REV_LABEL);
			if (!l || strcmp(l, rev)) {
				sim_wl__delete(w, "", "pods", by[i]);
				break;
			}
		}
	}
	free(by);
	old = json_deep_copy(sts);
	st = status_of(sts);
	cur = json_string_value(json_object_get(st, "currentRevision"));
	if (!cur || (updated == want && ready == want))
		json_object_set_new(st, "currentRevision", json_string(rev));
	json_object_set_new(st, "updateRevision", json_string(rev));
	json_object_set_new(st, "observedGeneration",
	                    json_integer(sim_wl__int(sts, "metadata", "generation", 1)));
	json_object_set_new(st, "replicas", json_integer(n + beyond));
	put_count(st, "readyReplicas", ready);
	put_count(st, "availableReplicas", ready);
	put_count(st, "updatedReplicas", updated);
	cur = json_string_value(json_object_get(st, "currentRevision"));
	put_count(st, "currentReplicas", cur && !strcmp(cur, rev) ? updated : n - updated);
	json_object_set_new(st, "collisionCount", json_integer(0));
	write_if_changed(w, "apps", "statefulsets", sts, old);
	json_decref(old);
}

void sim_wl__statefulsets(sim_workloads *w, json_t *pods_by_owner)
{
	json_t *all = sim_wl__work(w, "apps", "statefulsets"), *s;
	size_t i;

	json_array_foreach(all, i, s)
	{
		w->cur = sim_wl__uid(s);
		sts_sync(w, s, json_object_get(pods_by_owner, sim_wl__uid(s)));
	}
	w->cur = NULL;
	json_decref(all);
}

/* ---- DaemonSets ---- */

static void ds_sync(sim_workloads *w, json_t *ds, json_t *owned, const json_t *nodes)
{
	json_t *old, *st, *node, *p;
	long sched = 0, ready = 0, updated = 0, stale = 0;
	char hash[16];
	size_t i, j;

	if (deleting(ds))
		return;
	sim_wl__hash(json_object_get(json_object_get(ds, "spec"), "template"), -1, hash);
	json_array_foreach(nodes, i, node)
	{
		const char *nn = json_string_value(node);
		json_t *mine = NULL;
		json_array_foreach(owned, j, p)
		{
			const char *pn = json_string_value(
			        json_object_get(json_object_get(p, "spec"), "nodeName"));
			if (sim_wl__pod_active(p) && pn && !strcmp(pn, nn))
				mine = p;
		}
		if (!mine) {
			json_t *t = json_deep_copy(
			        json_object_get(json_object_get(ds, "spec"), "template"));
			json_t *extra = json_pack("{ss}", REV_LABEL, hash);
			char name[300], r5[6];
			if (json_is_object(json_object_get(t, "spec")))
				json_object_set_new(json_object_get(t, "spec"), "nodeName",
				                    json_string(nn));
			sim_wl__rand5(w, r5);
			snprintf(name, sizeof name, "%s-%s", sim_wl__name(ds), r5);
			sim_wl__make_pod(w, ds, "apps/v1", "DaemonSet", t, name, extra);
			json_decref(extra);
			json_decref(t);
			continue;
		}
		sched++;
		ready += sim_wl__pod_ready(mine);
		if (label(mine, REV_LABEL) && !strcmp(label(mine, REV_LABEL), hash))
			updated++;
		else if (!stale++ && ready == sched)
			sim_wl__delete(w, "", "pods", mine); /* one old Pod at a time */
	}
	old = json_deep_copy(ds);
	st = status_of(ds);
	json_object_set_new(st, "desiredNumberScheduled",
	                    json_integer((json_int_t)json_array_size(nodes)));
	json_object_set_new(st, "currentNumberScheduled", json_integer(sched));
	json_object_set_new(st, "numberReady", json_integer(ready));
	json_object_set_new(st, "numberMisscheduled", json_integer(0));
	put_count(st, "numberAvailable", ready);
	put_count(st, "updatedNumberScheduled", updated);
	put_count(st, "numberUnavailable", (long)json_array_size(nodes) - ready);
	json_object_set_new(st, "observedGeneration",
	                    json_integer(sim_wl__int(ds, "metadata", "generation", 1)));
	write_if_changed(w, "apps", "daemonsets", ds, old);
	json_decref(old);
}

void sim_wl__daemonsets(sim_workloads *w, json_t *pods_by_owner)
{
	json_t *all = sim_wl__work(w, "apps", "daemonsets"), *d, *nodes, *names = json_array();
	size_t i;

	if (!json_array_size(all))
		goto out;
	nodes = sim_wl__list(w, "", "nodes");
	json_array_foreach(nodes, i, d) json_array_append_new(names, json_string(sim_wl__name(d)));
	json_decref(nodes);
	if (!json_array_size(names))
		json_array_append_new(names, json_string(SIM_NODE));
	json_array_foreach(all, i, d)
	{
		w->cur = sim_wl__uid(d);
		ds_sync(w, d, json_object_get(pods_by_owner, sim_wl__uid(d)), names);
	}
	w->cur = NULL;
out:
	json_decref(names);
	json_decref(all);
}

/* ---- Services ---- */

/* The port a Service port reaches on pod: a number, or a named container port. */
static json_int_t target_port(const json_t *sp, const json_t *pod)
{
	json_t *tp = json_object_get(sp, "targetPort"), *c, *cp;
	size_t i, j;

	if (json_is_integer(tp))
		return json_integer_value(tp);
	if (json_is_string(tp)) {
		json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i,
		                   c)
		{
			json_array_foreach(json_object_get(c, "ports"), j, cp)
			{
				const char *n = json_string_value(json_object_get(cp, "name"));
				if (n && !strcmp(n, json_string_value(tp)))
					return json_integer_value(
					        json_object_get(cp, "containerPort"));
			}
		}
	}
	return json_integer_value(json_object_get(sp, "port"));
}

static json_t *ep_ports(const json_t *svc, const json_t *pod)
{
	json_t *out = json_array(), *sp;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, sp)
	{
		const char *proto = json_string_value(json_object_get(sp, "protocol"));
		json_t *e = json_pack("{sIss}", "port", target_port(sp, pod), "protocol",
		                      proto ? proto : "TCP");
		if (json_object_get(sp, "name"))
			json_object_set(e, "name", json_object_get(sp, "name"));
		json_array_append_new(out, e);
	}
	return out;
}

static json_t *target_ref(const json_t *pod)
{
	return json_pack("{ssssssss}", "kind", "Pod", "namespace", sim_wl__ns(pod), "name",
	                 sim_wl__name(pod), "uid", sim_wl__uid(pod));
}

/* Store want as the object at group/plural ns/name when it differs in the
 * fields listed (create when absent). */
static void reconcile(sim_workloads *w, const char *g, const char *p, json_t *want,
                      const char *const *fields)
{
	sim_key k = {g, p, sim_wl__ns(want), sim_wl__name(want)};
	json_t *live = NULL, *upd;
	int same = 1;

	if (sim_store_get(w->srv->store, &k, &live)) {
		sim_wl__create(w, g, p, want);
		return;
	}
	for (const char *const *f = fields; *f; f++)
		same &= json_equal(json_object_get(live, *f), json_object_get(want, *f));
	if (same) {
		json_decref(live);
		return;
	}
	upd = json_deep_copy(live);
	for (const char *const *f = fields; *f; f++) {
		if (json_object_get(want, *f))
			json_object_set(upd, *f, json_object_get(want, *f));
		else
			json_object_del(upd, *f);
	}
	sim_wl__update(w, g, p, upd, live);
	json_decref(upd);
	json_decref(live);
}

static void svc_endpoints(sim_workloads *w, const json_t *svc, const json_t *pods)
{
	static const char *const ep_fields[] = {"subsets", NULL};
	static const char *const sl_fields[] = {"endpoints", "ports", NULL};
	json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");
	json_t *addrs = json_array(), *nready = json_array(), *slice_eps = json_array();
	json_t *p, *first = NULL, *ep, *sl;
	const char *k;
	json_t *v;
	char slname[300], h[16];
	size_t i;

	json_array_foreach(pods, i, p)
	{
		const char *ip =
		        json_string_value(json_object_get(json_object_get(p, "status"), "podIP"));
		int ok = 1, rd;
		if (strcmp(sim_wl__ns(p), sim_wl__ns(svc)) || !ip || !sim_wl__pod_active(p))
			continue;
		json_object_foreach(sel, k, v)
		{
			const char *have = label(p, k);
			if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
				ok = 0;
		}
		if (!ok)
			continue;
		rd = sim_wl__pod_ready(p);
		first = first ? first : p;
		json_array_append_new(rd ? addrs : nready,
		                      json_pack("{sssss{ssssssss}}", "ip", ip, "nodeName", SIM_NODE,
		                                "targetRef", "kind", "Pod", "namespace",
		                                sim_wl__ns(p), "name", sim_wl__name(p), "uid",
		                                sim_wl__uid(p)));
		json_array_append_new(slice_eps, json_pack("{s[s]s{sbsbsb}ssso}", "addresses", ip,
		                                           "conditions", "ready", rd, "serving", rd,
		                                           "terminating", 0, "nodeName", SIM_NODE,
		                                           "targetRef", target_ref(p)));
	}
	ep = json_pack("{sssss{ssss}}", "apiVersion", "v1", "kind", "Endpoints", "metadata", "name",
	               sim_wl__name(svc), "namespace", sim_wl__ns(svc));
	if (json_array_size(addrs) || json_array_size(nready)) {
		json_t *sub = json_pack("{so}", "ports", ep_ports(svc, first));
		if (json_array_size(addrs))
			json_object_set(sub, "addresses", addrs);
		if (json_array_size(nready))
			json_object_set(sub, "notReadyAddresses", nready);
		json_object_set_new(ep, "subsets", json_pack("[o]", sub));
	}
	reconcile(w, "", "endpoints", ep, ep_fields);
	v = json_string(sim_wl__uid(svc));
	sim_wl__hash(v, -1, h);
	json_decref(v);
	h[5] = '\0';
	snprintf(slname, sizeof slname, "%s-%s", sim_wl__name(svc), h);
	sl = json_pack("{sssss{sssss{ssss}s[{sssssssssbsb}]}sssoso}", "apiVersion",
	               "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "name", slname,
	               "namespace", sim_wl__ns(svc), "labels", "kubernetes.io/service-name",
	               sim_wl__name(svc), "endpointslice.kubernetes.io/managed-by",
	               "endpointslice-controller.k8s.io", "ownerReferences", "apiVersion", "v1",
	               "kind", "Service", "name", sim_wl__name(svc), "uid", sim_wl__uid(svc),
	               "controller", 1, "blockOwnerDeletion", 1, "addressType", "IPv4", "endpoints",
	               slice_eps, "ports", first ? ep_ports(svc, first) : json_array());
	slice_eps = NULL;
	reconcile(w, "discovery.k8s.io", "endpointslices", sl, sl_fields);
	json_decref(sl);
	json_decref(ep);
	json_decref(addrs);
	json_decref(nready);
	json_decref(slice_eps);
}

static void svc_lb(sim_workloads *w, json_t *svc)
{
	json_t *old, *st;
	const char *type = json_string_value(json_object_get(json_object_get(svc, "spec"), "type"));
	const char *uid = sim_wl__uid(svc);
	uint32_t hv = 2166136261u;
	char ip[32];

	if (!type || strcmp(type, "LoadBalancer") ||
	    json_array_size(json_object_get(
	            json_object_get(json_object_get(svc, "status"), "loadBalancer"), "ingress")))
		return;
	if (w->now - sim_wl__first_seen(w, uid, "lb") <
	    (cairn_usec)w->tick_cfg.lb_delay_ms * 1000) {
		sim_wl__due(w, sim_wl__first_seen(w, uid, "lb") +
		                       (cairn_usec)w->tick_cfg.lb_delay_ms * 1000);
		return;
	}
	for (const char *c = uid; *c; c++)
		hv = (hv ^ (uint8_t)*c) * 16777619u;
	snprintf(ip, sizeof ip, "172.18.255.%u", 1 + hv % 250);
	old = json_deep_copy(svc);
	st = status_of(svc);
	json_object_set_new(st, "loadBalancer", json_pack("{s[{ss}]}", "ingress", "ip", ip));
	sim_wl__update(w, "", "services", svc, old);
	json_decref(old);
}

void sim_wl__services(sim_workloads *w, json_t *pods)
{
	json_t *svcs = sim_wl__work(w, "", "services"), *s;
	size_t i;

	json_array_foreach(svcs, i, s)
	{
		if (deleting(s))
			continue;
		w->cur = sim_wl__uid(s);
		if (json_object_size(json_object_get(json_object_get(s, "spec"), "selector")))
			svc_endpoints(w, s, pods);
		svc_lb(w, s);
	}
	w->cur = NULL;
	json_decref(svcs);
}
