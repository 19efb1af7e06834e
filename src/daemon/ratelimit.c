/*
 * ratelimit.c - per-source token buckets for the webhook endpoints. A
 * fixed table: an attacker with many addresses evicts stale buckets
 * instead of growing memory.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/daemon.h"
#include "cairn/error.h"

#define RL_SOURCE_MAX 64 /* an IPv6 address with scope fits */
#define RL_PROBE 8

struct bucket {
	char source[RL_SOURCE_MAX];
	double tokens;
	cairn_usec last;
};

struct cairn_ratelimit {
	pthread_mutex_t mu;
	double rate, burst;
	struct bucket *b;
	size_t n;
};

int cairn_ratelimit_new(cairn_ratelimit **out, double rate, double burst, size_t max_sources)
{
	if (!(rate > 0) || max_sources == 0 || max_sources > 1000000)
		return cairn_error_set(CAIRN_EINVAL,
		                       "rate limit needs a rate > 0 and 1..1000000 sources");
	cairn_ratelimit *rl = calloc(1, sizeof(*rl));
	if (rl == NULL || (rl->b = calloc(max_sources, sizeof(*rl->b))) == NULL) {
		free(rl);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = rate;
	rl->burst = burst >= 1 ? burst : (rate >= 1 ? rate : 1);
	rl->n = max_sources;
	*out = rl;
	return 0;
}

/* FNV-1a: the table is small and sources are short. */
static size_t hash_source(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return (size_t)h;
}

int cairn_ratelimit_take(cairn_ratelimit *rl, const char *source, cairn_usec now)
{
	char key[RL_SOURCE_MAX];
	struct bucket *hit = NULL, *stalest = NULL;
	int ok;

	if (rl == NULL)
		return 1;
	snprintf(key, sizeof(key), "%s", source ? source : "");
	size_t h = hash_source(key);
	pthread_mutex_lock(&rl->mu);
	for (size_t i = 0; i < RL_PROBE && i < rl->n; i++) {
		struct bucket *b = &rl->b[(h + i) % rl->n];
		if (b->source[0] != '\0' && strcmp(b->source, key) == 0) {
			hit = b;
			break;
		}
		if (stalest == NULL || b->source[0] == '\0' || b->last < stalest->last)
			if (stalest == NULL || stalest->source[0] != '\0')
				stalest = b;
	}
	if (hit == NULL) {
		hit = stalest;
		memcpy(hit->source, key, sizeof(key));
		hit->tokens = rl->burst;
		hit->last = now;
	}
	double add = (double)(now - hit->last) / 1e6 * rl->rate;
	if (add > 0) {
		hit->tokens += add;
		if (hit->tokens > rl->burst)
			hit->tokens = rl->burst;
		hit->last = now;
	}
	ok = hit->tokens >= 1.0;
	if (ok)
		hit->tokens -= 1.0;
	pthread_mutex_unlock(&rl->mu);
	return ok;
}

void cairn_ratelimit_free(cairn_ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->b);
	free(rl);
}
