/*
 * audit_writer.c - a helper for the crash loops of tests/integration/
 * audit_crash.sh, speaking to the library directly:
 *   audit_writer keygen PREFIX NAME
 *   audit_writer write DIR KEYFILE N [THREADS]   prints "ack SEQ" per durable entry
 *   audit_writer open DIR KEYFILE                 open (repairing a torn tail) and close
 *   audit_writer verify DIR PUBFILE               prints "ok entries=N torn=T" or the problem
 * Exit 0 on success, 1 otherwise.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/audit.h"
#include "cairn/error.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

struct job {
	cairn_audit *log;
	long n;
	int id;
};

static void *writer(void *arg)
{
	struct job *j = arg;

	for (long i = 0; i < j->n; i++) {
		json_t *d = json_pack("{s:i,s:I,s:s}", "thread", j->id, "i", (json_int_t)i, "pad",
		                      "crash-loop entry with a little text to make lines longer");
		uint64_t seq;
		int rc = cairn_audit_record(j->log, &seq, "crash-test", "note.crash", NULL, d);

		json_decref(d);
		if (rc < 0) {
			fprintf(stderr, "audit_writer: %s\n", cairn_error_last()->message);
			return NULL;
		}
		pthread_mutex_lock(&out_mu);
		printf("ack %llu\n", (unsigned long long)seq);
		fflush(stdout);
		pthread_mutex_unlock(&out_mu);
	}
	return NULL;
}

static int open_log(cairn_audit **log, const char *dir, const char *keyfile)
{
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_signer *s = NULL;
	int rc = cairn_audit_signer_load(&s, keyfile);

	if (rc < 0)
		return rc;
	o.state_dir = dir;
	o.writable = 1;
	o.signer = s;
	o.checkpoint_every = 25;
	rc = cairn_audit_open(log, &o, NULL);
	cairn_audit_signer_free(s);
	return rc;
}

static int do_write(const char *dir, const char *keyfile, long n, int threads)
{
	cairn_audit *log = NULL;
	pthread_t th[16];
	struct job jobs[16];
	int rc = open_log(&log, dir, keyfile);

	if (rc < 0)
		return rc;
	if (threads < 1 || threads > 16)
		threads = 1;
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct job){log, n, i};
		pthread_create(&th[i], NULL, writer, &jobs[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return cairn_audit_close(log);
}

static int do_verify(const char *dir, const char *pubfile)
{
	cairn_audit_verify_opts o = CAIRN_AUDIT_VERIFY_OPTS_INIT;
	cairn_audit_verify_result r;
	cairn_audit_verifier v;
	int rc = cairn_audit_verifier_load(&v, pubfile);

	if (rc < 0)
		return rc;
	o.trusted = &v;
	rc = cairn_audit_verify(&r, dir, &o);
	if (rc < 0)
		return rc;
	if (!r.ok) {
		printf("bad seq=%lld: %s\n", (long long)r.bad_seq, r.reason);
		return CAIRN_ECORRUPT;
	}
	printf("ok entries=%llu torn=%llu checkpoints=%llu\n", (unsigned long long)r.entries,
	       (unsigned long long)r.torn_bytes, (unsigned long long)r.checkpoints);
	return 0;
}

int main(int argc, char **argv)
{
	cairn_audit *log = NULL;
	int rc = CAIRN_EINVAL;

	if (argc == 4 && strcmp(argv[1], "keygen") == 0)
		rc = cairn_audit_keygen_files(NULL, argv[2], argv[3]);
	else if ((argc == 5 || argc == 6) && strcmp(argv[1], "write") == 0)
		rc = do_write(argv[2], argv[3], atol(argv[4]), argc == 6 ? atoi(argv[5]) : 1);
	else if (argc == 4 && strcmp(argv[1], "open") == 0 &&
	         (rc = open_log(&log, argv[2], argv[3])) == 0)
		rc = cairn_audit_close(log);
	else if (argc == 4 && strcmp(argv[1], "verify") == 0)
		rc = do_verify(argv[2], argv[3]);
	else
		fprintf(stderr, "usage: audit_writer keygen|write|open|verify ...\n");
	if (rc < 0 && cairn_error_last()->message[0] != '\0')
		fprintf(stderr, "audit_writer: %s\n", cairn_error_last()->message);
	return rc < 0 ? 1 : 0;
}
