/*
 * source_parse.c - the source module's parsers: URL normalisation and
 * redaction, semantic versions and constraints, known_hosts.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cairn/hash.h"
#include "cairn/source.h"
#include "source_tests.h"

static char *norm(const char *url)
{
	static char buf[4096];
	char *out = NULL;
	int rc = cairn_source_url_normalize(&out, url);

	ck_assert_msg(rc == 0, "normalising '%s': %s", url, cairn_error_last()->message);
	snprintf(buf, sizeof(buf), "%s", out);
	free(out);
	return buf;
}

START_TEST(url_normalize)
{
	ck_assert_str_eq(norm("HTTPS://GitHub.COM/Org/Repo.git"), "https://github.com/Org/Repo");
	ck_assert_str_eq(norm("https://github.com/org/repo/"), "https://github.com/org/repo");
	ck_assert_str_eq(norm("https://github.com:443/org/repo.git/"),
	                 "https://github.com/org/repo");
	ck_assert_str_eq(norm("https://github.com:8443/org/repo"),
	                 "https://github.com:8443/org/repo");
	ck_assert_str_eq(norm("git@github.com:org/repo.git"), "ssh://git@github.com/org/repo");
	ck_assert_str_eq(norm("ssh://git@GITHUB.com:22/org/repo"), "ssh://git@github.com/org/repo");
	ck_assert_str_eq(norm("ssh://git@host:2222/org/repo"), "ssh://git@host:2222/org/repo");
	ck_assert_str_eq(norm("git://127.0.0.1:9418/x.git"), "git://127.0.0.1/x");
	ck_assert_str_eq(norm("file:///srv/git/../git/x.git"), "file:///srv/git/x.git");
	ck_assert_str_eq(norm("/srv/./git/x.git"), "file:///srv/git/x.git");
	ck_assert_str_eq(norm("https://[::1]:443/r"), "https://[::1]/r");
}
END_TEST

START_TEST(url_same_mirror)
{
	char a[CAIRN_SOURCE_MIRROR_NAME_LEN], b[CAIRN_SOURCE_MIRROR_NAME_LEN];
	char hex[65];

	ck_assert_int_eq(cairn_source_mirror_name(a, "git@github.com:org/repo.git"), 0);
	ck_assert_int_eq(cairn_source_mirror_name(b, "ssh://git@github.com/org/repo"), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(strlen(a), 32);
	cairn_sha256_hex(hex, "ssh://git@github.com/org/repo", 29);
	ck_assert_int_eq(strncmp(a, hex, 32), 0);
	ck_assert_int_eq(cairn_source_mirror_name(b, "ssh://git@github.com/org/other"), 0);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(url_errors)
{
	char *out = NULL;

	ck_assert_int_eq(cairn_source_url_normalize(&out, "https://user:s3cret@host/r"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("password in the URL");
	ck_assert_msg(!strstr(cairn_error_last()->message, "s3cret"), "secret leaked: %s",
	              cairn_error_last()->message);
	ck_assert_int_eq(cairn_source_url_normalize(&out, "ftp://host/r"), CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("unsupported URL scheme 'ftp'");
	ck_assert_int_eq(cairn_source_url_normalize(&out, "https://host/a b"), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_source_url_normalize(&out, ""), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_source_url_normalize(&out, "https:///path"), CAIRN_EINVAL);
	ck_assert_error_contains("no host");
	ck_assert_int_eq(cairn_source_url_normalize(&out, "https://h:12x/r"), CAIRN_EINVAL);
	ck_assert_ptr_null(out);
	{
		/* a relative path that fits, but not once the working directory is
		 * put in front: refused, so every canonical form normalises again */
		char rel[CAIRN_SOURCE_URL_MAX + 1];
		memset(rel, 'r', sizeof(rel) - 1);
		rel[sizeof(rel) - 1] = '\0';
		rel[0] = '.';
		rel[1] = '/';
		ck_assert_int_eq(cairn_source_url_normalize(&out, rel), CAIRN_ELIMIT);
		ck_assert_error_contains("longer than 2048 bytes once made absolute");
		ck_assert_ptr_null(out);
	}
}
END_TEST

START_TEST(url_redact)
{
	char out[128];

	cairn_source_url_redact(out, sizeof(out), "https://user:tok@host/x?a=b@c");
	ck_assert_str_eq(out, "https://***@host/x?a=b@c");
	cairn_source_url_redact(out, sizeof(out), "https://host/x");
	ck_assert_str_eq(out, "https://host/x");
	cairn_source_url_redact(out, sizeof(out), "git@host:x");
	ck_assert_str_eq(out, "git@host:x");
	cairn_source_url_redact(out, 12, "https://a:b@host/x");
	ck_assert_int_eq(strlen(out), 11);
}
END_TEST

static cairn_semver ver(const char *s)
{
	cairn_semver v;

	ck_assert_msg(cairn_semver_parse(&v, s, 1) == 0, "parsing '%s'", s);
	return v;
}

START_TEST(semver_parse)
{
	cairn_semver v;

	ck_assert_int_eq(cairn_semver_parse(&v, "v1.2.3-rc.1+build.5", 0), 0);
	ck_assert_int_eq(v.major, 1);
	ck_assert_int_eq(v.minor, 2);
	ck_assert_int_eq(v.patch, 3);
	ck_assert_str_eq(v.pre, "rc.1");
	ck_assert_int_eq(cairn_semver_parse(&v, "1.2", 0), CAIRN_EINVAL);
	ck_assert_error_contains("bad version '1.2'");
	ck_assert_int_eq(cairn_semver_parse(&v, "1.2", 1), 0);
	ck_assert_int_eq(v.patch, 0);
	ck_assert_int_eq(cairn_semver_parse(&v, "01.2.3", 0), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_semver_parse(&v, "1.2.3-01", 0), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_semver_parse(&v, "1.2.3-", 0), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_semver_parse(&v, "1.2.3.4", 0), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_semver_parse(&v, "main", 1), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_semver_parse(&v, "99999999999999999999.0.0", 0), CAIRN_EINVAL);
}
END_TEST

START_TEST(semver_order)
{
	/* SemVer 2.0.0 section 11's own example chain. */
	static const char *chain[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
	                              "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
	                              "1.0.0-rc.1",  "1.0.0",         "1.0.1",
	                              "1.1.0",       "2.0.0",         "10.0.0"};
	for (size_t i = 0; i + 1 < sizeof(chain) / sizeof(chain[0]); i++) {
		cairn_semver a = ver(chain[i]), b = ver(chain[i + 1]);
		ck_assert_msg(cairn_semver_compare(&a, &b) < 0, "%s < %s", chain[i], chain[i + 1]);
		ck_assert_msg(cairn_semver_compare(&b, &a) > 0, "%s > %s", chain[i + 1], chain[i]);
		ck_assert_int_eq(cairn_semver_compare(&a, &a), 0);
	}
}
END_TEST

static int sat(const char *c, const char *v)
{
	cairn_semver_constraint *k = NULL;
	cairn_semver sv = ver(v);
	int m;

	ck_assert_msg(cairn_semver_constraint_parse(&k, c) == 0, "parsing '%s': %s", c,
	              cairn_error_last()->message);
	m = cairn_semver_constraint_match(k, &sv);
	cairn_semver_constraint_free(k);
	return m;
}

START_TEST(semver_constraints)
{
	static const struct {
		const char *c, *v;
		int want;
	} cases[] = {
	        {"1.2.*", "1.2.0", 1},
	        {"1.2.*", "1.2.99", 1},
	        {"1.2.*", "1.3.0", 0},
	        {"1.2.x", "1.2.5", 1},
	        {"1.x", "1.9.0", 1},
	        {"*", "7.0.0", 1},
	        {">=1.2.0 <2.0.0", "1.2.0", 1},
	        {">=1.2.0 <2.0.0", "1.99.0", 1},
	        {">=1.2.0 <2.0.0", "2.0.0", 0},
	        {">=1.2.0, <2.0.0", "1.1.9", 0},
	        {"~1.2", "1.2.9", 1},
	        {"~1.2", "1.3.0", 0},
	        {"~1.2.3", "1.2.2", 0},
	        {"~1.2.3", "1.2.3", 1},
	        {"~1", "1.9.9", 1},
	        {"~1", "2.0.0", 0},
	        {"~>1.2", "1.2.4", 1},
	        {"^1.2", "1.9.0", 1},
	        {"^1.2", "2.0.0", 0},
	        {"^1.2.3", "1.2.2", 0},
	        {"^0.2.3", "0.2.9", 1},
	        {"^0.2.3", "0.3.0", 0},
	        {"^0.0.3", "0.0.3", 1},
	        {"^0.0.3", "0.0.4", 0},
	        {"^0", "0.9.0", 1},
	        {"^0", "1.0.0", 0},
	        {"v1.2.3", "1.2.3", 1},
	        {"=1.2.3", "1.2.4", 0},
	        {"1.2", "1.2.7", 1},
	        {"1.2", "1.3.0", 0},
	        {"!=1.2.3", "1.2.3", 0},
	        {"!=1.2.3", "1.2.4", 1},
	        {">1.2", "1.2.9", 0},
	        {">1.2", "1.3.0", 1},
	        {">1.2.3", "1.2.4", 1},
	        {"<=1.2", "1.2.9", 1},
	        {"<=1.2", "1.3.0", 0},
	        {"<1.2", "1.1.9", 1},
	        {"<1.2", "1.2.0", 0},
	        {">= 1.2", "1.2.0", 1},
	        {"1.2 - 1.4.5", "1.4.5", 1},
	        {"1.2 - 1.4.5", "1.4.6", 0},
	        {"1.2 - 1.4", "1.4.9", 1},
	        {"1.2 - 1.4.5", "1.1.0", 0},
	        {"<1.0.0 || >=3.0.0", "3.1.0", 1},
	        {"<1.0.0 || >=3.0.0", "2.0.0", 0},
	        /* pre-releases only where the comparison names one */
	        {"^1.2", "1.3.0-rc.1", 0},
	        {">=1.3.0-rc.0", "1.3.0-rc.1", 1},
	        {"*", "1.0.0-beta", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(sat(cases[i].c, cases[i].v) == cases[i].want, "'%s' vs %s: want %d",
		              cases[i].c, cases[i].v, cases[i].want);
}
END_TEST

START_TEST(semver_constraint_errors)
{
	static const char *bad[] = {"",    "main",     ">=",   "1.2 -", "- 1.2",     "1.x.3",
	                            ">>1", "1.2.3 ||", "|| 1", "1..2",  "feature/x", "v"};
	cairn_semver_constraint *c = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(cairn_semver_constraint_parse(&c, bad[i]) != 0, "'%s' accepted",
		              bad[i]);
		ck_assert_ptr_null(c);
	}
	ck_assert_int_eq(cairn_semver_constraint_parse(&c, "feature/x"), CAIRN_EINVAL);
	ck_assert_error_contains("bad version constraint 'feature/x'");
}
END_TEST

/* A fake ed25519 wire blob: "ssh-ed25519" + 32 bytes of `fill`. */
static size_t fake_key(uint8_t *out, uint8_t fill)
{
	static const char type[] = "ssh-ed25519";
	size_t n = 0;

	out[n++] = 0, out[n++] = 0, out[n++] = 0, out[n++] = 11;
	memcpy(out + n, type, 11);
	n += 11;
	out[n++] = 0, out[n++] = 0, out[n++] = 0, out[n++] = 32;
	memset(out + n, fill, 32);
	return n + 32;
}

START_TEST(known_hosts)
{
	uint8_t k1[64], k2[64], salt[20], mac[20];
	char b1[128], b2[128], bs[64], bm[64], text[2048];
	unsigned int mlen = 0;
	size_t n1 = fake_key(k1, 1), n2 = fake_key(k2, 2);
	cairn_source_known_hosts *kh = NULL;

	cairn_base64_encode(b1, k1, n1);
	cairn_base64_encode(b2, k2, n2);
	memset(salt, 7, sizeof(salt));
	HMAC(EVP_sha1(), salt, sizeof(salt), (const uint8_t *)"[hashed.example]:2222", 21, mac,
	     &mlen);
	cairn_base64_encode(bs, salt, sizeof(salt));
	cairn_base64_encode(bm, mac, mlen);
	snprintf(text, sizeof(text),
	         "# comment\n"
	         "\n"
	         "git.example,10.0.0.1 ssh-ed25519 %s comment here\n"
	         "*.wild.example,!bad.wild.example ssh-ed25519 %s\n"
	         "[port.example]:2222 ssh-ed25519 %s\n"
	         "|1|%s|%s ssh-ed25519 %s\n"
	         "@revoked revoked.example ssh-ed25519 %s\n"
	         "@cert-authority *.ca.example ssh-ed25519 %s\n",
	         b1, b1, b2, bs, bm, b1, b2, b1);
	ck_assert_int_eq(cairn_source_known_hosts_parse(&kh, "kh", text, strlen(text)), 0);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "git.example", 22, k1, n1), 0);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "10.0.0.1", 22, k1, n1), 0);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "git.example", 22, k2, n2),
	                 CAIRN_EPERM);
	ck_assert_error_contains("does not match known_hosts");
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "a.wild.example", 22, k1, n1), 0);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "bad.wild.example", 22, k1, n1),
	                 CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "port.example", 2222, k2, n2), 0);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "port.example", 22, k2, n2),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("host 'port.example' is not in known_hosts");
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "hashed.example", 2222, k1, n1), 0);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "hashed.example", 22, k1, n1),
	                 CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "revoked.example", 22, k2, n2),
	                 CAIRN_EPERM);
	ck_assert_error_contains("revoked");
	ck_assert_int_eq(cairn_source_known_hosts_check(kh, "x.ca.example", 22, k1, n1),
	                 CAIRN_ENOTFOUND);
	cairn_source_known_hosts_free(kh);
}
END_TEST

START_TEST(known_hosts_errors)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
	        {"host ssh-ed25519 !!!notbase64\n", "kh:1"},
	        {"# c\nhost ssh-ed25519\n", "no key"},
	        {"host\n", "no key type"},
	        {"@bogus host ssh-ed25519 AAAA\n", "unknown marker '@bogus'"},
	};
	cairn_source_known_hosts *kh = NULL;
	char msg[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_ne(cairn_source_known_hosts_parse(&kh, "kh", cases[i].text,
		                                                strlen(cases[i].text)),
		                 0);
		ck_assert_ptr_null(kh);
		cairn_error_format(cairn_error_last(), msg, sizeof(msg));
		ck_assert_msg(strstr(msg, cases[i].msg), "'%s' lacks '%s'", msg, cases[i].msg);
	}
	cairn_error_format(cairn_error_last(), msg, sizeof(msg));
}
END_TEST

void source_parse_tests(Suite *s)
{
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, url_normalize);
	tcase_add_test(tc, url_same_mirror);
	tcase_add_test(tc, url_errors);
	tcase_add_test(tc, url_redact);
	tcase_add_test(tc, semver_parse);
	tcase_add_test(tc, semver_order);
	tcase_add_test(tc, semver_constraints);
	tcase_add_test(tc, semver_constraint_errors);
	tcase_add_test(tc, known_hosts);
	tcase_add_test(tc, known_hosts_errors);
	suite_add_tcase(s, tc);
}
