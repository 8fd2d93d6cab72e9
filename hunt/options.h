/* options: the command line into the hunt's options (hunt.h's struct hunt),
 * with their defaults; a bad value is a usage error (one line, exit 64).
 * After it, stress and inject are paths (by default next to hunt) and the
 * binary is the command as PATH finds it (NULL when it is not found). */
#ifndef HUNT_OPTIONS_H
#define HUNT_OPTIONS_H

struct hunt;

void parse_options(struct hunt *h, int argc, char **argv);

#endif
