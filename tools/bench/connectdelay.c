/* connectdelay.so - the TCP handshake of an emulated link, paid in connect().
 *
 *   LD_PRELOAD=connectdelay.so CONNECT_DELAY_MS=10 program
 *   LD_PRELOAD=connectdelay.so keepwarm -- program   (keepwarm goes first)
 *
 * Every connect() to an IPv4 or IPv6 address waits CONNECT_DELAY_MS (a round
 * trip) before the real one, as a client's connect() waits for the SYN-ACK
 * over a real link. With delayproxy --handshake-in-connect in the path the
 * request that follows costs one round trip more, so an HTTP request on a
 * fresh connection costs 2 RTT and one on a kept connection 1 RTT, with the
 * handshake where a program meets it. A connection keepwarm hands back never
 * calls the real connect(), so it never waits: that is the saving an A/B
 * test measures. Non-blocking connects wait too (the emulation is for the
 * benchmark's and tests' blocking clients). */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

static int (*real_connect)(int, const struct sockaddr *, socklen_t);

__attribute__((visibility("default"))) int connect(int fd, const struct sockaddr *addr,
                                                   socklen_t len)
{
	const char *ms = getenv("CONNECT_DELAY_MS");
	int saved = errno;

	if (!real_connect)
		real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT,
		                                                                      "connect");
	if (ms && addr && len >= sizeof(sa_family_t) &&
	    (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
		double d = strtod(ms, NULL);
		if (d > 0 && d < 10000) {
			long long ns = (long long)(d * 1e6);
			struct timespec t = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
			while (nanosleep(&t, &t) < 0 && errno == EINTR)
				;
		}
	}
	errno = saved;
	return real_connect(fd, addr, len);
}
