/*
 * src/sim/tls.c - the simulator's own PKI, made in memory with OpenSSL:
 * a CA, a serving certificate for 127.0.0.1/localhost and a client
 * certificate, all handed out as PEM strings (libmicrohttpd here uses
 * GnuTLS and takes PEM), plus the kubeconfig that points kubectl at us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cairn/error.h"
#include "cairn/hash.h"

#include "sim.h"

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static char *pem_of_cert(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n;

	if (!b)
		return NULL;
	if (PEM_write_bio_X509(b, x) == 1) {
		n = BIO_get_mem_data(b, &data);
		out = malloc((size_t)n + 1);
		if (out) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
	return out;
}

static char *pem_of_key(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n;

	if (!b)
		return NULL;
	if (PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1) {
		n = BIO_get_mem_data(b, &data);
		out = malloc((size_t)n + 1);
		if (out) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
	return out;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

/* Make one certificate for `key`, signed by (issuer, ikey), or self-signed
 * when issuer is NULL. kind: 0 CA, 1 server, 2 client. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *ikey,
                       int kind)
{
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (!x)
		return NULL;
	X509_set_version(x, 2);
	if (RAND_bytes(serial, sizeof serial) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	if (org)
		X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org, -1,
		                           -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	if (kind == 0) {
		if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
		    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
		    add_ext(x, x, NID_subject_key_identifier, "hash"))
			goto out;
	} else {
		if (add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
		    add_ext(x, issuer, NID_key_usage,
		            "critical,digitalSignature,keyEncipherment") ||
		    add_ext(x, issuer, NID_ext_key_usage,
		            kind == 1 ? "serverAuth" : "clientAuth") ||
		    add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"))
			goto out;
		if (kind == 1 &&
		    add_ext(x, issuer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"))
			goto out;
	}
	if (X509_sign(x, ikey ? ikey : key, EVP_sha256()) == 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * sim_tls_generate - make the CA, serving and client certificates.
 * client_cn becomes the client certificate's CN (the user name the
 * server sees); its O is system:masters like kubeadm's admin.
 * Returns 0 or CAIRN_ERROR; fills every field of *t on success.
 */
int sim_tls_generate(sim_tls *t, const char *client_cn)
{
	EVP_PKEY *cak = NULL, *sk = NULL, *ck = NULL;
	X509 *ca = NULL, *sc = NULL, *cc = NULL;
	sim_tls r = {0};
	int rc = cairn_error_set(CAIRN_ERROR, "cannot generate the simulator's certificates");

	cak = new_key();
	sk = new_key();
	ck = new_key();
	if (!cak || !sk || !ck)
		goto out;
	ca = make_cert(cak, "cairn-sim-ca", NULL, NULL, NULL, 0);
	if (!ca)
		goto out;
	sc = make_cert(sk, "cairn-sim", NULL, ca, cak, 1);
	cc = make_cert(ck, client_cn, "system:masters", ca, cak, 2);
	if (!sc || !cc)
		goto out;
	r.ca_pem = pem_of_cert(ca);
	r.ca_key_pem = pem_of_key(cak);
	r.server_cert_pem = pem_of_cert(sc);
	r.server_key_pem = pem_of_key(sk);
	r.client_cert_pem = pem_of_cert(cc);
	r.client_key_pem = pem_of_key(ck);
	if (!r.ca_pem || !r.ca_key_pem || !r.server_cert_pem || !r.server_key_pem ||
	    !r.client_cert_pem || !r.client_key_pem) {
		sim_tls_dispose(&r);
		goto out;
	}
	*t = r;
	rc = 0;
	cairn_error_clear();
out:
	X509_free(ca);
	X509_free(sc);
	X509_free(cc);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ck);
	return rc;
}

void sim_tls_dispose(sim_tls *t)
{
	if (!t)
		return;
	free(t->ca_pem);
	free(t->ca_key_pem);
	free(t->server_cert_pem);
	free(t->server_key_pem);
	free(t->client_cert_pem);
	free(t->client_key_pem);
	memset(t, 0, sizeof *t);
}

static int put_b64(cairn_buf *b, const char *s)
{
	size_t n = strlen(s);
	char *enc = malloc(cairn_base64_encoded_len(n) + 1);
	int rc;

	if (!enc)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	cairn_base64_encode(enc, (const uint8_t *)s, n);
	rc = cairn_buf_puts(b, enc);
	free(enc);
	return rc;
}

/*
 * sim_kubeconfig_write - write a kubeconfig (mode 0600) with one cluster
 * (server_url, the CA inline), a user "cairn-sim" holding the bearer token
 * and a user "cairn-sim-cert" holding the client certificate; the current
 * context uses the token user. Returns 0 or CAIRN_EIO/ENOMEM.
 */
int sim_kubeconfig_write(const sim_tls *t, const char *path, const char *server_url,
                         const char *token)
{
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);
	int fd = -1, rc;

	rc = cairn_buf_printf(&b,
	                      "apiVersion: v1\nkind: Config\nclusters:\n- name: cairn-sim\n"
	                      "  cluster:\n    server: %s\n    certificate-authority-data: ",
	                      server_url);
	rc = rc ? rc : put_b64(&b, t->ca_pem);
	rc = rc ? rc
	        : cairn_buf_printf(&b,
	                           "\nusers:\n- name: cairn-sim\n  user:\n    token: %s\n"
	                           "- name: cairn-sim-cert\n  user:\n    client-certificate-data: ",
	                           token);
	rc = rc ? rc : put_b64(&b, t->client_cert_pem);
	rc = rc ? rc : cairn_buf_puts(&b, "\n    client-key-data: ");
	rc = rc ? rc : put_b64(&b, t->client_key_pem);
	rc = rc ? rc
	        : cairn_buf_puts(&b, "\ncontexts:\n- name: cairn-sim\n  context:\n"
	                             "    cluster: cairn-sim\n    user: cairn-sim\n"
	                             "    namespace: default\n"
	                             "- name: cairn-sim-cert\n  context:\n"
	                             "    cluster: cairn-sim\n    user: cairn-sim-cert\n"
	                             "    namespace: default\n"
	                             "current-context: cairn-sim\npreferences: {}\n");
	if (rc)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, b.ptr, b.len) != (ssize_t)b.len) {
		rc = cairn_error_set(CAIRN_EIO, "cannot write kubeconfig '%s'", path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	cairn_buf_dispose(&b);
	return rc;
}
