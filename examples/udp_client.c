/*
 * examples/udp_client.c - send one datagram, wait for the answer.
 *
 * usage: udp_client [ADDR] [MESSAGE]   (default 127.0.0.1:7002 "hello")
 *
 * UDP may lose datagrams, so the request is sent again every 500 ms, up to
 * 4 times; the reply is printed (exit 0), or "no reply" after that (exit 1).
 */
#include <stdio.h>
#include <string.h>

#include <sockit/sockit.h>

#define RETRY_MS 500
#define TRIES 4

struct req {
	const char *msg;
	int tries;
	int status;
	sk_dgram *d;
	sk_loop *loop;
};

static void on_recv(sk_dgram *d, const uint8_t *p, size_t n,
		    const struct sk_addr *from, void *ud)
{
	struct req *q = ud;
	printf("%.*s\n", (int)n, (const char *)p);
	q->status = 0;
	sk_loop_stop(q->loop);
}

static void on_error(sk_dgram *d, int err, void *ud)
{
	/* e.g. SK_ECONNREFUSED: nobody listens there (ICMP port unreachable) */
	struct req *q = ud;
	fprintf(stderr, "udp_client: %s\n", sk_strerror(err));
	sk_loop_stop(q->loop);
}

static void on_timer(sk_timer *t, void *ud)
{
	struct req *q = ud;
	if (q->tries++ == TRIES) {
		fprintf(stderr, "udp_client: no reply after %d tries\n", TRIES);
		sk_loop_stop(q->loop);
		return;
	}
	/* NULL: to the connected peer */
	int r = sk_dgram_send(q->d, q->msg, strlen(q->msg), NULL);
	if (r < 0 && r != SK_EAGAIN)
		fprintf(stderr, "udp_client: send: %s\n", sk_strerror(r));
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7002";
	struct req q = {.msg = argc > 2 ? argv[2] : "hello", .status = 1};
	struct sk_dgram_opts o = {0};
	struct sk_addr to;
	sk_timer *t;

	int r = sk_addr_parse(addr, &to); /* numeric addresses only */
	if (r == 0) {
		o.family = sk_addr_family(&to);
		r = sk_loop_new(&q.loop, NULL);
	}
	if (r < 0 || (r = sk_dgram_open(q.loop, NULL, &o, on_recv, &q, &q.d)) < 0 ||
	    (r = sk_dgram_connect(q.d, &to)) < 0 ||
	    (r = sk_timer_new(q.loop, on_timer, &q, &t)) < 0) {
		fprintf(stderr, "udp_client: %s: %s\n", addr, sk_strerror(r));
	} else {
		sk_dgram_on_error(q.d, on_error);
		sk_timer_start(t, 0, RETRY_MS); /* first send now, then retries */
		sk_loop_run(q.loop);
	}
	if (q.loop)
		sk_loop_free(q.loop);
	return q.status;
}
