/*
 * batch.c - server-side apply of many objects over a few kept-alive
 * connections at once (cairn_kube_apply_many()).
 *
 * A round trip to the API server is mostly waiting: for the network, for
 * the server's work, for the scheduler to run the server's thread. One
 * connection waits for each of those in turn; N connections wait for them
 * side by side. Each worker thread owns a copy of the client (its own
 * libcurl handle, so its own connection) and takes the next object from a
 * shared counter; the calling thread works too, on the caller's client,
 * whose connection discovery has already opened. Results go to the slot of
 * their object, so the order of `objs` is kept whatever order the answers
 * come in.
 *
 * Everything that touches discovery or jansson's writers runs in the
 * calling thread before the workers start (mappings, paths, bodies): the
 * workers only send bytes and, when asked, parse answers into new objects.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/util.h"
#include "kube_internal.h"

#define APPLY_CT "application/apply-patch+yaml"

/* One object to send: its path with the query, its body (compact JSON). */
struct item {
	char *path;
	char *body;
};

struct batch {
	struct item *items;
	cairn_kube_apply_result *res;
	size_t n;
	unsigned flags;
	atomic_size_t next;
};

struct worker {
	struct batch *b;
	cairn_kube_client *c;
	pthread_t tid;
	int started;
};

static int copy_str(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst != NULL ? 0 : CAIRN_ENOMEM;
}

static int copy_buf(cairn_buf *dst, const cairn_buf *src)
{
	cairn_buf_init(dst, src->len + 1);
	return src->len > 0 ? cairn_buf_put(dst, src->ptr, src->len) : 0;
}

/*
 * A copy of `src` with its own libcurl handle: the same server (already
 * rewritten for tls-server-name, with the same connect-to entries), the
 * same credentials and options, no discovery (workers never look kinds
 * up). The copy is freed with cairn_kube_client_free().
 */
static int client_clone(cairn_kube_client **out, const cairn_kube_client *src)
{
	cairn_kube_client *c = calloc(1, sizeof(*c));
	const struct curl_slist *l;
	int rc;

	if (c == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	c->opts = src->opts;
	c->insecure = src->insecure;
	c->token_expiry_us = src->token_expiry_us;
	c->rng = src->rng ^ ((uint64_t)(uintptr_t)c * 0x9e3779b97f4a7c15ull);
	rc = copy_str(&c->server, src->server);
	if (rc == 0)
		rc = copy_str(&c->ns, src->ns);
	if (rc == 0)
		rc = copy_str(&c->token, src->token);
	if (rc == 0)
		rc = copy_str(&c->username, src->username);
	if (rc == 0)
		rc = copy_str(&c->password, src->password);
	if (rc == 0)
		rc = copy_str(&c->exec_json, src->exec_json);
	if (rc == 0)
		rc = copy_str(&c->exec_user, src->exec_user);
	if (rc == 0)
		rc = copy_buf(&c->ca, &src->ca);
	if (rc == 0)
		rc = copy_buf(&c->cert, &src->cert);
	if (rc == 0)
		rc = copy_buf(&c->key, &src->key);
	for (l = src->connect_to; rc == 0 && l != NULL; l = l->next) {
		struct curl_slist *nl = curl_slist_append(c->connect_to, l->data);

		if (nl == NULL)
			rc = CAIRN_ENOMEM;
		else
			c->connect_to = nl;
	}
	if (rc == 0 && (c->h = curl_easy_init()) == NULL)
		rc = CAIRN_ENOMEM;
	if (rc != 0) {
		cairn_kube_client_free(c);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory for a worker client");
	}
	*out = c;
	return 0;
}

static void result_fail(cairn_kube_apply_result *r, const cairn_kube_status *st)
{
	const cairn_error *e = cairn_error_last();

	r->rc = e->code != 0 ? e->code : CAIRN_ERROR;
	snprintf(r->message, sizeof(r->message), "%s", e->message);
	if (st != NULL)
		r->status = *st;
}

/*
 * The path and body of object `obj`, resolved on `c` (discovery, refreshed
 * once on a miss, as cairn_kube_apply() does). Errors go to the result.
 */
static int item_prepare(cairn_kube_client *c, const json_t *obj, unsigned flags, struct item *it)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const json_t *md = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	cairn_kube_mapping m;
	cairn_buf p = CAIRN_BUF_INIT(8192);
	int rc;

	if (av == NULL || kind == NULL || name == NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "object to apply needs apiVersion, kind and metadata.name");
	rc = cairn_kube_mapping_for(c, av, kind, &m);
	if (rc == 0)
		rc = kube_path(&p, c, &m, ns != NULL ? ns : "", name);
	if (rc == 0)
		rc = kube_qadd(&p, "fieldManager", "cairn");
	if (rc == 0)
		rc = kube_qadd(&p, "force", "true");
	if (rc == 0 && (flags & CAIRN_KUBE_DRY_RUN))
		rc = kube_qadd(&p, "dryRun", "All");
	if (rc == 0) {
		it->body = json_dumps(obj, JSON_COMPACT);
		if (it->body == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		it->path = p.ptr; /* the buffer's bytes are NUL-terminated */
		p.ptr = NULL;
	}
	cairn_buf_dispose(&p);
	return rc;
}

/* Send one prepared object on `c` and fill its result. */
static void item_send(cairn_kube_client *c, const struct item *it, unsigned flags,
                      cairn_kube_apply_result *r)
{
	cairn_buf ans = CAIRN_BUF_INIT(0);
	int rc = cairn_kube_request(c, "PATCH", it->path, APPLY_CT, it->body, strlen(it->body),
	                            (flags & CAIRN_KUBE_KEEP_ANSWER) ? &ans : NULL);

	if (rc == 0 && (flags & CAIRN_KUBE_KEEP_ANSWER))
		rc = cairn_json_parse(&r->obj, ans.ptr != NULL ? ans.ptr : "", ans.len, it->path);
	if (rc != 0)
		result_fail(r, cairn_kube_last_status(c));
	cairn_buf_dispose(&ans);
}

/* Take objects from the shared counter until none is left. */
static void batch_run(struct batch *b, cairn_kube_client *c)
{
	for (;;) {
		size_t i = atomic_fetch_add(&b->next, 1);

		if (i >= b->n)
			break;
		if (b->items[i].path != NULL)
			item_send(c, &b->items[i], b->flags, &b->res[i]);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	batch_run(w->b, w->c);
	return NULL;
}

/*
 * Start up to `want` workers (clients and threads), run the caller's share
 * on `c`, join them and add their request counts to `c`. Workers that
 * cannot be made are simply not there: the others take their share.
 */
static void batch_parallel(struct batch *b, cairn_kube_client *c, int want)
{
	struct worker *ws = calloc((size_t)want, sizeof(*ws));
	int k;

	for (k = 0; ws != NULL && k < want; k++) {
		ws[k].b = b;
		if (client_clone(&ws[k].c, c) != 0)
			break;
		if (pthread_create(&ws[k].tid, NULL, worker_main, &ws[k]) != 0) {
			cairn_kube_client_free(ws[k].c);
			ws[k].c = NULL;
			break;
		}
		ws[k].started = 1;
	}
	batch_run(b, c);
	for (int i = 0; ws != NULL && i < want; i++) {
		if (!ws[i].started)
			continue;
		pthread_join(ws[i].tid, NULL);
		c->requests += ws[i].c->requests;
		cairn_kube_client_free(ws[i].c);
	}
	free(ws);
}

int cairn_kube_apply_many(cairn_kube_client *c, json_t *const *objs, size_t n, unsigned flags,
                          cairn_kube_apply_result *results, int parallelism)
{
	struct batch b;
	size_t i, first = n;
	int par = parallelism < 1                         ? 1
	          : parallelism > CAIRN_KUBE_MAX_PARALLEL ? CAIRN_KUBE_MAX_PARALLEL
	                                                  : parallelism;

	memset(results, 0, n * sizeof(*results));
	if (n == 0)
		return 0;
	b.items = calloc(n, sizeof(*b.items));
	if (b.items == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	b.res = results;
	b.n = n;
	b.flags = flags;
	atomic_init(&b.next, 0);
	for (i = 0; i < n; i++) {
		if (item_prepare(c, objs[i], flags, &b.items[i]) != 0)
			result_fail(&results[i], NULL);
	}
	if ((size_t)par > n)
		par = (int)n;
	if (par == 1)
		batch_run(&b, c);
	else
		batch_parallel(&b, c, par - 1);
	for (i = 0; i < n; i++) {
		free(b.items[i].path);
		free(b.items[i].body);
		if (results[i].rc != 0 && first == n)
			first = i;
	}
	free(b.items);
	if (first == n) {
		c->status.code = 0;
		c->status.reason[0] = c->status.message[0] = '\0';
		return 0;
	}
	c->status = results[first].status;
	return cairn_error_set(results[first].rc, "%s", results[first].message);
}

void cairn_kube_apply_results_clear(cairn_kube_apply_result *results, size_t n)
{
	if (results == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		json_decref(results[i].obj);
		results[i].obj = NULL;
	}
}
