/*
 * daemon_webhook.c - webhook signatures per provider (valid, forged,
 * missing, no secret, timestamps out of tolerance), payload parsing of
 * each provider's push and tag shapes, and the delivery-id memory.
 */
#include "daemon_tests.h"

#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

#define SECRET "s3cr3t-for-tests"
#define NOW ((cairn_usec)1790000000 * 1000000)

/* Read a payload fixture; the caller disposes the buffer. */
static void load(cairn_buf *b, const char *name)
{
	char rel[256], path[1024];
	snprintf(rel, sizeof(rel), "daemon/%s", name);
	cairn_buf_init(b, 1 << 20);
	ck_assert_int_eq(cairn_buf_read_file(b, test_data_path(path, sizeof(path), rel)), 0);
}

static void hex_hmac(char out[65], const char *key, const void *body, size_t len)
{
	uint8_t mac[32];
	cairn_hmac_sha256(mac, key, strlen(key), body, len);
	cairn_hex_encode(out, mac, 32);
}

/* The published GitHub example: secret, body and signature from its docs. */
START_TEST(github_known_answer)
{
	const char *body = "Hello, World!";
	cairn_http_header h[] = {
	        {"X-Hub-Signature-256",
	         "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}};
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITHUB, h, 1, body, strlen(body),
	                                      "It's a Secret to Everybody", NOW, 0),
	                 0);
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITHUB, h, 1, body, strlen(body),
	                                      "It's a secret to everybody", NOW, 0),
	                 CAIRN_EPERM);
	ck_assert_error_contains("X-Hub-Signature-256 does not match the body");
}
END_TEST

/* The three HMAC-of-the-body providers, with their own header and prefix. */
START_TEST(hmac_providers)
{
	static const struct {
		cairn_forge f;
		const char *hdr, *prefix;
	} cases[] = {
	        {CAIRN_FORGE_GITHUB, "X-Hub-Signature-256", "sha256="},
	        {CAIRN_FORGE_GITEA, "X-Gitea-Signature", ""},
	        {CAIRN_FORGE_GITEA, "X-Forgejo-Signature", ""},
	        {CAIRN_FORGE_BITBUCKET, "X-Hub-Signature", "sha256="},
	};
	cairn_buf b;
	char hex[65], val[128];

	load(&b, "github_push.json");
	hex_hmac(hex, SECRET, b.ptr, b.len);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cairn_http_header h[] = {{cases[i].hdr, val}};
		snprintf(val, sizeof(val), "%s%s", cases[i].prefix, hex);
		ck_assert_int_eq(
		        cairn_webhook_verify(cases[i].f, h, 1, b.ptr, b.len, SECRET, NOW, 0), 0);
		/* upper-case hex is the same MAC */
		for (char *p = val + strlen(cases[i].prefix); *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
		ck_assert_int_eq(
		        cairn_webhook_verify(cases[i].f, h, 1, b.ptr, b.len, SECRET, NOW, 0), 0);
		/* one flipped byte of the body */
		b.ptr[10] ^= 1;
		ck_assert_int_eq(
		        cairn_webhook_verify(cases[i].f, h, 1, b.ptr, b.len, SECRET, NOW, 0),
		        CAIRN_EPERM);
		ck_assert_error_contains("does not match the body");
		b.ptr[10] ^= 1;
		/* another secret */
		ck_assert_int_eq(
		        cairn_webhook_verify(cases[i].f, h, 1, b.ptr, b.len, "other", NOW, 0),
		        CAIRN_EPERM);
		/* truncated signature */
		val[strlen(val) - 2] = '\0';
		ck_assert_int_eq(
		        cairn_webhook_verify(cases[i].f, h, 1, b.ptr, b.len, SECRET, NOW, 0),
		        CAIRN_EPERM);
		/* missing header */
		ck_assert_int_eq(
		        cairn_webhook_verify(cases[i].f, NULL, 0, b.ptr, b.len, SECRET, NOW, 0),
		        CAIRN_EPERM);
		ck_assert_error_contains("missing");
		/* no secret configured */
		ck_assert_int_eq(cairn_webhook_verify(cases[i].f, h, 1, b.ptr, b.len, "", NOW, 0),
		                 CAIRN_EINVAL);
		ck_assert_error_contains("no secret is configured");
		ck_assert_int_eq(cairn_webhook_verify(cases[i].f, h, 1, b.ptr, b.len, NULL, NOW, 0),
		                 CAIRN_EINVAL);
	}
	/* GitHub and Bitbucket want the prefix: a bare hex is refused. */
	cairn_http_header bare[] = {{"X-Hub-Signature-256", hex}};
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITHUB, bare, 1, b.ptr, b.len, SECRET, NOW, 0),
	        CAIRN_EPERM);
	ck_assert_error_contains("does not start with 'sha256='");
	/* A sha1= signature (GitHub's legacy header name) is not accepted either. */
	snprintf(val, sizeof(val), "sha1=%s", hex);
	cairn_http_header sha1[] = {{"X-Hub-Signature", val}};
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_BITBUCKET, sha1, 1, b.ptr, b.len, SECRET, NOW, 0),
	        CAIRN_EPERM);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(gitlab_token)
{
	cairn_http_header ok[] = {{"x-gitlab-token", SECRET}};
	cairn_http_header bad[] = {{"X-Gitlab-Token", SECRET "x"}};
	cairn_http_header prefix[] = {{"X-Gitlab-Token", "s3cr3t"}};

	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, ok, 1, "{}", 2, SECRET, NOW, 0),
	                 0);
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, bad, 1, "{}", 2, SECRET, NOW, 0),
	                 CAIRN_EPERM);
	ck_assert_error_contains("X-Gitlab-Token does not match the secret");
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, prefix, 1, "{}", 2, SECRET, NOW, 0),
	        CAIRN_EPERM);
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, NULL, 0, "{}", 2, SECRET, NOW, 0),
	                 CAIRN_EPERM);
	ck_assert_error_contains("missing X-Gitlab-Token or webhook-signature");
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, ok, 1, "{}", 2, "", NOW, 0),
	                 CAIRN_EINVAL);
}
END_TEST

/* The example of the Standard Webhooks specification. */
START_TEST(standard_webhooks_known_answer)
{
	const char *body = "{\"test\": 2432232314}";
	cairn_http_header h[] = {
	        {"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
	        {"webhook-timestamp", "1614265330"},
	        {"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	};
	const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	cairn_usec at = (cairn_usec)1614265330 * 1000000;

	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret, at, 0),
	        0);
	/* several signatures, the good one last, an unknown version first */
	h[2].value = "v1a,abcd v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= "
	             "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret, at, 0),
	        0);
	/* only wrong ones */
	h[2].value = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= "
	             "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret, at, 0),
	        CAIRN_EPERM);
	ck_assert_error_contains("webhook-signature does not match the body");
	h[2].value = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
	/* the id is covered by the signature */
	h[0].value = "msg_other";
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret, at, 0),
	        CAIRN_EPERM);
	h[0].value = "msg_p5jXN8AQM9LWM0D4loKWxJek";
	/* within and beyond the default 5 minutes, both directions */
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret,
	                                      at + 299 * 1000000LL, 0),
	                 0);
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret,
	                                      at + 301 * 1000000LL, 0),
	                 CAIRN_EPERM);
	ck_assert_error_contains("301 s away from now, more than the 300 s tolerated");
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret,
	                                      at - 400 * 1000000LL, 0),
	                 CAIRN_EPERM);
	/* a configured tolerance */
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret,
	                                      at + 400 * 1000000LL, 600),
	                 0);
	/* a timestamp that is not a number */
	h[1].value = "1614265330x";
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), secret, at, 0),
	        CAIRN_EPERM);
	ck_assert_error_contains("not a number");
	/* a missing id */
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, h + 1, 2, body, strlen(body),
	                                      secret, at, 0),
	                 CAIRN_EPERM);
	ck_assert_error_contains("missing webhook-id");
}
END_TEST

/* A secret written without whsec_ is used as raw bytes. */
START_TEST(standard_webhooks_raw_secret)
{
	const char *body = "{\"object_kind\":\"push\"}";
	char msg[256], sig[128], b64[64];
	uint8_t mac[32];
	snprintf(msg, sizeof(msg), "id-1.1790000000.%s", body);
	cairn_hmac_sha256(mac, SECRET, strlen(SECRET), msg, strlen(msg));
	cairn_base64_encode(b64, mac, 32);
	snprintf(sig, sizeof(sig), "v1,%s", b64);
	cairn_http_header h[] = {{"Webhook-Id", "id-1"},
	                         {"Webhook-Timestamp", "1790000000"},
	                         {"Webhook-Signature", sig}};
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body), SECRET, NOW, 0),
	        0);
	/* the signature wins over a (wrong) token when both are sent */
	cairn_http_header h2[] = {h[0], h[1], h[2], {"X-Gitlab-Token", "wrong"}};
	ck_assert_int_eq(
	        cairn_webhook_verify(CAIRN_FORGE_GITLAB, h2, 4, body, strlen(body), SECRET, NOW, 0),
	        0);
	ck_assert_int_eq(cairn_webhook_verify(CAIRN_FORGE_GITLAB, h, 3, body, strlen(body),
	                                      "whsec_!!!", NOW, 0),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("not valid base64");
}
END_TEST

/* Parse one fixture with the given event header; assert one ref. */
static cairn_webhook_trigger *parse_fixture(cairn_forge f, const char *file, const char *hdr,
                                            const char *ev)
{
	cairn_webhook_trigger *t = NULL;
	cairn_buf b;
	cairn_http_header h[] = {{hdr, ev},
	                         {"X-GitHub-Delivery", "d-1"},
	                         {"X-Gitea-Delivery", "g-1"},
	                         {"X-Gitlab-Event-UUID", "l-1"},
	                         {"X-Request-UUID", "b-1"}};
	load(&b, file);
	ck_assert_int_eq(cairn_webhook_parse(&t, f, h, 5, b.ptr, b.len), 0);
	cairn_buf_dispose(&b);
	return t;
}

static int has_url(const cairn_webhook_trigger *t, const char *url)
{
	for (size_t i = 0; i < t->n_urls; i++)
		if (strcmp(t->urls[i], url) == 0)
			return 1;
	return 0;
}

START_TEST(parse_github)
{
	cairn_webhook_trigger *t =
	        parse_fixture(CAIRN_FORGE_GITHUB, "github_push.json", "X-GitHub-Event", "push");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->event, "push");
	ck_assert_str_eq(t->delivery, "d-1");
	ck_assert(has_url(t, "https://github.com/example-org/shop.git"));
	ck_assert(has_url(t, "git@github.com:example-org/shop.git"));
	ck_assert(has_url(t, "https://github.com/example-org/shop"));
	ck_assert_uint_eq(t->n_refs, 1);
	ck_assert_str_eq(t->refs[0].ref, "refs/heads/main");
	ck_assert_str_eq(t->refs[0].before, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
	ck_assert_str_eq(t->refs[0].after, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
	cairn_webhook_trigger_free(t);

	t = parse_fixture(CAIRN_FORGE_GITHUB, "github_tag.json", "X-GitHub-Event", "push");
	ck_assert_str_eq(t->refs[0].ref, "refs/tags/v1.4.2");
	ck_assert_ptr_null(t->refs[0].before); /* all zeros: created */
	ck_assert_str_eq(t->refs[0].after, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
	cairn_webhook_trigger_free(t);

	/* ping and other events: acknowledged, no trigger */
	ck_assert_ptr_null(
	        parse_fixture(CAIRN_FORGE_GITHUB, "github_ping.json", "X-GitHub-Event", "ping"));
	ck_assert_ptr_null(
	        parse_fixture(CAIRN_FORGE_GITHUB, "github_push.json", "X-GitHub-Event", "issues"));
}
END_TEST

START_TEST(parse_gitlab)
{
	cairn_webhook_trigger *t = parse_fixture(CAIRN_FORGE_GITLAB, "gitlab_push.json",
	                                         "X-Gitlab-Event", "Push Hook");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->delivery, "l-1");
	ck_assert(has_url(t, "https://gitlab.example.com/platform/shop.git"));
	ck_assert(has_url(t, "git@gitlab.example.com:platform/shop.git"));
	ck_assert(has_url(t, "https://gitlab.example.com/platform/shop"));
	ck_assert_uint_eq(t->n_urls, 3); /* repository repeats the project's URLs */
	ck_assert_str_eq(t->refs[0].ref, "refs/heads/main");
	ck_assert_str_eq(t->refs[0].after, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
	cairn_webhook_trigger_free(t);

	t = parse_fixture(CAIRN_FORGE_GITLAB, "gitlab_tag.json", "X-Gitlab-Event", "Tag Push Hook");
	ck_assert_str_eq(t->event, "Tag Push Hook");
	ck_assert_str_eq(t->refs[0].ref, "refs/tags/v2.0.0");
	ck_assert_ptr_null(t->refs[0].before);
	cairn_webhook_trigger_free(t);

	ck_assert_ptr_null(parse_fixture(CAIRN_FORGE_GITLAB, "gitlab_push.json", "X-Gitlab-Event",
	                                 "Merge Request Hook"));
}
END_TEST

START_TEST(parse_gitea)
{
	cairn_webhook_trigger *t =
	        parse_fixture(CAIRN_FORGE_GITEA, "gitea_push.json", "X-Gitea-Event", "push");
	ck_assert_str_eq(t->delivery, "g-1");
	ck_assert(has_url(t, "https://git.example.net/ops/shop.git"));
	ck_assert(has_url(t, "git@git.example.net:ops/shop.git"));
	ck_assert_str_eq(t->refs[0].ref, "refs/heads/release");
	ck_assert_str_eq(t->refs[0].before, "28e1879d029cb852e4844d9c718537df08844e03");
	cairn_webhook_trigger_free(t);
	/* Forgejo's own header name */
	t = parse_fixture(CAIRN_FORGE_GITEA, "gitea_push.json", "X-Forgejo-Event", "push");
	ck_assert_ptr_nonnull(t);
	cairn_webhook_trigger_free(t);
	ck_assert_ptr_null(
	        parse_fixture(CAIRN_FORGE_GITEA, "gitea_push.json", "X-Gitea-Event", "create"));
}
END_TEST

START_TEST(parse_bitbucket)
{
	cairn_webhook_trigger *t = parse_fixture(CAIRN_FORGE_BITBUCKET, "bitbucket_cloud_push.json",
	                                         "X-Event-Key", "repo:push");
	ck_assert_str_eq(t->delivery, "b-1");
	ck_assert(has_url(t, "https://bitbucket.org/acme/shop"));
	ck_assert(has_url(t, "https://bitbucket.org/acme/shop.git"));
	ck_assert(has_url(t, "git@bitbucket.org:acme/shop.git"));
	ck_assert_uint_eq(t->n_refs, 2);
	ck_assert_str_eq(t->refs[0].ref, "refs/heads/main");
	ck_assert_str_eq(t->refs[0].before, "03ad96bd77d64dde7ff2c8a8a4acc4fcbfe5bc26");
	ck_assert_str_eq(t->refs[0].after, "1e65c05c1d5171631d92438a13901ca7dae9618c");
	ck_assert_str_eq(t->refs[1].ref, "refs/tags/v1.5.0");
	ck_assert_ptr_null(t->refs[1].before);
	cairn_webhook_trigger_free(t);

	t = parse_fixture(CAIRN_FORGE_BITBUCKET, "bitbucket_server_push.json", "X-Event-Key",
	                  "repo:refs_changed");
	ck_assert(has_url(t, "ssh://git@bitbucket.example.com:7999/ops/shop.git"));
	ck_assert(has_url(t, "https://bitbucket.example.com/scm/ops/shop.git"));
	ck_assert_uint_eq(t->n_refs, 1);
	ck_assert_str_eq(t->refs[0].ref, "refs/heads/main");
	ck_assert_str_eq(t->refs[0].after, "178864a7d521b6f5e720b386b2c2b0ef8563e0dc");
	cairn_webhook_trigger_free(t);

	ck_assert_ptr_null(parse_fixture(CAIRN_FORGE_BITBUCKET, "bitbucket_cloud_push.json",
	                                 "X-Event-Key", "pullrequest:created"));
}
END_TEST

START_TEST(parse_errors)
{
	cairn_webhook_trigger *t = (cairn_webhook_trigger *)1;
	cairn_http_header h[] = {{"X-GitHub-Event", "push"}};

	ck_assert_int_eq(cairn_webhook_parse(&t, CAIRN_FORGE_GITHUB, h, 1, "[1]", 3), CAIRN_EINVAL);
	ck_assert_error_contains("not a JSON object");
	ck_assert_ptr_eq(t, (cairn_webhook_trigger *)1); /* untouched on failure */
	ck_assert_int_eq(cairn_webhook_parse(&t, CAIRN_FORGE_GITHUB, h, 1, "{\"ref\":", 7),
	                 CAIRN_EINVAL);
	const char *norepo = "{\"ref\":\"refs/heads/main\",\"after\":\"ab\"}";
	ck_assert_int_eq(cairn_webhook_parse(&t, CAIRN_FORGE_GITHUB, h, 1, norepo, strlen(norepo)),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("github push payload has no 'repository' object");
	const char *noref = "{\"repository\":{\"clone_url\":\"https://x/y.git\"}}";
	ck_assert_int_eq(cairn_webhook_parse(&t, CAIRN_FORGE_GITHUB, h, 1, noref, strlen(noref)),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("has no 'ref'");
	const char *nourl = "{\"ref\":\"refs/heads/main\",\"repository\":{\"name\":\"x\"}}";
	ck_assert_int_eq(cairn_webhook_parse(&t, CAIRN_FORGE_GITHUB, h, 1, nourl, strlen(nourl)),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("names no repository URL");
	const char *dup = "{\"ref\":\"a\",\"ref\":\"b\"}";
	ck_assert_int_eq(cairn_webhook_parse(&t, CAIRN_FORGE_GITHUB, h, 1, dup, strlen(dup)),
	                 CAIRN_EINVAL);
	/* a deleted branch: after is all zeros */
	const char *del =
	        "{\"ref\":\"refs/heads/"
	        "old\",\"before\":\"ab12\",\"after\":\"0000000000000000000000000000000000000000\","
	        "\"repository\":{\"clone_url\":\"https://x/y.git\"}}";
	ck_assert_int_eq(cairn_webhook_parse(&t, CAIRN_FORGE_GITHUB, h, 1, del, strlen(del)), 0);
	ck_assert_ptr_null(t->refs[0].after);
	ck_assert_str_eq(t->refs[0].before, "ab12");
	cairn_webhook_trigger_free(t);
	ck_assert_int_eq(cairn_forge_parse(&(cairn_forge){0}, "gogs"), CAIRN_EINVAL);
	ck_assert_error_contains("unknown webhook provider 'gogs'");
}
END_TEST

START_TEST(dedup)
{
	cairn_webhook_dedup *d;
	ck_assert_int_eq(cairn_webhook_dedup_new(&d, 3, 60 * 1000000LL), 0);
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "a", NOW), 0);
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "a", NOW + 1), 1);
	/* the same id from another forge is another delivery */
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITEA, "a", NOW + 2), 0);
	/* no id: never a duplicate */
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, NULL, NOW), 0);
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "", NOW), 0);
	/* after the window it counts again */
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "a", NOW + 61 * 1000000LL),
	                 0);
	/* bounded: three more ids push the oldest out */
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "b", NOW + 62 * 1000000LL),
	                 0);
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "c", NOW + 62 * 1000000LL),
	                 0);
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "d", NOW + 62 * 1000000LL),
	                 0);
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "a", NOW + 62 * 1000000LL),
	                 0);
	ck_assert_int_eq(cairn_webhook_dedup_seen(d, CAIRN_FORGE_GITHUB, "d", NOW + 62 * 1000000LL),
	                 1);
	cairn_webhook_dedup_free(d);
	ck_assert_int_eq(cairn_webhook_dedup_new(&d, 0, 1), CAIRN_EINVAL);
}
END_TEST

void daemon_webhook_tests(Suite *s)
{
	TCase *tc = tcase_create("webhook");
	tcase_add_test(tc, github_known_answer);
	tcase_add_test(tc, hmac_providers);
	tcase_add_test(tc, gitlab_token);
	tcase_add_test(tc, standard_webhooks_known_answer);
	tcase_add_test(tc, standard_webhooks_raw_secret);
	tcase_add_test(tc, parse_github);
	tcase_add_test(tc, parse_gitlab);
	tcase_add_test(tc, parse_gitea);
	tcase_add_test(tc, parse_bitbucket);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, dedup);
	suite_add_tcase(s, tc);
}
