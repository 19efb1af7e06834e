/*
 * cmd_validate.c - `cairn validate [--schemas DIR] [--ignore-missing-schemas]
 * [-o text|json] FILE|DIR...`: findings on stdout, a summary on stderr,
 * exit 1 when any problem was found.
 */
#include <getopt.h>

#include "cairn/error.h"
#include "cairn/schema.h"
#include "cairn/validate.h"
#include "cli.h"

static void validate_usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn validate [--schemas DIR] [--ignore-missing-schemas] [-o text|json] "
	        "FILE|DIR...\n"
	        "\n"
	        "Check that every YAML or JSON document is a Kubernetes object (apiVersion, kind,\n"
	        "metadata.name, name/namespace/label syntax) and, with --schemas, that it follows\n"
	        "its OpenAPI schema. Directories are walked recursively (*.yaml, *.yml, *.json).\n"
	        "\n"
	        "options:\n"
	        "  --schemas DIR               OpenAPI v2 (swagger.json) and/or v3 (v3/*.json)\n"
	        "                              documents to check fields and types against\n"
	        "  --ignore-missing-schemas    no problem for kinds DIR has no schema for\n"
	        "  -o, --output text|json      output format (default text)\n"
	        "  -h, --help                  show this help\n"
	        "\n"
	        "exit status: 0 no problems, 1 problems found, 2 usage error\n");
}

struct validate_args {
	const char *schemas;
	int ignore_missing;
	int json;
};

/* Parse flags; returns the index of the first path, or -1 after printing
 * usage (exit 2), or -2 for --help (exit 0). */
static int parse_args(struct validate_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"schemas", required_argument, NULL, 's'},
	        {"ignore-missing-schemas", no_argument, NULL, 'i'},
	        {"output", required_argument, NULL, 'o'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->schemas = optarg;
			break;
		case 'i':
			a->ignore_missing = 1;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0) {
				a->json = 1;
			} else if (strcmp(optarg, "text") == 0) {
				a->json = 0;
			} else {
				fprintf(stderr,
				        "cairn validate: unknown output format '%s': expected text "
				        "or "
				        "json\n",
				        optarg);
				return -1;
			}
			break;
		case 'h':
			validate_usage(stdout);
			return -2;
		case ':':
			fprintf(stderr, "cairn validate: option '%s' needs a value\n",
			        argv[optind - 1]);
			validate_usage(stderr);
			return -1;
		default:
			fprintf(stderr, "cairn validate: unknown option '%s'\n", argv[optind - 1]);
			validate_usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "cairn validate: no FILE or DIR given\n");
		validate_usage(stderr);
		return -1;
	}
	return optind;
}

static int print_findings(const cairn_validation *v, int json)
{
	cairn_buf out = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	json_t *j = NULL;
	int rc;

	if (json) {
		rc = cairn_validation_to_json(&j, v);
		if (rc == 0) {
			char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			rc = s ? cairn_buf_printf(&out, "%s\n", s) : CAIRN_ENOMEM;
			free(s);
		}
	} else {
		rc = cairn_validation_write_text(&out, v);
	}
	if (rc == 0 && out.len > 0)
		fwrite(out.ptr, 1, out.len, stdout);
	json_decref(j);
	cairn_buf_dispose(&out);
	return rc;
}

int cmd_validate(int argc, char **argv)
{
	struct validate_args a = {NULL, 0, 0};
	cairn_validate_opts opts = CAIRN_VALIDATE_OPTS_INIT;
	cairn_schema_set *set = NULL;
	cairn_validation v;
	int first, rc, status = CLI_EXIT_FAIL;

	cairn_validation_init(&v);
	first = parse_args(&a, argc, argv);
	if (first < 0)
		return first == -2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (a.schemas) {
		if (cairn_schema_set_load(&set, a.schemas) < 0) {
			cli_print_error("validate");
			goto out;
		}
		opts.schemas = set;
		opts.ignore_missing_schemas = a.ignore_missing;
	}
	rc = cairn_validate_paths(&v, (const char *const *)argv + first, (size_t)(argc - first),
	                          &opts);
	if (print_findings(&v, a.json) < 0 || rc < 0) {
		cli_print_error("validate");
		goto out;
	}
	fprintf(stderr, "%zu file%s, %zu object%s, %zu kustomization%s, %zu problem%s\n", v.files,
	        v.files == 1 ? "" : "s", v.objects, v.objects == 1 ? "" : "s", v.kustomizations,
	        v.kustomizations == 1 ? "" : "s", v.errors, v.errors == 1 ? "" : "s");
	status = v.errors > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	cairn_validation_dispose(&v);
	cairn_schema_set_free(set);
	return status;
}
