/* core_json.c - canonical JSON (RFC 8785), parsing, SHA-256, HMAC, hex, base64. */
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "cairn/buf.h"
#include "cairn/hash.h"
#include "cairn/json.h"
#include "testutil.h"

/* ---- hashing ----------------------------------------------------------- */

static void hex_of(char *hex, const uint8_t *md)
{
	cairn_hex_encode(hex, md, CAIRN_SHA256_LEN);
}

START_TEST(sha256_fips180_vectors)
{
	static const char *two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[65];

	cairn_sha256_hex(hex, "abc", 3);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cairn_sha256_hex(hex, "", 0);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cairn_sha256_hex(hex, two_block, strlen(two_block));
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(sha256_incremental_matches_one_shot)
{
	static const char *text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	cairn_sha256_ctx ctx;
	uint8_t md[CAIRN_SHA256_LEN];
	char hex[65];
	size_t i;

	cairn_sha256_init(&ctx);
	for (i = 0; i < strlen(text); i++)
		cairn_sha256_update(&ctx, text + i, 1);
	cairn_sha256_final(&ctx, md);
	hex_of(hex, md);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	/* FIPS 180 long message: one million 'a', fed in uneven chunks. */
	{
		char chunk[997];
		size_t left = 1000000;

		memset(chunk, 'a', sizeof(chunk));
		cairn_sha256_init(&ctx);
		while (left > 0) {
			size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

			cairn_sha256_update(&ctx, chunk, n);
			left -= n;
		}
		cairn_sha256_final(&ctx, md);
		hex_of(hex, md);
		ck_assert_str_eq(
		        hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
}
END_TEST

START_TEST(hmac_rfc4231_vectors)
{
	static const char *long6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char *long7 =
	        "This is a test using a larger than block-size key and a larger than block-size "
	        "data. The key needs to be hashed before being used by the HMAC algorithm.";
	uint8_t key[131], data[50], md[CAIRN_SHA256_LEN];
	char hex[65];
	size_t i;

	memset(key, 0x0b, 20);
	cairn_hmac_sha256(md, key, 20, "Hi There", 8);
	hex_of(hex, md);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	cairn_hmac_sha256(md, "Jefe", 4, "what do ya want for nothing?", 28);
	hex_of(hex, md);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	cairn_hmac_sha256(md, key, 20, data, 50);
	hex_of(hex, md);
	ck_assert_str_eq(hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

	for (i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	cairn_hmac_sha256(md, key, 25, data, 50);
	hex_of(hex, md);
	ck_assert_str_eq(hex, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");

	memset(key, 0xaa, 131);
	cairn_hmac_sha256(md, key, 131, long6, strlen(long6));
	hex_of(hex, md);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	cairn_hmac_sha256(md, key, 131, long7, strlen(long7));
	hex_of(hex, md);
	ck_assert_str_eq(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

START_TEST(hex_round_trip_and_errors)
{
	const uint8_t in[4] = {0x00, 0xab, 0x7f, 0xff};
	uint8_t out[4] = {1, 2, 3, 4};
	char hex[9];

	cairn_hex_encode(hex, in, 4);
	ck_assert_str_eq(hex, "00ab7fff");
	ck_assert_int_eq(cairn_hex_decode(out, 4, "00AB7fFF"), 0);
	ck_assert_mem_eq(out, in, 4);

	memset(out, 0x55, sizeof(out));
	ck_assert_int_eq(cairn_hex_decode(out, 4, "00ab7ff"), CAIRN_EINVAL);
	ck_assert_error_contains("7 digits, expected 8");
	ck_assert_int_eq(cairn_hex_decode(out, 4, "00ab7fff0"), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_hex_decode(out, 4, "00ab7fgf"), CAIRN_EINVAL);
	ck_assert_error_contains("not a hex digit at offset 6");
	ck_assert_uint_eq(out[0], 0x55); /* untouched on failure */
}
END_TEST

START_TEST(base64_rfc4648_vectors)
{
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                              "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char enc[16];
	uint8_t dec[16];
	size_t i, n;

	for (i = 0; i < 7; i++) {
		size_t len = strlen(plain[i]);

		ck_assert_uint_eq(cairn_base64_encoded_len(len), strlen(coded[i]) + 1);
		cairn_base64_encode(enc, (const uint8_t *)plain[i], len);
		ck_assert_str_eq(enc, coded[i]);
		n = 99;
		ck_assert_int_eq(
		        cairn_base64_decode(dec, sizeof(dec), &n, coded[i], strlen(coded[i])), 0);
		ck_assert_uint_eq(n, len);
		ck_assert_mem_eq(dec, plain[i], len);
	}
	/* All 256 byte values survive a round trip. */
	{
		uint8_t all[256], back[256];
		char text[345];

		for (i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		cairn_base64_encode(text, all, 256);
		ck_assert_int_eq(cairn_base64_decode(back, 256, &n, text, strlen(text)), 0);
		ck_assert_uint_eq(n, 256);
		ck_assert_mem_eq(back, all, 256);
	}
}
END_TEST

START_TEST(base64_strict_errors)
{
	uint8_t dec[16];
	size_t n = 77;

	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Zg=", 3), CAIRN_EINVAL);
	ck_assert_error_contains("not a multiple of 4");
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Zh==", 4), CAIRN_EINVAL);
	ck_assert_error_contains("non-zero bits");
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Zm9=", 4), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Zm9v\nZm9v", 9), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Zm=v", 4), CAIRN_EINVAL);
	ck_assert_error_contains("invalid base64 character at offset 2");
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Z===", 4), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "====", 4), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Zg==Zg==", 8), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_base64_decode(dec, sizeof(dec), &n, "Zm9-", 4), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_base64_decode(dec, 5, &n, "Zm9vYmFy", 8), CAIRN_ELIMIT);
	ck_assert_error_contains("decodes to 6 bytes, room for 5");
	ck_assert_uint_eq(n, 77);
}
END_TEST

/* ---- canonical JSON ---------------------------------------------------- */

/* The JCS text of `v` (which this steals), as a malloc'd string, or NULL
 * when canonicalisation fails (the code goes to *rc). */
static char *jcs(json_t *v, int *rc)
{
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);
	char *s = NULL;

	ck_assert_ptr_nonnull(v);
	*rc = cairn_json_canonical(&b, v);
	if (*rc == 0)
		s = cairn_buf_detach(&b, NULL);
	cairn_buf_dispose(&b);
	json_decref(v);
	return s;
}

static void assert_number(uint64_t bits, const char *expected)
{
	double d;
	char *s;
	int rc;

	memcpy(&d, &bits, sizeof(d));
	s = jcs(json_real(d), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strcmp(s, expected) == 0, "%016llx: got '%s', want '%s'",
	              (unsigned long long)bits, s, expected);
	free(s);
}

/* RFC 8785 appendix B, the finite rows. */
START_TEST(jcs_rfc8785_numbers)
{
	assert_number(0x0000000000000000ULL, "0");
	assert_number(0x8000000000000000ULL, "0");
	assert_number(0x0000000000000001ULL, "5e-324");
	assert_number(0x8000000000000001ULL, "-5e-324");
	assert_number(0x7fefffffffffffffULL, "1.7976931348623157e+308");
	assert_number(0xffefffffffffffffULL, "-1.7976931348623157e+308");
	assert_number(0x4340000000000000ULL, "9007199254740992");
	assert_number(0xc340000000000000ULL, "-9007199254740992");
	assert_number(0x4430000000000000ULL, "295147905179352830000");
	assert_number(0x44b52d02c7e14af5ULL, "9.999999999999997e+22");
	assert_number(0x44b52d02c7e14af6ULL, "1e+23");
	assert_number(0x44b52d02c7e14af7ULL, "1.0000000000000001e+23");
	assert_number(0x444b1ae4d6e2ef4eULL, "999999999999999700000");
	assert_number(0x444b1ae4d6e2ef4fULL, "999999999999999900000");
	assert_number(0x444b1ae4d6e2ef50ULL, "1e+21");
	assert_number(0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7");
	assert_number(0x3eb0c6f7a0b5ed8dULL, "0.000001");
	assert_number(0x41b3de4355555553ULL, "333333333.3333332");
	assert_number(0x41b3de4355555554ULL, "333333333.33333325");
	assert_number(0x41b3de4355555555ULL, "333333333.3333333");
	assert_number(0x41b3de4355555556ULL, "333333333.3333334");
	assert_number(0x41b3de4355555557ULL, "333333333.33333343");
	assert_number(0xbecbf647612f3696ULL, "-0.0000033333333333333333");
	assert_number(0x43143ff3c1cb0959ULL, "1424953923781206.2");
	/* Powers of two, where the nearest 16-digit decimal does not read
	 * back but the next one up does (values from Python's repr). */
	assert_number(0xc790000000000000ULL, "-5.316911983139664e+36");
	assert_number(0xbe70000000000000ULL, "-5.960464477539063e-8");
	assert_number(0x13e0000000000000ULL, "5.940911144672375e-213");
}
END_TEST

START_TEST(jcs_number_forms)
{
	char *s;
	int rc;

	s = jcs(json_pack("[f,f,f,f,f,f,f]", 1.0, 100.0, 1e20, 1e-7, 1.5e-7, 0.5, -2.25), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(s, "[1,100,100000000000000000000,1e-7,1.5e-7,0.5,-2.25]");
	free(s);

	s = jcs(json_pack("[I,I,i,i]", (json_int_t)9007199254740992LL,
	                  (json_int_t)-9007199254740992LL, 0, -17),
	        &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(s, "[9007199254740992,-9007199254740992,0,-17]");
	free(s);

	s = jcs(json_pack("{s:[I]}", "n", (json_int_t)9007199254740993LL), &rc);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(rc, CAIRN_EINVAL);
	ck_assert_error_contains("'9007199254740993' is beyond 2^53");
	s = jcs(json_integer(-9007199254740993LL), &rc);
	ck_assert_int_eq(rc, CAIRN_EINVAL);
}
END_TEST

START_TEST(jcs_string_escapes)
{
	/* Every control, DEL, U+2028, U+2029, and the short escapes. */
	static const char in[] = "\x01\b\t\n\x0b\f\r\x1f \"\\/\x7f\xe2\x80\xa8\xe2\x80\xa9\xc3\xa9";
	char *s;
	int rc;

	s = jcs(json_stringn(in, sizeof(in) - 1), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(s,
	                 "\"\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\\"\\\\/\x7f\xe2\x80\xa8\xe2\x80"
	                 "\xa9\xc3\xa9\"");
	free(s);

	/* An embedded NUL, in a value and in a key. */
	{
		json_t *o = json_object();

		json_object_setn_new(o, "k\0y", 3, json_stringn("a\0b", 3));
		json_object_set_new(o, "k", json_true());
		s = jcs(o, &rc);
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(s, "{\"k\":true,\"k\\u0000y\":\"a\\u0000b\"}");
		free(s);
	}
}
END_TEST

START_TEST(jcs_rejects_bad_utf8_and_keeps_output)
{
	static const char *bad[] = {"\xc0\xaf",  "\xed\xa0\x80", "\xf4\x90\x80\x80",
	                            "a\xe2\x82", "\x80",         "\xff"};
	cairn_buf b = CAIRN_BUF_INIT(1024);
	size_t i;

	cairn_buf_puts(&b, "prefix");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = json_pack("[s,o]", "ok", json_stringn_nocheck(bad[i], strlen(bad[i])));

		ck_assert_int_eq(cairn_json_canonical(&b, v), CAIRN_EINVAL);
		ck_assert_error_contains("invalid UTF-8");
		ck_assert_str_eq(b.ptr, "prefix");
		json_decref(v);
	}
	cairn_buf_dispose(&b);
}
END_TEST

/* Canonicalise a fixture and compare with the RFC's expected bytes. */
static void assert_fixture(const char *name)
{
	char rel[256], path[1024];
	cairn_buf in = CAIRN_BUF_INIT(1 << 20), want = CAIRN_BUF_INIT(1 << 20),
	          got = CAIRN_BUF_INIT(1 << 20);
	json_t *v = NULL;

	snprintf(rel, sizeof(rel), "json/%s.json", name);
	ck_assert_int_eq(cairn_buf_read_file(&in, test_data_path(path, sizeof(path), rel)), 0);
	snprintf(rel, sizeof(rel), "json/%s.canonical", name);
	ck_assert_int_eq(cairn_buf_read_file(&want, test_data_path(path, sizeof(path), rel)), 0);
	ck_assert_int_eq(cairn_json_parse(&v, in.ptr, in.len, name), 0);
	ck_assert_int_eq(cairn_json_canonical(&got, v), 0);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert_mem_eq(got.ptr, want.ptr, want.len);
	json_decref(v);
	cairn_buf_dispose(&in);
	cairn_buf_dispose(&want);
	cairn_buf_dispose(&got);
}

START_TEST(jcs_rfc8785_sample_and_sorting)
{
	assert_fixture("rfc8785-sample");
	/* U+1F600 sorts before U+FB33 by UTF-16 units (0xD83D < 0xFB33). */
	assert_fixture("rfc8785-sort");
}
END_TEST

START_TEST(jcs_sort_is_by_utf16_units)
{
	json_t *o = json_object();
	char *s;
	int rc;

	json_object_set_new(o, "\xef\xbf\xbd", json_integer(1));     /* U+FFFD */
	json_object_set_new(o, "\xf0\x90\x80\x80", json_integer(2)); /* U+10000 */
	json_object_set_new(o, "\xee\x80\x80", json_integer(3));     /* U+E000 */
	json_object_set_new(o, "\xed\x9f\xbf", json_integer(4));     /* U+D7FF */
	json_object_set_new(o, "b", json_integer(5));
	json_object_set_new(o, "ab", json_integer(6));
	json_object_set_new(o, "a", json_integer(7));
	json_object_set_new(o, "", json_integer(8));
	s = jcs(o, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(
	        s, "{\"\":8,\"a\":7,\"ab\":6,\"b\":5,\"\xed\x9f\xbf\":4,\"\xf0\x90\x80\x80\":2,"
	           "\"\xee\x80\x80\":3,\"\xef\xbf\xbd\":1}");
	free(s);
}
END_TEST

START_TEST(jcs_sha256_hex)
{
	char hex[65] = "untouched";
	json_t *v = json_pack("{s:i,s:s}", "b", 2, "a", "x");

	ck_assert_int_eq(cairn_json_sha256_hex(hex, v), 0);
	/* SHA-256 of the bytes {"a":"x","b":2} */
	{
		char want[65];

		cairn_sha256_hex(want, "{\"a\":\"x\",\"b\":2}", 15);
		ck_assert_str_eq(hex, want);
	}
	json_decref(v);

	memcpy(hex, "untouched", 10);
	v = json_integer(1LL << 60);
	ck_assert_int_eq(cairn_json_sha256_hex(hex, v), CAIRN_EINVAL);
	ck_assert_str_eq(hex, "untouched");
	json_decref(v);
}
END_TEST

/* ---- parsing ----------------------------------------------------------- */

static void parse_fixture(json_t **v, const char *name, int want_rc)
{
	char rel[256], path[1024];
	cairn_buf in = CAIRN_BUF_INIT(1 << 20);

	snprintf(rel, sizeof(rel), "json/%s", name);
	ck_assert_int_eq(cairn_buf_read_file(&in, test_data_path(path, sizeof(path), rel)), 0);
	ck_assert_int_eq(cairn_json_parse(v, in.ptr, in.len, name), want_rc);
	cairn_buf_dispose(&in);
}

START_TEST(parse_errors_have_places)
{
	json_t *v = (json_t *)0x1;
	const cairn_error *e;

	parse_fixture(&v, "duplicate-key.json", CAIRN_EINVAL);
	ck_assert_error_contains("duplicate object key");
	e = cairn_error_last();
	ck_assert_str_eq(e->file, "duplicate-key.json");
	ck_assert_int_eq(e->line, 1);
	ck_assert_ptr_eq(v, (json_t *)0x1);

	parse_fixture(&v, "bad-syntax.json", CAIRN_EINVAL);
	e = cairn_error_last();
	ck_assert_int_eq(e->line, 3);
	ck_assert_int_gt(e->column, 0);
	ck_assert_error_contains("invalid JSON");

	ck_assert_int_eq(cairn_json_parse(&v, "[1,", 3, NULL), CAIRN_EINVAL);
	ck_assert_str_eq(cairn_error_last()->file, "");
	ck_assert_int_eq(cairn_json_parse(&v, "", 0, "empty.json"), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_json_parse(&v, "1e999", 5, "big.json"), CAIRN_EINVAL);
	ck_assert_ptr_eq(v, (json_t *)0x1);
}
END_TEST

START_TEST(parse_size_limit_and_scalars)
{
	size_t big = ((size_t)64 << 20) + 1;
	char *text = malloc(big);
	json_t *v = NULL;

	ck_assert_ptr_nonnull(text);
	memset(text, ' ', big);
	text[0] = '1';
	ck_assert_int_eq(cairn_json_parse(&v, text, big, "huge.json"), CAIRN_ELIMIT);
	ck_assert_error_contains("over the 67108864-byte limit");
	ck_assert_ptr_null(v);
	free(text);

	ck_assert_int_eq(cairn_json_parse(&v, "\"a\\u0000b\"", 10, NULL), 0);
	ck_assert_uint_eq(json_string_length(v), 3);
	json_decref(v);
	ck_assert_int_eq(cairn_json_parse(&v, "-0.0", 4, NULL), 0);
	ck_assert(json_is_real(v));
	json_decref(v);
}
END_TEST

/* ---- cross-check with Python ------------------------------------------- */

static const char *python3(void)
{
	const char *p = getenv("PYTHON3");

	return p && *p ? p : "python3";
}

/*
 * Python's json.dumps(sort_keys, compact separators, ensure_ascii=False)
 * agrees with JCS for documents without floats and without astral-plane
 * keys; this feeds it documents of that kind and compares the bytes and
 * the SHA-256 with ours.
 */
START_TEST(jcs_matches_python)
{
	static const char *docs[] = {
	        "{\"b\":1,\"a\":{\"z\":[true,false,null],\"y\":\"\\u00e9\\u20ac\"},\"A\":-42}",
	        "{\"\\ufb33\":1,\"\\u20ac\":2,\"\\r\":3,\"1\":4,\"\\u0080\":5,\"\\u00f6\":6}",
	        "[\"ctl \\u0001\\u001f\\b\\f\\n\\r\\t \\\" \\\\ / \\u007f \\u2028\\u2029\","
	        "\"emoji \\ud83d\\ude00\",9007199254740992,-9007199254740992,{}]",
	        "{\"k\\u0001\":\"v\\u0000\",\"k\":{\"nested\":{\"deeper\":[[],[{}]]}},\"\":0}",
	        "{\"metadata\":{\"name\":\"guestbook\",\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}"
	        "},"
	        "\"spec\":{\"replicas\":3,\"ports\":[{\"port\":80,\"name\":\"http\"}]}}",
	};
	char dir[] = "/tmp/cairn-jcs-XXXXXX";
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char path[256], cmd[1024], line[8192], hex[65];
		cairn_buf ours = CAIRN_BUF_INIT(1 << 20);
		json_t *v = NULL;
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "%s/doc.json", dir);
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(docs[i], f);
		fclose(f);
		snprintf(
		        cmd, sizeof(cmd),
		        "%s -c 'import json,sys,hashlib\n"
		        "o=json.load(open(sys.argv[1],encoding=\"utf-8\"))\n"
		        "b=json.dumps(o,sort_keys=True,separators=(\",\",\":\"),"
		        "ensure_ascii=False).encode()\n"
		        "sys.stdout.buffer.write(hashlib.sha256(b).hexdigest().encode()+b\" \"+b)' "
		        "%s",
		        python3(), path);
		f = popen(cmd, "r");
		ck_assert_ptr_nonnull(f);
		n = fread(line, 1, sizeof(line) - 1, f);
		ck_assert_int_eq(pclose(f), 0);
		line[n] = '\0';
		ck_assert_uint_gt(n, 65);

		ck_assert_msg(cairn_json_parse(&v, docs[i], strlen(docs[i]), NULL) == 0, "%s",
		              cairn_error_last()->message);
		ck_assert_int_eq(cairn_json_canonical(&ours, v), 0);
		ck_assert_int_eq(cairn_json_sha256_hex(hex, v), 0);
		ck_assert_uint_eq(n - 65, ours.len);
		ck_assert_msg(memcmp(line + 65, ours.ptr, ours.len) == 0, "python '%s' ours '%s'",
		              line + 65, ours.ptr);
		ck_assert_mem_eq(line, hex, 64);
		json_decref(v);
		cairn_buf_dispose(&ours);
		unlink(path);
	}
	rmdir(dir);
}
END_TEST

/* A fixed xorshift sequence, so a failure can be reproduced. */
static uint64_t next_bits(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/*
 * 20,000 doubles (random bit patterns, powers of two, integers, small
 * fractions) formatted by us and by an independent Python oracle
 * (tests/unit/data/json/es_number.py, built on repr()).
 */
START_TEST(jcs_numbers_match_python)
{
	char dir[] = "/tmp/cairn-jcsnum-XXXXXX", in[128], out[128], script[1024], cmd[2048];
	uint64_t state = 0x9e3779b97f4a7c15ULL, bits[20000];
	char line[64];
	FILE *f;
	size_t i, n = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	while (n < sizeof(bits) / sizeof(bits[0])) {
		uint64_t b = next_bits(&state);
		double d;

		switch (n % 4) {
		case 1: /* a power of two (or just above), any sign */
			b &= 0xfff0000000000003ULL;
			break;
		case 2: /* an integer up to about 2^70 */
			d = (double)(int64_t)(b >> 1) * (double)(1 << (b % 7));
			memcpy(&b, &d, sizeof(b));
			break;
		case 3: /* a fraction scaled by 10^-30 .. 10^30 */
			d = (double)(b >> 11) / 9007199254740992.0 * pow(10, (int)(b % 61) - 30);
			memcpy(&b, &d, sizeof(b));
			break;
		}
		memcpy(&d, &b, sizeof(d));
		if (!isfinite(d))
			continue;
		bits[n++] = b;
		fprintf(f, "%016llx\n", (unsigned long long)b);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s %s < %s > %s", python3(),
	         test_data_path(script, sizeof(script), "json/es_number.py"), in, out);
	ck_assert_int_eq(system(cmd), 0);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < n; i++) {
		double d;
		char *s;
		int rc;

		ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
		line[strcspn(line, "\n")] = '\0';
		memcpy(&d, &bits[i], sizeof(d));
		s = jcs(json_real(d), &rc);
		ck_assert_int_eq(rc, 0);
		ck_assert_msg(strcmp(s, line) == 0, "%016llx: ours '%s', python '%s'",
		              (unsigned long long)bits[i], s, line);
		free(s);
	}
	fclose(f);
	unlink(in);
	unlink(out);
	rmdir(dir);
}
END_TEST

void core_json_tests(Suite *s)
{
	TCase *tc = tcase_create("hash");

	tcase_add_test(tc, sha256_fips180_vectors);
	tcase_add_test(tc, sha256_incremental_matches_one_shot);
	tcase_add_test(tc, hmac_rfc4231_vectors);
	tcase_add_test(tc, hex_round_trip_and_errors);
	tcase_add_test(tc, base64_rfc4648_vectors);
	tcase_add_test(tc, base64_strict_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, jcs_rfc8785_numbers);
	tcase_add_test(tc, jcs_number_forms);
	tcase_add_test(tc, jcs_string_escapes);
	tcase_add_test(tc, jcs_rejects_bad_utf8_and_keeps_output);
	tcase_add_test(tc, jcs_rfc8785_sample_and_sorting);
	tcase_add_test(tc, jcs_sort_is_by_utf16_units);
	tcase_add_test(tc, jcs_sha256_hex);
	tcase_add_test(tc, parse_errors_have_places);
	tcase_add_test(tc, parse_size_limit_and_scalars);
	tcase_add_test(tc, jcs_matches_python);
	tcase_add_test(tc, jcs_numbers_match_python);
	suite_add_tcase(s, tc);
}
