/* render_tests.h - the render module's Check suite parts. */
#ifndef CAIRN_RENDER_TESTS_H
#define CAIRN_RENDER_TESTS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void render_parity_tests(Suite *s);
void render_refuse_tests(Suite *s);
void render_gen_tests(Suite *s);
void render_patch_tests(Suite *s);
void render_scale_tests(Suite *s);

#endif
