/*
 * url.c - repository URL normalisation, redaction and mirror names.
 *
 * Two spellings of one repository must share one mirror, so URLs are
 * reduced to a canonical form before hashing: scheme and host lower-case,
 * default port dropped, scp-like syntax rewritten to ssh://, and for
 * network URLs the trailing "/" and ".git" removed (hosts serve "x" and
 * "x.git" as one repository). Local paths keep ".git": on a file system
 * those are two different directories.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/source.h"
#include "cairn/util.h"
#include "source_private.h"

void cairn_source_url_redact(char *out, size_t size, const char *url)
{
	const char *p, *auth, *at = NULL, *end;

	if (!out || size == 0)
		return;
	if (!url) {
		out[0] = '\0';
		return;
	}
	p = strstr(url, "://");
	if (!p) {
		snprintf(out, size, "%s", url);
		return;
	}
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	if (!at) {
		snprintf(out, size, "%s", url);
		return;
	}
	snprintf(out, size, "%.*s***%s", (int)(auth - url), url, at);
}

/* Is `url` scp-like ("[user@]host:path")? Only when there is no "://", the
 * first ':' comes before any '/', and the host part is not empty. */
int source__url_is_scp(const char *url)
{
	const char *colon = strchr(url, ':');
	const char *slash = strchr(url, '/');

	if (strstr(url, "://") || !colon || colon == url)
		return 0;
	return !slash || colon < slash;
}

/* Is `url` a local path (no scheme, not scp-like)? */
int source__url_is_local(const char *url)
{
	return !strstr(url, "://") && !source__url_is_scp(url);
}

/* Lexically clean an absolute path into b ("/a/./b/../c" -> "/a/c"). */
static int clean_abs(cairn_buf *b, const char *abs)
{
	char *clean = NULL;
	int rc;

	while (*abs == '/')
		abs++;
	if (*abs == '\0')
		return cairn_buf_putc(b, '/');
	rc = cairn_path_clean(&clean, abs);
	if (rc < 0)
		return rc;
	rc = cairn_buf_putc(b, '/');
	if (rc == 0 && strcmp(clean, ".") != 0)
		rc = cairn_buf_puts(b, clean);
	free(clean);
	return rc;
}

/* Local path or file:// URL -> "file:///abs/clean/path". */
static int normalize_local(cairn_buf *b, const char *path)
{
	char cwd[PATH_MAX];
	cairn_buf abs = CAIRN_BUF_INIT(CAIRN_SOURCE_URL_MAX + PATH_MAX);
	int rc;

	if (*path == '\0')
		return cairn_error_set(CAIRN_EINVAL, "empty repository path");
	if (path[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return cairn_error_set_errno(errno, "getcwd");
		rc = cairn_buf_printf(&abs, "%s/%s", cwd, path);
	} else {
		rc = cairn_buf_puts(&abs, path);
	}
	if (rc == 0)
		rc = cairn_buf_puts(b, "file://");
	if (rc == 0)
		rc = clean_abs(b, abs.ptr);
	cairn_buf_dispose(&abs);
	return rc;
}

/* Strip trailing '/' and ".git" until neither is left, so that the
 * result is a fixed point ("x.git/" and "x/.git//" both end as "x"). */
static void strip_suffixes(cairn_buf *b, size_t min)
{
	for (;;) {
		if (b->len > min && b->ptr[b->len - 1] == '/')
			cairn_buf_truncate(b, b->len - 1);
		else if (b->len >= min + 4 && memcmp(b->ptr + b->len - 4, ".git", 4) == 0)
			cairn_buf_truncate(b, b->len - 4);
		else
			break;
	}
}

static int default_port(const char *scheme, const char *port, size_t n)
{
	static const struct {
		const char *scheme, *port;
	} ports[] = {{"http", "80"}, {"https", "443"}, {"ssh", "22"}, {"git", "9418"}};

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (strcmp(scheme, ports[i].scheme) == 0 && strlen(ports[i].port) == n &&
		    memcmp(port, ports[i].port, n) == 0)
			return 1;
	return 0;
}

/* "scheme://[user@]host[:port]/path" (scheme already lower-cased in
 * `scheme`, `rest` after "://"). Host lower-cased, default port dropped. */
static int normalize_network(cairn_buf *b, const char *scheme, const char *rest)
{
	const char *auth_end = rest + strcspn(rest, "/?#");
	const char *at = NULL, *host, *colon = NULL, *path;
	size_t base;
	int rc;

	for (const char *q = rest; q < auth_end; q++)
		if (*q == '@')
			at = q;
	host = at ? at + 1 : rest;
	if (at && memchr(rest, ':', (size_t)(at - rest)))
		return cairn_error_set(CAIRN_EINVAL, "password in the URL");
	if (host == auth_end)
		return cairn_error_set(CAIRN_EINVAL, "no host in the URL");
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(auth_end - host));
		if (!rb)
			return cairn_error_set(CAIRN_EINVAL, "unterminated '[' in the host");
		if (rb + 1 < auth_end && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(host, ':', (size_t)(auth_end - host));
	}
	if ((colon ? colon : auth_end) == host)
		return cairn_error_set(CAIRN_EINVAL, "no host in the URL");
	rc = cairn_buf_printf(b, "%s://", scheme);
	if (rc == 0 && at)
		rc = cairn_buf_put(b, rest, (size_t)(at - rest + 1));
	for (const char *q = host; rc == 0 && q < (colon ? colon : auth_end); q++)
		rc = cairn_buf_putc(b, (char)tolower((unsigned char)*q));
	if (rc == 0 && colon && colon + 1 < auth_end) {
		for (const char *q = colon + 1; q < auth_end; q++)
			if (!isdigit((unsigned char)*q))
				return cairn_error_set(CAIRN_EINVAL, "bad port in the URL");
		if (!default_port(scheme, colon + 1, (size_t)(auth_end - colon - 1)))
			rc = cairn_buf_put(b, colon, (size_t)(auth_end - colon));
	}
	base = b->len;
	path = auth_end;
	if (rc == 0)
		rc = cairn_buf_puts(b, *path ? path : "/");
	if (rc == 0)
		strip_suffixes(b, base);
	return rc;
}

/* Check the URL's characters: printable ASCII and UTF-8 only; no spaces
 * or control characters, which could split log lines or commands. */
static int check_chars(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return cairn_error_set(CAIRN_EINVAL,
			                       "control character or space in the URL");
	return 0;
}

static int normalize_into(cairn_buf *b, const char *url)
{
	const char *sep;
	char scheme[16];
	size_t n;
	int rc;

	if (url[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "empty URL");
	if (strlen(url) > CAIRN_SOURCE_URL_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "URL longer than %d bytes",
		                       CAIRN_SOURCE_URL_MAX);
	rc = check_chars(url);
	if (rc < 0)
		return rc;
	if (source__url_is_local(url))
		return normalize_local(b, url);
	if (source__url_is_scp(url)) {
		const char *colon = strchr(url, ':');
		cairn_buf ssh = CAIRN_BUF_INIT(CAIRN_SOURCE_URL_MAX + 16);

		rc = cairn_buf_printf(&ssh, "%.*s/%s", (int)(colon - url), url,
		                      colon[1] == '/' ? colon + 2 : colon + 1);
		if (rc == 0)
			rc = normalize_network(b, "ssh", ssh.ptr);
		cairn_buf_dispose(&ssh);
		return rc;
	}
	sep = strstr(url, "://");
	n = (size_t)(sep - url);
	if (n == 0 || n >= sizeof(scheme))
		return cairn_error_set(CAIRN_EINVAL, "bad URL scheme");
	for (size_t i = 0; i < n; i++)
		scheme[i] = (char)tolower((unsigned char)url[i]);
	scheme[n] = '\0';
	if (strcmp(scheme, "file") == 0)
		return normalize_local(b, sep + 3);
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
	    strcmp(scheme, "ssh") != 0 && strcmp(scheme, "git") != 0)
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "unsupported URL scheme '%s': expected https, http, ssh, "
		                       "git or file",
		                       scheme);
	return normalize_network(b, scheme, sep + 3);
}

int cairn_source_url_normalize(char **out, const char *url)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_SOURCE_URL_MAX + PATH_MAX + 64);
	char shown[256];
	int rc;

	if (!url)
		return cairn_error_set(CAIRN_EINVAL, "no repository URL");
	rc = normalize_into(&b, url);
	/* the canonical form must itself be a URL this function accepts (a
	 * relative path grows by the working directory): canonical forms are
	 * fixed points */
	if (rc == 0 && b.len > CAIRN_SOURCE_URL_MAX)
		rc = cairn_error_set(CAIRN_ELIMIT, "URL longer than %d bytes once made absolute",
		                     CAIRN_SOURCE_URL_MAX);
	if (rc < 0) {
		cairn_source_url_redact(shown, sizeof(shown), url);
		cairn_error_prefix("bad repository URL '%s': ", shown);
		goto out;
	}
	*out = cairn_buf_detach(&b, NULL);
	if (!*out)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
out:
	cairn_buf_dispose(&b);
	return rc;
}

int cairn_source_mirror_name(char out[CAIRN_SOURCE_MIRROR_NAME_LEN], const char *url)
{
	char *norm = NULL, hex[65];
	int rc;

	rc = cairn_source_url_normalize(&norm, url);
	if (rc < 0)
		return rc;
	cairn_sha256_hex(hex, norm, strlen(norm));
	memcpy(out, hex, CAIRN_SOURCE_MIRROR_NAME_LEN - 1);
	out[CAIRN_SOURCE_MIRROR_NAME_LEN - 1] = '\0';
	free(norm);
	return 0;
}
