/* kube_internal.h - shared between the files of the kube module. */
#ifndef CAIRN_KUBE_INTERNAL_H
#define CAIRN_KUBE_INTERNAL_H

#include <jansson.h>

struct curl_slist;

#include "cairn/buf.h"
#include "cairn/kube.h"

/* One cluster's client (see cairn_kube_client_new()). */
struct cairn_kube_client {
	void *h; /* CURL * */
	char *server, *ns, *token, *username, *password;
	cairn_buf ca, cert, key;
	int insecure;
	cairn_kube_client_opts opts;
	cairn_kube_status status;
	uint64_t requests;
	uint64_t rng;
	struct curl_slist *connect_to; /* tls-server-name: the URL names it, this the address */
	char *exec_json, *exec_user;   /* the exec plugin, to refresh its credential */
	int64_t token_expiry_us;       /* wall clock; 0: none */
	json_t *disc; /* array of [group, version, kind, resource, namespaced, singular, shorts] */
	int64_t disc_at_us; /* monotonic time of the last discovery */
};

/* Free a buffer or a string after zeroing it (secrets). */
void kube_buf_wipe(cairn_buf *b);
void kube_str_wipe(char *s);

/*
 * Run a kubeconfig `exec` plugin (client.authentication.k8s.io/v1 or
 * v1beta1) and store the ExecCredential's token or client certificate and
 * expiry in `cfg`. Trusted kubeconfigs only: the caller checks.
 */
int kube_exec_credential(cairn_kube_config *cfg, const json_t *exec, const char *user);

/*
 * Reset libcurl handle `handle` and set what every request of `c` shares:
 * URL, protocols, no redirects, timeouts, headers, TLS material, tls-server-name,
 * credentials. The caller adds the method, body and callbacks.
 */
void kube_http_setup(cairn_kube_client *c, void *handle, const char *url, struct curl_slist *hdrs,
                     int64_t timeout_ms);

/*
 * Run the client's exec plugin again and take its new token or client
 * certificate and expiry. CAIRN_ENOTFOUND when the client has no plugin.
 */
int kube_exec_refresh(cairn_kube_client *c);

/* Keep the Status of a failed answer (HTTP `code`, its `body`) in the client
 * and set the error from it; returns the CAIRN_E* code for `code`. */
int kube_http_fail(cairn_kube_client *c, long code, const cairn_buf *body, const char *method,
                   const char *path);

/* Append query parameter key=val (percent-encoded) to path `b`. */
int kube_qadd(cairn_buf *b, const char *key, const char *val);

/* The path of `m` in `ns` ("": the client's, NULL: all namespaces), with
 * "/name" when `name` is not NULL (names with '/', '?', '%' refused). */
int kube_path(cairn_buf *b, cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
              const char *name);

/* Whether the exec credential expires within the next 10 s. */
int kube_creds_expiring(const cairn_kube_client *c);

#endif
