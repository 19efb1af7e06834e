/*
 * yaml_emit.c - json_t documents to YAML text, byte for byte as `kubectl
 * kustomize` prints them.
 *
 * kustomize turns every object into JSON and hands it to go-yaml v2's
 * marshaller, whose emitter is a port of libyaml's. Its layout is therefore
 * the product of a small state machine (current column and indent, whether
 * the last thing written was whitespace or indentation), not of a simple
 * "indent by depth" rule: it decides where nested sequences start, when a
 * long scalar folds at column 80, and how a line-separator inside a quoted
 * scalar is laid out. This file keeps the same state and the same decisions,
 * written from the behaviour measured against the real tool (the fixtures
 * under tests/unit/data/emit and docs/yaml-output.md record the rules).
 *
 * Everything is written straight into the caller's cairn_buf; nothing is
 * allocated per scalar. Only objects with many keys allocate (the sorted key
 * table), and only when they do not fit the table on the stack.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn/error.h"
#include "cairn/yaml.h"

#define EMIT_BEST_WIDTH 80
#define EMIT_BEST_INDENT 2
#define EMIT_SIMPLE_KEY_MAX 128
#define EMIT_MAX_DEPTH 1000
#define EMIT_STACK_KEYS 32

enum style {
	STYLE_PLAIN,
	STYLE_SINGLE,
	STYLE_DOUBLE,
	STYLE_LITERAL
};

struct emitter {
	cairn_buf *out;
	int err;         /* first error; later writes are no-ops */
	int indent;      /* -1 before the root node */
	size_t column;   /* in characters, not bytes */
	bool whitespace; /* the last thing written was whitespace */
	bool indention;  /* nothing but indentation on the current line so far */
	unsigned depth;
};

/* What a string's characters allow, as the emitter's analysis pass sees it. */
struct scalar_info {
	bool multiline;
	bool plain_ok;
	bool single_ok;
	bool block_ok;
};

/* ---- low-level writers ---------------------------------------------- */

static void em_raw(struct emitter *em, const void *p, size_t n)
{
	int rc;

	if (em->err)
		return;
	rc = cairn_buf_put(em->out, p, n);
	if (rc < 0)
		em->err = rc;
}

static void em_put(struct emitter *em, char c)
{
	em_raw(em, &c, 1);
	em->column++;
}

static void em_break(struct emitter *em)
{
	em_raw(em, "\n", 1);
	em->column = 0;
}

static size_t utf8_width(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	return 4;
}

/* Count characters (not bytes) of valid UTF-8. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t i, chars = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	return chars;
}

static uint32_t utf8_decode(const unsigned char *s, size_t w)
{
	uint32_t v;
	size_t k;

	if (w == 1)
		return s[0];
	v = s[0] & (w == 2 ? 0x1F : w == 3 ? 0x0F : 0x07);
	for (k = 1; k < w; k++)
		v = (v << 6) | (s[k] & 0x3F);
	return v;
}

/* Copy one character (all of its bytes) and advance. */
static void em_char(struct emitter *em, const char *s, size_t *i)
{
	size_t w = utf8_width((unsigned char)s[*i]);

	em_raw(em, s + *i, w);
	em->column++;
	*i += w;
}

/*
 * Start a new line at the current indent unless the cursor already sits
 * there: the decision that makes "- - a" and "- name: x" come out on one
 * line while a mapping under "key:" starts on the next.
 */
static void em_indent(struct emitter *em)
{
	static const char spaces[] = "                                ";
	size_t ind = em->indent >= 0 ? (size_t)em->indent : 0;

	if (!em->indention || em->column > ind || (em->column == ind && !em->whitespace))
		em_break(em);
	while (em->column < ind) {
		size_t k = ind - em->column;

		if (k > sizeof(spaces) - 1)
			k = sizeof(spaces) - 1;
		em_raw(em, spaces, k);
		em->column += k;
	}
	em->whitespace = true;
	em->indention = true;
}

static void em_indicator(struct emitter *em, const char *ind, bool need_ws, bool is_ws,
                         bool is_indention)
{
	size_t n = strlen(ind);

	if (need_ws && !em->whitespace)
		em_put(em, ' ');
	em_raw(em, ind, n);
	em->column += n;
	em->whitespace = is_ws;
	em->indention = em->indention && is_indention;
}

static int em_push_indent(struct emitter *em, bool flow, bool indentless)
{
	int old = em->indent;

	if (em->indent < 0)
		em->indent = flow ? EMIT_BEST_INDENT : 0;
	else if (!indentless)
		em->indent += EMIT_BEST_INDENT;
	return old;
}

/* ---- character classes (YAML's, on UTF-8 bytes) ----------------------- */

static bool is_break_at(const unsigned char *s, size_t n, size_t i)
{
	if (s[i] == '\n' || s[i] == '\r')
		return true;
	if (s[i] == 0xC2 && i + 1 < n && s[i + 1] == 0x85)
		return true;
	return s[i] == 0xE2 && i + 2 < n && s[i + 1] == 0x80 &&
	       (s[i + 2] == 0xA8 || s[i + 2] == 0xA9);
}

/* Blank, break, NUL or the end of the string. */
static bool is_blankz_at(const unsigned char *s, size_t n, size_t i)
{
	if (i >= n)
		return true;
	return s[i] == ' ' || s[i] == '\t' || s[i] == '\0' || is_break_at(s, n, i);
}

/*
 * The emitter's notion of printable: note that every 4-byte character
 * (emoji included) is "not printable" and forces double quotes with a
 * \U escape, exactly as kustomize prints them.
 */
static bool is_printable_at(const unsigned char *s, size_t n, size_t i)
{
	unsigned char c = s[i], c1 = i + 1 < n ? s[i + 1] : 0, c2 = i + 2 < n ? s[i + 2] : 0;

	if (c == 0x0A || (c >= 0x20 && c <= 0x7E))
		return true;
	if (c == 0xC2)
		return c1 >= 0xA0;
	if (c > 0xC2 && c < 0xED)
		return true;
	if (c == 0xED)
		return c1 < 0xA0;
	if (c == 0xEE)
		return true;
	if (c == 0xEF)
		return !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF));
	return false;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, w, k;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] < 0xC2 || s[i] > 0xF4)
			return false;
		w = utf8_width(s[i]);
		if (i + w > n)
			return false;
		for (k = 1; k < w; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += w;
	}
	return true;
}

/*
 * The analysis pass: which styles can carry this string. Flow context never
 * occurs for non-empty collections, so only the block-context answers are
 * kept.
 */
static void analyze_scalar(const char *str, size_t n, struct scalar_info *info)
{
	const unsigned char *s = (const unsigned char *)str;
	bool block_ind = false, breaks = false, special = false;
	bool lead_space = false, lead_break = false, trail_space = false, trail_break = false;
	bool break_space = false, space_break = false, prev_space = false, prev_break = false;
	bool preceded_ws = true, followed_ws;
	size_t i = 0;

	if (n == 0) {
		*info = (struct scalar_info){false, true, true, false};
		return;
	}
	if (n >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') ||
	               (s[0] == '.' && s[1] == '.' && s[2] == '.')))
		block_ind = true;
	followed_ws = is_blankz_at(s, n, utf8_width(s[0]));
	while (i < n) {
		unsigned char c = s[i];
		size_t w = utf8_width(c);
		bool first = i == 0, last = i + w >= n;

		if (first) {
			if (strchr("#,[]{}&*!|>'\"%@`", c) && c != '\0')
				block_ind = true;
			if ((c == '?' || c == ':') && followed_ws)
				block_ind = true;
			if (c == '-' && followed_ws)
				block_ind = true;
		} else {
			if (c == ':' && followed_ws)
				block_ind = true;
			if (c == '#' && preceded_ws)
				block_ind = true;
		}
		if (!is_printable_at(s, n, i))
			special = true;
		if (is_break_at(s, n, i))
			breaks = true;
		if (c == ' ') {
			lead_space |= first;
			trail_space |= last;
			break_space |= prev_break;
			prev_space = true;
			prev_break = false;
		} else if (is_break_at(s, n, i)) {
			lead_break |= first;
			trail_break |= last;
			space_break |= prev_space;
			prev_break = true;
			prev_space = false;
		} else {
			prev_space = prev_break = false;
		}
		preceded_ws = is_blankz_at(s, n, i);
		i += w;
		if (i < n)
			followed_ws = is_blankz_at(s, n, i + utf8_width(s[i]));
	}
	info->multiline = breaks;
	info->plain_ok = info->single_ok = info->block_ok = true;
	if (lead_space || lead_break || trail_space || trail_break)
		info->plain_ok = false;
	if (trail_space)
		info->block_ok = false;
	if (break_space)
		info->plain_ok = info->single_ok = false;
	if (space_break || special)
		info->plain_ok = info->single_ok = info->block_ok = false;
	if (breaks || block_ind)
		info->plain_ok = false;
}

/* ---- would a plain scalar be read back as something else? ------------ */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool in_word_table(const char *s, size_t n)
{
	static const char *const words[] = {
	        "y",     "Y",     "yes",   "Yes",   "YES",   "on",    "On",   "ON",
	        "true",  "True",  "TRUE",  "n",     "N",     "no",    "No",   "NO",
	        "off",   "Off",   "OFF",   "false", "False", "FALSE", "~",    "null",
	        "Null",  "NULL",  ".nan",  ".NaN",  ".NAN",  ".inf",  ".Inf", ".INF",
	        "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
	};
	size_t k;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strlen(words[k]) == n && memcmp(words[k], s, n) == 0)
			return true;
	return false;
}

/* Read 1 or 2 digits (Go's time layout fields "1", "2", "15", "4", "5"). */
static bool ts_num(const char *s, size_t n, size_t *i, int *v)
{
	if (*i >= n || !is_digit((unsigned char)s[*i]))
		return false;
	*v = s[(*i)++] - '0';
	if (*i < n && is_digit((unsigned char)s[*i]))
		*v = *v * 10 + (s[(*i)++] - '0');
	return true;
}

static int days_in(int month, int year)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * The timestamps that read back as !!timestamp: YYYY-M-D, optionally
 * followed by T/t/space and H:M:S[.frac], with Z or +hh:mm after T/t.
 */
static bool looks_timestamp(const char *s, size_t n)
{
	size_t i;
	int year, mon, day, h, m, sec;

	for (i = 0; i < n && is_digit((unsigned char)s[i]); i++)
		;
	if (i != 4 || i == n || s[i] != '-')
		return false;
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	i++;
	if (!ts_num(s, n, &i, &mon) || mon < 1 || mon > 12 || i >= n || s[i++] != '-' ||
	    !ts_num(s, n, &i, &day) || day < 1 || day > days_in(mon, year))
		return false;
	if (i == n)
		return true;
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
		return false;
	bool zoned = s[i++] != ' ';
	if (!ts_num(s, n, &i, &h) || h > 23 || i >= n || s[i++] != ':' || !ts_num(s, n, &i, &m) ||
	    m > 59 || i >= n || s[i++] != ':' || !ts_num(s, n, &i, &sec) || sec > 59)
		return false;
	if (i + 1 < n && (s[i] == '.' || s[i] == ',') && is_digit((unsigned char)s[i + 1]))
		for (i++; i < n && is_digit((unsigned char)s[i]); i++)
			;
	if (!zoned)
		return i == n;
	if (i < n && s[i] == 'Z')
		return i + 1 == n;
	if (n - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
		return false;
	for (size_t k = 1; k < 6; k++)
		if (k != 3 && !is_digit((unsigned char)s[i + k]))
			return false;
	return (s[i + 1] - '0') * 10 + (s[i + 2] - '0') <= 24 &&
	       (s[i + 4] - '0') * 10 + (s[i + 5] - '0') <= 60;
}

/*
 * Go's ParseInt/ParseUint with base 0 on `p` (underscores already removed):
 * 0 = not an integer, 1 = an integer in int64 or uint64 range, 2 = integer
 * syntax but out of both ranges.
 */
static int go_int_syntax(const char *p, size_t n)
{
	size_t i = 0, start;
	bool neg = false;
	unsigned base = 10;
	uint64_t v = 0;
	bool over = false;

	if (i < n && (p[i] == '+' || p[i] == '-'))
		neg = p[i++] == '-';
	if (i + 1 < n && p[i] == '0' && strchr("xXbBoO", p[i + 1]) && p[i + 1] != '\0') {
		base = (p[i + 1] | 0x20) == 'x' ? 16 : (p[i + 1] | 0x20) == 'b' ? 2 : 8;
		i += 2;
	} else if (i + 1 < n && p[i] == '0') {
		base = 8;
		i++;
	}
	start = i;
	if (i == n && base != 8)
		return 0;
	for (; i < n; i++) {
		unsigned d, c = (unsigned char)p[i];

		if (is_digit(c))
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return 0;
		if (d >= base)
			return 0;
		if (v > (UINT64_MAX - d) / base)
			over = true;
		v = v * base + d;
	}
	(void)start;
	if (over)
		return 2;
	if (neg)
		return v <= (uint64_t)INT64_MAX + 1 ? 1 : 2;
	return 1;
}

/* The YAML-style float syntax [-+]?(\.d+|d+(\.d*)?)([eE][-+]?d+)? with a finite value. */
static bool yaml_float_syntax(const char *p, size_t n, bool dot_only)
{
	size_t i = 0, digits = 0;
	char tmp[128];
	double d;

	if (!dot_only && i < n && (p[i] == '+' || p[i] == '-'))
		i++;
	if (i < n && p[i] == '.') {
		for (i++; i < n && is_digit((unsigned char)p[i]); i++)
			digits++;
		if (digits == 0)
			return false;
	} else {
		if (dot_only)
			return false;
		for (; i < n && is_digit((unsigned char)p[i]); i++)
			digits++;
		if (digits == 0)
			return false;
		if (i < n && p[i] == '.')
			for (i++; i < n && is_digit((unsigned char)p[i]); i++)
				;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		size_t ed = 0;

		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		for (; i < n && is_digit((unsigned char)p[i]); i++)
			ed++;
		if (ed == 0)
			return false;
	}
	if (i != n)
		return false;
	/* An overflowing exponent is a parse error for the reader: the text stays a string. */
	if (n >= sizeof(tmp))
		return true;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	d = strtod(tmp, NULL);
	return isfinite(d);
}

/* Sexagesimal numbers ("1:20") that YAML 1.1 readers take as floats. */
static bool looks_base60(const char *s, size_t n)
{
	size_t i = 0;
	int groups = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= n || !is_digit((unsigned char)s[i]))
		return false;
	while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '_'))
		i++;
	while (i < n && s[i] == ':') {
		size_t d = 0;

		i++;
		if (i < n && s[i] >= '0' && s[i] <= '5' && i + 1 < n &&
		    is_digit((unsigned char)s[i + 1]))
			i++;
		if (i < n && is_digit((unsigned char)s[i])) {
			i++;
			d = 1;
		}
		if (!d)
			return false;
		groups++;
	}
	if (groups == 0)
		return false;
	if (i < n && s[i] == '.')
		for (i++; i < n && (is_digit((unsigned char)s[i]) || s[i] == '_'); i++)
			;
	return i == n;
}

/*
 * Whether a string written plain would be read back (by go-yaml v2, which
 * kustomize's output passes through) as a bool, null, number or timestamp,
 * and so must be double-quoted.
 */
static bool plain_retypes(const char *s, size_t n)
{
	unsigned char c;
	char plain[128];
	size_t i, k = 0;

	if (n == 0)
		return true;
	c = (unsigned char)s[0];
	if (strchr("yYnNtTfFoO~.+-", c) != NULL && in_word_table(s, n))
		return true;
	if (!(c == '.' || c == '+' || c == '-' || is_digit(c)))
		return false;
	if (c != '.' && (looks_timestamp(s, n) || looks_base60(s, n)))
		return true;
	/* Long digit runs are numbers too ("000...0" of 200 digits reads back
	 * as a float; kubectl kustomize quotes it): check them in a heap copy. */
	char *buf = n >= sizeof(plain) ? malloc(n + 1) : plain;
	bool retypes;

	if (buf == NULL)
		return true; /* quoting is always safe */
	for (i = 0; i < n; i++)
		if (s[i] != '_')
			buf[k++] = s[i];
	/* Underscores are dropped before typing, for ".0_5" as for "1_000". */
	if (c == '.')
		retypes = yaml_float_syntax(buf, k, true);
	else
		retypes = go_int_syntax(buf, k) == 1 || yaml_float_syntax(buf, k, false);
	if (buf != plain)
		free(buf);
	return retypes;
}

/* ---- scalar writers ------------------------------------------------- */

static void write_plain(struct emitter *em, const char *s, size_t n, bool allow_breaks)
{
	size_t i = 0;
	bool spaces = false;

	if (n > 0 && !em->whitespace)
		em_put(em, ' ');
	if (!allow_breaks || em->column + n <= EMIT_BEST_WIDTH + 1) {
		/* no space can sit past the fold column: copy in one go */
		em_raw(em, s, n);
		em->column += utf8_chars(s, n);
	} else {
		while (i < n) {
			if (s[i] == ' ') {
				if (!spaces && em->column > EMIT_BEST_WIDTH && i + 1 < n &&
				    s[i + 1] != ' ') {
					em_indent(em);
					i++;
				} else {
					em_char(em, s, &i);
				}
				spaces = true;
			} else {
				em_char(em, s, &i);
				em->indention = false;
				spaces = false;
			}
		}
	}
	em->whitespace = false;
	em->indention = false;
}

/* A line break inside a scalar: '\n' is re-emitted, other breaks are copied. */
static void write_break_char(struct emitter *em, const char *s, size_t *i)
{
	if (s[*i] == '\n') {
		em_break(em);
		(*i)++;
	} else {
		em_char(em, s, i);
		em->column = 0;
	}
}

static void write_single(struct emitter *em, const char *str, size_t n, bool allow_breaks)
{
	const unsigned char *s = (const unsigned char *)str;
	bool spaces = false, breaks = false;
	size_t i = 0;

	em_indicator(em, "'", true, false, false);
	while (i < n) {
		if (s[i] == ' ') {
			if (allow_breaks && !spaces && em->column > EMIT_BEST_WIDTH && i != 0 &&
			    i != n - 1 && s[i + 1] != ' ') {
				em_indent(em);
				i++;
			} else {
				em_char(em, str, &i);
			}
			spaces = true;
		} else if (is_break_at(s, n, i)) {
			if (!breaks && s[i] == '\n')
				em_break(em);
			write_break_char(em, str, &i);
			em->indention = true;
			breaks = true;
		} else {
			if (breaks)
				em_indent(em);
			if (s[i] == '\'')
				em_put(em, '\'');
			em_char(em, str, &i);
			em->indention = false;
			spaces = breaks = false;
		}
	}
	if (breaks)
		em_indent(em);
	em_indicator(em, "'", false, false, false);
	em->whitespace = false;
	em->indention = false;
}

static void write_escape(struct emitter *em, uint32_t v)
{
	char esc[12];
	const char *named = NULL;

	switch (v) {
	case 0x00:
		named = "\\0";
		break;
	case 0x07:
		named = "\\a";
		break;
	case 0x08:
		named = "\\b";
		break;
	case 0x09:
		named = "\\t";
		break;
	case 0x0A:
		named = "\\n";
		break;
	case 0x0B:
		named = "\\v";
		break;
	case 0x0C:
		named = "\\f";
		break;
	case 0x0D:
		named = "\\r";
		break;
	case 0x1B:
		named = "\\e";
		break;
	case 0x22:
		named = "\\\"";
		break;
	case 0x5C:
		named = "\\\\";
		break;
	case 0x85:
		named = "\\N";
		break;
	case 0xA0:
		named = "\\_";
		break;
	case 0x2028:
		named = "\\L";
		break;
	case 0x2029:
		named = "\\P";
		break;
	default:
		break;
	}
	if (named == NULL) {
		if (v <= 0xFF)
			snprintf(esc, sizeof(esc), "\\x%02X", (unsigned)v);
		else if (v <= 0xFFFF)
			snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)v);
		else
			snprintf(esc, sizeof(esc), "\\U%08X", (unsigned)v);
		named = esc;
	}
	em_raw(em, named, strlen(named));
	em->column += strlen(named);
}

/*
 * Double quotes with escapes. A string that starts with a byte-order mark
 * has every character escaped: kustomize's emitter tests for the mark at
 * the start of the whole string instead of at each position, and we print
 * what it prints.
 */
static void write_double(struct emitter *em, const char *str, size_t n, bool allow_breaks)
{
	const unsigned char *s = (const unsigned char *)str;
	bool bom = n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF;
	bool spaces = false;
	size_t i = 0;

	em_indicator(em, "\"", true, false, false);
	while (i < n) {
		if (bom || !is_printable_at(s, n, i) || is_break_at(s, n, i) || s[i] == '"' ||
		    s[i] == '\\') {
			size_t w = utf8_width(s[i]);

			write_escape(em, utf8_decode(s + i, w));
			i += w;
			spaces = false;
		} else if (s[i] == ' ') {
			if (allow_breaks && !spaces && em->column > EMIT_BEST_WIDTH && i != 0 &&
			    i != n - 1) {
				em_indent(em);
				if (s[i + 1] == ' ')
					em_put(em, '\\');
				i++;
			} else {
				em_char(em, str, &i);
			}
			spaces = true;
		} else {
			em_char(em, str, &i);
			spaces = false;
		}
	}
	em_indicator(em, "\"", false, false, false);
	em->whitespace = false;
	em->indention = false;
}

/* "|", an indentation indicator when the text starts with a space or break, a chomping indicator. */
static void write_literal(struct emitter *em, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	bool breaks = true;
	size_t i = 0;

	em_indicator(em, "|", true, false, false);
	if (n > 0 && (s[0] == ' ' || is_break_at(s, n, 0)))
		em_indicator(em, "2", false, false, false);
	if (n == 0) {
		em_indicator(em, "-", false, false, false);
	} else {
		/* find the last character and the one before it */
		size_t last = n - 1, prev;

		while (last > 0 && (s[last] & 0xC0) == 0x80)
			last--;
		if (!is_break_at(s, n, last)) {
			em_indicator(em, "-", false, false, false);
		} else if (last > 0) {
			prev = last - 1;
			while (prev > 0 && (s[prev] & 0xC0) == 0x80)
				prev--;
			if (is_break_at(s, n, prev))
				em_indicator(em, "+", false, false, false);
		} else {
			em_indicator(em, "+", false, false, false);
		}
	}
	em_break(em);
	em->indention = true;
	em->whitespace = true;
	while (i < n) {
		if (is_break_at(s, n, i)) {
			write_break_char(em, str, &i);
			em->indention = true;
			breaks = true;
		} else {
			size_t j = i;

			if (breaks)
				em_indent(em);
			/* copy the run up to the next break in one piece */
			while (j < n && !is_break_at(s, n, j))
				j += utf8_width(s[j]);
			em_raw(em, str + i, j - i);
			em->column += utf8_chars(str + i, j - i);
			i = j;
			em->indention = false;
			breaks = false;
		}
	}
}

/*
 * Emit a string scalar. `simple_key` is set for a mapping key written as
 * "key:"; such keys never fold and never use block style.
 */
static void emit_string(struct emitter *em, const char *s, size_t n, const struct scalar_info *info,
                        bool simple_key)
{
	enum style style;
	int old;

	if (memchr(s, '\n', n) != NULL)
		style = STYLE_LITERAL;
	else if (plain_retypes(s, n))
		style = STYLE_DOUBLE;
	else
		style = STYLE_PLAIN;
	if (simple_key && info->multiline)
		style = STYLE_DOUBLE;
	/* A key "<<" written plain reads back as a merge key (go-yaml and our
	 * loader alike), merging instead of being a key: quote it. As a value
	 * it stays plain, as kubectl kustomize writes it. */
	if (simple_key && n == 2 && s[0] == '<' && s[1] == '<')
		style = STYLE_DOUBLE;
	if (style == STYLE_PLAIN && (!info->plain_ok || (n == 0 && simple_key)))
		style = STYLE_SINGLE;
	if (style == STYLE_SINGLE && !info->single_ok)
		style = STYLE_DOUBLE;
	if (style == STYLE_LITERAL && (!info->block_ok || simple_key))
		style = STYLE_DOUBLE;

	old = em_push_indent(em, true, false);
	switch (style) {
	case STYLE_PLAIN:
		write_plain(em, s, n, !simple_key);
		break;
	case STYLE_SINGLE:
		write_single(em, s, n, !simple_key);
		break;
	case STYLE_DOUBLE:
		write_double(em, s, n, !simple_key);
		break;
	case STYLE_LITERAL:
		write_literal(em, s, n);
		break;
	}
	em->indent = old;
}

/* A scalar whose text needs no quoting (numbers, booleans, null). */
static void emit_bare(struct emitter *em, const char *text)
{
	int old = em_push_indent(em, true, false);

	write_plain(em, text, strlen(text), false);
	em->indent = old;
}

/* ---- numbers -------------------------------------------------------- */

/*
 * Shortest decimal digits that read back as `d` (|d| finite, non-zero):
 * digits without a decimal point, and the position of the point (value =
 * 0.DIGITS x 10^dp).
 */
static void shortest_digits(double d, char digits[24], int *nd, int *dp)
{
	char tmp[48];
	const char *p;
	int prec, k = 0;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	p = tmp[0] == '-' ? tmp + 1 : tmp;
	for (; *p != 'e'; p++)
		if (is_digit((unsigned char)*p))
			digits[k++] = *p;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	*nd = k;
	*dp = atoi(p + 1) + 1;
}

/* Does the integer DIGITS followed by zeros (dp digits in all) fit the limit? */
static bool int_fits(const char *digits, int nd, int dp, const char *limit)
{
	int len = (int)strlen(limit), k;

	if (dp != len)
		return dp < len;
	for (k = 0; k < len; k++) {
		char c = k < nd ? digits[k] : '0';

		if (c != limit[k])
			return c < limit[k];
	}
	return true;
}

/*
 * A real as kustomize prints it. The value goes through Go's JSON encoder
 * and back through the YAML reader: a value whose JSON text is an integer
 * that fits 64 bits comes out as that integer; any other value is printed
 * with Go's shortest %g (exponent form below 1e-4 and from 1e6 up, with a
 * sign and at least two exponent digits).
 */
static void format_real(double d, char *out, size_t size)
{
	char digits[24];
	int nd, dp, exp, k;
	size_t o = 0;
	bool neg = signbit(d) != 0;

	if (d == 0) {
		snprintf(out, size, "0");
		return;
	}
	shortest_digits(d, digits, &nd, &dp);
	if (fabs(d) >= 1e-6 && fabs(d) < 1e21 && dp >= nd &&
	    (neg ? int_fits(digits, nd, dp, "9223372036854775808")
	         : int_fits(digits, nd, dp, "18446744073709551615"))) {
		if (neg)
			out[o++] = '-';
		for (k = 0; k < dp && o + 1 < size; k++)
			out[o++] = k < nd ? digits[k] : '0';
		out[o] = '\0';
		return;
	}
	exp = dp - 1;
	if (neg)
		out[o++] = '-';
	if (exp < -4 || exp >= 6) {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)nd - 1);
			o += (size_t)nd - 1;
		}
		snprintf(out + o, size - o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	if (dp <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (k = dp; k < 0; k++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)nd);
		o += (size_t)nd;
	} else {
		for (k = 0; k < dp; k++)
			out[o++] = k < nd ? digits[k] : '0';
		if (nd > dp) {
			out[o++] = '.';
			memcpy(out + o, digits + dp, (size_t)(nd - dp));
			o += (size_t)(nd - dp);
		}
	}
	out[o] = '\0';
}

/* ---- key order ------------------------------------------------------ */

struct key {
	const char *s;
	size_t len;
	json_t *value;
};

/*
 * Letters as Unicode's IsLetter sees them: exact for ASCII, an
 * approximation above it (Latin, Greek, Cyrillic, CJK... are letters;
 * punctuation, symbol and emoji blocks are not). Kubernetes keys are ASCII.
 */
static bool is_letter(uint32_t c)
{
	if (c < 0x80)
		return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
	if (c == 0xAA || c == 0xB5 || c == 0xBA)
		return true;
	if (c < 0xC0 || c == 0xD7 || c == 0xF7)
		return false;
	if ((c >= 0x300 && c <= 0x36F) || (c >= 0x2000 && c <= 0x2BFF) ||
	    (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE00 && c <= 0xFE6F) ||
	    (c >= 0xFF00 && c <= 0xFF20) || c >= 0x1F000)
		return false;
	return true;
}

/*
 * kustomize's key order: character by character; two letters compare by
 * code point; a non-letter sorts before a letter; where digits differ the
 * numbers they start compare by value, then the shorter digit run first
 * ("a9" < "a10" < "a010"); a prefix sorts first.
 */
static bool key_less(const struct key *ka, const struct key *kb)
{
	const unsigned char *a = (const unsigned char *)ka->s, *b = (const unsigned char *)kb->s;
	size_t an = ka->len, bn = kb->len, i = 0, j = 0;

	while (i < an && j < bn) {
		size_t wa = utf8_width(a[i]), wb = utf8_width(b[j]), ea, eb;
		uint32_t ca = utf8_decode(a + i, i + wa <= an ? wa : 1);
		uint32_t cb = utf8_decode(b + j, j + wb <= bn ? wb : 1);
		uint64_t na = 0, nb = 0;
		bool al, bl;

		if (ca == cb) {
			i += wa;
			j += wb;
			continue;
		}
		al = is_letter(ca);
		bl = is_letter(cb);
		if (al && bl)
			return ca < cb;
		if (al || bl)
			return bl;
		if (ca == '0' || cb == '0') {
			/* a zero inside a number ("10" vs "1x") is a digit, not padding */
			for (size_t k = i; k > 0 && is_digit(a[k - 1]); k--)
				if (a[k - 1] != '0') {
					na = nb = 1;
					break;
				}
		}
		for (ea = i; ea < an && is_digit(a[ea]); ea++)
			na = na * 10 + (uint64_t)(a[ea] - '0');
		for (eb = j; eb < bn && is_digit(b[eb]); eb++)
			nb = nb * 10 + (uint64_t)(b[eb] - '0');
		if (na != nb)
			return (int64_t)na < (int64_t)nb;
		if (ea - i != eb - j)
			return ea - i < eb - j;
		return ca < cb;
	}
	return i >= an && j < bn;
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;

	if (key_less(a, b))
		return -1;
	return key_less(b, a) ? 1 : 0;
}

/* ---- nodes ---------------------------------------------------------- */

static void emit_node(struct emitter *em, const json_t *v, bool mapping_ctx);

static void emit_key_value(struct emitter *em, const struct key *k)
{
	struct scalar_info info;

	analyze_scalar(k->s, k->len, &info);
	em_indent(em);
	if (!info.multiline && k->len <= EMIT_SIMPLE_KEY_MAX) {
		emit_string(em, k->s, k->len, &info, true);
		em_indicator(em, ":", false, false, false);
	} else {
		em_indicator(em, "?", true, false, true);
		emit_string(em, k->s, k->len, &info, false);
		em_indent(em);
		em_indicator(em, ":", true, false, true);
	}
	emit_node(em, k->value, true);
}

static void emit_mapping(struct emitter *em, const json_t *obj)
{
	struct key stack[EMIT_STACK_KEYS], *keys = stack;
	size_t n = json_object_size(obj), k = 0;
	const char *name;
	json_t *value;
	int old;

	if (n == 0) {
		em_indicator(em, "{", true, true, false);
		em_indicator(em, "}", false, false, false);
		return;
	}
	if (n > EMIT_STACK_KEYS) {
		keys = malloc(n * sizeof(*keys));
		if (keys == NULL) {
			em->err =
			        cairn_error_set(CAIRN_ENOMEM, "out of memory sorting %zu keys", n);
			return;
		}
	}
	json_object_foreach((json_t *)obj, name, value)
	{
		keys[k].s = name;
		keys[k].len = json_object_iter_key_len(json_object_key_to_iter(name));
		keys[k].value = value;
		if (!valid_utf8((const unsigned char *)name, keys[k].len) && !em->err)
			em->err = cairn_error_set(CAIRN_EINVAL,
			                          "cannot emit key '%s': not valid UTF-8", name);
		k++;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	old = em_push_indent(em, false, false);
	for (k = 0; k < n && !em->err; k++)
		emit_key_value(em, &keys[k]);
	em->indent = old;
	if (keys != stack)
		free(keys);
}

static void emit_sequence(struct emitter *em, const json_t *arr, bool mapping_ctx)
{
	size_t n = json_array_size(arr), k;
	int old;

	if (n == 0) {
		em_indicator(em, "[", true, true, false);
		em_indicator(em, "]", false, false, false);
		return;
	}
	/* a sequence that is a mapping's value is not indented ("key:\n- a") */
	old = em_push_indent(em, false, mapping_ctx && !em->indention);
	for (k = 0; k < n && !em->err; k++) {
		em_indent(em);
		em_indicator(em, "-", true, false, true);
		emit_node(em, json_array_get(arr, k), false);
	}
	em->indent = old;
}

static void emit_node(struct emitter *em, const json_t *v, bool mapping_ctx)
{
	char num[64];

	if (em->err)
		return;
	if (++em->depth > EMIT_MAX_DEPTH) {
		em->err = cairn_error_set(CAIRN_ELIMIT, "document nests deeper than %d levels",
		                          EMIT_MAX_DEPTH);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		emit_mapping(em, v);
		break;
	case JSON_ARRAY:
		emit_sequence(em, v, mapping_ctx);
		break;
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		struct scalar_info info;

		if (!valid_utf8((const unsigned char *)s, n)) {
			em->err = cairn_error_set(CAIRN_EINVAL,
			                          "cannot emit a string that is not valid UTF-8");
			break;
		}
		analyze_scalar(s, n, &info);
		emit_string(em, s, n, &info, false);
		break;
	}
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		emit_bare(em, num);
		break;
	case JSON_REAL: {
		double d = json_real_value(v);

		if (!isfinite(d)) {
			em->err = cairn_error_set(CAIRN_EINVAL,
			                          "cannot emit the non-finite number '%g'", d);
			break;
		}
		format_real(d, num, sizeof(num));
		emit_bare(em, num);
		break;
	}
	case JSON_TRUE:
		emit_bare(em, "true");
		break;
	case JSON_FALSE:
		emit_bare(em, "false");
		break;
	case JSON_NULL:
		emit_bare(em, "null");
		break;
	}
	em->depth--;
}

static int emit_document(cairn_buf *out, const json_t *doc)
{
	struct emitter em = {out, 0, -1, 0, true, true, 0};

	emit_node(&em, doc, false);
	/* the document end: finish the last line */
	em_indent(&em);
	return em.err;
}

int cairn_yaml_emit(cairn_buf *out, const json_t *doc)
{
	size_t start = out->len;
	int rc;

	if (doc == NULL)
		return cairn_error_set(CAIRN_EINVAL, "cannot emit a NULL document");
	rc = emit_document(out, doc);
	if (rc < 0)
		cairn_buf_truncate(out, start);
	return rc;
}

int cairn_yaml_emit_stream(cairn_buf *out, const json_t *docs)
{
	size_t start = out->len, k;
	int rc = 0;

	if (!json_is_array(docs))
		return cairn_error_set(CAIRN_EINVAL, "cannot emit a stream: expected an array of "
		                                     "documents");
	for (k = 0; k < json_array_size(docs) && rc == 0; k++) {
		if (k > 0)
			rc = cairn_buf_put(out, "---\n", 4);
		if (rc == 0)
			rc = emit_document(out, json_array_get(docs, k));
	}
	if (rc < 0)
		cairn_buf_truncate(out, start);
	return rc;
}
