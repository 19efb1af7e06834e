/*
 * source_sig.c - SSH signature verification: the sshsig parser and checks
 * (fixtures signed by ssh-keygen, tests/unit/data/sshsig/README), the
 * allowed-signers parser with every error it reports, the principal
 * patterns, and the verdicts of cairn_sshsig_check() on signatures made
 * here with libsodium.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/source_verify.h"
#include "source_tests.h"

/* ---- helpers -------------------------------------------------------------- */

static char *read_fixture(const char *name, size_t *len)
{
	char path[1024];
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);

	test_data_path(path, sizeof(path), name);
	ck_assert_int_eq(cairn_buf_read_file(&b, path), 0);
	return cairn_buf_detach(&b, len);
}

static void put_u32(cairn_buf *b, uint32_t v)
{
	uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	ck_assert_int_eq(cairn_buf_put(b, be, 4), 0);
}

static void put_str(cairn_buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	ck_assert_int_eq(cairn_buf_put(b, p, n), 0);
}

static void put_cstr(cairn_buf *b, const char *s)
{
	put_str(b, s, strlen(s));
}

/* Armor `n` bytes as ssh-keygen does (line breaks every 70 characters). */
static char *armor(const void *p, size_t n)
{
	cairn_buf b = CAIRN_BUF_INIT(0);
	char *b64 = malloc(cairn_base64_encoded_len(n));

	cairn_base64_encode(b64, p, n);
	cairn_buf_puts(&b, "-----BEGIN SSH SIGNATURE-----\n");
	for (size_t i = 0, l = strlen(b64); i < l; i += 70) {
		cairn_buf_put(&b, b64 + i, l - i < 70 ? l - i : 70);
		cairn_buf_putc(&b, '\n');
	}
	cairn_buf_puts(&b, "-----END SSH SIGNATURE-----\n");
	free(b64);
	return cairn_buf_detach(&b, NULL);
}

/* A generated Ed25519 key and the signatures it makes. */
struct tkey {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	cairn_buf blob; /* public key in SSH wire format */
};

static void tkey_init(struct tkey *k)
{
	ck_assert_int_ge(sodium_init(), 0);
	crypto_sign_keypair(k->pk, k->sk);
	cairn_buf_init(&k->blob, 0);
	put_cstr(&k->blob, "ssh-ed25519");
	put_str(&k->blob, k->pk, sizeof(k->pk));
}

/* "ssh-ed25519 BASE64" of the key, for allowed-signers lines. */
static char *tkey_line(const struct tkey *k)
{
	char *b64 = malloc(cairn_base64_encoded_len(k->blob.len)), *s;
	cairn_buf b = CAIRN_BUF_INIT(0);

	cairn_base64_encode(b64, (const uint8_t *)k->blob.ptr, k->blob.len);
	cairn_buf_printf(&b, "ssh-ed25519 %s", b64);
	free(b64);
	s = cairn_buf_detach(&b, NULL);
	return s;
}

/*
 * The sshsig blob of `msg` signed by `k` for namespace `ns` with `hash`,
 * written independently of the code under test from PROTOCOL.sshsig.
 */
static void make_blob(cairn_buf *out, const struct tkey *k, const char *ns, const char *hash,
                      const char *msg)
{
	cairn_buf tbs = CAIRN_BUF_INIT(0), sig = CAIRN_BUF_INIT(0);
	uint8_t digest[64], s[crypto_sign_BYTES];
	size_t dlen = strcmp(hash, "sha512") == 0 ? 64 : 32;

	if (dlen == 64)
		crypto_hash_sha512(digest, (const uint8_t *)msg, strlen(msg));
	else
		crypto_hash_sha256(digest, (const uint8_t *)msg, strlen(msg));
	cairn_buf_put(&tbs, "SSHSIG", 6);
	put_cstr(&tbs, ns);
	put_cstr(&tbs, "");
	put_cstr(&tbs, hash);
	put_str(&tbs, digest, dlen);
	crypto_sign_detached(s, NULL, (const uint8_t *)tbs.ptr, tbs.len, k->sk);
	put_cstr(&sig, "ssh-ed25519");
	put_str(&sig, s, sizeof(s));

	cairn_buf_init(out, 0);
	cairn_buf_put(out, "SSHSIG", 6);
	put_u32(out, 1);
	put_str(out, k->blob.ptr, k->blob.len);
	put_cstr(out, ns);
	put_cstr(out, "");
	put_cstr(out, hash);
	put_str(out, sig.ptr, sig.len);
	cairn_buf_dispose(&tbs);
	cairn_buf_dispose(&sig);
}

/* Parse armored `blob` bytes and expect failure `code` with `needle`. */
static void expect_blob_error(const void *p, size_t n, int code, const char *needle)
{
	cairn_sshsig *sig = NULL;
	char *text = armor(p, n);

	ck_assert_int_eq(cairn_sshsig_parse(&sig, text, strlen(text)), code);
	ck_assert_ptr_null(sig);
	ck_assert_error_contains(needle);
	free(text);
}

/* ---- sshsig: fixtures from ssh-keygen ------------------------------------- */

static const struct {
	const char *name, *type;
} fixtures[] = {
        {"ed25519", "ssh-ed25519"},          {"rsa2048", "ssh-rsa"},
        {"ecdsa256", "ecdsa-sha2-nistp256"}, {"ecdsa384", "ecdsa-sha2-nistp384"},
        {"ecdsa521", "ecdsa-sha2-nistp521"},
};

START_TEST(sshsig_fixtures_verify)
{
	char file[128], fp[CAIRN_SSH_FINGERPRINT_LEN], *sigtext, *msg, *want;
	size_t siglen, msglen, wantlen, klen;
	cairn_sshsig *sig = NULL;
	const uint8_t *key;

	snprintf(file, sizeof(file), "sshsig/%s.msg.sig", fixtures[_i].name);
	sigtext = read_fixture(file, &siglen);
	snprintf(file, sizeof(file), "sshsig/%s.msg", fixtures[_i].name);
	msg = read_fixture(file, &msglen);
	snprintf(file, sizeof(file), "sshsig/%s.fp", fixtures[_i].name);
	want = read_fixture(file, &wantlen);
	want[strcspn(want, "\n")] = '\0';

	ck_assert_int_eq(cairn_sshsig_parse(&sig, sigtext, siglen), 0);
	ck_assert_str_eq(cairn_sshsig_namespace(sig), "git");
	ck_assert_str_eq(cairn_sshsig_key_type(sig), fixtures[_i].type);
	ck_assert_str_eq(cairn_sshsig_hash_alg(sig), "sha512");
	key = cairn_sshsig_key_blob(sig, &klen);
	cairn_ssh_fingerprint(fp, key, klen);
	ck_assert_str_eq(fp, want); /* ssh-keygen -l is the oracle */
	ck_assert_int_eq(cairn_sshsig_verify(sig, msg, msglen), 0);

	msg[msglen - 2] ^= 1; /* one bit of the message */
	ck_assert_int_eq(cairn_sshsig_verify(sig, msg, msglen), CAIRN_EPERM);
	ck_assert_error_contains("bad signature: the signature does not match the signed data");
	msg[msglen - 2] ^= 1;
	ck_assert_int_eq(cairn_sshsig_verify(sig, msg, msglen - 1), CAIRN_EPERM);

	cairn_sshsig_free(sig);
	free(sigtext);
	free(msg);
	free(want);
}
END_TEST

START_TEST(sshsig_fixture_file_sha256)
{
	size_t siglen, msglen;
	char *sigtext = read_fixture("sshsig/ed25519-file-sha256.sig", &siglen);
	char *msg = read_fixture("sshsig/ed25519.msg", &msglen);
	cairn_sshsig *sig = NULL;

	ck_assert_int_eq(cairn_sshsig_parse(&sig, sigtext, siglen), 0);
	ck_assert_str_eq(cairn_sshsig_namespace(sig), "file");
	ck_assert_str_eq(cairn_sshsig_hash_alg(sig), "sha256");
	ck_assert_int_eq(cairn_sshsig_verify(sig, msg, msglen), 0);
	cairn_sshsig_free(sig);
	free(sigtext);
	free(msg);
}
END_TEST

/* A signature with one byte of the inner signature changed is bad. */
START_TEST(sshsig_fixture_sig_byte_flipped)
{
	char file[128], *sigtext, *msg;
	size_t siglen, msglen, klen;
	cairn_sshsig *sig = NULL;
	uint8_t raw[4096];
	size_t rawlen;
	char *b64start, *again;
	cairn_buf b64 = CAIRN_BUF_INIT(0);

	snprintf(file, sizeof(file), "sshsig/%s.msg.sig", fixtures[_i].name);
	sigtext = read_fixture(file, &siglen);
	snprintf(file, sizeof(file), "sshsig/%s.msg", fixtures[_i].name);
	msg = read_fixture(file, &msglen);
	b64start = strchr(sigtext, '\n') + 1;
	for (char *p = b64start; *p && *p != '-'; p++)
		if (*p != '\n')
			cairn_buf_putc(&b64, *p);
	ck_assert_int_eq(cairn_base64_decode(raw, sizeof(raw), &rawlen, b64.ptr, b64.len), 0);
	raw[rawlen - 10] ^= 0x01; /* inside the signature bytes (or the ECDSA s) */
	again = armor(raw, rawlen);
	ck_assert_int_eq(cairn_sshsig_parse(&sig, again, strlen(again)), 0);
	(void)cairn_sshsig_key_blob(sig, &klen);
	ck_assert_int_eq(cairn_sshsig_verify(sig, msg, msglen), CAIRN_EPERM);
	ck_assert_error_contains("bad signature");
	cairn_sshsig_free(sig);
	cairn_buf_dispose(&b64);
	free(again);
	free(sigtext);
	free(msg);
}
END_TEST

/* ---- sshsig: armor errors ------------------------------------------------- */

START_TEST(sshsig_armor_errors)
{
	static const struct {
		const char *text, *needle;
		int code;
	} cases[] = {
	        {"", "not an SSH signature: missing '-----BEGIN SSH SIGNATURE-----'", CAIRN_EINVAL},
	        {"-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----",
	         "not an SSH signature: missing", CAIRN_EINVAL},
	        {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n",
	         "malformed SSH signature: missing '-----END SSH SIGNATURE-----'", CAIRN_EINVAL},
	        {"-----BEGIN SSH SIGNATURE-----\nU1N*U0lH\n-----END SSH SIGNATURE-----",
	         "malformed SSH signature: character 0x2a is not base64", CAIRN_EINVAL},
	        {"-----BEGIN SSH SIGNATURE-----\n \n-----END SSH SIGNATURE-----",
	         "malformed SSH signature: empty body", CAIRN_EINVAL},
	        {"-----BEGIN SSH SIGNATURE-----\nU1NIU0l\n-----END SSH SIGNATURE-----",
	         "malformed SSH signature: invalid base64", CAIRN_EINVAL},
	        {"-----BEGIN SSH SIGNATURE-----\nQUJDREVGR0g=\n-----END SSH SIGNATURE-----",
	         "malformed SSH signature: missing 'SSHSIG' magic", CAIRN_EINVAL},
	        {"-----BEGIN SSH SIGNATURE----------END SSH SIGNATURE-----",
	         "malformed SSH signature: empty body", CAIRN_EINVAL},
	};
	cairn_sshsig *sig = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(cairn_sshsig_parse(&sig, cases[i].text, strlen(cases[i].text)),
		                 cases[i].code);
		ck_assert_ptr_null(sig);
		ck_assert_error_contains(cases[i].needle);
	}
}
END_TEST

START_TEST(sshsig_too_long)
{
	size_t n = CAIRN_SSHSIG_ARMOR_MAX + 1;
	char *big = malloc(n);
	cairn_sshsig *sig = NULL;

	memset(big, 'A', n);
	ck_assert_int_eq(cairn_sshsig_parse(&sig, big, n), CAIRN_ELIMIT);
	ck_assert_error_contains("SSH signature is too long");
	free(big);
}
END_TEST

/* ---- sshsig: blob errors -------------------------------------------------- */

/* Cut a good blob at each field boundary: each cut names its field. */
START_TEST(sshsig_truncations)
{
	struct tkey k;
	cairn_buf blob;
	size_t klen, at;

	tkey_init(&k);
	make_blob(&blob, &k, "git", "sha512", "hello");
	klen = k.blob.len;
	at = 6;
	expect_blob_error(blob.ptr, at + 2, CAIRN_EINVAL,
	                  "malformed SSH signature: truncated version");
	at += 4;
	expect_blob_error(blob.ptr, at + 4 + klen - 1, CAIRN_EINVAL,
	                  "malformed SSH signature: truncated public key");
	at += 4 + klen;
	expect_blob_error(blob.ptr, at + 5, CAIRN_EINVAL,
	                  "malformed SSH signature: truncated namespace");
	at += 4 + 3;
	expect_blob_error(blob.ptr, at + 2, CAIRN_EINVAL,
	                  "malformed SSH signature: truncated reserved field");
	at += 4;
	expect_blob_error(blob.ptr, at + 6, CAIRN_EINVAL,
	                  "malformed SSH signature: truncated hash algorithm");
	at += 4 + 6;
	expect_blob_error(blob.ptr, at + 20, CAIRN_EINVAL,
	                  "malformed SSH signature: truncated signature");
	expect_blob_error(blob.ptr, 3, CAIRN_EINVAL, "missing 'SSHSIG' magic");
	/* and the whole blob plus one byte */
	cairn_buf_putc(&blob, 'x');
	expect_blob_error(blob.ptr, blob.len, CAIRN_EINVAL,
	                  "malformed SSH signature: 1 trailing bytes after the signature");
	cairn_buf_dispose(&blob);
	cairn_buf_dispose(&k.blob);
}
END_TEST

/* Build a blob field by field; NULL key means the test key. */
static void custom_blob(cairn_buf *b, uint32_t version, const cairn_buf *key, const void *ns,
                        size_t nslen, const char *hash, const cairn_buf *sigfield)
{
	cairn_buf_init(b, 0);
	cairn_buf_put(b, "SSHSIG", 6);
	put_u32(b, version);
	put_str(b, key->ptr, key->len);
	put_str(b, ns, nslen);
	put_cstr(b, "");
	put_cstr(b, hash);
	put_str(b, sigfield->ptr, sigfield->len);
}

START_TEST(sshsig_field_errors)
{
	struct tkey k;
	cairn_buf b, sigf = CAIRN_BUF_INIT(0), bad = CAIRN_BUF_INIT(0);
	char longns[300];
	uint8_t z[64] = {0};

	tkey_init(&k);
	put_cstr(&sigf, "ssh-ed25519");
	put_str(&sigf, z, 64);

	custom_blob(&b, 2, &k.blob, "git", 3, "sha512", &sigf);
	expect_blob_error(b.ptr, b.len, CAIRN_EUNSUPPORTED, "unsupported SSH signature version 2");
	cairn_buf_dispose(&b);

	custom_blob(&b, 1, &k.blob, "", 0, "sha512", &sigf);
	expect_blob_error(b.ptr, b.len, CAIRN_EINVAL, "malformed SSH signature: empty namespace");
	cairn_buf_dispose(&b);

	custom_blob(&b, 1, &k.blob, "g\0t", 3, "sha512", &sigf);
	expect_blob_error(b.ptr, b.len, CAIRN_EINVAL,
	                  "malformed SSH signature: namespace contains a NUL");
	cairn_buf_dispose(&b);

	memset(longns, 'n', sizeof(longns));
	custom_blob(&b, 1, &k.blob, longns, sizeof(longns), "sha512", &sigf);
	expect_blob_error(b.ptr, b.len, CAIRN_EINVAL,
	                  "malformed SSH signature: namespace is too long (300 bytes)");
	cairn_buf_dispose(&b);

	custom_blob(&b, 1, &k.blob, "git", 3, "md5", &sigf);
	expect_blob_error(b.ptr, b.len, CAIRN_EUNSUPPORTED,
	                  "unsupported SSH signature hash algorithm 'md5'");
	cairn_buf_dispose(&b);

	put_cstr(&bad, "ssh-ed25519"); /* a signature field without its bytes */
	custom_blob(&b, 1, &k.blob, "git", 3, "sha512", &bad);
	expect_blob_error(b.ptr, b.len, CAIRN_EINVAL,
	                  "malformed SSH signature: truncated signature field");
	cairn_buf_dispose(&b);

	cairn_buf_put(&sigf, "xy", 2);
	custom_blob(&b, 1, &k.blob, "git", 3, "sha512", &sigf);
	expect_blob_error(b.ptr, b.len, CAIRN_EINVAL,
	                  "malformed SSH signature: 2 trailing bytes in the signature field");
	cairn_buf_dispose(&b);

	cairn_buf_dispose(&sigf);
	cairn_buf_dispose(&bad);
	cairn_buf_dispose(&k.blob);
}
END_TEST

/* Key blobs that are refused, each with its message. */
START_TEST(sshsig_key_errors)
{
	cairn_buf key = CAIRN_BUF_INIT(0), sigf = CAIRN_BUF_INIT(0), b;
	uint8_t bytes[200];

	memset(bytes, 0x11, sizeof(bytes));
	put_cstr(&sigf, "x");
	put_cstr(&sigf, "y");
#define KEYCASE(build, code, needle)                                                               \
	do {                                                                                       \
		cairn_buf_reset(&key);                                                             \
		build;                                                                             \
		custom_blob(&b, 1, &key, "git", 3, "sha512", &sigf);                               \
		expect_blob_error(b.ptr, b.len, code, needle);                                     \
		cairn_buf_dispose(&b);                                                             \
	} while (0)
	KEYCASE((void)0, CAIRN_EINVAL, "malformed signature public key: no key type");
	KEYCASE(put_cstr(&key, "ssh-dss"), CAIRN_EUNSUPPORTED,
	        "unsupported key type 'ssh-dss' in signature public key");
	KEYCASE(put_cstr(&key, "ssh-ed25519-cert-v01@openssh.com"), CAIRN_EUNSUPPORTED,
	        "SSH certificates are not supported: key type 'ssh-ed25519-cert-v01@openssh.com'");
	KEYCASE((put_cstr(&key, "ssh-ed25519"), put_str(&key, bytes, 31)), CAIRN_EINVAL,
	        "malformed signature public key: ed25519 public key is not 32 bytes");
	KEYCASE((put_cstr(&key, "ssh-ed25519"), put_str(&key, bytes, 32), put_cstr(&key, "z")),
	        CAIRN_EINVAL, "malformed signature public key: 5 trailing bytes after the key");
	KEYCASE((put_cstr(&key, "ssh-rsa"), put_str(&key, "\x80", 1), put_str(&key, bytes, 200)),
	        CAIRN_EINVAL, "malformed signature public key: bad RSA exponent or modulus");
	KEYCASE((put_cstr(&key, "ssh-rsa"), put_str(&key, "\x01\x00\x01", 3),
	         put_str(&key, bytes, 100)),
	        CAIRN_EINVAL, "RSA modulus of 800 bits is outside 1024..16384");
	KEYCASE((put_cstr(&key, "ecdsa-sha2-nistp256"), put_cstr(&key, "nistp384")), CAIRN_EINVAL,
	        "ECDSA curve does not match key type 'ecdsa-sha2-nistp256'");
	KEYCASE((put_cstr(&key, "ecdsa-sha2-nistp256"), put_cstr(&key, "nistp256"),
	         put_str(&key, bytes, 33)),
	        CAIRN_EINVAL, "ECDSA point is not an uncompressed nistp256 point");
	KEYCASE((put_cstr(&key, "sk-ssh-ed25519@openssh.com"), put_str(&key, bytes, 32)),
	        CAIRN_EINVAL, "security-key application missing");
	KEYCASE(put_str(&key, "a\0b", 3), CAIRN_EINVAL, "key type name is invalid");
#undef KEYCASE
	cairn_buf_dispose(&key);
	cairn_buf_dispose(&sigf);
}
END_TEST

/* Signatures made here: both hashes verify; odd inner types are refused. */
START_TEST(sshsig_generated)
{
	struct tkey k;
	cairn_buf blob, sk = CAIRN_BUF_INIT(0), sigf = CAIRN_BUF_INIT(0), b;
	cairn_sshsig *sig = NULL;
	char *text;
	uint8_t z[64] = {0};

	tkey_init(&k);
	make_blob(&blob, &k, "git", "sha256", "payload");
	text = armor(blob.ptr, blob.len);
	ck_assert_int_eq(cairn_sshsig_parse(&sig, text, strlen(text)), 0);
	ck_assert_int_eq(cairn_sshsig_verify(sig, "payload", 7), 0);
	ck_assert_int_eq(cairn_sshsig_verify(sig, "payloaD", 7), CAIRN_EPERM);
	cairn_sshsig_free(sig);
	free(text);
	cairn_buf_dispose(&blob);

	/* a 64-byte signature labelled as another algorithm */
	put_cstr(&sigf, "ssh-rsa");
	put_str(&sigf, z, 64);
	custom_blob(&b, 1, &k.blob, "git", 3, "sha512", &sigf);
	text = armor(b.ptr, b.len);
	ck_assert_int_eq(cairn_sshsig_parse(&sig, text, strlen(text)), 0);
	ck_assert_int_eq(cairn_sshsig_verify(sig, "x", 1), CAIRN_EPERM);
	ck_assert_error_contains("bad signature: not an ed25519 signature of 64 bytes");
	cairn_sshsig_free(sig);
	free(text);
	cairn_buf_dispose(&b);

	/* security keys parse but are not checked */
	put_cstr(&sk, "sk-ssh-ed25519@openssh.com");
	put_str(&sk, k.pk, 32);
	put_cstr(&sk, "ssh:");
	custom_blob(&b, 1, &sk, "git", 3, "sha512", &sigf);
	text = armor(b.ptr, b.len);
	ck_assert_int_eq(cairn_sshsig_parse(&sig, text, strlen(text)), 0);
	ck_assert_int_eq(cairn_sshsig_verify(sig, "x", 1), CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("unsupported key type 'sk-ssh-ed25519@openssh.com'");
	cairn_sshsig_free(sig);
	free(text);
	cairn_buf_dispose(&b);
	cairn_buf_dispose(&sk);
	cairn_buf_dispose(&sigf);
	cairn_buf_dispose(&k.blob);
	cairn_sshsig_free(NULL);
}
END_TEST

/* ---- allowed signers ------------------------------------------------------ */

START_TEST(signers_good_forms)
{
	struct tkey k;
	char *key, text[4096];
	cairn_allowed_signers *as = NULL;

	tkey_init(&k);
	key = tkey_line(&k);
	snprintf(text, sizeof(text),
	         "# team keys\n"
	         "\n"
	         "   \t\n"
	         "alice@example.com %s alice's laptop\r\n"
	         "\"bob smith,carol@*\" %s\n"
	         "*@example.com NAMESPACES=\"git,file\",Valid-After=\"20200101\",valid-before="
	         "\"20300101000000Z\" %s\n"
	         "ci cert-authority %s\n"
	         "  indented  namespaces=\"a\\\"b\"   %s trailing words",
	         key, key, key, key, key);
	ck_assert_msg(cairn_allowed_signers_parse(&as, text, strlen(text), "f") == 0, "%s",
	              cairn_error_last()->message);
	ck_assert_uint_eq(cairn_allowed_signers_count(as), 5);
	cairn_allowed_signers_free(as);
	as = NULL;
	ck_assert_int_eq(cairn_allowed_signers_parse(&as, "", 0, "f"), 0);
	ck_assert_uint_eq(cairn_allowed_signers_count(as), 0);
	cairn_allowed_signers_free(as);
	cairn_allowed_signers_free(NULL);
	free(key);
	cairn_buf_dispose(&k.blob);
}
END_TEST

/* Every error of the parser, with line and column. */
START_TEST(signers_errors)
{
	static const struct {
		const char *line, *needle; /* %K is replaced by a valid key */
	} cases[] = {
	        {"\"alice %K", "f:2:1: principals have no closing quote"},
	        {"\"\" %K", "f:2:2: empty principals"},
	        {"\"a\"b %K", "f:2:4: expected a blank after the principals"},
	        {"alice", "f:2:6: missing key after the principals"},
	        {"alice   ", "f:2:9: missing key after the principals"},
	        {"alice foo=\"x\" %K", "f:2:7: unknown option 'foo'"},
	        {"alice cert-authority,cert-authority %K",
	         "f:2:22: option 'cert-authority' is given twice"},
	        {"alice namespaces=\"a\",namespaces=\"b\" %K",
	         "f:2:22: option 'namespaces' is given twice"},
	        {"alice namespaces=git %K", "f:2:18: option 'namespaces' needs a quoted value"},
	        {"alice namespaces=\"git %K", "value of option 'namespaces' has no closing quote"},
	        {"alice namespaces=\"\" %K", "f:2:7: option 'namespaces' has an empty value"},
	        {"alice valid-after=\"2020\" %K",
	         "f:2:20: invalid time '2020' (expected YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, "
	         "with Z for UTC)"},
	        {"alice valid-after=\"20201301\" %K", "invalid time '20201301'"},
	        {"alice valid-before=\"2020010a\" %K", "invalid time '2020010a'"},
	        {"alice valid-before=\"20200101\",valid-before=\"20200102\" %K",
	         "option 'valid-before' is given twice"},
	        {"alice valid-after=\"20200101\",valid-after=\"20200102\" %K",
	         "option 'valid-after' is given twice"},
	        {"alice valid-after=\"20210101\",valid-before=\"20200101\" %K",
	         "f:2:1: valid-before is not after valid-after"},
	        {"alice cert-authority;x %K", "f:2:21: expected ',' or a blank after an option"},
	        {"alice ssh-ed25519", "f:2:18: missing base64 key after key type 'ssh-ed25519'"},
	        {"alice ssh-ed25519 AAAA*AAA", "f:2:19: key is not valid base64"},
	        {"alice ssh-rsa %B",
	         "f:2:7: key type 'ssh-rsa' does not match the key's encoded type"},
	        {"alice ssh-dss AAAAB3NzaC1kc3M=", "f:2: unsupported key type 'ssh-dss' in key"},
	        {"alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAAQA=",
	         "f:2: malformed key: ed25519 public key is not 32 bytes"},
	        {"alice "
	         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx y",
	         "f:2:7: key type is too long"},
	};
	struct tkey k;
	char *key, *b64, text[4096], line[2048];
	cairn_allowed_signers *as = NULL;

	tkey_init(&k);
	key = tkey_line(&k);
	b64 = strchr(key, ' ') + 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].line;
		size_t n = 0;
		char msg[2048];

		while (*p && n < sizeof(line) - 200) {
			if (p[0] == '%' && (p[1] == 'K' || p[1] == 'B')) {
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s",
				                      p[1] == 'K' ? key : b64);
				p += 2;
			} else {
				line[n++] = *p++;
			}
		}
		line[n] = '\0';
		snprintf(text, sizeof(text), "# first\n%s\n", line);
		/* CAIRN_EUNSUPPORTED for a key type Cairn does not know, else EINVAL */
		ck_assert_int_lt(cairn_allowed_signers_parse(&as, text, strlen(text), "f"), 0);
		ck_assert_ptr_null(as);
		cairn_error_format(cairn_error_last(), msg, sizeof(msg));
		ck_assert_msg(strstr(msg, cases[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i,
		              msg, cases[i].needle);
	}
	free(key);
	cairn_buf_dispose(&k.blob);
}
END_TEST

START_TEST(signers_limits)
{
	cairn_allowed_signers *as = NULL;
	struct tkey k;
	char *key, *text;
	cairn_buf b = CAIRN_BUF_INIT(0);
	size_t n = CAIRN_ALLOWED_SIGNERS_MAX + 1;

	text = malloc(n);
	memset(text, '#', n);
	ck_assert_int_eq(cairn_allowed_signers_parse(&as, text, n, "big"), CAIRN_ELIMIT);
	ck_assert_error_contains("allowed signers file is larger than 1048576 bytes");
	free(text);

	tkey_init(&k);
	key = tkey_line(&k);
	for (int i = 0; i <= CAIRN_ALLOWED_SIGNERS_MAX_ENTRIES; i++)
		cairn_buf_printf(&b, "a %s\n", key);
	b.max = CAIRN_BUF_DEFAULT_MAX;
	ck_assert_uint_gt(b.len, 0);
	if (b.len <= CAIRN_ALLOWED_SIGNERS_MAX) {
		ck_assert_int_eq(cairn_allowed_signers_parse(&as, b.ptr, b.len, "many"),
		                 CAIRN_ELIMIT);
		ck_assert_error_contains("more than 10000 allowed signers");
	}
	cairn_buf_reset(&b);
	cairn_buf_puts(&b, "\"");
	for (int i = 0; i < 4100; i++)
		cairn_buf_putc(&b, 'p');
	cairn_buf_printf(&b, "\" %s\n", key);
	ck_assert_int_eq(cairn_allowed_signers_parse(&as, b.ptr, b.len, "f"), CAIRN_EINVAL);
	ck_assert_error_contains("principals are longer than 4096 bytes");
	cairn_buf_dispose(&b);
	free(key);
	cairn_buf_dispose(&k.blob);
}
END_TEST

START_TEST(signers_load_missing)
{
	cairn_allowed_signers *as = NULL;

	ck_assert_int_eq(cairn_allowed_signers_load(&as, "/nonexistent/allowed"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("/nonexistent/allowed");
	ck_assert_ptr_null(as);
}
END_TEST

/* ---- cairn_sshsig_check: the verdicts ------------------------------------- */

/* Run the check of a "git" signature by `k` over "payload" at time `t`. */
static cairn_sig_result check_with(const char *signers, const cairn_buf *blob, int64_t t)
{
	cairn_allowed_signers *as = NULL;
	cairn_sig_result r;
	char *text = armor(blob->ptr, blob->len);

	ck_assert_msg(cairn_allowed_signers_parse(&as, signers, strlen(signers), "t") == 0, "%s",
	              cairn_error_last()->message);
	ck_assert_int_eq(cairn_sshsig_check(&r, as, text, strlen(text), "payload", 7, "git", t), 0);
	cairn_allowed_signers_free(as);
	free(text);
	return r;
}

START_TEST(check_verdicts)
{
	/* 2020-06-01T00:00:00Z */
	const int64_t t = 1590969600;
	static const struct {
		const char *fmt; /* %s is the signing key; %o another key */
		cairn_sig_status want;
		const char *principal, *needle;
	} cases[] = {
	        {"alice %s\n", CAIRN_SIG_VERIFIED, "alice", "good \"git\" signature for alice"},
	        {"bob %o\n", CAIRN_SIG_KEY_NOT_ALLOWED, "", "is not in the allowed signers"},
	        {"alice valid-before=\"20200101Z\" %s\n", CAIRN_SIG_EXPIRED, "",
	         "allowed only before the commit time"},
	        {"alice valid-after=\"20200601000001Z\" %s\n", CAIRN_SIG_NOT_YET_VALID, "",
	         "allowed only after the commit time"},
	        {"alice valid-before=\"20200601000000Z\" %s\n", CAIRN_SIG_VERIFIED, "alice", ""},
	        {"alice namespaces=\"file\" %s\n", CAIRN_SIG_NAMESPACE_NOT_ALLOWED, "",
	         "for namespace \"git\""},
	        {"alice namespaces=\"file\" %s\nalice %s\n", CAIRN_SIG_VERIFIED, "alice", ""},
	        {"bob namespaces=\"file\" %s\ncarol %s\n", CAIRN_SIG_NAMESPACE_NOT_ALLOWED, "", ""},
	        {"!*1,x1,x2 %s\n", CAIRN_SIG_VERIFIED, "x2", "for x2"},
	        {"a,!a %s\n", CAIRN_SIG_PRINCIPAL_REFUSED, "", "refuse it"},
	        {"ca cert-authority %s\n", CAIRN_SIG_KEY_NOT_ALLOWED, "",
	         "only as a cert-authority"},
	        {"old valid-before=\"20200101Z\" %s\nnew %s\n", CAIRN_SIG_VERIFIED, "new", ""},
	        {"\"alice smith\" %s\n", CAIRN_SIG_VERIFIED, "alice smith", ""},
	};
	struct tkey k, other;
	char *key, *okey, signers[4096];
	cairn_buf blob;

	tkey_init(&k);
	tkey_init(&other);
	key = tkey_line(&k);
	okey = tkey_line(&other);
	make_blob(&blob, &k, "git", "sha512", "payload");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cairn_sig_result r;
		const char *f = cases[i].fmt;
		size_t n = 0;

		while (*f && n < sizeof(signers) - 200) {
			if (f[0] == '%' && (f[1] == 's' || f[1] == 'o')) {
				n += (size_t)snprintf(signers + n, sizeof(signers) - n, "%s",
				                      f[1] == 's' ? key : okey);
				f += 2;
			} else {
				signers[n++] = *f++;
			}
		}
		signers[n] = '\0';
		r = check_with(signers, &blob, t);
		ck_assert_msg(r.status == cases[i].want, "case %zu: status %s, reason '%s'", i,
		              cairn_sig_status_name(r.status), r.reason);
		ck_assert_str_eq(r.principal, cases[i].principal);
		ck_assert_msg(strstr(r.reason, cases[i].needle) != NULL, "case %zu: '%s'", i,
		              r.reason);
		ck_assert_str_eq(r.key_type, "ssh-ed25519");
		ck_assert_int_eq((int)strlen(r.fingerprint), CAIRN_SSH_FINGERPRINT_LEN - 1);
	}
	free(key);
	free(okey);
	cairn_buf_dispose(&blob);
	cairn_buf_dispose(&k.blob);
	cairn_buf_dispose(&other.blob);
}
END_TEST

START_TEST(check_refusals_before_keys)
{
	struct tkey k;
	char *key, signers[512];
	cairn_allowed_signers *as = NULL;
	cairn_buf blob;
	cairn_sig_result r;
	char *text;
	const char *pgp = "-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n";
	const char *bad = "-----BEGIN SSH SIGNATURE-----\nQUJD\n-----END SSH SIGNATURE-----\n";

	tkey_init(&k);
	key = tkey_line(&k);
	snprintf(signers, sizeof(signers), "alice %s\n", key);
	ck_assert_int_eq(cairn_allowed_signers_parse(&as, signers, strlen(signers), "t"), 0);

	make_blob(&blob, &k, "file", "sha512", "payload");
	text = armor(blob.ptr, blob.len);
	ck_assert_int_eq(cairn_sshsig_check(&r, as, text, strlen(text), "payload", 7, "git", 0), 0);
	ck_assert_int_eq(r.status, CAIRN_SIG_WRONG_NAMESPACE);
	ck_assert_str_eq(r.reason, "the signature was made for namespace 'file', not 'git'");
	free(text);
	cairn_buf_dispose(&blob);

	make_blob(&blob, &k, "git", "sha512", "payload");
	text = armor(blob.ptr, blob.len);
	ck_assert_int_eq(cairn_sshsig_check(&r, as, text, strlen(text), "payloaD", 7, "git", 0), 0);
	ck_assert_int_eq(r.status, CAIRN_SIG_BAD);
	ck_assert_str_eq(cairn_sig_status_name(r.status), "bad-signature");
	free(text);
	cairn_buf_dispose(&blob);

	ck_assert_int_eq(cairn_sshsig_check(&r, as, pgp, strlen(pgp), "p", 1, "git", 0), 0);
	ck_assert_int_eq(r.status, CAIRN_SIG_NOT_SSH);
	ck_assert_str_eq(r.reason, "the commit carries an OpenPGP (GPG) signature, not an SSH "
	                           "signature");
	ck_assert_int_eq(cairn_sshsig_check(&r, as, "junk", 4, "p", 1, "git", 0), 0);
	ck_assert_int_eq(r.status, CAIRN_SIG_NOT_SSH);
	ck_assert_int_eq(cairn_sshsig_check(&r, as, bad, strlen(bad), "p", 1, "git", 0), 0);
	ck_assert_int_eq(r.status, CAIRN_SIG_MALFORMED);
	ck_assert_str_eq(r.reason, "malformed SSH signature: missing 'SSHSIG' magic");
	ck_assert_str_eq(r.fingerprint, "");

	cairn_allowed_signers_free(as);
	free(key);
	cairn_buf_dispose(&k.blob);
}
END_TEST

START_TEST(check_status_names)
{
	ck_assert_str_eq(cairn_sig_status_name(CAIRN_SIG_VERIFIED), "verified");
	ck_assert_str_eq(cairn_sig_status_name(CAIRN_SIG_PRINCIPAL_REFUSED), "principal-refused");
	ck_assert_str_eq(cairn_sig_status_name(CAIRN_SIG_NAMESPACE_NOT_ALLOWED),
	                 "namespace-not-allowed");
	ck_assert_str_eq(cairn_sig_status_name((cairn_sig_status)99), "unknown");
}
END_TEST

START_TEST(verify_commit_missing_repo)
{
	cairn_allowed_signers *as = NULL;
	cairn_sig_result r;

	ck_assert_int_eq(cairn_allowed_signers_parse(&as, "", 0, "t"), 0);
	ck_assert_int_eq(cairn_source_verify_commit_path(&r, "/nonexistent/repo", "HEAD", as),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("repository '/nonexistent/repo' not found");
	cairn_allowed_signers_free(as);
}
END_TEST

void source_sig_tests(Suite *s)
{
	TCase *tc = tcase_create("sshsig");

	tcase_add_loop_test(tc, sshsig_fixtures_verify, 0, 5);
	tcase_add_loop_test(tc, sshsig_fixture_sig_byte_flipped, 0, 5);
	tcase_add_test(tc, sshsig_fixture_file_sha256);
	tcase_add_test(tc, sshsig_armor_errors);
	tcase_add_test(tc, sshsig_too_long);
	tcase_add_test(tc, sshsig_truncations);
	tcase_add_test(tc, sshsig_field_errors);
	tcase_add_test(tc, sshsig_key_errors);
	tcase_add_test(tc, sshsig_generated);
	suite_add_tcase(s, tc);

	tc = tcase_create("allowed_signers");
	tcase_add_test(tc, signers_good_forms);
	tcase_add_test(tc, signers_errors);
	tcase_add_test(tc, signers_limits);
	tcase_add_test(tc, signers_load_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("verdicts");
	tcase_add_test(tc, check_verdicts);
	tcase_add_test(tc, check_refusals_before_keys);
	tcase_add_test(tc, check_status_names);
	tcase_add_test(tc, verify_commit_missing_repo);
	suite_add_tcase(s, tc);
}
