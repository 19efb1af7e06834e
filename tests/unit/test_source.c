/* test_source.c - the source module's Check suite. */
#include "source_tests.h"

/*
 * LeakSanitizer hook: libgit2 1.5's local-transport push keeps a reference
 * on some tree and commit objects of the pushing repository (seen in
 * commit_and_push, allocations inside libgit2 only). Suppress leaks whose
 * stack is entirely libgit2's lookup; ours are still reported.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:git_object_lookup_prefix\n";
}

int main(void)
{
	Suite *s = suite_create("source");

	source_parse_tests(s);
	source_git_tests(s);
	source_sig_tests(s);
	return test_run_suite(s);
}
