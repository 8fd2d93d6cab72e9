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
 * found as execvp will find it (common/path.c's path_lookup).
 *
 * A program compiled with -fsanitize=thread must send its __tsan_* calls to
 * the shim (preload/tsan.c), and the shim must define every one it calls:
 * else it dies at load (linked -z now) or, worse, at its first call to the
 * missing one, deep into a run.  So we refuse, naming the reason, a program
 * that needs libtsan (linked with -fsanitize=thread: libtsan's interceptors
 * would run, and its race reports), one that defines __tsan_* itself (clang's
 * static runtime: our preloaded definitions would never be called), and one
 * that calls a __tsan_* function the shim does not export.  The same holds
 * for each library it loads (a library built with -fsanitize=thread and
 * linked against libtsan runs libtsan's interceptors beside our entry
 * points): every object the loader will map is checked (inject_needed.c
 * finds them as ld.so does) and the line names the first refused. */
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

#include "inject_needed.h"
#include "inject_target.h"

#include "../common/path.h"

/* Open path's ELF image: the descriptor in *fd, NULL when it is not ELF or
 * cannot be read. */
static Elf *open_elf(const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	Elf *e = NULL;
	if (elf_version(EV_CURRENT) != EV_NONE && (e = elf_begin(*fd, ELF_C_READ, NULL)) &&
	    elf_kind(e) == ELF_K_ELF)
		return e;
	if (e)
		elf_end(e);
	close(*fd);
	return NULL;
}

/* Call fn(name, defined, arg) for every __tsan_* symbol of e's .dynsym, and
 * for every DT_NEEDED entry with defined = -1; stop when it returns non-zero
 * (returned). */
static int each_tsan(Elf *e, int (*fn)(const char *, int, void *), void *arg)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		/* Only these two are read: elf_getdata of any other would read
		 * (or convert) the whole section, .text included. */
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_DYNAMIC) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n && sh.sh_type == SHT_DYNSYM; i++) {
			GElf_Sym sym;
			const char *name;
			if (!gelf_getsym(d, (int)i, &sym) ||
			    !(name = elf_strptr(e, sh.sh_link, sym.st_name)) ||
			    strncmp(name, "__tsan_", 7))
				continue;
			int r = fn(name, sym.st_shndx != SHN_UNDEF, arg);
			if (r)
				return r;
		}
		for (size_t i = 0; i < n && sh.sh_type == SHT_DYNAMIC; i++) {
			GElf_Dyn dyn;
			const char *name;
			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag != DT_NEEDED ||
			    !(name = elf_strptr(e, sh.sh_link, dyn.d_un.d_val)))
				continue;
			int r = fn(name, -1, arg);
			if (r)
				return r;
		}
	}
	return 0;
}

/* The shim's exported __tsan_* names. */
struct names {
	size_t n;
	char *name[1024];
};

static int add_export(const char *name, int defined, void *arg)
{
	struct names *s = arg;
	if (defined == 1 && s->n < sizeof s->name / sizeof s->name[0])
		s->name[s->n++] = strdup(name);
	return 0;
}

struct tsan_check {
	const struct names *shim;
	const char *prog;       /* the program's path */
	char obj[PATH_MAX];     /* the object refused */
	char found[256];        /* the offending name */
	int why;                /* 1 needs libtsan, 2 defines, 3 the shim lacks it */
	int calls;              /* some __tsan_* is called */
};

/* One name of an object: the worst reason found in it so far (needing
 * libtsan before defining __tsan_* before calling one the shim lacks, so
 * that a program linked with -fsanitize=thread is named for libtsan). */
static int check_one(const char *name, int defined, void *arg)
{
	struct tsan_check *c = arg;
	int why = 0;
	if (defined < 0)
		why = strncmp(name, "libtsan.so", 10) ? 0 : 1;
	else if (defined)
		why = 2;
	else {
		c->calls = 1;
		why = 3;
		for (size_t i = 0; i < c->shim->n && why; i++)
			why = strcmp(c->shim->name[i], name) ? 3 : 0;
	}
	if (why && (!c->why || why < c->why)) {
		c->why = why;
		snprintf(c->found, sizeof c->found, "%s", name);
	}
	return 0;
}

/* One object the program maps (inject_needed.c): refused when it has a
 * reason; the first such object in the loader's order is named. */
static int check_object(const char *path, Elf *e, void *arg)
{
	struct tsan_check *c = arg;
	each_tsan(e, check_one, c);
	if (c->why)
		snprintf(c->obj, sizeof c->obj, "%s", path);
	return c->why;
}

const char *inject_tsan_unserved(const char *prog, const char *shim, int *instrumented,
				 char *why, size_t len)
{
	const char *preload = getenv("LD_PRELOAD");
	char path[PATH_MAX];
	*instrumented = 0;
	if (path_lookup(prog, path, sizeof path) != 0)
		return NULL;
	int sfd;
	static struct names exports;
	const char *res = NULL;
	Elf *se = open_elf(shim, &sfd);
	if (se) {
		for (size_t i = 0; i < exports.n; i++)
			free(exports.name[i]);
		exports.n = 0;
		each_tsan(se, add_export, &exports);
		elf_end(se);
		close(sfd);
	}
	/* The shim first, as the launcher will preload it. */
	size_t plen = strlen(shim) + (preload ? strlen(preload) : 0) + 2;
	char *pre = malloc(plen);
	if (!pre)
		return NULL;
	snprintf(pre, plen, "%s:%s", shim, preload ? preload : "");
	struct tsan_check c = { .shim = &exports, .prog = path };
	if (needed_each(path, pre, shim, check_object, &c)) {
		char lib[PATH_MAX + 64] = "it";
		if (strcmp(c.obj, path))
			snprintf(lib, sizeof lib, "it loads %s, which", c.obj);
		const char *what = strcmp(c.obj, path) ? "that library" : "it";
		if (c.why == 1)
			snprintf(why, len, "inject: cannot inject into %s: %s needs %s (linked with "
				 "-fsanitize=thread, so libtsan's interceptors and reports would run); "
				 "link %s without that flag, against libinject.so (preload/README.md)",
				 path, lib, c.found, what);
		else if (c.why == 2)
			snprintf(why, len, "inject: cannot inject into %s: %s defines %s itself (a "
				 "ThreadSanitizer runtime linked in), so the shim's is not the one "
				 "called; link %s without -fsanitize=thread (preload/README.md)",
				 path, lib, c.found, what);
		else
			snprintf(why, len, "inject: cannot inject into %s: %s calls %s, which the "
				 "shim %s does not define", path, lib, c.found, shim);
		res = why;
	}
	free(pre);
	*instrumented = c.calls;
	return res;
}

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
