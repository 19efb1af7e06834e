/*
 * yaml_scalar.c - typing of YAML scalars for the two profiles.
 *
 * The rules below were written from what the tools print (the table and
 * the commands are in docs/yaml.md and tests/unit/data/yaml/ORACLE.md), not
 * from a specification: `kubectl kustomize` (kustomize 5.5) and
 * `kubectl annotate --local -o json`, which reads files as `kubectl apply`
 * does (kubectl 1.32). Both tools agree on numbers:
 *   - underscores are dropped first ("1_000" is 1000, "1_" is 1);
 *   - integers are read with Go's base-0 syntax: "0x1F", "0o17", "0b101",
 *     and a leading zero meaning octal ("0777" is 511), with an optional
 *     sign; a value past int64 but inside uint64 is kept as a number;
 *   - otherwise [-+]?(.D+|D+(.D*)?)([eE][-+]?D+)? is a float ("08" is 8,
 *     "1." is 1, ".5" is 0.5); a float that overflows stays a string;
 *   - the only special plain words are the null, bool and .inf/.nan ones.
 * They differ on booleans (kubectl reads YAML 1.1's y/yes/on/... as
 * booleans, kustomize keeps them as strings) and on timestamps (kustomize
 * rewrites "2001-12-14" as "2001-12-14T00:00:00Z"; kubectl keeps the text).
 *
 * JSON has no integer/float distinction and both tools print a float that
 * holds a whole number as an integer ("1.0" and "1e3" print 1 and 1000), so
 * such values become json integers; numbers outside int64 become reals
 * (jansson holds no wider integer). Infinities and NaN make both tools fail
 * ("json: unsupported value"), so they are an error here too.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "yaml_private.h"

/* What resolution found, before tags are checked. */
enum scalar_kind {
	SK_STRING,
	SK_NULL,
	SK_BOOL,
	SK_INT,
	SK_FLOAT,
	SK_NONFINITE,
};

struct resolved {
	enum scalar_kind kind;
	int boolean;
	json_int_t i;
	double d;
	int is_real;    /* SK_INT that did not fit int64, or SK_FLOAT not integral */
	char stamp[64]; /* kustomize's rewritten timestamp, when non-empty */
};

enum yaml_tag_kind yaml__tag_kind(const char *tag)
{
	static const char core[] = "tag:yaml.org,2002:";
	const char *t;

	if (tag == NULL)
		return YAML_TAG_NONE;
	if (strncmp(tag, core, sizeof(core) - 1) != 0)
		return YAML_TAG_STR; /* "!" and local tags such as "!custom" */
	t = tag + sizeof(core) - 1;
	if (strcmp(t, "str") == 0)
		return YAML_TAG_STR;
	if (strcmp(t, "int") == 0)
		return YAML_TAG_INT;
	if (strcmp(t, "float") == 0)
		return YAML_TAG_FLOAT;
	if (strcmp(t, "bool") == 0)
		return YAML_TAG_BOOL;
	if (strcmp(t, "null") == 0)
		return YAML_TAG_NULL;
	if (strcmp(t, "binary") == 0)
		return YAML_TAG_BINARY;
	return YAML_TAG_OTHER;
}

static int word_is(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);

	return n == len && memcmp(s, w, n) == 0;
}

static int word_in(const char *s, size_t len, const char *const *words)
{
	for (; *words != NULL; words++)
		if (word_is(s, len, *words))
			return 1;
	return 0;
}

/* The words both tools treat specially; the YAML 1.1 extras only kubectl. */
static const char *const null_words[] = {"~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};
static const char *const true_words_11[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", NULL};
static const char *const false_words_11[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", NULL};
static const char *const nonfinite_words[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                              "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                              ".NaN",  ".NAN",  NULL};

static int match_word(const char *s, size_t len, cairn_yaml_profile profile, struct resolved *r)
{
	if (len == 0 || word_in(s, len, null_words)) {
		r->kind = SK_NULL;
		return 1;
	}
	if (word_in(s, len, true_words) ||
	    (profile == CAIRN_YAML_KUBECTL && word_in(s, len, true_words_11))) {
		r->kind = SK_BOOL;
		r->boolean = 1;
		return 1;
	}
	if (word_in(s, len, false_words) ||
	    (profile == CAIRN_YAML_KUBECTL && word_in(s, len, false_words_11))) {
		r->kind = SK_BOOL;
		r->boolean = 0;
		return 1;
	}
	if (word_in(s, len, nonfinite_words)) {
		r->kind = SK_NONFINITE;
		return 1;
	}
	return 0;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/*
 * Go's strconv.ParseInt(s, 0, 64) and, for unsigned text, ParseUint: an
 * optional sign, then 0x/0o/0b or a leading 0 (octal) or decimal. Returns 1
 * with *out set, or 0 when the text is not an integer or overflows uint64.
 * *wide is set when the value only fits uint64.
 */
static int parse_go_int(const char *s, size_t len, int64_t *out, uint64_t *uout, int *wide)
{
	int neg = 0, sign = 0;
	unsigned base = 10;
	uint64_t n = 0;
	size_t i = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		sign = 1;
		i = 1;
	}
	if (i == len)
		return 0;
	if (s[i] == '0') {
		char c = len - i >= 3 ? s[i + 1] : '\0';
		if (c == 'x' || c == 'X') {
			base = 16;
			i += 2;
		} else if (c == 'o' || c == 'O') {
			base = 8;
			i += 2;
		} else if (c == 'b' || c == 'B') {
			base = 2;
			i += 2;
		} else {
			base = 8;
			i += 1;
		}
	}
	for (; i < len; i++) {
		unsigned d = (unsigned)digit_value(s[i]);
		if (d >= base)
			return 0;
		if (n > (UINT64_MAX - d) / base)
			return 0;
		n = n * base + d;
	}
	*wide = 0;
	if (neg) {
		if (n > (uint64_t)INT64_MAX + 1)
			return 0;
		*out = n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n;
		return 1;
	}
	if (n > (uint64_t)INT64_MAX) {
		if (sign)
			return 0; /* ParseUint takes no sign; ParseInt overflowed */
		*wide = 1;
		*uout = n;
		return 1;
	}
	*out = (int64_t)n;
	return 1;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int float_syntax(const char *s, size_t len)
{
	size_t i = 0, d = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return 0;
	} else {
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return 0;
		if (i < len && s[i] == '.')
			for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
				;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return 0;
	}
	return i == len;
}

/* A float whose value is a whole number inside int64 becomes an integer. */
static void set_float(struct resolved *r, double v)
{
	r->kind = SK_FLOAT;
	if (v == floor(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0) {
		r->i = (json_int_t)v;
		r->is_real = 0;
	} else {
		r->d = v;
		r->is_real = 1;
	}
}

/* strtod on a NUL-terminated copy; an overflow is not a number (Go's
 * ParseFloat fails with ErrRange and the scalar stays a string). */
static int parse_float(const char *s, size_t len, struct resolved *r)
{
	char small[128];
	char *copy = len < sizeof(small) ? small : malloc(len + 1);
	double v;

	if (copy == NULL)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	v = strtod(copy, NULL);
	if (copy != small)
		free(copy);
	if (isinf(v))
		return 0;
	set_float(r, v);
	return 1;
}

/* Read 1 or 2 digits (Go's non-fixed layout fields) starting at *i. */
static int stamp_num(const char *s, size_t len, size_t *i, int maxdigits, int *out)
{
	int n = 0, d = 0;

	while (*i < len && d < maxdigits && s[*i] >= '0' && s[*i] <= '9') {
		n = n * 10 + (s[*i] - '0');
		(*i)++;
		d++;
	}
	*out = n;
	return d > 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/*
 * kustomize (go-yaml v3) reads plain scalars shaped "2006-1-2",
 * "2006-1-2 15:4:5[.frac]" (UTC) and "2006-1-2T15:4:5[.frac]Z07:00" as
 * timestamps and prints them back in RFC 3339 with nanoseconds: month, day
 * and time fields padded to two digits, the fraction cut to nine digits
 * with trailing zeros dropped, a zero offset as "Z". Impossible dates
 * ("2001-02-30") stay strings. Returns 1 and writes the rewritten text.
 */
static int stamp_rewrite(const char *s, size_t len, char *out, size_t size)
{
	int y, mo, d, h = 0, mi = 0, se = 0, zh = 0, zm = 0, zsign = 0, n;
	char frac[10] = "";
	size_t i = 0, nf = 0;

	if (len < 8 || !stamp_num(s, len, &i, 4, &y) || i != 4 || s[i] != '-')
		return 0;
	i++;
	if (!stamp_num(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
	    !stamp_num(s, len, &i, 2, &d))
		return 0;
	if (i < len) {
		int zoned = s[i] == 'T' || s[i] == 't';
		if (!zoned && s[i] != ' ')
			return 0;
		i++;
		if (!stamp_num(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
		    !stamp_num(s, len, &i, 2, &mi) || i >= len || s[i++] != ':' ||
		    !stamp_num(s, len, &i, 2, &se))
			return 0;
		if (i < len && s[i] == '.') {
			size_t start = ++i;
			for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
				if (nf < 9)
					frac[nf++] = s[i];
			if (i == start)
				return 0;
		}
		if (zoned) {
			if (i < len && s[i] == 'Z') {
				i++;
			} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
			           s[i + 3] == ':') {
				size_t j = i + 1;
				zsign = s[i] == '-' ? -1 : 1;
				if (!stamp_num(s, len, &j, 2, &zh) || j != i + 3)
					return 0;
				j++;
				if (!stamp_num(s, len, &j, 2, &zm) || j != len)
					return 0;
				i = len;
			} else {
				return 0;
			}
		}
		if (i != len)
			return 0;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    se > 59 || zh > 24 || zm > 59)
		return 0;
	while (nf > 0 && frac[nf - 1] == '0')
		nf--;
	frac[nf] = '\0';
	if (zh == 0 && zm == 0)
		n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%sZ", y, mo, d, h, mi, se,
		             nf ? "." : "", frac);
	else
		n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%s%c%02d:%02d", y, mo, d, h,
		             mi, se, nf ? "." : "", frac, zsign < 0 ? '-' : '+', zh, zm);
	return n > 0 && (size_t)n < size; /* a cut timestamp is not one */
}

/* Text starting with '.' goes to Go's ParseFloat untouched, which takes
 * underscores only between digits (".5_0" is 0.5, "._5" a string). */
static int underscores_between_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '_' && (i == 0 || i + 1 == len || s[i - 1] < '0' || s[i - 1] > '9' ||
		                    s[i + 1] < '0' || s[i + 1] > '9'))
			return 0;
	return 1;
}

/*
 * Numbers (and, for kustomize, timestamps) for text starting with a digit,
 * '+', '-' or '.'. Returns 1 when typed, 0 when it stays a string, -1 when
 * out of memory.
 */
static int match_number(const char *s, size_t len, cairn_yaml_profile profile, struct resolved *r)
{
	char small[128];
	char *buf;
	size_t n = 0, i;
	int64_t iv;
	uint64_t uv;
	int wide, rc = 0;

	if (s[0] == '.' && !underscores_between_digits(s, len))
		return 0;
	if (profile == CAIRN_YAML_KUSTOMIZE && stamp_rewrite(s, len, r->stamp, sizeof(r->stamp))) {
		r->kind = SK_STRING;
		return 1;
	}
	buf = len < sizeof(small) ? small : malloc(len + 1);
	if (buf == NULL)
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] != '_')
			buf[n++] = s[i];
	if (parse_go_int(buf, n, &iv, &uv, &wide)) {
		r->kind = SK_INT;
		if (wide) {
			r->is_real = 1;
			r->d = (double)uv;
		} else {
			r->i = iv;
		}
		rc = 1;
	} else if (float_syntax(buf, n)) {
		rc = parse_float(buf, n, r);
	}
	if (buf != small)
		free(buf);
	return rc;
}

static int resolve_plain(const char *s, size_t len, cairn_yaml_profile profile, struct resolved *r)
{
	if (match_word(s, len, profile, r))
		return 1;
	if ((s[0] >= '0' && s[0] <= '9') || s[0] == '+' || s[0] == '-' || s[0] == '.')
		return match_number(s, len, profile, r);
	return 0;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* !!binary: standard base64, line breaks and spaces ignored; the decoded
 * bytes become the string (both tools do so), so they must be UTF-8. */
static json_t *decode_binary(const char *s, size_t len, char *why, size_t why_size)
{
	unsigned char *out = malloc(len / 4 * 3 + 3);
	size_t n = 0, i, pad = 0;
	unsigned acc = 0, bits = 0;
	json_t *v = NULL;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int d;
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		d = b64_value(c);
		if (d < 0 || pad > 0) {
			snprintf(why, why_size, "invalid base64 in !!binary scalar");
			goto out;
		}
		acc = (acc << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	v = json_stringn((const char *)out, n);
	if (v == NULL)
		snprintf(why, why_size, "!!binary scalar does not decode to UTF-8 text");
out:
	free(out);
	return v;
}

static json_t *make_json(const struct resolved *r, const char *s, size_t len)
{
	switch (r->kind) {
	case SK_NULL:
		return json_null();
	case SK_BOOL:
		return json_boolean(r->boolean);
	case SK_INT:
	case SK_FLOAT:
		return r->is_real ? json_real(r->d) : json_integer(r->i);
	case SK_STRING:
	default:
		if (r->stamp[0] != '\0')
			return json_string_nocheck(r->stamp);
		return json_stringn_nocheck(s, len);
	}
}

static const char *tag_name(enum yaml_tag_kind tag)
{
	switch (tag) {
	case YAML_TAG_INT:
		return "!!int";
	case YAML_TAG_FLOAT:
		return "!!float";
	case YAML_TAG_BOOL:
		return "!!bool";
	case YAML_TAG_NULL:
		return "!!null";
	default:
		return "!!str";
	}
}

static int tag_fits(enum yaml_tag_kind tag, const struct resolved *r)
{
	switch (tag) {
	case YAML_TAG_INT:
		return r->kind == SK_INT;
	case YAML_TAG_FLOAT:
		return r->kind == SK_INT || r->kind == SK_FLOAT;
	case YAML_TAG_BOOL:
		return r->kind == SK_BOOL;
	case YAML_TAG_NULL:
		return r->kind == SK_NULL;
	default:
		return 1;
	}
}

json_t *yaml__scalar(const char *text, size_t len, int plain, enum yaml_tag_kind tag,
                     cairn_yaml_profile profile, char *why, size_t why_size)
{
	struct resolved r;
	int rc = 0;

	why[0] = '\0';
	if (tag == YAML_TAG_STR || (!plain && (tag == YAML_TAG_NONE || tag == YAML_TAG_OTHER)))
		return json_stringn_nocheck(text, len);
	if (tag == YAML_TAG_BINARY)
		return decode_binary(text, len, why, why_size);
	memset(&r, 0, sizeof(r));
	r.kind = SK_STRING;
	/* Tagged scalars are resolved whatever their style ("!!int '12'"). */
	if (len == 0)
		r.kind = SK_NULL;
	else
		rc = resolve_plain(text, len, profile, &r);
	if (rc < 0)
		return NULL;
	if (r.kind == SK_NONFINITE) {
		snprintf(why, why_size, "'%.*s' is not a number JSON can hold",
		         (int)(len > 40 ? 40 : len), text);
		return NULL;
	}
	if (tag != YAML_TAG_NONE && tag != YAML_TAG_OTHER && !tag_fits(tag, &r)) {
		snprintf(why, why_size, "cannot read '%.*s' as %s", (int)(len > 40 ? 40 : len),
		         text, tag_name(tag));
		return NULL;
	}
	if (r.stamp[0] != '\0' && tag != YAML_TAG_NONE && tag != YAML_TAG_OTHER)
		r.stamp[0] = '\0';
	if (tag == YAML_TAG_FLOAT && r.kind == SK_INT && r.is_real == 0)
		r.kind = SK_FLOAT;
	return make_json(&r, text, len);
}
