/*
 * cli.h - the command table of `cairn`. Each group of subcommands lives in
 * its own cmd_<group>.c and exposes one entry point.
 *
 * Exit statuses: 0 success, 1 the command ran and found problems (or
 * failed), 2 usage error.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

typedef struct cli_command {
	const char *name;
	const char *summary;
	/* argv[0] is the command name; getopt-style parsing from there. */
	int (*run)(int argc, char **argv);
} cli_command;

int cmd_validate(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_repo(int argc, char **argv);
int cmd_verify_commit(int argc, char **argv);
int cmd_app(int argc, char **argv);
int cmd_env(int argc, char **argv);
/* cmd_env_diff.c (cairn-git): `cairn env diff`; argv[0] is "diff". */
int cmd_env_diff(int argc, char **argv);
int cmd_kube(int argc, char **argv);
/* cmd_token.c: `cairn token hash|new` (API token hashes for cairn.yaml). */
int cmd_token(int argc, char **argv);
/* cmd_drift.c (cairn-git): `cairn drift watch|list|show`. */
int cmd_drift(int argc, char **argv);
int cmd_render(int argc, char **argv);
/* cmd_hooks.c: cairn hooks install REPO */
int cmd_hooks(int argc, char **argv);
/* cmd_hooks.c: cairn daemon ARGS: exec cairnd */
int cmd_daemon(int argc, char **argv);
/* cmd_rollout.c: `cairn rollout list|get|promote|pause|resume|abort|retry`. */
int cmd_rollout(int argc, char **argv);

/* In `cairn`: exec `cairn-git` with the same command (main.c); returns only on failure. */
int exec_git_helper(int argc, char **argv);

/* Print the thread's last error as "cairn: file:line:col: message". */
void cli_print_error(const char *context);

#endif
