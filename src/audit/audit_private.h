/* audit_private.h - not written yet */
