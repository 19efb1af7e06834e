/*
 * window.c - cron expressions and AppProject sync windows.
 *
 * Time zones: a window's schedule is read in its `timeZone`. The C library
 * only converts to local time through the TZ environment variable, so the
 * conversion sets TZ, calls tzset() and localtime_r(), and puts TZ back,
 * all under one process-wide mutex (the only mutable global of the module).
 * That keeps Cairn's own threads consistent; code outside Cairn must not
 * change TZ at the same time. UTC needs no zone and uses gmtime_r() only.
 * The zone name is checked against the tz database files at load, because
 * glibc silently falls back to UTC for a name it cannot find.
 */
#include <ctype.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "app/app_private.h"
#include "cairn/error.h"

/* Longest window Cairn scans for a start instant (Argo CD has no limit). */
#define WINDOW_MAX_NS ((int64_t)31 * 24 * 3600 * 1000000000)

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or (for month/day fields) a three-letter name. */
static int cron_value(const char **p, int lo, int hi, const char *const *names, int base, int *out)
{
	const char *s = *p;
	long v = 0;
	int digits = 0;

	if (names != NULL && isalpha((unsigned char)s[0])) {
		int count = names == dow_names ? 7 : 12;
		for (int i = 0; i < count; i++)
			if (strncasecmp(s, names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
				*out = i + base;
				*p = s + 3;
				return 0;
			}
		return -1;
	}
	while (isdigit((unsigned char)*s) && digits < 4) {
		v = v * 10 + (*s - '0');
		s++;
		digits++;
	}
	if (digits == 0 || v < lo || v > hi)
		return -1;
	*out = (int)v;
	*p = s;
	return 0;
}

/* One field: comma-separated items of `*`, N, N-M, each with an optional /step. */
static int cron_field(uint64_t *bits, int *star, const char *f, size_t len, int lo, int hi,
                      const char *const *names, int base)
{
	char buf[128];
	const char *p = buf;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, f, len);
	buf[len] = '\0';
	*bits = 0;
	*star = strcmp(buf, "*") == 0 || strcmp(buf, "?") == 0;
	for (;;) {
		int a = lo, b = hi, step = 1;
		if (*p == '*' || *p == '?') {
			p++;
		} else {
			if (cron_value(&p, lo, hi, names, base, &a) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if (cron_value(&p, lo, hi, names, base, &b) < 0 || b < a)
					return -1;
			}
		}
		if (*p == '/') {
			p++;
			if (cron_value(&p, 1, hi > 0 ? hi : 1, NULL, 0, &step) < 0 || step < 1)
				return -1;
			if (a == b && p[-1] != '*')
				b = hi;
		}
		for (int v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return -1;
		p++;
	}
}

int cairn_cron_parse(cairn_cron *out, const char *expr)
{
	static const struct {
		const char *name, *expr;
	} macros[] = {{"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
	              {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
	              {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
	              {"@hourly", "0 * * * *"}};
	static const char *const field_names[] = {"minute", "hour", "day of month", "month",
	                                          "day of week"};
	const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 7};
	const char *const *names[] = {NULL, NULL, NULL, month_names, dow_names};
	const int bases[] = {0, 0, 0, 1, 0};
	uint64_t bits[5];
	int stars[5];
	cairn_cron c;
	const char *p = expr;

	for (size_t i = 0; expr && i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcmp(expr, macros[i].name) == 0)
			p = macros[i].expr;
	if (p == NULL)
		return cairn_error_set(CAIRN_EINVAL, "empty cron schedule");
	for (int f = 0; f < 5; f++) {
		const char *start;
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (p == start)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "cron schedule '%s' has %d fields (expected 5: minute "
			        "hour day-of-month month day-of-week)",
			        expr, f);
		if (cron_field(&bits[f], &stars[f], start, (size_t)(p - start), lo[f], hi[f],
		               names[f], bases[f]) < 0)
			return cairn_error_set(CAIRN_EINVAL,
			                       "cron schedule '%s': invalid %s field '%.*s'", expr,
			                       field_names[f], (int)(p - start), start);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		return cairn_error_set(CAIRN_EINVAL,
		                       "cron schedule '%s' has more than 5 fields (seconds and "
		                       "years are not supported)",
		                       expr);
	memset(&c, 0, sizeof(c));
	c.minute = bits[0];
	c.hour = (uint32_t)bits[1];
	c.dom = (uint32_t)bits[2];
	c.month = (uint16_t)bits[3];
	c.dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
	c.dom_star = stars[2];
	c.dow_star = stars[4];
	*out = c;
	return 0;
}

/*
 * Cron's day rule: when both day fields are restricted a day matches either
 * of them; when one is "*" only the other one counts.
 */
int cairn_cron_match(const cairn_cron *c, int min, int hour, int mday, int mon, int wday)
{
	int d1, d2;

	if (!(c->minute >> min & 1) || !(c->hour >> hour & 1) || !(c->month >> mon & 1))
		return 0;
	d1 = (int)(c->dom >> mday & 1);
	d2 = (int)(c->dow >> wday & 1);
	if (c->dom_star || c->dow_star)
		return d1 && d2;
	return d1 || d2;
}

/* A zone name is a relative path of the tz database; refuse anything else. */
static int tz_check(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	struct stat st;

	if (zone == NULL || strcmp(zone, "UTC") == 0 || zone[0] == '\0')
		return 0;
	if (zone[0] == '/' || strstr(zone, "..") != NULL || strlen(zone) > 200)
		return -1;
	for (const char *p = zone; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return -1;
	snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", zone);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return 0;
}

int app__parse_window(cairn_app_window *wi, const json_t *j, const struct app__where *w,
                      size_t index);

int app__parse_window(cairn_app_window *wi, const json_t *j, const struct app__where *w,
                      size_t index)
{
	const char *kind = json_string_value(json_object_get(j, "kind"));
	const char *dur = json_string_value(json_object_get(j, "duration"));
	char ptr[64];
	int rc;

	snprintf(ptr, sizeof(ptr), "/spec/syncWindows/%zu", index);
	if (kind == NULL || (strcmp(kind, "allow") != 0 && strcmp(kind, "deny") != 0))
		return app__err(w, CAIRN_EINVAL, ptr,
		                "'spec.syncWindows[%zu].kind' is '%s' (expected 'allow' or 'deny')",
		                index, kind ? kind : "");
	wi->kind = kind[0] == 'a' ? CAIRN_APP_WINDOW_ALLOW : CAIRN_APP_WINDOW_DENY;
	if ((rc = app__dup(&wi->schedule, j, "schedule")) < 0 ||
	    (rc = app__dup(&wi->time_zone, j, "timeZone")) < 0 ||
	    (rc = app__strlist(&wi->applications, &wi->application_count,
	                       json_object_get(j, "applications"))) < 0 ||
	    (rc = app__strlist(&wi->namespaces, &wi->namespace_count,
	                       json_object_get(j, "namespaces"))) < 0 ||
	    (rc = app__strlist(&wi->clusters, &wi->cluster_count, json_object_get(j, "clusters"))) <
	            0)
		return rc;
	if (cairn_cron_parse(&wi->cron, wi->schedule) < 0)
		return app__err(w, CAIRN_EINVAL, ptr, "'spec.syncWindows[%zu].schedule': %s", index,
		                cairn_error_last()->message);
	if (dur == NULL || cairn_duration_parse(&wi->duration_ns, dur) < 0 ||
	    wi->duration_ns <= 0 || wi->duration_ns > WINDOW_MAX_NS)
		return app__err(w, CAIRN_EINVAL, ptr,
		                "'spec.syncWindows[%zu].duration' is '%s' (expected a positive "
		                "duration up to 744h, e.g. '1h30m')",
		                index, dur ? dur : "");
	if (wi->time_zone == NULL && (rc = app__strdup(&wi->time_zone, "UTC")) < 0)
		return rc;
	if (tz_check(wi->time_zone) < 0)
		return app__err(w, CAIRN_EINVAL, ptr,
		                "'spec.syncWindows[%zu].timeZone': unknown time zone '%s' "
		                "(expected a tz database name such as 'Europe/Paris')",
		                index, wi->time_zone);
	wi->manual_sync = json_is_true(json_object_get(j, "manualSync"));
	wi->and_operator = json_is_true(json_object_get(j, "andOperator"));
	return 0;
}

/* Scan the minutes of (t - duration, t] for a start instant, in one zone. */
static int scan(const cairn_app_window *w, time_t t, int utc)
{
	time_t first = t - (time_t)(w->duration_ns / 1000000000);
	time_t m = t - (t % 60 + 60) % 60;
	struct tm tm;

	for (; m > first || (m == first && w->duration_ns % 1000000000 != 0); m -= 60) {
		if ((utc ? gmtime_r(&m, &tm) : localtime_r(&m, &tm)) == NULL)
			return 0;
		if (cairn_cron_match(&w->cron, tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon + 1,
		                     tm.tm_wday))
			return 1;
	}
	return 0;
}

int cairn_app_window_active(int *out, const cairn_app_window *w, cairn_usec t)
{
	time_t secs = (time_t)(t / 1000000);
	char *saved = NULL;
	const char *old;
	int active;

	if (w->time_zone == NULL || strcmp(w->time_zone, "UTC") == 0 || w->time_zone[0] == '\0') {
		*out = scan(w, secs, 1);
		return 0;
	}
	if (tz_check(w->time_zone) < 0)
		return cairn_error_set(CAIRN_EINVAL, "unknown time zone '%s'", w->time_zone);
	pthread_mutex_lock(&tz_lock);
	old = getenv("TZ");
	if (old != NULL && (saved = strdup(old)) == NULL) {
		pthread_mutex_unlock(&tz_lock);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	setenv("TZ", w->time_zone, 1);
	tzset();
	active = scan(w, secs, 0);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&tz_lock);
	free(saved);
	*out = active;
	return 0;
}

int cairn_app_window_matches(const cairn_app_window *w, const cairn_app *app)
{
	const char *cluster =
	        app->dest_server && app->dest_server[0] ? app->dest_server : app->dest_name;
	int a = w->application_count ? cairn_app_glob_list_match(w->applications,
	                                                         w->application_count, app->name)
	                             : -1;
	int n = w->namespace_count ? cairn_app_glob_list_match(w->namespaces, w->namespace_count,
	                                                       app->dest_namespace)
	                           : -1;
	int c = -1;

	if (w->cluster_count) {
		c = cairn_app_glob_list_match(w->clusters, w->cluster_count, cluster);
		/* Argo CD matches clusters by server or by name. */
		if (!c && app->dest_name)
			c = cairn_app_glob_list_match(w->clusters, w->cluster_count,
			                              app->dest_name);
	}
	if (w->and_operator)
		return (a != 0 && n != 0 && c != 0) && (a > 0 || n > 0 || c > 0);
	return a > 0 || n > 0 || c > 0;
}

int cairn_app_sync_allowed(int *out_allowed, char *reason, size_t reason_size,
                           const cairn_app_project *p, const cairn_app *app, cairn_usec t,
                           int manual)
{
	int any_allow = 0, active_allow = 0, active_deny = 0, deny_manual = 1, allow_manual = 0;
	int active, rc;
	const char *why = "no sync window applies";
	int allowed;

	for (size_t i = 0; p && i < p->window_count; i++) {
		const cairn_app_window *w = &p->windows[i];
		if (!cairn_app_window_matches(w, app))
			continue;
		if ((rc = cairn_app_window_active(&active, w, t)) < 0)
			return rc;
		if (w->kind == CAIRN_APP_WINDOW_ALLOW) {
			any_allow = 1;
			active_allow |= active;
			if (!active && w->manual_sync)
				allow_manual = 1;
		} else if (active) {
			active_deny = 1;
			deny_manual &= w->manual_sync;
		}
	}
	if (active_deny) {
		allowed = manual && deny_manual;
		why = allowed ? "a deny window is active but permits manual sync"
		              : "a deny window is active";
	} else if (any_allow && !active_allow) {
		allowed = manual && allow_manual;
		why = allowed ? "no allow window is active but one permits manual sync"
		              : "no allow window is active";
	} else {
		allowed = 1;
		if (active_allow)
			why = "an allow window is active";
	}
	if (reason != NULL && reason_size > 0)
		snprintf(reason, reason_size, "%s", why);
	*out_allowed = allowed;
	return 0;
}
