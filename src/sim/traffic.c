/*
 * traffic.c - the simulator's traffic model: request rates per Service,
 * split among the ready Pods each Service selects (replica-ratio traffic),
 * answered with the error ratio and latency distribution of the first rule
 * matching the Pod (by image glob or pod-template-hash glob).
 *
 * Nothing runs in the background. Each read of the counters integrates
 * rate x elapsed time since the previous read over the topology seen now,
 * so errors are exactly requests x ratio and a Prometheus rate() ratio is
 * the configured one. Latency is log-normal, given by its median and 99th
 * percentile; histogram buckets receive requests x CDF(bound).
 */
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/json.h"

#include "api_internal.h"
#include "traffic.h"

#define CT_JSON "application/json"
#define MAX_BODY 65536
#define MAX_RULES 64
#define MAX_SERVICES 10000
#define MAX_SERIES 200000
#define MAX_RPS 1e6
#define RPS_ANNOTATION "sim.cairn.dev/rps"
#define Z99 2.3263478740408408 /* the standard normal's 99th percentile */

static const double bounds[SIM_TRAFFIC_NBUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10};

struct rule {
	char image[256]; /* glob over a container's image reference, "" = any */
	char hash[128];  /* glob over the pod-template-hash label, "" = any */
	double error_ratio;
	double p50_ms, p99_ms;
	int code;
};

struct cfg {
	double default_rps;
	json_t *services; /* "ns/name" -> rps (real) */
	struct rule rules[MAX_RULES];
	size_t nrules;
};

struct sim_traffic {
	pthread_mutex_t lock;
	sim_store *st;
	struct cfg cur, start;
	sim_traffic_series *series; /* sorted by (ns, service, pod, uid) */
	size_t nseries;
	cairn_usec last; /* time of the previous read; 0 = none yet */
};

const double *sim_traffic_bounds(void)
{
	return bounds;
}

static void rule_default(struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->p50_ms = 20;
	r->p99_ms = 100;
	r->code = 500;
}

static int cfg_copy(struct cfg *dst, const struct cfg *src)
{
	json_t *s = json_deep_copy(src->services);

	if (!s)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory copying the traffic settings");
	*dst = *src;
	dst->services = s;
	return 0;
}

int sim_traffic_new(sim_traffic **out, sim_store *st, double default_rps)
{
	sim_traffic *t;

	if (!(default_rps >= 0 && default_rps <= MAX_RPS))
		return cairn_error_set(
		        CAIRN_EINVAL, "traffic rate must be from 0 to 1000000 requests per second");
	t = calloc(1, sizeof(*t));
	if (!t || !(t->cur.services = json_object())) {
		free(t);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory creating the traffic model");
	}
	pthread_mutex_init(&t->lock, NULL);
	t->st = st;
	t->cur.default_rps = default_rps;
	if (cfg_copy(&t->start, &t->cur) < 0) {
		sim_traffic_free(t);
		return CAIRN_ENOMEM;
	}
	*out = t;
	return 0;
}

static void series_dispose(sim_traffic_series *s)
{
	free(s->ns);
	free(s->service);
	free(s->workload);
	free(s->replicaset);
	free(s->pod);
	free(s->hash);
	free(s->uid);
}

static void series_free_all(sim_traffic_series *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		series_dispose(&v[i]);
	free(v);
}

void sim_traffic_free(sim_traffic *t)
{
	if (!t)
		return;
	series_free_all(t->series, t->nseries);
	json_decref(t->cur.services);
	json_decref(t->start.services);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- rules ---- */

static int rule_glob(char *dst, size_t cap, const char *key, const json_t *v)
{
	size_t n;

	if (!json_is_string(v) || (n = json_string_length(v)) == 0 || n >= cap)
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "traffic rule '%s' must be a non-empty glob shorter than %zu "
		        "bytes",
		        key, cap);
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

static int rule_number(double *dst, const char *key, const json_t *v, double lo, double hi)
{
	double d;

	if (!json_is_number(v) || !((d = json_number_value(v)) >= lo && d <= hi))
		return cairn_error_set(CAIRN_EINVAL,
		                       "traffic rule '%s' must be a number from %g to %g", key, lo,
		                       hi);
	*dst = d;
	return 0;
}

/* Set one field of a rule from a JSON value (the flag syntax is turned
 * into JSON values first, so both paths share these checks). */
static int rule_set(struct rule *r, const char *key, const json_t *v)
{
	double d;
	int rc;

	if (!strcmp(key, "image"))
		return rule_glob(r->image, sizeof r->image, key, v);
	if (!strcmp(key, "hash"))
		return rule_glob(r->hash, sizeof r->hash, key, v);
	if (!strcmp(key, "error_ratio"))
		return rule_number(&r->error_ratio, key, v, 0, 1);
	if (!strcmp(key, "p50_ms"))
		return rule_number(&r->p50_ms, key, v, 0.001, 600000);
	if (!strcmp(key, "p99_ms"))
		return rule_number(&r->p99_ms, key, v, 0.001, 600000);
	if (!strcmp(key, "code")) {
		if ((rc = rule_number(&d, key, v, 400, 599)) < 0)
			return rc;
		if (d != floor(d))
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "traffic rule 'code' must be an integer from 400 to 599");
		r->code = (int)d;
		return 0;
	}
	return cairn_error_set(CAIRN_EINVAL,
	                       "unknown traffic rule key '%s' (expected image, hash, error_ratio, "
	                       "p50_ms, p99_ms or code)",
	                       key);
}

static int rule_check(const struct rule *r)
{
	if (r->p99_ms < r->p50_ms)
		return cairn_error_set(CAIRN_EINVAL,
		                       "traffic rule p99_ms (%g) is below its p50_ms (%g)",
		                       r->p99_ms, r->p50_ms);
	return 0;
}

static int rule_from_json(struct rule *out, const json_t *obj)
{
	struct rule r;
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(obj))
		return cairn_error_set(CAIRN_EINVAL, "a traffic rule must be a JSON object");
	rule_default(&r);
	json_object_foreach((json_t *)obj, key, v)
	{
		if ((rc = rule_set(&r, key, v)) < 0)
			return rc;
	}
	if ((rc = rule_check(&r)) < 0)
		return rc;
	*out = r;
	return 0;
}

/* One "key=value" item of the flag syntax into a rule. */
static int rule_item(struct rule *r, const char *item, size_t len)
{
	char key[32], val[256], *end;
	const char *eq = memchr(item, '=', len);
	size_t kl, vl;
	json_t *v;
	double d;
	int rc;

	if (!eq || (kl = (size_t)(eq - item)) == 0 || kl >= sizeof key ||
	    (vl = len - kl - 1) >= sizeof val)
		return cairn_error_set(CAIRN_EINVAL, "traffic rule item '%.*s' is not key=value",
		                       (int)(len > 200 ? 200 : len), item);
	memcpy(key, item, kl);
	key[kl] = '\0';
	memcpy(val, eq + 1, vl);
	val[vl] = '\0';
	if (!strcmp(key, "image") || !strcmp(key, "hash")) {
		v = json_string(val);
	} else {
		d = strtod(val, &end);
		if (!vl || *end)
			return cairn_error_set(CAIRN_EINVAL,
			                       "traffic rule '%s' must be a number, not '%s'", key,
			                       val);
		v = json_real(d);
	}
	if (!v)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory reading a traffic rule");
	rc = rule_set(r, key, v);
	json_decref(v);
	return rc;
}

int sim_traffic_add_rule(sim_traffic *t, const char *spec)
{
	struct rule r;
	const char *p = spec;
	int rc;

	if (t->start.nrules >= MAX_RULES)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d traffic rules", MAX_RULES);
	rule_default(&r);
	while (p && *p) {
		size_t n = strcspn(p, ",");
		if ((rc = rule_item(&r, p, n)) < 0)
			return rc;
		p += n;
		if (*p == ',')
			p++;
	}
	if ((rc = rule_check(&r)) < 0)
		return rc;
	t->start.rules[t->start.nrules++] = r;
	t->cur.rules[t->cur.nrules++] = r;
	return 0;
}

/* ---- configuration (admin endpoint) ---- */

static int set_services(struct cfg *c, const json_t *v)
{
	const char *key;
	json_t *x;

	if (!json_is_object(v))
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "traffic 'services' must be an object of \"namespace/name\" to "
		        "requests per second");
	json_object_foreach((json_t *)v, key, x)
	{
		const char *slash = strchr(key, '/');
		if (!slash || slash == key || !slash[1] || strchr(slash + 1, '/'))
			return cairn_error_set(CAIRN_EINVAL,
			                       "traffic service '%s' must be named namespace/name",
			                       key);
		if (json_is_null(x)) {
			json_object_del(c->services, key);
			continue;
		}
		if (!json_is_number(x) || !(json_number_value(x) >= 0) ||
		    json_number_value(x) > MAX_RPS)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "traffic rate of '%s' must be a number from 0 to 1000000", key);
		if (json_object_size(c->services) >= MAX_SERVICES &&
		    !json_object_get(c->services, key))
			return cairn_error_set(CAIRN_ELIMIT,
			                       "more than %d services with a traffic rate",
			                       MAX_SERVICES);
		json_object_set_new(c->services, key, json_real(json_number_value(x)));
	}
	return 0;
}

static int set_rules(struct cfg *c, const json_t *v)
{
	size_t i;
	int rc;

	if (!json_is_array(v))
		return cairn_error_set(CAIRN_EINVAL, "traffic 'rules' must be an array of rules");
	if (json_array_size(v) > MAX_RULES)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d traffic rules", MAX_RULES);
	for (i = 0; i < json_array_size(v); i++)
		if ((rc = rule_from_json(&c->rules[i], json_array_get(v, i))) < 0)
			return rc;
	c->nrules = json_array_size(v);
	return 0;
}

static int cfg_apply(struct cfg *c, const json_t *doc)
{
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach((json_t *)doc, key, v)
	{
		if (!strcmp(key, "reset"))
			continue;
		if (!strcmp(key, "default_rps")) {
			if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
			    json_number_value(v) > MAX_RPS)
				return cairn_error_set(
				        CAIRN_EINVAL,
				        "traffic 'default_rps' must be a number from 0 "
				        "to 1000000");
			c->default_rps = json_number_value(v);
		} else if (!strcmp(key, "services")) {
			rc = set_services(c, v);
		} else if (!strcmp(key, "rules")) {
			rc = set_rules(c, v);
		} else {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "unknown traffic setting '%s' (expected default_rps, "
			                     "services, rules or reset)",
			                     key);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sim_traffic_configure(sim_traffic *t, const char *json, size_t len)
{
	struct cfg c = {0};
	json_error_t jerr;
	json_t *doc;
	int rc;

	if (len > MAX_BODY)
		return cairn_error_set(CAIRN_ELIMIT, "traffic settings are longer than %d bytes",
		                       MAX_BODY);
	doc = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return cairn_error_set(CAIRN_EINVAL, "traffic settings must be a JSON object: %s",
		                       jerr.text[0] ? jerr.text : "not an object");
	}
	pthread_mutex_lock(&t->lock);
	rc = cfg_copy(&c, json_is_true(json_object_get(doc, "reset")) ? &t->start : &t->cur);
	pthread_mutex_unlock(&t->lock);
	if (rc == 0 && (rc = cfg_apply(&c, doc)) == 0) {
		pthread_mutex_lock(&t->lock);
		json_decref(t->cur.services);
		t->cur = c;
		pthread_mutex_unlock(&t->lock);
	} else {
		json_decref(c.services);
	}
	json_decref(doc);
	return rc;
}

static json_t *rule_json(const struct rule *r)
{
	json_t *j = json_pack("{s:f, s:f, s:f, s:i}", "error_ratio", r->error_ratio, "p50_ms",
	                      r->p50_ms, "p99_ms", r->p99_ms, "code", r->code);

	if (j && r->image[0])
		json_object_set_new(j, "image", json_string(r->image));
	if (j && r->hash[0])
		json_object_set_new(j, "hash", json_string(r->hash));
	return j;
}

static int reply_cfg(sim_traffic *t, sim_http_reply *reply)
{
	json_t *rules = json_array(), *j = NULL;
	int rc = CAIRN_ENOMEM;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; rules && i < t->cur.nrules; i++)
		json_array_append_new(rules, rule_json(&t->cur.rules[i]));
	if (rules)
		j = json_pack("{s:f, s:O, s:o}", "default_rps", t->cur.default_rps, "services",
		              t->cur.services, "rules", rules);
	pthread_mutex_unlock(&t->lock);
	if (!j)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory showing the traffic settings");
	reply->status = 200;
	reply->content_type = CT_JSON;
	rc = sim__buf_json(&reply->body, j);
	json_decref(j);
	return rc;
}

int sim_traffic_admin(sim_traffic *t, const char *method, const char *body, size_t len,
                      sim_http_reply *reply)
{
	struct cfg c;

	if (!t || !method || !reply)
		return cairn_error_set(CAIRN_EINVAL, "no traffic model or method given");
	if (!strcmp(method, "GET"))
		return reply_cfg(t, reply);
	if (!strcmp(method, "DELETE")) {
		pthread_mutex_lock(&t->lock);
		if (cfg_copy(&c, &t->start) == 0) {
			json_decref(t->cur.services);
			t->cur = c;
		}
		pthread_mutex_unlock(&t->lock);
		return reply_cfg(t, reply);
	}
	if (strcmp(method, "PUT") && strcmp(method, "POST"))
		return sim__reply_status(reply, 405, "MethodNotAllowed",
		                         "use GET, PUT, POST or DELETE on /admin/traffic");
	if (sim_traffic_configure(t, body, len) < 0)
		return sim__reply_status(reply, 400, "BadRequest", cairn_error_last()->message);
	return reply_cfg(t, reply);
}

/* ---- topology: Services, Pods and their owners, read from the store ---- */

struct pod {
	char *ns, *name, *uid, *hash, *rs, *workload;
	json_t *labels; /* borrowed from obj */
	json_t *obj;
	int ready;
};

struct svc {
	char *ns, *name;
	json_t *obj;
	const json_t *selector; /* borrowed from obj */
	double rps;
};

struct topo {
	struct pod *pods;
	size_t npods, cap_pods;
	struct svc *svcs;
	size_t nsvcs, cap_svcs;
};

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* Ready as the endpoints controller sees it: condition Ready=True and not
 * being deleted. */
static int pod_ready(const json_t *pod)
{
	const json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
	const json_t *c;
	size_t i;

	if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
		return 0;
	json_array_foreach(conds, i, c)
	{
		const char *type = str_at(c, "type", NULL), *st = str_at(c, "status", NULL);
		if (type && st && !strcmp(type, "Ready"))
			return !strcmp(st, "True");
	}
	return 0;
}

/* The controller owner reference (controller: true, else the first). */
static const json_t *controller_of(const json_t *obj)
{
	const json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
	const json_t *r;
	size_t i;

	json_array_foreach(refs, i, r)
	{
		if (json_is_true(json_object_get(r, "controller")))
			return r;
	}
	return json_array_get(refs, 0);
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t nc;

	if (n < *cap)
		return 0;
	if (n >= MAX_SERIES)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d objects in the traffic model",
		                       MAX_SERIES);
	nc = *cap ? *cap * 2 : 64;
	if (!(p = realloc(*v, nc * size)))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory reading the traffic topology");
	*v = p;
	*cap = nc;
	return 0;
}

static int pod_cb(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
	struct topo *tp = ud;
	struct pod *p;
	const json_t *md, *owner;
	json_t *obj;
	int rc;

	if ((rc = grow((void **)&tp->pods, &tp->cap_pods, tp->npods, sizeof(*p))) < 0)
		return rc;
	if (!(obj = json_loadb(json, len, 0, NULL)))
		return 0; /* the store holds only valid JSON; skip rather than fail */
	p = &tp->pods[tp->npods++];
	memset(p, 0, sizeof(*p));
	p->obj = obj;
	md = json_object_get(obj, "metadata");
	p->labels = json_object_get(md, "labels");
	p->ns = strdup(ns);
	p->name = strdup(name);
	p->uid = dup_or_empty(str_at(md, "uid", NULL));
	p->hash = dup_or_empty(str_at(md, "labels", "pod-template-hash"));
	p->ready = pod_ready(obj);
	owner = controller_of(obj);
	if (owner && str_at(owner, "kind", NULL) &&
	    !strcmp(str_at(owner, "kind", NULL), "ReplicaSet"))
		p->rs = dup_or_empty(str_at(owner, "name", NULL));
	else
		p->rs = strdup("");
	/* workload is resolved after the iteration (it reads ReplicaSets) */
	p->workload = owner && !p->rs[0] ? dup_or_empty(str_at(owner, "name", NULL)) : NULL;
	if (!p->ns || !p->name || !p->uid || !p->hash || !p->rs)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory reading pods");
	return 0;
}

/* A Service's rate: the admin setting, else its annotation, else the default. */
static double svc_rps(const struct cfg *c, const char *ns, const char *name, const json_t *obj)
{
	char key[512];
	const char *a = str_at(json_object_get(obj, "metadata"), "annotations", RPS_ANNOTATION);
	const json_t *v;
	char *end;
	double d;

	snprintf(key, sizeof key, "%s/%s", ns, name);
	if ((v = json_object_get(c->services, key)))
		return json_number_value(v);
	if (a) {
		d = strtod(a, &end);
		if (end != a && !*end && d >= 0 && d <= MAX_RPS)
			return d;
	}
	return c->default_rps;
}

struct svc_ctx {
	struct topo *tp;
	const struct cfg *cfg;
};

static int svc_cb(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
	struct svc_ctx *sc = ud;
	struct topo *tp = sc->tp;
	struct svc *s;
	json_t *obj;
	const json_t *sel;
	int rc;

	if ((rc = grow((void **)&tp->svcs, &tp->cap_svcs, tp->nsvcs, sizeof(*s))) < 0)
		return rc;
	if (!(obj = json_loadb(json, len, 0, NULL)))
		return 0;
	sel = json_object_get(json_object_get(obj, "spec"), "selector");
	if (!json_is_object(sel) || json_object_size(sel) == 0) {
		json_decref(obj); /* no selector: no Pods receive its traffic */
		return 0;
	}
	s = &tp->svcs[tp->nsvcs++];
	s->obj = obj;
	s->selector = sel;
	s->rps = svc_rps(sc->cfg, ns, name, obj);
	s->ns = strdup(ns);
	s->name = strdup(name);
	if (!s->ns || !s->name)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory reading services");
	return 0;
}

/* Fill the workload of Pods owned by a ReplicaSet: the ReplicaSet's own
 * controller (a Deployment), or the ReplicaSet itself. One store read per
 * distinct ReplicaSet. */
static int resolve_workloads(sim_store *st, struct topo *tp)
{
	json_t *cache = json_object();
	char key[512];
	size_t i;
	int rc = 0;

	if (!cache)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory reading replicasets");
	for (i = 0; i < tp->npods && rc == 0; i++) {
		struct pod *p = &tp->pods[i];
		const json_t *owner;
		const char *w;
		json_t *rs = NULL;

		if (p->workload)
			continue;
		if (!p->rs[0]) {
			if (!(p->workload = strdup("")))
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			continue;
		}
		snprintf(key, sizeof key, "%s/%s", p->ns, p->rs);
		if (!(w = str_at(cache, key, NULL))) {
			sim_key k = {"apps", "replicasets", p->ns, p->rs};
			w = p->rs;
			if (sim_store_get(st, &k, &rs) == 0 && (owner = controller_of(rs)) &&
			    str_at(owner, "name", NULL))
				w = str_at(owner, "name", NULL);
			json_object_set_new(cache, key, json_string(w));
			w = str_at(cache, key, NULL);
			json_decref(rs);
		}
		if (!(p->workload = dup_or_empty(w)))
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	json_decref(cache);
	return rc;
}

static void topo_dispose(struct topo *tp)
{
	for (size_t i = 0; i < tp->npods; i++) {
		struct pod *p = &tp->pods[i];
		free(p->ns);
		free(p->name);
		free(p->uid);
		free(p->hash);
		free(p->rs);
		free(p->workload);
		json_decref(p->obj);
	}
	for (size_t i = 0; i < tp->nsvcs; i++) {
		free(tp->svcs[i].ns);
		free(tp->svcs[i].name);
		json_decref(tp->svcs[i].obj);
	}
	free(tp->pods);
	free(tp->svcs);
}

static int selects(const json_t *selector, const json_t *labels)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)selector, key, v)
	{
		const char *have = str_at(labels, key, NULL);
		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
			return 0;
	}
	return 1;
}

/* The first rule matching a Pod, or the built-in default. */
static const struct rule *rule_for(const struct cfg *c, const struct pod *p,
                                   const struct rule *dflt)
{
	const json_t *containers = json_object_get(json_object_get(p->obj, "spec"), "containers");

	for (size_t i = 0; i < c->nrules; i++) {
		const struct rule *r = &c->rules[i];
		int img = !r->image[0];
		const json_t *ct;
		size_t j;

		if (r->hash[0] && fnmatch(r->hash, p->hash, 0) != 0)
			continue;
		json_array_foreach(containers, j, ct)
		{
			const char *image = str_at(ct, "image", NULL);
			if (!img && image && fnmatch(r->image, image, 0) == 0)
				img = 1;
		}
		if (img)
			return r;
	}
	return dflt;
}

/* ---- series ---- */

static int series_cmp(const void *a, const void *b)
{
	const sim_traffic_series *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->pod, y->pod);
}

/* Add `req` requests answered by rule r: errors exactly req x ratio, the
 * histogram from the log-normal CDF (a step at the median when p99 = p50),
 * the sum from the distribution's mean. */
static void advance(sim_traffic_series *s, const struct rule *r, double req)
{
	double med = r->p50_ms / 1000.0, mu = log(med);
	double sigma = log(r->p99_ms / r->p50_ms) / Z99;
	size_t i;

	s->count += req;
	s->errors += req * r->error_ratio;
	s->ok += req * (1.0 - r->error_ratio);
	for (i = 0; i < SIM_TRAFFIC_NBUCKETS; i++) {
		double cdf;
		if (sigma > 0)
			cdf = 0.5 * erfc(-(log(bounds[i]) - mu) / (sigma * M_SQRT2));
		else
			cdf = bounds[i] >= med ? 1.0 : 0.0;
		s->buckets[i] += req * cdf;
	}
	s->sum += req * (sigma > 0 ? exp(mu + sigma * sigma / 2) : med);
}

static int series_init(sim_traffic_series *s, const struct svc *sv, const struct pod *p)
{
	memset(s, 0, sizeof(*s));
	s->ns = strdup(sv->ns);
	s->service = strdup(sv->name);
	s->workload = strdup(p->workload);
	s->replicaset = strdup(p->rs);
	s->pod = strdup(p->name);
	s->hash = strdup(p->hash);
	s->uid = strdup(p->uid);
	if (!s->ns || !s->service || !s->workload || !s->replicaset || !s->pod || !s->hash ||
	    !s->uid)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory building traffic series");
	return 0;
}

/* Build the series of one Service, carrying counters over from the
 * previous read (same Pod uid) and advancing them by dt seconds. */
static int build_service(sim_traffic *t, const struct topo *tp, const struct svc *sv, double dt,
                         sim_traffic_series **v, size_t *n, size_t *cap)
{
	static const struct rule dflt = {"", "", 0, 20, 100, 500};
	size_t i, nready = 0;
	int rc;

	for (i = 0; i < tp->npods; i++)
		if (tp->pods[i].ready && !strcmp(tp->pods[i].ns, sv->ns) &&
		    selects(sv->selector, tp->pods[i].labels))
			nready++;
	for (i = 0; i < tp->npods; i++) {
		const struct pod *p = &tp->pods[i];
		const struct rule *r;
		sim_traffic_series *s, *old;

		if (strcmp(p->ns, sv->ns) || !selects(sv->selector, p->labels))
			continue;
		if ((rc = grow((void **)v, cap, *n, sizeof(**v))) < 0)
			return rc;
		s = &(*v)[(*n)++];
		if ((rc = series_init(s, sv, p)) < 0)
			return rc;
		old = t->nseries ? bsearch(s, t->series, t->nseries, sizeof(*s), series_cmp) : NULL;
		if (old && !strcmp(old->uid, s->uid)) {
			s->count = old->count;
			s->ok = old->ok;
			s->errors = old->errors;
			s->sum = old->sum;
			memcpy(s->buckets, old->buckets, sizeof(s->buckets));
		}
		r = rule_for(&t->cur, p, &dflt);
		s->code = r->code;
		if (p->ready && dt > 0)
			advance(s, r, sv->rps / (double)nready * dt);
	}
	return 0;
}

int sim_traffic_collect(sim_traffic *t, cairn_usec now,
                        int (*fn)(void *ud, const sim_traffic_series *s), void *ud)
{
	struct topo tp = {0};
	struct svc_ctx sc = {&tp, NULL};
	sim_traffic_series *nv = NULL;
	size_t nn = 0, cap = 0, i;
	double dt;
	int rc;

	pthread_mutex_lock(&t->lock);
	sc.cfg = &t->cur;
	dt = t->last && now > t->last ? (double)(now - t->last) / 1e6 : 0;
	if ((rc = sim_store_iter(t->st, "", "pods", NULL, NULL, pod_cb, &tp)) < 0 ||
	    (rc = sim_store_iter(t->st, "", "services", NULL, NULL, svc_cb, &sc)) < 0 ||
	    (rc = resolve_workloads(t->st, &tp)) < 0)
		goto out;
	for (i = 0; i < tp.nsvcs; i++)
		if ((rc = build_service(t, &tp, &tp.svcs[i], dt, &nv, &nn, &cap)) < 0)
			goto out;
	if (nn)
		qsort(nv, nn, sizeof(*nv), series_cmp);
	series_free_all(t->series, t->nseries);
	t->series = nv;
	t->nseries = nn;
	/* Two scrapes race for the lock: the one that read the clock first may
	 * come second; moving last back would count its interval twice. */
	if (now > t->last)
		t->last = now;
	nv = NULL;
	nn = 0;
	for (i = 0; i < t->nseries; i++)
		if ((rc = fn(ud, &t->series[i])) < 0)
			break;
out:
	pthread_mutex_unlock(&t->lock);
	series_free_all(nv, nn);
	topo_dispose(&tp);
	return rc < 0 ? rc : 0;
}
