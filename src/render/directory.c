/*
 * directory.c - plain directories with Argo CD's `directory` options:
 * recurse, and include/exclude globs matched against each manifest file's
 * path relative to the application's directory.
 *
 * The glob syntax is the one Argo CD compiles its patterns with (no
 * separator characters, so `*` also crosses '/'): `*`, `?`, character
 * classes `[abc]`, `[a-z]`, `[!abc]`, alternatives `{a,b}` that may nest,
 * and `\` escaping the next character. Alternatives are expanded first
 * (bounded), then each plain pattern is matched iteratively, backtracking
 * only to the last `*`, so no pattern takes exponential time.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/util.h"
#include "render_private.h"

/* Most plain patterns one glob expands to, and most bytes of one. */
#define GLOB_ALTS_MAX 1024
#define GLOB_LEN_MAX 4096

struct alts {
	char *v[GLOB_ALTS_MAX];
	size_t n;
};

/* Bytes of the UTF-8 sequence starting with c (1 for stray bytes). */
static size_t rune_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* Where the `}` closing the `{` at p[0] is, or NULL. */
static const char *brace_end(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

/*
 * Expand the first top-level `{...}` of `pat` into one pattern per
 * alternative and recurse on each; a pattern without braces is stored.
 */
static int expand(struct alts *a, const char *pat)
{
	const char *open = NULL, *close, *p, *start;

	for (p = pat; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '{') {
			open = p;
			break;
		} else if (*p == '}')
			return cairn_error_set(CAIRN_EINVAL, "glob '%s' has an unopened '}'", pat);
	}
	if (open == NULL) {
		if (a->n == GLOB_ALTS_MAX)
			return cairn_error_set(CAIRN_ELIMIT,
			                       "glob expands to more than %d patterns",
			                       GLOB_ALTS_MAX);
		if ((a->v[a->n] = strdup(pat)) == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		a->n++;
		return 0;
	}
	if ((close = brace_end(open)) == NULL)
		return cairn_error_set(CAIRN_EINVAL, "glob '%s' has an unclosed '{'", pat);
	start = open + 1;
	for (p = start;; p++) {
		int depth = 0;
		for (; p < close && (depth > 0 || *p != ','); p++) {
			if (*p == '\\' && p + 1 < close)
				p++;
			else if (*p == '{')
				depth++;
			else if (*p == '}')
				depth--;
		}
		{
			size_t len =
			        (size_t)(open - pat) + (size_t)(p - start) + strlen(close + 1) + 1;
			char *one = malloc(len);
			int rc;
			if (one == NULL)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			snprintf(one, len, "%.*s%.*s%s", (int)(open - pat), pat, (int)(p - start),
			         start, close + 1);
			rc = expand(a, one);
			free(one);
			if (rc < 0)
				return rc;
		}
		if (p >= close)
			break;
		start = p + 1;
	}
	return 0;
}

/* Match one character class at *pp against the rune at s; advances *pp
 * past the class. Returns 1, 0, or CAIRN_EINVAL when unclosed. */
static int class_match(const char **pp, const char *s, size_t slen)
{
	const char *p = *pp + 1;
	int neg = 0, hit = 0;
	unsigned long c = (unsigned char)s[0];

	(void)slen;
	if (*p == '!') {
		neg = 1;
		p++;
	}
	while (*p && *p != ']') {
		unsigned long lo, hi;
		if (*p == '\\' && p[1])
			p++;
		lo = (unsigned char)*p++;
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		hit |= c >= lo && c <= hi;
	}
	if (*p != ']')
		return CAIRN_EINVAL;
	*pp = p + 1;
	return hit != neg;
}

/* A brace-free pattern against the whole of s: 1, 0 or CAIRN_EINVAL. */
static int plain_match(const char *pat, const char *s)
{
	const char *p = pat, *star_p = NULL, *star_s = NULL;

	while (*s) {
		size_t rl = rune_len((unsigned char)*s);
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			p++;
			s += rl;
			continue;
		}
		if (*p == '[') {
			const char *q = p;
			int m = class_match(&q, s, rl);
			if (m < 0)
				return m;
			if (m) {
				p = q;
				s += rl;
				continue;
			}
		} else if (*p != '\0') {
			const char *lit = p;
			if (*lit == '\\' && lit[1])
				lit++;
			if (*lit == *s) {
				p = lit + 1;
				s++;
				continue;
			}
		}
		if (star_p == NULL)
			return 0;
		/* retry with the last star swallowing one more rune */
		star_s += rune_len((unsigned char)*star_s);
		s = star_s;
		p = star_p;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Whether the pattern is well formed: classes closed, no trailing '\'. */
static int plain_check(const char *pat, const char *orig)
{
	for (const char *p = pat; *p; p++) {
		if (*p == '\\' && p[1] == '\0')
			return cairn_error_set(CAIRN_EINVAL, "glob '%s' ends with '\\'", orig);
		if (*p == '\\') {
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;
			if (*q == '!')
				q++;
			while (*q && *q != ']')
				q += (*q == '\\' && q[1]) ? 2 : 1;
			if (*q != ']')
				return cairn_error_set(CAIRN_EINVAL,
				                       "glob '%s' has an unclosed '['", orig);
			p = q;
		}
	}
	return 0;
}

int cairn_render_glob_match(const char *pattern, const char *path)
{
	struct alts *a;
	int rc = 0;

	if (strlen(pattern) > GLOB_LEN_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "glob longer than %d bytes", GLOB_LEN_MAX);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = expand(a, pattern);
	for (size_t i = 0; rc == 0 && i < a->n; i++)
		rc = plain_check(a->v[i], pattern);
	for (size_t i = 0; rc == 0 && i < a->n; i++)
		if (plain_match(a->v[i], path) == 1)
			rc = 1;
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a);
	return rc;
}

/* Whether directory entry `p` is read: a manifest extension, not excluded,
 * included. 1, 0 or a negative error. */
static int wanted(const char *p, const cairn_render_dir_opts *o)
{
	const char *dot = strrchr(p, '.');
	int rc;

	if (dot == NULL || (strcmp(dot, ".yaml") && strcmp(dot, ".yml") && strcmp(dot, ".json")))
		return 0;
	if (o->exclude && o->exclude[0] && (rc = cairn_render_glob_match(o->exclude, p)) != 0)
		return rc < 0 ? rc : 0;
	if (o->include && o->include[0])
		return cairn_render_glob_match(o->include, p);
	return 1;
}

int cairn_render_directory_opts(json_t **out, cairn_tree *t, const char *dir,
                                const cairn_render_dir_opts *opts)
{
	cairn_render_dir_opts def = CAIRN_RENDER_DIR_OPTS_INIT;
	cairn_tree_list l = {0};
	rset s = {0};
	json_t *arr = NULL;
	char *clean = NULL;
	const char *base;
	int rc;

	if (opts == NULL)
		opts = &def;
	if (opts->version != CAIRN_RENDER_DIR_OPTS_VERSION)
		return cairn_error_set(CAIRN_EINVAL, "unknown cairn_render_dir_opts version %u",
		                       opts->version);
	if (cairn_path_clean(&clean, dir && dir[0] ? dir : ".") < 0)
		return cairn_error_set(CAIRN_EPERM, "directory '%s' leaves the root of the tree",
		                       dir);
	base = strcmp(clean, ".") ? clean : "";
	rc = cairn_tree_list_dir(&l, t, base, opts->recurse);
	for (size_t i = 0; rc == 0 && i < l.count; i++) {
		const char *p = l.entries[i].path;
		json_t *docs = NULL;
		char *full = NULL;
		cairn_tree_kind kind;
		uint64_t size;
		size_t len = strlen(base) + strlen(p) + 2;
		if ((rc = wanted(p, opts)) <= 0)
			continue;
		if ((full = malloc(len)) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		snprintf(full, len, "%s%s%s", base, base[0] ? "/" : "", p);
		rc = cairn_tree_stat(t, &kind, &size, full);
		if (rc == 0 && kind == CAIRN_TREE_FILE) {
			rc = load_docs(&docs, t, full, CAIRN_YAML_KUBECTL);
			if (rc == 0)
				rc = add_docs(&s, docs, full);
		}
		json_decref(docs);
		free(full);
	}
	if (rc == 0 && (arr = json_array()) == NULL)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < s.n; i++)
		if (json_array_append(arr, s.v[i].obj) < 0)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (rc == 0)
		*out = json_incref(arr);
	json_decref(arr);
	rset_dispose(&s);
	cairn_tree_list_dispose(&l);
	free(clean);
	return rc;
}
