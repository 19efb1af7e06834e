/*
 * health.c - health assessment of live objects with Argo CD's vocabulary.
 *
 * One rule per built-in kind (Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, Pod, Service, Ingress, PersistentVolumeClaim, Job, CronJob,
 * HorizontalPodAutoscaler, APIService) reads the object's spec and status
 * the way Argo CD's built-in checks do, with the same messages; a generic
 * rule reads status.conditions of custom resources. Other objects have no
 * health at all (out->none), as in Argo CD. docs/health.md has the table.
 *
 * The rules never fail on a live object: a field of the wrong type gives
 * Unknown with a message naming the field, as Argo CD's failed conversion
 * to the typed object does.
 */
#include <stdarg.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/kube.h"

static const char *const status_names[] = {
        "Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown",
};

const char *cairn_health_status_string(cairn_health_status s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "Unknown";
	return status_names[s];
}

int cairn_health_status_parse(cairn_health_status *out, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (cairn_health_status)i;
			return 0;
		}
	}
	return cairn_error_set(CAIRN_EINVAL, "unknown health status '%s'", name ? name : "");
}

cairn_health_status cairn_health_worst(cairn_health_status a, cairn_health_status b)
{
	return b > a ? b : a;
}

void cairn_health_aggregate(cairn_health *acc, const cairn_health *h)
{
	if (h == NULL || h->none)
		return;
	if (acc->none || h->status > acc->status) {
		*acc = *h;
		acc->none = 0;
	}
}

/* ---- reading the object ---- */

/*
 * The state of one assessment: the object, the result being built, and the
 * first field found with the wrong type (which turns the result into
 * Unknown once the rule returns).
 */
struct hctx {
	const json_t *obj;
	cairn_health *out;
	const char *bad_field;
	const char *bad_type;
};

/* The node at a dotted path ("status.readyReplicas"), or NULL. */
static const json_t *at(const json_t *v, const char *path)
{
	char key[64];

	while (v != NULL && *path != '\0') {
		const char *dot = strchr(path, '.');
		size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
		path += n + (dot != NULL ? 1 : 0);
	}
	return v;
}

static void mark_bad(struct hctx *c, const char *path, const char *type)
{
	if (c->bad_field == NULL) {
		c->bad_field = path;
		c->bad_type = type;
	}
}

/* An integer field; absent or null reads as `def` (Go's zero value). */
static long long geti(struct hctx *c, const json_t *v, const char *path, long long def)
{
	const json_t *n = at(v, path);

	if (n == NULL || json_is_null(n))
		return def;
	if (!json_is_integer(n)) {
		mark_bad(c, path, "an integer");
		return def;
	}
	return json_integer_value(n);
}

/* Whether an integer field is present (a Go pointer that is not nil). */
static int has(const json_t *v, const char *path)
{
	const json_t *n = at(v, path);

	return n != NULL && !json_is_null(n);
}

/* A string field; absent or null reads as "". */
static const char *get_str(struct hctx *c, const json_t *v, const char *path)
{
	const json_t *n = at(v, path);

	if (n == NULL || json_is_null(n))
		return "";
	if (!json_is_string(n)) {
		mark_bad(c, path, "a string");
		return "";
	}
	return json_string_value(n);
}

/* A boolean field; absent or null reads as false. */
static int getb(struct hctx *c, const json_t *v, const char *path)
{
	const json_t *n = at(v, path);

	if (n == NULL || json_is_null(n))
		return 0;
	if (!json_is_boolean(n)) {
		mark_bad(c, path, "a boolean");
		return 0;
	}
	return json_is_true(n);
}

/* An array field; absent or null reads as an empty array (NULL). */
static const json_t *geta(struct hctx *c, const json_t *v, const char *path)
{
	const json_t *n = at(v, path);

	if (n == NULL || json_is_null(n))
		return NULL;
	if (!json_is_array(n)) {
		mark_bad(c, path, "a list");
		return NULL;
	}
	return n;
}

/* The first condition of status.conditions with this type, or NULL. */
static const json_t *condition(struct hctx *c, const char *type)
{
	const json_t *conds = geta(c, c->obj, "status.conditions"), *cond;
	size_t i;

	json_array_foreach(conds, i, cond)
	{
		if (strcmp(get_str(c, cond, "type"), type) == 0)
			return cond;
	}
	return NULL;
}

static int set(struct hctx *c, cairn_health_status s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Set the result; messages longer than the buffer are cut. Returns 0. */
static int set(struct hctx *c, cairn_health_status s, const char *fmt, ...)
{
	va_list ap;

	c->out->status = s;
	c->out->none = 0;
	va_start(ap, fmt);
	vsnprintf(c->out->message, sizeof(c->out->message), fmt, ap);
	va_end(ap);
	return 0;
}

static const char *name_of(struct hctx *c)
{
	return get_str(c, c->obj, "metadata.name");
}

/* ---- the rules, one per kind ---- */

/* After kubectl's rollout status for Deployments, as Argo CD reads it. */
static int rule_deployment(struct hctx *c)
{
	const json_t *o = c->obj, *cond;
	long long gen = geti(c, o, "metadata.generation", 0);
	long long observed = geti(c, o, "status.observedGeneration", 0);
	long long spec = geti(c, o, "spec.replicas", 0);
	long long replicas = geti(c, o, "status.replicas", 0);
	long long updated = geti(c, o, "status.updatedReplicas", 0);
	long long available = geti(c, o, "status.availableReplicas", 0);

	if (getb(c, o, "spec.paused"))
		return set(c, CAIRN_HEALTH_SUSPENDED, "Deployment is paused");
	if (gen > observed)
		return set(
		        c, CAIRN_HEALTH_PROGRESSING,
		        "Waiting for rollout to finish: observed deployment generation less than "
		        "desired generation");
	cond = condition(c, "Progressing");
	if (cond != NULL && strcmp(get_str(c, cond, "reason"), "ProgressDeadlineExceeded") == 0)
		return set(c, CAIRN_HEALTH_DEGRADED,
		           "Deployment \"%s\" exceeded its progress deadline", name_of(c));
	if (has(o, "spec.replicas") && updated < spec)
		return set(c, CAIRN_HEALTH_PROGRESSING,
		           "Waiting for rollout to finish: %lld out of %lld new replicas have been "
		           "updated...",
		           updated, spec);
	if (replicas > updated)
		return set(c, CAIRN_HEALTH_PROGRESSING,
		           "Waiting for rollout to finish: %lld old replicas are pending "
		           "termination...",
		           replicas - updated);
	if (available < updated)
		return set(c, CAIRN_HEALTH_PROGRESSING,
		           "Waiting for rollout to finish: %lld of %lld updated replicas are "
		           "available...",
		           available, updated);
	return set(c, CAIRN_HEALTH_HEALTHY, "%s", "");
}

/* StatefulSets: observed generation, ready pods, then the update strategy. */
static int rule_statefulset(struct hctx *c)
{
	const json_t *o = c->obj;
	long long gen = geti(c, o, "metadata.generation", 0);
	long long observed = geti(c, o, "status.observedGeneration", 0);
	long long spec = geti(c, o, "spec.replicas", 0);
	long long ready = geti(c, o, "status.readyReplicas", 0);
	long long updated = geti(c, o, "status.updatedReplicas", 0);
	const char *type = get_str(c, o, "spec.updateStrategy.type");
	const char *update_rev = get_str(c, o, "status.updateRevision");
	const char *current_rev = get_str(c, o, "status.currentRevision");

	if (observed == 0 || gen > observed)
		return set(c, CAIRN_HEALTH_PROGRESSING,
		           "Waiting for statefulset spec update to be observed...");
	if (has(o, "spec.replicas") && ready < spec)
		return set(c, CAIRN_HEALTH_PROGRESSING, "Waiting for %lld pods to be ready...",
		           spec - ready);
	if (strcmp(type, "RollingUpdate") == 0 && has(o, "spec.updateStrategy.rollingUpdate")) {
		if (has(o, "spec.replicas") &&
		    has(o, "spec.updateStrategy.rollingUpdate.partition")) {
			long long part =
			        geti(c, o, "spec.updateStrategy.rollingUpdate.partition", 0);

			if (updated < spec - part)
				return set(c, CAIRN_HEALTH_PROGRESSING,
				           "Waiting for partitioned roll out to finish: %lld out "
				           "of %lld "
				           "new pods have been updated...",
				           updated, spec - part);
		}
		return set(c, CAIRN_HEALTH_HEALTHY,
		           "partitioned roll out complete: %lld new pods have been updated...",
		           updated);
	}
	if (strcmp(type, "OnDelete") == 0)
		return set(c, CAIRN_HEALTH_HEALTHY,
		           "statefulset has %lld ready pods (%lld updated)", ready, updated);
	if (strcmp(update_rev, current_rev) != 0)
		return set(
		        c, CAIRN_HEALTH_PROGRESSING,
		        "waiting for statefulset rolling update to complete %lld pods at revision "
		        "%s...",
		        updated, update_rev);
	return set(c, CAIRN_HEALTH_HEALTHY,
	           "statefulset rolling update complete %lld pods at revision %s...",
	           geti(c, o, "status.currentReplicas", 0), current_rev);
}

static int rule_daemonset(struct hctx *c)
{
	const json_t *o = c->obj;
	long long gen = geti(c, o, "metadata.generation", 0);
	long long observed = geti(c, o, "status.observedGeneration", 0);
	long long updated = geti(c, o, "status.updatedNumberScheduled", 0);
	long long desired = geti(c, o, "status.desiredNumberScheduled", 0);
	long long available = geti(c, o, "status.numberAvailable", 0);

	if (gen > observed)
		return set(
		        c, CAIRN_HEALTH_PROGRESSING,
		        "Waiting for rollout to finish: observed daemon set generation less than "
		        "desired generation");
	if (strcmp(get_str(c, o, "spec.updateStrategy.type"), "OnDelete") == 0)
		return set(c, CAIRN_HEALTH_HEALTHY,
		           "daemon set %lld out of %lld new pods have been updated", updated,
		           desired);
	if (updated < desired)
		return set(c, CAIRN_HEALTH_PROGRESSING,
		           "Waiting for daemon set \"%s\" rollout to finish: %lld out of %lld new "
		           "pods "
		           "have been updated...",
		           name_of(c), updated, desired);
	if (available < desired)
		return set(c, CAIRN_HEALTH_PROGRESSING,
		           "Waiting for daemon set \"%s\" rollout to finish: %lld of %lld updated "
		           "pods "
		           "are available...",
		           name_of(c), available, desired);
	return set(c, CAIRN_HEALTH_HEALTHY, "%s", "");
}

static int rule_replicaset(struct hctx *c)
{
	const json_t *o = c->obj, *cond;
	long long gen = geti(c, o, "metadata.generation", 0);
	long long observed = geti(c, o, "status.observedGeneration", 0);
	long long spec = geti(c, o, "spec.replicas", 0);
	long long available = geti(c, o, "status.availableReplicas", 0);

	if (gen > observed)
		return set(
		        c, CAIRN_HEALTH_PROGRESSING,
		        "Waiting for rollout to finish: observed replica set generation less than "
		        "desired generation");
	cond = condition(c, "ReplicaFailure");
	if (cond != NULL && strcmp(get_str(c, cond, "status"), "True") == 0)
		return set(c, CAIRN_HEALTH_DEGRADED, "%s", get_str(c, cond, "message"));
	if (has(o, "spec.replicas") && available < spec)
		return set(c, CAIRN_HEALTH_PROGRESSING,
		           "Waiting for rollout to finish: %lld out of %lld new replicas are "
		           "available...",
		           available, spec);
	return set(c, CAIRN_HEALTH_HEALTHY, "%s", "");
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int has_suffix(const char *s, const char *p)
{
	size_t n = strlen(s), m = strlen(p);

	return n >= m && strcmp(s + n - m, p) == 0;
}

/*
 * A pod that restarts its containers forever is Degraded as soon as one
 * container waits for a reason that will not fix itself (ErrImagePull,
 * CreateContainerConfigError, CrashLoopBackOff, ImagePullBackOff...): the
 * messages of those containers, joined with ", ". Returns 1 when it applied.
 */
static int pod_waiting_degraded(struct hctx *c)
{
	const json_t *ctrs = geta(c, c->obj, "status.containerStatuses"), *ctr;
	size_t i, len = 0;
	int found = 0;
	char *msg = c->out->message;
	size_t size = sizeof(c->out->message);

	msg[0] = '\0';
	json_array_foreach(ctrs, i, ctr)
	{
		const char *reason = get_str(c, ctr, "state.waiting.reason");
		int n;

		if (!(has_prefix(reason, "Err") || has_suffix(reason, "Error") ||
		      has_suffix(reason, "BackOff")))
			continue;
		n = snprintf(msg + len, size - len, "%s%s", found ? ", " : "",
		             get_str(c, ctr, "state.waiting.message"));
		found = 1;
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	if (found) {
		c->out->status = CAIRN_HEALTH_DEGRADED;
		c->out->none = 0;
	}
	return found;
}

/* The failure message of a terminated container, or NULL. */
static const char *pod_fail_message(struct hctx *c, const json_t *ctr, char *buf, size_t size)
{
	const char *msg, *reason;
	long long code;

	if (!has(ctr, "state.terminated"))
		return NULL;
	msg = get_str(c, ctr, "state.terminated.message");
	if (msg[0] != '\0')
		return msg;
	reason = get_str(c, ctr, "state.terminated.reason");
	if (strcmp(reason, "OOMKilled") == 0)
		return reason;
	code = geti(c, ctr, "state.terminated.exitCode", 0);
	if (code == 0)
		return NULL;
	snprintf(buf, size, "container \"%s\" failed with exit code %lld", get_str(c, ctr, "name"),
	         code);
	return buf;
}

static int pod_failed(struct hctx *c, const char *pod_msg)
{
	static const char *const lists[] = {"status.initContainerStatuses",
	                                    "status.containerStatuses"};
	char buf[512];
	size_t l, i;
	const json_t *ctr;

	if (pod_msg[0] != '\0')
		return set(c, CAIRN_HEALTH_DEGRADED, "%s", pod_msg);
	for (l = 0; l < 2; l++) {
		json_array_foreach(geta(c, c->obj, lists[l]), i, ctr)
		{
			const char *m = pod_fail_message(c, ctr, buf, sizeof(buf));

			if (m != NULL)
				return set(c, CAIRN_HEALTH_DEGRADED, "%s", m);
		}
	}
	return set(c, CAIRN_HEALTH_DEGRADED, "%s", "");
}

/* Running, restarting forever (or told to ignore the restart policy). */
static int pod_running(struct hctx *c, const char *pod_msg)
{
	const json_t *cond = condition(c, "Ready"), *ctr;
	size_t i;

	if (cond != NULL && strcmp(get_str(c, cond, "status"), "True") == 0)
		return set(c, CAIRN_HEALTH_HEALTHY, "%s", pod_msg);
	json_array_foreach(geta(c, c->obj, "status.containerStatuses"), i, ctr)
	{
		if (has(ctr, "lastState.terminated"))
			return set(c, CAIRN_HEALTH_DEGRADED, "%s", pod_msg);
	}
	return set(c, CAIRN_HEALTH_PROGRESSING, "%s", pod_msg);
}

static int rule_pod(struct hctx *c)
{
	const json_t *o = c->obj;
	const char *policy = get_str(c, o, "spec.restartPolicy");
	const char *phase = get_str(c, o, "status.phase");
	const char *msg = get_str(c, o, "status.message");
	const json_t *ann = at(o, "metadata.annotations");
	int ignore_policy =
	        json_is_object(ann) &&
	        json_object_get(ann, "argocd.argoproj.io/ignore-restart-policy") != NULL;

	/* The API server defaults restartPolicy to Always. */
	if (policy[0] == '\0')
		policy = "Always";
	if (strcmp(policy, "Always") == 0 && pod_waiting_degraded(c))
		return 0;
	if (strcmp(phase, "Pending") == 0)
		return set(c, CAIRN_HEALTH_PROGRESSING, "%s", msg);
	if (strcmp(phase, "Succeeded") == 0)
		return set(c, CAIRN_HEALTH_HEALTHY, "%s", msg);
	if (strcmp(phase, "Failed") == 0)
		return pod_failed(c, msg);
	if (strcmp(phase, "Running") == 0) {
		if (ignore_policy || strcmp(policy, "Always") == 0)
			return pod_running(c, msg);
		return set(c, CAIRN_HEALTH_PROGRESSING, "%s", msg);
	}
	return set(c, CAIRN_HEALTH_UNKNOWN, "%s", msg);
}

static int rule_service(struct hctx *c)
{
	const json_t *ing;

	if (strcmp(get_str(c, c->obj, "spec.type"), "LoadBalancer") != 0)
		return set(c, CAIRN_HEALTH_HEALTHY, "%s", "");
	ing = geta(c, c->obj, "status.loadBalancer.ingress");
	return set(c, json_array_size(ing) > 0 ? CAIRN_HEALTH_HEALTHY : CAIRN_HEALTH_PROGRESSING,
	           "%s", "");
}

static int rule_ingress(struct hctx *c)
{
	const json_t *ing = geta(c, c->obj, "status.loadBalancer.ingress");

	return set(c, json_array_size(ing) > 0 ? CAIRN_HEALTH_HEALTHY : CAIRN_HEALTH_PROGRESSING,
	           "%s", "");
}

static int rule_pvc(struct hctx *c)
{
	const char *phase = get_str(c, c->obj, "status.phase");
	cairn_health_status s = CAIRN_HEALTH_UNKNOWN;

	if (strcmp(phase, "Lost") == 0)
		s = CAIRN_HEALTH_DEGRADED;
	else if (strcmp(phase, "Pending") == 0)
		s = CAIRN_HEALTH_PROGRESSING;
	else if (strcmp(phase, "Bound") == 0)
		s = CAIRN_HEALTH_HEALTHY;
	return set(c, s, "%s", "");
}

/*
 * Jobs: a Failed condition wins, then Suspended (status True), then
 * Complete; none of them yet is Progressing. As in Argo CD, a condition
 * counts by its type (Failed and Complete are only ever written True).
 */
static int rule_job(struct hctx *c)
{
	const json_t *cond;
	const char *message = "", *fail = "";
	int failed = 0, complete = 0, suspended = 0;
	size_t i;

	json_array_foreach(geta(c, c->obj, "status.conditions"), i, cond)
	{
		const char *type = get_str(c, cond, "type");

		if (strcmp(type, "Failed") == 0) {
			failed = complete = 1;
			fail = get_str(c, cond, "message");
		} else if (strcmp(type, "Complete") == 0) {
			complete = 1;
			message = get_str(c, cond, "message");
		} else if (strcmp(type, "Suspended") == 0) {
			complete = 1;
			message = get_str(c, cond, "message");
			if (strcmp(get_str(c, cond, "status"), "True") == 0)
				suspended = 1;
		}
	}
	if (!complete)
		return set(c, CAIRN_HEALTH_PROGRESSING, "%s", message);
	if (failed)
		return set(c, CAIRN_HEALTH_DEGRADED, "%s", fail);
	return set(c, suspended ? CAIRN_HEALTH_SUSPENDED : CAIRN_HEALTH_HEALTHY, "%s", message);
}

/*
 * CronJobs, after Argo CD's bundled batch/CronJob health script. The two
 * times are RFC 3339 in UTC as the API writes them, so they compare as
 * strings.
 */
static int rule_cronjob(struct hctx *c)
{
	const json_t *o = c->obj;
	const char *sched, *success;

	if (getb(c, o, "spec.suspend"))
		return set(c, CAIRN_HEALTH_SUSPENDED, "CronJob is Suspended");
	if (!json_is_object(at(o, "status")))
		return set(c, CAIRN_HEALTH_PROGRESSING, "Waiting for CronJob");
	sched = get_str(c, o, "status.lastScheduleTime");
	success = get_str(c, o, "status.lastSuccessfulTime");
	if (sched[0] == '\0')
		return set(c, CAIRN_HEALTH_HEALTHY, "CronJob has not been scheduled yet");
	if (success[0] == '\0')
		return set(c, CAIRN_HEALTH_HEALTHY,
		           "The Cronjob never completed succesfully. It may not be healthy");
	if (json_array_size(geta(c, o, "status.active")) > 0)
		return set(c, CAIRN_HEALTH_HEALTHY,
		           "The job is running. Its last execution may not have been successful");
	if (strcmp(success, sched) < 0)
		return set(c, CAIRN_HEALTH_DEGRADED,
		           "CronJob has not completed its last execution successfully");
	return set(c, CAIRN_HEALTH_HEALTHY,
	           "CronJob has completed its last execution successfully");
}

static int hpa_degraded(const char *type, const char *reason)
{
	return (strcmp(type, "AbleToScale") == 0 && (strcmp(reason, "FailedGetScale") == 0 ||
	                                             strcmp(reason, "FailedUpdateScale") == 0)) ||
	       (strcmp(type, "ScalingActive") == 0 &&
	        (strcmp(reason, "FailedGetResourceMetric") == 0 ||
	         strcmp(reason, "InvalidSelector") == 0));
}

/*
 * HPAs (autoscaling/v2 conditions): a condition with a failure reason
 * makes it Degraded; otherwise AbleToScale or ScalingLimited True makes it
 * Healthy with that condition's message; else it waits to autoscale.
 */
static int rule_hpa(struct hctx *c)
{
	const json_t *conds = geta(c, c->obj, "status.conditions"), *cond;
	const json_t *healthy = NULL;
	size_t i;

	json_array_foreach(conds, i, cond)
	{
		const char *type = get_str(c, cond, "type");

		if (hpa_degraded(type, get_str(c, cond, "reason")))
			return set(c, CAIRN_HEALTH_DEGRADED, "%s", get_str(c, cond, "message"));
		if (healthy == NULL &&
		    (strcmp(type, "AbleToScale") == 0 || strcmp(type, "ScalingLimited") == 0) &&
		    strcmp(get_str(c, cond, "status"), "True") == 0)
			healthy = cond;
	}
	if (healthy != NULL)
		return set(c, CAIRN_HEALTH_HEALTHY, "%s", get_str(c, healthy, "message"));
	return set(c, CAIRN_HEALTH_PROGRESSING, "Waiting to Autoscale");
}

static int rule_apiservice(struct hctx *c)
{
	const json_t *cond = condition(c, "Available");

	if (cond == NULL)
		return set(c, CAIRN_HEALTH_PROGRESSING, "Waiting to be processed");
	return set(c,
	           strcmp(get_str(c, cond, "status"), "True") == 0 ? CAIRN_HEALTH_HEALTHY
	                                                           : CAIRN_HEALTH_PROGRESSING,
	           "%s: %s", get_str(c, cond, "reason"), get_str(c, cond, "message"));
}

/*
 * Custom resources: Ready, else Available, in status.conditions. True is
 * Healthy, False Degraded, anything else (Unknown) Progressing; an object
 * with no status yet is Progressing; a status without either condition
 * says nothing Cairn can read, so the object has no health.
 */
static int rule_custom(struct hctx *c)
{
	const json_t *cond;
	const char *st;

	if (!has(c->obj, "status"))
		return set(c, CAIRN_HEALTH_PROGRESSING, "Waiting for status");
	cond = condition(c, "Ready");
	if (cond == NULL)
		cond = condition(c, "Available");
	if (cond == NULL)
		return 0;
	st = get_str(c, cond, "status");
	return set(c,
	           strcmp(st, "True") == 0    ? CAIRN_HEALTH_HEALTHY
	           : strcmp(st, "False") == 0 ? CAIRN_HEALTH_DEGRADED
	                                      : CAIRN_HEALTH_PROGRESSING,
	           "%s", get_str(c, cond, "message"));
}

struct rule {
	const char *group; /* "" is the core group */
	const char *kind;
	int (*fn)(struct hctx *c);
};

static const struct rule rules[] = {
        {"apps", "Deployment", rule_deployment},
        {"extensions", "Deployment", rule_deployment},
        {"apps", "StatefulSet", rule_statefulset},
        {"apps", "DaemonSet", rule_daemonset},
        {"extensions", "DaemonSet", rule_daemonset},
        {"apps", "ReplicaSet", rule_replicaset},
        {"extensions", "ReplicaSet", rule_replicaset},
        {"", "Pod", rule_pod},
        {"", "Service", rule_service},
        {"", "PersistentVolumeClaim", rule_pvc},
        {"networking.k8s.io", "Ingress", rule_ingress},
        {"extensions", "Ingress", rule_ingress},
        {"batch", "Job", rule_job},
        {"batch", "CronJob", rule_cronjob},
        {"autoscaling", "HorizontalPodAutoscaler", rule_hpa},
        {"apiregistration.k8s.io", "APIService", rule_apiservice},
};

/*
 * Whether a group belongs to Kubernetes itself: the core group, the
 * dot-less groups (apps, batch, policy...) and *.k8s.io. Everything else is
 * a custom resource that the generic conditions rule reads.
 */
static int builtin_group(const char *group)
{
	return strchr(group, '.') == NULL || has_suffix(group, ".k8s.io");
}

int cairn_health_assess(const json_t *obj, cairn_health *out)
{
	struct hctx c;
	cairn_health h;
	const char *api, *kind, *slash;
	char group[256];
	size_t i, n;

	memset(&h, 0, sizeof(h));
	if (obj == NULL) {
		h.status = CAIRN_HEALTH_MISSING;
		*out = h;
		return 0;
	}
	api = json_string_value(json_object_get(obj, "apiVersion"));
	kind = json_string_value(json_object_get(obj, "kind"));
	if (!json_is_object(obj) || api == NULL || kind == NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "object without apiVersion and kind has no health rule");
	slash = strchr(api, '/');
	n = slash != NULL ? (size_t)(slash - api) : 0;
	if (n >= sizeof(group))
		return cairn_error_set(CAIRN_EINVAL, "apiVersion '%s' is too long", api);
	memcpy(group, api, n);
	group[n] = '\0';

	memset(&c, 0, sizeof(c));
	c.obj = obj;
	c.out = &h;
	h.none = 1;
	h.status = CAIRN_HEALTH_HEALTHY;
	if (has(obj, "metadata.deletionTimestamp")) {
		set(&c, CAIRN_HEALTH_PROGRESSING, "Pending deletion");
		*out = h;
		return 0;
	}
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(rules[i].group, group) == 0 && strcmp(rules[i].kind, kind) == 0)
			break;
	}
	if (i < sizeof(rules) / sizeof(rules[0]))
		rules[i].fn(&c);
	else if (!builtin_group(group))
		rule_custom(&c);
	if (c.bad_field != NULL)
		set(&c, CAIRN_HEALTH_UNKNOWN, "%s '%s': '%s' is not %s", kind, name_of(&c),
		    c.bad_field, c.bad_type);
	*out = h;
	return 0;
}
