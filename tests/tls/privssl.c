/* privssl.c - a shared object linked against a private, renamed copy of
 * libssl (DT_SONAME rewritten, same symbol versions), as a Python wheel's
 * extension brings its own: one HTTPS GET through it. Built at test time
 * by tests/behaviour/tls-clients.sh, against the copy it makes. */
#include <dlfcn.h>

#include "ossl_get.h"

/* The file SSL_CTX_new is bound to in this object (which copy it uses):
 * a function keepwarm does not wrap, so its address is the library's own. */
__attribute__((visibility("default"))) const char *privssl_libssl(void)
{
	Dl_info info;

	return dladdr((void *)&SSL_CTX_new, &info) && info.dli_fname ? info.dli_fname : "?";
}

__attribute__((visibility("default"))) int privssl_get(const char *ca, const char *url, char hex[65])
{
	return ossl_get(ca, url, hex);
}
