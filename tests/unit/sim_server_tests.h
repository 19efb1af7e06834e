/* sim_server_tests.h - the TCase builders of test_sim_server. */
#ifndef SIM_SERVER_TESTS_H
#define SIM_SERVER_TESTS_H
#include <check.h>
void sim_server_store_tests(Suite *s);
void sim_server_select_tests(Suite *s);
#endif
