/*
 * examples/ipc_server.c - answer questions over a Unix stream socket, one
 * line each: "time", "add A B", "ping"; anything else gets "error: ...".
 *
 * usage: ipc_server [unix:/path]     (default unix:/tmp/sockit-ipc.sock)
 *
 * Prints "listening on unix:/path" once ready; stops on SIGINT/SIGTERM
 * and removes the socket file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sockit/sockit.h>

static void answer(sk_conn *c, const char *q)
{
	long long a, b;
	char end;
	if (strcmp(q, "ping") == 0) {
		sk_conn_printf(c, "pong\n");
	} else if (strcmp(q, "time") == 0) {
		char ts[64];
		time_t now = time(NULL);
		struct tm tm;
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
		sk_conn_printf(c, "%s\n", ts);
	} else if (sscanf(q, "add %lld %lld %c", &a, &b, &end) == 2) {
		sk_conn_printf(c, "%lld\n", a + b);
	} else {
		sk_conn_printf(c, "error: unknown question '%s'\n", q);
	}
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct sk_slice line;
	size_t used;
	char q[256];
	int r;
	while ((r = sk_buf_line(in, sizeof q - 1, &line, &used)) > 0) {
		memcpy(q, line.p, line.n); /* as a C string for sscanf */
		q[line.n] = '\0';
		sk_buf_consume(in, used);
		answer(c, q);
	}
	if (r < 0) {
		sk_conn_printf(c, "error: %s\n", sk_strerror(r));
		sk_conn_close(c);
	}
}

static const struct sk_conn_cbs cbs = {.on_read = on_read};

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &cbs, NULL);
}

static void on_signal(sk_signal *s, int signum, void *ud)
{
	sk_loop_stop(ud);
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "unix:/tmp/sockit-ipc.sock";
	sk_loop *loop = NULL;
	sk_listener *l;
	sk_signal *s1, *s2;
	int r = sk_loop_new(&loop, NULL);
	if (r < 0 || (r = sk_listen(loop, addr, NULL, on_accept, NULL, &l)) < 0 ||
	    (r = sk_signal_new(loop, SIGINT, on_signal, loop, &s1)) < 0 ||
	    (r = sk_signal_new(loop, SIGTERM, on_signal, loop, &s2)) < 0) {
		fprintf(stderr, "ipc_server: %s: %s\n", addr, sk_strerror(r));
		if (loop)
			sk_loop_free(loop);
		return 1;
	}
	printf("listening on %s\n", addr);
	fflush(stdout);
	r = sk_loop_run(loop);
	sk_loop_free(loop);
	if (strncmp(addr, "unix:/", 6) == 0)
		unlink(addr + 5); /* a path socket outlives its listener */
	return r < 0;
}
