/*
 * cairn/app.h - what is deployed where: Argo CD Applications, AppProjects
 * and ApplicationSets (argoproj.io/v1alpha1), Cairn Environments
 * (cairn.dev/v1alpha1), the binding of Applications to environments and
 * app groups (DESIGN §3a), and sync windows.
 *
 * Loading is strict as Argo CD's decoding is: an unknown field is an error
 * naming the file, line and field path. Fields Cairn does not implement yet
 * are accepted and recorded once each as a notice "ignored: <field path>"
 * that the caller prints (cairn_app_set_notices()). The engine
 * configuration file (cairn.yaml) is in cairn/config.h.
 *
 * Objects of this module are immutable once loaded: a loaded set may be read
 * from several threads at once. Loading itself is thread-safe (no global
 * state) except where noted (time zones, see cairn_app_window_active()).
 */
#ifndef CAIRN_APP_H
#define CAIRN_APP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"
#include "cairn/source.h"
#include "cairn/source_verify.h"
#include "cairn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most documents, Applications, files or generated elements one load accepts. */
#define CAIRN_APP_MAX_OBJECTS 100000
/** Largest single definition file read. */
#define CAIRN_APP_MAX_FILE_BYTES ((size_t)16 << 20)

/* ---- Applications ------------------------------------------------------- */

/** One source of an Application (`spec.source` or an item of `spec.sources`). */
typedef struct cairn_app_source {
	char *repo_url;          /**< `repoURL` (required) */
	char *target_revision;   /**< `targetRevision`; "HEAD" when not given */
	char *path;              /**< `path`, or NULL */
	char *chart;             /**< `chart` (helm repositories; not rendered yet), or NULL */
	char *ref;               /**< `ref` (multi-source value files), or NULL */
	int directory_recurse;   /**< `directory.recurse` */
	char *directory_include; /**< `directory.include` glob, or NULL */
	char *directory_exclude; /**< `directory.exclude` glob, or NULL */
	/** `kustomize` options Cairn applies (borrowed views into the
	 *  Application's manifest, NULL when absent): namePrefix, nameSuffix,
	 *  namespace (strings), images (array of strings), commonLabels,
	 *  commonAnnotations (objects of strings), replicas (array of
	 *  {name, count}). */
	const json_t *kustomize;
} cairn_app_source;

/** What Cairn knows of one Application, loaded or generated. */
typedef struct cairn_app {
	char *name;
	char *namespace_; /**< metadata.namespace, or NULL */
	char *project;    /**< spec.project ("default" when empty) */
	cairn_app_source *sources;
	size_t source_count;
	int multi_source;     /**< the manifest used `sources` rather than `source` */
	char *dest_server;    /**< destination.server, or NULL */
	char *dest_name;      /**< destination.name, or NULL */
	char *dest_namespace; /**< destination.namespace, or NULL */
	int automated;        /**< syncPolicy.automated present */
	int prune, self_heal, allow_empty;
	char **sync_options; /**< syncPolicy.syncOptions ("Key=Value") */
	size_t sync_option_count;
	int64_t retry_limit;              /**< syncPolicy.retry.limit; 0 when absent */
	int64_t backoff_duration_ns;      /**< retry.backoff.duration; default 5s */
	int64_t backoff_factor;           /**< retry.backoff.factor; default 2 */
	int64_t backoff_max_duration_ns;  /**< retry.backoff.maxDuration; default 3m */
	int64_t revision_history_limit;   /**< -1 when absent (Argo CD's default 10) */
	const json_t *ignore_differences; /**< spec.ignoreDifferences (borrowed) or NULL */
	const json_t *labels;             /**< metadata.labels (borrowed) or NULL */
	char *environment; /**< bound environment after cairn_app_set_bind(), or NULL */
	char *group;       /**< app group (label cairn.dev/app, else the set's name), or NULL */
	char *generator;   /**< name of the ApplicationSet that made it, or NULL */
	char *env_param;   /**< the generating element's `env` parameter, or NULL */
	char *file;        /**< where it was defined (the set's file for generated ones) */
	int line;
	json_t *manifest; /**< the whole Application manifest (owned by the app) */
} cairn_app;

/* ---- AppProjects -------------------------------------------------------- */

typedef struct cairn_app_dest_rule {
	char *server;     /**< glob or NULL */
	char *name;       /**< glob or NULL */
	char *namespace_; /**< glob or NULL */
} cairn_app_dest_rule;

typedef struct cairn_app_kind_rule {
	char *group; /**< glob ("" is the core group) */
	char *kind;  /**< glob */
} cairn_app_kind_rule;

typedef enum cairn_app_window_kind {
	CAIRN_APP_WINDOW_ALLOW = 1,
	CAIRN_APP_WINDOW_DENY = 2,
} cairn_app_window_kind;

/** A parsed 5-field cron expression: one bit per allowed value. */
typedef struct cairn_cron {
	uint64_t minute;        /**< bits 0..59 */
	uint32_t hour;          /**< bits 0..23 */
	uint32_t dom;           /**< bits 1..31 */
	uint16_t month;         /**< bits 1..12 */
	uint8_t dow;            /**< bits 0..6, Sunday 0 */
	int dom_star, dow_star; /**< the field was "*" (cron's day-matching rule) */
} cairn_cron;

/** One AppProject sync window. */
typedef struct cairn_app_window {
	cairn_app_window_kind kind;
	char *schedule;
	cairn_cron cron;
	int64_t duration_ns;
	char *time_zone;                               /**< IANA zone name; "UTC" when not given */
	char **applications, **namespaces, **clusters; /**< globs */
	size_t application_count, namespace_count, cluster_count;
	int manual_sync;
	int and_operator; /**< every non-empty selector must match, not any */
} cairn_app_window;

typedef struct cairn_app_project {
	char *name;
	char **source_repos; /**< globs, "!" negates */
	size_t source_repo_count;
	cairn_app_dest_rule *destinations;
	size_t destination_count;
	cairn_app_kind_rule *cluster_allow, *cluster_deny, *ns_allow, *ns_deny;
	size_t cluster_allow_count, cluster_deny_count, ns_allow_count, ns_deny_count;
	int ns_allow_set; /**< namespaceResourceWhitelist given (else all allowed) */
	cairn_app_window *windows;
	size_t window_count;
	char *allowed_signers; /**< annotation cairn.dev/allowed-signers, or NULL */
	int implicit;          /**< the implicit "default" project */
	char *file;
	int line;
} cairn_app_project;

/* ---- loading -------------------------------------------------------------- */

/**
 * Reading a repository for the ApplicationSet git generator. `list` returns
 * every path of the repository at `revision` below the root, recursively,
 * '/'-separated, each with its kind; `read` appends one file's bytes.
 * cairn_app_reader_dir() gives one over a local directory; the source
 * module's cairn_tree fits behind the same two calls.
 */
typedef struct cairn_app_reader {
	void *ctx;
	/** @param out_paths malloc'd array of malloc'd strings; out_is_dir parallel flags. */
	int (*list)(void *ctx, const char *repo_url, const char *revision, char ***out_paths,
	            int **out_is_dir, size_t *out_count);
	int (*read)(void *ctx, const char *repo_url, const char *revision, const char *path,
	            cairn_buf *out);
} cairn_app_reader;

/**
 * A reader that serves every repository URL from the local directory
 * `root` (borrowed: it must outlive the reader). Not following symlinks
 * out of `root`.
 */
cairn_app_reader cairn_app_reader_dir(const char *root);

/** A loaded collection of Applications (generated ones included) and projects. */
typedef struct cairn_app_set cairn_app_set;

/** Options of cairn_app_set_load(). */
#define CAIRN_APP_LOAD_OPTS_VERSION 1
typedef struct cairn_app_load_opts {
	unsigned int version;           /**< CAIRN_APP_LOAD_OPTS_VERSION */
	const cairn_app_reader *reader; /**< for git generators; NULL: they are an error */
} cairn_app_load_opts;
#define CAIRN_APP_LOAD_OPTS_INIT                                                                   \
	{                                                                                          \
		CAIRN_APP_LOAD_OPTS_VERSION, NULL                                                  \
	}

/** Create an empty set. @return 0 or CAIRN_ENOMEM. */
int cairn_app_set_new(cairn_app_set **out);

/**
 * Add the Application, AppProject and ApplicationSet documents of a YAML
 * file, or of every *.yaml / *.yml / *.json file below a folder (sorted,
 * recursive; other kinds are skipped). ApplicationSets are expanded into
 * Applications right away. Errors name file, line and field. On failure the
 * set may hold the objects of the files loaded before the bad one.
 * @return 0, CAIRN_EINVAL, CAIRN_EUNSUPPORTED (a refused feature, e.g.
 * OpenPGP signatureKeys or a rich template), CAIRN_ENOTFOUND, CAIRN_ELIMIT.
 */
int cairn_app_set_load(cairn_app_set *set, const char *path, const cairn_app_load_opts *opts);

/** As cairn_app_set_load() for bytes in memory (`filename` for messages). */
int cairn_app_set_load_data(cairn_app_set *set, const char *data, size_t len, const char *filename,
                            const cairn_app_load_opts *opts);

/**
 * Check every Application against its project (which must exist, or be
 * "default"): source repositories and destination. Call once after the
 * last load. @return 0, CAIRN_ENOTFOUND (unknown project), CAIRN_EPERM.
 */
int cairn_app_set_check(cairn_app_set *set);

/** Number of Applications; the i-th one (borrowed), in load order. */
size_t cairn_app_set_count(const cairn_app_set *set);
const cairn_app *cairn_app_set_at(const cairn_app_set *set, size_t i);
/** The Application named `name`, or NULL. */
const cairn_app *cairn_app_set_find(const cairn_app_set *set, const char *name);
/** The project named `name` ("default" always exists), or NULL. Borrowed. */
const cairn_app_project *cairn_app_set_project(const cairn_app_set *set, const char *name);

/**
 * The notices of the loads so far: "ignored: <field path>", each once,
 * in the order first seen. Borrowed.
 */
size_t cairn_app_set_notice_count(const cairn_app_set *set);
const char *cairn_app_set_notice(const cairn_app_set *set, size_t i);

/** Free a set and everything in it; NULL is fine. */
void cairn_app_set_free(cairn_app_set *set);

/* ---- project rules -------------------------------------------------------- */

/**
 * Match `s` against a list of globs with "!" negation as Argo CD does:
 * allowed when some positive pattern matches and no negated one does.
 * Globs use `*`, `?` and `[...]` (fnmatch without special '/').
 * @return 1 allowed, 0 not. Thread-safe.
 */
int cairn_app_glob_list_match(char *const *patterns, size_t count, const char *s);

/** 1 when `p` permits `repo_url`, else 0. */
int cairn_app_project_source_ok(const cairn_app_project *p, const char *repo_url);

/** 1 when `p` permits the destination (server or name, and namespace). */
int cairn_app_project_dest_ok(const cairn_app_project *p, const char *server, const char *name,
                              const char *namespace_);

/**
 * 1 when `p` permits a resource of `group`/`kind`, cluster-scoped when
 * `namespaced` is 0: the whitelist (when given; cluster-scoped resources
 * are denied when clusterResourceWhitelist is empty, as in Argo CD) minus
 * the blacklist.
 */
int cairn_app_project_kind_ok(const cairn_app_project *p, const char *group, const char *kind,
                              int namespaced);

/* ---- cron and sync windows ---------------------------------------------- */

/**
 * Parse a 5-field cron expression (minute hour day-of-month month
 * day-of-week; `*`, lists, ranges, steps, month and day names) or one of
 * @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * @return 0 or CAIRN_EINVAL naming the bad field. Thread-safe.
 */
int cairn_cron_parse(cairn_cron *out, const char *expr);

/** 1 when the broken-down local time matches (min, hour, mday 1-31, mon 1-12, wday 0-6). */
int cairn_cron_match(const cairn_cron *c, int min, int hour, int mday, int mon, int wday);

/**
 * Whether time `t` lies inside window `w`: some start instant S matching the
 * schedule in the window's time zone with S <= t < S + duration.
 * Time zones are read from the system tz database through TZ, tzset() and
 * localtime_r() under one process-wide mutex that restores TZ afterwards
 * (see docs/applications.md): safe among Cairn's threads, but other code
 * must not change TZ concurrently.
 * @param out  1 active, 0 not. @return 0 or CAIRN_EINVAL (unknown zone).
 */
int cairn_app_window_active(int *out, const cairn_app_window *w, cairn_usec t);

/** 1 when the window's selectors match the Application. */
int cairn_app_window_matches(const cairn_app_window *w, const cairn_app *app);

/**
 * Decide whether `app` may sync at `t` under its project's windows, as
 * Argo CD does: no matching window → allowed; an active matching deny
 * window → denied (deny wins over allow); matching allow windows none of
 * which is active → denied. A manual sync is allowed anyway when every
 * window that denies it has manualSync.
 * @param out_allowed 1/0. @param reason NULL or a buffer for the why.
 * @return 0 or CAIRN_EINVAL (time zone).
 */
int cairn_app_sync_allowed(int *out_allowed, char *reason, size_t reason_size,
                           const cairn_app_project *p, const cairn_app *app, cairn_usec t,
                           int manual);

/* ---- environments ------------------------------------------------------- */

typedef enum cairn_env_drift {
	CAIRN_ENV_DRIFT_DETECT = 0,
	CAIRN_ENV_DRIFT_CORRECT = 1
} cairn_env_drift;
typedef enum cairn_env_rollouts {
	CAIRN_ENV_ROLLOUTS_INTERNAL = 0,
	CAIRN_ENV_ROLLOUTS_EXTERNAL = 1
} cairn_env_rollouts;

/** One Cairn Environment (cairn.dev/v1alpha1). */
typedef struct cairn_env {
	char *name;
	char *server;       /**< spec.cluster.server: matched with destination.server */
	char *cluster_name; /**< spec.cluster.name: matched with destination.name */
	char *kubeconfig;   /**< spec.cluster.kubeconfig, or NULL */
	char *context;      /**< spec.cluster.context, or NULL */
	int in_cluster;     /**< spec.cluster.inCluster */
	char **namespaces;  /**< patterns */
	size_t namespace_count;
	char *default_namespace;
	const json_t *vars; /**< object of strings (borrowed from the manifest) */
	char *promoted_from;
	int auto_sync, self_heal, prune;
	cairn_env_drift drift;
	cairn_env_rollouts rollouts;
	char *file;
	int line;
	json_t *manifest; /**< owned */
} cairn_env;

typedef struct cairn_env_set cairn_env_set;

/**
 * Load every Environment of a file or of the *.yaml files of a folder, and
 * check them together: unique names, `promotedFrom` naming a defined
 * environment, and no promotion cycle.
 * @param out on success a new set (cairn_env_set_free()).
 * @return 0, CAIRN_EINVAL (file:line:field), CAIRN_ENOTFOUND.
 */
int cairn_env_set_load(cairn_env_set **out, const char *path);
/** As cairn_env_set_load() for one document stream in memory. */
int cairn_env_set_load_data(cairn_env_set **out, const char *data, size_t len,
                            const char *filename);
size_t cairn_env_set_count(const cairn_env_set *set);
const cairn_env *cairn_env_set_at(const cairn_env_set *set, size_t i);
const cairn_env *cairn_env_set_find(const cairn_env_set *set, const char *name);
void cairn_env_set_free(cairn_env_set *set);

/**
 * Bind every Application of `apps` to at most one environment of `envs`
 * (DESIGN §3a): label cairn.dev/environment, else the generating
 * ApplicationSet element's `env`, else the one environment whose cluster
 * and namespace patterns match the destination; and set its group (label
 * cairn.dev/app, else the ApplicationSet's name). `envs` may be NULL (all
 * unbound). Applications are updated in place.
 * @return 0, CAIRN_EINVAL (several environments match: names the
 * Application and them) or CAIRN_ENOTFOUND (a label or `env` names an
 * undefined environment).
 */
int cairn_app_set_bind(cairn_app_set *apps, const cairn_env_set *envs);

/* ---- definitions in git repositories --------------------------------------- */

struct cairn_config;

/**
 * A session over the mirror cache (cairn/source.h) for reading definitions
 * and generator inputs out of git repositories: each repository URL is
 * opened (and fetched) once, each (URL, revision) pair resolved and its
 * tree opened once, so every read of one load sees the same commit.
 * Opaque; used by one thread at a time.
 */
typedef struct cairn_app_git cairn_app_git;

/**
 * Start a session.
 * @param state_dir  mirrors go to <state_dir>/repos (copied).
 * @param cfg        credential references of `repositories[]`, matched by
 *                   normalised URL; NULL for none. Borrowed: it must outlive
 *                   the session.
 * @param no_fetch   1: use the mirrors as they are (no network).
 * @return 0, CAIRN_EINVAL (no state_dir), CAIRN_ENOMEM.
 */
int cairn_app_git_new(cairn_app_git **out, const char *state_dir, const struct cairn_config *cfg,
                      int no_fetch);

/** Free a session, its mirrors and trees; NULL is fine. */
void cairn_app_git_free(cairn_app_git *g);

/**
 * The mirror of `url`, opened and fetched on first use (borrowed: valid
 * while the session lives). @return 0 or the errors of cairn_source_open()
 * and cairn_source_fetch().
 */
int cairn_app_git_repo(cairn_source_repo **out, cairn_app_git *g, const char *url);

/**
 * Resolve `revision` (NULL or "" is HEAD) of `url` as Argo CD does
 * (cairn_source_resolve()); the answer is kept for the session.
 * @return 0 with `out` set, or the errors of the fetch and the resolution.
 */
int cairn_app_git_resolve(char out[CAIRN_SOURCE_OID_HEX_LEN], cairn_app_git *g, const char *url,
                          const char *revision);

/**
 * A reader for ApplicationSet git generators over the session's trees:
 * `list` is the recursive listing of the commit's tree (submodules left
 * out), `read` a file of it (symlinks followed inside the tree only).
 * `g` is borrowed.
 */
cairn_app_reader cairn_app_reader_git(cairn_app_git *g);

/**
 * As cairn_app_set_load() for `path` (a file or folder; "" the root) of
 * repository `url` at `revision`, read from the commit's tree with no
 * checkout: files ending .yaml, .yml or .json below the folder, hidden
 * ones skipped, in path order. Messages name files "URL@REVISION:PATH".
 * @return as cairn_app_set_load(), plus the fetch and resolution errors.
 */
int cairn_app_set_load_git(cairn_app_set *set, cairn_app_git *g, const char *url,
                           const char *revision, const char *path, const cairn_app_load_opts *opts);

/* ---- signed-commit requirements ------------------------------------------- */

/** The decision on deploying one commit of one Application. */
typedef struct cairn_app_sig_verdict {
	int required;            /**< some allowed-signers file applies */
	int allowed;             /**< 1: may be deployed (always 1 when not required) */
	char required_by[320];   /**< "project 'x'", "configuration 'f'" or "application 'a'" */
	char signers_file[4096]; /**< the allowed-signers file that decided */
	cairn_sig_result result; /**< the check that decided (zeroed when not required) */
} cairn_app_sig_verdict;

/**
 * Decide whether `commit` of the mirror `repo` may be deployed for `app`.
 * The requirements: the project's `cairn.dev/allowed-signers` annotation,
 * else cairn.yaml's `allowedSigners`; and, in addition, the Application's
 * own `cairn.dev/allowed-signers` annotation. Every one that applies must
 * verify the commit (cairn_source_verify_commit()); the first refusal
 * decides, with its status and reason in `result`. Relative annotation
 * paths are taken from the directory of the defining file, and refused
 * for definitions read from a repository.
 * @param proj  the Application's project (NULL: none), @param cfg NULL or the configuration.
 * @param commit 40 hex digits, resolved in `repo`.
 * @return 0 with `out` filled (allowed or refused), or an error when the
 * check could not be made (unreadable allowed-signers file, unknown
 * commit): the caller must treat that as refused too.
 * Thread-safe for distinct `repo` handles.
 */
int cairn_app_verify_revision(cairn_app_sig_verdict *out, const cairn_app *app,
                              const cairn_app_project *proj, const struct cairn_config *cfg,
                              cairn_source_repo *repo, const char *commit);

#ifdef __cplusplus
}
#endif
#endif
