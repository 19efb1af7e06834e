/*
 * cmd_verify_commit.c - `cairn verify-commit URL|PATH REV --allowed-signers
 * FILE [-o text|json]`: check a commit's SSH signature as `git
 * verify-commit` does (include/cairn/source_verify.h, docs/signatures.md).
 *
 * Exit 0 verified, 1 not verified (or could not be checked), 2 usage.
 * A local path is opened as it is; a URL (file:// included) is fetched
 * into the mirror cache under the state directory and REV resolved there
 * as Argo CD resolves targetRevision (cairn_source_resolve()).
 */
#include <getopt.h>
#include <jansson.h>
#include <sys/stat.h>

#include "cairn/audit.h"
#include "cairn/error.h"
#include "cairn/source.h"
#include "cairn/source_verify.h"
#include "cli.h"

static void verify_usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn verify-commit URL|PATH REV --allowed-signers FILE [-o text|json]\n"
	        "\n"
	        "Check that the commit REV names in the repository is signed with an SSH key\n"
	        "(git's gpg.format=ssh) that FILE allows, deciding as `git verify-commit` does\n"
	        "with gpg.ssh.allowedSignersFile=FILE: the first line holding the key and valid\n"
	        "at the commit time names the principals; the committer e-mail is not compared.\n"
	        "\n"
	        "arguments:\n"
	        "  URL|PATH                     a local repository (work tree, .git or bare), or\n"
	        "                               a URL (file://, git://, http(s)://, ssh://)\n"
	        "                               fetched into the mirror cache first\n"
	        "  REV                          a local path: any git revision; a URL: branch,\n"
	        "                               tag, HEAD, commit id or semver constraint, as\n"
	        "                               Argo CD resolves targetRevision\n"
	        "\n"
	        "options:\n"
	        "  --allowed-signers FILE       allowed signers (ssh-keygen ALLOWED SIGNERS "
	        "format)\n"
	        "  --state-dir DIR              state directory holding the mirrors (default\n"
	        "                               $CAIRN_STATE_DIR, ...)\n"
	        "  -o, --output text|json       output format (default text)\n"
	        "  -h, --help                   show this help\n"
	        "\n"
	        "exit status: 0 verified, 1 not verified or not checkable, 2 usage error\n");
}

struct verify_args {
	const char *signers;
	const char *state_dir;
	int json;
};

/* Parse flags; index of the first operand, -1 usage error, -2 --help. */
static int parse_args(struct verify_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"allowed-signers", required_argument, NULL, 'a'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"output", required_argument, NULL, 'o'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			a->signers = optarg;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				fprintf(stderr,
				        "cairn verify-commit: unknown output format '%s': expected "
				        "text or json\n",
				        optarg);
				return -1;
			}
			a->json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			verify_usage(stdout);
			return -2;
		case ':':
			fprintf(stderr, "cairn verify-commit: option '%s' needs a value\n",
			        argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "cairn verify-commit: unknown option '%s'\n",
			        argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

/*
 * Print text that may come from the signature (its namespace) or the
 * allowed-signers file with control bytes made visible, so it cannot fake
 * a line of our output.
 */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/* The repository path of a local path; NULL for a URL (file:// included). */
static const char *local_path(const char *url)
{
	struct stat st;

	if (stat(url, &st) == 0)
		return url;
	if (strstr(url, "://") != NULL || (strchr(url, ':') != NULL && strchr(url, '@') != NULL))
		return NULL;
	return url; /* let libgit2 say it does not exist */
}

/*
 * Fetch `url` into its mirror and resolve `rev` there; the commit is then
 * verified in the mirror. Credentials are not taken here: a repository
 * that needs them is fetched first with `cairn repo fetch`, whose mirror
 * this reuses.
 */
static int verify_remote(cairn_sig_result *r, const struct verify_args *a, const char *url,
                         const char *rev, const cairn_allowed_signers *as)
{
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	cairn_source_repo *repo = NULL;
	char id[CAIRN_SOURCE_OID_HEX_LEN];
	char *state = NULL;
	int rc;

	if ((rc = cairn_audit_state_dir(&state, a->state_dir)) < 0)
		return rc;
	o.state_dir = state;
	if ((rc = cairn_source_open(&repo, url, &o)) == 0 && (rc = cairn_source_fetch(repo)) == 0 &&
	    (rc = cairn_source_resolve(id, repo, rev)) == 0)
		rc = cairn_source_verify_commit_path(r, cairn_source_repo_path(repo), id, as);
	cairn_source_repo_free(repo);
	free(state);
	return rc;
}

static int print_json(const char *url, const char *rev, const cairn_sig_result *r)
{
	json_t *j = json_object();
	char redacted[CAIRN_SOURCE_URL_MAX];
	char *s;

	cairn_source_url_redact(redacted, sizeof(redacted), url);
	json_object_set_new(j, "repository", json_string(redacted));
	json_object_set_new(j, "revision", json_string(rev));
	json_object_set_new(j, "commit", json_string(r->commit_id));
	json_object_set_new(j, "verified", json_boolean(r->status == CAIRN_SIG_VERIFIED));
	json_object_set_new(j, "status", json_string(cairn_sig_status_name(r->status)));
	json_object_set_new(j, "reason", json_string(r->reason));
	if (r->principal[0])
		json_object_set_new(j, "principal", json_string(r->principal));
	if (r->fingerprint[0])
		json_object_set_new(j, "fingerprint", json_string(r->fingerprint));
	if (r->key_type[0])
		json_object_set_new(j, "keyType", json_string(r->key_type));
	if (r->line > 0)
		json_object_set_new(j, "allowedSignersLine", json_integer(r->line));
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s == NULL)
		return -1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static void print_text(const cairn_sig_result *r)
{
	if (r->status == CAIRN_SIG_VERIFIED) {
		printf("verified: commit %s: ", r->commit_id);
		put_escaped(stdout, r->reason);
		printf(" (allowed signers line %d)\n", r->line);
		return;
	}
	printf("not verified: commit %s: %s: ", r->commit_id, cairn_sig_status_name(r->status));
	put_escaped(stdout, r->reason);
	printf("\n");
}

int cmd_verify_commit(int argc, char **argv)
{
	struct verify_args a = {NULL, NULL, 0};
	cairn_allowed_signers *as = NULL;
	cairn_sig_result r;
	const char *path;
	int first = parse_args(&a, argc, argv), status = CLI_EXIT_FAIL;

	if (first == -2)
		return CLI_EXIT_OK;
	if (first < 0)
		return CLI_EXIT_USAGE;
	if (argc - first != 2 || a.signers == NULL) {
		fprintf(stderr, "cairn verify-commit: %s\n",
		        a.signers == NULL ? "--allowed-signers FILE is required"
		                          : "expected a repository and a revision");
		verify_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	path = local_path(argv[first]);
	if (cairn_allowed_signers_load(&as, a.signers) < 0) {
		cli_print_error("verify-commit");
		goto out;
	}
	if ((path ? cairn_source_verify_commit_path(&r, path, argv[first + 1], as)
	          : verify_remote(&r, &a, argv[first], argv[first + 1], as)) < 0) {
		cli_print_error("verify-commit");
		goto out;
	}
	if (a.json ? print_json(argv[first], argv[first + 1], &r) : (print_text(&r), 0))
		goto out;
	status = r.status == CAIRN_SIG_VERIFIED ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	cairn_allowed_signers_free(as);
	return status;
}
