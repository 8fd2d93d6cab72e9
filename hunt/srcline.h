/* srcline: `function+0xoff` -> "file:line" through the target binary's DWARF
 * (elfutils libdwfl, offline: the file is read, never run).  The offset is a
 * return address, so the line looked up is the one of offset-1: the call. */
#ifndef HUNT_SRCLINE_H
#define HUNT_SRCLINE_H

#include <stddef.h>

struct srcmap;

struct srcmap *srcmap_open(const char *binary);	/* NULL if unreadable */
/* Writes "file:line" (or "-") into buf; returns 1 when found. */
int srcmap_lookup(struct srcmap *m, const char *site, char *buf, size_t n);
void srcmap_close(struct srcmap *m);

#endif
