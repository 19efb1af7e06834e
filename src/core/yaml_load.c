/*
 * yaml_load.c - YAML streams to jansson documents (libyaml's event API).
 *
 * One pass over libyaml's events with an explicit stack of open
 * collections: no recursion, so nesting costs one frame per level and the
 * depth limit is checked the moment a collection opens (libyaml's scanner
 * is quadratic on deep flow nesting, so stopping early matters). Aliases
 * are expanded by deep copy, because callers edit the trees they get and a
 * shared subtree would make an edit show up twice; the copy is counted
 * against the alias budget before it is made, so a billion-laughs file is
 * refused after a bounded amount of work.
 *
 * Typing of scalars lives in yaml_scalar.c.
 */
#include <stdarg.h>
#include <yaml.h>

#include "cairn/error.h"
#include "cairn/yaml.h"
#include "yaml_private.h"

#define DEFAULT_MAX_INPUT ((size_t)64 << 20)
#define DEFAULT_MAX_SCALAR ((size_t)16 << 20)
#define DEFAULT_MAX_DEPTH 512
#define DEFAULT_MAX_DOCUMENTS 100000
#define DEFAULT_MAX_NODES 10000000
#define DEFAULT_ALIAS_RATIO 10

struct cairn_yaml_marks {
	json_t *docs; /* array of objects: JSON pointer -> (line << 32 | column) */
};

struct anchor {
	char *name;
	json_t *node; /* a reference we hold */
	size_t size;  /* nodes in the subtree, aliases expanded */
	struct anchor *next;
};

/* One open collection. A mapping holds its pending key as the libyaml
 * event itself (not a copy) until the value arrives. */
struct frame {
	json_t *node;
	int is_map;
	char *anchor; /* taken from the start event; registered at the end */
	size_t start_nodes;
	size_t path_len; /* length of the marks path of this node */
	/* mappings only */
	int have_key;
	int key_is_merge;
	yaml_event_t key_ev; /* valid when have_key and key_alloc == NULL */
	char *key_alloc;     /* key text made from an alias */
	const char *key;
	size_t key_len;
	yaml_mark_t key_mark;
	json_t *merged; /* keys that came from `<<` and may be overridden */
};

struct loader {
	yaml_parser_t parser;
	const char *data;
	size_t len;
	const char *file;
	cairn_yaml_opts o;
	struct frame *stack;
	size_t depth, cap;
	json_t *docs;
	json_t *root;
	size_t parsed, expanded;
	struct anchor **buckets;
	size_t nbuckets, nanchors;
	struct cairn_yaml_marks *marks;
	json_t *doc_marks; /* borrowed from marks->docs */
	cairn_buf path;
};

static int err_at(struct loader *ld, int code, yaml_mark_t m, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int err_at(struct loader *ld, int code, yaml_mark_t m, const char *fmt, ...)
{
	char msg[CAIRN_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cairn_error_set_at(code, ld->file, (int)m.line + 1, (int)m.column + 1, "%s", msg);
}

/* ---- anchors ---------------------------------------------------------- */

static size_t name_hash(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static void anchors_clear(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nbuckets; i++) {
		struct anchor *a = ld->buckets[i], *next;
		for (; a != NULL; a = next) {
			next = a->next;
			free(a->name);
			json_decref(a->node);
			free(a);
		}
		ld->buckets[i] = NULL;
	}
	ld->nanchors = 0;
}

static int anchors_grow(struct loader *ld)
{
	size_t n = ld->nbuckets ? ld->nbuckets * 2 : 16, i;
	struct anchor **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (i = 0; i < ld->nbuckets; i++) {
		struct anchor *a = ld->buckets[i], *next;
		for (; a != NULL; a = next) {
			size_t h = name_hash(a->name) & (n - 1);
			next = a->next;
			a->next = b[h];
			b[h] = a;
		}
	}
	free(ld->buckets);
	ld->buckets = b;
	ld->nbuckets = n;
	return 0;
}

/* Register `node` under `name` (taking the name); a later anchor of the same
 * name hides an earlier one, as YAML says. */
static int anchor_add(struct loader *ld, char *name, json_t *node, size_t size)
{
	struct anchor *a;
	size_t h;

	if (ld->nanchors >= ld->nbuckets && anchors_grow(ld) < 0) {
		free(name);
		return CAIRN_ENOMEM;
	}
	a = malloc(sizeof(*a));
	if (a == NULL) {
		free(name);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	h = name_hash(name) & (ld->nbuckets - 1);
	a->name = name;
	a->node = json_incref(node);
	a->size = size;
	a->next = ld->buckets[h];
	ld->buckets[h] = a;
	ld->nanchors++;
	return 0;
}

static struct anchor *anchor_find(struct loader *ld, const char *name)
{
	struct anchor *a;

	if (ld->nbuckets == 0)
		return NULL;
	for (a = ld->buckets[name_hash(name) & (ld->nbuckets - 1)]; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* ---- marks ------------------------------------------------------------ */

/* Append one RFC 6901 segment ("/" + key with "~" and "/" escaped). */
static int path_push_key(cairn_buf *p, const char *k, size_t n)
{
	size_t i, from = 0;
	int rc = cairn_buf_putc(p, '/');

	for (i = 0; rc == 0 && i < n; i++) {
		if (k[i] != '~' && k[i] != '/')
			continue;
		rc = cairn_buf_put(p, k + from, i - from);
		if (rc == 0)
			rc = cairn_buf_puts(p, k[i] == '~' ? "~0" : "~1");
		from = i + 1;
	}
	if (rc == 0)
		rc = cairn_buf_put(p, k + from, n - from);
	return rc;
}

/* Extend the path with the segment of the value about to be added to the
 * top frame (its index, or its key). */
static int path_push_child(struct loader *ld)
{
	struct frame *f;

	if (ld->depth == 0) {
		cairn_buf_truncate(&ld->path, 0);
		return 0;
	}
	f = &ld->stack[ld->depth - 1];
	cairn_buf_truncate(&ld->path, f->path_len);
	if (f->is_map)
		return path_push_key(&ld->path, f->key, f->key_len);
	return cairn_buf_printf(&ld->path, "/%zu", json_array_size(f->node));
}

static int mark_record(struct loader *ld, yaml_mark_t m)
{
	json_int_t packed = ((json_int_t)(m.line + 1) << 32) | (json_int_t)(m.column + 1);
	json_t *v = json_integer(packed);

	if (v == NULL ||
	    json_object_setn_new_nocheck(ld->doc_marks, ld->path.ptr ? ld->path.ptr : "",
	                                 ld->path.len, v) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* Called before a node is added: computes its path and records its start
 * when marks were asked for; a no-op otherwise. */
static int mark_node(struct loader *ld, yaml_mark_t m)
{
	int rc;

	if (ld->marks == NULL)
		return 0;
	rc = path_push_child(ld);
	if (rc == 0)
		rc = mark_record(ld, m);
	if (rc < 0 && rc != CAIRN_ENOMEM)
		return err_at(ld, rc, m, "node path longer than %zu bytes", ld->path.max);
	return rc;
}

/* ---- building --------------------------------------------------------- */

/*
 * The alias budget, after go-yaml's: a small stream may take most of its
 * nodes from aliases, a big one only a few. The factor of expanded to
 * parsed nodes allowed is 10x max_alias_ratio up to 400,000 nodes in all,
 * falling linearly to max_alias_ratio at 4,000,000; nothing is refused
 * below 1,000 expanded nodes. The check runs before an alias is copied, so
 * a billion-laughs file is refused after a few thousand copies.
 */
static size_t alias_factor(const struct loader *ld)
{
	size_t total = ld->parsed + ld->expanded, hi = ld->o.max_alias_ratio * 10;
	size_t lo = ld->o.max_alias_ratio;

	if (total <= 400000)
		return hi;
	if (total >= 4000000)
		return lo;
	return hi - (size_t)((double)(hi - lo) * (double)(total - 400000) / 3600000.0);
}

static int count_nodes(struct loader *ld, size_t parsed, size_t expanded, yaml_mark_t m)
{
	size_t factor;

	ld->parsed += parsed;
	ld->expanded += expanded;
	if (ld->parsed + ld->expanded > ld->o.max_nodes)
		return err_at(ld, CAIRN_ELIMIT, m,
		              "too many nodes: more than %zu (aliases expanded)", ld->o.max_nodes);
	if (ld->expanded <= 1000)
		return 0;
	factor = alias_factor(ld);
	if (ld->expanded / factor > ld->parsed ||
	    (ld->expanded / factor == ld->parsed && ld->expanded % factor != 0))
		return err_at(ld, CAIRN_ELIMIT, m,
		              "too much alias expansion: %zu nodes from aliases against %zu parsed "
		              "(at most %zu times as many)",
		              ld->expanded, ld->parsed, factor);
	return 0;
}

/* `<<: value` in mapping f: copy in the keys of a mapping, or of each
 * mapping of a sequence, that f does not have yet. Earlier sources win, and
 * keys written in f itself win whether they come before or after. */
static int merge_into(struct loader *ld, struct frame *f, json_t *value, yaml_mark_t m)
{
	size_t i, n = json_is_array(value) ? json_array_size(value) : 1;

	if (!json_is_object(value) && !json_is_array(value))
		goto bad;
	for (i = 0; i < n; i++) {
		json_t *src = json_is_array(value) ? json_array_get(value, i) : value;
		void *it;
		if (!json_is_object(src))
			goto bad;
		for (it = json_object_iter(src); it != NULL; it = json_object_iter_next(src, it)) {
			const char *k = json_object_iter_key(it);
			size_t kn = json_object_iter_key_len(it);
			if (json_object_getn(f->node, k, kn) != NULL)
				continue;
			if (f->merged == NULL && (f->merged = json_object()) == NULL)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			if (json_object_setn_nocheck(f->node, k, kn, json_object_iter_value(it)) <
			            0 ||
			    json_object_setn_new_nocheck(f->merged, k, kn, json_null()) < 0)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	return 0;
bad:
	return err_at(ld, CAIRN_EINVAL, m,
	              "merge key '<<' needs a mapping or a sequence of mappings as its value");
}

static void frame_drop_key(struct frame *f)
{
	if (!f->have_key)
		return;
	if (f->key_alloc != NULL)
		free(f->key_alloc);
	else
		yaml_event_delete(&f->key_ev);
	f->key_alloc = NULL;
	f->have_key = 0;
}

/* Set f's pending key to `value` (stolen). A key already present is an
 * error unless it came from a merge: written keys override merged ones. */
static int map_set(struct loader *ld, struct frame *f, json_t *value)
{
	size_t before = json_object_size(f->node);
	int rc = 0;

	if (f->key_is_merge) {
		rc = merge_into(ld, f, value, f->key_mark);
		json_decref(value);
		return rc;
	}
	if (json_object_setn_new_nocheck(f->node, f->key, f->key_len, value) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (json_object_size(f->node) > before)
		return 0;
	if (f->merged != NULL && json_object_getn(f->merged, f->key, f->key_len) != NULL) {
		json_object_deln(f->merged, f->key, f->key_len);
		return 0;
	}
	return err_at(ld, CAIRN_EINVAL, f->key_mark, "duplicate key '%.*s' in mapping",
	              (int)(f->key_len > 200 ? 200 : f->key_len), f->key);
}

/* Add a finished node (stolen) to the open collection, or make it the
 * document's root. */
static int attach(struct loader *ld, json_t *value)
{
	struct frame *f;
	int rc;

	if (value == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (ld->depth == 0) {
		json_decref(ld->root);
		ld->root = value;
		return 0;
	}
	f = &ld->stack[ld->depth - 1];
	if (!f->is_map) {
		if (json_array_append_new(f->node, value) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		return 0;
	}
	rc = map_set(ld, f, value);
	frame_drop_key(f);
	return rc;
}

/* Is the top frame a mapping waiting for a key? */
static struct frame *want_key(struct loader *ld)
{
	struct frame *f = ld->depth ? &ld->stack[ld->depth - 1] : NULL;

	return f != NULL && f->is_map && !f->have_key ? f : NULL;
}

static int key_from_scalar(struct loader *ld, struct frame *f, yaml_event_t *ev)
{
	int rc = 0;

	f->key_ev = *ev;
	memset(ev, 0, sizeof(*ev)); /* the frame owns it now */
	f->have_key = 1;
	f->key = (const char *)f->key_ev.data.scalar.value;
	f->key_len = f->key_ev.data.scalar.length;
	f->key_mark = f->key_ev.start_mark;
	f->key_is_merge = f->key_ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	                  f->key_ev.data.scalar.tag == NULL && f->key_len == 2 &&
	                  memcmp(f->key, "<<", 2) == 0;
	if (f->key_ev.data.scalar.anchor != NULL) {
		json_t *k = json_stringn_nocheck(f->key, f->key_len);
		char *name = (char *)f->key_ev.data.scalar.anchor;
		f->key_ev.data.scalar.anchor = NULL;
		rc = k ? anchor_add(ld, name, k, 1)
		       : cairn_error_set(CAIRN_ENOMEM, "out of memory");
		json_decref(k);
	}
	return rc;
}

/* An alias used as a key: the text of the scalar it names. */
static int key_from_alias(struct loader *ld, struct frame *f, const json_t *v, yaml_mark_t m)
{
	char num[64];
	const char *s = num;
	size_t n;

	if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
	} else if (json_is_integer(v)) {
		n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		                     json_integer_value(v));
	} else if (json_is_real(v)) {
		n = (size_t)snprintf(num, sizeof(num), "%.17g", json_real_value(v));
	} else if (json_is_boolean(v) || json_is_null(v)) {
		s = json_is_null(v) ? "null" : json_is_true(v) ? "true" : "false";
		n = strlen(s);
	} else {
		return err_at(ld, CAIRN_EINVAL, m,
		              "mapping key must be a scalar, not a collection");
	}
	f->key_alloc = malloc(n + 1);
	if (f->key_alloc == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	memcpy(f->key_alloc, s, n);
	f->key_alloc[n] = '\0';
	f->have_key = 1;
	f->key = f->key_alloc;
	f->key_len = n;
	f->key_mark = m;
	f->key_is_merge = 0;
	return 0;
}

static int on_scalar(struct loader *ld, yaml_event_t *ev)
{
	struct frame *f = want_key(ld);
	yaml_mark_t m = ev->start_mark;
	const char *tagtext = (const char *)ev->data.scalar.tag;
	enum yaml_tag_kind tag = yaml__tag_kind(tagtext);
	char why[256];
	json_t *v;
	int rc;

	if (ev->data.scalar.length > ld->o.max_scalar_bytes)
		return err_at(ld, CAIRN_ELIMIT, m, "scalar too long: %zu bytes, at most %zu",
		              ev->data.scalar.length, ld->o.max_scalar_bytes);
	if ((rc = count_nodes(ld, 1, 0, m)) < 0)
		return rc;
	if (f != NULL)
		return key_from_scalar(ld, f, ev);
	/* kustomize prints "! 12" back as a plain 12 (it drops the
	 * non-specific tag); kubectl reads it as the string "12". */
	if (tagtext != NULL && strcmp(tagtext, "!") == 0 && ld->o.profile == CAIRN_YAML_KUSTOMIZE)
		tag = YAML_TAG_OTHER;
	v = yaml__scalar((const char *)ev->data.scalar.value, ev->data.scalar.length,
	                 ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, tag, ld->o.profile, why,
	                 sizeof(why));
	if (v == NULL)
		return why[0] ? err_at(ld, CAIRN_EINVAL, m, "%s", why)
		              : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = mark_node(ld, m)) < 0) {
		json_decref(v);
		return rc;
	}
	if (ev->data.scalar.anchor != NULL) {
		char *name = (char *)ev->data.scalar.anchor;
		ev->data.scalar.anchor = NULL;
		if ((rc = anchor_add(ld, name, v, 1)) < 0) {
			json_decref(v);
			return rc;
		}
	}
	return attach(ld, v);
}

static int on_alias(struct loader *ld, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct anchor *a = anchor_find(ld, name);
	struct frame *f = want_key(ld);
	json_t *copy;
	int rc;

	if (a == NULL)
		return err_at(ld, CAIRN_EINVAL, ev->start_mark,
		              "unknown alias '*%s': no anchor '&%s' before it in this document",
		              name, name);
	if ((rc = count_nodes(ld, 0, a->size, ev->start_mark)) < 0)
		return rc;
	if (f != NULL)
		return key_from_alias(ld, f, a->node, ev->start_mark);
	if ((rc = mark_node(ld, ev->start_mark)) < 0)
		return rc;
	copy = json_deep_copy(a->node);
	return attach(ld, copy);
}

static int on_start(struct loader *ld, yaml_event_t *ev, int is_map)
{
	struct frame *f;
	yaml_mark_t m = ev->start_mark;
	yaml_char_t **anchor =
	        is_map ? &ev->data.mapping_start.anchor : &ev->data.sequence_start.anchor;
	int rc;

	if (want_key(ld) != NULL)
		return err_at(ld, CAIRN_EINVAL, m,
		              "mapping key must be a scalar, not a %s (JSON keys are strings)",
		              is_map ? "mapping" : "sequence");
	if (ld->depth >= ld->o.max_depth)
		return err_at(ld, CAIRN_ELIMIT, m, "nesting too deep: more than %zu levels",
		              ld->o.max_depth);
	if ((rc = count_nodes(ld, 1, 0, m)) < 0)
		return rc;
	if ((rc = mark_node(ld, m)) < 0)
		return rc;
	if (ld->depth == ld->cap) {
		size_t cap = ld->cap ? ld->cap * 2 : 32;
		struct frame *s = realloc(ld->stack, cap * sizeof(*s));
		if (s == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		ld->stack = s;
		ld->cap = cap;
	}
	f = &ld->stack[ld->depth];
	memset(f, 0, sizeof(*f));
	f->is_map = is_map;
	f->node = is_map ? json_object() : json_array();
	if (f->node == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	f->anchor = (char *)*anchor;
	*anchor = NULL;
	f->start_nodes = ld->parsed + ld->expanded - 1;
	f->path_len = ld->path.len;
	ld->depth++;
	return 0;
}

static void frame_free(struct frame *f)
{
	frame_drop_key(f);
	json_decref(f->node);
	json_decref(f->merged);
	free(f->anchor);
}

static int on_end(struct loader *ld)
{
	struct frame *f = &ld->stack[--ld->depth];
	json_t *node = f->node;
	int rc = 0;

	f->node = NULL;
	if (f->anchor != NULL) {
		rc = anchor_add(ld, f->anchor, node, ld->parsed + ld->expanded - f->start_nodes);
		f->anchor = NULL;
	}
	frame_free(f);
	if (rc < 0) {
		json_decref(node);
		return rc;
	}
	return attach(ld, node);
}

/* ---- libyaml errors ------------------------------------------------- */

/* Byte offset of a libyaml mark (line and column count characters). */
static size_t mark_offset(const struct loader *ld, yaml_mark_t m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < ld->len && line < m.line) {
		if (ld->data[i++] == '\n')
			line++;
	}
	while (i < ld->len && col < m.column && ld->data[i] != '\n') {
		i++;
		while (i < ld->len && ((unsigned char)ld->data[i] & 0xC0) == 0x80)
			i++;
		col++;
	}
	return i;
}

static int reader_error(struct loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	size_t off = p->problem_offset < ld->len ? p->problem_offset : ld->len, i;
	int line = 1, col = 1;

	for (i = 0; i < off; i++) {
		if (ld->data[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)ld->data[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	if (p->problem_value >= 0 && off < ld->len)
		return cairn_error_set_at(
		        CAIRN_EINVAL, ld->file, line, col,
		        "invalid UTF-8: %s (byte 0x%02x); YAML input must be UTF-8 "
		        "text",
		        p->problem, (unsigned)p->problem_value & 0xFFu);
	return cairn_error_set_at(CAIRN_EINVAL, ld->file, line, col,
	                          "invalid UTF-8: %s; YAML input must be UTF-8 text", p->problem);
}

/* Wrap libyaml's error, keeping its text (which says what it expected). */
static int parser_error(struct loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	yaml_mark_t m = p->problem_mark;
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_MEMORY_ERROR)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory while parsing YAML");
	if (p->error == YAML_READER_ERROR)
		return reader_error(ld);
	if (p->error == YAML_SCANNER_ERROR) {
		size_t off = mark_offset(ld, m);
		if (off < ld->len && ld->data[off] == '\t')
			return err_at(ld, CAIRN_EINVAL, m,
			              "tab character where indentation is expected (YAML indents "
			              "with spaces only)");
	}
	if (p->context != NULL)
		return err_at(ld, CAIRN_EINVAL, m,
		              "invalid YAML: %s %s (started at line %zu, column %zu)", problem,
		              p->context, p->context_mark.line + 1, p->context_mark.column + 1);
	return err_at(ld, CAIRN_EINVAL, m, "invalid YAML: %s", problem);
}

/* ---- the event loop --------------------------------------------------- */

static int on_document(struct loader *ld, yaml_event_t *ev, int start)
{
	json_t *marks;

	if (start) {
		if (json_array_size(ld->docs) >= ld->o.max_documents)
			return err_at(ld, CAIRN_ELIMIT, ev->start_mark,
			              "too many documents: more than %zu", ld->o.max_documents);
		if (ld->marks != NULL) {
			marks = json_object();
			if (marks == NULL || json_array_append_new(ld->marks->docs, marks) < 0)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			ld->doc_marks = marks;
		}
		return 0;
	}
	/* Anchors do not reach across documents. */
	anchors_clear(ld);
	if (json_array_append_new(ld->docs, ld->root ? ld->root : json_null()) < 0) {
		ld->root = NULL;
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	ld->root = NULL;
	return 0;
}

static int dispatch(struct loader *ld, yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		return on_document(ld, ev, 1);
	case YAML_DOCUMENT_END_EVENT:
		return on_document(ld, ev, 0);
	case YAML_SCALAR_EVENT:
		return on_scalar(ld, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(ld, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(ld, ev, 0);
	case YAML_MAPPING_START_EVENT:
		return on_start(ld, ev, 1);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(ld);
	default:
		return 0;
	}
}

static int run(struct loader *ld)
{
	yaml_event_t ev;
	int rc = 0, done = 0;

	while (!done && rc == 0) {
		if (!yaml_parser_parse(&ld->parser, &ev))
			return parser_error(ld);
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = dispatch(ld, &ev);
		yaml_event_delete(&ev);
	}
	return rc;
}

static void opts_resolve(cairn_yaml_opts *o, const cairn_yaml_opts *in)
{
	cairn_yaml_opts def = CAIRN_YAML_OPTS_INIT;

	*o = in ? *in : def;
	if (o->max_input_bytes == 0)
		o->max_input_bytes = DEFAULT_MAX_INPUT;
	if (o->max_scalar_bytes == 0)
		o->max_scalar_bytes = DEFAULT_MAX_SCALAR;
	if (o->max_depth == 0)
		o->max_depth = DEFAULT_MAX_DEPTH;
	if (o->max_documents == 0)
		o->max_documents = DEFAULT_MAX_DOCUMENTS;
	if (o->max_nodes == 0)
		o->max_nodes = DEFAULT_MAX_NODES;
	if (o->max_alias_ratio == 0)
		o->max_alias_ratio = DEFAULT_ALIAS_RATIO;
}

void cairn_yaml_marks_free(cairn_yaml_marks *marks)
{
	if (marks == NULL)
		return;
	json_decref(marks->docs);
	free(marks);
}

int cairn_yaml_load(json_t **out_docs, cairn_yaml_marks **out_marks, const char *data, size_t len,
                    const char *filename, const cairn_yaml_opts *opts)
{
	struct loader ld;
	int rc;

	memset(&ld, 0, sizeof(ld));
	opts_resolve(&ld.o, opts);
	ld.data = data ? data : "";
	ld.len = data ? len : 0;
	ld.file = filename;
	if (opts != NULL && opts->version != CAIRN_YAML_OPTS_VERSION)
		return cairn_error_set(CAIRN_EINVAL, "unsupported cairn_yaml_opts version %u",
		                       opts->version);
	if (ld.len > ld.o.max_input_bytes)
		return cairn_error_set_at(CAIRN_ELIMIT, filename, 1, 1,
		                          "input too large: %zu bytes, at most %zu", ld.len,
		                          ld.o.max_input_bytes);
	cairn_buf_init(&ld.path, 1 << 20);
	ld.docs = json_array();
	if (ld.docs == NULL || !yaml_parser_initialize(&ld.parser)) {
		json_decref(ld.docs);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)ld.data, ld.len);
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
	if (out_marks != NULL) {
		ld.marks = calloc(1, sizeof(*ld.marks));
		if (ld.marks == NULL || (ld.marks->docs = json_array()) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = run(&ld);
out:
	while (ld.depth > 0)
		frame_free(&ld.stack[--ld.depth]);
	free(ld.stack);
	anchors_clear(&ld);
	free(ld.buckets);
	json_decref(ld.root);
	cairn_buf_dispose(&ld.path);
	yaml_parser_delete(&ld.parser);
	if (rc < 0) {
		json_decref(ld.docs);
		cairn_yaml_marks_free(ld.marks);
		return rc;
	}
	*out_docs = ld.docs;
	if (out_marks != NULL)
		*out_marks = ld.marks;
	return 0;
}

int cairn_yaml_load_file(json_t **out_docs, cairn_yaml_marks **out_marks, const char *path,
                         const cairn_yaml_opts *opts)
{
	cairn_yaml_opts o;
	cairn_buf b;
	int rc;

	opts_resolve(&o, opts);
	cairn_buf_init(&b, o.max_input_bytes);
	rc = cairn_buf_read_file(&b, path);
	if (rc == 0)
		rc = cairn_yaml_load(out_docs, out_marks, b.ptr, b.len, path, opts);
	cairn_buf_dispose(&b);
	return rc;
}

int cairn_yaml_marks_lookup(const cairn_yaml_marks *marks, size_t doc, const char *pointer,
                            int *line, int *column)
{
	const json_t *m = marks ? json_array_get(marks->docs, doc) : NULL;
	size_t n = pointer ? strlen(pointer) : 0;

	if (m == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND, "no document %zu in the marks", doc);
	for (;;) {
		const json_t *v = json_object_getn(m, pointer ? pointer : "", n);
		if (v != NULL) {
			json_int_t packed = json_integer_value(v);
			*line = (int)(packed >> 32);
			*column = (int)(packed & 0xFFFFFFFF);
			return 0;
		}
		if (n == 0)
			break;
		while (n > 0 && pointer[n - 1] != '/')
			n--;
		if (n > 0)
			n--; /* drop the '/' too: the parent's pointer */
	}
	return cairn_error_set(CAIRN_ENOTFOUND, "no position for '%s' in document %zu",
	                       pointer ? pointer : "", doc);
}

size_t cairn_yaml_marks_count(const cairn_yaml_marks *marks)
{
	return marks ? json_array_size(marks->docs) : 0;
}
