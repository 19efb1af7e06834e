/*
 * verify.c - reading the trail back: full and checkpoint-only verification,
 * filtered iteration, inclusion and consistency proofs.
 */
#include <errno.h>
#include <stdarg.h>
#include <sodium.h>

#include "audit/audit_private.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"

#define MAX_CHECKPOINTS ((size_t)1 << 22)

struct cp_ref {
	uint64_t size;
	uint8_t root[32];
	const char *text;
	size_t len;
	int64_t index; /* in audit.checkpoints; -1 = the extra one */
};

static int cp_cmp(const void *a, const void *b)
{
	const struct cp_ref *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void set_bad(cairn_audit_verify_result *r, cairn_audit_problem what, int64_t seq, int64_t cp,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set_bad(cairn_audit_verify_result *r, cairn_audit_problem what, int64_t seq, int64_t cp,
                    const char *fmt, ...)
{
	va_list ap;

	r->ok = 0;
	r->problem = what;
	r->bad_seq = seq;
	r->bad_checkpoint = cp;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

/* Collect the notes of audit.checkpoints (and the extra one), sorted by size.
 * Returns 0 with *out (caller frees) or 1 when a note is bad (r filled). */
static int collect_checkpoints(struct cp_ref **out, size_t *n, cairn_audit_verify_result *r,
                               const char *text, size_t len, const cairn_audit_verify_opts *o)
{
	struct cp_ref *v = NULL;
	size_t cnt = 0, cap = 0, off = 0;
	int64_t idx = 0;

	while (off < len || (o->extra_checkpoint != NULL && idx >= 0)) {
		const char *t;
		size_t tl, note_len = 0;
		audit_checkpoint cp;
		size_t nsigs = 0;

		if (off < len) {
			t = text + off;
			tl = len - off;
		} else {
			t = o->extra_checkpoint;
			tl = o->extra_checkpoint_len;
			idx = -1;
		}
		if (audit__checkpoint_split(t, tl, &note_len) < 0 || note_len == 0 ||
		    audit__checkpoint_parse(&cp, NULL, 0, &nsigs, t, note_len) < 0) {
			set_bad(r, CAIRN_AUDIT_BAD_CHECKPOINT, -1, idx,
			        "checkpoint %lld is malformed: %s", (long long)idx,
			        cairn_error_last()->message);
			free(v);
			return 1;
		}
		if (cnt == cap) {
			struct cp_ref *nv;

			if (cnt >= MAX_CHECKPOINTS) {
				set_bad(r, CAIRN_AUDIT_BAD_CHECKPOINT, -1, idx,
				        "too many checkpoints");
				free(v);
				return 1;
			}
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			}
			v = nv;
		}
		v[cnt].size = cp.size;
		memcpy(v[cnt].root, cp.root, 32);
		v[cnt].text = t;
		v[cnt].len = note_len;
		v[cnt].index = idx;
		cnt++;
		if (idx < 0)
			break;
		off += note_len;
		idx++;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cp_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

/* Check the checkpoints of size `size` against the current root; 1 when bad. */
static int check_cps_at(cairn_audit_verify_result *r, const struct cp_ref *cps, size_t ncps,
                        size_t *next, uint64_t size, const struct audit_frontier *fr,
                        const cairn_audit_verifier *key)
{
	uint8_t root[32];

	if (*next >= ncps || cps[*next].size != size)
		return 0;
	audit__frontier_root(fr, root);
	for (; *next < ncps && cps[*next].size == size; (*next)++) {
		const struct cp_ref *c = &cps[*next];
		int64_t seq = size > 0 ? (int64_t)size - 1 : -1;

		if (audit__checkpoint_verify(c->text, c->len, key->name, key->pub) < 0) {
			set_bad(r, CAIRN_AUDIT_BAD_CHECKPOINT, seq, c->index,
			        "checkpoint %lld (size %llu) is not signed by key '%s': %s",
			        (long long)c->index, (unsigned long long)size, key->name,
			        cairn_error_last()->message);
			return 1;
		}
		if (memcmp(root, c->root, 32) != 0) {
			set_bad(r, CAIRN_AUDIT_BAD_CHECKPOINT, seq, c->index,
			        "checkpoint %lld (size %llu): Merkle root does not match the log's "
			        "first %llu entries (another log, or entries before it were "
			        "changed)",
			        (long long)c->index, (unsigned long long)size,
			        (unsigned long long)size);
			return 1;
		}
		r->checkpoints++;
	}
	return 0;
}

/* Check one parsed entry against the chain state; 1 when bad (r filled). */
static int check_entry(cairn_audit_verify_result *r, const struct audit_parsed *p, uint64_t n,
                       const uint8_t prev[32], const struct audit_keychain *kc, int fast,
                       cairn_buf *msg)
{
	char prevhex[65];
	uint8_t sig[64];
	size_t siglen = 0;

	if (p->seq != n) {
		set_bad(r, CAIRN_AUDIT_BAD_ENTRY, (int64_t)n, -1,
		        "entry %llu: seq is %llu, expected %llu (an entry is missing, added or out "
		        "of order)",
		        (unsigned long long)n, (unsigned long long)p->seq, (unsigned long long)n);
		return 1;
	}
	cairn_hex_encode(prevhex, prev, 32);
	if (strcmp(prevhex, p->prev) != 0) {
		set_bad(r, CAIRN_AUDIT_BAD_ENTRY, (int64_t)n, -1,
		        "entry %llu: 'prev' does not match the hash of entry %lld",
		        (unsigned long long)n, (long long)n - 1);
		return 1;
	}
	if (strcmp(p->key, kc->cur.name) != 0) {
		set_bad(r, CAIRN_AUDIT_BAD_ENTRY, (int64_t)n, -1,
		        "entry %llu: signed by key '%.128s' but the current key is '%s'",
		        (unsigned long long)n, p->key, kc->cur.name);
		return 1;
	}
	if (fast)
		return 0;
	if (cairn_base64_decode(sig, sizeof(sig), &siglen, p->sig, strlen(p->sig)) < 0 ||
	    siglen != 64 ||
	    crypto_sign_verify_detached(sig, (const unsigned char *)msg->ptr, msg->len,
	                                kc->cur.pub) != 0) {
		set_bad(r, CAIRN_AUDIT_BAD_ENTRY, (int64_t)n, -1,
		        "entry %llu: signature does not verify with key '%s'",
		        (unsigned long long)n, kc->cur.name);
		return 1;
	}
	return 0;
}

/*
 * The walk. A checkpoint of size n must be signed by the key that signed
 * entry n-1 (the trusted key for n = 0): the writer signs a checkpoint
 * before switching to a rotated-in key.
 */
static int verify_walk(cairn_audit_verify_result *r, const char *log, size_t log_len,
                       const struct cp_ref *cps, size_t ncps, const cairn_audit_verify_opts *o)
{
	struct audit_frontier fr;
	struct audit_keychain kc;
	cairn_audit_verifier last_signer;
	cairn_buf msg = CAIRN_BUF_INIT(CAIRN_AUDIT_LINE_MAX + 16);
	uint8_t prev[32];
	size_t off = 0, next = 0;
	uint64_t n = 0;

	audit__frontier_init(&fr);
	memset(prev, 0, sizeof(prev));
	kc.cur = *o->trusted;
	kc.keys = 1;
	last_signer = kc.cur;
	if (check_cps_at(r, cps, ncps, &next, 0, &fr, &last_signer))
		goto out;
	while (off < log_len) {
		const char *nl = memchr(log + off, '\n', log_len - off);
		struct audit_parsed p;
		uint8_t leaf[32];
		size_t ll;
		int bad;

		if (nl == NULL) {
			r->torn_bytes = log_len - off;
			break;
		}
		ll = (size_t)(nl - (log + off));
		if (audit__entry_parse_msg(&p, log + off, ll, &msg) < 0) {
			set_bad(r, CAIRN_AUDIT_BAD_ENTRY, (int64_t)n, -1, "entry %llu: %s",
			        (unsigned long long)n, cairn_error_last()->message);
			goto out;
		}
		bad = check_entry(r, &p, n, prev, &kc, o->fast, &msg);
		if (!bad) {
			last_signer = kc.cur;
			if (n == 0)
				cairn_time_format(r->first_time, p.time);
			cairn_time_format(r->last_time, p.time);
			if (strcmp(p.action, "key.rotated") == 0 &&
			    audit__keychain_rotate(&kc, &p) < 0) {
				set_bad(r, CAIRN_AUDIT_BAD_ENTRY, (int64_t)n, -1, "entry %llu: %s",
				        (unsigned long long)n, cairn_error_last()->message);
				bad = 1;
			}
		}
		json_decref(p.json);
		if (bad)
			goto out;
		audit__leaf_hash(leaf, log + off, ll);
		audit__frontier_push(&fr, leaf);
		cairn_sha256(prev, log + off, ll);
		n++;
		r->entries = n;
		off += ll + 1;
		if (check_cps_at(r, cps, ncps, &next, n, &fr, &last_signer))
			goto out;
	}
	if (next < ncps) {
		set_bad(r, CAIRN_AUDIT_TRUNCATED, (int64_t)n, cps[next].index,
		        "the log has %llu entries but checkpoint %lld covers %llu: entries from "
		        "%llu "
		        "on were removed",
		        (unsigned long long)n, (long long)cps[next].index,
		        (unsigned long long)cps[next].size, (unsigned long long)n);
		goto out;
	}
	r->ok = 1;
out:
	r->keys = kc.keys;
	r->current_key = kc.cur;
	cairn_buf_dispose(&msg);
	return 0;
}

int cairn_audit_verify_mem(cairn_audit_verify_result *out, const char *log, size_t log_len,
                           const char *checkpoints, size_t checkpoints_len,
                           const cairn_audit_verify_opts *opts)
{
	cairn_audit_verify_result r;
	struct cp_ref *cps = NULL;
	size_t ncps = 0;
	int rc;

	if (opts == NULL || opts->version != CAIRN_AUDIT_VERIFY_OPTS_VERSION ||
	    opts->trusted == NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "audit verify needs a trusted public key (--key)");
	memset(&r, 0, sizeof(r));
	r.bad_seq = -1;
	r.bad_checkpoint = -1;
	rc = collect_checkpoints(&cps, &ncps, &r, checkpoints, checkpoints_len, opts);
	if (rc < 0)
		return rc;
	if (rc == 0)
		verify_walk(&r, log, log_len, cps, ncps, opts);
	free(cps);
	*out = r;
	return 0;
}

int cairn_audit_verify(cairn_audit_verify_result *out, const char *state_dir,
                       const cairn_audit_verify_opts *opts)
{
	struct audit_map lm = {NULL, 0, 0}, cm = {NULL, 0, 0};
	char *lp = audit__path(state_dir, CAIRN_AUDIT_LOG_FILE);
	char *cp = audit__path(state_dir, CAIRN_AUDIT_CHECKPOINTS_FILE);
	int rc;

	if (lp == NULL || cp == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = audit__map_file(&lm, lp, 0)) < 0 || (rc = audit__map_file(&cm, cp, 1)) < 0)
		goto out;
	rc = cairn_audit_verify_mem(out, lm.ptr, lm.len, cm.ptr, cm.len, opts);
out:
	audit__map_free(&lm);
	audit__map_free(&cm);
	free(lp);
	free(cp);
	return rc;
}

/* ---- iteration ---------------------------------------------------------------- */

static const char *subject_str(const json_t *subject, const char *name)
{
	return json_string_value(json_object_get(subject, name));
}

static int matches(const cairn_audit_filter *f, const cairn_audit_entry *e)
{
	if (f == NULL)
		return 1;
	if (f->app != NULL && (e->app == NULL || strcmp(f->app, e->app) != 0))
		return 0;
	if (f->env != NULL && (e->env == NULL || strcmp(f->env, e->env) != 0))
		return 0;
	if (f->actor != NULL && strcmp(f->actor, e->actor) != 0)
		return 0;
	if (f->action != NULL) {
		size_t n = strlen(f->action);

		if (n > 0 && (f->action[n - 1] == '*' || f->action[n - 1] == '.')) {
			if (f->action[n - 1] == '*')
				n--;
			if (strncmp(f->action, e->action, n) != 0)
				return 0;
		} else if (strcmp(f->action, e->action) != 0) {
			return 0;
		}
	}
	if (f->since != 0 && e->time < f->since)
		return 0;
	if (f->until != 0 && e->time >= f->until)
		return 0;
	return 1;
}

int cairn_audit_foreach(const char *state_dir, const cairn_audit_filter *filter,
                        uint64_t *io_offset, cairn_audit_entry_cb cb, void *ctx)
{
	struct audit_map m = {NULL, 0, 0};
	char *path = audit__path(state_dir, CAIRN_AUDIT_LOG_FILE);
	size_t off = io_offset != NULL ? (size_t)*io_offset : 0;
	uint64_t line = 0;
	int rc;

	if (path == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = audit__map_file(&m, path, 1);
	if (rc < 0)
		goto out;
	if (off > m.len) {
		rc = cairn_error_set(CAIRN_EINVAL, "offset %zu is past the end of '%s'", off, path);
		goto out;
	}
	while (off < m.len) {
		const char *nl = memchr(m.ptr + off, '\n', m.len - off);
		struct audit_parsed p;
		cairn_audit_entry e;
		size_t ll;

		if (nl == NULL)
			break;
		ll = (size_t)(nl - (m.ptr + off));
		line++;
		if (audit__entry_parse(&p, m.ptr + off, ll, 0) < 0) {
			rc = cairn_error_set(CAIRN_ECORRUPT,
			                     "'%s': entry at byte %zu does not parse: %s", path,
			                     off, cairn_error_last()->message);
			goto out;
		}
		memset(&e, 0, sizeof(e));
		e.seq = p.seq;
		e.time = p.time;
		e.time_text = p.time_text;
		e.actor = p.actor;
		e.action = p.action;
		e.key = p.key;
		e.app = subject_str(p.subject, "app");
		e.env = subject_str(p.subject, "env");
		e.revision = subject_str(p.subject, "revision");
		e.render_hash = subject_str(p.subject, "renderHash");
		e.json = p.json;
		e.line = m.ptr + off;
		e.line_len = ll;
		e.offset = off;
		rc = matches(filter, &e) ? cb(ctx, &e) : 0;
		json_decref(p.json);
		off += ll + 1;
		if (rc != 0)
			break;
	}
	if (io_offset != NULL)
		*io_offset = off;
out:
	(void)line;
	audit__map_free(&m);
	free(path);
	return rc;
}

/* ---- proofs ---------------------------------------------------------------------- */

void cairn_audit_proof_dispose(cairn_audit_proof *p)
{
	if (p == NULL)
		return;
	free(p->entry);
	free(p->checkpoint);
	p->entry = p->checkpoint = NULL;
}

static char *dup_bytes(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* The latest complete note of audit.checkpoints. */
static int latest_checkpoint(audit_checkpoint *cp, const char **text, size_t *len,
                             const struct audit_map *m, const char *path)
{
	size_t off = 0, nl, last = 0, lastlen = 0;
	size_t nsigs;

	while (off < m->len && audit__checkpoint_split(m->ptr + off, m->len - off, &nl) == 0 &&
	       nl > 0) {
		last = off;
		lastlen = nl;
		off += nl;
	}
	if (lastlen == 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "'%s' holds no checkpoint yet", path);
	if (audit__checkpoint_parse(cp, NULL, 0, &nsigs, m->ptr + last, lastlen) < 0)
		return cairn_error_prefix("'%s': ", path);
	*text = m->ptr + last;
	*len = lastlen;
	return 0;
}

int cairn_audit_prove(cairn_audit_proof *out, const char *state_dir, uint64_t seq)
{
	struct audit_map lm = {NULL, 0, 0}, cm = {NULL, 0, 0};
	char *lp = audit__path(state_dir, CAIRN_AUDIT_LOG_FILE);
	char *cpp = audit__path(state_dir, CAIRN_AUDIT_CHECKPOINTS_FILE);
	char *tp = audit__path(state_dir, CAIRN_AUDIT_TREE_FILE);
	cairn_audit_proof p;
	audit_checkpoint cp;
	audit_tree *t = NULL;
	const char *note = NULL, *line;
	size_t note_len = 0, off = 0;
	uint8_t stored[32];
	int rc;

	memset(&p, 0, sizeof(p));
	if (lp == NULL || cpp == NULL || tp == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = audit__map_file(&lm, lp, 0)) < 0 || (rc = audit__map_file(&cm, cpp, 1)) < 0 ||
	    (rc = latest_checkpoint(&cp, &note, &note_len, &cm, cpp)) < 0)
		goto out;
	if (seq >= cp.size) {
		rc = cairn_error_set(
		        CAIRN_ENOTFOUND,
		        "entry %llu is not covered by the latest checkpoint (size %llu)",
		        (unsigned long long)seq, (unsigned long long)cp.size);
		goto out;
	}
	for (uint64_t i = 0; i < seq && off < lm.len; i++) {
		const char *nl = memchr(lm.ptr + off, '\n', lm.len - off);

		off = nl == NULL ? lm.len : (size_t)(nl - lm.ptr) + 1;
	}
	line = lm.ptr + off;
	if (off >= lm.len || memchr(line, '\n', lm.len - off) == NULL) {
		rc = cairn_error_set(CAIRN_ECORRUPT, "entry %llu is missing from '%s'",
		                     (unsigned long long)seq, lp);
		goto out;
	}
	p.entry_len = (size_t)((const char *)memchr(line, '\n', lm.len - off) - line);
	audit__leaf_hash(p.leaf_hash, line, p.entry_len);
	if ((rc = audit__tree_open(&t, tp, 0)) < 0 || audit__tree_size(t) < cp.size ||
	    (rc = audit__tree_leaf(t, seq, stored)) < 0 || memcmp(stored, p.leaf_hash, 32) != 0) {
		rc = cairn_error_set(CAIRN_ECORRUPT,
		                     "the hash store '%s' does not match the log; open the log for "
		                     "writing once to rebuild it",
		                     tp);
		goto out;
	}
	rc = audit__tree_inclusion(t, seq, cp.size, p.path, &p.path_len);
	if (rc < 0)
		goto out;
	p.seq = seq;
	p.tree_size = cp.size;
	p.entry = dup_bytes(line, p.entry_len);
	p.checkpoint = dup_bytes(note, note_len);
	p.checkpoint_len = note_len;
	if (p.entry == NULL || p.checkpoint == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	cairn_audit_proof_dispose(&p);
	audit__tree_close(t);
	audit__map_free(&lm);
	audit__map_free(&cm);
	free(lp);
	free(cpp);
	free(tp);
	return rc;
}

int cairn_audit_proof_to_json(json_t **out, const cairn_audit_proof *p)
{
	json_t *arr = json_array(), *o;
	char hex[65];

	if (arr == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->path_len; i++) {
		cairn_hex_encode(hex, p->path[i], 32);
		json_array_append_new(arr, json_string(hex));
	}
	cairn_hex_encode(hex, p->leaf_hash, 32);
	o = json_pack("{s:I,s:I,s:s%,s:s,s:o,s:s%}", "seq", (json_int_t)p->seq, "treeSize",
	              (json_int_t)p->tree_size, "entry", p->entry, p->entry_len, "leafHash", hex,
	              "proof", arr, "checkpoint", p->checkpoint, p->checkpoint_len);
	if (o == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = o;
	return 0;
}

int cairn_audit_proof_from_json(cairn_audit_proof *out, const json_t *j)
{
	cairn_audit_proof p;
	json_int_t seq, size;
	const char *entry, *leaf, *note;
	size_t entry_len, note_len, i;
	json_t *arr = NULL, *h;
	json_error_t err;

	memset(&p, 0, sizeof(p));
	if (json_unpack_ex((json_t *)j, &err, JSON_STRICT, "{s:I,s:I,s:s%,s:s,s:o,s:s%}", "seq",
	                   &seq, "treeSize", &size, "entry", &entry, &entry_len, "leafHash", &leaf,
	                   "proof", &arr, "checkpoint", &note, &note_len) < 0)
		return cairn_error_set(CAIRN_EINVAL, "not an audit proof: %s", err.text);
	if (seq < 0 || size <= seq || !json_is_array(arr) ||
	    json_array_size(arr) > CAIRN_AUDIT_PROOF_MAX ||
	    cairn_hex_decode(p.leaf_hash, 32, leaf) < 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "not an audit proof: bad seq, treeSize, leafHash "
		                       "or proof");
	json_array_foreach(arr, i, h)
	{
		if (!json_is_string(h) || cairn_hex_decode(p.path[i], 32, json_string_value(h)) < 0)
			return cairn_error_set(CAIRN_EINVAL,
			                       "not an audit proof: proof hash %zu is not "
			                       "64 hex digits",
			                       i);
	}
	p.path_len = json_array_size(arr);
	p.seq = (uint64_t)seq;
	p.tree_size = (uint64_t)size;
	p.entry = dup_bytes(entry, entry_len);
	p.entry_len = entry_len;
	p.checkpoint = dup_bytes(note, note_len);
	p.checkpoint_len = note_len;
	if (p.entry == NULL || p.checkpoint == NULL) {
		cairn_audit_proof_dispose(&p);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

int cairn_audit_check_proof(const cairn_audit_proof *p, const cairn_audit_verifier *key)
{
	audit_checkpoint cp;
	struct audit_parsed e;
	uint8_t leaf[32];
	size_t nsigs;
	int rc;

	if (audit__checkpoint_verify(p->checkpoint, p->checkpoint_len, key->name, key->pub) < 0)
		return cairn_error_set(CAIRN_ECORRUPT, "the checkpoint is not signed by key '%s'",
		                       key->name);
	if (audit__checkpoint_parse(&cp, NULL, 0, &nsigs, p->checkpoint, p->checkpoint_len) < 0)
		return cairn_error_prefix("checkpoint: ");
	if (cp.size != p->tree_size)
		return cairn_error_set(
		        CAIRN_ECORRUPT,
		        "the proof is for tree size %llu but the checkpoint has %llu",
		        (unsigned long long)p->tree_size, (unsigned long long)cp.size);
	audit__leaf_hash(leaf, p->entry, p->entry_len);
	if (memcmp(leaf, p->leaf_hash, 32) != 0)
		return cairn_error_set(CAIRN_ECORRUPT,
		                       "the entry does not hash to the proof's leaf "
		                       "hash");
	rc = audit__entry_parse(&e, p->entry, p->entry_len, 1);
	if (rc < 0)
		return cairn_error_prefix("the proof's entry: ");
	rc = e.seq == p->seq ? 0 : CAIRN_ECORRUPT;
	json_decref(e.json);
	if (rc < 0)
		return cairn_error_set(CAIRN_ECORRUPT, "the entry's seq is not the proof's %llu",
		                       (unsigned long long)p->seq);
	if (audit__inclusion_verify(leaf, p->seq, p->tree_size, (const uint8_t(*)[32])p->path,
	                            p->path_len, cp.root) < 0)
		return cairn_error_set(CAIRN_ECORRUPT, "the inclusion proof does not lead to the "
		                                       "checkpoint's root");
	return 0;
}

int cairn_audit_consistency_prove(cairn_audit_consistency *out, const char *state_dir,
                                  uint64_t old_size, uint64_t new_size)
{
	char *tp = audit__path(state_dir, CAIRN_AUDIT_TREE_FILE);
	cairn_audit_consistency c;
	audit_tree *t = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	if (tp == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = audit__tree_open(&t, tp, 0);
	if (rc < 0)
		goto out;
	if (old_size == 0 || old_size > new_size || new_size > audit__tree_size(t)) {
		rc = cairn_error_set(
		        CAIRN_EINVAL,
		        "sizes must satisfy 0 < old (%llu) <= new (%llu) <= %llu entries",
		        (unsigned long long)old_size, (unsigned long long)new_size,
		        (unsigned long long)audit__tree_size(t));
		goto out;
	}
	c.old_size = old_size;
	c.new_size = new_size;
	if ((rc = audit__tree_root(t, old_size, c.old_root)) < 0 ||
	    (rc = audit__tree_root(t, new_size, c.new_root)) < 0 ||
	    (rc = audit__tree_consistency(t, old_size, new_size, c.path, &c.path_len)) < 0)
		goto out;
	*out = c;
out:
	audit__tree_close(t);
	free(tp);
	return rc;
}

int cairn_audit_consistency_check(const cairn_audit_consistency *c)
{
	return audit__consistency_verify(c->old_size, c->new_size, c->old_root, c->new_root,
	                                 (const uint8_t(*)[32])c->path, c->path_len);
}
