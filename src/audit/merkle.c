/* merkle.c - not written yet */
