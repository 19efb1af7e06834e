/*
 * prelude.h - force-included (-include) first in every translation unit:
 * config.h, the C library headers whose functions banned.h shadows, then
 * banned.h, so that a banned call anywhere after is a compile error.
 */
#ifndef CAIRN_PRELUDE_H
#define CAIRN_PRELUDE_H
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"
#endif
