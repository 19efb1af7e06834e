/*
 * audit_tests.h - helpers shared by the audit log test files.
 */
#ifndef CAIRN_AUDIT_TESTS_H
#define CAIRN_AUDIT_TESTS_H

#include <stdint.h>

#include "audit/audit_private.h"
#include "cairn/audit.h"
#include "testutil.h"

/* A fresh temporary state directory (malloc'd path; remove with at_rmdir). */
char *at_tmpdir(void);
/* rm -r the directory and free the path. */
void at_rmdir(char *dir);
/* Open a writable log in dir with `signer` and optional io; asserts success. */
cairn_audit *at_open(const char *dir, const cairn_audit_signer *signer, struct audit_io *io,
                     uint64_t checkpoint_every);
/* Record a note entry with details {"i": i}; returns the rc. */
int at_record(cairn_audit *log, int64_t i, uint64_t *seq);
/* Read a whole file into a malloc'd NUL-terminated buffer. */
char *at_slurp(const char *dir, const char *name, size_t *len);
/* Verify a state dir with `signer`'s public key. */
cairn_audit_verify_result at_verify(const char *dir, const cairn_audit_signer *signer, int fast);

void audit_crash_tests(Suite *s);

#endif
