/*
 * cmd_render.c - `cairn render`: print the manifests of an Application
 * (rendered for its Environment), of the member of an app group bound to
 * an environment, or of a directory.
 *
 * `--path DIR` alone reads a local directory through the directory tree
 * backend and runs in `cairn` itself, without loading libgit2. APP, GROUP
 * --env and --repo read git repositories through the mirror cache: `cairn`
 * hands those to `cairn-git` (see main.c), where CAIRN_CLI_GIT is defined.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/app.h"
#include "cairn/audit.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/sync.h"
#include "cli.h"

#define RENDER_VARS_MAX 256

struct render_args {
	const char *name, *env, *path, *root, *repo, *revision;
	const char *config, *apps, *environments, *repo_root, *state_dir;
	int recursive, hash, json, lenient, no_fetch;
	json_t *vars; /* --var K=V */
};

static void render_usage(FILE *out)
{
	fprintf(out, "usage: cairn render APP [OPTIONS]\n"
	             "       cairn render GROUP --env ENV [OPTIONS]\n"
	             "       cairn render --path DIR [--root ROOT] [--repo URL [--revision R]] "
	             "[OPTIONS]\n\n"
	             "Render an Application for its environment (source, kustomize or plain\n"
	             "directory or plugin, ${var} substitution, the environment's image, replica\n"
	             "and namespace overrides), the Application of an app group bound to ENV, or\n"
	             "a directory (natively, as `kubectl kustomize` prints it).\n\n"
	             "options:\n"
	             "  --env ENV            with GROUP: the environment; with --path: apply its\n"
	             "                       variables and overrides\n"
	             "  --path DIR           a kustomization or manifest directory\n"
	             "  --root ROOT          no file outside ROOT is read (default: the git work\n"
	             "                       tree holding DIR, else DIR)\n"
	             "  --repo URL           with --path: read DIR from this repository (mirror)\n"
	             "  --revision R         with --repo: branch, tag or commit (default HEAD)\n"
	             "  --var NAME=VALUE     a substitution variable (repeatable; wins over the\n"
	             "                       environment's and the Application's)\n"
	             "  --lenient            an undefined ${var} becomes '' instead of an error\n"
	             "  --recursive          plain directories: include subdirectories\n"
	             "  --hash               print the render hash instead of the manifests\n"
	             "  -o, --output F       yaml (default) or json\n"
	             "  --config FILE        cairn.yaml (default $CAIRN_CONFIG)\n"
	             "  --apps PATH          Application definitions instead of the config's\n"
	             "  --environments PATH  Environment definitions\n"
	             "  --repo-root DIR      read every repository URL from this local directory\n"
	             "  --no-fetch           use the mirrors as they are\n"
	             "  --state-dir DIR      the state directory (mirrors)\n"
	             "  -h, --help           show this help\n");
}

/* DIR relative to ROOT, or NULL when DIR is not inside ROOT. */
static char *relative_to(const char *root, const char *dir)
{
	char r[PATH_MAX], d[PATH_MAX];
	size_t n;

	if (realpath(root, r) == NULL || realpath(dir, d) == NULL)
		return NULL;
	n = strlen(r);
	if (strcmp(r, d) == 0)
		return strdup("");
	if (strncmp(r, d, n) != 0 || (d[n] != '/' && strcmp(r, "/") != 0))
		return NULL;
	return strdup(d + n + (d[n] == '/'));
}

/*
 * The default root of `--path DIR`: the closest directory at or above DIR
 * holding `.git` (so overlays using `../base` work), else DIR itself.
 */
static char *default_root(const char *dir)
{
	char d[PATH_MAX], probe[PATH_MAX + 8];
	struct stat st;

	if (realpath(dir, d) == NULL)
		return strdup(dir);
	for (;;) {
		char *slash;

		snprintf(probe, sizeof(probe), "%s/.git", d);
		if (stat(probe, &st) == 0)
			return strdup(d[0] ? d : "/");
		slash = strrchr(d, '/');
		if (slash == NULL || slash == d)
			break;
		*slash = '\0';
	}
	return strdup(dir);
}

/* Print the set (or its hash). */
static int print_set(const json_t *objs, const struct render_args *a)
{
	cairn_buf out = CAIRN_BUF_INIT(0);
	char hex[65];
	int rc;

	if (a->hash) {
		rc = cairn_render_hash(hex, objs);
		if (rc == 0)
			rc = cairn_buf_printf(&out, "%s\n", hex);
	} else {
		rc = cairn_render_emit(&out, objs, a->json);
	}
	if (rc == 0)
		fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout);
	cairn_buf_dispose(&out);
	return rc;
}

/* The environment's part of the options (borrowed from `env`). */
static void env_opts(cairn_render_opts *o, const cairn_env *env)
{
	const json_t *spec = env ? json_object_get(env->manifest, "spec") : NULL;

	o->images = json_object_get(spec, "images");
	o->replicas = json_object_get(spec, "replicas");
	if (env && env->default_namespace)
		o->namespace_ = env->default_namespace;
}

/* Load the environments named by --environments or the config, if any. */
static int load_envs(cairn_env_set **out, const struct render_args *a, const cairn_config *cfg)
{
	const char *p = a->environments;
	struct stat st;

	if (p == NULL && cfg->environments_dir && stat(cfg->environments_dir, &st) == 0)
		p = cfg->environments_dir;
	if (p == NULL) {
		*out = NULL;
		return 0;
	}
	return cairn_env_set_load(out, p);
}

/* `--path DIR` from the local file system: no git involved. */
static int render_local(const struct render_args *a)
{
	cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
	cairn_config cfg = {0};
	cairn_env_set *envs = NULL;
	const cairn_env *env = NULL;
	cairn_tree *t = NULL;
	json_t *objs = NULL, *vars = NULL;
	char *root = a->root ? strdup(a->root) : default_root(a->path);
	char *rel = root ? relative_to(root, a->path) : NULL;
	int rc, ret = CLI_EXIT_FAIL;

	if (rel == NULL) {
		fprintf(stderr, "cairn: render: path '%s' is not inside root '%s'\n", a->path,
		        root ? root : "?");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (a->env) {
		const char *c = a->config ? a->config : getenv("CAIRN_CONFIG");

		if ((c && !a->environments && (rc = cairn_config_load(&cfg, c)) < 0) ||
		    (rc = load_envs(&envs, a, &cfg)) < 0)
			goto fail;
		if ((env = envs ? cairn_env_set_find(envs, a->env) : NULL) == NULL) {
			rc = cairn_error_set(CAIRN_ENOTFOUND, "environment '%s' is not defined",
			                     a->env);
			goto fail;
		}
		env_opts(&o, env);
	}
	o.no_subst = env == NULL && a->vars == NULL;
	vars = cairn_sync_app_vars(NULL, env, a->vars, NULL);
	o.path = rel;
	o.recursive = a->recursive;
	o.vars = vars;
	o.subst_flags = a->lenient ? CAIRN_RENDER_SUBST_LENIENT : 0;
	if ((rc = cairn_tree_open_dir(&t, root)) < 0 ||
	    (rc = cairn_render_build(&objs, NULL, t, &o)) < 0 || (rc = print_set(objs, a)) < 0)
		goto fail;
	ret = CLI_EXIT_OK;
	goto out;
fail:
	cli_print_error("render");
out:
	json_decref(objs);
	json_decref(vars);
	cairn_tree_free(t);
	cairn_env_set_free(envs);
	cairn_config_dispose(&cfg);
	free(rel);
	free(root);
	return ret;
}

#ifdef CAIRN_CLI_GIT
/* ---- sources in git repositories (cairn-git only) ------------------------ */

/* What one render_git() run holds, freed together. */
struct render_ctx {
	cairn_config cfg;
	char *state_dir;
	cairn_app_git *git;
	cairn_app_set *set;
	cairn_env_set *envs;
};

static void render_ctx_dispose(struct render_ctx *c)
{
	cairn_app_set_free(c->set);
	cairn_env_set_free(c->envs);
	cairn_app_git_free(c->git);
	cairn_config_dispose(&c->cfg);
	free(c->state_dir);
}

/* Config, state directory, mirror session; Applications when `with_apps`. */
static int load_ctx(struct render_ctx *c, const struct render_args *a, int with_apps)
{
	cairn_app_load_opts lo = CAIRN_APP_LOAD_OPTS_INIT;
	cairn_app_reader reader;
	const char *cfg = a->config ? a->config : getenv("CAIRN_CONFIG");
	const char *sd = a->state_dir;
	int rc;

	if (cfg && (rc = cairn_config_load(&c->cfg, cfg)) < 0)
		return rc;
	if (!sd && !getenv("CAIRN_STATE_DIR") && c->cfg.audit.state_dir)
		sd = c->cfg.audit.state_dir;
	if ((rc = cairn_audit_state_dir(&c->state_dir, sd)) < 0 ||
	    (rc = cairn_app_git_new(&c->git, c->state_dir, cfg ? &c->cfg : NULL, a->no_fetch)) < 0)
		return rc;
	if ((rc = load_envs(&c->envs, a, &c->cfg)) < 0 || !with_apps)
		return rc;
	if (!a->apps && !cfg)
		return cairn_error_set(CAIRN_EINVAL, "give --apps PATH or --config FILE");
	reader = a->repo_root ? cairn_app_reader_dir(a->repo_root) : cairn_app_reader_git(c->git);
	lo.reader = &reader;
	if ((rc = cairn_app_set_new(&c->set)) < 0)
		return rc;
	if (a->apps)
		rc = cairn_app_set_load(c->set, a->apps, &lo);
	for (size_t i = 0; rc == 0 && !a->apps && i < c->cfg.apps_count; i++) {
		const cairn_config_apps *x = &c->cfg.apps[i];

		rc = x->repo_url ? cairn_app_set_load_git(c->set, c->git, x->repo_url, x->revision,
		                                          x->path, &lo)
		                 : cairn_app_set_load(c->set, x->path, &lo);
	}
	if (rc == 0)
		rc = cairn_app_set_check(c->set);
	return rc < 0 ? rc : cairn_app_set_bind(c->set, c->envs);
}

/* The tree of `url` at `revision`: a commit of its mirror, or --repo-root. */
static int open_source(cairn_tree **out, struct render_ctx *c, const struct render_args *a,
                       const char *url, const char *revision)
{
	char oid[CAIRN_SOURCE_OID_HEX_LEN];
	cairn_source_repo *repo = NULL;
	int rc;

	if (a->repo_root)
		return cairn_tree_open_dir(out, a->repo_root);
	if ((rc = cairn_app_git_resolve(oid, c->git, url, revision)) < 0 ||
	    (rc = cairn_app_git_repo(&repo, c->git, url)) < 0)
		return rc;
	return cairn_tree_open_git(out, repo, oid);
}

/* APP, or the member of group NAME bound to --env. */
static int find_app(const cairn_app **out, const cairn_app_set *set, const struct render_args *a)
{
	const cairn_app *found = NULL;

	if (a->env == NULL) {
		if ((*out = cairn_app_set_find(set, a->name)) == NULL)
			return cairn_error_set(CAIRN_ENOTFOUND, "application '%s' is not defined",
			                       a->name);
		return 0;
	}
	for (size_t i = 0; i < cairn_app_set_count(set); i++) {
		const cairn_app *x = cairn_app_set_at(set, i);

		if (!x->group || strcmp(x->group, a->name) || !x->environment ||
		    strcmp(x->environment, a->env))
			continue;
		if (found)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "app group '%s' has several applications in environment "
			        "'%s': '%s' and '%s'",
			        a->name, a->env, found->name, x->name);
		found = x;
	}
	if (found == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "app group '%s' has no application in environment '%s'",
		                       a->name, a->env);
	*out = found;
	return 0;
}

/* APP / GROUP --env ENV / --path DIR --repo URL. */
static int render_git(const struct render_args *a)
{
	struct render_ctx c;
	const cairn_app *app = NULL;
	const cairn_env *env = NULL;
	json_t *all = json_array(), *vars = NULL;
	int rc, ret = CLI_EXIT_FAIL;

	memset(&c, 0, sizeof(c));
	if ((rc = load_ctx(&c, a, a->name != NULL)) < 0)
		goto fail;
	if (a->name && (rc = find_app(&app, c.set, a)) < 0)
		goto fail;
	if (app && app->environment && c.envs)
		env = cairn_env_set_find(c.envs, app->environment);
	else if (!app && a->env && (!c.envs || !(env = cairn_env_set_find(c.envs, a->env)))) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "environment '%s' is not defined", a->env);
		goto fail;
	}
	if ((vars = cairn_sync_app_vars(NULL, env, a->vars, NULL)) == NULL || all == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if (app) {
		cairn_app_render_opts ro = {&c.cfg,
		                            c.git,
		                            a->repo_root,
		                            a->vars,
		                            a->lenient ? CAIRN_RENDER_SUBST_LENIENT : 0,
		                            NULL};
		cairn_app_render_result rr;

		if ((rc = cairn_sync_render_app(&rr, &ro, app, env)) == 0) {
			if (json_array_extend(all, rr.objs) < 0)
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			cairn_app_render_result_dispose(&rr);
		}
	}
	if (rc == 0 && !app) {
		cairn_render_opts o = CAIRN_RENDER_OPTS_INIT;
		cairn_tree *t = NULL;
		json_t *objs = NULL;

		o.path = a->path;
		o.recursive = a->recursive;
		o.vars = vars;
		o.no_subst = env == NULL && a->vars == NULL;
		o.subst_flags = a->lenient ? CAIRN_RENDER_SUBST_LENIENT : 0;
		env_opts(&o, env);
		if ((rc = open_source(&t, &c, a, a->repo, a->revision)) == 0 &&
		    (rc = cairn_render_build(&objs, NULL, t, &o)) == 0)
			json_array_extend(all, objs);
		json_decref(objs);
		cairn_tree_free(t);
	}
	if (rc < 0 || (rc = print_set(all, a)) < 0)
		goto fail;
	ret = CLI_EXIT_OK;
	goto out;
fail:
	cli_print_error("render");
out:
	json_decref(all);
	json_decref(vars);
	render_ctx_dispose(&c);
	return ret;
}
#endif

/* Parse `--var NAME=VALUE` into a->vars. */
static int add_var(struct render_args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[256];

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
		fprintf(stderr, "cairn: render: --var '%s' is not NAME=VALUE\n", arg);
		return -1;
	}
	if (a->vars == NULL && (a->vars = json_object()) == NULL)
		return -1;
	if (json_object_size(a->vars) >= RENDER_VARS_MAX) {
		fprintf(stderr, "cairn: render: more than %d --var\n", RENDER_VARS_MAX);
		return -1;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	return json_object_set_new(a->vars, name, json_string(eq + 1)) < 0 ? -1 : 0;
}

static int parse_args(struct render_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"path", required_argument, NULL, 'p'},
	        {"root", required_argument, NULL, 'r'},
	        {"env", required_argument, NULL, 'e'},
	        {"repo", required_argument, NULL, 'u'},
	        {"revision", required_argument, NULL, 'v'},
	        {"var", required_argument, NULL, 'V'},
	        {"lenient", no_argument, NULL, 'L'},
	        {"recursive", no_argument, NULL, 'R'},
	        {"hash", no_argument, NULL, 'H'},
	        {"output", required_argument, NULL, 'o'},
	        {"config", required_argument, NULL, 'c'},
	        {"apps", required_argument, NULL, 'a'},
	        {"environments", required_argument, NULL, 'E'},
	        {"repo-root", required_argument, NULL, 'P'},
	        {"no-fetch", no_argument, NULL, 'N'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->path = optarg;
			break;
		case 'r':
			a->root = optarg;
			break;
		case 'e':
			a->env = optarg;
			break;
		case 'u':
			a->repo = optarg;
			break;
		case 'v':
			a->revision = optarg;
			break;
		case 'V':
			if (add_var(a, optarg) < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'L':
			a->lenient = 1;
			break;
		case 'R':
			a->recursive = 1;
			break;
		case 'H':
			a->hash = 1;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'a':
			a->apps = optarg;
			break;
		case 'E':
			a->environments = optarg;
			break;
		case 'P':
			a->repo_root = optarg;
			break;
		case 'N':
			a->no_fetch = 1;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				a->json = 1;
			else if (strcmp(optarg, "yaml") != 0) {
				fprintf(stderr, "cairn: render: unknown output format '%s'\n",
				        optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			render_usage(stdout);
			return CLI_EXIT_OK;
		default:
			render_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->name = argv[optind++];
	if (optind != argc || (a->path == NULL) == (a->name == NULL) || (a->revision && !a->repo) ||
	    (a->repo && !a->path) || (a->root && a->repo)) {
		render_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int cmd_render(int argc, char **argv)
{
	struct render_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_args(&a, argc, argv);
	if (rc < 0 && a.path && !a.repo)
		rc = render_local(&a);
	else if (rc < 0)
#ifdef CAIRN_CLI_GIT
		rc = render_git(&a);
#else
		rc = exec_git_helper(argc, argv);
#endif
	json_decref(a.vars);
	return rc;
}
