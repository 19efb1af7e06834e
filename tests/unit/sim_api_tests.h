/* sim_api_tests.h - the TCase builders of the sim API suite (test_sim_api). */
#ifndef CAIRN_SIM_API_TESTS_H
#define CAIRN_SIM_API_TESTS_H

#include <check.h>
#include <jansson.h>

#include "../../src/sim/registry.h"

void sim_api_registry_tests(Suite *s);
void sim_api_crd_tests(Suite *s);

/* Serve a path into a fresh reply; returns the parsed body (NULL if not JSON). */
json_t *sim_api_get(const sim_registry *r, const char *dir, const char *path, const char *accept,
                    sim_http_reply *reply, int *handled);

#endif
