/* tls_real.c - find the system TLS libraries and their functions. */
#include "service/tls_real.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>

#include "service/got.h"
#include "service/real.h"

struct kw_tls_real_table kw_tls_real;
void *kw_gnutls_routed_real[KW_GNUTLS_NROUTED];
void *kw_openssl_routed_real[KW_OPENSSL_NROUTED];

#ifndef KW_SYSTEM_LIBDIR
#define KW_SYSTEM_LIBDIR "/usr/lib/x86_64-linux-gnu"
#endif

static const char *const system_path[KW_TLS_LIBS] = {
	KW_SYSTEM_LIBDIR "/libgnutls.so.30",
	KW_SYSTEM_LIBDIR "/libssl.so.3",
};

static _Atomic bool ready[KW_TLS_LIBS];

int kw_tls_lib_of(const char *path)
{
	struct stat a, b;

	if (!path || !path[0] || !strstr(path, ".so"))
		return -1;
	for (int lib = 0; lib < KW_TLS_LIBS; lib++) {
		/* The cheap test first: a file name that cannot be one of them. */
		const char *want = strrchr(system_path[lib], '/') + 1;
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (strncmp(base, want, 6))
			continue;
		if (stat(path, &a) == 0 && stat(system_path[lib], &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return lib;
	}
	return -1;
}

bool kw_tls_real_ready(enum kw_tls_lib lib)
{
	return (unsigned)lib < KW_TLS_LIBS && atomic_load_explicit(&ready[lib], memory_order_acquire);
}

bool kw_tls_real_resolve(enum kw_tls_lib lib, const char *path)
{
	void *h;

	if ((unsigned)lib >= KW_TLS_LIBS)
		return false;
	if (kw_tls_real_ready(lib))
		return true;
	/* Kept open: the functions stay mapped for as long as slots lead to
	 * keepwarm's wrappers, which call them. */
	if (!kw_real.dlopen || !(h = kw_real.dlopen(path, RTLD_NOLOAD | RTLD_LAZY)))
		return false;
#define KW_TLS_LOOKUP(name, ret, args) kw_tls_real.name = (ret(*) args)dlsym(h, #name);
	if (lib == KW_TLS_GNUTLS) {
		KW_GNUTLS_WRAPPED(KW_TLS_LOOKUP)
		KW_GNUTLS_CALLED(KW_TLS_LOOKUP)
		/* The version the list was made with: another one is another
		 * function, not routed. */
#define KW_ROUTED_LOOKUP(name, version, i) kw_gnutls_routed_real[i] = dlvsym(h, #name, version);
		KW_GNUTLS_ROUTED(KW_ROUTED_LOOKUP)
#undef KW_ROUTED_LOOKUP
	} else {
		KW_OPENSSL_WRAPPED(KW_TLS_LOOKUP)
		KW_OPENSSL_CALLED(KW_TLS_LOOKUP)
#define KW_ROUTED_LOOKUP(name, version, i) kw_openssl_routed_real[i] = dlvsym(h, #name, version);
		KW_OPENSSL_ROUTED(KW_ROUTED_LOOKUP)
#undef KW_ROUTED_LOOKUP
	}
#undef KW_TLS_LOOKUP
	atomic_store_explicit(&ready[lib], true, memory_order_release);
	return true;
}

bool kw_tls_is_system_crypto(const char *path)
{
	static const char crypto_path[] = KW_SYSTEM_LIBDIR "/libcrypto.so.3";
	const char *base = path ? strrchr(path, '/') : NULL;
	struct stat a, b;

	return base && !strncmp(base + 1, "libcrypto.", 10) && stat(path, &a) == 0 &&
	       stat(crypto_path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool kw_tls_real_resolve_global(enum kw_tls_lib lib, const struct kw_object *o,
                                const struct kw_object *crypto)
{
	bool ok = true;

	if ((unsigned)lib >= KW_TLS_LIBS)
		return false;
	if (kw_tls_real_ready(lib))
		return true;
	/* Each function as the library's own handle would find it, read from
	 * its symbol table (no dynamic linker call, which must not run here):
	 * in the library's object (the routed ones in their listed version),
	 * or for OpenSSL in the system's libcrypto. One missing makes the whole
	 * table wait for a later pass's kw_tls_real_resolve. */
#define KW_TLS_GLOBAL(name, ret, args)                                                    \
	kw_tls_real.name = (ret(*) args)kw_got_symbol(o, #name, NULL);                    \
	if (!kw_tls_real.name && lib == KW_TLS_OPENSSL && crypto)                         \
		kw_tls_real.name = (ret(*) args)kw_got_symbol(crypto, #name, NULL);       \
	ok = ok && kw_tls_real.name;
#define KW_ROUTED_GLOBAL(name, version, i) routed[i] = kw_got_symbol(o, #name, version);
	if (lib == KW_TLS_GNUTLS) {
		void **routed = kw_gnutls_routed_real;
		KW_GNUTLS_WRAPPED(KW_TLS_GLOBAL)
		KW_GNUTLS_CALLED(KW_TLS_GLOBAL)
		KW_GNUTLS_ROUTED(KW_ROUTED_GLOBAL)
	} else {
		void **routed = kw_openssl_routed_real;
		KW_OPENSSL_WRAPPED(KW_TLS_GLOBAL)
		KW_OPENSSL_CALLED(KW_TLS_GLOBAL)
		KW_OPENSSL_ROUTED(KW_ROUTED_GLOBAL)
	}
#undef KW_ROUTED_GLOBAL
#undef KW_TLS_GLOBAL
	if (!ok) {
		/* Left for kw_tls_real_resolve, at a pass after start. */
		if (lib == KW_TLS_GNUTLS) {
			memset(kw_gnutls_routed_real, 0, sizeof kw_gnutls_routed_real);
#define KW_TLS_CLEAR(name, ret, args) kw_tls_real.name = NULL;
			KW_GNUTLS_WRAPPED(KW_TLS_CLEAR)
			KW_GNUTLS_CALLED(KW_TLS_CLEAR)
		} else {
			memset(kw_openssl_routed_real, 0, sizeof kw_openssl_routed_real);
			KW_OPENSSL_WRAPPED(KW_TLS_CLEAR)
			KW_OPENSSL_CALLED(KW_TLS_CLEAR)
#undef KW_TLS_CLEAR
		}
		return false;
	}
	atomic_store_explicit(&ready[lib], true, memory_order_release);
	return true;
}
