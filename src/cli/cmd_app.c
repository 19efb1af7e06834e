/*
 * cmd_app.c - `cairn app list` and `cairn app get NAME`: the Applications
 * Cairn would manage, ApplicationSets shown as the Applications they
 * generate, each with its environment and app group. Definitions named by
 * cairn.yaml `apps[]` entries with a repoURL, and the repositories of
 * ApplicationSet git generators, are read from the mirror cache (this
 * command runs in cairn-git). `app get NAME --verify-revision` fetches the
 * Application's sources, resolves targetRevision and applies the project's
 * signed-commit requirement.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cairn/app.h"
#include "cairn/audit.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "app_cli.h"
#include "cli.h"

static void app_usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn app list [OPTIONS]\n"
	        "       cairn app get NAME [--refresh] [OPTIONS]\n"
	        "       cairn app diff NAME [OPTIONS]\n"
	        "       cairn app sync NAME [--dry-run] [--prune] [--async] [--resource "
	        "KIND/NAME]... "
	        "[OPTIONS]\n"
	        "       cairn app wait NAME [--health] [--sync] [--timeout D] [OPTIONS]\n"
	        "       cairn app history NAME [OPTIONS]\n"
	        "       cairn app rollback NAME ID [OPTIONS]\n\n"
	        "List or show the Argo CD Applications Cairn manages (ApplicationSets appear\n"
	        "as the Applications they generate), with their environment and app group;\n"
	        "compare one with its cluster (diff: exit 0 no difference, 1 differences,\n"
	        "2 error), sync it, wait for it, list its history or roll it back.\n\n"
	        "options:\n"
	        "  --config FILE        read apps and environments from this cairn.yaml\n"
	        "  --apps PATH          a file or folder of Application/AppProject/\n"
	        "                       ApplicationSet YAML (repeatable; overrides --config)\n"
	        "  --environments PATH  Environment definitions (file or folder)\n"
	        "  --env ENV            the environment NAME is bound to (or: the member of\n"
	        "                       app group NAME bound to ENV)\n"
	        "  --repo-root DIR      serve git generators' repositories from DIR\n"
	        "                       (default: fetch them into the mirror cache)\n"
	        "  --verify-revision    (get) fetch each source, resolve targetRevision and\n"
	        "                       check the signed-commit requirement of the project\n"
	        "                       and application; exit 1 when refused\n"
	        "  --refresh            (get) compare with the cluster now: resource tree\n"
	        "  --kubeconfig FILE    the cluster (default: the Environment's, $KUBECONFIG)\n"
	        "  --context NAME       the kubeconfig context (default: the Environment's)\n"
	        "  --dry-run            (sync) show what would be done, change nothing\n"
	        "  --prune              (sync) delete tracked objects no longer in git\n"
	        "  --async              (sync) start the app's rollouts and return (default:\n"
	        "                       drive them here until each completes, pauses or aborts)\n"
	        "  --resource KIND/NAME (sync) only these objects (repeatable; no prune)\n"
	        "  --actor NAME         (sync, rollback) the audit actor (default: audit.actor\n"
	        "                       of cairn.yaml, else the local user)\n"
	        "  --health, --sync     (wait) wait until Healthy / Synced (default: both)\n"
	        "  --timeout D          (wait) give up after D (default 5m); (sync) the\n"
	        "                       longest wait for one wave's health\n"
	        "  --no-fetch           use the mirrors as they are\n"
	        "  -o, --output FORMAT  json, yaml or wide (default: a table / a summary)\n"
	        "  --state-dir DIR      state directory (mirrors, state.db)\n"
	        "  --server URL         through a running cairnd (http(s)://HOST:PORT, or\n"
	        "                       unix:PATH for its local socket; $CAIRN_SERVER)\n"
	        "  --token-file FILE    the API token for --server (default $CAIRN_TOKEN)\n"
	        "  -h, --help           show this help\n\n"
	        "Fields Cairn does not implement are printed once each on stderr as\n"
	        "'ignored: <field path>'.\n");
}

/* The subcommand named by `s`, or -1. */
static int sub_of(const char *s)
{
	static const char *const names[] = {"list", "get",     "diff",    "sync",
	                                    "wait", "history", "rollback"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* One option of the sync commands; 0 or -1 after printing why. */
static int parse_sync_opt(struct app_args *a, int c)
{
	int64_t ns;

	switch (c) {
	case 'E':
		a->env = optarg;
		return 0;
	case 'K':
		a->kubeconfig = optarg;
		return 0;
	case 'C':
		a->context = optarg;
		return 0;
	case 'A':
		a->actor = optarg;
		return 0;
	case 'D':
		a->dry_run = 1;
		return 0;
	case 'P':
		a->prune = 1;
		return 0;
	case 'Y':
		a->async = 1;
		return 0;
	case 'F':
		a->refresh = 1;
		return 0;
	case 'H':
		a->wait_health = 1;
		return 0;
	case 'S':
		a->wait_sync = 1;
		return 0;
	case 'T':
		if (cairn_duration_parse(&ns, optarg) < 0 || ns <= 0) {
			fprintf(stderr,
			        "cairn app: invalid --timeout '%s': expected a duration "
			        "such as 90s or 5m\n",
			        optarg);
			return -1;
		}
		a->timeout_ms = ns / 1000000;
		return 0;
	case 'R':
		if (a->resource_count == APP_RESOURCES_MAX || strchr(optarg, '/') == NULL) {
			fprintf(stderr,
			        "cairn app: invalid --resource '%s': expected KIND/NAME "
			        "(at most %d)\n",
			        optarg, APP_RESOURCES_MAX);
			return -1;
		}
		a->resources[a->resource_count++] = optarg;
		return 0;
	}
	return 1;
}

/* Positional arguments and flags that only some subcommands take. */
static int check_positional(struct app_args *a, int argc, char **argv)
{
	int want = a->sub == APP_LIST ? 0 : a->sub == APP_ROLLBACK ? 2 : 1;
	static const char *const subname[] = {"list", "get",     "diff",    "sync",
	                                      "wait", "history", "rollback"};
	char *end;

	if (argc - optind != want) {
		fprintf(stderr, "cairn app %s: expected %s\n", subname[a->sub],
		        want == 0   ? "no argument"
		        : want == 1 ? "exactly one NAME"
		                    : "NAME ID");
		return -1;
	}
	if (want >= 1)
		a->name = argv[optind];
	if (want == 2) {
		errno = 0;
		a->history_id = strtoll(argv[optind + 1], &end, 10);
		if (errno || *end || a->history_id <= 0) {
			fprintf(stderr,
			        "cairn app rollback: invalid history ID '%s': expected a "
			        "positive number (see 'cairn app history')\n",
			        argv[optind + 1]);
			return -1;
		}
	}
	if (a->verify && a->sub != APP_GET) {
		fprintf(stderr, "cairn app %s: --verify-revision needs 'get NAME'\n",
		        subname[a->sub]);
		return -1;
	}
	if ((a->dry_run || a->prune || a->async || a->resource_count) && a->sub != APP_SYNC) {
		fprintf(stderr,
		        "cairn app %s: --dry-run, --prune, --async and --resource are options of "
		        "'sync'\n",
		        subname[a->sub]);
		return -1;
	}
	return 0;
}

static int parse_args(struct app_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"apps", required_argument, NULL, 'a'},
	        {"environments", required_argument, NULL, 'e'},
	        {"repo-root", required_argument, NULL, 'r'},
	        {"output", required_argument, NULL, 'o'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"verify-revision", no_argument, NULL, 'V'},
	        {"no-fetch", no_argument, NULL, 'N'},
	        {"env", required_argument, NULL, 'E'},
	        {"kubeconfig", required_argument, NULL, 'K'},
	        {"context", required_argument, NULL, 'C'},
	        {"dry-run", no_argument, NULL, 'D'},
	        {"prune", no_argument, NULL, 'P'},
	        {"async", no_argument, NULL, 'Y'},
	        {"refresh", no_argument, NULL, 'F'},
	        {"health", no_argument, NULL, 'H'},
	        {"sync", no_argument, NULL, 'S'},
	        {"timeout", required_argument, NULL, 'T'},
	        {"resource", required_argument, NULL, 'R'},
	        {"actor", required_argument, NULL, 'A'},
	        {"server", required_argument, NULL, 'u'},
	        {"token-file", required_argument, NULL, 'k'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c, sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		app_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? -1 : -2;
	}
	if ((sub = sub_of(argv[1])) < 0) {
		fprintf(stderr,
		        "cairn app: unknown subcommand '%s' (expected list, get, diff, sync, wait, "
		        "history or rollback)\n",
		        argv[1]);
		return -1;
	}
	a->sub = (enum app_sub)sub;
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'a':
			if (a->app_count == APP_PATHS_MAX) {
				fprintf(stderr, "cairn app: too many --apps (at most %d)\n",
				        APP_PATHS_MAX);
				return -1;
			}
			a->apps[a->app_count++] = optarg;
			break;
		case 'e':
			a->environments = optarg;
			break;
		case 'r':
			a->repo_root = optarg;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'V':
			a->verify = 1;
			break;
		case 'N':
			a->no_fetch = 1;
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "yaml") &&
			    strcmp(optarg, "wide")) {
				fprintf(stderr,
				        "cairn app: unknown output format '%s': expected json, "
				        "yaml "
				        "or wide\n",
				        optarg);
				return -1;
			}
			a->output = optarg;
			break;
		case 'u':
			a->server = optarg;
			break;
		case 'k':
			a->token_file = optarg;
			break;
		case 'h':
			app_usage(stdout);
			return -2;
		case ':':
			fprintf(stderr, "cairn app: option '%s' needs a value\n", argv[optind - 1]);
			return -1;
		default:
			if (c != '?' && (c = parse_sync_opt(a, c)) <= 0) {
				if (c < 0)
					return -1;
				break;
			}
			fprintf(stderr, "cairn app: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	if (check_positional(a, argc, argv) < 0)
		return -1;
	if (!a->server && (a->server = getenv("CAIRN_SERVER")) && !*a->server)
		a->server = NULL;
	if (a->app_count == 0 && a->config == NULL && a->server == NULL &&
	    (a->config = getenv("CAIRN_CONFIG")) == NULL) {
		fprintf(stderr, "cairn app: give --apps PATH or --config FILE\n");
		return -1;
	}
	return 0;
}

/*
 * The state directory: --state-dir, else $CAIRN_STATE_DIR, else cairn.yaml's
 * stateDir, else cairn_audit_state_dir()'s default.
 */
static int state_dir(struct app_ctx *c, const struct app_args *a)
{
	const char *flag = a->state_dir, *env = getenv("CAIRN_STATE_DIR");

	if (!flag && !(env && *env) && c->cfg.audit.state_dir && *c->cfg.audit.state_dir)
		flag = c->cfg.audit.state_dir;
	return cairn_audit_state_dir(&c->state_dir, flag);
}

/* Load everything the arguments name: apps, projects, environments, binding. */
int app_load_all(struct app_ctx *c, const struct app_args *a)
{
	cairn_app_load_opts opts = CAIRN_APP_LOAD_OPTS_INIT;
	cairn_app_reader reader;
	const char *env_path = a->environments;
	struct stat st;
	int rc;

	if ((rc = cairn_app_set_new(&c->set)) < 0)
		return rc;
	/* --config with --apps: the apps come from --apps, the rest (audit,
	 * tracking, plugins, environments) from the configuration */
	if (a->config && (rc = cairn_config_load(&c->cfg, a->config)) < 0)
		return rc;
	if ((rc = state_dir(c, a)) < 0 ||
	    (rc = cairn_app_git_new(&c->git, c->state_dir, &c->cfg, a->no_fetch)) < 0)
		return rc;
	reader = a->repo_root ? cairn_app_reader_dir(a->repo_root) : cairn_app_reader_git(c->git);
	opts.reader = &reader;
	for (size_t i = 0; i < a->app_count; i++)
		if ((rc = cairn_app_set_load(c->set, a->apps[i], &opts)) < 0)
			return rc;
	for (size_t i = 0; a->app_count == 0 && i < c->cfg.apps_count; i++) {
		const cairn_config_apps *x = &c->cfg.apps[i];

		rc = x->repo_url ? cairn_app_set_load_git(c->set, c->git, x->repo_url, x->revision,
		                                          x->path, &opts)
		                 : cairn_app_set_load(c->set, x->path, &opts);
		if (rc < 0)
			return rc;
	}
	if ((rc = cairn_app_set_check(c->set)) < 0)
		return rc;
	if (env_path == NULL && c->cfg.environments_dir && stat(c->cfg.environments_dir, &st) == 0)
		env_path = c->cfg.environments_dir;
	if (env_path && (rc = cairn_env_set_load(&c->envs, env_path)) < 0)
		return rc;
	return cairn_app_set_bind(c->set, c->envs);
}

/*
 * `get NAME --verify-revision`: every git source of the Application is
 * fetched, its targetRevision resolved, and the commit checked against the
 * signed-commit requirement. Prints one verdict line per source. Returns
 * 1 when every source may be deployed, 0 when one is refused, or a
 * negative error when a check could not be made.
 */
static int verify_sources(struct app_ctx *c, const cairn_app *x)
{
	const cairn_app_project *p = cairn_app_set_project(c->set, x->project);
	int all = 1, rc;

	for (size_t i = 0; i < x->source_count; i++) {
		const cairn_app_source *s = &x->sources[i];
		char id[CAIRN_SOURCE_OID_HEX_LEN], url[CAIRN_SOURCE_URL_MAX];
		cairn_source_repo *repo;
		cairn_app_sig_verdict v;

		if (s->chart != NULL)
			continue; /* a helm chart repository, not git */
		cairn_source_url_redact(url, sizeof(url), s->repo_url);
		if ((rc = cairn_app_git_resolve(id, c->git, s->repo_url, s->target_revision)) < 0 ||
		    (rc = cairn_app_git_repo(&repo, c->git, s->repo_url)) < 0 ||
		    (rc = cairn_app_verify_revision(&v, x, p, &c->cfg, repo, id)) < 0)
			return cairn_error_prefix("source '%s' at '%s'", url, s->target_revision);
		if (!v.required) {
			printf("Revision:     %s @ %s = %s: no signature required\n", url,
			       s->target_revision, id);
			continue;
		}
		printf("Revision:     %s @ %s = %s: %s (required by %s): %s: %s\n", url,
		       s->target_revision, id, v.allowed ? "allowed" : "refused", v.required_by,
		       cairn_sig_status_name(v.result.status), v.result.reason);
		if (!v.allowed) {
			fprintf(stderr,
			        "cairn app get: refused: commit %s of '%s' for application '%s': "
			        "%s: %s\n",
			        id, url, x->name, cairn_sig_status_name(v.result.status),
			        v.result.reason);
			all = 0;
		}
	}
	return all;
}

static json_t *app_summary(const cairn_app *x)
{
	json_t *srcs = json_array();

	for (size_t i = 0; i < x->source_count; i++)
		json_array_append_new(srcs, json_pack("{s:s, s:s, s:s?}", "repoURL",
		                                      x->sources[i].repo_url, "targetRevision",
		                                      x->sources[i].target_revision, "path",
		                                      x->sources[i].path));
	return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:{s:s?, s:s?, s:s?}, s:o, s:b, s:O}",
	                 "name", x->name, "project", x->project, "environment", x->environment,
	                 "group", x->group, "generator", x->generator, "destination", "server",
	                 x->dest_server, "name", x->dest_name, "namespace", x->dest_namespace,
	                 "sources", srcs, "automated", x->automated, "manifest", x->manifest);
}

static void print_row(const cairn_app *x, int wide)
{
	const char *dash = "-";

	printf("%-30s %-10s %-16s %-12s %-40s %s", x->name, x->environment ? x->environment : dash,
	       x->group ? x->group : dash, x->project,
	       x->dest_server ? x->dest_server : (x->dest_name ? x->dest_name : dash),
	       wide ? (x->automated ? "auto  " : "manual") : (x->automated ? "auto" : "manual"));
	if (wide)
		printf(" %-20s %-50s %-12s %s", x->dest_namespace ? x->dest_namespace : dash,
		       x->sources[0].repo_url, x->sources[0].target_revision,
		       x->sources[0].path ? x->sources[0].path : dash);
	printf("\n");
}

int app_print_doc(json_t *doc, int yaml)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	int rc = 0;

	if (yaml) {
		rc = json_is_array(doc) ? cairn_yaml_emit_stream(&b, doc)
		                        : cairn_yaml_emit(&b, doc);
	} else {
		char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		rc = s ? cairn_buf_printf(&b, "%s\n", s) : CAIRN_ENOMEM;
		free(s);
	}
	if (rc == 0 && b.len)
		fwrite(b.ptr, 1, b.len, stdout);
	cairn_buf_dispose(&b);
	return rc;
}

static void print_summary(const cairn_app *x)
{
	printf("Name:         %s\n", x->name);
	printf("Project:      %s\n", x->project);
	printf("Environment:  %s\n", x->environment ? x->environment : "(unbound)");
	printf("Group:        %s\n", x->group ? x->group : "(none)");
	if (x->generator)
		printf("Generated by: ApplicationSet %s\n", x->generator);
	printf("Destination:  %s namespace %s\n", x->dest_server ? x->dest_server : x->dest_name,
	       x->dest_namespace ? x->dest_namespace : "(none)");
	for (size_t i = 0; i < x->source_count; i++)
		printf("Source:       %s @ %s path %s\n", x->sources[i].repo_url,
		       x->sources[i].target_revision,
		       x->sources[i].path ? x->sources[i].path : "/");
	printf("Sync:         %s%s%s\n", x->automated ? "automated" : "manual",
	       x->prune ? ", prune" : "", x->self_heal ? ", self-heal" : "");
	printf("Defined in:   %s:%d\n", x->file, x->line);
}

/*
 * The Application NAME; with --env, NAME bound to ENV, else the member of
 * app group NAME bound to ENV (as `cairn render GROUP --env ENV`).
 */
static const cairn_app *find_app(const cairn_app_set *set, const struct app_args *a)
{
	const cairn_app *x = cairn_app_set_find(set, a->name);

	if (x && (!a->env || (x->environment && strcmp(x->environment, a->env) == 0)))
		return x;
	for (size_t i = 0; a->env && i < cairn_app_set_count(set); i++) {
		const cairn_app *y = cairn_app_set_at(set, i);

		if (y->group && strcmp(y->group, a->name) == 0 && y->environment &&
		    strcmp(y->environment, a->env) == 0)
			return y;
	}
	if (a->env)
		fprintf(stderr, "cairn app: no application '%s' in environment '%s'\n", a->name,
		        a->env);
	else
		fprintf(stderr, "cairn app: no application '%s'\n", a->name);
	return NULL;
}

static int run_sync_sub(struct app_ctx *c, const struct app_args *a, const cairn_app *x)
{
	switch (a->sub) {
	case APP_DIFF:
		return app_cmd_diff(c, a, x);
	case APP_SYNC:
		return app_cmd_sync(c, a, x);
	case APP_WAIT:
		return app_cmd_wait(c, a, x);
	case APP_HISTORY:
		return app_cmd_history(c, a, x);
	case APP_ROLLBACK:
		return app_cmd_rollback(c, a, x);
	default:
		return CLI_EXIT_FAIL;
	}
}

int cmd_app(int argc, char **argv)
{
	struct app_args a;
	struct app_ctx c;
	cairn_app_set *set;
	json_t *out = NULL;
	int rc, status = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	rc = parse_args(&a, argc, argv);
	if (rc < 0)
		return rc == -2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (a.server)
		return app_remote(&a);
	if (app_load_all(&c, &a) < 0) {
		cli_print_error("app");
		if (a.sub == APP_DIFF)
			status = CLI_EXIT_USAGE; /* diff: 2 is an error, 1 differences */
		goto out;
	}
	set = c.set;
	for (size_t i = 0; i < cairn_app_set_notice_count(set); i++)
		fprintf(stderr, "cairn: %s\n", cairn_app_set_notice(set, i));
	if (a.sub != APP_LIST) {
		const cairn_app *x = find_app(set, &a);

		if (x == NULL) {
			if (a.sub == APP_DIFF)
				status = CLI_EXIT_USAGE; /* diff: 2 is an error */
			goto out;
		}
		if (a.sub != APP_GET) {
			status = run_sync_sub(&c, &a, x);
			goto out;
		}
		if (a.output == NULL || strcmp(a.output, "wide") == 0) {
			print_summary(x);
			if (app_get_status(&c, &a, x, NULL) < 0)
				goto out;
		} else if (strcmp(a.output, "yaml") == 0
		                   ? app_print_doc(x->manifest, 1) < 0
		                   : (out = app_summary(x)) == NULL ||
		                             app_get_status(&c, &a, x, out) < 0 ||
		                             app_print_doc(out, 0) < 0) {
			cli_print_error("app");
			goto out;
		}
		if (a.verify && (rc = verify_sources(&c, x)) <= 0) {
			if (rc < 0)
				cli_print_error("app");
			goto out;
		}
		status = CLI_EXIT_OK;
		goto out;
	}
	if (a.output && strcmp(a.output, "wide") != 0) {
		int yaml = strcmp(a.output, "yaml") == 0;
		out = json_array();
		for (size_t i = 0; i < cairn_app_set_count(set); i++) {
			const cairn_app *x = cairn_app_set_at(set, i);
			json_array_append_new(out,
			                      yaml ? json_incref(x->manifest) : app_summary(x));
		}
		if (app_print_doc(out, yaml) < 0) {
			cli_print_error("app");
			goto out;
		}
	} else {
		int wide = a.output != NULL;
		printf("%-30s %-10s %-16s %-12s %-40s %s", "NAME", "ENV", "GROUP", "PROJECT",
		       "CLUSTER", wide ? "SYNC  " : "SYNC");
		if (wide)
			printf(" %-20s %-50s %-12s %s", "NAMESPACE", "REPO", "REVISION", "PATH");
		printf("\n");
		for (size_t i = 0; i < cairn_app_set_count(set); i++)
			print_row(cairn_app_set_at(set, i), wide);
	}
	status = CLI_EXIT_OK;
out:
	json_decref(out);
	cairn_app_set_free(c.set);
	cairn_env_set_free(c.envs);
	cairn_app_git_free(c.git);
	cairn_config_dispose(&c.cfg);
	free(c.state_dir);
	return status;
}
