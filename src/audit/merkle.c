/*
 * merkle.c - RFC 6962 hashing, the Merkle tree hash of leaves held in
 * memory, and the auditor's side of RFC 9162 inclusion and consistency
 * proofs (§2.1.3.2, §2.1.4.2). Nothing here touches a file: an auditor with
 * an entry, a proof and a checkpoint needs only these functions.
 */
#include <stdint.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "merkle.h"

void audit__leaf_hash(uint8_t out[32], const void *entry, size_t len)
{
	cairn_sha256_ctx ctx;
	const uint8_t prefix = 0x00;

	cairn_sha256_init(&ctx);
	cairn_sha256_update(&ctx, &prefix, 1);
	cairn_sha256_update(&ctx, entry, len);
	cairn_sha256_final(&ctx, out);
}

void audit__node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32])
{
	uint8_t buf[1 + 2 * AUDIT_HASH_LEN];

	/* Copy first: out may alias left or right. */
	buf[0] = 0x01;
	memcpy(buf + 1, left, AUDIT_HASH_LEN);
	memcpy(buf + 1 + AUDIT_HASH_LEN, right, AUDIT_HASH_LEN);
	cairn_sha256(out, buf, sizeof(buf));
}

/*
 * MTH(D[n]) by the definition's split at the largest power of two below n.
 * The recursion is at most 64 deep because the left part is always a
 * perfect tree and the right part at least halves the remaining height.
 */
static void root_rec(uint8_t out[32], const uint8_t (*leaves)[32], uint64_t n)
{
	uint8_t l[32], r[32];
	uint64_t k;

	if (n == 1) {
		memcpy(out, leaves[0], AUDIT_HASH_LEN);
		return;
	}
	k = (uint64_t)1 << (63 - __builtin_clzll(n - 1));
	root_rec(l, leaves, k);
	root_rec(r, leaves + k, n - k);
	audit__node_hash(out, l, r);
}

void audit__root_of(uint8_t out[32], const uint8_t (*leaves)[32], uint64_t n)
{
	if (n == 0) {
		cairn_sha256(out, "", 0);
		return;
	}
	root_rec(out, leaves, n);
}

int audit__inclusion_verify(const uint8_t leaf[32], uint64_t index, uint64_t size,
                            const uint8_t (*path)[32], size_t path_len, const uint8_t root[32])
{
	uint64_t fn, sn;
	uint8_t r[32];

	if (index >= size)
		return cairn_error_set(CAIRN_EINVAL,
		                       "inclusion proof index %llu is not below tree size %llu",
		                       (unsigned long long)index, (unsigned long long)size);
	if (path_len > AUDIT_PROOF_MAX)
		return cairn_error_set(CAIRN_EINVAL, "inclusion proof of %zu hashes is too long",
		                       path_len);
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, AUDIT_HASH_LEN);
	for (size_t i = 0; i < path_len; i++) {
		if (sn == 0)
			goto bad;
		if ((fn & 1) || fn == sn) {
			audit__node_hash(r, path[i], r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			audit__node_hash(r, r, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, AUDIT_HASH_LEN) != 0)
		goto bad;
	return 0;
bad:
	return cairn_error_set(CAIRN_ECORRUPT,
	                       "inclusion proof for leaf %llu in tree size %llu does not verify",
	                       (unsigned long long)index, (unsigned long long)size);
}

/*
 * The degenerate cases RFC 9162 leaves to the caller: equal sizes need an
 * empty proof and equal roots; the empty tree is extended by every tree but
 * its root must be the empty hash. Returns 1 when the case was handled
 * (with *rc set), 0 when the general algorithm must run.
 */
static int consistency_trivial(int *rc, uint64_t old_size, uint64_t new_size,
                               const uint8_t old_root[32], const uint8_t new_root[32],
                               size_t proof_len)
{
	uint8_t empty[32];

	if (old_size == new_size) {
		if (proof_len == 0 && memcmp(old_root, new_root, AUDIT_HASH_LEN) == 0)
			*rc = 0;
		else
			*rc = cairn_error_set(CAIRN_ECORRUPT,
			                      "consistency proof between equal sizes %llu does not "
			                      "verify: roots differ or proof is not empty",
			                      (unsigned long long)old_size);
		return 1;
	}
	if (old_size == 0) {
		cairn_sha256(empty, "", 0);
		if (proof_len == 0 && memcmp(old_root, empty, AUDIT_HASH_LEN) == 0)
			*rc = 0;
		else
			*rc = cairn_error_set(
			        CAIRN_ECORRUPT,
			        "consistency proof from the empty tree does not verify");
		return 1;
	}
	return 0;
}

int audit__consistency_verify(uint64_t old_size, uint64_t new_size, const uint8_t old_root[32],
                              const uint8_t new_root[32], const uint8_t (*proof)[32],
                              size_t proof_len)
{
	uint64_t fn, sn;
	uint8_t fr[32], sr[32];
	size_t i = 0;
	int rc;

	if (old_size > new_size)
		return cairn_error_set(CAIRN_EINVAL,
		                       "consistency proof old size %llu is above new size %llu",
		                       (unsigned long long)old_size, (unsigned long long)new_size);
	if (proof_len > AUDIT_PROOF_MAX)
		return cairn_error_set(CAIRN_EINVAL, "consistency proof of %zu hashes is too long",
		                       proof_len);
	if (consistency_trivial(&rc, old_size, new_size, old_root, new_root, proof_len))
		return rc;
	if (proof_len == 0)
		goto bad;
	/* When the old tree is perfect its root is the implicit first proof hash. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, AUDIT_HASH_LEN);
	} else {
		memcpy(fr, proof[0], AUDIT_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, AUDIT_HASH_LEN);
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < proof_len; i++) {
		if (sn == 0)
			goto bad;
		if ((fn & 1) || fn == sn) {
			audit__node_hash(fr, proof[i], fr);
			audit__node_hash(sr, proof[i], sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			audit__node_hash(sr, sr, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, old_root, AUDIT_HASH_LEN) != 0 ||
	    memcmp(sr, new_root, AUDIT_HASH_LEN) != 0)
		goto bad;
	return 0;
bad:
	return cairn_error_set(CAIRN_ECORRUPT,
	                       "consistency proof from size %llu to %llu does not verify",
	                       (unsigned long long)old_size, (unsigned long long)new_size);
}
