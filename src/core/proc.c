/*
 * proc.c - run a program and capture what it prints.
 *
 * Used for git, kustomize, helm and the like: the child gets a clean
 * environment (only what the caller lists), no file descriptor of ours
 * but the three standard ones, its own process group so that a timeout
 * reaches its children too, and both output streams are read through
 * poll() at once so a chatty stderr cannot block a chatty stdout.
 * Everything the child needs (path, argv, envp) is built before fork(),
 * since only async-signal-safe calls are allowed after it in a threaded
 * program.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/util.h"

#define PROC_DEFAULT_MAX_OUTPUT ((size_t)64 << 20)
/* Grace between SIGTERM and SIGKILL on timeout. */
#define PROC_KILL_GRACE_US 1000000
/* After SIGKILL, how long we keep waiting for the pipes to close (a
 * grandchild that left the process group may hold them). */
#define PROC_DRAIN_US 1000000
#define PROC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define PROC_MAX_ENV 4096

/* What the child reports through the exec pipe when it fails. */
enum {
	STAGE_CHDIR = 1,
	STAGE_EXEC = 2,
	STAGE_SETUP = 3
};
struct child_failure {
	int stage;
	int err;
};

/*
 * Find `name` in our PATH as execvp would, but before fork. Returns a
 * malloc'd path, or NULL with CAIRN_ENOTFOUND (or ENOMEM) recorded.
 */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	size_t nlen = strlen(name);

	if (strchr(name, '/')) {
		char *copy = strdup(name);

		if (!copy)
			cairn_error_set(CAIRN_ENOMEM, "out of memory");
		return copy;
	}
	if (!path || !*path)
		path = PROC_DEFAULT_PATH;
	for (p = path;; p = end + 1) {
		size_t dlen;
		char *full;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		full = malloc(dlen + nlen + 3);
		if (!full) {
			cairn_error_set(CAIRN_ENOMEM, "out of memory");
			return NULL;
		}
		/* An empty PATH entry means the current directory. */
		snprintf(full, dlen + nlen + 3, "%.*s%s%s", (int)dlen, dlen ? p : ".", "/", name);
		if (access(full, X_OK) == 0) {
			struct stat st;

			if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
				return full;
		}
		free(full);
		if (*end == '\0')
			break;
	}
	cairn_error_set(CAIRN_ENOTFOUND, "program '%s' not found in PATH", name);
	return NULL;
}

static void free_env(char **envp)
{
	size_t i;

	if (!envp)
		return;
	for (i = 0; envp[i]; i++)
		free(envp[i]);
	free(envp);
}

/*
 * The child's environment: the caller's "NAME=value" entries, then each
 * allowed name that is set in ours. Nothing else is inherited.
 */
static int build_env(char ***out, const cairn_proc_opts *o)
{
	size_t n = 0, i, k = 0;
	char **envp;

	for (i = 0; o->env && o->env[i]; i++)
		n++;
	for (i = 0; o->env_allow && o->env_allow[i]; i++)
		n++;
	if (n > PROC_MAX_ENV)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d environment entries",
		                       PROC_MAX_ENV);
	if (!(envp = calloc(n + 1, sizeof(*envp))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (i = 0; o->env && o->env[i]; i++) {
		if (!strchr(o->env[i], '=')) {
			free_env(envp);
			return cairn_error_set(CAIRN_EINVAL,
			                       "environment entry '%s' is not NAME=value",
			                       o->env[i]);
		}
		if (!(envp[k++] = strdup(o->env[i])))
			goto nomem;
	}
	for (i = 0; o->env_allow && o->env_allow[i]; i++) {
		const char *v = getenv(o->env_allow[i]);
		size_t len;

		if (!v)
			continue;
		len = strlen(o->env_allow[i]) + strlen(v) + 2;
		if (!(envp[k] = malloc(len)))
			goto nomem;
		snprintf(envp[k++], len, "%s=%s", o->env_allow[i], v);
	}
	*out = envp;
	return 0;
nomem:
	free_env(envp);
	return cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

/*
 * Close-on-exec for every descriptor above 2: close_range() where the
 * kernel has CLOSE_RANGE_CLOEXEC (5.11), a loop otherwise. The exec
 * status pipe stays open until exec succeeds, which is the point.
 */
static void child_cloexec_all(long maxfd)
{
	long fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == 0)
		return;
#endif
	for (fd = 3; fd < maxfd; fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

static void child_fail(int statusfd, int stage, int err)
{
	struct child_failure f = {stage, err};
	ssize_t rc;

	do {
		rc = write(statusfd, &f, sizeof(f));
	} while (rc < 0 && errno == EINTR);
	_exit(127);
}

/*
 * In the child, after fork(): only async-signal-safe calls. Own process
 * group, default signal dispositions and an empty mask (an ignored
 * SIGPIPE would otherwise survive exec), the pipes on 0/1/2, cwd, exec.
 */
static void child_exec(const char *path, char *const *argv, char *const *envp, const char *cwd,
                       const int fds[3], int statusfd, long maxfd)
{
	sigset_t none;
	int i;

	setpgid(0, 0);
	for (i = 1; i < NSIG; i++) {
		if (i != SIGKILL && i != SIGSTOP)
			signal(i, SIG_DFL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < 3; i++) {
		/* dup2 onto itself would leave close-on-exec set. */
		if (fds[i] == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(fds[i], i) < 0)
			child_fail(statusfd, STAGE_SETUP, errno);
	}
	child_cloexec_all(maxfd);
	if (cwd && chdir(cwd) < 0)
		child_fail(statusfd, STAGE_CHDIR, errno);
	execve(path, argv, envp);
	child_fail(statusfd, STAGE_EXEC, errno);
}

/* The state of one run, shared by the helpers of the poll loop. */
struct run {
	pid_t pid;
	int in_fd, out_fd, err_fd;
	const uint8_t *in_data;
	size_t in_len, in_off;
	cairn_buf out, err;
	int64_t deadline, term_at, kill_at, drain_until;
	int timed_out, over_limit;
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * Write more stdin without risking SIGPIPE (the child may close its stdin
 * early): SIGPIPE is blocked for this thread around the write and a
 * SIGPIPE it raised is taken back with sigtimedwait, unless one was
 * already pending before.
 */
static void feed_stdin(struct run *r)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = {0, 0};
	int was_pending;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	do {
		n = write(r->in_fd, r->in_data + r->in_off, r->in_len - r->in_off);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EPIPE && !was_pending) {
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (n > 0)
		r->in_off += (size_t)n;
	if ((n < 0 && errno != EAGAIN) || r->in_off == r->in_len)
		close_fd(&r->in_fd);
}

/* Read what is there; at EOF or error the fd is closed. */
static void drain(struct run *r, int *fd, cairn_buf *b)
{
	char chunk[65536];
	ssize_t n;

	do {
		n = read(*fd, chunk, sizeof(chunk));
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (cairn_buf_put(b, chunk, (size_t)n) < 0 && !r->over_limit) {
			r->over_limit = 1;
			kill(-r->pid, SIGKILL);
			r->drain_until = cairn_time_mono() + PROC_DRAIN_US;
		}
		return;
	}
	if (n == 0 || errno != EAGAIN)
		close_fd(fd);
}

/* Timeout steps: SIGTERM to the group, SIGKILL a second later. */
static void check_deadlines(struct run *r, int64_t now)
{
	if (r->deadline && !r->timed_out && now >= r->deadline) {
		r->timed_out = 1;
		kill(-r->pid, SIGTERM);
		r->kill_at = now + PROC_KILL_GRACE_US;
	}
	if (r->kill_at && now >= r->kill_at) {
		kill(-r->pid, SIGKILL);
		r->kill_at = 0;
		r->drain_until = now + PROC_DRAIN_US;
	}
}

static int next_wait_ms(const struct run *r, int64_t now)
{
	int64_t next = INT64_MAX;

	if (r->deadline && !r->timed_out)
		next = r->deadline;
	if (r->kill_at && r->kill_at < next)
		next = r->kill_at;
	if (r->drain_until && r->drain_until < next)
		next = r->drain_until;
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999) / 1000);
}

/*
 * Pump stdin, stdout and stderr until both outputs reach EOF, applying
 * the timeout and the output limit. After the child has been killed we
 * wait at most PROC_DRAIN_US for the pipes, since a process that escaped
 * the group could keep them open forever.
 */
static void pump(struct run *r)
{
	while (r->out_fd >= 0 || r->err_fd >= 0) {
		struct pollfd p[3];
		int n = 0, rc, i;
		int64_t now = cairn_time_mono();

		check_deadlines(r, now);
		if (r->drain_until && now >= r->drain_until)
			break;
		if (r->in_fd >= 0)
			p[n++] = (struct pollfd){.fd = r->in_fd, .events = POLLOUT};
		if (r->out_fd >= 0)
			p[n++] = (struct pollfd){.fd = r->out_fd, .events = POLLIN};
		if (r->err_fd >= 0)
			p[n++] = (struct pollfd){.fd = r->err_fd, .events = POLLIN};
		rc = poll(p, (nfds_t)n, next_wait_ms(r, now));
		if (rc < 0 && errno != EINTR)
			break;
		for (i = 0; rc > 0 && i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == r->in_fd)
				feed_stdin(r);
			else if (p[i].fd == r->out_fd)
				drain(r, &r->out_fd, &r->out);
			else if (p[i].fd == r->err_fd)
				drain(r, &r->err_fd, &r->err);
		}
	}
	close_fd(&r->in_fd);
	close_fd(&r->out_fd);
	close_fd(&r->err_fd);
}

/* Make pipes for stdin (or /dev/null), stdout, stderr and exec status. */
static int make_pipes(int child[3], int parent[3], int status[2], int want_stdin)
{
	int p[2], i;

	for (i = 0; i < 3; i++)
		child[i] = parent[i] = -1;
	status[0] = status[1] = -1;
	if (want_stdin) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return cairn_error_set_errno(errno, "creating a pipe");
		child[0] = p[0], parent[0] = p[1];
	} else if ((child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		return cairn_error_set_errno(errno, "opening /dev/null");
	}
	for (i = 1; i < 3; i++) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return cairn_error_set_errno(errno, "creating a pipe");
		child[i] = p[1], parent[i] = p[0];
	}
	if (pipe2(status, O_CLOEXEC) < 0)
		return cairn_error_set_errno(errno, "creating a pipe");
	for (i = 0; i < 3; i++) {
		if (parent[i] >= 0)
			fcntl(parent[i], F_SETFL, fcntl(parent[i], F_GETFL) | O_NONBLOCK);
	}
	return 0;
}

/* Read the child's exec report: 0 when exec succeeded (EOF). */
static int read_exec_status(int fd, const char *prog, const char *cwd)
{
	struct child_failure f;
	ssize_t n;

	do {
		n = read(fd, &f, sizeof(f));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(f))
		return 0;
	if (f.stage == STAGE_CHDIR)
		return cairn_error_set_errno(f.err, "changing to directory '%s' to run '%s'", cwd,
		                             prog);
	if (f.stage == STAGE_EXEC && f.err == ENOENT)
		return cairn_error_set(CAIRN_ENOTFOUND, "program '%s' not found", prog);
	return cairn_error_set_errno(f.err, "running '%s'", prog);
}

static void wait_child(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
		;
}

/*
 * Reap the child after its pipes closed. It may have closed them and
 * still run, so a pending timeout keeps applying: checked after 0.1 ms,
 * then twice as long each time up to every 10 ms (most children exit
 * right after closing their output, and a flat 10 ms wait was on the
 * path of every git and plugin run).
 * waitid(WNOWAIT) sees the exit without reaping: the zombie keeps the
 * process group id reserved while, after a timeout, SIGKILL goes to the
 * group for members that ignored SIGTERM.
 */
static void wait_run(struct run *r, int *wstatus)
{
	useconds_t nap = 100;

	for (;;) {
		siginfo_t si;
		int pending = (r->deadline && !r->timed_out) || r->kill_at;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOWAIT | (pending ? WNOHANG : 0)) <
		    0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (si.si_pid == r->pid)
			break;
		usleep(nap);
		nap = nap < 5000 ? nap * 2 : 10000;
		check_deadlines(r, cairn_time_mono());
	}
	if (r->timed_out)
		kill(-r->pid, SIGKILL);
	wait_child(r->pid, wstatus);
}

/*
 * Fork and exec with everything prepared; on success r->pid is set and
 * the parent's pipe ends are in r. Errors from the child's side of exec
 * come back through the status pipe.
 */
static int spawn(struct run *r, const char *path, char *const *argv, char **envp,
                 const cairn_proc_opts *o)
{
	int child[3], parent[3], status[2], rc, i, ws;
	long maxfd = sysconf(_SC_OPEN_MAX);

	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	rc = make_pipes(child, parent, status, o->stdin_data != NULL);
	if (rc == 0) {
		r->pid = fork();
		if (r->pid == 0)
			child_exec(path, argv, envp, o->cwd, child, status[1], maxfd);
		if (r->pid < 0)
			rc = cairn_error_set_errno(errno, "fork");
	}
	for (i = 0; i < 3; i++)
		if (child[i] >= 0)
			close(child[i]);
	if (status[1] >= 0)
		close(status[1]);
	if (rc == 0) {
		/* Also here, so that kill(-pid) works even before the child
		 * got to its own setpgid(). */
		setpgid(r->pid, r->pid);
		rc = read_exec_status(status[0], argv[0], o->cwd);
		if (rc < 0)
			wait_child(r->pid, &ws);
	}
	if (status[0] >= 0)
		close(status[0]);
	if (rc < 0) {
		for (i = 0; i < 3; i++)
			if (parent[i] >= 0)
				close(parent[i]);
		return rc;
	}
	r->in_fd = parent[0], r->out_fd = parent[1], r->err_fd = parent[2];
	return 0;
}

int cairn_proc_run(cairn_proc_result *result, const char *const *argv, const cairn_proc_opts *opts)
{
	cairn_proc_opts defaults = CAIRN_PROC_OPTS_INIT;
	const cairn_proc_opts *o = opts ? opts : &defaults;
	struct run r = {.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
	size_t max = o->max_output ? o->max_output : PROC_DEFAULT_MAX_OUTPUT;
	char *path = NULL, **envp = NULL;
	int rc, ws = 0;

	if (!argv || !argv[0] || !*argv[0])
		return cairn_error_set(CAIRN_EINVAL, "no program to run");
	if (o->version != CAIRN_PROC_OPTS_VERSION)
		return cairn_error_set(CAIRN_EINVAL, "cairn_proc_opts version %u, expected %d",
		                       o->version, CAIRN_PROC_OPTS_VERSION);
	cairn_buf_init(&r.out, max);
	cairn_buf_init(&r.err, max);
	r.in_data = o->stdin_data, r.in_len = o->stdin_len;
	if (!(path = find_program(argv[0]))) {
		rc = cairn_error_last()->code;
		goto out;
	}
	if ((rc = build_env(&envp, o)) < 0)
		goto out;
	if (o->timeout_ms > 0)
		r.deadline = cairn_time_mono() + o->timeout_ms * 1000;
	if ((rc = spawn(&r, path, (char *const *)argv, envp, o)) < 0)
		goto out;
	if (r.in_fd >= 0 && r.in_len == 0)
		close_fd(&r.in_fd);
	pump(&r);
	wait_run(&r, &ws);
	if (r.over_limit) {
		rc = cairn_error_set(CAIRN_ELIMIT, "'%s' printed more than %zu bytes on one stream",
		                     argv[0], max);
		goto out;
	}
	result->exited = WIFEXITED(ws);
	result->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws);
	result->timed_out = r.timed_out;
	result->out = r.out;
	result->err = r.err;
	cairn_buf_init(&r.out, max);
	cairn_buf_init(&r.err, max);
	rc = 0;
	if (r.timed_out)
		rc = cairn_error_set(CAIRN_ETIMEOUT, "'%s' did not finish within %lld ms", argv[0],
		                     (long long)o->timeout_ms);
out:
	cairn_buf_dispose(&r.out);
	cairn_buf_dispose(&r.err);
	free(path);
	free_env(envp);
	return rc;
}

void cairn_proc_result_dispose(cairn_proc_result *result)
{
	if (!result)
		return;
	cairn_buf_dispose(&result->out);
	cairn_buf_dispose(&result->err);
}
