/*
 * kubeconfig.c - loading, merging and resolving kubeconfig files.
 *
 * Merging follows kubectl: with $KUBECONFIG naming several files, the
 * first file that defines a cluster, user or context name wins for that
 * name, and the first non-empty current-context wins. Each entry keeps the
 * directory of the file it came from, so relative paths resolve as kubectl
 * resolves them.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/kube.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "kube_internal.h"

/* A kubeconfig is small; anything larger is not one. */
#define KC_MAX_FILE ((size_t)4 << 20)
/* Certificates, keys and tokens read from files or decoded from -data. */
#define KC_MAX_PEM ((size_t)1 << 20)

struct cairn_kubeconfig {
	/* name -> {"dir": base directory, "v": the cluster/user/context map} */
	json_t *clusters;
	json_t *users;
	json_t *contexts;
	char *current;
	unsigned flags;
};

void cairn_kubeconfig_free(cairn_kubeconfig *kc)
{
	if (kc == NULL)
		return;
	json_decref(kc->clusters);
	json_decref(kc->users);
	json_decref(kc->contexts);
	free(kc->current);
	free(kc);
}

const char *cairn_kubeconfig_current_context(const cairn_kubeconfig *kc)
{
	return kc != NULL ? kc->current : NULL;
}

static cairn_kubeconfig *kc_new(unsigned flags)
{
	cairn_kubeconfig *kc = calloc(1, sizeof(*kc));

	if (kc == NULL)
		return NULL;
	kc->clusters = json_object();
	kc->users = json_object();
	kc->contexts = json_object();
	kc->flags = flags;
	if (kc->clusters == NULL || kc->users == NULL || kc->contexts == NULL) {
		cairn_kubeconfig_free(kc);
		return NULL;
	}
	return kc;
}

/*
 * Add the named entries of one list (`clusters:`, `users:`, `contexts:`,
 * each an array of {name, <field>: map}) to `into`, keeping entries already
 * there: the first file wins.
 */
static int kc_merge_list(json_t *into, const json_t *doc, const char *list, const char *field,
                         const char *dir, const char *fname)
{
	const json_t *arr = json_object_get(doc, list);
	size_t i;
	const json_t *item;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return cairn_error_set(CAIRN_EINVAL, "kubeconfig '%s': '%s' is not a list", fname,
		                       list);
	json_array_foreach(arr, i, item)
	{
		const char *name = json_string_value(json_object_get(item, "name"));
		json_t *v = json_object_get(item, field);
		json_t *entry;

		if (name == NULL || name[0] == '\0')
			return cairn_error_set(CAIRN_EINVAL,
			                       "kubeconfig '%s': entry %zu of '%s' has no name",
			                       fname, i, list);
		if (v == NULL || json_is_null(v))
			v = json_object();
		else
			json_incref(v);
		if (!json_is_object(v)) {
			json_decref(v);
			return cairn_error_set(CAIRN_EINVAL,
			                       "kubeconfig '%s': '%s' of %s '%s' is not a map",
			                       fname, field, list, name);
		}
		if (json_object_get(into, name) != NULL) {
			json_decref(v);
			continue;
		}
		entry = json_pack("{s:s,s:o}", "dir", dir, "v", v);
		if (entry == NULL || json_object_set_new(into, name, entry) != 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

/* Merge one file's bytes into `kc` (see the top of the file). */
static int kc_merge_bytes(cairn_kubeconfig *kc, const char *data, size_t len, const char *fname)
{
	cairn_yaml_opts yo = CAIRN_YAML_OPTS_INIT;
	json_t *docs = NULL, *doc;
	char dir[PATH_MAX];
	const char *slash = fname != NULL ? strrchr(fname, '/') : NULL;
	const char *cur;
	int rc;

	yo.profile = CAIRN_YAML_KUBECTL;
	yo.max_input_bytes = KC_MAX_FILE;
	if (slash != NULL)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - fname), fname);
	else if (getcwd(dir, sizeof(dir)) == NULL)
		snprintf(dir, sizeof(dir), ".");
	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/");
	if (fname == NULL)
		fname = "<kubeconfig>";
	rc = cairn_yaml_load(&docs, NULL, data, len, fname, &yo);
	if (rc != 0)
		return rc;
	doc = json_array_get(docs, 0);
	if (doc == NULL || json_is_null(doc)) {
		rc = 0; /* an empty file adds nothing, as in kubectl */
		goto out;
	}
	if (!json_is_object(doc) || json_array_size(docs) != 1) {
		rc = cairn_error_set(CAIRN_EINVAL, "kubeconfig '%s' is not one YAML map", fname);
		goto out;
	}
	rc = kc_merge_list(kc->clusters, doc, "clusters", "cluster", dir, fname);
	if (rc == 0)
		rc = kc_merge_list(kc->users, doc, "users", "user", dir, fname);
	if (rc == 0)
		rc = kc_merge_list(kc->contexts, doc, "contexts", "context", dir, fname);
	cur = json_string_value(json_object_get(doc, "current-context"));
	if (rc == 0 && kc->current == NULL && cur != NULL && cur[0] != '\0') {
		kc->current = strdup(cur);
		if (kc->current == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
out:
	json_decref(docs);
	return rc;
}

int cairn_kubeconfig_parse(cairn_kubeconfig **out, const char *data, size_t len, const char *name,
                           unsigned flags)
{
	cairn_kubeconfig *kc = kc_new(flags);
	int rc;

	if (kc == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = kc_merge_bytes(kc, data, len, name);
	if (rc != 0) {
		cairn_kubeconfig_free(kc);
		return rc;
	}
	*out = kc;
	return 0;
}

/* Merge the file `path` when it exists; *found is set when it did. */
static int kc_merge_file(cairn_kubeconfig *kc, const char *path, int *found)
{
	cairn_buf b = CAIRN_BUF_INIT(KC_MAX_FILE);
	int rc = cairn_buf_read_file(&b, path);

	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		return 0;
	}
	if (rc == 0) {
		*found = 1;
		rc = kc_merge_bytes(kc, b.ptr != NULL ? b.ptr : "", b.len, path);
	}
	cairn_buf_dispose(&b);
	return rc;
}

int cairn_kubeconfig_load(cairn_kubeconfig **out, const char *path, unsigned flags)
{
	cairn_kubeconfig *kc = kc_new(flags);
	const char *env = getenv("KUBECONFIG");
	char def[PATH_MAX];
	int rc = 0, found = 0;

	if (kc == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (path != NULL) {
		rc = kc_merge_file(kc, path, &found);
		if (rc == 0 && !found)
			rc = cairn_error_set(CAIRN_ENOTFOUND, "kubeconfig '%s' does not exist",
			                     path);
	} else if (env != NULL && env[0] != '\0') {
		const char *p = env;

		while (rc == 0 && *p != '\0') {
			size_t n = strcspn(p, ":");
			char file[PATH_MAX];

			if (n > 0 && n < sizeof(file)) {
				memcpy(file, p, n);
				file[n] = '\0';
				rc = kc_merge_file(kc, file, &found);
			}
			p += n;
			if (*p == ':')
				p++;
		}
		if (rc == 0 && !found)
			rc = cairn_error_set(CAIRN_ENOTFOUND, "no file of $KUBECONFIG '%s' exists",
			                     env);
	} else {
		const char *home = getenv("HOME");

		snprintf(def, sizeof(def), "%s/.kube/config", home != NULL ? home : "");
		rc = kc_merge_file(kc, def, &found);
		if (rc == 0 && !found)
			rc = cairn_error_set(
			        CAIRN_ENOTFOUND,
			        "no kubeconfig: $KUBECONFIG is unset and '%s' does not exist", def);
	}
	if (rc != 0) {
		cairn_kubeconfig_free(kc);
		return rc;
	}
	*out = kc;
	return 0;
}

void cairn_kube_config_free(cairn_kube_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->context);
	free(cfg->server);
	free(cfg->namespace_);
	free(cfg->tls_server_name);
	free(cfg->exec_json);
	free(cfg->exec_user);
	kube_buf_wipe(&cfg->ca_pem);
	kube_buf_wipe(&cfg->cert_pem);
	kube_buf_wipe(&cfg->key_pem);
	kube_str_wipe(cfg->token);
	free(cfg->username);
	kube_str_wipe(cfg->password);
	free(cfg);
}

void kube_buf_wipe(cairn_buf *b)
{
	if (b->ptr != NULL)
		memset(b->ptr, 0, b->cap);
	cairn_buf_dispose(b);
}

void kube_str_wipe(char *s)
{
	if (s == NULL)
		return;
	memset(s, 0, strlen(s));
	free(s);
}

/*
 * Fill `dst` from `<field>-data` (base64) or `<field>` (a file path, only in
 * trusted kubeconfigs, relative to `dir`). The -data form wins when both
 * are written, as in kubectl.
 */
static int kc_pem(cairn_buf *dst, const json_t *v, const char *field, const char *dir,
                  unsigned flags, const char *what)
{
	char key[64];
	const char *data, *file;

	snprintf(key, sizeof(key), "%s-data", field);
	data = json_string_value(json_object_get(v, key));
	file = json_string_value(json_object_get(v, field));
	if (data != NULL && data[0] != '\0') {
		size_t cap = strlen(data), n = 0;
		int rc = cairn_buf_reserve(dst, cap + 1);

		if (rc != 0)
			return cairn_error_set(rc, "%s '%s': '%s' too large", what, key, field);
		rc = cairn_base64_decode((uint8_t *)dst->ptr, cap + 1, &n, data, cap);
		if (rc != 0)
			return cairn_error_set(CAIRN_EINVAL, "%s: '%s' is not valid base64", what,
			                       key);
		dst->len = n;
		dst->ptr[n] = '\0';
		return 0;
	}
	if (file != NULL && file[0] != '\0') {
		char path[PATH_MAX];
		int rc;

		if (!(flags & CAIRN_KUBECONFIG_TRUSTED))
			return cairn_error_set(CAIRN_EPERM,
			                       "%s: file path '%s' in '%s' refused: only the "
			                       "operator's kubeconfig may name files",
			                       what, file, field);
		if (file[0] == '/')
			snprintf(path, sizeof(path), "%s", file);
		else
			snprintf(path, sizeof(path), "%s/%s", dir, file);
		dst->max = KC_MAX_PEM;
		rc = cairn_buf_read_file(dst, path);
		if (rc != 0)
			return cairn_error_prefix("%s '%s': ", what, field);
	}
	return 0;
}

static int kc_strdup(char **dst, const char *s)
{
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

/* Fill the server side of `cfg` from a cluster entry. */
static int kc_cluster(cairn_kube_config *cfg, const json_t *entry, unsigned flags, const char *name)
{
	const json_t *v = json_object_get(entry, "v");
	const char *dir = json_string_value(json_object_get(entry, "dir"));
	const char *server = json_string_value(json_object_get(v, "server"));
	const json_t *insecure = json_object_get(v, "insecure-skip-tls-verify");
	size_t n;
	int rc;

	if (server == NULL || server[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "cluster '%s' has no server", name);
	if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "cluster '%s': server '%s' is not an http or https URL",
		                       name, server);
	rc = kc_strdup(&cfg->server, server);
	if (rc != 0)
		return rc;
	n = strlen(cfg->server);
	while (n > 0 && cfg->server[n - 1] == '/')
		cfg->server[--n] = '\0';
	cfg->insecure = json_is_true(insecure);
	if (insecure != NULL && !json_is_boolean(insecure) && !json_is_null(insecure))
		return cairn_error_set(CAIRN_EINVAL,
		                       "cluster '%s': insecure-skip-tls-verify is not a boolean",
		                       name);
	rc = kc_strdup(&cfg->tls_server_name,
	               json_string_value(json_object_get(v, "tls-server-name")));
	if (rc == 0)
		rc = kc_pem(&cfg->ca_pem, v, "certificate-authority", dir, flags, "cluster");
	return rc;
}

/* Fill the credentials of `cfg` from a user entry. */
static int kc_user(cairn_kube_config *cfg, const json_t *entry, unsigned flags, const char *name)
{
	const json_t *v = json_object_get(entry, "v");
	const char *dir = json_string_value(json_object_get(entry, "dir"));
	const char *token = json_string_value(json_object_get(v, "token"));
	const char *tfile = json_string_value(json_object_get(v, "tokenFile"));
	const char *user = json_string_value(json_object_get(v, "username"));
	int methods = 0, rc;

	if (json_object_get(v, "auth-provider") != NULL)
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "user '%s': auth-provider is not supported", name);
	rc = kc_pem(&cfg->cert_pem, v, "client-certificate", dir, flags, "user");
	if (rc == 0)
		rc = kc_pem(&cfg->key_pem, v, "client-key", dir, flags, "user");
	if (rc != 0)
		return rc;
	if ((cfg->cert_pem.len > 0) != (cfg->key_pem.len > 0))
		return cairn_error_set(CAIRN_EINVAL,
		                       "user '%s': a client certificate needs a client key and the "
		                       "reverse",
		                       name);
	if (token != NULL && token[0] != '\0') {
		rc = kc_strdup(&cfg->token, token);
		methods++;
	} else if (tfile != NULL && tfile[0] != '\0') {
		cairn_buf b = CAIRN_BUF_INIT(KC_MAX_PEM);
		const json_t *e = json_pack("{s:s,s:s}", "tokenFile", tfile, "dir", dir);

		rc = kc_pem(&b, e, "tokenFile", dir, flags, "user");
		json_decref((json_t *)e);
		while (rc == 0 && b.len > 0 &&
		       (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
			b.ptr[--b.len] = '\0';
		if (rc == 0 && b.len > 0)
			rc = kc_strdup(&cfg->token, b.ptr);
		kube_buf_wipe(&b);
		methods++;
	}
	if (rc == 0 && user != NULL && user[0] != '\0') {
		rc = kc_strdup(&cfg->username, user);
		if (rc == 0)
			rc = kc_strdup(&cfg->password,
			               json_string_value(json_object_get(v, "password")));
		methods++;
	}
	if (rc == 0 && json_object_get(v, "exec") != NULL) {
		if (!(flags & CAIRN_KUBECONFIG_TRUSTED))
			return cairn_error_set(
			        CAIRN_EPERM,
			        "user '%s': exec credential plugin refused: only the "
			        "operator's kubeconfig may run programs",
			        name);
		if (methods == 0)
			rc = kube_exec_credential(cfg, json_object_get(v, "exec"), name);
		if (rc == 0 && methods == 0) {
			cfg->exec_json = json_dumps(json_object_get(v, "exec"), JSON_COMPACT);
			cfg->exec_user = strdup(name);
			if (cfg->exec_json == NULL || cfg->exec_user == NULL)
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		methods++;
	}
	if (rc == 0 && methods > 1)
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "user '%s' has more than one authentication method (token, "
		                     "basic auth, exec)",
		                     name);
	return rc;
}

int cairn_kube_config_resolve(cairn_kube_config **out, const cairn_kubeconfig *kc,
                              const char *context)
{
	cairn_kube_config *cfg = calloc(1, sizeof(*cfg));
	const json_t *ctx, *cl, *us;
	const char *cname, *uname, *ns;
	int rc;

	if (cfg == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	cairn_buf_init(&cfg->ca_pem, KC_MAX_PEM);
	cairn_buf_init(&cfg->cert_pem, KC_MAX_PEM);
	cairn_buf_init(&cfg->key_pem, KC_MAX_PEM);
	if (context == NULL)
		context = kc->current;
	if (context == NULL) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "kubeconfig has no current-context");
		goto out;
	}
	ctx = json_object_get(json_object_get(kc->contexts, context), "v");
	if (ctx == NULL) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "context '%s' not found in kubeconfig",
		                     context);
		goto out;
	}
	cname = json_string_value(json_object_get(ctx, "cluster"));
	uname = json_string_value(json_object_get(ctx, "user"));
	ns = json_string_value(json_object_get(ctx, "namespace"));
	cl = cname != NULL ? json_object_get(kc->clusters, cname) : NULL;
	if (cl == NULL) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "context '%s': cluster '%s' not found",
		                     context, cname != NULL ? cname : "");
		goto out;
	}
	us = uname != NULL && uname[0] != '\0' ? json_object_get(kc->users, uname) : NULL;
	if (uname != NULL && uname[0] != '\0' && us == NULL) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "context '%s': user '%s' not found", context,
		                     uname);
		goto out;
	}
	rc = kc_strdup(&cfg->context, context);
	if (rc == 0)
		rc = kc_strdup(&cfg->namespace_, ns != NULL && ns[0] != '\0' ? ns : "default");
	if (rc == 0)
		rc = kc_cluster(cfg, cl, kc->flags, cname);
	if (rc == 0 && us != NULL)
		rc = kc_user(cfg, us, kc->flags, uname);
out:
	if (rc != 0) {
		cairn_kube_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int cairn_kube_config_in_cluster(cairn_kube_config **out, const char *sa_dir)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	cairn_kube_config *cfg;
	cairn_buf tok = CAIRN_BUF_INIT(KC_MAX_PEM), ns = CAIRN_BUF_INIT(4096);
	char path[PATH_MAX], server[512];
	int rc;

	if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "not in a cluster: "
		                       "$KUBERNETES_SERVICE_HOST or _PORT is unset");
	if (sa_dir == NULL)
		sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	cairn_buf_init(&cfg->ca_pem, KC_MAX_PEM);
	cairn_buf_init(&cfg->cert_pem, KC_MAX_PEM);
	cairn_buf_init(&cfg->key_pem, KC_MAX_PEM);
	/* an IPv6 service host needs brackets in the URL */
	snprintf(server, sizeof(server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
	         host, port);
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	rc = cairn_buf_read_file(&tok, path);
	while (rc == 0 && tok.len > 0 && (tok.ptr[tok.len - 1] == '\n'))
		tok.ptr[--tok.len] = '\0';
	if (rc == 0 && tok.len == 0)
		rc = cairn_error_set(CAIRN_EINVAL, "service-account token '%s' is empty", path);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
		rc = cairn_buf_read_file(&cfg->ca_pem, path);
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/namespace", sa_dir);
		if (cairn_buf_read_file(&ns, path) != 0) {
			cairn_error_clear();
			cairn_buf_reset(&ns);
		}
		while (ns.len > 0 && (ns.ptr[ns.len - 1] == '\n' || ns.ptr[ns.len - 1] == ' '))
			ns.ptr[--ns.len] = '\0';
	}
	if (rc == 0)
		rc = kc_strdup(&cfg->token, tok.ptr);
	if (rc == 0)
		rc = kc_strdup(&cfg->namespace_, ns.len > 0 ? ns.ptr : "default");
	if (rc == 0)
		rc = kc_strdup(&cfg->server, server);
	if (rc == 0)
		rc = kc_strdup(&cfg->context, "in-cluster");
	kube_buf_wipe(&tok);
	cairn_buf_dispose(&ns);
	if (rc != 0) {
		cairn_kube_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int cairn_kube_config_for(cairn_kube_config **out, const char *kubeconfig, const char *context,
                          int in_cluster)
{
	cairn_kubeconfig *kc = NULL;
	int rc;

	if (in_cluster)
		return cairn_kube_config_in_cluster(out, NULL);
	rc = cairn_kubeconfig_load(&kc, kubeconfig, CAIRN_KUBECONFIG_TRUSTED);
	if (rc == 0)
		rc = cairn_kube_config_resolve(out, kc, context);
	cairn_kubeconfig_free(kc);
	return rc;
}
