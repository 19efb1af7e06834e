/*
 * render_parity.c - every overlay under tests/fixtures/kustomize/ is
 * rendered by `kubectl kustomize` (the oracle, run now) and natively; the
 * bytes must be identical. Also the render hash and plain directories.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/render.h"
#include "cairn/util.h"
#include "render_tests.h"

static void fixture_root(char *buf, size_t size, const char *rel)
{
	const char *src = getenv("CAIRN_SRCDIR");

	snprintf(buf, size, "%s/tests/fixtures/kustomize/%s", src ? src : ".", rel);
}

/* Render case `name` both ways and compare; returns 1 when it ran. */
static void check_case(const char *name)
{
	char root[4096], dir[4200], sub[64];
	const char *argv[] = {"kubectl", "kustomize", dir, NULL};
	const char *env[] = {"KUBECONFIG=/dev/null", NULL};
	const char *allow[] = {"PATH", "HOME", NULL};
	cairn_proc_opts po = CAIRN_PROC_OPTS_INIT;
	cairn_proc_result res = {0};
	cairn_buf mine = CAIRN_BUF_INIT(0);
	cairn_tree *t = NULL;
	json_t *objs = NULL;
	struct stat st;

	fixture_root(root, sizeof(root), name);
	snprintf(dir, sizeof(dir), "%s/overlay", root);
	snprintf(sub, sizeof(sub), "overlay");
	if (stat(dir, &st) != 0) {
		snprintf(dir, sizeof(dir), "%s", root);
		sub[0] = '\0';
	}
	po.env = env;
	po.env_allow = allow;
	po.timeout_ms = 60000;
	ck_assert_msg(cairn_proc_run(&res, argv, &po) == 0,
	              "kubectl is not installed: it is the oracle of the kustomize parity tests");
	ck_assert_msg(res.exited && res.status == 0, "kubectl kustomize %s failed: %s", name,
	              res.err.ptr ? res.err.ptr : "");
	ck_assert_int_eq(cairn_tree_open_dir(&t, root), 0);
	ck_assert_msg(cairn_render_kustomize(&objs, t, sub) == 0, "%s: %s", name,
	              cairn_error_last()->message);
	ck_assert_int_eq(cairn_render_emit(&mine, objs, 0), 0);
	ck_assert_msg(mine.len == res.out.len && memcmp(mine.ptr, res.out.ptr, mine.len) == 0,
	              "%s differs from kubectl kustomize:\n--- kubectl\n%s\n--- cairn\n%s", name,
	              res.out.ptr, mine.ptr);
	json_decref(objs);
	cairn_tree_free(t);
	cairn_buf_dispose(&mine);
	cairn_proc_result_dispose(&res);
}

START_TEST(every_fixture_matches_kubectl)
{
	char root[4096];
	DIR *d;
	struct dirent *e;
	int n = 0;

	fixture_root(root, sizeof(root), "");
	d = opendir(root);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		check_case(e->d_name);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 3);
}
END_TEST

static json_t *render_case(const char *name, const char *sub)
{
	char root[4096];
	cairn_tree *t = NULL;
	json_t *objs = NULL;

	fixture_root(root, sizeof(root), name);
	ck_assert_int_eq(cairn_tree_open_dir(&t, root), 0);
	ck_assert_msg(cairn_render_kustomize(&objs, t, sub) == 0, "%s",
	              cairn_error_last()->message);
	cairn_tree_free(t);
	return objs;
}

START_TEST(hash_ignores_order_but_not_content)
{
	json_t *objs = render_case("prefix-labels", "overlay");
	json_t *rev = json_array();
	char h1[65], h2[65], h3[65];

	for (size_t i = json_array_size(objs); i > 0; i--)
		json_array_append(rev, json_array_get(objs, i - 1));
	ck_assert_int_eq(cairn_render_hash(h1, objs), 0);
	ck_assert_int_eq(cairn_render_hash(h2, rev), 0);
	ck_assert_str_eq(h1, h2);
	json_object_set_new(json_object_get(json_array_get(objs, 0), "metadata"), "name",
	                    json_string("other"));
	ck_assert_int_eq(cairn_render_hash(h3, objs), 0);
	ck_assert_str_ne(h1, h3);
	json_array_append_new(rev, json_integer(1));
	ck_assert_int_eq(cairn_render_hash(h3, rev), CAIRN_EINVAL);
	json_decref(objs);
	json_decref(rev);
}
END_TEST

START_TEST(name_references_follow_renames)
{
	json_t *objs = render_case("prefix-labels", "overlay");
	json_t *dep = NULL, *v;
	size_t i;

	json_array_foreach(objs, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "kind")), "Deployment") == 0)
			dep = v;
	}
	ck_assert_ptr_nonnull(dep);
	v = json_object_get(json_object_get(json_object_get(dep, "spec"), "template"), "spec");
	ck_assert_str_eq(json_string_value(json_object_get(v, "serviceAccountName")), "p-sa-s");
	json_decref(objs);
}
END_TEST

/* A plain directory: files in path order, Lists flattened, kubectl's
 * YAML 1.1 scalars (`on` is true there). */
START_TEST(plain_directory)
{
	char dir[] = "/tmp/cairn-render-XXXXXX", p[256];
	cairn_tree *t = NULL;
	json_t *objs = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/b.yaml", dir);
	f = fopen(p, "w");
	fputs("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
	      "  metadata: {name: l1}\n  data: {x: on}\n---\n---\napiVersion: v1\nkind: Secret\n"
	      "metadata: {name: s}\n",
	      f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/a.json", dir);
	f = fopen(p, "w");
	fputs("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"j\"}}", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	f = fopen(p, "w");
	fputs("not: yaml: at all\n", f);
	fclose(f);
	ck_assert_int_eq(cairn_tree_open_dir(&t, dir), 0);
	ck_assert_msg(cairn_render_directory(&objs, t, "", 0) == 0, "%s",
	              cairn_error_last()->message);
	ck_assert_int_eq(json_array_size(objs), 3);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(objs, 0), "metadata"), "name")),
	                 "j");
	ck_assert(json_is_true(
	        json_object_get(json_object_get(json_array_get(objs, 1), "data"), "x")));
	ck_assert_int_eq(cairn_render_is_kustomization(t, ""), 0);
	json_decref(objs);
	cairn_tree_free(t);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a.json", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/b.yaml", dir);
	unlink(p);
	rmdir(dir);
}
END_TEST

void render_parity_tests(Suite *s)
{
	TCase *tc = tcase_create("parity");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_fixture_matches_kubectl);
	tcase_add_test(tc, hash_ignores_order_but_not_content);
	tcase_add_test(tc, name_references_follow_renames);
	tcase_add_test(tc, plain_directory);
	suite_add_tcase(s, tc);
}
