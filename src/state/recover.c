/*
 * recover.c - operations left Running by a process that died.
 *
 * Each operation row names its owner as "<boot id>:<pid>:<start time>"
 * (the kernel's boot id and the process's start time in clock ticks from
 * /proc/<pid>/stat), so that a reused pid or a reboot is not mistaken for
 * the owner still running. An open finds the Running rows whose owner is
 * gone and marks them Error "interrupted"; rows of a live owner (a daemon
 * running beside a CLI that opens the same database) are left alone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "state/state_private.h"

#define BOOT_ID_LEN 36
#define OWNER_MAX 96

static void read_boot_id(char out[BOOT_ID_LEN + 1])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	size_t n = 0;

	if (f != NULL) {
		n = fread(out, 1, BOOT_ID_LEN, f);
		fclose(f);
	}
	out[n] = '\0';
	if (n != BOOT_ID_LEN)
		snprintf(out, BOOT_ID_LEN + 1, "unknown");
}

/*
 * The start time (field 22) and state (field 3) of a process, read after
 * the last ')' since the command name may hold spaces and parentheses.
 * Returns 0, or -1 when the process does not exist or /proc is missing.
 */
static int proc_stat(long pid, unsigned long long *start, char *state)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice threads itrealvalue start */
	if (sscanf(p + 1,
	           " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
	           "%*s %llu",
	           state, start) != 2)
		return -1;
	return 0;
}

int state__owner_token(char *out, size_t size, long pid)
{
	char boot[BOOT_ID_LEN + 1], state;
	unsigned long long start = 0;

	read_boot_id(boot);
	if (proc_stat(pid, &start, &state) != 0)
		start = 0;
	snprintf(out, size, "%s:%ld:%llu", boot, pid, start);
	return 0;
}

/* Whether the process named by an owner token still runs (1) or not (0). */
static int owner_alive(const char *owner)
{
	char boot[BOOT_ID_LEN + 1], oboot[BOOT_ID_LEN + 1], state = '?';
	unsigned long long ostart, start;
	long pid;

	if (owner == NULL || sscanf(owner, "%36[^:]:%ld:%llu", oboot, &pid, &ostart) != 3 ||
	    pid <= 0)
		return 0;
	read_boot_id(boot);
	if (strcmp(boot, oboot) != 0)
		return 0;
	if (proc_stat(pid, &start, &state) != 0)
		return !(kill((pid_t)pid, 0) != 0 && errno == ESRCH);
	return start == ostart && state != 'Z' && state != 'X';
}

static const char sql_running[] = "SELECT id, owner FROM operations WHERE phase = 'Running'";
static const char sql_mark[] =
        "UPDATE operations SET phase = 'Error', finished_at = ?2,"
        " message = 'interrupted: the process running it ended before it finished'"
        " WHERE id = ?1 AND phase = 'Running'";

/*
 * Collect the dead owners' rows first (a read), then mark them in one write
 * transaction; the UPDATE re-checks the phase, so a row finished meanwhile
 * is not touched. At most 256 rows are marked per open (a daemon has one
 * Running operation per worker); any beyond are marked by the next open.
 */
int state__recover(cairn_state *st, int *count)
{
	int64_t ids[256];
	size_t n = 0;
	sqlite3_stmt *s;
	int rc, marked = 0;

	rc = state__stmt(st, &s, sql_running);
	if (rc != 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < sizeof(ids) / sizeof(ids[0])) {
		if (!owner_alive((const char *)sqlite3_column_text(s, 1)))
			ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state__sqlerr(st, rc, "cannot look for interrupted operations");
	if (n == 0) {
		*count = 0;
		return 0;
	}
	rc = state__tx_begin(st);
	if (rc != 0)
		return rc;
	rc = state__stmt(st, &s, sql_mark);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_int64(s, 2, cairn_time_now());
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = state__sqlerr(st, sqlite3_errcode(st->db),
			                   "cannot mark an interrupted operation");
		else
			marked += sqlite3_changes(st->db);
	}
	rc = state__tx_end(st, rc);
	if (rc == 0)
		*count = marked;
	return rc;
}
