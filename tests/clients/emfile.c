/* emfile - descriptor pressure. One exchange (keepwarm parks the connection),
 * then open /dev/null until EMFILE, then socket(). Without the shim socket()
 * fails with EMFILE (exit 3); with it, keepwarm closes idle connections and
 * retries, so socket() succeeds and a second exchange works (exit 0). Run it
 * under a small `ulimit -n`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client_common.h"

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_req q;
	int opened = 0, fd;

	kc_parse_args(&o, argc, argv, "emfile", 0);
	kc_request_build(&o, &q);
	if (kc_exchange_blocking(&o, &q, 0, NULL) < 0)
		return KC_EXIT_FAIL;
	while (open("/dev/null", O_RDONLY) >= 0 && opened < 1 << 20)
		opened++;
	if (errno != EMFILE) {
		kc_err(&o, "open stopped with %s, not EMFILE", strerror(errno));
		return KC_EXIT_FAIL;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		kc_err(&o, "socket after %d files: %s", opened, strerror(errno));
		return errno == EMFILE ? 3 : KC_EXIT_FAIL;
	}
	close(fd);
	if (kc_exchange_blocking(&o, &q, 1, NULL) < 0)
		return KC_EXIT_FAIL;
	kc_request_free(&q);
	return kc_ok(2);
}
