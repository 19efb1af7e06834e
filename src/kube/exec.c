/*
 * exec.c - kubeconfig exec credential plugins (ExecCredential,
 * client.authentication.k8s.io/v1 and v1beta1).
 *
 * The plugin gets a clean environment: PATH, HOME, USER and the entries the
 * kubeconfig lists, plus KUBERNETES_EXEC_INFO describing the request as
 * non-interactive. Its stdout must be an ExecCredential of the same
 * apiVersion.
 */
#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/util.h"
#include "kube_internal.h"

#define EXEC_MAX_ARGS 64
#define EXEC_MAX_ENV 64
#define EXEC_TIMEOUT_MS 30000

static int exec_dup(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

/* Take token / client certificate / expiry from a parsed ExecCredential. */
static int exec_take(cairn_kube_config *cfg, const json_t *cred, const char *api, const char *user)
{
	const json_t *st = json_object_get(cred, "status");
	const char *got = json_string_value(json_object_get(cred, "apiVersion"));
	const char *token = json_string_value(json_object_get(st, "token"));
	const char *cert = json_string_value(json_object_get(st, "clientCertificateData"));
	const char *key = json_string_value(json_object_get(st, "clientKeyData"));
	const char *exp = json_string_value(json_object_get(st, "expirationTimestamp"));
	int rc = 0;

	if (got == NULL || strcmp(got, api) != 0)
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "user '%s': exec plugin answered apiVersion '%s', expected '%s'", user,
		        got != NULL ? got : "", api);
	if (token != NULL && token[0] != '\0')
		rc = exec_dup(&cfg->token, token);
	else if (cert != NULL && key != NULL) {
		rc = cairn_buf_puts(&cfg->cert_pem, cert);
		if (rc == 0)
			rc = cairn_buf_puts(&cfg->key_pem, key);
	} else
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "user '%s': exec plugin gave neither a token nor a client "
		                     "certificate and key",
		                     user);
	if (rc == 0 && exp != NULL && cairn_time_parse(&cfg->token_expiry_us, exp) != 0)
		rc = cairn_error_prefix("user '%s': exec plugin expirationTimestamp: ", user);
	return rc;
}

int kube_exec_credential(cairn_kube_config *cfg, const json_t *exec, const char *user)
{
	const char *cmd = json_string_value(json_object_get(exec, "command"));
	const char *api = json_string_value(json_object_get(exec, "apiVersion"));
	const json_t *args = json_object_get(exec, "args"), *envs = json_object_get(exec, "env");
	const char *argv[EXEC_MAX_ARGS + 2];
	char *envv[EXEC_MAX_ENV + 2] = {0};
	const char *allow[] = {"PATH", "HOME", "USER", "TMPDIR", NULL};
	cairn_proc_opts po = CAIRN_PROC_OPTS_INIT;
	cairn_proc_result res = {0};
	json_t *cred = NULL;
	size_t i, na = 0, ne = 0;
	char info[256];
	int rc;

	if (cmd == NULL || cmd[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "user '%s': exec has no command", user);
	if (api == NULL || (strcmp(api, "client.authentication.k8s.io/v1") != 0 &&
	                    strcmp(api, "client.authentication.k8s.io/v1beta1") != 0))
		return cairn_error_set(
		        CAIRN_EUNSUPPORTED,
		        "user '%s': exec apiVersion '%s' is not supported (v1, v1beta1)", user,
		        api != NULL ? api : "");
	if (json_array_size(args) > EXEC_MAX_ARGS || json_array_size(envs) > EXEC_MAX_ENV)
		return cairn_error_set(CAIRN_ELIMIT, "user '%s': exec has too many args or env",
		                       user);
	argv[na++] = cmd;
	for (i = 0; i < json_array_size(args); i++) {
		const char *a = json_string_value(json_array_get(args, i));

		if (a == NULL)
			return cairn_error_set(CAIRN_EINVAL,
			                       "user '%s': exec arg %zu is not a string", user, i);
		argv[na++] = a;
	}
	argv[na] = NULL;
	snprintf(info, sizeof(info),
	         "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
	         "\"spec\":{\"interactive\":false}}",
	         api);
	rc = exec_dup(&envv[ne++], info);
	for (i = 0; rc == 0 && i < json_array_size(envs); i++) {
		const json_t *e = json_array_get(envs, i);
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *v = json_string_value(json_object_get(e, "value"));
		size_t len;

		if (n == NULL || v == NULL || n[0] == '\0' || strchr(n, '=') != NULL) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "user '%s': exec env %zu is not {name, value}", user,
			                     i);
			break;
		}
		len = strlen(n) + strlen(v) + 2;
		envv[ne] = malloc(len);
		if (envv[ne] == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		snprintf(envv[ne++], len, "%s=%s", n, v);
	}
	if (rc != 0)
		goto out;
	po.env = (const char *const *)envv;
	po.env_allow = allow;
	po.timeout_ms = EXEC_TIMEOUT_MS;
	po.max_output = (size_t)1 << 20;
	rc = cairn_proc_run(&res, argv, &po);
	if (rc != 0) {
		cairn_error_prefix("user '%s': exec plugin '%s': ", user, cmd);
		goto out;
	}
	if (!res.exited || res.status != 0) {
		rc = cairn_error_set(CAIRN_EIO,
		                     "user '%s': exec plugin '%s' failed (status %d): %.200s", user,
		                     cmd, res.status, res.err.ptr != NULL ? res.err.ptr : "");
		goto out;
	}
	rc = cairn_json_parse(&cred, res.out.ptr != NULL ? res.out.ptr : "", res.out.len,
	                      "exec plugin output");
	if (rc == 0)
		rc = exec_take(cfg, cred, api, user);
out:
	for (i = 0; i < ne; i++)
		kube_str_wipe(envv[i]);
	json_decref(cred);
	kube_buf_wipe(&res.out);
	cairn_buf_dispose(&res.err);
	return rc;
}

int kube_creds_expiring(const cairn_kube_client *c)
{
	return c->exec_json != NULL && c->token_expiry_us > 0 &&
	       cairn_time_now() + 10 * 1000000LL >= c->token_expiry_us;
}

/*
 * Run the plugin into a scratch config, then move what it gave into the
 * client: the old token or key is wiped, never left behind.
 */
int kube_exec_refresh(cairn_kube_client *c)
{
	cairn_kube_config tmp = {0};
	json_t *exec = NULL;
	int rc;

	if (c->exec_json == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND, "no exec credential plugin to refresh");
	cairn_buf_init(&tmp.cert_pem, (size_t)1 << 20);
	cairn_buf_init(&tmp.key_pem, (size_t)1 << 20);
	rc = cairn_json_parse(&exec, c->exec_json, strlen(c->exec_json), "exec");
	if (rc == 0)
		rc = kube_exec_credential(&tmp, exec, c->exec_user);
	if (rc == 0) {
		kube_str_wipe(c->token);
		c->token = tmp.token;
		tmp.token = NULL;
		if (tmp.cert_pem.len > 0) {
			kube_buf_wipe(&c->cert);
			kube_buf_wipe(&c->key);
			c->cert = tmp.cert_pem;
			c->key = tmp.key_pem;
			cairn_buf_init(&tmp.cert_pem, 0);
			cairn_buf_init(&tmp.key_pem, 0);
		}
		c->token_expiry_us = tmp.token_expiry_us;
	}
	json_decref(exec);
	kube_str_wipe(tmp.token);
	kube_buf_wipe(&tmp.cert_pem);
	kube_buf_wipe(&tmp.key_pem);
	return rc;
}
