/* kube_internal.h - shared between the files of the kube module. */
#ifndef CAIRN_KUBE_INTERNAL_H
#define CAIRN_KUBE_INTERNAL_H

#include <jansson.h>

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

#endif
