/*
 * keys.c - Ed25519 keys in the C2SP signed-note text formats:
 *   verifier: <name>+<hex key id>+<base64(0x01 || public key)>
 *   signer:   PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_private.h"
#include "cairn/error.h"
#include "cairn/hash.h"

#define SIGNER_PREFIX "PRIVATE+KEY+"

int audit__key_name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CAIRN_AUDIT_KEY_NAME_MAX)
		return cairn_error_set(CAIRN_EINVAL, "key name must be 1 to %d bytes long",
		                       CAIRN_AUDIT_KEY_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || c == '+')
			return cairn_error_set(CAIRN_EINVAL,
			                       "invalid key name '%.*s': only printable ASCII "
			                       "without spaces or '+' is allowed",
			                       (int)(n > 64 ? 64 : n), name);
	}
	return 0;
}

static int signer_from_seed(cairn_audit_signer **out, const char *name, const uint8_t seed[32])
{
	cairn_audit_signer *s;
	int rc = audit__key_name_check(name);

	if (rc < 0)
		return rc;
	if (sodium_init() < 0)
		return cairn_error_set(CAIRN_ERROR, "libsodium failed to initialise");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	memcpy(s->name, name, strlen(name) + 1);
	crypto_sign_seed_keypair(s->pub, s->sk, seed);
	audit__key_id(s->key_id, s->name, s->pub);
	*out = s;
	return 0;
}

int cairn_audit_signer_generate(cairn_audit_signer **out, const char *name)
{
	uint8_t seed[32];
	int rc;

	if (sodium_init() < 0)
		return cairn_error_set(CAIRN_ERROR, "libsodium failed to initialise");
	randombytes_buf(seed, sizeof(seed));
	rc = signer_from_seed(out, name, seed);
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

cairn_audit_signer *audit__signer_dup(const cairn_audit_signer *s)
{
	cairn_audit_signer *d = malloc(sizeof(*d));

	if (d != NULL)
		memcpy(d, s, sizeof(*d));
	return d;
}

void cairn_audit_signer_free(cairn_audit_signer *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, sizeof(*s));
	free(s);
}

void cairn_audit_signer_verifier(cairn_audit_verifier *out, const cairn_audit_signer *s)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, s->name, sizeof(out->name));
	memcpy(out->key_id, s->key_id, 4);
	memcpy(out->pub, s->pub, 32);
}

/* Append "<hex id>+<base64(0x01 || key32)>" shared by both formats. */
static int put_id_and_key(cairn_buf *out, const uint8_t id[4], const uint8_t key[32])
{
	uint8_t raw[33];
	char hex[9], b64[64];

	cairn_hex_encode(hex, id, 4);
	raw[0] = 0x01;
	memcpy(raw + 1, key, 32);
	cairn_base64_encode(b64, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return cairn_buf_printf(out, "%s+%s", hex, b64);
}

int cairn_audit_signer_format(cairn_buf *out, const cairn_audit_signer *s)
{
	size_t len0 = out->len;
	int rc = cairn_buf_printf(out, SIGNER_PREFIX "%s+", s->name);

	if (rc == 0)
		rc = put_id_and_key(out, s->key_id, s->sk); /* the first 32 bytes: the seed */
	if (rc < 0)
		cairn_buf_truncate(out, len0);
	return rc;
}

int cairn_audit_verifier_format(cairn_buf *out, const cairn_audit_verifier *v)
{
	size_t len0 = out->len;
	int rc = cairn_buf_printf(out, "%s+", v->name);

	if (rc == 0)
		rc = put_id_and_key(out, v->key_id, v->pub);
	if (rc < 0)
		cairn_buf_truncate(out, len0);
	return rc;
}

static void trim(const char **text, size_t *len)
{
	while (*len > 0 && (**text == ' ' || **text == '\t' || **text == '\n' || **text == '\r')) {
		(*text)++;
		(*len)--;
	}
	while (*len > 0 && ((*text)[*len - 1] == ' ' || (*text)[*len - 1] == '\t' ||
	                    (*text)[*len - 1] == '\n' || (*text)[*len - 1] == '\r'))
		(*len)--;
}

/*
 * Split "<name>+<hex id>+<base64>" (already without any PRIVATE+KEY+
 * prefix) into its parts, checking the version byte. The name is copied
 * into name[]; key gets the 32 key bytes.
 */
static int parse_parts(char name[CAIRN_AUDIT_KEY_NAME_MAX + 1], uint8_t id[4], uint8_t key[32],
                       const char *text, size_t len, const char *what)
{
	const char *p1 = memchr(text, '+', len), *p2;
	uint8_t raw[40];
	size_t rawlen = 0;
	char hex[9];
	int rc;

	if (p1 == NULL || (size_t)(p1 - text) > CAIRN_AUDIT_KEY_NAME_MAX)
		return cairn_error_set(CAIRN_EINVAL, "not a %s: expected name+id+key", what);
	p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - text));
	if (p2 == NULL || p2 - p1 != 9)
		return cairn_error_set(CAIRN_EINVAL, "not a %s: expected an 8-digit hex key id",
		                       what);
	memcpy(name, text, (size_t)(p1 - text));
	name[p1 - text] = '\0';
	rc = audit__key_name_check(name);
	if (rc < 0)
		return cairn_error_prefix("not a %s: ", what);
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	if (cairn_hex_decode(id, 4, hex) < 0)
		return cairn_error_set(CAIRN_EINVAL, "not a %s: bad key id '%s'", what, hex);
	if (cairn_base64_decode(raw, sizeof(raw), &rawlen, p2 + 1, len - (size_t)(p2 + 1 - text)) <
	            0 ||
	    rawlen != 33 || raw[0] != 0x01) {
		sodium_memzero(raw, sizeof(raw));
		return cairn_error_set(CAIRN_EINVAL,
		                       "not a %s: the key must be base64 of 0x01 and 32 bytes",
		                       what);
	}
	memcpy(key, raw + 1, 32);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int cairn_audit_verifier_parse(cairn_audit_verifier *out, const char *text, size_t len)
{
	cairn_audit_verifier v;
	uint8_t id[4];
	int rc;

	trim(&text, &len);
	if (len >= strlen(SIGNER_PREFIX) && memcmp(text, SIGNER_PREFIX, 12) == 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "this is a private key; give the public (.pub) key");
	memset(&v, 0, sizeof(v));
	rc = parse_parts(v.name, v.key_id, v.pub, text, len, "verifier key");
	if (rc < 0)
		return rc;
	audit__key_id(id, v.name, v.pub);
	if (memcmp(id, v.key_id, 4) != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "verifier key '%s': key id does not match the key", v.name);
	*out = v;
	return 0;
}

int cairn_audit_signer_parse(cairn_audit_signer **out, const char *text, size_t len)
{
	char name[CAIRN_AUDIT_KEY_NAME_MAX + 1];
	uint8_t id[4], seed[32];
	cairn_audit_signer *s = NULL;
	int rc;

	trim(&text, &len);
	if (len < strlen(SIGNER_PREFIX) || memcmp(text, SIGNER_PREFIX, 12) != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "not a signer key: expected 'PRIVATE+KEY+...'");
	rc = parse_parts(name, id, seed, text + 12, len - 12, "signer key");
	if (rc < 0)
		goto out;
	rc = signer_from_seed(&s, name, seed);
	if (rc < 0)
		goto out;
	if (memcmp(id, s->key_id, 4) != 0) {
		cairn_audit_signer_free(s);
		rc = cairn_error_set(CAIRN_EINVAL, "signer key '%s': key id does not match the key",
		                     name);
		goto out;
	}
	*out = s;
out:
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

int cairn_audit_signer_load(cairn_audit_signer **out, const char *path)
{
	cairn_buf b = CAIRN_BUF_INIT(4096);
	struct stat st;
	int rc;

	if (stat(path, &st) < 0)
		return cairn_error_set_errno(errno, "cannot read signer key '%s'", path);
	if (st.st_mode & 077)
		return cairn_error_set(CAIRN_EPERM,
		                       "signer key '%s' may be read by others (mode %04o); "
		                       "chmod 600 it",
		                       path, (unsigned)(st.st_mode & 07777));
	rc = cairn_buf_read_file(&b, path);
	if (rc == 0) {
		rc = cairn_audit_signer_parse(out, b.ptr ? b.ptr : "", b.len);
		if (rc < 0)
			cairn_error_prefix("'%s': ", path);
	}
	if (b.ptr != NULL)
		sodium_memzero(b.ptr, b.cap);
	cairn_buf_dispose(&b);
	return rc;
}

int cairn_audit_verifier_load(cairn_audit_verifier *out, const char *file_or_text)
{
	cairn_buf b = CAIRN_BUF_INIT(4096);
	int rc;

	/* base64 may hold '/', so a key text can look like a path: a file that
	 * exists wins, otherwise text with '+' separators is parsed as a key. */
	rc = cairn_buf_read_file(&b, file_or_text);
	if (rc == CAIRN_ENOTFOUND && strchr(file_or_text, '+') != NULL) {
		cairn_buf_dispose(&b);
		return cairn_audit_verifier_parse(out, file_or_text, strlen(file_or_text));
	}
	if (rc == 0) {
		rc = cairn_audit_verifier_parse(out, b.ptr ? b.ptr : "", b.len);
		if (rc < 0)
			cairn_error_prefix("'%s': ", file_or_text);
	}
	cairn_buf_dispose(&b);
	return rc;
}

/* Write one new file with O_EXCL and fsync it. */
static int write_new_file(const char *path, int mode, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int rc = 0;

	if (fd < 0) {
		if (errno == EEXIST)
			return cairn_error_set(CAIRN_EEXISTS,
			                       "'%s' already exists; not overwriting it", path);
		return cairn_error_set_errno(errno, "cannot create '%s'", path);
	}
	if (audit__io_write(NULL, fd, data, len) < 0 || fsync(fd) < 0)
		rc = cairn_error_set_errno(errno, "cannot write '%s'", path);
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

int cairn_audit_keygen_files(cairn_audit_verifier *out_pub, const char *prefix, const char *name)
{
	cairn_audit_signer *s = NULL;
	cairn_buf priv = CAIRN_BUF_INIT(4096), pub = CAIRN_BUF_INIT(4096);
	cairn_buf path = CAIRN_BUF_INIT(8192);
	cairn_audit_verifier v;
	char *slash, *dir;
	int rc;

	rc = cairn_audit_signer_generate(&s, name);
	if (rc < 0)
		goto out;
	cairn_audit_signer_verifier(&v, s);
	if ((rc = cairn_audit_signer_format(&priv, s)) < 0 ||
	    (rc = cairn_buf_putc(&priv, '\n')) < 0 ||
	    (rc = cairn_audit_verifier_format(&pub, &v)) < 0 ||
	    (rc = cairn_buf_putc(&pub, '\n')) < 0 ||
	    (rc = cairn_buf_printf(&path, "%s.key", prefix)) < 0)
		goto out;
	rc = write_new_file(path.ptr, 0600, priv.ptr, priv.len);
	if (rc < 0)
		goto out;
	cairn_buf_truncate(&path, strlen(prefix));
	if ((rc = cairn_buf_puts(&path, ".pub")) < 0)
		goto out;
	rc = write_new_file(path.ptr, 0644, pub.ptr, pub.len);
	if (rc < 0)
		goto out;
	slash = strrchr(path.ptr, '/');
	dir = slash == NULL ? "." : path.ptr;
	if (slash != NULL)
		*slash = '\0';
	rc = audit__fsync_dir(slash == path.ptr ? "/" : dir);
	if (rc == 0 && out_pub != NULL)
		*out_pub = v;
out:
	if (priv.ptr != NULL)
		sodium_memzero(priv.ptr, priv.cap);
	cairn_buf_dispose(&priv);
	cairn_buf_dispose(&pub);
	cairn_buf_dispose(&path);
	cairn_audit_signer_free(s);
	return rc;
}
