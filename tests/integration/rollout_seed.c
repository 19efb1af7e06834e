/*
 * rollout_seed.c - test helper of rollout_cli.sh: writes rollout rows and
 * events through the state API (there is no engine run in that test), and
 * reads back what the CLI wrote.
 *
 *   rollout_seed DIR seed                    the fixed set of rows below
 *   rollout_seed DIR take APP ENV NAME       print and clear the pending request
 *   rollout_seed DIR phase APP ENV NAME PH   set the phase of a row
 *   rollout_seed DIR event APP ENV NAME KIND add an event
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/state.h"

static int put(cairn_state *st, int64_t *id, cairn_state_rollout *r)
{
	if (cairn_state_rollout_put(id, st, r) != 0) {
		fprintf(stderr, "rollout_seed: %s\n", cairn_error_last()->message);
		return -1;
	}
	return 0;
}

static int event(cairn_state *st, int64_t id, const char *kind, json_t *data, cairn_usec at)
{
	int rc = cairn_state_rollout_event_add(NULL, st, id, kind, data, at);

	json_decref(data);
	if (rc != 0)
		fprintf(stderr, "rollout_seed: %s\n", cairn_error_last()->message);
	return rc;
}

/* guestbook/prod: a canary at step 2 of 3; api: blue-green in dev, rolled back in prod;
 * shop/dev: two rollouts (the candidate error). */
static int seed(cairn_state *st)
{
	cairn_usec now = cairn_time_now();
	json_t *status =
	        json_pack("{s:{s:{s:{s:{s:[{s:i},{s:{}},{s:i}]}}}}}", "rollout", "spec", "strategy",
	                  "canary", "steps", "setWeight", 20, "pause", "setWeight", 50);
	cairn_state_rollout gb = {.app = "guestbook",
	                          .env = "prod",
	                          .name = "web",
	                          .namespace_ = "shop",
	                          .strategy = "canary",
	                          .phase = "Paused",
	                          .revision = "1a2b3c4d5e6f",
	                          .stable_hash = "5d8f9",
	                          .canary_hash = "7c4b2",
	                          .step = 1,
	                          .weight = 20,
	                          .message = "paused at step 2: waiting for promote",
	                          .status = status,
	                          .started_at = now - 300 * 1000000LL};
	cairn_state_rollout bg = {.app = "api",
	                          .env = "dev",
	                          .name = "api",
	                          .namespace_ = "api",
	                          .strategy = "blueGreen",
	                          .phase = "Healthy",
	                          .revision = "9f8e7d6",
	                          .stable_hash = "aaaa",
	                          .step = -1,
	                          .weight = 0};
	cairn_state_rollout deg = bg;
	cairn_state_rollout two = bg;
	int64_t id = 0;
	int rc = put(st, &id, &gb);

	json_decref(status);
	if (rc == 0)
		rc = event(st, id, "start", json_pack("{s:s}", "revision", "1a2b3c4"),
		           now - 290 * 1000000LL);
	if (rc == 0)
		rc = event(st, id, "weight", json_pack("{s:i}", "weight", 20),
		           now - 280 * 1000000LL);
	if (rc == 0)
		rc = event(st, id, "measurement",
		           json_pack("{s:s, s:f, s:s, s:s}", "metric", "error-ratio", "value",
		                     0.012, "phase", "Successful", "query",
		                     "sum(rate(errors{rs=\"7c4b2\"}[1m]))"),
		           now - 200 * 1000000LL);
	deg.env = "prod";
	deg.strategy = "canary";
	deg.phase = "Degraded";
	deg.failed_revision = "bad0bad0";
	deg.failed_reason = "analysis 'error-ratio' failed";
	deg.message = "rolled back from bad0bad: analysis 'error-ratio' failed";
	if (rc == 0)
		rc = put(st, NULL, &bg);
	if (rc == 0)
		rc = put(st, NULL, &deg);
	two.app = "shop";
	two.name = "front";
	if (rc == 0)
		rc = put(st, NULL, &two);
	two.name = "back";
	if (rc == 0)
		rc = put(st, NULL, &two);
	return rc;
}

int main(int argc, char **argv)
{
	cairn_state *st = NULL;
	cairn_state_rollout *r = NULL;
	char *req = NULL;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: rollout_seed DIR seed|take|phase|event ...\n");
		return 2;
	}
	if (cairn_state_open(&st, argv[1], CAIRN_STATE_CREATE) != 0) {
		fprintf(stderr, "rollout_seed: %s\n", cairn_error_last()->message);
		return 1;
	}
	if (strcmp(argv[2], "seed") == 0) {
		rc = seed(st);
	} else if (strcmp(argv[2], "take") == 0 && argc == 6) {
		rc = cairn_state_rollout_take_request(&req, st, argv[3], argv[4], argv[5]);
		if (rc == 0)
			printf("%s\n", req ? req : "(none)");
		free(req);
	} else if (strcmp(argv[2], "phase") == 0 && argc == 7) {
		rc = cairn_state_rollout_get(&r, st, argv[3], argv[4], argv[5]);
		if (rc == 0) {
			r->phase = argv[6];
			rc = cairn_state_rollout_put(NULL, st, r);
		}
	} else if (strcmp(argv[2], "event") == 0 && argc == 7) {
		rc = cairn_state_rollout_get(&r, st, argv[3], argv[4], argv[5]);
		if (rc == 0)
			rc = event(st, r->id, argv[6], json_pack("{s:s}", "note", "seeded"), 0);
	} else {
		fprintf(stderr, "rollout_seed: bad arguments\n");
		rc = -1;
	}
	if (rc != 0 && cairn_error_last()->code != 0)
		fprintf(stderr, "rollout_seed: %s\n", cairn_error_last()->message);
	cairn_state_rollout_free(r);
	cairn_state_close(st);
	return rc == 0 ? 0 : 1;
}
