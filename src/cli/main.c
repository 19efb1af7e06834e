/*
 * main.c - `cairn`: global flags, then dispatch through the command table.
 *
 * The same file builds two programs. `cairn` keeps libgit2 (and the
 * libraries it drags in: mbedTLS, libssh2, ...) off its start-up, which
 * costs every command ~4 ms of dynamic loading: the commands that need git
 * (`repo`, `verify-commit`) are run by exec'ing `cairn-git`, the second
 * program, built with CAIRN_CLI_GIT. It is looked up beside the running
 * `cairn` first (the build tree), then in $(pkglibexecdir).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cli.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

#ifdef CAIRN_CLI_GIT
#define GIT_COMMAND(fn) fn
#else
int exec_git_helper(int argc, char **argv);
#define GIT_COMMAND(fn) exec_git_helper
#endif

static const cli_command commands[] = {
        {"validate", "check Kubernetes manifests (syntax, identity, schemas)", cmd_validate},
        {"audit", "the signed audit trail: keygen, record, verify, show, prove", cmd_audit},
        {"repo", "git mirrors: fetch a repository, list a tree at a revision",
         GIT_COMMAND(cmd_repo)},
        {"verify-commit", "check a commit's SSH signature against allowed signers",
         GIT_COMMAND(cmd_verify_commit)},
        {"app", "Argo CD Applications: list, get, diff, sync, wait, history, rollback",
         GIT_COMMAND(cmd_app)},
        {"env", "environments: list, diff", cmd_env},
        {"render", "render an Application, GROUP --env ENV, or a directory (--path)", cmd_render},
        {"hooks", "install the git hooks that notify cairnd and validate pushes", cmd_hooks},
        {"daemon", "run cairnd (the daemon) with these arguments", cmd_daemon},
        {"kube", "talk to a cluster: ping, get, apply (server-side), delete",
         GIT_COMMAND(cmd_kube)},
        {"drift", "drift: watch an app for live changes (detect/correct), list, show records",
         GIT_COMMAND(cmd_drift)},
        {"token", "API tokens: hash one for cairn.yaml, or make a new one", cmd_token},
        {"rollout", "rollouts: list, get [--watch], promote, pause, resume, abort, retry",
         cmd_rollout},
        {"version", "print the version", cmd_version},
        {"help", "show this help", cmd_help},
};

/* The --log-level given to `cairn`, passed on to `cairn-git`. */
static const char *log_level_arg;

#ifndef CAIRN_CLI_GIT
/* Run `cairn-git COMMAND ARGS...` in place of this process. */
int exec_git_helper(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	const char *env = getenv("CAIRN_GIT_HELPER");
	char **args = calloc((size_t)argc + 4, sizeof(*args));
	ssize_t n;
	int a = 0;

	if (args == NULL) {
		fprintf(stderr, "cairn: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	args[a++] = "cairn-git";
	if (log_level_arg != NULL) {
		args[a++] = "--log-level";
		args[a++] = (char *)log_level_arg;
	}
	for (int i = 0; i < argc; i++)
		args[a++] = argv[i];
	args[a] = NULL;
	if (env != NULL && env[0] != '\0')
		execv(env, args);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/cairn-git", self);
			execv(path, args);
		}
	}
	execv(PKGLIBEXECDIR "/cairn-git", args);
	fprintf(stderr,
	        "cairn: cannot run 'cairn-git' for '%s' (looked beside cairn and in '%s'): %s\n",
	        argv[0], PKGLIBEXECDIR, strerror(errno));
	free(args);
	return CLI_EXIT_FAIL;
}
#endif

void cli_print_error(const char *context)
{
	char msg[CAIRN_ERROR_MSG_MAX + CAIRN_ERROR_FILE_MAX + 64];

	cairn_error_format(cairn_error_last(), msg, sizeof(msg));
	if (context)
		fprintf(stderr, "cairn: %s: %s\n", context, msg);
	else
		fprintf(stderr, "cairn: %s\n", msg);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: cairn [--log-level LEVEL] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'cairn COMMAND --help' describes a command.\n");
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("cairn %s\n", PACKAGE_VERSION);
	return CLI_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	cairn_log_level level = CAIRN_LOG_WARN;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
			log_level_arg = argv[i + 1];
			if (cairn_log_level_parse(&level, argv[i + 1]) < 0) {
				fprintf(stderr,
				        "cairn: invalid log level '%s': expected debug, info, "
				        "warn or error\n",
				        argv[i + 1]);
				return CLI_EXIT_USAGE;
			}
			i += 2;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			return cmd_version(0, NULL);
		} else {
			fprintf(stderr, "cairn: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	cairn_log_setup(level, CAIRN_LOG_FORMAT_AUTO, stderr);
	if (i >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) == 0) {
			optind = 1;
			return commands[c].run(argc - i, argv + i);
		}
	}
	fprintf(stderr, "cairn: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
