/*
 * redact.c - secrets never enter the trail: the values of Secret objects
 * become HMAC-SHA256 under a per-installation key (a bare hash of a short
 * secret could be guessed by trying values), so equal values still compare
 * equal. The key lives in <state dir>/audit.hmac-key.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_private.h"
#include "cairn/error.h"
#include "cairn/hash.h"

int audit__redact_with(const uint8_t key[32], json_t *v);

/* Redact every member value of a data/stringData object in place. Non-string
 * values are redacted over their JSON text so nothing slips through. */
static int redact_map(const uint8_t key[32], json_t *map)
{
	const char *k;
	json_t *val;
	void *tmp;

	if (!json_is_object(map))
		return 0;
	json_object_foreach_safe(map, tmp, k, val)
	{
		char out[CAIRN_AUDIT_REDACTED_LEN];
		uint8_t mac[32];
		char *dump = NULL;
		const char *bytes;
		size_t len;

		if (json_is_string(val)) {
			bytes = json_string_value(val);
			len = json_string_length(val);
		} else {
			dump = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
			if (dump == NULL)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			bytes = dump;
			len = strlen(dump);
		}
		cairn_hmac_sha256(mac, key, 32, bytes, len);
		free(dump);
		memcpy(out, CAIRN_AUDIT_REDACTED_PREFIX, 12);
		cairn_hex_encode(out + 12, mac, 32);
		if (json_object_set_new(map, k, json_string(out)) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

/* Walk the tree; depth is bounded by what jansson accepted on input. */
int audit__redact_with(const uint8_t key[32], json_t *v)
{
	int rc;

	if (json_is_object(v)) {
		const char *k;
		json_t *child;
		json_t *kind = json_object_get(v, "kind");

		if (json_is_string(kind) && strcmp(json_string_value(kind), "Secret") == 0) {
			if ((rc = redact_map(key, json_object_get(v, "data"))) < 0 ||
			    (rc = redact_map(key, json_object_get(v, "stringData"))) < 0)
				return rc;
		}
		json_object_foreach(v, k, child)
		{
			if ((rc = audit__redact_with(key, child)) < 0)
				return rc;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;

		json_array_foreach(v, i, child)
		{
			if ((rc = audit__redact_with(key, child)) < 0)
				return rc;
		}
	}
	return 0;
}

int cairn_audit_hmac_key_load(uint8_t key[32], const char *state_dir, int create)
{
	char *path = audit__path(state_dir, CAIRN_AUDIT_HMAC_KEY_FILE);
	uint8_t buf[33];
	ssize_t n;
	int fd, rc = 0;

	if (path == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = cairn_error_set_errno(errno, "cannot create '%s'", path);
			goto out;
		}
		randombytes_buf(buf, 32);
		if (audit__io_write(NULL, fd, buf, 32) < 0 || fsync(fd) < 0) {
			rc = cairn_error_set_errno(errno, "cannot write '%s'", path);
			close(fd);
			unlink(path);
			goto out;
		}
		close(fd);
		rc = audit__fsync_dir(state_dir);
		if (rc == 0)
			memcpy(key, buf, 32);
		goto out;
	}
	if (fd < 0) {
		rc = cairn_error_set_errno(errno, "cannot read '%s'", path);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != 32) {
		rc = cairn_error_set(CAIRN_ECORRUPT, "'%s' must hold exactly 32 bytes", path);
		goto out;
	}
	memcpy(key, buf, 32);
out:
	sodium_memzero(buf, sizeof(buf));
	free(path);
	return rc;
}
