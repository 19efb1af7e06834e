/* redact.c - not written yet */
