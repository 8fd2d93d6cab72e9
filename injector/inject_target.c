/* inject_target.c: can LD_PRELOAD reach the program at all?
 *
 * Two kinds of program never load the shim, and without this check they run
 * with no injection and no word said, so a campaign would report "never
 * fails" about a program it never touched:
 *  - a statically linked program (no PT_INTERP: no dynamic loader reads
 *    LD_PRELOAD);
 *  - a set-user-ID or set-group-ID program that changes our credentials (the
 *    loader runs it in secure-execution mode and ignores a preload path with
 *    a slash).
 * Scripts are fine (their interpreter is an ordinary dynamic program), and so
 * is anything we cannot read: execvp then says what is wrong. */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject_target.h"

/* Find prog as execvp would: as given if it has a slash, else on PATH. */
static int locate(const char *prog, char *out, size_t len)
{
	if (strchr(prog, '/'))
		return snprintf(out, len, "%s", prog) < (int)len ? 0 : -1;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		/* An empty PATH entry means the current directory. */
		if (snprintf(out, len, "%.*s%s%s", (int)n, p, n ? "/" : "", prog) < (int)len &&
		    access(out, X_OK) == 0)
			return 0;
		if (!e)
			return -1;
		p = e;
	}
}

const char *inject_unreachable(const char *prog, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	if (locate(prog, path, sizeof path) != 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	bool suid = (st.st_mode & S_ISUID) && st.st_uid != getuid();
	bool sgid = (st.st_mode & S_ISGID) && st.st_gid != getgid();
	if (suid || sgid) {
		snprintf(why, len,
			 "inject: cannot inject into %s: it is set-%s-ID, so the loader ignores "
			 "LD_PRELOAD",
			 path, suid ? "user" : "group");
		return why;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	const char *res = NULL;
	Elf *e = NULL;
	if (elf_version(EV_CURRENT) != EV_NONE && (e = elf_begin(fd, ELF_C_READ, NULL)) &&
	    elf_kind(e) == ELF_K_ELF) {
		size_t n = 0;
		bool interp = false;
		if (elf_getphdrnum(e, &n) == 0) {
			for (size_t i = 0; i < n && !interp; i++) {
				GElf_Phdr ph;
				interp = gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP;
			}
			if (!interp) {
				snprintf(why, len,
					 "inject: cannot inject into %s: it is statically linked, so no "
					 "dynamic loader reads LD_PRELOAD",
					 path);
				res = why;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return res;
}
