/* yaml_load.c - not written yet */
