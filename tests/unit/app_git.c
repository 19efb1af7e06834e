/*
 * app_git.c - the app module over git repositories made by `git` in a
 * temporary directory: definitions loaded through the mirror cache, the
 * ApplicationSet git generators on the git reader (checked against the
 * local-directory reader on the same files), and the signed-commit
 * requirement with commits signed by real `git commit -S` (gpg.format=ssh).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_tests.h"
#include "cairn/app.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "testutil.h"

static char tmp[256];

/* Run a shell command in tmp; assert it succeeds. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096], full[4400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_uint_lt(
	        (size_t)snprintf(
	                full, sizeof(full),
	                "cd '%s' && export GIT_CONFIG_NOSYSTEM=1 HOME='%s' && (%s) >/dev/null 2>&1",
	                tmp, tmp, cmd),
	        sizeof(full));
	ck_assert_msg(system(full) == 0, "command failed: %s", cmd);
}

/* First line of a command's output, run in tmp. */
static void capture(char *out, size_t size, const char *cmd)
{
	char full[1024];
	FILE *p;

	snprintf(full, sizeof(full), "cd '%s' && %s", tmp, cmd);
	p = popen(full, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, (int)size, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/*
 * Two repositories: `platform` holds the generator fixture files of
 * tests/unit/data/app/repo (tag v1.0.0, then one more directory on main);
 * `defs` holds Application definitions and signed and unsigned commits.
 */
static void setup(void)
{
	char data[1024];

	snprintf(tmp, sizeof(tmp), "/tmp/cairn-appgit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	test_data_path(data, sizeof(data), "app/repo");
	sh("git config --global user.email t@example.com && git config --global user.name T && "
	   "git config --global init.defaultBranch main && git init -q platform && "
	   "cp -r '%s'/. platform/ && cd platform && git add -A && git commit -qm one && "
	   "git tag v1.0.0 && mkdir -p apps/extra && echo x > apps/extra/README && "
	   "git add -A && git commit -qm two",
	   data);
	sh("ssh-keygen -q -t ed25519 -N '' -C alice -f alice && "
	   "ssh-keygen -q -t ed25519 -N '' -C bob -f bob && "
	   "echo \"t@example.com $(cut -d' ' -f1,2 alice.pub)\" > alice.allowed && "
	   "echo \"t@example.com $(cut -d' ' -f1,2 bob.pub)\" > bob.allowed && "
	   "git init -q defs && cd defs && git config gpg.format ssh && "
	   "git config user.signingkey \"$PWD/../alice.pub\" && mkdir -p apps/sub && "
	   "printf 'apiVersion: argoproj.io/v1alpha1\\nkind: Application\\nmetadata:\\n  name: "
	   "one\\nspec:\\n  project: p\\n  source:\\n    repoURL: file://%s/defs\\n    "
	   "targetRevision: signed\\n  destination:\\n    server: https://k\\n' > apps/one.yaml && "
	   "sed 's/name: one/name: two/; s/: signed/: unsigned/' apps/one.yaml > apps/sub/two.yml "
	   "&& sed 's/name: one/name: hidden/' apps/one.yaml > apps/.hidden.yaml && "
	   "echo 'not yaml: [' > apps/README && "
	   "printf 'apiVersion: argoproj.io/v1alpha1\\nkind: AppProject\\nmetadata:\\n  name: p\\n"
	   "  annotations:\\n    cairn.dev/allowed-signers: alice.allowed\\nspec:\\n  "
	   "sourceRepos: [\"*\"]\\n  destinations: [{server: \"*\", namespace: \"*\"}]\\n' > "
	   "apps/proj.yaml && git add -A && git commit -qm base && git tag v1.0.0 && "
	   "git checkout -qb signed && echo s > s && git add s && git commit -qS -m signed && "
	   "git checkout -qb unsigned main && echo u > u && git add u && git commit -qm unsigned "
	   "&& "
	   "git checkout -q main && cp ../alice.allowed apps/",
	   tmp);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static cairn_app_git *session(void)
{
	cairn_app_git *g = NULL;
	char state[300];

	snprintf(state, sizeof(state), "%s/state", tmp);
	ck_assert_int_eq(cairn_app_git_new(&g, state, NULL, 0), 0);
	return g;
}

START_TEST(load_definitions_from_a_repository)
{
	cairn_app_git *g = session();
	cairn_app_set *set = NULL;
	char url[300], want[400];
	const cairn_app *a;

	snprintf(url, sizeof(url), "file://%s/defs", tmp);
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_msg(cairn_app_set_load_git(set, g, url, "v1.0.0", "apps", NULL) == 0, "%s",
	              cairn_error_last()->message);
	/* .hidden.yaml and README are skipped; sub/ is read */
	ck_assert_uint_eq(cairn_app_set_count(set), 2);
	ck_assert_ptr_nonnull(cairn_app_set_find(set, "one"));
	a = cairn_app_set_find(set, "two");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->sources[0].target_revision, "unsigned");
	snprintf(want, sizeof(want), "%s@v1.0.0:apps/sub/two.yml", url);
	ck_assert_str_eq(a->file, want);
	ck_assert_ptr_nonnull(cairn_app_set_project(set, "p"));
	ck_assert_str_eq(cairn_app_set_project(set, "p")->allowed_signers, "alice.allowed");
	ck_assert_int_eq(cairn_app_set_check(set), 0);
	/* one file */
	cairn_app_set_free(set);
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_git(set, g, url, "main", "/apps/one.yaml", NULL), 0);
	ck_assert_uint_eq(cairn_app_set_count(set), 1);
	cairn_app_set_free(set);
	cairn_app_git_free(g);
}
END_TEST

START_TEST(load_errors_name_revision_and_path)
{
	cairn_app_git *g = session();
	cairn_app_set *set = NULL;
	char url[300];

	snprintf(url, sizeof(url), "file://%s/defs", tmp);
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_git(set, g, url, "nope", "apps", NULL),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("revision 'nope' not found");
	ck_assert_int_eq(cairn_app_set_load_git(set, g, url, "main", "missing", NULL),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("missing");
	/* a bad file in the repository is named URL@REV:PATH with its line */
	sh("cd defs && printf 'apiVersion: argoproj.io/v1alpha1\\nkind: Application\\nmetadata:\\n"
	   "  name: bad\\nspec:\\n  sorce: {}\\n' > apps/bad.yaml && git add -A && "
	   "git commit -qm bad && git tag broken");
	/* the session fetched once: only a new session sees the new tag */
	ck_assert_int_eq(cairn_app_set_load_git(set, g, url, "broken", "apps", NULL),
	                 CAIRN_ENOTFOUND);
	cairn_app_git_free(g);
	g = session();
	ck_assert_int_eq(cairn_app_set_load_git(set, g, url, "broken", "apps", NULL), CAIRN_EINVAL);
	ck_assert_ptr_nonnull(strstr(cairn_error_last()->file, "/defs@broken:apps/bad.yaml"));
	ck_assert_int_eq(cairn_error_last()->line, 6);
	ck_assert_error_contains("'spec.sorce'");
	cairn_app_set_free(set);
	cairn_app_git_free(g);
}
END_TEST

/* Load `yaml` (an ApplicationSet) with the reader; names joined by ','. */
static void gen_names(char *out, size_t size, const char *yaml, const cairn_app_reader *r)
{
	cairn_app_load_opts opts = CAIRN_APP_LOAD_OPTS_INIT;
	cairn_app_set *set = NULL;
	size_t len = 0;

	opts.reader = r;
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_msg(cairn_app_set_load_data(set, yaml, strlen(yaml), "set.yaml", &opts) == 0,
	              "%s", cairn_error_last()->message);
	out[0] = '\0';
	for (size_t i = 0; i < cairn_app_set_count(set); i++) {
		const cairn_app *a = cairn_app_set_at(set, i);
		len += (size_t)snprintf(out + len, size - len, "%s%s=%s", i ? "," : "", a->name,
		                        a->dest_namespace);
	}
	cairn_app_set_free(set);
}

static const char dirs_set[] =
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n"
        "  generators:\n  - git:\n      repoURL: file://%s/platform\n      revision: %s\n"
        "      directories:\n      - path: apps/*\n      - path: apps/legacy\n"
        "        exclude: true\n  template:\n    metadata:\n      name: '{{path.basename}}'\n"
        "    spec:\n      project: default\n      source:\n        repoURL: x\n"
        "        path: '{{path}}'\n      destination:\n        server: https://k\n"
        "        namespace: 'ns-{{path.basename}}'\n";

static const char files_set[] =
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: c\nspec:\n"
        "  generators:\n  - git:\n      repoURL: file://%s/platform\n      revision: %s\n"
        "      files:\n      - path: config/*/config.json\n  template:\n    metadata:\n"
        "      name: 'cfg-{{path.basename}}-{{cluster.name}}'\n    spec:\n"
        "      project: default\n      source:\n        repoURL: x\n        path: '{{path}}'\n"
        "      destination:\n        server: '{{cluster.address}}'\n"
        "        namespace: '{{path[1]}}'\n";

START_TEST(git_generators_read_the_repository)
{
	cairn_app_git *g = session();
	cairn_app_reader git = cairn_app_reader_git(g);
	char data[1024], yaml[2048], a[1024], b[1024];
	cairn_app_reader dir = cairn_app_reader_dir(test_data_path(data, sizeof(data), "app/repo"));

	/* at the tag: the same Applications as the fixture folder gives */
	snprintf(yaml, sizeof(yaml), dirs_set, tmp, "v1.0.0");
	gen_names(a, sizeof(a), yaml, &git);
	gen_names(b, sizeof(b), yaml, &dir);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "api=ns-api,web=ns-web");
	snprintf(yaml, sizeof(yaml), files_set, tmp, "v1.0.0");
	gen_names(a, sizeof(a), yaml, &git);
	gen_names(b, sizeof(b), yaml, &dir);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "cfg-dev-"));
	/* at main, the directory added after the tag appears */
	snprintf(yaml, sizeof(yaml), dirs_set, tmp, "main");
	gen_names(a, sizeof(a), yaml, &git);
	ck_assert_str_eq(a, "api=ns-api,extra=ns-extra,web=ns-web");
	cairn_app_git_free(g);
}
END_TEST

START_TEST(resolve_and_reuse)
{
	cairn_app_git *g = session();
	cairn_source_repo *r1 = NULL, *r2 = NULL;
	char url[300], id[CAIRN_SOURCE_OID_HEX_LEN], want[64];

	snprintf(url, sizeof(url), "file://%s/defs", tmp);
	ck_assert_int_eq(cairn_app_git_resolve(id, g, url, "signed"), 0);
	capture(want, sizeof(want), "git -C defs rev-parse signed");
	ck_assert_str_eq(id, want);
	ck_assert_int_eq(cairn_app_git_resolve(id, g, url, NULL), 0);
	capture(want, sizeof(want), "git -C defs rev-parse main");
	ck_assert_str_eq(id, want);
	/* spellings of one URL share one mirror */
	ck_assert_int_eq(cairn_app_git_repo(&r1, g, url), 0);
	snprintf(url, sizeof(url), "file://%s/defs/", tmp);
	ck_assert_int_eq(cairn_app_git_repo(&r2, g, url), 0);
	ck_assert_ptr_eq(r1, r2);
	ck_assert_int_eq(cairn_app_git_new(&g, NULL, NULL, 0) < 0, 1);
	cairn_app_git_free(g);
}
END_TEST

/* Load the definitions from the local clone so relative paths resolve. */
static cairn_app_set *local_defs(const char *extra_yaml)
{
	cairn_app_set *set = NULL;
	char path[300];

	snprintf(path, sizeof(path), "%s/defs/apps", tmp);
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load(set, path, NULL), 0);
	if (extra_yaml)
		ck_assert_int_eq(cairn_app_set_load_data(set, extra_yaml, strlen(extra_yaml),
		                                         "extra.yaml", NULL),
		                 0);
	return set;
}

/* Verify the Application `name` at its targetRevision. */
static int verdict(cairn_app_sig_verdict *v, cairn_app_git *g, const cairn_app_set *set,
                   const char *name, const cairn_config *cfg)
{
	const cairn_app *a = cairn_app_set_find(set, name);
	cairn_source_repo *repo = NULL;
	char id[CAIRN_SOURCE_OID_HEX_LEN];

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(
	        cairn_app_git_resolve(id, g, a->sources[0].repo_url, a->sources[0].target_revision),
	        0);
	ck_assert_int_eq(cairn_app_git_repo(&repo, g, a->sources[0].repo_url), 0);
	return cairn_app_verify_revision(v, a, cairn_app_set_project(set, a->project), cfg, repo,
	                                 id);
}

START_TEST(project_requires_signed_commits)
{
	cairn_app_git *g = session();
	cairn_app_set *set = local_defs(NULL);
	cairn_app_sig_verdict v;
	char want[64];

	/* the project's relative path is read next to its file */
	ck_assert_msg(verdict(&v, g, set, "one", NULL) == 0, "%s", cairn_error_last()->message);
	ck_assert_int_eq(v.required, 1);
	ck_assert_int_eq(v.allowed, 1);
	ck_assert_int_eq(v.result.status, CAIRN_SIG_VERIFIED);
	ck_assert_str_eq(v.required_by, "project 'p'");
	ck_assert_ptr_nonnull(strstr(v.signers_file, "/defs/apps/alice.allowed"));
	capture(want, sizeof(want), "git -C defs rev-parse signed");
	ck_assert_str_eq(v.result.commit_id, want);
	ck_assert_ptr_nonnull(strstr(v.result.reason, "t@example.com"));
	/* an unsigned commit is refused with the reason */
	ck_assert_int_eq(verdict(&v, g, set, "two", NULL), 0);
	ck_assert_int_eq(v.required, 1);
	ck_assert_int_eq(v.allowed, 0);
	ck_assert_int_eq(v.result.status, CAIRN_SIG_UNSIGNED);
	ck_assert_ptr_nonnull(strstr(v.result.reason, "not signed"));
	cairn_app_set_free(set);
	cairn_app_git_free(g);
}
END_TEST

START_TEST(config_and_application_requirements)
{
	cairn_app_git *g = session();
	cairn_app_set *set = NULL;
	cairn_app_sig_verdict v;
	cairn_config cfg;
	char yaml[1024], bob[300], alice[300];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(bob, sizeof(bob), "%s/bob.allowed", tmp);
	snprintf(alice, sizeof(alice), "%s/alice.allowed", tmp);
	/* no project annotation: the configuration's file applies, here bob's */
	snprintf(yaml, sizeof(yaml),
	         "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: three\n"
	         "spec:\n  source:\n    repoURL: file://%s/defs\n    targetRevision: signed\n"
	         "  destination:\n    server: https://k\n",
	         tmp);
	set = local_defs(yaml);
	ck_assert_int_eq(verdict(&v, g, set, "three", NULL), 0);
	ck_assert_int_eq(v.required, 0);
	ck_assert_int_eq(v.allowed, 1);
	cfg.allowed_signers = bob;
	cfg.file = "cairn.yaml";
	ck_assert_int_eq(verdict(&v, g, set, "three", &cfg), 0);
	ck_assert_int_eq(v.allowed, 0);
	ck_assert_int_eq(v.result.status, CAIRN_SIG_KEY_NOT_ALLOWED);
	ck_assert_str_eq(v.required_by, "configuration 'cairn.yaml'");
	cfg.allowed_signers = alice;
	ck_assert_int_eq(verdict(&v, g, set, "three", &cfg), 0);
	ck_assert_int_eq(v.allowed, 1);
	cairn_app_set_free(set);
	/* the project passes (alice) but the Application also asks for bob's key */
	snprintf(yaml, sizeof(yaml),
	         "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: four\n"
	         "  annotations:\n    cairn.dev/allowed-signers: %s\nspec:\n  project: p\n"
	         "  source:\n    repoURL: file://%s/defs\n    targetRevision: signed\n"
	         "  destination:\n    server: https://k\n",
	         bob, tmp);
	set = local_defs(yaml);
	ck_assert_int_eq(verdict(&v, g, set, "four", &cfg), 0);
	ck_assert_int_eq(v.required, 1);
	ck_assert_int_eq(v.allowed, 0);
	ck_assert_str_eq(v.required_by, "application 'four'");
	ck_assert_str_eq(v.signers_file, bob);
	ck_assert_int_eq(v.result.status, CAIRN_SIG_KEY_NOT_ALLOWED);
	cairn_app_set_free(set);
	cfg.file = NULL;
	cfg.allowed_signers = NULL;
	cairn_app_git_free(g);
}
END_TEST

START_TEST(requirement_errors)
{
	cairn_app_git *g = session();
	cairn_app_set *set = NULL;
	cairn_app_sig_verdict v;
	char url[300];

	/* a relative path in a project read from a repository is refused */
	snprintf(url, sizeof(url), "file://%s/defs", tmp);
	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_git(set, g, url, "main", "apps", NULL), 0);
	ck_assert_int_eq(verdict(&v, g, set, "one", NULL), CAIRN_EINVAL);
	ck_assert_error_contains("project 'p' gives the relative allowed-signers path "
	                         "'alice.allowed' but was not read from a local file");
	cairn_app_set_free(set);
	/* a missing allowed-signers file is an error, not an allowance */
	set = local_defs(NULL);
	sh("rm defs/apps/alice.allowed 2>/dev/null; true");
	ck_assert_int_lt(verdict(&v, g, set, "one", NULL), 0);
	ck_assert_error_contains("alice.allowed");
	cairn_app_set_free(set);
	cairn_app_git_free(g);
}
END_TEST

void app_git_tests(Suite *s)
{
	TCase *tc = tcase_create("git");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, load_definitions_from_a_repository);
	tcase_add_test(tc, load_errors_name_revision_and_path);
	tcase_add_test(tc, git_generators_read_the_repository);
	tcase_add_test(tc, resolve_and_reuse);
	tcase_add_test(tc, project_requires_signed_commits);
	tcase_add_test(tc, config_and_application_requirements);
	tcase_add_test(tc, requirement_errors);
	suite_add_tcase(s, tc);
}
