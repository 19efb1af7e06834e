/* cmd_validate.c - not written yet */
#include "cli.h"

int cmd_validate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "cairn: 'validate' is not implemented yet\n");
	return CLI_EXIT_FAIL;
}
