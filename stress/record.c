/* --record FILE.jsonl: one JSON line per run (docs/interfaces.md), which
 * hunt reads.  Each line is appended whole or not at all. */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Per-site counts from an injection log's S lines (all process blocks summed). */
static json_t *log_sites(const char *path)
{
	json_t *o = json_object();
	FILE *f = path ? fopen(path, "re") : NULL;
	if (!f)
		return o;
	char line[1024], site[512];
	unsigned long long v, d, ns;
	while (fgets(line, sizeof line, f)) {
		if (line[0] != 'S' || line[1] != ' ')
			continue;
		if (sscanf(line, "S %511s %llu %llu %llu", site, &v, &d, &ns) != 4)
			continue;
		json_t *e = json_object_get(o, site);
		if (!e) {
			e = json_object();
			json_object_set_new(e, "visits", json_integer(0));
			json_object_set_new(e, "delays", json_integer(0));
			json_object_set_new(e, "delay_ns", json_integer(0));
			json_object_set_new(o, site, e);
		}
		json_integer_set(json_object_get(e, "visits"),
		                 json_integer_value(json_object_get(e, "visits")) + (json_int_t)v);
		json_integer_set(json_object_get(e, "delays"),
		                 json_integer_value(json_object_get(e, "delays")) + (json_int_t)d);
		json_integer_set(json_object_get(e, "delay_ns"),
		                 json_integer_value(json_object_get(e, "delay_ns")) + (json_int_t)ns);
	}
	fclose(f);
	return o;
}

/* Open the --record file for appending.  A last line cut short (a full disk
 * under an older stress) is ended first, so that our lines stay whole lines.
 * Returns the descriptor, or -1 with errno set. */
int record_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	struct stat st;
	char last = '\n';
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		int rfd = open(path, O_RDONLY | O_CLOEXEC);
		if (rfd >= 0) {
			if (pread(rfd, &last, 1, st.st_size - 1) != 1)
				last = '\n';
			close(rfd);
		}
	}
	if (last != '\n' && write(fd, "\n", 1) != 1) {
		int e = errno;
		close(fd);
		errno = e ? e : ENOSPC;
		return -1;
	}
	return fd;
}

/* Append one line whole or not at all: reserve its space first where the
 * filesystem can (fallocate beyond the end), write it with one write(2) on
 * the O_APPEND descriptor, and should the write still come up short (a full
 * disk, a file size limit), cut the file back to where the line began. */
static int append_line(int fd, const char *line, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	off_t start = st.st_size;
	if (S_ISREG(st.st_mode) && fallocate(fd, FALLOC_FL_KEEP_SIZE, start, (off_t)len) < 0 &&
	    errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -1;
	ssize_t w;
	while ((w = write(fd, line, len)) < 0 && errno == EINTR)
		;
	if (w == (ssize_t)len)
		return 0;
	int e = w < 0 ? errno : ENOSPC;
	if (S_ISREG(st.st_mode) && w > 0) {
		/* Another writer may have appended meanwhile: cut only our part. */
		struct stat now;
		if (fstat(fd, &now) == 0 && now.st_size == start + w)
			(void)!ftruncate(fd, start);
	}
	errno = e;
	return -1;
}

/* Append run R's line to the --record file FD: its outcome (SIG: the
 * failure's signature; NULL: it passed), REACH (whether injection reached
 * it; NULL: not injected) and the per-site counts of its injection log at
 * LOGPATH (which a kept failure has moved).  0, or -1 with errno. */
int record_run(int fd, const struct job *j, const struct runinfo *r, const char *sig,
               const char *reach, const char *logpath)
{
	bool failed = sig != NULL;
	json_t *o = json_object();
	json_object_set_new(o, "job", json_string(j->name));
	json_object_set_new(o, "run", json_integer(r->run));
	json_object_set_new(o, "seed", json_u64(r->seed));
	json_object_set_new(o, "status", json_string(failed ? "fail" : "pass"));
	json_object_set_new(o, "signature", failed ? json_string(sig) : json_null());
	json_object_set_new(o, "reproduces", failed ? json_boolean(sig_reproduces(j, sig)) : json_null());
	json_object_set_new(o, "exit", r->exited ? json_integer(r->code) : json_null());
	json_object_set_new(o, "signal", r->exited ? json_null() : json_string(signame(r->code)));
	json_object_set_new(o, "seconds", json_real(r->dur_ms / 1e3));
	json_object_set_new(o, "injection", reach ? json_string(reach) : json_null());
	json_object_set_new(o, "sites", log_sites(logpath));
	char *txt = json_dump_u64(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	size_t n = strlen(txt);
	txt = xrealloc(txt, n + 2);
	txt[n++] = '\n';
	txt[n] = 0;
	int rc = append_line(fd, txt, n);
	free(txt);
	return rc;
}
