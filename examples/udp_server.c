/*
 * examples/udp_server.c - UDP request/response: every datagram is answered
 * with the same bytes in upper case, sent back to whoever sent it.
 *
 * usage: udp_server [ADDR]       (default 127.0.0.1:7002; port 0 picks one)
 *
 * Prints "listening on ADDR" once ready; stops on SIGINT/SIGTERM.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>

#include <sockit/sockit.h>

static void on_recv(sk_dgram *d, const uint8_t *p, size_t n,
		    const struct sk_addr *from, void *ud)
{
	uint8_t reply[65536];
	if (n > sizeof reply)
		n = sizeof reply;
	for (size_t i = 0; i < n; i++)
		reply[i] = (uint8_t)toupper(p[i]);
	/* Datagrams are not queued: a full socket buffer (SK_EAGAIN) drops
	 * the reply, as UDP would anyway; the client retries. */
	int r = sk_dgram_send(d, reply, n, from);
	if (r < 0 && r != SK_EAGAIN)
		fprintf(stderr, "udp_server: send: %s\n", sk_strerror(r));
}

static void on_error(sk_dgram *d, int err, void *ud)
{
	fprintf(stderr, "udp_server: %s\n", sk_strerror(err));
}

static void on_signal(sk_signal *s, int signum, void *ud)
{
	sk_loop_stop(ud);
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7002";
	sk_loop *loop = NULL;
	sk_dgram *d;
	sk_signal *s1, *s2;
	struct sk_addr bound;
	char text[SK_ADDR_STRLEN];
	int r = sk_loop_new(&loop, NULL);
	if (r < 0 || (r = sk_dgram_open(loop, addr, NULL, on_recv, NULL, &d)) < 0 ||
	    (r = sk_signal_new(loop, SIGINT, on_signal, loop, &s1)) < 0 ||
	    (r = sk_signal_new(loop, SIGTERM, on_signal, loop, &s2)) < 0) {
		fprintf(stderr, "udp_server: %s: %s\n", addr, sk_strerror(r));
		if (loop)
			sk_loop_free(loop);
		return 1;
	}
	sk_dgram_on_error(d, on_error);
	if (sk_dgram_local(d, &bound) == 0 && sk_addr_format(&bound, text, sizeof text) > 0)
		printf("listening on %s\n", text);
	fflush(stdout);
	r = sk_loop_run(loop);
	sk_loop_free(loop);
	return r < 0;
}
