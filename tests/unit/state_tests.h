/* state_tests.h - the state module's TCase builders and helpers. */
#ifndef CAIRN_STATE_TESTS_H
#define CAIRN_STATE_TESTS_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

void state_open_tests(Suite *s);
void state_records_tests(Suite *s);
void state_crash_tests(Suite *s);
void state_rollout_tests(Suite *s);

static inline int state_test_rm_one(const char *path, const struct stat *sb, int flag,
                                    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh temporary directory in `buf` (removed by state_test_rmdir). */
static inline char *state_test_dir(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/cairn-state-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
	return buf;
}

static inline void state_test_rmdir(const char *dir)
{
	nftw(dir, state_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
