/*
 * cmd_hooks.c - `cairn hooks install REPO [--url URL] [--token-file FILE]`:
 * install Cairn's git hooks into a (bare) repository.
 *
 *   hooks/post-receive  tells cairnd which refs moved: POST /api/v1/trigger
 *                       with "repo PATH" and git's "OLD NEW REF" lines, the
 *                       bearer token read from hooks/cairn-auth (0600), so it
 *                       never shows on a command line
 *   hooks/pre-receive   runs `cairn validate` on the manifests of each pushed
 *                       commit and rejects the push with the findings
 *
 * Also `cairn daemon ARGS...`: runs cairnd (the one beside this program,
 * else from PATH) with the same arguments.
 *
 * The scripts are written here rather than copied from a data directory so
 * that an installed `cairn` needs nothing else. A failed post-receive never
 * fails the push (the commits are in; cairnd's polling catches up).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cli.h"

#define TOKEN_MAX 4096

static const char post_receive[] =
        "#!/bin/sh\n"
        "# Cairn post-receive (cairn hooks install): tell cairnd which refs moved.\n"
        "dir=$(cd \"$(dirname \"$0\")\" && pwd -P)\n"
        "repo=$(cd \"${GIT_DIR:-.}\" && pwd -P)\n"
        "url=$(cat \"$dir/cairn-url\") || exit 0\n"
        "code=$({ printf 'repo %s\\n' \"$repo\"; cat; } | curl -sS --max-time 10 -o /dev/null \\\n"
        "\t-w '%{http_code}' -H @\"$dir/cairn-auth\" -H 'Content-Type: text/plain' \\\n"
        "\t--data-binary @- \"$url/api/v1/trigger\")\n"
        "case $code in\n"
        "2*) ;;\n"
        "*) echo \"cairn: cairnd did not take the push (HTTP $code); it will poll\" >&2 ;;\n"
        "esac\n"
        "exit 0\n";

static const char pre_receive[] =
        "#!/bin/sh\n"
        "# Cairn pre-receive (cairn hooks install): validate the pushed manifests.\n"
        "dir=$(cd \"$(dirname \"$0\")\" && pwd -P)\n"
        "cairn=$(cat \"$dir/cairn-bin\")\n"
        "zero=0000000000000000000000000000000000000000\n"
        "status=0\n"
        "while read -r old new ref; do\n"
        "\t[ \"$new\" = \"$zero\" ] && continue\n"
        "\ttmp=$(mktemp -d) || exit 1\n"
        "\tgit archive \"$new\" | tar -x -C \"$tmp\" || { rm -rf \"$tmp\"; exit 1; }\n"
        "\t# kustomization files and dotfiles are not Kubernetes objects\n"
        "\tfind \"$tmp\" \\( -name 'kustomization.y*ml' -o -name 'Kustomization' -o "
        "-name '.*' \\) \\\n"
        "\t\t-prune -exec rm -rf {} + 2>/dev/null\n"
        "\tif ! out=$(\"$cairn\" validate \"$tmp\" 2>&1); then\n"
        "\t\techo \"cairn: push of $ref rejected: manifests of $new do not validate:\" >&2\n"
        "\t\tprintf '%s\\n' \"$out\" | sed \"s|$tmp/||g\" >&2\n"
        "\t\tstatus=1\n"
        "\tfi\n"
        "\trm -rf \"$tmp\"\n"
        "done\n"
        "exit $status\n";

static void hooks_usage(FILE *f)
{
	fprintf(f, "usage: cairn hooks install REPO [--url URL] [--token-file FILE]\n"
	           "\n"
	           "Install Cairn's post-receive (notify cairnd) and pre-receive (cairn validate)\n"
	           "hooks into the git repository REPO (bare or not).\n"
	           "\n"
	           "options:\n"
	           "  --url URL          cairnd's API (default http://127.0.0.1:8470)\n"
	           "  --token-file FILE  a deployer token for cairnd (else $CAIRN_TOKEN)\n");
}

/* Write `data` to DIR/NAME with `mode` (replacing it atomically). */
static int write_file(const char *dir, const char *name, const char *data, size_t len, int mode)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0)
		return cairn_error_set(CAIRN_EIO, "cannot create '%s': %s", tmp, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len || fchmod(fd, (mode_t)mode) < 0)
		rc = cairn_error_set(CAIRN_EIO, "cannot write '%s': %s", tmp, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = cairn_error_set(CAIRN_EIO, "cannot write '%s': %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = cairn_error_set(CAIRN_EIO, "cannot rename to '%s': %s", path, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* The token: --token-file's first line, else $CAIRN_TOKEN. */
static int read_token(cairn_buf *tok, const char *file)
{
	const char *env = getenv("CAIRN_TOKEN");
	int rc;

	if (file) {
		if ((rc = cairn_buf_read_file(tok, file)) < 0)
			return rc;
		while (tok->len &&
		       (tok->ptr[tok->len - 1] == '\n' || tok->ptr[tok->len - 1] == '\r'))
			tok->ptr[--tok->len] = '\0';
	} else if (env && *env) {
		if ((rc = cairn_buf_puts(tok, env)) < 0)
			return rc;
	}
	if (tok->len == 0 || memchr(tok->ptr, '\n', tok->len))
		return cairn_error_set(CAIRN_EINVAL,
		                       "no token: give --token-file FILE (one line) or "
		                       "set CAIRN_TOKEN");
	return 0;
}

/* Where the hooks go: REPO/hooks (bare) or REPO/.git/hooks. */
static int hooks_dir(char *out, size_t size, const char *repo)
{
	struct stat st;

	snprintf(out, size, "%s/.git/hooks", repo);
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(out, size, "%s/hooks", repo);
	if (stat(repo, &st) < 0 || !S_ISDIR(st.st_mode))
		return cairn_error_set(CAIRN_ENOTFOUND, "no repository at '%s'", repo);
	if (mkdir(out, 0755) < 0 && errno != EEXIST)
		return cairn_error_set(CAIRN_EIO, "cannot create '%s': %s", out, strerror(errno));
	return 0;
}

static int install(const char *repo, const char *url, const char *token_file)
{
	char dir[PATH_MAX], self[PATH_MAX];
	cairn_buf tok, auth;
	ssize_t n;
	int rc;

	cairn_buf_init(&tok, TOKEN_MAX);
	cairn_buf_init(&auth, TOKEN_MAX + 64);
	if ((rc = read_token(&tok, token_file)) < 0 || (rc = hooks_dir(dir, sizeof(dir), repo)) < 0)
		goto out;
	/* pre-receive runs this very program (an absolute path: hooks run with git's PATH) */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if ((rc = cairn_buf_printf(&auth, "Authorization: Bearer %s\n", tok.ptr)) < 0 ||
	    (rc = write_file(dir, "cairn-auth", auth.ptr, auth.len, 0600)) < 0 ||
	    (rc = write_file(dir, "cairn-url", url, strlen(url), 0644)) < 0 ||
	    (rc = write_file(dir, "cairn-bin", self, strlen(self), 0644)) < 0 ||
	    (rc = write_file(dir, "post-receive", post_receive, sizeof(post_receive) - 1, 0755)) <
	            0 ||
	    (rc = write_file(dir, "pre-receive", pre_receive, sizeof(pre_receive) - 1, 0755)) < 0)
		goto out;
	printf("installed post-receive and pre-receive into %s (cairnd at %s)\n", dir, url);
out:
	if (auth.ptr)
		memset(auth.ptr, 0, auth.len);
	if (tok.ptr)
		memset(tok.ptr, 0, tok.len);
	cairn_buf_dispose(&auth);
	cairn_buf_dispose(&tok);
	return rc;
}

int cmd_hooks(int argc, char **argv)
{
	static const struct option longs[] = {{"url", required_argument, NULL, 'u'},
	                                      {"token-file", required_argument, NULL, 't'},
	                                      {"help", no_argument, NULL, 'h'},
	                                      {NULL, 0, NULL, 0}};
	const char *url = "http://127.0.0.1:8470", *token_file = NULL;
	int c;

	if (argc < 2 || strcmp(argv[1], "install") != 0) {
		hooks_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : CLI_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'h':
			hooks_usage(stdout);
			return 0;
		default:
			hooks_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		hooks_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (install(argv[optind], url, token_file) < 0) {
		cli_print_error("hooks install");
		return 1;
	}
	return 0;
}

int cmd_daemon(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	(void)argc;
	self[n > 0 ? n : 0] = '\0';
	if ((slash = strrchr(self, '/')) != NULL) {
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/cairnd", self);
		argv[0] = path;
		execv(path, argv);
	}
	argv[0] = "cairnd";
	execvp("cairnd", argv);
	fprintf(stderr, "cairn daemon: cannot run cairnd: %s\n", strerror(errno));
	return 1;
}
