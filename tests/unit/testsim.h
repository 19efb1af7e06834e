/*
 * testsim.h - one cairn-sim per TCase for the Check suites that talk to a
 * real simulator (test_kube, test_sync). Start it from an unchecked
 * fixture (it runs in the parent process) and stop it from the teardown.
 */
#ifndef CAIRN_TESTSIM_H
#define CAIRN_TESTSIM_H

#include <sys/types.h>

#include "cairn/kube.h"

typedef struct test_sim {
	pid_t pid;
	char dir[256]; /* a fresh directory under $TMPDIR (or /tmp) */
	char kc[300];  /* the kubeconfig the simulator writes: dir/kc */
} test_sim;

/* Make the simulator's directory (`tag` names it), for files the
 * simulator reads at start (e.g. a --state file). */
void test_sim_init(test_sim *s, const char *tag);

/*
 * Start $CAIRN_SIM (else $CAIRN_BUILDDIR/cairn-sim) on 127.0.0.1:0 writing
 * s->kc, with `args` (NULL-terminated, may be NULL) appended; stdout (and
 * stderr when `quiet`) go to /dev/null. Calls test_sim_init() first unless
 * it ran. Fails the test when no kubeconfig appears within 20 s.
 */
void test_sim_start(test_sim *s, const char *tag, const char *const *args, int quiet);

/* Stop it with `sig` (SIGTERM: it saves its state; SIGKILL), wait for it
 * and remove its directory with everything in it. */
void test_sim_stop(test_sim *s, int sig);

/* The resolved config / a new client for context `ctx` (NULL: current) of
 * the simulator's kubeconfig; `o` may be NULL. Assert on failure. */
cairn_kube_config *test_sim_config(const test_sim *s, const char *ctx);
cairn_kube_client *test_sim_client(const test_sim *s, const char *ctx,
                                   const cairn_kube_client_opts *o);

#endif
