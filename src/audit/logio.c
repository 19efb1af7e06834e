/*
 * logio.c - the audit log's I/O layer: whole writes, fdatasync, directory
 * fsync, file mapping, and the test-only fault hooks (no LD_PRELOAD: it
 * does not mix with sanitizer builds).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_private.h"
#include "cairn/error.h"

void audit__io_init(struct audit_io *io)
{
	memset(io, 0, sizeof(*io));
	io->fail_write_after = -1;
	io->fail_sync_after = -1;
	io->crash_after_ops = -1;
}

void audit__io_track(struct audit_io *io, int fd)
{
	struct stat st;

	if (io == NULL || io->nfiles >= AUDIT_IO_MAX_FILES || fstat(fd, &st) < 0)
		return;
	io->files[io->nfiles].fd = fd;
	io->files[io->nfiles].synced = st.st_size;
	io->nfiles++;
}

void audit__io_untrack(struct audit_io *io, int fd)
{
	if (io == NULL)
		return;
	for (int i = 0; i < io->nfiles; i++) {
		if (io->files[i].fd == fd) {
			io->files[i] = io->files[io->nfiles - 1];
			io->nfiles--;
			return;
		}
	}
}

/* xorshift64*: the tests want reproducible tears from a seed. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void audit__io_power_loss(struct audit_io *io)
{
	struct stat st;

	if (io == NULL || io->dead)
		return;
	io->dead = 1;
	for (int i = 0; i < io->nfiles; i++) {
		off_t keep = io->files[i].synced;

		if (fstat(io->files[i].fd, &st) < 0)
			continue;
		if (io->tear && st.st_size > keep)
			keep += (off_t)(next_rand(&io->seed) % (uint64_t)(st.st_size - keep));
		if (keep < st.st_size && ftruncate(io->files[i].fd, keep) < 0)
			continue;
	}
}

/* Count one operation towards a simulated crash; 1 when the power is gone. */
static int crashed(struct audit_io *io)
{
	if (io->dead)
		return 1;
	if (io->crash_after_ops >= 0 && io->crash_after_ops-- == 0) {
		audit__io_power_loss(io);
		return 1;
	}
	return 0;
}

int audit__io_write(struct audit_io *io, int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		size_t chunk = n;
		ssize_t w;

		if (io != NULL) {
			if (crashed(io)) {
				errno = EIO;
				return -1;
			}
			if (io->fail_write_after >= 0) {
				uint64_t room =
				        (uint64_t)io->fail_write_after > io->bytes_written
				                ? (uint64_t)io->fail_write_after - io->bytes_written
				                : 0;
				if (room == 0) {
					errno = io->write_errno ? io->write_errno : ENOSPC;
					return -1;
				}
				if (chunk > room)
					chunk = (size_t)room;
			}
		}
		w = write(fd, p, chunk);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (io != NULL)
			io->bytes_written += (uint64_t)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int audit__io_sync(struct audit_io *io, int fd)
{
	struct stat st;

	if (io != NULL) {
		if (crashed(io)) {
			errno = EIO;
			return -1;
		}
		if (io->fail_sync_after >= 0 && io->syncs >= (uint64_t)io->fail_sync_after) {
			errno = io->sync_errno ? io->sync_errno : EIO;
			return -1;
		}
	}
	if (fdatasync(fd) < 0)
		return -1;
	if (io != NULL) {
		io->syncs++;
		for (int i = 0; i < io->nfiles; i++)
			if (io->files[i].fd == fd && fstat(fd, &st) == 0)
				io->files[i].synced = st.st_size;
	}
	return 0;
}

int audit__fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return cairn_error_set_errno(errno, "cannot open directory '%s'", dir);
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = cairn_error_set_errno(errno, "cannot fsync directory '%s'", dir);
	close(fd);
	return rc;
}

int audit__map_file(struct audit_map *m, const char *path, int missing_ok)
{
	struct stat st;
	int fd, rc = 0;
	void *p;

	m->ptr = NULL;
	m->len = 0;
	m->mapped = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return cairn_error_set_errno(errno, "cannot open '%s'", path);
	}
	if (fstat(fd, &st) < 0) {
		rc = cairn_error_set_errno(errno, "cannot stat '%s'", path);
		goto out;
	}
	if (st.st_size == 0)
		goto out;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		rc = cairn_error_set_errno(errno, "cannot map '%s'", path);
		goto out;
	}
	m->ptr = p;
	m->len = (size_t)st.st_size;
	m->mapped = 1;
out:
	close(fd);
	return rc;
}

void audit__map_free(struct audit_map *m)
{
	if (m == NULL)
		return;
	if (m->mapped)
		munmap(m->ptr, m->len);
	else
		free(m->ptr);
	m->ptr = NULL;
	m->len = 0;
	m->mapped = 0;
}

char *audit__path(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p == NULL)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}
