/*
 * examples/echo_server.c - TCP echo server with backpressure.
 *
 * usage: echo_server [ADDR]      (default 127.0.0.1:7000; port 0 picks one)
 *
 * Prints "listening on ADDR" once ready.  Stops on SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>

#include <sockit/sockit.h>

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	/* Queue everything that arrived; the library sends it as it can. */
	if (sk_conn_write_buf(c, in) < 0)
		return; /* the connection is closing; on_close will say why */
	/* A peer that sends faster than it reads must not make us buffer
	 * without bound: stop reading until the queue drains. */
	if (sk_conn_congested(c))
		sk_conn_read_stop(c);
}

static void on_drain(sk_conn *c, void *ud)
{
	sk_conn_read_start(c);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	char why[256];
	if (err != 0 && err != SK_EOF)
		fprintf(stderr, "echo_server: %s\n",
			sk_conn_error_string(c, err, why, sizeof why));
}

static const struct sk_conn_cbs echo_cbs = {
	.on_read = on_read, .on_drain = on_drain, .on_close = on_close};

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &echo_cbs, NULL);
}

static void on_signal(sk_signal *s, int signum, void *ud)
{
	sk_loop_stop(ud);
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7000";
	sk_loop *loop = NULL;
	sk_listener *l;
	sk_signal *sint, *sterm;
	struct sk_addr bound;
	char text[SK_ADDR_STRLEN];

	int r = sk_loop_new(&loop, NULL);
	if (r < 0) {
		fprintf(stderr, "echo_server: loop: %s\n", sk_strerror(r));
		return 1;
	}
	r = sk_listen(loop, addr, NULL, on_accept, NULL, &l);
	if (r < 0) {
		fprintf(stderr, "echo_server: listen on %s: %s\n", addr, sk_strerror(r));
		sk_loop_free(loop);
		return 1;
	}
	if ((r = sk_signal_new(loop, SIGINT, on_signal, loop, &sint)) < 0 ||
	    (r = sk_signal_new(loop, SIGTERM, on_signal, loop, &sterm)) < 0) {
		fprintf(stderr, "echo_server: signals: %s\n", sk_strerror(r));
		sk_loop_free(loop);
		return 1;
	}
	if (sk_listener_addr(l, &bound) == 0 &&
	    sk_addr_format(&bound, text, sizeof text) > 0)
		printf("listening on %s\n", text);
	fflush(stdout);

	r = sk_loop_run(loop);
	sk_loop_free(loop); /* closes the listener and any connections */
	if (r < 0) {
		fprintf(stderr, "echo_server: %s\n", sk_strerror(r));
		return 1;
	}
	return 0;
}
