/*
 * cairn/config.h - the engine configuration file, cairn.yaml.
 *
 * Every key is documented in docs/config.md. Unknown keys are errors naming
 * file, line and key. The `stateDir` and `audit` keys are the ones the
 * audit module reads (cairn/audit.h); this loader checks them through
 * cairn_audit_config_load() so both agree. Relative paths are resolved
 * against the directory of the configuration file.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/audit.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Credential references of one repository (secrets are never inline). */
typedef struct cairn_config_repo {
	char *url;
	char *username;
	char *password_file; /**< `passwordFile` or `tokenFile` */
	char *password_env;  /**< `passwordEnv` or `tokenEnv` */
	char *ssh_key_file;
	char *ssh_passphrase_env;
	char *known_hosts_file;
	char *ca_file;
} cairn_config_repo;

/** One source of Application definitions. */
typedef struct cairn_config_apps {
	char *path;     /**< file or folder; inside the repository when repo_url is set */
	char *repo_url; /**< NULL: a local path */
	char *revision; /**< with repo_url; "HEAD" when not given */
} cairn_config_apps;

/** A renderer plugin (`plugins[]`): Argo CD config-management-plugin style. */
typedef struct cairn_config_plugin {
	char *name;
	char **command; /**< argv words (command_count of them); a relative
	                     path with '/' is taken from the config file's directory */
	size_t command_count;
	int64_t timeout_ms; /**< `timeout` (a duration); 0 when not given */
} cairn_config_plugin;

/** An API bearer token (`api.tokens[]`); only the token's SHA-256 is stored. */
typedef struct cairn_config_token {
	char *name;
	char *sha256;        /**< 64 lower-case hex digits */
	char *role;          /**< "viewer", "deployer" or "admin" */
	char **environments; /**< scope; environment_count == 0: every environment */
	size_t environment_count;
} cairn_config_token;

/** Forges in the order of cairn_forge (cairn/daemon.h): github, gitlab, gitea, bitbucket. */
#define CAIRN_CONFIG_FORGES 4

/** Default `limits.webhookRate` (requests a second per source address) and
 * `limits.webhookBurst`. */
#define CAIRN_CONFIG_WEBHOOK_RATE 20.0
#define CAIRN_CONFIG_WEBHOOK_BURST 100.0

typedef struct cairn_config {
	char *file;           /**< the configuration file read */
	char *listen_api;     /**< `listen.api`, default "127.0.0.1:8470" */
	char *listen_metrics; /**< `listen.metrics`, or NULL (metrics on the API address) */
	char *tls_cert_file;  /**< `listen.tls.cert` (PEM), or NULL: plain HTTP */
	char *tls_key_file;   /**< `listen.tls.key` (PEM); set together with tls_cert_file */
	cairn_config_repo *repos;
	size_t repo_count;
	cairn_config_apps *apps;
	size_t apps_count;
	char *environments_dir;       /**< default "<config dir>/environments" */
	char *policies_dir;           /**< or NULL */
	char *allowed_signers;        /**< SSH allowed-signers file for every project, or NULL */
	cairn_audit_config audit;     /**< stateDir and audit.* (state_dir may be NULL) */
	cairn_config_plugin *plugins; /**< `plugins[]`; the one named "helm" renders Helm sources */
	size_t plugin_count;
	cairn_config_token *tokens; /**< `api.tokens[]` */
	size_t token_count;
	/** `webhooks.<forge>.secret`, or the content of `webhooks.<forge>.secretFile`
	 * (read at load, one trailing newline stripped); NULL when not configured.
	 * Indexed in CAIRN_CONFIG_FORGES order. The daemon lets the environment
	 * variable CAIRN_WEBHOOK_SECRET_<FORGE> override it. */
	char *webhook_secrets[CAIRN_CONFIG_FORGES];
	/** `tracking`: how synced objects are marked as the app's, with the values of
	 * cairn_track_mode (cairn/sync.h): 0 `annotation` (default), 1 `label`,
	 * 2 `annotation+label` */
	int tracking;
	/** `limits.webhookRate`: webhook requests a second per source address
	 * (0: no limit; default CAIRN_CONFIG_WEBHOOK_RATE), and
	 * `limits.webhookBurst`, the bucket size (default CAIRN_CONFIG_WEBHOOK_BURST). */
	double webhook_rate;
	double webhook_burst;
} cairn_config;

/**
 * Load and check a cairn.yaml.
 * @param out  filled on success; release with cairn_config_dispose().
 * @return 0, CAIRN_ENOTFOUND, CAIRN_EINVAL (file:line: unknown key, wrong
 * type, missing url, ...), CAIRN_ENOMEM. Thread-safe.
 */
int cairn_config_load(cairn_config *out, const char *path);

/** Free a configuration's contents; a zeroed struct is fine. */
void cairn_config_dispose(cairn_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
