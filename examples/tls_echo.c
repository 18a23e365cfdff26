/*
 * examples/tls_echo.c - TLS echo server, and a client for it.
 *
 * usage: tls_echo [ADDR] [--cert-out FILE]      server (default 127.0.0.1:7003)
 *        tls_echo --client ADDR [--ca FILE] [LINE...]
 *
 * The server makes a fresh self-signed certificate for "localhost" (and
 * 127.0.0.1, ::1) at start; with --cert-out it also writes it to FILE (key
 * in FILE.key) so a client can trust it.  The client verifies the server
 * against --ca FILE, or without --ca turns verification off, explicitly.
 * It sends the LINEs ("hello" by default) and prints the echoes.
 */
#include <stdio.h>
#include <string.h>

#include <sockit/sockit.h>

static int status = 1;
static int want; /* client: lines still to come back */

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct sk_slice line;
	size_t used;
	if (!ud) { /* server: echo */
		sk_conn_write_buf(c, in);
		return;
	}
	while (sk_buf_line(in, 4096, &line, &used) > 0) {
		printf("%.*s\n", (int)line.n, (const char *)line.p);
		sk_buf_consume(in, used);
		if (--want == 0) {
			status = 0;
			sk_conn_close(c);
			return;
		}
	}
}

static void on_open(sk_conn *c, void *ud) /* client: handshake done */
{
	if (sk_conn_write_buf(c, ud) < 0)
		sk_conn_close(c);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	char why[256]; /* a certificate failure says why, e.g. self-signed */
	if (err != 0 && err != SK_EOF)
		fprintf(stderr, "tls_echo: %s\n", sk_conn_error_string(c, err, why, sizeof why));
	if (ud)
		sk_loop_stop(sk_conn_loop(c));
}

static const struct sk_conn_cbs cbs = {
	.on_open = on_open, .on_read = on_read, .on_close = on_close};

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &cbs, NULL);
}

/* Server: a fresh self-signed certificate, kept in memory or (--cert-out)
 * written out too.  Client: trust --ca, or nothing checked without it. */
static int make_ctx(sk_tls_ctx **ctx, int client, const char *cert, const char *ca)
{
	struct sk_tls_opts o = {.ca_file = ca, .insecure = client && !ca};
	char key[4096];
	int r = 0;
	if (cert) {
		snprintf(key, sizeof key, "%s.key", cert);
		r = sk_tls_write_selfsigned("localhost", cert, key, 1);
		o.cert_file = cert;
		o.key_file = key;
	}
	if (r >= 0)
		r = sk_tls_ctx_new(ctx, client ? SK_TLS_CLIENT : SK_TLS_SERVER, &o);
	if (r >= 0 && !client && !cert)
		r = sk_tls_ctx_use_selfsigned(*ctx, "localhost");
	return r;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:7003", *cert = NULL, *ca = NULL;
	int client = 0, r = 0;
	struct sk_buf lines = SK_BUF_INIT(1 << 20);
	sk_tls_ctx *ctx = NULL;
	sk_loop *loop = NULL;
	sk_listener *l;
	sk_conn *c;

	for (int i = 1, pos = 0; i < argc && r >= 0; i++) {
		if (strcmp(argv[i], "--client") == 0)
			client = 1;
		else if (strcmp(argv[i], "--cert-out") == 0 && i + 1 < argc)
			cert = argv[++i];
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (pos++ == 0)
			addr = argv[i];
		else if ((r = sk_buf_appendf(&lines, "%s\n", argv[i])) >= 0)
			want++;
	}
	if (r >= 0 && client && want == 0 && (r = sk_buf_append_str(&lines, "hello\n")) >= 0)
		want = 1;
	if (r >= 0 && (r = make_ctx(&ctx, client, cert, ca)) >= 0)
		r = sk_loop_new(&loop, NULL);
	if (r >= 0 && client) {
		struct sk_conn_opts co = {.tls = ctx};
		r = sk_connect(loop, addr, &co, &cbs, &lines, &c);
	} else if (r >= 0) {
		struct sk_listen_opts lo = {.tls = ctx};
		struct sk_addr bound;
		char text[SK_ADDR_STRLEN];
		r = sk_listen(loop, addr, &lo, on_accept, NULL, &l);
		if (r >= 0 && sk_listener_addr(l, &bound) == 0 &&
		    sk_addr_format(&bound, text, sizeof text) > 0)
			printf("listening on %s\n", text);
		fflush(stdout);
	}
	if (r < 0)
		fprintf(stderr, "tls_echo: %s: %s %s\n", addr, sk_strerror(r), sk_tls_last_error());
	else if (sk_loop_run(loop) == 0 && !client)
		status = 0;
	if (loop)
		sk_loop_free(loop);
	if (ctx)
		sk_tls_ctx_free(ctx);
	sk_buf_free(&lines);
	return status;
}
