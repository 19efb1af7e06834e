/*
 * src/sim/workload.c - the workload controller's thread, settings, failure
 * rules, the /admin/workloads endpoint, the helpers the controllers share
 * and the Pod lifecycle (the kubelet's part, as kwok fakes it).
 *
 * Timing lives in memory: the controller notes when it first saw each Pod
 * (and each LoadBalancer Service, Job), because creationTimestamp has whole
 * seconds only and a one-second ready delay needs better.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/json.h"

#include "objects.h"
#include "server_internal.h"
#include "workload.h"

#define WL_TICK_MS 100
#define WL_MANAGER "kube-controller-manager"

static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

void sim_workloads_cfg_default(struct sim_wl_cfg *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->pod_ready_ms = 1000;
	cfg->lb_delay_ms = 1000;
	cfg->time_scale = 1.0;
}

static int mode_of(const char *s)
{
	if (!strcmp(s, "crashloop"))
		return SIM_WL_CRASHLOOP;
	if (!strcmp(s, "imagepull"))
		return SIM_WL_IMAGEPULL;
	if (!strcmp(s, "fail"))
		return SIM_WL_FAIL;
	if (!strcmp(s, "ok"))
		return SIM_WL_OK;
	return -1;
}

static const char *mode_name(int m)
{
	static const char *const names[] = {"ok", "crashloop", "imagepull", "fail"};
	return m >= 0 && m <= SIM_WL_FAIL ? names[m] : "ok";
}

static int parse_rules(struct sim_wl_cfg *c, const json_t *rules)
{
	json_t *r;
	size_t i;

	if (!json_is_array(rules))
		return cairn_error_set(CAIRN_EINVAL, "'rules' must be an array");
	if (json_array_size(rules) > SIM_WL_MAX_RULES)
		return cairn_error_set(CAIRN_ELIMIT, "too many rules: %zu (at most %d)",
		                       json_array_size(rules), SIM_WL_MAX_RULES);
	c->nrules = 0;
	json_array_foreach(rules, i, r)
	{
		const char *img = json_string_value(json_object_get(r, "image"));
		const char *mode = json_string_value(json_object_get(r, "mode"));
		struct sim_wl_rule *out = &c->rules[c->nrules];
		if (!img || !*img || strlen(img) >= sizeof out->image)
			return cairn_error_set(CAIRN_EINVAL,
			                       "rule %zu: 'image' must be a glob of 1 to 255 bytes",
			                       i);
		if (!mode || mode_of(mode) < 0)
			return cairn_error_set(CAIRN_EINVAL,
			                       "rule %zu: unknown mode '%s' (crashloop, imagepull, "
			                       "fail or ok)",
			                       i, mode ? mode : "");
		memcpy(out->image, img, strlen(img) + 1);
		out->mode = mode_of(mode);
		c->nrules++;
	}
	return 0;
}

static int parse_ms(const json_t *doc, const char *key, int *out)
{
	json_t *v = json_object_get(doc, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 24 * 3600 * 1000)
		return cairn_error_set(
		        CAIRN_EINVAL, "'%s' must be a number of milliseconds (0 to 86400000)", key);
	*out = (int)json_integer_value(v);
	return 0;
}

int sim_workloads_parse(struct sim_wl_cfg *cfg, const char *json, size_t len)
{
	struct sim_wl_cfg c = *cfg;
	json_t *doc = NULL, *v;
	int rc;

	rc = cairn_json_parse(&doc, json, len, NULL);
	if (rc)
		goto out;
	if (!json_is_object(doc)) {
		rc = cairn_error_set(CAIRN_EINVAL, "workload settings must be a JSON object");
		goto out;
	}
	if ((v = json_object_get(doc, "rules")) && (rc = parse_rules(&c, v)))
		goto out;
	if ((rc = parse_ms(doc, "podReadyDelayMs", &c.pod_ready_ms)) ||
	    (rc = parse_ms(doc, "loadBalancerDelayMs", &c.lb_delay_ms)))
		goto out;
	if ((v = json_object_get(doc, "timeScale"))) {
		if (!json_is_number(v) || json_number_value(v) < 0.001 ||
		    json_number_value(v) > 1e6) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "'timeScale' must be a number from 0.001 to 1000000");
			goto out;
		}
		c.time_scale = json_number_value(v);
	}
	*cfg = c;
out:
	json_decref(doc);
	return rc;
}

static int duration_ms(const char *flag, const char *value, int *out)
{
	int64_t ns;

	if (cairn_duration_parse(&ns, value) || ns < 0 || ns > (int64_t)86400 * 1000000000)
		return cairn_error_set(CAIRN_EINVAL,
		                       "%s wants a duration from 0s to 24h (e.g. '1s'), not '%s'",
		                       flag, value);
	*out = (int)(ns / 1000000);
	return 0;
}

int sim_workloads_flag(struct sim_wl_cfg *cfg, const char *flag, const char *value)
{
	if (!strcmp(flag, "--pod-ready-delay"))
		return duration_ms(flag, value, &cfg->pod_ready_ms);
	if (!strcmp(flag, "--lb-delay"))
		return duration_ms(flag, value, &cfg->lb_delay_ms);
	if (!strcmp(flag, "--workloads"))
		return sim_workloads_parse(cfg, value, strlen(value));
	if (!strcmp(flag, "--time-scale")) {
		char *end;
		double x = strtod(value, &end);
		if (*end || end == value || x < 0.001 || x > 1e6)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "--time-scale wants a number from 0.001 to 1000000, not "
			        "'%s'",
			        value);
		cfg->time_scale = x;
		return 0;
	}
	if (!strcmp(flag, "--fail-rule")) {
		const char *eq = strrchr(value, '=');
		struct sim_wl_rule *r = &cfg->rules[cfg->nrules];
		size_t n = eq ? (size_t)(eq - value) : 0;
		if (!eq || n == 0 || n >= sizeof r->image || mode_of(eq + 1) < 0)
			return cairn_error_set(CAIRN_EINVAL,
			                       "--fail-rule wants IMAGE-GLOB=MODE (MODE crashloop, "
			                       "imagepull, fail or ok), not '%s'",
			                       value);
		if (cfg->nrules >= SIM_WL_MAX_RULES)
			return cairn_error_set(CAIRN_ELIMIT,
			                       "too many --fail-rule flags (at most %d)",
			                       SIM_WL_MAX_RULES);
		memcpy(r->image, value, n);
		r->image[n] = '\0';
		r->mode = mode_of(eq + 1);
		cfg->nrules++;
		return 0;
	}
	return cairn_error_set(CAIRN_EINVAL, "unknown workload flag '%s'", flag);
}

static json_t *cfg_json(const struct sim_wl_cfg *c)
{
	json_t *rules = json_array();

	for (size_t i = 0; i < c->nrules; i++)
		json_array_append_new(rules, json_pack("{ssss}", "image", c->rules[i].image, "mode",
		                                       mode_name(c->rules[i].mode)));
	return json_pack("{sosisisf}", "rules", rules, "podReadyDelayMs", c->pod_ready_ms,
	                 "loadBalancerDelayMs", c->lb_delay_ms, "timeScale", c->time_scale);
}

void sim_workloads_admin(sim_workloads *w, const char *method, const char *body, size_t len,
                         sim_http_reply *reply)
{
	struct sim_wl_cfg c;
	json_t *j;
	char *s;

	if (!w) {
		sim_reply_status(reply, 404, "NotFound", "workload controller not running", NULL,
		                 NULL, NULL);
		return;
	}
	pthread_mutex_lock(&w->mu);
	c = w->cfg;
	pthread_mutex_unlock(&w->mu);
	if (!strcmp(method, "PUT") || !strcmp(method, "POST")) {
		if (sim_workloads_parse(&c, body, len)) {
			sim_reply_status(reply, 400, "BadRequest", cairn_error_last()->message,
			                 NULL, NULL, NULL);
			return;
		}
		pthread_mutex_lock(&w->mu);
		w->cfg = c;
		pthread_mutex_unlock(&w->mu);
	} else if (strcmp(method, "GET")) {
		sim_reply_status(reply, 405, "MethodNotAllowed", "use GET, PUT or POST", NULL, NULL,
		                 NULL);
		return;
	}
	j = cfg_json(&c);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	reply->status = s ? 200 : 500;
	reply->content_type = "application/json";
	if (s)
		cairn_buf_puts(&reply->body, s);
	free(s);
	json_decref(j);
}

/* ---- helpers ---- */

const char *sim_wl__name(const json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

const char *sim_wl__ns(const json_t *obj)
{
	const char *s =
	        json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	return s ? s : "";
}

const char *sim_wl__uid(const json_t *obj)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
	return s ? s : "";
}

json_int_t sim_wl__int(const json_t *obj, const char *a, const char *b, json_int_t dflt)
{
	json_t *v = json_object_get(json_object_get(obj, a), b);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

void sim_wl__ts(sim_workloads *w, char out[CAIRN_TIME_RFC3339_LEN])
{
	sim_time_format(out, w->now);
}

int sim_wl__update(sim_workloads *w, const char *group, const char *plural, json_t *obj,
                   const json_t *old)
{
	sim_key k = {group, plural, sim_wl__ns(obj), sim_wl__name(obj)};
	char ts[CAIRN_TIME_RFC3339_LEN];

	sim_wl__ts(w, ts);
	sim_managed_update(obj, old, WL_MANAGER, ts);
	return sim_store_update(w->srv->store, &k, obj);
}

int sim_wl__create(sim_workloads *w, const char *group, const char *plural, json_t *obj)
{
	sim_key k = {group, plural, sim_wl__ns(obj), sim_wl__name(obj)};
	char ts[CAIRN_TIME_RFC3339_LEN];

	sim_default(obj);
	sim_wl__ts(w, ts);
	sim_managed_update(obj, NULL, WL_MANAGER, ts);
	return sim_store_create(w->srv->store, &k, obj);
}

void sim_wl__delete(sim_workloads *w, const char *group, const char *plural, const json_t *obj)
{
	sim_key k = {group, plural, sim_wl__ns(obj), sim_wl__name(obj)};
	sim_gc_delete(w->srv, &k, "Background", NULL, NULL);
}

cairn_usec sim_wl__first_seen(sim_workloads *w, const char *uid, const char *purpose)
{
	char key[160];
	json_t *v;

	snprintf(key, sizeof key, "%s/%s", uid, purpose);
	v = json_object_get(w->seen, key);
	if (v)
		return (cairn_usec)json_integer_value(v);
	json_object_set_new(w->seen, key, json_integer(w->now));
	return w->now;
}

static uint64_t next_rand(sim_workloads *w)
{
	uint64_t z = (w->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void sim_wl__rand5(sim_workloads *w, char out[6])
{
	uint64_t r = next_rand(w);

	for (int i = 0; i < 5; i++, r /= 27)
		out[i] = safe_alphabet[r % 27];
	out[5] = '\0';
}

void sim_wl__hash(const json_t *v, long collision, char out[16])
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	uint32_t h = 2166136261u;
	char dec[16];

	cairn_json_canonical(&b, v);
	for (size_t i = 0; i < b.len; i++)
		h = (h ^ (uint8_t)b.ptr[i]) * 16777619u;
	if (collision >= 0) {
		/* Eight bytes, the count little-endian in the first four. */
		uint8_t cb[8] = {(uint8_t)collision, (uint8_t)(collision >> 8),
		                 (uint8_t)(collision >> 16), (uint8_t)(collision >> 24)};
		for (size_t i = 0; i < 8; i++)
			h = (h ^ cb[i]) * 16777619u;
	}
	cairn_buf_dispose(&b);
	snprintf(dec, sizeof dec, "%u", h);
	for (size_t i = 0; dec[i]; i++)
		out[i] = safe_alphabet[(unsigned char)dec[i] % 27];
	out[strlen(dec)] = '\0';
}

int sim_wl__mode(sim_workloads *w, const json_t *podspec)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(podspec, "containers"), i, c)
	{
		const char *img = json_string_value(json_object_get(c, "image"));
		for (size_t r = 0; img && r < w->tick_cfg.nrules; r++)
			if (fnmatch(w->tick_cfg.rules[r].image, img, 0) == 0)
				return w->tick_cfg.rules[r].mode;
	}
	return SIM_WL_OK;
}

const char *sim_wl__owner_uid(const json_t *obj)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i,
	                   o)
	{
		if (json_is_true(json_object_get(o, "controller")))
			return json_string_value(json_object_get(o, "uid"));
	}
	return NULL;
}

json_t *sim_wl__by_owner(const json_t *objs)
{
	json_t *m = json_object(), *o;
	size_t i;

	json_array_foreach(objs, i, o)
	{
		const char *uid = sim_wl__owner_uid(o);
		json_t *a;
		if (!uid)
			continue;
		a = json_object_get(m, uid);
		if (!a) {
			a = json_array();
			json_object_set_new(m, uid, a);
		}
		json_array_append(a, o);
	}
	return m;
}

static int expr_match(const json_t *e, const json_t *labels)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *op = json_string_value(json_object_get(e, "operator"));
	const char *have = json_string_value(json_object_get(labels, key ? key : ""));
	json_t *v;
	size_t i;
	int in = 0;

	if (!key || !op)
		return 0;
	json_array_foreach(json_object_get(e, "values"), i, v)
	{
		if (have && json_is_string(v) && !strcmp(json_string_value(v), have))
			in = 1;
	}
	if (!strcmp(op, "In"))
		return in;
	if (!strcmp(op, "NotIn"))
		return !in;
	if (!strcmp(op, "Exists"))
		return have != NULL;
	if (!strcmp(op, "DoesNotExist"))
		return have == NULL;
	return 0;
}

int sim_wl__selector_match(const json_t *sel, const json_t *labels)
{
	const char *k;
	json_t *v, *ml = json_object_get(sel, "matchLabels");
	size_t i;

	if (!json_is_object(sel) ||
	    (!json_object_size(ml) && !json_array_size(json_object_get(sel, "matchExpressions"))))
		return 0; /* an empty selector selects nothing for controllers */
	json_object_foreach(ml, k, v)
	{
		const char *have = json_string_value(json_object_get(labels, k));
		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
			return 0;
	}
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, v)
	{
		if (!expr_match(v, labels))
			return 0;
	}
	return 1;
}

int sim_wl__make_pod(sim_workloads *w, const json_t *owner, const char *api_version,
                     const char *kind, const json_t *tmpl, const char *name,
                     const json_t *extra_labels)
{
	json_t *pod, *meta, *tm = json_object_get(tmpl, "metadata"), *labels;
	char gen[300];
	int rc;

	labels = json_deep_copy(json_object_get(tm, "labels"));
	if (!labels)
		labels = json_object();
	if (extra_labels)
		json_object_update(labels, (json_t *)extra_labels);
	snprintf(gen, sizeof gen, "%s-", sim_wl__name(owner));
	meta = json_pack("{sssssssos[{sssssssssbsb}]}", "name", name, "generateName", gen,
	                 "namespace", sim_wl__ns(owner), "labels", labels, "ownerReferences",
	                 "apiVersion", api_version, "kind", kind, "name", sim_wl__name(owner),
	                 "uid", sim_wl__uid(owner), "controller", 1, "blockOwnerDeletion", 1);
	if (json_object_get(tm, "annotations"))
		json_object_set_new(meta, "annotations",
		                    json_deep_copy(json_object_get(tm, "annotations")));
	pod = json_pack("{sssssosO}", "apiVersion", "v1", "kind", "Pod", "metadata", meta, "spec",
	                json_object_get(tmpl, "spec"));
	if (!pod)
		return CAIRN_ENOMEM;
	json_object_set_new(pod, "status",
	                    json_pack("{ssss}", "phase", "Pending", "qosClass", "BestEffort"));
	rc = sim_wl__create(w, "", "pods", pod);
	json_decref(pod);
	return rc;
}

int sim_wl__pod_ready(const json_t *pod)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t && s && !strcmp(t, "Ready"))
			return !strcmp(s, "True");
	}
	return 0;
}

int sim_wl__pod_active(const json_t *pod)
{
	const char *ph =
	        json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));

	if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
		return 0;
	return !ph || (strcmp(ph, "Succeeded") && strcmp(ph, "Failed"));
}

/* ---- the Pod lifecycle ---- */

/* What a Pod should look like now: the phase, readiness, restarts and the
 * container state, derived from its age and its rule. */
struct pod_state {
	const char *phase;
	int ready;
	long restarts;
	const char *waiting;    /* waiting reason, or NULL */
	const char *terminated; /* terminated reason, or NULL */
	int exit_code;
};

static void pod_state_of(sim_workloads *w, const json_t *pod, struct pod_state *s)
{
	const json_t *spec = json_object_get(pod, "spec");
	const char *rp = json_string_value(json_object_get(spec, "restartPolicy"));
	int restart_always = !rp || !strcmp(rp, "Always");
	int mode = sim_wl__mode(w, spec);
	cairn_usec delay = (cairn_usec)w->tick_cfg.pod_ready_ms * 1000;
	cairn_usec age = w->now - sim_wl__first_seen(w, sim_wl__uid(pod), "pod");

	memset(s, 0, sizeof *s);
	s->phase = "Pending";
	s->waiting = "ContainerCreating";
	if (age < delay) {
		sim_wl__due(w, w->now - age + delay);
		return;
	}
	if (mode == SIM_WL_IMAGEPULL) {
		s->waiting = "ImagePullBackOff";
		return;
	}
	s->waiting = NULL;
	s->phase = "Running";
	if (mode == SIM_WL_OK) {
		s->ready = restart_always;
		if (!restart_always && age >= 2 * delay) {
			s->phase = "Succeeded";
			s->terminated = "Completed";
		} else if (!restart_always) {
			sim_wl__due(w, w->now - age + 2 * delay);
		}
		return;
	}
	if (!restart_always) {
		s->phase = "Failed";
		s->terminated = "Error";
		s->exit_code = 1;
		return;
	}
	/* A container that keeps exiting: one restart per delay (at least 1 s). */
	s->waiting = "CrashLoopBackOff";
	s->restarts = 1 + (long)((age - delay) / (delay > 1000000 ? delay : 1000000));
	sim_wl__due(w, w->now + (delay > 1000000 ? delay : 1000000));
}

static json_t *condition(const char *type, int ok, const char *ts, const char *reason)
{
	json_t *c = json_pack("{sssssnss}", "type", type, "status", ok ? "True" : "False",
	                      "lastProbeTime", "lastTransitionTime", ts);
	if (!ok && reason)
		json_object_set_new(c, "reason", json_string(reason));
	return c;
}

static json_t *container_statuses(const json_t *pod, const struct pod_state *s, const char *ts)
{
	json_t *out = json_array(), *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *img = json_string_value(json_object_get(c, "image"));
		json_t *st = json_object(), *cs;
		if (s->waiting && !strcmp(s->waiting, "CrashLoopBackOff")) {
			char msg[300];
			snprintf(msg, sizeof msg,
			         "back-off 10s restarting failed container=%s pod=%s_%s",
			         name ? name : "", sim_wl__name(pod), sim_wl__ns(pod));
			json_object_set_new(
			        st, "waiting",
			        json_pack("{ssss}", "reason", s->waiting, "message", msg));
		} else if (s->waiting) {
			json_object_set_new(st, "waiting", json_pack("{ss}", "reason", s->waiting));
		} else if (s->terminated) {
			json_object_set_new(st, "terminated",
			                    json_pack("{sissssssss}", "exitCode", s->exit_code,
			                              "reason", s->terminated, "startedAt", ts,
			                              "finishedAt", ts, "containerID",
			                              "containerd://sim"));
		} else {
			json_object_set_new(st, "running", json_pack("{ss}", "startedAt", ts));
		}
		cs = json_pack("{sssssssosbsbsIso}", "name", name ? name : "", "image",
		               img ? img : "", "imageID", img ? img : "", "state", st, "ready",
		               s->ready, "started", !s->waiting && !s->terminated, "restartCount",
		               (json_int_t)s->restarts, "lastState", json_object());
		if (s->restarts)
			json_object_set_new(json_object_get(cs, "lastState"), "terminated",
			                    json_pack("{sissssss}", "exitCode", 1, "reason",
			                              "Error", "startedAt", ts, "finishedAt", ts));
		json_array_append_new(out, cs);
	}
	return out;
}

static int same_state(const json_t *pod, const struct pod_state *s)
{
	json_t *st = json_object_get(pod, "status");
	json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
	const char *ph = json_string_value(json_object_get(st, "phase"));
	json_t *state = json_object_get(cs, "state");
	const char *wr =
	        json_string_value(json_object_get(json_object_get(state, "waiting"), "reason"));

	if (!ph || strcmp(ph, s->phase) || sim_wl__pod_ready(pod) != s->ready)
		return 0;
	if (!cs)
		return json_array_size(
		               json_object_get(json_object_get(pod, "spec"), "containers")) == 0;
	if (json_integer_value(json_object_get(cs, "restartCount")) != s->restarts)
		return 0;
	if (!!wr != !!s->waiting || (wr && strcmp(wr, s->waiting)))
		return 0;
	return s->terminated ? json_object_get(state, "terminated") != NULL : 1;
}

/* A Pod's IP from its uid: stable and spread over 10.244.0.0/16. */
static void pod_ip(const json_t *pod, char out[32])
{
	const char *uid = sim_wl__uid(pod);
	uint32_t h = 2166136261u;

	for (; *uid; uid++)
		h = (h ^ (uint8_t)*uid) * 16777619u;
	snprintf(out, 32, "10.244.%u.%u", (h >> 8) % 256, 1 + h % 254);
}

static void pod_sync(sim_workloads *w, json_t *pod)
{
	struct pod_state s;
	json_t *old, *st, *conds, *spec = json_object_get(pod, "spec");
	char ts[CAIRN_TIME_RFC3339_LEN], ip[32];
	const char *start;
	int running;

	if (!sim_wl__pod_active(pod))
		return;
	pod_state_of(w, pod, &s);
	if (same_state(pod, &s))
		return;
	old = json_deep_copy(pod);
	sim_wl__ts(w, ts);
	running = strcmp(s.phase, "Pending") != 0;
	if (!json_object_get(spec, "nodeName"))
		json_object_set_new(spec, "nodeName", json_string("cairn-sim-node"));
	st = json_object_get(pod, "status");
	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(pod, "status", st);
	}
	start = json_string_value(json_object_get(st, "startTime"));
	pod_ip(pod, ip);
	conds = json_array();
	json_array_append_new(conds, condition("Initialized", 1, ts, NULL));
	json_array_append_new(conds, condition("Ready", s.ready, ts, "ContainersNotReady"));
	json_array_append_new(conds,
	                      condition("ContainersReady", s.ready, ts, "ContainersNotReady"));
	json_array_append_new(conds, condition("PodScheduled", 1, ts, NULL));
	json_object_set_new(st, "phase", json_string(s.phase));
	json_object_set_new(st, "conditions", conds);
	json_object_set_new(st, "hostIP", json_string("172.18.0.2"));
	json_object_set_new(st, "hostIPs", json_pack("[{ss}]", "ip", "172.18.0.2"));
	if (running) {
		json_object_set_new(st, "podIP", json_string(ip));
		json_object_set_new(st, "podIPs", json_pack("[{ss}]", "ip", ip));
	}
	json_object_set_new(st, "startTime", json_string(start ? start : ts));
	json_object_set_new(st, "containerStatuses", container_statuses(pod, &s, ts));
	sim_wl__update(w, "", "pods", pod, old);
	json_decref(old);
}

void sim_wl__pods(sim_workloads *w, json_t *pods)
{
	json_t *p;
	size_t i;

	json_array_foreach(pods, i, p)
	{
		w->cur = sim_wl__uid(p);
		pod_sync(w, p);
	}
	w->cur = NULL;
}

/* Forget first-seen times of objects that are gone (every 50 ticks). */
static void prune_seen(sim_workloads *w)
{
	json_t *live = json_object(), *kept = json_object(), *a, *o;
	const char *k;
	json_t *v;
	size_t i;
	static const char *const kinds[][2] = {{"", "pods"}, {"", "services"}, {"batch", "jobs"}};

	for (size_t n = 0; n < 3; n++) {
		a = sim_wl__list(w, kinds[n][0], kinds[n][1]);
		json_array_foreach(a, i, o) json_object_set_new(live, sim_wl__uid(o), json_true());
		json_decref(a);
	}
	json_object_foreach(w->seen, k, v)
	{
		char uid[128];
		size_t n = strcspn(k, "/");
		snprintf(uid, sizeof uid, "%.*s", (int)(n < 127 ? n : 127), k);
		if (json_object_get(live, uid))
			json_object_set(kept, k, v);
	}
	json_decref(w->seen);
	w->seen = kept;
	json_decref(live);
}

/* A pass is skipped when nothing was written since the last one began, no
 * mark is left over, no timer is due and the settings did not change. A pass
 * reconciles only what is dirty (workload_index.c): Pods first, then their
 * owners up the chain. The pass's own writes count as changes for the next
 * one (last_rv is the version at its start): a Pod a ReplicaSet created, or
 * a ReplicaSet that turned available, is read and acted on 100 ms later,
 * not when the next timer happens to fire (a rolling Deployment's deadline
 * check, once a second), which made each step of a rollout take a second. */
static void tick(sim_workloads *w)
{
	json_t *pods, *by_owner;
	uint64_t rv;

	w->now = cairn_time_now();
	rv = sim_store_rv(w->srv->store);
	if (!w->ticks || memcmp(&w->tick_cfg, &w->last_cfg, sizeof w->tick_cfg))
		w->full = 1;
	if (!w->full && rv == w->last_rv && w->now < w->next_due && json_object_size(w->dirty) == 0)
		return;
	w->last_cfg = w->tick_cfg;
	sim_wl__timers_fire(w);
	pods = sim_wl__work(w, "", "pods");
	sim_wl__pods(w, pods);
	json_decref(pods);
	sim_wl__deployments(w);
	/* Cached state, refreshed: the lifecycle above changed readiness. */
	pods = sim_wl__list(w, "", "pods");
	by_owner = sim_wl__by_owner(pods);
	sim_wl__replicasets(w, by_owner);
	sim_wl__statefulsets(w, by_owner);
	sim_wl__daemonsets(w, by_owner);
	sim_wl__jobs(w, by_owner);
	sim_wl__services(w, pods);
	json_decref(by_owner);
	json_decref(pods);
	sim_wl__pass_end(w);
	if (++w->ticks % 50 == 0)
		prune_seen(w);
	w->last_rv = rv;
}

static void *run(void *arg)
{
	sim_workloads *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;
		w->tick_cfg = w->cfg;
		pthread_mutex_unlock(&w->mu);
		tick(w);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WL_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&w->mu);
		if (!w->stop)
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int sim_workloads_start(sim_workloads **out, sim_server *srv, const struct sim_wl_cfg *cfg)
{
	sim_workloads *w = calloc(1, sizeof *w);

	if (!w)
		return cairn_error_set(CAIRN_ENOMEM,
		                       "out of memory starting the workload controller");
	w->srv = srv;
	w->cfg = *cfg;
	w->seen = json_object();
	w->rng = (uint64_t)cairn_time_now() ^ (uint64_t)(uintptr_t)w;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, run, w)) {
		sim_workloads_stop(w);
		return cairn_error_set(CAIRN_EIO, "cannot start the workload controller thread");
	}
	w->started = 1;
	*out = w;
	return 0;
}

void sim_workloads_stop(sim_workloads *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	sim_wl__index_free(w);
	json_decref(w->seen);
	free(w);
}
