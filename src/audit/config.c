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

/* The `audit:` mapping: every key known, each of the expected type. */
static int load_audit(cairn_audit_config *c, const json_t *a, const char *file)
{
	static const char *const known[] = {
	        "key",  "trustedKey", "actor", "origin", "checkpointEvery", "checkpointInterval",
	        "sync", NULL};
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
			        "sync)",
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
