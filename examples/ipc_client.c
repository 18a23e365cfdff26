/*
 * examples/ipc_client.c - ask ipc_server one question, print the answer.
 *
 * usage: ipc_client [unix:/path] [QUESTION...]
 *        (default unix:/tmp/sockit-ipc.sock, question "time";
 *        the words of QUESTION are joined by spaces: ipc_client S add 2 3)
 *
 * Exit 0 with the answer on stdout, 1 on error or after 5 s.
 */
#include <stdio.h>

#include <sockit/sockit.h>

static int status = 1;

static void on_open(sk_conn *c, void *ud)
{
	if (sk_conn_write_buf(c, ud) < 0) /* the question, "...\n" */
		sk_conn_close(c);
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct sk_slice line;
	size_t used;
	if (sk_buf_line(in, 4096, &line, &used) > 0) {
		printf("%.*s\n", (int)line.n, (const char *)line.p);
		sk_buf_consume(in, used);
		status = 0;
		sk_conn_close(c); /* one question, one answer */
	}
}

static void on_close(sk_conn *c, int err, void *ud)
{
	char why[256];
	if (err != 0)
		fprintf(stderr, "ipc_client: %s\n", sk_conn_error_string(c, err, why, sizeof why));
	sk_loop_stop(sk_conn_loop(c));
}

static void on_timeout(sk_timer *t, void *ud)
{
	fprintf(stderr, "ipc_client: no answer\n");
	sk_loop_stop(ud);
}

static const struct sk_conn_cbs cbs = {
	.on_open = on_open, .on_read = on_read, .on_close = on_close};

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "unix:/tmp/sockit-ipc.sock";
	struct sk_buf q = SK_BUF_INIT(4096);
	sk_loop *loop = NULL;
	sk_timer *t;
	sk_conn *c;
	int r = 0;

	for (int i = 2; i < argc && r >= 0; i++)
		r = sk_buf_appendf(&q, "%s%s", i > 2 ? " " : "", argv[i]);
	if (r >= 0)
		r = sk_buf_append_str(&q, argc > 2 ? "\n" : "time\n");
	if (r < 0 || (r = sk_loop_new(&loop, NULL)) < 0 ||
	    (r = sk_timer_new(loop, on_timeout, loop, &t)) < 0 ||
	    (r = sk_connect(loop, addr, NULL, &cbs, &q, &c)) < 0) {
		fprintf(stderr, "ipc_client: %s: %s\n", addr, sk_strerror(r));
	} else {
		sk_timer_start(t, 5000, 0);
		sk_loop_run(loop);
	}
	if (loop)
		sk_loop_free(loop);
	sk_buf_free(&q);
	return status;
}
