/*
 * cmd_hooks.c - `cairn hooks install REPO [--url URL] [--token-file FILE]`:
 * install Cairn's git hooks into a (bare) repository.
 *
 *   hooks/post-receive  tells cairnd which refs moved: POST /api/v1/trigger
 *                       with "repo PATH" and git's "OLD NEW REF" lines, the
 *                       bearer token read from hooks/cairn-auth (0600), so it
 *                       never shows on a command line; `cairn hooks
 *                       post-receive` makes the request for http:// (see
 *                       hook_notify.c), curl for https://
 *   hooks/pre-receive   runs `cairn hooks pre-receive`: `cairn validate` on
 *                       the manifests of each pushed commit, rejecting the
 *                       push with the findings
 *
 * The scripts use shell builtins only up to the program they run (every
 * fork and exec is on the path of each push; see docs/daemon.md).
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
#include "cairn/util.h"
#include "cairn/validate.h"
#include "cli.h"
#include "hook_notify.h"

#define TOKEN_MAX 4096

static const char post_receive[] =
        "#!/bin/sh\n"
        "# Cairn post-receive (cairn hooks install): tell cairnd which refs moved.\n"
        "case $0 in */*) dir=${0%/*} ;; *) dir=. ;; esac\n"
        "case $dir in /*) ;; *) dir=$PWD/$dir ;; esac\n"
        "read -r url <\"$dir/cairn-url\" || [ -n \"$url\" ] || exit 0\n"
        "cd -P \"${GIT_DIR:-.}\" || exit 0\n"
        "case $url in\n"
        "http:*)\n"
        "\tread -r cairn <\"$dir/cairn-bin\" || [ -n \"$cairn\" ] || exit 0\n"
        "\texec \"$cairn\" hooks post-receive \"$dir\" ;;\n"
        "esac\n"
        "code=$({ printf 'repo %s\\n' \"$PWD\"; while read -r l; do printf '%s\\n' \"$l\"; done; } "
        "|\n"
        "\tcurl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H @\"$dir/cairn-auth\" \\\n"
        "\t-H 'Content-Type: text/plain' --data-binary @- \"$url/api/v1/trigger\")\n"
        "case $code in\n"
        "2*) ;;\n"
        "*) echo \"cairn: cairnd did not take the push (HTTP $code); it will poll\" >&2 ;;\n"
        "esac\n"
        "exit 0\n";

static const char pre_receive[] =
        "#!/bin/sh\n"
        "# Cairn pre-receive (cairn hooks install): validate the pushed manifests.\n"
        "case $0 in */*) dir=${0%/*} ;; *) dir=. ;; esac\n"
        "read -r cairn <\"$dir/cairn-bin\" || [ -n \"$cairn\" ] || exit 1\n"
        "exec \"$cairn\" hooks pre-receive\n";

static void hooks_usage(FILE *f)
{
	fprintf(f, "usage: cairn hooks install REPO [--url URL] [--token-file FILE]\n"
	           "       cairn hooks pre-receive\n"
	           "       cairn hooks post-receive HOOKS-DIR\n"
	           "\n"
	           "Install Cairn's post-receive (notify cairnd) and pre-receive (cairn validate)\n"
	           "hooks into the git repository REPO (bare or not).\n"
	           "\n"
	           "`cairn hooks pre-receive` is what the installed pre-receive runs: it reads\n"
	           "git's \"OLD NEW REF\" lines on stdin, validates the manifests of each NEW\n"
	           "commit (as `cairn validate` does a directory) and exits 1 with the\n"
	           "findings when one does not validate, which rejects the push.\n"
	           "`cairn hooks post-receive HOOKS-DIR` is what the installed post-receive runs\n"
	           "for an http:// cairnd: it posts git's lines to cairnd's /api/v1/trigger\n"
	           "with the URL and token the install wrote into HOOKS-DIR (https:// goes\n"
	           "through curl). It never fails the push: cairnd's polling catches up.\n"
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

/* ---- cairn hooks pre-receive ---- */

/* The largest `git archive` of one pushed commit read into memory. */
#define ARCHIVE_MAX ((size_t)512 << 20)

/* What git and tar need of our environment in a hook: the repository, the
 * push's quarantined objects, where to find programs and configuration. */
static const char *const hook_env[] = {"PATH",
                                       "HOME",
                                       "TMPDIR",
                                       "LANG",
                                       "LC_ALL",
                                       "GIT_DIR",
                                       "GIT_OBJECT_DIRECTORY",
                                       "GIT_ALTERNATE_OBJECT_DIRECTORIES",
                                       "GIT_QUARANTINE_PATH",
                                       "GIT_CONFIG_NOSYSTEM",
                                       "GIT_CONFIG_GLOBAL",
                                       "XDG_CONFIG_HOME",
                                       NULL};

/* Run argv with `in` on stdin; a failure or a non-zero exit is an error
 * naming `what` and the program's own message. `res` is left for the
 * caller to read and dispose on 0. */
static int run_step(cairn_proc_result *res, const char *const *argv, const void *in, size_t inlen,
                    const char *what)
{
	cairn_proc_opts o = CAIRN_PROC_OPTS_INIT;
	int rc;

	o.env_allow = hook_env;
	o.stdin_data = in;
	o.stdin_len = inlen;
	o.max_output = ARCHIVE_MAX;
	o.timeout_ms = 120000;
	memset(res, 0, sizeof(*res));
	rc = cairn_proc_run(res, argv, &o);
	if (rc < 0 && rc != CAIRN_ETIMEOUT)
		return cairn_error_prefix("%s: ", what);
	if (rc == 0 && res->exited && res->status == 0)
		return 0;
	while (res->err.len && (res->err.ptr[res->err.len - 1] == '\n'))
		res->err.ptr[--res->err.len] = '\0';
	rc = cairn_error_set(CAIRN_EIO, "%s failed (%s %d)%s%s", what,
	                     res->timed_out ? "timed out, signal"
	                     : res->exited  ? "exit status"
	                                    : "signal",
	                     res->status, res->err.len ? ": " : "",
	                     res->err.len ? res->err.ptr : "");
	cairn_proc_result_dispose(res);
	return rc;
}

/* The tree of commit `rev` into the empty directory `dir`: `git archive`
 * into memory, then `tar -x`. Two programs, no shell. */
static int extract(const char *rev, const char *dir)
{
	const char *archive[] = {"git", "archive", "--format=tar", rev, NULL};
	const char *untar[] = {"tar", "-x", "-C", dir, "-f", "-", NULL};
	cairn_proc_result a, t;
	int rc;

	if ((rc = run_step(&a, archive, NULL, 0, "git archive")) < 0)
		return rc;
	rc = run_step(&t, untar, a.out.ptr, a.out.len, "tar -x");
	if (rc == 0)
		cairn_proc_result_dispose(&t);
	cairn_proc_result_dispose(&a);
	return rc;
}

/* Validate the manifests of commit `rev`: 1 when they validate, 0 when
 * they do not (findings printed to stderr, paths as in the commit). */
static int check_commit(const char *rev, const char *ref)
{
	cairn_validate_opts opts = CAIRN_VALIDATE_OPTS_INIT;
	cairn_buf out = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	char dir[PATH_MAX];
	cairn_validation v;
	size_t i, plen;
	int rc;

	cairn_validation_init(&v);
	if ((rc = cairn_tempdir_make(dir, sizeof(dir), "cairn-pre-receive")) < 0 ||
	    (rc = extract(rev, dir)) < 0)
		goto out;
	{
		const char *paths[] = {dir};
		if ((rc = cairn_validate_paths(&v, paths, 1, &opts)) < 0)
			goto out;
	}
	plen = strlen(dir) + 1;
	for (i = 0; i < v.count; i++) { /* "DIR/app/x.yaml" -> "app/x.yaml" */
		char *f = v.findings[i].file;
		if (f && strncmp(f, dir, plen - 1) == 0 && f[plen - 1] == '/')
			memmove(f, f + plen, strlen(f + plen) + 1);
	}
	if (v.errors == 0) {
		rc = 1;
		goto out;
	}
	fprintf(stderr, "cairn: push of %s rejected: manifests of %s do not validate:\n", ref, rev);
	if ((rc = cairn_validation_write_text(&out, &v)) == 0)
		fwrite(out.ptr, 1, out.len, stderr);
	fprintf(stderr, "%zu file%s, %zu object%s, %zu problem%s\n", v.files,
	        v.files == 1 ? "" : "s", v.objects, v.objects == 1 ? "" : "s", v.errors,
	        v.errors == 1 ? "" : "s");
out:
	cairn_path_remove_tree(dir);
	cairn_validation_dispose(&v);
	cairn_buf_dispose(&out);
	return rc;
}

/*
 * git's pre-receive protocol: "OLD NEW REF" lines on stdin; exit non-zero
 * to refuse the whole push. Deletions (NEW all zeros) pass. A commit whose
 * tree cannot be read is refused too, with git's or tar's message.
 */
static int pre_receive_run(void)
{
	char line[4096], old[128], rev[128], ref[3072];
	int status = 0, rc;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (sscanf(line, "%127s %127s %3071s", old, rev, ref) != 3) {
			fprintf(stderr, "cairn: pre-receive: cannot read git's line '%.*s'\n",
			        (int)strcspn(line, "\n"), line);
			return 1;
		}
		if (strspn(rev, "0") == strlen(rev))
			continue;
		rc = check_commit(rev, ref);
		if (rc < 0) {
			fprintf(stderr, "cairn: push of %s rejected: %s\n", ref,
			        cairn_error_last()->message);
			cairn_error_clear();
		}
		if (rc != 1)
			status = 1;
	}
	return status;
}

/* The installed post-receive for http://: never fails the push. */
static int post_receive_run(const char *dir)
{
	char path[PATH_MAX], repo[PATH_MAX];
	cairn_buf url = CAIRN_BUF_INIT(4096);
	int code = 0, rc;

	snprintf(path, sizeof(path), "%s/cairn-url", dir);
	if ((rc = cairn_buf_read_file(&url, path)) == 0) {
		url.len = strcspn(url.ptr, "\r\n");
		url.ptr[url.len] = '\0';
		snprintf(path, sizeof(path), "%s/cairn-auth", dir);
		if (getcwd(repo, sizeof(repo)) == NULL)
			rc = cairn_error_set(CAIRN_EIO, "cannot read the working directory: %s",
			                     strerror(errno));
		else
			rc = hook_notify(&code, url.ptr, path, repo, stdin, 10000);
	}
	if (rc < 0) {
		fprintf(stderr, "cairn: cairnd did not take the push (%s); it will poll\n",
		        cairn_error_last()->message);
		cairn_error_clear();
	} else if (code < 200 || code > 299) {
		fprintf(stderr, "cairn: cairnd did not take the push (HTTP %d); it will poll\n",
		        code);
	}
	cairn_buf_dispose(&url);
	return 0;
}

int cmd_hooks(int argc, char **argv)
{
	static const struct option longs[] = {{"url", required_argument, NULL, 'u'},
	                                      {"token-file", required_argument, NULL, 't'},
	                                      {"help", no_argument, NULL, 'h'},
	                                      {NULL, 0, NULL, 0}};
	const char *url = "http://127.0.0.1:8470", *token_file = NULL;
	int c;

	if (argc == 2 && strcmp(argv[1], "pre-receive") == 0)
		return pre_receive_run();
	if (argc == 3 && strcmp(argv[1], "post-receive") == 0)
		return post_receive_run(argv[2]);
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
