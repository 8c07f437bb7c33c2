/* got.h - the GOT entries of the objects loaded in this process: which
 * slots a JUMP_SLOT or GLOB_DAT relocation of a named symbol fills, and how
 * to write one (a RELRO page made writable for the moment).
 *
 * Mechanics only; entry/redirect.c decides which slots to change. The
 * caller serialises: two writers to one RELRO page would race on its
 * protection. */
#ifndef KW_GOT_H
#define KW_GOT_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KW_OBJECT_NAME_MAX 512

/* The ELF types of this process's class (<link.h>'s ElfW, spelled out). */
#if __SIZEOF_POINTER__ == 8
typedef Elf64_Phdr kw_elf_phdr;
typedef Elf64_Dyn  kw_elf_dyn;
typedef Elf64_Sym  kw_elf_sym;
typedef Elf64_Rela kw_elf_rela;
typedef Elf64_Addr kw_elf_addr;
typedef Elf64_Verdef  kw_elf_verdef;
typedef Elf64_Verdaux kw_elf_verdaux;
typedef Elf64_Verneed kw_elf_verneed;
typedef Elf64_Vernaux kw_elf_vernaux;
#define KW_ELF_ST_TYPE(i) ELF64_ST_TYPE(i)
#define KW_ELF_ST_BIND(i) ELF64_ST_BIND(i)
#define KW_ELF_R_TYPE(i) ELF64_R_TYPE(i)
#define KW_ELF_R_SYM(i)  ELF64_R_SYM(i)
#else
typedef Elf32_Phdr kw_elf_phdr;
typedef Elf32_Dyn  kw_elf_dyn;
typedef Elf32_Sym  kw_elf_sym;
typedef Elf32_Rela kw_elf_rela;
typedef Elf32_Addr kw_elf_addr;
typedef Elf32_Verdef  kw_elf_verdef;
typedef Elf32_Verdaux kw_elf_verdaux;
typedef Elf32_Verneed kw_elf_verneed;
typedef Elf32_Vernaux kw_elf_vernaux;
#define KW_ELF_ST_TYPE(i) ELF32_ST_TYPE(i)
#define KW_ELF_ST_BIND(i) ELF32_ST_BIND(i)
#define KW_ELF_R_TYPE(i) ELF32_R_TYPE(i)
#define KW_ELF_R_SYM(i)  ELF32_R_SYM(i)
#endif

/* One loaded ELF object, as dl_iterate_phdr reported it. */
struct kw_object {
	char name[KW_OBJECT_NAME_MAX]; /* its path; "" for the main program */
	bool truncated;                /* the path was longer than name holds */
	uintptr_t base;                /* load bias */
	const kw_elf_phdr *phdr;
	unsigned phnum;
	uintptr_t lo, hi;              /* the span of its loaded segments */
};

/* The loaded objects, in load order: at most max in out. Returns how many
 * there are (more than max when out was too small). */
size_t kw_got_objects(struct kw_object *out, size_t max);

/* How many objects were ever loaded and unloaded in this process (glibc's
 * dlpi_adds, dlpi_subs): a pass need not run when neither changed. False
 * when the C library does not tell. */
bool kw_got_generation(uint64_t *adds, uint64_t *subs);

/* The version index kw_got_each reports for a symbol of an object without
 * a version table (DT_VERSYM). Otherwise the index is the table's: 0 local,
 * 1 global and unversioned, from 2 one of the object's DT_VERDEF or
 * DT_VERNEED entries (kw_got_versions names them). */
#define KW_GOT_NO_VERSYM 0xffffu

/* Asked before a relocation's symbol name is read (reading ten thousand
 * names is most of what a pass costs): the slot it fills and its symbol's
 * version index. */
typedef bool kw_got_want(void *arg, void *const *slot, unsigned version);

/* An address range [lo, hi), such as an object's span. */
struct kw_got_span {
	uintptr_t lo, hi;
};

/* Call fn for every JUMP_SLOT and GLOB_DAT relocation of o whose slot holds
 * an address within one of spans[0..nspans) (nspans 0: any address) and
 * that want (NULL: every one) accepts, with the symbol's name and the slot
 * it fills; the spans are tested first, inline (most of ten thousand slots
 * hold none of them). *bind_now tells whether o was bound at load
 * (DF_BIND_NOW, DF_1_NOW), and is set before want or fn is first called.
 * Returns 0, or -1 when o's dynamic section cannot be read (no PT_DYNAMIC,
 * no symbol or string table, a relocation table keepwarm does not know):
 * then neither is called. */
int kw_got_each(const struct kw_object *o, const struct kw_got_span *spans, size_t nspans,
                kw_got_want *want, void (*fn)(void *arg, const char *name, void **slot),
                void *arg, bool *bind_now);

/* One version o defines (DT_VERDEF) or needs (DT_VERNEED), as
 * kw_got_versions reports it. */
struct kw_got_version {
	unsigned ndx;      /* the index its symbols carry */
	const char *name;  /* such as "GLIBC_2.2.5" */
	uint32_t hash;     /* the ELF hash of name, as the tables hold it */
	bool defined;      /* o's own (DT_VERDEF) */
};

/* Call fn with each version o defines or needs. */
void kw_got_versions(const struct kw_object *o,
                     void (*fn)(void *arg, const struct kw_got_version *v), void *arg);

/* The address of o's own definition of name (its DT_GNU_HASH table read in
 * memory, no dynamic linker call: safe in a constructor): the default
 * version when version is NULL, as dlsym on o's handle finds it, else the
 * named one, as dlvsym. NULL when o does not define it, defines it as an
 * IFUNC, or has no GNU hash table. Only o is searched, not its
 * dependencies. */
void *kw_got_symbol(const struct kw_object *o, const char *name, const char *version);

/* Call fn with the address of each of o's own definitions of name, every
 * version. False when that cannot be told (no GNU hash table, or one of
 * them is an IFUNC or neither code nor data): an address of a definition fn
 * was not given may then be one. */
bool kw_got_definitions(const struct kw_object *o, const char *name,
                        void (*fn)(void *arg, void *addr), void *arg);

/* keepwarm's own GNU build id (its NT_GNU_BUILD_ID note) in lowercase hex,
 * read once; "" when it has none. */
const char *kw_got_build_id(void);

/* Is addr, inside o's span, inside one of its loaded segments? */
bool kw_got_segments_contain(const struct kw_object *o, uintptr_t addr);

/* Is addr inside one of o's loaded segments? Inline, the span first: a pass
 * asks for each of some ten thousand slots, and most are far outside. */
static inline bool kw_got_contains(const struct kw_object *o, const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	return a >= o->lo && a < o->hi && kw_got_segments_contain(o, a);
}

/* Store values[i] in slots[i] (slots kw_got_each reported for o), making
 * the RELRO pages they lie in writable for the moment, once for the batch.
 * Returns how many were written: those in RELRO are left when its
 * protection could not be changed. */
size_t kw_got_write(const struct kw_object *o, void **const *slots, void *const *values,
                    size_t n);

#endif
