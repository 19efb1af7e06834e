/*
 * source_private.h - shared between the files of the source module.
 */
#ifndef CAIRN_SOURCE_PRIVATE_H
#define CAIRN_SOURCE_PRIVATE_H

#include <git2.h>

#include "cairn/source.h"

/* Printable URLs are cut to this many bytes. */
#define SOURCE_SHOWN_MAX 256

struct cairn_source_repo {
	char *fetch_url;              /* what libgit2 connects to */
	char shown[SOURCE_SHOWN_MAX]; /* redacted, for messages */
	char *path;                   /* <state>/repos/<name>.git */
	char *lock_path;              /* <state>/repos/<name>.lock */
	char *host;                   /* ssh host (NULL otherwise) */
	int port;                     /* ssh port */
	cairn_source_creds creds;     /* owned copies of the strings */
	int lock_timeout_ms;
	git_repository *git;
	int auth_attempts;  /* credential callback calls of one operation */
	int host_key_error; /* cert callback refused: keep its message */
	int push_rejected;  /* the remote refused a pushed ref */
	char push_msg[256];
};

/* Initialise libgit2 once per process (CA bundle, owner check). */
int source__init(void);
/* Record the last libgit2 error as a Cairn error, prefixed by what failed. */
int source__git_error(int code, const char *what, const char *shown);
/* URL shape helpers (url.c). */
int source__url_is_scp(const char *url);
int source__url_is_local(const char *url);
/* Fill remote callbacks with the repo's credentials and host-key checks. */
void source__callbacks(git_remote_callbacks *cb, struct cairn_source_repo *r);
/* An anonymous remote for the repo's URL, without url.insteadOf rewriting. */
int source__remote(git_remote **out, struct cairn_source_repo *r);
/* Take / release the mirror's flock (fd returned in *fd). */
int source__lock(struct cairn_source_repo *r, int *fd);
void source__unlock(int fd);

#endif
