/*
 * canary.c - the canary state machine: setWeight (replica counts as Argo's
 * basic canary, the router told), pause (timed or until promoted), inline
 * analysis, setCanaryScale, background analysis from its starting step,
 * and the progress deadline / Degraded canary that abort. Each call goes as
 * far as it can without waiting and says when to call again.
 */
#include <string.h>

#include "cairn/error.h"
#include "rollout_private.h"

/* How often to look at Pods while waiting for them. */
#define RO_POLL_US 200000

/* The Pods of the canary crash-loop or the progress deadline passed. */
static int check_progress(ro_run *r, int ready_changed, int *aborted)
{
	char why[256], reason[384];
	int rc;

	*aborted = 0;
	if (ready_changed) {
		ro_seti(r->st, "progress_at", r->now);
		ro_wake(r, r->now + RO_POLL_US);
		return 0;
	}
	rc = ro_rs_degraded(r->ctx->kube, r->spec.ns, r->spec.hash, why, sizeof(why));
	if (rc < 0)
		return rc;
	if (rc == 1) {
		snprintf(reason, sizeof(reason), "canary Degraded: %s", why);
		*aborted = 1;
		return ro_abort(r, reason, 1);
	}
	if (r->now - json_integer_value(json_object_get(r->st, "progress_at")) >
	    (cairn_usec)r->spec.progress_deadline_s * 1000000) {
		snprintf(reason, sizeof(reason),
		         "ProgressDeadlineExceeded: ReplicaSet '%s-%s' made no progress for %d s",
		         r->spec.name, r->spec.hash, r->spec.progress_deadline_s);
		*aborted = 1;
		return ro_abort(r, reason, 1);
	}
	ro_wake(r, r->now + RO_POLL_US);
	return 0;
}

/*
 * Move the replica counts towards `weight`: one scale of each ReplicaSet at
 * most per call. *reached is 1 when both are at their targets and the
 * canary's Pods are ready.
 */
static int set_weight(ro_run *r, int weight, int *reached, int *aborted)
{
	const char *stable = ro_gets(r->st, "stable_hash");
	int cr, cready, sr = 0, sready = 0, c, s, tc, ts, rc;
	int target = ro_geti(r->st, "canary_scale", -1);

	*reached = *aborted = 0;
	if ((rc = ro_rs_status(r->ctx->kube, r->spec.name, r->spec.ns, r->spec.hash, &cr,
	                       &cready)) < 0 ||
	    (stable &&
	     (rc = ro_rs_status(r->ctx->kube, r->spec.name, r->spec.ns, stable, &sr, &sready)) < 0))
		return rc;
	if (!stable)
		weight = 100;
	ro_canary_counts(&c, &s, r->spec.replicas, weight, target, r->spec.max_surge,
	                 r->spec.max_unavailable, cr, sr, cready, sready);
	if (c != cr && (rc = ro_scale(r, r->spec.hash, c)) < 0)
		return rc;
	if (stable && s != sr && (rc = ro_scale(r, stable, s)) < 0)
		return rc;
	if ((rc = ro_router_replica_ratio.set_weight(NULL, weight)) < 0)
		return rc;
	if (ro_geti(r->st, "weight", 0) != weight) {
		ro_seti(r->st, "weight", weight);
		ro_event(r, "weight", NULL,
		         json_pack("{s:i,s:i,s:i}", "weight", weight, "canary", c, "stable", s));
	}
	/* the final counts of this weight */
	ro_canary_counts(&tc, &ts, r->spec.replicas, weight, target, 1000000, 1000000, 0, 1000000,
	                 0, 0);
	if (c == tc && cready >= tc && (!stable || s == ts) &&
	    ro_router_replica_ratio.verify(NULL)) {
		*reached = 1;
		ro_seti(r->st, "progress_at", r->now);
		return 0;
	}
	rc = check_progress(r, cready != ro_geti(r->st, "last_ready", -1), aborted);
	ro_seti(r->st, "last_ready", cready);
	return rc;
}

/* An analysis outcome: go on (1), wait (0), or abort/pause (handled). */
static int analysis_gate(ro_run *r, const char *key, const ro_analysis *a, int *go)
{
	cairn_analysis_phase p;
	char msg[512] = "";
	int rc;

	*go = 0;
	rc = ro_analysis_step(r, key, a, &p, msg, sizeof(msg));
	if (rc < 0)
		return rc;
	switch (p) {
	case CAIRN_ANALYSIS_SUCCESSFUL:
		*go = 1;
		return 0;
	case CAIRN_ANALYSIS_FAILED:
	case CAIRN_ANALYSIS_ERROR:
		*go = -1;
		return ro_abort(r, msg[0] ? msg : "analysis failed", 1);
	case CAIRN_ANALYSIS_INCONCLUSIVE:
		*go = -1;
		json_object_set_new(r->st, "paused", json_true());
		ro_phase(r, "Paused", "%s: promote to go on or abort", msg);
		ro_event(r, "pause", "rollout.step", json_pack("{s:s}", "reason", msg));
		return 0;
	default:
		return 0;
	}
}

static void next_step(ro_run *r, int step)
{
	ro_seti(r->st, "step", step + 1);
	json_object_del(r->st, "pause_until");
	ro_seti(r->st, "progress_at", r->now);
	ro_phase(r, "Progressing", "step %d of %zu",
	         step + 2 > (int)r->spec.n_steps ? (int)r->spec.n_steps : step + 2,
	         r->spec.n_steps);
	ro_event(r, "step", "rollout.step",
	         json_pack("{s:i,s:i}", "step", step + 1, "weight", ro_geti(r->st, "weight", 0)));
}

/* One step; *go: 1 moved on, 0 waits, -1 stopped (aborted or paused). */
static int run_step(ro_run *r, int step, int *go)
{
	const ro_step *s = &r->spec.steps[step];
	const char *promote = ro_gets(r->st, "promote");
	char key[32];
	int reached = 0, aborted = 0, rc = 0;
	cairn_usec until;

	*go = 0;
	if (promote != NULL && strcmp(promote, "promote") == 0 && s->kind != RO_STEP_WEIGHT) {
		json_object_del(r->st, "promote"); /* skips this pause or analysis */
		snprintf(key, sizeof(key), "step%d", step);
		ro_analysis_drop(r, key);
		*go = 1;
		return 0;
	}
	switch (s->kind) {
	case RO_STEP_WEIGHT:
		rc = set_weight(r, s->weight, &reached, &aborted);
		*go = aborted ? -1 : reached;
		if (promote != NULL && reached)
			json_object_del(r->st, "promote");
		return rc;
	case RO_STEP_PAUSE:
		if (s->pause_ns < 0) {
			ro_phase(r, "Paused", "paused at step %d until promoted", step);
			*go = -1;
			return 0;
		}
		until = json_integer_value(json_object_get(r->st, "pause_until"));
		if (until == 0) {
			until = r->now + s->pause_ns / 1000;
			ro_seti(r->st, "pause_until", until);
			ro_phase(r, "Paused", "paused at step %d for %lld ms", step,
			         (long long)(s->pause_ns / 1000000));
		}
		if (r->now >= until)
			*go = 1;
		else
			ro_wake(r, until);
		return 0;
	case RO_STEP_ANALYSIS:
		snprintf(key, sizeof(key), "step%d", step);
		return analysis_gate(r, key, &s->analysis, go);
	case RO_STEP_SCALE:
		ro_seti(r->st, "canary_scale",
		        s->scale_match           ? -1
		        : s->scale_replicas >= 0 ? s->scale_replicas
		                                 : (s->scale_weight * r->spec.replicas + 99) / 100);
		*go = 1;
		return 0;
	}
	return 0;
}

/*
 * The Services of a running canary, as Argo's canary without traffic
 * routing: stableService on the stable ReplicaSet (on the canary's when
 * there is no stable yet), canaryService on the canary's, both marked so
 * that sync leaves them alone meanwhile. Written once per change
 * (ro_point()). A Service the cluster lacks stops the rollout before any
 * scale: Degraded with the message, tried again every second.
 */
static int canary_services(ro_run *r)
{
	const char *canary = ro_gets(r->st, "canary_hash");
	const char *stable = ro_gets(r->st, "stable_hash");
	int rc;

	if (canary == NULL)
		return 0;
	if ((rc = ro_point(r, r->spec.stable_service, stable ? stable : canary, 1)) == 0)
		rc = ro_point(r, r->spec.canary_service, canary, 1);
	if (rc == CAIRN_ENOTFOUND) {
		ro_phase(r, "Degraded", "%s", cairn_error_last()->message);
		json_object_set_new(r->st, "invalid_spec", json_true());
		ro_wake(r, r->now + 1000000);
		(void)ro_save(r); /* the error below is what the caller reports */
		return rc;
	}
	if (rc == 0 && json_object_get(r->st, "invalid_spec") != NULL) {
		json_object_del(r->st, "invalid_spec");
		ro_phase(r, "Progressing", "rolling out %s", canary);
	}
	return rc;
}

/* After the last step: the canary to full size, the stable to zero, both
 * Services on the new stable and unmarked. */
static int finish(ro_run *r)
{
	int reached, aborted, rc;

	json_object_del(r->st, "canary_scale");
	rc = set_weight(r, 100, &reached, &aborted);
	if (rc < 0 || aborted || !reached)
		return rc;
	if ((rc = ro_point(r, r->spec.stable_service, r->spec.hash, 0)) < 0 ||
	    (rc = ro_point(r, r->spec.canary_service, r->spec.hash, 0)) < 0)
		return rc;
	return ro_complete(r);
}

int ro_canary_advance(ro_run *r)
{
	int guard, go, step, rc = 0;

	r->now = ro_now(r);
	if ((rc = canary_services(r)) < 0)
		return rc;
	for (guard = 0; guard < 2 * RO_MAX_STEPS + 4 && !r->done; guard++) {
		step = ro_geti(r->st, "step", 0);
		if (ro_gets(r->st, "stage") != NULL || step >= (int)r->spec.n_steps ||
		    (ro_gets(r->st, "promote") &&
		     strcmp(ro_gets(r->st, "promote"), "promote-full") == 0))
			return finish(r);
		if (r->spec.background.present && step >= r->spec.background.starting_step) {
			rc = analysis_gate(r, "background", &r->spec.background, &go);
			if (rc < 0 || go < 0)
				return rc;
		}
		rc = run_step(r, step, &go);
		if (rc < 0 || go <= 0)
			return rc;
		next_step(r, step);
	}
	return rc;
}
