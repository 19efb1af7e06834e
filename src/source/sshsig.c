/*
 * sshsig.c - the OpenSSH signature format (PROTOCOL.sshsig) that git writes
 * into a commit's `gpgsig` header when gpg.format=ssh.
 *
 * The armored text carries base64 of:
 *     "SSHSIG" uint32(1) string(publickey) string(namespace)
 *     string(reserved) string(hash_algorithm) string(signature)
 * and the key signed
 *     "SSHSIG" string(namespace) string(reserved) string(hash_algorithm)
 *     string(H(message))
 * Ed25519 signatures are checked with libsodium; RSA and ECDSA with
 * OpenSSL's EVP interface (no deprecated RSA_/EC_KEY_ calls).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/source_verify.h"
#include "sshsig_priv.h"

#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define ARMOR_END "-----END SSH SIGNATURE-----"
#define SSHSIG_MAGIC "SSHSIG"
#define SSHSIG_MAGIC_LEN 6

struct cairn_sshsig {
	uint8_t *raw; /* the decoded blob; every pointer below points into it */
	size_t raw_len;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *reserved;
	size_t reserved_len;
	const uint8_t *sig_type; /* inner signature algorithm name */
	size_t sig_type_len;
	const uint8_t *sig; /* inner signature bytes */
	size_t sig_len;
	char ns[256];
	char hash_alg[8];
	char key_type[64];
};

/* ---- wire reader ---------------------------------------------------------- */

int source__ssh_get_u32(struct ssh_reader *r, uint32_t *out)
{
	if (r->len < 4)
		return -1;
	*out = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) |
	       r->p[3];
	r->p += 4;
	r->len -= 4;
	return 0;
}

int source__ssh_get_string(struct ssh_reader *r, const uint8_t **s, size_t *len)
{
	uint32_t n;
	struct ssh_reader save = *r;

	if (source__ssh_get_u32(r, &n) < 0 || n > r->len) {
		*r = save;
		return -1;
	}
	*s = r->p;
	*len = n;
	r->p += n;
	r->len -= n;
	return 0;
}

int source__ssh_string_is(const uint8_t *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* An mpint must be non-negative and minimally encoded enough to be usable. */
static int get_mpint(struct ssh_reader *r, const uint8_t **s, size_t *len)
{
	if (source__ssh_get_string(r, s, len) < 0)
		return -1;
	if (*len > 0 && ((*s)[0] & 0x80))
		return -1; /* negative */
	while (*len > 0 && (*s)[0] == 0)
		(*s)++, (*len)--;
	return 0;
}

/* Expected curve name and point size of an ECDSA key type, or NULL. */
static const char *ecdsa_curve(const char *type, size_t *coord)
{
	static const struct {
		const char *type, *curve;
		size_t coord;
	} curves[] = {
	        {"ecdsa-sha2-nistp256", "nistp256", 32},
	        {"ecdsa-sha2-nistp384", "nistp384", 48},
	        {"ecdsa-sha2-nistp521", "nistp521", 66},
	        {"sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", 32},
	};

	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (strcmp(type, curves[i].type) == 0) {
			*coord = curves[i].coord;
			return curves[i].curve;
		}
	}
	return NULL;
}

/*
 * The per-type body of a public key blob after its type string. Checked
 * fully so that a key we later hand to libsodium or OpenSSL has the sizes
 * they expect; trailing bytes are malformed.
 */
static int key_body_check(struct ssh_reader *r, const char *type, const char *what)
{
	const uint8_t *a, *b;
	size_t alen, blen, coord;
	const char *curve;
	int sk = strncmp(type, "sk-", 3) == 0;

	if (strcmp(type, "ssh-ed25519") == 0 || strcmp(type, "sk-ssh-ed25519@openssh.com") == 0) {
		if (source__ssh_get_string(r, &a, &alen) < 0 || alen != crypto_sign_PUBLICKEYBYTES)
			return cairn_error_set(CAIRN_EINVAL,
			                       "malformed %s: ed25519 public key is not 32 bytes",
			                       what);
	} else if (strcmp(type, "ssh-rsa") == 0) {
		if (get_mpint(r, &a, &alen) < 0 || get_mpint(r, &b, &blen) < 0 || alen == 0)
			return cairn_error_set(CAIRN_EINVAL,
			                       "malformed %s: bad RSA exponent or modulus", what);
		if (blen < 1024 / 8 || blen > 16384 / 8)
			return cairn_error_set(CAIRN_EINVAL,
			                       "malformed %s: RSA modulus of %zu bits is outside "
			                       "1024..16384",
			                       what, blen * 8);
	} else if ((curve = ecdsa_curve(type, &coord)) != NULL) {
		if (source__ssh_get_string(r, &a, &alen) < 0 ||
		    !source__ssh_string_is(a, alen, curve))
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "malformed %s: ECDSA curve does not match key type '%s'", what,
			        type);
		if (source__ssh_get_string(r, &b, &blen) < 0 || blen != 1 + 2 * coord || b[0] != 4)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "malformed %s: ECDSA point is not an uncompressed %s point", what,
			        curve);
	} else if (strstr(type, "-cert-v01@openssh.com") != NULL) {
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "SSH certificates are not supported: key type '%s' in %s",
		                       type, what);
	} else {
		return cairn_error_set(CAIRN_EUNSUPPORTED, "unsupported key type '%s' in %s", type,
		                       what);
	}
	if (sk && source__ssh_get_string(r, &a, &alen) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed %s: security-key application missing", what);
	if (r->len != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed %s: %zu trailing bytes after the key", what,
		                       r->len);
	return 0;
}

int source__ssh_key_check(const uint8_t *blob, size_t len, char *type, size_t typecap,
                          const char *what)
{
	struct ssh_reader r = {blob, len};
	const uint8_t *t;
	size_t tlen;
	char name[64];
	int rc;

	if (source__ssh_get_string(&r, &t, &tlen) < 0 || tlen == 0)
		return cairn_error_set(CAIRN_EINVAL, "malformed %s: no key type", what);
	if (tlen >= sizeof(name) || memchr(t, '\0', tlen) != NULL)
		return cairn_error_set(CAIRN_EINVAL, "malformed %s: key type name is invalid",
		                       what);
	memcpy(name, t, tlen);
	name[tlen] = '\0';
	if ((rc = key_body_check(&r, name, what)) < 0)
		return rc;
	if (type != NULL && typecap > 0)
		snprintf(type, typecap, "%s", name);
	return 0;
}

/* ---- armor and blob ------------------------------------------------------- */

/*
 * Strip the armor: the text must start with the BEGIN line and end with the
 * END line (surrounding whitespace aside); between them only base64 and
 * whitespace. The base64 is decoded into a fresh allocation.
 */
static int dearmor(uint8_t **out, size_t *outlen, const char *text, size_t len)
{
	cairn_buf b64 = CAIRN_BUF_INIT(CAIRN_SSHSIG_ARMOR_MAX);
	size_t bl = strlen(ARMOR_BEGIN), el = strlen(ARMOR_END), n;
	uint8_t *raw = NULL;
	int rc;

	while (len > 0 && (text[0] == ' ' || text[0] == '\t' || text[0] == '\r' || text[0] == '\n'))
		text++, len--;
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
	                   text[len - 1] == '\n'))
		len--;
	if (len < bl || memcmp(text, ARMOR_BEGIN, bl) != 0)
		return cairn_error_set(CAIRN_EINVAL, "not an SSH signature: missing '%s'",
		                       ARMOR_BEGIN);
	if (len < bl + el || memcmp(text + len - el, ARMOR_END, el) != 0)
		return cairn_error_set(CAIRN_EINVAL, "malformed SSH signature: missing '%s'",
		                       ARMOR_END);
	for (size_t i = bl; i < len - el; i++) {
		char c = text[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '=')) {
			rc = cairn_error_set(
			        CAIRN_EINVAL,
			        "malformed SSH signature: character 0x%02x is not base64",
			        (unsigned char)c);
			goto out;
		}
		if ((rc = cairn_buf_putc(&b64, c)) < 0)
			goto out;
	}
	if (b64.len == 0) {
		rc = cairn_error_set(CAIRN_EINVAL, "malformed SSH signature: empty body");
		goto out;
	}
	raw = malloc(b64.len);
	if (raw == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if (cairn_base64_decode(raw, b64.len, &n, b64.ptr, b64.len) < 0) {
		rc = cairn_error_set(CAIRN_EINVAL, "malformed SSH signature: invalid base64");
		goto out;
	}
	*out = raw, *outlen = n, raw = NULL;
	rc = 0;
out:
	free(raw);
	cairn_buf_dispose(&b64);
	return rc;
}

/* Copy a wire string into a C string field; refuse NULs and over-long. */
static int copy_name(char *dst, size_t cap, const uint8_t *s, size_t len, const char *what)
{
	if (len >= cap)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: %s is too long (%zu bytes)", what,
		                       len);
	if (memchr(s, '\0', len) != NULL)
		return cairn_error_set(CAIRN_EINVAL, "malformed SSH signature: %s contains a NUL",
		                       what);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* The inner signature: string(algorithm) string(bytes), nothing after. */
static int parse_inner_sig(struct cairn_sshsig *s, const uint8_t *p, size_t len)
{
	struct ssh_reader r = {p, len};

	if (source__ssh_get_string(&r, &s->sig_type, &s->sig_type_len) < 0 ||
	    source__ssh_get_string(&r, &s->sig, &s->sig_len) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: truncated signature field");
	if (strncmp(s->key_type, "sk-", 3) != 0 && r.len != 0)
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "malformed SSH signature: %zu trailing bytes in the signature "
		        "field",
		        r.len);
	return 0;
}

/* Parse the decoded blob into `s`, whose `raw` owns the bytes. */
static int parse_blob(struct cairn_sshsig *s)
{
	struct ssh_reader r = {s->raw, s->raw_len};
	const uint8_t *ns, *hash, *sig;
	size_t nslen, hashlen, siglen;
	uint32_t version;
	int rc;

	if (r.len < SSHSIG_MAGIC_LEN || memcmp(r.p, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: missing 'SSHSIG' magic");
	r.p += SSHSIG_MAGIC_LEN, r.len -= SSHSIG_MAGIC_LEN;
	if (source__ssh_get_u32(&r, &version) < 0)
		return cairn_error_set(CAIRN_EINVAL, "malformed SSH signature: truncated version");
	if (version != 1)
		return cairn_error_set(CAIRN_EUNSUPPORTED, "unsupported SSH signature version %u",
		                       version);
	if (source__ssh_get_string(&r, &s->key, &s->key_len) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: truncated public key");
	if ((rc = source__ssh_key_check(s->key, s->key_len, s->key_type, sizeof(s->key_type),
	                                "signature public key")) < 0)
		return rc;
	if (source__ssh_get_string(&r, &ns, &nslen) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: truncated namespace");
	if (nslen == 0)
		return cairn_error_set(CAIRN_EINVAL, "malformed SSH signature: empty namespace");
	if ((rc = copy_name(s->ns, sizeof(s->ns), ns, nslen, "namespace")) < 0)
		return rc;
	if (source__ssh_get_string(&r, &s->reserved, &s->reserved_len) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: truncated reserved field");
	if (source__ssh_get_string(&r, &hash, &hashlen) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: truncated hash algorithm");
	if (!source__ssh_string_is(hash, hashlen, "sha512") &&
	    !source__ssh_string_is(hash, hashlen, "sha256"))
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "unsupported SSH signature hash algorithm '%.*s'",
		                       (int)(hashlen > 32 ? 32 : hashlen), (const char *)hash);
	memcpy(s->hash_alg, hash, hashlen);
	s->hash_alg[hashlen] = '\0';
	if (source__ssh_get_string(&r, &sig, &siglen) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "malformed SSH signature: truncated signature");
	if (r.len != 0)
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "malformed SSH signature: %zu trailing bytes after the signature", r.len);
	return parse_inner_sig(s, sig, siglen);
}

int cairn_sshsig_parse(cairn_sshsig **out, const char *text, size_t len)
{
	struct cairn_sshsig *s;
	int rc;

	if (len > CAIRN_SSHSIG_ARMOR_MAX)
		return cairn_error_set(CAIRN_ELIMIT,
		                       "SSH signature is too long (%zu bytes, limit %zu)", len,
		                       CAIRN_SSHSIG_ARMOR_MAX);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = dearmor(&s->raw, &s->raw_len, text, len)) < 0 || (rc = parse_blob(s)) < 0) {
		cairn_sshsig_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void cairn_sshsig_free(cairn_sshsig *sig)
{
	if (sig == NULL)
		return;
	free(sig->raw);
	free(sig);
}

const char *cairn_sshsig_namespace(const cairn_sshsig *sig)
{
	return sig->ns;
}

const char *cairn_sshsig_key_type(const cairn_sshsig *sig)
{
	return sig->key_type;
}

const char *cairn_sshsig_hash_alg(const cairn_sshsig *sig)
{
	return sig->hash_alg;
}

const uint8_t *cairn_sshsig_key_blob(const cairn_sshsig *sig, size_t *len)
{
	*len = sig->key_len;
	return sig->key;
}

void cairn_ssh_fingerprint(char out[CAIRN_SSH_FINGERPRINT_LEN], const uint8_t *key, size_t len)
{
	uint8_t digest[CAIRN_SHA256_LEN];
	char b64[48];
	size_t n;

	cairn_sha256(digest, key, len);
	cairn_base64_encode(b64, digest, sizeof(digest));
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(out, CAIRN_SSH_FINGERPRINT_LEN, "SHA256:%s", b64);
}

/* ---- verification --------------------------------------------------------- */

/* The bytes the key signed: magic, namespace, reserved, hash name, H(msg). */
static int signed_data(cairn_buf *tbs, const struct cairn_sshsig *s, const void *msg, size_t len)
{
	uint8_t digest[crypto_hash_sha512_BYTES];
	size_t dlen;
	const struct {
		const void *p;
		size_t n;
	} fields[] = {
	        {s->ns, strlen(s->ns)},
	        {s->reserved, s->reserved_len},
	        {s->hash_alg, strlen(s->hash_alg)},
	        {digest, 0},
	};
	int rc;

	if (strcmp(s->hash_alg, "sha512") == 0) {
		crypto_hash_sha512(digest, msg, len);
		dlen = crypto_hash_sha512_BYTES;
	} else {
		cairn_sha256(digest, msg, len);
		dlen = CAIRN_SHA256_LEN;
	}
	if ((rc = cairn_buf_put(tbs, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t n = i == 3 ? dlen : fields[i].n;
		uint8_t be[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
		                 (uint8_t)n};

		if ((rc = cairn_buf_put(tbs, be, 4)) < 0 ||
		    (rc = cairn_buf_put(tbs, fields[i].p, n)) < 0)
			return rc;
	}
	return 0;
}

static int verify_ed25519(const struct cairn_sshsig *s, const cairn_buf *tbs)
{
	struct ssh_reader r = {s->key, s->key_len};
	const uint8_t *t, *pk;
	size_t tlen, pklen;

	if (!source__ssh_string_is(s->sig_type, s->sig_type_len, "ssh-ed25519") ||
	    s->sig_len != crypto_sign_BYTES)
		return cairn_error_set(CAIRN_EPERM,
		                       "bad signature: not an ed25519 signature of %d bytes",
		                       crypto_sign_BYTES);
	source__ssh_get_string(&r, &t, &tlen);
	source__ssh_get_string(&r, &pk, &pklen);
	if (crypto_sign_verify_detached(s->sig, (const unsigned char *)tbs->ptr, tbs->len, pk) != 0)
		return cairn_error_set(
		        CAIRN_EPERM, "bad signature: the signature does not match the signed data");
	return 0;
}

/* Run EVP_DigestVerify with `md` over the signed data; `der` is the signature. */
static int evp_verify(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *sig, size_t siglen,
                      const cairn_buf *tbs)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)tbs->ptr, tbs->len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return cairn_error_set(
		        CAIRN_EPERM, "bad signature: the signature does not match the signed data");
	return 0;
}

/* Build an EVP_PKEY from OSSL parameters ("RSA" or "EC"). */
static EVP_PKEY *pkey_from(const char *alg, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/*
 * RSA: PKCS#1 v1.5 with SHA-256 or SHA-512 as the signature algorithm
 * names. SHA-1 ("ssh-rsa") is refused, as ssh-keygen refuses it for
 * sshsig. A signature shorter than the modulus is left-padded, as OpenSSH
 * does.
 */
static int verify_rsa(const struct cairn_sshsig *s, const cairn_buf *tbs)
{
	struct ssh_reader r = {s->key, s->key_len};
	const uint8_t *t, *e, *n;
	size_t tlen, elen, nlen;
	const EVP_MD *md;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *padded = NULL;
	int rc;

	if (source__ssh_string_is(s->sig_type, s->sig_type_len, "rsa-sha2-256"))
		md = EVP_sha256();
	else if (source__ssh_string_is(s->sig_type, s->sig_type_len, "rsa-sha2-512"))
		md = EVP_sha512();
	else
		return cairn_error_set(
		        CAIRN_EUNSUPPORTED,
		        "unsupported RSA signature algorithm '%.*s' (only rsa-sha2-256 "
		        "and rsa-sha2-512)",
		        (int)(s->sig_type_len > 32 ? 32 : s->sig_type_len),
		        (const char *)s->sig_type);
	source__ssh_get_string(&r, &t, &tlen);
	get_mpint(&r, &e, &elen);
	get_mpint(&r, &n, &nlen);
	if (s->sig_len > nlen || s->sig_len == 0)
		return cairn_error_set(CAIRN_EPERM,
		                       "bad signature: RSA signature length %zu for a "
		                       "%zu-byte modulus",
		                       s->sig_len, nlen);
	padded = calloc(1, nlen);
	bld = OSSL_PARAM_BLD_new();
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	if (padded == NULL || bld == NULL || bn_n == NULL || bn_e == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
	    (pkey = pkey_from("RSA", bld)) == NULL) {
		rc = cairn_error_set(CAIRN_EPERM, "bad signature: the RSA key is not usable");
		goto out;
	}
	memcpy(padded + (nlen - s->sig_len), s->sig, s->sig_len);
	rc = evp_verify(pkey, md, padded, nlen, tbs);
out:
	EVP_PKEY_free(pkey);
	BN_free(bn_n);
	BN_free(bn_e);
	OSSL_PARAM_BLD_free(bld);
	free(padded);
	return rc;
}

/* The DER form of an SSH ECDSA signature body (mpint r, mpint s). */
static int ecdsa_der(uint8_t **der, int *derlen, const uint8_t *p, size_t len)
{
	struct ssh_reader r = {p, len};
	const uint8_t *rb, *sb;
	size_t rlen, slen;
	ECDSA_SIG *sig;
	BIGNUM *bn_r, *bn_s;
	int rc = 0;

	if (get_mpint(&r, &rb, &rlen) < 0 || get_mpint(&r, &sb, &slen) < 0 || r.len != 0)
		return cairn_error_set(CAIRN_EPERM,
		                       "bad signature: malformed ECDSA signature body");
	sig = ECDSA_SIG_new();
	bn_r = BN_bin2bn(rb, (int)rlen, NULL);
	bn_s = BN_bin2bn(sb, (int)slen, NULL);
	if (sig == NULL || bn_r == NULL || bn_s == NULL || ECDSA_SIG_set0(sig, bn_r, bn_s) != 1) {
		BN_free(bn_r);
		BN_free(bn_s);
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	*der = NULL;
	*derlen = i2d_ECDSA_SIG(sig, der);
	if (*derlen <= 0)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
out:
	ECDSA_SIG_free(sig);
	return rc;
}

static int verify_ecdsa(const struct cairn_sshsig *s, const cairn_buf *tbs)
{
	struct ssh_reader r = {s->key, s->key_len};
	const uint8_t *t, *curve, *q;
	size_t tlen, clen, qlen;
	const char *group;
	const EVP_MD *md;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *der = NULL;
	int derlen = 0, rc;

	if (!source__ssh_string_is(s->sig_type, s->sig_type_len, s->key_type))
		return cairn_error_set(
		        CAIRN_EPERM,
		        "bad signature: signature algorithm does not match key type '%s'",
		        s->key_type);
	source__ssh_get_string(&r, &t, &tlen);
	source__ssh_get_string(&r, &curve, &clen);
	source__ssh_get_string(&r, &q, &qlen);
	if (source__ssh_string_is(curve, clen, "nistp256"))
		group = "P-256", md = EVP_sha256();
	else if (source__ssh_string_is(curve, clen, "nistp384"))
		group = "P-384", md = EVP_sha384();
	else
		group = "P-521", md = EVP_sha512();
	if ((rc = ecdsa_der(&der, &derlen, s->sig, s->sig_len)) < 0)
		return rc;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, qlen) != 1 ||
	    (pkey = pkey_from("EC", bld)) == NULL) {
		rc = cairn_error_set(CAIRN_EPERM,
		                     "bad signature: the ECDSA key is not a curve point");
		goto out;
	}
	rc = evp_verify(pkey, md, der, (size_t)derlen, tbs);
out:
	EVP_PKEY_free(pkey);
	OSSL_PARAM_BLD_free(bld);
	OPENSSL_free(der);
	return rc;
}

int cairn_sshsig_verify(const cairn_sshsig *sig, const void *msg, size_t len)
{
	cairn_buf tbs = CAIRN_BUF_INIT(0);
	int rc;

	if (strncmp(sig->key_type, "sk-", 3) == 0)
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "unsupported key type '%s': security-key signatures are not "
		                       "supported",
		                       sig->key_type);
	if (sodium_init() < 0)
		return cairn_error_set(CAIRN_ERROR, "libsodium failed to initialise");
	if ((rc = signed_data(&tbs, sig, msg, len)) < 0)
		goto out;
	if (strcmp(sig->key_type, "ssh-ed25519") == 0)
		rc = verify_ed25519(sig, &tbs);
	else if (strcmp(sig->key_type, "ssh-rsa") == 0)
		rc = verify_rsa(sig, &tbs);
	else
		rc = verify_ecdsa(sig, &tbs);
out:
	cairn_buf_dispose(&tbs);
	return rc;
}
