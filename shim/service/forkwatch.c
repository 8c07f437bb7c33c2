/* forkwatch.c - notice a child however it was made. */
#include "service/forkwatch.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "service/private.h"

pid_t kw_pid;
volatile uint8_t *kw_forkwatch_page;
static void (*child_hook)(void), (*parent_hook)(void);

void kw_forkwatch_child(void)
{
	if (kw_forkwatch_page)
		kw_forkwatch_page[0] = 1;
	kw_pid = getpid();
	if (child_hook)
		child_hook();
}

/* glibc's forks run the handlers; the child one only when the page did not
 * already say so (it always does, where MADV_WIPEONFORK works). */
static void atfork_child(void)
{
	if (!kw_forkwatch_page || !kw_forkwatch_page[0])
		kw_forkwatch_child();
}

static void atfork_parent(void)
{
	kw_private_parent_fork();
	if (parent_hook)
		parent_hook();
}

void kw_forkwatch_init(void (*on_child)(void), void (*on_parent)(void))
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	child_hook = on_child;
	parent_hook = on_parent;
	kw_pid = getpid();
	if (p != MAP_FAILED && madvise(p, 4096, MADV_WIPEONFORK) == 0) {
		kw_forkwatch_page = p;
		kw_forkwatch_page[0] = 1;
	} else if (p != MAP_FAILED) {
		munmap(p, 4096); /* an old kernel: only glibc's forks are seen */
	}
	pthread_atfork(kw_private_prepare_fork, atfork_parent, atfork_child);
}
