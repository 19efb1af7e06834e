/* core_yaml_emit.c - tests not written yet */
#include "testutil.h"

void core_yaml_emit_tests(Suite *s)
{
	(void)s;
}
