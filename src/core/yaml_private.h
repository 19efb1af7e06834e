/*
 * yaml_private.h - what yaml_load.c and yaml_scalar.c share.
 *
 * yaml_scalar.c turns the text of one scalar into a json_t according to a
 * typing profile (see cairn/yaml.h); yaml_load.c walks libyaml's events and
 * builds documents from those values.
 */
#ifndef CAIRN_YAML_PRIVATE_H
#define CAIRN_YAML_PRIVATE_H

#include <jansson.h>
#include <stddef.h>

#include "cairn/yaml.h"

/* What an explicit tag asks a scalar to be. */
enum yaml_tag_kind {
	YAML_TAG_NONE = 0, /* no tag: plain scalars are resolved, quoted ones are strings */
	YAML_TAG_STR,      /* !!str, the non-specific "!" and unknown local tags */
	YAML_TAG_INT,
	YAML_TAG_FLOAT,
	YAML_TAG_BOOL,
	YAML_TAG_NULL,
	YAML_TAG_BINARY,
	YAML_TAG_OTHER, /* a tag we do not interpret (e.g. !!timestamp): resolve as plain */
};

/* Classify a tag string as libyaml reports it (already expanded, e.g.
 * "tag:yaml.org,2002:int"); NULL is YAML_TAG_NONE. */
enum yaml_tag_kind yaml__tag_kind(const char *tag);

/*
 * Resolve a scalar to a new json_t. `plain` says the scalar was written
 * without quotes or block style; `tag` is its explicit tag kind. On a
 * conversion the profile or the tag refuses (a tag that does not fit the
 * text, a non-finite number JSON cannot hold) returns NULL and writes a
 * short reason into `why` (starting lower-case, no location); the caller
 * adds the place. Returns NULL with why[0] == '\0' when out of memory.
 */
json_t *yaml__scalar(const char *text, size_t len, int plain, enum yaml_tag_kind tag,
                     cairn_yaml_profile profile, char *why, size_t why_size);

#endif
