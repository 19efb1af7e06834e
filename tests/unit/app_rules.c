/* app_rules.c - cron expressions, sync windows (time zones, precedence), glob lists. */
#include "app_tests.h"
#include "cairn/app.h"
#include "cairn/util.h"
#include "testutil.h"

static cairn_usec at(const char *rfc3339)
{
	cairn_usec t = 0;

	ck_assert_int_eq(cairn_time_parse(&t, rfc3339), 0);
	return t;
}

START_TEST(cron_parse_and_match)
{
	cairn_cron c;

	ck_assert_int_eq(cairn_cron_parse(&c, "*/15 9-17 * * mon-fri"), 0);
	ck_assert_int_eq(cairn_cron_match(&c, 45, 9, 3, 6, 1), 1);
	ck_assert_int_eq(cairn_cron_match(&c, 50, 9, 3, 6, 1), 0);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 18, 3, 6, 1), 0);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 9, 3, 6, 0), 0);
	/* Both day fields restricted: either matches (cron's rule). */
	ck_assert_int_eq(cairn_cron_parse(&c, "0 0 13 * 5"), 0);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 0, 14, 1, 5), 1);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 0, 13, 1, 1), 1);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 0, 14, 1, 1), 0);
	/* One day field "*": only the other counts. */
	ck_assert_int_eq(cairn_cron_parse(&c, "0 0 * * 5"), 0);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 0, 13, 1, 1), 0);
	ck_assert_int_eq(cairn_cron_parse(&c, "0 0 * jan,jul 7"), 0);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 0, 5, 7, 0), 1);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 0, 5, 8, 0), 0);
	ck_assert_int_eq(cairn_cron_parse(&c, "@hourly"), 0);
	ck_assert_int_eq(cairn_cron_match(&c, 0, 7, 5, 8, 0), 1);
	ck_assert_int_eq(cairn_cron_match(&c, 1, 7, 5, 8, 0), 0);
}
END_TEST

START_TEST(cron_errors)
{
	cairn_cron c;

	ck_assert_int_eq(cairn_cron_parse(&c, "60 * * * *"), CAIRN_EINVAL);
	ck_assert_error_contains("invalid minute field '60'");
	ck_assert_int_eq(cairn_cron_parse(&c, "* * *"), CAIRN_EINVAL);
	ck_assert_error_contains("has 3 fields (expected 5");
	ck_assert_int_eq(cairn_cron_parse(&c, "0 0 1 1 * 2024"), CAIRN_EINVAL);
	ck_assert_error_contains("more than 5 fields");
	ck_assert_int_eq(cairn_cron_parse(&c, "0 0 * foo *"), CAIRN_EINVAL);
	ck_assert_error_contains("invalid month field 'foo'");
	/* a day name past the table (regression: read out of bounds) */
	ck_assert_int_eq(cairn_cron_parse(&c, "0 0 * * xyz"), CAIRN_EINVAL);
	ck_assert_error_contains("invalid day of week field 'xyz'");
	ck_assert_int_eq(cairn_cron_parse(&c, "0 5-2 * * *"), CAIRN_EINVAL);
	ck_assert_error_contains("invalid hour field '5-2'");
}
END_TEST

static cairn_app_set *team_set(void)
{
	char path[1024];
	cairn_app_set *set = NULL;
	const char *app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
	                  "  name: web\nspec:\n  project: team\n  source:\n"
	                  "    repoURL: https://git.example.com/web.git\n  destination:\n"
	                  "    server: https://127.0.0.1:6443\n    namespace: team-a\n";

	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load(
	                         set, test_data_path(path, sizeof(path), "app/project.yaml"), NULL),
	                 0);
	ck_assert_int_eq(cairn_app_set_load_data(set, app, strlen(app), "web.yaml", NULL), 0);
	ck_assert_int_eq(cairn_app_set_check(set), 0);
	return set;
}

START_TEST(window_active_utc_and_zone)
{
	cairn_app_set *set = team_set();
	const cairn_app_project *p = cairn_app_set_project(set, "team");
	int on = -1;

	/* allow 22:00 UTC for 1h: [22:00, 23:00) */
	ck_assert_int_eq(cairn_app_window_active(&on, &p->windows[0], at("2024-01-15T22:30:00Z")),
	                 0);
	ck_assert_int_eq(on, 1);
	cairn_app_window_active(&on, &p->windows[0], at("2024-01-15T22:00:00Z"));
	ck_assert_int_eq(on, 1);
	cairn_app_window_active(&on, &p->windows[0], at("2024-01-15T23:00:00Z"));
	ck_assert_int_eq(on, 0);
	cairn_app_window_active(&on, &p->windows[0], at("2024-01-15T21:59:59Z"));
	ck_assert_int_eq(on, 0);
	/* deny 22:30 Europe/Paris for 10m: 21:30Z in winter, 20:30Z in summer */
	cairn_app_window_active(&on, &p->windows[1], at("2024-01-15T21:35:00Z"));
	ck_assert_int_eq(on, 1);
	cairn_app_window_active(&on, &p->windows[1], at("2024-01-15T22:35:00Z"));
	ck_assert_int_eq(on, 0);
	cairn_app_window_active(&on, &p->windows[1], at("2024-07-15T20:35:00Z"));
	ck_assert_int_eq(on, 1);
	cairn_app_window_active(&on, &p->windows[1], at("2024-07-15T21:35:00Z"));
	ck_assert_int_eq(on, 0);
	/* TZ is put back */
	ck_assert_ptr_null(getenv("TZ"));
	cairn_app_set_free(set);
}
END_TEST

START_TEST(window_precedence)
{
	cairn_app_set *set = team_set();
	const cairn_app_project *p = cairn_app_set_project(set, "team");
	const cairn_app *a = cairn_app_set_find(set, "web");
	char why[128];
	int ok = -1;

	ck_assert_int_eq(cairn_app_window_matches(&p->windows[0], a), 1);
	ck_assert_int_eq(cairn_app_window_matches(&p->windows[1], a), 1);
	/* inside the allow window only */
	ck_assert_int_eq(
	        cairn_app_sync_allowed(&ok, why, sizeof(why), p, a, at("2024-01-15T22:10:00Z"), 0),
	        0);
	ck_assert_int_eq(ok, 1);
	ck_assert_str_eq(why, "an allow window is active");
	/* outside every allow window: denied */
	cairn_app_sync_allowed(&ok, why, sizeof(why), p, a, at("2024-01-15T10:00:00Z"), 0);
	ck_assert_int_eq(ok, 0);
	ck_assert_str_eq(why, "no allow window is active");
	/* deny active: denied, but manual sync is permitted by manualSync */
	cairn_app_sync_allowed(&ok, why, sizeof(why), p, a, at("2024-01-15T21:35:00Z"), 0);
	ck_assert_int_eq(ok, 0);
	ck_assert_str_eq(why, "a deny window is active");
	cairn_app_sync_allowed(&ok, why, sizeof(why), p, a, at("2024-01-15T21:35:00Z"), 1);
	ck_assert_int_eq(ok, 1);
	cairn_app_set_free(set);
}
END_TEST

START_TEST(window_overlap_deny_wins)
{
	const char *y = "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: p\n"
	                "spec:\n  syncWindows:\n"
	                "  - {kind: allow, schedule: '0 * * * *', duration: 1h, clusters: ['*']}\n"
	                "  - {kind: deny, schedule: '0 12 * * *', duration: 2h, applications: "
	                "['a*'], andOperator: true, namespaces: ['ns']}\n";
	const char *app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
	                  "  name: app1\nspec:\n  project: p\n  source: {repoURL: r}\n"
	                  "  destination: {server: s, namespace: ns}\n";
	cairn_app_set *set = NULL;
	const cairn_app_project *p;
	cairn_app *a;
	int ok = -1;

	ck_assert_int_eq(cairn_app_set_new(&set), 0);
	ck_assert_int_eq(cairn_app_set_load_data(set, y, strlen(y), "p.yaml", NULL), 0);
	ck_assert_int_eq(cairn_app_set_load_data(set, app, strlen(app), "a.yaml", NULL), 0);
	p = cairn_app_set_project(set, "p");
	a = (cairn_app *)cairn_app_set_find(set, "app1");
	cairn_app_sync_allowed(&ok, NULL, 0, p, a, at("2024-03-01T13:00:00Z"), 0);
	ck_assert_int_eq(ok, 0);
	cairn_app_sync_allowed(&ok, NULL, 0, p, a, at("2024-03-01T15:00:00Z"), 0);
	ck_assert_int_eq(ok, 1);
	/* andOperator: the namespace must match too */
	free(a->dest_namespace);
	a->dest_namespace = strdup("other");
	ck_assert_int_eq(cairn_app_window_matches(&p->windows[1], a), 0);
	cairn_app_sync_allowed(&ok, NULL, 0, p, a, at("2024-03-01T13:00:00Z"), 0);
	ck_assert_int_eq(ok, 1);
	cairn_app_set_free(set);
}
END_TEST

START_TEST(window_errors)
{
	const char *head = "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n"
	                   "  name: p\nspec:\n  syncWindows:\n";
	const struct {
		const char *win, *needle;
	} cases[] = {
	        {"  - {kind: maybe, schedule: '* * * * *', duration: 1h}\n",
	         "expected 'allow' or 'deny'"},
	        {"  - {kind: allow, schedule: '* * *', duration: 1h}\n", "has 3 fields"},
	        {"  - {kind: allow, schedule: '* * * * *', duration: forever}\n",
	         "'spec.syncWindows[0].duration' is 'forever'"},
	        {"  - {kind: allow, schedule: '* * * * *', duration: 1h, timeZone: Mars/Base}\n",
	         "unknown time zone 'Mars/Base'"},
	        {"  - {kind: allow, schedule: '* * * * *', duration: 1h, timeZone: "
	         "../etc/passwd}\n",
	         "unknown time zone '../etc/passwd'"},
	};
	char buf[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cairn_app_set *set = NULL;
		snprintf(buf, sizeof(buf), "%s%s", head, cases[i].win);
		ck_assert_int_eq(cairn_app_set_new(&set), 0);
		ck_assert_int_eq(cairn_app_set_load_data(set, buf, strlen(buf), "p.yaml", NULL),
		                 CAIRN_EINVAL);
		ck_assert_int_eq(cairn_error_last()->line, 7);
		ck_assert_error_contains(cases[i].needle);
		cairn_app_set_free(set);
	}
}
END_TEST

START_TEST(glob_lists)
{
	char *pats[] = {"https://git/*", "!https://git/private*"};
	char *none[] = {"!bad"};

	ck_assert_int_eq(cairn_app_glob_list_match(pats, 2, "https://git/a.git"), 1);
	ck_assert_int_eq(cairn_app_glob_list_match(pats, 2, "https://git/private.git"), 0);
	ck_assert_int_eq(cairn_app_glob_list_match(pats, 2, "https://other/a.git"), 0);
	/* only negations: nothing is allowed, as in Argo CD */
	ck_assert_int_eq(cairn_app_glob_list_match(none, 1, "good"), 0);
	ck_assert_int_eq(cairn_app_glob_list_match(pats, 0, "x"), 0);
}
END_TEST

void app_rules_tests(Suite *s)
{
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, cron_parse_and_match);
	tcase_add_test(tc, cron_errors);
	tcase_add_test(tc, window_active_utc_and_zone);
	tcase_add_test(tc, window_precedence);
	tcase_add_test(tc, window_overlap_deny_wins);
	tcase_add_test(tc, window_errors);
	tcase_add_test(tc, glob_lists);
	suite_add_tcase(s, tc);
}
