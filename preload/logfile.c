/* logfile.c: the INJECT_LOG writer (see logfile.h).
 *
 * The block is built line by line in static buffers (no malloc, no stdio)
 * and written with write(2) under an exclusive flock, so that the blocks of
 * processes sharing the file stay whole; the end line's place in the file
 * is kept, so that a later correction of its reason can find it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "logfile.h"
#include "ring.h"
#include "shim.h"
#include "sites.h"
#include "state.h"

/* The end line up to "reason=", and where it is in the file (for a later
 * correction of the reason, see inj_logfile_rewrite_reason). */
static char end_line[512];
static size_t end_prefix;
static off_t end_at, end_size;

static char logbuf[1 << 16];
static size_t loglen;
static int logfd = -1;

static int write_failed;            /* some of the block did not reach the file */

static void emit_flush(void)
{
	size_t off = 0;
	while (off < loglen) {
		ssize_t w = inj_write(logfd, logbuf + off, loglen - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			write_failed = 1;
			break;
		}
		off += (size_t)w;
	}
	loglen = 0;
}

static void emit(const char *line, size_t n)
{
	if (loglen + n > sizeof logbuf)
		emit_flush();
	memcpy(logbuf + loglen, line, n);
	loglen += n;
}

#define LINE_END (line + sizeof line - 2)

static char *fmt_reason(char *p, char *end, int kind, int sig)
{
	if (kind == END_BY_SIGNAL) {
		p = inj_fmt_str(p, "signal ", end);
		return inj_fmt_u64(p, (uint64_t)sig);
	}
	return inj_fmt_str(p, kind == END_BY__EXIT ? "_exit" : "exit", end);
}

void inj_logfile_write(int kind, int sig)
{
	logfd = inj_open(inj_cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		inj_write_err("inject: INJECT_LOG: cannot open the log at exit");
		return;
	}
	/* Blocks of processes sharing the file stay whole (raw: glibc's flock
	 * is not a cancellation point today, and we need it never to be one). */
	syscall(SYS_flock, logfd, LOCK_EX);
	loglen = 0;
	write_failed = 0;
	char line[1024], *p;
	const struct inject_config *c = &inj_cfg;
	static const char *const actions[] = { "sleep", "yield", "spin" };

	p = inj_fmt_str(line, "# inject-log v1 pid=", LINE_END);
	p = inj_fmt_u64(p, (uint64_t)getpid());
	p = inj_fmt_str(p, " seed=", LINE_END);
	p = inj_fmt_u64(p, c->seed);
	p = inj_fmt_str(p, " prob=", LINE_END);
	p = inj_fmt_str(p, c->prob_str, LINE_END);
	p = inj_fmt_str(p, " delay=", LINE_END);
	p = inj_fmt_str(p, c->delay_str, LINE_END);
	p = inj_fmt_str(p, " action=", LINE_END);
	p = inj_fmt_str(p, actions[c->action], LINE_END);
	p = inj_fmt_str(p, " points=", LINE_END);
	p = inj_fmt_str(p, c->points_str, LINE_END);
	p = inj_fmt_str(p, " sites=", LINE_END);
	p = inj_fmt_str(p, c->sites_str[0] ? c->sites_str : "*", LINE_END);
	/* Where the E lines' times start, on CLOCK_MONOTONIC: with it a reader
	 * puts our delays and the program's own timestamps on one clock. */
	p = inj_fmt_str(p, " t0=", LINE_END);
	p = inj_fmt_u64(p, inj_t0);
	*p++ = '\n';
	emit(line, (size_t)(p - line));

	struct site_rec buf;
	uint64_t kept = 0, lost = inj_ring_dropped();
	for (int i = 0; i < NSLOTS; i++) {
		uint64_t from, to;
		const struct tslot *s = inj_ring_read(i, &from, &to, &lost);
		if (!s)
			continue;
		/* T <lineage> <tid>: which kernel thread the slot's events are from. */
		p = inj_fmt_str(line, "T ", LINE_END);
		p = inj_fmt_str(p, s->lineage[0] ? s->lineage : "?", LINE_END);
		*p++ = ' ';
		p = inj_fmt_u64(p, (uint64_t)(s->tid > 0 ? s->tid : 0));
		*p++ = '\n';
		emit(line, (size_t)(p - line));
		for (uint64_t j = from; j < to; j++) {
			const struct event *e = &s->ev[j % RING];
			uint32_t site = e->site_point >> 8, point = e->site_point & 0xff;
			if (site >= SITE_SLOTS || point >= PT_COUNT)
				continue;
			p = inj_fmt_str(line, "E ", LINE_END);
			p = inj_fmt_u64(p, e->t);
			*p++ = ' ';
			p = inj_fmt_str(p, s->lineage[0] ? s->lineage : "?", LINE_END);
			*p++ = ' ';
			p = inj_fmt_str(p, inject_point_names[point], LINE_END);
			*p++ = ' ';
			p = inj_fmt_str(p, inj_site_rec((int)site, &buf)->name, LINE_END);
			*p++ = ' ';
			p = inj_fmt_u64(p, e->visit);
			*p++ = ' ';
			p = inj_fmt_u64(p, e->delay);
			*p++ = '\n';
			emit(line, (size_t)(p - line));
			kept++;
		}
	}
	uint64_t nsites = 0, matched = 0, matched_visits = 0;
	for (uint32_t u = 0, nu = inj_used_count(); u < nu; u++) {
		int i = inj_used_site(u);
		if (i < 0)
			continue;       /* its claimer was stopped between two stores */
		struct site *st = &inj_sites[i];
		uint64_t v = LOAD(&st->visits);
		if (!v)
			continue;
		const struct site_rec *r = inj_site_rec(i, &buf);
		nsites++;
		if (r->match) {
			matched++;
			matched_visits += v;
		}
		p = inj_fmt_str(line, "S ", LINE_END);
		p = inj_fmt_str(p, r->name, LINE_END);
		*p++ = ' ';
		p = inj_fmt_u64(p, v);
		*p++ = ' ';
		p = inj_fmt_u64(p, LOAD(&st->delays));
		*p++ = ' ';
		p = inj_fmt_u64(p, LOAD(&st->delay_ns));
		*p++ = '\n';
		emit(line, (size_t)(p - line));
	}
	char *e = end_line + sizeof end_line - 40;
	p = inj_fmt_str(end_line, "# end pid=", e);
	p = inj_fmt_u64(p, (uint64_t)getpid());
	p = inj_fmt_str(p, " events=", e);
	p = inj_fmt_u64(p, kept);
	p = inj_fmt_str(p, " dropped=", e);
	p = inj_fmt_u64(p, lost);
	p = inj_fmt_str(p, " unnamed=0 sites=", e);
	p = inj_fmt_u64(p, nsites);
	p = inj_fmt_str(p, " matched=", e);
	p = inj_fmt_u64(p, matched);
	p = inj_fmt_str(p, " matched_visits=", e);
	p = inj_fmt_u64(p, matched_visits);
	p = inj_fmt_str(p, " full=", e);
	p = inj_fmt_u64(p, inj_sites_full());
	p = inj_fmt_str(p, " reason=", e);
	end_prefix = (size_t)(p - end_line);
	p = fmt_reason(p, end_line + sizeof end_line - 1, kind, sig);
	*p++ = '\n';
	emit(end_line, (size_t)(p - end_line));
	emit_flush();
	/* O_APPEND left the offset at the end of what we wrote. */
	end_size = write_failed ? -1 : lseek(logfd, 0, SEEK_CUR);
	end_at = end_size - (p - end_line);
	inj_close(logfd);           /* also drops the flock */
	logfd = -1;
}

/* The reason is corrected in place only while our block is the file's last
 * (a process sharing the log may have appended its own since; then it
 * stays).  One pwrite: a process killed meanwhile keeps the old line or gets
 * the new one whole (a shorter reason leaves the old line's last byte as an
 * empty line). */
int inj_logfile_rewrite_reason(int kind, int sig)
{
	if (end_size <= 0 || end_at < 0)
		return 0;
	int fd = inj_open(inj_cfg.log, O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int last = 0;
	syscall(SYS_flock, fd, LOCK_EX);
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size == end_size) {
		char *p = fmt_reason(end_line + end_prefix, end_line + sizeof end_line - 1, kind, sig);
		*p++ = '\n';
		size_t n = (size_t)(p - end_line);
		if (syscall(SYS_pwrite64, fd, end_line, n, end_at) == (long)n &&
		    end_at + (off_t)n < end_size) {
			syscall(SYS_ftruncate, fd, end_at + (off_t)n);
		}
		end_size = end_at + (off_t)n;
		last = 1;
	}
	inj_close(fd);
	return last;
}

void inj_logfile_after_fork(void)
{
	end_size = 0;
}
