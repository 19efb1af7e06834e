/*
 * src/sim/table.c - meta.k8s.io/v1 Table output (kubectl get asks for it
 * with "Accept: application/json;as=Table;..."). Every kind gets the
 * columns Name and Age, like the API server's default table convertor for
 * kinds without their own printer; rows carry PartialObjectMetadata, or
 * the whole object with includeObject=Object.
 */
#include <stdio.h>
#include <string.h>

#include "cairn/util.h"

#include "sim.h"

/* kubectl's short human durations ("5s", "3m20s", "4h", "12d"). */
static void human_age(char *out, size_t n, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, n, "%llds", s);
	else if (s < 600)
		snprintf(out, n, "%lldm%llds", s / 60, s % 60);
	else if (s < 3 * 3600)
		snprintf(out, n, "%lldm", s / 60);
	else if (s < 8 * 3600)
		snprintf(out, n, "%lldh%lldm", s / 3600, (s % 3600) / 60);
	else if (s < 48 * 3600)
		snprintf(out, n, "%lldh", s / 3600);
	else if (s < 8 * 86400)
		snprintf(out, n, "%lldd%lldh", s / 86400, (s % 86400) / 3600);
	else if (s < 2 * 365 * 86400LL)
		snprintf(out, n, "%lldd", s / 86400);
	else
		snprintf(out, n, "%lldy", s / (365 * 86400LL));
}

/* 1 when an Accept header asks for a Table. */
int sim_wants_table(const char *accept)
{
	return accept && strstr(accept, "as=Table") != NULL;
}

static json_t *columns(void)
{
	return json_pack("[{sssssssssi}{sssssssssi}]", "name", "Name", "type", "string", "format",
	                 "name", "description",
	                 "Name must be unique within a namespace. More info: "
	                 "http://kubernetes.io/docs/concepts/overview/working-with-objects/"
	                 "names#names",
	                 "priority", 0, "name", "Age", "type", "string", "format", "",
	                 "description",
	                 "CreationTimestamp is a timestamp representing the server time when "
	                 "this object was created.",
	                 "priority", 0);
}

static json_t *row_of(const json_t *obj, int include_object)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ts = json_string_value(json_object_get(meta, "creationTimestamp"));
	cairn_usec t = 0;
	char age[32] = "<unknown>";
	json_t *o;

	if (ts && cairn_time_parse(&t, ts) == 0)
		human_age(age, sizeof age, (long long)((cairn_time_now() - t) / 1000000));
	if (include_object)
		o = json_deep_copy(obj);
	else
		o = json_pack("{sssssO}", "kind", "PartialObjectMetadata", "apiVersion",
		              "meta.k8s.io/v1", "metadata", meta);
	return json_pack("{s[Os]so}", "cells", json_object_get(meta, "name"), age, "object", o);
}

/*
 * sim_table - a Table of the objects in `items` (borrowed), with the
 * column definitions when with_columns, the list resourceVersion rv and
 * continue token cont (either may be NULL). Caller owns the result.
 */
json_t *sim_table(const json_t *items, int include_object, int with_columns, const char *rv,
                  const char *cont)
{
	json_t *rows = json_array(), *meta = json_object(), *it;
	size_t i;

	json_array_foreach(items, i, it)
	{
		json_array_append_new(rows, row_of(it, include_object));
	}
	if (rv)
		json_object_set_new(meta, "resourceVersion", json_string(rv));
	if (cont)
		json_object_set_new(meta, "continue", json_string(cont));
	return json_pack("{sssssoso so}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
	                 "metadata", meta, "columnDefinitions",
	                 with_columns ? columns() : json_array(), "rows", rows);
}
