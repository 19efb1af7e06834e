/*
 * knownhosts.c - OpenSSH known_hosts files, to check the host key libssh2
 * reports through libgit2's certificate callback.
 *
 * Lines are "[@marker] patterns keytype base64-key [comment]". Patterns are
 * comma-separated globs ("*", "?") with "!" negation, "[host]:port" for
 * non-default ports, or one hashed name "|1|base64(salt)|base64(hmac-sha1(
 * salt, name))" as `ssh-keygen -H` writes. Keys are compared as the
 * decoded wire blob, which is exactly what libssh2 hands us.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/source.h"

#define KH_LINES_MAX 10000
#define KH_KEY_MAX 4096
#define KH_PATTERNS_MAX 1024

struct kh_entry {
	char *patterns; /* as written */
	int revoked;    /* @revoked */
	uint8_t *key;   /* wire blob */
	size_t key_len;
};

struct cairn_source_known_hosts {
	struct kh_entry *entries;
	size_t count;
};

/*
 * Glob match with '*' and '?' (OpenSSH match_pattern). Iterative, with one
 * backtrack point (the last '*'), so it is linear in practice and never
 * exponential on patterns full of stars (found by fuzz_known_hosts).
 */
static int glob_match(const char *pat, size_t plen, const char *s)
{
	size_t p = 0, star = (size_t)-1;
	const char *mark = NULL;

	while (*s != '\0') {
		if (p < plen && pat[p] == '*') {
			star = p++;
			mark = s;
		} else if (p < plen && (pat[p] == '?' || pat[p] == *s)) {
			p++;
			s++;
		} else if (star != (size_t)-1) {
			p = star + 1;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

/* Does the hashed pattern "|1|salt|hash" match `name`? */
static int hashed_match(const char *pat, size_t plen, const char *name)
{
	uint8_t salt[64], hash[64], mac[EVP_MAX_MD_SIZE];
	size_t slen, hlen;
	unsigned int mlen = 0;
	const char *bar;

	if (plen < 4 || memcmp(pat, "|1|", 3) != 0)
		return 0;
	bar = memchr(pat + 3, '|', plen - 3);
	if (!bar)
		return 0;
	if (cairn_base64_decode(salt, sizeof(salt), &slen, pat + 3, (size_t)(bar - pat - 3)) < 0 ||
	    cairn_base64_decode(hash, sizeof(hash), &hlen, bar + 1,
	                        (size_t)(pat + plen - bar - 1)) < 0)
		return 0;
	if (!HMAC(EVP_sha1(), salt, (int)slen, (const uint8_t *)name, strlen(name), mac, &mlen))
		return 0;
	return mlen == hlen && memcmp(mac, hash, hlen) == 0;
}

/* Match `name` against a comma-separated pattern list: 1 match, -1 a
 * negated pattern matched (the line never applies), 0 no match. */
static int patterns_match(const char *patterns, const char *name)
{
	const char *p = patterns;
	int matched = 0;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n > 0 && p[0] == '!') {
			if (glob_match(p + 1, n - 1, name))
				return -1;
		} else if (n > 0 && p[0] == '|') {
			matched |= hashed_match(p, n, name);
		} else if (n > 0) {
			matched |= glob_match(p, n, name);
		}
		p += n + (p[n] == ',');
	}
	return matched;
}

/* Split the next whitespace-separated field of a line. */
static int field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return -1;
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*n = (size_t)(s - *f);
	*p = s;
	return 0;
}

/* Parse one non-empty, non-comment line into *e (patterns and key
 * allocated): 1 skipped (@cert-authority), 0 ok, <0 error. */
static int parse_line(struct kh_entry *e, const char *s, const char *end)
{
	const char *f, *pat;
	size_t n, pn;
	uint8_t key[KH_KEY_MAX];

	memset(e, 0, sizeof(*e));
	if (field(&s, end, &f, &n) < 0)
		return 1;
	if (f[0] == '@') {
		if (n == 15 && memcmp(f, "@cert-authority", 15) == 0)
			return 1;
		if (!(n == 8 && memcmp(f, "@revoked", 8) == 0))
			return cairn_error_set(CAIRN_EINVAL, "unknown marker '%.*s'",
			                       (int)(n > 64 ? 64 : n), f);
		e->revoked = 1;
		if (field(&s, end, &f, &n) < 0)
			return cairn_error_set(CAIRN_EINVAL, "no host patterns");
	}
	if (n > KH_PATTERNS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "host patterns longer than %d bytes",
		                       KH_PATTERNS_MAX);
	pat = f;
	pn = n;
	if (field(&s, end, &f, &n) < 0)
		return cairn_error_set(CAIRN_EINVAL, "no key type");
	if (field(&s, end, &f, &n) < 0)
		return cairn_error_set(CAIRN_EINVAL, "no key");
	if (cairn_base64_decode(key, sizeof(key), &e->key_len, f, n) < 0 || e->key_len < 4)
		return cairn_error_set(CAIRN_EINVAL, "bad base64 key");
	e->patterns = strndup(pat, pn);
	e->key = malloc(e->key_len);
	if (!e->patterns || !e->key) {
		free(e->patterns);
		free(e->key);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	memcpy(e->key, key, e->key_len);
	return 0;
}

int cairn_source_known_hosts_parse(cairn_source_known_hosts **out, const char *name,
                                   const char *text, size_t len)
{
	struct cairn_source_known_hosts *kh = calloc(1, sizeof(*kh));
	const char *p = text, *end = text + len;
	int line = 0, rc = 0;

	if (!kh)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *q = p;
		struct kh_entry e, *grown;

		line++;
		if (line > KH_LINES_MAX) {
			rc = cairn_error_set_at(CAIRN_ELIMIT, name, line, 0,
			                        "more than %d lines in known_hosts", KH_LINES_MAX);
			goto out;
		}
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (le > q && le[-1] == '\r')
			le--;
		if (q == le || *q == '#' || memchr(q, '\0', (size_t)(le - q)))
			goto next;
		rc = parse_line(&e, q, le);
		if (rc == 1)
			goto next;
		if (rc < 0) {
			char msg[CAIRN_ERROR_MSG_MAX];

			snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);
			cairn_error_set_at(rc, name, line, 0, "%s in known_hosts", msg);
			goto out;
		}
		grown = realloc(kh->entries, (kh->count + 1) * sizeof(*grown));
		if (!grown) {
			free(e.patterns);
			free(e.key);
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		kh->entries = grown;
		kh->entries[kh->count++] = e;
	next:
		p = eol ? eol + 1 : end;
	}
	rc = 0;
	*out = kh;
	kh = NULL;
out:
	cairn_source_known_hosts_free(kh);
	return rc;
}

int cairn_source_known_hosts_check(const cairn_source_known_hosts *kh, const char *host, int port,
                                   const uint8_t *key, size_t key_len)
{
	char name[512];
	int listed = 0;

	if (port == 22 || port <= 0)
		snprintf(name, sizeof(name), "%s", host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	for (size_t i = 0; i < kh->count; i++) {
		const struct kh_entry *e = &kh->entries[i];
		int same = e->key_len == key_len && memcmp(e->key, key, key_len) == 0;

		if (patterns_match(e->patterns, name) != 1)
			continue;
		if (e->revoked && same)
			return cairn_error_set(CAIRN_EPERM, "the host key of '%s' is revoked",
			                       name);
		if (!e->revoked)
			listed = 1;
	}
	for (size_t i = 0; i < kh->count; i++) {
		const struct kh_entry *e = &kh->entries[i];
		if (!e->revoked && e->key_len == key_len && memcmp(e->key, key, key_len) == 0 &&
		    patterns_match(e->patterns, name) == 1)
			return 0;
	}
	if (listed)
		return cairn_error_set(CAIRN_EPERM,
		                       "the host key of '%s' does not match known_hosts: refusing "
		                       "the connection",
		                       name);
	return cairn_error_set(CAIRN_ENOTFOUND, "host '%s' is not in known_hosts", name);
}

void cairn_source_known_hosts_free(cairn_source_known_hosts *kh)
{
	if (!kh)
		return;
	for (size_t i = 0; i < kh->count; i++) {
		free(kh->entries[i].patterns);
		free(kh->entries[i].key);
	}
	free(kh->entries);
	free(kh);
}
