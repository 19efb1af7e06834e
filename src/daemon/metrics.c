/*
 * metrics.c - a small Prometheus registry: counters, gauges and histograms
 * with labels, rendered in the text exposition format (0.0.4).
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/daemon.h"
#include "cairn/error.h"

#define METRICS_FAMILIES_MAX 256
#define METRIC_BUCKETS_MAX 32
#define METRIC_LABEL_VALUE_MAX 256

static const double default_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1,     2.5,  5,     10,   30};

struct series {
	char *values[CAIRN_METRIC_LABELS_MAX];
	double v;       /* counter/gauge value, histogram sum */
	uint64_t count; /* histogram */
	uint64_t *le;   /* histogram: per bucket, not cumulative */
};

struct cairn_metric {
	cairn_metrics *reg;
	cairn_metric_type type;
	char *name, *help;
	char *labels[CAIRN_METRIC_LABELS_MAX];
	size_t n_labels;
	double buckets[METRIC_BUCKETS_MAX];
	size_t n_buckets;
	struct series *s;
	size_t n_s;
};

struct cairn_metrics {
	pthread_mutex_t mu;
	cairn_metric *f[METRICS_FAMILIES_MAX];
	size_t n;
};

int cairn_metrics_new(cairn_metrics **out)
{
	cairn_metrics *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	pthread_mutex_init(&m->mu, NULL);
	*out = m;
	return 0;
}

static void family_free(cairn_metric *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n_s; i++) {
		for (size_t j = 0; j < f->n_labels; j++)
			free(f->s[i].values[j]);
		free(f->s[i].le);
	}
	free(f->s);
	for (size_t j = 0; j < f->n_labels; j++)
		free(f->labels[j]);
	free(f->name);
	free(f->help);
	free(f);
}

void cairn_metrics_free(cairn_metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		family_free(m->f[i]);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* Prometheus names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names without ':'. */
static int name_ok(const char *s, int colon)
{
	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (colon && c == ':')))
			return 0;
	}
	return 1;
}

/* Validate and build a family; the caller holds the lock. */
static int family_new(cairn_metric **out, cairn_metric_type type, const char *name,
                      const char *help, const char *const *labels, const double *buckets,
                      size_t n_buckets)
{
	cairn_metric *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	f->type = type;
	if (type == CAIRN_METRIC_HISTOGRAM) {
		if (buckets == NULL) {
			buckets = default_buckets;
			n_buckets = sizeof(default_buckets) / sizeof(default_buckets[0]);
		}
		if (n_buckets == 0 || n_buckets > METRIC_BUCKETS_MAX) {
			family_free(f);
			return cairn_error_set(CAIRN_EINVAL, "metric '%s': 1 to %d buckets", name,
			                       METRIC_BUCKETS_MAX);
		}
		for (size_t i = 0; i < n_buckets; i++) {
			if (i > 0 && !(buckets[i] > buckets[i - 1])) {
				family_free(f);
				return cairn_error_set(CAIRN_EINVAL,
				                       "metric '%s': buckets are not increasing",
				                       name);
			}
			f->buckets[i] = buckets[i];
		}
		f->n_buckets = n_buckets;
	}
	for (; labels != NULL && labels[f->n_labels] != NULL; f->n_labels++) {
		if (f->n_labels >= CAIRN_METRIC_LABELS_MAX || !name_ok(labels[f->n_labels], 0) ||
		    strcmp(labels[f->n_labels], "le") == 0) {
			family_free(f);
			return cairn_error_set(CAIRN_EINVAL,
			                       "metric '%s': bad or too many label names", name);
		}
		if ((f->labels[f->n_labels] = strdup(labels[f->n_labels])) == NULL) {
			family_free(f);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	if ((f->name = strdup(name)) == NULL || (f->help = strdup(help ? help : "")) == NULL) {
		family_free(f);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = f;
	return 0;
}

int cairn_metrics_register(cairn_metric **out, cairn_metrics *m, cairn_metric_type type,
                           const char *name, const char *help, const char *const *labels,
                           const double *buckets, size_t n_buckets)
{
	cairn_metric *f = NULL;
	int rc = 0;

	if (!name_ok(name, 1))
		return cairn_error_set(CAIRN_EINVAL, "metric name '%s' is not a Prometheus name",
		                       name ? name : "");
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->f[i]->name, name) == 0) {
			if (m->f[i]->type != type)
				rc = cairn_error_set(
				        CAIRN_EINVAL,
				        "metric '%s' is already registered with another type",
				        name);
			else
				f = m->f[i];
			goto out;
		}
	}
	if (m->n >= METRICS_FAMILIES_MAX) {
		rc = cairn_error_set(CAIRN_ELIMIT, "more than %d metric families",
		                     METRICS_FAMILIES_MAX);
		goto out;
	}
	if ((rc = family_new(&f, type, name, help, labels, buckets, n_buckets)) < 0)
		goto out;
	f->reg = m;
	m->f[m->n++] = f;
out:
	pthread_mutex_unlock(&m->mu);
	if (rc == 0)
		*out = f;
	return rc;
}

/* Find or create the series for `values`; the caller holds the lock. */
static struct series *series_get(cairn_metric *f, const char *const *values, int create)
{
	for (size_t i = 0; i < f->n_s; i++) {
		size_t j = 0;
		while (j < f->n_labels &&
		       strcmp(f->s[i].values[j], values[j] ? values[j] : "") == 0)
			j++;
		if (j == f->n_labels)
			return &f->s[i];
	}
	if (!create)
		return NULL;
	if (f->n_s >= CAIRN_METRIC_SERIES_MAX) {
		cairn_error_set(CAIRN_ELIMIT, "metric '%s' has %d series already", f->name,
		                CAIRN_METRIC_SERIES_MAX);
		return NULL;
	}
	struct series *ns = realloc(f->s, (f->n_s + 1) * sizeof(*ns));
	if (ns == NULL)
		return NULL;
	f->s = ns;
	struct series *s = &f->s[f->n_s];
	memset(s, 0, sizeof(*s));
	for (size_t j = 0; j < f->n_labels; j++) {
		const char *v = values[j] ? values[j] : "";
		s->values[j] = strndup(v, METRIC_LABEL_VALUE_MAX);
	}
	if (f->type == CAIRN_METRIC_HISTOGRAM)
		s->le = calloc(f->n_buckets, sizeof(*s->le));
	int bad = f->type == CAIRN_METRIC_HISTOGRAM && s->le == NULL;
	for (size_t j = 0; j < f->n_labels; j++)
		bad |= s->values[j] == NULL;
	if (bad) {
		for (size_t j = 0; j < f->n_labels; j++)
			free(s->values[j]);
		free(s->le);
		cairn_error_set(CAIRN_ENOMEM, "out of memory");
		return NULL;
	}
	f->n_s++;
	return s;
}

/* One entry point for the three updates: 0 add, 1 set, 2 observe. */
static int update(cairn_metric *f, const char *const *values, double v, int op)
{
	static const char *const ops[] = {"add to", "set", "observe into"};
	int rc = 0;

	if (f == NULL)
		return cairn_error_set(CAIRN_EINVAL, "no metric");
	if ((op == 2) != (f->type == CAIRN_METRIC_HISTOGRAM) ||
	    (op == 1 && f->type != CAIRN_METRIC_GAUGE))
		return cairn_error_set(CAIRN_EINVAL, "cannot %s metric '%s' of its type", ops[op],
		                       f->name);
	if (f->n_labels > 0 && values == NULL)
		return cairn_error_set(CAIRN_EINVAL, "metric '%s' needs label values", f->name);
	pthread_mutex_lock(&f->reg->mu);
	struct series *s = series_get(f, values, 1);
	if (s == NULL) {
		rc = cairn_error_last()->code < 0 ? cairn_error_last()->code : CAIRN_ENOMEM;
		goto out;
	}
	if (op == 0) {
		s->v += v;
	} else if (op == 1) {
		s->v = v;
	} else {
		s->v += v;
		s->count++;
		for (size_t i = 0; i < f->n_buckets; i++) {
			if (v <= f->buckets[i]) {
				s->le[i]++;
				break;
			}
		}
	}
out:
	pthread_mutex_unlock(&f->reg->mu);
	return rc;
}

int cairn_metric_add(cairn_metric *f, const char *const *values, double v)
{
	return update(f, values, v, 0);
}

int cairn_metric_set(cairn_metric *f, const char *const *values, double v)
{
	return update(f, values, v, 1);
}

int cairn_metric_observe(cairn_metric *f, const char *const *values, double v)
{
	return update(f, values, v, 2);
}

double cairn_metric_value(cairn_metric *f, const char *const *values)
{
	double v = 0;

	pthread_mutex_lock(&f->reg->mu);
	struct series *s = series_get(f, values, 0);
	if (s != NULL)
		v = f->type == CAIRN_METRIC_HISTOGRAM ? (double)s->count : s->v;
	pthread_mutex_unlock(&f->reg->mu);
	return v;
}

/* Numbers as Prometheus reads them: integers without a fraction. */
static int put_num(cairn_buf *b, double v)
{
	if (isnan(v))
		return cairn_buf_puts(b, "NaN");
	if (isinf(v))
		return cairn_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return cairn_buf_printf(b, "%.0f", v);
	return cairn_buf_printf(b, "%.17g", v);
}

/* Help text escapes '\' and newline; label values also '"'. */
static int put_escaped(cairn_buf *b, const char *s, int quote)
{
	int rc = 0;
	for (; *s && rc == 0; s++) {
		if (*s == '\\')
			rc = cairn_buf_puts(b, "\\\\");
		else if (*s == '\n')
			rc = cairn_buf_puts(b, "\\n");
		else if (quote && *s == '"')
			rc = cairn_buf_puts(b, "\\\"");
		else
			rc = cairn_buf_putc(b, *s);
	}
	return rc;
}

/* name{l1="v1",...[,le="x"]} */
static int put_series_name(cairn_buf *b, const cairn_metric *f, const struct series *s,
                           const char *suffix, const char *le)
{
	int rc = cairn_buf_printf(b, "%s%s", f->name, suffix);
	if (rc == 0 && (f->n_labels > 0 || le != NULL))
		rc = cairn_buf_putc(b, '{');
	for (size_t j = 0; rc == 0 && j < f->n_labels; j++) {
		rc = cairn_buf_printf(b, "%s%s=\"", j ? "," : "", f->labels[j]);
		if (rc == 0)
			rc = put_escaped(b, s->values[j], 1);
		if (rc == 0)
			rc = cairn_buf_putc(b, '"');
	}
	if (rc == 0 && le != NULL)
		rc = cairn_buf_printf(b, "%sle=\"%s\"", f->n_labels ? "," : "", le);
	if (rc == 0 && (f->n_labels > 0 || le != NULL))
		rc = cairn_buf_putc(b, '}');
	if (rc == 0)
		rc = cairn_buf_putc(b, ' ');
	return rc;
}

static int render_histogram(cairn_buf *b, const cairn_metric *f, const struct series *s)
{
	uint64_t cum = 0;
	char le[64];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i <= f->n_buckets; i++) {
		if (i < f->n_buckets) {
			cum += s->le[i];
			snprintf(le, sizeof(le), "%g", f->buckets[i]);
		} else {
			cum = s->count;
			snprintf(le, sizeof(le), "+Inf");
		}
		rc = put_series_name(b, f, s, "_bucket", le);
		if (rc == 0)
			rc = cairn_buf_printf(b, "%llu\n", (unsigned long long)cum);
	}
	if (rc == 0)
		rc = put_series_name(b, f, s, "_sum", NULL);
	if (rc == 0)
		rc = put_num(b, s->v);
	if (rc == 0)
		rc = cairn_buf_putc(b, '\n');
	if (rc == 0)
		rc = put_series_name(b, f, s, "_count", NULL);
	if (rc == 0)
		rc = cairn_buf_printf(b, "%llu\n", (unsigned long long)s->count);
	return rc;
}

int cairn_metrics_render(cairn_metrics *m, cairn_buf *out)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	int rc = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; rc == 0 && i < m->n; i++) {
		const cairn_metric *f = m->f[i];
		rc = cairn_buf_printf(out, "# HELP %s ", f->name);
		if (rc == 0)
			rc = put_escaped(out, f->help, 0);
		if (rc == 0)
			rc = cairn_buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
		for (size_t k = 0; rc == 0 && k < f->n_s; k++) {
			if (f->type == CAIRN_METRIC_HISTOGRAM) {
				rc = render_histogram(out, f, &f->s[k]);
				continue;
			}
			rc = put_series_name(out, f, &f->s[k], "", NULL);
			if (rc == 0)
				rc = put_num(out, f->s[k].v);
			if (rc == 0)
				rc = cairn_buf_putc(out, '\n');
		}
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}
