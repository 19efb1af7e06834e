/*
 * traffic.c - the traffic-router interface and its one implementation,
 * replica-ratio: canary and stable ReplicaSets sit behind the same Service,
 * so the canary's share of the traffic is its share of the ready Pods. The
 * state machines call a router after each scale; a router for NGINX, the
 * Gateway API or Istio would move the weight itself and report through
 * verify() when the data plane follows (docs/rollout.md).
 */
#include <math.h>

#include "rollout_private.h"

/* The replica counts are the weight: nothing more to move. */
static int ratio_set_weight(void *ctx, int weight)
{
	(void)ctx;
	(void)weight;
	return 0;
}

static int ratio_verify(void *ctx)
{
	(void)ctx;
	return 1;
}

const ro_router ro_router_replica_ratio = {"replica-ratio", ratio_set_weight, ratio_verify};

static int imin(int a, int b)
{
	return a < b ? a : b;
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

/*
 * Argo's basic canary (no traffic routing): the canary's target is
 * ceil(weight x replicas / 100), the stable's the rest. Scaling down is
 * safe at once (the canary never above its target, the stable never below
 * the replicas the weight leaves it); scaling up the canary is bounded by
 * the surge (the sum of both never above replicas + maxSurge) and scaling
 * down the stable by what is ready (ready Pods never below replicas -
 * maxUnavailable). Each call moves one step; the next call, after Pods
 * became ready, moves further.
 */
void ro_canary_counts(int *canary, int *stable, int replicas, int weight, int canary_target,
                      int surge, int unavail, int cur_canary, int cur_stable, int ready_canary,
                      int ready_stable)
{
	int by_weight = (int)ceil((double)weight * replicas / 100.0);
	int tc = canary_target >= 0 ? imin(canary_target, replicas) : by_weight;
	int ts = weight >= 100 ? 0 : replicas - by_weight;
	int c = cur_canary, s = cur_stable;
	int min_avail = replicas - unavail;

	(void)ready_stable;
	if (tc < c)
		c = tc;
	if (ts > s)
		s = ts;
	if (tc > c)
		c = imin(tc, imax(c, replicas + surge - s));
	if (ts < s)
		s = imin(s, imax(ts, min_avail - ready_canary));
	*canary = c;
	*stable = s;
}
