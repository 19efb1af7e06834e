/* render_env_tests.h - parts of test_render_env: substitution, the pipeline,
 * plugins and the security of the render module's inputs. */
#ifndef CAIRN_RENDER_ENV_TESTS_H
#define CAIRN_RENDER_ENV_TESTS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void render_subst_tests(Suite *s);
void render_security_tests(Suite *s);
void render_prov_tests(Suite *s);

#endif
