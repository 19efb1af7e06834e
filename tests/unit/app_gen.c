/* app_gen.c - ApplicationSet generation, environments, binding, cairn.yaml. */
#include <unistd.h>

#include "app_tests.h"
#include "cairn/app.h"
#include "cairn/config.h"
#include "testutil.h"

static cairn_app_set *load_file(const char *rel, int with_reader)
{
	char path[1024], root[1024];
	cairn_app_set *set = NULL;
	cairn_app_load_opts opts = CAIRN_APP_LOAD_OPTS_INIT;
	cairn_app_reader r = cairn_app_reader_dir(test_data_path(root, sizeof(root), "app/repo"));

	if (with_reader)
		opts.reader = &r;
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_msg(cairn_app_set_load(set, test_data_path(path, sizeof(path), rel), &opts) == 0,
	              "%s", cairn_error_last()->message);
	return set;
}

START_TEST(list_generator_default_template)
{
	cairn_app_set *set = load_file("app/appset-list.yaml", 0);
	const cairn_app *a;

	ck_assert_uint_eq(cairn_app_set_count(set), 2);
	a = cairn_app_set_find(set, "shop-prod");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->sources[0].path, "overlays/prod");
	ck_assert_str_eq(a->dest_server, "https://127.0.0.1:6444");
	ck_assert_str_eq(a->dest_namespace, "shop-prod");
	ck_assert_str_eq(a->generator, "shop");
	ck_assert_str_eq(a->env_param, "prod");
	ck_assert_int_eq(cairn_app_set_bind(set, NULL), 0);
	ck_assert_str_eq(a->group, "shop");
	ck_assert_str_eq(a->environment, "prod");
	cairn_app_set_free(set);
}
END_TEST

START_TEST(git_directories_go_template)
{
	cairn_app_set *set = load_file("app/appset-git.yaml", 1);

	/* apps/legacy is excluded; the listing is sorted */
	ck_assert_uint_eq(cairn_app_set_count(set), 2);
	ck_assert_str_eq(cairn_app_set_at(set, 0)->name, "api-app");
	ck_assert_str_eq(cairn_app_set_at(set, 0)->sources[0].path, "apps/api");
	ck_assert_str_eq(cairn_app_set_at(set, 1)->name, "web-app");
	ck_assert_str_eq(cairn_app_set_at(set, 1)->dest_namespace, "dev-web");
	cairn_app_set_free(set);
}
END_TEST

START_TEST(git_files_default_template)
{
	cairn_app_set *set = load_file("app/appset-files.yaml", 1);
	const cairn_app *a;

	ck_assert_uint_eq(cairn_app_set_count(set), 2);
	a = cairn_app_set_find(set, "cfg-prod-two");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->sources[0].path, "config/prod");
	ck_assert_str_eq(a->dest_server, "https://127.0.0.1:6444");
	ck_assert_str_eq(a->dest_namespace, "prod");
	ck_assert_str_eq(a->env_param, "prod");
	cairn_app_set_free(set);
}
END_TEST

static void appset_fails(const char *spec_tail, int code, const char *needle)
{
	char buf[2048];
	cairn_app_set *set = NULL;

	snprintf(buf, sizeof(buf),
	         "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\n"
	         "spec:\n%s",
	         spec_tail);
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_data(set, buf, strlen(buf), "s.yaml", NULL), code);
	ck_assert_error_contains(needle);
	cairn_app_set_free(set);
}

#define TMPL(name)                                                                                 \
	"  template:\n    metadata: {name: '" name "'}\n    spec:\n      source: {repoURL: r}\n"   \
	"      destination: {server: s}\n"
#define LIST "  generators:\n  - list: {elements: [{n: a}]}\n"

START_TEST(refused_templates)
{
	appset_fails("  goTemplate: true\n" LIST TMPL("{{ .n | upper }}"), CAIRN_EUNSUPPORTED,
	             "template field 'spec.template.metadata.name': '{{.n | upper}}' is not "
	             "supported");
	appset_fails("  goTemplate: true\n" LIST TMPL("{{ if .n }}x{{ end }}"), CAIRN_EUNSUPPORTED,
	             "'{{if .n}}' is not supported");
	appset_fails("  goTemplate: true\n" LIST TMPL("{{.missing}}"), CAIRN_EINVAL,
	             "no parameter '.missing'");
	appset_fails("  generators:\n  - matrix: {}\n" TMPL("x"), CAIRN_EUNSUPPORTED,
	             "'spec.generators[0].matrix' is not supported");
	appset_fails(LIST "  goTemplateOptions: ['missingkey=zero']\n" TMPL("x"),
	             CAIRN_EUNSUPPORTED, "'missingkey=zero' is not supported");
	appset_fails("  generators:\n  - git: {repoURL: r, directories: [{path: '*'}]}\n" TMPL("x"),
	             CAIRN_EUNSUPPORTED, "needs repository access");
	/* the generated Application is checked strictly too, at the template's line */
	appset_fails(LIST "  template:\n    metadata: {name: x}\n    spec:\n      sorce: {}\n",
	             CAIRN_EINVAL, "unknown field 'spec.sorce'");
	ck_assert_int_eq(cairn_error_last()->line, 11);
	ck_assert_error_contains("applicationset 's' element 0");
}
END_TEST

START_TEST(default_template_keeps_unknown)
{
	const char *y = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n"
	                "  name: s\nspec:\n" LIST TMPL("{{n}}-{{nope}}") "  syncPolicy: {}\n";
	cairn_app_set *set = NULL;

	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_data(set, y, strlen(y), "s.yaml", NULL), 0);
	ck_assert_str_eq(cairn_app_set_at(set, 0)->name, "a-{{nope}}");
	ck_assert_str_eq(cairn_app_set_notice(set, 0), "ignored: spec.syncPolicy");
	cairn_app_set_free(set);
}
END_TEST

static const char *ENVS =
        "apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\n"
        "spec:\n  cluster: {server: 'https://c1'}\n  namespaces: ['dev-*']\n---\n"
        "apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: prod}\n"
        "spec:\n  cluster: {server: 'https://c2', kubeconfig: /k, context: prod}\n"
        "  namespaces: ['*']\n  promotedFrom: dev\n  drift: correct\n  rollouts: external\n"
        "  sync: {autoSync: true, prune: true}\n";

static cairn_app_set *apps_of(const char *extra)
{
	char buf[4096];
	cairn_app_set *set = NULL;

	snprintf(buf, sizeof(buf),
	         "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n"
	         "  labels: {cairn.dev/app: shop%s}\nspec:\n  source: {repoURL: r}\n"
	         "  destination: {server: 'https://c1', namespace: dev-shop}\n",
	         extra);
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_data(set, buf, strlen(buf), "a.yaml", NULL), 0);
	return set;
}

START_TEST(environments_and_binding)
{
	cairn_env_set *envs = NULL;
	cairn_app_set *set;
	const cairn_env *prod;

	ck_assert_int_eq(cairn_env_set_load_data(&envs, ENVS, strlen(ENVS), "e.yaml"), 0);
	ck_assert_uint_eq(cairn_env_set_count(envs), 2);
	prod = cairn_env_set_find(envs, "prod");
	ck_assert_str_eq(prod->promoted_from, "dev");
	ck_assert_int_eq(prod->drift, CAIRN_ENV_DRIFT_CORRECT);
	ck_assert_int_eq(prod->rollouts, CAIRN_ENV_ROLLOUTS_EXTERNAL);
	ck_assert_int_eq(prod->auto_sync && prod->prune && !prod->self_heal, 1);
	ck_assert_str_eq(prod->context, "prod");
	/* destination match */
	set = apps_of("");
	ck_assert_int_eq(cairn_app_set_bind(set, envs), 0);
	ck_assert_str_eq(cairn_app_set_at(set, 0)->environment, "dev");
	ck_assert_str_eq(cairn_app_set_at(set, 0)->group, "shop");
	cairn_app_set_free(set);
	/* the label wins over the destination */
	set = apps_of(", cairn.dev/environment: prod");
	ck_assert_int_eq(cairn_app_set_bind(set, envs), 0);
	ck_assert_str_eq(cairn_app_set_at(set, 0)->environment, "prod");
	cairn_app_set_free(set);
	set = apps_of(", cairn.dev/environment: qa");
	ck_assert_int_eq(cairn_app_set_bind(set, envs), CAIRN_ENOTFOUND);
	ck_assert_error_contains("application 'a' names environment 'qa'");
	cairn_app_set_free(set);
	cairn_env_set_free(envs);
}
END_TEST

START_TEST(binding_ambiguous_and_unbound)
{
	const char *two = "apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: x}\n"
	                  "spec: {cluster: 'https://c1'}\n---\n"
	                  "apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: y}\n"
	                  "spec: {cluster: {server: 'https://c1'}, namespaces: ['dev-*']}\n";
	const char *other =
	        "apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: z}\n"
	        "spec: {cluster: 'https://c9'}\n";
	cairn_env_set *envs = NULL;
	cairn_app_set *set = apps_of("");

	ck_assert_int_eq(cairn_env_set_load_data(&envs, two, strlen(two), "e.yaml"), 0);
	ck_assert_int_eq(cairn_app_set_bind(set, envs), CAIRN_EINVAL);
	ck_assert_error_contains("application 'a' matches several environments ('x' and 'y')");
	cairn_env_set_free(envs);
	ck_assert_int_eq(cairn_env_set_load_data(&envs, other, strlen(other), "e.yaml"), 0);
	ck_assert_int_eq(cairn_app_set_bind(set, envs), 0);
	ck_assert_ptr_null(cairn_app_set_at(set, 0)->environment);
	cairn_env_set_free(envs);
	cairn_app_set_free(set);
}
END_TEST

static void env_fails(const char *y, int code, int line, const char *needle)
{
	cairn_env_set *envs = NULL;

	ck_assert_int_eq(cairn_env_set_load_data(&envs, y, strlen(y), "e.yaml"), code);
	ck_assert_ptr_null(envs);
	if (line > 0)
		ck_assert_int_eq(cairn_error_last()->line, line);
	ck_assert_error_contains(needle);
}

#define ENVH(n) "apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: " n "}\n"

START_TEST(environment_errors)
{
	env_fails(ENVH("a") "spec:\n  cluster: c\n  drift: fix\n", CAIRN_EINVAL, 6,
	          "'spec.drift' is 'fix' (expected 'detect' or 'correct')");
	env_fails(ENVH("a") "spec:\n  cluster: c\n  namespace: x\n", CAIRN_EINVAL, 6,
	          "unknown field 'spec.namespace'");
	env_fails(ENVH("a") "spec:\n  namespaces: [x]\n", CAIRN_EINVAL, 5,
	          "missing field 'spec.cluster.server'");
	env_fails(ENVH("a") "spec: {cluster: c, promotedFrom: b}\n---\n" ENVH(
	                  "b") "spec: {cluster: c, promotedFrom: a}\n",
	          CAIRN_EINVAL, 0, "makes a cycle");
	env_fails(ENVH("a") "spec: {cluster: c, promotedFrom: zz}\n", CAIRN_ENOTFOUND, 1,
	          "'spec.promotedFrom' names 'zz', which is not defined");
	env_fails(ENVH("a") "spec: {cluster: c}\n---\n" ENVH("a") "spec: {cluster: c}\n",
	          CAIRN_EINVAL, 6, "duplicate environment 'a'");
	env_fails("kind: Deployment\n", CAIRN_EINVAL, 1, "expected kind 'Environment'");
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(config_file)
{
	char dir[] = "/tmp/cairn-app-cfg-XXXXXX", path[256];
	cairn_config cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cairn.yaml", dir);
	write_file(path, "stateDir: /var/lib/x\nlisten: {api: '127.0.0.1:9000'}\n"
	                 "repositories:\n- url: https://git/x.git\n  username: bot\n"
	                 "  tokenFile: secrets/token\n- url: git@h:x.git\n  sshKeyFile: /k\n"
	                 "  knownHostsFile: kh\napps:\n- path: apps\n- repoURL: https://git/x.git\n"
	                 "  path: deploy\nenvironmentsDir: envs\n"
	                 "audit: {actor: ci, sync: entry}\n");
	ck_assert_msg(cairn_config_load(&cfg, path) == 0, "%s", cairn_error_last()->message);
	ck_assert_str_eq(cfg.listen_api, "127.0.0.1:9000");
	ck_assert_ptr_null(cfg.listen_metrics);
	ck_assert_uint_eq(cfg.repo_count, 2);
	ck_assert_str_eq(cfg.repos[0].username, "bot");
	ck_assert_ptr_nonnull(strstr(cfg.repos[0].password_file, "/secrets/token"));
	ck_assert_str_eq(cfg.repos[1].ssh_key_file, "/k");
	ck_assert_uint_eq(cfg.apps_count, 2);
	ck_assert_str_eq(cfg.apps[1].revision, "HEAD");
	ck_assert_str_eq(cfg.apps[1].path, "deploy");
	ck_assert_ptr_nonnull(strstr(cfg.environments_dir, dir));
	ck_assert_str_eq(cfg.audit.state_dir, "/var/lib/x");
	ck_assert_str_eq(cfg.audit.actor, "ci");
	ck_assert_int_eq(cfg.audit.sync, CAIRN_AUDIT_SYNC_ENTRY);
	cairn_config_dispose(&cfg);

	write_file(path, "stateDir: /x\nlisten:\n  api: a\n  metric: b\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_error_last()->line, 4);
	ck_assert_error_contains("unknown field 'listen.metric'");
	write_file(path, "repositories:\n- url: u\n  sshKeyFile: k\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_error_contains("'sshKeyFile' needs 'knownHostsFile'");
	write_file(path, "repositories:\n- url: u\n  passwordFile: a\n  tokenFile: b\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_error_contains("give 'passwordFile' or 'tokenFile', not both");
	write_file(path, "audit: {sync: sometimes}\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_error_contains("'audit.sync' must be 'batch' or 'entry'");
	write_file(path, "apps:\n- revision: main\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_error_last()->line, 2);
	ck_assert_error_contains("missing field 'apps[0].path'");
	unlink(path);
	rmdir(dir);
}
END_TEST

void app_gen_tests(Suite *s)
{
	TCase *tc = tcase_create("gen");

	tcase_add_test(tc, list_generator_default_template);
	tcase_add_test(tc, git_directories_go_template);
	tcase_add_test(tc, git_files_default_template);
	tcase_add_test(tc, refused_templates);
	tcase_add_test(tc, default_template_keeps_unknown);
	tcase_add_test(tc, environments_and_binding);
	tcase_add_test(tc, binding_ambiguous_and_unbound);
	tcase_add_test(tc, environment_errors);
	tcase_add_test(tc, config_file);
	suite_add_tcase(s, tc);
}
