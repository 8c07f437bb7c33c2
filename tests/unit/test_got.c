/* test_got.c - unit tests for shim/service/got.h: symbol lookups read from
 * a loaded object's own tables must answer what the dynamic linker answers
 * on that object's handle, its versions be what its tables say, and
 * batched slot writes must land. */
#include <check.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "service/got.h"
#include "service/tls_real.h"

enum { MAX_OBJECTS = 256 };
static struct kw_object objects[MAX_OBJECTS];
static size_t nobjects;

/* The loaded object whose path ends in suffix, after a fresh listing. */
static const struct kw_object *object_named(const char *suffix)
{
	size_t len = strlen(suffix);

	nobjects = kw_got_objects(objects, MAX_OBJECTS);
	ck_assert_uint_le(nobjects, MAX_OBJECTS);
	for (size_t i = 0; i < nobjects; i++) {
		size_t n = strlen(objects[i].name);
		if (n >= len && !strcmp(objects[i].name + n - len, suffix))
			return &objects[i];
	}
	return NULL;
}

/* Does kw_got_symbol answer as dlsym (version NULL) or dlvsym on h? */
static void same_as_dl(void *h, const struct kw_object *o, const char *name, const char *version)
{
	void *ours = kw_got_symbol(o, name, version);
	void *theirs = version ? dlvsym(h, name, version) : dlsym(h, name);

	ck_assert_msg(ours == theirs, "%s@%s: %p, the dynamic linker says %p", name,
	              version ? version : "", ours, theirs);
}

START_TEST(test_libc_symbols)
{
	static const char *const names[] = { "connect", "close", "read", "write", "sendmsg",
	                                     "recvmsg", "poll", "epoll_wait", "dup2", "fcntl",
	                                     "environ", "getaddrinfo", "fork" };
	const struct kw_object *libc = object_named("/libc.so.6");
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

	ck_assert_ptr_nonnull(libc);
	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		ck_assert_ptr_nonnull(kw_got_symbol(libc, names[i], NULL));
		same_as_dl(h, libc, names[i], NULL);
	}
	ck_assert_ptr_null(kw_got_symbol(libc, "kw_no_such_function", NULL));
	ck_assert_ptr_null(kw_got_symbol(libc, "connect", "KW_NO_SUCH_VERSION"));
#if defined(__x86_64__)
	/* Two versions: the default one for NULL, the old one by name. */
	same_as_dl(h, libc, "pthread_cond_wait", NULL);
	same_as_dl(h, libc, "pthread_cond_wait", "GLIBC_2.3.2");
	same_as_dl(h, libc, "pthread_cond_wait", "GLIBC_2.2.5");
	ck_assert_ptr_ne(kw_got_symbol(libc, "pthread_cond_wait", "GLIBC_2.2.5"),
	                 kw_got_symbol(libc, "pthread_cond_wait", NULL));
	same_as_dl(h, libc, "connect", "GLIBC_2.2.5");
#endif
	dlclose(h);
}
END_TEST

struct addresses {
	void *at[8];
	unsigned n;
};

static void add_address(void *arg, void *addr)
{
	struct addresses *a = arg;

	if (a->n < 8)
		a->at[a->n++] = addr;
}

static bool holds(const struct addresses *a, void *addr)
{
	for (unsigned i = 0; i < a->n; i++)
		if (a->at[i] == addr)
			return true;
	return false;
}

/* kw_got_definitions gives every version's address, as dlvsym finds them. */
START_TEST(test_definitions)
{
	const struct kw_object *libc = object_named("/libc.so.6");
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	struct addresses a = { { NULL }, 0 };

	ck_assert_ptr_nonnull(libc);
	ck_assert_ptr_nonnull(h);
	ck_assert(kw_got_definitions(libc, "connect", add_address, &a));
	ck_assert_uint_ge(a.n, 1);
	ck_assert(holds(&a, dlsym(h, "connect")));
	a.n = 0;
	ck_assert(kw_got_definitions(libc, "kw_no_such_function", add_address, &a));
	ck_assert_uint_eq(a.n, 0);
#if defined(__x86_64__)
	a.n = 0;
	ck_assert(kw_got_definitions(libc, "pthread_cond_wait", add_address, &a));
	ck_assert_uint_ge(a.n, 2);
	ck_assert(holds(&a, dlvsym(h, "pthread_cond_wait", "GLIBC_2.3.2")));
	ck_assert(holds(&a, dlvsym(h, "pthread_cond_wait", "GLIBC_2.2.5")));
#endif
	/* memcpy is an IFUNC: its callers hold what the resolver chose. */
	a.n = 0;
	ck_assert(!kw_got_definitions(libc, "memcpy", add_address, &a));
	dlclose(h);
}
END_TEST

struct versions {
	bool libc_defines_234, program_needs_glibc;
	unsigned defined, needed;
};

static void count_version(void *arg, const struct kw_got_version *v)
{
	struct versions *c = arg;

	if (v->defined) {
		c->defined++;
		c->libc_defines_234 |= !strcmp(v->name, "GLIBC_2.34") && v->ndx >= 2;
	} else {
		c->needed++;
		c->program_needs_glibc |= !strncmp(v->name, "GLIBC_", 6) && v->ndx >= 2;
	}
}

/* kw_got_versions names what an object defines and what it needs. */
START_TEST(test_versions)
{
	struct versions libc = { false, false, 0, 0 }, program = { false, false, 0, 0 };

	kw_got_versions(object_named("/libc.so.6"), count_version, &libc);
	ck_assert(libc.libc_defines_234);
	ck_assert_uint_ge(libc.defined, 20);
	kw_got_versions(object_named(""), count_version, &program);
	ck_assert(program.program_needs_glibc);
}
END_TEST

/* Every function keepwarm takes from the library: wrapped, called and
 * routed (these with their listed version), as the constructor finds them. */
START_TEST(test_gnutls_symbols)
{
	void *h = dlopen("libgnutls.so.30", RTLD_NOW);
	const struct kw_object *o;

	ck_assert_ptr_nonnull(h);
	o = object_named("/libgnutls.so.30");
	ck_assert_ptr_nonnull(o);
#define KW_SAME(name, ret, args) ck_assert_ptr_nonnull(kw_got_symbol(o, #name, NULL)); \
	same_as_dl(h, o, #name, NULL);
#define KW_SAME_ROUTED(name, version, i) same_as_dl(h, o, #name, version);
	KW_GNUTLS_WRAPPED(KW_SAME)
	KW_GNUTLS_CALLED(KW_SAME)
	KW_GNUTLS_ROUTED(KW_SAME_ROUTED)
	dlclose(h);
}
END_TEST

START_TEST(test_openssl_symbols)
{
	void *h = dlopen("libssl.so.3", RTLD_NOW);
	const struct kw_object *ssl, *crypto;

	ck_assert_ptr_nonnull(h);
	ssl = object_named("/libssl.so.3");
	ck_assert_ptr_nonnull(ssl);
	/* The listing must stay put while ssl points into it. */
	crypto = NULL;
	for (size_t i = 0; i < nobjects; i++)
		if (strstr(objects[i].name, "/libcrypto.so.3"))
			crypto = &objects[i];
	ck_assert_ptr_nonnull(crypto);
	ck_assert(kw_tls_is_system_crypto(crypto->name));
	ck_assert(!kw_tls_is_system_crypto(ssl->name));
	ck_assert(!kw_tls_is_system_crypto(NULL));
	/* In libssl, else (libcrypto's own) in libcrypto: where dlsym on
	 * libssl's handle finds it. */
#define KW_SAME_SSL(name, ret, args)                                                        \
	{                                                                                   \
		void *p = kw_got_symbol(ssl, #name, NULL);                                  \
		if (!p)                                                                     \
			p = kw_got_symbol(crypto, #name, NULL);                             \
		ck_assert_msg(p && p == dlsym(h, #name), "%s", #name);                      \
	}
	KW_OPENSSL_WRAPPED(KW_SAME_SSL)
	KW_OPENSSL_CALLED(KW_SAME_SSL)
#define KW_SAME_SSL_ROUTED(name, version, i) same_as_dl(h, ssl, #name, version);
	KW_OPENSSL_ROUTED(KW_SAME_SSL_ROUTED)
	dlclose(h);
}
END_TEST

/* Slots of our own (this program's data, outside RELRO) are written in one
 * batch; an empty batch writes nothing. */
static void *slot_a, *slot_b;

START_TEST(test_write_batch)
{
	const struct kw_object *self = object_named("");
	void **slots[2] = { &slot_a, &slot_b };
	void *values[2] = { (void *)&slot_b, (void *)&slot_a };

	ck_assert_ptr_nonnull(self);
	ck_assert(kw_got_contains(self, &slot_a));
	ck_assert(!kw_got_contains(self, (void *)1));
	ck_assert_uint_eq(kw_got_write(self, slots, values, 0), 0);
	ck_assert_ptr_null(slot_a);
	ck_assert_uint_eq(kw_got_write(self, slots, values, 2), 2);
	ck_assert_ptr_eq(slot_a, &slot_b);
	ck_assert_ptr_eq(slot_b, &slot_a);
}
END_TEST

/* A real RELRO slot: this program's own GOT entry for connect, bound at
 * load, made writable for the batch and read-only again afterwards. */
struct found {
	const char *want;
	void **slot;
};

static void find_slot(void *arg, const char *name, void **slot)
{
	struct found *f = arg;

	if (!strcmp(name, f->want))
		f->slot = slot;
}

START_TEST(test_write_relro)
{
	const struct kw_object *self = object_named("");
	struct found f = { "dlvsym", NULL };
	bool bind_now = false;
	void *old, *values[1];
	void **slots[1];

	ck_assert_ptr_nonnull(self);
	ck_assert_int_eq(kw_got_each(self, NULL, 0, NULL, find_slot, &f, &bind_now), 0);
	ck_assert_ptr_nonnull(f.slot);
	old = *f.slot;
	slots[0] = f.slot;
	values[0] = old;
	/* Writing back the value it holds exercises the protection change
	 * without changing what the program calls. */
	ck_assert_uint_eq(kw_got_write(self, slots, values, 1), 1);
	ck_assert_ptr_eq(*f.slot, old);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("got");
	TCase *t = tcase_create("got");
	SRunner *r;
	int failed;

	tcase_add_test(t, test_libc_symbols);
	tcase_add_test(t, test_definitions);
	tcase_add_test(t, test_versions);
	tcase_add_test(t, test_gnutls_symbols);
	tcase_add_test(t, test_openssl_symbols);
	tcase_add_test(t, test_write_batch);
	tcase_add_test(t, test_write_relro);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
