/*
 * daemon_http_server.c - serves the daemon's HTTP layer alone, for
 * tests/integration/daemon_http.sh and bench/bench_webhook.c: a loopback
 * port (written to --port-file), webhook secrets for every provider, and
 * each accepted trigger printed as one line on stdout
 * ("trigger <forge> <ref> <after> <first url>"). Stops on SIGTERM/SIGINT.
 *
 *   daemon_http_server --port-file F [--secret S] [--rate R] [--burst B]
 *                      [--max-body N] [--timeout SEC] [--socket PATH]
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/daemon.h"
#include "cairn/error.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_trigger(void *ud, const cairn_webhook_trigger *t)
{
	(void)ud;
	for (size_t i = 0; i < t->n_refs; i++)
		printf("trigger %s %s %s %s\n", cairn_forge_name(t->forge), t->refs[i].ref,
		       t->refs[i].after ? t->refs[i].after : "-", t->urls[0]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	cairn_http_opts o = CAIRN_HTTP_OPTS_INIT;
	const char *port_file = NULL, *secret = "integration-secret";
	cairn_http *srv = NULL;
	struct sigaction sa = {.sa_handler = on_signal};

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port-file") == 0)
			port_file = argv[i + 1];
		else if (strcmp(argv[i], "--secret") == 0)
			secret = argv[i + 1];
		else if (strcmp(argv[i], "--rate") == 0)
			o.rate = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--burst") == 0)
			o.burst = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--max-body") == 0)
			o.max_body = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--timeout") == 0)
			o.timeout_sec = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			o.threads = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--socket") == 0)
			o.unix_path = argv[i + 1];
		else {
			fprintf(stderr, "daemon_http_server: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	for (int f = 0; f < CAIRN_FORGE_COUNT; f++)
		o.secrets[f] = secret;
	o.on_trigger = on_trigger;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (cairn_http_new(&srv, &o) < 0 || cairn_http_start(srv) < 0) {
		fprintf(stderr, "daemon_http_server: %s\n", cairn_error_last()->message);
		cairn_http_free(srv);
		return 1;
	}
	cairn_http_set_ready(srv, 1);
	if (port_file != NULL) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *fp = fopen(tmp, "w");
		if (fp == NULL || fprintf(fp, "%d\n", cairn_http_port(srv)) < 0 ||
		    fclose(fp) != 0 || rename(tmp, port_file) != 0) {
			fprintf(stderr, "daemon_http_server: cannot write '%s'\n", port_file);
			cairn_http_free(srv);
			return 1;
		}
	}
	while (!stop)
		pause();
	cairn_http_free(srv);
	return 0;
}
