/*
 * creds.c - libgit2 callbacks: credentials from references (a file or an
 * environment variable, never the command line) and the host checks
 * (known_hosts for ssh, the CA verdict for https).
 *
 * libgit2 calls the credential callback again after each refusal; we give
 * each kind of credential once and then fail, so a wrong token ends the
 * fetch with "authentication failed" instead of looping.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/source.h"
#include "source_private.h"

/* Longest secret read from a file or the environment. */
#define SECRET_MAX 8192

/* Read the password or token: the file wins over the environment; one
 * trailing newline is dropped (files written by `echo`). */
static int read_secret(cairn_buf *out, const char *file, const char *env, const char *what)
{
	int rc;

	if (file) {
		rc = cairn_buf_read_file(out, file);
		if (rc < 0)
			return cairn_error_prefix("reading the %s file: ", what);
	} else if (env) {
		const char *v = getenv(env);
		if (!v)
			return cairn_error_set(CAIRN_ENOTFOUND,
			                       "the environment variable '%s' named for the %s is "
			                       "not set",
			                       env, what);
		rc = cairn_buf_puts(out, v);
		if (rc < 0)
			return rc;
	} else {
		return cairn_error_set(CAIRN_ENOTFOUND, "no %s configured", what);
	}
	while (out->len > 0 && (out->ptr[out->len - 1] == '\n' || out->ptr[out->len - 1] == '\r'))
		cairn_buf_truncate(out, out->len - 1);
	return 0;
}

static int acquire(git_credential **out, const char *url, const char *user_from_url,
                   unsigned int allowed, void *payload)
{
	struct cairn_source_repo *r = payload;
	const cairn_source_creds *c = &r->creds;
	cairn_buf secret = CAIRN_BUF_INIT(SECRET_MAX);
	int rc = GIT_EUSER;

	if (++r->auth_attempts > 1) {
		git_error_set_str(GIT_ERROR_NET, "authentication failed");
		return GIT_EUSER;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && c->ssh_key_file) {
		const char *pass = c->ssh_passphrase_env ? getenv(c->ssh_passphrase_env) : NULL;
		rc = git_credential_ssh_key_new(out, user_from_url ? user_from_url : "git", NULL,
		                                c->ssh_key_file, pass);
	} else if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
	           (c->password_file || c->password_env)) {
		const char *user = c->username     ? c->username
		                   : user_from_url ? user_from_url
		                                   : "git";
		if (read_secret(&secret, c->password_file, c->password_env, "password") < 0) {
			git_error_set_str(GIT_ERROR_NET, cairn_error_last()->message);
			rc = GIT_EUSER;
		} else {
			rc = git_credential_userpass_plaintext_new(out, user, secret.ptr);
		}
	} else if (allowed & GIT_CREDENTIAL_USERNAME) {
		rc = git_credential_username_new(out, user_from_url ? user_from_url : "git");
	} else {
		git_error_set_str(GIT_ERROR_NET,
		                  "the server asks for credentials and none are configured");
	}
	if (secret.ptr)
		memset(secret.ptr, 0, secret.len);
	cairn_buf_dispose(&secret);
	return rc;
}

/* Compare an ssh host key against the configured known_hosts file. With
 * no file configured the connection is refused: trusting on first use
 * would make the first fetch an unchecked one. */
static int check_ssh(struct cairn_source_repo *r, git_cert_hostkey *hk, const char *host)
{
	cairn_buf text = CAIRN_BUF_INIT(16 << 20);
	cairn_source_known_hosts *kh = NULL;
	int rc;

	if (!(hk->type & GIT_CERT_SSH_RAW))
		return cairn_error_set(CAIRN_EPERM, "no raw host key from '%s'", host);
	if (!r->creds.known_hosts_file)
		return cairn_error_set(CAIRN_EPERM,
		                       "no known_hosts file configured for '%s': refusing to trust "
		                       "its host key",
		                       r->shown);
	rc = cairn_buf_read_file(&text, r->creds.known_hosts_file);
	if (rc == 0)
		rc = cairn_source_known_hosts_parse(&kh, r->creds.known_hosts_file, text.ptr,
		                                    text.len);
	if (rc == 0)
		rc = cairn_source_known_hosts_check(kh, r->host ? r->host : host,
		                                    r->host ? r->port : 22,
		                                    (const uint8_t *)hk->hostkey, hk->hostkey_len);
	cairn_source_known_hosts_free(kh);
	cairn_buf_dispose(&text);
	return rc;
}

static int certificate_check(git_cert *cert, int valid, const char *host, void *payload)
{
	struct cairn_source_repo *r = payload;
	int rc;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		rc = check_ssh(r, (git_cert_hostkey *)cert, host);
	} else if (valid) {
		return 0;
	} else {
		rc = cairn_error_set(CAIRN_EPERM,
		                     "the TLS certificate of '%s' is not trusted (CA bundle: '%s')",
		                     host, r->creds.ca_file ? r->creds.ca_file : "system");
	}
	if (rc < 0) {
		r->host_key_error = 1;
		cairn_error_prefix("fetching '%s': ", r->shown);
		return GIT_EUSER;
	}
	return 0;
}

void source__callbacks(git_remote_callbacks *cb, struct cairn_source_repo *r)
{
	cb->credentials = acquire;
	cb->certificate_check = certificate_check;
	cb->payload = r;
}
