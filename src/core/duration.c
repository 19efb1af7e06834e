/* duration.c - not written yet */
