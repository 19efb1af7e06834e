/*
 * testutil.h - shared helpers for the Check suites.
 */
#ifndef CAIRN_TESTUTIL_H
#define CAIRN_TESTUTIL_H

#include <check.h>

#include "cairn/error.h"

/* Absolute path of a file under tests/unit/data (uses $CAIRN_SRCDIR). */
static inline const char *test_data_path(char *buf, size_t size, const char *rel)
{
	const char *src = getenv("CAIRN_SRCDIR");

	snprintf(buf, size, "%s/tests/unit/data/%s", src ? src : ".", rel);
	return buf;
}

/* The Kubernetes v1.28 OpenAPI directory, read in place: $CAIRN_K8S_OPENAPI
 * (set by make check), else ../shared beside the source tree. */
static inline const char *test_k8s_openapi_dir(char *buf, size_t size)
{
	const char *dir = getenv("CAIRN_K8S_OPENAPI");
	const char *src = getenv("CAIRN_SRCDIR");

	if (dir != NULL && dir[0] != '\0')
		snprintf(buf, size, "%s", dir);
	else
		snprintf(buf, size, "%s/../shared/k8s-openapi/v1.28", src ? src : ".");
	return buf;
}

/* Assert that the last error message contains `needle`. */
#define ck_assert_error_contains(needle)                                                           \
	ck_assert_msg(strstr(cairn_error_last()->message, (needle)) != NULL,                       \
	              "error message '%s' does not contain '%s'", cairn_error_last()->message,     \
	              (needle))

/* Each test file of a module adds its TCases to the module's suite. */
void core_basics_tests(Suite *s);
void core_yaml_load_tests(Suite *s);
void core_yaml_emit_tests(Suite *s);
void core_json_tests(Suite *s);
void core_util_tests(Suite *s);
void core_k8s_tests(Suite *s);
void core_validate_tests(Suite *s);
void audit_merkle_tests(Suite *s);
void audit_log_tests(Suite *s);

/* Run a suite; returns the process exit status. */
static inline int test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
