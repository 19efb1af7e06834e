/*
 * tree.c - the Merkle hash store kept beside the audit log.
 *
 * One file: a 16-byte header ("CAIRNMRK", version 1 and the hash length as
 * big-endian uint32s) followed by 32-byte node hashes in post-order: each
 * leaf hash is followed by the roots of the perfect subtrees it completes
 * (the layout of a Merkle mountain range). The node of height L covering
 * leaves [i*2^L, (i+1)*2^L) sits at position 2m - popcount(m) + L with
 * m = (i+1)*2^L - 1, and a store of n leaves holds exactly 2n - popcount(n)
 * nodes, so the file length alone gives the size and every node is at a
 * fixed offset. Any range root the RFC 9162 proofs need splits into at most
 * ~2 log2(n) stored perfect-subtree roots, so a root or a proof reads
 * O(log n) hashes. Appends go to a memory buffer written out in 64 KiB
 * batches and made durable by audit__tree_sync. See docs/audit-merkle.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "merkle.h"

#define TREE_MAGIC "CAIRNMRK"
#define TREE_VERSION 1
#define TREE_HEADER 16
/* Pending nodes written out (without a sync) once this many accumulate. */
#define TREE_FLUSH_NODES 2048

struct audit_tree {
	int fd;
	int writable;
	int broken; /* a write or sync failed: refuse further changes */
	char *path;
	uint64_t size;   /* leaves, including pending ones */
	uint64_t ondisk; /* nodes written to the file */
	uint8_t *pend;   /* nodes [ondisk, nodes(size)) not yet written */
	size_t npend;
	size_t cappend;
	uint8_t peaks[64][32]; /* peaks[L] valid when bit L of size is set */
};

static uint64_t nodes_for(uint64_t n)
{
	return 2 * n - (uint64_t)__builtin_popcountll(n);
}

static uint64_t node_pos(unsigned level, uint64_t i)
{
	uint64_t m = ((i + 1) << level) - 1;

	return nodes_for(m) + level;
}

/* Read the stored node at post-order position pos (pending or on disk). */
static int read_pos(const audit_tree *t, uint64_t pos, uint8_t out[32])
{
	ssize_t r;

	if (pos >= t->ondisk) {
		memcpy(out, t->pend + (pos - t->ondisk) * AUDIT_HASH_LEN, AUDIT_HASH_LEN);
		return 0;
	}
	r = pread(t->fd, out, AUDIT_HASH_LEN, (off_t)(TREE_HEADER + pos * AUDIT_HASH_LEN));
	if (r < 0)
		return cairn_error_set_errno(errno, "reading Merkle store '%s'", t->path);
	if (r != AUDIT_HASH_LEN)
		return cairn_error_set(CAIRN_ECORRUPT, "Merkle store '%s' is shorter than expected",
		                       t->path);
	return 0;
}

static int read_node(const audit_tree *t, unsigned level, uint64_t i, uint8_t out[32])
{
	return read_pos(t, node_pos(level, i), out);
}

/*
 * MTH of the leaves [a, a + len). Callers only ask for ranges that start at
 * a multiple of the power of two at or above len (true of every range in
 * the RFC 6962 recursions), so the left part of each split is a stored
 * perfect subtree and only the right part recurses.
 */
static int range_root(const audit_tree *t, uint64_t a, uint64_t len, uint8_t out[32])
{
	uint8_t l[32], r[32];
	uint64_t k;
	int rc;

	if ((len & (len - 1)) == 0) {
		unsigned level = (unsigned)__builtin_ctzll(len);

		return read_node(t, level, a >> level, out);
	}
	k = (uint64_t)1 << (63 - __builtin_clzll(len - 1));
	if ((rc = read_node(t, (unsigned)__builtin_ctzll(k), a / k, l)) < 0)
		return rc;
	if ((rc = range_root(t, a + k, len - k, r)) < 0)
		return rc;
	audit__node_hash(out, l, r);
	return 0;
}

static int write_all(audit_tree *t, const void *data, size_t len, off_t off)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t w = pwrite(t->fd, p, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			t->broken = 1;
			return cairn_error_set_errno(w < 0 ? errno : ENOSPC,
			                             "writing Merkle store '%s'", t->path);
		}
		p += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

static int flush_pending(audit_tree *t)
{
	int rc;

	if (t->npend == 0)
		return 0;
	rc = write_all(t, t->pend, t->npend * AUDIT_HASH_LEN,
	               (off_t)(TREE_HEADER + t->ondisk * AUDIT_HASH_LEN));
	if (rc < 0)
		return rc;
	t->ondisk += t->npend;
	t->npend = 0;
	return 0;
}

/*
 * Load the peaks (the perfect subtrees whose roots make up the current
 * root) and check each one against its two children: O(log n) reads that
 * catch a store whose tail was overwritten or mixed up.
 */
static int load_peaks(audit_tree *t)
{
	uint64_t start = 0;
	int rc;

	for (int level = 63; level >= 0; level--) {
		uint8_t l[32], r[32], h[32];

		if (!(t->size >> level & 1))
			continue;
		if ((rc = read_node(t, (unsigned)level, start >> level, t->peaks[level])) < 0)
			return rc;
		if (level > 0) {
			uint64_t ci = (start >> (level - 1));

			if ((rc = read_node(t, (unsigned)level - 1, ci, l)) < 0 ||
			    (rc = read_node(t, (unsigned)level - 1, ci + 1, r)) < 0)
				return rc;
			audit__node_hash(h, l, r);
			if (memcmp(h, t->peaks[level], AUDIT_HASH_LEN) != 0)
				return cairn_error_set(
				        CAIRN_ECORRUPT,
				        "Merkle store '%s' is damaged: node at height "
				        "%d does not match its children",
				        t->path, level);
		}
		start += (uint64_t)1 << level;
	}
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A new store's header must survive a crash: sync the file and its directory. */
static int create_header(audit_tree *t)
{
	uint8_t hdr[TREE_HEADER];
	char *dir = NULL;
	int dfd = -1, rc;

	memcpy(hdr, TREE_MAGIC, 8);
	put_be32(hdr + 8, TREE_VERSION);
	put_be32(hdr + 12, AUDIT_HASH_LEN);
	if ((rc = write_all(t, hdr, sizeof(hdr), 0)) < 0)
		goto out;
	if (fdatasync(t->fd) < 0) {
		rc = cairn_error_set_errno(errno, "syncing Merkle store '%s'", t->path);
		goto out;
	}
	if (!(dir = strdup(t->path))) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		rc = cairn_error_set_errno(errno, "syncing the directory of '%s'", t->path);
		goto out;
	}
	rc = 0;
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}

/* Check the header and derive the leaf count from the file length. */
static int check_layout(audit_tree *t, off_t flen)
{
	uint8_t hdr[TREE_HEADER];
	uint64_t count, n;

	if (flen < TREE_HEADER || pread(t->fd, hdr, sizeof(hdr), 0) != TREE_HEADER)
		return cairn_error_set(CAIRN_ECORRUPT,
		                       "Merkle store '%s' is too short for its header", t->path);
	if (memcmp(hdr, TREE_MAGIC, 8) != 0)
		return cairn_error_set(CAIRN_ECORRUPT, "Merkle store '%s' has a bad magic number",
		                       t->path);
	if (get_be32(hdr + 8) != TREE_VERSION || get_be32(hdr + 12) != AUDIT_HASH_LEN)
		return cairn_error_set(
		        CAIRN_ECORRUPT,
		        "Merkle store '%s' has unsupported version %u or hash length %u", t->path,
		        get_be32(hdr + 8), get_be32(hdr + 12));
	if ((flen - TREE_HEADER) % AUDIT_HASH_LEN != 0)
		goto torn;
	count = (uint64_t)(flen - TREE_HEADER) / AUDIT_HASH_LEN;
	/* nodes_for is strictly increasing and nodes_for(n) is within 64 of 2n. */
	for (n = count / 2; n <= count / 2 + 33; n++) {
		if (nodes_for(n) == count) {
			t->size = n;
			t->ondisk = count;
			return 0;
		}
	}
torn:
	return cairn_error_set(CAIRN_ECORRUPT,
	                       "Merkle store '%s' is damaged: length %lld is not a whole tree",
	                       t->path, (long long)flen);
}

int audit__tree_open(audit_tree **out, const char *path, int writable)
{
	audit_tree *t = NULL;
	struct stat st;
	int rc;

	if (!(t = calloc(1, sizeof(*t))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	t->fd = -1;
	if (!(t->path = strdup(path))) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	t->writable = writable;
	t->fd = open(path, writable ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0600);
	if (t->fd < 0) {
		rc = cairn_error_set_errno(errno, "opening Merkle store '%s'", path);
		goto out;
	}
	if (fstat(t->fd, &st) < 0) {
		rc = cairn_error_set_errno(errno, "reading Merkle store '%s'", path);
		goto out;
	}
	if (st.st_size == 0 && writable && (rc = create_header(t)) < 0)
		goto out;
	if ((rc = check_layout(t, st.st_size == 0 && writable ? TREE_HEADER : st.st_size)) < 0)
		goto out;
	if ((rc = load_peaks(t)) < 0)
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	audit__tree_close(t);
	return rc;
}

void audit__tree_close(audit_tree *t)
{
	if (!t)
		return;
	/* Best effort: leaves not synced are not promised to survive anyway. */
	if (t->writable && !t->broken && t->fd >= 0)
		(void)flush_pending(t);
	if (t->fd >= 0)
		close(t->fd);
	free(t->pend);
	free(t->path);
	free(t);
}

uint64_t audit__tree_size(const audit_tree *t)
{
	return t->size;
}

static int check_writable(const audit_tree *t)
{
	if (!t->writable)
		return cairn_error_set(CAIRN_EINVAL, "Merkle store '%s' is open read-only",
		                       t->path);
	if (t->broken)
		return cairn_error_set(
		        CAIRN_EREADONLY,
		        "Merkle store '%s' is read-only after a failed write or sync", t->path);
	return 0;
}

static int push_node(audit_tree *t, const uint8_t h[32])
{
	if (t->npend == t->cappend) {
		size_t cap = t->cappend ? t->cappend * 2 : 256;
		uint8_t *p = realloc(t->pend, cap * AUDIT_HASH_LEN);

		if (!p)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		t->pend = p;
		t->cappend = cap;
	}
	memcpy(t->pend + t->npend * AUDIT_HASH_LEN, h, AUDIT_HASH_LEN);
	t->npend++;
	return 0;
}

int audit__tree_append(audit_tree *t, const uint8_t leaf[32])
{
	uint8_t h[32];
	unsigned level = 0;
	int rc;

	if ((rc = check_writable(t)) < 0)
		return rc;
	/* A leaf plus at most 64 parents: reserve first so a failure adds nothing. */
	if (t->npend + 65 > t->cappend) {
		size_t cap = t->cappend ? t->cappend : 256;
		uint8_t *p;

		while (cap < t->npend + 65)
			cap *= 2;
		if (!(p = realloc(t->pend, cap * AUDIT_HASH_LEN)))
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		t->pend = p;
		t->cappend = cap;
	}
	memcpy(h, leaf, AUDIT_HASH_LEN);
	(void)push_node(t, h);
	while (t->size >> level & 1) {
		audit__node_hash(h, t->peaks[level], h);
		(void)push_node(t, h);
		level++;
	}
	memcpy(t->peaks[level], h, AUDIT_HASH_LEN);
	t->size++;
	if (t->npend >= TREE_FLUSH_NODES)
		return flush_pending(t);
	return 0;
}

int audit__tree_sync(audit_tree *t)
{
	int rc;

	if ((rc = check_writable(t)) < 0)
		return rc;
	if ((rc = flush_pending(t)) < 0)
		return rc;
	if (fdatasync(t->fd) < 0) {
		/* Never retry a failed sync: the kernel may have dropped the pages. */
		t->broken = 1;
		return cairn_error_set_errno(errno, "syncing Merkle store '%s'", t->path);
	}
	return 0;
}

int audit__tree_truncate(audit_tree *t, uint64_t size)
{
	int rc;

	if ((rc = check_writable(t)) < 0)
		return rc;
	if (size > t->size)
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "cannot truncate Merkle store '%s' to %llu leaves: it has %llu", t->path,
		        (unsigned long long)size, (unsigned long long)t->size);
	if ((rc = flush_pending(t)) < 0)
		return rc;
	if (ftruncate(t->fd, (off_t)(TREE_HEADER + nodes_for(size) * AUDIT_HASH_LEN)) < 0 ||
	    fdatasync(t->fd) < 0) {
		t->broken = 1;
		return cairn_error_set_errno(errno, "truncating Merkle store '%s'", t->path);
	}
	t->size = size;
	t->ondisk = nodes_for(size);
	return load_peaks(t);
}

int audit__tree_leaf(const audit_tree *t, uint64_t index, uint8_t out[32])
{
	if (index >= t->size)
		return cairn_error_set(CAIRN_EINVAL, "leaf %llu is beyond Merkle store size %llu",
		                       (unsigned long long)index, (unsigned long long)t->size);
	return read_node(t, 0, index, out);
}

int audit__tree_root(const audit_tree *t, uint64_t size, uint8_t out[32])
{
	if (size > t->size)
		return cairn_error_set(CAIRN_EINVAL,
		                       "tree size %llu is beyond Merkle store size %llu",
		                       (unsigned long long)size, (unsigned long long)t->size);
	if (size == 0) {
		cairn_sha256(out, "", 0);
		return 0;
	}
	return range_root(t, 0, size, out);
}

/* Reverse the n hashes in p: proofs are collected root-first, sent leaf-first. */
static void reverse(uint8_t (*p)[32], size_t n)
{
	uint8_t tmp[32];

	for (size_t i = 0; i < n / 2; i++) {
		memcpy(tmp, p[i], AUDIT_HASH_LEN);
		memcpy(p[i], p[n - 1 - i], AUDIT_HASH_LEN);
		memcpy(p[n - 1 - i], tmp, AUDIT_HASH_LEN);
	}
}

int audit__tree_inclusion(const audit_tree *t, uint64_t index, uint64_t size,
                          uint8_t out[AUDIT_PROOF_MAX][32], size_t *out_len)
{
	uint8_t path[AUDIT_PROOF_MAX][32];
	uint64_t lo = 0, m = index, n = size;
	size_t len = 0;
	int rc;

	if (size > t->size || index >= size)
		return cairn_error_set(CAIRN_EINVAL,
		                       "no inclusion proof for leaf %llu in tree size %llu (store "
		                       "has %llu leaves)",
		                       (unsigned long long)index, (unsigned long long)size,
		                       (unsigned long long)t->size);
	/* PATH(m, D[n]) of RFC 6962 §2.1.1, walked from the root down. */
	while (n > 1) {
		uint64_t k = (uint64_t)1 << (63 - __builtin_clzll(n - 1));

		if (m < k) {
			rc = range_root(t, lo + k, n - k, path[len++]);
			n = k;
		} else {
			rc = range_root(t, lo, k, path[len++]);
			lo += k;
			m -= k;
			n -= k;
		}
		if (rc < 0)
			return rc;
	}
	reverse(path, len);
	memcpy(out, path, len * AUDIT_HASH_LEN);
	*out_len = len;
	return 0;
}

int audit__tree_consistency(const audit_tree *t, uint64_t old_size, uint64_t new_size,
                            uint8_t out[AUDIT_PROOF_MAX][32], size_t *out_len)
{
	uint8_t proof[AUDIT_PROOF_MAX][32];
	uint64_t lo = 0, m = old_size, n = new_size;
	size_t len = 0;
	int whole = 1, rc;

	if (new_size > t->size || old_size > new_size)
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "no consistency proof from size %llu to %llu (store has %llu "
		        "leaves)",
		        (unsigned long long)old_size, (unsigned long long)new_size,
		        (unsigned long long)t->size);
	/* SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2, walked from the root down. */
	while (m != 0 && m != n) {
		uint64_t k = (uint64_t)1 << (63 - __builtin_clzll(n - 1));

		if (m <= k) {
			rc = range_root(t, lo + k, n - k, proof[len++]);
			n = k;
		} else {
			rc = range_root(t, lo, k, proof[len++]);
			lo += k;
			m -= k;
			n -= k;
			whole = 0;
		}
		if (rc < 0)
			return rc;
	}
	/* The old tree's own root closes the proof unless the verifier has it. */
	if (m != 0 && !whole && (rc = range_root(t, lo, m, proof[len++])) < 0)
		return rc;
	reverse(proof, len);
	memcpy(out, proof, len * AUDIT_HASH_LEN);
	*out_len = len;
	return 0;
}

/*
 * For bench/bench_audit.c: the proof-size and proof-time figures of the
 * issue. The store is built from synthetic leaves (the leaf hash of the
 * index), reopened read-only so proofs read the file, and one proof is
 * verified against the root so a wrong proof cannot be timed as a fast one.
 */
int audit__tree_bench_inclusion(const char *path, uint64_t n, unsigned reps, double *us_per_proof,
                                size_t *max_len)
{
	audit_tree *t = NULL;
	uint8_t leaf[32], root[32], proof[AUDIT_PROOF_MAX][32];
	struct timespec a, b;
	size_t len, longest = 0;
	int rc;

	if (n == 0 || reps == 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "benchmark needs at least one leaf and one proof");
	if (unlink(path) < 0 && errno != ENOENT)
		return cairn_error_set_errno(errno, "removing '%s'", path);
	if ((rc = audit__tree_open(&t, path, 1)) < 0)
		goto out;
	for (uint64_t i = 0; i < n; i++) {
		audit__leaf_hash(leaf, &i, sizeof(i));
		if ((rc = audit__tree_append(t, leaf)) < 0)
			goto out;
	}
	if ((rc = audit__tree_sync(t)) < 0)
		goto out;
	audit__tree_close(t);
	t = NULL;
	if ((rc = audit__tree_open(&t, path, 0)) < 0 || (rc = audit__tree_root(t, n, root)) < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned r = 0; r < reps; r++) {
		uint64_t idx = (uint64_t)r * 2654435761u % n;

		if ((rc = audit__tree_inclusion(t, idx, n, proof, &len)) < 0)
			goto out;
		if (len > longest)
			longest = len;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	{
		uint64_t idx = n - 1;

		audit__leaf_hash(leaf, &idx, sizeof(idx));
		if ((rc = audit__tree_inclusion(t, idx, n, proof, &len)) < 0 ||
		    (rc = audit__inclusion_verify(leaf, idx, n, (const uint8_t(*)[32])proof, len,
		                                  root)) < 0)
			goto out;
	}
	*us_per_proof =
	        ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) /
	        reps;
	*max_len = longest;
	rc = 0;
out:
	audit__tree_close(t);
	return rc;
}
