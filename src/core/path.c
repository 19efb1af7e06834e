/* path.c - not written yet */
