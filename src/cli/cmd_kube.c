/*
 * cmd_kube.c - `cairn kube ping|get|apply|delete`: debugging commands over
 * a kubeconfig context, for checking connectivity and credentials.
 *
 * Built into cairn-git (the program for the heavy libraries), so that
 * `cairn`'s other commands do not load libcurl.
 */
#include <ctype.h>
#include <getopt.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "cli.h"

static void kube_usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn kube [OPTIONS] ping\n"
	        "       cairn kube [OPTIONS] get TYPE [NAME] [-l SELECTOR] [--field-selector S]\n"
	        "       cairn kube [OPTIONS] apply -f FILE [--dry-run] [--parallel N]\n"
	        "       cairn kube [OPTIONS] delete (TYPE NAME | -f FILE) [--cascade POLICY]\n\n"
	        "Talk to a cluster through a kubeconfig context. TYPE is a kind, plural,\n"
	        "singular or short name, optionally with .group (deploy, deployments.apps).\n"
	        "apply is server-side apply with field manager 'cairn', forcing conflicts.\n\n"
	        "options:\n"
	        "  --kubeconfig FILE      the kubeconfig (default $KUBECONFIG, ~/.kube/config)\n"
	        "  --context NAME         the context (default: the current context)\n"
	        "  -n, --namespace NS     the namespace (default: the context's)\n"
	        "  -A, --all-namespaces   get: list in every namespace\n"
	        "  -o, --output yaml|json get NAME: the output format (default yaml)\n"
	        "  -f, --filename FILE    apply/delete: the objects (YAML, several documents)\n"
	        "  --dry-run              apply: dryRun=All, print what would be stored\n"
	        "  --parallel N           apply: requests in flight at once, 1-64 (default 8)\n"
	        "  --cascade POLICY       delete: background, foreground or orphan\n"
	        "  -h, --help             show this help\n");
}

struct kube_args {
	const char *kubeconfig, *context, *ns, *output, *file, *label, *field, *cascade;
	int all_ns, dry_run, parallel;
};

static int kube_connect(cairn_kube_client **out, const struct kube_args *a)
{
	cairn_kube_config *cfg = NULL;
	int rc = cairn_kube_config_for(&cfg, a->kubeconfig, a->context, 0);

	if (rc == 0 && a->ns != NULL && a->ns[0] != '\0') {
		/* -n is the default namespace of every call, apply's included */
		free(cfg->namespace_);
		cfg->namespace_ = strdup(a->ns);
		if (cfg->namespace_ == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = cairn_kube_client_new(out, cfg, NULL);
	cairn_kube_config_free(cfg);
	return rc;
}

/* "deployment.apps" or "configmap", as kubectl names a type in its messages. */
static void type_name(char *out, size_t size, const cairn_kube_mapping *m)
{
	size_t i;

	snprintf(out, size, "%s%s%s", m->kind, m->group[0] ? "." : "", m->group);
	for (i = 0; out[i] != '\0' && out[i] != '.'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

static int do_ping(cairn_kube_client *c)
{
	char v[128];
	int64_t t0;
	int rc = cairn_kube_server_version(c, v, sizeof(v));

	if (rc != 0)
		return rc;
	/* the second request runs on the kept-alive connection: the round trip */
	t0 = cairn_time_mono();
	rc = cairn_kube_server_version(c, v, sizeof(v));
	if (rc == 0)
		printf("server %s, round trip %.2f ms\n", v,
		       (double)(cairn_time_mono() - t0) / 1000.0);
	return rc;
}

static int print_obj(const json_t *o, const char *fmt)
{
	cairn_buf b = CAIRN_BUF_INIT(0);
	int rc = 0;

	if (fmt != NULL && strcmp(fmt, "json") == 0) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (s == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		printf("%s\n", s);
		free(s);
		return 0;
	}
	rc = cairn_yaml_emit(&b, o);
	if (rc == 0)
		fputs(b.ptr, stdout);
	cairn_buf_dispose(&b);
	return rc;
}

static int do_get(cairn_kube_client *c, const struct kube_args *a, int argc, char **argv)
{
	cairn_kube_mapping m;
	cairn_kube_list_opts lo = {0};
	json_t *o = NULL;
	char *cont = NULL;
	int rc;

	if (argc < 1 || argc > 2)
		return cairn_error_set(CAIRN_EINVAL, "get needs TYPE [NAME]");
	rc = cairn_kube_mapping_find(c, argv[0], &m);
	if (rc == 0 && argc == 2) {
		rc = cairn_kube_get(c, &m, a->ns, argv[1], &o);
		if (rc == 0)
			rc = print_obj(o, a->output);
		json_decref(o);
		return rc;
	}
	lo.label_selector = a->label;
	lo.field_selector = a->field;
	lo.all_namespaces = a->all_ns;
	lo.limit = 500;
	while (rc == 0) {
		size_t i;
		const json_t *it;
		const char *next;

		lo.continue_ = cont;
		rc = cairn_kube_list(c, &m, a->ns, &lo, &o);
		if (rc != 0)
			break;
		json_array_foreach(json_object_get(o, "items"), i, it)
		{
			const json_t *md = json_object_get(it, "metadata");
			const char *ns = json_string_value(json_object_get(md, "namespace"));

			printf("%s%s%s\n", a->all_ns && ns ? ns : "", a->all_ns && ns ? "/" : "",
			       json_string_value(json_object_get(md, "name")));
		}
		next = json_string_value(
		        json_object_get(json_object_get(o, "metadata"), "continue"));
		free(cont);
		cont = next != NULL && next[0] != '\0' ? strdup(next) : NULL;
		json_decref(o);
		o = NULL;
		if (cont == NULL)
			break;
	}
	free(cont);
	return rc;
}

/* apply or delete every object of -f FILE. */
static int do_file(cairn_kube_client *c, const struct kube_args *a, int apply)
{
	cairn_yaml_opts yo = CAIRN_YAML_OPTS_INIT;
	json_t *docs = NULL;
	const json_t *d;
	size_t i;
	int rc, failed = 0;

	yo.profile = CAIRN_YAML_KUBECTL;
	if (a->file == NULL)
		return cairn_error_set(CAIRN_EINVAL, "%s needs -f FILE",
		                       apply ? "apply" : "delete");
	rc = cairn_yaml_load_file(&docs, NULL, a->file, &yo);
	if (rc != 0)
		return rc;
	json_array_foreach(docs, i, d)
	{
		const char *av = json_string_value(json_object_get(d, "apiVersion"));
		const char *kind = json_string_value(json_object_get(d, "kind"));
		const json_t *md = json_object_get(d, "metadata");
		const char *name = json_string_value(json_object_get(md, "name"));
		const char *ns = json_string_value(json_object_get(md, "namespace"));
		cairn_kube_mapping m;
		char tn[300];

		if (json_is_null(d))
			continue;
		if (av == NULL || kind == NULL || name == NULL) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "'%s' document %zu: needs apiVersion, kind and "
			                     "metadata.name",
			                     a->file, i + 1);
		} else if ((rc = cairn_kube_mapping_for(c, av, kind, &m)) == 0) {
			type_name(tn, sizeof(tn), &m);
			if (apply)
				rc = cairn_kube_apply(c, d, a->dry_run ? CAIRN_KUBE_DRY_RUN : 0,
				                      NULL);
			else
				rc = cairn_kube_delete(c, &m, ns != NULL ? ns : a->ns, name,
				                       a->cascade);
			if (rc == 0)
				printf(apply ? "%s/%s serverside-applied%s\n"
				             : "%s \"%s\" deleted%s\n",
				       tn, name, a->dry_run ? " (dry run)" : "");
		}
		if (rc != 0) {
			cli_print_error(apply ? "kube apply" : "kube delete");
			failed = 1;
		}
	}
	json_decref(docs);
	return failed ? 1 : 0;
}

/*
 * apply -f FILE: every object in one cairn_kube_apply_many() call, so the
 * requests travel side by side over --parallel connections (discovery
 * once); the lines are printed in file order, as kubectl prints them.
 */
static int do_apply(cairn_kube_client *c, const struct kube_args *a)
{
	cairn_yaml_opts yo = CAIRN_YAML_OPTS_INIT;
	json_t *docs = NULL, **objs = NULL;
	cairn_kube_apply_result *res = NULL;
	const json_t *d;
	size_t i, n = 0;
	int rc, failed = 0;

	yo.profile = CAIRN_YAML_KUBECTL;
	if (a->file == NULL)
		return cairn_error_set(CAIRN_EINVAL, "apply needs -f FILE");
	rc = cairn_yaml_load_file(&docs, NULL, a->file, &yo);
	if (rc != 0)
		return rc;
	objs = calloc(json_array_size(docs) + 1, sizeof(*objs));
	res = calloc(json_array_size(docs) + 1, sizeof(*res));
	if (objs == NULL || res == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(docs, i, d)
	{
		const json_t *md = json_object_get(d, "metadata");

		if (json_is_null(d))
			continue;
		if (json_string_value(json_object_get(d, "apiVersion")) == NULL ||
		    json_string_value(json_object_get(d, "kind")) == NULL ||
		    json_string_value(json_object_get(md, "name")) == NULL) {
			cairn_error_set(
			        CAIRN_EINVAL,
			        "'%s' document %zu: needs apiVersion, kind and metadata.name",
			        a->file, i + 1);
			cli_print_error("kube apply");
			failed = 1;
			continue;
		}
		objs[n++] = (json_t *)d;
	}
	cairn_kube_apply_many(c, objs, n, a->dry_run ? CAIRN_KUBE_DRY_RUN : 0, res,
	                      a->parallel > 0 ? a->parallel : 8);
	for (i = 0; i < n; i++) {
		const char *name = json_string_value(
		        json_object_get(json_object_get(objs[i], "metadata"), "name"));
		cairn_kube_mapping m;
		char tn[300];

		if (res[i].rc == 0 &&
		    cairn_kube_mapping_for(
		            c, json_string_value(json_object_get(objs[i], "apiVersion")),
		            json_string_value(json_object_get(objs[i], "kind")), &m) == 0) {
			type_name(tn, sizeof(tn), &m);
			printf("%s/%s serverside-applied%s\n", tn, name,
			       a->dry_run ? " (dry run)" : "");
			continue;
		}
		if (res[i].rc != 0)
			cairn_error_set(res[i].rc, "%s", res[i].message);
		cli_print_error("kube apply");
		failed = 1;
	}
	rc = failed ? 1 : 0;
out:
	free(res);
	free(objs);
	json_decref(docs);
	return rc;
}

static int parse_args(struct kube_args *a, int argc, char **argv)
{
	static const struct option lo[] = {
	        {"kubeconfig", required_argument, NULL, 'K'},
	        {"context", required_argument, NULL, 'C'},
	        {"namespace", required_argument, NULL, 'n'},
	        {"all-namespaces", no_argument, NULL, 'A'},
	        {"output", required_argument, NULL, 'o'},
	        {"filename", required_argument, NULL, 'f'},
	        {"selector", required_argument, NULL, 'l'},
	        {"field-selector", required_argument, NULL, 'F'},
	        {"dry-run", no_argument, NULL, 'D'},
	        {"cascade", required_argument, NULL, 'c'},
	        {"parallel", required_argument, NULL, 'P'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "n:Ao:f:l:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'K':
			a->kubeconfig = optarg;
			break;
		case 'C':
			a->context = optarg;
			break;
		case 'n':
			a->ns = optarg;
			break;
		case 'A':
			a->all_ns = 1;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'f':
			a->file = optarg;
			break;
		case 'l':
			a->label = optarg;
			break;
		case 'F':
			a->field = optarg;
			break;
		case 'D':
			a->dry_run = 1;
			break;
		case 'c':
			a->cascade = optarg;
			break;
		case 'P': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || v < 1 || v > CAIRN_KUBE_MAX_PARALLEL) {
				fprintf(stderr,
				        "cairn kube: parallel '%s' is not a number from 1 to %d\n",
				        optarg, CAIRN_KUBE_MAX_PARALLEL);
				return -1;
			}
			a->parallel = (int)v;
			break;
		}
		case 'h':
			kube_usage(stdout);
			return 1;
		default:
			kube_usage(stderr);
			return -1;
		}
	}
	if (a->output != NULL && strcmp(a->output, "yaml") != 0 && strcmp(a->output, "json") != 0) {
		fprintf(stderr, "cairn kube: output '%s' is not yaml or json\n", a->output);
		return -1;
	}
	if (a->cascade != NULL) {
		if (strcmp(a->cascade, "background") == 0)
			a->cascade = "Background";
		else if (strcmp(a->cascade, "foreground") == 0)
			a->cascade = "Foreground";
		else if (strcmp(a->cascade, "orphan") == 0)
			a->cascade = "Orphan";
		else {
			fprintf(stderr,
			        "cairn kube: cascade '%s' is not background, foreground or "
			        "orphan\n",
			        a->cascade);
			return -1;
		}
	}
	return 0;
}

int cmd_kube(int argc, char **argv)
{
	struct kube_args a = {0};
	cairn_kube_client *c = NULL;
	const char *sub;
	int rc, n;
	char **rest;

	rc = parse_args(&a, argc, argv);
	if (rc != 0)
		return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (optind >= argc) {
		kube_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	sub = argv[optind];
	rest = argv + optind + 1;
	n = argc - optind - 1;
	if (strcmp(sub, "ping") != 0 && strcmp(sub, "get") != 0 && strcmp(sub, "apply") != 0 &&
	    strcmp(sub, "delete") != 0) {
		fprintf(stderr, "cairn kube: unknown subcommand '%s'\n", sub);
		return CLI_EXIT_USAGE;
	}
	rc = kube_connect(&c, &a);
	if (rc == 0) {
		if (strcmp(sub, "ping") == 0)
			rc = do_ping(c);
		else if (strcmp(sub, "get") == 0)
			rc = do_get(c, &a, n, rest);
		else if (strcmp(sub, "apply") == 0)
			rc = do_apply(c, &a);
		else if (a.file != NULL)
			rc = do_file(c, &a, 0);
		else if (n != 2)
			rc = cairn_error_set(CAIRN_EINVAL, "delete needs TYPE NAME or -f FILE");
		else {
			cairn_kube_mapping m;
			char tn[300];

			rc = cairn_kube_mapping_find(c, rest[0], &m);
			if (rc == 0)
				rc = cairn_kube_delete(c, &m, a.ns, rest[1], a.cascade);
			if (rc == 0) {
				type_name(tn, sizeof(tn), &m);
				printf("%s \"%s\" deleted\n", tn, rest[1]);
			}
		}
	}
	cairn_kube_client_free(c);
	if (rc < 0) {
		char ctx[32];

		snprintf(ctx, sizeof(ctx), "kube %s", sub);
		cli_print_error(ctx);
	}
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
