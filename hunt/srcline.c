/* srcline: DWARF line lookup of a site in the target binary. */
#include "srcline.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct srcmap {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	char cwd[4096];
};

static const Dwfl_Callbacks offline = {
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

struct srcmap *srcmap_open(const char *binary)
{
	struct srcmap *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->dwfl = dwfl_begin(&offline);
	if (!m->dwfl) {
		free(m);
		return NULL;
	}
	m->mod = dwfl_report_offline(m->dwfl, "", binary, -1);
	dwfl_report_end(m->dwfl, NULL, NULL);
	if (!m->mod) {
		srcmap_close(m);
		return NULL;
	}
	if (!getcwd(m->cwd, sizeof m->cwd))
		m->cwd[0] = 0;
	return m;
}

static int func_addr(Dwfl_Module *mod, const char *name, GElf_Addr *out)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (s && GELF_ST_TYPE(sym.st_info) == STT_FUNC && strcmp(s, name) == 0) {
			*out = addr;
			return 1;
		}
	}
	return 0;
}

/* The unlock is often in an inlined helper (gosched's unlock()); the line
 * a reader wants is where the named function calls it: the call site of the
 * outermost inlined subroutine around PC. */
static void outer_call(Dwfl_Module *mod, Dwarf_Addr pc, const char **file, int *line)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
	if (!cu)
		return;
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cu, pc - bias, &scopes);
	int outer = -1;
	for (int i = 0; i < n; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine)
			outer = i;
	if (outer >= 0) {
		Dwarf_Attribute a;
		Dwarf_Word cl, cf;
		Dwarf_Files *files;
		size_t nfiles;
		if (dwarf_formudata(dwarf_attr(&scopes[outer], DW_AT_call_line, &a), &cl) == 0 &&
		    dwarf_formudata(dwarf_attr(&scopes[outer], DW_AT_call_file, &a), &cf) == 0 &&
		    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && cf < nfiles) {
			const char *f = dwarf_filesrc(files, cf, NULL, NULL);
			if (f) {
				*file = f;
				*line = (int)cl;
			}
		}
	}
	free(scopes);
}

int srcmap_lookup(struct srcmap *m, const char *site, char *buf, size_t n)
{
	snprintf(buf, n, "-");
	if (!m)
		return 0;
	const char *plus = strrchr(site, '+');
	if (!plus || plus == site)
		return 0;
	char name[512];
	size_t len = (size_t)(plus - site);
	if (len >= sizeof name)
		return 0;
	memcpy(name, site, len);
	name[len] = 0;
	char *end;
	unsigned long off = strtoul(plus + 1, &end, 16);
	if (*end || off == 0)
		return 0;
	GElf_Addr addr;
	if (!func_addr(m->mod, name, &addr))
		return 0;
	Dwarf_Addr pc = addr + off - 1;
	Dwfl_Line *l = dwfl_module_getsrc(m->mod, pc);
	int line = 0;
	const char *file = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
	if (!file)
		return 0;
	outer_call(m->mod, pc, &file, &line);
	size_t cl = strlen(m->cwd);
	if (cl && strncmp(file, m->cwd, cl) == 0 && file[cl] == '/')
		file += cl + 1;
	snprintf(buf, n, "%s:%d", file, line);
	return 1;
}

void srcmap_close(struct srcmap *m)
{
	if (!m)
		return;
	if (m->dwfl)
		dwfl_end(m->dwfl);
	free(m);
}
