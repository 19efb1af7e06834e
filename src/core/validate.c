/* validate.c - not written yet */
