/*
 * analysis_run.c - run an AnalysisTemplate against real providers in real
 * time, for tests/integration/analysis.sh:
 *
 *   analysis_run TEMPLATE.yaml [--arg NAME=VALUE]... [--deadline SECONDS]
 *                [--kubeconfig PATH]   (for the kubernetes provider)
 *
 * Prints one line per measurement ("measure METRIC PHASE value=... msg=...")
 * and a last line "phase PHASE"; exits 0 when the run is Successful, 1 for
 * any other end, 2 on a usage or template error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/analysis.h"
#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/util.h"
#include "cairn/yaml.h"

#define MAX_ARGS 16

static void sleep_until(cairn_usec at)
{
	cairn_usec now = cairn_time_now();

	if (at > now) {
		struct timespec ts = {(at - now) / 1000000, ((at - now) % 1000000) * 1000};

		nanosleep(&ts, NULL);
	}
}

/* Measure and record until the run completes or the deadline passes. */
static cairn_analysis_phase drive(cairn_analysis_run *run, cairn_usec deadline,
                                  cairn_kube_client *kube)
{
	cairn_analysis_ctx ctx = CAIRN_ANALYSIS_CTX_INIT;
	cairn_analysis_next nx;

	ctx.kube = kube;
	for (;;) {
		cairn_usec now = cairn_time_now(), t0;
		const cairn_analysis_metric *m;
		cairn_analysis_metric_status st;
		cairn_value *v = NULL;
		int rc;

		cairn_analysis_run_step(run, now, &nx);
		if (cairn_analysis_phase_completed(nx.phase) || now > deadline)
			return nx.phase;
		if (nx.metric < 0) {
			sleep_until(nx.at < deadline ? nx.at : deadline);
			continue;
		}
		m = cairn_analysis_run_metric(run, (size_t)nx.metric);
		t0 = cairn_time_now();
		rc = cairn_analysis_measure(&v, m, &ctx);
		if (cairn_analysis_run_record(run, (size_t)nx.metric, rc == 0 ? v : NULL,
		                              rc == 0 ? NULL : cairn_error_last()->message, t0,
		                              cairn_time_now()) < 0) {
			fprintf(stderr, "analysis_run: %s\n", cairn_error_last()->message);
			cairn_value_free(v);
			return CAIRN_ANALYSIS_ERROR;
		}
		cairn_value_free(v);
		cairn_analysis_run_status(run, (size_t)nx.metric, &st);
		printf("measure %s %s value=%s msg=%s ms=%.1f\n", m->name,
		       cairn_analysis_phase_name(st.measurements[st.n_measurements - 1].phase),
		       st.measurements[st.n_measurements - 1].value
		               ? st.measurements[st.n_measurements - 1].value
		               : "-",
		       st.measurements[st.n_measurements - 1].message
		               ? st.measurements[st.n_measurements - 1].message
		               : "-",
		       (double)(st.measurements[st.n_measurements - 1].finished - t0) / 1000.0);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	cairn_analysis_arg args[MAX_ARGS];
	cairn_analysis_template *t = NULL;
	cairn_analysis_run *run = NULL;
	cairn_kubeconfig *kc = NULL;
	cairn_kube_config *cfg = NULL;
	cairn_kube_client *kube = NULL;
	const char *kubeconfig = NULL;
	json_t *docs = NULL;
	size_t n = 0;
	long deadline_s = 60;
	cairn_analysis_phase phase;
	int status = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: analysis_run TEMPLATE.yaml [--arg NAME=VALUE]... "
		                "[--deadline SECONDS]\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--arg") == 0 && n < MAX_ARGS) {
			char *eq = strchr(argv[i + 1], '=');

			if (eq == NULL)
				return 2;
			*eq = '\0';
			args[n].name = argv[i + 1];
			args[n++].value = eq + 1;
		} else if (strcmp(argv[i], "--kubeconfig") == 0) {
			kubeconfig = argv[i + 1];
		} else if (strcmp(argv[i], "--deadline") == 0) {
			deadline_s = strtol(argv[i + 1], NULL, 10);
		} else {
			return 2;
		}
	}
	if (kubeconfig != NULL && (cairn_kubeconfig_load(&kc, kubeconfig, 0) < 0 ||
	                           cairn_kube_config_resolve(&cfg, kc, NULL) < 0 ||
	                           cairn_kube_client_new(&kube, cfg, NULL) < 0)) {
		fprintf(stderr, "analysis_run: %s\n", cairn_error_last()->message);
		goto out;
	}
	if (cairn_yaml_load_file(&docs, NULL, argv[1], NULL) < 0 ||
	    cairn_analysis_template_parse(&t, json_array_get(docs, 0), argv[1]) < 0 ||
	    cairn_analysis_run_new(&run, t, args, n, NULL, NULL, cairn_time_now()) < 0) {
		fprintf(stderr, "analysis_run: %s\n", cairn_error_last()->message);
		goto out;
	}
	phase = drive(run, cairn_time_now() + (cairn_usec)deadline_s * 1000000, kube);
	printf("phase %s\n", cairn_analysis_phase_name(phase));
	status = phase == CAIRN_ANALYSIS_SUCCESSFUL ? 0 : 1;
out:
	cairn_kube_client_free(kube);
	cairn_kube_config_free(cfg);
	cairn_kubeconfig_free(kc);
	cairn_analysis_run_free(run);
	cairn_analysis_template_free(t);
	json_decref(docs);
	return status;
}
