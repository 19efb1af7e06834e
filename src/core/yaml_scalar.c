/* yaml_scalar.c - not written yet */
