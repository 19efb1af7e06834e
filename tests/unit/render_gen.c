/*
 * render_gen.c - configMapGenerator/secretGenerator errors (each with its
 * code and message), the content hash on known values, and plain
 * directories with Argo CD's include/exclude globs.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/render.h"
#include "render_tests.h"

static char tmp[64];

static void put(const char *rel, const char *text)
{
	char p[256], d[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	for (char *s = strchr(p + strlen(tmp) + 1, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(d, sizeof(d), "%.*s", (int)(s - p), p);
		mkdir(d, 0755);
	}
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cairn-gen-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/* Render `dir` of the temp tree; returns the code, objects in *objs. */
static int render(const char *dir, json_t **objs)
{
	cairn_tree *t = NULL;
	int rc;

	*objs = NULL;
	ck_assert_int_eq(cairn_tree_open_dir(&t, tmp), 0);
	rc = cairn_render_kustomize(objs, t, dir);
	cairn_tree_free(t);
	return rc;
}

static void expect(const char *dir, int code)
{
	json_t *objs = NULL;

	ck_assert_int_eq(render(dir, &objs), code);
	ck_assert_ptr_null(objs);
}

START_TEST(missing_file)
{
	put("kustomization.yaml", "configMapGenerator:\n- name: g\n  files: [nope.txt]\n");
	expect("", CAIRN_ENOTFOUND);
	ck_assert_error_contains("file 'nope.txt' of kustomization.yaml");
	put("kustomization.yaml", "secretGenerator:\n- name: g\n  envs: [gone.env]\n");
	expect("", CAIRN_ENOTFOUND);
	ck_assert_error_contains("file 'gone.env'");
}
END_TEST

START_TEST(bad_env_lines)
{
	put("a.env", "# fine\nA=1\nFROM_ENVIRONMENT\n");
	put("kustomization.yaml", "configMapGenerator:\n- name: g\n  envs: [a.env]\n");
	expect("", CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("line 3 of env file 'a.env' has no '='");
	put("a.env", "A=1\nB=\xff\xfe\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("line 2 of env file 'a.env' is not UTF-8");
	put("kustomization.yaml", "configMapGenerator:\n- name: g\n  literals: [novalue]\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("literal 'novalue' of generator 'g' is not key=value");
}
END_TEST

START_TEST(duplicate_key)
{
	put("k", "x");
	put("kustomization.yaml",
	    "configMapGenerator:\n- name: g\n  literals: [k=1]\n  files: [k]\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("configmap 'g' repeats the key 'k'");
	put("kustomization.yaml", "secretGenerator:\n- name: s\n  literals: [a=1, a=2]\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("secret 's' repeats the key 'a'");
}
END_TEST

START_TEST(behavior_without_base)
{
	put("kustomization.yaml",
	    "configMapGenerator:\n- name: g\n  behavior: merge\n  literals: [a=1]\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("generator 'g' has behavior merge but no ConfigMap 'g'");
	put("kustomization.yaml", "secretGenerator:\n- name: s\n  behavior: replace\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("generator 's' has behavior replace but no Secret 's'");
	put("kustomization.yaml", "configMapGenerator:\n- name: g\n  behavior: upsert\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("behavior 'upsert' of generator 'g'");
	/* create over an existing one is refused too */
	put("b/kustomization.yaml", "configMapGenerator:\n- name: g\n  literals: [a=1]\n");
	put("kustomization.yaml", "resources: [b]\nconfigMapGenerator:\n- name: g\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("ConfigMap 'g' already exists");
}
END_TEST

START_TEST(path_escape)
{
	put("secret.txt", "top");
	put("o/kustomization.yaml", "configMapGenerator:\n- name: g\n  files: [../secret.txt]\n");
	expect("o", CAIRN_EPERM);
	ck_assert_error_contains("file '../secret.txt' leaves the directory of the kustomization");
	put("o/kustomization.yaml", "secretGenerator:\n- name: g\n  files: [k=/etc/passwd]\n");
	expect("o", CAIRN_EPERM);
	ck_assert_error_contains("file '/etc/passwd'");
	put("o/kustomization.yaml", "configMapGenerator:\n- name: g\n  envs: [a/../../x.env]\n");
	expect("o", CAIRN_EPERM);
	ck_assert_error_contains("'a/../../x.env'");
}
END_TEST

START_TEST(symlink_escape)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/link", tmp);
	ck_assert_int_eq(symlink("/etc/hostname", p), 0);
	put("kustomization.yaml", "configMapGenerator:\n- name: g\n  files: [link]\n");
	expect("", CAIRN_EPERM);
	ck_assert_error_contains("link");
}
END_TEST

/* Values computed by hand from kustomize's definition: SHA-256 of the Go
 * JSON {"data":{...},"kind":"ConfigMap","name":""} with '<' and '&' escaped
 * as \u003c and \u0026, first ten hex digits mapped 0->g 1->h 3->k a->m
 * e->t. */
START_TEST(hash_suffix)
{
	json_t *objs = NULL;

	put("kustomization.yaml", "configMapGenerator:\n- name: g\n  literals: ['a=x<y&z']\n"
	                          "secretGenerator:\n- name: s\n  literals: [password=s3cret]\n"
	                          "  type: kubernetes.io/basic-auth\n");
	ck_assert_int_eq(render("", &objs), 0);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(objs, 0), "metadata"), "name")),
	                 "g-88mhh7574d");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(objs, 1), "metadata"), "name")),
	                 "s-tt5ck8b7hb");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(objs, 1), "type")),
	                 "kubernetes.io/basic-auth");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(objs, 1), "data"), "password")),
	                 "czNjcmV0");
	json_decref(objs);
}
END_TEST

/* ---- plain directories ----------------------------------------------------- */

static void dir_names(const char *dir, const cairn_render_dir_opts *o, const char *want)
{
	cairn_tree *t = NULL;
	json_t *objs = NULL, *e;
	char got[512] = "";
	size_t i, n = 0;

	ck_assert_int_eq(cairn_tree_open_dir(&t, tmp), 0);
	ck_assert_msg(cairn_render_directory_opts(&objs, t, dir, o) == 0, "%s",
	              cairn_error_last()->message);
	json_array_foreach(objs, i, e)
	{
		n += (size_t)snprintf(
		        got + n, sizeof(got) - n, "%s%s", i ? "," : "",
		        json_string_value(json_object_get(json_object_get(e, "metadata"), "name")));
	}
	ck_assert_str_eq(got, want);
	json_decref(objs);
	cairn_tree_free(t);
}

static void put_cm(const char *rel, const char *name)
{
	char text[256];

	snprintf(text, sizeof(text), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n",
	         name);
	put(rel, text);
}

START_TEST(directory_globs)
{
	cairn_render_dir_opts o = CAIRN_RENDER_DIR_OPTS_INIT;

	put_cm("app/a.yaml", "a");
	put_cm("app/b.yml", "b");
	put_cm("app/config.json", "c");
	put_cm("app/env-usw2/d.yaml", "d");
	put_cm("app/env-euw1/e.yaml", "e");
	put_cm("app/skip/f.yaml", "f");
	put("app/notes.txt", "not a manifest");
	dir_names("app", &o, "a,b,c");
	o.recurse = 1;
	dir_names("app", &o, "a,b,c,e,d,f");
	o.include = "{config.json,env-usw2/*}";
	dir_names("app", &o, "c,d");
	o.include = "*.yaml";
	dir_names("app", &o, "a,e,d,f");
	o.exclude = "{skip/*,env-*/e.yaml}";
	dir_names("app", &o, "a,d");
	o.include = NULL;
	o.exclude = "env-[a-f]*/*";
	dir_names("app", &o, "a,b,c,d,f");
	o.exclude = "?.y*ml";
	dir_names("app", &o, "c,e,d,f");
	/* the old entry point still reads everything */
	{
		cairn_tree *t = NULL;
		json_t *objs = NULL;
		ck_assert_int_eq(cairn_tree_open_dir(&t, tmp), 0);
		ck_assert_int_eq(cairn_render_directory(&objs, t, "app", 1), 0);
		ck_assert_int_eq(json_array_size(objs), 6);
		json_decref(objs);
		cairn_tree_free(t);
	}
}
END_TEST

START_TEST(glob_syntax)
{
	ck_assert_int_eq(cairn_render_glob_match("*", "a/b/c.yaml"), 1);
	ck_assert_int_eq(cairn_render_glob_match("a/*.yaml", "a/b/c.yaml"), 1);
	ck_assert_int_eq(cairn_render_glob_match("a/?.yaml", "a/bc.yaml"), 0);
	ck_assert_int_eq(cairn_render_glob_match("{x,{y,z}}/[!a]*", "z/b.json"), 1);
	ck_assert_int_eq(cairn_render_glob_match("{x,{y,z}}/[!a]*", "z/a.json"), 0);
	ck_assert_int_eq(cairn_render_glob_match("\\*.yaml", "*.yaml"), 1);
	ck_assert_int_eq(cairn_render_glob_match("\\*.yaml", "x.yaml"), 0);
	ck_assert_int_eq(
	        cairn_render_glob_match("*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 0);
	ck_assert_int_eq(cairn_render_glob_match("{a,b", "a"), CAIRN_EINVAL);
	ck_assert_error_contains("glob '{a,b' has an unclosed '{'");
	ck_assert_int_eq(cairn_render_glob_match("[ab", "a"), CAIRN_EINVAL);
	ck_assert_error_contains("unclosed '['");
	ck_assert_int_eq(
	        cairn_render_glob_match("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}"
	                                "{u,v}",
	                                "x"),
	        CAIRN_ELIMIT);
}
END_TEST

void render_gen_tests(Suite *s)
{
	TCase *tc = tcase_create("gen");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, bad_env_lines);
	tcase_add_test(tc, duplicate_key);
	tcase_add_test(tc, behavior_without_base);
	tcase_add_test(tc, path_escape);
	tcase_add_test(tc, symlink_escape);
	tcase_add_test(tc, hash_suffix);
	tcase_add_test(tc, directory_globs);
	tcase_add_test(tc, glob_syntax);
	suite_add_tcase(s, tc);
}
