/*
 * source_git.c - the source module against real repositories made by
 * `git` in a temporary directory: revision resolution (checked against
 * `git rev-parse`), the tree interface on both backends with the same
 * cases, the mirror lock, repair after a damaged mirror, commit+push.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cairn/source.h"
#include "source_tests.h"

static char tmp[256];

/* Run a shell command in tmp; assert it succeeds. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096], full[4400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && (%s) >/dev/null 2>&1", tmp, cmd);
	ck_assert_msg(system(full) == 0, "command failed: %s", cmd);
}

/* First line of a command's output (git rev-parse). */
static void capture(char *out, size_t size, const char *cmd)
{
	char full[1024];
	FILE *p;

	snprintf(full, sizeof(full), "cd '%s' && %s", tmp, cmd);
	p = popen(full, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, (int)size, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cairn-source-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	sh("export GIT_CONFIG_NOSYSTEM=1 HOME=%s; git init -q -b main src && cd src && "
	   "git config user.email t@example.com && git config user.name T && "
	   "mkdir -p apps/web sub && printf 'kind: A\\n' > apps/web/a.yaml && "
	   "printf '0123456789' > ten && ln -s apps/web/a.yaml in && ln -s ../etc/passwd out && "
	   "ln -s /etc/passwd abs && ln -s l2 l1 && ln -s l1 l2 && ln -s apps/web webdir && "
	   "ln -s ../apps/web/a.yaml sub/up && ln -s ../../x sub/esc && printf x > sub/f && "
	   "chmod +x sub/f && git add -A && git commit -qm one && git tag v1.2.0 && "
	   "printf 'kind: B\\n' > apps/web/b.yaml && git add -A && git commit -qm two && "
	   "git tag -a v1.3.0 -m rel && git tag v2.0.0-rc.1 && git checkout -qb dev && "
	   "printf d > d && git add d && git commit -qm three && git checkout -q main",
	   tmp);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static cairn_source_repo *open_src(const char *url)
{
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	cairn_source_repo *r = NULL;
	char state[300], u[300];

	snprintf(state, sizeof(state), "%s/state", tmp);
	snprintf(u, sizeof(u), "%s/%s", tmp, url);
	o.state_dir = state;
	o.lock_timeout_ms = 300;
	ck_assert_msg(cairn_source_open(&r, u, &o) == 0, "%s", cairn_error_last()->message);
	return r;
}

static void expect_rev(cairn_source_repo *r, const char *rev, const char *gitrev)
{
	char got[CAIRN_SOURCE_OID_HEX_LEN], want[128], cmd[256];

	snprintf(cmd, sizeof(cmd), "git -C src rev-parse '%s^{commit}'", gitrev);
	capture(want, sizeof(want), cmd);
	ck_assert_msg(cairn_source_resolve(got, r, rev) == 0, "resolving '%s': %s", rev,
	              cairn_error_last()->message);
	ck_assert_msg(strcmp(got, want) == 0, "'%s' gave %s, git says %s", rev, got, want);
}

START_TEST(resolve_revisions)
{
	cairn_source_repo *r = open_src("src");
	char id[CAIRN_SOURCE_OID_HEX_LEN], full[64], abbrev[16];

	ck_assert_int_eq(cairn_source_resolve(id, r, "main"), CAIRN_ENOTFOUND); /* not fetched */
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	expect_rev(r, "HEAD", "main");
	expect_rev(r, "", "main");
	expect_rev(r, "main", "main");
	expect_rev(r, "dev", "dev");
	expect_rev(r, "refs/heads/dev", "dev");
	expect_rev(r, "v1.3.0", "v1.3.0"); /* annotated: peeled */
	expect_rev(r, "^1.2", "v1.3.0");   /* highest match, rc excluded */
	expect_rev(r, "1.2.*", "v1.2.0");
	expect_rev(r, ">=1.2.0 <1.3.0", "v1.2.0");
	expect_rev(r, ">=2.0.0-rc.0", "v2.0.0-rc.1");
	capture(full, sizeof(full), "git -C src rev-parse dev~1");
	expect_rev(r, full, "dev~1");
	snprintf(abbrev, sizeof(abbrev), "%.9s", full);
	expect_rev(r, abbrev, "dev~1");
	ck_assert_int_eq(cairn_source_resolve(id, r, "nope"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("revision 'nope' not found");
	ck_assert_int_eq(cairn_source_resolve(id, r, "~9.0"), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_source_resolve(id, r, "0000000000000000000000000000000000000000"),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("commit '0000000000000000000000000000000000000000' not found");
	/* a deleted branch is pruned on the next fetch */
	sh("git -C src branch -qD dev");
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	ck_assert_int_eq(cairn_source_resolve(id, r, "dev"), CAIRN_ENOTFOUND);
	cairn_source_repo_free(r);
}
END_TEST

/* The same cases on a tree: the git commit and the checked-out directory. */
static void tree_cases(cairn_tree *t)
{
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);
	cairn_tree_list l = {NULL, 0};
	cairn_tree_kind kind;
	uint64_t size;

	ck_assert_int_eq(cairn_tree_read(t, &b, "apps/web/a.yaml", 0), 0);
	ck_assert_str_eq(b.ptr, "kind: A\n");
	cairn_buf_reset(&b);
	ck_assert_int_eq(cairn_tree_read(t, &b, "in", 0), 0);
	ck_assert_str_eq(b.ptr, "kind: A\n");
	cairn_buf_reset(&b);
	ck_assert_int_eq(cairn_tree_read(t, &b, "sub/up", 0), 0);
	ck_assert_str_eq(b.ptr, "kind: A\n");
	cairn_buf_reset(&b);
	ck_assert_int_eq(cairn_tree_read(t, &b, "webdir/b.yaml", 0), 0);
	ck_assert_str_eq(b.ptr, "kind: B\n");
	cairn_buf_reset(&b);
	ck_assert_int_eq(cairn_tree_read(t, &b, "./apps//web/../web/a.yaml", 0), 0);
	cairn_buf_reset(&b);

	ck_assert_int_eq(cairn_tree_read(t, &b, "out", 0), CAIRN_EPERM);
	ck_assert_error_contains("symlink 'out' points outside the tree");
	ck_assert_int_eq(cairn_tree_read(t, &b, "abs", 0), CAIRN_EPERM);
	ck_assert_error_contains("symlink 'abs' points outside the tree");
	ck_assert_int_eq(cairn_tree_read(t, &b, "sub/esc", 0), CAIRN_EPERM);
	ck_assert_error_contains("symlink 'sub/esc'");
	ck_assert_int_eq(cairn_tree_read(t, &b, "l1", 0), CAIRN_ELIMIT);
	ck_assert_error_contains("too many levels of symbolic links");
	ck_assert_int_eq(cairn_tree_read(t, &b, "../src/ten", 0), CAIRN_EPERM);
	ck_assert_error_contains("leaves the tree");
	ck_assert_int_eq(cairn_tree_read(t, &b, "/etc/passwd", 0), CAIRN_EPERM);
	ck_assert_int_eq(cairn_tree_read(t, &b, "missing", 0), CAIRN_ENOTFOUND);
	ck_assert_error_contains("'missing' not found");
	ck_assert_int_eq(cairn_tree_read(t, &b, "ten/x", 0), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_tree_read(t, &b, "apps", 0), CAIRN_EINVAL);
	ck_assert_error_contains("is a directory");
	ck_assert_int_eq(cairn_tree_read(t, &b, "ten", 9), CAIRN_ELIMIT);
	ck_assert_error_contains("more than the limit of 9");
	ck_assert_int_eq(b.len, 0);
	ck_assert_int_eq(cairn_tree_read(t, &b, "ten", 10), 0);
	ck_assert_int_eq(b.len, 10);

	ck_assert_int_eq(cairn_tree_stat(t, &kind, &size, "webdir"), 0);
	ck_assert_int_eq(kind, CAIRN_TREE_DIR);
	ck_assert_int_eq(cairn_tree_stat(t, &kind, &size, "in"), 0);
	ck_assert_int_eq(kind, CAIRN_TREE_FILE);
	ck_assert_int_eq(size, 8);
	ck_assert_int_eq(cairn_tree_stat(t, &kind, &size, ""), 0);
	ck_assert_int_eq(kind, CAIRN_TREE_DIR);

	ck_assert_int_eq(cairn_tree_list_dir(&l, t, "", 0), 0);
	{
		static const char *want[] = {"abs", "apps", "in",  "l1",    "l2",
		                             "out", "sub",  "ten", "webdir"};
		ck_assert_int_eq(l.count, 9);
		for (size_t i = 0; i < l.count; i++)
			ck_assert_str_eq(l.entries[i].path, want[i]);
		ck_assert_int_eq(l.entries[0].kind, CAIRN_TREE_SYMLINK);
		ck_assert_int_eq(l.entries[1].kind, CAIRN_TREE_DIR);
		ck_assert_int_eq(l.entries[7].size, 10);
	}
	cairn_tree_list_dispose(&l);
	ck_assert_int_eq(cairn_tree_list_dir(&l, t, "sub", 1), 0);
	ck_assert_int_eq(l.count, 3);
	ck_assert_str_eq(l.entries[1].path, "f");
	ck_assert_int_eq(l.entries[1].executable, 1);
	cairn_tree_list_dispose(&l);
	ck_assert_int_eq(cairn_tree_list_dir(&l, t, "", 1), 0);
	ck_assert_int_eq(l.count, 15); /* 9 + apps/web, 2 yaml, sub's 3 */
	ck_assert_str_eq(l.entries[2].path, "apps/web");
	ck_assert_str_eq(l.entries[3].path, "apps/web/a.yaml");
	cairn_tree_list_dispose(&l);
	ck_assert_int_eq(cairn_tree_list_dir(&l, t, "webdir", 0), 0);
	ck_assert_int_eq(l.count, 2);
	cairn_tree_list_dispose(&l);
	ck_assert_int_eq(cairn_tree_list_dir(&l, t, "ten", 0), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_tree_list_dir(&l, t, "out", 0), CAIRN_EPERM);
	ck_assert_ptr_null(l.entries);
	cairn_buf_dispose(&b);
}

START_TEST(tree_git_backend)
{
	cairn_source_repo *r = open_src("src");
	char id[CAIRN_SOURCE_OID_HEX_LEN];
	cairn_tree *t = NULL;

	ck_assert_int_eq(cairn_source_fetch(r), 0);
	ck_assert_int_eq(cairn_source_resolve(id, r, "main"), 0);
	ck_assert_int_eq(cairn_tree_open_git(&t, r, id), 0);
	cairn_source_repo_free(r); /* the tree keeps its own handle */
	tree_cases(t);
	cairn_tree_free(t);
	ck_assert_int_eq(cairn_tree_open_git_path(&t, "/nonexistent", id), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_tree_open_git_path(&t, tmp, "xyz"), CAIRN_EINVAL);
	ck_assert_error_contains("bad commit id 'xyz'");
}
END_TEST

START_TEST(tree_dir_backend)
{
	cairn_tree *t = NULL;
	char root[300];

	snprintf(root, sizeof(root), "%s/src", tmp);
	ck_assert_int_eq(cairn_tree_open_dir(&t, root), 0);
	tree_cases(t);
	cairn_tree_free(t);
	ck_assert_int_eq(cairn_tree_open_dir(&t, "/nonexistent-cairn"), CAIRN_ENOTFOUND);
}
END_TEST

struct fetch_arg {
	const char *url;
	int rc;
};

static void *fetch_thread(void *p)
{
	struct fetch_arg *a = p;
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	cairn_source_repo *r = NULL;
	char state[300];

	snprintf(state, sizeof(state), "%s/state", tmp);
	o.state_dir = state;
	a->rc = cairn_source_open(&r, a->url, &o);
	for (int i = 0; i < 5 && a->rc == 0; i++)
		a->rc = cairn_source_fetch(r);
	cairn_source_repo_free(r);
	return NULL;
}

START_TEST(lock_concurrent_and_busy)
{
	struct fetch_arg a[4];
	pthread_t th[4];
	cairn_source_repo *r;
	char url[300], lock[400];
	int fd;

	snprintf(url, sizeof(url), "%s/src", tmp);
	for (int i = 0; i < 4; i++) {
		a[i].url = url;
		pthread_create(&th[i], NULL, fetch_thread, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(a[i].rc, 0);
	}
	r = open_src("src");
	snprintf(lock, sizeof(lock), "%s", cairn_source_repo_path(r));
	memcpy(lock + strlen(lock) - 4, ".lock", 6);
	fd = open(lock, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(cairn_source_fetch(r), CAIRN_EBUSY);
	ck_assert_error_contains("locked by another fetch");
	close(fd);
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	cairn_source_repo_free(r);
}
END_TEST

START_TEST(repair_damaged_mirror)
{
	cairn_source_repo *r = open_src("src");
	char id[CAIRN_SOURCE_OID_HEX_LEN];
	const char *m;

	ck_assert_int_eq(cairn_source_fetch(r), 0);
	m = cairn_source_repo_path(r);
	/* what a killed fetch leaves: ref lock files and a temporary pack */
	sh("touch '%s/refs/heads/main.lock' '%s/packed-refs.lock' '%s/objects/pack/pack_git2_x'", m,
	   m, m);
	sh("cd src && printf z > z && git add z && git commit -qm four");
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	expect_rev(r, "main", "main");
	sh("test ! -e '%s/refs/heads/main.lock'", m);
	cairn_source_repo_free(r);
	/* worse: objects lost; the next open+fetch recreates the mirror */
	r = open_src("src");
	m = cairn_source_repo_path(r);
	sh("rm -rf '%s/objects/'?? '%s/objects/pack'", m, m);
	cairn_source_repo_free(r);
	r = open_src("src");
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	expect_rev(r, "main", "main");
	cairn_source_repo_free(r);
	/* garbage instead of a repository */
	r = open_src("src");
	m = cairn_source_repo_path(r);
	sh("rm -rf '%s' && mkdir '%s' && echo junk > '%s/HEAD'", m, m, m);
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	ck_assert_int_eq(cairn_source_resolve(id, r, "v1.2.0"), 0);
	cairn_source_repo_free(r);
}
END_TEST

START_TEST(fetch_errors)
{
	cairn_source_opts o = CAIRN_SOURCE_OPTS_INIT;
	cairn_source_repo *r = NULL;
	char state[300];

	snprintf(state, sizeof(state), "%s/state", tmp);
	o.state_dir = state;
	ck_assert_int_eq(cairn_source_open(&r, "/nonexistent/cairn-repo", &o), 0);
	ck_assert_int_eq(cairn_source_fetch(r), CAIRN_EIO);
	ck_assert_error_contains("fetching '/nonexistent/cairn-repo'");
	cairn_source_repo_free(r);
	ck_assert_int_eq(cairn_source_open(&r, "https://u:hunter2@127.0.0.1:1/x", &o),
	                 CAIRN_EINVAL);
	ck_assert_msg(!strstr(cairn_error_last()->message, "hunter2"), "%s",
	              cairn_error_last()->message);
	ck_assert_error_contains("'https://***@127.0.0.1:1/x'");
	o.state_dir = NULL;
	ck_assert_int_eq(cairn_source_open(&r, "/x", &o), CAIRN_EINVAL);
}
END_TEST

START_TEST(commit_and_push)
{
	cairn_source_repo *r;
	cairn_source_signature who = {"Cairn Bot", "bot@example.com"};
	cairn_source_change ch[] = {{"envs/prod/version.txt", "v2\n", 3}, {"ten", NULL, 0}};
	cairn_source_change bad[] = {{"../x", "x", 1}};
	char id[CAIRN_SOURCE_OID_HEX_LEN], head[64], out[256];
	int rc;

	sh("git clone -q --bare src remote.git");
	r = open_src("remote.git");
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	ck_assert_int_eq(cairn_source_commit_push(id, r, "main", ch, 2, &who, &who, "promote\n"),
	                 0);
	capture(head, sizeof(head), "git -C remote.git rev-parse main");
	ck_assert_str_eq(id, head);
	capture(out, sizeof(out), "git -C remote.git show main:envs/prod/version.txt");
	ck_assert_str_eq(out, "v2");
	capture(out, sizeof(out), "git -C remote.git log -1 --format='%an <%ae> %s' main");
	ck_assert_str_eq(out, "Cairn Bot <bot@example.com> promote");
	sh("test -z \"$(git -C remote.git ls-tree main ten)\"");
	sh("git -C remote.git cat-file -e main:apps/web/a.yaml");
	ck_assert_int_eq(cairn_source_commit_push(id, r, "nobranch", ch, 1, &who, &who, "m"),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("branch 'nobranch' not found");
	ck_assert_int_eq(cairn_source_commit_push(id, r, "main", bad, 1, &who, &who, "m"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("bad path '../x'");
	/* someone else pushed meanwhile: ours is not a fast-forward */
	sh("git clone -q remote.git other && cd other && git -c user.name=o -c user.email=o@e "
	   "commit -q --allow-empty -m other && git push -q origin main");
	rc = cairn_source_commit_push(id, r, "main", ch, 1, &who, &who, "m");
	ck_assert_msg(rc == CAIRN_EEXISTS, "%d: %s", rc, cairn_error_last()->message);
	ck_assert_error_contains("rejected");
	ck_assert_int_eq(cairn_source_fetch(r), 0);
	ck_assert_int_eq(cairn_source_commit_push(id, r, "main", ch, 1, &who, &who, "m2"), 0);
	capture(head, sizeof(head), "git -C remote.git rev-parse main");
	ck_assert_str_eq(id, head);
	cairn_source_repo_free(r);
}
END_TEST

void source_git_tests(Suite *s)
{
	TCase *tc = tcase_create("git");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, resolve_revisions);
	tcase_add_test(tc, tree_git_backend);
	tcase_add_test(tc, tree_dir_backend);
	tcase_add_test(tc, lock_concurrent_and_busy);
	tcase_add_test(tc, repair_damaged_mirror);
	tcase_add_test(tc, fetch_errors);
	tcase_add_test(tc, commit_and_push);
	suite_add_tcase(s, tc);
}
