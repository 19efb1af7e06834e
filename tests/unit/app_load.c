/* app_load.c - Application/AppProject parsing: fields, notices, errors with file:line. */
#include "app_tests.h"
#include "cairn/app.h"
#include "testutil.h"

static cairn_app_set *load_ok(const char *yaml)
{
	cairn_app_set *set = NULL;

	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_msg(cairn_app_set_load_data(set, yaml, strlen(yaml), "t.yaml", NULL) == 0, "%s",
	              cairn_error_last()->message);
	return set;
}

static void load_fails(const char *yaml, int code, int line, const char *needle)
{
	cairn_app_set *set = NULL;

	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_data(set, yaml, strlen(yaml), "t.yaml", NULL), code);
	ck_assert_str_eq(cairn_error_last()->file, "t.yaml");
	ck_assert_int_eq(cairn_error_last()->line, line);
	ck_assert_error_contains(needle);
	cairn_app_set_free(set);
}

#define HEAD "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n"
#define DEST "  destination:\n    server: https://k\n    namespace: ns\n"
#define SRC "  source:\n    repoURL: https://git/r.git\n"

START_TEST(guestbook_family)
{
	const char *files[] = {"app/guestbook.yaml", "app/kustomize-guestbook.yaml",
	                       "app/helm-guestbook.yaml"};
	char path[1024];
	cairn_app_set *set = NULL;
	const cairn_app *a;

	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(cairn_app_set_load(set, test_data_path(path, sizeof(path), files[i]),
		                                 NULL) == 0,
		              "%s", cairn_error_last()->message);
	ck_assert_int_eq(cairn_app_set_check(set), 0);
	ck_assert_uint_eq(cairn_app_set_count(set), 3);
	/* Only the helm source is not implemented: exactly one notice. */
	ck_assert_uint_eq(cairn_app_set_notice_count(set), 1);
	ck_assert_str_eq(cairn_app_set_notice(set, 0), "ignored: spec.source.helm");
	a = cairn_app_set_find(set, "guestbook");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->sources[0].path, "guestbook");
	ck_assert_str_eq(a->sources[0].target_revision, "HEAD");
	ck_assert_str_eq(a->dest_namespace, "guestbook");
	ck_assert_int_eq(a->automated, 0);
	a = cairn_app_set_find(set, "kustomize-guestbook");
	ck_assert_int_eq(a->automated && a->prune && a->self_heal, 1);
	ck_assert_int_eq(a->retry_limit, 5);
	ck_assert_int_eq(a->backoff_max_duration_ns, (int64_t)180 * 1000000000);
	ck_assert_str_eq(a->sync_options[0], "CreateNamespace=true");
	ck_assert_str_eq(json_string_value(json_object_get(a->sources[0].kustomize, "namePrefix")),
	                 "staging-");
	a = cairn_app_set_find(set, "helm-guestbook");
	ck_assert_int_eq(a->revision_history_limit, 3);
	cairn_app_set_free(set);
}
END_TEST

START_TEST(unknown_field_is_error)
{
	load_fails(HEAD SRC "    targetRevison: main\n" DEST, CAIRN_EINVAL, 8,
	           "unknown field 'spec.source.targetRevison'");
	load_fails(HEAD SRC DEST "  syncPolicy:\n    automated:\n      prunee: true\n",
	           CAIRN_EINVAL, 13, "unknown field 'spec.syncPolicy.automated.prunee'");
	load_fails(HEAD "  sources:\n  - repoURL: x\n  - repoURL: y\n    pth: z\n" DEST,
	           CAIRN_EINVAL, 9, "unknown field 'spec.sources[1].pth'");
}
END_TEST

START_TEST(wrong_types)
{
	load_fails(HEAD SRC DEST "  revisionHistoryLimit: ten\n", CAIRN_EINVAL, 11,
	           "'spec.revisionHistoryLimit' must be an integer");
	load_fails(HEAD SRC "    directory:\n      recurse: maybe\n" DEST, CAIRN_EINVAL, 9,
	           "'spec.source.directory.recurse' must be a boolean");
	load_fails(HEAD SRC "    kustomize:\n      commonLabels:\n        a: 1\n" DEST,
	           CAIRN_EINVAL, 10, "'spec.source.kustomize.commonLabels.a' must be a string");
}
END_TEST

START_TEST(missing_fields)
{
	load_fails(HEAD DEST, CAIRN_EINVAL, 6, "missing field 'spec.source'");
	load_fails(HEAD SRC, CAIRN_EINVAL, 6, "missing field 'spec.destination.server'");
	load_fails(HEAD "  source:\n    path: x\n" DEST, CAIRN_EINVAL, 7,
	           "missing field 'spec.source.repoURL'");
	load_fails(HEAD SRC "  destination:\n    server: a\n    name: b\n", CAIRN_EINVAL, 9,
	           "has both server and name");
	load_fails("apiVersion: argoproj.io/v1beta1\nkind: Application\nmetadata:\n  name: a\n",
	           CAIRN_EINVAL, 1, "expected 'argoproj.io/v1alpha1'");
	load_fails(HEAD SRC DEST
	           "  syncPolicy:\n    retry:\n      backoff:\n        duration: soon\n",
	           CAIRN_EINVAL, 14, "invalid duration 'soon'");
}
END_TEST

START_TEST(notices_once_each)
{
	cairn_app_set *set = load_ok(
	        HEAD "  sources:\n  - repoURL: a\n    helm: {}\n  - repoURL: b\n    helm: {}\n"
	             "    plugin: {}\n" DEST "  syncPolicy:\n    managedNamespaceMetadata: {}\n");

	ck_assert_uint_eq(cairn_app_set_notice_count(set), 3);
	ck_assert_str_eq(cairn_app_set_notice(set, 0), "ignored: spec.sources.helm");
	ck_assert_str_eq(cairn_app_set_notice(set, 1), "ignored: spec.sources.plugin");
	ck_assert_str_eq(cairn_app_set_notice(set, 2),
	                 "ignored: spec.syncPolicy.managedNamespaceMetadata");
	ck_assert_int_eq(cairn_app_set_at(set, 0)->multi_source, 1);
	ck_assert_uint_eq(cairn_app_set_at(set, 0)->source_count, 2);
	cairn_app_set_free(set);
}
END_TEST

START_TEST(duplicate_and_project_checks)
{
	const char *two = HEAD SRC DEST "---\n" HEAD SRC DEST;
	cairn_app_set *set;

	load_fails(two, CAIRN_EINVAL, 12, "duplicate application 'a' (first defined at t.yaml:1)");
	set = load_ok(HEAD "  project: nope\n" SRC DEST);
	ck_assert_int_eq(cairn_app_set_check(set), CAIRN_ENOTFOUND);
	ck_assert_error_contains("names project 'nope', which is not defined");
	cairn_app_set_free(set);
}
END_TEST

START_TEST(signature_keys_refused)
{
	load_fails("apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: p\n"
	           "spec:\n  signatureKeys:\n  - keyID: 4AEE18F83AFDEB23\n",
	           CAIRN_EUNSUPPORTED, 7, "OpenPGP commit verification is not supported");
}
END_TEST

START_TEST(project_restrictions)
{
	char path[1024];
	cairn_app_set *set = NULL;
	const cairn_app_project *p;

	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load(
	                         set, test_data_path(path, sizeof(path), "app/project.yaml"), NULL),
	                 0);
	p = cairn_app_set_project(set, "team");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->allowed_signers, "/etc/cairn/allowed_signers");
	ck_assert_int_eq(cairn_app_project_source_ok(p, "https://git.example.com/shop.git"), 1);
	ck_assert_int_eq(cairn_app_project_source_ok(p, "https://git.example.com/secrets.git"), 0);
	ck_assert_int_eq(cairn_app_project_source_ok(p, "https://github.com/x.git"), 0);
	ck_assert_int_eq(cairn_app_project_dest_ok(p, "https://127.0.0.1:6443", NULL, "team-a"), 1);
	ck_assert_int_eq(cairn_app_project_dest_ok(p, "https://other", NULL, "apps"), 1);
	ck_assert_int_eq(cairn_app_project_dest_ok(p, "https://other", NULL, "kube-system"), 0);
	ck_assert_int_eq(cairn_app_project_kind_ok(p, "", "Namespace", 0), 1);
	ck_assert_int_eq(
	        cairn_app_project_kind_ok(p, "rbac.authorization.k8s.io", "ClusterRole", 0), 0);
	ck_assert_int_eq(cairn_app_project_kind_ok(p, "apps", "Deployment", 1), 1);
	ck_assert_int_eq(cairn_app_project_kind_ok(p, "", "ResourceQuota", 1), 0);
	ck_assert_uint_eq(p->window_count, 2);
	ck_assert_str_eq(p->windows[1].time_zone, "Europe/Paris");
	/* The implicit default project appears at check time and allows all. */
	ck_assert_int_eq(cairn_app_set_check(set), 0);
	p = cairn_app_set_project(set, "default");
	ck_assert_int_eq(p->implicit, 1);
	ck_assert_int_eq(cairn_app_project_dest_ok(p, "https://x", NULL, "kube-system"), 1);
	cairn_app_set_free(set);
}
END_TEST

START_TEST(project_denies_app)
{
	const char *y =
	        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: p\n"
	        "spec:\n  sourceRepos: ['https://ok/*']\n  destinations:\n"
	        "  - server: https://k\n    namespace: ns\n---\n" HEAD "  project: p\n" SRC DEST;
	cairn_app_set *set = load_ok(y);

	ck_assert_int_eq(cairn_app_set_check(set), CAIRN_EPERM);
	ck_assert_error_contains(
	        "source repository 'https://git/r.git' is not permitted by project "
	        "'p'");
	ck_assert_int_eq(cairn_error_last()->line, 11);
	cairn_app_set_free(set);
}
END_TEST

void app_load_tests(Suite *s)
{
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, guestbook_family);
	tcase_add_test(tc, unknown_field_is_error);
	tcase_add_test(tc, wrong_types);
	tcase_add_test(tc, missing_fields);
	tcase_add_test(tc, notices_once_each);
	tcase_add_test(tc, duplicate_and_project_checks);
	tcase_add_test(tc, signature_keys_refused);
	tcase_add_test(tc, project_restrictions);
	tcase_add_test(tc, project_denies_app);
	suite_add_tcase(s, tc);
}
