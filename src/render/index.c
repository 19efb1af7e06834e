/*
 * index.c - a small hash multimap from 64-bit hashes to positions in an
 * rset, so that duplicate-id checks and name-reference look-ups do not
 * compare every pair of objects. Entries are never removed: an index lives
 * for one phase in which the objects it covers keep their ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "render_private.h"

/* FNV-1a over n bytes of s, then a separator byte so that ("ab", "c") and
 * ("a", "bc") hash differently. */
uint64_t render__hash_mix(uint64_t h, const char *s, size_t n)
{
	if (s == NULL)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= 0x1f;
	h *= 0x100000001b3ULL;
	return h;
}

/* Double the table (or make the first one) and re-insert what it held. */
static int rmap_grow(struct rmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct rmap_ent *e = calloc(cap, sizeof(*e));

	if (e == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;
		if (m->e[i].used == 0)
			continue;
		for (j = (size_t)m->e[i].h & (cap - 1); e[j].used; j = (j + 1) & (cap - 1))
			;
		e[j] = m->e[i];
	}
	free(m->e);
	m->e = e;
	m->cap = cap;
	return 0;
}

int render__rmap_put(struct rmap *m, uint64_t h, size_t v)
{
	size_t j;

	/* at most half full: probe sequences stay short */
	if ((m->n + 1) * 2 > m->cap && rmap_grow(m) < 0)
		return cairn_error_last()->code;
	for (j = (size_t)h & (m->cap - 1); m->e[j].used; j = (j + 1) & (m->cap - 1))
		;
	m->e[j].h = h;
	m->e[j].v = v;
	m->e[j].used = 1;
	m->n++;
	return 0;
}

int render__rmap_next(const struct rmap *m, uint64_t h, size_t *pos, size_t *v)
{
	size_t j;

	if (m->cap == 0)
		return 0;
	j = *pos == SIZE_MAX ? (size_t)h & (m->cap - 1) : *pos;
	for (; m->e[j].used; j = (j + 1) & (m->cap - 1))
		if (m->e[j].h == h) {
			*v = m->e[j].v;
			*pos = (j + 1) & (m->cap - 1);
			return 1;
		}
	*pos = j;
	return 0;
}

void render__rmap_dispose(struct rmap *m)
{
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}
