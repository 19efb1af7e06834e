/*
 * duration.c - Go-style durations: time.ParseDuration and Duration.String.
 *
 * Configuration files carry durations written for Kubernetes-adjacent
 * tools ("30s", "1h30m", "1.5h"), so Cairn accepts and prints exactly
 * what Go does, down to the float64 arithmetic used for fractions; the
 * only deliberate difference is that overflow is CAIRN_ELIMIT rather than
 * a plain invalid-duration error.
 */
#include <stdint.h>

#include "cairn/error.h"
#include "cairn/util.h"

#define NS_US 1000ULL
#define NS_MS (1000ULL * NS_US)
#define NS_S (1000ULL * NS_MS)
#define NS_M (60ULL * NS_S)
#define NS_H (60ULL * NS_M)
#define TWO63 ((uint64_t)1 << 63)

/* Longest input quoted back in an error message. */
#define QUOTE_MAX 64

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
        {"ns", 1},
        {"us", NS_US},
        {"\xc2\xb5s", NS_US}, /* U+00B5 micro sign */
        {"\xce\xbcs", NS_US}, /* U+03BC Greek mu */
        {"ms", NS_MS},
        {"s", NS_S},
        {"m", NS_M},
        {"h", NS_H},
};

static int invalid(const char *orig)
{
	return cairn_error_set(CAIRN_EINVAL, "invalid duration '%.*s'", QUOTE_MAX, orig);
}

static int too_long(const char *orig)
{
	return cairn_error_set(CAIRN_ELIMIT, "duration '%.*s' is out of range (more than %s)",
	                       QUOTE_MAX, orig, "2562047h47m16.854775807s");
}

/* Go's leadingInt: digits into *x; -1 when the value passes 2^63. */
static int leading_int(uint64_t *x, const char **s)
{
	uint64_t v = 0;
	const char *p = *s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > TWO63 / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > TWO63)
			return -1;
	}
	*x = v;
	*s = p;
	return 0;
}

/*
 * Go's leadingFraction: digits after the point into *x with *scale the
 * matching power of ten; digits that would overflow are consumed but
 * ignored, which only drops precision below a nanosecond.
 */
static void leading_fraction(uint64_t *x, double *scale, const char **s)
{
	uint64_t v = 0;
	double sc = 1;
	const char *p = *s;
	int overflow = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t y;

		if (overflow)
			continue;
		if (v > (TWO63 - 1) / 10) {
			overflow = 1;
			continue;
		}
		y = v * 10 + (uint64_t)(*p - '0');
		if (y > TWO63) {
			overflow = 1;
			continue;
		}
		v = y;
		sc *= 10;
	}
	*x = v;
	*scale = sc;
	*s = p;
}

/*
 * One "<number><unit>" element of a duration, added to *total. Returns 0,
 * or an error naming the whole input `orig`.
 */
static int parse_element(uint64_t *total, const char **sp, const char *orig)
{
	const char *s = *sp, *start, *u;
	uint64_t v = 0, f = 0, unit = 0;
	double scale = 1;
	size_t ulen, i;
	int pre, post = 0;

	if (!(*s == '.' || (*s >= '0' && *s <= '9')))
		return invalid(orig);
	start = s;
	if (leading_int(&v, &s) < 0)
		return too_long(orig);
	pre = s != start;
	if (*s == '.') {
		s++;
		start = s;
		leading_fraction(&f, &scale, &s);
		post = s != start;
	}
	if (!pre && !post)
		return invalid(orig);
	for (u = s; *s && *s != '.' && !(*s >= '0' && *s <= '9'); s++)
		;
	ulen = (size_t)(s - u);
	if (ulen == 0)
		return cairn_error_set(
		        CAIRN_EINVAL, "missing unit in duration '%.*s' (use ns, us, ms, s, m or h)",
		        QUOTE_MAX, orig);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].name) == ulen && memcmp(units[i].name, u, ulen) == 0)
			unit = units[i].ns;
	}
	if (unit == 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "unknown unit '%.*s' in duration '%.*s' (use ns, us, ms, s, "
		                       "m or h)",
		                       (int)(ulen < QUOTE_MAX ? ulen : QUOTE_MAX), u, QUOTE_MAX,
		                       orig);
	if (v > TWO63 / unit)
		return too_long(orig);
	v *= unit;
	if (f > 0) {
		/* float64, as Go: exact to the nanosecond for fractions of hours. */
		v += (uint64_t)((double)f * ((double)unit / scale));
		if (v > TWO63)
			return too_long(orig);
	}
	*total += v;
	if (*total > TWO63)
		return too_long(orig);
	*sp = s;
	return 0;
}

int cairn_duration_parse(int64_t *out_ns, const char *s)
{
	const char *orig = s;
	uint64_t d = 0;
	int neg = 0, rc;

	if (!s)
		return cairn_error_set(CAIRN_EINVAL, "invalid duration: no text");
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*out_ns = 0;
		return 0;
	}
	if (*s == '\0')
		return invalid(orig);
	while (*s) {
		if ((rc = parse_element(&d, &s, orig)) < 0)
			return rc;
	}
	if (neg) {
		/* -2^63 is representable; the unsigned negation wraps to it. */
		*out_ns = (int64_t)(0 - d);
		return 0;
	}
	if (d > TWO63 - 1)
		return too_long(orig);
	*out_ns = (int64_t)d;
	return 0;
}

/*
 * Go's fmtFrac: the `prec` low decimal digits of *v as ".ddd" written
 * backwards before buf[w], trailing zeros (and the point, when all are
 * zero) left out; *v keeps the integer part. Returns the new start.
 */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	int i, print = 0;

	for (i = 0; i < prec; i++) {
		unsigned digit = (unsigned)(*v % 10);

		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

/* Go's fmtInt: decimal digits of v written backwards before buf[w]. */
static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0)
		buf[--w] = '0';
	for (; v > 0; v /= 10)
		buf[--w] = (char)('0' + v % 10);
	return w;
}

void cairn_duration_format(char out[CAIRN_DURATION_LEN], int64_t ns)
{
	char buf[CAIRN_DURATION_LEN];
	size_t w = sizeof(buf);
	uint64_t u = (uint64_t)ns;

	if (ns < 0)
		u = 0 - u;
	buf[--w] = '\0';
	buf[--w] = 's';
	if (u == 0) {
		buf[--w] = '0';
	} else if (u < NS_S) {
		int prec = 6;

		/* Below a second Go switches to the largest smaller unit. */
		if (u < NS_US) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < NS_MS) {
			prec = 3;
			buf[--w] = '\xb5';
			buf[--w] = '\xc2';
		} else {
			buf[--w] = 'm';
		}
		w = fmt_frac(buf, w, &u, prec);
		w = fmt_int(buf, w, u);
	} else {
		w = fmt_frac(buf, w, &u, 9);
		w = fmt_int(buf, w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			w = fmt_int(buf, w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				w = fmt_int(buf, w, u);
			}
		}
	}
	if (ns < 0)
		buf[--w] = '-';
	memcpy(out, buf + w, sizeof(buf) - w);
}
