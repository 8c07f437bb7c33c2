/* got.c - find and write GOT slots of loaded objects (x86_64 and other
 * RELA targets; glibc's dynamic section, relocated in memory). */
#include "service/got.h"

#include <link.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define KW_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define KW_R_GLOB_DAT  R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define KW_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define KW_R_GLOB_DAT  R_AARCH64_GLOB_DAT
#else
#define KW_R_JUMP_SLOT (-1) /* no redirection on this architecture */
#define KW_R_GLOB_DAT  (-1)
#endif

struct snapshot {
	struct kw_object *out;
	size_t max, n;
};

static int remember(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct snapshot *s = arg;

	(void)size;
	if (s->n < s->max) {
		struct kw_object *o = &s->out[s->n];
		const char *name = info->dlpi_name ? info->dlpi_name : "";
		size_t len = strlen(name);
		o->truncated = len >= sizeof o->name;
		if (o->truncated)
			len = sizeof o->name - 1; /* too long to pin by name */
		memcpy(o->name, name, len);
		o->name[len] = '\0';
		o->base = info->dlpi_addr;
		o->phdr = info->dlpi_phdr;
		o->phnum = info->dlpi_phnum;
		o->lo = UINTPTR_MAX;
		o->hi = 0;
		for (unsigned i = 0; i < o->phnum; i++) {
			const kw_elf_phdr *p = &o->phdr[i];
			if (p->p_type != PT_LOAD)
				continue;
			if (o->base + p->p_vaddr < o->lo)
				o->lo = o->base + p->p_vaddr;
			if (o->base + p->p_vaddr + p->p_memsz > o->hi)
				o->hi = o->base + p->p_vaddr + p->p_memsz;
		}
	}
	s->n++;
	return 0;
}

static void forget_last_read(void);

size_t kw_got_objects(struct kw_object *out, size_t max)
{
	struct snapshot s = { out, max, 0 };

	forget_last_read();
	dl_iterate_phdr(remember, &s);
	return s.n;
}

struct generation {
	uint64_t adds, subs;
	bool known;
};

static int first_only(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct generation *g = arg;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
		g->adds = info->dlpi_adds;
		g->subs = info->dlpi_subs;
		g->known = true;
	}
	return 1; /* the counters are the same in every object's report */
}

bool kw_got_generation(uint64_t *adds, uint64_t *subs)
{
	struct generation g = { 0, 0, false };

	dl_iterate_phdr(first_only, &g);
	*adds = g.adds;
	*subs = g.subs;
	return g.known;
}

/* glibc relocates the pointers of a dynamic section in memory; an object
 * it did not (the vDSO) still holds offsets from the load bias. */
static uintptr_t pointer(const struct kw_object *o, kw_elf_addr p)
{
	return p < o->base ? o->base + p : p;
}

static bool in_spans(uintptr_t a, const struct kw_got_span *spans, size_t nspans)
{
	for (size_t i = 0; i < nspans; i++)
		if (a >= spans[i].lo && a < spans[i].hi)
			return true;
	return !nspans;
}

int kw_got_each(const struct kw_object *o, const struct kw_got_span *spans, size_t nspans,
                kw_got_want *want, void (*fn)(void *arg, const char *name, void **slot),
                void *arg, bool *bind_now)
{
	const kw_elf_dyn *dyn = NULL;
	const kw_elf_sym *symtab = NULL;
	const uint16_t *versym = NULL;
	const char *strtab = NULL;
	const kw_elf_rela *tables[2] = { NULL, NULL };
	size_t sizes[2] = { 0, 0 }, strsz = 0, relaent = sizeof(kw_elf_rela), relative = 0;
	long pltrel = DT_RELA;

	*bind_now = false;
	if (KW_R_JUMP_SLOT < 0)
		return -1;
	for (unsigned i = 0; i < o->phnum; i++)
		if (o->phdr[i].p_type == PT_DYNAMIC)
			dyn = (const kw_elf_dyn *)(o->base + o->phdr[i].p_vaddr);
	if (!dyn)
		return -1;
	for (const kw_elf_dyn *d = dyn; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB:   symtab = (const kw_elf_sym *)pointer(o, d->d_un.d_ptr); break;
		case DT_STRTAB:   strtab = (const char *)pointer(o, d->d_un.d_ptr); break;
		case DT_STRSZ:    strsz = d->d_un.d_val; break;
		case DT_JMPREL:   tables[0] = (const kw_elf_rela *)pointer(o, d->d_un.d_ptr); break;
		case DT_PLTRELSZ: sizes[0] = d->d_un.d_val; break;
		case DT_PLTREL:   pltrel = (long)d->d_un.d_val; break;
		case DT_RELA:     tables[1] = (const kw_elf_rela *)pointer(o, d->d_un.d_ptr); break;
		case DT_RELASZ:   sizes[1] = d->d_un.d_val; break;
		case DT_RELAENT:  relaent = d->d_un.d_val; break;
		case DT_RELACOUNT: relative = d->d_un.d_val; break;
		case DT_VERSYM:   versym = (const uint16_t *)pointer(o, d->d_un.d_ptr); break;
		case DT_FLAGS:    *bind_now |= (d->d_un.d_val & DF_BIND_NOW) != 0; break;
		case DT_FLAGS_1:  *bind_now |= (d->d_un.d_val & DF_1_NOW) != 0; break;
		default: break;
		}
	}
	/* REL tables (no addend) are not what x86_64 and aarch64 use. */
	if (!symtab || !strtab || !strsz || pltrel != DT_RELA || relaent != sizeof(kw_elf_rela))
		return -1;
	for (int t = 0; t < 2; t++) {
		/* DT_RELACOUNT: the leading R_*_RELATIVE entries of DT_RELA,
		 * which name no symbol (most of a large library's table). */
		for (size_t i = t ? relative : 0; tables[t] && i < sizes[t] / sizeof(kw_elf_rela); i++) {
			const kw_elf_rela *r = &tables[t][i];
			long type = (long)KW_ELF_R_TYPE(r->r_info);
			size_t sym = KW_ELF_R_SYM(r->r_info);
			void **slot = (void **)(o->base + r->r_offset);
			if ((type != KW_R_JUMP_SLOT && type != KW_R_GLOB_DAT) || !sym ||
			    !in_spans((uintptr_t)*slot, spans, nspans))
				continue;
			if (want && !want(arg, slot, versym ? versym[sym] & 0x7fff : KW_GOT_NO_VERSYM))
				continue;
			if (symtab[sym].st_name >= strsz)
				return -1; /* not a string table we can trust */
			fn(arg, strtab + symtab[sym].st_name, slot);
		}
	}
	return 0;
}

/* The dynamic section's tables a symbol lookup reads. */
struct symbols {
	const kw_elf_sym *symtab;
	const char *strtab;
	size_t strsz;
	const uint32_t *gnu_hash;
	const uint16_t *versym;
	const char *verdef, *verneed;
};

/* The last object's tables, per thread: a pass looks up hundreds of names
 * in one library in a row. Kept only until the next listing
 * (kw_got_objects): an object loaded later at the same address would have
 * the same key. */
static __thread struct {
	uintptr_t base;
	const kw_elf_phdr *phdr;
	struct symbols t;
} last_read;

static void forget_last_read(void)
{
	last_read.phdr = NULL;
}

static bool read_symbols(const struct kw_object *o, struct symbols *t)
{
	const kw_elf_dyn *dyn = NULL;

	if (last_read.phdr && last_read.base == o->base && last_read.phdr == o->phdr) {
		*t = last_read.t;
		return t->symtab && t->strtab && t->strsz && t->gnu_hash;
	}
	memset(t, 0, sizeof *t);
	for (unsigned i = 0; i < o->phnum; i++)
		if (o->phdr[i].p_type == PT_DYNAMIC)
			dyn = (const kw_elf_dyn *)(o->base + o->phdr[i].p_vaddr);
	for (const kw_elf_dyn *d = dyn; d && d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB:   t->symtab = (const kw_elf_sym *)pointer(o, d->d_un.d_ptr); break;
		case DT_STRTAB:   t->strtab = (const char *)pointer(o, d->d_un.d_ptr); break;
		case DT_STRSZ:    t->strsz = d->d_un.d_val; break;
		case DT_GNU_HASH: t->gnu_hash = (const uint32_t *)pointer(o, d->d_un.d_ptr); break;
		case DT_VERSYM:   t->versym = (const uint16_t *)pointer(o, d->d_un.d_ptr); break;
		case DT_VERDEF:   t->verdef = (const char *)pointer(o, d->d_un.d_ptr); break;
		case DT_VERNEED:  t->verneed = (const char *)pointer(o, d->d_un.d_ptr); break;
		default: break;
		}
	}
	last_read.base = o->base;
	last_read.phdr = o->phdr;
	last_read.t = *t;
	return t->symtab && t->strtab && t->strsz && t->gnu_hash;
}

/* Bounds on the version lists a sane object has. */
#define MAX_VERSION_ENTRIES 4096

void kw_got_versions(const struct kw_object *o,
                     void (*fn)(void *arg, const struct kw_got_version *v), void *arg)
{
	struct symbols t;
	const char *at;
	int guard = 0;

	read_symbols(o, &t);
	if (!t.strtab || !t.strsz)
		return;
	for (at = t.verdef; at && guard < MAX_VERSION_ENTRIES; guard++) {
		const kw_elf_verdef *vd = (const kw_elf_verdef *)at;
		const kw_elf_verdaux *aux = (const kw_elf_verdaux *)(at + vd->vd_aux);
		if (vd->vd_cnt > 0 && aux->vda_name < t.strsz)
			fn(arg, &(struct kw_got_version){ vd->vd_ndx, t.strtab + aux->vda_name,
			                                  vd->vd_hash, true });
		if (!vd->vd_next)
			break;
		at += vd->vd_next;
	}
	for (at = t.verneed; at && guard < MAX_VERSION_ENTRIES; guard++) {
		const kw_elf_verneed *vn = (const kw_elf_verneed *)at;
		const char *a = at + vn->vn_aux;
		for (unsigned k = 0; k < vn->vn_cnt && guard < MAX_VERSION_ENTRIES; k++, guard++) {
			const kw_elf_vernaux *aux = (const kw_elf_vernaux *)a;
			if (aux->vna_name < t.strsz)
				fn(arg, &(struct kw_got_version){ aux->vna_other & 0x7fffu,
				                                  t.strtab + aux->vna_name, aux->vna_hash,
				                                  false });
			if (!aux->vna_next)
				break;
			a += aux->vna_next;
		}
		if (!vn->vn_next)
			break;
		at += vn->vn_next;
	}
}

/* The name of the version definition ndx, or NULL. */
static const char *version_name(const struct symbols *t, unsigned ndx)
{
	const char *at = t->verdef;

	for (int guard = 0; at && guard < 4096; guard++) {
		const kw_elf_verdef *vd = (const kw_elf_verdef *)at;
		if (vd->vd_ndx == ndx && vd->vd_cnt > 0) {
			const kw_elf_verdaux *aux = (const kw_elf_verdaux *)(at + vd->vd_aux);
			return aux->vda_name < t->strsz ? t->strtab + aux->vda_name : NULL;
		}
		if (!vd->vd_next)
			break;
		at += vd->vd_next;
	}
	return NULL;
}

/* Does symbol i answer a lookup of this version (NULL: the default one, as
 * dlsym takes it; else the named one, as dlvsym)? */
static bool version_matches(const struct symbols *t, size_t i, const char *version)
{
	unsigned ndx;
	const char *name;

	if (!t->versym)
		return true;
	ndx = t->versym[i] & 0x7fff;
	if (!version)
		return ndx < 2 || !(t->versym[i] & 0x8000); /* local, global or default */
	name = ndx >= 2 ? version_name(t, ndx) : NULL;
	return name && !strcmp(name, version);
}

/* Call fn with the index of each symbol of t named name (its GNU hash
 * chain), until fn returns true. */
static void each_named(const struct symbols *t, const char *name,
                       bool (*fn)(void *arg, size_t i), void *arg)
{
	enum { WORD_BITS = sizeof(kw_elf_addr) * 8 };
	uint32_t h = 5381, nbuckets, symoffset, bloom_size, shift;
	const kw_elf_addr *bloom;
	const uint32_t *buckets, *chain;
	kw_elf_addr word, mask;

	for (const char *c = name; *c; c++)
		h = h * 33 + (unsigned char)*c;
	nbuckets = t->gnu_hash[0];
	symoffset = t->gnu_hash[1];
	bloom_size = t->gnu_hash[2];
	shift = t->gnu_hash[3];
	if (!nbuckets || !bloom_size)
		return;
	bloom = (const kw_elf_addr *)(t->gnu_hash + 4);
	buckets = (const uint32_t *)(bloom + bloom_size);
	chain = buckets + nbuckets;
	word = bloom[(h / WORD_BITS) % bloom_size];
	mask = ((kw_elf_addr)1 << (h % WORD_BITS)) | ((kw_elf_addr)1 << ((h >> shift) % WORD_BITS));
	if ((word & mask) != mask)
		return;
	for (uint32_t i = buckets[h % nbuckets]; i >= symoffset; i++) {
		uint32_t hi = chain[i - symoffset];
		if ((hi | 1) == (h | 1) && t->symtab[i].st_name < t->strsz &&
		    !strcmp(t->strtab + t->symtab[i].st_name, name) && fn(arg, i))
			return;
		if (hi & 1)
			break;
	}
}

/* 1: defined, exported code or data; 0: not defined here; -1: an IFUNC
 * (whose answer would need its resolver run) or anything else. */
static int definition_kind(const kw_elf_sym *sym)
{
	unsigned type = KW_ELF_ST_TYPE(sym->st_info), bind = KW_ELF_ST_BIND(sym->st_info);

	if (sym->st_shndx == SHN_UNDEF)
		return 0;
	if ((type != STT_FUNC && type != STT_OBJECT) ||
	    (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE))
		return -1;
	return 1;
}

struct lookup {
	const struct kw_object *o;
	const struct symbols *t;
	const char *version;
	void *found;
};

static bool take_version(void *arg, size_t i)
{
	struct lookup *l = arg;

	if (!version_matches(l->t, i, l->version))
		return false;
	if (definition_kind(&l->t->symtab[i]) > 0)
		l->found = (void *)(l->o->base + l->t->symtab[i].st_value);
	return true;
}

void *kw_got_symbol(const struct kw_object *o, const char *name, const char *version)
{
	struct symbols t;
	struct lookup l = { o, &t, version, NULL };

	if (read_symbols(o, &t))
		each_named(&t, name, take_version, &l);
	return l.found;
}

struct every {
	const struct kw_object *o;
	const struct symbols *t;
	void (*fn)(void *arg, void *addr);
	void *arg;
	bool unknown;
};

static bool take_every(void *arg, size_t i)
{
	struct every *e = arg;
	int kind = definition_kind(&e->t->symtab[i]);

	if (kind > 0)
		e->fn(e->arg, (void *)(e->o->base + e->t->symtab[i].st_value));
	e->unknown |= kind < 0;
	return false;
}

bool kw_got_definitions(const struct kw_object *o, const char *name,
                        void (*fn)(void *arg, void *addr), void *arg)
{
	struct symbols t;
	struct every e = { o, &t, fn, arg, false };

	if (!read_symbols(o, &t))
		return false;
	each_named(&t, name, take_every, &e);
	return !e.unknown;
}

struct build_id {
	char hex[2 * 64 + 1];
	bool found;
};

static int read_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct build_id *b = arg;
	uintptr_t self = (uintptr_t)&read_build_id;
	bool mine = false;

	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum && !mine; i++) {
		const kw_elf_phdr *p = &info->dlpi_phdr[i];
		mine = p->p_type == PT_LOAD && self >= info->dlpi_addr + p->p_vaddr &&
		       self < info->dlpi_addr + p->p_vaddr + p->p_memsz;
	}
	if (!mine)
		return 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const kw_elf_phdr *p = &info->dlpi_phdr[i];
		const unsigned char *n = (const unsigned char *)(info->dlpi_addr + p->p_vaddr);
		size_t off = 0;
		if (p->p_type != PT_NOTE)
			continue;
		while (off + sizeof(ElfW(Nhdr)) <= p->p_memsz) {
			const ElfW(Nhdr) *h = (const ElfW(Nhdr) *)(n + off);
			size_t name = (h->n_namesz + 3) & ~(size_t)3, desc = (h->n_descsz + 3) & ~(size_t)3;
			const unsigned char *d = n + off + sizeof *h + name;
			if (off + sizeof *h + name + desc > p->p_memsz)
				break;
			if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 &&
			    !memcmp(n + off + sizeof *h, "GNU", 4) && h->n_descsz <= 64) {
				for (unsigned k = 0; k < h->n_descsz; k++) {
					b->hex[2 * k] = "0123456789abcdef"[d[k] >> 4];
					b->hex[2 * k + 1] = "0123456789abcdef"[d[k] & 15];
				}
				b->hex[2 * h->n_descsz] = '\0';
				b->found = true;
				return 1;
			}
			off += sizeof *h + name + desc;
		}
	}
	return 1;
}

const char *kw_got_build_id(void)
{
	static struct build_id b;
	static bool done; /* first read by keepwarm's initialisation */

	if (!done) {
		dl_iterate_phdr(read_build_id, &b);
		done = true;
	}
	return b.found ? b.hex : "";
}

bool kw_got_segments_contain(const struct kw_object *o, uintptr_t a)
{
	for (unsigned i = 0; i < o->phnum; i++) {
		const kw_elf_phdr *p = &o->phdr[i];
		if (p->p_type == PT_LOAD && a >= o->base + p->p_vaddr &&
		    a < o->base + p->p_vaddr + p->p_memsz)
			return true;
	}
	return false;
}

size_t kw_got_write(const struct kw_object *o, void **const *slots, void *const *values,
                    size_t n)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start = 0, end = 0, lo = UINTPTR_MAX,
	          hi = 0;
	size_t written = 0;
	bool open = false;

	/* ld.so protects the RELRO region's whole pages (its end rounded down). */
	for (unsigned i = 0; i < o->phnum; i++) {
		const kw_elf_phdr *p = &o->phdr[i];
		if (p->p_type == PT_GNU_RELRO) {
			start = (o->base + p->p_vaddr) & ~(page - 1);
			end = (o->base + p->p_vaddr + p->p_memsz) & ~(page - 1);
		}
	}
	for (size_t i = 0; i < n; i++) {
		uintptr_t at = (uintptr_t)slots[i] & ~(page - 1);
		if (at >= start && at < end) {
			lo = at < lo ? at : lo;
			hi = at + page > hi ? at + page : hi;
		}
	}
	/* The pages from the first slot to the last, all inside the region
	 * ld.so made read-only: writable once for the batch. */
	if (lo < hi) {
		if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) < 0)
			lo = hi = 0; /* those slots are left */
		else
			open = true;
	}
	for (size_t i = 0; i < n; i++) {
		uintptr_t at = (uintptr_t)slots[i] & ~(page - 1);
		if (at >= start && at < end && !open)
			continue;
		/* One aligned store: a thread calling through the slot meanwhile
		 * takes the old function or the new one, never half of each. */
		__atomic_store_n(slots[i], values[i], __ATOMIC_RELEASE);
		written++;
	}
	if (open)
		mprotect((void *)lo, hi - lo, PROT_READ);
	return written;
}
