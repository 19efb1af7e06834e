/*
 * cmd_app_remote.c - `cairn app list|get|sync|diff|history|rollback
 * --server URL`: the same commands through a running cairnd's /api/v1
 * (docs/daemon.md "Using the CLI with a daemon"). URL is http(s)://HOST:PORT
 * or unix:PATH (the daemon's local socket, no token needed); the token
 * comes from --token-file or $CAIRN_TOKEN. An API error
 * {"error":{"code","message"}} is shown as its message.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_cli.h"
#include "cairn/buf.h"
#include "cairn/error.h"
#include "cli.h"

#define REMOTE_BODY_MAX (64u * 1024 * 1024)
#define REMOTE_TOKEN_MAX 4096

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	return cairn_buf_put(ud, p, size * n) < 0 ? 0 : size * n;
}

/* The bearer token: the first line of --token-file, else $CAIRN_TOKEN, else none. */
static int read_token(char *out, size_t size, const char *file)
{
	const char *env = getenv("CAIRN_TOKEN");
	FILE *f;

	out[0] = '\0';
	if (!file) {
		snprintf(out, size, "%s", env ? env : "");
		return 0;
	}
	if (!(f = fopen(file, "re")))
		return cairn_error_set(CAIRN_EIO, "cannot read token file '%s'", file);
	if (!fgets(out, (int)size, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	if (!out[0])
		return cairn_error_set(CAIRN_EINVAL, "token file '%s' is empty", file);
	return 0;
}

/*
 * One request: `*out` gets the parsed JSON body of a 2xx answer. An error
 * answer becomes the API's message; a transport failure curl's.
 */
static int call(json_t **out, const struct app_args *a, const char *method, const char *path,
                const char *body)
{
	char url[2048], token[REMOTE_TOKEN_MAX], auth[REMOTE_TOKEN_MAX + 32];
	cairn_buf b = CAIRN_BUF_INIT(REMOTE_BODY_MAX);
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	long status = 0;
	json_t *doc = NULL;
	int rc;

	if (!c)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = read_token(token, sizeof(token), a->token_file)) < 0)
		goto out;
	if (strncmp(a->server, "unix:", 5) == 0) {
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, a->server + 5);
		snprintf(url, sizeof(url), "http://localhost%s", path);
	} else {
		size_t n = strlen(a->server);
		snprintf(url, sizeof(url), "%.*s%s",
		         (int)(n && a->server[n - 1] == '/' ? n - 1 : n), a->server, path);
	}
	if (token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body || strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	if (getenv("CAIRN_CACERT"))
		curl_easy_setopt(c, CURLOPT_CAINFO, getenv("CAIRN_CACERT"));
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		rc = cairn_error_set(CAIRN_EIO, "cannot reach cairnd at '%s': %s", a->server,
		                     curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	doc = json_loadb(b.ptr ? b.ptr : "", b.len, 0, NULL);
	if (status < 200 || status > 299) {
		const char *msg = json_string_value(
		        json_object_get(json_object_get(doc, "error"), "message"));
		rc = cairn_error_set(status == 404                    ? CAIRN_ENOTFOUND
		                     : status == 401 || status == 403 ? CAIRN_EPERM
		                                                      : CAIRN_EIO,
		                     "%s", msg ? msg : "cairnd answered an error");
		goto out;
	}
	if (!doc) {
		rc = cairn_error_set(CAIRN_EIO, "cairnd's answer to %s %s is not JSON", method,
		                     path);
		goto out;
	}
	*out = doc;
	doc = NULL;
	rc = 0;
out:
	json_decref(doc);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	cairn_buf_dispose(&b);
	return rc;
}

static const char *str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}

/* The rows of `cairn app list`, as the direct path prints them. */
static void print_rows(const json_t *items, int wide)
{
	size_t i;
	json_t *x;

	printf("%-30s %-10s %-16s %-12s %-40s %s", "NAME", "ENV", "GROUP", "PROJECT", "CLUSTER",
	       wide ? "SYNC  " : "SYNC");
	if (wide)
		printf(" %-20s %-50s %-12s %s", "NAMESPACE", "REPO", "REVISION", "PATH");
	printf("\n");
	json_array_foreach(items, i, x)
	{
		const json_t *dst = json_object_get(x, "destination");
		const json_t *src = json_array_get(json_object_get(x, "sources"), 0);
		int automated = json_is_true(json_object_get(x, "automated"));

		printf("%-30s %-10s %-16s %-12s %-40s %s", str(x, "name", "-"),
		       str(x, "environment", "-"), str(x, "group", "-"), str(x, "project", "-"),
		       str(dst, "server", str(dst, "name", "-")),
		       wide ? (automated ? "auto  " : "manual") : (automated ? "auto" : "manual"));
		if (wide)
			printf(" %-20s %-50s %-12s %s", str(dst, "namespace", "-"),
			       str(src, "repoURL", "-"), str(src, "targetRevision", "-"),
			       str(src, "path", "-"));
		printf("\n");
	}
}

static void print_get(const json_t *x)
{
	const json_t *dst = json_object_get(x, "destination"), *st = json_object_get(x, "status");
	size_t i;
	json_t *s;

	printf("Name:         %s\n", str(x, "name", ""));
	printf("Project:      %s\n", str(x, "project", ""));
	printf("Environment:  %s\n", str(x, "environment", "(unbound)"));
	printf("Group:        %s\n", str(x, "group", "(none)"));
	if (json_object_get(x, "generator"))
		printf("Generated by: ApplicationSet %s\n", str(x, "generator", ""));
	printf("Destination:  %s namespace %s\n", str(dst, "server", str(dst, "name", "")),
	       str(dst, "namespace", "(none)"));
	json_array_foreach(json_object_get(x, "sources"), i, s)
	        printf("Source:       %s @ %s path %s\n", str(s, "repoURL", ""),
	               str(s, "targetRevision", ""), str(s, "path", "/"));
	printf("Sync:         %s%s%s\n",
	       json_is_true(json_object_get(x, "automated")) ? "automated" : "manual",
	       json_is_true(json_object_get(x, "prune")) ? ", prune" : "",
	       json_is_true(json_object_get(x, "selfHeal")) ? ", self-heal" : "");
	printf("Defined in:   %s:%d\n", str(x, "file", "?"),
	       (int)json_integer_value(json_object_get(x, "line")));
	printf("Status:       %s, %s", str(st, "sync", "Unknown"), str(st, "health", "Unknown"));
	if (json_object_get(st, "revision"))
		printf(" at %s", str(st, "revision", ""));
	printf("\n");
	if (json_object_get(st, "message") && *str(st, "message", ""))
		printf("Message:      %s\n", str(st, "message", ""));
}

/* diff: the resources of a comparison; exit 1 when out of sync (as the direct path). */
static int print_diff(const json_t *sum)
{
	size_t i;
	json_t *r;

	printf("%-12s %-12s %s\n", "STATUS", "HEALTH", "RESOURCE");
	json_array_foreach(json_object_get(sum, "resources"), i, r)
	        printf("%-12s %-12s %s\n", str(r, "status", "-"), str(r, "health", "-"),
	               str(r, "id", "-"));
	return json_is_true(json_object_get(sum, "synced")) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static void print_history(const json_t *doc)
{
	size_t i;
	json_t *h;

	printf("%-6s %-42s %s\n", "ID", "REVISION", "OPERATION");
	json_array_foreach(json_object_get(doc, "items"), i, h) printf(
	        "%-6lld %-42s %lld\n", (long long)json_integer_value(json_object_get(h, "id")),
	        str(h, "revision", "-"),
	        (long long)json_integer_value(json_object_get(h, "operation")));
}

int app_remote(const struct app_args *a)
{
	char path[1024], body[64];
	json_t *doc = NULL;
	int status = CLI_EXIT_OK, rc;
	const char *name = a->name ? a->name : "";

	if (a->sub == APP_WAIT) {
		fprintf(stderr, "cairn app: 'wait' does not work with --server yet\n");
		return CLI_EXIT_USAGE;
	}
	if (strpbrk(name, "/?#% ")) {
		fprintf(stderr, "cairn app: bad application name '%s'\n", name);
		return CLI_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/applications%s%s", *name ? "/" : "", name);
	switch (a->sub) {
	case APP_LIST:
	case APP_GET:
		rc = call(&doc, a, "GET", path, NULL);
		break;
	case APP_SYNC:
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/sync");
		rc = call(&doc, a, "POST", path, NULL);
		break;
	case APP_DIFF:
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/diff");
		rc = call(&doc, a, "GET", path, NULL);
		break;
	case APP_HISTORY:
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/history");
		rc = call(&doc, a, "GET", path, NULL);
		break;
	default:
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/rollback");
		snprintf(body, sizeof(body), "{\"id\":%lld}", (long long)a->history_id);
		rc = call(&doc, a, "POST", path, body);
		break;
	}
	if (rc < 0) {
		cli_print_error("app");
		return a->sub == APP_DIFF ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	if (a->output && strcmp(a->output, "json") == 0) {
		app_print_doc(a->sub == APP_LIST ? json_object_get(doc, "items") : doc, 0);
		if (a->sub == APP_DIFF && !json_is_true(json_object_get(doc, "synced")))
			status = CLI_EXIT_FAIL;
	} else if (a->sub == APP_LIST) {
		print_rows(json_object_get(doc, "items"), a->output != NULL);
	} else if (a->sub == APP_GET) {
		print_get(doc);
	} else if (a->sub == APP_SYNC) {
		printf("sync of '%s' queued on %s\n", name, a->server);
	} else if (a->sub == APP_DIFF) {
		status = print_diff(doc);
	} else if (a->sub == APP_HISTORY) {
		print_history(doc);
	} else {
		printf("rolled back '%s' to history entry %lld: %s\n", name,
		       (long long)a->history_id, str(doc, "message", ""));
		if (!json_is_true(json_object_get(doc, "succeeded")))
			status = CLI_EXIT_FAIL;
	}
	json_decref(doc);
	return status;
}
