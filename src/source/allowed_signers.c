/*
 * allowed_signers.c - git's gpg.ssh.allowedSignersFile, the ALLOWED SIGNERS
 * format of ssh-keygen(1):
 *
 *     principals [options] keytype base64-key [comment]
 *
 * principals is a comma-separated list of patterns (`*`, `?`, `!` negation),
 * optionally in double quotes; options are comma-separated
 * `cert-authority`, `namespaces="..."`, `valid-after="..."`,
 * `valid-before="..."` (names case-insensitive, values quoted, as
 * ssh-keygen requires). Blank lines and `#` comments are skipped.
 *
 * Unlike ssh-keygen, which warns and skips a line it cannot read, a bad
 * line here fails the whole file with its line and column.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/source_verify.h"
#include "sshsig_priv.h"

#define PRINCIPALS_MAX 4096
#define OPTION_VALUE_MAX 1024
#define KEY_B64_MAX 16384

struct signer {
	char *principals; /* the raw pattern list */
	char *namespaces; /* pattern list; NULL: every namespace */
	uint8_t *key;
	size_t key_len;
	int64_t valid_after;  /* INT64_MIN: no bound */
	int64_t valid_before; /* INT64_MAX: no bound */
	int cert_authority;
	int line;
};

struct cairn_allowed_signers {
	struct signer *v;
	size_t n, cap;
};

/* One line being parsed, for error positions. */
struct lp {
	const char *file;
	int line;
	const char *start; /* first byte of the line, for columns */
	const char *p, *end;
};

static int lp_err(const struct lp *lp, const char *at, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int lp_err(const struct lp *lp, const char *at, const char *fmt, ...)
{
	char msg[CAIRN_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cairn_error_set_at(CAIRN_EINVAL, lp->file, lp->line, (int)(at - lp->start) + 1, "%s",
	                          msg);
}

static void skip_ws(struct lp *lp)
{
	while (lp->p < lp->end && (*lp->p == ' ' || *lp->p == '\t'))
		lp->p++;
}

static void signer_dispose(struct signer *s)
{
	free(s->principals);
	free(s->namespaces);
	free(s->key);
}

void cairn_allowed_signers_free(cairn_allowed_signers *as)
{
	if (as == NULL)
		return;
	for (size_t i = 0; i < as->n; i++)
		signer_dispose(&as->v[i]);
	free(as->v);
	free(as);
}

size_t cairn_allowed_signers_count(const cairn_allowed_signers *as)
{
	return as->n;
}

static char *dup_range(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* The principals field: a quoted string or a run of non-blank bytes. */
static int parse_principals(struct lp *lp, struct signer *s)
{
	const char *begin = lp->p, *q;

	if (*lp->p == '"') {
		q = memchr(lp->p + 1, '"', (size_t)(lp->end - lp->p - 1));
		if (q == NULL)
			return lp_err(lp, begin, "principals have no closing quote");
		begin = lp->p + 1;
		lp->p = q + 1;
	} else {
		while (lp->p < lp->end && *lp->p != ' ' && *lp->p != '\t')
			lp->p++;
		q = lp->p;
	}
	if (q == begin)
		return lp_err(lp, begin, "empty principals");
	if ((size_t)(q - begin) > PRINCIPALS_MAX)
		return lp_err(lp, begin, "principals are longer than 4096 bytes");
	if (memchr(begin, '\0', (size_t)(q - begin)) != NULL)
		return lp_err(lp, begin, "principals contain a NUL byte");
	s->principals = dup_range(begin, (size_t)(q - begin));
	if (s->principals == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (lp->p < lp->end && *lp->p != ' ' && *lp->p != '\t')
		return lp_err(lp, lp->p, "expected a blank after the principals");
	return 0;
}

/*
 * ssh-keygen's absolute times: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS,
 * in local time unless suffixed with Z (UTC).
 */
static int parse_abs_time(int64_t *out, const char *v)
{
	size_t n = strlen(v);
	int utc = 0, f[6] = {0, 1, 1, 0, 0, 0};
	const int width[6] = {4, 2, 2, 2, 2, 2};
	struct tm tm;
	time_t t;
	const char *p = v;

	if (n > 0 && (v[n - 1] == 'Z' || v[n - 1] == 'z'))
		utc = 1, n--;
	if (n != 8 && n != 12 && n != 14)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)v[i]))
			return -1;
	for (int i = 0; i < 6 && (size_t)(p - v) < n; i++) {
		f[i] = 0;
		for (int k = 0; k < width[i]; k++)
			f[i] = f[i] * 10 + (*p++ - '0');
	}
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900, tm.tm_mon = f[1] - 1, tm.tm_mday = f[2];
	tm.tm_hour = f[3], tm.tm_min = f[4], tm.tm_sec = f[5], tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* A quoted option value: "..." with \" and \\ escapes, cut at the quote. */
static int option_value(struct lp *lp, char *out, size_t cap, const char *name)
{
	size_t n = 0;

	if (lp->p >= lp->end || *lp->p != '"')
		return lp_err(lp, lp->p, "option '%s' needs a quoted value", name);
	lp->p++;
	while (lp->p < lp->end && *lp->p != '"') {
		if (*lp->p == '\\' && lp->p + 1 < lp->end && (lp->p[1] == '"' || lp->p[1] == '\\'))
			lp->p++;
		if (n + 1 >= cap)
			return lp_err(lp, lp->p, "value of option '%s' is too long", name);
		if (*lp->p == '\0')
			return lp_err(lp, lp->p, "value of option '%s' contains a NUL byte", name);
		out[n++] = *lp->p++;
	}
	if (lp->p >= lp->end)
		return lp_err(lp, lp->p, "value of option '%s' has no closing quote", name);
	lp->p++;
	out[n] = '\0';
	return 0;
}

/* Match the option name at lp->p case-insensitively, consuming it. */
static int take_name(struct lp *lp, const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(lp->end - lp->p) >= n && strncasecmp(lp->p, name, n) == 0) {
		lp->p += n;
		return 1;
	}
	return 0;
}

static int parse_time_option(struct lp *lp, int64_t *dst, const char *name, int *seen)
{
	char v[OPTION_VALUE_MAX];
	const char *at = lp->p;
	int rc;

	if (*seen)
		return lp_err(lp, at, "option '%s' is given twice", name);
	*seen = 1;
	if ((rc = option_value(lp, v, sizeof(v), name)) < 0)
		return rc;
	if (parse_abs_time(dst, v) < 0)
		return lp_err(
		        lp, at + 1,
		        "invalid time '%s' (expected YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, "
		        "with Z for UTC)",
		        v);
	return 0;
}

/* One option of the comma-separated list. */
static int parse_option(struct lp *lp, struct signer *s, int seen[4])
{
	const char *at = lp->p;
	char v[OPTION_VALUE_MAX];
	int rc;

	if (take_name(lp, "cert-authority")) {
		if (seen[0]++)
			return lp_err(lp, at, "option '%s' is given twice", "cert-authority");
		s->cert_authority = 1;
	} else if (take_name(lp, "namespaces=")) {
		if (seen[1]++)
			return lp_err(lp, at, "option '%s' is given twice", "namespaces");
		if ((rc = option_value(lp, v, sizeof(v), "namespaces")) < 0)
			return rc;
		if (v[0] == '\0')
			return lp_err(lp, at, "option '%s' has an empty value", "namespaces");
		if ((s->namespaces = dup_range(v, strlen(v))) == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	} else if (take_name(lp, "valid-after=")) {
		return parse_time_option(lp, &s->valid_after, "valid-after", &seen[2]);
	} else if (take_name(lp, "valid-before=")) {
		return parse_time_option(lp, &s->valid_before, "valid-before", &seen[3]);
	} else {
		const char *e = at;
		char name[64];

		while (e < lp->end && *e != '=' && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		snprintf(name, sizeof(name), "%.*s", (int)(e - at), at);
		return lp_err(lp, at, "unknown option '%s'", name);
	}
	return 0;
}

static int parse_options(struct lp *lp, struct signer *s)
{
	int seen[4] = {0, 0, 0, 0}, rc;

	for (;;) {
		if ((rc = parse_option(lp, s, seen)) < 0)
			return rc;
		if (lp->p < lp->end && *lp->p == ',') {
			lp->p++;
			continue;
		}
		if (lp->p < lp->end && *lp->p != ' ' && *lp->p != '\t')
			return lp_err(lp, lp->p, "expected ',' or a blank after an option");
		break;
	}
	if (s->valid_after != INT64_MIN && s->valid_before != INT64_MAX &&
	    s->valid_before <= s->valid_after)
		return lp_err(lp, lp->start, "valid-before is not after valid-after");
	return 0;
}

/* keytype base64 [comment]: the base64 must hold a key of that type. */
static int parse_key(struct lp *lp, struct signer *s)
{
	const char *tstart = lp->p, *bstart;
	char type[64], blobtype[64];
	size_t tlen, blen, n;
	uint8_t *raw;
	int rc;

	while (lp->p < lp->end && *lp->p != ' ' && *lp->p != '\t')
		lp->p++;
	tlen = (size_t)(lp->p - tstart);
	if (tlen == 0)
		return lp_err(lp, tstart, "missing key");
	if (tlen >= sizeof(type))
		return lp_err(lp, tstart, "key type is too long");
	memcpy(type, tstart, tlen);
	type[tlen] = '\0';
	skip_ws(lp);
	bstart = lp->p;
	while (lp->p < lp->end && *lp->p != ' ' && *lp->p != '\t')
		lp->p++;
	blen = (size_t)(lp->p - bstart);
	if (blen == 0)
		return lp_err(lp, bstart, "missing base64 key after key type '%s'", type);
	if (blen > KEY_B64_MAX)
		return lp_err(lp, bstart, "key is longer than 16384 base64 characters");
	if ((raw = malloc(blen)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (cairn_base64_decode(raw, blen, &n, bstart, blen) < 0) {
		free(raw);
		return lp_err(lp, bstart, "key is not valid base64");
	}
	if ((rc = source__ssh_key_check(raw, n, blobtype, sizeof(blobtype), "key")) < 0) {
		free(raw);
		return cairn_error_prefix("%s:%d: ", lp->file ? lp->file : "<allowed signers>",
		                          lp->line);
	}
	if (strcmp(blobtype, type) != 0) {
		free(raw);
		return lp_err(lp, tstart, "key type '%s' does not match the key's encoded type",
		              type);
	}
	s->key = raw;
	s->key_len = n;
	return 0;
}

/* Whether the token at lp->p is an option list rather than a key type. */
static int looks_like_options(const struct lp *lp)
{
	for (const char *q = lp->p; q < lp->end && *q != ' ' && *q != '\t'; q++)
		if (*q == '=' || *q == '"')
			return 1;
	return (size_t)(lp->end - lp->p) >= 14 && strncasecmp(lp->p, "cert-authority", 14) == 0;
}

static int parse_line(struct lp *lp, struct signer *s)
{
	int rc;

	s->valid_after = INT64_MIN;
	s->valid_before = INT64_MAX;
	s->line = lp->line;
	if ((rc = parse_principals(lp, s)) < 0)
		return rc;
	skip_ws(lp);
	if (lp->p >= lp->end)
		return lp_err(lp, lp->p, "missing key after the principals");
	if (looks_like_options(lp)) {
		if ((rc = parse_options(lp, s)) < 0)
			return rc;
		skip_ws(lp);
	}
	return parse_key(lp, s);
}

static int push_signer(struct cairn_allowed_signers *as, struct signer *s)
{
	if (as->n == as->cap) {
		size_t cap = as->cap ? as->cap * 2 : 8;
		struct signer *v = realloc(as->v, cap * sizeof(*v));

		if (v == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		as->v = v, as->cap = cap;
	}
	as->v[as->n++] = *s;
	return 0;
}

int cairn_allowed_signers_parse(cairn_allowed_signers **out, const char *text, size_t len,
                                const char *filename)
{
	struct cairn_allowed_signers *as;
	const char *p = text, *end = text + len;
	int line = 0, rc = 0;

	if (len > CAIRN_ALLOWED_SIGNERS_MAX)
		return cairn_error_set_at(CAIRN_ELIMIT, filename, 0, 0,
		                          "allowed signers file is larger than %zu bytes",
		                          CAIRN_ALLOWED_SIGNERS_MAX);
	if ((as = calloc(1, sizeof(*as))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct lp lp = {filename, ++line, p, p, nl ? nl : end};
		struct signer s;

		p = nl ? nl + 1 : end;
		if (lp.end > lp.p && lp.end[-1] == '\r')
			lp.end--;
		skip_ws(&lp);
		if (lp.p == lp.end || *lp.p == '#')
			continue;
		if (as->n >= CAIRN_ALLOWED_SIGNERS_MAX_ENTRIES) {
			rc = cairn_error_set_at(CAIRN_ELIMIT, filename, line, 1,
			                        "more than %d allowed signers",
			                        CAIRN_ALLOWED_SIGNERS_MAX_ENTRIES);
			goto out;
		}
		memset(&s, 0, sizeof(s));
		if ((rc = parse_line(&lp, &s)) < 0 || (rc = push_signer(as, &s)) < 0) {
			signer_dispose(&s);
			goto out;
		}
	}
	*out = as;
	as = NULL;
out:
	cairn_allowed_signers_free(as);
	return rc;
}

int cairn_allowed_signers_load(cairn_allowed_signers **out, const char *path)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_ALLOWED_SIGNERS_MAX);
	int rc;

	if ((rc = cairn_buf_read_file(&b, path)) == 0)
		rc = cairn_allowed_signers_parse(out, b.ptr ? b.ptr : "", b.len, path);
	cairn_buf_dispose(&b);
	return rc;
}

/* ---- matching ------------------------------------------------------------- */

/* OpenSSH's match_pattern: `*` any run, `?` any one byte, case-sensitive. */
static int glob_match(const char *s, const char *se, const char *p, const char *pe)
{
	while (p < pe) {
		if (*p == '*') {
			while (p < pe && *p == '*')
				p++;
			if (p == pe)
				return 1;
			for (; s <= se; s++)
				if (glob_match(s, se, p, pe))
					return 1;
			return 0;
		}
		if (s == se || (*p != '?' && *p != *s))
			return 0;
		s++, p++;
	}
	return s == se;
}

int source__pattern_list_match(const char *s, const char *list)
{
	const char *p = list, *se = s + strlen(s);
	int positive = 0;

	while (*p) {
		const char *e = strchr(p, ',');
		int neg = *p == '!';

		if (e == NULL)
			e = p + strlen(p);
		if (glob_match(s, se, p + neg, e)) {
			if (neg)
				return -1;
			positive = 1;
		}
		p = *e ? e + 1 : e;
	}
	return positive;
}

static int key_equal(const struct signer *s, const uint8_t *key, size_t len)
{
	return !s->cert_authority && s->key_len == len && memcmp(s->key, key, len) == 0;
}

int source__signers_find(const cairn_allowed_signers *as, const uint8_t *key, size_t len, int64_t t,
                         int *why)
{
	*why = 0;
	for (size_t i = 0; i < as->n; i++) {
		const struct signer *s = &as->v[i];

		if (s->cert_authority && s->key_len == len && memcmp(s->key, key, len) == 0)
			*why = *why ? *why : 3;
		if (!key_equal(s, key, len))
			continue;
		if (t > s->valid_before) {
			*why = 1;
			continue;
		}
		if (t < s->valid_after) {
			*why = 2;
			continue;
		}
		return (int)i;
	}
	return -1;
}

const char *source__signers_principals(const cairn_allowed_signers *as, int idx)
{
	return as->v[idx].principals;
}

int source__signers_allow(const cairn_allowed_signers *as, const char *principal,
                          const uint8_t *key, size_t len, const char *ns, int64_t t, int *line,
                          int *why)
{
	for (size_t i = 0; i < as->n; i++) {
		const struct signer *s = &as->v[i];

		if (source__pattern_list_match(principal, s->principals) != 1)
			continue;
		if (!key_equal(s, key, len) || t > s->valid_before || t < s->valid_after)
			continue;
		if (s->namespaces != NULL && source__pattern_list_match(ns, s->namespaces) != 1) {
			*why = 1;
			continue;
		}
		*line = s->line;
		return 1;
	}
	return 0;
}
