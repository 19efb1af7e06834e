/*
 * src/sim/store_internal.h - the store's insides, shared by store.c and
 * watch.c only.
 */
#ifndef CAIRN_SIM_STORE_INTERNAL_H
#define CAIRN_SIM_STORE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "sim.h"

struct sim_entry_obj {
	char *ns; /* "" for cluster-scoped */
	char *name;
	char *json; /* canonical bytes, NUL-terminated */
	size_t len;
	uint64_t rv;
};

struct sim_bucket {
	char *group;
	char *plural;
	struct sim_entry_obj **v; /* sorted by (ns, name) */
	size_t n, cap;
};

struct sim_event {
	int type;
	uint64_t rv;
	char *group, *plural, *ns;
	char *json;
	size_t len;
};

struct sim_store {
	pthread_mutex_t mu;
	pthread_cond_t cond; /* broadcast on every event and on close */
	uint64_t rv;
	struct sim_bucket *buckets;
	size_t nbuckets;
	struct sim_event *hist; /* ring, oldest at hist_head */
	size_t hist_cap, hist_head, hist_n;
	uint64_t evicted_rv; /* rv of the newest event dropped from the ring */
	int closing;
};

#endif
