/* render_prov.c - the provenance recorder of cairn_render_build(): each
 * kind of origin (resource file, kustomization transformer, patch,
 * generator, environment variables, Application variables, environment
 * overrides), and a recorded render giving the same objects as a plain one. */
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "render_env_tests.h"

static char top[] = "/tmp/cairn-prov-XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void make_tree(void)
{
	char p[512];

	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(p, sizeof(p), "%s/base", top);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev", top);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	put("base/kustomization.yaml", "resources:\n- deploy.yaml\n");
	put("base/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
	                        "  annotations:\n    tier: ${TIER}\n    owner: ${OWNER}\n"
	                        "spec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n"
	                        "      - name: web\n        image: nginx:1.0\n        ports:\n"
	                        "        - containerPort: 80\n");
	put("dev/kustomization.yaml",
	    "resources:\n- ../base\nnamePrefix: dev-\ncommonLabels:\n  env: dev\n"
	    "images:\n- name: nginx\n  newTag: '1.1'\npatches:\n- path: more.yaml\n"
	    "configMapGenerator:\n- name: conf\n  literals:\n  - a=b\n");
	put("dev/more.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
	                     "spec:\n  replicas: 2\n");
}

static void drop_tree(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(top + strlen(top) - 6, "XXXXXX", 6);
}

/* Render dev/ with TIER from the environment and OWNER from the app. */
static json_t *render(cairn_render_prov *p, const json_t *images, char hash[65])
{
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	cairn_tree *t = NULL;
	json_t *out = NULL, *vars = json_pack("{s:s, s:s}", "TIER", "front", "OWNER", "ops");

	o.path = "dev";
	o.vars = vars;
	o.images = images;
	o.namespace_ = "team";
	o.prov = p;
	ck_assert_int_eq(cairn_tree_open_dir(&t, top), 0);
	ck_assert_int_eq(cairn_render_build(&out, hash, t, &o), 0);
	cairn_tree_free(t);
	json_decref(vars);
	return out;
}

static json_t *find_kind(json_t *objs, const char *kind)
{
	size_t i;
	json_t *o;

	json_array_foreach(objs, i, o) if (strcmp(json_string_value(json_object_get(o, "kind")),
	                                          kind) == 0) return o;
	ck_abort_msg("no %s", kind);
	return NULL;
}

static void expect(cairn_render_prov *p, json_t *obj, const char *path,
                   cairn_render_origin_kind kind, const char *file, const char *detail)
{
	cairn_render_origin o;

	ck_assert_msg(cairn_render_prov_find(&o, p, obj, path) == 1, "nothing recorded at %s",
	              path);
	ck_assert_msg(o.kind == kind, "%s: kind %s, expected %s", path,
	              cairn_render_origin_kind_name(o.kind), cairn_render_origin_kind_name(kind));
	if (file)
		ck_assert_str_eq(o.file ? o.file : "(null)", file);
	if (detail)
		ck_assert_str_eq(o.detail ? o.detail : "(null)", detail);
}

START_TEST(prov_each_origin)
{
	cairn_render_prov *p = NULL;
	json_t *images = json_pack("[{s:s, s:s}]", "name", "nginx", "newTag", "2.0");
	json_t *objs, *dep, *cm;
	char hash[65];

	make_tree();
	ck_assert_int_eq(cairn_render_prov_new(&p), 0);
	ck_assert_int_eq(cairn_render_prov_var_from_app(p, "OWNER"), 0);
	objs = render(p, NULL, hash);
	dep = find_kind(objs, "Deployment");
	cm = find_kind(objs, "ConfigMap");
	/* a field nothing touched: the resource file it was read from */
	expect(p, dep, "/spec/template/spec/containers/0/ports/0/containerPort",
	       CAIRN_ORIGIN_RESOURCE, "base/deploy.yaml", NULL);
	expect(p, dep, "/metadata/name", CAIRN_ORIGIN_TRANSFORMER, "dev/kustomization.yaml",
	       "namePrefix/nameSuffix");
	expect(p, dep, "/metadata/labels/env", CAIRN_ORIGIN_TRANSFORMER, "dev/kustomization.yaml",
	       "commonLabels");
	expect(p, dep, "/spec/template/spec/containers/0/image", CAIRN_ORIGIN_TRANSFORMER,
	       "dev/kustomization.yaml", "images");
	expect(p, dep, "/spec/replicas", CAIRN_ORIGIN_PATCH, "dev/kustomization.yaml",
	       "patches 'more.yaml'");
	expect(p, cm, "/data/a", CAIRN_ORIGIN_GENERATOR, "dev/kustomization.yaml", NULL);
	/* the prefix came first; the content hash suffix is the last change */
	expect(p, cm, "/metadata/name", CAIRN_ORIGIN_GENERATOR, NULL, "content hash");
	expect(p, dep, "/metadata/annotations/tier", CAIRN_ORIGIN_ENV_VARS, NULL, "variables TIER");
	expect(p, dep, "/metadata/annotations/owner", CAIRN_ORIGIN_APP, NULL, "variables OWNER");
	expect(p, dep, "/metadata/namespace", CAIRN_ORIGIN_ENV_OVERRIDES, NULL, "namespace");
	json_decref(objs);
	cairn_render_prov_free(p);

	/* the environment's image override wins over the overlay's images */
	ck_assert_int_eq(cairn_render_prov_new(&p), 0);
	objs = render(p, images, hash);
	dep = find_kind(objs, "Deployment");
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(
	                                       json_object_get(
	                                               json_object_get(json_object_get(dep, "spec"),
	                                                               "template"),
	                                               "spec"),
	                                       "containers"),
	                               0),
	                "image")),
	        "nginx:2.0");
	expect(p, dep, "/spec/template/spec/containers/0/image", CAIRN_ORIGIN_ENV_OVERRIDES, NULL,
	       "images");
	/* an object the recorder never saw has no origin */
	{
		cairn_render_origin o = {CAIRN_ORIGIN_NONE, NULL, NULL};
		ck_assert_int_eq(cairn_render_prov_find(&o, p, images, ""), 0);
		ck_assert_int_eq(o.kind, CAIRN_ORIGIN_NONE);
	}
	json_decref(objs);
	cairn_render_prov_free(p);
	json_decref(images);
	drop_tree();
}
END_TEST

START_TEST(prov_same_output)
{
	cairn_render_prov *p = NULL;
	json_t *a, *b;
	char ha[65], hb[65];

	make_tree();
	ck_assert_int_eq(cairn_render_prov_new(&p), 0);
	a = render(p, NULL, ha);
	b = render(NULL, NULL, hb);
	ck_assert_str_eq(ha, hb);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	cairn_render_prov_free(p);
	cairn_render_prov_free(NULL);
	drop_tree();
}
END_TEST

START_TEST(prov_json_diff)
{
	json_t *a = json_pack("{s:{s:i, s:[i,i], s:s}, s:s}", "spec", "replicas", 1, "ports", 1, 2,
	                      "a/b", "x", "gone", "y");
	json_t *b = json_pack("{s:{s:i, s:[i], s:s}, s:s}", "spec", "replicas", 3, "ports", 1,
	                      "a/b", "z", "new", "y");
	json_t *d = NULL;

	ck_assert_int_eq(cairn_render_json_diff(&d, a, b), 0);
	ck_assert_int_eq(json_array_size(d), 5);
	ck_assert_str_eq(json_string_value(json_array_get(d, 0)), "/spec/replicas");
	ck_assert_str_eq(json_string_value(json_array_get(d, 1)), "/spec/ports");
	ck_assert_str_eq(json_string_value(json_array_get(d, 2)), "/spec/a~1b");
	ck_assert_str_eq(json_string_value(json_array_get(d, 3)), "/gone");
	ck_assert_str_eq(json_string_value(json_array_get(d, 4)), "/new");
	json_decref(d);
	ck_assert_int_eq(cairn_render_json_diff(&d, a, a), 0);
	ck_assert_int_eq(json_array_size(d), 0);
	json_decref(d);
	json_decref(a);
	json_decref(b);
}
END_TEST

void render_prov_tests(Suite *s)
{
	TCase *tc = tcase_create("provenance");

	tcase_add_test(tc, prov_each_origin);
	tcase_add_test(tc, prov_same_output);
	tcase_add_test(tc, prov_json_diff);
	suite_add_tcase(s, tc);
}
