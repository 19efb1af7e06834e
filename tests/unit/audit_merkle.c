/*
 * audit_merkle.c - the audit Merkle tree, its hash store and checkpoints:
 * RFC 6962 published vectors, fixtures from an independent Python reference
 * (tests/unit/data/audit/merkle_ref.py, hashlib and `cryptography` only),
 * every proof up to size 64 with tampering, store durability and damage,
 * and strict signed-note parsing.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/audit/merkle.h"
#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "testutil.h"

typedef uint8_t hash32[32];

static void hx(uint8_t out[32], const char *hex)
{
	ck_assert_int_eq(cairn_hex_decode(out, 32, hex), 0);
}

/* A fresh temporary directory per test; the store path inside it. */
static char tmpdir[64];
static char store_path[128];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cairn-merkle-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(store_path, sizeof(store_path), "%s/audit.tree", tmpdir);
}

static void tmp_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The RFC 6962 reference leaves. */
static const char *const rfc_leaf_hex[8] = {"",
                                            "00",
                                            "10",
                                            "2021",
                                            "3031",
                                            "40414243",
                                            "5051525354555657",
                                            "606162636465666768696a6b6c6d6e6f"};

static void rfc_leaves(hash32 leaves[8])
{
	for (int i = 0; i < 8; i++) {
		uint8_t raw[16];
		size_t n = strlen(rfc_leaf_hex[i]) / 2;

		for (size_t j = 0; j < n; j++) {
			unsigned v;

			ck_assert_int_eq(sscanf(rfc_leaf_hex[i] + 2 * j, "%2x", &v), 1);
			raw[j] = (uint8_t)v;
		}
		audit__leaf_hash(leaves[i], raw, n);
	}
}

static audit_tree *store_of(const hash32 *leaves, uint64_t n)
{
	audit_tree *t = NULL;

	ck_assert_int_eq(audit__tree_open(&t, store_path, 1), 0);
	for (uint64_t i = 0; i < n; i++)
		ck_assert_int_eq(audit__tree_append(t, leaves[i]), 0);
	return t;
}

/* Published RFC 6962 roots of the reference leaves, sizes 0..8. */
static const char *const rfc_roots[9] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

START_TEST(test_rfc_roots)
{
	hash32 leaves[8];
	uint8_t want[32], got[32];
	audit_tree *t;

	rfc_leaves(leaves);
	t = store_of(leaves, 8);
	for (uint64_t n = 0; n <= 8; n++) {
		hx(want, rfc_roots[n]);
		audit__root_of(got, (const uint8_t(*)[32])leaves, n);
		ck_assert_mem_eq(got, want, 32);
		memset(got, 0, 32);
		ck_assert_int_eq(audit__tree_root(t, n, got), 0);
		ck_assert_mem_eq(got, want, 32);
	}
	ck_assert_int_eq(audit__tree_root(t, 9, got), CAIRN_EINVAL);
	ck_assert_error_contains("beyond Merkle store size 8");
	audit__tree_close(t);
}
END_TEST

struct rfc_proof {
	uint64_t a, b; /* inclusion: index, size; consistency: old, new */
	const char *hashes[3];
};

/* Published inclusion proofs (0-based index) and consistency proofs. */
static const struct rfc_proof rfc_incl[] = {
        {0, 1, {NULL}},
        {0,
         8,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {5,
         8,
         {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {1,
         5,
         {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};
static const struct rfc_proof rfc_cons[] = {
        {1, 1, {NULL}},
        {1,
         8,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {6,
         8,
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2,
         5,
         {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static size_t rfc_proof_hashes(const struct rfc_proof *p, hash32 out[3])
{
	size_t n = 0;

	while (n < 3 && p->hashes[n]) {
		hx(out[n], p->hashes[n]);
		n++;
	}
	return n;
}

START_TEST(test_rfc_proofs)
{
	hash32 leaves[8], want[3], root_a, root_b;
	uint8_t got[AUDIT_PROOF_MAX][32];
	size_t len, n;
	audit_tree *t;

	rfc_leaves(leaves);
	t = store_of(leaves, 8);
	for (size_t i = 0; i < sizeof(rfc_incl) / sizeof(rfc_incl[0]); i++) {
		const struct rfc_proof *p = &rfc_incl[i];

		n = rfc_proof_hashes(p, want);
		ck_assert_int_eq(audit__tree_inclusion(t, p->a, p->b, got, &len), 0);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(got, want, n * 32);
		hx(root_a, rfc_roots[p->b]);
		ck_assert_int_eq(audit__inclusion_verify(leaves[p->a], p->a, p->b,
		                                         (const uint8_t(*)[32])want, n, root_a),
		                 0);
	}
	for (size_t i = 0; i < sizeof(rfc_cons) / sizeof(rfc_cons[0]); i++) {
		const struct rfc_proof *p = &rfc_cons[i];

		n = rfc_proof_hashes(p, want);
		ck_assert_int_eq(audit__tree_consistency(t, p->a, p->b, got, &len), 0);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(got, want, n * 32);
		hx(root_a, rfc_roots[p->a]);
		hx(root_b, rfc_roots[p->b]);
		ck_assert_int_eq(audit__consistency_verify(p->a, p->b, root_a, root_b,
		                                           (const uint8_t(*)[32])want, n),
		                 0);
	}
	audit__tree_close(t);
}
END_TEST

/* Leaf i of the Python fixtures: SHA-256(0x00 || "entry <i>"). */
static hash32 *entry_leaves(uint64_t n)
{
	hash32 *leaves = calloc(n, sizeof(*leaves));

	ck_assert_ptr_nonnull(leaves);
	for (uint64_t i = 0; i < n; i++) {
		char text[32];
		int len = snprintf(text, sizeof(text), "entry %llu", (unsigned long long)i);

		audit__leaf_hash(leaves[i], text, (size_t)len);
	}
	return leaves;
}

/* Parse "-" or comma-separated hex hashes. */
static size_t parse_hashes(const char *s, uint8_t out[AUDIT_PROOF_MAX][32])
{
	size_t n = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	for (;;) {
		char hex[65];

		ck_assert_uint_lt(n, AUDIT_PROOF_MAX);
		memcpy(hex, s, 64);
		hex[64] = '\0';
		hx(out[n++], hex);
		if (s[64] != ',')
			return n;
		s += 65;
	}
}

START_TEST(test_python_fixtures)
{
	char path[512], line[8192], kind[8], list[8000];
	unsigned long long a, b;
	uint8_t want[AUDIT_PROOF_MAX][32], got[AUDIT_PROOF_MAX][32], r1[32], r2[32];
	hash32 *leaves = entry_leaves(3000);
	audit_tree *t = store_of(leaves, 3000);
	FILE *f = fopen(test_data_path(path, sizeof(path), "audit/merkle_vectors.txt"), "r");
	int roots = 0, incl = 0, cons = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(audit__tree_sync(t), 0);
	while (fgets(line, sizeof(line), f)) {
		size_t n, len;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "root %llu %64s", &a, list) == 2) {
			hx(want[0], list);
			audit__root_of(got[0], (const uint8_t(*)[32])leaves, a);
			ck_assert_mem_eq(got[0], want[0], 32);
			ck_assert_int_eq(audit__tree_root(t, a, got[0]), 0);
			ck_assert_mem_eq(got[0], want[0], 32);
			roots++;
			continue;
		}
		ck_assert_int_eq(sscanf(line, "%7s %llu %llu %7999s", kind, &a, &b, list), 4);
		n = parse_hashes(list, want);
		if (strcmp(kind, "incl") == 0) {
			ck_assert_int_eq(audit__tree_inclusion(t, a, b, got, &len), 0);
			ck_assert_int_eq(audit__tree_root(t, b, r1), 0);
			ck_assert_int_eq(audit__inclusion_verify(leaves[a], a, b,
			                                         (const uint8_t(*)[32])want, n, r1),
			                 0);
			incl++;
		} else {
			ck_assert_str_eq(kind, "cons");
			ck_assert_int_eq(audit__tree_consistency(t, a, b, got, &len), 0);
			ck_assert_int_eq(audit__tree_root(t, a, r1), 0);
			ck_assert_int_eq(audit__tree_root(t, b, r2), 0);
			ck_assert_int_eq(audit__consistency_verify(a, b, r1, r2,
			                                           (const uint8_t(*)[32])want, n),
			                 0);
			cons++;
		}
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(got, want, n * 32);
	}
	fclose(f);
	ck_assert_int_ge(roots, 20);
	ck_assert_int_ge(incl, 100);
	ck_assert_int_ge(cons, 100);
	audit__tree_close(t);
	free(leaves);
}
END_TEST

START_TEST(test_all_inclusion_64)
{
	hash32 *leaves = entry_leaves(64);
	audit_tree *t = store_of(leaves, 64);
	uint8_t proof[AUDIT_PROOF_MAX][32], root[32], bad[32];

	for (uint64_t size = 1; size <= 64; size++) {
		ck_assert_int_eq(audit__tree_root(t, size, root), 0);
		for (uint64_t i = 0; i < size; i++) {
			const uint8_t(*p)[32] = (const uint8_t(*)[32])proof;
			size_t len;

			ck_assert_int_eq(audit__tree_inclusion(t, i, size, proof, &len), 0);
			ck_assert_int_eq(audit__inclusion_verify(leaves[i], i, size, p, len, root),
			                 0);
			/* Wrong leaf, index, size, root, or a proof one hash short or long. */
			ck_assert_int_eq(audit__inclusion_verify(leaves[(i + 1) % 64], i, size, p,
			                                         len, root),
			                 CAIRN_ECORRUPT);
			ck_assert_error_contains("does not verify");
			if (size > 1)
				ck_assert_int_eq(audit__inclusion_verify(leaves[i], (i + 1) % size,
				                                         size, p, len, root),
				                 CAIRN_ECORRUPT);
			/* A wrong size alone may still verify: a checkpoint signs size and root together. */
			memcpy(bad, root, 32);
			bad[31] ^= 1;
			ck_assert_int_eq(audit__inclusion_verify(leaves[i], i, size, p, len, bad),
			                 CAIRN_ECORRUPT);
			if (len > 0)
				ck_assert_int_eq(audit__inclusion_verify(leaves[i], i, size, p,
				                                         len - 1, root),
				                 CAIRN_ECORRUPT);
			memcpy(proof[len], root, 32);
			ck_assert_int_eq(
			        audit__inclusion_verify(leaves[i], i, size, p, len + 1, root),
			        CAIRN_ECORRUPT);
			for (size_t k = 0; k < len; k++) {
				proof[k][k % 32] ^= 0x80;
				ck_assert_int_eq(
				        audit__inclusion_verify(leaves[i], i, size, p, len, root),
				        CAIRN_ECORRUPT);
				proof[k][k % 32] ^= 0x80;
			}
		}
	}
	ck_assert_int_eq(audit__inclusion_verify(leaves[0], 5, 5, NULL, 0, root), CAIRN_EINVAL);
	ck_assert_error_contains("index 5 is not below tree size 5");
	ck_assert_int_eq(audit__tree_inclusion(t, 0, 65, proof, &(size_t){0}), CAIRN_EINVAL);
	ck_assert_error_contains("store has 64 leaves");
	audit__tree_close(t);
	free(leaves);
}
END_TEST

START_TEST(test_all_consistency_64)
{
	hash32 *leaves = entry_leaves(64);
	audit_tree *t = store_of(leaves, 64);
	uint8_t proof[AUDIT_PROOF_MAX][32], r1[32], r2[32], bad[32];
	const uint8_t(*p)[32] = (const uint8_t(*)[32])proof;

	for (uint64_t n = 1; n <= 64; n++) {
		ck_assert_int_eq(audit__tree_root(t, n, r2), 0);
		for (uint64_t m = 0; m <= n; m++) {
			size_t len;

			ck_assert_int_eq(audit__tree_root(t, m, r1), 0);
			ck_assert_int_eq(audit__tree_consistency(t, m, n, proof, &len), 0);
			ck_assert_int_eq(audit__consistency_verify(m, n, r1, r2, p, len), 0);
			memcpy(bad, r1, 32);
			bad[0] ^= 1;
			ck_assert_int_eq(audit__consistency_verify(m, n, bad, r2, p, len),
			                 CAIRN_ECORRUPT);
			ck_assert_error_contains("does not verify");
			if (m == 0)
				continue; /* every tree extends the empty one */
			memcpy(bad, r2, 32);
			bad[0] ^= 1;
			ck_assert_int_eq(audit__consistency_verify(m, n, r1, bad, p, len),
			                 CAIRN_ECORRUPT);
			if (m < n) {

				ck_assert_int_eq(
				        audit__consistency_verify(m, n, r1, r2, p, len - 1),
				        CAIRN_ECORRUPT);
				for (size_t k = 0; k < len; k++) {
					proof[k][5] ^= 4;
					ck_assert_int_eq(
					        audit__consistency_verify(m, n, r1, r2, p, len),
					        CAIRN_ECORRUPT);
					proof[k][5] ^= 4;
				}
			}
		}
	}
	ck_assert_int_eq(audit__consistency_verify(9, 8, r1, r2, p, 0), CAIRN_EINVAL);
	ck_assert_error_contains("old size 9 is above new size 8");
	audit__tree_close(t);
	free(leaves);
}
END_TEST

START_TEST(test_store_reopen_truncate)
{
	hash32 *leaves = entry_leaves(5000);
	uint8_t r[32], want[32], leaf[32];
	audit_tree *t = store_of(leaves, 3000), *u = NULL;

	ck_assert_uint_eq(audit__tree_size(t), 3000);
	ck_assert_int_eq(audit__tree_sync(t), 0);
	audit__tree_close(t);
	/* Read-only reopen sees the synced leaves and refuses writes. */
	ck_assert_int_eq(audit__tree_open(&u, store_path, 0), 0);
	ck_assert_uint_eq(audit__tree_size(u), 3000);
	ck_assert_int_eq(audit__tree_leaf(u, 2999, leaf), 0);
	ck_assert_mem_eq(leaf, leaves[2999], 32);
	ck_assert_int_eq(audit__tree_leaf(u, 3000, leaf), CAIRN_EINVAL);
	ck_assert_int_eq(audit__tree_append(u, leaf), CAIRN_EINVAL);
	ck_assert_error_contains("open read-only");
	audit__tree_close(u);
	/* Append more, truncate back into the middle, re-append: same roots. */
	ck_assert_int_eq(audit__tree_open(&t, store_path, 1), 0);
	for (int i = 3000; i < 5000; i++)
		ck_assert_int_eq(audit__tree_append(t, leaves[i]), 0);
	audit__root_of(want, (const uint8_t(*)[32])leaves, 5000);
	ck_assert_int_eq(audit__tree_root(t, 5000, r), 0);
	ck_assert_mem_eq(r, want, 32);
	ck_assert_int_eq(audit__tree_truncate(t, 1234), 0);
	ck_assert_uint_eq(audit__tree_size(t), 1234);
	ck_assert_int_eq(audit__tree_truncate(t, 1235), CAIRN_EINVAL);
	ck_assert_error_contains("it has 1234");
	audit__tree_close(t);
	ck_assert_int_eq(audit__tree_open(&t, store_path, 1), 0);
	ck_assert_uint_eq(audit__tree_size(t), 1234);
	audit__root_of(want, (const uint8_t(*)[32])leaves, 1234);
	ck_assert_int_eq(audit__tree_root(t, 1234, r), 0);
	ck_assert_mem_eq(r, want, 32);
	for (int i = 1234; i < 5000; i++)
		ck_assert_int_eq(audit__tree_append(t, leaves[i]), 0);
	ck_assert_int_eq(audit__tree_sync(t), 0);
	audit__root_of(want, (const uint8_t(*)[32])leaves, 5000);
	ck_assert_int_eq(audit__tree_root(t, 5000, r), 0);
	ck_assert_mem_eq(r, want, 32);
	ck_assert_int_eq(audit__tree_truncate(t, 0), 0);
	ck_assert_int_eq(audit__tree_root(t, 0, r), 0);
	hx(want, rfc_roots[0]);
	ck_assert_mem_eq(r, want, 32);
	audit__tree_close(t);
	free(leaves);
}
END_TEST

static void write_bytes(const char *path, off_t off, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, data, len, off), (ssize_t)len);
	close(fd);
}

START_TEST(test_store_damage)
{
	hash32 *leaves = entry_leaves(100);
	audit_tree *t = store_of(leaves, 100), *u = (audit_tree *)&t;
	struct stat st;

	ck_assert_int_eq(audit__tree_sync(t), 0);
	audit__tree_close(t);
	ck_assert_int_eq(stat(store_path, &st), 0);
	/* 100 leaves: 16-byte header + (2*100 - popcount(100)) nodes. */
	ck_assert_int_eq(st.st_size, 16 + 32 * (200 - 3));
	/* A torn tail: not a whole number of nodes, then not a whole tree. */
	ck_assert_int_eq(truncate(store_path, st.st_size - 5), 0);
	ck_assert_int_eq(audit__tree_open(&u, store_path, 1), CAIRN_ECORRUPT);
	ck_assert_error_contains("is not a whole tree");
	ck_assert_ptr_eq(u, (audit_tree *)&t); /* output untouched */
	ck_assert_int_eq(truncate(store_path, st.st_size - 32), 0);
	ck_assert_int_eq(audit__tree_open(&u, store_path, 0), CAIRN_ECORRUPT);
	ck_assert_error_contains("is not a whole tree");
	ck_assert_int_eq(truncate(store_path, st.st_size), 0);
	/* The last peak (height 2, leaves 96..99) overwritten. */
	write_bytes(store_path, st.st_size - 32, "garbage garbage garbage garbage!", 32);
	ck_assert_int_eq(audit__tree_open(&u, store_path, 0), CAIRN_ECORRUPT);
	ck_assert_error_contains("does not match its children");
	write_bytes(store_path, 0, "CAIRNMRX", 8);
	ck_assert_int_eq(audit__tree_open(&u, store_path, 1), CAIRN_ECORRUPT);
	ck_assert_error_contains("bad magic number");
	write_bytes(store_path, 0, "CAIRNMRK\0\0\0\x02", 12);
	ck_assert_int_eq(audit__tree_open(&u, store_path, 1), CAIRN_ECORRUPT);
	ck_assert_error_contains("unsupported version 2");
	ck_assert_int_eq(truncate(store_path, 10), 0);
	ck_assert_int_eq(audit__tree_open(&u, store_path, 0), CAIRN_ECORRUPT);
	ck_assert_error_contains("too short for its header");
	ck_assert_int_eq(unlink(store_path), 0);
	ck_assert_int_eq(audit__tree_open(&u, store_path, 0), CAIRN_ENOTFOUND);
	ck_assert_error_contains("audit.tree");
	/* Rebuilding is what the log does next: a fresh writable open. */
	u = store_of(leaves, 100);
	ck_assert_uint_eq(audit__tree_size(u), 100);
	audit__tree_close(u);
	audit__tree_close(NULL);
	free(leaves);
}
END_TEST

/* The size goal, test-sized: 2^17 leaves need at most 17 hashes. */
START_TEST(test_store_proof_size)
{
	double us;
	size_t max_len;

	ck_assert_int_eq(audit__tree_bench_inclusion(store_path, 100000, 200, &us, &max_len), 0);
	ck_assert_uint_le(max_len, 17);
	ck_assert_uint_ge(max_len, 16);
	ck_assert_double_lt(us, 10000.0);
}
END_TEST

/* ---- checkpoints ---- */

static void test_key(uint8_t pk[32], uint8_t sk[64], uint8_t fill)
{
	uint8_t seed[32];

	memset(seed, fill, sizeof(seed));
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static void sample_cp(audit_checkpoint *cp, uint64_t size)
{
	memset(cp, 0, sizeof(*cp));
	snprintf(cp->origin, sizeof(cp->origin), "cairn.test/log one");
	cp->size = size;
	cairn_sha256(cp->root, "root", 4);
}

START_TEST(test_cp_round_trip)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	audit_checkpoint cp, got;
	audit_note_sig sigs[2];
	cairn_buf note = CAIRN_BUF_INIT(0);
	size_t nsigs, len;
	char root64[45];

	test_key(pk, sk, 7);
	test_key(pk2, sk2, 8);
	sample_cp(&cp, 18446744073709551615ull);
	ck_assert_int_eq(audit__checkpoint_sign(&note, &cp, "cairn.test+x", sk), CAIRN_EINVAL);
	ck_assert_error_contains("key name contains '+'");
	ck_assert_uint_eq(note.len, 0);
	ck_assert_int_eq(audit__checkpoint_sign(&note, &cp, "cairn.test/k1", sk), 0);
	cairn_base64_encode(root64, cp.root, 32);
	ck_assert_int_eq(strncmp(note.ptr, "cairn.test/log one\n18446744073709551615\n", 40), 0);
	ck_assert_int_eq(strncmp(note.ptr + 40, root64, 44), 0);
	ck_assert_int_eq(strncmp(note.ptr + 84, "\n\n\xe2\x80\x94 cairn.test/k1 ", 20), 0);
	ck_assert_int_eq(audit__checkpoint_parse(&got, sigs, 2, &nsigs, note.ptr, note.len), 0);
	ck_assert_str_eq(got.origin, cp.origin);
	ck_assert_uint_eq(got.size, cp.size);
	ck_assert_mem_eq(got.root, cp.root, 32);
	ck_assert_uint_eq(nsigs, 1);
	ck_assert_str_eq(sigs[0].name, "cairn.test/k1");
	ck_assert_int_eq(audit__checkpoint_split(note.ptr, note.len, &len), 0);
	ck_assert_uint_eq(len, note.len);
	ck_assert_int_eq(audit__checkpoint_verify(note.ptr, note.len, "cairn.test/k1", pk), 0);
	ck_assert_int_eq(audit__checkpoint_verify(note.ptr, note.len, "cairn.test/k1", pk2),
	                 CAIRN_ECORRUPT);
	ck_assert_error_contains("no valid signature by key 'cairn.test/k1'");
	ck_assert_int_eq(audit__checkpoint_verify(note.ptr, note.len, "cairn.test/k2", pk),
	                 CAIRN_ECORRUPT);
	cairn_buf_dispose(&note);
}
END_TEST

START_TEST(test_cp_every_byte)
{
	uint8_t pk[32], sk[64];
	audit_checkpoint cp;
	cairn_buf note = CAIRN_BUF_INIT(0);

	test_key(pk, sk, 9);
	sample_cp(&cp, 42);
	ck_assert_int_eq(audit__checkpoint_sign(&note, &cp, "k", sk), 0);
	for (size_t i = 0; i < note.len; i++) {
		static const uint8_t flips[] = {0x01, 0x20, 0x80};

		for (size_t f = 0; f < sizeof(flips); f++) {
			note.ptr[i] ^= (char)flips[f];
			ck_assert_msg(audit__checkpoint_verify(note.ptr, note.len, "k", pk) ==
			                      CAIRN_ECORRUPT,
			              "change 0x%02x at byte %zu not detected", flips[f], i);
			note.ptr[i] ^= (char)flips[f];
		}
	}
	ck_assert_int_eq(audit__checkpoint_verify(note.ptr, note.len, "k", pk), 0);
	ck_assert_int_eq(audit__checkpoint_verify(note.ptr, note.len - 1, "k", pk), CAIRN_ECORRUPT);
	ck_assert_error_contains("does not end with a newline");
	cairn_buf_dispose(&note);
}
END_TEST

/* The cryptography-made note of checkpoint_vectors.txt, byte for byte. */
START_TEST(test_cp_python_fixture)
{
	char path[512], line[2048], key[16], val[1024];
	uint8_t seed[32], pk[32], sk[64], want_pk[32], id[4], want_id[4];
	char name[128] = "", origin[256] = "", note_hex[1024] = "";
	uint8_t note_bytes[512];
	unsigned long long size = 0;
	audit_checkpoint cp;
	cairn_buf note = CAIRN_BUF_INIT(0);
	FILE *f = fopen(test_data_path(path, sizeof(path), "audit/checkpoint_vectors.txt"), "r");
	size_t nlen;

	ck_assert_ptr_nonnull(f);
	memset(&cp, 0, sizeof(cp));
	while (fgets(line, sizeof(line), f)) {
		ck_assert_int_eq(sscanf(line, "%15s %1023[^\n]", key, val), 2);
		if (!strcmp(key, "seed"))
			hx(seed, val);
		else if (!strcmp(key, "pub"))
			hx(want_pk, val);
		else if (!strcmp(key, "name"))
			ck_assert_uint_lt((size_t)snprintf(name, sizeof(name), "%s", val),
			                  sizeof(name));
		else if (!strcmp(key, "keyid"))
			ck_assert_int_eq(cairn_hex_decode(want_id, 4, val), 0);
		else if (!strcmp(key, "origin"))
			ck_assert_uint_lt((size_t)snprintf(origin, sizeof(origin), "%s", val),
			                  sizeof(origin));
		else if (!strcmp(key, "size"))
			size = strtoull(val, NULL, 10);
		else if (!strcmp(key, "root"))
			hx(cp.root, val);
		else if (!strcmp(key, "note"))
			snprintf(note_hex, sizeof(note_hex), "%s", val);
	}
	fclose(f);
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
	ck_assert_mem_eq(pk, want_pk, 32);
	audit__key_id(id, name, pk);
	ck_assert_mem_eq(id, want_id, 4);
	nlen = strlen(note_hex) / 2;
	ck_assert_int_eq(cairn_hex_decode(note_bytes, nlen, note_hex), 0);
	ck_assert_int_eq(audit__checkpoint_verify((char *)note_bytes, nlen, name, pk), 0);
	snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
	cp.size = size;
	ck_assert_int_eq(audit__checkpoint_sign(&note, &cp, name, sk), 0);
	ck_assert_uint_eq(note.len, nlen);
	ck_assert_mem_eq(note.ptr, note_bytes, nlen);
	cairn_buf_dispose(&note);
}
END_TEST

/* Run the Python reference verifier on a note; its exit status. */
static int python_verify(const char *note, size_t len, const char *name, const uint8_t pk[32])
{
	char path[512], file[128], cmd[1024], hex[65];
	FILE *f;

	snprintf(file, sizeof(file), "%s/note", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(file, "wb"));
	ck_assert_uint_eq(fwrite(note, 1, len, f), len);
	fclose(f);
	cairn_hex_encode(hex, pk, 32);
	snprintf(cmd, sizeof(cmd), "python3 '%s' verify-note '%s' '%s' %s",
	         test_data_path(path, sizeof(path), "audit/merkle_ref.py"), file, name, hex);
	return WEXITSTATUS(system(cmd));
}

START_TEST(test_cp_python_verify)
{
	uint8_t pk[32], sk[64], seed[32];
	audit_checkpoint cp;
	cairn_buf note = CAIRN_BUF_INIT(0);

	if (system("python3 -c 'import cryptography' 2>/dev/null") != 0) {
		fprintf(stderr, "# skip: python3 with cryptography not available\n");
		return;
	}
	ck_assert_int_ge(sodium_init(), 0);
	randombytes_buf(seed, sizeof(seed));
	ck_assert_int_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
	sample_cp(&cp, 99);
	ck_assert_int_eq(audit__checkpoint_sign(&note, &cp, "cairn.test/random", sk), 0);
	ck_assert_int_eq(python_verify(note.ptr, note.len, "cairn.test/random", pk), 0);
	note.ptr[20] ^= 1; /* inside the size line */
	ck_assert_int_eq(python_verify(note.ptr, note.len, "cairn.test/random", pk), 1);
	cairn_buf_dispose(&note);
}
END_TEST

START_TEST(test_cp_forged_names)
{
	static const char *const origins[] = {"a\nb",           "x\n\n\xe2\x80\x94 k AAAA",
	                                      "\xe2\x80\x94 k", " lead",
	                                      "trail ",         "tab\there",
	                                      "ctl\x01",        "del\x7f",
	                                      "ls\xe2\x80\xa8", "nbsp\xc2\xa0x",
	                                      "bad\xc3",        "over\xc0\xaf",
	                                      "c1\xc2\x85",     ""};
	static const char *const names[] = {"a b", "a+b", "\xe2\x80\x94k", "a\nb",
	                                    "",    "k\t", "k\xe3\x80\x80"};
	uint8_t pk[32], sk[64];
	audit_checkpoint cp;
	cairn_buf note = CAIRN_BUF_INIT(0);

	test_key(pk, sk, 3);
	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		sample_cp(&cp, 1);
		snprintf(cp.origin, sizeof(cp.origin), "%s", origins[i]);
		ck_assert_msg(audit__checkpoint_sign(&note, &cp, "k", sk) == CAIRN_EINVAL,
		              "origin %zu accepted", i);
		ck_assert_error_contains("checkpoint origin");
	}
	sample_cp(&cp, 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_msg(audit__checkpoint_sign(&note, &cp, names[i], sk) == CAIRN_EINVAL,
		              "key name %zu accepted", i);
		ck_assert_error_contains("key name");
	}
	ck_assert_uint_eq(note.len, 0);
	memset(cp.origin, 'o', sizeof(cp.origin) - 1);
	ck_assert_int_eq(audit__checkpoint_sign(&note, &cp, "k", sk), 0);
	ck_assert_int_eq(audit__checkpoint_verify(note.ptr, note.len, "k", pk), 0);
	cairn_buf_dispose(&note);
}
END_TEST

/* A hand-made note: body text, then signature lines (as is). */
static int parse_text(const char *text, audit_checkpoint *cp, size_t *nsigs)
{
	audit_note_sig sigs[4];

	return audit__checkpoint_parse(cp, sigs, 4, nsigs, text, strlen(text));
}

#define ROOT64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define SIG68                                                                                      \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAA="

START_TEST(test_cp_strict_parse)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
	        {"o\n0123\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n", "not a decimal number"},
	        {"o\n+5\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n", "not a decimal number"},
	        {"o\n\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n", "no tree size line"},
	        {"o\n1\n\n\xe2\x80\x94 k " SIG68 "\n", "no root hash line"},
	        {"o\n18446744073709551616\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n",
	         "not a decimal number"},
	        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n\xe2\x80\x94 k " SIG68 "\n",
	         "not base64 of 32 bytes"},
	        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\n\xe2\x80\x94 k " SIG68 "\n",
	         "not base64 of 32 bytes"},
	        {"o\n1\n" ROOT64 "\n\n", "no signature line"},
	        {"o\n1\n" ROOT64 "\n\xe2\x80\x94 k " SIG68 "\n", "no blank line"},
	        {"o\n1\n" ROOT64 "\n\n- k " SIG68 "\n", "does not start with an em dash"},
	        {"o\n1\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68, "does not end with a newline"},
	        {"o\n1\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n\n", "does not start with an em"},
	        {"o\n1\n" ROOT64 "\n\n\xe2\x80\x94 k+1 " SIG68 "\n", "key name contains '+'"},
	        {"o\n1\n" ROOT64 "\n\n\xe2\x80\x94 k AAAA\n", "not valid base64"},
	        {"o\n1\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 " \n", "not valid base64"},
	        {" o\n1\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n", "line 1: checkpoint origin"},
	        {"o\r\n1\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n", "control"},
	        {"o\n1\n" ROOT64 "\next\x1b[2J\n\n\xe2\x80\x94 k " SIG68 "\n", "line 4"},
	        {"\n\n\xe2\x80\x94 k " SIG68 "\n", "checkpoint origin is empty"},
	};
	audit_checkpoint cp;
	size_t nsigs;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse_text(bad[i].text, &cp, &nsigs) == CAIRN_EINVAL,
		              "case %zu parsed", i);
		ck_assert_error_contains(bad[i].err);
	}
	/* Extension lines are allowed and kept out of the struct; 18-byte sigs ignored. */
	ck_assert_int_eq(parse_text("o o\n18446744073709551615\n" ROOT64 "\next one\nx\n\n"
	                            "\xe2\x80\x94 k " SIG68 "\n"
	                            "\xe2\x80\x94 w AAAAAAAAAAAAAAAAAAAAAAAA\n",
	                            &cp, &nsigs),
	                 0);
	ck_assert_str_eq(cp.origin, "o o");
	ck_assert_uint_eq(cp.size, UINT64_MAX);
	ck_assert_uint_eq(nsigs, 1);
	ck_assert_int_eq(parse_text("o\n0\n" ROOT64 "\n\n\xe2\x80\x94 k " SIG68 "\n", &cp, &nsigs),
	                 0);
	ck_assert_uint_eq(cp.size, 0);
}
END_TEST

START_TEST(test_cp_multi)
{
	uint8_t pk1[32], sk1[64], pk2[32], sk2[64], pk3[32], sk3[64];
	audit_checkpoint cp, got;
	audit_note_sig sigs[1];
	cairn_buf file = CAIRN_BUF_INIT(0), other = CAIRN_BUF_INIT(0);
	size_t pos = 0, len, nsigs, notes = 0;
	const char *sigline;

	test_key(pk1, sk1, 1);
	test_key(pk2, sk2, 2);
	test_key(pk3, sk3, 3);
	/* Note 1 cosigned: k2's signature line over the same body appended. */
	sample_cp(&cp, 10);
	ck_assert_int_eq(audit__checkpoint_sign(&file, &cp, "k1", sk1), 0);
	ck_assert_int_eq(audit__checkpoint_sign(&other, &cp, "k2", sk2), 0);
	sigline = strstr(other.ptr, "\n\n") + 2;
	ck_assert_int_eq(cairn_buf_puts(&file, sigline), 0);
	sample_cp(&cp, 20);
	ck_assert_int_eq(audit__checkpoint_sign(&file, &cp, "k1", sk1), 0);
	sample_cp(&cp, 30);
	ck_assert_int_eq(audit__checkpoint_sign(&file, &cp, "k3", sk3), 0);
	while (pos < file.len) {
		const char *note = file.ptr + pos;

		ck_assert_int_eq(audit__checkpoint_split(note, file.len - pos, &len), 0);
		ck_assert_int_eq(audit__checkpoint_parse(&got, sigs, 1, &nsigs, note, len), 0);
		ck_assert_uint_eq(got.size, 10 * (notes + 1));
		ck_assert_uint_eq(nsigs, notes == 0 ? 2 : 1);
		ck_assert_int_eq(audit__checkpoint_verify(note, len, "k1", pk1),
		                 notes < 2 ? 0 : CAIRN_ECORRUPT);
		ck_assert_int_eq(audit__checkpoint_verify(note, len, "k2", pk2),
		                 notes == 0 ? 0 : CAIRN_ECORRUPT);
		ck_assert_int_eq(audit__checkpoint_verify(note, len, "k3", pk3),
		                 notes == 2 ? 0 : CAIRN_ECORRUPT);
		pos += len;
		notes++;
	}
	ck_assert_uint_eq(notes, 3);
	/* A torn last note is not a complete note. */
	ck_assert_int_eq(audit__checkpoint_split(file.ptr, file.len - 1, &len), 0);
	ck_assert_int_eq(audit__checkpoint_split(other.ptr, other.len - 1, &len), CAIRN_EINVAL);
	ck_assert_error_contains("ends inside a signature line");
	ck_assert_int_eq(audit__checkpoint_split(other.ptr, 40, &len), CAIRN_EINVAL);
	ck_assert_error_contains("no blank line");
	cairn_buf_dispose(&file);
	cairn_buf_dispose(&other);
}
END_TEST

static void audit_checkpoint_tcase(Suite *s)
{
	TCase *tc = tcase_create("checkpoint");

	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_cp_round_trip);
	tcase_add_test(tc, test_cp_every_byte);
	tcase_add_test(tc, test_cp_python_fixture);
	tcase_add_test(tc, test_cp_python_verify);
	tcase_add_test(tc, test_cp_forged_names);
	tcase_add_test(tc, test_cp_strict_parse);
	tcase_add_test(tc, test_cp_multi);
	suite_add_tcase(s, tc);
}

void audit_merkle_tests(Suite *s)
{
	TCase *tc = tcase_create("merkle");

	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_rfc_roots);
	tcase_add_test(tc, test_rfc_proofs);
	tcase_add_test(tc, test_python_fixtures);
	tcase_add_test(tc, test_all_inclusion_64);
	tcase_add_test(tc, test_all_consistency_64);
	tcase_add_test(tc, test_store_reopen_truncate);
	tcase_add_test(tc, test_store_damage);
	tcase_add_test(tc, test_store_proof_size);
	suite_add_tcase(s, tc);
	audit_checkpoint_tcase(s);
}
