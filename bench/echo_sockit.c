/*
 * bench/echo_sockit.c - single-threaded sockit echo server for the
 * bench/loop yardstick (../shared/bench/loop), the counterpart of its
 * echo_uv.c / echo_ev.c / echo_epoll.c.
 *
 * usage: echo_sockit PORT        (binds 127.0.0.1:PORT only)
 *
 * The loop backend is the default one, or SOCKIT_BACKEND=uring|epoll|poll.
 * TCP_NODELAY is the library default.  Input is handed over to the output
 * queue with sk_conn_write_buf (no copy when the queue is empty); while
 * the queue is above its high-water mark reading stops, and resumes in
 * on_drain: the same backpressure as the libuv server.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <sockit/sockit.h>

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	if (sk_conn_write_buf(c, in) < 0)
		return; /* closing; on_close follows */
	if (sk_conn_congested(c))
		sk_conn_read_stop(c);
}

static void on_drain(sk_conn *c, void *ud)
{
	sk_conn_read_start(c);
}

static const struct sk_conn_cbs cbs = {.on_read = on_read, .on_drain = on_drain};

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &cbs, NULL);
}

static void on_listen_error(sk_listener *l, int err, void *ud)
{
	fprintf(stderr, "echo_sockit: accept: %s\n", sk_strerror(err));
}

static void on_signal(sk_signal *s, int signum, void *ud)
{
	sk_loop_stop(ud);
}

int main(int argc, char **argv)
{
	char addr[32];
	char *end;
	unsigned long port = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
	if (argc != 2 || *end != '\0' || port == 0 || port > 65535) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	snprintf(addr, sizeof addr, "127.0.0.1:%lu", port);
	/* The idle case holds 10000 connections: raise the soft fd limit to
	 * the hard one, as echo_epoll does. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	sk_loop *loop = NULL;
	sk_listener *l;
	sk_signal *s;
	struct sk_listen_opts lo = {.backlog = 4096}; /* as the other servers */
	int r = sk_loop_new(&loop, NULL);
	if (r < 0 || (r = sk_listen(loop, addr, &lo, on_accept, NULL, &l)) < 0 ||
	    (r = sk_signal_new(loop, SIGTERM, on_signal, loop, &s)) < 0) {
		fprintf(stderr, "echo_sockit: %s: %s\n", addr, sk_strerror(r));
		if (loop)
			sk_loop_free(loop);
		return 1;
	}
	sk_listener_on_error(l, on_listen_error);
	fprintf(stderr, "echo_sockit: %s on %s\n", sk_loop_backend(loop), addr);
	r = sk_loop_run(loop);
	sk_loop_free(loop);
	if (r < 0) {
		fprintf(stderr, "echo_sockit: %s\n", sk_strerror(r));
		return 1;
	}
	return 0;
}
