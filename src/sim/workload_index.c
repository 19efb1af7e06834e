/*
 * src/sim/workload_index.c - what makes the workload controller incremental:
 * parsed objects kept between passes, a dirty set, and timers in a heap.
 *
 * Each kind the controllers read keeps its objects parsed, keyed by
 * "namespace/name", with the resourceVersion they were parsed at. A refresh
 * walks the store's entries (no copy, no parse) and re-parses only those
 * whose resourceVersion moved; each change marks the object's uid and its
 * controller owner's uid dirty (and, for a Pod, its namespace, so Services
 * recompute their endpoints). The controllers then reconcile only the dirty
 * objects, each on a private copy: a Deployment whose Pods turned Ready is
 * reached through Pod -> ReplicaSet -> Deployment without reading the other
 * 999. A timer (a Pod's ready delay, a restart, a deadline) names the uid it
 * wakes; at rest, with no write and no timer due, a pass costs nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/json.h"

#include "workload.h"

#define MAX_TIMERS (1u << 20)

struct sim_wl_kind {
	const char *group, *plural;
	json_t *objs;     /* "ns/name" -> parsed object */
	json_t *rvs;      /* "ns/name" -> resourceVersion (integer) */
	uint64_t seen_rv; /* store version of the last refresh */
};

struct sim_wl_timer {
	cairn_usec at;
	char uid[64];
};

static const char *const kind_names[][2] = {
        {"", "pods"},
        {"apps", "deployments"},
        {"apps", "replicasets"},
        {"apps", "statefulsets"},
        {"apps", "daemonsets"},
        {"batch", "jobs"},
        {"", "services"},
        {"", "nodes"},
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

static struct sim_wl_kind *kind_of(sim_workloads *w, const char *group, const char *plural)
{
	if (!w->kinds) {
		w->kinds = calloc(NKINDS, sizeof *w->kinds);
		if (!w->kinds)
			return NULL;
		for (size_t i = 0; i < NKINDS; i++) {
			w->kinds[i].group = kind_names[i][0];
			w->kinds[i].plural = kind_names[i][1];
			w->kinds[i].objs = json_object();
			w->kinds[i].rvs = json_object();
		}
	}
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(w->kinds[i].group, group) && !strcmp(w->kinds[i].plural, plural))
			return &w->kinds[i];
	return NULL;
}

void sim_wl__mark(sim_workloads *w, const char *uid)
{
	if (!w->dirty)
		w->dirty = json_object();
	if (uid && *uid)
		json_object_set_new(w->dirty, uid, json_integer((json_int_t)w->ticks));
}

void sim_wl__pass_end(sim_workloads *w)
{
	json_t *stale = json_array(), *v;
	const char *key;
	size_t i;

	/* A mark made in this pass after its kind's phase waits for the next
	 * one; one no phase took (a Node, a deleted owner) is dropped, as are
	 * the namespace marks the Services have seen. */
	json_object_foreach(w->dirty, key, v)
	{
		if (json_integer_value(v) < (json_int_t)w->ticks || !strncmp(key, "ns:", 3))
			json_array_append_new(stale, json_string(key));
	}
	json_array_foreach(stale, i, v) json_object_del(w->dirty, json_string_value(v));
	json_decref(stale);
	w->full = 0;
	w->cur = NULL;
}

/* What a change to obj (old or new state) makes dirty. */
static void mark_obj(sim_workloads *w, const struct sim_wl_kind *k, const json_t *obj)
{
	char ns[300];

	if (!obj)
		return;
	sim_wl__mark(w, sim_wl__uid(obj));
	sim_wl__mark(w, sim_wl__owner_uid(obj));
	if (!strcmp(k->plural, "pods")) {
		snprintf(ns, sizeof ns, "ns:%s", sim_wl__ns(obj));
		sim_wl__mark(w, ns);
	} else if (!strcmp(k->plural, "nodes")) {
		w->full = 1; /* DaemonSets place one Pod per Node */
	}
}

struct refresh {
	struct sim_wl_kind *k;
	json_t *changed; /* [key, rv, bytes] copied under the store lock */
	size_t visited;  /* entries already cached */
};

/* Under the store lock: a hash lookup per entry, a copy only of what moved. */
static int refresh_cb(void *ud, const char *ns, const char *name, uint64_t rv, const char *json,
                      size_t len)
{
	struct refresh *r = ud;
	char key[600];
	json_t *have;

	snprintf(key, sizeof key, "%s/%s", ns, name);
	have = json_object_get(r->k->rvs, key);
	if (have)
		r->visited++;
	if (have && (uint64_t)json_integer_value(have) == rv)
		return 0;
	json_array_append_new(r->changed, json_pack("[sIs%]", key, (json_int_t)rv, json, len));
	return 0;
}

static int keys_cb(void *ud, const char *ns, const char *name, uint64_t rv, const char *json,
                   size_t len)
{
	char key[600];

	(void)rv;
	(void)json;
	(void)len;
	snprintf(key, sizeof key, "%s/%s", ns, name);
	json_object_set_new(ud, key, json_true());
	return 0;
}

/* Drop cached objects the store no longer has, marking their owners. */
static void sweep(sim_workloads *w, struct sim_wl_kind *k)
{
	json_t *live = json_object(), *gone = json_array(), *v;
	const char *key;
	size_t i;

	sim_store_iter_rv(w->srv->store, k->group, k->plural, keys_cb, live);
	json_object_foreach(k->objs, key, v)
	{
		if (!json_object_get(live, key))
			json_array_append_new(gone, json_string(key));
	}
	json_array_foreach(gone, i, v)
	{
		mark_obj(w, k, json_object_get(k->objs, json_string_value(v)));
		json_object_del(k->objs, json_string_value(v));
		json_object_del(k->rvs, json_string_value(v));
	}
	json_decref(gone);
	json_decref(live);
}

void sim_wl__refresh(sim_workloads *w, const char *group, const char *plural)
{
	struct sim_wl_kind *k = kind_of(w, group, plural);
	struct refresh r = {k, NULL, 0};
	uint64_t rv = sim_store_rv(w->srv->store);
	json_t *c;
	size_t i;

	if (!k || k->seen_rv == rv)
		return;
	r.changed = json_array();
	sim_store_iter_rv(w->srv->store, group, plural, refresh_cb, &r);
	if (r.visited != json_object_size(k->objs))
		sweep(w, k);
	json_array_foreach(r.changed, i, c)
	{
		const char *key = json_string_value(json_array_get(c, 0));
		json_t *bytes = json_array_get(c, 2), *o = NULL;
		mark_obj(w, k, json_object_get(k->objs, key)); /* the old owner too */
		if (cairn_json_parse(&o, json_string_value(bytes), json_string_length(bytes), NULL))
			continue;
		w->reparsed++;
		mark_obj(w, k, o);
		json_object_set_new(k->objs, key, o);
		json_object_set(k->rvs, key, json_array_get(c, 1));
	}
	json_decref(r.changed);
	k->seen_rv = rv;
}

json_t *sim_wl__list(sim_workloads *w, const char *group, const char *plural)
{
	struct sim_wl_kind *k;
	json_t *a = json_array(), *o;
	const char *key;

	sim_wl__refresh(w, group, plural);
	k = kind_of(w, group, plural);
	if (!k)
		return a;
	json_object_foreach(k->objs, key, o) json_array_append(a, o);
	return a;
}

/* Whether obj is to be reconciled this pass; consumes its mark. */
static int take(sim_workloads *w, const struct sim_wl_kind *k, const json_t *obj)
{
	const char *uid = sim_wl__uid(obj);
	int hit = w->full;
	char ns[300];

	if (json_object_get(w->dirty, uid)) {
		json_object_del(w->dirty, uid);
		hit = 1;
	}
	if (!strcmp(k->plural, "services")) {
		snprintf(ns, sizeof ns, "ns:%s", sim_wl__ns(obj));
		if (json_object_get(w->dirty, ns))
			hit = 1; /* several Services may share it: dropped after the pass */
	}
	return hit;
}

json_t *sim_wl__work(sim_workloads *w, const char *group, const char *plural)
{
	struct sim_wl_kind *k;
	json_t *a = json_array(), *o;
	const char *key;

	sim_wl__refresh(w, group, plural);
	k = kind_of(w, group, plural);
	if (!k)
		return a;
	json_object_foreach(k->objs, key, o)
	{
		if (take(w, k, o))
			json_array_append_new(a, json_deep_copy(o));
	}
	return a;
}

/* The heap orders timers by time; the earliest is at index 0. */
static void heap_swap(struct sim_wl_timer *v, size_t a, size_t b)
{
	struct sim_wl_timer t = v[a];

	v[a] = v[b];
	v[b] = t;
}

void sim_wl__due(sim_workloads *w, cairn_usec t)
{
	struct sim_wl_timer *v;
	size_t i;

	if (t < w->next_due)
		w->next_due = t;
	if (!w->cur || w->ntimers >= MAX_TIMERS) {
		/* No object to name (or too many timers): a full pass then. */
		sim_wl__mark(w, "full");
		return;
	}
	if (w->ntimers == w->captimers) {
		size_t cap = w->captimers ? 2 * w->captimers : 256;
		v = realloc(w->timers, cap * sizeof *v);
		if (!v)
			return;
		w->timers = v;
		w->captimers = cap;
	}
	v = w->timers;
	i = w->ntimers++;
	v[i].at = t;
	snprintf(v[i].uid, sizeof v[i].uid, "%s", w->cur);
	while (i > 0 && v[(i - 1) / 2].at > v[i].at) {
		heap_swap(v, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

void sim_wl__timers_fire(sim_workloads *w)
{
	struct sim_wl_timer *v = w->timers;

	while (w->ntimers && v[0].at <= w->now) {
		size_t i = 0, n = --w->ntimers;
		sim_wl__mark(w, v[0].uid);
		v[0] = v[n];
		for (;;) {
			size_t l = 2 * i + 1, r = l + 1, m = i;
			if (l < n && v[l].at < v[m].at)
				m = l;
			if (r < n && v[r].at < v[m].at)
				m = r;
			if (m == i)
				break;
			heap_swap(v, i, m);
			i = m;
		}
	}
	if (json_object_get(w->dirty, "full")) {
		json_object_del(w->dirty, "full");
		w->full = 1;
	}
	w->next_due = w->ntimers ? v[0].at : w->now + 30 * (cairn_usec)1000000;
}

void sim_wl__index_free(sim_workloads *w)
{
	for (size_t i = 0; w->kinds && i < NKINDS; i++) {
		json_decref(w->kinds[i].objs);
		json_decref(w->kinds[i].rvs);
	}
	free(w->kinds);
	free(w->timers);
	json_decref(w->dirty);
	w->kinds = NULL;
	w->timers = NULL;
	w->dirty = NULL;
}
