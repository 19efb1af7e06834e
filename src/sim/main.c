/*
 * src/sim/main.c - cairn-sim entry point: flags, certificates, the
 * kubeconfig, the default namespaces, signals and state persistence.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"
#include "cairn/schema.h"

#include "server_internal.h"
#include "sim.h"
#include "workload.h"
#include "traffic.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cairn-sim --listen 127.0.0.1:PORT --kubeconfig-out FILE [--state FILE]\n"
	           "                 [--openapi-dir DIR] [--token TOKEN] [--history N] [--faults "
	           "JSON]\n"
	           "                 [--pod-ready-delay DUR] [--lb-delay DUR] [--fail-rule "
	           "GLOB=MODE]...\n"
	           "                 [--time-scale X] [--workloads JSON]\n"
	           "                 [--traffic-rps N] [--traffic-rule RULE]... "
	           "[--metrics-listen 127.0.0.1:PORT]\n");
}

static int register_crd(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
	json_t *crd = NULL;

	(void)ns;
	(void)name;
	if (cairn_json_parse(&crd, json, len, NULL) == 0)
		sim_registry_put_crd(ud, crd);
	json_decref(crd);
	return 0;
}

static int create_default_namespaces(sim_store *st)
{
	static const char *const names[] = {"default", "kube-system", "kube-public",
	                                    "kube-node-lease"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		sim_key k = {"", "namespaces", "", names[i]};
		json_t *ns = json_pack("{sssss{sss{ss}}s{s[s]}s{ss}}", "apiVersion", "v1", "kind",
		                       "Namespace", "metadata", "name", names[i], "labels",
		                       "kubernetes.io/metadata.name", names[i], "spec",
		                       "finalizers", "kubernetes", "status", "phase", "Active");
		int rc = sim_store_create(st, &k, ns);
		json_decref(ns);
		if (rc && rc != CAIRN_EEXISTS)
			return rc;
	}
	return 0;
}

/* "127.0.0.1:PORT" -> port; only the loopback address is accepted. */
static int parse_listen(const char *s, int *port)
{
	char *end;
	long p;

	if (strncmp(s, "127.0.0.1:", 10))
		return cairn_error_set(CAIRN_EINVAL, "--listen must be 127.0.0.1:PORT, not '%s'",
		                       s);
	errno = 0;
	p = strtol(s + 10, &end, 10);
	if (errno || *end || p < 0 || p > 65535)
		return cairn_error_set(CAIRN_EINVAL, "bad port in '%s'", s);
	*port = (int)p;
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:0", *kcout = NULL, *state = NULL, *token = NULL;
	const char *faults = NULL;
	struct sim_wl_cfg wl;
	const char *rules[64], *metrics_listen = NULL;
	size_t nrules = 0;
	double rps = 10;
	void *md = NULL;
	int mport = 0;
	sim_server srv = {0};
	sim_tls tls = {0};
	struct MHD_Daemon *d = NULL;
	char tokbuf[65], url[64];
	size_t history = 10000;
	int port = 0, bound = 0, rc = 1;

	sim_workloads_cfg_default(&wl);
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			fprintf(stderr, "cairn-sim: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return 2;
		}
		if (!strcmp(a, "--listen"))
			listen = v;
		else if (!strcmp(a, "--kubeconfig-out"))
			kcout = v;
		else if (!strcmp(a, "--state"))
			state = v;
		else if (!strcmp(a, "--openapi-dir"))
			srv.openapi_dir = v;
		else if (!strcmp(a, "--token"))
			token = v;
		else if (!strcmp(a, "--faults"))
			faults = v;
		else if (!strcmp(a, "--pod-ready-delay") || !strcmp(a, "--lb-delay") ||
		         !strcmp(a, "--fail-rule") || !strcmp(a, "--time-scale") ||
		         !strcmp(a, "--workloads")) {
			if (sim_workloads_flag(&wl, a, v)) {
				fprintf(stderr, "cairn-sim: %s\n", cairn_error_last()->message);
				return 2;
			}
		} else if (!strcmp(a, "--traffic-rule")) {
			if (nrules >= sizeof rules / sizeof rules[0]) {
				fprintf(stderr,
				        "cairn-sim: too many --traffic-rule flags (at most %zu)\n",
				        sizeof rules / sizeof rules[0]);
				return 2;
			}
			rules[nrules++] = v;
		} else if (!strcmp(a, "--traffic-rps")) {
			char *end;
			rps = strtod(v, &end);
			if (end == v || *end || !(rps >= 0 && rps <= 1e9)) {
				fprintf(stderr,
				        "cairn-sim: --traffic-rps wants requests per second "
				        "(0 to 1000000000), not '%s'\n",
				        v);
				return 2;
			}
		} else if (!strcmp(a, "--metrics-listen"))
			metrics_listen = v;
		else if (!strcmp(a, "--history"))
			history = strtoul(v, NULL, 10);
		else {
			fprintf(stderr, "cairn-sim: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (parse_listen(listen, &port)) {
		fprintf(stderr, "cairn-sim: %s\n", cairn_error_last()->message);
		return 2;
	}
	if (!token) {
		uint8_t r[32];
		if (RAND_bytes(r, sizeof r) != 1) {
			fprintf(stderr, "cairn-sim: cannot make a token\n");
			return 1;
		}
		cairn_hex_encode(tokbuf, r, sizeof r);
		tokbuf[64] = '\0';
		token = tokbuf;
	}
	srv.token = token;
	if (sim_store_new(&srv.store, history) || sim_registry_new(&srv.reg) ||
	    sim_faults_new(&srv.faults) || sim_tls_generate(&tls, "cairn-admin"))
		goto fail;
	if (srv.openapi_dir && cairn_schema_set_load(&srv.schemas, srv.openapi_dir))
		fprintf(stderr, "cairn-sim: no field validation of built-in kinds: %s\n",
		        cairn_error_last()->message);
	if (state && access(state, F_OK) == 0) {
		if (sim_store_load(srv.store, state))
			goto fail;
		/* CRDs from the state file are served again. */
		sim_store_iter(srv.store, "apiextensions.k8s.io", "customresourcedefinitions", NULL,
		               NULL, register_crd, srv.reg);
	}
	if (faults && sim_faults_configure(srv.faults, faults, strlen(faults)))
		goto fail;
	if (create_default_namespaces(srv.store))
		goto fail;
	if (sim_workloads_start(&srv.workloads, &srv, &wl))
		goto fail;
	if (sim_traffic_new(&srv.traffic, srv.store, rps))
		goto fail;
	for (size_t i = 0; i < nrules; i++)
		if (sim_traffic_add_rule(srv.traffic, rules[i]))
			goto fail;
	if (metrics_listen && (parse_listen(metrics_listen, &mport) ||
	                       !(md = sim_metrics_listen(srv.traffic, mport, &mport))))
		goto fail;
	srv.client_ca_pem = tls.ca_pem;
	d = sim_server_start(&srv, &tls, port, &bound);
	if (!d)
		goto fail;
	snprintf(url, sizeof url, "https://127.0.0.1:%d", bound);
	if (kcout && sim_kubeconfig_write(&tls, kcout, url, token))
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("listening on 127.0.0.1:%d\n", bound);
	if (md)
		printf("metrics on 127.0.0.1:%d\n", mport);
	fflush(stdout);
	while (!g_stop)
		pause();
	srv.stopping = 1;
	sim_workloads_stop(srv.workloads);
	srv.workloads = NULL;
	sim_store_close_watches(srv.store);
	MHD_stop_daemon(d);
	d = NULL;
	sim_metrics_stop(md);
	md = NULL;
	if (state && sim_store_save(srv.store, state))
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "cairn-sim: %s\n", cairn_error_last()->message);
out:
	if (d)
		MHD_stop_daemon(d);
	sim_workloads_stop(srv.workloads);
	sim_tls_dispose(&tls);
	sim_metrics_stop(md);
	sim_traffic_free(srv.traffic);
	sim_faults_free(srv.faults);
	sim_registry_free(srv.reg);
	sim_store_free(srv.store);
	cairn_schema_set_free(srv.schemas);
	return rc;
}
