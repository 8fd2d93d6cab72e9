/* A statically linked program: LD_PRELOAD cannot enter it (see
 * injector/inject_target.c); the tests check that inject says so. */
#include <stdio.h>

int main(void)
{
    puts("static hello");
    return 0;
}
