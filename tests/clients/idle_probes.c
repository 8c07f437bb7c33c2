/* idle_probes - keepwarm switches TCP keepalive probes on for a connection
 * that stays parked (at its next pool operation after a second), not for one
 * taken back at once, and a connection handed back reads as a fresh socket
 * either way.
 *
 * Two connections A and B, one exchange each. A is closed (parked), 1.5 s
 * later B (parked: the pool operation that finds A due). The numbers opened
 * behind the program's back (raw fcntl through syscall(), which keepwarm
 * does not look at) are read with raw getsockopt, since keepwarm's own
 * numbers answer EBADF through the wrappers: under keepwarm there must be
 * two, one with SO_KEEPALIVE 1 and TCP_KEEPIDLE the --idle-s it was given
 * (KEEPWARM_TCP_KEEPALIVE), one with SO_KEEPALIVE 0 (B, parked just now).
 * Then two connect()s, both open at once: each socket reads SO_KEEPALIVE, TCP_KEEPIDLE and
 * TCP_KEEPINTVL as a fresh socket did before, and serves one more exchange.
 * Without keepwarm nothing is parked and the connects dial.
 *
 *   idle_probes --port P --idle-s N [--host H] [--timeout S]
 * Exit 0, 1 on a mismatch. */
#include "client_common.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bad;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL ");                                                           \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			bad = 1;                                                                   \
		}                                                                                  \
	} while (0)

/* One int option, read past keepwarm's wrappers; -1 when it cannot be. */
static int raw_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof v;

	return syscall(SYS_getsockopt, fd, level, name, &v, &len) == 0 ? v : -1;
}

struct opts {
	int keepalive, idle, intvl;
};

static struct opts read_opts(int fd)
{
	struct opts o = { raw_opt(fd, SOL_SOCKET, SO_KEEPALIVE), raw_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
	                  raw_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL) };
	return o;
}

int main(int argc, char **argv)
{
	static unsigned char open_before[65536]; /* inherited numbers are not ours */
	const char *preload = getenv("LD_PRELOAD");
	bool shim = preload && strstr(preload, "keepwarm");
	int a, b, idle_s = 0, hidden[4], nhidden = 0, probing = 0, quiet = 0;
	struct kc_script o;
	struct opts fresh;
	struct rlimit rl;
	long top;
	int fd;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--idle-s")) {
			idle_s = atoi(argv[i + 1]);
			memmove(argv + i, argv + i + 2, (size_t)(argc - i - 1) * sizeof *argv);
			argc -= 2;
			break;
		}
	if (kc_script_args(&o, argc, argv, NULL, NULL) < 0 || idle_s <= 0) {
		fprintf(stderr, "usage: idle_probes --port P --idle-s N [--host H] [--timeout S]\n");
		return 2;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	top = rl.rlim_cur > 65536 ? 65536 : (long)rl.rlim_cur;
	for (long n = 0; n < top; n++)
		open_before[n] = syscall(SYS_fcntl, (int)n, F_GETFD) >= 0;
	if ((fd = socket(strchr(o.host, ':') ? AF_INET6 : AF_INET, SOCK_STREAM, 0)) < 0)
		return 2;
	fresh = read_opts(fd);
	close(fd);
	if ((a = kc_dial(o.host, o.port)) < 0 || kc_get_sized(a, o.host, 100) < 0 ||
	    (b = kc_dial(o.host, o.port)) < 0 || kc_get_sized(b, o.host, 100) < 0)
		return 1;
	close(a);
	usleep(1500 * 1000);
	close(b);

	for (long n = top - 1; n > 2 && nhidden < 4; n--)
		if (!open_before[n] && syscall(SYS_fcntl, (int)n, F_GETFD) >= 0)
			hidden[nhidden++] = (int)n;
	for (int i = 0; i < nhidden; i++) {
		struct opts h = read_opts(hidden[i]);
		if (h.keepalive == 1 && h.idle == idle_s)
			probing++;
		else if (h.keepalive == 0)
			quiet++;
		printf("hidden %d: SO_KEEPALIVE %d TCP_KEEPIDLE %d TCP_KEEPINTVL %d\n", hidden[i],
		       h.keepalive, h.idle, h.intvl);
	}
	if (shim)
		CHECK(nhidden == 2 && probing == 1 && quiet == 1,
		      "%d parked numbers, %d with probes on (idle %d s), %d without: want 2, 1, 1",
		      nhidden, probing, idle_s, quiet);
	else
		CHECK(nhidden == 0, "%d numbers opened behind the program's back", nhidden);

	/* Both at once, so the second takes A (the pool hands back the newest). */
	int again[2];
	for (int i = 0; i < 2; i++) {
		struct opts got;
		if ((again[i] = kc_dial(o.host, o.port)) < 0)
			return 1;
		got = read_opts(again[i]);
		CHECK(got.keepalive == fresh.keepalive && got.idle == fresh.idle &&
		          got.intvl == fresh.intvl,
		      "connection %d reads SO_KEEPALIVE %d TCP_KEEPIDLE %d TCP_KEEPINTVL %d, a fresh "
		      "socket %d %d %d",
		      i + 1, got.keepalive, got.idle, got.intvl, fresh.keepalive, fresh.idle, fresh.intvl);
	}
	for (int i = 0; i < 2; i++) {
		if (kc_get_sized(again[i], o.host, 100) < 0)
			return 1;
		close(again[i]);
	}
	printf("%s: %d parked, %d probing\n", bad ? "FAIL" : "ok", nhidden, probing);
	return bad;
}
