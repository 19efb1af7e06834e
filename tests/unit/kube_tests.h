/* kube_tests.h - the kube module's TCase builders. */
#ifndef CAIRN_KUBE_TESTS_H
#define CAIRN_KUBE_TESTS_H

#include <check.h>

void kube_config_tests(Suite *s);
void kube_sim_tests(Suite *s);
void kube_watch_tests(Suite *s);
void kube_health_tests(Suite *s);
void kube_batch_tests(Suite *s);

#endif
