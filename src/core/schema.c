/* schema.c - not written yet */
