/*
 * cmd_env.c - `cairn env list`: the Environments Cairn knows, with their
 * cluster, namespaces, promotion source and sync defaults.
 */
#include <getopt.h>

#include "cairn/app.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cli.h"

static void env_usage(FILE *out)
{
	fprintf(out, "usage: cairn env list [--config FILE | --environments PATH] [-o json]\n"
	             "       cairn env diff GROUP ENV_A ENV_B [OPTIONS] (see cairn env diff "
	             "--help)\n\n"
	             "List the Environments (cairn.dev/v1alpha1), or compare an app group's\n"
	             "rendered manifests in two of them.\n\n"
	             "options:\n"
	             "  --config FILE        read environmentsDir from this cairn.yaml\n"
	             "  --environments PATH  a file or folder of Environment YAML\n"
	             "  -o, --output json    JSON instead of a table\n"
	             "  --state-dir DIR      the state directory (accepted for every command)\n"
	             "  -h, --help           show this help\n");
}

static json_t *env_json(const cairn_env *e)
{
	json_t *ns = json_array();

	for (size_t i = 0; i < e->namespace_count; i++)
		json_array_append_new(ns, json_string(e->namespaces[i]));
	return json_pack("{s:s, s:s?, s:s?, s:b, s:o, s:s?, s:s?, s:b, s:b, s:b, s:s, s:s}", "name",
	                 e->name, "server", e->server, "clusterName", e->cluster_name, "inCluster",
	                 e->in_cluster, "namespaces", ns, "defaultNamespace", e->default_namespace,
	                 "promotedFrom", e->promoted_from, "autoSync", e->auto_sync, "selfHeal",
	                 e->self_heal, "prune", e->prune, "drift",
	                 e->drift == CAIRN_ENV_DRIFT_CORRECT ? "correct" : "detect", "rollouts",
	                 e->rollouts == CAIRN_ENV_ROLLOUTS_EXTERNAL ? "external" : "internal");
}

static void print_table(const cairn_env_set *set)
{
	printf("%-12s %-40s %-24s %-12s %-8s %s\n", "NAME", "CLUSTER", "NAMESPACES", "FROM",
	       "DRIFT", "SYNC");
	for (size_t i = 0; i < cairn_env_set_count(set); i++) {
		const cairn_env *e = cairn_env_set_at(set, i);
		char ns[256] = "";
		size_t o = 0;
		for (size_t k = 0; k < e->namespace_count && o < sizeof(ns); k++) {
			int n = snprintf(ns + o, sizeof(ns) - o, "%s%s", k ? "," : "",
			                 e->namespaces[k]);
			o += n > 0 ? (size_t)n : 0;
		}
		printf("%-12s %-40s %-24s %-12s %-8s %s%s%s\n", e->name,
		       e->in_cluster ? "(in-cluster)" : (e->server ? e->server : e->cluster_name),
		       ns[0] ? ns : "*", e->promoted_from ? e->promoted_from : "-",
		       e->drift == CAIRN_ENV_DRIFT_CORRECT ? "correct" : "detect",
		       e->auto_sync ? "auto" : "manual", e->self_heal ? ",self-heal" : "",
		       e->prune ? ",prune" : "");
	}
}

int cmd_env(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"environments", required_argument, NULL, 'e'},
	        {"output", required_argument, NULL, 'o'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *path = NULL;
	cairn_config cfg;
	cairn_env_set *set = NULL;
	int json = 0, c, status = CLI_EXIT_FAIL;

	memset(&cfg, 0, sizeof(cfg));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		env_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "diff") == 0)
#ifdef CAIRN_CLI_GIT
		return cmd_env_diff(argc - 1, argv + 1);
#else
		return exec_git_helper(argc, argv);
#endif
	if (strcmp(argv[1], "list") != 0) {
		fprintf(stderr, "cairn env: unknown subcommand '%s' (expected list or diff)\n",
		        argv[1]);
		return CLI_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (c == 'c') {
			config = optarg;
		} else if (c == 'e') {
			path = optarg;
		} else if (c == 's') {
			continue;
		} else if (c == 'o' && strcmp(optarg, "json") == 0) {
			json = 1;
		} else if (c == 'h') {
			env_usage(stdout);
			return CLI_EXIT_OK;
		} else {
			fprintf(stderr, "cairn env: bad option or value '%s'\n", argv[optind - 1]);
			env_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cairn env list: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (path == NULL && config == NULL && (config = getenv("CAIRN_CONFIG")) == NULL) {
		fprintf(stderr, "cairn env: give --environments PATH or --config FILE\n");
		return CLI_EXIT_USAGE;
	}
	if (path == NULL) {
		if (cairn_config_load(&cfg, config) < 0) {
			cli_print_error("env");
			goto out;
		}
		path = cfg.environments_dir;
	}
	if (cairn_env_set_load(&set, path) < 0) {
		cli_print_error("env");
		goto out;
	}
	if (json) {
		json_t *arr = json_array();
		char *s;
		for (size_t i = 0; i < cairn_env_set_count(set); i++)
			json_array_append_new(arr, env_json(cairn_env_set_at(set, i)));
		s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(arr);
	} else {
		print_table(set);
	}
	status = CLI_EXIT_OK;
out:
	cairn_env_set_free(set);
	cairn_config_dispose(&cfg);
	return status;
}
