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
 * is anything we cannot read: execvp then says what is wrong.  The program is
 * found as execvp will find it (common/path.c's path_lookup). */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject_target.h"

#include "../common/path.h"

const char *inject_unreachable(const char *prog, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	if (path_lookup(prog, path, sizeof path) != 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
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
