/* yaml_emit.c - not written yet */
