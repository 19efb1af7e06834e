/* yaml_private.h - not written yet */
