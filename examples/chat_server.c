/*
 * examples/chat_server.c - line-based chat: every line a client sends goes
 * to all the OTHER clients as "ADDR: line".
 *
 * usage: chat_server [ADDR]      (default 127.0.0.1:7001; port 0 picks one)
 *
 * A new client is greeted with "* welcome ADDR" (its own address) and the
 * others hear "* ADDR joined" / "* ADDR left".  Try it with chat_client.
 * Stops on SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <sockit/sockit.h>

#define MAX_LINE 1024

struct client {
	sk_conn *c;
	char name[SK_ADDR_STRLEN];
	struct client *next, **pprev; /* everyone, newest first */
};

static struct client *clients;

/* Send msg to everyone but `from` (NULL: everyone). */
static void broadcast(const struct client *from, const char *msg, int n)
{
	for (struct client *o = clients; o; o = o->next)
		if (o != from && n > 0)
			sk_conn_write(o->c, msg, (size_t)n);
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct client *cl = ud;
	struct sk_slice line;
	size_t used;
	char msg[SK_ADDR_STRLEN + MAX_LINE + 4];
	int r;
	while ((r = sk_buf_line(in, MAX_LINE, &line, &used)) > 0) {
		int n = snprintf(msg, sizeof msg, "%s: %.*s\n", cl->name,
				 (int)line.n, (const char *)line.p);
		broadcast(cl, msg, n);
		sk_buf_consume(in, used);
	}
	if (r < 0) { /* a line over MAX_LINE: say so and drop the client */
		sk_conn_printf(c, "* error: %s\n", sk_strerror(r));
		sk_conn_close(c);
	}
}

static void on_close(sk_conn *c, int err, void *ud)
{
	struct client *cl = ud;
	char msg[SK_ADDR_STRLEN + 16];
	*cl->pprev = cl->next; /* unlink first: no messages to a closed client */
	if (cl->next)
		cl->next->pprev = cl->pprev;
	broadcast(NULL, msg, snprintf(msg, sizeof msg, "* %s left\n", cl->name));
	free(cl);
}

static const struct sk_conn_cbs chat_cbs = {.on_read = on_read, .on_close = on_close};

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct client *cl = calloc(1, sizeof *cl);
	char msg[SK_ADDR_STRLEN + 16];
	if (!cl) {
		sk_conn_abort(c);
		return;
	}
	cl->c = c;
	snprintf(cl->name, sizeof cl->name, "%s", sk_conn_peer_str(c));
	sk_conn_set_cbs(c, &chat_cbs, cl);
	broadcast(NULL, msg, snprintf(msg, sizeof msg, "* %s joined\n", cl->name));
	sk_conn_printf(c, "* welcome %s\n", cl->name);
	cl->next = clients; /* add at the head */
	if (clients)
		clients->pprev = &cl->next;
	cl->pprev = &clients;
	clients = cl;
}

static void on_signal(sk_signal *s, int signum, void *ud)
{
	sk_loop_stop(ud);
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7001";
	sk_loop *loop = NULL;
	sk_listener *l;
	sk_signal *s1, *s2;
	struct sk_addr bound;
	char text[SK_ADDR_STRLEN];
	int r = sk_loop_new(&loop, NULL);
	if (r < 0 || (r = sk_listen(loop, addr, NULL, on_accept, NULL, &l)) < 0 ||
	    (r = sk_signal_new(loop, SIGINT, on_signal, loop, &s1)) < 0 ||
	    (r = sk_signal_new(loop, SIGTERM, on_signal, loop, &s2)) < 0) {
		fprintf(stderr, "chat_server: %s: %s\n", addr, sk_strerror(r));
		if (loop)
			sk_loop_free(loop);
		return 1;
	}
	if (sk_listener_addr(l, &bound) == 0 && sk_addr_format(&bound, text, sizeof text) > 0)
		printf("listening on %s\n", text);
	fflush(stdout);
	r = sk_loop_run(loop);
	sk_loop_free(loop); /* closes everything without callbacks: */
	while (clients) {   /* our client records are ours to free */
		struct client *next = clients->next;
		free(clients);
		clients = next;
	}
	return r < 0;
}
