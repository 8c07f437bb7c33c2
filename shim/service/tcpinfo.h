/* tcpinfo.h - the kernel's own account of a TCP connection (TCP_INFO), the
 * judge of whether bytes moved that keepwarm did not see. A separate file
 * because <linux/tcp.h>, which has the byte counters, cannot share a file
 * with <netinet/tcp.h>. */
#ifndef KW_TCPINFO_H
#define KW_TCPINFO_H

#include <stdbool.h>
#include <stdint.h>

struct kw_tcp_counters {
	bool     established; /* TCP_ESTABLISHED: no FIN or reset received, none sent */
	uint64_t acked;       /* bytes the peer acknowledged, the SYN counting one */
	uint64_t received;    /* bytes received in order, a FIN counting one */
	uint32_t unacked;     /* segments sent and not yet acknowledged */
	uint32_t notsent;     /* bytes written and not yet sent */
};

/* Read fd's counters with one getsockopt(TCP_INFO). False when the kernel
 * gives no byte counters (before Linux 4.1, or not a TCP socket). */
bool kw_tcp_counters(int fd, struct kw_tcp_counters *k);

#endif
