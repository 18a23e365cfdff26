/*
 * examples/echo_client.c - send lines to an echo server, print the echoes.
 *
 * usage: echo_client [ADDR] [LINE...]     (default 127.0.0.1:7000)
 *
 * Sends each LINE, or every line of standard input when there are none,
 * prints each echoed line and exits once all have come back (exit 0), on
 * an error or after 10 s (exit 1).
 */
#include <stdio.h>
#include <string.h>

#include <sockit/sockit.h>

struct client {
	struct sk_buf out; /* the lines to send */
	size_t want, got;  /* lines sent and echoed */
	int status;
};

static void on_open(sk_conn *c, void *ud)
{
	struct client *cl = ud;
	if (cl->want == 0) { /* nothing to send: done */
		cl->status = 0;
		sk_conn_close(c);
	} else if (sk_conn_write_buf(c, &cl->out) < 0) {
		sk_conn_close(c); /* on_close will tell why */
	}
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct client *cl = ud;
	struct sk_slice line;
	size_t used;
	int r;
	while ((r = sk_buf_line(in, 64 * 1024, &line, &used)) > 0) {
		printf("%.*s\n", (int)line.n, (const char *)line.p);
		sk_buf_consume(in, used);
		if (++cl->got == cl->want) {
			cl->status = 0;
			sk_conn_close(c);
			return;
		}
	}
	if (r < 0)
		sk_conn_abort(c);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	char why[256];
	if (err != 0)
		fprintf(stderr, "echo_client: %s\n",
			sk_conn_error_string(c, err, why, sizeof why));
	fflush(stdout);
	sk_loop_stop(sk_conn_loop(c));
}

static void on_timeout(sk_timer *t, void *ud)
{
	fprintf(stderr, "echo_client: timed out\n");
	sk_loop_stop(ud);
}

static const struct sk_conn_cbs cbs = {
	.on_open = on_open, .on_read = on_read, .on_close = on_close};

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7000";
	struct client cl = {.out = SK_BUF_INIT(16 << 20), .status = 1};
	char line[4096];
	int r = 0;

	/* Read everything first: this works the same for files, pipes and
	 * terminals (a regular file cannot be watched by epoll). */
	for (int i = 2; i < argc && r >= 0; i++, cl.want++)
		r = sk_buf_appendf(&cl.out, "%s\n", argv[i]);
	while (argc <= 2 && r >= 0 && fgets(line, sizeof line, stdin))
		if ((r = sk_buf_appendf(&cl.out, "%s", line)) >= 0 &&
		    line[strcspn(line, "\n")] == '\n')
			cl.want++;
	size_t n = sk_buf_len(&cl.out); /* the server echoes whole lines */
	if (r >= 0 && n > 0 && sk_buf_data(&cl.out)[n - 1] != '\n' &&
	    (r = sk_buf_append(&cl.out, "\n", 1)) >= 0)
		cl.want++;

	sk_loop *loop = NULL;
	sk_timer *t;
	sk_conn *c;
	if (r < 0 || (r = sk_loop_new(&loop, NULL)) < 0 ||
	    (r = sk_timer_new(loop, on_timeout, loop, &t)) < 0 ||
	    (r = sk_connect(loop, addr, NULL, &cbs, &cl, &c)) < 0) {
		fprintf(stderr, "echo_client: %s: %s\n", addr, sk_strerror(r));
		cl.status = 1;
	} else {
		sk_timer_start(t, 10000, 0);
		sk_loop_run(loop);
	}
	if (loop)
		sk_loop_free(loop);
	sk_buf_free(&cl.out);
	return cl.status;
}
