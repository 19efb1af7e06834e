/*
 * config.c - where the audit files live and the few settings read from a
 * cairn.yaml until the engine configuration module exists.
 */
#include <errno.h>
#include <unistd.h>

#include "audit/audit_private.h"
#include "cairn/error.h"
#include "cairn/yaml.h"

static int dup_join(char **out, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 1);

	if (p == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	memcpy(p, a, la);
	memcpy(p + la, b, lb + 1);
	*out = p;
	return 0;
}

int cairn_audit_state_dir(char **out, const char *flag)
{
	const char *v;

	if (flag != NULL && flag[0] != '\0')
		return dup_join(out, flag, "");
	v = getenv("CAIRN_STATE_DIR");
	if (v != NULL && v[0] != '\0')
		return dup_join(out, v, "");
	if (geteuid() == 0)
		return dup_join(out, "/var/lib/cairn", "");
	v = getenv("XDG_STATE_HOME");
	if (v != NULL && v[0] == '/')
		return dup_join(out, v, "/cairn");
	v = getenv("HOME");
	if (v != NULL && v[0] == '/')
		return dup_join(out, v, "/.local/state/cairn");
	return cairn_error_set(CAIRN_EINVAL, "no state directory: give --state-dir or set "
	                                     "CAIRN_STATE_DIR or HOME");
}

void cairn_audit_default_actor(char *out, size_t size, const char *configured)
{
	const char *user = getenv("USER");

	if (configured != NULL && configured[0] != '\0') {
		snprintf(out, size, "%s", configured);
		return;
	}
	if (user == NULL || user[0] == '\0' || audit__text_check(user, "USER") < 0)
		user = "unknown";
	snprintf(out, size, "user:%s (unverified)", user);
}

void cairn_audit_config_dispose(cairn_audit_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->state_dir);
	free(cfg->key_file);
	free(cfg->trusted_key);
	free(cfg->actor);
	free(cfg->origin);
	free(cfg->witness_repository);
	free(cfg->witness_ref);
	memset(cfg, 0, sizeof(*cfg));
}

static int get_string(char **dst, const json_t *v, const char *file, const char *key)
{
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                          "'%s' must be a non-empty string", key);
	*dst = strdup(json_string_value(v));
	return *dst == NULL ? cairn_error_set(CAIRN_ENOMEM, "out of memory") : 0;
}

/*
 * `audit.witness.repository`: a local path or a file:// URL, kept as a
 * path. A relative path is taken against the directory of the config file
 * (as the other paths of cairn.yaml). Any other URL (https://, ssh://,
 * host:path) is refused: pushing the witness to a remote is not done yet.
 */
static int witness_path(char **dst, const char *v, const char *file)
{
	const char *slash = strrchr(file, '/');
	const char *colon = strchr(v, ':');

	if (strncmp(v, "file://", 7) == 0)
		v += 7;
	else if (colon != NULL && (strchr(v, '/') == NULL || colon < strchr(v, '/')))
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                          "'audit.witness.repository' must be a local path or a "
		                          "file:// URL: pushing the witness to a remote ('%s') "
		                          "is not supported yet",
		                          v);
	if (v[0] == '\0')
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                          "'audit.witness.repository' must not be empty");
	if (v[0] == '/')
		return dup_join(dst, v, "");
	{
		size_t dl = slash ? (size_t)(slash - file) + 1 : 0;
		char cwd[4096], *dir;
		int rc, n = 0;

		if (file[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
			return cairn_error_set_errno(errno, "resolving 'audit.witness.repository'");
		if (file[0] != '/')
			n = (int)strlen(cwd);
		dir = malloc((size_t)n + dl + 2);
		if (dir == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		/* "<cwd>/" for a relative config path, then the config's own directory. */
		if (n > 0)
			memcpy(dir, cwd, (size_t)n);
		dir[n] = '/';
		memcpy(dir + n + (n > 0), file, dl);
		dir[n + (n > 0) + (int)dl] = '\0';
		rc = dup_join(dst, dir, v);
		free(dir);
		return rc;
	}
}

/* `audit.witness.ref`: under refs/, no "..", no space, control or git-special characters. */
static int witness_ref_check(const char *r, const char *file)
{
	size_t n = strlen(r);

	if (strncmp(r, "refs/", 5) != 0 || n <= 5 || n > 255 || strstr(r, "..") != NULL ||
	    strstr(r, "//") != NULL || strstr(r, "@{") != NULL || r[n - 1] == '/' ||
	    r[n - 1] == '.' || strcspn(r, " ~^:?*[\\\x7f") != n)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20)
			goto bad;
	return 0;
bad:
	return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
	                          "'audit.witness.ref' must be a git ref name under refs/ "
	                          "such as 'refs/cairn/audit', not '%s'",
	                          r);
}

/* The `audit.witness:` mapping {repository, ref, every}. */
static int load_witness(cairn_audit_config *c, const json_t *w, const char *file)
{
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(w))
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                          "'audit.witness' must be a mapping {repository, ref, "
		                          "every}");
	json_object_foreach((json_t *)w, k, v)
	{
		if (strcmp(k, "repository") != 0 && strcmp(k, "ref") != 0 &&
		    strcmp(k, "every") != 0)
			return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
			                          "unknown key 'audit.witness.%s' (expected "
			                          "repository, ref, every)",
			                          k);
	}
	v = json_object_get(w, "repository");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                          "'audit.witness.repository' must be a non-empty string "
		                          "(a local git repository)");
	if ((rc = witness_path(&c->witness_repository, json_string_value(v), file)) < 0)
		return rc;
	v = json_object_get(w, "ref");
	if (v == NULL)
		rc = dup_join(&c->witness_ref, "refs/cairn/audit", "");
	else if (!json_is_string(v))
		rc = cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                        "'audit.witness.ref' must be a string");
	else if ((rc = witness_ref_check(json_string_value(v), file)) == 0)
		rc = dup_join(&c->witness_ref, json_string_value(v), "");
	if (rc < 0)
		return rc;
	v = json_object_get(w, "every");
	if (v == NULL) {
		c->witness_interval = (int64_t)60 * 1000000000;
	} else if (json_is_integer(v) && json_integer_value(v) >= 1) {
		c->witness_every = (uint64_t)json_integer_value(v);
	} else if (!json_is_string(v) ||
	           cairn_duration_parse(&c->witness_interval, json_string_value(v)) < 0 ||
	           c->witness_interval <= 0) {
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                          "'audit.witness.every' must be a positive number of "
		                          "entries or a duration such as '30s'");
	}
	return 0;
}

/* The `audit:` mapping: every key known, each of the expected type. */
static int load_audit(cairn_audit_config *c, const json_t *a, const char *file)
{
	static const char *const known[] = {"key",    "trustedKey",      "actor",
	                                    "origin", "checkpointEvery", "checkpointInterval",
	                                    "sync",   "witness",         NULL};
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(a))
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0, "'audit' must be a mapping");
	json_object_foreach((json_t *)a, k, v)
	{
		size_t i = 0;

		while (known[i] != NULL && strcmp(known[i], k) != 0)
			i++;
		if (known[i] == NULL)
			return cairn_error_set_at(
			        CAIRN_EINVAL, file, 0, 0,
			        "unknown key 'audit.%s' (expected key, trustedKey, "
			        "actor, origin, checkpointEvery, checkpointInterval, "
			        "sync, witness)",
			        k);
	}
	if ((rc = get_string(&c->key_file, json_object_get(a, "key"), file, "audit.key")) < 0 ||
	    (rc = get_string(&c->trusted_key, json_object_get(a, "trustedKey"), file,
	                     "audit.trustedKey")) < 0 ||
	    (rc = get_string(&c->actor, json_object_get(a, "actor"), file, "audit.actor")) < 0 ||
	    (rc = get_string(&c->origin, json_object_get(a, "origin"), file, "audit.origin")) < 0)
		return rc;
	v = json_object_get(a, "checkpointEvery");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return cairn_error_set_at(
			        CAIRN_EINVAL, file, 0, 0,
			        "'audit.checkpointEvery' must be a positive integer");
		c->checkpoint_every = (uint64_t)json_integer_value(v);
	}
	v = json_object_get(a, "checkpointInterval");
	if (v != NULL && (!json_is_string(v) ||
	                  cairn_duration_parse(&c->checkpoint_interval, json_string_value(v)) < 0 ||
	                  c->checkpoint_interval <= 0))
		return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
		                          "'audit.checkpointInterval' must be a positive duration "
		                          "such as '1m'");
	v = json_object_get(a, "witness");
	if (v != NULL && (rc = load_witness(c, v, file)) < 0)
		return rc;
	v = json_object_get(a, "sync");
	if (v != NULL) {
		if (json_is_string(v) && strcmp(json_string_value(v), "batch") == 0)
			c->sync = CAIRN_AUDIT_SYNC_BATCH;
		else if (json_is_string(v) && strcmp(json_string_value(v), "entry") == 0)
			c->sync = CAIRN_AUDIT_SYNC_ENTRY;
		else
			return cairn_error_set_at(CAIRN_EINVAL, file, 0, 0,
			                          "'audit.sync' must be 'batch' or 'entry'");
	}
	return 0;
}

int cairn_audit_config_load(cairn_audit_config *out, const char *path)
{
	cairn_audit_config c;
	json_t *docs = NULL, *doc;
	int rc;

	memset(&c, 0, sizeof(c));
	c.checkpoint_every = 1000;
	c.checkpoint_interval = (int64_t)60 * 1000000000;
	if (path == NULL || path[0] == '\0')
		path = getenv("CAIRN_CONFIG");
	if (path == NULL || path[0] == '\0') {
		*out = c;
		return 0;
	}
	rc = cairn_yaml_load_file(&docs, NULL, path, NULL);
	if (rc < 0)
		return rc;
	doc = json_array_get(docs, 0);
	if (json_array_size(docs) > 1 ||
	    (doc != NULL && !json_is_object(doc) && !json_is_null(doc))) {
		rc = cairn_error_set_at(CAIRN_EINVAL, path, 0, 0,
		                        "a config file holds one mapping document");
		goto out;
	}
	if (json_is_object(doc)) {
		rc = get_string(&c.state_dir, json_object_get(doc, "stateDir"), path, "stateDir");
		if (rc == 0 && json_object_get(doc, "audit") != NULL)
			rc = load_audit(&c, json_object_get(doc, "audit"), path);
	}
out:
	json_decref(docs);
	if (rc < 0) {
		cairn_audit_config_dispose(&c);
		return rc;
	}
	*out = c;
	return 0;
}
