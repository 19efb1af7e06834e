/*
 * drift_private.h - shared between src/sync/drift.c (comparing, field
 * managers) and src/sync/drift_watch.c (the detector).
 */
#ifndef CAIRN_SYNC_DRIFT_PRIVATE_H
#define CAIRN_SYNC_DRIFT_PRIVATE_H

#include <jansson.h>

/* The value at JSON pointer `path` of `root` (borrowed); 0, or -1 when absent. */
int drift__pointer_get(json_t **out, const json_t *root, const char *path);

/* 1 when the object carries CAIRN_ROLLOUT_MARKER (label or annotation). */
int drift__rollout_marked(const json_t *live);

#endif
