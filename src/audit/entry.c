/*
 * entry.c - what an audit entry may hold and how a line is read back:
 * text checks (no control characters, so nothing can forge a line), the
 * known actions, strict parsing of a line, the signed message, the key
 * chain and an incremental RFC 6962 root.
 */
#include <sodium.h>

#include "audit/audit_private.h"
#include "cairn/error.h"
#include "cairn/json.h"

static const char *const known_actions[] = {
        "sync.started",
        "sync.succeeded",
        "sync.failed",
        "prune",
        "drift.detected",
        "drift.corrected",
        "rollback",
        "promotion",
        "rollout.step",
        "rollout.aborted",
        "policy.denied",
        "key.rotated",
        "config.reloaded",
        "audit.torn-tail",
        /* cairnd: authenticated requests and the triggers that queue a sync */
        "app.sync.requested",
        "app.rollback.requested",
        "trigger.push",
        "trigger.webhook",
        /* the rollout engine and the operator requests it consumes */
        "rollout.promoted",
        "rollout.completed",
        "rollout.measurement",
        "rollout.promote.requested",
        "rollout.promote-full.requested",
        "rollout.pause.requested",
        "rollout.resume.requested",
        "rollout.abort.requested",
        "rollout.retry.requested",
        NULL,
};

/*
 * Decode one UTF-8 sequence at s (n bytes left); returns its length, 0 when
 * invalid. Overlongs, surrogates and values past U+10FFFF are invalid.
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int audit__text_check(const char *s, const char *what)
{
	size_t n = strlen(s), i = 0;

	if (n == 0)
		return cairn_error_set(CAIRN_EINVAL, "%s must not be empty", what);
	if (n > CAIRN_AUDIT_FIELD_MAX)
		return cairn_error_set(CAIRN_EINVAL, "%s is longer than %d bytes", what,
		                       CAIRN_AUDIT_FIELD_MAX);
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_next((const unsigned char *)s + i, n - i, &cp);

		if (len == 0)
			return cairn_error_set(CAIRN_EINVAL, "%s is not valid UTF-8 (byte %zu)",
			                       what, i + 1);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
		    cp == 0x2029)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "%s contains a control character (U+%04X at byte %zu)", what,
			        (unsigned)cp, i + 1);
		i += len;
	}
	return 0;
}

static int namespaced_ok(const char *w)
{
	size_t n = strlen(w);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int cairn_audit_action_check(const char *action)
{
	for (size_t i = 0; known_actions[i] != NULL; i++)
		if (strcmp(action, known_actions[i]) == 0)
			return 0;
	if ((strncmp(action, "note.", 5) == 0 && namespaced_ok(action + 5)) ||
	    (strncmp(action, "x-", 2) == 0 && namespaced_ok(action + 2)))
		return 0;
	if (audit__text_check(action, "action") < 0)
		return CAIRN_EINVAL;
	return cairn_error_set(CAIRN_EINVAL,
	                       "unknown action '%s': use a known action or 'note.<word>' / "
	                       "'x-<word>' with [a-z0-9._-]",
	                       action);
}

static const char *const entry_members[] = {"action", "actor", "details", "key", "prev",
                                            "seq",    "sig",   "subject", "time"};

/* Check the members and their types; fill p's borrowed pointers. */
static int entry_fields(struct audit_parsed *p)
{
	json_t *j = p->json, *v;
	json_int_t seq;

	if (!json_is_object(j))
		return cairn_error_set(CAIRN_EINVAL, "entry is not a JSON object");
	if (json_object_size(j) != 9)
		return cairn_error_set(CAIRN_EINVAL,
		                       "entry has %zu members, expected the 9 of an "
		                       "entry",
		                       json_object_size(j));
	for (size_t i = 0; i < 9; i++)
		if (json_object_get(j, entry_members[i]) == NULL)
			return cairn_error_set(CAIRN_EINVAL, "entry has no '%s'", entry_members[i]);
	v = json_object_get(j, "seq");
	if (!json_is_integer(v) || (seq = json_integer_value(v)) < 0)
		return cairn_error_set(CAIRN_EINVAL, "'seq' is not a non-negative integer");
	p->seq = (uint64_t)seq;
#define STR(field, name)                                                                           \
	do {                                                                                       \
		v = json_object_get(j, name);                                                      \
		if (!json_is_string(v))                                                            \
			return cairn_error_set(CAIRN_EINVAL, "'%s' is not a string", name);        \
		p->field = json_string_value(v);                                                   \
	} while (0)
	STR(time_text, "time");
	STR(actor, "actor");
	STR(action, "action");
	STR(key, "key");
	STR(prev, "prev");
	STR(sig, "sig");
#undef STR
	p->subject = json_object_get(j, "subject");
	p->details = json_object_get(j, "details");
	if (!json_is_object(p->subject))
		return cairn_error_set(CAIRN_EINVAL, "'subject' is not an object");
	if (cairn_time_parse(&p->time, p->time_text) < 0)
		return cairn_error_set(CAIRN_EINVAL, "'time' is not an RFC 3339 time");
	if (strlen(p->prev) != 64)
		return cairn_error_set(CAIRN_EINVAL, "'prev' is not 64 hex digits");
	return 0;
}

int audit__entry_parse(struct audit_parsed *p, const char *line, size_t len, int canonical)
{
	struct audit_parsed tmp;
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_AUDIT_LINE_MAX + 16);
	json_error_t jerr;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	if (len > CAIRN_AUDIT_LINE_MAX)
		return cairn_error_set(CAIRN_EINVAL, "entry is longer than %zu bytes",
		                       (size_t)CAIRN_AUDIT_LINE_MAX);
	tmp.json = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (tmp.json == NULL)
		return cairn_error_set(CAIRN_EINVAL, "entry is not valid JSON: %s (column %d)",
		                       jerr.text, jerr.column);
	rc = entry_fields(&tmp);
	if (rc == 0 && canonical) {
		rc = cairn_json_canonical(&b, tmp.json);
		if (rc == 0 && (b.len != len || memcmp(b.ptr, line, len) != 0))
			rc = cairn_error_set(CAIRN_EINVAL, "entry is not in canonical (JCS) form");
		else if (rc < 0)
			cairn_error_prefix("entry cannot be canonicalised: ");
	}
	cairn_buf_dispose(&b);
	if (rc < 0) {
		json_decref(tmp.json);
		return rc;
	}
	*p = tmp;
	return 0;
}

int audit__entry_message(cairn_buf *out, const struct audit_parsed *p)
{
	json_t *copy = json_copy(p->json);
	int rc;

	if (copy == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_object_del(copy, "sig");
	rc = cairn_json_canonical(out, copy);
	json_decref(copy);
	return rc;
}

int audit__keychain_rotate(struct audit_keychain *kc, const struct audit_parsed *p)
{
	const json_t *nk = json_object_get(p->details, "newKey");
	cairn_audit_verifier v;

	if (!json_is_string(nk))
		return cairn_error_set(CAIRN_EINVAL, "key.rotated entry has no 'details.newKey'");
	if (cairn_audit_verifier_parse(&v, json_string_value(nk), json_string_length(nk)) < 0)
		return cairn_error_prefix("key.rotated entry: ");
	kc->cur = v;
	kc->keys++;
	return 0;
}

void audit__frontier_init(struct audit_frontier *f)
{
	f->size = 0;
	f->n = 0;
}

/* Merge equal-height subtrees like a binary counter: the stack holds one
 * perfect subtree per set bit of size, largest first. */
void audit__frontier_push(struct audit_frontier *f, const uint8_t leaf[32])
{
	uint64_t s = f->size;
	uint8_t tmp[32];

	memcpy(f->h[f->n++], leaf, 32);
	while (s & 1) {
		audit__node_hash(tmp, f->h[f->n - 2], f->h[f->n - 1]);
		memcpy(f->h[f->n - 2], tmp, 32);
		f->n--;
		s >>= 1;
	}
	f->size++;
}

void audit__frontier_root(const struct audit_frontier *f, uint8_t out[32])
{
	uint8_t acc[32], tmp[32];

	if (f->n == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	memcpy(acc, f->h[f->n - 1], 32);
	for (int i = f->n - 2; i >= 0; i--) {
		audit__node_hash(tmp, f->h[i], acc);
		memcpy(acc, tmp, 32);
	}
	memcpy(out, acc, 32);
}

/*
 * As audit__entry_parse() with the canonical check, but also producing the
 * signed message, with one full JCS encoding instead of two: the message is
 * JCS(entry without sig), and since "sig" sorts between "seq" and "subject"
 * (the last two members being subject and time), the line must be the
 * message with ,"sig":<JCS(sig)> inserted before ,"subject":.
 */
int audit__entry_parse_msg(struct audit_parsed *p, const char *line, size_t len, cairn_buf *msg)
{
	struct audit_parsed tmp;
	cairn_buf tail = CAIRN_BUF_INIT(CAIRN_AUDIT_LINE_MAX), sigj = CAIRN_BUF_INIT(4096);
	json_t *sigv;
	size_t ip;
	int rc;

	cairn_buf_reset(msg);
	rc = audit__entry_parse(&tmp, line, len, 0);
	if (rc < 0)
		return rc;
	sigv = json_incref(json_object_get(tmp.json, "sig"));
	json_object_del(tmp.json, "sig");
	rc = cairn_json_canonical(msg, tmp.json);
	json_object_set_new(tmp.json, "sig", sigv);
	if (rc == 0 && (rc = cairn_buf_puts(&tail, ",\"subject\":")) == 0 &&
	    (rc = cairn_json_canonical(&tail, tmp.subject)) == 0 &&
	    (rc = cairn_buf_puts(&tail, ",\"time\":")) == 0 &&
	    (rc = cairn_json_canonical(&tail, json_object_get(tmp.json, "time"))) == 0 &&
	    (rc = cairn_buf_putc(&tail, '}')) == 0)
		rc = cairn_json_canonical(&sigj, sigv);
	if (rc < 0) {
		cairn_error_prefix("entry cannot be canonicalised: ");
		goto out;
	}
	if (msg->len < tail.len ||
	    memcmp(msg->ptr + msg->len - tail.len, tail.ptr, tail.len) != 0 ||
	    len != msg->len + 7 + sigj.len) {
		rc = cairn_error_set(CAIRN_EINVAL, "entry is not in canonical (JCS) form");
		goto out;
	}
	ip = msg->len - tail.len;
	if (memcmp(line, msg->ptr, ip) != 0 || memcmp(line + ip, ",\"sig\":", 7) != 0 ||
	    memcmp(line + ip + 7, sigj.ptr, sigj.len) != 0 ||
	    memcmp(line + ip + 7 + sigj.len, msg->ptr + ip, tail.len) != 0)
		rc = cairn_error_set(CAIRN_EINVAL, "entry is not in canonical (JCS) form");
out:
	cairn_buf_dispose(&tail);
	cairn_buf_dispose(&sigj);
	if (rc < 0) {
		json_decref(tmp.json);
		return rc;
	}
	*p = tmp;
	return 0;
}
