/*
 * config.c - cairn.yaml, the engine configuration: parse into a fresh
 * struct, check everything, hand it over; nothing is half-applied.
 */
#include "app/app_private.h"
#include "cairn/config.h"
#include "cairn/error.h"

void cairn_config_dispose(cairn_config *c)
{
	if (c == NULL)
		return;
	free(c->file);
	free(c->listen_api);
	free(c->listen_metrics);
	free(c->tls_cert_file);
	free(c->tls_key_file);
	for (size_t i = 0; i < c->repo_count; i++) {
		cairn_config_repo *r = &c->repos[i];
		free(r->url);
		free(r->username);
		free(r->password_file);
		free(r->password_env);
		free(r->ssh_key_file);
		free(r->ssh_passphrase_env);
		free(r->known_hosts_file);
		free(r->ca_file);
	}
	free(c->repos);
	for (size_t i = 0; i < c->apps_count; i++) {
		free(c->apps[i].path);
		free(c->apps[i].repo_url);
		free(c->apps[i].revision);
	}
	free(c->apps);
	free(c->environments_dir);
	free(c->policies_dir);
	free(c->allowed_signers);
	for (size_t i = 0; i < c->plugin_count; i++) {
		free(c->plugins[i].name);
		app__strlist_free(c->plugins[i].command, c->plugins[i].command_count);
	}
	free(c->plugins);
	for (size_t i = 0; i < c->token_count; i++) {
		free(c->tokens[i].name);
		free(c->tokens[i].sha256);
		free(c->tokens[i].role);
		app__strlist_free(c->tokens[i].environments, c->tokens[i].environment_count);
	}
	free(c->tokens);
	for (size_t i = 0; i < CAIRN_CONFIG_FORGES; i++) {
		if (c->webhook_secrets[i])
			explicit_bzero(c->webhook_secrets[i], strlen(c->webhook_secrets[i]));
		free(c->webhook_secrets[i]);
	}
	cairn_audit_config_dispose(&c->audit);
	memset(c, 0, sizeof(*c));
}

/* A path from the file, made relative to the config file's directory. */
static int path_dup(char **out, const json_t *obj, const char *key, const char *base)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s == NULL || s[0] == '/' || base[0] == '\0')
		return app__strdup(out, s);
	return cairn_path_join(out, base, s) < 0 ? app__strdup(out, s) : 0;
}

static int one_of(char **out, const json_t *r, const char *a, const char *b, const char *base,
                  const struct app__where *w, const char *ptr, int is_path)
{
	if (json_object_get(r, a) && json_object_get(r, b))
		return app__err(w, CAIRN_EINVAL, ptr, "give '%s' or '%s', not both", a, b);
	if (is_path)
		return path_dup(out, r, json_object_get(r, a) ? a : b, base);
	return app__dup(out, r, json_object_get(r, a) ? a : b);
}

static int load_repos(cairn_config *c, const json_t *arr, const char *base,
                      const struct app__where *w)
{
	char ptr[64];
	int rc;

	if (json_array_size(arr) == 0)
		return 0;
	if ((c->repos = calloc(json_array_size(arr), sizeof(*c->repos))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *r = json_array_get(arr, i);
		cairn_config_repo *o = &c->repos[i];
		c->repo_count = i + 1;
		snprintf(ptr, sizeof(ptr), "/repositories/%zu", i);
		if (!json_is_string(json_object_get(r, "url")))
			return app__err(w, CAIRN_EINVAL, ptr,
			                "missing field 'repositories[%zu].url' (expected the "
			                "repository URL)",
			                i);
		if ((rc = app__dup(&o->url, r, "url")) < 0 ||
		    (rc = app__dup(&o->username, r, "username")) < 0 ||
		    (rc = one_of(&o->password_file, r, "passwordFile", "tokenFile", base, w, ptr,
		                 1)) < 0 ||
		    (rc = one_of(&o->password_env, r, "passwordEnv", "tokenEnv", base, w, ptr, 0)) <
		            0 ||
		    (rc = path_dup(&o->ssh_key_file, r, "sshKeyFile", base)) < 0 ||
		    (rc = app__dup(&o->ssh_passphrase_env, r, "sshPassphraseEnv")) < 0 ||
		    (rc = path_dup(&o->known_hosts_file, r, "knownHostsFile", base)) < 0 ||
		    (rc = path_dup(&o->ca_file, r, "caFile", base)) < 0)
			return rc;
		if (o->password_file && o->password_env)
			return app__err(w, CAIRN_EINVAL, ptr,
			                "'repositories[%zu]' gives both a password file and a "
			                "password variable (expected one)",
			                i);
		if (o->ssh_key_file && o->known_hosts_file == NULL)
			return app__err(w, CAIRN_EINVAL, ptr,
			                "'repositories[%zu]': 'sshKeyFile' needs 'knownHostsFile' "
			                "(host keys are always checked)",
			                i);
	}
	return 0;
}

static int load_apps(cairn_config *c, const json_t *arr, const char *base,
                     const struct app__where *w)
{
	char ptr[64];
	int rc;

	if (json_array_size(arr) == 0)
		return 0;
	if ((c->apps = calloc(json_array_size(arr), sizeof(*c->apps))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *a = json_array_get(arr, i);
		int remote = json_object_get(a, "repoURL") != NULL;
		c->apps_count = i + 1;
		snprintf(ptr, sizeof(ptr), "/apps/%zu", i);
		if (!json_is_string(json_object_get(a, "path")))
			return app__err(w, CAIRN_EINVAL, ptr,
			                "missing field 'apps[%zu].path' (expected a file or folder "
			                "of Application definitions)",
			                i);
		if (!remote && json_object_get(a, "revision"))
			return app__err(w, CAIRN_EINVAL, ptr,
			                "'apps[%zu].revision' needs 'apps[%zu].repoURL'", i, i);
		if ((rc = remote ? app__dup(&c->apps[i].path, a, "path")
		                 : path_dup(&c->apps[i].path, a, "path", base)) < 0 ||
		    (rc = app__dup(&c->apps[i].repo_url, a, "repoURL")) < 0 ||
		    (rc = app__dup(&c->apps[i].revision, a, "revision")) < 0)
			return rc;
		if (remote && c->apps[i].revision == NULL &&
		    (rc = app__strdup(&c->apps[i].revision, "HEAD")) < 0)
			return rc;
	}
	return 0;
}

/*
 * `plugins[]`: a name and a non-empty command each, names unique. The
 * command's first word, when it is a relative path with a '/', is taken
 * from the configuration file's directory like the other paths.
 */
static int load_plugins(cairn_config *c, const json_t *arr, const char *base,
                        const struct app__where *w)
{
	char ptr[64];
	int rc;

	if (json_array_size(arr) == 0)
		return 0;
	if ((c->plugins = calloc(json_array_size(arr), sizeof(*c->plugins))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *a = json_array_get(arr, i);
		cairn_config_plugin *p = &c->plugins[i];
		const char *timeout = json_string_value(json_object_get(a, "timeout"));

		c->plugin_count = i + 1;
		snprintf(ptr, sizeof(ptr), "/plugins/%zu", i);
		if (!json_is_string(json_object_get(a, "name")) ||
		    json_array_size(json_object_get(a, "command")) == 0)
			return app__err(w, CAIRN_EINVAL, ptr,
			                "plugins[%zu] needs a 'name' and a non-empty 'command'", i);
		if ((rc = app__dup(&p->name, a, "name")) < 0 ||
		    (rc = app__strlist(&p->command, &p->command_count,
		                       json_object_get(a, "command"))) < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->plugins[j].name, p->name) == 0)
				return app__err(w, CAIRN_EINVAL, ptr, "duplicate plugin name '%s'",
				                p->name);
		if (timeout &&
		    (cairn_duration_parse(&p->timeout_ms, timeout) < 0 || p->timeout_ms <= 0))
			return app__err(w, CAIRN_EINVAL, ptr,
			                "plugins[%zu].timeout '%s' is not a positive duration", i,
			                timeout);
		p->timeout_ms /= 1000000;
		if (p->command[0][0] != '/' && strchr(p->command[0], '/') && base[0]) {
			char *joined = NULL;

			if (cairn_path_join(&joined, base, p->command[0]) == 0) {
				free(p->command[0]);
				p->command[0] = joined;
			}
		}
	}
	return 0;
}

/*
 * api.tokens[]: each needs a name, the SHA-256 of the token as 64 hex
 * digits (never the token itself) and a role; names are unique.
 */
static int load_tokens(cairn_config *c, const json_t *arr, const struct app__where *w)
{
	char ptr[64];
	int rc;

	if (json_array_size(arr) == 0)
		return 0;
	if ((c->tokens = calloc(json_array_size(arr), sizeof(*c->tokens))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *a = json_array_get(arr, i);
		cairn_config_token *t = &c->tokens[i];
		const char *hash = json_string_value(json_object_get(a, "sha256"));
		const char *role = json_string_value(json_object_get(a, "role"));

		c->token_count = i + 1;
		snprintf(ptr, sizeof(ptr), "/api/tokens/%zu", i);
		if (!json_is_string(json_object_get(a, "name")) || hash == NULL || role == NULL)
			return app__err(w, CAIRN_EINVAL, ptr,
			                "api.tokens[%zu] needs a 'name', a 'sha256' and a 'role'",
			                i);
		if (strlen(hash) != 64 || strspn(hash, "0123456789abcdefABCDEF") != 64)
			return app__err(w, CAIRN_EINVAL, ptr,
			                "api.tokens[%zu].sha256 is not 64 hex digits (the SHA-256 "
			                "of the token, not the token)",
			                i);
		if (strcmp(role, "viewer") != 0 && strcmp(role, "deployer") != 0 &&
		    strcmp(role, "admin") != 0)
			return app__err(
			        w, CAIRN_EINVAL, ptr,
			        "api.tokens[%zu].role '%s' is not viewer, deployer or admin", i,
			        role);
		if ((rc = app__dup(&t->name, a, "name")) < 0 ||
		    (rc = app__dup(&t->sha256, a, "sha256")) < 0 ||
		    (rc = app__dup(&t->role, a, "role")) < 0 ||
		    (rc = app__strlist(&t->environments, &t->environment_count,
		                       json_object_get(a, "environments"))) < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->tokens[j].name, t->name) == 0)
				return app__err(w, CAIRN_EINVAL, ptr, "duplicate token name '%s'",
				                t->name);
	}
	return 0;
}

/* Forges in CAIRN_CONFIG_FORGES order (cairn_forge of cairn/daemon.h). */
static const char *const forge_names[CAIRN_CONFIG_FORGES] = {"github", "gitlab", "gitea",
                                                             "bitbucket"};

/* Read a secret file: at most 4 KiB, one trailing newline (CRLF too) stripped. */
static int secret_file(char **out, const char *path, const struct app__where *w, const char *ptr,
                       const char *forge)
{
	cairn_buf b = CAIRN_BUF_INIT(4096);
	int rc;

	if ((rc = cairn_buf_read_file(&b, path)) < 0) {
		cairn_buf_dispose(&b);
		return app__err(w, rc, ptr, "webhooks.%s.secretFile '%s': %s", forge, path,
		                cairn_error_last()->message);
	}
	if (b.len > 0 && b.ptr[b.len - 1] == '\n')
		b.len--;
	if (b.len > 0 && b.ptr[b.len - 1] == '\r')
		b.len--;
	if (b.len == 0 || memchr(b.ptr, '\0', b.len)) {
		if (b.ptr)
			explicit_bzero(b.ptr, b.cap);
		cairn_buf_dispose(&b);
		return app__err(w, CAIRN_EINVAL, ptr,
		                "webhooks.%s.secretFile '%s' is empty or holds a NUL byte", forge,
		                path);
	}
	*out = strndup(b.ptr, b.len);
	if (b.ptr)
		explicit_bzero(b.ptr, b.cap);
	cairn_buf_dispose(&b);
	return *out ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

/*
 * `webhooks.<forge>`: `secret` inline or `secretFile` (relative to the
 * config file), not both. The keys themselves were checked against the
 * schema table (src/app/schema.c).
 */
static int load_webhooks(cairn_config *c, const json_t *wh, const char *base,
                         const struct app__where *w)
{
	char ptr[64], *file = NULL;
	int rc;

	if (wh == NULL)
		return 0;
	for (size_t i = 0; i < CAIRN_CONFIG_FORGES; i++) {
		const char *forge = forge_names[i];
		const json_t *f = json_object_get(wh, forge);

		if (f == NULL)
			continue;
		snprintf(ptr, sizeof(ptr), "/webhooks/%s", forge);
		if (!json_object_get(f, "secret") == !json_object_get(f, "secretFile"))
			return app__err(w, CAIRN_EINVAL, ptr,
			                "webhooks.%s needs one of 'secret' or 'secretFile'", forge);
		if (json_object_get(f, "secret")) {
			if ((rc = app__dup(&c->webhook_secrets[i], f, "secret")) < 0)
				return rc;
			if (!c->webhook_secrets[i][0])
				return app__err(w, CAIRN_EINVAL, ptr, "webhooks.%s.secret is empty",
				                forge);
			continue;
		}
		if ((rc = path_dup(&file, f, "secretFile", base)) < 0)
			return rc;
		rc = secret_file(&c->webhook_secrets[i], file, w, ptr, forge);
		free(file);
		file = NULL;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* `listen.tls`: a certificate and a key file (PEM), both or neither. */
static int load_tls(cairn_config *c, const json_t *tls, const char *base,
                    const struct app__where *w)
{
	int rc;

	if (tls == NULL)
		return 0;
	if (!json_object_get(tls, "cert") || !json_object_get(tls, "key"))
		return app__err(w, CAIRN_EINVAL, "/listen/tls",
		                "listen.tls needs both 'cert' and 'key' (PEM files)");
	if ((rc = path_dup(&c->tls_cert_file, tls, "cert", base)) < 0 ||
	    (rc = path_dup(&c->tls_key_file, tls, "key", base)) < 0)
		return rc;
	return 0;
}

/* One `limits` number: a value >= 0 and at most `max`, or the default. */
static int limit_number(double *out, const json_t *limits, const char *key, double max,
                        const struct app__where *w)
{
	const json_t *v = json_object_get(limits, key);
	char ptr[64];

	if (v == NULL || json_is_null(v))
		return 0;
	snprintf(ptr, sizeof(ptr), "/limits/%s", key);
	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > max)
		return app__err(w, CAIRN_EINVAL, ptr,
		                "limits.%s must be a number from 0 to %.0f (0 turns the limit off)",
		                key, max);
	*out = json_number_value(v);
	return 0;
}

/* `limits`: the per-source webhook rate limiter, on by default. */
static int load_limits(cairn_config *c, const json_t *limits, const struct app__where *w)
{
	int rc;

	c->webhook_rate = CAIRN_CONFIG_WEBHOOK_RATE;
	c->webhook_burst = CAIRN_CONFIG_WEBHOOK_BURST;
	if (limits == NULL)
		return 0;
	if ((rc = limit_number(&c->webhook_rate, limits, "webhookRate", 1e6, w)) < 0 ||
	    (rc = limit_number(&c->webhook_burst, limits, "webhookBurst", 1e6, w)) < 0)
		return rc;
	if (c->webhook_rate > 0 && c->webhook_burst < 1)
		return app__err(w, CAIRN_EINVAL, "/limits/webhookBurst",
		                "limits.webhookBurst must be at least 1 while webhookRate is on");
	return 0;
}

/* `tracking`: annotation (default), label or annotation+label. */
static int load_tracking(cairn_config *c, const json_t *doc, const struct app__where *w)
{
	static const char *const names[] = {"annotation", "label", "annotation+label"};
	const char *v = json_string_value(json_object_get(doc, "tracking"));

	for (int i = 0; v && i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			c->tracking = i;
			return 0;
		}
	if (v == NULL)
		return 0;
	return app__err(w, CAIRN_EINVAL, "/tracking",
	                "tracking '%s' is not annotation, label or annotation+label", v);
}

static int load_doc(cairn_config *c, const json_t *doc, const char *base,
                    const struct app__where *w)
{
	const json_t *listen = json_object_get(doc, "listen");
	int rc;

	if ((rc = app__check_map(w, doc, app__config_fields, "", "")) < 0 ||
	    (rc = load_webhooks(c, json_object_get(doc, "webhooks"), base, w)) < 0 ||
	    (rc = load_tls(c, json_object_get(listen, "tls"), base, w)) < 0 ||
	    (rc = load_limits(c, json_object_get(doc, "limits"), w)) < 0)
		return rc;
	if ((rc = app__dup(&c->listen_api, listen, "api")) < 0 ||
	    (rc = app__dup(&c->listen_metrics, listen, "metrics")) < 0 ||
	    (rc = load_repos(c, json_object_get(doc, "repositories"), base, w)) < 0 ||
	    (rc = load_apps(c, json_object_get(doc, "apps"), base, w)) < 0 ||
	    (rc = path_dup(&c->environments_dir, doc, "environmentsDir", base)) < 0 ||
	    (rc = path_dup(&c->policies_dir, doc, "policiesDir", base)) < 0 ||
	    (rc = path_dup(&c->allowed_signers, doc, "allowedSigners", base)) < 0 ||
	    (rc = load_plugins(c, json_object_get(doc, "plugins"), base, w)) < 0 ||
	    (rc = load_tracking(c, doc, w)) < 0 ||
	    (rc = load_tokens(c, json_object_get(json_object_get(doc, "api"), "tokens"), w)) < 0)
		return rc;
	if (c->listen_api == NULL && (rc = app__strdup(&c->listen_api, "127.0.0.1:8470")) < 0)
		return rc;
	if (c->environments_dir == NULL)
		rc = cairn_path_join(&c->environments_dir, base[0] ? base : ".", "environments");
	return rc;
}

int cairn_config_load(cairn_config *out, const char *path)
{
	cairn_config c;
	json_t *docs = NULL;
	cairn_yaml_marks *marks = NULL;
	struct app__where w = {path, NULL, 0, NULL, NULL};
	char base[4096];
	const char *slash = strrchr(path, '/');
	int rc;

	memset(&c, 0, sizeof(c));
	snprintf(base, sizeof(base), "%.*s", slash ? (int)(slash - path) : 0, path);
	if (slash == path)
		snprintf(base, sizeof(base), "/");
	if ((rc = cairn_yaml_load_file(&docs, &marks, path, NULL)) < 0)
		goto out;
	w.marks = marks;
	if (json_array_size(docs) != 1 || !json_is_object(json_array_get(docs, 0))) {
		rc = cairn_error_set_at(CAIRN_EINVAL, path, 1, 1,
		                        "a config file holds one mapping document");
		goto out;
	}
	if ((rc = app__strdup(&c.file, path)) < 0 ||
	    (rc = load_doc(&c, json_array_get(docs, 0), base, &w)) < 0 ||
	    (rc = cairn_audit_config_load(&c.audit, path)) < 0)
		goto out;
	*out = c;
	memset(&c, 0, sizeof(c));
out:
	cairn_config_dispose(&c);
	json_decref(docs);
	cairn_yaml_marks_free(marks);
	return rc;
}
