/* testsim.c - start, stop and reach a cairn-sim from a Check suite. */
#include <check.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testsim.h"

void test_sim_init(test_sim *s, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/cairn-%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", tag);
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(s->kc, sizeof(s->kc), "%s/kc", s->dir);
}

void test_sim_start(test_sim *s, const char *tag, const char *const *args, int quiet)
{
	const char *bd = getenv("CAIRN_BUILDDIR"), *env = getenv("CAIRN_SIM");
	const char *argv[32] = {"cairn-sim", "--listen", "127.0.0.1:0", "--kubeconfig-out"};
	size_t n = 4;
	char sim[4096];
	struct stat st;
	int up = 0;

	if (s->dir[0] == '\0')
		test_sim_init(s, tag);
	argv[n++] = s->kc;
	for (size_t i = 0; args != NULL && args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (env != NULL && env[0] != '\0')
		snprintf(sim, sizeof(sim), "%s", env);
	else
		snprintf(sim, sizeof(sim), "%s/cairn-sim", bd != NULL ? bd : ".");
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		freopen("/dev/null", "w", stdout);
		if (quiet)
			freopen("/dev/null", "w", stderr);
		execv(sim, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 400 && !up; i++) {
		up = stat(s->kc, &st) == 0 && st.st_size > 0;
		if (!up)
			usleep(50000);
	}
	ck_assert_msg(up, "cairn-sim '%s' wrote no kubeconfig at %s within 20 s", sim, s->kc);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

void test_sim_stop(test_sim *s, int sig)
{
	if (s->pid > 0) {
		kill(s->pid, sig);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0] != '\0')
		nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	s->dir[0] = '\0';
}

cairn_kube_config *test_sim_config(const test_sim *s, const char *ctx)
{
	cairn_kubeconfig *kc = NULL;
	cairn_kube_config *cfg = NULL;

	ck_assert_int_eq(cairn_kubeconfig_load(&kc, s->kc, CAIRN_KUBECONFIG_TRUSTED), 0);
	ck_assert_int_eq(cairn_kube_config_resolve(&cfg, kc, ctx), 0);
	cairn_kubeconfig_free(kc);
	return cfg;
}

cairn_kube_client *test_sim_client(const test_sim *s, const char *ctx,
                                   const cairn_kube_client_opts *o)
{
	cairn_kube_config *cfg = test_sim_config(s, ctx);
	cairn_kube_client *c = NULL;

	ck_assert_int_eq(cairn_kube_client_new(&c, cfg, o), 0);
	cairn_kube_config_free(cfg);
	return c;
}
