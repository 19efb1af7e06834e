/*
 * cairn/analysis.h - rollout analysis: the condition language, metric
 * evaluation as Argo Rollouts does it, and the measurement providers.
 *
 * Three layers, usable on their own:
 *  - values and expressions: cairn_value (what a provider measured) and
 *    cairn_expr (a compiled successCondition/failureCondition over `result`);
 *  - templates and runs: cairn_analysis_template (an AnalysisTemplate or
 *    ClusterAnalysisTemplate) and cairn_analysis_run, a pure state machine:
 *    step(now) says which metric to measure next and when, record() takes a
 *    measurement and returns the new phase;
 *  - providers: cairn_analysis_measure() runs one metric's query
 *    (prometheus, web, kubernetes).
 * docs/analysis.md describes the rules and the differences from Argo.
 */
#ifndef CAIRN_ANALYSIS_H
#define CAIRN_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values ---- */

/** The kind of a measured value. Numbers from providers are FLOAT (they may
 * be NaN or +-Inf); INT comes from integer literals and asInt(). */
typedef enum cairn_value_kind {
	CAIRN_VALUE_NIL,
	CAIRN_VALUE_BOOL,
	CAIRN_VALUE_INT,
	CAIRN_VALUE_FLOAT,
	CAIRN_VALUE_STRING,
	CAIRN_VALUE_LIST,
	CAIRN_VALUE_MAP,
} cairn_value_kind;

/** A measured value: a tree like JSON's, but floats may be NaN or infinite.
 * A LIST holds `n` items; a MAP holds `n` items named by `keys`. */
typedef struct cairn_value {
	cairn_value_kind kind;
	int b;
	int64_t i;
	double f;
	char *s;
	struct cairn_value **items;
	char **keys;
	size_t n;
} cairn_value;

/** Most items a list or map may hold, and deepest nesting (from input). */
#define CAIRN_VALUE_MAX_ITEMS 100000
#define CAIRN_VALUE_MAX_DEPTH 64

/**
 * New scalar values. Return NULL when out of memory. The caller owns the
 * result (cairn_value_free). Thread-safe.
 */
cairn_value *cairn_value_new_nil(void);
cairn_value *cairn_value_new_bool(int b);
cairn_value *cairn_value_new_int(int64_t i);
cairn_value *cairn_value_new_float(double f);
/** `s` is copied. */
cairn_value *cairn_value_new_string(const char *s);
/** An empty list or map. */
cairn_value *cairn_value_new_list(void);
cairn_value *cairn_value_new_map(void);

/**
 * Append `item` to a list (key NULL) or set key `key` of a map.
 * @return 0, CAIRN_ELIMIT past CAIRN_VALUE_MAX_ITEMS, CAIRN_ENOMEM.
 * Ownership: steals `item` in every case (freed on failure).
 */
int cairn_value_add(cairn_value *container, const char *key, cairn_value *item);

/**
 * Convert a JSON value (numbers become FLOAT, as Argo's providers do).
 * @param out  set to a new value the caller frees, on success only
 * @return 0, CAIRN_ELIMIT (too deep or too many items), CAIRN_ENOMEM
 */
int cairn_value_from_json(cairn_value **out, const json_t *json);

/** Deep copy, or NULL when out of memory. */
cairn_value *cairn_value_copy(const cairn_value *v);

/**
 * Print a value as JSON-like text for records and messages: NaN, +Inf and
 * -Inf print as NaN, +Inf, -Inf; floats with %.17g trimmed as Go prints them.
 * @param out  a new NUL-terminated string the caller frees, on success only
 */
int cairn_value_format(char **out, const cairn_value *v);

/** Free a value and everything under it. Accepts NULL. */
void cairn_value_free(cairn_value *v);

/* ---- expressions ---- */

/** A compiled condition. Immutable after compile: one may be evaluated from
 * several threads at once. */
typedef struct cairn_expr cairn_expr;

/** Longest expression source accepted. */
#define CAIRN_EXPR_MAX_LEN 4096

/**
 * Compile an expression of the supported subset of expr (docs/analysis.md).
 * Anything outside it is refused naming the expression and the 1-based
 * position: "unknown function 'foo' at 1 in 'foo(result)'".
 * @param out  set on success to a new expression (cairn_expr_free)
 * @return 0 or CAIRN_EINVAL / CAIRN_ELIMIT / CAIRN_ENOMEM
 */
int cairn_expr_compile(cairn_expr **out, const char *src);

/**
 * Evaluate with `result` bound to `result` (may be NULL: nil).
 * @param out  a new value (cairn_value_free), set on success only
 * @return 0, or CAIRN_EINVAL for an evaluation error (a type mismatch, an
 *         index out of range, a predicate over an empty list, ...), the
 *         message naming the expression and position
 * Ownership: borrows `e` and `result`. Thread-safe for distinct `out`.
 */
int cairn_expr_eval(cairn_value **out, const cairn_expr *e, const cairn_value *result);

/**
 * Evaluate a condition: as cairn_expr_eval(), and the value must be a
 * boolean (anything else is an evaluation error, as in Argo).
 */
int cairn_expr_eval_bool(int *out, const cairn_expr *e, const cairn_value *result);

/** The source text the expression was compiled from (borrowed). */
const char *cairn_expr_source(const cairn_expr *e);

/** Free. Accepts NULL. */
void cairn_expr_free(cairn_expr *e);

/* ---- metrics, templates, runs ---- */

/** Phases of a measurement, of a metric and of a run (Argo's names). */
typedef enum cairn_analysis_phase {
	CAIRN_ANALYSIS_PENDING,
	CAIRN_ANALYSIS_RUNNING,
	CAIRN_ANALYSIS_SUCCESSFUL,
	CAIRN_ANALYSIS_FAILED,
	CAIRN_ANALYSIS_ERROR,
	CAIRN_ANALYSIS_INCONCLUSIVE,
} cairn_analysis_phase;

/** "Pending", "Running", ... (static string). */
const char *cairn_analysis_phase_name(cairn_analysis_phase p);

/** Whether the phase is final (Successful, Failed, Error, Inconclusive). */
int cairn_analysis_phase_completed(cairn_analysis_phase p);

/** One metric of a template, after argument substitution. */
typedef struct cairn_analysis_metric {
	char *name;
	int64_t interval_ns;      /**< 0: not given */
	int64_t initial_delay_ns; /**< 0: none */
	int64_t count;            /**< -1: not given (see docs: once without interval) */
	int64_t failure_limit;    /**< default 0; negative: no limit */
	int64_t inconclusive_limit;
	int64_t consecutive_error_limit; /**< default 4 */
	cairn_expr *success;             /**< NULL when not given */
	cairn_expr *failure;             /**< NULL when not given */
	char *provider;                  /**< "prometheus", "web", "kubernetes", "job" */
	json_t *provider_spec;           /**< the provider's object (owned) */
} cairn_analysis_metric;

/**
 * Apply Argo's rules to one measured value: neither condition → Successful;
 * only success → Failed when false; only failure → Successful when false;
 * both and neither true → Inconclusive; failure true → Failed (also when
 * success is true); an evaluation error → Error.
 * @param out_phase  the measurement's phase (always set when 0 is returned)
 * @param out_msg    for Error, a new message (caller frees); else NULL. May be NULL.
 * @return 0, CAIRN_ENOMEM
 */
int cairn_analysis_evaluate(cairn_analysis_phase *out_phase, char **out_msg,
                            const cairn_analysis_metric *m, const cairn_value *result);

/** A parsed AnalysisTemplate / ClusterAnalysisTemplate. */
typedef struct cairn_analysis_template cairn_analysis_template;

/**
 * Parse a template manifest (argoproj.io/v1alpha1). Errors name the field
 * ("spec.metrics[0].failureLimit: ...") and, with `file`, the file.
 * @param out  set on success (cairn_analysis_template_free)
 * @param doc  borrowed
 * @return 0 or CAIRN_EINVAL / CAIRN_EUNSUPPORTED / CAIRN_ENOMEM
 */
int cairn_analysis_template_parse(cairn_analysis_template **out, const json_t *doc,
                                  const char *file);

/** The template's metadata.name (borrowed). */
const char *cairn_analysis_template_name(const cairn_analysis_template *t);

/** Free. Accepts NULL. */
void cairn_analysis_template_free(cairn_analysis_template *t);

/**
 * Resolves a `valueFrom.secretKeyRef` argument: set *out to a new string
 * (freed by the caller with free()) and return 0, or return a negative code
 * with the error set. NULL callback: such arguments are refused.
 */
typedef int (*cairn_analysis_secret_fn)(char **out, const char *secret_name, const char *key,
                                        void *ud);

/** One `name=value` argument given to a run. */
typedef struct cairn_analysis_arg {
	const char *name;
	const char *value;
} cairn_analysis_arg;

/** A measurement as kept by a run. */
typedef struct cairn_analysis_measurement {
	cairn_analysis_phase phase;
	cairn_usec started;
	cairn_usec finished;
	char *value;   /**< the formatted value, or NULL */
	char *message; /**< the error, or NULL */
} cairn_analysis_measurement;

/** Counters of one metric in a run (Argo's MetricResult). */
typedef struct cairn_analysis_metric_status {
	cairn_analysis_phase phase;
	int64_t count, successful, failed, inconclusive, error, consecutive_error;
	cairn_usec next_at; /**< when the next measurement is due (0: none) */
	size_t n_measurements;
	const cairn_analysis_measurement *measurements; /**< last ones, oldest first */
} cairn_analysis_metric_status;

/** How many measurements a run keeps per metric (Argo's default retention). */
#define CAIRN_ANALYSIS_KEEP 10

/** A run: the template's metrics with arguments resolved, and their state. */
typedef struct cairn_analysis_run cairn_analysis_run;

/**
 * Start a run at time `now`: arguments given override the template's
 * values; `{{args.NAME}}` is substituted in every string of each metric.
 * An argument without a value, a placeholder naming no argument, a
 * secretKeyRef without a callback, or a condition that does not compile is
 * an error naming it.
 * @param out  set on success (cairn_analysis_run_free)
 * @return 0 or a negative code
 * Ownership: borrows everything; the run keeps copies.
 */
int cairn_analysis_run_new(cairn_analysis_run **out, const cairn_analysis_template *t,
                           const cairn_analysis_arg *args, size_t n_args,
                           cairn_analysis_secret_fn secret, void *ud, cairn_usec now);

/** What a run wants next. */
typedef struct cairn_analysis_next {
	cairn_analysis_phase phase; /**< the run's phase */
	int metric;                 /**< index of a metric to measure now, or -1 */
	cairn_usec at;              /**< when something is due next (0: nothing) */
} cairn_analysis_next;

/**
 * Pure: which metric is due at `now` (the first whose time has come), or
 * none and when to call again. A completed run has metric -1 and at 0.
 */
void cairn_analysis_run_step(const cairn_analysis_run *r, cairn_usec now,
                             cairn_analysis_next *next);

/**
 * Record a measurement of metric `i`: `value` (borrowed) when the provider
 * answered, else `error` (the provider's message). Evaluates the
 * conditions, updates the counters and the phases.
 * @return the run's new phase (>= 0), or a negative code (bad index, ENOMEM)
 */
int cairn_analysis_run_record(cairn_analysis_run *r, size_t i, const cairn_value *value,
                              const char *error, cairn_usec started, cairn_usec finished);

/** The run's phase: the worst of its metrics once one is completed badly,
 * Successful when all are, else Running (Pending before any measurement). */
cairn_analysis_phase cairn_analysis_run_phase(const cairn_analysis_run *r);

/** Number of metrics, a metric (borrowed) and its status (borrowed until the
 * next record). */
size_t cairn_analysis_run_metrics(const cairn_analysis_run *r);
const cairn_analysis_metric *cairn_analysis_run_metric(const cairn_analysis_run *r, size_t i);
void cairn_analysis_run_status(const cairn_analysis_run *r, size_t i,
                               cairn_analysis_metric_status *out);

/** Free. Accepts NULL. */
void cairn_analysis_run_free(cairn_analysis_run *r);

/* ---- providers ---- */

struct cairn_kube_client;

/** What providers may use. */
typedef struct cairn_analysis_ctx {
	int version;
	struct cairn_kube_client *kube; /**< for the kubernetes provider; may be NULL */
	long default_timeout_ms;        /**< when the metric gives none (default 10 s) */
} cairn_analysis_ctx;
#define CAIRN_ANALYSIS_CTX_INIT                                                                    \
	{                                                                                          \
		1, NULL, 10000                                                                     \
	}

/** Longest provider response body read. */
#define CAIRN_ANALYSIS_MAX_BODY (8u << 20)

/**
 * Measure metric `m` through its provider.
 * @param out  the value (cairn_value_free), set on success only
 * @return 0, or a negative code with the error set (the run records that as
 *         an Error measurement). `job` is CAIRN_EUNSUPPORTED.
 * Thread-safe for distinct contexts; blocks up to the metric's timeout.
 */
int cairn_analysis_measure(cairn_value **out, const cairn_analysis_metric *m,
                           const cairn_analysis_ctx *ctx);

/**
 * Apply a web-provider jsonPath (`{$.a.b[0]}`, `{.a}`, `{$}`; keys in
 * brackets `['k']`) to a JSON document.
 * @param out  borrowed from `doc`, set on success only
 * @return 0, CAIRN_ENOTFOUND (no such member), CAIRN_EUNSUPPORTED (wildcards,
 *         filters, ...), CAIRN_EINVAL (syntax)
 */
int cairn_analysis_jsonpath(const json_t **out, const json_t *doc, const char *path);

#ifdef __cplusplus
}
#endif
#endif
