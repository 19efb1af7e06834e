/*
 * plan.c - the sync plan: which objects to create, update, run as hooks or
 * prune, and in which order (phase, wave, kind, name), with the ordering
 * rules of Argo CD's gitops-engine (docs/sync.md "Plan: phases, waves,
 * hooks, prune").
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/sync.h"

#define ANN_HOOK "argocd.argoproj.io/hook"
#define ANN_HOOK_DELETE "argocd.argoproj.io/hook-delete-policy"
#define ANN_WAVE "argocd.argoproj.io/sync-wave"
#define ANN_OPTIONS "argocd.argoproj.io/sync-options"

/*
 * The kind order within a wave: the list gitops-engine applies (itself
 * Helm's install order with IngressClass). Kinds not listed rank after all
 * of them and, as there, compare equal to each other (the name decides).
 */
static const char *const kind_order[] = {
        "Namespace",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "PodSecurityPolicy",
        "PodDisruptionBudget",
        "ServiceAccount",
        "Secret",
        "SecretList",
        "ConfigMap",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleList",
        "ClusterRoleBinding",
        "ClusterRoleBindingList",
        "Role",
        "RoleList",
        "RoleBinding",
        "RoleBindingList",
        "Service",
        "DaemonSet",
        "Pod",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "HorizontalPodAutoscaler",
        "StatefulSet",
        "Job",
        "CronJob",
        "IngressClass",
        "Ingress",
        "APIService",
};

#define KIND_COUNT ((int)(sizeof(kind_order) / sizeof(kind_order[0])))

/* hook phase bits found in the hook annotation */
#define HOOK_PRESYNC (1u << CAIRN_PHASE_PRESYNC)
#define HOOK_SYNC (1u << CAIRN_PHASE_SYNC)
#define HOOK_POSTSYNC (1u << CAIRN_PHASE_POSTSYNC)
#define HOOK_SYNCFAIL (1u << CAIRN_PHASE_SYNCFAIL)
#define HOOK_SKIP 0x100u
#define HOOK_DELETE_ONLY 0x200u /* PreDelete/PostDelete: app deletion, not sync */

static int kind_rank(const char *kind)
{
	for (int i = 0; i < KIND_COUNT; i++)
		if (strcmp(kind, kind_order[i]) == 0)
			return i;
	return KIND_COUNT;
}

const char *cairn_sync_phase_name(cairn_sync_phase p)
{
	switch (p) {
	case CAIRN_PHASE_PRESYNC:
		return "PreSync";
	case CAIRN_PHASE_SYNC:
		return "Sync";
	case CAIRN_PHASE_POSTSYNC:
		return "PostSync";
	case CAIRN_PHASE_SYNCFAIL:
		return "SyncFail";
	}
	return "unknown";
}

const char *cairn_sync_action_name(cairn_sync_action a)
{
	switch (a) {
	case CAIRN_ACT_NONE:
		return "none";
	case CAIRN_ACT_CREATE:
		return "create";
	case CAIRN_ACT_UPDATE:
		return "update";
	case CAIRN_ACT_HOOK:
		return "hook";
	case CAIRN_ACT_PRUNE:
		return "prune";
	case CAIRN_ACT_PRUNE_SKIP:
		return "prune-skip";
	}
	return "unknown";
}

void cairn_plan_free(cairn_plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		json_decref(p->v[i].desired);
		json_decref(p->v[i].live);
	}
	free(p->v);
	free(p);
}

static const char *annotation(const json_t *obj, const char *key)
{
	json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");

	return json_string_value(json_object_get(ann, key));
}

/*
 * Split a comma list into trimmed items and hand each to `fn`; stops at
 * the first negative return. Items longer than 127 bytes are cut, which
 * makes them match no known value.
 */
typedef int (*item_fn)(const char *item, void *ud);

static int each_item(const char *list, item_fn fn, void *ud)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[128];
		int rc;

		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, p, n);
		item[n] = '\0';
		if (n > 0 && (rc = fn(item, ud)) < 0)
			return rc;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* What an item callback needs to name the object in its message. */
struct item_ctx {
	const char *what; /* formatted id */
	unsigned bits;
};

static int hook_item(const char *item, void *ud)
{
	struct item_ctx *c = ud;

	if (strcmp(item, "PreSync") == 0)
		c->bits |= HOOK_PRESYNC;
	else if (strcmp(item, "Sync") == 0)
		c->bits |= HOOK_SYNC;
	else if (strcmp(item, "PostSync") == 0)
		c->bits |= HOOK_POSTSYNC;
	else if (strcmp(item, "SyncFail") == 0)
		c->bits |= HOOK_SYNCFAIL;
	else if (strcmp(item, "Skip") == 0)
		c->bits |= HOOK_SKIP;
	else if (strcmp(item, "PreDelete") == 0 || strcmp(item, "PostDelete") == 0)
		c->bits |= HOOK_DELETE_ONLY;
	else
		return cairn_error_set(CAIRN_EINVAL,
		                       "unknown hook '%s' in annotation " ANN_HOOK
		                       " of %s (expected "
		                       "PreSync, Sync, PostSync, SyncFail or Skip)",
		                       item, c->what);
	return 0;
}

static int delete_policy_item(const char *item, void *ud)
{
	struct item_ctx *c = ud;

	if (strcmp(item, "HookSucceeded") == 0)
		c->bits |= CAIRN_HOOK_DELETE_SUCCEEDED;
	else if (strcmp(item, "HookFailed") == 0)
		c->bits |= CAIRN_HOOK_DELETE_FAILED;
	else if (strcmp(item, "BeforeHookCreation") == 0)
		c->bits |= CAIRN_HOOK_DELETE_BEFORE_CREATION;
	else
		return cairn_error_set(CAIRN_EINVAL,
		                       "unknown hook-delete-policy '%s' on %s (expected "
		                       "HookSucceeded, HookFailed or BeforeHookCreation)",
		                       item, c->what);
	return 0;
}

/* Sync options Argo CD does not know are ignored, as it ignores them. */
static int option_item(const char *item, void *ud)
{
	struct item_ctx *c = ud;

	if (strcmp(item, "Prune=false") == 0)
		c->bits |= CAIRN_SYNCOPT_PRUNE_FALSE;
	else if (strcmp(item, "PruneLast=true") == 0)
		c->bits |= CAIRN_SYNCOPT_PRUNE_LAST;
	else if (strcmp(item, "Validate=false") == 0)
		c->bits |= CAIRN_SYNCOPT_VALIDATE_FALSE;
	else if (strcmp(item, "ServerSideApply=true") == 0)
		c->bits |= CAIRN_SYNCOPT_SSA;
	else if (strcmp(item, "Replace=true") == 0)
		c->bits |= CAIRN_SYNCOPT_REPLACE;
	return 0;
}

/*
 * The sync-wave annotation as an int. Argo CD silently reads a bad value
 * as 0; a typo there reorders a deployment without a word, so it is an
 * error here naming the object.
 */
static int parse_wave(int *out, const json_t *obj, const char *what)
{
	const char *v = annotation(obj, ANN_WAVE);
	char *end = NULL;
	long n;

	if (v == NULL) {
		*out = 0;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	/* strtol would skip leading white space: Atoi (Argo CD) does not */
	if (strchr("+-0123456789", v[0]) == NULL || v[0] == '\0' || *end != '\0' || errno != 0 ||
	    n < INT_MIN / 2 || n > INT_MAX / 2)
		return cairn_error_set(CAIRN_EINVAL,
		                       "invalid sync-wave '%s' on %s: expected an integer "
		                       "(annotation " ANN_WAVE ")",
		                       v, what);
	*out = (int)n;
	return 0;
}

/* The growing step array of a plan being built. */
struct builder {
	cairn_plan_step *v;
	size_t n, cap;
	cairn_res_id *unrun; /* desired but never applied (Skip, deletion hooks) */
	size_t nunrun;
};

static cairn_plan_step *push(struct builder *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		cairn_plan_step *v = realloc(b->v, cap * sizeof(*v));

		if (v == NULL) {
			cairn_error_set(CAIRN_ENOMEM, "out of memory");
			return NULL;
		}
		b->v = v;
		b->cap = cap;
	}
	memset(&b->v[b->n], 0, sizeof(b->v[0]));
	return &b->v[b->n++];
}

/*
 * The identity of a desired object. A hook may carry only
 * metadata.generateName (the server picks the name at creation); its id
 * then holds the prefix as its name and *gen is set.
 */
static int desired_id(cairn_res_id *id, int *gen, const json_t *obj, const char *ns, int is_hook)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *gname = json_string_value(json_object_get(meta, "generateName"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	json_t *copy;
	int rc;

	*gen = 0;
	if (!is_hook || (name != NULL && name[0] != '\0') || gname == NULL || gname[0] == '\0')
		return cairn_res_id_of(id, obj, ns);
	copy = json_deep_copy(obj);
	if (copy == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = json_object_set_new(json_object_get(copy, "metadata"), "name", json_string(gname));
	if (rc == 0)
		rc = cairn_res_id_of(id, copy, ns);
	else
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_decref(copy);
	if (rc == 0)
		*gen = 1;
	return rc;
}

/* The live object in `live` with identity `id`, or NULL. */
static json_t *find_live(const json_t *live, const cairn_res_id *id, const char *ns)
{
	size_t i;
	json_t *o;

	json_array_foreach(live, i, o)
	{
		cairn_res_id lid;

		if (cairn_res_id_of(&lid, o, ns) == 0 && cairn_res_id_cmp(&lid, id) == 0)
			return o;
	}
	return NULL;
}

/* The copy of desired `obj` to apply, with the app's tracking written. */
static int tracked_copy(json_t **out, const json_t *obj, const cairn_plan_input *in,
                        const cairn_res_id *id, int gen)
{
	json_t *c = json_deep_copy(obj);
	int rc;

	if (c == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	/* a generateName hook has no name yet, so no id could point at it */
	if (!gen && (rc = cairn_track_set(c, in->app, id, in->track)) < 0) {
		json_decref(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* What one desired object's annotations say. */
struct obj_info {
	cairn_res_id id;
	char what[900];
	unsigned hooks;   /* HOOK_* bits; 0: a normal resource */
	unsigned hdelete; /* CAIRN_HOOK_DELETE_* */
	unsigned options; /* CAIRN_SYNCOPT_* */
	int wave, gen;
};

static int read_info(struct obj_info *info, const json_t *obj, const char *ns)
{
	struct item_ctx c = {info->what, 0};
	const char *hook = annotation(obj, ANN_HOOK);
	int rc;

	memset(info, 0, sizeof(*info));
	c.what = info->what;
	if ((rc = desired_id(&info->id, &info->gen, obj, ns, hook != NULL)) < 0)
		return rc;
	cairn_res_id_format(&info->id, info->what, sizeof(info->what));
	if (hook != NULL) {
		if ((rc = each_item(hook, hook_item, &c)) < 0)
			return rc;
		info->hooks = c.bits;
		if (info->hooks == 0)
			return cairn_error_set(CAIRN_EINVAL, "empty annotation " ANN_HOOK " on %s",
			                       info->what);
		c.bits = 0;
		if ((rc = each_item(annotation(obj, ANN_HOOK_DELETE), delete_policy_item, &c)) < 0)
			return rc;
		info->hdelete = c.bits ? c.bits : CAIRN_HOOK_DELETE_BEFORE_CREATION;
	}
	c.bits = 0;
	(void)each_item(annotation(obj, ANN_OPTIONS), option_item, &c);
	info->options = c.bits;
	return parse_wave(&info->wave, obj, info->what);
}

/* One hook step per phase the hook names. */
static int add_hook_steps(struct builder *b, const struct obj_info *info, const json_t *obj,
                          const cairn_plan_input *in)
{
	for (int ph = CAIRN_PHASE_PRESYNC; ph <= CAIRN_PHASE_SYNCFAIL; ph++) {
		cairn_plan_step *s;
		json_t *live;
		int rc;

		if (!(info->hooks & (1u << ph)))
			continue;
		if ((s = push(b)) == NULL)
			return CAIRN_ENOMEM;
		s->id = info->id;
		s->phase = (cairn_sync_phase)ph;
		s->wave = s->declared_wave = info->wave;
		s->kind_rank = kind_rank(info->id.kind);
		s->action = CAIRN_ACT_HOOK;
		s->hook_delete = info->hdelete;
		s->options = info->options;
		s->generate_name = info->gen;
		live = info->gen ? NULL : find_live(in->live, &info->id, in->dest_namespace);
		s->live = json_incref(live);
		if ((rc = tracked_copy(&s->desired, obj, in, &info->id, info->gen)) < 0)
			return rc;
	}
	return 0;
}

/* The step of a normal (non-hook) desired object in the Sync phase. */
static int add_resource_step(struct builder *b, const struct obj_info *info, const json_t *obj,
                             const cairn_diff *d, const cairn_plan_input *in)
{
	cairn_plan_step *s = push(b);
	json_t *live;

	if (s == NULL)
		return CAIRN_ENOMEM;
	live = find_live(in->live, &info->id, in->dest_namespace);
	s->id = info->id;
	s->phase = CAIRN_PHASE_SYNC;
	s->wave = s->declared_wave = info->wave;
	s->kind_rank = kind_rank(info->id.kind);
	s->options = info->options;
	s->live = json_incref(live);
	if (d != NULL ? d->missing : live == NULL)
		s->action = CAIRN_ACT_CREATE;
	else if (d != NULL && d->equal && in->apply_out_of_sync_only)
		s->action = CAIRN_ACT_NONE;
	else
		s->action = CAIRN_ACT_UPDATE;
	return tracked_copy(&s->desired, obj, in, &info->id, 0);
}

/*
 * Remember a desired object that gets no step: it is still desired, so its
 * live version is no prune candidate (Argo CD leaves it alone too).
 */
static int keep_unrun(struct builder *b, const cairn_res_id *id)
{
	cairn_res_id *v = realloc(b->unrun, (b->nunrun + 1) * sizeof(*v));

	if (v == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	v[b->nunrun++] = *id;
	b->unrun = v;
	return 0;
}

/*
 * Walk the desired set: hooks become hook steps (Skip and the deletion
 * hooks none), other objects one Sync step each. *normal counts the
 * objects that are neither hooks nor skipped (the allowEmpty guard).
 */
static int add_desired(struct builder *b, const cairn_plan_input *in, size_t *normal)
{
	size_t i, first = b->n;
	json_t *obj;

	*normal = 0;
	json_array_foreach(in->desired, i, obj)
	{
		struct obj_info info;
		const cairn_diff *d = in->diffs ? in->diffs[i] : NULL;
		int rc;

		if ((rc = read_info(&info, obj, in->dest_namespace)) < 0)
			return rc;
		if (info.hooks & (HOOK_SKIP | HOOK_DELETE_ONLY)) {
			if ((rc = keep_unrun(b, &info.id)) < 0)
				return rc;
			continue;
		}
		for (size_t k = first; k < b->n; k++)
			if (!info.gen && !b->v[k].generate_name &&
			    cairn_res_id_cmp(&b->v[k].id, &info.id) == 0)
				return cairn_error_set(
				        CAIRN_EINVAL,
				        "duplicate desired object %s in application '%s'",
				        info.what, in->app);
		if (info.hooks != 0) {
			rc = add_hook_steps(b, &info, obj, in);
		} else {
			rc = add_resource_step(b, &info, obj, d, in);
			(*normal)++;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int is_desired(const struct builder *b, size_t ndesired, const cairn_res_id *id)
{
	for (size_t k = 0; k < b->nunrun; k++)
		if (cairn_res_id_cmp(&b->unrun[k], id) == 0)
			return 1;
	for (size_t k = 0; k < ndesired; k++)
		if (b->v[k].desired != NULL && !b->v[k].generate_name &&
		    cairn_res_id_cmp(&b->v[k].id, id) == 0)
			return 1;
	return 0;
}

/*
 * Whether live `id` is desired. A custom kind is taken as namespaced when
 * the desired object had no namespace, so a cluster-scoped live custom
 * object is also looked up with the default namespace: pruning a desired
 * object by that mismatch would be the worst outcome.
 */
static int is_desired_live(const struct builder *b, size_t ndesired, const cairn_res_id *id,
                           const char *ns)
{
	cairn_res_id alt;
	size_t n;

	if (is_desired(b, ndesired, id))
		return 1;
	if (id->ns[0] != '\0' || ns == NULL || (n = strlen(ns)) >= sizeof(alt.ns))
		return 0;
	alt = *id;
	memcpy(alt.ns, ns, n + 1);
	return is_desired(b, ndesired, &alt);
}

/* A rollout-engine object carries the marker as a label or an annotation. */
static int rollout_marked(const json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");

	return json_object_get(json_object_get(meta, "labels"), CAIRN_ROLLOUT_MARKER) != NULL ||
	       json_object_get(json_object_get(meta, "annotations"), CAIRN_ROLLOUT_MARKER) != NULL;
}

/*
 * Prune candidates: live objects tracked to the app that are not desired,
 * are not hooks (hooks are cleaned up by their delete policy, as in
 * gitops-engine) and are not the rollout engine's. *count gets the number
 * of PRUNE (not PRUNE_SKIP) steps.
 */
static int add_prunes(struct builder *b, const cairn_plan_input *in, size_t ndesired, size_t *count)
{
	size_t i;
	json_t *o;

	*count = 0;
	json_array_foreach(in->live, i, o)
	{
		struct item_ctx c = {"", 0};
		cairn_plan_step *s;
		cairn_res_id id;
		char what[900];
		int wave, rc;

		if (cairn_track_owned(o, in->app, in->track) != 1 || rollout_marked(o) ||
		    annotation(o, ANN_HOOK) != NULL)
			continue;
		if ((rc = cairn_res_id_of(&id, o, NULL)) < 0)
			return rc;
		if (is_desired_live(b, ndesired, &id, in->dest_namespace))
			continue;
		cairn_res_id_format(&id, what, sizeof(what));
		if ((rc = parse_wave(&wave, o, what)) < 0)
			return rc;
		(void)each_item(annotation(o, ANN_OPTIONS), option_item, &c);
		if ((s = push(b)) == NULL)
			return CAIRN_ENOMEM;
		s->id = id;
		s->phase = CAIRN_PHASE_SYNC;
		s->wave = s->declared_wave = wave;
		s->kind_rank = kind_rank(id.kind);
		s->options = c.bits;
		s->prune_last = in->prune_last || (c.bits & CAIRN_SYNCOPT_PRUNE_LAST);
		s->live = json_incref(o);
		if (!in->prune || (c.bits & CAIRN_SYNCOPT_PRUNE_FALSE)) {
			s->action = CAIRN_ACT_PRUNE_SKIP;
		} else {
			s->action = CAIRN_ACT_PRUNE;
			(*count)++;
		}
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int is_prune(const cairn_plan_step *s)
{
	return s->action == CAIRN_ACT_PRUNE || s->action == CAIRN_ACT_PRUNE_SKIP;
}

/*
 * Deletion runs in the reverse of creation order: gitops-engine swaps the
 * distinct prune waves symmetrically (lowest <-> highest), then moves
 * PruneLast prunes to one past the Sync phase's last wave (never below 1).
 */
static int assign_prune_waves(struct builder *b, size_t from)
{
	size_t n = 0, u = 0;
	int *w, last = 0;

	if (b->n == from)
		return 0;
	if ((w = malloc((b->n - from) * sizeof(*w))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t k = from; k < b->n; k++)
		w[n++] = b->v[k].declared_wave;
	qsort(w, n, sizeof(*w), cmp_int);
	for (size_t k = 0; k < n; k++)
		if (u == 0 || w[u - 1] != w[k])
			w[u++] = w[k];
	for (size_t k = from; k < b->n; k++)
		for (size_t j = 0; j < u; j++)
			if (w[j] == b->v[k].declared_wave) {
				b->v[k].wave = w[u - 1 - j];
				break;
			}
	free(w);
	for (size_t k = 0; k < b->n; k++)
		if (b->v[k].phase == CAIRN_PHASE_SYNC && b->v[k].wave > last)
			last = b->v[k].wave;
	for (size_t k = from; k < b->n; k++)
		if (b->v[k].prune_last)
			b->v[k].wave = last + 1;
	return 0;
}

/* Execution order; within a wave deletions first, as gitops-engine runs them. */
static int step_cmp(const void *pa, const void *pb)
{
	const cairn_plan_step *a = pa, *b = pb;
	int d;

	if (a->phase != b->phase)
		return a->phase < b->phase ? -1 : 1;
	if (a->wave != b->wave)
		return a->wave < b->wave ? -1 : 1;
	if ((d = is_prune(b) - is_prune(a)) != 0)
		return d;
	if (a->kind_rank != b->kind_rank)
		return a->kind_rank < b->kind_rank ? -1 : 1;
	if ((d = strcmp(a->id.name, b->id.name)) != 0)
		return d;
	if ((d = cairn_res_id_cmp(&a->id, &b->id)) != 0)
		return d;
	return a->generate_name - b->generate_name;
}

/* The CreateNamespace step, first of all, when the namespace is not live. */
static int add_namespace(struct builder *b, const cairn_plan_input *in)
{
	cairn_plan_step *s;
	cairn_res_id id = {"", "Namespace", "", ""};
	size_t n = strlen(in->dest_namespace);
	int wave = 0;

	if (n >= sizeof(id.name))
		return cairn_error_set(CAIRN_EINVAL, "namespace '%s' is too long",
		                       in->dest_namespace);
	memcpy(id.name, in->dest_namespace, n + 1);
	if (find_live(in->live, &id, NULL) != NULL || is_desired(b, b->n, &id))
		return 0;
	for (size_t k = 0; k < b->n; k++)
		if (b->v[k].phase == CAIRN_PHASE_PRESYNC && b->v[k].wave < wave)
			wave = b->v[k].wave;
	if ((s = push(b)) == NULL)
		return CAIRN_ENOMEM;
	memmove(b->v + 1, b->v, (b->n - 1) * sizeof(*b->v));
	s = &b->v[0];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->phase = CAIRN_PHASE_PRESYNC;
	s->wave = s->declared_wave = wave;
	s->kind_rank = 0;
	s->action = CAIRN_ACT_CREATE;
	s->desired = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
	                       "metadata", "name", in->dest_namespace);
	if (s->desired == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

static int check_input(const cairn_plan_input *in)
{
	if (in == NULL || in->app == NULL || in->app[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "sync plan needs an application name");
	if (!json_is_array(in->desired))
		return cairn_error_set(CAIRN_EINVAL,
		                       "desired objects of application '%s' are not an array",
		                       in->app);
	if (in->live != NULL && !json_is_array(in->live))
		return cairn_error_set(
		        CAIRN_EINVAL, "live objects of application '%s' are not an array", in->app);
	if (in->create_namespace && (in->dest_namespace == NULL || in->dest_namespace[0] == '\0'))
		return cairn_error_set(CAIRN_EINVAL,
		                       "CreateNamespace=true needs a destination namespace "
		                       "(application '%s')",
		                       in->app);
	return 0;
}

int cairn_sync_plan(cairn_plan **out, const cairn_plan_input *in)
{
	struct builder b = {NULL, 0, 0, NULL, 0};
	cairn_plan *p = NULL;
	size_t normal = 0, ndesired, nprune = 0;
	int rc;

	if ((rc = check_input(in)) < 0)
		return rc;
	if ((rc = add_desired(&b, in, &normal)) < 0)
		goto out;
	ndesired = b.n;
	if ((rc = add_prunes(&b, in, ndesired, &nprune)) < 0)
		goto out;
	if (normal == 0 && nprune > 0 && !in->allow_empty) {
		rc = cairn_error_set(CAIRN_EPERM,
		                     "refusing to prune all %zu objects of application '%s': the "
		                     "desired set is empty (set allowEmpty to allow it)",
		                     nprune, in->app);
		goto out;
	}
	if ((rc = assign_prune_waves(&b, ndesired)) < 0)
		goto out;
	if (b.n > 1)
		qsort(b.v, b.n, sizeof(*b.v), step_cmp);
	if (in->create_namespace && (rc = add_namespace(&b, in)) < 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	p->v = b.v;
	p->n = b.n;
	b.v = NULL;
	b.n = 0;
	*out = p;
	rc = 0;
out:
	for (size_t k = 0; k < b.n; k++) {
		json_decref(b.v[k].desired);
		json_decref(b.v[k].live);
	}
	free(b.v);
	free(b.unrun);
	return rc;
}
