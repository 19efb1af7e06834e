/*
 * template_private.h - the parsed template as analysis.c sees it, and the
 * helpers template.c shares with it.
 */
#ifndef CAIRN_ROLLOUT_TEMPLATE_PRIVATE_H
#define CAIRN_ROLLOUT_TEMPLATE_PRIVATE_H

#include <jansson.h>

#include "cairn/analysis.h"

/** Most metrics one template may declare. */
#define TEMPLATE_MAX_METRICS 64

struct cairn_analysis_template {
	char *name;
	json_t *args;    /* spec.args as given (checked), or NULL */
	json_t *metrics; /* spec.metrics as given, before substitution */
};

/* Parse one metric object; `where` names it in errors ("spec.metrics[0]").
 * lenient: fields still holding a `{{...}}` placeholder are not checked. */
int template__metric_parse(cairn_analysis_metric *out, const json_t *j, const char *where,
                           int lenient, const char *file);
/* Free what a metric owns and zero it. */
void template__metric_clear(cairn_analysis_metric *m);
/* Substitute `{{args.NAME}}` in every string under `j`, in place. */
int template__subst(json_t *j, const json_t *vals, int depth);
/* Resolve the run's argument values into a new object name -> string. */
int template__resolve_args(json_t **out, const cairn_analysis_template *t,
                           const cairn_analysis_arg *args, size_t n_args,
                           cairn_analysis_secret_fn secret, void *ud);

#endif
