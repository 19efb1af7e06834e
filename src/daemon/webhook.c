/*
 * webhook.c - verify and parse forge webhooks (GitHub, GitLab, Gitea/Forgejo,
 * Bitbucket Cloud and Data Center). A webhook is only a trigger to fetch:
 * what is deployed comes from git, never from the payload.
 */
#include "config.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

static const char *const forge_names[CAIRN_FORGE_COUNT] = {"github", "gitlab", "gitea",
                                                           "bitbucket"};

const char *cairn_forge_name(cairn_forge forge)
{
	return (unsigned)forge < CAIRN_FORGE_COUNT ? forge_names[forge] : "unknown";
}

int cairn_forge_parse(cairn_forge *out, const char *name)
{
	for (int i = 0; i < CAIRN_FORGE_COUNT; i++) {
		if (name != NULL && strcmp(name, forge_names[i]) == 0) {
			*out = (cairn_forge)i;
			return 0;
		}
	}
	return cairn_error_set(
	        CAIRN_EINVAL,
	        "unknown webhook provider '%s' (expected github, gitlab, gitea or bitbucket)",
	        name ? name : "");
}

const char *cairn_http_header_get(const cairn_http_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].name != NULL && strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

/* ---- verification ------------------------------------------------------- */

/*
 * Compare a presented hex HMAC with the expected one in constant time. The
 * presented value is decoded first: a value of the wrong length or with
 * non-hex characters fails without comparing, which leaks only its shape.
 */
static int hex_mac_ok(const char *presented, const uint8_t expect[CAIRN_SHA256_LEN])
{
	uint8_t got[CAIRN_SHA256_LEN];

	if (presented == NULL || cairn_hex_decode(got, sizeof(got), presented) != 0)
		return 0;
	return CRYPTO_memcmp(got, expect, sizeof(got)) == 0;
}

/* Shared-token comparison without leaking the length: compare the hashes. */
static int token_ok(const char *presented, const char *secret)
{
	uint8_t a[CAIRN_SHA256_LEN], b[CAIRN_SHA256_LEN];

	if (presented == NULL)
		return 0;
	cairn_sha256(a, presented, strlen(presented));
	cairn_sha256(b, secret, strlen(secret));
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

/*
 * Standard Webhooks: HMAC-SHA256 over "id.timestamp.body" under the secret
 * (base64-decoded when written whsec_...), compared with each "v1,<base64>"
 * of the space-separated signature list; other versions are skipped.
 */
static int verify_standard(const cairn_http_header *h, size_t nh, const void *body, size_t len,
                           const char *secret, cairn_usec now, int64_t tolerance)
{
	const char *id = cairn_http_header_get(h, nh, "webhook-id");
	const char *ts = cairn_http_header_get(h, nh, "webhook-timestamp");
	const char *sig = cairn_http_header_get(h, nh, "webhook-signature");
	uint8_t key[256], mac[CAIRN_SHA256_LEN], got[64];
	size_t keylen = strlen(secret), gotlen;
	const void *keyp = secret;
	char *end = NULL;

	if (id == NULL || ts == NULL || sig == NULL)
		return cairn_error_set(
		        CAIRN_EPERM,
		        "missing webhook-id, webhook-timestamp or webhook-signature header");
	long long t = strtoll(ts, &end, 10);
	if (end == ts || *end != '\0' || t < 0)
		return cairn_error_set(CAIRN_EPERM, "webhook-timestamp is not a number of seconds");
	long long nows = (long long)(now / 1000000);
	if (t > nows + tolerance || t < nows - tolerance)
		return cairn_error_set(
		        CAIRN_EPERM,
		        "webhook timestamp is %lld s away from now, more than the %lld s tolerated",
		        t > nows ? t - nows : nows - t, (long long)tolerance);
	if (strncmp(secret, "whsec_", 6) == 0) {
		if (cairn_base64_decode(key, sizeof(key), &keylen, secret + 6,
		                        strlen(secret + 6)) != 0)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "the gitlab signing secret 'whsec_...' is not valid base64");
		keyp = key;
	}
	/* HMAC over id "." ts "." body without copying the body: HMAC(k, m) is
	 * computed by hand from two SHA-256 passes. */
	uint8_t k0[64] = {0}, ipad[64], opad[64], inner[CAIRN_SHA256_LEN];
	if (keylen > 64)
		cairn_sha256(k0, keyp, keylen);
	else
		memcpy(k0, keyp, keylen);
	for (int i = 0; i < 64; i++) {
		ipad[i] = k0[i] ^ 0x36;
		opad[i] = k0[i] ^ 0x5c;
	}
	cairn_sha256_ctx c;
	cairn_sha256_init(&c);
	cairn_sha256_update(&c, ipad, 64);
	cairn_sha256_update(&c, id, strlen(id));
	cairn_sha256_update(&c, ".", 1);
	cairn_sha256_update(&c, ts, strlen(ts));
	cairn_sha256_update(&c, ".", 1);
	cairn_sha256_update(&c, body, len);
	cairn_sha256_final(&c, inner);
	cairn_sha256_init(&c);
	cairn_sha256_update(&c, opad, 64);
	cairn_sha256_update(&c, inner, sizeof(inner));
	cairn_sha256_final(&c, mac);

	int ok = 0;
	for (const char *p = sig; *p != '\0';) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n > 3 && strncmp(p, "v1,", 3) == 0 &&
		    cairn_base64_decode(got, sizeof(got), &gotlen, p + 3, n - 3) == 0 &&
		    gotlen == sizeof(mac))
			ok |= CRYPTO_memcmp(got, mac, sizeof(mac)) == 0;
		p += n;
	}
	if (!ok)
		return cairn_error_set(CAIRN_EPERM, "webhook-signature does not match the body");
	return 0;
}

/* Strip an expected "sha256=" prefix; NULL when the value lacks it. */
static const char *after_prefix(const char *v)
{
	if (v == NULL || strncmp(v, "sha256=", 7) != 0)
		return NULL;
	return v + 7;
}

int cairn_webhook_verify(cairn_forge forge, const cairn_http_header *h, size_t nh, const void *body,
                         size_t len, const char *secret, cairn_usec now, int64_t tolerance_sec)
{
	uint8_t mac[CAIRN_SHA256_LEN];
	const char *v, *hdr;

	if (secret == NULL || secret[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "no secret is configured for %s webhooks",
		                       cairn_forge_name(forge));
	if (tolerance_sec <= 0)
		tolerance_sec = CAIRN_WEBHOOK_TOLERANCE_SEC;
	switch (forge) {
	case CAIRN_FORGE_GITLAB:
		if (cairn_http_header_get(h, nh, "webhook-signature") != NULL)
			return verify_standard(h, nh, body, len, secret, now, tolerance_sec);
		v = cairn_http_header_get(h, nh, "X-Gitlab-Token");
		if (v == NULL)
			return cairn_error_set(
			        CAIRN_EPERM, "missing X-Gitlab-Token or webhook-signature header");
		if (!token_ok(v, secret))
			return cairn_error_set(CAIRN_EPERM,
			                       "X-Gitlab-Token does not match the secret");
		return 0;
	case CAIRN_FORGE_GITHUB:
		hdr = "X-Hub-Signature-256";
		v = cairn_http_header_get(h, nh, hdr);
		if (v != NULL && (v = after_prefix(v)) == NULL)
			return cairn_error_set(CAIRN_EPERM, "%s does not start with 'sha256='",
			                       hdr);
		break;
	case CAIRN_FORGE_BITBUCKET:
		hdr = "X-Hub-Signature";
		v = cairn_http_header_get(h, nh, hdr);
		if (v != NULL && (v = after_prefix(v)) == NULL)
			return cairn_error_set(CAIRN_EPERM, "%s does not start with 'sha256='",
			                       hdr);
		break;
	case CAIRN_FORGE_GITEA:
		hdr = "X-Gitea-Signature";
		v = cairn_http_header_get(h, nh, hdr);
		if (v == NULL) {
			hdr = "X-Forgejo-Signature";
			v = cairn_http_header_get(h, nh, hdr);
		}
		break;
	default:
		return cairn_error_set(CAIRN_EINVAL, "unknown webhook provider");
	}
	if (v == NULL)
		return cairn_error_set(CAIRN_EPERM, "missing %s header", hdr);
	cairn_hmac_sha256(mac, secret, strlen(secret), body, len);
	if (!hex_mac_ok(v, mac))
		return cairn_error_set(CAIRN_EPERM, "%s does not match the body", hdr);
	return 0;
}

/* ---- parsing --------------------------------------------------------------- */

const char *cairn_webhook_delivery_id(cairn_forge forge, const cairn_http_header *h, size_t nh)
{
	static const char *const names[CAIRN_FORGE_COUNT][3] = {
	        {"X-GitHub-Delivery", NULL, NULL},
	        {"X-Gitlab-Event-UUID", "webhook-id", NULL},
	        {"X-Gitea-Delivery", "X-Forgejo-Delivery", NULL},
	        {"X-Request-UUID", "X-Request-Id", "X-Hook-UUID"},
	};
	if ((unsigned)forge >= CAIRN_FORGE_COUNT)
		return NULL;
	for (int i = 0; i < 3 && names[forge][i] != NULL; i++) {
		const char *v = cairn_http_header_get(h, nh, names[forge][i]);
		if (v != NULL && v[0] != '\0')
			return v;
	}
	return NULL;
}

void cairn_webhook_trigger_free(cairn_webhook_trigger *t)
{
	if (t == NULL)
		return;
	free(t->event);
	free(t->delivery);
	for (size_t i = 0; i < t->n_urls; i++)
		free(t->urls[i]);
	free(t->urls);
	for (size_t i = 0; i < t->n_refs; i++) {
		free(t->refs[i].ref);
		free(t->refs[i].before);
		free(t->refs[i].after);
	}
	free(t->refs);
	free(t);
}

#define TRIGGER_URLS_MAX 16
#define TRIGGER_REFS_MAX 1024

/* Add a URL once; empty and non-string values are skipped. */
static int add_url(cairn_webhook_trigger *t, const json_t *v)
{
	const char *s = json_string_value(v);

	if (s == NULL || s[0] == '\0')
		return 0;
	for (size_t i = 0; i < t->n_urls; i++)
		if (strcmp(t->urls[i], s) == 0)
			return 0;
	if (t->n_urls >= TRIGGER_URLS_MAX)
		return 0;
	char **n = realloc(t->urls, (t->n_urls + 1) * sizeof(*n));
	if (n == NULL)
		return CAIRN_ENOMEM;
	t->urls = n;
	if ((t->urls[t->n_urls] = strdup(s)) == NULL)
		return CAIRN_ENOMEM;
	t->n_urls++;
	return 0;
}

/* A commit id of all zeros means "no commit" (creation or deletion). */
static char *commit_or_null(const char *s)
{
	if (s == NULL || s[0] == '\0' || strspn(s, "0") == strlen(s))
		return NULL;
	return strdup(s);
}

/* Add a moved ref; `name` may be short (a branch or tag name) with a prefix. */
static int add_ref(cairn_webhook_trigger *t, const char *prefix, const char *name,
                   const char *before, const char *after)
{
	if (name == NULL || name[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "a %s push names a change without a ref",
		                       cairn_forge_name(t->forge));
	if (t->n_refs >= TRIGGER_REFS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "a push moves more than %d refs",
		                       TRIGGER_REFS_MAX);
	cairn_webhook_ref *n = realloc(t->refs, (t->n_refs + 1) * sizeof(*n));
	if (n == NULL)
		return CAIRN_ENOMEM;
	t->refs = n;
	cairn_webhook_ref *r = &t->refs[t->n_refs];
	size_t len = strlen(prefix) + strlen(name) + 1;
	r->ref = malloc(len);
	r->before = commit_or_null(before);
	r->after = commit_or_null(after);
	t->n_refs++;
	if (r->ref == NULL)
		return CAIRN_ENOMEM;
	snprintf(r->ref, len, "%s%s", prefix, name);
	return 0;
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* GitHub, Gitea/Forgejo and GitLab push payloads share ref/before/after. */
static int parse_ref_before_after(cairn_webhook_trigger *t, const json_t *root)
{
	const char *ref = jstr(root, "ref");
	if (ref == NULL)
		return cairn_error_set(CAIRN_EINVAL, "%s push payload has no 'ref'",
		                       cairn_forge_name(t->forge));
	const char *prefix = strncmp(ref, "refs/", 5) == 0 ? "" : "refs/heads/";
	return add_ref(t, prefix, ref, jstr(root, "before"), jstr(root, "after"));
}

static int parse_github_like(cairn_webhook_trigger *t, const json_t *root)
{
	const json_t *repo = json_object_get(root, "repository");
	static const char *const keys[] = {"clone_url", "ssh_url", "html_url", "git_url", "url"};
	int rc;

	if (!json_is_object(repo))
		return cairn_error_set(CAIRN_EINVAL, "%s push payload has no 'repository' object",
		                       cairn_forge_name(t->forge));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((rc = add_url(t, json_object_get(repo, keys[i]))) < 0)
			return rc;
	return parse_ref_before_after(t, root);
}

static int parse_gitlab(cairn_webhook_trigger *t, const json_t *root)
{
	static const char *const keys[] = {"git_http_url", "git_ssh_url", "web_url", "http_url",
	                                   "ssh_url",      "url",         "homepage"};
	const json_t *objs[2] = {json_object_get(root, "project"),
	                         json_object_get(root, "repository")};
	int rc;

	if (!json_is_object(objs[0]) && !json_is_object(objs[1]))
		return cairn_error_set(
		        CAIRN_EINVAL,
		        "gitlab push payload has no 'project' or 'repository' object");
	for (int o = 0; o < 2; o++)
		for (size_t i = 0; json_is_object(objs[o]) && i < sizeof(keys) / sizeof(keys[0]);
		     i++)
			if ((rc = add_url(t, json_object_get(objs[o], keys[i]))) < 0)
				return rc;
	return parse_ref_before_after(t, root);
}

/*
 * Bitbucket Cloud names the repository by its html link only; the clone
 * URLs follow from it (https://host/owner/repo(.git), git@host:owner/repo.git).
 */
static int bitbucket_cloud_urls(cairn_webhook_trigger *t, const json_t *repo)
{
	const json_t *hv =
	        json_object_get(json_object_get(json_object_get(repo, "links"), "html"), "href");
	const char *html = json_string_value(hv), *full = jstr(repo, "full_name");
	char buf[1024];
	int rc;

	if ((rc = add_url(t, hv)) < 0)
		return rc;
	if (html == NULL || strncmp(html, "https://", 8) != 0 || full == NULL)
		return 0;
	const char *host = html + 8;
	int hl = (int)strcspn(host, "/");
	for (int form = 0; form < 2; form++) {
		if (form == 0)
			snprintf(buf, sizeof(buf), "https://%.*s/%s.git", hl, host, full);
		else
			snprintf(buf, sizeof(buf), "git@%.*s:%s.git", hl, host, full);
		json_t *s = json_string(buf);
		rc = add_url(t, s);
		json_decref(s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Bitbucket Cloud repo:push: push.changes[].{old,new}.{type,name,target.hash}. */
static int parse_bitbucket_cloud(cairn_webhook_trigger *t, const json_t *root)
{
	const json_t *changes = json_object_get(json_object_get(root, "push"), "changes");
	size_t i;
	const json_t *ch;
	int rc;

	if ((rc = bitbucket_cloud_urls(t, json_object_get(root, "repository"))) < 0)
		return rc;
	if (!json_is_array(changes))
		return cairn_error_set(CAIRN_EINVAL,
		                       "bitbucket push payload has no 'push.changes' list");
	json_array_foreach(changes, i, ch)
	{
		const json_t *nw = json_object_get(ch, "new"), *old = json_object_get(ch, "old");
		const json_t *side = json_is_object(nw) ? nw : old;
		const char *type = jstr(side, "type");
		const char *prefix =
		        type != NULL && strcmp(type, "tag") == 0 ? "refs/tags/" : "refs/heads/";
		if ((rc = add_ref(t, prefix, jstr(side, "name"),
		                  jstr(json_object_get(old, "target"), "hash"),
		                  jstr(json_object_get(nw, "target"), "hash"))) < 0)
			return rc;
	}
	return 0;
}

/* Bitbucket Data Center repo:refs_changed: changes[].{ref.id,fromHash,toHash}. */
static int parse_bitbucket_server(cairn_webhook_trigger *t, const json_t *root)
{
	const json_t *links = json_object_get(json_object_get(root, "repository"), "links");
	const json_t *changes = json_object_get(root, "changes"), *v;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(links, "clone"), i,
	                   v) if ((rc = add_url(t, json_object_get(v, "href"))) < 0) return rc;
	json_array_foreach(json_object_get(links, "self"), i,
	                   v) if ((rc = add_url(t, json_object_get(v, "href"))) < 0) return rc;
	json_array_foreach(changes, i,
	                   v) if ((rc = add_ref(t, "", jstr(json_object_get(v, "ref"), "id"),
	                                        jstr(v, "fromHash"), jstr(v, "toHash"))) <
	                          0) return rc;
	return 0;
}

/* Which event a delivery is, and whether it is one Cairn acts on. */
static const char *event_of(cairn_forge forge, const cairn_http_header *h, size_t nh, int *wanted)
{
	const char *ev = NULL;

	*wanted = 0;
	switch (forge) {
	case CAIRN_FORGE_GITHUB:
		ev = cairn_http_header_get(h, nh, "X-GitHub-Event");
		*wanted = ev != NULL && strcmp(ev, "push") == 0;
		break;
	case CAIRN_FORGE_GITLAB:
		ev = cairn_http_header_get(h, nh, "X-Gitlab-Event");
		*wanted = ev != NULL &&
		          (strcmp(ev, "Push Hook") == 0 || strcmp(ev, "Tag Push Hook") == 0 ||
		           strcmp(ev, "System Hook") == 0);
		break;
	case CAIRN_FORGE_GITEA:
		ev = cairn_http_header_get(h, nh, "X-Gitea-Event");
		if (ev == NULL)
			ev = cairn_http_header_get(h, nh, "X-Forgejo-Event");
		*wanted = ev != NULL && strcmp(ev, "push") == 0;
		break;
	case CAIRN_FORGE_BITBUCKET:
		ev = cairn_http_header_get(h, nh, "X-Event-Key");
		*wanted = ev != NULL &&
		          (strcmp(ev, "repo:push") == 0 || strcmp(ev, "repo:refs_changed") == 0);
		break;
	default:
		break;
	}
	return ev;
}

static int parse_payload(cairn_webhook_trigger *t, const json_t *root)
{
	switch (t->forge) {
	case CAIRN_FORGE_GITHUB:
	case CAIRN_FORGE_GITEA:
		return parse_github_like(t, root);
	case CAIRN_FORGE_GITLAB: {
		/* A System Hook carries every kind; only pushes and tag pushes count. */
		const char *kind = jstr(root, "object_kind");
		if (kind == NULL)
			kind = jstr(root, "event_name");
		if (kind == NULL || (strcmp(kind, "push") != 0 && strcmp(kind, "tag_push") != 0))
			return 1;
		return parse_gitlab(t, root);
	}
	case CAIRN_FORGE_BITBUCKET:
		if (json_is_array(json_object_get(root, "changes")))
			return parse_bitbucket_server(t, root);
		return parse_bitbucket_cloud(t, root);
	default:
		return cairn_error_set(CAIRN_EINVAL, "unknown webhook provider");
	}
}

int cairn_webhook_parse(cairn_webhook_trigger **out, cairn_forge forge, const cairn_http_header *h,
                        size_t nh, const void *body, size_t len)
{
	cairn_webhook_trigger *t = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	int wanted, rc;
	const char *ev = event_of(forge, h, nh, &wanted), *id;

	if (!wanted) {
		*out = NULL;
		return 0;
	}
	if (len > CAIRN_WEBHOOK_BODY_MAX)
		return cairn_error_set(CAIRN_ELIMIT,
		                       "webhook body of %zu bytes is over the %d byte limit", len,
		                       CAIRN_WEBHOOK_BODY_MAX);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		rc = cairn_error_set(CAIRN_EINVAL, "%s webhook body is not a JSON object: %s",
		                     cairn_forge_name(forge),
		                     root ? "another JSON value" : jerr.text);
		goto out;
	}
	rc = CAIRN_ENOMEM;
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->event = strdup(ev)) == NULL)
		goto out;
	t->forge = forge;
	id = cairn_webhook_delivery_id(forge, h, nh);
	if (id != NULL && (t->delivery = strdup(id)) == NULL)
		goto out;
	rc = parse_payload(t, root);
	if (rc == 1) {
		*out = NULL;
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (t->n_urls == 0) {
		rc = cairn_error_set(CAIRN_EINVAL, "%s push payload names no repository URL",
		                     cairn_forge_name(forge));
		goto out;
	}
	*out = t;
	t = NULL;
out:
	if (rc == CAIRN_ENOMEM)
		cairn_error_set(rc, "out of memory parsing a webhook");
	cairn_webhook_trigger_free(t);
	json_decref(root);
	return rc;
}

/* ---- delivery-id memory ---------------------------------------------------- */

struct dedup_entry {
	uint8_t key[CAIRN_SHA256_LEN]; /* SHA-256 of forge "\n" id: fixed size, no copies */
	cairn_usec at;
};

/* A ring of the last `max` ids; lookups scan it (max is a few thousand). */
struct cairn_webhook_dedup {
	pthread_mutex_t mu;
	struct dedup_entry *ring;
	size_t max, next, used;
	cairn_usec window;
};

int cairn_webhook_dedup_new(cairn_webhook_dedup **out, size_t max, cairn_usec window)
{
	if (max == 0 || max > 1000000)
		return cairn_error_set(CAIRN_EINVAL,
		                       "delivery memory size %zu is not within 1..1000000", max);
	cairn_webhook_dedup *d = calloc(1, sizeof(*d));
	if (d == NULL || (d->ring = calloc(max, sizeof(*d->ring))) == NULL) {
		free(d);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&d->mu, NULL);
	d->max = max;
	d->window = window;
	*out = d;
	return 0;
}

int cairn_webhook_dedup_seen(cairn_webhook_dedup *d, cairn_forge forge, const char *id,
                             cairn_usec now)
{
	cairn_sha256_ctx c;
	uint8_t key[CAIRN_SHA256_LEN];
	int dup = 0;

	if (d == NULL || id == NULL || id[0] == '\0')
		return 0;
	cairn_sha256_init(&c);
	cairn_sha256_update(&c, cairn_forge_name(forge), strlen(cairn_forge_name(forge)));
	cairn_sha256_update(&c, "\n", 1);
	cairn_sha256_update(&c, id, strlen(id));
	cairn_sha256_final(&c, key);
	pthread_mutex_lock(&d->mu);
	for (size_t i = 0; i < d->used; i++) {
		if (memcmp(d->ring[i].key, key, sizeof(key)) == 0 &&
		    now - d->ring[i].at <= d->window) {
			dup = 1;
			break;
		}
	}
	if (!dup) {
		memcpy(d->ring[d->next].key, key, sizeof(key));
		d->ring[d->next].at = now;
		d->next = (d->next + 1) % d->max;
		if (d->used < d->max)
			d->used++;
	}
	pthread_mutex_unlock(&d->mu);
	return dup;
}

void cairn_webhook_dedup_free(cairn_webhook_dedup *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->mu);
	free(d->ring);
	free(d);
}
