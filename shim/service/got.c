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

int kw_got_write(const struct kw_object *o, void **slot, void *value)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), at = (uintptr_t)slot;
	bool relro = false;

	/* ld.so protects the RELRO region's whole pages (its end rounded down). */
	for (unsigned i = 0; i < o->phnum; i++) {
		const kw_elf_phdr *p = &o->phdr[i];
		uintptr_t start = (o->base + p->p_vaddr) & ~(page - 1);
		uintptr_t end = (o->base + p->p_vaddr + p->p_memsz) & ~(page - 1);
		if (p->p_type == PT_GNU_RELRO && at >= start && at < end)
			relro = true;
	}
	if (relro && mprotect((void *)(at & ~(page - 1)), page, PROT_READ | PROT_WRITE) < 0)
		return -1;
	/* One aligned store: a thread calling through the slot meanwhile takes
	 * the old function or the new one, never half of each. */
	__atomic_store_n(slot, value, __ATOMIC_RELEASE);
	if (relro)
		mprotect((void *)(at & ~(page - 1)), page, PROT_READ);
	return 0;
}
