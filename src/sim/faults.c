/*
 * faults.c - fault injection for cairn-sim: per-verb error rates, added
 * latency, 409 conflicts on writes, 429 with Retry-After, 410 Gone on
 * list/watch, dropped watch streams; switched at start (--faults JSON) and
 * at run time through /admin/faults.
 *
 * Decisions draw from one splitmix64 stream seeded by "seed", under a
 * mutex, and only when a rate is neither 0 nor 1: with the same seed and
 * the same request order the same requests fail, so tests can count.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "api_internal.h"

#define CT_JSON "application/json"
#define MAX_BODY 65536

static const char *const verbs[] = {"get",    "list",  "watch",  "create",
                                    "update", "patch", "delete", "deletecollection"};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

struct fault_cfg {
	uint64_t seed;
	double error_rate[NVERBS];
	int error_status;
	int latency_ms;
	double conflict_rate;
	double throttle_rate;
	int retry_after;
	double gone_rate;
	int drop_watch_after_ms;
	char resource[128]; /* only requests for this plural ("" = all) */
};

struct sim_faults {
	pthread_mutex_t lock;
	struct fault_cfg cfg;
	uint64_t state;
};

static void cfg_default(struct fault_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->error_status = 500;
	c->retry_after = 1;
}

int sim_faults_new(sim_faults **out)
{
	sim_faults *f = calloc(1, sizeof(*f));

	if (!f)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory creating the fault switches");
	pthread_mutex_init(&f->lock, NULL);
	cfg_default(&f->cfg);
	f->state = f->cfg.seed;
	*out = f;
	return 0;
}

void sim_faults_free(sim_faults *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* One Bernoulli draw; rates 0 and 1 decide without drawing. Under the lock. */
static int hit(sim_faults *f, double rate)
{
	if (rate <= 0)
		return 0;
	if (rate >= 1)
		return 1;
	return (double)(splitmix64(&f->state) >> 11) * (1.0 / 9007199254740992.0) < rate;
}

static int verb_index(const char *verb)
{
	size_t i;

	for (i = 0; verb && i < NVERBS; i++)
		if (strcmp(verbs[i], verb) == 0)
			return (int)i;
	return -1;
}

void sim_faults_decide(sim_faults *f, const char *verb, const sim_resource *res,
                       sim_fault_action *out)
{
	int vi = verb_index(verb);
	int write = vi >= 3;

	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->cfg.resource[0] && (!res || strcmp(res->plural, f->cfg.resource) != 0))
		goto out;
	out->latency_ms = f->cfg.latency_ms;
	if (!res || vi < 0)
		goto out; /* discovery and unknown verbs only get latency */
	if (vi == 2)
		out->drop_watch_after_ms = f->cfg.drop_watch_after_ms;
	if (hit(f, f->cfg.throttle_rate)) {
		out->status = 429;
		out->retry_after = f->cfg.retry_after;
	} else if (write && hit(f, f->cfg.conflict_rate)) {
		out->status = 409;
	} else if ((vi == 1 || vi == 2) && hit(f, f->cfg.gone_rate)) {
		out->status = 410;
	} else if (hit(f, f->cfg.error_rate[vi])) {
		out->status = f->cfg.error_status;
	}
out:
	pthread_mutex_unlock(&f->lock);
}

static json_t *cfg_json(const struct fault_cfg *c)
{
	json_t *rates = json_object();
	size_t i;

	for (i = 0; rates && i < NVERBS; i++)
		json_object_set_new(rates, verbs[i], json_real(c->error_rate[i]));
	return json_pack("{s:I, s:o, s:i, s:i, s:f, s:f, s:i, s:f, s:i, s:s}", "seed",
	                 (json_int_t)c->seed, "error_rate", rates, "error_status", c->error_status,
	                 "latency_ms", c->latency_ms, "conflict_rate", c->conflict_rate,
	                 "throttle_rate", c->throttle_rate, "retry_after", c->retry_after,
	                 "gone_rate", c->gone_rate, "drop_watch_after_ms", c->drop_watch_after_ms,
	                 "resource", c->resource);
}

static int get_rate(const json_t *v, const char *name, double *out)
{
	double d;

	if (!json_is_number(v))
		return cairn_error_set(CAIRN_EINVAL, "fault switch '%s' must be a number", name);
	d = json_number_value(v);
	if (!(d >= 0 && d <= 1))
		return cairn_error_set(CAIRN_EINVAL, "fault switch '%s' must be between 0 and 1",
		                       name);
	*out = d;
	return 0;
}

static int get_int(const json_t *v, const char *name, int lo, int hi, int *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return cairn_error_set(CAIRN_EINVAL,
		                       "fault switch '%s' must be an integer from %d to %d", name,
		                       lo, hi);
	*out = (int)json_integer_value(v);
	return 0;
}

/* error_rate: a number for every verb, or an object of verb (or "*") -> rate. */
static int set_error_rates(struct fault_cfg *c, const json_t *v)
{
	const char *key;
	json_t *x;
	double d;
	size_t i;
	int rc;

	if (json_is_number(v)) {
		if ((rc = get_rate(v, "error_rate", &d)) < 0)
			return rc;
		for (i = 0; i < NVERBS; i++)
			c->error_rate[i] = d;
		return 0;
	}
	if (!json_is_object(v))
		return cairn_error_set(CAIRN_EINVAL,
		                       "fault switch 'error_rate' must be a number or an object "
		                       "of verb to rate");
	json_object_foreach((json_t *)v, key, x)
	{
		int vi = verb_index(key);

		if (vi < 0 && strcmp(key, "*") != 0)
			return cairn_error_set(CAIRN_EINVAL, "unknown verb '%s' in error_rate",
			                       key);
		if ((rc = get_rate(x, "error_rate", &d)) < 0)
			return rc;
		for (i = 0; i < NVERBS; i++)
			if (vi < 0 || (int)i == vi)
				c->error_rate[i] = d;
	}
	return 0;
}

/* Apply one switch to a configuration copy. */
static int set_switch(struct fault_cfg *c, const char *key, const json_t *v)
{
	int n, rc = 0;

	if (!strcmp(key, "seed")) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return cairn_error_set(
			        CAIRN_EINVAL, "fault switch 'seed' must be a non-negative integer");
		c->seed = (uint64_t)json_integer_value(v);
	} else if (!strcmp(key, "error_rate")) {
		rc = set_error_rates(c, v);
	} else if (!strcmp(key, "error_status")) {
		rc = get_int(v, key, 400, 599, &c->error_status);
	} else if (!strcmp(key, "latency_ms")) {
		rc = get_int(v, key, 0, 60000, &c->latency_ms);
	} else if (!strcmp(key, "conflict_rate")) {
		rc = get_rate(v, key, &c->conflict_rate);
	} else if (!strcmp(key, "throttle_rate")) {
		rc = get_rate(v, key, &c->throttle_rate);
	} else if (!strcmp(key, "retry_after")) {
		rc = get_int(v, key, 0, 3600, &c->retry_after);
	} else if (!strcmp(key, "gone_rate")) {
		rc = get_rate(v, key, &c->gone_rate);
	} else if (!strcmp(key, "drop_watch_after_ms")) {
		rc = get_int(v, key, 0, 3600000, &c->drop_watch_after_ms);
	} else if (!strcmp(key, "resource")) {
		if (!json_is_string(v) ||
		    (n = (int)json_string_length(v)) >= (int)sizeof(c->resource))
			return cairn_error_set(CAIRN_EINVAL,
			                       "fault switch 'resource' must be a "
			                       "resource plural such as 'configmaps'");
		memcpy(c->resource, json_string_value(v), (size_t)n + 1);
	} else {
		rc = cairn_error_set(CAIRN_EINVAL, "unknown fault switch '%s'", key);
	}
	return rc;
}

int sim_faults_configure(sim_faults *f, const char *json, size_t len)
{
	struct fault_cfg c;
	json_error_t jerr;
	json_t *doc, *v;
	const char *key;
	int rc = 0, reset;

	if (len > MAX_BODY)
		return cairn_error_set(CAIRN_ELIMIT, "fault switches are longer than %d bytes",
		                       MAX_BODY);
	doc = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return cairn_error_set(CAIRN_EINVAL, "fault switches must be a JSON object: %s",
		                       jerr.text[0] ? jerr.text : "not an object");
	}
	pthread_mutex_lock(&f->lock);
	c = f->cfg;
	pthread_mutex_unlock(&f->lock);
	reset = json_is_true(json_object_get(doc, "reset"));
	if (reset)
		cfg_default(&c);
	json_object_foreach(doc, key, v)
	{
		if (strcmp(key, "reset") != 0 && (rc = set_switch(&c, key, v)) < 0)
			break;
	}
	json_decref(doc);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&f->lock);
	if (c.seed != f->cfg.seed || reset)
		f->state = c.seed;
	f->cfg = c;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int reply_cfg(sim_faults *f, sim_http_reply *reply)
{
	struct fault_cfg c;
	json_t *j;
	int rc;

	pthread_mutex_lock(&f->lock);
	c = f->cfg;
	pthread_mutex_unlock(&f->lock);
	if (!(j = cfg_json(&c)))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory showing the fault switches");
	reply->status = 200;
	reply->content_type = CT_JSON;
	rc = sim__buf_json(&reply->body, j);
	json_decref(j);
	return rc;
}

int sim_faults_admin(sim_faults *f, const char *method, const char *body, size_t len,
                     sim_http_reply *reply)
{
	if (!f || !method || !reply)
		return cairn_error_set(CAIRN_EINVAL, "no fault switches or method given");
	if (!strcmp(method, "GET"))
		return reply_cfg(f, reply);
	if (!strcmp(method, "DELETE")) {
		pthread_mutex_lock(&f->lock);
		cfg_default(&f->cfg);
		f->state = f->cfg.seed;
		pthread_mutex_unlock(&f->lock);
		return reply_cfg(f, reply);
	}
	if (strcmp(method, "PUT") && strcmp(method, "POST"))
		return sim__reply_status(reply, 405, "MethodNotAllowed",
		                         "use GET, PUT, POST or DELETE on /admin/faults");
	if (sim_faults_configure(f, body, len) < 0)
		return sim__reply_status(reply, 400, "BadRequest", cairn_error_last()->message);
	return reply_cfg(f, reply);
}
