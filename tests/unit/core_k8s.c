/* core_k8s.c - tests not written yet */
#include "testutil.h"

void core_k8s_tests(Suite *s)
{
	(void)s;
}
