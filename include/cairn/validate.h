/* cairn/validate.h - not written yet (see issue 2: `cairn validate`). */
