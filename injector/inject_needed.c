/* inject_needed.c: which files the dynamic loader will map for a program.
 *
 * The launcher must look at every object a program loads, not only at the
 * program (inject_target.c: a library linked against libtsan, or calling a
 * __tsan_* function the shim lacks, breaks the run as surely as the program
 * would).  We find them as glibc 2.36's ld.so does, without running it (an
 * exec of `ld.so --list` would cost as much as the run's own start):
 *  - breadth first from the program, then the preloads (elf/dl-deps.c,
 *    _dl_map_object_deps), each DT_NEEDED name mapped once: a name already
 *    asked for, or some object's DT_SONAME, or a file (device, inode)
 *    already mapped is that object (elf/dl-load.c, _dl_map_object);
 *  - a name with a slash is a path ($ORIGIN, $LIB, $PLATFORM expanded);
 *    else, in order: DT_RPATH of the object that needs it, of the object
 *    that needed that one, and so on up to the program, unless the object
 *    has DT_RUNPATH (which makes every DT_RPATH of its own ignored);
 *    LD_LIBRARY_PATH; the object's DT_RUNPATH; /etc/ld.so.cache; the system
 *    directories; the last two not when the object is linked -z nodeflib;
 *  - in each directory the loader's capability subdirectories first
 *    (glibc-hwcaps/x86-64-v3, tls, ...); a file of another ELF class or
 *    machine is passed over, as the loader does.
 * The system directories, the subdirectories and $LIB are the system's
 * loader's own, read from it when the launcher is built (injector/module.mk).
 * Not modelled: the ld.so cache's legacy-hwcap entries (only plain and
 * glibc-hwcaps ones are taken), objects loaded later by dlopen. */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject_needed.h"

#ifndef LDSO_DIRS
#define LDSO_DIRS "/lib:/usr/lib"
#endif
#ifndef LDSO_SUBDIRS
#define LDSO_SUBDIRS ""
#endif
#ifndef LDSO_LIB
#define LDSO_LIB "lib"
#endif

#define MAX_OBJS 1024
#define MAX_NAMES 6

struct obj {
	char *path;                /* as the loader opens it */
	char *name[MAX_NAMES];     /* names it was asked for, its DT_SONAME */
	int nname;
	char *rpath, *runpath;     /* rpath is NULL when there is a runpath */
	int nodeflib;
	int loader;                /* the object whose DT_NEEDED mapped it; -1 */
	int visit;                 /* 0: the shim (followed only) */
	dev_t dev;
	ino_t ino;
	Elf *e;                    /* open from its mapping to its turn */
	int fd;
};

struct walk {
	struct obj o[MAX_OBJS];
	int n;
	int elfclass, machine;     /* the program's: others are passed over */
	char origin0[PATH_MAX];    /* the program's directory, symlinks resolved */
	int skip;                  /* the shim: its file and file name */
	dev_t skip_dev;
	ino_t skip_ino;
	char skip_base[256];
};

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		fputs("inject: out of memory\n", stderr);
		exit(125);
	}
	return d;
}

static void add_name(struct obj *o, const char *name)
{
	for (int i = 0; i < o->nname; i++)
		if (!strcmp(o->name[i], name))
			return;
	if (o->nname < MAX_NAMES)
		o->name[o->nname++] = xstrdup(name);
}

/* The object already mapped under name (elf/dl-misc.c, _dl_name_match_p), or -1. */
static int by_name(const struct walk *w, const char *name)
{
	for (int i = 0; i < w->n; i++) {
		if (w->o[i].path && !strcmp(w->o[i].path, name))
			return i;
		for (int k = 0; k < w->o[i].nname; k++)
			if (!strcmp(w->o[i].name[k], name))
				return i;
	}
	return -1;
}

/* The directory of object i for $ORIGIN: the program's resolved, a
 * library's as found (made absolute), as elf/dl-object.c sets l_origin. */
static void origin_of(const struct walk *w, int i, char *out, size_t len)
{
	if (i <= 0) {
		snprintf(out, len, "%s", w->origin0);
		return;
	}
	const char *p = w->o[i].path;
	char cwd[PATH_MAX] = "";
	if (p[0] != '/' && !getcwd(cwd, sizeof cwd))
		cwd[0] = 0;
	snprintf(out, len, "%s%s%s", cwd, cwd[0] ? "/" : "", p);
	char *slash = strrchr(out, '/');
	if (slash)
		slash[slash == out] = 0;
}

/* s with $ORIGIN, $LIB and $PLATFORM (also in braces) expanded for object
 * i, into out; -1 when one cannot be (the loader then drops the entry). */
static int expand(const struct walk *w, int i, const char *s, char *out, size_t len)
{
	size_t o = 0;
	while (*s) {
		const char *val = NULL, *names[] = { "ORIGIN", "LIB", "PLATFORM" };
		char origin[PATH_MAX];
		size_t skip = 0;
		for (int k = 0; *s == '$' && k < 3 && !val; k++) {
			size_t nl = strlen(names[k]);
			if (!strncmp(s + 1, names[k], nl) &&
			    !(s[1 + nl] == '_' || (s[1 + nl] >= 'A' && s[1 + nl] <= 'Z') ||
			      (s[1 + nl] >= 'a' && s[1 + nl] <= 'z') || (s[1 + nl] >= '0' && s[1 + nl] <= '9')))
				skip = 1 + nl;
			else if (s[1] == '{' && !strncmp(s + 2, names[k], nl) && s[2 + nl] == '}')
				skip = 3 + nl;
			if (!skip)
				continue;
			if (k == 0) {
				origin_of(w, i, origin, sizeof origin);
				val = origin;
			} else if (k == 1) {
				val = LDSO_LIB;
			} else {
				val = (const char *)getauxval(AT_PLATFORM);
			}
			if (!val || !*val)
				return -1;
		}
		if (!val) {
			if (o + 1 >= len)
				return -1;
			out[o++] = *s++;
			continue;
		}
		size_t vl = strlen(val);
		if (o + vl >= len)
			return -1;
		memcpy(out + o, val, vl);
		o += vl;
		s += skip;
	}
	out[o] = 0;
	return 0;
}

/* Open path as the loader would map it: ELF, the program's class and
 * machine, a shared object (any type for the program itself). */
static Elf *open_verify(const struct walk *w, const char *path, int *fd, int lib)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	Elf *e = elf_begin(*fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	if (e && elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) &&
	    (!lib || (gelf_getclass(e) == w->elfclass && eh.e_machine == w->machine &&
		      eh.e_type == ET_DYN)))
		return e;
	if (e)
		elf_end(e);
	close(*fd);
	return NULL;
}

/* Whether directory d exists, each asked once per walk (as the loader
 * marks its search directories): most capability subdirectories do not,
 * and one stat spares an open per library name. */
static struct {
	char *path[512];
	char exists[512];
	int n;
} dirs;

static int dir_exists(const char *d)
{
	for (int i = 0; i < dirs.n; i++)
		if (!strcmp(dirs.path[i], d))
			return dirs.exists[i];
	struct stat st;
	int ex = stat(*d ? d : ".", &st) == 0 && S_ISDIR(st.st_mode);
	if (dirs.n < 512) {
		dirs.path[dirs.n] = xstrdup(d);
		dirs.exists[dirs.n++] = (char)ex;
	}
	return ex;
}

static void dirs_forget(void)
{
	for (int i = 0; i < dirs.n; i++)
		free(dirs.path[i]);
	dirs.n = 0;
}

/* Try name in each directory of list (sep: its separators; an empty entry
 * is the working directory), in each first the loader's capability
 * subdirectories, then the directory itself; the path found goes to out. */
static Elf *search(const struct walk *w, int i, const char *list, const char *sep,
		   const char *name, char *out, size_t len, int *fd)
{
	char *copy = xstrdup(list), *dir;
	Elf *e = NULL;
	for (char *p = copy; !e && (dir = strsep(&p, sep));) {
		char d[PATH_MAX] = "";
		if (*dir && (expand(w, i, dir, d, sizeof d) != 0 || !d[0]))
			continue;
		size_t dl = strlen(d);
		while (dl > 1 && d[dl - 1] == '/')
			d[--dl] = 0;
		const char *sub = LDSO_SUBDIRS;
		for (int last = 0; !e && !last;) {
			size_t sl = strcspn(sub, ":");
			last = !*sub;
			int pl = snprintf(out, len, "%s%s%.*s%s", d, dl && d[dl - 1] != '/' ? "/" : "",
					  (int)sl, sub, sl ? "/" : "");
			if (pl < (int)len && dir_exists(out) &&
			    snprintf(out + pl, len - (size_t)pl, "%s", name) < (int)(len - (size_t)pl))
				e = open_verify(w, out, fd, 1);
			sub += sl + (sub[sl] == ':');
		}
	}
	free(copy);
	return e;
}

/* The new-format ld.so cache, mapped once (elf/dl-cache.c). */
struct cache_entry {
	int32_t flags;
	uint32_t key, value, osversion;
	uint64_t hwcap;
};
static const char *cache_base;
static size_t cache_size;

static void cache_open(void)
{
	static int tried;
	if (tried++)
		return;
	int fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > 48) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			const char *b = m;
			size_t size = (size_t)st.st_size, off = 0;
			if (!memcmp(b, "ld.so-1.7.0", 11)) {
				/* The old format first: the new one follows, aligned. */
				uint32_t n;
				memcpy(&n, b + 12, 4);
				off = (16 + (size_t)n * 12 + 7) & ~(size_t)7;
			}
			if (off + 48 <= size && !memcmp(b + off, "glibc-ld.so.cache1.1", 20)) {
				cache_base = b + off;
				cache_size = size - off;
			}
		}
	}
	close(fd);
}

static const char *cache_str(uint32_t off)
{
	return off < cache_size && memchr(cache_base + off, 0, cache_size - off) ? cache_base + off : NULL;
}

/* The glibc-hwcaps subdirectory of a cache entry (DL_CACHE_HWCAP_EXTENSION),
 * its priority (1 best) among the loader's, 0 when not searched; -1 for an
 * entry that has none. */
static int cache_hwcaps_priority(uint64_t hwcap, uint32_t ext)
{
	if (hwcap == 0)
		return -1;
	if (hwcap >> 32 != 1u << 30 || !ext || ext + 8 > cache_size)
		return 0;
	uint32_t magic, count;
	memcpy(&magic, cache_base + ext, 4);
	memcpy(&count, cache_base + ext + 4, 4);
	for (uint32_t s = 0; magic == 0xeaa42174u && s < count; s++) {
		uint32_t sec[4];
		if (ext + 8 + 16 * (size_t)(s + 1) > cache_size)
			break;
		memcpy(sec, cache_base + ext + 8 + 16 * s, 16);
		uint32_t idx = (uint32_t)hwcap;
		if (sec[0] != 1 || (size_t)idx * 4 + 4 > sec[3] || sec[2] + (size_t)sec[3] > cache_size)
			continue;
		uint32_t soff;
		memcpy(&soff, cache_base + sec[2] + 4 * idx, 4);
		const char *sub = cache_str(soff);
		if (!sub)
			return 0;
		char want[PATH_MAX];
		snprintf(want, sizeof want, "glibc-hwcaps/%s", sub);
		const char *all = LDSO_SUBDIRS;
		int prio = 1;
		for (const char *p = all; *p; prio++) {
			size_t l = strcspn(p, ":");
			if (l == strlen(want) && !strncmp(p, want, l))
				return prio;
			p += l + (p[l] == ':');
		}
		return 0;
	}
	return 0;
}

static Elf *cache_lookup(const struct walk *w, const char *name, char *out, size_t len, int *fd)
{
	cache_open();
	if (!cache_base)
		return NULL;
	uint32_t n, ext;
	memcpy(&n, cache_base + 20, 4);
	memcpy(&ext, cache_base + 32, 4);
	const char *best = NULL;
	int best_prio = 0;
	for (uint32_t i = 0; i < n && 48 + (size_t)(i + 1) * sizeof(struct cache_entry) <= cache_size; i++) {
		struct cache_entry c;
		memcpy(&c, cache_base + 48 + (size_t)i * sizeof c, sizeof c);
		const char *key = cache_str(c.key), *val = cache_str(c.value);
#if defined(__x86_64__) && defined(__LP64__)
		int ok = c.flags == 0x0303;  /* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 */
#else
		int ok = c.flags == 1 || c.flags == 3;
#endif
		if (!ok || !key || !val || strcmp(key, name))
			continue;
		int prio = cache_hwcaps_priority(c.hwcap, ext);
		if (prio == 0 || (best && (prio < 0 || (best_prio > 0 && prio >= best_prio))))
			continue;
		best = val;
		best_prio = prio;
	}
	if (!best || snprintf(out, len, "%s", best) >= (int)len)
		return NULL;
	return open_verify(w, out, fd, 1);
}

/* Find name needed by object i as the loader does; the path in out. */
static Elf *find(const struct walk *w, int i, const char *name, char *out, size_t len, int *fd)
{
	if (strchr(name, '/')) {
		if (expand(w, i, name, out, len) != 0)
			return NULL;
		return open_verify(w, out, fd, 1);
	}
	Elf *e = NULL;
	const struct obj *ld = &w->o[i];
	if (!ld->runpath) {
		int did_main = 0;
		for (int l = i; l >= 0 && !e; l = w->o[l].loader)
			if (w->o[l].rpath) {
				e = search(w, l, w->o[l].rpath, ":", name, out, len, fd);
				did_main |= l == 0;
			}
		if (!e && !did_main && w->o[0].rpath)
			e = search(w, 0, w->o[0].rpath, ":", name, out, len, fd);
	}
	const char *llp = getenv("LD_LIBRARY_PATH");
	if (!e && llp && *llp)
		e = search(w, 0, llp, ":;", name, out, len, fd);
	if (!e && ld->runpath)
		e = search(w, i, ld->runpath, ":", name, out, len, fd);
	if (!e && !ld->nodeflib)
		e = cache_lookup(w, name, out, len, fd);
	if (!e && !ld->nodeflib)
		e = search(w, i, LDSO_DIRS, ":", name, out, len, fd);
	return e;
}

/* Read object i's dynamic section: its DT_NEEDED names (returned, an array
 * of *n strings into e's data), DT_RPATH/RUNPATH, DT_SONAME, -z nodeflib. */
static const char **read_dynamic(Elf *e, struct obj *o, size_t *n)
{
	Elf_Scn *scn = NULL;
	const char **need = NULL;
	*n = 0;
	free(o->rpath);
	free(o->runpath);
	o->rpath = o->runpath = NULL;
	o->nodeflib = 0;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		size_t cnt = sh.sh_size / sh.sh_entsize;
		need = calloc(cnt + 1, sizeof *need);
		for (size_t k = 0; need && k < cnt; k++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(d, (int)k, &dyn))
				continue;
			if (dyn.d_tag == DT_FLAGS_1) {
				o->nodeflib = (dyn.d_un.d_val & DF_1_NODEFLIB) != 0;
				continue;
			}
			const char *s = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED)
				need[(*n)++] = s;
			else if (dyn.d_tag == DT_RPATH)
				o->rpath = xstrdup(s);
			else if (dyn.d_tag == DT_RUNPATH)
				o->runpath = xstrdup(s);
			else if (dyn.d_tag == DT_SONAME)
				add_name(o, s);
		}
		break;
	}
	if (o->runpath) {
		free(o->rpath);
		o->rpath = NULL;
	}
	return need;
}

/* Whether the file (st) is the shim or another copy of it (same file name:
 * one the program links to in another build); its entry points are not the
 * ones called, the preloaded shim's come first. */
static int is_shim(const struct walk *w, const char *path, const struct stat *st)
{
	const char *base = strrchr(path, '/');
	return w->skip && ((st->st_dev == w->skip_dev && st->st_ino == w->skip_ino) ||
			   !strcmp(base ? base + 1 : path, w->skip_base));
}

/* Map name (needed by object `by`, -1 for the program itself): a new
 * object at the end of w, or nothing when it is mapped already or missing. */
static void map_object(struct walk *w, int by, const char *name)
{
	if (w->n >= MAX_OBJS || (by >= 0 && by_name(w, name) >= 0))
		return;
	char path[PATH_MAX];
	int fd;
	Elf *e = by < 0 ? open_verify(w, name, &fd, 0) : find(w, by, name, path, sizeof path, &fd);
	if (!e)
		return;
	struct stat st;
	if (fstat(fd, &st) != 0)
		st.st_dev = 0, st.st_ino = 0;
	for (int k = 0; k < w->n; k++)
		if (w->o[k].dev == st.st_dev && w->o[k].ino == st.st_ino) {
			add_name(&w->o[k], name);
			elf_end(e);
			close(fd);
			return;
		}
	struct obj *o = &w->o[w->n++];
	memset(o, 0, sizeof *o);
	o->e = e;
	o->fd = fd;
	o->path = xstrdup(by < 0 ? name : path);
	if (by >= 0)
		add_name(o, name);
	o->loader = by;
	o->visit = by < 0 || !is_shim(w, o->path, &st);
	o->dev = st.st_dev;
	o->ino = st.st_ino;
}

static void each_preload(struct walk *w, const char *list, const char *sep)
{
	char *copy = xstrdup(list), *p = copy, *tok;
	while ((tok = strsep(&p, sep)))
		if (*tok)
			map_object(w, 0, tok);
	free(copy);
}

/* The loader itself (the program's PT_INTERP), mapped before anything is
 * searched: known by its file and its file name (its DT_SONAME), not read. */
static void map_interp(struct walk *w, Elf *e)
{
	size_t n = 0;
	if (elf_getphdrnum(e, &n) != 0)
		return;
	for (size_t k = 0; k < n && w->n < MAX_OBJS; k++) {
		GElf_Phdr ph;
		Elf_Data *d;
		if (!gelf_getphdr(e, (int)k, &ph) || ph.p_type != PT_INTERP ||
		    !(d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE)) ||
		    !memchr(d->d_buf, 0, d->d_size))
			continue;
		const char *interp = d->d_buf, *base = strrchr(interp, '/');
		struct obj *o = &w->o[w->n++];
		struct stat st;
		memset(o, 0, sizeof *o);
		o->path = xstrdup(interp);
		o->loader = -1;
		add_name(o, base ? base + 1 : interp);
		if (stat(interp, &st) == 0)
			o->dev = st.st_dev, o->ino = st.st_ino;
	}
}

int needed_each(const char *prog, const char *preload, const char *skip,
		int (*visit)(const char *path, Elf *e, void *arg), void *arg)
{
	static struct walk w;
	int fd, r = 0;
	GElf_Ehdr eh;
	Elf *e;
	for (int i = 0; i < w.n; i++) {
		struct obj *o = &w.o[i];
		free(o->path);
		free(o->rpath);
		free(o->runpath);
		for (int k = 0; k < o->nname; k++)
			free(o->name[k]);
	}
	w.n = 0;
	dirs_forget();
	if (elf_version(EV_CURRENT) == EV_NONE || !(e = open_verify(&w, prog, &fd, 0)))
		return 0;
	w.elfclass = gelf_getclass(e);
	w.machine = gelf_getehdr(e, &eh) ? eh.e_machine : 0;
	struct stat st;
	w.skip = skip && stat(skip, &st) == 0;
	if (w.skip) {
		const char *base = strrchr(skip, '/');
		w.skip_dev = st.st_dev;
		w.skip_ino = st.st_ino;
		snprintf(w.skip_base, sizeof w.skip_base, "%s", base ? base + 1 : skip);
	}
	if (!realpath(prog, w.origin0))
		snprintf(w.origin0, sizeof w.origin0, "%s", prog);
	char *slash = strrchr(w.origin0, '/');
	if (slash)
		slash[slash == w.origin0] = 0;
	elf_end(e);
	close(fd);
	map_object(&w, -1, prog);
	if (w.n != 1)
		return 0;
	map_interp(&w, w.o[0].e);
	/* Its DT_RPATH/RUNPATH now: a preload's name is searched with them. */
	size_t n;
	free(read_dynamic(w.o[0].e, &w.o[0], &n));
	if (preload)
		each_preload(&w, preload, " :");
	FILE *f = fopen("/etc/ld.so.preload", "re");
	char line[PATH_MAX];
	while (f && fgets(line, sizeof line, f))
		each_preload(&w, line, " \t\n:");
	if (f)
		fclose(f);
	/* Breadth first, in the loader's order: each object visited and its
	 * needed names mapped when its turn comes. */
	for (int i = 0; i < w.n && !r; i++) {
		struct obj *o = &w.o[i];
		if (!o->e)
			continue;
		const char **need = read_dynamic(o->e, o, &n);
		if (o->visit)
			r = visit(o->path, o->e, arg);
		for (size_t k = 0; !r && need && k < n; k++)
			map_object(&w, i, need[k]);
		free(need);
		elf_end(o->e);
		close(o->fd);
		o->e = NULL;
	}
	/* Stopped early: the objects not reached are still open. */
	for (int i = 0; i < w.n; i++)
		if (w.o[i].e) {
			elf_end(w.o[i].e);
			close(w.o[i].fd);
			w.o[i].e = NULL;
		}
	return r;
}
