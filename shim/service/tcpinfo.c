/* tcpinfo.c - TCP_INFO's byte counters, through the real getsockopt. */
#include "service/tcpinfo.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "service/real.h"

bool kw_tcp_counters(int fd, struct kw_tcp_counters *k)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	memset(&ti, 0, sizeof ti);
	if (kw_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
		return false;
	k->established = ti.tcpi_state == 1; /* TCP_ESTABLISHED */
	k->acked = ti.tcpi_bytes_acked;
	k->received = ti.tcpi_bytes_received;
	k->unacked = ti.tcpi_unacked;
	k->notsent = len >= offsetof(struct tcp_info, tcpi_notsent_bytes) + sizeof ti.tcpi_notsent_bytes
	                     ? ti.tcpi_notsent_bytes
	                     : 0;
	return true;
}
