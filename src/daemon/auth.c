/*
 * auth.c - API bearer tokens: stored as SHA-256 hashes, looked up in
 * constant time, each with a role and an optional environment scope.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/config.h"
#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

/* Tokens kept; a config with more is a mistake, not a use case. */
#define AUTH_TOKENS_MAX 1024
/* Longest bearer token accepted (bytes). */
#define AUTH_TOKEN_LEN_MAX 4096

/*
 * One generation of tokens. A reload (cairn_auth_replace) installs a new
 * generation and keeps the old ones until the set is freed: a request on
 * another thread may still hold a token pointer from the old generation,
 * and reloads are rare enough that keeping a few small arrays is cheaper
 * than reference-counting every lookup.
 */
struct auth_gen {
	cairn_auth_token *tok;
	size_t n;
	struct auth_gen *older;
};

struct cairn_auth {
	pthread_mutex_t mu; /* guards `cur` (the pointer, not the generation) */
	struct auth_gen *cur;
};

static const char *const role_names[] = {NULL, "viewer", "deployer", "admin"};

const char *cairn_role_name(cairn_role role)
{
	return role >= CAIRN_ROLE_VIEWER && role <= CAIRN_ROLE_ADMIN ? role_names[role] : "none";
}

int cairn_role_parse(cairn_role *out, const char *name)
{
	for (int r = CAIRN_ROLE_VIEWER; r <= CAIRN_ROLE_ADMIN; r++) {
		if (name != NULL && strcmp(name, role_names[r]) == 0) {
			*out = (cairn_role)r;
			return 0;
		}
	}
	return cairn_error_set(CAIRN_EINVAL,
	                       "unknown role '%s' (expected viewer, deployer or admin)",
	                       name ? name : "");
}

int cairn_auth_new(cairn_auth **out)
{
	cairn_auth *a = calloc(1, sizeof(*a));
	if (a == NULL || (a->cur = calloc(1, sizeof(*a->cur))) == NULL) {
		free(a);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&a->mu, NULL);
	*out = a;
	return 0;
}

static void token_dispose(cairn_auth_token *t)
{
	free(t->name);
	for (size_t i = 0; i < t->n_envs; i++)
		free(t->envs[i]);
	free(t->envs);
}

void cairn_auth_free(cairn_auth *auth)
{
	if (auth == NULL)
		return;
	for (struct auth_gen *g = auth->cur, *next; g != NULL; g = next) {
		next = g->older;
		for (size_t i = 0; i < g->n; i++)
			token_dispose(&g->tok[i]);
		free(g->tok);
		free(g);
	}
	pthread_mutex_destroy(&auth->mu);
	free(auth);
}

/* The current generation; its contents are immutable once installed. */
static const struct auth_gen *current(const cairn_auth *auth)
{
	cairn_auth *a = (cairn_auth *)auth; /* the mutex, not the tokens */
	const struct auth_gen *g;

	pthread_mutex_lock(&a->mu);
	g = a->cur;
	pthread_mutex_unlock(&a->mu);
	return g;
}

size_t cairn_auth_count(const cairn_auth *auth)
{
	return auth ? current(auth)->n : 0;
}

void cairn_auth_replace(cairn_auth *auth, cairn_auth *from)
{
	struct auth_gen *g;

	if (auth == NULL || from == NULL)
		return;
	g = from->cur;
	from->cur = NULL;
	pthread_mutex_lock(&auth->mu);
	g->older = auth->cur;
	auth->cur = g;
	pthread_mutex_unlock(&auth->mu);
	cairn_auth_free(from);
}

int cairn_auth_add(cairn_auth *auth, const char *name, const char *sha256_hex, cairn_role role,
                   const char *const *envs, size_t n_envs)
{
	cairn_auth_token t = {0};

	if (name == NULL || name[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "an API token has no name");
	if (sha256_hex == NULL || strlen(sha256_hex) != 64 ||
	    cairn_hex_decode(t.hash, 32, sha256_hex) != 0)
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "token '%s': hash is not 64 hex digits (the SHA-256 of the token)", name);
	if (role < CAIRN_ROLE_VIEWER || role > CAIRN_ROLE_ADMIN)
		return cairn_error_set(CAIRN_EINVAL, "token '%s': unknown role", name);
	struct auth_gen *g = auth->cur;

	if (g->n >= AUTH_TOKENS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d API tokens", AUTH_TOKENS_MAX);
	for (size_t i = 0; i < g->n; i++) {
		if (strcmp(g->tok[i].name, name) == 0)
			return cairn_error_set(CAIRN_EEXISTS, "token '%s' is defined twice", name);
		if (memcmp(g->tok[i].hash, t.hash, 32) == 0)
			return cairn_error_set(CAIRN_EEXISTS,
			                       "tokens '%s' and '%s' have the same hash",
			                       g->tok[i].name, name);
	}
	t.role = role;
	if ((t.name = strdup(name)) == NULL)
		goto nomem;
	if (n_envs > 0 && (t.envs = calloc(n_envs, sizeof(*t.envs))) == NULL)
		goto nomem;
	for (; t.n_envs < n_envs; t.n_envs++)
		if ((t.envs[t.n_envs] = strdup(envs[t.n_envs])) == NULL)
			goto nomem;
	cairn_auth_token *nt = realloc(g->tok, (g->n + 1) * sizeof(*nt));
	if (nt == NULL)
		goto nomem;
	g->tok = nt;
	g->tok[g->n++] = t;
	return 0;
nomem:
	token_dispose(&t);
	return cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_auth_lookup(const cairn_auth_token **out, const cairn_auth *auth,
                      const char *authorization)
{
	uint8_t h[32];
	const cairn_auth_token *found = NULL;

	if (authorization == NULL)
		return cairn_error_set(CAIRN_EPERM, "missing Authorization header");
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return cairn_error_set(CAIRN_EPERM,
		                       "the Authorization header is not 'Bearer <token>'");
	const char *tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	size_t len = strnlen(tok, AUTH_TOKEN_LEN_MAX + 1);
	if (len == 0 || len > AUTH_TOKEN_LEN_MAX)
		return cairn_error_set(CAIRN_EPERM, "the bearer token is empty or too long");
	cairn_sha256(h, tok, len);
	/* Every entry is compared, and the match is picked without a branch on
	 * the comparison, so timing says nothing about which entry matched. */
	const struct auth_gen *g = auth ? current(auth) : NULL;
	for (size_t i = 0; g != NULL && i < g->n; i++) {
		uintptr_t eq = (uintptr_t)(CRYPTO_memcmp(g->tok[i].hash, h, 32) == 0);
		uintptr_t mask = (uintptr_t)0 - eq;
		found = (const cairn_auth_token *)(((uintptr_t)found & ~mask) |
		                                   ((uintptr_t)&g->tok[i] & mask));
	}
	if (found == NULL)
		return cairn_error_set(CAIRN_EPERM, "unknown bearer token");
	*out = found;
	return 0;
}

int cairn_auth_check(const cairn_auth_token *tok, cairn_action action, const char *env)
{
	static const char *const action_names[] = {NULL, "read", "deploy", "administer"};

	if (tok == NULL)
		return cairn_error_set(CAIRN_EPERM, "no token");
	if (action < CAIRN_ACTION_READ || action > CAIRN_ACTION_ADMIN)
		return cairn_error_set(CAIRN_EINVAL, "unknown action");
	if ((int)tok->role < (int)action)
		return cairn_error_set(CAIRN_EPERM, "token '%s' (role %s) may not %s", tok->name,
		                       cairn_role_name(tok->role), action_names[action]);
	if (tok->n_envs == 0)
		return 0;
	if (env == NULL) {
		/* Scoped tokens may read the lists that span environments, but not
		 * act on something that belongs to none. */
		if (action == CAIRN_ACTION_READ)
			return 0;
		return cairn_error_set(
		        CAIRN_EPERM,
		        "token '%s' is scoped to environments and may not %s outside them",
		        tok->name, action_names[action]);
	}
	for (size_t i = 0; i < tok->n_envs; i++)
		if (strcmp(tok->envs[i], env) == 0)
			return 0;
	return cairn_error_set(CAIRN_EPERM, "token '%s' is not scoped to environment '%s'",
	                       tok->name, env);
}

int cairn_auth_from_config(cairn_auth **out, const struct cairn_config *cfg)
{
	cairn_auth *a = NULL;
	cairn_role role;
	int rc = cairn_auth_new(&a);

	for (size_t i = 0; rc == 0 && i < cfg->token_count; i++) {
		const cairn_config_token *t = &cfg->tokens[i];
		if ((rc = cairn_role_parse(&role, t->role)) == 0)
			rc = cairn_auth_add(a, t->name, t->sha256, role,
			                    (const char *const *)t->environments,
			                    t->environment_count);
	}
	if (rc < 0) {
		cairn_auth_free(a);
		return cairn_error_prefix("%s: api.tokens: ", cfg->file ? cfg->file : "cairn.yaml");
	}
	*out = a;
	return 0;
}
