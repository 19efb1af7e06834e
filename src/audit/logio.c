/* logio.c - not written yet */
