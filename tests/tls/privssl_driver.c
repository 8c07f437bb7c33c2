/* privssl_driver.c - a program linked against the system's libssl that
 * also loads an object bringing its own copy (privssl.c):
 *
 *   privssl_driver CA PRIVSSL.so plain|deepbind URL1 URL2
 *
 * GETs URL1 itself, dlopens PRIVSSL.so (RTLD_DEEPBIND: the object's own
 * libssl first, as when nothing global has one; plain: the global scope,
 * so the system copy, answers its calls) and has it GET URL2. Prints the
 * two bodies' sha256. Exits 1 unless both GETs succeed, two libssl copies
 * are mapped, and each object's SSL_CTX_new (a name keepwarm does not
 * wrap) is in the copy expected. */
#include <dlfcn.h>
#include <link.h>

#include "ossl_get.h"

struct seen {
	int n;
	char names[8][512];
};

/* Each loaded object whose file name starts with "libssl". */
static int count_libssl(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seen *s = arg;
	const char *base = strrchr(info->dlpi_name, '/');

	(void)size;
	base = base ? base + 1 : info->dlpi_name;
	if (strncmp(base, "libssl", 6) == 0 && s->n < 8)
		snprintf(s->names[s->n++], sizeof s->names[0], "%s", info->dlpi_name);
	return 0;
}

int main(int argc, char **argv)
{
	char h1[65], h2[65];
	const char *mine, *theirs, *(*which)(void);
	int (*get)(const char *, const char *, char[65]);
	int deep, rc = 0;
	struct seen seen = { 0 };
	Dl_info info;
	void *h;

	if (argc != 6 || (strcmp(argv[3], "plain") && strcmp(argv[3], "deepbind"))) {
		fprintf(stderr, "usage: privssl_driver CA PRIVSSL.so plain|deepbind URL1 URL2\n");
		return 2;
	}
	deep = strcmp(argv[3], "deepbind") == 0;
	if (ossl_get(argv[1], argv[4], h1) != 0)
		return 1;
	printf("%s\n", h1);
	fflush(stdout);
	h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL | (deep ? RTLD_DEEPBIND : 0));
	if (!h) {
		fprintf(stderr, "privssl_driver: %s\n", dlerror());
		return 1;
	}
	*(void **)&get = dlsym(h, "privssl_get");
	*(void **)&which = dlsym(h, "privssl_libssl");
	if (!get || !which) {
		fprintf(stderr, "privssl_driver: privssl_get/privssl_libssl missing\n");
		return 1;
	}
	if (get(argv[1], argv[5], h2) != 0)
		return 1;
	printf("%s\n", h2);
	dl_iterate_phdr(count_libssl, &seen);
	mine = dladdr((void *)&SSL_CTX_new, &info) && info.dli_fname ? info.dli_fname : "?";
	theirs = which();
	fprintf(stderr, "privssl_driver: %d libssl copies loaded:", seen.n);
	for (int i = 0; i < seen.n; i++)
		fprintf(stderr, " %s", seen.names[i]);
	fprintf(stderr, "; the program's SSL_CTX_new is in %s, the object's in %s\n", mine, theirs);
	if (seen.n != 2) {
		fprintf(stderr, "privssl_driver: expected 2 libssl copies\n");
		rc = 1;
	}
	/* Deep binding: the object uses its copy; otherwise the first one. */
	if (strstr(mine, "/libssl.so.3") == NULL ||
	    (deep ? strcmp(theirs, mine) == 0 : strcmp(theirs, mine) != 0)) {
		fprintf(stderr, "privssl_driver: not the libssl copies expected\n");
		rc = 1;
	}
	dlclose(h);
	return rc;
}
