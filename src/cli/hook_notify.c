/*
 * hook_notify.c - the post-receive hook's POST to cairnd (hook_notify.h).
 *
 * A hook runs on every push and git waits for it: a `curl` process costs
 * more than this whole request to a daemon on the same machine. Only what
 * the hook needs: plain HTTP/1.1, one request, Connection: close, and the
 * status code of the answer (its body is not read).
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "hook_notify.h"

/* The request body: "repo PATH" and git's "OLD NEW REF" lines. */
#define BODY_MAX ((size_t)1 << 20)

int hook_url_parse(hook_url *u, const char *url)
{
	const char *p = url, *host, *end, *port = NULL;
	size_t hlen, plen;

	if (strncmp(p, "http://", 7) != 0)
		return cairn_error_set(CAIRN_EINVAL, "URL '%s': expected http://HOST[:PORT][/PATH]",
		                       url);
	host = p += 7;
	if (memchr(p, '@', strcspn(p, "/?#")) != NULL)
		return cairn_error_set(CAIRN_EINVAL, "URL '%s': user information is not supported",
		                       url);
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return cairn_error_set(CAIRN_EINVAL, "URL '%s': '[' without ']'", url);
		host = p + 1;
		hlen = (size_t)(end - host);
		if (strspn(host, "0123456789abcdefABCDEF:.") < hlen)
			return cairn_error_set(CAIRN_EINVAL,
			                       "URL '%s': expected an IPv6 address in '[]'", url);
		p = end + 1;
	} else {
		hlen = strcspn(p, ":/?#");
		p += hlen;
	}
	if (hlen == 0 || hlen >= sizeof(u->host))
		return cairn_error_set(CAIRN_EINVAL,
		                       "URL '%s': expected a host name of 1 to %zu "
		                       "characters",
		                       url, sizeof(u->host) - 1);
	if (*p == ':') {
		port = ++p;
		plen = strspn(p, "0123456789");
		if (plen == 0 || plen > 5 || atoi(port) < 1 || atoi(port) > 65535)
			return cairn_error_set(CAIRN_EINVAL, "URL '%s': expected a port 1-65535",
			                       url);
		p += plen;
	}
	if (*p != '\0' && *p != '/')
		return cairn_error_set(CAIRN_EINVAL,
		                       "URL '%s': unexpected '%c' (no query or fragment here)", url,
		                       *p);
	if (strpbrk(p, "?# \t\r\n") != NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "URL '%s': a query, fragment or space in the path", url);
	plen = strlen(p);
	while (plen > 0 && p[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(u->path))
		return cairn_error_set(CAIRN_EINVAL, "URL '%s': path longer than %zu characters",
		                       url, sizeof(u->path) - 1);
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	if (port)
		snprintf(u->port, sizeof(u->port), "%d", atoi(port));
	else
		snprintf(u->port, sizeof(u->port), "80");
	memcpy(u->path, p, plen);
	u->path[plen] = '\0';
	return 0;
}

int hook_http_status(int *code, const char *resp, size_t len)
{
	const char *eol = memchr(resp, '\n', len);
	int i, c = 0;

	/* "HTTP/1.x NNN" then a space or the end of the line */
	if (eol == NULL || eol - resp < 12 || memcmp(resp, "HTTP/1.", 7) != 0 ||
	    (resp[7] != '0' && resp[7] != '1') || resp[8] != ' ')
		return cairn_error_set(CAIRN_EINVAL, "not an HTTP/1.x status line");
	for (i = 9; i < 12; i++) {
		if (resp[i] < '0' || resp[i] > '9')
			return cairn_error_set(CAIRN_EINVAL, "not an HTTP/1.x status line");
		c = c * 10 + (resp[i] - '0');
	}
	if (resp[12] != ' ' && resp[12] != '\r' && resp[12] != '\n')
		return cairn_error_set(CAIRN_EINVAL, "not an HTTP/1.x status line");
	*code = c;
	return 0;
}

/* A connected TCP socket to u, with send and receive timeouts (Linux
 * applies the send timeout to connect() as well). */
static int dial(int *out, const hook_url *u, const char *url, int timeout_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int fd = -1, err = 0, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0)
		return cairn_error_set(CAIRN_EIO, "cannot resolve '%s' of '%s': %s", u->host, url,
		                       gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cairn_error_set(CAIRN_EIO, "cannot connect to '%s': %s", url,
		                       strerror(err ? err : ECONNREFUSED));
	*out = fd;
	return 0;
}

/* "Authorization: ..." from the file, one line, no control characters. */
static int read_auth(cairn_buf *auth, const char *file)
{
	size_t i;
	int rc;

	if ((rc = cairn_buf_read_file(auth, file)) < 0)
		return rc;
	while (auth->len && (auth->ptr[auth->len - 1] == '\n' || auth->ptr[auth->len - 1] == '\r'))
		auth->ptr[--auth->len] = '\0';
	for (i = 0; i < auth->len; i++)
		if ((unsigned char)auth->ptr[i] < 0x20 && auth->ptr[i] != '\t')
			break;
	if (i < auth->len || strncmp(auth->ptr ? auth->ptr : "", "Authorization: ", 15) != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "'%s': expected one line 'Authorization: Bearer TOKEN'",
		                       file);
	return 0;
}

static int send_all(int fd, const char *p, size_t n, const char *url)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cairn_error_set(CAIRN_EIO, "sending to '%s': %s", url,
			                       w < 0 ? strerror(errno) : "connection closed");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until the status line is complete (or the peer closes). */
static int read_status(int *code, int fd, const char *url)
{
	char resp[512];
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, resp + len, sizeof(resp) - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cairn_error_set(CAIRN_EIO, "no answer from '%s': %s", url,
			                       errno == EAGAIN ? "timed out" : strerror(errno));
		len += (size_t)n;
		if (memchr(resp, '\n', len) != NULL || n == 0 || len == sizeof(resp))
			break;
	}
	if (hook_http_status(code, resp, len) < 0)
		return cairn_error_set(CAIRN_EIO, "'%s' did not answer in HTTP/1.x", url);
	return 0;
}

int hook_notify(int *code, const char *url, const char *auth_file, const char *repo, FILE *in,
                int timeout_ms)
{
	cairn_buf auth = CAIRN_BUF_INIT(8192), body = CAIRN_BUF_INIT(BODY_MAX),
	          req = CAIRN_BUF_INIT(BODY_MAX + 16384);
	char chunk[4096];
	hook_url u;
	size_t n;
	int fd = -1, rc;

	if ((rc = hook_url_parse(&u, url)) < 0 || (rc = read_auth(&auth, auth_file)) < 0 ||
	    (rc = cairn_buf_printf(&body, "repo %s\n", repo)) < 0)
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if ((rc = cairn_buf_put(&body, chunk, n)) < 0)
			goto out;
	if ((rc = cairn_buf_printf(&req,
	                           "POST %s/api/v1/trigger HTTP/1.1\r\n"
	                           "Host: %s%s%s:%s\r\n"
	                           "%s\r\n"
	                           "Content-Type: text/plain\r\n"
	                           "Content-Length: %zu\r\n"
	                           "Connection: close\r\n\r\n",
	                           u.path, strchr(u.host, ':') ? "[" : "", u.host,
	                           strchr(u.host, ':') ? "]" : "", u.port, auth.ptr, body.len)) <
	            0 ||
	    (rc = cairn_buf_put(&req, body.ptr, body.len)) < 0)
		goto out;
	if ((rc = dial(&fd, &u, url, timeout_ms)) < 0 ||
	    (rc = send_all(fd, req.ptr, req.len, url)) < 0)
		goto out;
	rc = read_status(code, fd, url);
out:
	if (fd >= 0)
		close(fd);
	if (auth.ptr)
		memset(auth.ptr, 0, auth.len);
	if (req.ptr)
		memset(req.ptr, 0, req.len);
	cairn_buf_dispose(&auth);
	cairn_buf_dispose(&body);
	cairn_buf_dispose(&req);
	return rc;
}
