/* path: the PATH lookup and mkdir -p (see path.h). */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* glibc's execvp searches this when PATH is unset (its CS_PATH). */
#define DEFAULT_PATH "/bin:/usr/bin"

static int runnable(const char *file)
{
	struct stat st;
	return access(file, X_OK) == 0 && stat(file, &st) == 0 && !S_ISDIR(st.st_mode);
}

int path_lookup(const char *cmd, char *out, size_t len)
{
	if (!*cmd)
		return -1;
	if (strchr(cmd, '/'))
		return runnable(cmd) && (size_t)snprintf(out, len, "%s", cmd) < len ? 0 : -1;
	const char *path = getenv("PATH");
	if (!path)
		path = DEFAULT_PATH;
	for (const char *p = path;; p++) {
		const char *c = strchr(p, ':');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if ((size_t)snprintf(out, len, "%.*s/%s", n ? (int)n : 1, n ? p : ".", cmd) < len &&
		    runnable(out))
			return 0;
		if (!c)
			return -1;
		p = c;
	}
}

char *find_in_path(const char *cmd)
{
	char buf[PATH_MAX], abs[PATH_MAX];
	if (path_lookup(cmd, buf, sizeof buf) < 0)
		return NULL;
	if (strchr(cmd, '/') && realpath(buf, abs))
		return xstrdup(abs);
	return xstrdup(buf);
}

/* mkdir -p: create path and its missing parents; 0 or -1 with errno. */
int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}
