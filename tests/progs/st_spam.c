/* st_spam BYTES: write BYTES of numbered lines to stdout, then a throw
 * ("fatal error: after the spam") on stderr, exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long long n = argc > 1 ? atoll(argv[1]) : 1 << 20, done = 0;
	char line[64];
	printf("first line of the spam\n");
	for (long long i = 0; done < n; i++) {
		int k = snprintf(line, sizeof line, "spam line %lld xxxxxxxxxxxxxxxxxxxxxxxx\n", i);
		fwrite(line, 1, (size_t)k, stdout);
		done += k;
	}
	printf("last line of the spam\n");
	fflush(stdout);
	fprintf(stderr, "fatal error: after the spam\n");
	return 2;
}
