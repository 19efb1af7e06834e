/*
 * source_tests.h - the TCase builders of the source module's suite
 * (tests/unit/test_source.c), one per file.
 */
#ifndef CAIRN_SOURCE_TESTS_H
#define CAIRN_SOURCE_TESTS_H

#include "testutil.h"

void source_parse_tests(Suite *s);
void source_git_tests(Suite *s);
/* Commit signature verification (source_sig.c, the signature engineer's). */
void source_sig_tests(Suite *s);

#endif
