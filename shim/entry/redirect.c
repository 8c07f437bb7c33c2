/* redirect.c - reach callers the global symbol scope does not: rewrite the
 * GOT slots of loaded objects whose references to the names keepwarm wraps
 * resolved past it: into glibc's libc.so.6 (objects loaded with
 * RTLD_DEEPBIND bind libc inside their own scope first), and into the
 * system's TLS libraries (whose names keepwarm never exports: a private
 * copy of a library must keep its own callers).
 *
 * Which slots: a slot of a wrapped libc name that holds an address inside
 * the libc.so.6 this process loaded (compared by load address, so a renamed
 * or second copy of a library is never touched), and, in an object that has
 * such a slot, its still lazy slots whose own scope would resolve to that
 * libc too. A slot of a wrapped TLS name that holds an address inside the
 * system's libgnutls.so.30 or libssl.so.3 (known by file identity, see
 * service/tls_real.c), or is lazy and would resolve there, in any object but
 * that library. A slot already at keepwarm, or at any other definition (the
 * object's own dependency defining the name, another preloaded library), is
 * left as it is.
 *
 * When: at start (libc names only: a TLS library's functions are looked up
 * with a dlopen, which must not run inside constructors), after every
 * RTLD_DEEPBIND dlopen of a path, and at the next socket, connect, close or
 * dlopen after any other dlopen (or after start, when a TLS library was
 * loaded then): libc's dlopen must see the program as its caller. A pass
 * looks only at objects it has not seen, unless something was unloaded or a
 * TLS library's functions were found since; none runs when nothing was
 * loaded or unloaded. Passes are serialised, pin each object (but at start)
 * with dlopen(RTLD_NOLOAD) so that a concurrent dlclose cannot unmap it, and
 * keep no pointer into an object between passes. */
#include "entry/entry.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "service/got.h"
#include "service/tls_real.h"
#include "sink/report.h"

#define MAX_OBJECTS 1024
#define MAX_SLOTS   256 /* wrapped-name slots of one object */
#define MAX_NAMES   512

static const struct kw_wrapped *table;
static size_t table_n;
static pthread_mutex_t pass_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic unsigned kw_redirect_asked, kw_redirect_done;

/* A pass is owed: the next socket call runs it. */
static void ask_pass(void)
{
	atomic_fetch_add_explicit(&kw_redirect_asked, 1, memory_order_release);
}

/* Objects said to be unreadable, so that each is said once. */
#define MAX_UNREADABLE 64
static struct { uintptr_t base; char name[64]; } unreadable[MAX_UNREADABLE];
static unsigned nunreadable;

struct slot {
	void **at;
	const struct kw_wrapped *w;
};

/* Version indexes an object's symbols carry (most below this). */
#define MAX_VERSION_NDX 256

struct collect {
	struct slot slots[MAX_SLOTS];
	size_t n;
	const struct kw_object *o;
	const bool *bind_now;
	/* Version indexes of o whose version name a library a pass looks at
	 * defines (a TLS library's; libc's when the pass asks o's scope), and
	 * those o names at all. */
	uint8_t may_bind[MAX_VERSION_NDX / 8], named[MAX_VERSION_NDX / 8];
};

/* The wrapped names by a hash of the whole name: a pass looks up every
 * JUMP_SLOT and GLOB_DAT name of every object (some ten thousand in a
 * program such as curl), so a name is read once, and compared only when its
 * hash is a wrapped name's. */
#define BUCKETS 2048
static short bucket_head[BUCKETS], bucket_next[MAX_NAMES];
static uint32_t name_hashes[MAX_NAMES];

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

static void index_table(void)
{
	for (unsigned b = 0; b < BUCKETS; b++)
		bucket_head[b] = -1;
	for (size_t i = 0; i < table_n; i++) {
		uint32_t h = name_hash(table[i].name);
		name_hashes[i] = h;
		bucket_next[i] = bucket_head[h % BUCKETS];
		bucket_head[h % BUCKETS] = (short)i;
	}
}

/* The wrapped name, or NULL. */
static const struct kw_wrapped *wrapped(const char *name)
{
	uint32_t h = name_hash(name);

	for (short i = bucket_head[h % BUCKETS]; i >= 0; i = bucket_next[i])
		if (name_hashes[i] == h && !strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

static void collect_slot(void *arg, const char *name, void **at)
{
	struct collect *c = arg;
	const struct kw_wrapped *w = wrapped(name);

	if (w && c->n < MAX_SLOTS)
		c->slots[c->n++] = (struct slot){ at, w };
}

/* The load address of the object of objects[0..n) holding addr, 0 when
 * none does (not dladdr, which also searches the object's symbols). */
static uintptr_t object_of(const void *addr, const struct kw_object *objects, size_t n)
{
	for (size_t i = 0; addr && i < n; i++)
		if (kw_got_contains(&objects[i], addr))
			return objects[i].base;
	return 0;
}

static bool skipped(const struct kw_object *o, uintptr_t libc, uintptr_t self)
{
	/* libc and keepwarm themselves, the dynamic linker and the vDSO. */
	return o->base == libc || o->base == self || strstr(o->name, "/ld-linux") ||
	       strstr(o->name, "linux-vdso") || strstr(o->name, "linux-gate");
}

/* The libc.so.6 and the system TLS libraries of this pass. */
static const struct kw_object *libc_object, *tls_object[KW_TLS_LIBS];

static bool in_libc(const void *addr)
{
	return libc_object && kw_got_contains(libc_object, addr);
}

/* Does a TLS library other than o hold addr? (A TLS library's calls into
 * itself are its own: never redirected.) */
static bool tls_holds(const void *addr, const struct kw_object *o)
{
	for (int lib = 0; lib < KW_TLS_LIBS; lib++)
		if (tls_object[lib] && tls_object[lib] != o && kw_got_contains(tls_object[lib], addr))
			return true;
	return false;
}

/* Where libc defines the wrapped libc names (every version), sorted: a
 * slot holding another libc address is some other function's. Unless
 * libc_by_name (a definition could not be told): then every name is read. */
static void *libc_wrapped[MAX_NAMES];
static size_t libc_nwrapped;
static bool libc_by_name;

static void add_libc_wrapped(void *arg, void *addr)
{
	(void)arg;
	if (libc_nwrapped < MAX_NAMES)
		libc_wrapped[libc_nwrapped++] = addr;
	else
		libc_by_name = true;
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return (x > y) - (x < y);
}

static void read_libc_wrapped(void)
{
	libc_nwrapped = 0;
	libc_by_name = false;
	for (size_t i = 0; i < table_n; i++)
		if (table[i].lib < 0 && !kw_got_definitions(libc_object, table[i].name,
		                                            add_libc_wrapped, NULL))
			libc_by_name = true;
	qsort(libc_wrapped, libc_nwrapped, sizeof libc_wrapped[0], by_address);
}

static bool libc_defines_wrapped(const void *addr)
{
	return libc_by_name || bsearch(&addr, libc_wrapped, libc_nwrapped, sizeof libc_wrapped[0],
	                               by_address);
}

/* The versions libc and each TLS library define, read once a pass: a
 * slot whose symbol needs another version cannot bind into them. */
#define MAX_DEFINED 128
struct defined {
	unsigned n;
	struct kw_got_version list[MAX_DEFINED];
};
static struct defined libc_defined, tls_defined[KW_TLS_LIBS];

static void add_defined(void *arg, const struct kw_got_version *v)
{
	struct defined *d = arg;

	if (v->defined && d->n < MAX_DEFINED)
		d->list[d->n++] = *v;
}

static void read_defined(struct defined *d, const struct kw_object *o)
{
	d->n = 0;
	if (o)
		kw_got_versions(o, add_defined, d);
}

static bool defines(const struct defined *d, const struct kw_got_version *v)
{
	for (unsigned i = 0; i < d->n; i++)
		if (d->list[i].hash == v->hash && !strcmp(d->list[i].name, v->name))
			return true;
	return d->n == MAX_DEFINED; /* more than it holds: maybe */
}

/* Is handle the scope a pass asks (then libc's versions count too)? */
static bool asking_scope;

static void note_version(void *arg, const struct kw_got_version *v)
{
	struct collect *c = arg;
	bool binds = asking_scope && defines(&libc_defined, v);

	if (v->ndx >= MAX_VERSION_NDX)
		return;
	for (int lib = 0; lib < KW_TLS_LIBS && !binds; lib++)
		binds = tls_object[lib] && defines(&tls_defined[lib], v);
	c->named[v->ndx / 8] |= (uint8_t)(1u << (v->ndx % 8));
	if (binds)
		c->may_bind[v->ndx / 8] |= (uint8_t)(1u << (v->ndx % 8));
}

/* Set by a start pass that found libc settled (see libc_settled): then no
 * libc slot can be past keepwarm, and only TLS names are looked at. */
static bool tls_only;

/* Can this slot be one a pass changes, whatever its name? Only if it holds
 * an address in libc or a TLS library, or (lazy) in o itself while its
 * symbol's version could bind it there: a version requirement binds only a
 * definition of that version (GLIBC_2.2.5 never finds OpenSSL's). */
static bool slot_may_matter(void *arg, void *const *at, unsigned version)
{
	const struct collect *c = arg;
	const void *cur = *at;
	uintptr_t a = (uintptr_t)cur;

	/* Within o's span, first: most slots of a lazy object (its PLT). */
	if (a >= c->o->lo && a < c->o->hi) {
		if (*c->bind_now)
			return false;
		if (version >= 2 && version < MAX_VERSION_NDX &&
		    !(c->may_bind[version / 8] & (1u << (version % 8))) &&
		    (c->named[version / 8] & (1u << (version % 8))))
			return false;
		/* Unversioned, no version table, or a version that may bind. */
		return kw_got_contains(c->o, cur);
	}
	/* Within libc's span, a wrapped definition's address says it all. */
	if (!tls_only && libc_object && a >= libc_object->lo && a < libc_object->hi &&
	    (libc_by_name ? in_libc(cur) : libc_defines_wrapped(cur)))
		return true;
	return tls_holds(cur, c->o);
}

/* Where the global scope binds each wrapped name, asked once per start
 * pass (every object's lazy slots would bind there then). */
static void *global_binding[MAX_NAMES];
static bool global_known[MAX_NAMES];

static void *bound_in(void *handle, const struct kw_wrapped *w)
{
	size_t i = (size_t)(w - table);

	if (handle)
		return dlsym(handle, w->name);
	if (!global_known[i]) {
		global_binding[i] = dlsym(RTLD_DEFAULT, w->name);
		global_known[i] = true;
	}
	return global_binding[i];
}

/* Should slot (of a TLS name) lead to keepwarm? */
static bool tls_slot_past(const struct kw_object *o, const struct slot *sl, void *handle,
                          bool bind_now)
{
	const struct kw_object *t = tls_object[sl->w->lib];
	void *cur = *sl->at;

	if (!t || t == o || !sl->w->real || !*sl->w->real)
		return false;
	if (kw_got_contains(t, cur))
		return true;
	/* Still lazy: where would its own scope bind it? (At start, with no
	 * handle: the global scope, every object's then.) */
	return !bind_now && kw_got_contains(o, cur) && kw_got_contains(t, bound_in(handle, sl->w));
}

/* One object: rewrite what resolved past keepwarm. Returns how many slots
 * changed, or -1 when its dynamic section could not be read. *libc_past
 * tells whether the object binds libc past keepwarm. */
static int redirect_object(const struct kw_object *o, void *handle, bool *libc_past)
{
	static struct collect c; /* under pass_lock */
	static void **at[MAX_SLOTS], *to[MAX_SLOTS];
	struct kw_got_span spans[2 + KW_TLS_LIBS];
	bool bind_now, past = false;
	size_t n = 0, nspans = 0;

	c.n = 0;
	c.o = o;
	c.bind_now = &bind_now;
	memset(c.may_bind, 0, sizeof c.may_bind);
	memset(c.named, 0, sizeof c.named);
	asking_scope = handle != NULL;
	kw_got_versions(o, note_version, &c);
	*libc_past = false;
	/* Where a slot that may matter points (see slot_may_matter). */
	spans[nspans++] = (struct kw_got_span){ o->lo, o->hi };
	if (!tls_only && libc_object)
		spans[nspans++] = (struct kw_got_span){ libc_object->lo, libc_object->hi };
	for (int lib = 0; lib < KW_TLS_LIBS; lib++)
		if (tls_object[lib] && tls_object[lib] != o)
			spans[nspans++] = (struct kw_got_span){ tls_object[lib]->lo, tls_object[lib]->hi };
	if (kw_got_each(o, spans, nspans, slot_may_matter, collect_slot, &c, &bind_now) < 0)
		return -1;
	/* Evidence that the object binds libc past keepwarm: a resolved slot. */
	for (size_t i = 0; i < c.n && !past; i++)
		past = c.slots[i].w->lib < 0 && in_libc(*c.slots[i].at);
	for (size_t i = 0; i < c.n; i++) {
		void *cur = *c.slots[i].at, *want = c.slots[i].w->fn;
		bool redirect = false;

		if (cur == want)
			continue;
		if (c.slots[i].w->lib >= 0)
			redirect = tls_slot_past(o, &c.slots[i], handle, bind_now);
		else if (!past)
			continue;
		else if (in_libc(cur))
			redirect = true;
		else if (!bind_now && handle && kw_got_contains(o, cur))
			/* Still lazy: where would its own scope bind it? */
			redirect = in_libc(dlsym(handle, c.slots[i].w->name));
		if (redirect) {
			at[n] = c.slots[i].at;
			to[n++] = want;
		}
	}
	*libc_past = past;
	return (int)kw_got_write(o, at, to, n);
}

/* Objects a pass looked at (by load address and program headers), skipped
 * by the next while nothing was unloaded. */
static struct { uintptr_t base; const void *phdr; } seen[MAX_OBJECTS];
static size_t nseen;
static uint64_t last_adds = UINT64_MAX, last_subs = UINT64_MAX;

static bool was_seen(const struct kw_object *o)
{
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].base == o->base && seen[i].phdr == o->phdr)
			return true;
	return false;
}

static void mark_seen(const struct kw_object *o)
{
	if (nseen < MAX_OBJECTS)
		seen[nseen++] = (typeof(seen[0])){ o->base, o->phdr };
}

/* Was o already said to be unreadable? Remembers it if not. */
static bool said_unreadable(const struct kw_object *o)
{
	for (unsigned i = 0; i < nunreadable; i++)
		if (unreadable[i].base == o->base && !strncmp(unreadable[i].name, o->name,
		                                                sizeof unreadable[i].name - 1))
			return true;
	if (nunreadable < MAX_UNREADABLE) {
		unreadable[nunreadable].base = o->base;
		size_t len = strnlen(o->name, sizeof unreadable[nunreadable].name - 1);
		memcpy(unreadable[nunreadable].name, o->name, len);
		unreadable[nunreadable].name[len] = '\0';
		nunreadable++;
	}
	return false;
}

/* A dlopen reached keepwarm: what it loaded may bind in a scope of its
 * own, which the start pass cannot ask (see pass). */
static _Atomic bool dlopen_seen;

/* The object handle pins is the one the listing saw: loaded at the same
 * bias (a dlclose and dlopen between the listing and the pin may have moved
 * it). */
static bool still_where_listed(void *handle, const struct kw_object *o)
{
	struct link_map *lm = NULL;

	return dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && (uintptr_t)lm->l_addr == o->base;
}

/* At start, before any dlopen, with keepwarm listed before libc: every
 * loaded object is the program's or a dependency's, relocated in the global
 * scope, where keepwarm (preloaded) comes before libc, so none of their
 * wrapped libc names can have bound past it. The listing is in load order,
 * which for these objects is the global scope's order; keepwarm loaded by a
 * dlopen, or libc preloaded before it, fails the test and gets the full
 * pass. */
static bool libc_settled(bool at_start, const struct kw_object *objects, size_t n, uintptr_t libc,
                         uintptr_t self)
{
	if (!at_start || atomic_load(&dlopen_seen) || !self)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (objects[i].base == self)
			return true;
		if (objects[i].base == libc)
			return false;
	}
	return false;
}

/* at_start: in keepwarm's constructor, while ld.so still runs the other
 * libraries' constructors. Then no object is pinned: dlopen(RTLD_NOLOAD)
 * would run a constructor not yet run, inside keepwarm (where its calls
 * pass straight through), and nothing can be unloaded yet anyway. Every
 * object then is the program's or its dependencies', whose lazy slots the
 * global scope binds, so the start pass finishes them unless one binds libc
 * past keepwarm (its lazy slots wait for a pass with its handle), a TLS
 * library's functions could not be found yet, or a constructor already
 * called dlopen: then the next pass is owed and looks at what is left. */
static void pass(bool at_start)
{
	static struct kw_object objects[MAX_OBJECTS]; /* under pass_lock */
	const struct kw_object *crypto = NULL;
	uintptr_t libc, self;
	bool counted, any_tls, left = at_start && atomic_load(&dlopen_seen);
	uint64_t adds, subs;
	size_t n;

	if (!table)
		return;
	counted = kw_got_generation(&adds, &subs);
	if (!at_start && counted && adds == last_adds && subs == last_subs)
		return; /* nothing loaded or unloaded since the last pass */
	n = kw_got_objects(objects, MAX_OBJECTS);
	if (n > MAX_OBJECTS)
		n = MAX_OBJECTS;
	libc = object_of((void *)kw_real.connect, objects, n);
	self = object_of((void *)&pass, objects, n);
	if (!libc)
		return;
	if (!counted || subs != last_subs)
		nseen = 0; /* an address may now hold another object */
	last_adds = adds;
	last_subs = subs;
	memset(global_known, 0, sizeof global_known);
	libc_object = NULL;
	for (int lib = 0; lib < KW_TLS_LIBS; lib++)
		tls_object[lib] = NULL;
	for (size_t i = 0; i < n; i++)
		if (objects[i].base == libc)
			libc_object = &objects[i];
		else if (!crypto && at_start && kw_tls_is_system_crypto(objects[i].name))
			crypto = &objects[i];
	for (size_t i = 0; i < n; i++) {
		int lib = kw_tls_lib_of(objects[i].name);
		if (lib < 0 || tls_object[lib])
			continue;
		tls_object[lib] = &objects[i];
		/* Its functions, once: from then on every object is looked at
		 * again for its calls into it. */
		if (at_start)
			left |= !kw_tls_real_resolve_global(lib, &objects[i], crypto);
		else if (!kw_tls_real_ready(lib) && kw_tls_real_resolve(lib, objects[i].name))
			nseen = 0;
	}
	tls_only = libc_settled(at_start, objects, n, libc, self);
	any_tls = false;
	for (int lib = 0; lib < KW_TLS_LIBS; lib++)
		any_tls |= tls_object[lib] != NULL;
	if (!tls_only)
		read_libc_wrapped();
	read_defined(&libc_defined, libc_object);
	for (int lib = 0; lib < KW_TLS_LIBS; lib++)
		read_defined(&tls_defined[lib], tls_object[lib]);
	for (size_t i = 0; i < n; i++) {
		const struct kw_object *o = &objects[i];
		const char *who = o->name[0] ? o->name : program_invocation_name;
		void *handle = NULL;
		bool libc_past;
		int changed;

		if (skipped(o, libc, self) || was_seen(o))
			continue;
		if (o->truncated) { /* cannot be pinned by its name: left alone */
			if (!said_unreadable(o))
				kw_report_redirect(o->name, -1, KW_REASON_OBJECT_UNREADABLE);
			continue;
		}
		if (tls_only && !any_tls) { /* nothing to look for */
			mark_seen(o);
			continue;
		}
		/* Pinned for the pass: a dlclose elsewhere cannot unmap it now.
		 * The main program ("") is never unloaded; its handle is there for
		 * where its lazy slots would bind. */
		if (!at_start &&
		    !(handle = kw_real.dlopen(o->name[0] ? o->name : NULL, RTLD_NOLOAD | RTLD_LAZY)))
			continue;
		/* Unloaded and loaded again elsewhere since the listing: its
		 * program headers are not where the listing saw them. The next
		 * pass (the generation moved) lists it anew. */
		if (handle && !still_where_listed(handle, o)) {
			dlclose(handle);
			continue;
		}
		changed = redirect_object(o, handle, &libc_past);
		if (changed > 0)
			kw_report_redirect(who, changed, KW_REASON_NONE);
		else if (changed < 0 && !said_unreadable(o))
			kw_report_redirect(who, -1, KW_REASON_OBJECT_UNREADABLE);
		if (!at_start || !libc_past)
			mark_seen(o);
		else
			left = true;
		if (handle)
			dlclose(handle);
	}
	if (at_start && left) {
		/* The next pass looks at everything again, at the next socket
		 * call (the seen list and the generation are forgotten). */
		nseen = 0;
		last_adds = last_subs = UINT64_MAX;
		ask_pass();
	}
}

/* owed_only: only when a pass is owed. A thread that finds one running
 * waits for it, and goes on only once the slots are rewritten: its next TLS
 * call must already reach keepwarm. A request made during a pass stays owed. */
static void run_pass(bool at_start, bool owed_only)
{
	unsigned asked;

	kw_nocancel_enter();
	kw_depth++;
	pthread_mutex_lock(&pass_lock);
	asked = atomic_load_explicit(&kw_redirect_asked, memory_order_acquire);
	if (!owed_only || asked != atomic_load_explicit(&kw_redirect_done, memory_order_relaxed)) {
		pass(at_start);
		atomic_store_explicit(&kw_redirect_done, asked, memory_order_release);
	}
	pthread_mutex_unlock(&pass_lock);
	kw_depth--;
	kw_nocancel_leave();
}

void kw_redirect_setup(const struct kw_wrapped *t, size_t n)
{
	int saved = errno;

	table = t;
	table_n = n < MAX_NAMES ? n : MAX_NAMES;
	index_table();
	if (kw_init())
		run_pass(true, false);
	errno = saved;
}

/* dlopen as the program asked, then a pass when it asked for RTLD_DEEPBIND:
 * only for names the caller's identity cannot change (see route). */
static void *dlopen_then_pass(const char *file, int flags)
{
	void *h = kw_real.dlopen(file, flags);
	int saved = errno;

	if (h && (flags & RTLD_DEEPBIND) && kw_init() && !kw_depth)
		run_pass(false, false);
	errno = saved;
	return h;
}

void *kw_redirect_dlopen_route(const char *file, int flags)
{
	int saved = errno;
	void *to;

	if (kw_real_resolve() < 0 || !kw_real.dlopen) {
		errno = saved;
		return NULL;
	}
	atomic_store(&dlopen_seen, true);
	/* What an earlier bare-name RTLD_DEEPBIND dlopen loaded is complete. */
	kw_redirect_check();
	/* libc's dlopen searches with its caller's RUNPATH and expands $ORIGIN
	 * from the caller: a bare name or one with '$' goes to it untouched
	 * (jumped to, so the caller is the program's), and the pass waits for
	 * the next call that reaches keepwarm. A path is the same from anyone. */
	if (kw_depth) {
		to = (void *)kw_real.dlopen;
	} else if ((flags & RTLD_DEEPBIND) && (!file || (strchr(file, '/') && !strchr(file, '$')))) {
		to = (void *)dlopen_then_pass;
	} else {
		/* Anything else waits for the next socket call (a TLS library
		 * loaded now is used on a socket made after). */
		if (kw_init())
			ask_pass();
		to = (void *)kw_real.dlopen;
	}
	errno = saved;
	return to;
}

void kw_redirect_catch_up(void)
{
	int saved = errno;

	if (!kw_depth)
		run_pass(false, true);
	errno = saved;
}
