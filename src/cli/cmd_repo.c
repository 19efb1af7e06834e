/*
 * cmd_repo.c - `cairn repo fetch URL [--revision R]` and `cairn repo ls URL
 * REV [PATH] [-r]`: the mirror cache from the command line. Credentials are
 * given by reference (a file or an environment variable name), never as
 * values on the command line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/audit.h"
#include "cairn/error.h"
#include "cairn/source.h"
#include "cli.h"

static void repo_usage(FILE *out)
{
	fprintf(out, "usage: cairn repo fetch URL [--revision R] [OPTIONS]\n"
	             "       cairn repo ls URL REV [PATH] [-r] [OPTIONS]\n"
	             "\n"
	             "fetch  update the mirror of URL under STATE/repos and print the commit id\n"
	             "       that the revision (default HEAD) resolves to\n"
	             "ls     fetch, then list PATH (default the root) of the tree at REV:\n"
	             "       one line per entry, 'KIND SIZE<tab>PATH', KIND file, exec, dir,\n"
	             "       link or other\n"
	             "\n"
	             "URL: a local path, file://, http(s)://, git://, ssh:// or user@host:path.\n"
	             "REV: branch, tag, HEAD, commit id (full or abbreviated) or a semver\n"
	             "constraint over tags ('1.2.*', '>=1.2.0 <2.0.0', '~1.2', '^1.2').\n"
	             "\n"
	             "options:\n"
	             "  --revision R           revision to resolve (fetch)\n"
	             "  -r, --recursive        list recursively (ls)\n"
	             "  --no-fetch             use the mirror as it is (ls)\n"
	             "  --state-dir DIR        state directory (default $CAIRN_STATE_DIR, ...)\n"
	             "  --username NAME        user name for http(s)\n"
	             "  --password-file FILE   file holding the http(s) password or token\n"
	             "  --password-env VAR     environment variable holding it\n"
	             "  --ssh-key FILE         private key for ssh\n"
	             "  --known-hosts FILE     known_hosts file for ssh (required for ssh)\n"
	             "  --ca-file FILE         PEM CA bundle for https\n"
	             "  -h, --help             show this help\n"
	             "\n"
	             "exit status: 0 success, 1 failure, 2 usage error\n");
}

struct repo_args {
	const char *revision;
	const char *state_dir;
	int recursive;
	int no_fetch;
	cairn_source_creds creds;
};

/* Parse options anywhere on the line; returns the index of the first
 * operand (operands are moved to the end by getopt), -1 usage, -2 help. */
static int parse_args(struct repo_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"revision", required_argument, NULL, 'R'},
	        {"recursive", no_argument, NULL, 'r'},
	        {"no-fetch", no_argument, NULL, 'N'},
	        {"state-dir", required_argument, NULL, 'S'},
	        {"username", required_argument, NULL, 'u'},
	        {"password-file", required_argument, NULL, 'p'},
	        {"password-env", required_argument, NULL, 'e'},
	        {"ssh-key", required_argument, NULL, 'k'},
	        {"known-hosts", required_argument, NULL, 'K'},
	        {"ca-file", required_argument, NULL, 'C'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			a->revision = optarg;
			break;
		case 'r':
			a->recursive = 1;
			break;
		case 'N':
			a->no_fetch = 1;
			break;
		case 'S':
			a->state_dir = optarg;
			break;
		case 'u':
			a->creds.username = optarg;
			break;
		case 'p':
			a->creds.password_file = optarg;
			break;
		case 'e':
			a->creds.password_env = optarg;
			break;
		case 'k':
			a->creds.ssh_key_file = optarg;
			break;
		case 'K':
			a->creds.known_hosts_file = optarg;
			break;
		case 'C':
			a->creds.ca_file = optarg;
			break;
		case 'h':
			repo_usage(stdout);
			return -2;
		case ':':
			fprintf(stderr, "cairn repo: option '%s' needs a value\n",
			        argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "cairn repo: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

/* Open (and unless told otherwise fetch) the mirror of url. */
static int open_repo(cairn_source_repo **out, const struct repo_args *a, const char *url)
{
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	char *state = NULL;
	int rc;

	rc = cairn_audit_state_dir(&state, a->state_dir);
	if (rc < 0)
		return rc;
	o.state_dir = state;
	o.creds = &a->creds;
	rc = cairn_source_open(out, url, &o);
	if (rc == 0 && !a->no_fetch) {
		rc = cairn_source_fetch(*out);
		if (rc < 0) {
			cairn_source_repo_free(*out);
			*out = NULL;
		}
	}
	free(state);
	return rc;
}

static const char *kind_name(const cairn_tree_entry *e)
{
	switch (e->kind) {
	case CAIRN_TREE_FILE:
		return e->executable ? "exec" : "file";
	case CAIRN_TREE_DIR:
		return "dir";
	case CAIRN_TREE_SYMLINK:
		return "link";
	default:
		return "other";
	}
}

static int repo_ls(const struct repo_args *a, cairn_source_repo *repo, const char *rev,
                   const char *path)
{
	char id[CAIRN_SOURCE_OID_HEX_LEN];
	cairn_tree *t = NULL;
	cairn_tree_list l = {NULL, 0};
	int rc;

	rc = cairn_source_resolve(id, repo, rev);
	if (rc == 0)
		rc = cairn_tree_open_git(&t, repo, id);
	if (rc == 0)
		rc = cairn_tree_list_dir(&l, t, path ? path : "", a->recursive);
	for (size_t i = 0; rc == 0 && i < l.count; i++)
		printf("%s %llu\t%s\n", kind_name(&l.entries[i]),
		       (unsigned long long)l.entries[i].size, l.entries[i].path);
	cairn_tree_list_dispose(&l);
	cairn_tree_free(t);
	return rc;
}

int cmd_repo(int argc, char **argv)
{
	struct repo_args a;
	cairn_source_repo *repo = NULL;
	const char *sub, *url;
	char id[CAIRN_SOURCE_OID_HEX_LEN];
	int first, rc, nops;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		repo_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "fetch") != 0 && strcmp(sub, "ls") != 0) {
		fprintf(stderr, "cairn repo: unknown subcommand '%s': expected fetch or ls\n", sub);
		return CLI_EXIT_USAGE;
	}
	first = parse_args(&a, argc - 1, argv + 1);
	if (first == -2)
		return CLI_EXIT_OK;
	if (first < 0)
		return CLI_EXIT_USAGE;
	first += 1;
	nops = argc - first;
	if ((strcmp(sub, "fetch") == 0 && nops != 1) ||
	    (strcmp(sub, "ls") == 0 && (nops < 2 || nops > 3))) {
		fprintf(stderr, "cairn repo %s: wrong number of arguments (see --help)\n", sub);
		return CLI_EXIT_USAGE;
	}
	url = argv[first];
	rc = open_repo(&repo, &a, url);
	if (rc == 0 && strcmp(sub, "fetch") == 0) {
		rc = cairn_source_resolve(id, repo, a.revision);
		if (rc == 0)
			printf("%s\n", id);
	} else if (rc == 0) {
		rc = repo_ls(&a, repo, argv[first + 1], nops == 3 ? argv[first + 2] : NULL);
	}
	cairn_source_repo_free(repo);
	if (rc < 0) {
		cli_print_error(NULL);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
