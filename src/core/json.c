/*
 * json.c - canonical JSON (RFC 8785, JCS), hashes over it, and parsing.
 *
 * The canonical form is what every Cairn hash and signature covers, so it
 * must match other JCS implementations byte for byte: see docs/hashing.md
 * for the rules as an auditor would apply them.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"

/* JSON texts larger than this are refused before jansson sees them. */
#define JSON_PARSE_MAX ((size_t)64 << 20)
/* Deeper than jansson's own parse limit (2048), so that anything it
 * parsed can be canonicalised; it also stops reference cycles. */
#define JCS_MAX_DEPTH 4096
/* 2^53: the largest magnitude a double holds every integer up to. */
#define JCS_MAX_EXACT_INT ((json_int_t)1 << 53)

/*
 * Decode one UTF-8 sequence at s[*i] (n bytes in all) strictly: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no truncated
 * sequence. Returns the code point and advances *i, or -1.
 */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	size_t len, k;
	int32_t cp, min;

	if (c < 0x80) {
		(*i)++;
		return c;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (n - *i < len)
		return -1;
	for (k = 1; k < len; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += len;
	return cp;
}

/* The first UTF-16 code unit of a code point: what JCS sorts by. */
static uint32_t utf16_first_unit(int32_t cp)
{
	if (cp < 0x10000)
		return (uint32_t)cp;
	return 0xd800 + (((uint32_t)cp - 0x10000) >> 10);
}

/*
 * Compare two valid UTF-8 strings by their UTF-16 code units, as RFC 8785
 * section 3.2.3 orders object members. At the first differing code point,
 * two BMP characters or two astral characters compare like their code
 * points (surrogate pairs preserve order); an astral character against a
 * BMP one compares by its high surrogate, which is never equal to a BMP
 * character of valid text. This is where U+E000..U+FFFF sort after
 * U+10000 and above, unlike a byte or code point comparison.
 */
static int utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;
	size_t i = 0, j = 0;

	while (i < alen && j < blen) {
		int32_t ca = utf8_next(ua, alen, &i), cb = utf8_next(ub, blen, &j);
		uint32_t x, y;

		if (ca == cb)
			continue;
		if ((ca >= 0x10000) == (cb >= 0x10000)) {
			x = (uint32_t)ca, y = (uint32_t)cb;
		} else {
			x = utf16_first_unit(ca), y = utf16_first_unit(cb);
		}
		return x < y ? -1 : 1;
	}
	if (i < alen)
		return 1;
	return j < blen ? -1 : 0;
}

static int check_utf8(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (utf8_next((const unsigned char *)s, n, &i) < 0)
			return cairn_error_set(CAIRN_EINVAL,
			                       "invalid UTF-8 in a JSON string at byte %zu", i);
	}
	return 0;
}

/*
 * Write a JSON string as JCS (ECMAScript JSON.stringify) does: the short
 * escapes for \b \t \n \f \r " and \, \u00xx in lower-case hex for the
 * other controls, everything else (DEL, U+2028, U+2029 included) as the
 * UTF-8 it is. Runs of plain bytes are copied in one call.
 */
static int put_string(cairn_buf *out, const char *s, size_t n)
{
	size_t i, run = 0;
	int rc;

	if ((rc = check_utf8(s, n)) < 0)
		return rc;
	if ((rc = cairn_buf_putc(out, '"')) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '\b':
			e = "\\b";
			break;
		case '\t':
			e = "\\t";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\r':
			e = "\\r";
			break;
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
		}
		if ((rc = cairn_buf_put(out, s + run, i - run)) < 0 ||
		    (rc = cairn_buf_puts(out, e)) < 0)
			return rc;
		run = i + 1;
	}
	if ((rc = cairn_buf_put(out, s + run, n - run)) < 0)
		return rc;
	return cairn_buf_putc(out, '"');
}

/* Whether M x 10^e reads back as exactly `d`. */
static int reads_back(uint64_t m, int e, double d)
{
	char tmp[48];

	snprintf(tmp, sizeof(tmp), "%llue%d", (unsigned long long)m, e);
	return strtod(tmp, NULL) == d;
}

/*
 * The shortest decimal digits that read back as exactly `d` (d > 0,
 * finite), as in ECMAScript's Number::toString step 5. For 1 to 17
 * significant digits, printf gives the correctly rounded candidate M x
 * 10^e; when it does not read back, a neighbour M+1 or M-1 still may: just
 * above a power of two the doubles below are twice as dense as those
 * above, so the interval that reads back as `d` is lopsided and the
 * nearest p-digit number can fall outside it while the next one up lies
 * inside. The first precision with a candidate that reads back wins (the
 * nearest one first, as the specification asks). Writes the digits (no
 * dot, no trailing zeros) to `digits` and returns their count; *exp is n
 * of the specification (value = 0.digits x 10^n).
 */
static int shortest_digits(char digits[24], int *exp, double d)
{
	char tmp[40];
	uint64_t m = 0;
	int prec, e = 0, k;

	for (prec = 1; prec <= 17; prec++) {
		char *dot, *ep;

		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		ep = strchr(tmp, 'e');
		e = atoi(ep + 1) - (prec - 1);
		*ep = '\0';
		if ((dot = strchr(tmp, '.')))
			memmove(dot, dot + 1, strlen(dot));
		m = strtoull(tmp, NULL, 10);
		if (reads_back(m, e, d))
			break;
		if (reads_back(m + 1, e, d)) {
			m++;
			break;
		}
		if (m > 1 && reads_back(m - 1, e, d)) {
			m--;
			break;
		}
	}
	while (m % 10 == 0 && m > 0) {
		m /= 10;
		e++;
	}
	k = snprintf(digits, 24, "%llu", (unsigned long long)m);
	*exp = k + e;
	return k;
}

static int put_zeros(cairn_buf *out, int count)
{
	int rc = 0;

	while (count-- > 0 && rc == 0)
		rc = cairn_buf_putc(out, '0');
	return rc;
}

/*
 * ECMAScript Number::toString(10) for a finite double: plain notation
 * for decimal exponents -6 < n <= 21, exponent notation ("1e+21",
 * "1.5e-7") outside. -0 prints as 0.
 */
static int put_double(cairn_buf *out, double d)
{
	char digits[24];
	int k, n, rc;

	if (!isfinite(d))
		return cairn_error_set(CAIRN_EINVAL,
		                       "JSON number is not finite: JCS has no form for it");
	if (d == 0)
		return cairn_buf_putc(out, '0');
	if (d < 0) {
		if ((rc = cairn_buf_putc(out, '-')) < 0)
			return rc;
		d = -d;
	}
	k = shortest_digits(digits, &n, d);
	if (k <= n && n <= 21) {
		if ((rc = cairn_buf_put(out, digits, (size_t)k)) < 0)
			return rc;
		return put_zeros(out, n - k);
	}
	if (0 < n && n <= 21)
		return cairn_buf_printf(out, "%.*s.%s", n, digits, digits + n);
	if (-6 < n && n <= 0) {
		if ((rc = cairn_buf_puts(out, "0.")) < 0 || (rc = put_zeros(out, -n)) < 0)
			return rc;
		return cairn_buf_puts(out, digits);
	}
	if (k == 1)
		return cairn_buf_printf(out, "%se%c%d", digits, n - 1 < 0 ? '-' : '+', abs(n - 1));
	return cairn_buf_printf(out, "%c.%se%c%d", digits[0], digits + 1, n - 1 < 0 ? '-' : '+',
	                        abs(n - 1));
}

/* A member of an object being written, for sorting. */
struct member {
	const char *key;
	size_t keylen;
	json_t *value;
};

static int member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;

	return utf16_cmp(a->key, a->keylen, b->key, b->keylen);
}

static int put_value(cairn_buf *out, const json_t *v, int depth);

/*
 * Objects are written with their members sorted by UTF-16 code units.
 * Keys are checked for valid UTF-8 before sorting, since the comparison
 * assumes it. jansson keys may hold NUL bytes (json_object_setn), hence
 * the explicit lengths.
 */
static int put_object(cairn_buf *out, const json_t *obj, int depth)
{
	size_t n = json_object_size(obj), i = 0;
	struct member *m = NULL;
	void *it;
	int rc = 0;

	if (n > 0 && !(m = calloc(n, sizeof(*m))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory sorting a JSON object");
	for (it = json_object_iter((json_t *)obj); it && i < n;
	     it = json_object_iter_next((json_t *)obj, it), i++) {
		m[i].key = json_object_iter_key(it);
		m[i].keylen = json_object_iter_key_len(it);
		m[i].value = json_object_iter_value(it);
		if ((rc = check_utf8(m[i].key, m[i].keylen)) < 0)
			goto out;
	}
	n = i;
	if (n > 1)
		qsort(m, n, sizeof(*m), member_cmp);
	if ((rc = cairn_buf_putc(out, '{')) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((i > 0 && (rc = cairn_buf_putc(out, ',')) < 0) ||
		    (rc = put_string(out, m[i].key, m[i].keylen)) < 0 ||
		    (rc = cairn_buf_putc(out, ':')) < 0 ||
		    (rc = put_value(out, m[i].value, depth + 1)) < 0)
			goto out;
	}
	rc = cairn_buf_putc(out, '}');
out:
	free(m);
	return rc;
}

static int put_integer(cairn_buf *out, json_int_t i)
{
	if (i > JCS_MAX_EXACT_INT || i < -JCS_MAX_EXACT_INT)
		return cairn_error_set(CAIRN_EINVAL,
		                       "JSON integer '%" JSON_INTEGER_FORMAT
		                       "' is beyond 2^53: JCS cannot represent it exactly",
		                       i);
	return cairn_buf_printf(out, "%" JSON_INTEGER_FORMAT, i);
}

static int put_value(cairn_buf *out, const json_t *v, int depth)
{
	size_t i;
	int rc;

	if (depth > JCS_MAX_DEPTH)
		return cairn_error_set(CAIRN_ELIMIT, "JSON value nested deeper than %d levels",
		                       JCS_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(out, v, depth);
	case JSON_ARRAY:
		if ((rc = cairn_buf_putc(out, '[')) < 0)
			return rc;
		for (i = 0; i < json_array_size(v); i++) {
			if ((i > 0 && (rc = cairn_buf_putc(out, ',')) < 0) ||
			    (rc = put_value(out, json_array_get(v, i), depth + 1)) < 0)
				return rc;
		}
		return cairn_buf_putc(out, ']');
	case JSON_STRING:
		return put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return put_integer(out, json_integer_value(v));
	case JSON_REAL:
		return put_double(out, json_real_value(v));
	case JSON_TRUE:
		return cairn_buf_puts(out, "true");
	case JSON_FALSE:
		return cairn_buf_puts(out, "false");
	case JSON_NULL:
		return cairn_buf_puts(out, "null");
	}
	return cairn_error_set(CAIRN_EINVAL, "unknown JSON value type %d", (int)json_typeof(v));
}

int cairn_json_canonical(cairn_buf *out, const json_t *v)
{
	size_t start = out->len;
	int rc;

	if (!v)
		return cairn_error_set(CAIRN_EINVAL, "no JSON value to canonicalise");
	rc = put_value(out, v, 0);
	if (rc < 0)
		cairn_buf_truncate(out, start);
	return rc;
}

int cairn_json_sha256_hex(char hex[65], const json_t *v)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	int rc;

	rc = cairn_json_canonical(&b, v);
	if (rc == 0)
		cairn_sha256_hex(hex, b.ptr ? b.ptr : "", b.len);
	cairn_buf_dispose(&b);
	return rc;
}

int cairn_json_parse(json_t **out, const char *data, size_t len, const char *filename)
{
	json_error_t jerr;
	json_t *v;

	if (len > JSON_PARSE_MAX)
		return cairn_error_set_at(CAIRN_ELIMIT, filename, 0, 0,
		                          "JSON text of %zu bytes is over the %zu-byte limit", len,
		                          JSON_PARSE_MAX);
	/* JSON_ALLOW_NUL: "\u0000" is valid JSON and JCS writes it, so it
	 * must read back; strings keep their length. */
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v)
		return cairn_error_set_at(CAIRN_EINVAL, filename, jerr.line > 0 ? jerr.line : 0,
		                          jerr.column > 0 ? jerr.column : 0, "invalid JSON: %s",
		                          jerr.text);
	*out = v;
	return 0;
}
