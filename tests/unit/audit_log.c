/*
 * audit_log.c - the audit log: keys, recording, the tamper matrix, key
 * rotation, redaction, log injection, torn tails, locking, proofs and
 * config. Crash and fault tests are in audit_crash.c.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_tests.h"
#include "cairn/hash.h"
#include "cairn/json.h"

/* ---- helpers shared with audit_crash.c ------------------------------------ */

char *at_tmpdir(void)
{
	char *d = strdup("/tmp/cairn-auditlog-XXXXXX");

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void at_rmdir(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

cairn_audit *at_open(const char *dir, const cairn_audit_signer *signer, struct audit_io *io,
                     uint64_t checkpoint_every)
{
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit *log = NULL;
	int rc;

	o.state_dir = dir;
	o.writable = 1;
	o.signer = signer;
	o.io = io;
	o.origin = "test.example/audit";
	o.checkpoint_every = checkpoint_every;
	rc = cairn_audit_open(&log, &o, NULL);
	ck_assert_msg(rc == 0, "open failed: %s", cairn_error_last()->message);
	return log;
}

int at_record(cairn_audit *log, int64_t i, uint64_t *seq)
{
	json_t *d = json_pack("{s:I}", "i", (json_int_t)i);
	cairn_audit_subject subj = {"guestbook", "prod", "abc123", NULL, NULL};
	int rc = cairn_audit_record(log, seq, "cairnd", "sync.succeeded", &subj, d);

	json_decref(d);
	return rc;
}

char *at_slurp(const char *dir, const char *name, size_t *len)
{
	cairn_buf b = CAIRN_BUF_INIT(0);
	char *path = audit__path(dir, name);

	ck_assert_int_eq(cairn_buf_read_file(&b, path), 0);
	free(path);
	return cairn_buf_detach(&b, len);
}

cairn_audit_verify_result at_verify(const char *dir, const cairn_audit_signer *signer, int fast)
{
	cairn_audit_verify_opts o = CAIRN_AUDIT_VERIFY_OPTS_INIT;
	cairn_audit_verify_result r;
	cairn_audit_verifier v;

	cairn_audit_signer_verifier(&v, signer);
	o.trusted = &v;
	o.fast = fast;
	ck_assert_int_eq(cairn_audit_verify(&r, dir, &o), 0);
	return r;
}

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = audit__path(dir, name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(path);
}

static cairn_audit_signer *key(const char *name)
{
	cairn_audit_signer *s = NULL;

	ck_assert_int_eq(cairn_audit_signer_generate(&s, name), 0);
	return s;
}

/* ---- keys -------------------------------------------------------------------- */

START_TEST(keys_roundtrip)
{
	cairn_audit_signer *s = key("ops.example"), *s2 = NULL;
	cairn_buf priv = CAIRN_BUF_INIT(0), pub = CAIRN_BUF_INIT(0);
	cairn_audit_verifier v, v2;
	uint8_t id[4];

	ck_assert_int_eq(cairn_audit_signer_format(&priv, s), 0);
	ck_assert(strncmp(priv.ptr, "PRIVATE+KEY+ops.example+", 24) == 0);
	cairn_audit_signer_verifier(&v, s);
	ck_assert_int_eq(cairn_audit_verifier_format(&pub, &v), 0);
	ck_assert(strncmp(pub.ptr, "ops.example+", 12) == 0);
	/* key id = SHA-256(name || 0x0A || 0x01 || pub)[0:4], recomputed here */
	{
		uint8_t buf[128], h[32];
		size_t n = strlen("ops.example");

		memcpy(buf, "ops.example", n);
		buf[n] = 0x0a;
		buf[n + 1] = 0x01;
		memcpy(buf + n + 2, v.pub, 32);
		cairn_sha256(h, buf, n + 34);
		memcpy(id, h, 4);
	}
	ck_assert_mem_eq(id, v.key_id, 4);
	ck_assert_int_eq(cairn_audit_signer_parse(&s2, priv.ptr, priv.len), 0);
	cairn_audit_signer_verifier(&v2, s2);
	ck_assert_mem_eq(v.pub, v2.pub, 32);
	ck_assert_int_eq(cairn_audit_verifier_parse(&v2, pub.ptr, pub.len), 0);
	ck_assert_str_eq(v2.name, "ops.example");
	/* a changed key id is refused */
	pub.ptr[12] = pub.ptr[12] == '0' ? '1' : '0';
	ck_assert_int_eq(cairn_audit_verifier_parse(&v2, pub.ptr, pub.len), CAIRN_EINVAL);
	ck_assert_error_contains("key id does not match");
	ck_assert_int_eq(cairn_audit_verifier_parse(&v2, priv.ptr, priv.len), CAIRN_EINVAL);
	ck_assert_error_contains("private key");
	ck_assert_int_eq(cairn_audit_signer_generate(&s2, "bad+name"), CAIRN_EINVAL);
	ck_assert_error_contains("invalid key name 'bad+name'");
	cairn_buf_dispose(&priv);
	cairn_buf_dispose(&pub);
	cairn_audit_signer_free(s);
	cairn_audit_signer_free(s2);
}
END_TEST

START_TEST(keygen_files)
{
	char *dir = at_tmpdir(), prefix[256], path[300];
	cairn_audit_verifier v, v2;
	cairn_audit_signer *s = NULL;
	struct stat st;

	snprintf(prefix, sizeof(prefix), "%s/k", dir);
	ck_assert_int_eq(cairn_audit_keygen_files(&v, prefix, "k1"), 0);
	snprintf(path, sizeof(path), "%s.key", prefix);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(cairn_audit_signer_load(&s, path), 0);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	ck_assert_int_eq(cairn_audit_verifier_load(&v2, path), 0);
	ck_assert_mem_eq(v.pub, v2.pub, 32);
	ck_assert_mem_eq(s->pub, v.pub, 32);
	ck_assert_int_eq(cairn_audit_keygen_files(NULL, prefix, "k1"), CAIRN_EEXISTS);
	ck_assert_error_contains("already exists");
	snprintf(path, sizeof(path), "%s.key", prefix);
	chmod(path, 0644);
	cairn_audit_signer_free(s);
	s = NULL;
	ck_assert_int_eq(cairn_audit_signer_load(&s, path), CAIRN_EPERM);
	ck_assert_error_contains("may be read by others");
	at_rmdir(dir);
}
END_TEST

/* Key text whose base64 holds a '/' still loads as text, not as a path. */
START_TEST(verifier_text_with_slash)
{
	cairn_audit_verifier v, v2;
	cairn_audit_signer *s = NULL;
	cairn_buf text = CAIRN_BUF_INIT(4096);
	int tries = 0;

	do {
		cairn_audit_signer_free(s);
		s = NULL;
		cairn_buf_reset(&text);
		ck_assert_int_eq(cairn_audit_signer_generate(&s, "slashy"), 0);
		cairn_audit_signer_verifier(&v, s);
		ck_assert_int_eq(cairn_audit_verifier_format(&text, &v), 0);
	} while (strchr(text.ptr, '/') == NULL && ++tries < 1000);
	ck_assert_ptr_nonnull(strchr(text.ptr, '/'));
	ck_assert_int_eq(cairn_audit_verifier_load(&v2, text.ptr), 0);
	ck_assert_mem_eq(v.pub, v2.pub, 32);
	ck_assert_int_eq(cairn_audit_verifier_load(&v2, "/nonexistent/file.pub"), CAIRN_ENOTFOUND);
	cairn_buf_dispose(&text);
	cairn_audit_signer_free(s);
}
END_TEST

/* ---- recording and verifying ---------------------------------------------------- */

START_TEST(record_and_verify)
{
	char *dir = at_tmpdir(), *text;
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 3);
	cairn_audit_verify_result r;
	uint64_t seq = 99;
	size_t len;
	json_t *e;

	for (int i = 0; i < 7; i++) {
		ck_assert_int_eq(at_record(log, i, &seq), 0);
		ck_assert_uint_eq(seq, (uint64_t)i);
	}
	ck_assert_uint_eq(cairn_audit_size(log), 7);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	r = at_verify(dir, s, 0);
	ck_assert_msg(r.ok, "verify: %s", r.reason);
	ck_assert_uint_eq(r.entries, 7);
	ck_assert_uint_eq(r.checkpoints, 3); /* at 3, 6 and on close at 7 */
	ck_assert_uint_eq(r.keys, 1);
	ck_assert(r.first_time[0] != '\0');
	/* the first line's exact structure: prev of seq 0 is 64 zeros, JCS member order */
	text = at_slurp(dir, CAIRN_AUDIT_LOG_FILE, &len);
	ck_assert(strncmp(text,
	                  "{\"action\":\"sync.succeeded\",\"actor\":\"cairnd\",\"details\":"
	                  "{\"i\":0},\"key\":\"k1\",\"prev\":\"0000000000000000",
	                  97) == 0);
	e = json_loadb(text, (size_t)(strchr(text, '\n') - text), 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "subject"), "app")),
	                 "guestbook");
	json_decref(e);
	free(text);
	r = at_verify(dir, s, 1);
	ck_assert_msg(r.ok, "fast verify: %s", r.reason);
	/* reopen and append: the chain continues */
	log = at_open(dir, s, NULL, 0);
	ck_assert_int_eq(at_record(log, 7, &seq), 0);
	ck_assert_uint_eq(seq, 7);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	r = at_verify(dir, s, 0);
	ck_assert_msg(r.ok && r.entries == 8, "verify: %s", r.reason);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

START_TEST(record_refuses_bad_input)
{
	char *dir = at_tmpdir();
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 0);
	cairn_audit_subject subj = {"app\nfake", NULL, NULL, NULL, NULL};

	ck_assert_int_eq(
	        cairn_audit_record(log, NULL, "alice\n{\"seq\":1}", "note.approval", NULL, NULL),
	        CAIRN_EINVAL);
	ck_assert_error_contains("actor contains a control character (U+000A");
	ck_assert_int_eq(
	        cairn_audit_record(log, NULL, "alice\xc2\x85", "note.approval", NULL, NULL),
	        CAIRN_EINVAL);
	ck_assert_error_contains("U+0085");
	ck_assert_int_eq(cairn_audit_record(log, NULL, "alice", "deploy", NULL, NULL),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("unknown action 'deploy'");
	ck_assert_int_eq(cairn_audit_record(log, NULL, "alice", "note.Approval", NULL, NULL),
	                 CAIRN_EINVAL);
	ck_assert_int_eq(cairn_audit_record(log, NULL, "alice", "key.rotated", NULL, NULL),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("written by the audit library only");
	ck_assert_int_eq(cairn_audit_record(log, NULL, "alice", "note.x", &subj, NULL),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("subject app contains a control character");
	ck_assert_int_eq(cairn_audit_record(log, NULL, "alice", "x-ticket.ops-1", NULL, NULL), 0);
	ck_assert_uint_eq(cairn_audit_size(log), 1);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

/* Newlines, control characters and em dashes in free text stay inside their
 * JSON strings: the file keeps one line per entry and one note per checkpoint. */
START_TEST(log_injection)
{
	char *dir = at_tmpdir(), *text, *cps;
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 0);
	const char *evil = "ok\n{\"seq\":1,\"action\":\"prune\"}\r\n\xe2\x80\x94 k1 AAAA\n\x1b[2J";
	json_t *d = json_pack("{s:s}", "message", evil);
	cairn_audit_subject subj = {"my\xe2\x80\x94"
	                            "app",
	                            "prod", NULL, NULL, NULL};
	cairn_audit_verify_result r;
	size_t len, cplen, lines = 0;

	ck_assert_int_eq(
	        cairn_audit_record(log, NULL, "alice \xe2\x80\x94 k1", "note.incident", &subj, d),
	        0);
	ck_assert_int_eq(cairn_audit_record(log, NULL, "bob", "note.incident", NULL, d), 0);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	text = at_slurp(dir, CAIRN_AUDIT_LOG_FILE, &len);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	ck_assert_uint_eq(lines, 2);
	ck_assert_ptr_null(memchr(text, '\r', len));
	ck_assert_ptr_null(memchr(text, 0x1b, len));
	ck_assert_ptr_nonnull(strstr(text, "ok\\n{\\\"seq\\\":1"));
	cps = at_slurp(dir, CAIRN_AUDIT_CHECKPOINTS_FILE, &cplen);
	/* exactly one signature line in the one checkpoint */
	ck_assert_ptr_nonnull(strstr(cps, "\n\n\xe2\x80\x94 k1 "));
	ck_assert_ptr_null(strstr(strstr(cps, "\xe2\x80\x94") + 3, "\xe2\x80\x94"));
	r = at_verify(dir, s, 0);
	ck_assert_msg(r.ok && r.entries == 2, "verify: %s", r.reason);
	json_decref(d);
	free(text);
	free(cps);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

START_TEST(redaction)
{
	char *dir = at_tmpdir(), *text;
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 0);
	json_t *d = json_pack("{s:[{s:s,s:{s:s,s:s},s:{s:s}},{s:s,s:{s:s}}]}", "objects", "kind",
	                      "Secret", "data", "password", "aHVudGVyMi1zM2NyZXQ=", "user",
	                      "YWRtaW4=", "stringData", "token", "tok-SUPERSECRET-42", "kind",
	                      "ConfigMap", "data", "color", "blue");
	cairn_audit_subject subj = {"app", NULL, NULL, NULL, NULL};
	char red[CAIRN_AUDIT_REDACTED_LEN], red2[CAIRN_AUDIT_REDACTED_LEN];
	size_t len;
	uint8_t k[32], mac[32];
	char hex[65];
	json_t *e, *sec;

	subj.objects = json_object_get(d, "objects");
	ck_assert_int_eq(cairn_audit_record(log, NULL, "cairnd", "sync.succeeded", &subj, d), 0);
	ck_assert_int_eq(cairn_audit_record(log, NULL, "cairnd", "sync.succeeded", NULL, d), 0);
	/* the caller's value is not changed */
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_object_get(json_array_get(subj.objects, 0), "data"), "password")),
	        "aHVudGVyMi1zM2NyZXQ=");
	cairn_audit_redact_value(log, red, "tok-SUPERSECRET-42", 18);
	cairn_audit_redact_value(log, red2, "tok-SUPERSECRET-42", 18);
	ck_assert_str_eq(red, red2);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	text = at_slurp(dir, CAIRN_AUDIT_LOG_FILE, &len);
	ck_assert_ptr_null(strstr(text, "aHVudGVyMi1zM2NyZXQ="));
	ck_assert_ptr_null(strstr(text, "YWRtaW4="));
	ck_assert_ptr_null(strstr(text, "SUPERSECRET"));
	ck_assert_ptr_nonnull(strstr(text, "\"color\":\"blue\""));
	ck_assert_ptr_nonnull(strstr(text, red));
	/* the HMAC is under the installation key, recomputed here */
	ck_assert_int_eq(cairn_audit_hmac_key_load(k, dir, 0), 0);
	cairn_hmac_sha256(mac, k, 32, "aHVudGVyMi1zM2NyZXQ=", 20);
	cairn_hex_encode(hex, mac, 32);
	e = json_loadb(text, (size_t)(strchr(text, '\n') - text), 0, NULL);
	sec = json_array_get(json_object_get(json_object_get(e, "details"), "objects"), 0);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(sec, "data"), "password")) + 12,
	        hex);
	json_decref(e);
	free(text);
	json_decref(d);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

/* ---- the tamper matrix ------------------------------------------------------------ */

/* A log of 10 entries with checkpoints at 4, 8 and 10. */
struct fixture {
	char *dir;
	cairn_audit_signer *s;
	char *log, *cps;
	size_t log_len, cps_len;
	size_t off[11]; /* line starts; off[10] = end */
};

static void fixture_make(struct fixture *f)
{
	cairn_audit *log;

	f->dir = at_tmpdir();
	f->s = key("k1");
	log = at_open(f->dir, f->s, NULL, 4);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(at_record(log, i, NULL), 0);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	f->log = at_slurp(f->dir, CAIRN_AUDIT_LOG_FILE, &f->log_len);
	f->cps = at_slurp(f->dir, CAIRN_AUDIT_CHECKPOINTS_FILE, &f->cps_len);
	f->off[0] = 0;
	for (int i = 1; i <= 10; i++)
		f->off[i] = (size_t)(strchr(f->log + f->off[i - 1], '\n') - f->log) + 1;
	ck_assert_uint_eq(f->off[10], f->log_len);
}

static void fixture_free(struct fixture *f)
{
	free(f->log);
	free(f->cps);
	cairn_audit_signer_free(f->s);
	at_rmdir(f->dir);
}

static cairn_audit_verify_result vmem(const struct fixture *f, const char *log, size_t len,
                                      const char *cps, size_t cplen, int fast)
{
	cairn_audit_verify_opts o = CAIRN_AUDIT_VERIFY_OPTS_INIT;
	cairn_audit_verify_result r;
	cairn_audit_verifier v;

	cairn_audit_signer_verifier(&v, f->s);
	o.trusted = &v;
	o.fast = fast;
	ck_assert_int_eq(cairn_audit_verify_mem(&r, log, len, cps, cplen, &o), 0);
	return r;
}

#define EXPECT_BAD(r, prob, seq, needle)                                                           \
	do {                                                                                       \
		ck_assert_msg(!(r).ok, "tampering not detected");                                  \
		ck_assert_int_eq((r).problem, (prob));                                             \
		ck_assert_int_eq((r).bad_seq, (seq));                                              \
		ck_assert_msg(strstr((r).reason, (needle)) != NULL, "reason '%s' lacks '%s'",      \
		              (r).reason, (needle));                                               \
	} while (0)

START_TEST(tamper_matrix)
{
	struct fixture f;
	cairn_audit_verify_result r;
	char *t;
	size_t n;

	fixture_make(&f);
	r = vmem(&f, f.log, f.log_len, f.cps, f.cps_len, 0);
	ck_assert_msg(r.ok && r.entries == 10 && r.checkpoints == 3, "clean: %s", r.reason);

	/* one byte changed in entry 3 (inside the actor) */
	t = strdup(f.log);
	t[strstr(t + f.off[3], "cairnd") - t] = 'C';
	r = vmem(&f, t, f.log_len, f.cps, f.cps_len, 0);
	EXPECT_BAD(r, CAIRN_AUDIT_BAD_ENTRY, 3, "signature does not verify");
	/* checkpoint-only mode still finds it: the root of the checkpoint covering it */
	r = vmem(&f, t, f.log_len, f.cps, f.cps_len, 1);
	EXPECT_BAD(r, CAIRN_AUDIT_BAD_CHECKPOINT, 3, "Merkle root does not match");
	/* and through the chain when no checkpoint comes first */
	t[strstr(t + f.off[3], "Cairnd") - t] = 'c';
	t[strstr(t + f.off[5], "cairnd") - t] = 'C';
	r = vmem(&f, t, f.log_len, f.cps, f.cps_len, 1);
	EXPECT_BAD(r, CAIRN_AUDIT_BAD_ENTRY, 6, "'prev' does not match the hash of entry 5");
	free(t);

	/* one byte changed in the signature of entry 5 */
	t = strdup(f.log);
	{
		char *sig = strstr(t + f.off[5], "\"sig\":\"") + 10;

		*sig = *sig == 'A' ? 'B' : 'A';
	}
	r = vmem(&f, t, f.log_len, f.cps, f.cps_len, 0);
	EXPECT_BAD(r, CAIRN_AUDIT_BAD_ENTRY, 5, "signature");
	free(t);

	/* one byte changed in a checkpoint (its root) */
	t = strdup(f.cps);
	{
		char *root = strchr(strchr(t, '\n') + 1, '\n') + 3;

		*root = *root == 'A' ? 'B' : 'A';
	}
	r = vmem(&f, f.log, f.log_len, t, f.cps_len, 0);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.problem, CAIRN_AUDIT_BAD_CHECKPOINT);
	ck_assert_int_eq(r.bad_checkpoint, 0);
	ck_assert_msg(strstr(r.reason, "checkpoint 0 (size 4)") != NULL, "%s", r.reason);
	free(t);

	/* entry 4 deleted */
	t = malloc(f.log_len);
	memcpy(t, f.log, f.off[4]);
	memcpy(t + f.off[4], f.log + f.off[5], f.log_len - f.off[5]);
	n = f.log_len - (f.off[5] - f.off[4]);
	r = vmem(&f, t, n, f.cps, f.cps_len, 0);
	EXPECT_BAD(r, CAIRN_AUDIT_BAD_ENTRY, 4, "seq is 5, expected 4");
	free(t);

	/* entries 2 and 3 swapped */
	t = malloc(f.log_len);
	memcpy(t, f.log, f.off[2]);
	memcpy(t + f.off[2], f.log + f.off[3], f.off[4] - f.off[3]);
	memcpy(t + f.off[2] + (f.off[4] - f.off[3]), f.log + f.off[2], f.off[3] - f.off[2]);
	memcpy(t + f.off[4], f.log + f.off[4], f.log_len - f.off[4]);
	r = vmem(&f, t, f.log_len, f.cps, f.cps_len, 0);
	EXPECT_BAD(r, CAIRN_AUDIT_BAD_ENTRY, 2, "seq is 3, expected 2");
	free(t);

	/* truncated at an entry boundary: 7 entries left, checkpoint of size 8 exists */
	r = vmem(&f, f.log, f.off[7], f.cps, f.cps_len, 0);
	EXPECT_BAD(r, CAIRN_AUDIT_TRUNCATED, 7, "has 7 entries but checkpoint 1 covers 8");
	r = vmem(&f, f.log, f.off[7], f.cps, f.cps_len, 1);
	EXPECT_BAD(r, CAIRN_AUDIT_TRUNCATED, 7, "were removed");

	fixture_free(&f);
}
END_TEST

/* Entry 6 re-signed (validly) with another key of the same name. */
START_TEST(tamper_resigned)
{
	struct fixture f;
	cairn_audit_signer *other = key("k1");
	cairn_audit_verify_result r;
	struct audit_parsed p;
	cairn_buf msg = CAIRN_BUF_INIT(0), line = CAIRN_BUF_INIT(0), all = CAIRN_BUF_INIT(0);
	uint8_t sig[64];
	char b64[100];

	fixture_make(&f);
	ck_assert_int_eq(audit__entry_parse(&p, f.log + f.off[6], f.off[7] - f.off[6] - 1, 1), 0);
	ck_assert_int_eq(audit__entry_message(&msg, &p), 0);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.ptr, msg.len, other->sk);
	cairn_base64_encode(b64, sig, 64);
	json_object_set_new(p.json, "sig", json_string(b64));
	ck_assert_int_eq(cairn_json_canonical(&line, p.json), 0);
	ck_assert_uint_eq(line.len, f.off[7] - f.off[6] - 1);
	cairn_buf_put(&all, f.log, f.off[6]);
	cairn_buf_put(&all, line.ptr, line.len);
	cairn_buf_put(&all, f.log + f.off[7] - 1, f.log_len - f.off[7] + 1);
	r = vmem(&f, all.ptr, all.len, f.cps, f.cps_len, 0);
	EXPECT_BAD(r, CAIRN_AUDIT_BAD_ENTRY, 6, "signature does not verify with key 'k1'");
	json_decref(p.json);
	cairn_buf_dispose(&msg);
	cairn_buf_dispose(&line);
	cairn_buf_dispose(&all);
	cairn_audit_signer_free(other);
	fixture_free(&f);
}
END_TEST

/* A checkpoint replayed from an older log, and a forked log: two logs with
 * the same prefix whose checkpoints do not verify each other. */
START_TEST(tamper_replay_and_fork)
{
	struct fixture f;
	cairn_audit_verify_result r;
	cairn_audit_verify_opts o = CAIRN_AUDIT_VERIFY_OPTS_INIT;
	cairn_audit_verifier v;
	char *fork_dir = at_tmpdir(), *fork_cps, *a_log, *cmd;
	cairn_buf both = CAIRN_BUF_INIT(0), note = CAIRN_BUF_INIT(0);
	cairn_audit *log;
	size_t fork_len, a_len;

	fixture_make(&f);
	/* the fork: the same first 5 entries (copied with the installation's files), then
	 * different ones */
	ck_assert_int_ne(asprintf(&cmd, "cp -p %s/audit.* %s/", f.dir, fork_dir), -1);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	{
		char *p = audit__path(fork_dir, CAIRN_AUDIT_LOG_FILE);

		ck_assert_int_eq(truncate(p, (off_t)f.off[5]), 0);
		free(p);
		p = audit__path(fork_dir, CAIRN_AUDIT_CHECKPOINTS_FILE);
		ck_assert_int_eq(truncate(p, 0), 0);
		free(p);
	}
	log = at_open(fork_dir, f.s, NULL, 100);
	for (int i = 100; i < 105; i++)
		ck_assert_int_eq(at_record(log, i, NULL), 0);
	ck_assert_int_eq(cairn_audit_checkpoint(log, &note), 0);
	ck_assert_ptr_nonnull(strstr(note.ptr, "\n10\n"));
	ck_assert_int_eq(cairn_audit_close(log), 0);
	fork_cps = at_slurp(fork_dir, CAIRN_AUDIT_CHECKPOINTS_FILE, &fork_len);
	a_log = at_slurp(fork_dir, CAIRN_AUDIT_LOG_FILE, &a_len);
	ck_assert_mem_eq(a_log, f.log, f.off[5]);
	/* the fork's own checkpoint verifies the fork ... */
	r = at_verify(fork_dir, f.s, 0);
	ck_assert_msg(r.ok, "fork: %s", r.reason);
	/* ... but not the original log (extra checkpoint given as with --checkpoint) */
	cairn_audit_signer_verifier(&v, f.s);
	o.trusted = &v;
	o.extra_checkpoint = fork_cps;
	o.extra_checkpoint_len = fork_len;
	ck_assert_int_eq(cairn_audit_verify_mem(&r, f.log, f.log_len, f.cps, f.cps_len, &o), 0);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.problem, CAIRN_AUDIT_BAD_CHECKPOINT);
	ck_assert_int_eq(r.bad_checkpoint, -1);
	ck_assert_msg(strstr(r.reason, "Merkle root does not match") != NULL, "%s", r.reason);
	/* a checkpoint of the other log replayed into audit.checkpoints */
	cairn_buf_put(&both, f.cps, f.cps_len);
	cairn_buf_put(&both, fork_cps, fork_len);
	r = vmem(&f, f.log, f.log_len, both.ptr, both.len, 1);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.problem, CAIRN_AUDIT_BAD_CHECKPOINT);
	ck_assert_int_eq(r.bad_checkpoint, 3);
	ck_assert_int_eq(r.bad_seq, 9);
	free(fork_cps);
	free(a_log);
	cairn_buf_dispose(&both);
	cairn_buf_dispose(&note);
	at_rmdir(fork_dir);
	fixture_free(&f);
}
END_TEST

/* ---- key rotation ------------------------------------------------------------------ */

START_TEST(key_rotation)
{
	char *dir = at_tmpdir();
	cairn_audit_signer *k1 = key("k1"), *k2 = key("k2");
	cairn_audit *log = at_open(dir, k1, NULL, 2);
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_verify_result r;
	uint64_t seq;

	ck_assert_int_eq(at_record(log, 0, NULL), 0);
	ck_assert_int_eq(at_record(log, 1, NULL), 0);
	ck_assert_int_eq(at_record(log, 2, NULL), 0);
	ck_assert_int_eq(cairn_audit_rotate_key(log, &seq, "admin", k2), 0);
	ck_assert_uint_eq(seq, 3);
	ck_assert_int_eq(at_record(log, 4, NULL), 0);
	ck_assert_int_eq(at_record(log, 5, NULL), 0);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	r = at_verify(dir, k1, 0);
	ck_assert_msg(r.ok, "verify: %s", r.reason);
	ck_assert_uint_eq(r.keys, 2);
	ck_assert_str_eq(r.current_key.name, "k2");
	ck_assert_uint_eq(r.entries, 6);
	/* trusting only the new key does not verify the beginning */
	r = at_verify(dir, k2, 0);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.bad_seq, 0);
	ck_assert_msg(strstr(r.reason, "current key is 'k2'") != NULL, "%s", r.reason);
	/* the old key may no longer write */
	o.state_dir = dir;
	o.writable = 1;
	o.signer = k1;
	ck_assert_int_eq(cairn_audit_open(&log, &o, NULL), CAIRN_EPERM);
	ck_assert_error_contains("not the log's current key 'k2'");
	log = at_open(dir, k2, NULL, 0);
	ck_assert_int_eq(at_record(log, 6, NULL), 0);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	r = at_verify(dir, k1, 0);
	ck_assert_msg(r.ok && r.entries == 7, "verify: %s", r.reason);
	cairn_audit_signer_free(k1);
	cairn_audit_signer_free(k2);
	at_rmdir(dir);
}
END_TEST

/* ---- torn tails, corruption, locking ------------------------------------------------- */

START_TEST(torn_tail_repair)
{
	char *dir = at_tmpdir(), *path, *text;
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 0);
	cairn_audit_open_info info;
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_verify_result r;
	const char torn[] = "{\"action\":\"sync.started\",\"act";
	char hex[65];
	FILE *fp;
	size_t len;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(at_record(log, i, NULL), 0);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	path = audit__path(dir, CAIRN_AUDIT_LOG_FILE);
	fp = fopen(path, "ab");
	fputs(torn, fp);
	fclose(fp);
	r = at_verify(dir, s, 0);
	ck_assert_msg(r.ok, "a torn tail is not tampering: %s", r.reason);
	ck_assert_uint_eq(r.torn_bytes, strlen(torn));
	o.state_dir = dir;
	o.writable = 1;
	o.signer = s;
	ck_assert_int_eq(cairn_audit_open(&log, &o, &info), 0);
	ck_assert_uint_eq(info.torn_bytes, strlen(torn));
	ck_assert_int_eq(info.torn_repair_seq, 3);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	text = at_slurp(dir, CAIRN_AUDIT_LOG_FILE, &len);
	cairn_sha256_hex(hex, torn, strlen(torn));
	ck_assert_ptr_nonnull(strstr(text, "\"action\":\"audit.torn-tail\""));
	ck_assert_ptr_nonnull(strstr(text, hex));
	ck_assert_ptr_null(strstr(text, "\"act{"));
	r = at_verify(dir, s, 0);
	ck_assert_msg(r.ok && r.entries == 4 && r.torn_bytes == 0, "verify: %s", r.reason);
	free(text);
	free(path);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

START_TEST(corruption_refuses_append)
{
	char *dir = at_tmpdir(), *text;
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 0);
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	size_t len;
	char *p;

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(at_record(log, i, NULL), 0);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	text = at_slurp(dir, CAIRN_AUDIT_LOG_FILE, &len);
	p = strstr(strchr(strchr(text, '\n') + 1, '\n') + 1, "\"i\":2");
	p[4] = '7';
	write_file(dir, CAIRN_AUDIT_LOG_FILE, text, len);
	o.state_dir = dir;
	o.writable = 1;
	o.signer = s;
	/* the structure is intact, so open checks the chain: entry 3's prev breaks */
	ck_assert_int_eq(cairn_audit_open(&log, &o, NULL), CAIRN_ECORRUPT);
	ck_assert_error_contains("corrupt at entry 3");
	ck_assert_error_contains("refusing to append");
	/* garbage in the middle */
	p = strchr(text, '\n') + 1;
	p[0] = '#';
	write_file(dir, CAIRN_AUDIT_LOG_FILE, text, len);
	ck_assert_int_eq(cairn_audit_open(&log, &o, NULL), CAIRN_ECORRUPT);
	ck_assert_error_contains("corrupt at entry 1");
	/* truncated at an entry boundary: the checkpoint says more */
	write_file(dir, CAIRN_AUDIT_LOG_FILE, text, (size_t)(strchr(text, '\n') - text) + 1);
	ck_assert_int_eq(cairn_audit_open(&log, &o, NULL), CAIRN_ECORRUPT);
	ck_assert_error_contains("has 1 entries but its latest checkpoint covers 4");
	free(text);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

START_TEST(single_writer_lock)
{
	char *dir = at_tmpdir();
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 0), *second = NULL;
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	pid_t pid;
	int status;

	o.state_dir = dir;
	o.writable = 1;
	o.signer = s;
	/* flock is per open file: a second process is refused */
	pid = fork();
	if (pid == 0) {
		int rc = cairn_audit_open(&second, &o, NULL);

		_exit(rc == CAIRN_EBUSY && strstr(cairn_error_last()->message,
		                                  "another writer holds") != NULL
		              ? 0
		              : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(cairn_audit_open(&second, &o, NULL), CAIRN_EBUSY);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	ck_assert_int_eq(cairn_audit_open(&second, &o, NULL), 0);
	ck_assert_int_eq(cairn_audit_close(second), 0);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------ */

struct thr {
	cairn_audit *log;
	int id, n, fails;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;

	for (int i = 0; i < t->n; i++)
		if (at_record(t->log, t->id * 1000 + i, NULL) != 0)
			t->fails++;
	return NULL;
}

START_TEST(threads_group_commit)
{
	char *dir = at_tmpdir();
	cairn_audit_signer *s = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 50);
	pthread_t th[4];
	struct thr t[4];
	cairn_audit_verify_result r;

	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){log, i, 60, 0};
		pthread_create(&th[i], NULL, thr_main, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(t[i].fails, 0);
	}
	ck_assert_uint_eq(cairn_audit_size(log), 240);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	r = at_verify(dir, s, 0);
	ck_assert_msg(r.ok && r.entries == 240 && r.checkpoints >= 5, "verify: %s", r.reason);
	cairn_audit_signer_free(s);
	at_rmdir(dir);
}
END_TEST

/* ---- reading and proofs --------------------------------------------------------------- */

static int count_cb(void *ctx, const cairn_audit_entry *e)
{
	int *n = ctx;

	ck_assert_str_eq(e->action, "sync.succeeded");
	(*n)++;
	return 0;
}

START_TEST(foreach_and_proofs)
{
	char *dir = at_tmpdir();
	cairn_audit_signer *s = key("k1"), *other = key("k1");
	cairn_audit *log = at_open(dir, s, NULL, 1000);
	cairn_audit_filter f = CAIRN_AUDIT_FILTER_INIT;
	cairn_audit_proof p, q;
	cairn_audit_consistency c;
	cairn_audit_verifier v, vo;
	uint64_t off = 0;
	json_t *j;
	int n = 0;

	for (int i = 0; i < 13; i++)
		ck_assert_int_eq(at_record(log, i, NULL), 0);
	ck_assert_int_eq(cairn_audit_record(log, NULL, "bob", "note.approval", NULL, NULL), 0);
	ck_assert_int_eq(cairn_audit_checkpoint(log, NULL), 0);
	ck_assert_int_eq(cairn_audit_close(log), 0);
	f.action = "sync.*";
	ck_assert_int_eq(cairn_audit_foreach(dir, &f, &off, count_cb, &n), 0);
	ck_assert_int_eq(n, 13);
	ck_assert_uint_gt(off, 0);
	n = 0;
	ck_assert_int_eq(cairn_audit_foreach(dir, &f, &off, count_cb, &n), 0);
	ck_assert_int_eq(n, 0); /* nothing new since the offset */

	cairn_audit_signer_verifier(&v, s);
	cairn_audit_signer_verifier(&vo, other);
	ck_assert_int_eq(cairn_audit_prove(&p, dir, 5), 0);
	ck_assert_uint_eq(p.tree_size, 14);
	ck_assert_uint_le(p.path_len, 4);
	ck_assert_int_eq(cairn_audit_check_proof(&p, &v), 0);
	ck_assert_int_eq(cairn_audit_check_proof(&p, &vo), CAIRN_ECORRUPT);
	ck_assert_error_contains("not signed by key 'k1'");
	/* JSON round trip, then a changed entry */
	ck_assert_int_eq(cairn_audit_proof_to_json(&j, &p), 0);
	ck_assert_int_eq(cairn_audit_proof_from_json(&q, j), 0);
	ck_assert_int_eq(cairn_audit_check_proof(&q, &v), 0);
	q.entry[strstr(q.entry, "\"i\":5") - q.entry + 4] = '6';
	ck_assert_int_eq(cairn_audit_check_proof(&q, &v), CAIRN_ECORRUPT);
	ck_assert_error_contains("does not hash to the proof's leaf hash");
	cairn_audit_proof_dispose(&q);
	json_decref(j);
	cairn_audit_proof_dispose(&p);
	ck_assert_int_eq(cairn_audit_prove(&p, dir, 14), CAIRN_ENOTFOUND);
	ck_assert_error_contains("not covered by the latest checkpoint (size 14)");

	ck_assert_int_eq(cairn_audit_consistency_prove(&c, dir, 5, 14), 0);
	ck_assert_int_eq(cairn_audit_consistency_check(&c), 0);
	c.old_root[0] ^= 1;
	ck_assert_int_eq(cairn_audit_consistency_check(&c), CAIRN_ECORRUPT);
	ck_assert_int_eq(cairn_audit_consistency_prove(&c, dir, 0, 3), CAIRN_EINVAL);
	cairn_audit_signer_free(s);
	cairn_audit_signer_free(other);
	at_rmdir(dir);
}
END_TEST

/* ---- config ---------------------------------------------------------------------------- */

START_TEST(config_and_state_dir)
{
	char *dir = at_tmpdir(), *path, *sd = NULL, actor[128];
	cairn_audit_config c;

	write_file(dir, "cairn.yaml",
	           "stateDir: /srv/cairn\naudit:\n  key: /etc/cairn/audit.key\n  actor: ops-bot\n"
	           "  checkpointEvery: 50\n  checkpointInterval: 30s\n  sync: entry\n",
	           strlen("stateDir: /srv/cairn\naudit:\n  key: /etc/cairn/audit.key\n  actor: "
	                  "ops-bot\n  checkpointEvery: 50\n  checkpointInterval: 30s\n  sync: "
	                  "entry\n"));
	path = audit__path(dir, "cairn.yaml");
	ck_assert_int_eq(cairn_audit_config_load(&c, path), 0);
	ck_assert_str_eq(c.state_dir, "/srv/cairn");
	ck_assert_str_eq(c.key_file, "/etc/cairn/audit.key");
	ck_assert_uint_eq(c.checkpoint_every, 50);
	ck_assert_int_eq(c.checkpoint_interval, (int64_t)30 * 1000000000);
	ck_assert_int_eq(c.sync, CAIRN_AUDIT_SYNC_ENTRY);
	cairn_audit_default_actor(actor, sizeof(actor), c.actor);
	ck_assert_str_eq(actor, "ops-bot");
	cairn_audit_config_dispose(&c);
	write_file(dir, "cairn.yaml", "audit:\n  sink: x\n", 17);
	ck_assert_int_eq(cairn_audit_config_load(&c, path), CAIRN_EINVAL);
	ck_assert_error_contains("unknown key 'audit.sink'");
	setenv("USER", "alice", 1);
	cairn_audit_default_actor(actor, sizeof(actor), NULL);
	ck_assert_str_eq(actor, "user:alice (unverified)");
	setenv("CAIRN_STATE_DIR", "/tmp/x-state", 1);
	ck_assert_int_eq(cairn_audit_state_dir(&sd, NULL), 0);
	ck_assert_str_eq(sd, geteuid() == 0 ? "/tmp/x-state" : "/tmp/x-state");
	free(sd);
	ck_assert_int_eq(cairn_audit_state_dir(&sd, "/flag/dir"), 0);
	ck_assert_str_eq(sd, "/flag/dir");
	free(sd);
	unsetenv("CAIRN_STATE_DIR");
	free(path);
	at_rmdir(dir);
}
END_TEST

void audit_log_tests(Suite *s)
{
	TCase *tc = tcase_create("log");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, keys_roundtrip);
	tcase_add_test(tc, keygen_files);
	tcase_add_test(tc, verifier_text_with_slash);
	tcase_add_test(tc, record_and_verify);
	tcase_add_test(tc, record_refuses_bad_input);
	tcase_add_test(tc, log_injection);
	tcase_add_test(tc, redaction);
	tcase_add_test(tc, tamper_matrix);
	tcase_add_test(tc, tamper_resigned);
	tcase_add_test(tc, tamper_replay_and_fork);
	tcase_add_test(tc, key_rotation);
	tcase_add_test(tc, torn_tail_repair);
	tcase_add_test(tc, corruption_refuses_append);
	tcase_add_test(tc, single_writer_lock);
	tcase_add_test(tc, threads_group_commit);
	tcase_add_test(tc, foreach_and_proofs);
	tcase_add_test(tc, config_and_state_dir);
	suite_add_tcase(s, tc);
	audit_crash_tests(s);
}
