/*
 * sshsig_priv.h - helpers shared by the files of the signature part of the
 * source module: a bounds-checked reader for the SSH wire encoding
 * (RFC 4251 section 5) and the public-key blob checks.
 */
#ifndef CAIRN_SOURCE_SSHSIG_PRIV_H
#define CAIRN_SOURCE_SSHSIG_PRIV_H

#include <stddef.h>
#include <stdint.h>

/* A read cursor over bytes owned by someone else. */
struct ssh_reader {
	const uint8_t *p;
	size_t len;
};

/* Read a big-endian uint32; -1 when fewer than 4 bytes remain. */
int source__ssh_get_u32(struct ssh_reader *r, uint32_t *out);
/* Read a length-prefixed string (borrowed); -1 when it overruns the input. */
int source__ssh_get_string(struct ssh_reader *r, const uint8_t **s, size_t *len);
/* 1 when the string equals the NUL-terminated `lit`. */
int source__ssh_string_is(const uint8_t *s, size_t len, const char *lit);

/*
 * Check that `blob` is a well-formed public key of a type Cairn knows
 * (ed25519, RSA, ECDSA, their security-key variants), copying the type name
 * into `type` (NUL-terminated, cut at `typecap`). `what` names the blob in
 * messages. 0, CAIRN_EINVAL (malformed) or CAIRN_EUNSUPPORTED (certificate
 * or unknown type), with the message set.
 */
int source__ssh_key_check(const uint8_t *blob, size_t len, char *type, size_t typecap,
                          const char *what);

struct cairn_allowed_signers;

/* OpenSSH's match_pattern_list: 1 a pattern matches, -1 a negated one does,
 * 0 none; case-sensitive. */
int source__pattern_list_match(const char *s, const char *list);
/*
 * ssh-keygen -Y find-principals: the index of the first line that holds
 * `key` (not as a cert-authority) and is valid at `t`, or -1. `*why` tells
 * why nothing matched: 0 no line has the key, 1 only expired lines, 2 only
 * not-yet-valid lines, 3 only cert-authority lines.
 */
int source__signers_find(const struct cairn_allowed_signers *as, const uint8_t *key, size_t len,
                         int64_t t, int *why);
/* The raw principals pattern list of line `idx` (borrowed). */
const char *source__signers_principals(const struct cairn_allowed_signers *as, int idx);
/*
 * ssh-keygen -Y verify -I principal: 1 when some line's patterns accept
 * `principal` for `key`, namespace `ns` and time `t` (its line number in
 * `*line`); 0 otherwise, `*why` set to 1 when a line failed only on its
 * namespaces.
 */
int source__signers_allow(const struct cairn_allowed_signers *as, const char *principal,
                          const uint8_t *key, size_t len, const char *ns, int64_t t, int *line,
                          int *why);

#endif
