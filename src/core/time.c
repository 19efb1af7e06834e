/*
 * time.c - the one time type (microseconds since the epoch) and RFC 3339.
 */
#include <ctype.h>

#include "cairn/error.h"
#include "cairn/util.h"

cairn_usec cairn_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (cairn_usec)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

cairn_usec cairn_time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (cairn_usec)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cairn_time_format(char out[CAIRN_TIME_RFC3339_LEN], cairn_usec t)
{
	time_t secs = (time_t)(t / 1000000);
	long usec = (long)(t % 1000000);
	struct tm tm;

	if (usec < 0) {
		usec += 1000000;
		secs -= 1;
	}
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, CAIRN_TIME_RFC3339_LEN, "0000-00-00T00:00:00.000000Z");
		return;
	}
	/* Years outside 0..9999 cannot be written in RFC 3339: clamp. */
	if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(out, CAIRN_TIME_RFC3339_LEN, "%s",
		         tm.tm_year < 0 ? "0000-01-01T00:00:00.000000Z"
		                        : "9999-12-31T23:59:59.999999Z");
		return;
	}
	snprintf(out, CAIRN_TIME_RFC3339_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	         (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
	         tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, usec % 1000000);
}

/* Read exactly `n` digits at *p into *out, advancing *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int cairn_time_parse(cairn_usec *out, const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int y, mo, d, h, mi, sec, off = 0;
	int64_t usec = 0, t;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		goto bad;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		goto bad;
	if (*p == '.') {
		int n = 0;

		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p)) {
			if (n < 6)
				usec = usec * 10 + (*p - '0');
			n++;
			p++;
		}
		if (n > 9)
			goto bad;
		for (; n < 6; n++)
			usec *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;

		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * 60 + om);
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (sec == 60)
		sec = 59; /* a leap second reads as the second before it */
	t = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off * 60) *
	            (int64_t)1000000 +
	    usec;
	/* An offset can push the instant outside what RFC 3339 writes in UTC
	 * (years 0000-9999): such a time could not be printed back. */
	if (t < days_from_civil(0, 1, 1) * 86400 * (int64_t)1000000 ||
	    t >= days_from_civil(10000, 1, 1) * 86400 * (int64_t)1000000)
		return cairn_error_set(CAIRN_EINVAL,
		                       "time '%s' is outside the years 0000-9999 in UTC", s);
	*out = t;
	return 0;
bad:
	return cairn_error_set(CAIRN_EINVAL,
	                       "invalid time '%s': expected RFC 3339, e.g. '2026-11-26T23:00:50Z'",
	                       s);
}
