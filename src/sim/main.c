/*
 * src/sim/main.c - cairn-sim entry point: flags, start-up, signals.
 */
#include <stdio.h>

#include "sim.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "cairn-sim: not implemented yet\n");
	return 1;
}
