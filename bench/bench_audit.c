/*
 * bench_audit.c - the audit log's figures, each beside the limit it is
 * measured against, in one run:
 *   signed appends/s, batched (4 threads) and fdatasync per entry, beside a
 *   raw loop doing the same writes and syncs without JSON, hashing or
 *   signing, and beside libsodium's raw Ed25519 sign rate;
 *   full verification entries/s beside raw crypto_sign_verify_detached;
 *   checkpoint-only verification entries/s (goal >= 1 million per minute);
 *   inclusion proof size and time at 10 million entries.
 * Bounded: about a second or two per figure, in a temp dir it removes.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit_private.h"
#include "cairn/audit.h"
#include "cairn/error.h"
#include "cairn/util.h"

#define THREADS 4

static double secs(cairn_usec a, cairn_usec b)
{
	return (double)(b - a) / 1e6;
}

static void line(const char *what, double v, const char *unit, const char *limit_name, double limit,
                 double goal)
{
	printf("%-44s %12.0f %-10s", what, v, unit);
	if (limit > 0)
		printf(" | %s %.0f, ratio %.2f (goal >= %.2f)%s", limit_name, limit, v / limit,
		       goal, v / limit >= goal ? "" : "  BELOW GOAL");
	printf("\n");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Ed25519 signatures per second over a typical 350-byte message. */
static double raw_sign_rate(const uint8_t sk[64])
{
	unsigned char msg[350], sig[64];
	cairn_usec t0 = cairn_time_mono(), t1;
	long n = 0;

	memset(msg, 'x', sizeof(msg));
	do {
		for (int i = 0; i < 200; i++, n++) {
			msg[0] = (unsigned char)n;
			crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
		}
		t1 = cairn_time_mono();
	} while (t1 - t0 < 1000000);
	return (double)n / secs(t0, t1);
}

static double raw_verify_rate(const uint8_t sk[64], const uint8_t pk[32])
{
	unsigned char msg[350], sig[64];
	cairn_usec t0, t1;
	long n = 0;

	memset(msg, 'x', sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	t0 = cairn_time_mono();
	do {
		for (int i = 0; i < 200; i++, n++)
			if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
				abort();
		t1 = cairn_time_mono();
	} while (t1 - t0 < 1000000);
	return (double)n / secs(t0, t1);
}

/* The same bytes and syncs as the library wrote, without any of its work:
 * `lines` lines of `len` bytes, one fdatasync every `per_sync` lines. */
static double raw_write_rate(const char *dir, long lines, size_t len, double per_sync)
{
	char path[512], *buf;
	cairn_usec t0, t1;
	double acc = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/raw.log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
	buf = malloc(len * 64 + 1);
	if (fd < 0 || buf == NULL)
		abort();
	memset(buf, 'x', len * 64);
	t0 = cairn_time_mono();
	for (long i = 0; i < lines;) {
		long batch;

		/* spread the lines over lines/per_sync syncs, as the library's batches were */
		acc += per_sync > 1 ? per_sync : 1.0;
		batch = (long)acc - i;
		if (batch < 1)
			batch = 1;
		if (batch > 64)
			batch = 64;
		if (i + batch > lines)
			batch = lines - i;
		if (write(fd, buf, len * (size_t)batch) < 0 || fdatasync(fd) < 0)
			abort();
		i += batch;
	}
	t1 = cairn_time_mono();
	close(fd);
	unlink(path);
	free(buf);
	(void)acc;
	return (double)lines / secs(t0, t1);
}

struct job {
	cairn_audit *log;
	long n;
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	cairn_audit_subject subj = {"guestbook", "prod", "3f2a9c1e", NULL, NULL};
	json_t *d =
	        json_pack("{s:s,s:i}", "message", "applied 12 objects in 3 waves", "objects", 12);

	for (long i = 0; i < j->n; i++)
		if (cairn_audit_record(j->log, NULL, "cairnd", "sync.succeeded", &subj, d) < 0) {
			fprintf(stderr, "record: %s\n", cairn_error_last()->message);
			abort();
		}
	json_decref(d);
	return NULL;
}

/* Appends/s for `threads` threads writing n entries each; also the mean line
 * length and lines per fdatasync, read through the I/O layer's counters. */
static double lib_append_rate(const char *dir, const cairn_audit_signer *s,
                              cairn_audit_sync_mode mode, int threads, long n, size_t *line_len,
                              double *per_sync)
{
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	struct audit_io io;
	cairn_audit *log;
	pthread_t th[THREADS];
	struct job jobs[THREADS];
	cairn_usec t0, t1;
	uint64_t b0, s0;

	audit__io_init(&io);
	o.state_dir = dir;
	o.writable = 1;
	o.signer = s;
	o.sync = mode;
	o.checkpoint_every = 1000000000;
	o.io = &io;
	if (cairn_audit_open(&log, &o, NULL) < 0) {
		fprintf(stderr, "open: %s\n", cairn_error_last()->message);
		abort();
	}
	b0 = io.bytes_written;
	s0 = io.syncs;
	t0 = cairn_time_mono();
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct job){log, n};
		pthread_create(&th[i], NULL, job_main, &jobs[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t1 = cairn_time_mono();
	*line_len = (size_t)((io.bytes_written - b0) / (uint64_t)(n * threads));
	*per_sync = (double)(n * threads) / (double)(io.syncs - s0);
	cairn_audit_close(log);
	return (double)(n * threads) / secs(t0, t1);
}

/* Time n entries worth of appends, growing n until it takes ~1 s. */
static long calibrate(double rate_guess)
{
	long n = (long)rate_guess;

	return n < 50 ? 50 : n > 20000 ? 20000 : n;
}

static double verify_rate(const char *dir, const cairn_audit_signer *s, int fast, uint64_t *n)
{
	cairn_audit_verify_opts o = CAIRN_AUDIT_VERIFY_OPTS_INIT;
	cairn_audit_verify_result r;
	cairn_audit_verifier v;
	cairn_usec t0, t1;
	int reps = 0;

	cairn_audit_signer_verifier(&v, s);
	o.trusted = &v;
	o.fast = fast;
	t0 = cairn_time_mono();
	do {
		if (cairn_audit_verify(&r, dir, &o) < 0 || !r.ok) {
			fprintf(stderr, "verify failed: %s %s\n", cairn_error_last()->message,
			        r.reason);
			abort();
		}
		reps++;
		t1 = cairn_time_mono();
	} while (t1 - t0 < 1000000);
	*n = r.entries;
	return (double)r.entries * reps / secs(t0, t1);
}

int main(void)
{
	char dir[] = "/tmp/cairn-bench-audit-XXXXXX", sub[600];
	cairn_audit_signer *s = NULL;
	double sign, rawb, rawe, libb, libe, ver, rawv, fast, per_sync, per_sync_e, us = 0;
	size_t len, len_e, maxlen = 0;
	uint64_t nent;
	long n;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL ||
	    cairn_audit_signer_generate(&s, "bench") < 0)
		return 1;
	sign = raw_sign_rate(s->sk);
	line("raw Ed25519 sign", sign, "sig/s", "", 0, 0);

	snprintf(sub, sizeof(sub), "%s/entry", dir);
	libe = lib_append_rate(sub, s, CAIRN_AUDIT_SYNC_ENTRY, 1, 200, &len_e, &per_sync_e);
	n = calibrate(libe);
	libe = lib_append_rate(sub, s, CAIRN_AUDIT_SYNC_ENTRY, 1, n, &len_e, &per_sync_e);
	rawe = raw_write_rate(dir, n, len_e, 1);
	line("raw write+fdatasync per entry", rawe, "lines/s", "", 0, 0);
	line("signed appends, fdatasync per entry", libe, "entries/s", "slower limit",
	     rawe < sign ? rawe : sign, 0.5);

	snprintf(sub, sizeof(sub), "%s/batch", dir);
	libb = lib_append_rate(sub, s, CAIRN_AUDIT_SYNC_BATCH, THREADS, 200, &len, &per_sync);
	n = calibrate(libb / THREADS);
	libb = lib_append_rate(sub, s, CAIRN_AUDIT_SYNC_BATCH, THREADS, n, &len, &per_sync);
	rawb = raw_write_rate(dir, n * THREADS, len, per_sync);
	printf("(batched: %d threads, %.1f entries per fdatasync, %zu bytes per line)\n", THREADS,
	       per_sync, len);
	line("raw write+fdatasync, same batches", rawb, "lines/s", "", 0, 0);
	line("signed appends, group commit", libb, "entries/s", "slower limit",
	     rawb < sign ? rawb : sign, 0.5);

	rawv = raw_verify_rate(s->sk, s->pub);
	line("raw Ed25519 verify", rawv, "sig/s", "", 0, 0);
	ver = verify_rate(sub, s, 0, &nent);
	printf("(verifying a log of %llu entries)\n", (unsigned long long)nent);
	line("full verification", ver, "entries/s", "raw verify", rawv, 0.8);
	fast = verify_rate(sub, s, 1, &nent);
	line("checkpoint-only verification", fast, "entries/s", "1M/min", 1e6 / 60, 1.0);

	snprintf(sub, sizeof(sub), "%s/tree10m", dir);
	if (audit__tree_bench_inclusion(sub, 10000000, 1000, &us, &maxlen) == 0) {
		printf("%-44s %12zu hashes     | limit 24, %zu raw bytes (limit 768)\n",
		       "inclusion proof size at 10M entries", maxlen, maxlen * 32);
		printf("%-44s %12.1f us         | limit 10000 us, ratio %.4f\n",
		       "inclusion proof time at 10M entries", us, us / 10000);
	} else {
		printf("inclusion proof bench failed: %s\n", cairn_error_last()->message);
	}
	cairn_audit_signer_free(s);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
