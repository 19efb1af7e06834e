/*
 * kube_health.c - health assessment, object by object, against Argo CD's
 * rules: each golden input under tests/unit/data/health/ with the status
 * and message Argo CD gives it (messages taken from gitops-engine's
 * pkg/health and Argo CD's bundled batch/CronJob health script and its
 * health_test.yaml, not from our output).
 */
#include <check.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/yaml.h"
#include "kube_tests.h"
#include "testutil.h"

/* Load the one document of a golden file; the test owns the reference. */
static json_t *load_case(const char *name)
{
	char rel[256], path[1024];
	json_t *docs = NULL, *doc;

	snprintf(rel, sizeof(rel), "health/%s.yaml", name);
	test_data_path(path, sizeof(path), rel);
	ck_assert_msg(cairn_yaml_load_file(&docs, NULL, path, NULL) == 0, "load %s: %s", path,
	              cairn_error_last()->message);
	ck_assert_int_eq(json_array_size(docs), 1);
	doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return doc;
}

struct golden {
	const char *file;
	cairn_health_status status;
	const char *message;
};

#define H CAIRN_HEALTH_HEALTHY
#define P CAIRN_HEALTH_PROGRESSING
#define D CAIRN_HEALTH_DEGRADED
#define S CAIRN_HEALTH_SUSPENDED
#define U CAIRN_HEALTH_UNKNOWN

static const struct golden goldens[] = {
        {"deployment-healthy", H, ""},
        {"deployment-paused", S, "Deployment is paused"},
        {"deployment-generation", P,
         "Waiting for rollout to finish: observed deployment generation less than desired "
         "generation"},
        {"deployment-deadline", D, "Deployment \"web\" exceeded its progress deadline"},
        {"deployment-updating", P,
         "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."},
        {"deployment-oldpending", P,
         "Waiting for rollout to finish: 2 old replicas are pending termination..."},
        {"deployment-unavailable", P,
         "Waiting for rollout to finish: 2 of 3 updated replicas are available..."},
        {"deployment-badtype", U, "Deployment 'web': 'spec.replicas' is not an integer"},
        {"deleting", P, "Pending deletion"},

        {"statefulset-healthy", H,
         "statefulset rolling update complete 3 pods at revision db-7d9c..."},
        {"statefulset-unobserved", P, "Waiting for statefulset spec update to be observed..."},
        {"statefulset-notready", P, "Waiting for 2 pods to be ready..."},
        {"statefulset-rolling", P,
         "waiting for statefulset rolling update to complete 1 pods at revision db-85f1..."},
        {"statefulset-partition-progressing", P,
         "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated..."},
        {"statefulset-partition-done", H,
         "partitioned roll out complete: 3 new pods have been updated..."},
        {"statefulset-ondelete", H, "statefulset has 3 ready pods (1 updated)"},

        {"daemonset-healthy", H, ""},
        {"daemonset-generation", P,
         "Waiting for rollout to finish: observed daemon set generation less than desired "
         "generation"},
        {"daemonset-updating", P,
         "Waiting for daemon set \"agent\" rollout to finish: 2 out of 4 new pods have been "
         "updated..."},
        {"daemonset-unavailable", P,
         "Waiting for daemon set \"agent\" rollout to finish: 3 of 4 updated pods are "
         "available..."},
        {"daemonset-ondelete", H, "daemon set 1 out of 4 new pods have been updated"},

        {"replicaset-healthy", H, ""},
        {"replicaset-progressing", P,
         "Waiting for rollout to finish: 1 out of 2 new replicas are available..."},
        {"replicaset-generation", P,
         "Waiting for rollout to finish: observed replica set generation less than desired "
         "generation"},
        {"replicaset-failure", D, "pods \"web-6b7f-\" is forbidden: exceeded quota: compute"},

        {"pod-running", H, ""},
        {"pod-crashloop", D,
         "back-off 2m40s restarting failed container=main pod=web-6b7f-x2k4p_shop(1f2e)"},
        {"pod-imagepull", D,
         "Back-off pulling image \"web:nope\", rpc error: code = NotFound desc = failed to pull "
         "\"proxy:nope\""},
        {"pod-pending", P, "0/3 nodes are available: 3 Insufficient cpu."},
        {"pod-notready", P, ""},
        {"pod-restarted-notready", D, "readiness probe failing"},
        {"pod-failed-exitcode", D, "container \"main\" failed with exit code 2"},
        {"pod-failed-oom", D, "OOMKilled"},
        {"pod-failed-message", D, "The node was low on resource: memory."},
        {"pod-succeeded", H, ""},
        {"pod-hook-running", P, ""},
        {"pod-hook-ignore-policy", H, ""},
        {"pod-never-backoff", P, "waiting for image"},

        {"service-clusterip", H, ""},
        {"service-lb-pending", P, ""},
        {"service-lb-ready", H, ""},
        {"ingress-ip", H, ""},
        {"ingress-hostname", H, ""},
        {"ingress-pending", P, ""},

        {"pvc-bound", H, ""},
        {"pvc-pending", P, ""},
        {"pvc-lost", D, ""},
        {"pvc-nostatus", U, ""},

        {"job-complete", H, "Reached expected number of succeeded pods"},
        {"job-failed", D, "Job has reached the specified backoff limit"},
        {"job-running", P, ""},
        {"job-suspended", S, "Job suspended"},

        {"cronjob-healthy", H, "CronJob has completed its last execution successfully"},
        {"cronjob-degraded", D, "CronJob has not completed its last execution successfully"},
        {"cronjob-suspended", S, "CronJob is Suspended"},
        {"cronjob-active", H,
         "The job is running. Its last execution may not have been successful"},
        {"cronjob-never-succeeded", H,
         "The Cronjob never completed succesfully. It may not be healthy"},
        {"cronjob-never-scheduled", H, "CronJob has not been scheduled yet"},
        {"cronjob-nostatus", P, "Waiting for CronJob"},

        {"hpa-healthy", H, "recommended size matches current size"},
        {"hpa-degraded", D,
         "the HPA was unable to compute the replica count: failed to get cpu utilization"},
        {"hpa-progressing", P, "Waiting to Autoscale"},

        {"apiservice-available", H, "Passed: all checks passed"},
        {"apiservice-unavailable", P,
         "MissingEndpoints: endpoints for service/metrics-server in \"kube-system\" have no "
         "addresses"},
        {"apiservice-new", P, "Waiting to be processed"},

        {"crd-ready", H, "Certificate is up to date and has not expired"},
        {"crd-not-ready", D, "Issuing certificate as Secret does not exist"},
        {"crd-nostatus", P, "Waiting for status"},
        {"crd-available", H, "widget is serving"},
        {"crd-unknown-condition", P, "reconciling"},
};

START_TEST(test_health_golden)
{
	const struct golden *g = &goldens[_i];
	json_t *obj = load_case(g->file);
	cairn_health h;

	memset(&h, 0x5a, sizeof(h));
	ck_assert_int_eq(cairn_health_assess(obj, &h), 0);
	ck_assert_msg(h.none == 0, "%s: no health", g->file);
	ck_assert_msg(h.status == g->status, "%s: status %s, want %s", g->file,
	              cairn_health_status_string(h.status), cairn_health_status_string(g->status));
	ck_assert_msg(strcmp(h.message, g->message) == 0, "%s: message '%s', want '%s'", g->file,
	              h.message, g->message);
	json_decref(obj);
}
END_TEST

/* Kinds without a health check have no health, not Healthy. */
START_TEST(test_health_none)
{
	static const char *const files[] = {"configmap", "crd-no-ready"};
	size_t i;

	for (i = 0; i < 2; i++) {
		json_t *obj = load_case(files[i]);
		cairn_health h;

		ck_assert_int_eq(cairn_health_assess(obj, &h), 0);
		ck_assert_msg(h.none == 1, "%s has health %s", files[i],
		              cairn_health_status_string(h.status));
		json_decref(obj);
	}
}
END_TEST

START_TEST(test_health_missing_and_errors)
{
	cairn_health h;
	json_t *bad = json_pack("{s:s}", "kind", "Deployment");
	json_t *arr = json_array();

	ck_assert_int_eq(cairn_health_assess(NULL, &h), 0);
	ck_assert_int_eq(h.status, CAIRN_HEALTH_MISSING);
	ck_assert_int_eq(h.none, 0);

	h.status = CAIRN_HEALTH_SUSPENDED;
	ck_assert_int_eq(cairn_health_assess(bad, &h), CAIRN_EINVAL);
	ck_assert_error_contains("without apiVersion and kind");
	ck_assert_int_eq(h.status, CAIRN_HEALTH_SUSPENDED);
	ck_assert_int_eq(cairn_health_assess(arr, &h), CAIRN_EINVAL);
	json_decref(bad);
	json_decref(arr);
}
END_TEST

START_TEST(test_health_order_and_names)
{
	static const char *const names[] = {"Healthy", "Suspended", "Progressing",
	                                    "Missing", "Degraded",  "Unknown"};
	cairn_health_status s;
	size_t i;

	for (i = 0; i < 6; i++) {
		ck_assert_str_eq(cairn_health_status_string((cairn_health_status)i), names[i]);
		ck_assert_int_eq(cairn_health_status_parse(&s, names[i]), 0);
		ck_assert_int_eq(s, (cairn_health_status)i);
		if (i > 0)
			ck_assert_int_eq(cairn_health_worst((cairn_health_status)(i - 1),
			                                    (cairn_health_status)i),
			                 (cairn_health_status)i);
	}
	ck_assert_int_eq(cairn_health_worst(CAIRN_HEALTH_DEGRADED, CAIRN_HEALTH_MISSING),
	                 CAIRN_HEALTH_DEGRADED);
	ck_assert_int_eq(cairn_health_status_parse(&s, "healthy"), CAIRN_EINVAL);
	ck_assert_error_contains("unknown health status 'healthy'");
}
END_TEST

START_TEST(test_health_aggregate)
{
	cairn_health acc, none, ok, prog, sus;

	memset(&acc, 0, sizeof(acc));
	acc.none = 1;
	memset(&none, 0, sizeof(none));
	none.none = 1;
	none.status = CAIRN_HEALTH_UNKNOWN;
	memset(&ok, 0, sizeof(ok));
	ok.status = CAIRN_HEALTH_HEALTHY;
	prog = ok;
	prog.status = CAIRN_HEALTH_PROGRESSING;
	snprintf(prog.message, sizeof(prog.message), "waiting");
	sus = ok;
	sus.status = CAIRN_HEALTH_SUSPENDED;

	cairn_health_aggregate(&acc, &none);
	ck_assert_int_eq(acc.none, 1);
	cairn_health_aggregate(&acc, &ok);
	ck_assert_int_eq(acc.none, 0);
	ck_assert_int_eq(acc.status, CAIRN_HEALTH_HEALTHY);
	cairn_health_aggregate(&acc, &prog);
	cairn_health_aggregate(&acc, &sus);
	cairn_health_aggregate(&acc, &none);
	ck_assert_int_eq(acc.status, CAIRN_HEALTH_PROGRESSING);
	ck_assert_str_eq(acc.message, "waiting");
}
END_TEST

void kube_health_tests(Suite *s)
{
	TCase *tc = tcase_create("health");

	tcase_add_loop_test(tc, test_health_golden, 0, (int)(sizeof(goldens) / sizeof(goldens[0])));
	tcase_add_test(tc, test_health_none);
	tcase_add_test(tc, test_health_missing_and_errors);
	tcase_add_test(tc, test_health_order_and_names);
	tcase_add_test(tc, test_health_aggregate);
	suite_add_tcase(s, tc);
}
