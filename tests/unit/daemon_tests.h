/*
 * daemon_tests.h - the TCase builders of the daemon module's suite
 * (tests/unit/test_daemon.c), one per file.
 */
#ifndef CAIRN_DAEMON_TESTS_H
#define CAIRN_DAEMON_TESTS_H

#include "testutil.h"

void daemon_webhook_tests(Suite *s);
void daemon_auth_tests(Suite *s);
void daemon_http_tests(Suite *s);
void daemon_audit_tests(Suite *s);

#endif
