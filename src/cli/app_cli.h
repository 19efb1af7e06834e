/*
 * app_cli.h - shared between cmd_app.c (`cairn app list|get`, argument
 * parsing, loading) and cmd_app_sync.c (`cairn app diff|sync|wait|history|
 * rollback` and the live part of `get`). Private to the CLI.
 */
#ifndef CAIRN_APP_CLI_H
#define CAIRN_APP_CLI_H

#include <jansson.h>
#include <stdint.h>

#include "cairn/app.h"
#include "cairn/config.h"

#define APP_PATHS_MAX 64
#define APP_RESOURCES_MAX 64

enum app_sub {
	APP_LIST = 0,
	APP_GET,
	APP_DIFF,
	APP_SYNC,
	APP_WAIT,
	APP_HISTORY,
	APP_ROLLBACK,
};

struct app_args {
	enum app_sub sub;
	const char *config;
	const char *apps[APP_PATHS_MAX];
	size_t app_count;
	const char *environments;
	const char *repo_root;
	const char *state_dir;
	const char *output; /* NULL, json, yaml, wide */
	const char *name;
	int verify;
	int no_fetch;
	/* the sync commands */
	const char *env;        /* --env: the environment the app is bound to */
	const char *kubeconfig; /* --kubeconfig, else the Environment's, else default */
	const char *context;
	const char *actor;                        /* --actor: the audit actor of sync/rollback */
	const char *resources[APP_RESOURCES_MAX]; /* sync --resource KIND/NAME */
	size_t resource_count;
	int dry_run, prune, refresh, wait_health, wait_sync;
	int async;              /* sync --async: start the app's rollouts and return */
	int64_t timeout_ms;     /* wait --timeout, sync per-wave wait; 0: default */
	int64_t history_id;     /* rollback ID */
	const char *server;     /* --server URL or $CAIRN_SERVER: through cairnd's API */
	const char *token_file; /* --token-file, else $CAIRN_TOKEN */
};

/* Everything one command loaded; the configuration outlives the git session. */
struct app_ctx {
	cairn_config cfg;
	char *state_dir;
	cairn_app_git *git;
	cairn_app_set *set;
	cairn_env_set *envs;
};

/* cmd_app.c */
int app_load_all(struct app_ctx *c, const struct app_args *a);
int app_print_doc(json_t *doc, int yaml);

/* cmd_app_remote.c: the command through a->server's /api/v1; a CLI exit status. */
int app_remote(const struct app_args *a);

/* cmd_app_sync.c: each returns a CLI exit status. */
int app_cmd_diff(struct app_ctx *c, const struct app_args *a, const cairn_app *x);
int app_cmd_sync(struct app_ctx *c, const struct app_args *a, const cairn_app *x);
int app_cmd_wait(struct app_ctx *c, const struct app_args *a, const cairn_app *x);
int app_cmd_history(struct app_ctx *c, const struct app_args *a, const cairn_app *x);
int app_cmd_rollback(struct app_ctx *c, const struct app_args *a, const cairn_app *x);
/* `get`: the stored status and last operation (and with --refresh the live
 * resource tree) printed after the definition, or added to `doc` (-o json). */
int app_get_status(struct app_ctx *c, const struct app_args *a, const cairn_app *x, json_t *doc);

#endif
