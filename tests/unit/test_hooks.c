/*
 * test_hooks.c - the post-receive hook's HTTP call (src/cli/hook_notify.c):
 * URL splitting, the status line, and one request to a listener in this
 * process that records what arrived. The hooks themselves, with git and
 * cairnd, are in tests/integration/hooks.sh.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/cli/hook_notify.h"
#include "cairn/error.h"
#include "testutil.h"

START_TEST(url_forms)
{
	hook_url u;

	ck_assert_int_eq(hook_url_parse(&u, "http://127.0.0.1:8470"), 0);
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_str_eq(u.port, "8470");
	ck_assert_str_eq(u.path, "");
	ck_assert_int_eq(hook_url_parse(&u, "http://cairn.internal/prefix/x///"), 0);
	ck_assert_str_eq(u.host, "cairn.internal");
	ck_assert_str_eq(u.port, "80");
	ck_assert_str_eq(u.path, "/prefix/x");
	ck_assert_int_eq(hook_url_parse(&u, "http://[::1]:9/"), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_str_eq(u.port, "9");
	ck_assert_str_eq(u.path, "");
}
END_TEST

START_TEST(url_refused)
{
	static const struct {
		const char *url, *why;
	} bad[] = {
	        {"https://127.0.0.1", "expected http://"},
	        {"127.0.0.1:8470", "expected http://"},
	        {"http://", "expected a host name"},
	        {"http://:80", "expected a host name"},
	        {"http://h:0", "expected a port 1-65535"},
	        {"http://h:65536", "expected a port 1-65535"},
	        {"http://h:", "expected a port"},
	        {"http://h:12x", "unexpected 'x'"},
	        {"http://u:p@h", "user information"},
	        {"http://h/a?b=1", "a query, fragment or space"},
	        {"http://h?x", "unexpected '?'"},
	        {"http://[::1", "'[' without ']'"},
	        {"http://[::1/x]", "expected an IPv6 address"},
	};
	hook_url u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(hook_url_parse(&u, bad[i].url) == CAIRN_EINVAL, "%s", bad[i].url);
		ck_assert_msg(strstr(cairn_error_last()->message, bad[i].why) != NULL, "%s: %s",
		              bad[i].url, cairn_error_last()->message);
		ck_assert_msg(strstr(cairn_error_last()->message, bad[i].url) != NULL, "%s",
		              bad[i].url);
	}
}
END_TEST

START_TEST(status_line)
{
	int code = 0;

	ck_assert_int_eq(hook_http_status(&code, "HTTP/1.1 202 Accepted\r\n", 23), 0);
	ck_assert_int_eq(code, 202);
	ck_assert_int_eq(hook_http_status(&code, "HTTP/1.0 401\r\n", 14), 0);
	ck_assert_int_eq(code, 401);
	ck_assert_int_eq(hook_http_status(&code, "HTTP/1.1 202 Accepted", 21), CAIRN_EINVAL);
	ck_assert_int_eq(hook_http_status(&code, "HTTP/2 202 x\r\n", 14), CAIRN_EINVAL);
	ck_assert_int_eq(hook_http_status(&code, "HTTP/1.1 2x2 x\r\n", 16), CAIRN_EINVAL);
	ck_assert_int_eq(hook_http_status(&code, "HTTP/1.1 2020\r\n", 15), CAIRN_EINVAL);
	ck_assert_int_eq(hook_http_status(&code, "\n", 1), CAIRN_EINVAL);
	ck_assert_int_eq(code, 401); /* untouched on error */
}
END_TEST

/* A listener on 127.0.0.1 that reads one request, answers `answer`. */
struct server {
	int fd;
	const char *answer;
	char got[8192];
};

static void *serve(void *arg)
{
	struct server *s = arg;
	size_t len = 0;
	ssize_t n;
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	/* until the body: the request ends with git's last line */
	while (len < sizeof(s->got) - 1 &&
	       (n = recv(c, s->got + len, sizeof(s->got) - 1 - len, 0)) > 0) {
		len += (size_t)n;
		s->got[len] = '\0';
		if (strstr(s->got, "refs/heads/main\n") != NULL)
			break;
	}
	if (send(c, s->answer, strlen(s->answer), MSG_NOSIGNAL) < 0)
		perror("send");
	close(c);
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void post(int *rc, int *code, const char *url, const char *auth_line)
{
	const char *tmp = getenv("TMPDIR");
	char auth[4096];
	char lines[] = "0000000000000000000000000000000000000000 "
	               "1111111111111111111111111111111111111111 refs/heads/main\n";
	int fd;
	FILE *in = fmemopen(lines, strlen(lines), "r");

	snprintf(auth, sizeof(auth), "%s/cairn-hooks-auth.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(auth);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, auth_line, strlen(auth_line)), (ssize_t)strlen(auth_line));
	close(fd);
	*rc = hook_notify(code, url, auth, "/srv/git/apps.git", in, 5000);
	fclose(in);
	unlink(auth);
}

START_TEST(notify_request)
{
	struct server s = {0, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", ""};
	char url[64];
	pthread_t t;
	int port, rc, code = 0;

	s.fd = listen_any(&port);
	ck_assert_int_eq(pthread_create(&t, NULL, serve, &s), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cairn/", port);
	post(&rc, &code, url, "Authorization: Bearer tok-1\n");
	pthread_join(t, NULL);
	close(s.fd);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(code, 202);
	ck_assert_ptr_nonnull(strstr(s.got, "POST /cairn/api/v1/trigger HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(s.got, "\r\nAuthorization: Bearer tok-1\r\n"));
	ck_assert_ptr_nonnull(strstr(s.got, "\r\nContent-Length: 121\r\n"));
	ck_assert_ptr_nonnull(strstr(s.got, "\r\n\r\nrepo /srv/git/apps.git\n0000"));
}
END_TEST

START_TEST(notify_failures)
{
	struct server s = {0, "HTTP/1.1 401 Unauthorized\r\n\r\n", ""};
	char url[64];
	pthread_t t;
	int port, rc, code = 0;

	s.fd = listen_any(&port);
	ck_assert_int_eq(pthread_create(&t, NULL, serve, &s), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	post(&rc, &code, url, "Authorization: Bearer wrong\n");
	pthread_join(t, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(code, 401);
	close(s.fd); /* nobody listens there any more */
	post(&rc, &code, url, "Authorization: Bearer x\n");
	ck_assert_int_eq(rc, CAIRN_EIO);
	ck_assert_error_contains("cannot connect to");
	post(&rc, &code, url, "Bearer x\n");
	ck_assert_int_eq(rc, CAIRN_EINVAL);
	ck_assert_error_contains("expected one line 'Authorization: Bearer TOKEN'");
	post(&rc, &code, url, "Authorization: Bearer x\nX-Other: y\n");
	ck_assert_int_eq(rc, CAIRN_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hooks");
	TCase *tc = tcase_create("hooks");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, url_forms);
	tcase_add_test(tc, url_refused);
	tcase_add_test(tc, status_line);
	tcase_add_test(tc, notify_request);
	tcase_add_test(tc, notify_failures);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
