/* merkle.h - not written yet */
