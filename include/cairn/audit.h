/* cairn/audit.h - not written yet */
