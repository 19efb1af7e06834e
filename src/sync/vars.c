/*
 * vars.c - the substitution variables of an Application in its
 * Environment. Kept apart from source.c so that `cairn render --path`
 * can use it without linking the git mirrors (and libgit2).
 */
#include <string.h>

#include "cairn/app.h"
#include "cairn/render.h"
#include "cairn/sync.h"

/* Annotation prefix of an Application's own substitution variables. */
#define APP_VAR_PREFIX "vars.cairn.dev/"

json_t *cairn_sync_app_vars(const cairn_app *app, const cairn_env *env, const json_t *extra,
                            struct cairn_render_prov *prov)
{
	const json_t *ann = NULL;
	const char *k;
	json_t *v = json_object(), *x;
	size_t plen = strlen(APP_VAR_PREFIX);

	if (v == NULL)
		return NULL;
	if (env && json_is_object(env->vars))
		json_object_update(v, (json_t *)env->vars);
	if (app && app->manifest)
		ann = json_object_get(json_object_get(app->manifest, "metadata"), "annotations");
	json_object_foreach((json_t *)ann, k, x)
	{
		if (strncmp(k, APP_VAR_PREFIX, plen) != 0 || !json_is_string(x))
			continue;
		json_object_set(v, k + plen, x);
		if (prov)
			cairn_render_prov_var_from_app(prov, k + plen);
	}
	if (extra)
		json_object_update(v, (json_t *)extra);
	return v;
}
