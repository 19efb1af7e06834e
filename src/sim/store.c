/*
 * src/sim/store.c - the simulator's object store.
 *
 * Objects live as canonical JSON bytes (cairn_json_canonical) in one
 * sorted array per resource (group + plural), ordered by namespace then
 * name, so lists and continue tokens are stable. One recursive mutex
 * guards everything; each write takes the next resourceVersion from one
 * counter and records an event in a bounded ring that watch.c reads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/util.h"

#include "sim.h"
#include "store_internal.h"

void sim_obj_dispose(sim_obj *o)
{
	if (!o)
		return;
	free(o->json);
	o->json = NULL;
}

static void entry_free(struct sim_entry_obj *e)
{
	if (!e)
		return;
	free(e->ns);
	free(e->name);
	free(e->json);
	free(e);
}

static void event_clear(struct sim_event *ev)
{
	free(ev->group);
	free(ev->plural);
	free(ev->ns);
	free(ev->json);
	memset(ev, 0, sizeof *ev);
}

/*
 * sim_store_new - an empty store keeping the last `history` watch events.
 * Returns 0 or CAIRN_ENOMEM; *out owned by the caller (sim_store_free).
 */
int sim_store_new(sim_store **out, size_t history)
{
	sim_store *st = calloc(1, sizeof *st);
	pthread_mutexattr_t a;

	if (!st)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	st->hist_cap = history ? history : 1;
	st->hist = calloc(st->hist_cap, sizeof *st->hist);
	if (!st->hist) {
		free(st);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->mu, &a);
	pthread_mutexattr_destroy(&a);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);
	st->rv = 1;
	*out = st;
	return 0;
}

void sim_store_free(sim_store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct sim_bucket *b = &st->buckets[i];
		for (size_t j = 0; j < b->n; j++)
			entry_free(b->v[j]);
		free(b->v);
		free(b->group);
		free(b->plural);
	}
	free(st->buckets);
	for (size_t i = 0; i < st->hist_cap; i++)
		event_clear(&st->hist[i]);
	free(st->hist);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cond);
	free(st);
}

void sim_store_lock(sim_store *st)
{
	pthread_mutex_lock(&st->mu);
}

void sim_store_unlock(sim_store *st)
{
	pthread_mutex_unlock(&st->mu);
}

uint64_t sim_store_rv(sim_store *st)
{
	uint64_t rv;

	sim_store_lock(st);
	rv = st->rv;
	sim_store_unlock(st);
	return rv;
}

size_t sim_store_count(sim_store *st)
{
	size_t n = 0;

	sim_store_lock(st);
	for (size_t i = 0; i < st->nbuckets; i++)
		n += st->buckets[i].n;
	sim_store_unlock(st);
	return n;
}

static struct sim_bucket *bucket_find(sim_store *st, const char *group, const char *plural,
                                      int create)
{
	struct sim_bucket *nb;

	for (size_t i = 0; i < st->nbuckets; i++)
		if (!strcmp(st->buckets[i].group, group) && !strcmp(st->buckets[i].plural, plural))
			return &st->buckets[i];
	if (!create)
		return NULL;
	nb = realloc(st->buckets, (st->nbuckets + 1) * sizeof *nb);
	if (!nb)
		return NULL;
	st->buckets = nb;
	nb = &st->buckets[st->nbuckets];
	memset(nb, 0, sizeof *nb);
	nb->group = strdup(group);
	nb->plural = strdup(plural);
	if (!nb->group || !nb->plural) {
		free(nb->group);
		free(nb->plural);
		return NULL;
	}
	st->nbuckets++;
	return nb;
}

static int cmp_key(const char *ns1, const char *n1, const char *ns2, const char *n2)
{
	int c = strcmp(ns1, ns2);
	return c ? c : strcmp(n1, n2);
}

/* Index of the first entry >= (ns, name); *found set when equal. */
static size_t bucket_search(const struct sim_bucket *b, const char *ns, const char *name,
                            int *found)
{
	size_t lo = 0, hi = b->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(b->v[mid]->ns, b->v[mid]->name, ns, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < b->n && !cmp_key(b->v[lo]->ns, b->v[lo]->name, ns, name))
		*found = 1;
	return lo;
}

void sim_time_format(char out[CAIRN_TIME_RFC3339_LEN], cairn_usec t)
{
	time_t secs = (time_t)(t / 1000000);
	struct tm tm;

	if (t < 0 && t % 1000000)
		secs -= 1;
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(out, CAIRN_TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, CAIRN_TIME_RFC3339_LEN, "1970-01-01T00:00:00Z");
}

void sim_time_now(char out[CAIRN_TIME_RFC3339_LEN])
{
	sim_time_format(out, cairn_time_now());
}

static void make_uid(char out[37])
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof r) != 1) {
		uint64_t t = (uint64_t)cairn_time_now();
		memcpy(r, &t, 8);
		memcpy(r + 8, &t, 8);
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
	         r[13], r[14], r[15]);
}

/* Record one event in the ring, evicting the oldest, and wake watchers. */
static void emit(sim_store *st, int type, const char *group, const char *plural, const char *ns,
                 uint64_t rv, const char *json, size_t len)
{
	struct sim_event *ev;
	size_t idx;

	if (st->hist_n == st->hist_cap) {
		ev = &st->hist[st->hist_head];
		st->evicted_rv = ev->rv;
		event_clear(ev);
		st->hist_head = (st->hist_head + 1) % st->hist_cap;
		st->hist_n--;
	}
	idx = (st->hist_head + st->hist_n) % st->hist_cap;
	ev = &st->hist[idx];
	ev->type = type;
	ev->rv = rv;
	ev->group = strdup(group);
	ev->plural = strdup(plural);
	ev->ns = strdup(ns);
	ev->json = malloc(len + 1);
	if (ev->json) {
		memcpy(ev->json, json, len);
		ev->json[len] = '\0';
	}
	ev->len = len;
	if (!ev->group || !ev->plural || !ev->ns || !ev->json) {
		event_clear(ev);
		return;
	}
	st->hist_n++;
	pthread_cond_broadcast(&st->cond);
}

static int canon(json_t *obj, char **out, size_t *len)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	int rc = cairn_json_canonical(&b, obj);

	if (rc) {
		cairn_buf_dispose(&b);
		return rc;
	}
	if (!b.ptr && cairn_buf_puts(&b, "") != 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = cairn_buf_detach(&b, len);
	return 0;
}

static json_t *meta_of(json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");

	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(obj, "metadata", m);
	}
	return m;
}

/* Kinds the API server gives a metadata.generation: everything with a spec
 * except the few core kinds whose strategies do not track it (v1.28). */
static int tracks_generation(const json_t *obj)
{
	static const char *const no[] = {"Pod",
	                                 "Service",
	                                 "Namespace",
	                                 "Node",
	                                 "PersistentVolumeClaim",
	                                 "PersistentVolume",
	                                 "Endpoints"};
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (!json_object_get(obj, "spec"))
		return 0;
	for (size_t i = 0; kind && i < sizeof no / sizeof no[0]; i++)
		if (!strcmp(kind, no[i]))
			return 0;
	return 1;
}

static void set_rv(json_t *meta, uint64_t rv)
{
	char s[24];

	snprintf(s, sizeof s, "%llu", (unsigned long long)rv);
	json_object_set_new(meta, "resourceVersion", json_string(s));
}

/* Store obj's bytes in entry e (new or replaced), stamp the rv and emit. */
static int put_entry(sim_store *st, struct sim_bucket *b, struct sim_entry_obj *e, json_t *obj,
                     int type)
{
	char *json;
	size_t len;
	uint64_t rv = st->rv + 1;
	int rc;

	set_rv(meta_of(obj), rv);
	rc = canon(obj, &json, &len);
	if (rc)
		return rc;
	free(e->json);
	e->json = json;
	e->len = len;
	e->rv = rv;
	st->rv = rv;
	emit(st, type, b->group, b->plural, e->ns, rv, json, len);
	return 0;
}

static int parse_entry(const struct sim_entry_obj *e, json_t **out)
{
	return cairn_json_parse(out, e->json, e->len, NULL);
}

/*
 * sim_store_get - a parsed copy of one object (caller owns *out).
 * CAIRN_ENOTFOUND when absent. Thread-safe.
 */
int sim_store_get(sim_store *st, const sim_key *k, json_t **out)
{
	struct sim_bucket *b;
	size_t i;
	int found = 0, rc;

	sim_store_lock(st);
	b = bucket_find(st, k->group, k->plural, 0);
	if (b)
		i = bucket_search(b, k->ns ? k->ns : "", k->name, &found);
	if (!found)
		rc = cairn_error_set(CAIRN_ENOTFOUND, "'%s' not found", k->name);
	else
		rc = parse_entry(b->v[i], out);
	sim_store_unlock(st);
	return rc;
}

/*
 * sim_store_create - insert obj (borrowed, stamped in place with uid,
 * creationTimestamp, generation and resourceVersion). CAIRN_EEXISTS when an
 * object with that key exists. Thread-safe.
 */
int sim_store_create(sim_store *st, const sim_key *k, json_t *obj)
{
	struct sim_bucket *b;
	struct sim_entry_obj *e = NULL, **nv;
	json_t *meta = meta_of(obj);
	char uid[37], ts[CAIRN_TIME_RFC3339_LEN];
	const char *ns = k->ns ? k->ns : "";
	size_t i;
	int found, rc;

	sim_store_lock(st);
	b = bucket_find(st, k->group, k->plural, 1);
	if (!b) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	i = bucket_search(b, ns, k->name, &found);
	if (found) {
		rc = cairn_error_set(CAIRN_EEXISTS, "'%s' already exists", k->name);
		goto out;
	}
	if (!json_object_get(meta, "uid")) {
		make_uid(uid);
		json_object_set_new(meta, "uid", json_string(uid));
	}
	if (!json_is_string(json_object_get(meta, "creationTimestamp"))) {
		sim_time_now(ts);
		json_object_set_new(meta, "creationTimestamp", json_string(ts));
	}
	if (tracks_generation(obj))
		json_object_set_new(meta, "generation", json_integer(1));
	else
		json_object_del(meta, "generation");
	e = calloc(1, sizeof *e);
	if (!e || !(e->ns = strdup(ns)) || !(e->name = strdup(k->name))) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 16;
		nv = realloc(b->v, nc * sizeof *nv);
		if (!nv) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		b->v = nv;
		b->cap = nc;
	}
	rc = put_entry(st, b, e, obj, SIM_EV_ADDED);
	if (rc)
		goto out;
	memmove(&b->v[i + 1], &b->v[i], (b->n - i) * sizeof *b->v);
	b->v[i] = e;
	b->n++;
	e = NULL;
out:
	entry_free(e);
	sim_store_unlock(st);
	return rc;
}

/* The object without metadata and status, for the generation rule. */
static int spec_changed(const json_t *old, const json_t *obj)
{
	json_t *a = json_copy((json_t *)old), *b = json_copy((json_t *)obj);
	int changed;

	json_object_del(a, "metadata");
	json_object_del(a, "status");
	json_object_del(b, "metadata");
	json_object_del(b, "status");
	changed = !json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return changed;
}

/*
 * sim_store_update - replace an object. A metadata.resourceVersion in obj
 * must equal the stored one (CAIRN_EBUSY otherwise). uid and
 * creationTimestamp are kept; generation grows when the spec changed.
 * obj is stamped in place. CAIRN_ENOTFOUND when absent. Thread-safe.
 */
int sim_store_update(sim_store *st, const sim_key *k, json_t *obj)
{
	struct sim_bucket *b;
	json_t *old = NULL, *meta = meta_of(obj), *om;
	const char *want;
	char cur[24];
	size_t i;
	int found = 0, rc;

	sim_store_lock(st);
	b = bucket_find(st, k->group, k->plural, 0);
	if (b)
		i = bucket_search(b, k->ns ? k->ns : "", k->name, &found);
	if (!found) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "'%s' not found", k->name);
		goto out;
	}
	want = json_string_value(json_object_get(meta, "resourceVersion"));
	snprintf(cur, sizeof cur, "%llu", (unsigned long long)b->v[i]->rv);
	if (want && *want && strcmp(want, cur)) {
		rc = cairn_error_set(CAIRN_EBUSY, "the object has been modified; please apply your "
		                                  "changes to the latest version and try again");
		goto out;
	}
	rc = parse_entry(b->v[i], &old);
	if (rc)
		goto out;
	om = json_object_get(old, "metadata");
	json_object_set(meta, "uid", json_object_get(om, "uid"));
	json_object_set(meta, "creationTimestamp", json_object_get(om, "creationTimestamp"));
	if (json_object_get(om, "generation")) {
		json_int_t g = json_integer_value(json_object_get(om, "generation"));
		json_object_set_new(meta, "generation",
		                    json_integer(spec_changed(old, obj) ? g + 1 : g));
	} else if (tracks_generation(obj)) {
		json_object_set_new(meta, "generation", json_integer(1));
	}
	rc = put_entry(st, b, b->v[i], obj, SIM_EV_MODIFIED);
out:
	json_decref(old);
	sim_store_unlock(st);
	return rc;
}

/*
 * sim_store_delete - remove an object, emitting DELETED with a fresh
 * resourceVersion; the final object in *out when out != NULL (caller owns).
 * CAIRN_ENOTFOUND when absent. Thread-safe.
 */
int sim_store_delete(sim_store *st, const sim_key *k, json_t **out)
{
	return sim_store_delete_as(st, k, NULL, out);
}

/*
 * sim_store_delete_as - as sim_store_delete(), but the DELETED event and
 * *out carry `final` (borrowed; copied) instead of the stored object: an
 * object whose last finalizer a write removed goes in that state.
 */
int sim_store_delete_as(sim_store *st, const sim_key *k, const json_t *final, json_t **out)
{
	struct sim_bucket *b;
	struct sim_entry_obj *e;
	json_t *obj = NULL;
	size_t i;
	int found = 0, rc;

	sim_store_lock(st);
	b = bucket_find(st, k->group, k->plural, 0);
	if (b)
		i = bucket_search(b, k->ns ? k->ns : "", k->name, &found);
	if (!found) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "'%s' not found", k->name);
		goto out;
	}
	e = b->v[i];
	if (final) {
		obj = json_deep_copy(final);
		rc = obj ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	} else {
		rc = parse_entry(e, &obj);
	}
	if (rc)
		goto out;
	rc = put_entry(st, b, e, obj, SIM_EV_DELETED);
	if (rc)
		goto out;
	memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof *b->v);
	b->n--;
	entry_free(e);
	if (out) {
		*out = obj;
		obj = NULL;
	}
out:
	json_decref(obj);
	sim_store_unlock(st);
	return rc;
}

/*
 * sim_store_iter - call fn for the objects of one resource in (namespace,
 * name) order; ns NULL means every namespace; `after` ("ns/name") skips up
 * to and including that key. The store stays locked during the walk, so fn
 * must not block. Returns 0, or fn's negative code.
 */
int sim_store_iter_rv(sim_store *st, const char *group, const char *plural, sim_store_iter_rv_fn fn,
                      void *ud)
{
	struct sim_bucket *b;
	int rc = 0;

	sim_store_lock(st);
	b = bucket_find(st, group, plural, 0);
	for (size_t i = 0; b && i < b->n && !rc; i++)
		rc = fn(ud, b->v[i]->ns, b->v[i]->name, b->v[i]->rv, b->v[i]->json, b->v[i]->len);
	sim_store_unlock(st);
	return rc > 0 ? 0 : rc;
}

int sim_store_iter(sim_store *st, const char *group, const char *plural, const char *ns,
                   const char *after, sim_store_iter_fn fn, void *ud)
{
	struct sim_bucket *b;
	size_t i = 0;
	int rc = 0, found;

	sim_store_lock(st);
	b = bucket_find(st, group, plural, 0);
	if (!b)
		goto out;
	if (after) {
		const char *slash = strchr(after, '/');
		char ans[256];
		size_t n = slash ? (size_t)(slash - after) : 0;
		if (n >= sizeof ans)
			n = sizeof ans - 1;
		memcpy(ans, after, n);
		ans[n] = '\0';
		i = bucket_search(b, ans, slash ? slash + 1 : after, &found);
		if (found)
			i++;
	} else if (ns) {
		i = bucket_search(b, ns, "", &found);
	}
	for (; i < b->n; i++) {
		struct sim_entry_obj *e = b->v[i];
		if (ns && strcmp(e->ns, ns)) {
			if (strcmp(e->ns, ns) > 0)
				break;
			continue;
		}
		rc = fn(ud, e->ns, e->name, e->json, e->len);
		if (rc) {
			rc = rc > 0 ? 0 : rc;
			break;
		}
	}
out:
	sim_store_unlock(st);
	return rc;
}

/* Does the canonical text name this uid in an ownerReference? A cheap
 * substring test first, then a parse for the exact answer. */
static int owned_by(const struct sim_entry_obj *e, const char *uid)
{
	json_t *obj, *refs, *r;
	size_t i;
	int hit = 0;

	if (!strstr(e->json, uid) || parse_entry(e, &obj))
		return 0;
	refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
	json_array_foreach(refs, i, r)
	{
		if (!strcmp(json_string_value(json_object_get(r, "uid")) ?: "", uid))
			hit = 1;
	}
	json_decref(obj);
	return hit;
}

/*
 * sim_store_dependents - the keys of objects owned by uid, as a JSON array
 * of {"group","plural","namespace","name"} (caller owns). Thread-safe.
 */
int sim_store_dependents(sim_store *st, const char *uid, json_t **out_keys)
{
	json_t *arr = json_array();

	sim_store_lock(st);
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct sim_bucket *b = &st->buckets[i];
		for (size_t j = 0; j < b->n; j++) {
			if (!owned_by(b->v[j], uid))
				continue;
			json_array_append_new(arr, json_pack("{ssssssss}", "group", b->group,
			                                     "plural", b->plural, "namespace",
			                                     b->v[j]->ns, "name", b->v[j]->name));
		}
	}
	sim_store_unlock(st);
	*out_keys = arr;
	return 0;
}

/*
 * sim_store_namespaced_keys - keys of every object in namespace ns (same
 * shape as sim_store_dependents). Thread-safe.
 */
int sim_store_namespaced_keys(sim_store *st, const char *ns, json_t **out_keys)
{
	json_t *arr = json_array();

	sim_store_lock(st);
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct sim_bucket *b = &st->buckets[i];
		for (size_t j = 0; j < b->n; j++) {
			if (strcmp(b->v[j]->ns, ns))
				continue;
			json_array_append_new(arr, json_pack("{ssssssss}", "group", b->group,
			                                     "plural", b->plural, "namespace",
			                                     b->v[j]->ns, "name", b->v[j]->name));
		}
	}
	sim_store_unlock(st);
	*out_keys = arr;
	return 0;
}

/*
 * sim_store_save - write every object as one JSON line
 * {"g":group,"p":plural,"n":namespace,"o":object} to path (via a temporary file and
 * rename, so a crash leaves the old state). The first line records the
 * resourceVersion counter. Returns 0 or CAIRN_EIO.
 */
int sim_store_save(sim_store *st, const char *path)
{
	char tmp[4096];
	FILE *f;
	int rc = 0;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return cairn_error_set(CAIRN_ELIMIT, "state path too long '%s'", path);
	f = fopen(tmp, "we");
	if (!f)
		return cairn_error_set_errno(errno, "cannot write state '%s'", tmp);
	sim_store_lock(st);
	fprintf(f, "{\"rv\":%llu}\n", (unsigned long long)st->rv);
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct sim_bucket *b = &st->buckets[i];
		json_t *g = json_string(b->group), *p = json_string(b->plural);
		char *gs = json_dumps(g, JSON_ENCODE_ANY), *ps = json_dumps(p, JSON_ENCODE_ANY);
		for (size_t j = 0; gs && ps && j < b->n; j++) {
			json_t *n = json_string(b->v[j]->ns);
			char *ns = json_dumps(n, JSON_ENCODE_ANY);
			fprintf(f, "{\"g\":%s,\"p\":%s,\"n\":%s,\"o\":%s}\n", gs, ps,
			        ns ? ns : "\"\"", b->v[j]->json);
			free(ns);
			json_decref(n);
		}
		free(gs);
		free(ps);
		json_decref(g);
		json_decref(p);
	}
	sim_store_unlock(st);
	if (fflush(f) || ferror(f))
		rc = cairn_error_set(CAIRN_EIO, "cannot write state '%s'", tmp);
	if (fclose(f) && !rc)
		rc = cairn_error_set(CAIRN_EIO, "cannot write state '%s'", tmp);
	if (!rc && rename(tmp, path))
		rc = cairn_error_set_errno(errno, "cannot rename state to '%s'", path);
	return rc;
}

/* Insert one loaded object as it was saved (no new stamps, no event). */
static int load_one(sim_store *st, const char *group, const char *plural, const char *ns,
                    json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *rvs = json_string_value(json_object_get(meta, "resourceVersion"));
	struct sim_bucket *b = bucket_find(st, group, plural, 1);
	struct sim_entry_obj *e, **nv;
	size_t i;
	int found;

	if (!b || !name)
		return cairn_error_set(CAIRN_EINVAL, "state object without a name");
	i = bucket_search(b, ns, name, &found);
	if (found)
		return 0;
	e = calloc(1, sizeof *e);
	if (!e || !(e->ns = strdup(ns)) || !(e->name = strdup(name)) ||
	    canon(obj, &e->json, &e->len)) {
		entry_free(e);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	e->rv = rvs ? strtoull(rvs, NULL, 10) : 0;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 16;
		nv = realloc(b->v, nc * sizeof *nv);
		if (!nv) {
			entry_free(e);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		b->v = nv;
		b->cap = nc;
	}
	memmove(&b->v[i + 1], &b->v[i], (b->n - i) * sizeof *b->v);
	b->v[i] = e;
	b->n++;
	return 0;
}

/*
 * sim_store_load - read a file written by sim_store_save into the store
 * (objects already present are kept). Returns 0, CAIRN_EIO when it cannot
 * be read, CAIRN_EINVAL (with the line number) when a line is malformed.
 */
int sim_store_load(sim_store *st, const char *path)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	char *p, *nl;
	int rc, line = 0;

	rc = cairn_buf_read_file(&b, path);
	if (rc)
		return rc;
	sim_store_lock(st);
	for (p = b.ptr; p && *p; p = nl ? nl + 1 : NULL) {
		json_t *j = NULL;
		nl = strchr(p, '\n');
		line++;
		if (nl == p)
			continue;
		rc = cairn_json_parse(&j, p, nl ? (size_t)(nl - p) : strlen(p), path);
		if (rc)
			break;
		if (json_object_get(j, "rv")) {
			uint64_t rv = (uint64_t)json_integer_value(json_object_get(j, "rv"));
			if (rv > st->rv)
				st->rv = rv;
		} else if (!json_is_string(json_object_get(j, "g")) ||
		           !json_is_object(json_object_get(j, "o"))) {
			rc = cairn_error_set(CAIRN_EINVAL, "%s:%d: malformed state line", path,
			                     line);
		} else {
			rc = load_one(st, json_string_value(json_object_get(j, "g")),
			              json_string_value(json_object_get(j, "p")) ?: "",
			              json_string_value(json_object_get(j, "n")) ?: "",
			              json_object_get(j, "o"));
		}
		json_decref(j);
		if (rc)
			break;
	}
	st->evicted_rv = st->rv;
	sim_store_unlock(st);
	cairn_buf_dispose(&b);
	return rc;
}
