/* kube_config.c - kubeconfig loading, merging, trust and in-cluster config. */
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/kube.h"
#include "kube_tests.h"
#include "testutil.h"

/* Load with $KUBECONFIG = the fixtures joined by ':' and resolve `ctx`. */
static int load_ctx(const char *files, const char *ctx, unsigned flags, cairn_kube_config **cfg)
{
	char env[4 * PATH_MAX], p[PATH_MAX];
	const char *f = files;
	cairn_kubeconfig *kc = NULL;
	int rc;

	env[0] = '\0';
	while (*f != '\0') {
		size_t n = strcspn(f, ":");
		char name[64];

		snprintf(name, sizeof(name), "kube/%.*s", (int)n, f);
		snprintf(env + strlen(env), sizeof(env) - strlen(env), "%s%s", env[0] ? ":" : "",
		         test_data_path(p, sizeof(p), name));
		f += n + (f[n] == ':');
	}
	setenv("KUBECONFIG", env, 1);
	rc = cairn_kubeconfig_load(&kc, NULL, flags);
	if (rc == 0)
		rc = cairn_kube_config_resolve(cfg, kc, ctx);
	cairn_kubeconfig_free(kc);
	return rc;
}

START_TEST(merge_first_file_wins)
{
	cairn_kube_config *cfg = NULL;
	char p[PATH_MAX];
	cairn_kubeconfig *kc = NULL;

	ck_assert_int_eq(
	        load_ctx("a.yaml:missing.yaml:b.yaml", NULL, CAIRN_KUBECONFIG_TRUSTED, &cfg), 0);
	/* current-context, context ctx-a, cluster shared and user alice all come from a.yaml */
	ck_assert_str_eq(cfg->context, "ctx-a");
	ck_assert_str_eq(cfg->server, "https://a.example:6443");
	ck_assert_str_eq(cfg->token, "token-from-a");
	ck_assert_str_eq(cfg->namespace_, "team-a");
	ck_assert_int_eq(cfg->insecure, 0);
	ck_assert_ptr_nonnull(strstr(cfg->ca_pem.ptr, "\nfile\n"));
	cairn_kube_config_free(cfg);
	/* the reverse order: b.yaml's entries win */
	ck_assert_int_eq(load_ctx("b.yaml:a.yaml", "ctx-a", CAIRN_KUBECONFIG_TRUSTED, &cfg), 0);
	ck_assert_str_eq(cfg->server, "https://b2.example");
	ck_assert_str_eq(cfg->username, "bob");
	ck_assert_str_eq(cfg->password, "s3cret");
	ck_assert_ptr_null(cfg->token);
	ck_assert_str_eq(cfg->namespace_, "default");
	ck_assert_ptr_nonnull(strstr(cfg->ca_pem.ptr, "\nfake\n"));
	cairn_kube_config_free(cfg);
	setenv("KUBECONFIG", test_data_path(p, sizeof(p), "kube/b.yaml"), 1);
	ck_assert_int_eq(cairn_kubeconfig_load(&kc, NULL, 0), 0);
	ck_assert_str_eq(cairn_kubeconfig_current_context(kc), "ctx-b");
	cairn_kubeconfig_free(kc);
	unsetenv("KUBECONFIG");
}
END_TEST

START_TEST(files_and_exec_need_trust)
{
	cairn_kube_config *cfg = NULL;

	ck_assert_int_eq(load_ctx("a.yaml", "ctx-a", 0, &cfg), CAIRN_EPERM);
	ck_assert_error_contains("file path 'ca.pem' in 'certificate-authority' refused");
	ck_assert_int_eq(load_ctx("a.yaml", "ctx-file", 0, &cfg), CAIRN_EPERM);
	ck_assert_error_contains("'token.txt'");
	ck_assert_int_eq(load_ctx("b.yaml", "ctx-exec", 0, &cfg), CAIRN_EPERM);
	ck_assert_error_contains("exec credential plugin refused");
	/* -data fields need no trust */
	ck_assert_int_eq(load_ctx("b.yaml", "ctx-b", 0, &cfg), 0);
	cairn_kube_config_free(cfg);
	ck_assert_int_eq(load_ctx("a.yaml", "ctx-file", CAIRN_KUBECONFIG_TRUSTED, &cfg), 0);
	ck_assert_str_eq(cfg->token, "tok-in-file");
	ck_assert_str_eq(cfg->server, "http://127.0.0.1:8080");
	cairn_kube_config_free(cfg);
	ck_assert_int_eq(load_ctx("b.yaml", "ctx-exec", CAIRN_KUBECONFIG_TRUSTED, &cfg), 0);
	ck_assert_str_eq(cfg->token, "from-plugin");
	cairn_kube_config_free(cfg);
	unsetenv("KUBECONFIG");
}
END_TEST

START_TEST(bad_configs)
{
	cairn_kube_config *cfg = NULL;
	cairn_kubeconfig *kc = NULL;
	static const char ftp[] = "clusters: [{name: c, cluster: {server: 'ftp://x'}}]\n"
	                          "contexts: [{name: x, context: {cluster: c}}]\n";
	static const char ins[] = "clusters: [{name: c, cluster: {server: 'https://x', "
	                          "insecure-skip-tls-verify: true}}]\n"
	                          "contexts: [{name: x, context: {cluster: c}}]\n";

	ck_assert_int_eq(load_ctx("b.yaml", "ctx-two", 0, &cfg), CAIRN_EINVAL);
	ck_assert_error_contains("user 'two' has more than one authentication method");
	ck_assert_int_eq(load_ctx("b.yaml", "nope", 0, &cfg), CAIRN_ENOTFOUND);
	ck_assert_error_contains("context 'nope' not found");
	ck_assert_int_eq(load_ctx("missing1:missing2", NULL, 0, &cfg), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no file of $KUBECONFIG");
	unsetenv("KUBECONFIG");
	ck_assert_int_eq(cairn_kubeconfig_parse(&kc, ftp, sizeof(ftp) - 1, "ftp.yaml", 0), 0);
	ck_assert_int_eq(cairn_kube_config_resolve(&cfg, kc, "x"), CAIRN_EINVAL);
	ck_assert_error_contains("server 'ftp://x' is not an http or https URL");
	ck_assert_int_eq(cairn_kube_config_resolve(&cfg, kc, NULL), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no current-context");
	cairn_kubeconfig_free(kc);
	ck_assert_int_eq(cairn_kubeconfig_parse(&kc, ins, sizeof(ins) - 1, "ins.yaml", 0), 0);
	ck_assert_int_eq(cairn_kube_config_resolve(&cfg, kc, "x"), 0);
	ck_assert_int_eq(cfg->insecure, 1);
	ck_assert_ptr_null(cfg->token);
	cairn_kube_config_free(cfg);
	cairn_kubeconfig_free(kc);
	ck_assert_int_eq(cairn_kubeconfig_parse(&kc, "[1, 2]", 6, "list.yaml", 0), CAIRN_EINVAL);
	ck_assert_error_contains("is not one YAML map");
}
END_TEST

START_TEST(in_cluster)
{
	char dir[] = "/tmp/cairn-kube-sa-XXXXXX", p[PATH_MAX + 32];
	cairn_kube_config *cfg = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	unsetenv("KUBERNETES_SERVICE_HOST");
	ck_assert_int_eq(cairn_kube_config_in_cluster(&cfg, dir), CAIRN_ENOTFOUND);
	ck_assert_error_contains("not in a cluster");
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ck_assert_int_eq(cairn_kube_config_in_cluster(&cfg, dir), CAIRN_ENOTFOUND);
	snprintf(p, sizeof(p), "%s/token", dir);
	f = fopen(p, "w");
	fputs("sa-token\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	f = fopen(p, "w");
	fputs("CA\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/namespace", dir);
	f = fopen(p, "w");
	fputs("ops", f);
	fclose(f);
	ck_assert_int_eq(cairn_kube_config_in_cluster(&cfg, dir), 0);
	ck_assert_str_eq(cfg->server, "https://10.0.0.1:443");
	ck_assert_str_eq(cfg->token, "sa-token");
	ck_assert_str_eq(cfg->namespace_, "ops");
	ck_assert_str_eq(cfg->ca_pem.ptr, "CA\n");
	cairn_kube_config_free(cfg);
	unlink(p);
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/token", dir);
	unlink(p);
	rmdir(dir);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}
END_TEST

void kube_config_tests(Suite *s)
{
	TCase *tc = tcase_create("kubeconfig");

	tcase_add_test(tc, merge_first_file_wins);
	tcase_add_test(tc, files_and_exec_need_trust);
	tcase_add_test(tc, bad_configs);
	tcase_add_test(tc, in_cluster);
	suite_add_tcase(s, tc);
}
