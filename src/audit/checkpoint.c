/*
 * checkpoint.c - C2SP tlog-checkpoint bodies in C2SP signed notes: signing,
 * splitting a file of notes, strict parsing and Ed25519 verification.
 *
 * A note is the body (origin, decimal tree size, base64 root hash, then any
 * extension lines), a blank line, and one or more signature lines
 * "\u2014 <key name> <base64(key id || signature)>". Every line ends in
 * '\n'. Because a note is split at its first blank line and its signatures
 * are the lines starting with an em dash, a name or origin containing a
 * newline, a control character or a leading em dash could forge a line, so
 * both signing and parsing refuse them. See docs/audit-merkle.md.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "merkle.h"

#define EM_DASH "\xe2\x80\x94"
#define SIG_PREFIX EM_DASH " "
#define SIG_PREFIX_LEN 4
/* The signed-note spec lets verifiers stop at 100 signatures. */
#define NOTE_MAX_SIGS 100
/* Longest decoded signature accepted from other algorithms (ignored). */
#define NOTE_MAX_SIG_BYTES 256

enum {
	TEXT_ORIGIN,
	TEXT_KEY_NAME,
	TEXT_EXTENSION
};

/*
 * Decode one UTF-8 sequence at s (n bytes available) into *cp; returns its
 * length, or 0 when it is malformed, overlong, a surrogate or above U+10FFFF.
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Unicode white space and line/paragraph separators beyond ASCII. */
static int unicode_space(uint32_t c)
{
	return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200b) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 ||
	       c == 0xfeff;
}

/*
 * Check an origin, key name or extension line: non-empty, bounded, valid
 * UTF-8, no control characters or Unicode spaces, no leading em dash. An
 * origin may hold inner ASCII spaces; a key name holds no space and no '+'.
 */
static int check_text(const char *s, size_t len, int kind)
{
	static const char *const what[] = {"checkpoint origin", "key name",
	                                   "checkpoint extension line"};
	size_t max = kind == TEXT_ORIGIN ? 255 : kind == TEXT_KEY_NAME ? 127 : 4096;
	const unsigned char *u = (const unsigned char *)s;

	if (len == 0)
		return cairn_error_set(CAIRN_EINVAL, "%s is empty", what[kind]);
	if (len > max)
		return cairn_error_set(CAIRN_EINVAL, "%s is longer than %zu bytes", what[kind],
		                       max);
	if (len >= 3 && memcmp(s, EM_DASH, 3) == 0)
		return cairn_error_set(CAIRN_EINVAL, "%s starts with an em dash", what[kind]);
	if (kind != TEXT_EXTENSION && (s[0] == ' ' || s[len - 1] == ' '))
		return cairn_error_set(CAIRN_EINVAL, "%s starts or ends with a space", what[kind]);
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = utf8_next(u + i, len - i, &c);

		if (n == 0)
			return cairn_error_set(CAIRN_EINVAL, "%s is not valid UTF-8 at byte %zu",
			                       what[kind], i);
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || unicode_space(c))
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "%s contains a control or space character at byte %zu", what[kind],
			        i);
		if (kind == TEXT_KEY_NAME && (c == ' ' || c == '+'))
			return cairn_error_set(CAIRN_EINVAL, "key name contains '%c' at byte %zu",
			                       (char)c, i);
		i += n;
	}
	return 0;
}

void audit__key_id(uint8_t out[4], const char *key_name, const uint8_t pub[32])
{
	cairn_sha256_ctx ctx;
	uint8_t md[32];
	static const uint8_t sep[2] = {0x0a, 0x01};

	cairn_sha256_init(&ctx);
	cairn_sha256_update(&ctx, key_name, strlen(key_name));
	cairn_sha256_update(&ctx, sep, sizeof(sep));
	cairn_sha256_update(&ctx, pub, 32);
	cairn_sha256_final(&ctx, md);
	memcpy(out, md, 4);
}

int audit__checkpoint_sign(cairn_buf *out, const audit_checkpoint *cp, const char *key_name,
                           const uint8_t sk[64])
{
	cairn_buf body = CAIRN_BUF_INIT(1024);
	uint8_t blob[4 + crypto_sign_BYTES];
	char root64[45], sig64[cairn_base64_encoded_len(sizeof(blob))];
	size_t oldlen = out->len;
	int rc;

	if ((rc = check_text(cp->origin, strnlen(cp->origin, sizeof(cp->origin)), TEXT_ORIGIN)) <
	            0 ||
	    (rc = check_text(key_name, strlen(key_name), TEXT_KEY_NAME)) < 0)
		goto out;
	if (sodium_init() < 0) {
		rc = cairn_error_set(CAIRN_ERROR, "libsodium failed to initialise");
		goto out;
	}
	cairn_base64_encode(root64, cp->root, 32);
	if ((rc = cairn_buf_printf(&body, "%s\n%llu\n%s\n", cp->origin,
	                           (unsigned long long)cp->size, root64)) < 0)
		goto out;
	/* libsodium's secret key is seed || public key. */
	audit__key_id(blob, key_name, sk + 32);
	crypto_sign_detached(blob + 4, NULL, (const unsigned char *)body.ptr, body.len, sk);
	cairn_base64_encode(sig64, blob, sizeof(blob));
	if ((rc = cairn_buf_put(out, body.ptr, body.len)) < 0 ||
	    (rc = cairn_buf_printf(out, "\n" SIG_PREFIX "%s %s\n", key_name, sig64)) < 0)
		cairn_buf_truncate(out, oldlen);
out:
	cairn_buf_dispose(&body);
	return rc;
}

static const char *find_blank_line(const char *text, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] == '\n' && text[i + 1] == '\n')
			return text + i;
	}
	return NULL;
}

int audit__checkpoint_split(const char *text, size_t len, size_t *note_len)
{
	const char *blank = find_blank_line(text, len);
	size_t pos, nsig = 0;

	if (!blank)
		return cairn_error_set(CAIRN_EINVAL,
		                       "checkpoint note has no blank line after its body");
	pos = (size_t)(blank - text) + 2;
	while (pos < len && len - pos >= SIG_PREFIX_LEN &&
	       memcmp(text + pos, SIG_PREFIX, SIG_PREFIX_LEN) == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		if (!nl)
			return cairn_error_set(CAIRN_EINVAL,
			                       "checkpoint note ends inside a signature line");
		pos = (size_t)(nl - text) + 1;
		nsig++;
	}
	if (nsig == 0)
		return cairn_error_set(CAIRN_EINVAL, "checkpoint note has no signature line");
	*note_len = pos;
	return 0;
}

/* Decimal without sign or leading zeros, fitting in 64 bits. */
static int parse_size(uint64_t *out, const char *s, size_t len)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
bad:
	return cairn_error_set(CAIRN_EINVAL,
	                       "checkpoint tree size on line 2 is not a decimal number "
	                       "without leading zeros");
}

/* Next '\n'-terminated line of [*pos, end): its start and length, or -1. */
static int next_line(const char *text, size_t end, size_t *pos, const char **line, size_t *len)
{
	const char *nl;

	if (*pos >= end || !(nl = memchr(text + *pos, '\n', end - *pos)))
		return -1;
	*line = text + *pos;
	*len = (size_t)(nl - *line);
	*pos += *len + 1;
	return 0;
}

/*
 * The body: origin, size, root, then extension lines up to the blank line
 * (body_len bytes, ending in '\n'). Extension lines are checked, not kept.
 */
static int parse_body(audit_checkpoint *cp, const char *text, size_t body_len)
{
	const char *line;
	size_t pos = 0, n, rootlen;
	int rc;

	if (next_line(text, body_len, &pos, &line, &n) < 0 ||
	    (rc = check_text(line, n, TEXT_ORIGIN)) < 0)
		return pos == 0 ? cairn_error_set(CAIRN_EINVAL, "checkpoint has no origin line")
		                : cairn_error_prefix("checkpoint line 1: ");
	memcpy(cp->origin, line, n);
	cp->origin[n] = '\0';
	if (next_line(text, body_len, &pos, &line, &n) < 0)
		return cairn_error_set(CAIRN_EINVAL, "checkpoint has no tree size line");
	if ((rc = parse_size(&cp->size, line, n)) < 0)
		return rc;
	if (next_line(text, body_len, &pos, &line, &n) < 0)
		return cairn_error_set(CAIRN_EINVAL, "checkpoint has no root hash line");
	if (n != 44 || cairn_base64_decode(cp->root, sizeof(cp->root), &rootlen, line, n) < 0 ||
	    rootlen != 32)
		return cairn_error_set(CAIRN_EINVAL,
		                       "checkpoint root hash on line 3 is not base64 of 32 bytes");
	for (int no = 4; next_line(text, body_len, &pos, &line, &n) == 0; no++) {
		if ((rc = check_text(line, n, TEXT_EXTENSION)) < 0)
			return cairn_error_prefix("checkpoint line %d: ", no);
	}
	return 0;
}

/*
 * One signature line without its '\n': em dash, space, key name, space,
 * base64. Returns 1 with *sig filled for an Ed25519-sized signature, 0 for
 * a well-formed signature of another length (another algorithm: ignored).
 */
static int parse_sig_line(audit_note_sig *sig, const char *line, size_t n)
{
	uint8_t blob[NOTE_MAX_SIG_BYTES];
	const char *name, *sp;
	size_t namelen, bloblen;
	int rc;

	if (n < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "checkpoint signature line does not start with an em dash "
		                       "and a space");
	name = line + SIG_PREFIX_LEN;
	if (!(sp = memchr(name, ' ', n - SIG_PREFIX_LEN)))
		return cairn_error_set(CAIRN_EINVAL, "checkpoint signature line has no signature");
	namelen = (size_t)(sp - name);
	if ((rc = check_text(name, namelen, TEXT_KEY_NAME)) < 0)
		return cairn_error_prefix("checkpoint signature line: ");
	if (cairn_base64_decode(blob, sizeof(blob), &bloblen, sp + 1, n - (size_t)(sp + 1 - line)) <
	            0 ||
	    bloblen < 5)
		return cairn_error_set(CAIRN_EINVAL,
		                       "checkpoint signature by key '%.*s' is not "
		                       "valid base64 of a key id and a signature",
		                       (int)namelen, name);
	if (bloblen != 4 + crypto_sign_BYTES)
		return 0;
	memcpy(sig->name, name, namelen);
	sig->name[namelen] = '\0';
	memcpy(sig->key_id, blob, 4);
	memcpy(sig->sig, blob + 4, crypto_sign_BYTES);
	return 1;
}

/* Parse a whole note; *body_len gets the length of the signed bytes. */
static int parse_note(audit_checkpoint *cp, audit_note_sig *sigs, size_t max_sigs, size_t *nsigs,
                      size_t *body_len, const char *text, size_t len)
{
	audit_checkpoint c;
	const char *blank = find_blank_line(text, len), *line;
	size_t pos, n, nlines = 0, count = 0;
	int rc;

	if (!blank)
		return cairn_error_set(CAIRN_EINVAL,
		                       "checkpoint note has no blank line after its body");
	memset(&c, 0, sizeof(c));
	if ((rc = parse_body(&c, text, (size_t)(blank - text) + 1)) < 0)
		return rc;
	pos = (size_t)(blank - text) + 2;
	if (len == 0 || text[len - 1] != '\n')
		return cairn_error_set(CAIRN_EINVAL, "checkpoint note does not end with a newline");
	while (next_line(text, len, &pos, &line, &n) == 0) {
		audit_note_sig s;

		if (++nlines > NOTE_MAX_SIGS)
			return cairn_error_set(CAIRN_EINVAL,
			                       "checkpoint note has more than %d signatures",
			                       NOTE_MAX_SIGS);
		if ((rc = parse_sig_line(&s, line, n)) < 0)
			return rc;
		if (rc == 1 && count < max_sigs)
			sigs[count] = s;
		count += (size_t)rc;
	}
	if (nlines == 0)
		return cairn_error_set(CAIRN_EINVAL, "checkpoint note has no signature line");
	*cp = c;
	*nsigs = count;
	*body_len = (size_t)(blank - text) + 1;
	return 0;
}

int audit__checkpoint_parse(audit_checkpoint *cp, audit_note_sig *sigs, size_t max_sigs,
                            size_t *nsigs, const char *text, size_t len)
{
	audit_note_sig tmp[NOTE_MAX_SIGS];
	size_t body_len, count;
	int rc;

	if (max_sigs > NOTE_MAX_SIGS)
		max_sigs = NOTE_MAX_SIGS;
	/* Parse into scratch space so that sigs is untouched on failure. */
	if ((rc = parse_note(cp, tmp, max_sigs, &count, &body_len, text, len)) < 0)
		return rc;
	if (sigs)
		memcpy(sigs, tmp, (count < max_sigs ? count : max_sigs) * sizeof(*sigs));
	*nsigs = count;
	return 0;
}

int audit__checkpoint_verify(const char *text, size_t len, const char *key_name,
                             const uint8_t pub[32])
{
	audit_note_sig *sigs = NULL;
	audit_checkpoint cp;
	uint8_t id[4];
	size_t body_len, count;
	int rc;

	if (!(sigs = calloc(NOTE_MAX_SIGS, sizeof(*sigs)))) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if (parse_note(&cp, sigs, NOTE_MAX_SIGS, &count, &body_len, text, len) < 0) {
		char msg[CAIRN_ERROR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);
		rc = cairn_error_set(CAIRN_ECORRUPT, "checkpoint does not verify: %s", msg);
		goto out;
	}
	if (sodium_init() < 0) {
		rc = cairn_error_set(CAIRN_ERROR, "libsodium failed to initialise");
		goto out;
	}
	audit__key_id(id, key_name, pub);
	for (size_t i = 0; i < count && i < NOTE_MAX_SIGS; i++) {
		if (strcmp(sigs[i].name, key_name) != 0 || memcmp(sigs[i].key_id, id, 4) != 0)
			continue;
		if (crypto_sign_verify_detached(sigs[i].sig, (const unsigned char *)text, body_len,
		                                pub) == 0) {
			rc = 0;
			goto out;
		}
	}
	rc = cairn_error_set(CAIRN_ECORRUPT,
	                     "checkpoint for '%s' size %llu has no valid signature by key '%s'",
	                     cp.origin, (unsigned long long)cp.size, key_name);
out:
	free(sigs);
	return rc;
}
