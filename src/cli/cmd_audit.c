/* cmd_audit.c - not written yet */
#include "cli.h"

int cmd_audit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "cairn: 'audit' is not implemented yet\n");
	return CLI_EXIT_FAIL;
}
