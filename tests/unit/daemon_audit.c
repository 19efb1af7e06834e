/*
 * daemon_audit.c - what the daemon's audit and reload work rests on: a
 * token set replaced in place (a reload) with old token pointers still
 * valid, and cairn.yaml's webhooks.<forge>.secret / secretFile.
 */
#include "daemon_tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/config.h"
#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

static void add(cairn_auth *a, const char *name, const char *token, cairn_role role)
{
	char hex[65];

	cairn_sha256_hex(hex, token, strlen(token));
	ck_assert_int_eq(cairn_auth_add(a, name, hex, role, NULL, 0), 0);
}

START_TEST(auth_replace)
{
	cairn_auth *a, *b;
	const cairn_auth_token *old = NULL, *t = NULL;

	ck_assert_int_eq(cairn_auth_new(&a), 0);
	add(a, "ci", "tok-ci", CAIRN_ROLE_DEPLOYER);
	add(a, "ops", "tok-ops", CAIRN_ROLE_ADMIN);
	ck_assert_int_eq(cairn_auth_lookup(&old, a, "Bearer tok-ci"), 0);
	ck_assert_int_eq(cairn_auth_new(&b), 0);
	add(b, "ops", "tok-ops", CAIRN_ROLE_ADMIN);
	add(b, "new-ci", "tok-new", CAIRN_ROLE_DEPLOYER);
	add(b, "viewer", "tok-view", CAIRN_ROLE_VIEWER);
	cairn_auth_replace(a, b);
	ck_assert_uint_eq(cairn_auth_count(a), 3);
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer tok-ci"), CAIRN_EPERM);
	ck_assert_error_contains("unknown bearer token");
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer tok-new"), 0);
	ck_assert_str_eq(t->name, "new-ci");
	ck_assert_int_eq(t->role, CAIRN_ROLE_DEPLOYER);
	/* a request that looked its token up before the reload still reads it */
	ck_assert_str_eq(old->name, "ci");
	ck_assert_int_eq(cairn_auth_check(old, CAIRN_ACTION_DEPLOY, "dev"), 0);
	cairn_auth_replace(a, NULL); /* nothing to install: no change */
	ck_assert_uint_eq(cairn_auth_count(a), 3);
	cairn_auth_free(a);
}
END_TEST

/* Write `text` to DIR/NAME; DIR is made fresh per test. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static char *tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");
	char buf[4096], *d;

	snprintf(buf, sizeof(buf), "%s/cairn-daemon-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(d = strdup(buf));
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static void rmdir_all(char *d)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
	free(d);
}

START_TEST(webhook_secrets)
{
	char *d = tmpdir(), path[512];
	cairn_config c;

	put(d, "gh.secret", "s3cret-from-file\n");
	put(d, "cairn.yaml",
	    "webhooks:\n"
	    "  github: {secretFile: gh.secret}\n"
	    "  bitbucket: {secret: inline-one}\n");
	snprintf(path, sizeof(path), "%s/cairn.yaml", d);
	ck_assert_int_eq(cairn_config_load(&c, path), 0);
	ck_assert_str_eq(c.webhook_secrets[CAIRN_FORGE_GITHUB], "s3cret-from-file");
	ck_assert_str_eq(c.webhook_secrets[CAIRN_FORGE_BITBUCKET], "inline-one");
	ck_assert_ptr_null(c.webhook_secrets[CAIRN_FORGE_GITLAB]);
	ck_assert_ptr_null(c.webhook_secrets[CAIRN_FORGE_GITEA]);
	cairn_config_dispose(&c);

	put(d, "gh.secret", "with-crlf\r\n");
	ck_assert_int_eq(cairn_config_load(&c, path), 0);
	ck_assert_str_eq(c.webhook_secrets[CAIRN_FORGE_GITHUB], "with-crlf");
	cairn_config_dispose(&c);
	rmdir_all(d);
}
END_TEST

START_TEST(webhook_secret_errors)
{
	char *d = tmpdir(), path[512];
	cairn_config c;

	snprintf(path, sizeof(path), "%s/cairn.yaml", d);
	put(d, "cairn.yaml", "webhooks:\n  github: {secret: a, secretFile: b}\n");
	ck_assert_int_eq(cairn_config_load(&c, path), CAIRN_EINVAL);
	ck_assert_error_contains("webhooks.github needs one of 'secret' or 'secretFile'");
	put(d, "cairn.yaml", "webhooks:\n  gogs: {secret: a}\n");
	ck_assert_int_eq(cairn_config_load(&c, path), CAIRN_EINVAL);
	ck_assert_error_contains("gogs");
	put(d, "cairn.yaml", "webhooks:\n  gitea: {secretFile: missing.secret}\n");
	ck_assert_int_lt(cairn_config_load(&c, path), 0);
	ck_assert_error_contains("webhooks.gitea.secretFile");
	put(d, "empty.secret", "\n");
	put(d, "cairn.yaml", "webhooks:\n  gitea: {secretFile: empty.secret}\n");
	ck_assert_int_eq(cairn_config_load(&c, path), CAIRN_EINVAL);
	ck_assert_error_contains("is empty");
	put(d, "cairn.yaml", "webhooks:\n  gitlab: {secret: \"\"}\n");
	ck_assert_int_eq(cairn_config_load(&c, path), CAIRN_EINVAL);
	ck_assert_error_contains("webhooks.gitlab.secret is empty");
	rmdir_all(d);
}
END_TEST

void daemon_audit_tests(Suite *s)
{
	TCase *tc = tcase_create("audit");

	tcase_add_test(tc, auth_replace);
	tcase_add_test(tc, webhook_secrets);
	tcase_add_test(tc, webhook_secret_errors);
	suite_add_tcase(s, tc);
}
