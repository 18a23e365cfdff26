/*
 * tests/integration/test_tls.c - TLS over loopback TCP on every backend:
 * handshake and a byte-exact echo, certificate and host name failures,
 * ALPN, close_notify, and the context helpers' errors.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

#define ECHO_TOTAL (256 * 1024 + 123)
#define BLAST_MAX (300 * 1000)

/* A temporary directory with a self-signed "localhost" certificate. */
struct certdir {
	char dir[64];
	char cert[128];
	char key[128];
};

static void certdir_make(struct certdir *d)
{
	snprintf(d->dir, sizeof d->dir, "/tmp/sk_tls_XXXXXX");
	ASSERT(mkdtemp(d->dir) != NULL);
	snprintf(d->cert, sizeof d->cert, "%s/cert.pem", d->dir);
	snprintf(d->key, sizeof d->key, "%s/key.pem", d->dir);
	int r = sk_tls_write_selfsigned("localhost", d->cert, d->key, 2);
	if (r < 0)
		FAIL("sk_tls_write_selfsigned: %s: %s", sk_strerror(r),
		     sk_tls_last_error());
}

static void certdir_remove(struct certdir *d)
{
	unlink(d->cert);
	unlink(d->key);
	rmdir(d->dir);
}

static sk_tls_ctx *server_ctx_files(const struct certdir *d, const char *alpn)
{
	struct sk_tls_opts o = {.cert_file = d->cert, .key_file = d->key,
				.alpn = alpn};
	sk_tls_ctx *ctx = NULL;
	int r = sk_tls_ctx_new(&ctx, SK_TLS_SERVER, &o);
	if (r < 0)
		FAIL("server ctx: %s: %s", sk_strerror(r), sk_tls_last_error());
	return ctx;
}

static sk_tls_ctx *client_ctx_trusting(const struct certdir *d,
				       const char *alpn)
{
	struct sk_tls_opts o = {.alpn = alpn};
	sk_tls_ctx *ctx = NULL;
	ASSERT_OK(sk_tls_ctx_new(&ctx, SK_TLS_CLIENT, &o));
	int r = sk_tls_ctx_trust_file(ctx, d->cert);
	if (r < 0)
		FAIL("trust_file: %s: %s", sk_strerror(r), sk_tls_last_error());
	return ctx;
}

/* ---- a TLS echo server ------------------------------------------------------ */

struct server {
	sk_listener *l;
	int accepted;
	int closed;
	int last_err;
	int alpn_sockit;   /* accepted with "x-sockit" negotiated */
	bool bye;          /* on accept: say "bye" and close gracefully */
	const uint8_t *blast; /* on accept: send these blast_len bytes */
	size_t blast_len;
};

static void srv_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	(void)ud;
	if (sk_conn_write(c, sk_buf_data(in), sk_buf_len(in)) < 0)
		return;
	sk_buf_consume(in, sk_buf_len(in));
}

static void srv_close(sk_conn *c, int err, void *ud)
{
	struct server *s = ud;
	(void)c;
	s->closed++;
	s->last_err = err;
}

static const struct sk_conn_cbs srv_cbs = {
	.on_read = srv_read,
	.on_close = srv_close,
};

static void srv_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct server *s = ud;
	(void)l;
	s->accepted++;
	ASSERT(sk_conn_is_tls(c));
	const char *a = sk_conn_alpn(c);
	if (a && strcmp(a, "x-sockit") == 0)
		s->alpn_sockit++;
	sk_conn_set_cbs(c, &srv_cbs, s);
	if (s->bye) {
		ASSERT_OK(sk_conn_write(c, "bye", 3));
		sk_conn_close(c);
	}
	if (s->blast)
		ASSERT_OK(sk_conn_write(c, s->blast, s->blast_len));
}

static uint16_t server_start(sk_loop *loop, struct server *s, sk_tls_ctx *ctx)
{
	struct sk_listen_opts o = {.tls = ctx};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &o, srv_accept, s, &s->l));
	uint16_t port = sk_listener_port(s->l);
	ASSERT(port != 0);
	return port;
}

/* ---- a client --------------------------------------------------------------- */

struct client {
	sk_conn *c;
	uint8_t *want;     /* the bytes we sent, expected back */
	size_t sent;
	struct sk_buf got;
	int opened;
	int eof;
	volatile int done; /* on_close ran */
	int err;
	char detail[200];
	char errstr[300];
	char alpn[32];
	bool close_when_echoed;
	int pause_at_first;  /* 1: read_stop in the first on_read; 2: did */
};

/* Odd sizes around the 16 KiB record size and the 64 KiB read buffer. */
static const size_t chunk_sizes[] = {1, 7, 100, 1000, 4095, 16383, 16384,
				     16385, 40000, 65536, 65537, 3};

static void cli_send_rest(struct client *cl)
{
	for (size_t i = 0; cl->sent < ECHO_TOTAL; i++) {
		size_t n = chunk_sizes[i % (sizeof chunk_sizes /
					    sizeof chunk_sizes[0])];
		if (n > ECHO_TOTAL - cl->sent)
			n = ECHO_TOTAL - cl->sent;
		ASSERT_OK(sk_conn_write(cl->c, cl->want + cl->sent, n));
		cl->sent += n;
	}
}

static void cli_open(sk_conn *c, void *ud)
{
	struct client *cl = ud;
	const char *a = sk_conn_alpn(c);
	cl->opened++;
	ASSERT(sk_conn_is_tls(c));
	snprintf(cl->alpn, sizeof cl->alpn, "%s", a ? a : "");
	if (cl->want)
		cli_send_rest(cl);
}

static void cli_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct client *cl = ud;
	ASSERT_OK(sk_buf_append(&cl->got, sk_buf_data(in), sk_buf_len(in)));
	sk_buf_consume(in, sk_buf_len(in));
	if (cl->pause_at_first == 1) {
		cl->pause_at_first = 2;
		sk_conn_read_stop(c);
	}
	if (cl->close_when_echoed && sk_buf_len(&cl->got) >= ECHO_TOTAL)
		sk_conn_close(c);
}

static void cli_eof(sk_conn *c, void *ud)
{
	struct client *cl = ud;
	cl->eof++;
	sk_conn_close(c);
}

static void cli_close(sk_conn *c, int err, void *ud)
{
	struct client *cl = ud;
	cl->err = err;
	snprintf(cl->detail, sizeof cl->detail, "%s", sk_conn_error_detail(c));
	sk_conn_error_string(c, err, cl->errstr, sizeof cl->errstr);
	cl->done = 1;
}

static const struct sk_conn_cbs cli_cbs = {
	.on_open = cli_open,
	.on_read = cli_read,
	.on_eof = cli_eof,
	.on_close = cli_close,
};

static void client_connect(sk_loop *loop, struct client *cl, uint16_t port,
			   sk_tls_ctx *ctx, const char *sni)
{
	char addr[64];
	struct sk_conn_opts o = {.tls = ctx, .sni = sni};
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	sk_buf_init(&cl->got, 4u << 20);
	ASSERT_OK(sk_connect(loop, addr, &o, &cli_cbs, cl, &cl->c));
}

/* Let the loop finish what is left (server side closes) and free it. */
static void finish(sk_loop *loop, struct server *s)
{
	sk_listener_close(s->l);
	for (int i = 0; i < 40 && sk_loop_alive(loop) > 0; i++)
		ASSERT_OK(sk_loop_run_once(loop, 50));
	sk_loop_free(loop);
}

/* ---- tests ---------------------------------------------------------------------- */

TEST(tls_echo)
{
	struct certdir d;
	certdir_make(&d);
	sk_tls_ctx *sctx = server_ctx_files(&d, NULL);
	sk_tls_ctx *cctx = client_ctx_trusting(&d, NULL);
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct client cl = {0};
	uint16_t port = server_start(loop, &s, sctx);

	cl.want = malloc(ECHO_TOTAL);
	ASSERT(cl.want != NULL);
	for (size_t i = 0; i < ECHO_TOTAL; i++)
		cl.want[i] = (uint8_t)((i * 2654435761u) >> 13);
	cl.close_when_echoed = true;
	client_connect(loop, &cl, port, cctx, NULL);
	/* Written before the handshake is done: held and sent after it. */
	ASSERT_OK(sk_conn_write(cl.c, cl.want, 5000));
	cl.sent = 5000;
	test_run_until(loop, &cl.done, 20000);

	ASSERT_EQ(cl.err, 0);
	ASSERT_EQ(cl.opened, 1);
	ASSERT_EQ(s.accepted, 1);
	ASSERT_EQ(sk_buf_len(&cl.got), ECHO_TOTAL);
	ASSERT_MEMEQ(sk_buf_data(&cl.got), cl.want, ECHO_TOTAL);
	ASSERT_STREQ(cl.alpn, "");

	finish(loop, &s);
	sk_buf_free(&cl.got);
	free(cl.want);
	sk_tls_ctx_free(sctx);
	sk_tls_ctx_free(cctx);
	certdir_remove(&d);
}

/* Written and closed before the handshake: sent after it, then
 * close_notify; the program that closed it gets no on_open. */
struct tsink {
	struct sk_buf got;
	int eof, closed, err;
};
static void tsink_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct tsink *k = ud;
	ASSERT_OK(sk_buf_append(&k->got, sk_buf_data(in), sk_buf_len(in)));
	sk_buf_consume(in, sk_buf_len(in));
}
static void tsink_eof(sk_conn *c, void *ud)
{
	((struct tsink *)ud)->eof++;
	sk_conn_close(c);
}
static void tsink_close(sk_conn *c, int err, void *ud)
{
	struct tsink *k = ud;
	k->closed++;
	k->err = err;
}
static const struct sk_conn_cbs tsink_cbs = {
	.on_read = tsink_read, .on_eof = tsink_eof, .on_close = tsink_close};
static void tsink_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &tsink_cbs, ud);
}

struct tearly {
	int opened, closed, err;
};
static void tearly_open(sk_conn *c, void *ud) { ((struct tearly *)ud)->opened++; }
static void tearly_close(sk_conn *c, int err, void *ud)
{
	struct tearly *e = ud;
	e->closed++;
	e->err = err;
}
static const struct sk_conn_cbs tearly_cbs = {.on_open = tearly_open,
					      .on_close = tearly_close};

/* A TLS listener whose connections land in a tsink, and a client
 * context that trusts it. */
struct tfix {
	struct certdir d;
	sk_tls_ctx *sctx, *cctx;
	sk_loop *loop;
	sk_listener *l;
	struct tsink k;
	char addr[64];
};
static void tfix_start(struct tfix *f)
{
	memset(f, 0, sizeof *f);
	certdir_make(&f->d);
	f->sctx = server_ctx_files(&f->d, NULL);
	f->cctx = client_ctx_trusting(&f->d, NULL);
	f->loop = test_loop();
	sk_buf_init(&f->k.got, 1u << 20);
	struct sk_listen_opts lo = {.tls = f->sctx};
	ASSERT_OK(sk_listen(f->loop, "127.0.0.1:0", &lo, tsink_accept, &f->k, &f->l));
	snprintf(f->addr, sizeof f->addr, "127.0.0.1:%u", sk_listener_port(f->l));
}
static void tfix_stop(struct tfix *f)
{
	sk_listener_close(f->l);
	sk_loop_free(f->loop);
	sk_buf_free(&f->k.got);
	sk_tls_ctx_free(f->sctx);
	sk_tls_ctx_free(f->cctx);
	certdir_remove(&f->d);
}

TEST(tls_close_before_handshake_sends)
{
	struct tfix f;
	tfix_start(&f);
	struct sk_conn_opts o = {.tls = f.cctx};
	struct tearly e = {0};
	sk_conn *c;
	ASSERT_OK(sk_connect(f.loop, f.addr, &o, &tearly_cbs, &e, &c));
	ASSERT_OK(sk_conn_write(c, "sent after the handshake\n", 25));
	sk_conn_close(c);
	test_run_until(f.loop, &e.closed, 10000);
	test_run_until(f.loop, &f.k.closed, 10000);
	ASSERT_EQ(e.err, 0);
	ASSERT_EQ(e.opened, 0);
	ASSERT_EQ(f.k.eof, 1); /* close_notify, not a truncation */
	ASSERT_EQ(sk_buf_len(&f.k.got), 25);
	ASSERT_MEMEQ(sk_buf_data(&f.k.got), "sent after the handshake\n", 25);
	tfix_stop(&f);
}

/* sk_conn_write_file under TLS: no sendfile, the file goes through the
 * record layer a record's worth at a time, after the header. */
TEST(tls_write_file)
{
	char path[] = "/tmp/sk-tls-file.XXXXXX";
	int fd = mkstemp(path);
	ASSERT(fd >= 0);
	unlink(path);
	enum { N = 100000, OFF = 1000 }; /* several records, from an offset */
	static uint8_t data[OFF + N];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 131 + 7);
	ASSERT_EQ(write(fd, data, sizeof data), (ssize_t)sizeof data);
	struct tfix f;
	tfix_start(&f);
	struct sk_conn_opts o = {.tls = f.cctx};
	struct tearly e = {0};
	sk_conn *c;
	ASSERT_OK(sk_connect(f.loop, f.addr, &o, &tearly_cbs, &e, &c));
	ASSERT_OK(sk_conn_write_file(c, "HDR:", 4, fd, OFF, N));
	sk_conn_close(c);
	test_run_until(f.loop, &f.k.closed, 10000);
	test_run_until(f.loop, &e.closed, 10000);
	ASSERT_EQ(f.k.eof, 1);
	ASSERT_EQ(sk_buf_len(&f.k.got), 4 + N);
	ASSERT_MEMEQ(sk_buf_data(&f.k.got), "HDR:", 4);
	ASSERT_MEMEQ(sk_buf_data(&f.k.got) + 4, data + OFF, N);
	close(fd);
	tfix_stop(&f);
}

TEST(tls_untrusted_selfsigned)
{
	sk_tls_ctx *sctx = NULL, *cctx = NULL;
	ASSERT_OK(sk_tls_ctx_new(&sctx, SK_TLS_SERVER, NULL));
	ASSERT_OK(sk_tls_ctx_use_selfsigned(sctx, "localhost"));
	ASSERT_OK(sk_tls_ctx_new(&cctx, SK_TLS_CLIENT, NULL)); /* system trust */
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct client cl = {0};
	uint16_t port = server_start(loop, &s, sctx);
	char peer[64];

	client_connect(loop, &cl, port, cctx, NULL);
	test_run_until(loop, &cl.done, 10000);

	ASSERT_EQ(cl.err, SK_ECERT);
	ASSERT_EQ(cl.opened, 0);
	ASSERT_EQ(s.accepted, 0);
	if (!strstr(cl.detail, "self-signed") &&
	    !strstr(cl.detail, "self signed"))
		FAIL("detail \"%s\" does not say self-signed", cl.detail);
	snprintf(peer, sizeof peer, "127.0.0.1:%u", port);
	if (!strstr(cl.errstr, peer) || !strstr(cl.errstr, cl.detail))
		FAIL("error string \"%s\" lacks the peer or the detail",
		     cl.errstr);

	finish(loop, &s);
	sk_buf_free(&cl.got);
	sk_tls_ctx_free(sctx);
	sk_tls_ctx_free(cctx);
}

TEST(tls_hostname_mismatch)
{
	struct certdir d;
	certdir_make(&d);
	sk_tls_ctx *sctx = server_ctx_files(&d, NULL);
	sk_tls_ctx *cctx = client_ctx_trusting(&d, NULL);
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct client a = {0}, b = {0};
	uint16_t port = server_start(loop, &s, sctx);

	/* The same trusted certificate verifies for a name it carries ... */
	client_connect(loop, &a, port, cctx, "localhost");
	/* ... and not for one it does not. */
	client_connect(loop, &b, port, cctx, "wrong.example");
	test_run_until(loop, &b.done, 10000);
	ASSERT_EQ(b.err, SK_ECERT);
	ASSERT_EQ(b.opened, 0);
	if (!strstr(b.detail, "hostname mismatch"))
		FAIL("detail \"%s\" does not say hostname mismatch", b.detail);

	for (int i = 0; i < 400 && !a.opened && !a.done; i++)
		ASSERT_OK(sk_loop_run_once(loop, 50));
	ASSERT_EQ(a.opened, 1);
	sk_conn_close(a.c);
	test_run_until(loop, &a.done, 10000);
	ASSERT_EQ(a.err, 0);

	finish(loop, &s);
	sk_buf_free(&a.got);
	sk_buf_free(&b.got);
	sk_tls_ctx_free(sctx);
	sk_tls_ctx_free(cctx);
	certdir_remove(&d);
}

TEST(tls_alpn)
{
	struct certdir d;
	certdir_make(&d);
	sk_tls_ctx *sctx = server_ctx_files(&d, "h2, x-sockit");
	sk_tls_ctx *cctx = client_ctx_trusting(&d, "x-other,x-sockit");
	sk_tls_ctx *plain = client_ctx_trusting(&d, NULL);
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct client a = {0}, b = {0};
	uint16_t port = server_start(loop, &s, sctx);

	client_connect(loop, &a, port, cctx, NULL);
	client_connect(loop, &b, port, plain, NULL);
	/* TLS 1.3: the client is done one flight before the server is */
	for (int i = 0; i < 400 && !(a.opened && b.opened && s.accepted == 2);
	     i++)
		ASSERT_OK(sk_loop_run_once(loop, 50));
	ASSERT_EQ(a.opened, 1);
	ASSERT_EQ(b.opened, 1);
	ASSERT_STREQ(a.alpn, "x-sockit");
	ASSERT_STREQ(sk_conn_alpn(a.c), "x-sockit");
	ASSERT(sk_conn_alpn(b.c) == NULL); /* offered nothing: no protocol */
	ASSERT_EQ(s.accepted, 2);
	ASSERT_EQ(s.alpn_sockit, 1); /* the server agrees, for one of them */
	sk_conn_close(a.c);
	sk_conn_close(b.c);
	test_run_until(loop, &a.done, 10000);
	test_run_until(loop, &b.done, 10000);

	finish(loop, &s);
	sk_buf_free(&a.got);
	sk_buf_free(&b.got);
	sk_tls_ctx_free(sctx);
	sk_tls_ctx_free(cctx);
	sk_tls_ctx_free(plain);
	certdir_remove(&d);
}

/*
 * A plain relay between the client and the TLS server that passes bytes but
 * swallows the server's FIN, so the client can only see the end of the
 * stream through TLS close_notify.
 */
struct relay {
	sk_listener *l;
	uint16_t target;
	sk_conn *down, *up; /* client side, server side */
	int down_closed, up_closed;
	int up_eof;
};

static void relay_pipe(sk_conn *to, struct sk_buf *in)
{
	if (to && sk_conn_write(to, sk_buf_data(in), sk_buf_len(in)) < 0)
		FAIL("relay write failed");
	sk_buf_consume(in, sk_buf_len(in));
}

static void down_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct relay *r = ud;
	(void)c;
	relay_pipe(r->up, in);
}

static void up_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct relay *r = ud;
	(void)c;
	relay_pipe(r->down, in);
}

static void up_eof(sk_conn *c, void *ud)
{
	struct relay *r = ud;
	(void)c;
	r->up_eof++; /* not passed on */
}

static void down_eof(sk_conn *c, void *ud)
{
	(void)c;
	(void)ud;
}

static void down_close(sk_conn *c, int err, void *ud)
{
	struct relay *r = ud;
	(void)c;
	(void)err;
	r->down_closed = 1;
	r->down = NULL;
}

static void up_close(sk_conn *c, int err, void *ud)
{
	struct relay *r = ud;
	(void)c;
	(void)err;
	r->up_closed = 1;
	r->up = NULL;
}

static const struct sk_conn_cbs down_cbs = {
	.on_read = down_read, .on_eof = down_eof, .on_close = down_close};
static const struct sk_conn_cbs up_cbs = {
	.on_read = up_read, .on_eof = up_eof, .on_close = up_close};

static void relay_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct relay *r = ud;
	char addr[64];
	(void)l;
	ASSERT(r->down == NULL);
	r->down = c;
	sk_conn_set_cbs(c, &down_cbs, r);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", r->target);
	ASSERT_OK(sk_connect(sk_conn_loop(c), addr, NULL, &up_cbs, r, &r->up));
}

TEST(tls_close_notify)
{
	struct certdir d;
	certdir_make(&d);
	sk_tls_ctx *sctx = server_ctx_files(&d, NULL);
	sk_tls_ctx *cctx = client_ctx_trusting(&d, NULL);
	sk_loop *loop = test_loop();
	struct server s = {.bye = true};
	struct relay r = {0};
	struct client cl = {0};

	r.target = server_start(loop, &s, sctx);
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", NULL, relay_accept, &r, &r.l));
	client_connect(loop, &cl, sk_listener_port(r.l), cctx, "localhost");
	test_run_until(loop, &cl.done, 10000);

	/* The server wrote "bye" and closed gracefully; the relay kept the
	 * TCP stream open, yet the client saw the end: close_notify. */
	ASSERT_EQ(cl.opened, 1);
	ASSERT_EQ(sk_buf_len(&cl.got), 3);
	ASSERT_MEMEQ(sk_buf_data(&cl.got), "bye", 3);
	ASSERT(cl.eof == 1 || cl.err == SK_EOF);
	ASSERT(cl.err == 0 || cl.err == SK_EOF);
	ASSERT_EQ(s.closed, 1);
	ASSERT_EQ(s.last_err, 0);

	if (r.up)
		sk_conn_close(r.up);
	if (r.down)
		sk_conn_close(r.down);
	sk_listener_close(r.l);
	finish(loop, &s);
	sk_buf_free(&cl.got);
	sk_tls_ctx_free(sctx);
	sk_tls_ctx_free(cctx);
	certdir_remove(&d);
}

/*
 * Pausing in the middle of decrypted input leaves the rest (possibly still
 * ciphertext in the TLS layer) for sk_conn_read_start.  With a small total
 * everything has usually arrived in one read before the pause, so nothing
 * new from the socket can mask bytes stuck in the TLS layer.
 */
static void read_pause(size_t total)
{
	struct certdir d;
	certdir_make(&d);
	sk_tls_ctx *sctx = server_ctx_files(&d, NULL);
	sk_tls_ctx *cctx = client_ctx_trusting(&d, NULL);
	sk_loop *loop = test_loop();
	uint8_t *data = malloc(total);
	ASSERT(data != NULL && total <= BLAST_MAX);
	for (size_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i % 251);
	struct server s = {.blast = data, .blast_len = total};
	struct client cl = {.pause_at_first = 1};
	uint16_t port = server_start(loop, &s, sctx);

	client_connect(loop, &cl, port, cctx, NULL);
	for (int i = 0; i < 400 && cl.pause_at_first != 2 && !cl.done; i++)
		ASSERT_OK(sk_loop_run_once(loop, 50));
	ASSERT_EQ(cl.pause_at_first, 2);
	size_t first = sk_buf_len(&cl.got);
	ASSERT(first > 0 && first < total);
	/* Paused: nothing more arrives however long the loop runs. */
	for (int i = 0; i < 10; i++)
		ASSERT_OK(sk_loop_run_once(loop, 10));
	ASSERT_EQ(sk_buf_len(&cl.got), first);
	ASSERT_EQ(cl.done, 0);

	sk_conn_read_start(cl.c);
	for (int i = 0; i < 100 && sk_buf_len(&cl.got) < total && !cl.done; i++)
		ASSERT_OK(sk_loop_run_once(loop, 50));
	ASSERT_EQ(sk_buf_len(&cl.got), total);
	ASSERT_MEMEQ(sk_buf_data(&cl.got), data, total);
	sk_conn_close(cl.c);
	test_run_until(loop, &cl.done, 10000);
	ASSERT_EQ(cl.err, 0);

	finish(loop, &s);
	sk_buf_free(&cl.got);
	free(data);
	sk_tls_ctx_free(sctx);
	sk_tls_ctx_free(cctx);
	certdir_remove(&d);
}

TEST(tls_read_pause_small)
{
	read_pause(40000); /* three records, one socket read */
}

TEST(tls_read_pause_large)
{
	read_pause(BLAST_MAX);
}

/* ---- handshakes that cannot complete ------------------------------------------ */

struct plain {
	sk_listener *l;
	int accepted;
	volatile int done;
	int err, eof;
	struct sk_buf got;
};

static void plain_accept_close(sk_listener *l, sk_conn *c, void *ud)
{
	struct plain *p = ud;
	(void)l;
	p->accepted++;
	sk_conn_close(c); /* a peer that hangs up before any TLS */
}

static void plain_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct plain *p = ud;
	(void)c;
	ASSERT_OK(sk_buf_append(&p->got, sk_buf_data(in), sk_buf_len(in)));
	sk_buf_consume(in, sk_buf_len(in));
}

static void plain_close(sk_conn *c, int err, void *ud)
{
	struct plain *p = ud;
	(void)c;
	p->err = err;
	p->done = 1;
}

static void plain_open(sk_conn *c, void *ud)
{
	(void)ud;
	ASSERT_OK(sk_conn_write(c, "GET / HTTP/1.0\r\n\r\n", 18));
}

static const struct sk_conn_cbs plain_cbs = {
	.on_open = plain_open, .on_read = plain_read, .on_close = plain_close};

TEST(tls_handshake_failures)
{
	struct certdir d;
	certdir_make(&d);
	sk_tls_ctx *sctx = server_ctx_files(&d, NULL);
	sk_tls_ctx *cctx = client_ctx_trusting(&d, NULL);
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct plain hangup = {0}, junk = {0};
	struct client cl = {0};
	char addr[64];

	/* A TLS client whose peer closes mid-handshake: on_close with an
	 * error, and neither on_open nor on_eof. */
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", NULL, plain_accept_close,
			    &hangup, &hangup.l));
	client_connect(loop, &cl, sk_listener_port(hangup.l), cctx, NULL);
	test_run_until(loop, &cl.done, 10000);
	ASSERT_EQ(hangup.accepted, 1);
	ASSERT_EQ(cl.opened, 0);
	ASSERT_EQ(cl.eof, 0);
	ASSERT(cl.err < 0);

	/* A plain client speaking HTTP to a TLS listener: the server drops
	 * it right away (an alert, then close), and on_accept never runs. */
	uint16_t port = server_start(loop, &s, sctx);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	sk_buf_init(&junk.got, 1u << 16);
	sk_conn *jc = NULL;
	ASSERT_OK(sk_connect(loop, addr, NULL, &plain_cbs, &junk, &jc));
	test_run_until(loop, &junk.done, 5000); /* well before the hs timeout */
	ASSERT(junk.err == SK_EOF || junk.err == SK_ECONNRESET);
	ASSERT_EQ(s.accepted, 0);

	sk_listener_close(hangup.l);
	finish(loop, &s);
	sk_buf_free(&cl.got);
	sk_buf_free(&junk.got);
	sk_tls_ctx_free(sctx);
	sk_tls_ctx_free(cctx);
	certdir_remove(&d);
}

TEST(tls_ctx_errors)
{
	struct certdir d;
	struct stat st;
	sk_tls_ctx *ctx = NULL;

	certdir_make(&d);
	ASSERT_OK(stat(d.key, &st));
	ASSERT_EQ(st.st_mode & 0777, 0600);

	struct sk_tls_opts missing = {.cert_file = "/nonexistent/cert.pem"};
	ASSERT_EQ(sk_tls_ctx_new(&ctx, SK_TLS_SERVER, &missing), SK_ENOENT);
	ASSERT(ctx == NULL);
	ASSERT(strstr(sk_tls_last_error(), "/nonexistent/cert.pem") != NULL);

	/* a key that belongs to another certificate */
	struct certdir d2;
	certdir_make(&d2);
	struct sk_tls_opts mixed = {.cert_file = d.cert, .key_file = d2.key};
	ASSERT_EQ(sk_tls_ctx_new(&ctx, SK_TLS_SERVER, &mixed), SK_ETLS);
	ASSERT(sk_tls_last_error()[0] != '\0');

	struct sk_tls_opts badalpn = {.alpn = "h2,,x"};
	ASSERT_EQ(sk_tls_ctx_new(&ctx, SK_TLS_CLIENT, &badalpn), SK_EINVAL);
	ASSERT_EQ(sk_tls_ctx_new(&ctx, 7, NULL), SK_EINVAL);

	ASSERT_OK(sk_tls_ctx_new(&ctx, SK_TLS_CLIENT, NULL));
	ASSERT(sk_tls_ctx_trust_file(ctx, "/nonexistent.pem") < 0);
	ASSERT_OK(sk_tls_ctx_trust_file(ctx, d.cert));
	sk_tls_ctx_free(ctx);
	sk_tls_ctx_free(NULL);

	certdir_remove(&d);
	certdir_remove(&d2);
}

TEST_MAIN(TEST_ENTRY(tls_close_before_handshake_sends), TEST_ENTRY(tls_write_file), TEST_ENTRY(tls_echo), TEST_ENTRY(tls_untrusted_selfsigned),
	  TEST_ENTRY(tls_hostname_mismatch), TEST_ENTRY(tls_alpn),
	  TEST_ENTRY(tls_close_notify), TEST_ENTRY(tls_read_pause_small),
	  TEST_ENTRY(tls_read_pause_large),
	  TEST_ENTRY(tls_handshake_failures), TEST_ENTRY(tls_ctx_errors))
