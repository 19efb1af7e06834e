/*
 * plugin.c - external renderers in the manner of Argo CD's config management
 * plugins: the source directory is copied out of the tree (which may be a
 * git commit with no checkout) into a private temporary directory, a
 * configured command runs there with a clean environment and a timeout,
 * and its stdout is the manifest stream.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/util.h"
#include "cairn/yaml.h"

/* Most parameters passed to one plugin run. */
#define PLUGIN_PARAMS_MAX 256
/* Most bytes of plugin stderr quoted in an error. */
#define PLUGIN_STDERR_QUOTE 400

/* Write one file of the tree below `dest` (its directories made as needed). */
static int extract_file(cairn_tree *t, const char *src, const char *dest)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_RENDER_FILE_MAX);
	int fd = -1, rc;

	if ((rc = cairn_tree_read(t, &b, src, CAIRN_RENDER_FILE_MAX)) < 0)
		goto out;
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || (b.len && write(fd, b.ptr, b.len) != (ssize_t)b.len)) {
		rc = cairn_error_set_errno(errno, "cannot write '%s'", dest);
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	cairn_buf_dispose(&b);
	return rc;
}

/*
 * Copy directory `dir` of `t` into `dest` (which exists): regular files and
 * directories only; symlinks are read through the tree (which refuses those
 * leaving it) and written as regular files, so nothing the plugin sees can
 * point outside the copy.
 */
static int extract(cairn_tree *t, const char *dir, const char *dest)
{
	cairn_tree_list l = {0};
	int rc;

	if ((rc = cairn_tree_list_dir(&l, t, dir, 1)) < 0)
		return rc;
	for (size_t i = 0; i < l.count && rc == 0; i++) {
		const cairn_tree_entry *e = &l.entries[i];
		char src[4096], dst[4096];

		if (snprintf(src, sizeof(src), "%s%s%s", dir, *dir ? "/" : "", e->path) >=
		            (int)sizeof(src) ||
		    snprintf(dst, sizeof(dst), "%s/%s", dest, e->path) >= (int)sizeof(dst)) {
			rc = cairn_error_set(CAIRN_ELIMIT, "path too long: '%s'", e->path);
			break;
		}
		if (e->kind == CAIRN_TREE_DIR) {
			if (mkdir(dst, 0700) < 0)
				rc = cairn_error_set_errno(errno, "cannot create '%s'", dst);
		} else if (e->kind == CAIRN_TREE_FILE || e->kind == CAIRN_TREE_SYMLINK) {
			cairn_tree_kind k;
			uint64_t size;

			rc = cairn_tree_stat(t, &k, &size, src);
			if (rc == 0 && k == CAIRN_TREE_FILE)
				rc = extract_file(t, src, dst);
			else if (rc == 0 && k == CAIRN_TREE_DIR && mkdir(dst, 0700) < 0)
				rc = cairn_error_set_errno(errno, "cannot create '%s'", dst);
		}
	}
	cairn_tree_list_dispose(&l);
	return rc;
}

/* Objects of the plugin's stdout: documents in order, Lists flattened. */
static int parse_output(json_t **out, const cairn_buf *b, const char *name)
{
	cairn_yaml_opts yo = CAIRN_YAML_OPTS_INIT;
	json_t *docs = NULL, *res = json_array(), *d, *item;
	size_t i, j;
	int rc;

	yo.profile = CAIRN_YAML_KUBECTL;
	if (res == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = cairn_yaml_load(&docs, NULL, b->ptr ? b->ptr : "", b->len, name, &yo);
	if (rc < 0)
		goto out;
	json_array_foreach(docs, i, d)
	{
		json_t *items = json_object_get(d, "items");
		int list = json_is_string(json_object_get(d, "kind")) &&
		           strcmp(json_string_value(json_object_get(d, "kind")), "List") == 0;

		if (json_is_null(d))
			continue;
		if (!json_is_object(d) || !json_is_string(json_object_get(d, "apiVersion")) ||
		    !json_is_string(json_object_get(d, "kind"))) {
			rc = cairn_error_set(
			        CAIRN_EINVAL,
			        "%s: document %zu is not an object with apiVersion and kind", name,
			        i + 1);
			goto out;
		}
		if (!list) {
			json_array_append(res, d);
			continue;
		}
		json_array_foreach(items, j, item) json_array_append(res, item);
	}
	*out = res;
	res = NULL;
out:
	json_decref(docs);
	json_decref(res);
	return rc;
}

/* The child's environment: fixed entries plus ARGOCD_ENV_<NAME>=value. */
static int make_env(char ***out, const char *home, const char *dir, const json_t *params,
                    const char *app)
{
	size_t n = 0, cap = json_object_size(params) + 6;
	char **env;
	const char *k;
	json_t *v;
	int rc = 0;

	if (json_object_size(params) > PLUGIN_PARAMS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d plugin parameters",
		                       PLUGIN_PARAMS_MAX);
	if ((env = calloc(cap, sizeof(*env))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (asprintf(&env[n++], "PATH=/usr/local/bin:/usr/bin:/bin") < 0 ||
	    asprintf(&env[n++], "HOME=%s", home) < 0 ||
	    asprintf(&env[n++], "ARGOCD_APP_NAME=%s", app ? app : "") < 0 ||
	    asprintf(&env[n++], "ARGOCD_APP_SOURCE_PATH=%s", *dir ? dir : ".") < 0)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_object_foreach((json_t *)params, k, v)
	{
		int ok = rc == 0 && (isalpha((unsigned char)k[0]) || k[0] == '_');

		for (const char *c = k; ok && *c; c++)
			ok = isalnum((unsigned char)*c) || *c == '_';
		if (rc == 0 && (!ok || !json_is_string(v)))
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "plugin parameter '%s' needs a name matching "
			                     "[_a-zA-Z][_a-zA-Z0-9]* and a string value",
			                     k);
		if (rc == 0 && asprintf(&env[n++], "ARGOCD_ENV_%s=%s", k, json_string_value(v)) < 0)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc < 0) {
		for (size_t i = 0; i < cap; i++)
			free(env[i]);
		free(env);
		return rc;
	}
	*out = env;
	return 0;
}

/* Turn a finished run into objects, or into an error quoting stderr. */
static int plugin_result(json_t **out, const cairn_proc_result *r, const cairn_render_plugin *p)
{
	const char *err = r->err.ptr ? r->err.ptr : "";
	size_t el = r->err.len;
	char what[300];

	while (el && (err[el - 1] == '\n' || err[el - 1] == ' '))
		el--;
	if (r->timed_out)
		return cairn_error_set(CAIRN_ETIMEOUT, "plugin '%s' timed out: %.*s", p->name,
		                       (int)(el > PLUGIN_STDERR_QUOTE ? PLUGIN_STDERR_QUOTE : el),
		                       err);
	if (!r->exited || r->status != 0)
		return cairn_error_set(
		        CAIRN_EINVAL, "plugin '%s' %s %d: %.*s", p->name,
		        r->exited ? "exited with status" : "was killed by signal", r->status,
		        (int)(el > PLUGIN_STDERR_QUOTE ? PLUGIN_STDERR_QUOTE : el), err);
	snprintf(what, sizeof(what), "output of plugin '%s'", p->name);
	return parse_output(out, &r->out, what);
}

int cairn_render_plugin_run(json_t **out, cairn_tree *t, const char *dir,
                            const cairn_render_plugin *p, const json_t *params, const char *app)
{
	cairn_proc_opts po = CAIRN_PROC_OPTS_INIT;
	cairn_proc_result r = {0};
	char tmpl[PATH_MAX], src[PATH_MAX + 8];
	char **env = NULL;
	int made = 0, ran = 0, rc;

	if (p == NULL || p->command == NULL || p->command[0] == NULL)
		return cairn_error_set(CAIRN_EINVAL, "plugin without a command");
	if (dir == NULL)
		dir = "";
	if ((rc = cairn_tempdir_make(tmpl, sizeof(tmpl), "cairn-plugin")) < 0)
		return rc;
	made = 1;
	if (snprintf(src, sizeof(src), "%s/src", tmpl) >= (int)sizeof(src) ||
	    mkdir(src, 0700) < 0) {
		rc = cairn_error_set_errno(errno, "cannot create '%s'", src);
		goto out;
	}
	if ((rc = extract(t, dir, src)) < 0 || (rc = make_env(&env, tmpl, dir, params, app)) < 0)
		goto out;
	po.cwd = src;
	po.env = (const char *const *)env;
	po.timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : CAIRN_RENDER_PLUGIN_TIMEOUT_MS;
	po.max_output = CAIRN_RENDER_FILE_MAX * 4;
	rc = cairn_proc_run(&r, p->command, &po);
	ran = rc == 0 || rc == CAIRN_ETIMEOUT;
	if (rc == CAIRN_ENOTFOUND)
		cairn_error_prefix("plugin '%s': ", p->name);
	if (ran)
		rc = plugin_result(out, &r, p);
out:
	if (ran)
		cairn_proc_result_dispose(&r);
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
	if (made)
		cairn_path_remove_tree(tmpl);
	return rc;
}
