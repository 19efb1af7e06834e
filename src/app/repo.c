/*
 * repo.c - Application definitions and ApplicationSet git generators read
 * from git repositories through the source module's mirror cache and its
 * cairn_tree backend, and the signed-commit requirement of projects and
 * Applications (docs/applications.md, docs/signatures.md).
 */
#include <sys/stat.h>

#include "app/app_private.h"
#include "cairn/config.h"
#include "cairn/error.h"

/* One fetched mirror, keyed by its normalised URL. */
struct git_mirror {
	char *url; /* normalised */
	cairn_source_repo *repo;
};

/* One opened tree, keyed by normalised URL and revision as written. */
struct git_tree {
	char *url;
	char *revision;
	char commit[CAIRN_SOURCE_OID_HEX_LEN];
	cairn_tree *tree;
};

struct cairn_app_git {
	char *state_dir;
	const cairn_config *cfg;
	int no_fetch;
	struct git_mirror *mirrors;
	size_t mirror_count;
	struct git_tree *trees;
	size_t tree_count;
};

int cairn_app_git_new(cairn_app_git **out, const char *state_dir, const cairn_config *cfg,
                      int no_fetch)
{
	cairn_app_git *g;

	if (state_dir == NULL)
		return cairn_error_set(CAIRN_EINVAL, "a state directory is needed for the mirrors");
	if ((g = calloc(1, sizeof(*g))) == NULL || (g->state_dir = strdup(state_dir)) == NULL) {
		free(g);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	g->cfg = cfg;
	g->no_fetch = no_fetch;
	*out = g;
	return 0;
}

void cairn_app_git_free(cairn_app_git *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->mirror_count; i++) {
		free(g->mirrors[i].url);
		cairn_source_repo_free(g->mirrors[i].repo);
	}
	for (size_t i = 0; i < g->tree_count; i++) {
		free(g->trees[i].url);
		free(g->trees[i].revision);
		cairn_tree_free(g->trees[i].tree);
	}
	free(g->mirrors);
	free(g->trees);
	free(g->state_dir);
	free(g);
}

/*
 * The credential references of the configured repository whose URL
 * normalises to `norm`, as borrowed views into the configuration.
 */
static void creds_for(cairn_source_creds *c, const cairn_config *cfg, const char *norm)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; cfg != NULL && i < cfg->repo_count; i++) {
		const cairn_config_repo *r = &cfg->repos[i];
		char *n = NULL;
		int same;

		if (cairn_source_url_normalize(&n, r->url) < 0) {
			cairn_error_clear();
			continue;
		}
		same = strcmp(n, norm) == 0;
		free(n);
		if (!same)
			continue;
		c->username = r->username;
		c->password_file = r->password_file;
		c->password_env = r->password_env;
		c->ssh_key_file = r->ssh_key_file;
		c->ssh_passphrase_env = r->ssh_passphrase_env;
		c->known_hosts_file = r->known_hosts_file;
		c->ca_file = r->ca_file;
		return;
	}
}

int cairn_app_git_repo(cairn_source_repo **out, cairn_app_git *g, const char *url)
{
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	cairn_source_creds creds;
	cairn_source_repo *repo = NULL;
	struct git_mirror *more;
	char *norm = NULL;
	int rc;

	if ((rc = cairn_source_url_normalize(&norm, url)) < 0)
		return rc;
	for (size_t i = 0; i < g->mirror_count; i++) {
		if (strcmp(g->mirrors[i].url, norm) == 0) {
			free(norm);
			*out = g->mirrors[i].repo;
			return 0;
		}
	}
	creds_for(&creds, g->cfg, norm);
	o.state_dir = g->state_dir;
	o.creds = &creds;
	if ((rc = cairn_source_open(&repo, url, &o)) < 0 ||
	    (!g->no_fetch && (rc = cairn_source_fetch(repo)) < 0))
		goto out;
	if ((more = realloc(g->mirrors, (g->mirror_count + 1) * sizeof(*more))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	g->mirrors = more;
	g->mirrors[g->mirror_count].url = norm;
	g->mirrors[g->mirror_count++].repo = repo;
	*out = repo;
	return 0;
out:
	free(norm);
	cairn_source_repo_free(repo);
	return rc;
}

/* The tree of `url` at `revision`, resolved and opened once per pair. */
static int git_tree(struct git_tree **out, cairn_app_git *g, const char *url, const char *revision)
{
	cairn_source_repo *repo;
	struct git_tree t, *more;
	int rc;

	memset(&t, 0, sizeof(t));
	if (revision == NULL || revision[0] == '\0')
		revision = "HEAD";
	if ((rc = cairn_source_url_normalize(&t.url, url)) < 0)
		return rc;
	for (size_t i = 0; i < g->tree_count; i++) {
		if (strcmp(g->trees[i].url, t.url) == 0 &&
		    strcmp(g->trees[i].revision, revision) == 0) {
			free(t.url);
			*out = &g->trees[i];
			return 0;
		}
	}
	if ((rc = cairn_app_git_repo(&repo, g, url)) < 0 ||
	    (rc = cairn_source_resolve(t.commit, repo, revision)) < 0 ||
	    (rc = app__strdup(&t.revision, revision)) < 0 ||
	    (rc = cairn_tree_open_git(&t.tree, repo, t.commit)) < 0)
		goto out;
	if ((more = realloc(g->trees, (g->tree_count + 1) * sizeof(*more))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	g->trees = more;
	g->trees[g->tree_count] = t;
	*out = &g->trees[g->tree_count++];
	return 0;
out:
	free(t.url);
	free(t.revision);
	cairn_tree_free(t.tree);
	return rc;
}

int cairn_app_git_resolve(char out[CAIRN_SOURCE_OID_HEX_LEN], cairn_app_git *g, const char *url,
                          const char *revision)
{
	struct git_tree *t;
	int rc = git_tree(&t, g, url, revision);

	if (rc == 0)
		memcpy(out, t->commit, CAIRN_SOURCE_OID_HEX_LEN);
	return rc;
}

static int git_list(void *ctx, const char *url, const char *rev, char ***out_paths,
                    int **out_is_dir, size_t *out_count)
{
	cairn_tree_list l = {NULL, 0};
	struct git_tree *t;
	char **paths = NULL;
	int *is_dir = NULL;
	size_t n = 0;
	int rc;

	if ((rc = git_tree(&t, ctx, url, rev)) < 0 ||
	    (rc = cairn_tree_list_dir(&l, t->tree, "", 1)) < 0)
		goto out;
	if (l.count > CAIRN_APP_MAX_OBJECTS) {
		rc = cairn_error_set(CAIRN_ELIMIT, "repository '%s' at '%s' holds too many files",
		                     url, rev);
		goto out;
	}
	if (l.count > 0 && ((paths = calloc(l.count, sizeof(*paths))) == NULL ||
	                    (is_dir = calloc(l.count, sizeof(*is_dir))) == NULL)) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.count; i++) {
		if (l.entries[i].kind == CAIRN_TREE_OTHER)
			continue; /* submodules hold nothing to read */
		if ((rc = app__strdup(&paths[n], l.entries[i].path)) < 0)
			goto out;
		is_dir[n++] = l.entries[i].kind == CAIRN_TREE_DIR;
	}
	*out_paths = paths;
	*out_is_dir = is_dir;
	*out_count = n;
	paths = NULL;
	is_dir = NULL;
out:
	app__strlist_free(paths, n);
	free(is_dir);
	cairn_tree_list_dispose(&l);
	return rc;
}

static int git_read(void *ctx, const char *url, const char *rev, const char *path, cairn_buf *out)
{
	struct git_tree *t;
	int rc = git_tree(&t, ctx, url, rev);

	return rc < 0 ? rc : cairn_tree_read(t->tree, out, path, CAIRN_APP_MAX_FILE_BYTES);
}

cairn_app_reader cairn_app_reader_git(cairn_app_git *g)
{
	cairn_app_reader r = {g, git_list, git_read};

	return r;
}

static int has_def_ext(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

/* A path of the listing is hidden when one of its components starts with '.'. */
static int hidden(const char *p)
{
	for (const char *s = p; s != NULL; s = strchr(s, '/')) {
		if (*s == '/')
			s++;
		if (*s == '.')
			return 1;
	}
	return 0;
}

/* Load one file of the tree, named "URL@REV:PATH" in messages. */
static int load_tree_file(cairn_app_set *set, struct git_tree *t, const char *url, const char *path,
                          const cairn_app_load_opts *opts)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_APP_MAX_FILE_BYTES);
	char redacted[CAIRN_SOURCE_URL_MAX];
	char *name = NULL;
	int rc;

	cairn_source_url_redact(redacted, sizeof(redacted), url);
	if ((rc = cairn_buf_printf(&b, "%s@%s:%s", redacted, t->revision, path)) < 0)
		goto out;
	if ((name = strdup(b.ptr)) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	b.len = 0;
	if ((rc = cairn_tree_read(t->tree, &b, path, CAIRN_APP_MAX_FILE_BYTES)) == 0)
		rc = cairn_app_set_load_data(set, b.ptr ? b.ptr : "", b.len, name, opts);
out:
	free(name);
	cairn_buf_dispose(&b);
	return rc;
}

int cairn_app_set_load_git(cairn_app_set *set, cairn_app_git *g, const char *url,
                           const char *revision, const char *path, const cairn_app_load_opts *opts)
{
	cairn_tree_list l = {NULL, 0};
	cairn_tree_kind kind;
	struct git_tree *t;
	cairn_buf full = CAIRN_BUF_INIT(4096);
	const char *dir = path ? path : "";
	int rc;

	while (*dir == '/')
		dir++;
	if ((rc = git_tree(&t, g, url, revision)) < 0 ||
	    (rc = cairn_tree_stat(t->tree, &kind, NULL, dir)) < 0)
		goto out;
	if (kind != CAIRN_TREE_DIR) {
		rc = load_tree_file(set, t, url, dir, opts);
		goto out;
	}
	if ((rc = cairn_tree_list_dir(&l, t->tree, dir, 1)) < 0)
		goto out;
	for (size_t i = 0; i < l.count; i++) {
		const cairn_tree_entry *e = &l.entries[i];

		if (e->kind != CAIRN_TREE_FILE || hidden(e->path) || !has_def_ext(e->path))
			continue;
		full.len = 0;
		if ((rc = cairn_buf_printf(&full, "%s%s%s", dir, dir[0] ? "/" : "", e->path)) < 0 ||
		    (rc = load_tree_file(set, t, url, full.ptr, opts)) < 0)
			goto out;
	}
out:
	cairn_tree_list_dispose(&l);
	cairn_buf_dispose(&full);
	return rc;
}

/* ---- signed-commit requirements ------------------------------------------- */

/* The `cairn.dev/allowed-signers` annotation of an Application, or NULL. */
static const char *app_annotation(const cairn_app *app)
{
	const json_t *ann =
	        json_object_get(json_object_get(app->manifest, "metadata"), "annotations");

	return json_string_value(json_object_get(ann, "cairn.dev/allowed-signers"));
}

/*
 * An annotation's path made absolute against the directory of the local
 * file that defined the object. A definition read from a repository has no
 * local directory: its relative paths are refused rather than guessed.
 */
static int signers_path(char **out, const char *value, const char *file, const char *what)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	struct stat st;
	char *dir;
	int rc;

	if (value[0] == '/' || file == NULL)
		return app__strdup(out, value);
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return cairn_error_set(CAIRN_EINVAL,
		                       "%s gives the relative allowed-signers path '%s' but was "
		                       "not read from a local file: give an absolute path",
		                       what, value);
	if (slash == NULL)
		return app__strdup(out, value);
	if ((dir = strndup(file, (size_t)(slash - file))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = cairn_path_join(out, dir[0] ? dir : "/", value);
	free(dir);
	return rc;
}

/* Verify `commit` against one allowed-signers file; fills the verdict. */
static int check_one(cairn_app_sig_verdict *v, const char *signers, const char *repo_path,
                     const char *commit, const char *by)
{
	cairn_allowed_signers *as = NULL;
	int rc;

	snprintf(v->signers_file, sizeof(v->signers_file), "%s", signers);
	/* `by` is built by the caller within sizeof(required_by); copy with a bound */
	size_t by_len = strnlen(by, sizeof(v->required_by) - 1);
	memcpy(v->required_by, by, by_len);
	v->required_by[by_len] = '\0';
	if ((rc = cairn_allowed_signers_load(&as, signers)) == 0)
		rc = cairn_source_verify_commit_path(&v->result, repo_path, commit, as);
	cairn_allowed_signers_free(as);
	if (rc == 0)
		v->allowed = v->result.status == CAIRN_SIG_VERIFIED;
	return rc;
}

int cairn_app_verify_revision(cairn_app_sig_verdict *out, const cairn_app *app,
                              const cairn_app_project *proj, const cairn_config *cfg,
                              cairn_source_repo *repo, const char *commit)
{
	cairn_app_sig_verdict v;
	char by[2][sizeof(((cairn_app_sig_verdict *)0)->required_by)];
	char *paths[2] = {NULL, NULL};
	const char *ann = app_annotation(app);
	int rc = 0, n = 0;

	memset(&v, 0, sizeof(v));
	v.allowed = 1;
	if (proj && proj->allowed_signers) {
		snprintf(by[n], sizeof(by[n]), "project '%s'", proj->name);
		rc = signers_path(&paths[n], proj->allowed_signers, proj->file, by[n]);
		n++;
	} else if (cfg && cfg->allowed_signers) {
		snprintf(by[n], sizeof(by[n]), "configuration '%s'", cfg->file ? cfg->file : "");
		rc = app__strdup(&paths[n++], cfg->allowed_signers);
	}
	if (rc == 0 && ann != NULL) {
		snprintf(by[n], sizeof(by[n]), "application '%s'", app->name);
		rc = signers_path(&paths[n], ann, app->file, by[n]);
		n++;
	}
	for (int i = 0; rc == 0 && i < n && v.allowed; i++) {
		v.required = 1;
		rc = check_one(&v, paths[i], cairn_source_repo_path(repo), commit, by[i]);
	}
	if (rc == 0)
		*out = v;
	free(paths[0]);
	free(paths[1]);
	return rc;
}
