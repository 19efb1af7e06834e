/*
 * render_security.c - every way a source could make the renderer read
 * outside its root is refused: `..` climbing out, absolute paths, symlinks
 * pointing out (local directory and git tree backends), and files over
 * the size bound. The class of bug Argo CD's repo-server had CVEs for.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "render_env_tests.h"

static char top[64], root[96];

static void put(const char *rel, const char *text)
{
	char p[256], d[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	snprintf(d, sizeof(d), "%s", p);
	for (char *s = strchr(d + strlen(top) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(d, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The tree root is <top>/repo; <top>/secret.yaml lies outside it. */
static void setup(void)
{
	snprintf(top, sizeof(top), "/tmp/cairn-sec-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/repo", top);
	put("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n");
	put("repo/app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

/* Render `dir` of `t` through the public pipeline and expect `code`. */
static void expect_tree(cairn_tree *t, const char *dir, int code)
{
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	json_t *objs = NULL;

	o.path = dir;
	o.no_subst = 1;
	ck_assert_msg(cairn_render_build(&objs, NULL, t, &o) == code, "'%s': %s", dir,
	              cairn_error_last()->message);
	ck_assert_ptr_null(objs);
}

static void expect_dir(const char *dir, int code)
{
	cairn_tree *t = NULL;

	ck_assert_int_eq(cairn_tree_open_dir(&t, root), 0);
	expect_tree(t, dir, code);
	cairn_tree_free(t);
}

START_TEST(resources_dotdot_refused)
{
	put("repo/app/kustomization.yaml", "resources: [cm.yaml, ../../secret.yaml]\n");
	expect_dir("app", CAIRN_EPERM);
	ck_assert_error_contains("../../secret.yaml");
	put("repo/app/kustomization.yaml", "resources: [../../../../../../etc]\n");
	expect_dir("app", CAIRN_EPERM);
}
END_TEST

START_TEST(resources_absolute_refused)
{
	char k[256];

	snprintf(k, sizeof(k), "resources: [%s/secret.yaml]\n", top);
	put("repo/app/kustomization.yaml", k);
	expect_dir("app", CAIRN_EPERM);
	ck_assert_error_contains("absolute path");
}
END_TEST

START_TEST(symlink_out_dir_backend)
{
	char link[256], target[256];

	snprintf(link, sizeof(link), "%s/app/link.yaml", root);
	snprintf(target, sizeof(target), "%s/secret.yaml", top);
	ck_assert_int_eq(symlink(target, link), 0);
	put("repo/app/kustomization.yaml", "resources: [cm.yaml, link.yaml]\n");
	expect_dir("app", CAIRN_EPERM);
	/* the plain-directory form, and a relative link climbing out */
	unlink(link);
	ck_assert_int_eq(symlink("../../secret.yaml", link), 0);
	snprintf(target, sizeof(target), "%s/app/kustomization.yaml", root);
	unlink(target);
	expect_dir("app", CAIRN_EPERM);
	/* a symlinked directory that leaves the root */
	snprintf(link, sizeof(link), "%s/out", root);
	ck_assert_int_eq(symlink(top, link), 0);
	put("repo/k/kustomization.yaml", "resources: [../out]\n");
	expect_dir("k", CAIRN_EPERM);
}
END_TEST

/* Run a shell command in <top>/repo; fails the test when it fails. */
static void sh(const char *cmd)
{
	char full[1024];

	snprintf(full, sizeof(full),
	         "cd '%s' && GIT_CONFIG_NOSYSTEM=1 HOME='%s' %s >/dev/null 2>&1", root, top, cmd);
	ck_assert_msg(system(full) == 0, "%s", cmd);
}

START_TEST(symlink_out_git_backend)
{
	char oid[64] = "", cmd[256];
	cairn_tree *t = NULL;
	FILE *p;

	sh("git init -q . && ln -s ../../secret.yaml app/link.yaml && "
	   "ln -s /etc app/etc && printf 'resources: [cm.yaml, link.yaml]\\n' > "
	   "app/kustomization.yaml && mkdir g && printf 'resources: [../app/etc/passwd]\\n' > "
	   "g/kustomization.yaml && git add -A && git -c user.name=t -c user.email=t@t "
	   "commit -qm x");
	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD", root);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(oid, sizeof(oid), p));
	pclose(p);
	oid[strcspn(oid, "\n")] = '\0';
	ck_assert_int_eq(cairn_tree_open_git_path(&t, root, oid), 0);
	expect_tree(t, "app", CAIRN_EPERM);
	expect_tree(t, "g", CAIRN_EPERM);
	cairn_tree_free(t);
}
END_TEST

START_TEST(oversized_file_refused)
{
	char big[256];
	int fd;

	snprintf(big, sizeof(big), "%s/app/big.yaml", root);
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	/* sparse: one byte past the bound */
	ck_assert_int_eq(ftruncate(fd, (off_t)CAIRN_RENDER_FILE_MAX + 1), 0);
	close(fd);
	put("repo/app/kustomization.yaml", "resources: [big.yaml]\n");
	expect_dir("app", CAIRN_ELIMIT);
	snprintf(big, sizeof(big), "%s/app/kustomization.yaml", root);
	unlink(big);
	expect_dir("app", CAIRN_ELIMIT);
}
END_TEST

START_TEST(path_option_escape_refused)
{
	expect_dir("../", CAIRN_EPERM);
	expect_dir("/etc", CAIRN_EPERM);
}
END_TEST

START_TEST(plugin_extraction_refuses_symlink_out)
{
	const char *argv[] = {"/bin/cat", "link.yaml", NULL};
	cairn_render_plugin p = {"cat", argv, 10000};
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	cairn_tree *t = NULL;
	json_t *objs = NULL;
	char link[256];

	snprintf(link, sizeof(link), "%s/app/link.yaml", root);
	ck_assert_int_eq(symlink("../../secret.yaml", link), 0);
	ck_assert_int_eq(cairn_tree_open_dir(&t, root), 0);
	o.path = "app";
	o.plugin = &p;
	ck_assert_int_eq(cairn_render_build(&objs, NULL, t, &o), CAIRN_EPERM);
	ck_assert_ptr_null(objs);
	cairn_tree_free(t);
}
END_TEST

/* Each file-reading field of a kustomization, pointed out of the root. */
static const char *const field_escapes[] = {
        "resources: [cm.yaml]\npatches:\n- path: ../../secret.yaml\n",
        "resources: [cm.yaml]\npatchesStrategicMerge: [../../secret.yaml]\n",
        "patchesJson6902:\n- {target: {kind: ConfigMap}, path: ../../s.yaml}\n",
        "configMapGenerator:\n- name: g\n  files: [../../secret.yaml]\n",
        "configMapGenerator:\n- name: g\n  envs: [/etc/passwd]\n",
        "secretGenerator:\n- name: g\n  files: [k=../../secret.yaml]\n",
        "components: [../../x]\n",
        "resources: [cm.yaml]\npatches:\n- path: link.yaml\n",
        "configMapGenerator:\n- name: g\n  files: [link.yaml]\n",
};

START_TEST(field_paths_refused)
{
	char link[256];

	snprintf(link, sizeof(link), "%s/app/link.yaml", root);
	ck_assert_int_eq(symlink("../../secret.yaml", link), 0);
	put("repo/app/kustomization.yaml", field_escapes[_i]);
	expect_dir("app", CAIRN_EPERM);
	ck_assert_msg(strstr(cairn_error_last()->message, "app/kustomization.yaml") ||
	                      strstr(cairn_error_last()->message, "link.yaml"),
	              "%s", cairn_error_last()->message);
}
END_TEST

void render_security_tests(Suite *s)
{
	TCase *tc = tcase_create("security");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, resources_dotdot_refused);
	tcase_add_test(tc, resources_absolute_refused);
	tcase_add_test(tc, symlink_out_dir_backend);
	tcase_add_test(tc, symlink_out_git_backend);
	tcase_add_test(tc, oversized_file_refused);
	tcase_add_test(tc, path_option_escape_refused);
	tcase_add_test(tc, plugin_extraction_refuses_symlink_out);
	tcase_add_loop_test(tc, field_paths_refused, 0,
	                    (int)(sizeof(field_escapes) / sizeof(field_escapes[0])));
	suite_add_tcase(s, tc);
}
