/*
 * src/sim/workload_deploy.c - the Deployment and ReplicaSet controllers of
 * cairn-sim: ReplicaSets named <deployment>-<pod-template-hash>, rolling
 * updates bounded by maxSurge/maxUnavailable, Recreate, pause, revision
 * history, and the status and conditions `kubectl rollout status` reads,
 * with the real controller's reasons and messages.
 *
 * As in the real controller, one pass scales up or scales down, never both:
 * a pass that grew the new ReplicaSet leaves the old ones for the next pass,
 * so the total never exceeds replicas + maxSurge at any moment.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "workload.h"

#define ANN_REV "deployment.kubernetes.io/revision"
#define HASH_LABEL "pod-template-hash"
#define MAX_CREATE_PER_PASS 500

/* An IntOrString resolved against total: "25%" rounds up for surge and
 * down for unavailability, as intstr.GetScaledValueFromIntOrPercent does. */
static long scaled(const json_t *v, long total, int round_up, long dflt_pct)
{
	double pct = (double)dflt_pct;

	if (json_is_integer(v))
		return (long)json_integer_value(v);
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		pct = strtod(s, &end);
		if (*end != '%')
			return 0;
	}
	return round_up ? (long)ceil(pct * (double)total / 100.0)
	                : (long)floor(pct * (double)total / 100.0);
}

static long revision_of(const json_t *rs)
{
	const char *r = json_string_value(json_object_get(
	        json_object_get(json_object_get(rs, "metadata"), "annotations"), ANN_REV));
	return r ? strtol(r, NULL, 10) : 0;
}

static void set_revision(json_t *obj, long rev)
{
	json_t *meta = json_object_get(obj, "metadata"),
	       *ann = json_object_get(meta, "annotations");
	char s[24];

	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(meta, "annotations", ann);
	}
	snprintf(s, sizeof s, "%ld", rev);
	json_object_set_new(ann, ANN_REV, json_string(s));
}

static long spec_replicas(const json_t *o)
{
	return (long)sim_wl__int(o, "spec", "replicas", 1);
}

static long status_int(const json_t *o, const char *f)
{
	return (long)sim_wl__int(o, "status", f, 0);
}

static void set_replicas(json_t *rs, long n, long desired, long max)
{
	json_t *ann = json_object_get(json_object_get(rs, "metadata"), "annotations");
	char s[24];

	json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(n));
	if (json_is_object(ann)) {
		snprintf(s, sizeof s, "%ld", desired);
		json_object_set_new(ann, "deployment.kubernetes.io/desired-replicas",
		                    json_string(s));
		snprintf(s, sizeof s, "%ld", max);
		json_object_set_new(ann, "deployment.kubernetes.io/max-replicas", json_string(s));
	}
}

/* The ReplicaSet a Deployment's template asks for. */
static json_t *new_rs_object(const json_t *d, const char *hash, long rev, long replicas, long max)
{
	json_t *tmpl = json_deep_copy(json_object_get(json_object_get(d, "spec"), "template"));
	json_t *tm = json_object_get(tmpl, "metadata"), *labels, *sel, *rs;
	char name[300];

	if (!json_is_object(tm)) {
		tm = json_object();
		json_object_set_new(tmpl, "metadata", tm);
	}
	labels = json_object_get(tm, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(tm, "labels", labels);
	}
	json_object_set_new(labels, HASH_LABEL, json_string(hash));
	sel = json_deep_copy(json_object_get(json_object_get(d, "spec"), "selector"));
	if (!json_is_object(sel))
		sel = json_object();
	if (!json_is_object(json_object_get(sel, "matchLabels")))
		json_object_set_new(sel, "matchLabels", json_object());
	json_object_set_new(json_object_get(sel, "matchLabels"), HASH_LABEL, json_string(hash));
	snprintf(name, sizeof name, "%s-%s", sim_wl__name(d), hash);
	rs = json_pack("{sssss{sssss{}s[{sssssssssbsb}]}s{sIsoso}}", "apiVersion", "apps/v1",
	               "kind", "ReplicaSet", "metadata", "name", name, "namespace", sim_wl__ns(d),
	               "annotations", "ownerReferences", "apiVersion", "apps/v1", "kind",
	               "Deployment", "name", sim_wl__name(d), "uid", sim_wl__uid(d), "controller",
	               1, "blockOwnerDeletion", 1, "spec", "replicas", (json_int_t)0, "selector",
	               sel, "template", tmpl);
	if (!rs)
		return NULL;
	json_object_set(json_object_get(rs, "metadata"), "labels", labels);
	json_object_set_new(json_object_get(rs, "spec"), "minReadySeconds",
	                    json_integer(sim_wl__int(d, "spec", "minReadySeconds", 0)));
	set_revision(rs, rev);
	set_replicas(rs, replicas, spec_replicas(d), max);
	return rs;
}

/* One Deployment's view for a pass. */
struct dctx {
	json_t *d;
	json_t *newrs; /* borrowed from all, or NULL */
	json_t *all;   /* owned ReplicaSets (working copies) */
	json_t *orig;  /* their stored state, same order */
	long replicas, surge, unavail;
	const char *reason; /* Progressing reason set by this pass, or NULL */
};

static long sum(const json_t *rss, const char *f, int spec)
{
	json_t *rs;
	size_t i;
	long n = 0;

	json_array_foreach(rss, i, rs) n += spec ? spec_replicas(rs) : status_int(rs, f);
	return n;
}

/* Scale the new ReplicaSet up (RollingUpdate); 1 when it grew. */
static int roll_up(struct dctx *c)
{
	long cur = sum(c->all, NULL, 1), want = spec_replicas(c->newrs),
	     max = c->replicas + c->surge;

	if (want > c->replicas) {
		set_replicas(c->newrs, c->replicas, c->replicas, max);
		return 0;
	}
	if (want == c->replicas || cur >= max)
		return 0;
	want += (max - cur < c->replicas - want) ? max - cur : c->replicas - want;
	set_replicas(c->newrs, want, c->replicas, max);
	return 1;
}

/* Scale old ReplicaSets down: unhealthy Pods first, then as far as
 * availability above replicas - maxUnavailable allows. */
static void roll_down(struct dctx *c)
{
	long all = sum(c->all, NULL, 1), min_avail = c->replicas - c->unavail;
	long new_unavail = spec_replicas(c->newrs) - status_int(c->newrs, "availableReplicas");
	long budget = all - min_avail - new_unavail, avail, n;
	json_t *rs;
	size_t i;

	if (budget <= 0)
		return;
	json_array_foreach(c->all, i, rs)
	{
		long unhealthy = spec_replicas(rs) - status_int(rs, "availableReplicas");
		if (rs == c->newrs || unhealthy <= 0 || budget <= 0)
			continue;
		n = unhealthy < budget ? unhealthy : budget;
		set_replicas(rs, spec_replicas(rs) - n, c->replicas, c->replicas + c->surge);
		budget -= n;
	}
	avail = sum(c->all, "availableReplicas", 0);
	budget = avail - min_avail;
	json_array_foreach(c->all, i, rs)
	{
		if (rs == c->newrs || budget <= 0 || spec_replicas(rs) <= 0)
			continue;
		n = spec_replicas(rs) < budget ? spec_replicas(rs) : budget;
		set_replicas(rs, spec_replicas(rs) - n, c->replicas, c->replicas + c->surge);
		budget -= n;
	}
}

static void recreate(struct dctx *c)
{
	json_t *rs;
	size_t i;
	int old_pods = 0;

	json_array_foreach(c->all, i, rs)
	{
		if (rs == c->newrs)
			continue;
		if (spec_replicas(rs) > 0) {
			set_replicas(rs, 0, c->replicas, c->replicas);
			old_pods = 1;
		}
		if (status_int(rs, "replicas") > 0)
			old_pods = 1;
	}
	if (!old_pods && c->newrs && spec_replicas(c->newrs) != c->replicas)
		set_replicas(c->newrs, c->replicas, c->replicas, c->replicas);
}

/* Find or create the new ReplicaSet; NULL when the create failed. */
static json_t *ensure_new_rs(sim_workloads *w, struct dctx *c, int rolling)
{
	json_t *st = json_object_get(c->d, "status"), *rs;
	json_t *cc = json_object_get(st, "collisionCount");
	char hash[16];
	long maxrev = 0;
	size_t i;

	sim_wl__hash(json_object_get(json_object_get(c->d, "spec"), "template"),
	             json_is_integer(cc) ? (long)json_integer_value(cc) : -1, hash);
	json_array_foreach(c->all, i, rs)
	{
		const char *h = json_string_value(json_object_get(
		        json_object_get(json_object_get(rs, "metadata"), "labels"), HASH_LABEL));
		if (h && !strcmp(h, hash))
			c->newrs = rs;
		else if (revision_of(rs) > maxrev)
			maxrev = revision_of(rs);
	}
	if (c->newrs) {
		if (revision_of(c->newrs) <= maxrev)
			set_revision(c->newrs, maxrev + 1);
		return c->newrs;
	}
	{
		long cur = sum(c->all, NULL, 1), max = c->replicas + c->surge;
		long n = rolling ? (max - cur < c->replicas ? max - cur : c->replicas) : 0;
		if (!rolling && cur == 0 && sum(c->all, "replicas", 0) == 0)
			n = c->replicas;
		rs = new_rs_object(c->d, hash, maxrev + 1, n < 0 ? 0 : n, max);
	}
	if (!rs)
		return NULL;
	if (sim_wl__create(w, "apps", "replicasets", rs)) {
		if (cairn_error_last()->code == CAIRN_EEXISTS) {
			/* A ReplicaSet of that name that is not ours: count a collision
			 * so the next pass hashes differently. */
			json_object_set_new(
			        st, "collisionCount",
			        json_integer(json_is_integer(cc) ? json_integer_value(cc) + 1 : 1));
		}
		json_decref(rs);
		return NULL;
	}
	json_array_append_new(c->all, rs);
	json_array_append(c->orig, rs);
	c->newrs = rs;
	c->reason = "NewReplicaSetCreated";
	return rs;
}

static int rev_cmp(const void *a, const void *b)
{
	long x = revision_of(*(json_t *const *)a), y = revision_of(*(json_t *const *)b);
	return x < y ? -1 : x > y;
}

/* Delete old, empty ReplicaSets beyond revisionHistoryLimit (oldest first). */
static void prune_history(sim_workloads *w, struct dctx *c)
{
	long limit = (long)sim_wl__int(c->d, "spec", "revisionHistoryLimit", 10);
	json_t *v[256], *rs;
	size_t i, n = 0;

	json_array_foreach(c->all, i, rs)
	{
		if (rs != c->newrs && spec_replicas(rs) == 0 && status_int(rs, "replicas") == 0 &&
		    n < 256)
			v[n++] = rs;
	}
	if ((long)n <= limit)
		return;
	qsort(v, n, sizeof v[0], rev_cmp);
	for (i = 0; i < n - (size_t)limit; i++)
		sim_wl__delete(w, "apps", "replicasets", v[i]);
}

void sim_wl__deploy_status(sim_workloads *w, struct dctx *c);

static void deploy_sync(sim_workloads *w, json_t *d, json_t *owned)
{
	struct dctx c = {0};
	json_t *spec = json_object_get(d, "spec"), *strat = json_object_get(spec, "strategy");
	const char *type = json_string_value(json_object_get(strat, "type"));
	json_t *ru = json_object_get(strat, "rollingUpdate"), *rs;
	int rolling = !type || strcmp(type, "Recreate");
	size_t i;

	if (json_object_get(json_object_get(d, "metadata"), "deletionTimestamp"))
		return;
	c.d = d;
	c.all = json_deep_copy(owned ? owned : json_array());
	c.orig = json_deep_copy(c.all);
	c.replicas = spec_replicas(d);
	if (rolling) {
		c.surge = scaled(json_object_get(ru, "maxSurge"), c.replicas, 1, 25);
		c.unavail = scaled(json_object_get(ru, "maxUnavailable"), c.replicas, 0, 25);
		if (c.surge == 0 && c.unavail == 0)
			c.unavail = 1;
	}
	if (json_is_true(json_object_get(spec, "paused"))) {
		/* Paused: no new ReplicaSet; scaling still reaches the current one. */
		json_array_foreach(c.all, i, rs)
		{
			if (spec_replicas(rs) > 0 && !c.newrs)
				c.newrs = rs;
		}
	} else if (ensure_new_rs(w, &c, rolling)) {
		if (!rolling)
			recreate(&c);
		else if (!roll_up(&c))
			roll_down(&c);
	}
	json_array_foreach(c.all, i, rs)
	{
		json_t *o = json_array_get(c.orig, i);
		if (!json_equal(rs, o) && sim_wl__update(w, "apps", "replicasets", rs, o) == 0)
			json_array_set(c.orig, i, rs);
	}
	prune_history(w, &c);
	sim_wl__deploy_status(w, &c);
	json_decref(c.all);
	json_decref(c.orig);
}

void sim_wl__deployments(sim_workloads *w)
{
	json_t *rss = sim_wl__list(w, "apps", "replicasets");
	json_t *ds = sim_wl__work(w, "apps", "deployments");
	json_t *by = sim_wl__by_owner(rss), *d;
	size_t i;

	json_array_foreach(ds, i, d)
	{
		w->cur = sim_wl__uid(d);
		deploy_sync(w, d, json_object_get(by, sim_wl__uid(d)));
	}
	w->cur = NULL;
	json_decref(by);
	json_decref(rss);
	json_decref(ds);
}

/* ---- status ---- */

/* Set a condition as SetDeploymentCondition does: same status and reason
 * change nothing; same status keeps lastTransitionTime. */
static void set_cond(json_t *st, const char *type, const char *status, const char *reason,
                     const char *msg, const char *ts, int touch)
{
	json_t *conds = json_object_get(st, "conditions"), *c, *nc;
	size_t i;

	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(st, "conditions", conds);
	}
	nc = json_pack("{ssssssssssss}", "type", type, "status", status, "lastUpdateTime", ts,
	               "lastTransitionTime", ts, "reason", reason, "message", msg);
	json_array_foreach(conds, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		const char *r = json_string_value(json_object_get(c, "reason"));
		if (!t || strcmp(t, type))
			continue;
		if (s && !strcmp(s, status) && r && !strcmp(r, reason) && !touch) {
			json_decref(nc);
			return;
		}
		if (s && !strcmp(s, status))
			json_object_set(nc, "lastTransitionTime",
			                json_object_get(c, "lastTransitionTime"));
		json_array_set_new(conds, i, nc);
		return;
	}
	json_array_append_new(conds, nc);
}

static json_t *get_cond(const json_t *st, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(st, "conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

static void put_count(json_t *st, const char *f, long n)
{
	if (n)
		json_object_set_new(st, f, json_integer(n));
	else
		json_object_del(st, f);
}

static int timed_out(sim_workloads *w, const json_t *d, const json_t *pc)
{
	const char *r = json_string_value(json_object_get(pc, "reason"));
	const char *t = json_string_value(json_object_get(pc, "lastUpdateTime"));
	json_int_t secs = sim_wl__int(d, "spec", "progressDeadlineSeconds", 600);
	cairn_usec from;

	if (!pc || !r || !strcmp(r, "NewReplicaSetAvailable"))
		return 0;
	if (!strcmp(r, "ProgressDeadlineExceeded"))
		return 1;
	if (!t || cairn_time_parse(&from, t))
		return 0;
	return w->now > from + (cairn_usec)((double)secs * 1e6 / w->tick_cfg.time_scale);
}

void sim_wl__deploy_status(sim_workloads *w, struct dctx *c)
{
	json_t *old = json_deep_copy(c->d), *st = json_object_get(c->d, "status"), *pc;
	long gen = (long)sim_wl__int(c->d, "metadata", "generation", 1);
	long upd = c->newrs ? status_int(c->newrs, "replicas") : 0;
	long total = sum(c->all, "replicas", 0), ready = sum(c->all, "readyReplicas", 0);
	long avail = sum(c->all, "availableReplicas", 0), spec_total = sum(c->all, NULL, 1);
	long o_upd = status_int(c->d, "updatedReplicas"), o_total = status_int(c->d, "replicas");
	const char *nm = c->newrs ? sim_wl__name(c->newrs) : "";
	char ts[CAIRN_TIME_RFC3339_LEN], msg[400];
	int progressing;

	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(c->d, "status", st);
	}
	sim_wl__ts(w, ts);
	progressing = upd > o_upd || ready > status_int(c->d, "readyReplicas") ||
	              avail > status_int(c->d, "availableReplicas") ||
	              o_total - o_upd > total - upd;
	json_object_set_new(st, "observedGeneration", json_integer(gen));
	put_count(st, "replicas", total);
	put_count(st, "updatedReplicas", upd);
	put_count(st, "readyReplicas", ready);
	put_count(st, "availableReplicas", avail);
	put_count(st, "unavailableReplicas", spec_total - avail > 0 ? spec_total - avail : 0);
	if (c->newrs)
		set_revision(c->d, revision_of(c->newrs));
	if (avail >= c->replicas - c->unavail)
		set_cond(st, "Available", "True", "MinimumReplicasAvailable",
		         "Deployment has minimum availability.", ts, 0);
	else
		set_cond(st, "Available", "False", "MinimumReplicasUnavailable",
		         "Deployment does not have minimum availability.", ts, 0);
	pc = get_cond(st, "Progressing");
	if (json_is_true(json_object_get(json_object_get(c->d, "spec"), "paused"))) {
		set_cond(st, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused",
		         ts, 0);
	} else if (c->reason || (!pc && c->newrs)) {
		snprintf(msg, sizeof msg, "%s replica set \"%s\"",
		         c->reason ? "Created new" : "Found new", nm);
		set_cond(st, "Progressing", "True",
		         c->reason ? "NewReplicaSetCreated" : "FoundNewReplicaSet", msg, ts, 0);
	} else if (upd == c->replicas && total == c->replicas && avail == c->replicas) {
		snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.", nm);
		set_cond(st, "Progressing", "True", "NewReplicaSetAvailable", msg, ts, 0);
	} else if (progressing) {
		snprintf(msg, sizeof msg, "ReplicaSet \"%s\" is progressing.", nm);
		set_cond(st, "Progressing", "True", "ReplicaSetUpdated", msg, ts, 1);
	} else if (timed_out(w, c->d, pc)) {
		snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has timed out progressing.", nm);
		set_cond(st, "Progressing", "False", "ProgressDeadlineExceeded", msg, ts, 0);
	}
	pc = get_cond(st, "Progressing");
	if (pc &&
	    strcmp(json_string_value(json_object_get(pc, "reason")) ?: "",
	           "NewReplicaSetAvailable") &&
	    strcmp(json_string_value(json_object_get(pc, "reason")) ?: "",
	           "ProgressDeadlineExceeded"))
		sim_wl__due(w, w->now + 1000000); /* still rolling: watch its deadline */
	if (!json_equal(old, c->d))
		sim_wl__update(w, "apps", "deployments", c->d, old);
	json_decref(old);
}

/* ---- ReplicaSets ---- */

/* Pods to delete first: not ready before ready, newest before oldest. */
static int victim_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int rx = sim_wl__pod_ready(x), ry = sim_wl__pod_ready(y);
	const char *tx = json_string_value(
	        json_object_get(json_object_get(x, "metadata"), "creationTimestamp"));
	const char *ty = json_string_value(
	        json_object_get(json_object_get(y, "metadata"), "creationTimestamp"));

	if (rx != ry)
		return rx - ry;
	return -strcmp(tx ? tx : "", ty ? ty : "");
}

static void rs_sync(sim_workloads *w, json_t *rs, json_t *owned)
{
	json_t *old, *st, *p, **act = NULL;
	long want = spec_replicas(rs), n = 0, ready = 0, made = 0;
	size_t i, cap = json_array_size(owned);

	if (json_object_get(json_object_get(rs, "metadata"), "deletionTimestamp"))
		return;
	act = calloc(cap ? cap : 1, sizeof *act);
	if (!act)
		return;
	json_array_foreach(owned, i, p)
	{
		if (sim_wl__pod_active(p))
			act[n++] = p;
	}
	for (long k = n; k < want && made < MAX_CREATE_PER_PASS; k++) {
		char name[300], r5[6];
		sim_wl__rand5(w, r5);
		snprintf(name, sizeof name, "%s-%s", sim_wl__name(rs), r5);
		if (sim_wl__make_pod(w, rs, "apps/v1", "ReplicaSet",
		                     json_object_get(json_object_get(rs, "spec"), "template"), name,
		                     NULL) == 0)
			made++;
	}
	if (n > want) {
		qsort(act, (size_t)n, sizeof *act, victim_cmp);
		for (long k = 0; k < n - want; k++)
			sim_wl__delete(w, "", "pods", act[k]);
		memmove(act, act + (n - want), (size_t)want * sizeof *act);
		n = want;
	}
	for (long k = 0; k < n; k++)
		ready += sim_wl__pod_ready(act[k]);
	free(act);
	old = json_deep_copy(rs);
	st = json_object_get(rs, "status");
	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(rs, "status", st);
	}
	json_object_set_new(st, "replicas", json_integer(n + made));
	put_count(st, "fullyLabeledReplicas", n + made);
	put_count(st, "readyReplicas", ready);
	put_count(st, "availableReplicas", ready);
	json_object_set_new(st, "observedGeneration",
	                    json_integer(sim_wl__int(rs, "metadata", "generation", 1)));
	if (!json_equal(old, rs))
		sim_wl__update(w, "apps", "replicasets", rs, old);
	json_decref(old);
}

void sim_wl__replicasets(sim_workloads *w, json_t *pods_by_owner)
{
	json_t *rss = sim_wl__work(w, "apps", "replicasets"), *rs;
	size_t i;

	json_array_foreach(rss, i, rs)
	{
		w->cur = sim_wl__uid(rs);
		rs_sync(w, rs, json_object_get(pods_by_owner, sim_wl__uid(rs)));
	}
	w->cur = NULL;
	json_decref(rss);
}
