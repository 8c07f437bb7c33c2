/* deepbind_client.c - loads a library with RTLD_DEEPBIND, as PHP loads its
 * extensions, and has it make HTTP requests (tests/behaviour/redirect.sh).
 *
 *   deepbind_client fetch LIB PORT N    dlopen(LIB) and N requests, a connection each
 *   deepbind_client bare  NAME PORT N   the same, NAME found by the search path;
 *                                       the program closes a file in between
 *   deepbind_client fake  LIB PORT N    LIB binds socket/connect/close to its own
 *                                       dependency: prints how often it was called
 *   deepbind_client loop  LIB PORT N    4 threads x 200 dlopen/dlclose (LIB unmapped
 *                                       after them), then N requests
 *
 * Prints "ok which=WHERE" (where LIB's scope binds kwtest_which: "dep" under
 * RTLD_DEEPBIND, "main" if the program's definition won), plus " calls=N"
 * for fake. Exit status 1 on any failure. Linked with -rdynamic so that the
 * program's own kwtest_which is in the global scope. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((visibility("default"))) const char *kwtest_which(void)
{
	return "main";
}

static const char *lib;

static void *open_lib(void)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_DEEPBIND);
	if (!h)
		fprintf(stderr, "dlopen %s: %s\n", lib, dlerror());
	return h;
}

/* Is an object whose path ends in name mapped in this process? */
static int still_mapped(const char *name)
{
	char line[4096];
	size_t n = strlen(name);
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	while (f && fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\n");
		if (len >= n && !strncmp(line + len - n, name, n))
			found = 1;
	}
	if (f)
		fclose(f);
	return found;
}

static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		void *h = open_lib();
		const char *(*which)(void) = h ? (const char *(*)(void))dlsym(h, "kwdeep_which") : NULL;
		if (!which || strcmp(which(), "dep"))
			return (void *)1;
		dlclose(h);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode;
	int port, n;
	void *h;

	if (argc != 5)
		return fprintf(stderr, "usage: %s fetch|bare|fake|loop LIB PORT N\n", argv[0]), 2;
	mode = argv[1];
	lib = argv[2];
	port = atoi(argv[3]);
	n = atoi(argv[4]);
	if (!strcmp(mode, "loop")) {
		pthread_t t[4];
		void *bad = NULL, *r;
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, churn, NULL);
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], &r);
			bad = bad ? bad : r;
		}
		if (bad)
			return fprintf(stderr, "loop: a thread failed\n"), 1;
		/* Every dlopen was closed: the library is gone, unless something
		 * (a pin keepwarm forgot to release) still holds it. */
		if (still_mapped("libkwdeep.so"))
			return fprintf(stderr, "loop: libkwdeep.so still mapped after its last dlclose\n"), 1;
	}
	if (!(h = open_lib()))
		return 1;
	if (!strcmp(mode, "bare"))
		close(open("/dev/null", O_RDONLY)); /* the program goes on with its own work */
	int (*fetch)(int, int, int) = (int (*)(int, int, int))dlsym(h, "kwdeep_fetch");
	const char *(*which)(void) = (const char *(*)(void))dlsym(h, "kwdeep_which");
	if (!fetch || !which || fetch(port, n, 1000) < 0)
		return fprintf(stderr, "%s: requests failed\n", mode), 1;
	printf("ok which=%s", which());
	if (!strcmp(mode, "fake")) {
		int (*calls)(void) = (int (*)(void))dlsym(h, "kwfake_calls");
		printf(" calls=%d", calls ? calls() : -1);
	}
	putchar('\n');
	return 0;
}
