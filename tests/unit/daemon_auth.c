/*
 * daemon_auth.c - API tokens: lookup by hash, roles against actions,
 * environment scopes, configuration mistakes.
 */
#include "daemon_tests.h"

#include <string.h>

#include "cairn/config.h"
#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/hash.h"

/* Add a token given in clear; the hash is computed here as an operator would. */
static void add(cairn_auth *a, const char *name, const char *token, cairn_role role,
                const char *const *envs, size_t n)
{
	char hex[65];
	cairn_sha256_hex(hex, token, strlen(token));
	ck_assert_int_eq(cairn_auth_add(a, name, hex, role, envs, n), 0);
}

static cairn_auth *fixture(void)
{
	static const char *const dev[] = {"dev"};
	static const char *const devstaging[] = {"dev", "staging"};
	cairn_auth *a;
	ck_assert_int_eq(cairn_auth_new(&a), 0);
	add(a, "grafana", "tok-viewer", CAIRN_ROLE_VIEWER, NULL, 0);
	add(a, "ci-dev", "tok-dev", CAIRN_ROLE_DEPLOYER, dev, 1);
	add(a, "ci", "tok-deployer", CAIRN_ROLE_DEPLOYER, NULL, 0);
	add(a, "ops", "tok-admin", CAIRN_ROLE_ADMIN, NULL, 0);
	add(a, "ops-lower", "tok-admin-lower", CAIRN_ROLE_ADMIN, devstaging, 2);
	return a;
}

START_TEST(lookup)
{
	cairn_auth *a = fixture();
	const cairn_auth_token *t = NULL;

	ck_assert_uint_eq(cairn_auth_count(a), 5);
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer tok-dev"), 0);
	ck_assert_str_eq(t->name, "ci-dev");
	ck_assert_int_eq(t->role, CAIRN_ROLE_DEPLOYER);
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "bearer   tok-admin"), 0);
	ck_assert_str_eq(t->name, "ops");
	/* the last entry is found too (no off-by-one in the scan) */
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer tok-admin-lower"), 0);
	ck_assert_str_eq(t->name, "ops-lower");

	const cairn_auth_token *keep = t;
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer tok-adm"), CAIRN_EPERM);
	ck_assert_error_contains("unknown bearer token");
	ck_assert_ptr_eq(t, keep);
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Basic dG9rLWFkbWlu"), CAIRN_EPERM);
	ck_assert_error_contains("not 'Bearer <token>'");
	ck_assert_int_eq(cairn_auth_lookup(&t, a, NULL), CAIRN_EPERM);
	ck_assert_error_contains("missing Authorization header");
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer "), CAIRN_EPERM);
	/* the hash itself is not a token */
	char hex[65], hdr[80];
	cairn_sha256_hex(hex, "tok-admin", 9);
	snprintf(hdr, sizeof(hdr), "Bearer %s", hex);
	ck_assert_int_eq(cairn_auth_lookup(&t, a, hdr), CAIRN_EPERM);
	cairn_auth_free(a);
}
END_TEST

START_TEST(roles_and_scopes)
{
	cairn_auth *a = fixture();
	const cairn_auth_token *viewer, *dev, *deployer, *admin, *lower;

	ck_assert_int_eq(cairn_auth_lookup(&viewer, a, "Bearer tok-viewer"), 0);
	ck_assert_int_eq(cairn_auth_lookup(&dev, a, "Bearer tok-dev"), 0);
	ck_assert_int_eq(cairn_auth_lookup(&deployer, a, "Bearer tok-deployer"), 0);
	ck_assert_int_eq(cairn_auth_lookup(&admin, a, "Bearer tok-admin"), 0);
	ck_assert_int_eq(cairn_auth_lookup(&lower, a, "Bearer tok-admin-lower"), 0);

	ck_assert_int_eq(cairn_auth_check(viewer, CAIRN_ACTION_READ, "prod"), 0);
	ck_assert_int_eq(cairn_auth_check(viewer, CAIRN_ACTION_DEPLOY, "dev"), CAIRN_EPERM);
	ck_assert_error_contains("token 'grafana' (role viewer) may not deploy");
	ck_assert_int_eq(cairn_auth_check(deployer, CAIRN_ACTION_DEPLOY, "prod"), 0);
	ck_assert_int_eq(cairn_auth_check(deployer, CAIRN_ACTION_ADMIN, NULL), CAIRN_EPERM);
	ck_assert_error_contains("may not administer");
	ck_assert_int_eq(cairn_auth_check(admin, CAIRN_ACTION_ADMIN, NULL), 0);

	/* a dev-scoped token cannot sync (or read) prod */
	ck_assert_int_eq(cairn_auth_check(dev, CAIRN_ACTION_DEPLOY, "dev"), 0);
	ck_assert_int_eq(cairn_auth_check(dev, CAIRN_ACTION_DEPLOY, "prod"), CAIRN_EPERM);
	ck_assert_error_contains("token 'ci-dev' is not scoped to environment 'prod'");
	ck_assert_int_eq(cairn_auth_check(dev, CAIRN_ACTION_READ, "prod"), CAIRN_EPERM);
	ck_assert_int_eq(cairn_auth_check(dev, CAIRN_ACTION_READ, NULL), 0);
	ck_assert_int_eq(cairn_auth_check(dev, CAIRN_ACTION_DEPLOY, NULL), CAIRN_EPERM);
	ck_assert_error_contains("may not deploy outside them");
	/* a scoped admin is admin only in its environments */
	ck_assert_int_eq(cairn_auth_check(lower, CAIRN_ACTION_ADMIN, "staging"), 0);
	ck_assert_int_eq(cairn_auth_check(lower, CAIRN_ACTION_DEPLOY, "prod"), CAIRN_EPERM);
	ck_assert_int_eq(cairn_auth_check(lower, CAIRN_ACTION_ADMIN, NULL), CAIRN_EPERM);
	ck_assert_int_eq(cairn_auth_check(NULL, CAIRN_ACTION_READ, NULL), CAIRN_EPERM);
	cairn_auth_free(a);
}
END_TEST

START_TEST(config_errors)
{
	cairn_auth *a = fixture();
	char hex[65];
	cairn_role r;

	cairn_sha256_hex(hex, "tok-viewer", 10);
	ck_assert_int_eq(cairn_auth_add(a, "grafana", "00", CAIRN_ROLE_VIEWER, NULL, 0),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("token 'grafana': hash is not 64 hex digits");
	hex[63] = 'g';
	ck_assert_int_eq(cairn_auth_add(a, "x", hex, CAIRN_ROLE_VIEWER, NULL, 0), CAIRN_EINVAL);
	cairn_sha256_hex(hex, "tok-viewer", 10);
	ck_assert_int_eq(cairn_auth_add(a, "again", hex, CAIRN_ROLE_VIEWER, NULL, 0),
	                 CAIRN_EEXISTS);
	ck_assert_error_contains("tokens 'grafana' and 'again' have the same hash");
	cairn_sha256_hex(hex, "fresh", 5);
	ck_assert_int_eq(cairn_auth_add(a, "ops", hex, CAIRN_ROLE_VIEWER, NULL, 0), CAIRN_EEXISTS);
	ck_assert_error_contains("token 'ops' is defined twice");
	ck_assert_int_eq(cairn_auth_add(a, "", hex, CAIRN_ROLE_VIEWER, NULL, 0), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_auth_add(a, "r", hex, (cairn_role)7, NULL, 0), CAIRN_EINVAL);
	ck_assert_uint_eq(cairn_auth_count(a), 5);
	ck_assert_int_eq(cairn_role_parse(&r, "deployer"), 0);
	ck_assert_int_eq(r, CAIRN_ROLE_DEPLOYER);
	ck_assert_int_eq(cairn_role_parse(&r, "root"), CAIRN_EINVAL);
	ck_assert_error_contains("unknown role 'root'");
	ck_assert_str_eq(cairn_role_name(CAIRN_ROLE_ADMIN), "admin");
	cairn_auth_free(a);
	cairn_auth_free(NULL);
}
END_TEST

/* api.tokens in cairn.yaml, loaded and turned into a token set. */
START_TEST(from_config)
{
	char path[1024];
	cairn_config cfg;
	cairn_auth *a;
	const cairn_auth_token *t;

	ck_assert_int_eq(
	        cairn_config_load(&cfg, test_data_path(path, sizeof(path), "daemon/cairn.yaml")),
	        0);
	ck_assert_uint_eq(cfg.token_count, 2);
	ck_assert_str_eq(cfg.tokens[0].role, "deployer");
	ck_assert_uint_eq(cfg.tokens[0].environment_count, 1);
	ck_assert_int_eq(cairn_auth_from_config(&a, &cfg), 0);
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer tok-dev"), 0);
	ck_assert_str_eq(t->name, "ci-dev");
	ck_assert_int_eq(cairn_auth_check(t, CAIRN_ACTION_DEPLOY, "prod"), CAIRN_EPERM);
	ck_assert_int_eq(cairn_auth_check(t, CAIRN_ACTION_DEPLOY, "dev"), 0);
	/* an upper-case hash is the same hash */
	ck_assert_int_eq(cairn_auth_lookup(&t, a, "Bearer tok-admin"), 0);
	ck_assert_str_eq(t->name, "ops");
	ck_assert_int_eq(cairn_auth_check(t, CAIRN_ACTION_ADMIN, NULL), 0);
	cairn_auth_free(a);
	cairn_config_dispose(&cfg);

	ck_assert_int_eq(cairn_config_load(&cfg, test_data_path(path, sizeof(path),
	                                                        "daemon/cairn-bad-role.yaml")),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("api.tokens[0].role 'owner' is not viewer, deployer or admin");
	ck_assert_int_eq(cairn_error_last()->line, 3);
	ck_assert_int_eq(
	        cairn_config_load(&cfg, test_data_path(path, sizeof(path),
	                                               "daemon/cairn-token-in-clear.yaml")),
	        CAIRN_EINVAL);
	ck_assert_error_contains("api.tokens[0].sha256 is not 64 hex digits");
	ck_assert_int_eq(cairn_config_load(&cfg, test_data_path(path, sizeof(path),
	                                                        "daemon/cairn-unknown-key.yaml")),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("unknown field 'api.tokens[0].token'");
	/* the same hash twice passes the file check, not the token set */
	ck_assert_int_eq(cairn_config_load(&cfg, test_data_path(path, sizeof(path),
	                                                        "daemon/cairn-same-hash.yaml")),
	                 0);
	ck_assert_int_eq(cairn_auth_from_config(&a, &cfg), CAIRN_EEXISTS);
	ck_assert_error_contains("api.tokens: tokens 'a' and 'b' have the same hash");
	cairn_config_dispose(&cfg);
}
END_TEST

void daemon_auth_tests(Suite *s)
{
	TCase *tc = tcase_create("auth");
	tcase_add_test(tc, lookup);
	tcase_add_test(tc, roles_and_scopes);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, from_config);
	suite_add_tcase(s, tc);
}
