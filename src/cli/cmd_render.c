/*
 * cmd_render.c - `cairn render --path DIR`: render a local kustomization
 * (natively) or plain directory and print the manifests. The directory is
 * read through the local-directory tree backend, so this command does not
 * need libgit2 and stays in `cairn` itself.
 */
#include <getopt.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "cli.h"

static void render_usage(FILE *out)
{
	fprintf(out, "usage: cairn render --path DIR [--root ROOT] [--recursive] [--hash] "
	             "[-o yaml|json]\n\n"
	             "Render a kustomization (natively, as `kubectl kustomize` prints it) or a\n"
	             "plain directory of manifests.\n\n"
	             "options:\n"
	             "  --path DIR       the kustomization or manifest directory\n"
	             "  --root ROOT      no file outside ROOT is read (default: DIR)\n"
	             "  --recursive      plain directories: include subdirectories\n"
	             "  --hash           print the render hash instead of the manifests\n"
	             "  -o, --output F   yaml (default) or json\n"
	             "  --state-dir DIR  the state directory (accepted for every command)\n"
	             "  -h, --help       show this help\n");
}

/* DIR relative to ROOT, or NULL when DIR is not inside ROOT. */
static char *relative_to(const char *root, const char *dir)
{
	char r[4096], d[4096];
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

static int render_run(const char *root, const char *dir, int recursive, int hash, int json)
{
	cairn_buf out = CAIRN_BUF_INIT(0);
	cairn_tree *t = NULL;
	json_t *objs = NULL;
	char *rel = relative_to(root, dir);
	char hex[65];
	int rc, ret = CLI_EXIT_FAIL;

	if (rel == NULL) {
		fprintf(stderr, "cairn: render: path '%s' is not inside root '%s'\n", dir, root);
		return CLI_EXIT_USAGE;
	}
	rc = cairn_tree_open_dir(&t, root);
	if (rc == 0)
		rc = cairn_render_is_kustomization(t, rel);
	if (rc > 0)
		rc = cairn_render_kustomize(&objs, t, rel);
	else if (rc == 0)
		rc = cairn_render_directory(&objs, t, rel, recursive);
	if (rc == 0 && hash) {
		rc = cairn_render_hash(hex, objs);
		if (rc == 0)
			rc = cairn_buf_printf(&out, "%s\n", hex);
	} else if (rc == 0) {
		rc = cairn_render_emit(&out, objs, json);
	}
	if (rc < 0) {
		cli_print_error("render");
		goto out;
	}
	fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout);
	ret = CLI_EXIT_OK;
out:
	cairn_buf_dispose(&out);
	json_decref(objs);
	cairn_tree_free(t);
	free(rel);
	return ret;
}

int cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"path", required_argument, NULL, 'p'},
	        {"root", required_argument, NULL, 'r'},
	        {"recursive", no_argument, NULL, 'R'},
	        {"hash", no_argument, NULL, 'H'},
	        {"output", required_argument, NULL, 'o'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *root = NULL;
	int recursive = 0, hash = 0, json = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			path = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'R':
			recursive = 1;
			break;
		case 'H':
			hash = 1;
			break;
		case 's':
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = 1;
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
	if (path == NULL || optind != argc) {
		render_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return render_run(root ? root : path, path, recursive, hash, json);
}
