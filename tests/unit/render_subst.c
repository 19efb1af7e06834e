/*
 * render_subst.c - `${var}` substitution, the render pipeline (environment
 * overrides, render hash) and plugin renderers.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/yaml.h"
#include "render_env_tests.h"

static json_t *vars;

static void vars_setup(void)
{
	vars = json_pack("{s:s,s:s,s:s,s:s,s:s}", "REPLICAS", "3", "FLAG", "true", "NAME", "web",
	                 "EMPTY", "", "IMAGE", "registry.local/app:v1");
	ck_assert_ptr_nonnull(vars);
}

static void vars_teardown(void)
{
	json_decref(vars);
}

/* Substitute `in` strictly and compare the result with `want`. */
static void expect_text(const char *in, const char *want)
{
	cairn_buf b = CAIRN_BUF_INIT(0);

	ck_assert_msg(cairn_render_subst_text(&b, in, strlen(in), vars, 0, "t") == 0, "%s: %s", in,
	              cairn_error_last()->message);
	ck_assert_str_eq(b.ptr ? b.ptr : "", want);
	cairn_buf_dispose(&b);
}

START_TEST(subst_forms)
{
	expect_text("a ${NAME} b", "a web b");
	expect_text("${NAME}${NAME}", "webweb");
	expect_text("${MISSING:=dflt}", "dflt");
	expect_text("${EMPTY:=dflt}", "dflt");
	expect_text("${EMPTY=dflt}|", "|");
	expect_text("${MISSING=x}", "x");
	expect_text("${NAME:=dflt}", "web");
	expect_text("${IMAGE:9}", "local/app:v1");
	expect_text("${IMAGE:0:8}", "registry");
	expect_text("${NAME:1:100}", "eb");
	expect_text("${NAME:10}", "");
	expect_text("${IMAGE/v1/v2}", "registry.local/app:v2");
	expect_text("${IMAGE/zzz/v2}", "registry.local/app:v1");
	expect_text("${IMAGE/.local/}", "registry/app:v1");
}
END_TEST

START_TEST(subst_left_alone)
{
	expect_text("$NAME and $ alone", "$NAME and $ alone");
	expect_text("$${NAME}", "${NAME}");
	expect_text("x $${NAME} ${NAME}", "x ${NAME} web");
	expect_text("${1abc} ${} ${ NAME}", "${1abc} ${} ${ NAME}");
	expect_text("end $", "end $");
}
END_TEST

START_TEST(subst_undefined_strict_and_lenient)
{
	cairn_buf b = CAIRN_BUF_INIT(0);
	const char *in = "v: ${NOPE}";

	ck_assert_int_eq(cairn_render_subst_text(&b, in, strlen(in), vars, 0, "Deployment 'a/b'"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("variable 'NOPE' is not defined, in Deployment 'a/b'");
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(
	        cairn_render_subst_text(&b, in, strlen(in), vars, CAIRN_RENDER_SUBST_LENIENT, "x"),
	        0);
	ck_assert_str_eq(b.ptr, "v: ");
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(subst_bad_expressions)
{
	cairn_buf b = CAIRN_BUF_INIT(0);

	ck_assert_int_eq(cairn_render_subst_text(&b, "${NAME", 6, vars, 0, "obj"), CAIRN_EINVAL);
	ck_assert_error_contains("unterminated substitution '${NAME' in obj");
	ck_assert_int_eq(cairn_render_subst_text(&b, "${NAME^^}", 9, vars, 0, "obj"), CAIRN_EINVAL);
	ck_assert_error_contains("unsupported substitution '${NAME^^}' in obj");
	ck_assert_int_eq(cairn_render_subst_text(&b, "${NAME:x}", 9, vars, 0, "obj"), CAIRN_EINVAL);
	ck_assert_uint_eq(b.len, 0);
	cairn_buf_dispose(&b);
}
END_TEST

static json_t *load_one(const char *yaml)
{
	json_t *docs = NULL, *o;

	ck_assert_int_eq(cairn_yaml_load(&docs, NULL, yaml, strlen(yaml), "t", NULL), 0);
	o = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return o;
}

START_TEST(subst_objects_typed)
{
	json_t *objs = json_array(), *out = NULL, *d;

	json_array_append_new(objs, load_one("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
	                                     "  name: ${NAME}\nspec:\n  replicas: ${REPLICAS}\n"
	                                     "  paused: ${FLAG}\n  x: '${NAME}'\n"));
	ck_assert_int_eq(cairn_render_subst(&out, objs, vars, 0), 0);
	d = json_array_get(out, 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "metadata"), "name")),
	                 "web");
	ck_assert(json_is_integer(json_object_get(json_object_get(d, "spec"), "replicas")));
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(d, "spec"), "replicas")), 3);
	ck_assert(json_is_true(json_object_get(json_object_get(d, "spec"), "paused")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "spec"), "x")),
	                 "web");
	/* the input is not changed */
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(objs, 0), "spec"), "replicas")),
	                 "${REPLICAS}");
	json_decref(out);
	json_decref(objs);
}
END_TEST

START_TEST(subst_disabled_and_error_names_object)
{
	json_t *objs = json_array(), *out = NULL;

	json_array_append_new(objs,
	                      load_one("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	                               "  name: skip\n  annotations:\n"
	                               "    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
	                               "data:\n  a: ${UNDEFINED}\n"));
	json_array_append_new(objs,
	                      load_one("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	                               "  name: skip2\n  labels:\n"
	                               "    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
	                               "data:\n  a: ${UNDEFINED}\n"));
	ck_assert_int_eq(cairn_render_subst(&out, objs, vars, 0), 0);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(out, 1), "data"), "a")),
	                 "${UNDEFINED}");
	json_decref(out);
	out = NULL;
	json_array_append_new(objs, load_one("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	                                     "  name: bad\n  namespace: ns1\n"
	                                     "data:\n  a: ${UNDEFINED}\n"));
	ck_assert_int_eq(cairn_render_subst(&out, objs, vars, 0), CAIRN_EINVAL);
	ck_assert_error_contains("variable 'UNDEFINED' is not defined, in ConfigMap 'ns1/bad'");
	ck_assert_ptr_null(out);
	json_decref(objs);
}
END_TEST

/* ---- the pipeline ---------------------------------------------------- */

static char tmp[64];

static void put(const char *rel, const char *text)
{
	char p[256], d[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	snprintf(d, sizeof(d), "%s", p);
	for (char *s = strchr(d + strlen(tmp) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(d, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void tree_setup(void)
{
	vars_setup();
	snprintf(tmp, sizeof(tmp), "/tmp/cairn-subst-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	put("base/kustomization.yaml", "resources: [deploy.yaml]\n");
	put("base/deploy.yaml",
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
	    "  replicas: ${REPLICAS}\n  template:\n    spec:\n      containers:\n"
	    "      - name: app\n        image: nginx:1.0\n");
	put("base/cr.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
	                    "metadata:\n  name: r\n");
}

static void tree_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
	vars_teardown();
}

static json_t *build(cairn_render_opts *o, char hash[65], int want)
{
	cairn_tree *t = NULL;
	json_t *objs = NULL;

	ck_assert_int_eq(cairn_tree_open_dir(&t, tmp), 0);
	ck_assert_msg(cairn_render_build(&objs, hash, t, o) == want, "%s",
	              cairn_error_last()->message);
	cairn_tree_free(t);
	return objs;
}

START_TEST(pipeline_env_overrides_and_hash)
{
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	json_t *objs, *again, *img = json_pack("[{s:s,s:s}]", "name", "nginx", "newTag", "1.25");
	json_t *rep = json_pack("[{s:s,s:i}]", "name", "web", "count", 5);
	char h1[65], h2[65], h3[65];
	json_t *c;

	o.path = "base";
	o.vars = vars;
	objs = build(&o, h1, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_object_get(json_array_get(objs, 0), "spec"), "replicas")),
	                 3);
	again = build(&o, h2, 0);
	ck_assert_str_eq(h1, h2);
	ck_assert_uint_eq(strlen(h1), 64);
	json_decref(again);
	o.images = img;
	o.replicas = rep;
	o.namespace_ = "staging";
	again = build(&o, h3, 0);
	ck_assert_str_ne(h1, h3);
	c = json_array_get(
	        json_object_get(
	                json_object_get(
	                        json_object_get(json_object_get(json_array_get(again, 0), "spec"),
	                                        "template"),
	                        "spec"),
	                "containers"),
	        0);
	ck_assert_str_eq(json_string_value(json_object_get(c, "image")), "nginx:1.25");
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_object_get(json_array_get(again, 0), "spec"), "replicas")),
	                 5);
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_object_get(json_array_get(again, 0), "metadata"), "namespace")),
	        "staging");
	/* the first result was not changed by the second build */
	ck_assert_ptr_null(
	        json_object_get(json_object_get(json_array_get(objs, 0), "metadata"), "namespace"));
	json_decref(again);
	json_decref(objs);
	json_decref(img);
	json_decref(rep);
}
END_TEST

START_TEST(pipeline_namespace_skips_cluster_scoped)
{
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	json_t *objs;

	o.path = "base";
	o.vars = vars;
	o.namespace_ = "ns";
	put("base/kustomization.yaml", "resources: [deploy.yaml, cr.yaml]\n");
	objs = build(&o, NULL, 0);
	ck_assert_uint_eq(json_array_size(objs), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *o2 = json_array_get(objs, i);
		const char *kind = json_string_value(json_object_get(o2, "kind"));
		json_t *ns = json_object_get(json_object_get(o2, "metadata"), "namespace");

		if (strcmp(kind, "ClusterRole") == 0)
			ck_assert_ptr_null(ns);
		else
			ck_assert_str_eq(json_string_value(ns), "ns");
	}
	json_decref(objs);
}
END_TEST

START_TEST(pipeline_strict_undefined_and_refuse)
{
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	json_t *objs;

	o.path = "base";
	ck_assert_ptr_null(build(&o, NULL, CAIRN_EINVAL));
	ck_assert_error_contains("variable 'REPLICAS' is not defined, in Deployment 'web'");
	o.subst_flags = CAIRN_RENDER_SUBST_LENIENT;
	objs = build(&o, NULL, 0);
	ck_assert(json_is_null(
	        json_object_get(json_object_get(json_array_get(objs, 0), "spec"), "replicas")));
	json_decref(objs);
	o.refuse = "helm chart 'redis'";
	ck_assert_ptr_null(build(&o, NULL, CAIRN_EUNSUPPORTED));
	ck_assert_error_contains("helm chart 'redis' cannot be rendered: no renderer plugin");
	o.version = 99;
	ck_assert_ptr_null(build(&o, NULL, CAIRN_EINVAL));
}
END_TEST

/* ---- plugins ------------------------------------------------------------ */

static const char *plugin_script(char *buf, size_t size)
{
	return test_data_path(buf, size, "../../fixtures/plugins/echo-plugin.sh");
}

START_TEST(plugin_renders_with_params)
{
	char script[4096];
	const char *argv[] = {"/bin/sh", plugin_script(script, sizeof(script)), NULL};
	cairn_render_plugin p = {"echo", argv, 10000};
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	json_t *params = json_pack("{s:s}", "COLOR", "blue"), *objs, *data;

	o.path = "base";
	o.plugin = &p;
	o.plugin_params = params;
	o.app = "shop";
	o.vars = vars;
	setenv("CAIRN_TEST_SECRET", "leaked", 1);
	objs = build(&o, NULL, 0);
	unsetenv("CAIRN_TEST_SECRET");
	ck_assert_uint_eq(json_array_size(objs), 2);
	data = json_object_get(json_array_get(objs, 0), "data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "color")), "blue");
	ck_assert_str_eq(json_string_value(json_object_get(data, "app")), "shop");
	ck_assert_str_eq(json_string_value(json_object_get(data, "path")), "base");
	/* the extraction holds the source files, and HOME is not ours */
	ck_assert_str_eq(json_string_value(json_object_get(data, "files")),
	                 "cr.yaml deploy.yaml kustomization.yaml");
	ck_assert_str_eq(json_string_value(json_object_get(data, "secret")), "");
	/* substitution ran on the plugin's output too: a List item */
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_object_get(json_array_get(objs, 1), "spec"), "replicas")),
	                 3);
	json_decref(objs);
	json_decref(params);
}
END_TEST

START_TEST(plugin_failure_quotes_stderr)
{
	char script[4096];
	const char *argv[] = {"/bin/sh", plugin_script(script, sizeof(script)), NULL};
	const char *missing[] = {"cairn-no-such-plugin-xyz", NULL};
	cairn_render_plugin p = {"echo", argv, 10000};
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	json_t *params = json_pack("{s:s}", "FAIL", "1");

	o.plugin = &p;
	o.plugin_params = params;
	ck_assert_ptr_null(build(&o, NULL, CAIRN_EINVAL));
	ck_assert_error_contains("plugin 'echo' exited with status 3: asked to fail");
	json_object_set_new(params, "FAIL", json_string("sleep"));
	p.timeout_ms = 300;
	ck_assert_ptr_null(build(&o, NULL, CAIRN_ETIMEOUT));
	ck_assert_error_contains("plugin 'echo' timed out");
	json_object_set_new(params, "FAIL", json_string("garbage"));
	p.timeout_ms = 10000;
	ck_assert_ptr_null(build(&o, NULL, CAIRN_EINVAL));
	ck_assert_error_contains("is not an object with apiVersion and kind");
	json_object_clear(params);
	json_object_set_new(params, "bad-name", json_string("x"));
	ck_assert_ptr_null(build(&o, NULL, CAIRN_EINVAL));
	ck_assert_error_contains("plugin parameter 'bad-name'");
	p.command = missing;
	json_object_clear(params);
	ck_assert_ptr_null(build(&o, NULL, CAIRN_ENOTFOUND));
	ck_assert_error_contains("plugin 'echo'");
	json_decref(params);
}
END_TEST

/* cairn.yaml's plugins[]: what cairn render hands to cairn_render_plugin_run(). */
START_TEST(config_plugins)
{
	cairn_config cfg;
	char path[128];

	snprintf(path, sizeof(path), "%s/cairn.yaml", tmp);
	put("cairn.yaml", "plugins:\n- name: helm\n  command: [bin/helm.sh, template]\n"
	                  "  timeout: 2s\n- name: echo\n  command: [cat]\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), 0);
	ck_assert_uint_eq(cfg.plugin_count, 2);
	ck_assert_str_eq(cfg.plugins[0].name, "helm");
	ck_assert_uint_eq(cfg.plugins[0].command_count, 2);
	ck_assert_str_eq(cfg.plugins[0].command[1], "template");
	ck_assert(strncmp(cfg.plugins[0].command[0], tmp, strlen(tmp)) == 0);
	ck_assert_int_eq(cfg.plugins[0].timeout_ms, 2000);
	ck_assert_str_eq(cfg.plugins[1].command[0], "cat");
	ck_assert_int_eq(cfg.plugins[1].timeout_ms, 0);
	cairn_config_dispose(&cfg);
	put("cairn.yaml", "plugins:\n- name: a\n  command: [x]\n- name: a\n  command: [y]\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_error_contains("duplicate plugin name 'a'");
	put("cairn.yaml", "plugins:\n- name: a\n  command: [x]\n  timeout: soon\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_error_contains("plugins[0].timeout 'soon' is not a positive duration");
	put("cairn.yaml", "plugins:\n- name: a\n  command: []\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_error_contains("plugins[0] needs a 'name' and a non-empty 'command'");
	put("cairn.yaml", "plugins:\n- name: a\n  command: [x]\n  args: [y]\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path), CAIRN_EINVAL);
	ck_assert_error_contains("args");
}
END_TEST

void render_subst_tests(Suite *s)
{
	TCase *tc = tcase_create("subst");

	tcase_add_checked_fixture(tc, vars_setup, vars_teardown);
	tcase_add_test(tc, subst_forms);
	tcase_add_test(tc, subst_left_alone);
	tcase_add_test(tc, subst_undefined_strict_and_lenient);
	tcase_add_test(tc, subst_bad_expressions);
	tcase_add_test(tc, subst_objects_typed);
	tcase_add_test(tc, subst_disabled_and_error_names_object);
	suite_add_tcase(s, tc);
	tc = tcase_create("pipeline");
	tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, pipeline_env_overrides_and_hash);
	tcase_add_test(tc, pipeline_namespace_skips_cluster_scoped);
	tcase_add_test(tc, pipeline_strict_undefined_and_refuse);
	tcase_add_test(tc, plugin_renders_with_params);
	tcase_add_test(tc, plugin_failure_quotes_stderr);
	tcase_add_test(tc, config_plugins);
	suite_add_tcase(s, tc);
}
