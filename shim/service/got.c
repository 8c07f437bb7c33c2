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
	}
	s->n++;
	return 0;
}

size_t kw_got_objects(struct kw_object *out, size_t max)
{
	struct snapshot s = { out, max, 0 };

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

int kw_got_each(const struct kw_object *o, void (*fn)(void *arg, const char *name, void **slot),
                void *arg, bool *bind_now)
{
	const kw_elf_dyn *dyn = NULL;
	const kw_elf_sym *symtab = NULL;
	const char *strtab = NULL;
	const kw_elf_rela *tables[2] = { NULL, NULL };
	size_t sizes[2] = { 0, 0 }, strsz = 0, relaent = sizeof(kw_elf_rela);
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
		case DT_FLAGS:    *bind_now |= (d->d_un.d_val & DF_BIND_NOW) != 0; break;
		case DT_FLAGS_1:  *bind_now |= (d->d_un.d_val & DF_1_NOW) != 0; break;
		default: break;
		}
	}
	/* REL tables (no addend) are not what x86_64 and aarch64 use. */
	if (!symtab || !strtab || !strsz || pltrel != DT_RELA || relaent != sizeof(kw_elf_rela))
		return -1;
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; tables[t] && i < sizes[t] / sizeof(kw_elf_rela); i++) {
			const kw_elf_rela *r = &tables[t][i];
			long type = (long)KW_ELF_R_TYPE(r->r_info);
			size_t sym = KW_ELF_R_SYM(r->r_info);
			if ((type != KW_R_JUMP_SLOT && type != KW_R_GLOB_DAT) || !sym)
				continue;
			if (symtab[sym].st_name >= strsz)
				return -1; /* not a string table we can trust */
			fn(arg, strtab + symtab[sym].st_name, (void **)(o->base + r->r_offset));
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
	const char *verdef;
};

static bool read_symbols(const struct kw_object *o, struct symbols *t)
{
	const kw_elf_dyn *dyn = NULL;

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
		default: break;
		}
	}
	return t->symtab && t->strtab && t->strsz && t->gnu_hash;
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

void *kw_got_symbol(const struct kw_object *o, const char *name, const char *version)
{
	enum { WORD_BITS = sizeof(kw_elf_addr) * 8 };
	struct symbols t;
	uint32_t h = 5381, nbuckets, symoffset, bloom_size, shift;
	const kw_elf_addr *bloom;
	const uint32_t *buckets, *chain;
	kw_elf_addr word, mask;

	if (!read_symbols(o, &t))
		return NULL;
	for (const char *c = name; *c; c++)
		h = h * 33 + (unsigned char)*c;
	nbuckets = t.gnu_hash[0];
	symoffset = t.gnu_hash[1];
	bloom_size = t.gnu_hash[2];
	shift = t.gnu_hash[3];
	if (!nbuckets || !bloom_size)
		return NULL;
	bloom = (const kw_elf_addr *)(t.gnu_hash + 4);
	buckets = (const uint32_t *)(bloom + bloom_size);
	chain = buckets + nbuckets;
	word = bloom[(h / WORD_BITS) % bloom_size];
	mask = ((kw_elf_addr)1 << (h % WORD_BITS)) | ((kw_elf_addr)1 << ((h >> shift) % WORD_BITS));
	if ((word & mask) != mask)
		return NULL;
	for (uint32_t i = buckets[h % nbuckets]; i >= symoffset; i++) {
		uint32_t hi = chain[i - symoffset];
		const kw_elf_sym *sym = &t.symtab[i];
		if ((hi | 1) == (h | 1) && sym->st_name < t.strsz &&
		    !strcmp(t.strtab + sym->st_name, name) && version_matches(&t, i, version)) {
			unsigned type = KW_ELF_ST_TYPE(sym->st_info);
			unsigned bind = KW_ELF_ST_BIND(sym->st_info);
			/* Defined, exported code or data; an IFUNC's answer would
			 * need its resolver run. */
			if (sym->st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_OBJECT) ||
			    (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE))
				return NULL;
			return (void *)(o->base + sym->st_value);
		}
		if (hi & 1)
			break;
	}
	return NULL;
}

bool kw_got_contains(const struct kw_object *o, const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

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
