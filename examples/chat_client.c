/*
 * examples/chat_client.c - a terminal for chat_server: standard input goes
 * to the server, whatever the server sends is printed.
 *
 * usage: chat_client [ADDR]      (default 127.0.0.1:7001)
 *
 * Standard input must be a terminal or a pipe (it is watched by the loop).
 * End of input closes the connection gracefully and the program exits.
 */
#include <stdio.h>
#include <unistd.h>

#include <sockit/sockit.h>

static sk_conn *conn;
static sk_io *input;
static int status = 1;

static void on_stdin(sk_io *io, unsigned revents, void *ud)
{
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
	if (n > 0 && sk_conn_write(conn, buf, (size_t)n) == 0)
		return;
	/* End of input (or an error): stop watching, send what is queued,
	 * then close; on_close ends the program. */
	sk_io_free(io);
	input = NULL;
	sk_conn_close(conn);
}

static void on_open(sk_conn *c, void *ud)
{
	int r = sk_io_new(sk_conn_loop(c), STDIN_FILENO, SK_READ, on_stdin, NULL, &input);
	if (r < 0) {
		fprintf(stderr, "chat_client: watching stdin: %s\n", sk_strerror(r));
		sk_conn_close(c);
	}
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	/* Print whole lines only, so output never mixes half lines. */
	struct sk_slice line;
	size_t used;
	while (sk_buf_line(in, 64 * 1024, &line, &used) > 0) {
		printf("%.*s\n", (int)line.n, (const char *)line.p);
		sk_buf_consume(in, used);
	}
	fflush(stdout);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	char why[256];
	status = err == 0 || err == SK_EOF ? 0 : 1;
	if (status)
		fprintf(stderr, "chat_client: %s\n", sk_conn_error_string(c, err, why, sizeof why));
	if (input)
		sk_io_free(input);
	input = NULL;
	conn = NULL;
}

static const struct sk_conn_cbs cbs = {
	.on_open = on_open, .on_read = on_read, .on_close = on_close};

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7001";
	sk_loop *loop = NULL;
	int r = sk_loop_new(&loop, NULL);
	if (r < 0 || (r = sk_connect(loop, addr, NULL, &cbs, NULL, &conn)) < 0) {
		fprintf(stderr, "chat_client: %s: %s\n", addr, sk_strerror(r));
		if (loop)
			sk_loop_free(loop);
		return 1;
	}
	/* Runs until the connection is gone and stdin is no longer watched. */
	r = sk_loop_run(loop);
	sk_loop_free(loop);
	return r < 0 ? 1 : status;
}
