/*
 * hook_notify.h - the post-receive hook's call to cairnd, made by `cairn`
 * itself for http:// URLs (no libcurl in `cairn`, no curl process on the
 * path of every push): one POST /api/v1/trigger, its status code read.
 * https:// stays with curl in the hook script.
 */
#ifndef CAIRN_CLI_HOOK_NOTIFY_H
#define CAIRN_CLI_HOOK_NOTIFY_H

#include <stddef.h>
#include <stdio.h>

/** An http:// URL split for a request. */
typedef struct hook_url {
	char host[256]; /**< name or address, without IPv6 brackets */
	char port[8];   /**< "80" when the URL gives none */
	char path[512]; /**< the prefix before /api/v1/trigger, no trailing '/' */
} hook_url;

/**
 * Split "http://HOST[:PORT][/PREFIX]" (HOST may be "[v6 address]"). No
 * userinfo, query or fragment. Returns 0, or CAIRN_EINVAL with a message
 * naming the URL and what was expected.
 */
int hook_url_parse(hook_url *u, const char *url);

/**
 * The status code of an HTTP/1.x response's first line in
 * `resp[0..len)` ("HTTP/1.1 202 Accepted\r\n..."). Returns 0 with *code
 * set, or CAIRN_EINVAL (not a status line, or not complete yet).
 */
int hook_http_status(int *code, const char *resp, size_t len);

/**
 * POST "repo REPO\n" and the lines of `in` to URL/api/v1/trigger with the
 * header line read from AUTH_FILE ("Authorization: Bearer ...", one
 * line), within `timeout_ms` in all. *code gets the HTTP status. Returns
 * 0, or a CAIRN_E* code with a message (connection refused, timeout, ...).
 */
int hook_notify(int *code, const char *url, const char *auth_file, const char *repo, FILE *in,
                int timeout_ms);

#endif
