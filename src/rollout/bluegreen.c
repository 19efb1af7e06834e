/*
 * bluegreen.c - the blue-green state machine: the new ReplicaSet comes up
 * behind the preview Service, pre-promotion analysis, promotion (automatic,
 * after autoPromotionSeconds, or by request), the active Service switched,
 * post-promotion analysis, the old ReplicaSet scaled to zero after
 * scaleDownDelaySeconds. Re-applying the old template inside that window
 * switches straight back (ro_bluegreen_switch_back()).
 */
#include <string.h>

#include "cairn/error.h"
#include "rollout_private.h"

#define RO_POLL_US 200000

/* Wait until the new ReplicaSet has `want` ready Pods (scaling it first);
 * 1 when it has, 0 while waiting, 2 when aborted. */
static int bring_up(ro_run *r, int want)
{
	int cr, cready, rc;
	char why[256], reason[384];

	if ((rc = ro_rs_status(r->ctx->kube, r->spec.name, r->spec.ns, r->spec.hash, &cr,
	                       &cready)) < 0)
		return rc;
	if (cr != want && (rc = ro_scale(r, r->spec.hash, want)) < 0)
		return rc;
	if (cready >= want)
		return 1;
	if (cready != ro_geti(r->st, "last_ready", -1)) {
		ro_seti(r->st, "last_ready", cready);
		ro_seti(r->st, "progress_at", r->now);
	} else {
		rc = ro_rs_degraded(r->ctx->kube, r->spec.ns, r->spec.hash, why, sizeof(why));
		if (rc < 0)
			return rc;
		if (rc == 1)
			snprintf(reason, sizeof(reason), "new ReplicaSet Degraded: %s", why);
		else if (r->now - json_integer_value(json_object_get(r->st, "progress_at")) >
		         (cairn_usec)r->spec.progress_deadline_s * 1000000)
			snprintf(reason, sizeof(reason),
			         "ProgressDeadlineExceeded: ReplicaSet '%s-%s' made no progress "
			         "for %d s",
			         r->spec.name, r->spec.hash, r->spec.progress_deadline_s);
		else
			reason[0] = '\0';
		if (reason[0]) {
			rc = ro_abort(r, reason, 1);
			return rc < 0 ? rc : 2;
		}
	}
	ro_wake(r, r->now + RO_POLL_US);
	return 0;
}

/* Analysis `key`: 1 passed (or none), 0 running, 2 aborted or paused. */
static int gate(ro_run *r, const char *key, const ro_analysis *a)
{
	cairn_analysis_phase p;
	char msg[512] = "";
	int rc;

	if (!a->present)
		return 1;
	rc = ro_analysis_step(r, key, a, &p, msg, sizeof(msg));
	if (rc < 0)
		return rc;
	if (p == CAIRN_ANALYSIS_SUCCESSFUL)
		return 1;
	if (p == CAIRN_ANALYSIS_FAILED || p == CAIRN_ANALYSIS_ERROR) {
		rc = ro_abort(r, msg[0] ? msg : "analysis failed", 1);
		return rc < 0 ? rc : 2;
	}
	if (p == CAIRN_ANALYSIS_INCONCLUSIVE) {
		json_object_set_new(r->st, "paused", json_true());
		ro_phase(r, "Paused", "%s: promote to go on or abort", msg);
		ro_event(r, "pause", "rollout.step", json_pack("{s:s}", "reason", msg));
		return 2;
	}
	return 0;
}

static void stage(ro_run *r, const char *name)
{
	ro_sets(r->st, "stage", name);
	ro_seti(r->st, "stage_at", r->now);
	ro_seti(r->st, "progress_at", r->now);
	ro_event(r, "step", "rollout.step", json_pack("{s:s}", "stage", name));
}

/* Promotion: the active Service to the new ReplicaSet at full size. */
static int promote(ro_run *r)
{
	int rc = bring_up(r, r->spec.replicas);

	if (rc != 1)
		return rc;
	if ((rc = ro_select(r, r->spec.active_service, r->spec.hash, 1)) < 0)
		return rc;
	ro_event(r, "promote", "rollout.promoted",
	         json_pack("{s:s,s:s}", "service", r->spec.active_service, "hash", r->spec.hash));
	stage(r, "post");
	return 1;
}

/* Completion: the old ReplicaSet waits for its scale-down delay. */
static int finish(ro_run *r)
{
	const char *stable = ro_gets(r->st, "stable_hash");
	int rc;

	if (stable != NULL && strcmp(stable, r->spec.hash) != 0) {
		ro_sets(r->st, "old_hash", stable);
		json_object_set(r->st, "old_rollout", json_object_get(r->st, "stable_rollout"));
		ro_seti(r->st, "old_down_at",
		        r->now + (cairn_usec)r->spec.scale_down_delay_s * 1000000);
		ro_wake(r, r->now + (cairn_usec)r->spec.scale_down_delay_s * 1000000);
	}
	/* the Services keep the hash key (ours) but lose the mark: sync may
	 * update them again */
	if ((rc = ro_select(r, r->spec.active_service, r->spec.hash, 0)) < 0)
		return rc;
	if (r->spec.preview_service != NULL &&
	    (rc = ro_select(r, r->spec.preview_service, r->spec.hash, 0)) < 0)
		return rc;
	return ro_complete(r);
}

/* The old ReplicaSet's delay passed: scale it to zero. */
static int scale_down_old(ro_run *r)
{
	cairn_usec at = json_integer_value(json_object_get(r->st, "old_down_at"));
	const char *old = ro_gets(r->st, "old_hash");
	int rc;

	if (old == NULL)
		return 0;
	if (r->now < at) {
		ro_wake(r, at);
		return 0;
	}
	if ((rc = ro_scale(r, old, 0)) < 0)
		return rc;
	ro_sets(r->st, "old_hash", NULL);
	json_object_del(r->st, "old_rollout");
	json_object_del(r->st, "old_down_at");
	return 0;
}

static int advance_stage(ro_run *r, const char *st)
{
	const char *promote_req = ro_gets(r->st, "promote");
	int full = promote_req && strcmp(promote_req, "promote-full") == 0;
	int rc;

	if (strcmp(st, "init") == 0) {
		rc = bring_up(r, r->spec.replicas);
		if (rc != 1)
			return rc;
		rc = finish(r);
		return rc < 0 ? rc : 2;
	}
	if (strcmp(st, "preview") == 0) {
		rc = bring_up(r, r->spec.preview_replicas >= 0 ? r->spec.preview_replicas
		                                               : r->spec.replicas);
		if (rc != 1)
			return rc;
		if (r->spec.preview_service &&
		    (rc = ro_select(r, r->spec.preview_service, r->spec.hash, 1)) < 0)
			return rc;
		stage(r, "pre");
		return 1;
	}
	if (strcmp(st, "pre") == 0) {
		rc = full ? 1 : gate(r, "pre", &r->spec.pre_analysis);
		if (rc != 1)
			return rc;
		stage(r, "await");
		return 1;
	}
	if (strcmp(st, "await") == 0) {
		if (promote_req == NULL && !r->spec.auto_promotion) {
			ro_phase(r, "Paused", "%s", "waiting for promotion");
			return 0;
		}
		cairn_usec at = json_integer_value(json_object_get(r->st, "stage_at")) +
		                (cairn_usec)r->spec.auto_promotion_s * 1000000;
		if (promote_req == NULL && r->now < at) {
			ro_wake(r, at);
			return 0;
		}
		json_object_del(r->st, "promote");
		if (full)
			json_object_set_new(r->st, "promote", json_string("promote-full"));
		ro_phase(r, "Progressing", "%s", "promoting");
		stage(r, "promote");
		return 1;
	}
	if (strcmp(st, "promote") == 0)
		return promote(r);
	if (strcmp(st, "post") == 0) {
		rc = full ? 1 : gate(r, "post", &r->spec.post_analysis);
		if (rc != 1)
			return rc;
		json_object_del(r->st, "promote");
		rc = finish(r);
		return rc < 0 ? rc : 2;
	}
	return cairn_error_set(CAIRN_ECORRUPT, "rollout '%s': unknown blue-green stage '%s'",
	                       r->spec.name, st);
}

int ro_bluegreen_advance(ro_run *r)
{
	int guard, rc = 0;

	r->now = ro_now(r);
	if ((rc = scale_down_old(r)) < 0)
		return rc;
	if (ro_gets(r->st, "canary_hash") == NULL)
		return 0;
	if (ro_gets(r->st, "stage") == NULL)
		stage(r, "preview");
	for (guard = 0; guard < 8 && !r->done; guard++) {
		rc = advance_stage(r, ro_gets(r->st, "stage"));
		if (rc != 1)
			return rc < 0 ? rc : 0;
	}
	return 0;
}

int ro_bluegreen_switch_back(ro_run *r, const json_t *rollout, const char *rev)
{
	const char *old = ro_gets(r->st, "old_hash");
	const char *stable = ro_gets(r->st, "stable_hash");
	json_t *cur = json_incref(json_object_get(r->st, "stable_rollout"));
	char prev[16];
	int rc;

	snprintf(prev, sizeof(prev), "%s", stable ? stable : "");
	r->now = ro_now(r);
	/* the spec borrows from the Rollout it was parsed from: take the new
	 * one's before the status lets go of the old */
	if ((rc = ro_spec_parse(&r->spec, rollout)) < 0)
		goto out;
	if ((rc = ro_select(r, r->spec.active_service, old, 0)) < 0)
		goto out;
	if (r->spec.preview_service && (rc = ro_select(r, r->spec.preview_service, old, 0)) < 0)
		goto out;
	json_object_set(r->st, "stable_rollout", (json_t *)rollout);
	json_object_set(r->st, "rollout", (json_t *)rollout);
	ro_sets(r->st, "stable_hash", old);
	ro_sets(r->st, "revision", rev);
	/* the template just left waits for the delay in its turn */
	ro_sets(r->st, "old_hash", prev);
	json_object_set(r->st, "old_rollout", cur);
	ro_seti(r->st, "old_down_at", r->now + (cairn_usec)r->spec.scale_down_delay_s * 1000000);
	ro_wake(r, r->now + (cairn_usec)r->spec.scale_down_delay_s * 1000000);
	ro_phase(r, "Healthy", "switched back to %s inside the scale-down window",
	         ro_gets(r->st, "stable_hash"));
	ro_event(r, "switch", "rollout.promoted",
	         json_pack("{s:s,s:s,s:s}", "service", r->spec.active_service, "hash",
	                   ro_gets(r->st, "stable_hash"), "from", prev));
out:
	json_decref(cur);
	return rc;
}
