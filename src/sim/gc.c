/*
 * src/sim/gc.c - deletion as the API server and its garbage collector do
 * it, done synchronously under the store lock: finalizers (an object that
 * carries any only gets a deletionTimestamp and goes when the last one is
 * removed), the three propagation policies, and the owners waiting in
 * foreground deletion for their dependents.
 *
 * Events come out in the order a real cluster produces them: the owner's
 * MODIFIED (deletionTimestamp, finalizer) first, then the dependents'
 * DELETED, then the owner's DELETED; only the delay between them is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "server_internal.h"
#include "sim.h"

#define GC_MAX_DEPTH 16

static json_t *meta_of(const json_t *obj)
{
	return json_object_get(obj, "metadata");
}

static int has_finalizer(const json_t *obj, const char *f)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(meta_of(obj), "finalizers"), i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), f))
			return 1;
	}
	return 0;
}

static int finalizer_count(const json_t *obj)
{
	return (int)json_array_size(json_object_get(meta_of(obj), "finalizers"));
}

static void drop_finalizer(json_t *obj, const char *f)
{
	json_t *fs = json_object_get(meta_of(obj), "finalizers"), *v;
	size_t i;

	json_array_foreach(fs, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), f)) {
			json_array_remove(fs, i);
			break;
		}
	}
	if (fs && !json_array_size(fs))
		json_object_del(meta_of(obj), "finalizers");
}

/* Give obj a deletionTimestamp (kept when already deleting) and, when f is
 * set, that finalizer. */
static void mark_deleting(json_t *obj, const char *f)
{
	json_t *meta = meta_of(obj), *fs;
	char ts[CAIRN_TIME_RFC3339_LEN];

	if (!json_object_get(meta, "deletionTimestamp")) {
		sim_time_now(ts);
		json_object_set_new(meta, "deletionTimestamp", json_string(ts));
		json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
	}
	if (!f || has_finalizer(obj, f))
		return;
	fs = json_object_get(meta, "finalizers");
	if (!json_is_array(fs)) {
		fs = json_array();
		json_object_set_new(meta, "finalizers", fs);
	}
	json_array_append_new(fs, json_string(f));
}

/* Write obj back over the live object (the caller holds the store lock). */
static int put_back(sim_server *srv, const sim_key *k, json_t *obj)
{
	json_object_del(meta_of(obj), "resourceVersion");
	return sim_store_update(srv->store, k, obj);
}

static void key_from(const json_t *d, sim_key *k)
{
	k->group = json_string_value(json_object_get(d, "group"));
	k->plural = json_string_value(json_object_get(d, "plural"));
	k->ns = json_string_value(json_object_get(d, "namespace"));
	k->name = json_string_value(json_object_get(d, "name"));
}

static void remove_now(sim_server *srv, const sim_key *k, const json_t *final, int depth);
static int delete_obj(sim_server *srv, const sim_key *k, const char *policy, int depth,
                      json_t **out, int *gone);

/* Drop the owner reference to uid from one dependent (policy Orphan). */
static void orphan_one(sim_server *srv, const sim_key *k, const char *uid)
{
	json_t *obj = NULL, *refs, *kept, *ref;
	size_t i;

	if (sim_store_get(srv->store, k, &obj))
		return;
	refs = json_object_get(meta_of(obj), "ownerReferences");
	kept = json_array();
	json_array_foreach(refs, i, ref)
	{
		if (strcmp(json_string_value(json_object_get(ref, "uid")) ?: "", uid))
			json_array_append(kept, ref);
	}
	if (json_array_size(kept))
		json_object_set_new(meta_of(obj), "ownerReferences", kept);
	else {
		json_decref(kept);
		json_object_del(meta_of(obj), "ownerReferences");
	}
	put_back(srv, k, obj);
	json_decref(obj);
}

/*
 * An object owned by a deleted one may have held its owner in foreground
 * deletion: once an owner that waits (deletionTimestamp and the
 * foregroundDeletion finalizer) has no dependents left, the collector drops
 * that finalizer, and the owner goes when no other finalizer remains.
 */
static void release_owners(sim_server *srv, const json_t *dep, const char *ns, int depth)
{
	json_t *ref, *owner, *deps;
	size_t i;

	json_array_foreach(json_object_get(meta_of(dep), "ownerReferences"), i, ref)
	{
		const char *av = json_string_value(json_object_get(ref, "apiVersion")) ?: "";
		const char *kind = json_string_value(json_object_get(ref, "kind")) ?: "";
		const char *uid = json_string_value(json_object_get(ref, "uid")) ?: "";
		const char *name = json_string_value(json_object_get(ref, "name")) ?: "";
		const char *slash = strchr(av, '/');
		char group[256] = "";
		const sim_resource *res;
		sim_key k;

		if (slash && (size_t)(slash - av) < sizeof group)
			memcpy(group, av, (size_t)(slash - av)), group[slash - av] = '\0';
		res = sim_registry_find_kind(srv->reg, group, slash ? slash + 1 : av, kind);
		if (!res)
			continue;
		k = (sim_key){res->group, res->plural, res->namespaced ? ns : "", name};
		owner = deps = NULL;
		if (sim_store_get(srv->store, &k, &owner))
			continue;
		if (!strcmp(json_string_value(json_object_get(meta_of(owner), "uid")) ?: "", uid) &&
		    has_finalizer(owner, "foregroundDeletion") &&
		    sim_store_dependents(srv->store, uid, &deps) == 0 && !json_array_size(deps)) {
			drop_finalizer(owner, "foregroundDeletion");
			if (finalizer_count(owner))
				put_back(srv, &k, owner);
			else
				remove_now(srv, &k, owner, depth + 1);
		}
		json_decref(deps);
		json_decref(owner);
	}
}

/* Remove an object for good (its last state `final` when not NULL: the
 * object with its last finalizer gone), then collect its dependents in the
 * background and let a waiting owner go. */
static void remove_now(sim_server *srv, const sim_key *k, const json_t *final, int depth)
{
	json_t *obj = NULL, *deps = NULL, *d;
	const char *uid;
	size_t i;

	if (depth > GC_MAX_DEPTH || sim_store_delete_as(srv->store, k, final, &obj))
		return;
	uid = json_string_value(json_object_get(meta_of(obj), "uid"));
	if (uid && sim_store_dependents(srv->store, uid, &deps) == 0) {
		json_array_foreach(deps, i, d)
		{
			sim_key dk;
			key_from(d, &dk);
			delete_obj(srv, &dk, "Background", depth + 1, NULL, NULL);
		}
	}
	release_owners(srv, obj, k->ns, depth);
	json_decref(deps);
	json_decref(obj);
}

/*
 * Delete one object with a propagation policy. Orphan and Foreground first
 * mark the object (deletionTimestamp and the "orphan" or
 * "foregroundDeletion" finalizer) as the API server does before its
 * collector acts; the collector's work then follows at once. *out gets the
 * object as the DELETE answer shows it (the marked object, or the removed
 * one) and *gone whether it is gone.
 */
static int delete_obj(sim_server *srv, const sim_key *k, const char *policy, int depth,
                      json_t **out, int *gone)
{
	json_t *obj = NULL, *deps = NULL, *d, *shown = NULL;
	int orphan = !strcmp(policy, "Orphan"), fg = !strcmp(policy, "Foreground");
	char uid[128];
	size_t i;

	if (depth > GC_MAX_DEPTH)
		return cairn_error_set(CAIRN_ELIMIT, "owner references nest too deep");
	if (sim_store_get(srv->store, k, &obj))
		return CAIRN_ENOTFOUND;
	/* Copied: obj is released and re-read below. */
	snprintf(uid, sizeof uid, "%s",
	         json_string_value(json_object_get(meta_of(obj), "uid")) ?: "");
	if (orphan || fg || finalizer_count(obj)) {
		mark_deleting(obj, orphan ? "orphan" : fg ? "foregroundDeletion" : NULL);
		put_back(srv, k, obj);
		shown = json_deep_copy(obj);
	}
	sim_store_dependents(srv->store, uid, &deps);
	json_array_foreach(deps, i, d)
	{
		sim_key dk;
		key_from(d, &dk);
		if (orphan)
			orphan_one(srv, &dk, uid);
		else if (fg)
			delete_obj(srv, &dk, "Foreground", depth + 1, NULL, NULL);
	}
	json_decref(deps);
	json_decref(obj);
	obj = NULL;
	if (!shown) {
		/* Background, no finalizers: the object goes now, dependents after. */
		sim_store_get(srv->store, k, &shown);
		remove_now(srv, k, NULL, depth);
	} else if (sim_store_get(srv->store, k, &obj) == 0) {
		int before = finalizer_count(obj);
		if (orphan)
			drop_finalizer(obj, "orphan");
		deps = NULL;
		if (fg && sim_store_dependents(srv->store, uid, &deps) == 0 &&
		    !json_array_size(deps))
			drop_finalizer(obj, "foregroundDeletion");
		json_decref(deps);
		if (!finalizer_count(obj))
			remove_now(srv, k, obj, depth);
		else if (finalizer_count(obj) != before)
			put_back(srv, k, obj);
	}
	if (gone)
		*gone = sim_store_get(srv->store, k, &d) != 0;
	if (gone && !*gone)
		json_decref(d);
	if (out)
		*out = shown;
	else
		json_decref(shown);
	json_decref(obj);
	return 0;
}

/*
 * sim_gc_delete - delete the object at k with propagationPolicy policy
 * ("Background", "Foreground" or "Orphan"; anything else is Background).
 * @param out   the object as the answer shows it (caller owns), or NULL
 * @param gone  set to whether the object is gone now, or NULL
 * @return 0 or CAIRN_ENOTFOUND. Thread-safe (holds the store lock).
 */
int sim_gc_delete(sim_server *srv, const sim_key *k, const char *policy, json_t **out, int *gone)
{
	int rc;

	sim_store_lock(srv->store);
	rc = delete_obj(srv, k, policy ? policy : "Background", 0, out, gone);
	sim_store_unlock(srv->store);
	return rc;
}

/*
 * sim_gc_remove - remove the object at k whatever its finalizers (namespace
 * and CRD teardown), collecting its dependents in the background.
 * Thread-safe.
 */
void sim_gc_remove(sim_server *srv, const sim_key *k)
{
	sim_store_lock(srv->store);
	remove_now(srv, k, NULL, 0);
	sim_store_unlock(srv->store);
}

/*
 * sim_gc_after_update - after a write to the object at k: an object being
 * deleted whose last finalizer was just removed goes now. Thread-safe.
 */
void sim_gc_after_update(sim_server *srv, const sim_key *k)
{
	json_t *obj = NULL;

	sim_store_lock(srv->store);
	if (sim_store_get(srv->store, k, &obj) == 0 &&
	    json_object_get(meta_of(obj), "deletionTimestamp") && !finalizer_count(obj))
		remove_now(srv, k, NULL, 0);
	sim_store_unlock(srv->store);
	json_decref(obj);
}
