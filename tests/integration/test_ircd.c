/*
 * tests/integration/test_ircd.c - `sockit ircd` as a process, driven by
 * scripted clients over loopback TCP, TLS and a Unix socket: registration,
 * channels, the abuse limits (flood, send queue, per-IP, global cap,
 * timeouts), SIGTERM and SIGHUP.
 *
 * Every server listens on 127.0.0.1:0 and reports its port on stderr
 * ("listening on 127.0.0.1:PORT"), which the test reads from a pipe.  The
 * child inherits SOCKIT_BACKEND, so this runs once per loop backend.
 * Needs SK_BIN (set by CTest); without it the test is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "test.h"

/* The server being tested, killed at exit if a check failed midway. */
static pid_t live_pid;

static void kill_live(void)
{
	if (live_pid > 0) {
		kill(live_pid, SIGKILL);
		waitpid(live_pid, NULL, 0);
	}
}

struct srv {
	pid_t pid;
	int errfd;             /* the child's stderr */
	int port, tls_port;
	char dir[64];
	char conf[128];
	char sock[128];
	char log[8192];
	size_t loglen;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read what the server logged so far (non-blocking after start). */
static void srv_drain(struct srv *s, int wait_ms)
{
	struct pollfd p = {s->errfd, POLLIN, 0};
	while (poll(&p, 1, wait_ms) > 0) {
		ssize_t n = read(s->errfd, s->log + s->loglen,
				 sizeof s->log - 1 - s->loglen);
		if (n <= 0)
			break;
		s->loglen += (size_t)n;
		s->log[s->loglen] = '\0';
		if (s->loglen + 1 >= sizeof s->log) /* keep the tail */
			s->loglen = 0;
		wait_ms = 0;
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ASSERT(f);
	fputs(text, f);
	fclose(f);
}

/* Start `sockit ircd -c conf` with extra config lines. */
static bool srv_start(struct srv *s, const char *extra)
{
	const char *bin = getenv("SK_BIN");
	if (!bin)
		return false;
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/sk_ircd_XXXXXX");
	ASSERT(mkdtemp(s->dir));
	snprintf(s->conf, sizeof s->conf, "%s/ircd.conf", s->dir);
	snprintf(s->sock, sizeof s->sock, "%s/irc.sock", s->dir);
	char text[4096];
	snprintf(text, sizeof text,
		 "server_name = irc.test\nlisten = 127.0.0.1:0\n"
		 "listen = unix:%s\n%s\n", s->sock, extra ? extra : "");
	write_file(s->conf, text);
	int p[2];
	ASSERT(pipe(p) == 0);
	s->pid = fork();
	ASSERT(s->pid >= 0);
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execl(bin, bin, "ircd", "-c", s->conf, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	s->errfd = p[0];
	live_pid = s->pid;
	uint64_t end = mono_ms() + 10000;
	while (!strstr(s->log, " ready (")) {
		if (mono_ms() > end)
			FAIL("server did not start:\n%s", s->log);
		srv_drain(s, 100);
	}
	const char *l = strstr(s->log, "listening on 127.0.0.1:");
	ASSERT(l);
	s->port = atoi(l + strlen("listening on 127.0.0.1:"));
	const char *t = strstr(s->log, " (TLS)");
	if (t) {
		while (t > s->log && t[-1] != ':')
			t--;
		s->tls_port = atoi(t);
	}
	ASSERT(s->port > 0);
	return true;
}

/* Wait for the exit; the status must be 0 within 5 s. */
static void srv_wait(struct srv *s)
{
	int st = 0;
	uint64_t end = mono_ms() + 5000;
	while (waitpid(s->pid, &st, WNOHANG) == 0) {
		if (mono_ms() > end) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			FAIL("server did not stop on SIGTERM");
		}
		srv_drain(s, 20);
	}
	srv_drain(s, 0);
	live_pid = 0;
	close(s->errfd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		FAIL("server exit status %d; log:\n%s", st, s->log);
	unlink(s->conf);
	char path[200];
	snprintf(path, sizeof path, "%s/motd.txt", s->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/ircd.crt", s->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/ircd.key", s->dir);
	unlink(path);
	rmdir(s->dir);
}

/* Stop with SIGTERM. */
static void srv_stop(struct srv *s)
{
	kill(s->pid, SIGTERM);
	srv_wait(s);
}

/* ---- clients ------------------------------------------------------------------- */

struct cl {
	int fd;
	SSL *ssl;
	char buf[1 << 16];
	size_t n;
	bool eof;
};

static SSL_CTX *tls_ctx;

static void cl_setup(struct cl *c, int fd)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	struct timeval tv = {0, 100 * 1000}, snd = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
}

static void cl_tcp(struct cl *c, int port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	cl_setup(c, fd);
}

static void cl_unix(struct cl *c, const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT(fd >= 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	ASSERT(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	cl_setup(c, fd);
}

static void cl_tls(struct cl *c, int port)
{
	cl_tcp(c, port, 0);
	if (!tls_ctx) {
		tls_ctx = SSL_CTX_new(TLS_client_method());
		ASSERT(tls_ctx);
	}
	c->ssl = SSL_new(tls_ctx);
	SSL_set_fd(c->ssl, c->fd);
	struct timeval tv = {5, 0}; /* the handshake blocks */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (SSL_connect(c->ssl) != 1)
		FAIL("TLS handshake failed");
	struct timeval shortv = {0, 100 * 1000};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &shortv, sizeof shortv);
}

static void cl_close(struct cl *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
}

static void cl_raw(struct cl *c, const void *p, size_t n)
{
	ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n)
			   : send(c->fd, p, n, MSG_NOSIGNAL);
	ASSERT(w == (ssize_t)n);
}

static void cl_send(struct cl *c, const char *fmt, ...) SK_PRINTF(2, 3);
static void cl_send(struct cl *c, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	memcpy(line + n, "\r\n", 2);
	cl_raw(c, line, (size_t)n + 2);
}

/* Read once (up to the 100 ms receive timeout). */
static void cl_read(struct cl *c)
{
	if (c->eof)
		return;
	if (c->n + 1 >= sizeof c->buf) { /* keep the newest half */
		memmove(c->buf, c->buf + c->n / 2, c->n - c->n / 2);
		c->n -= c->n / 2;
	}
	ssize_t r = c->ssl ? SSL_read(c->ssl, c->buf + c->n,
				      (int)(sizeof c->buf - 1 - c->n))
			   : recv(c->fd, c->buf + c->n, sizeof c->buf - 1 - c->n, 0);
	if (r > 0) {
		c->n += (size_t)r;
		c->buf[c->n] = '\0';
	} else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		c->eof = true;
	} else if (c->ssl && SSL_get_error(c->ssl, (int)r) == SSL_ERROR_ZERO_RETURN) {
		c->eof = true;
	}
}

/* Read everything available now (never waits); true when `what` went by.
 * Only the tail of the input is kept. */
static bool cl_drain_for(struct cl *c, const char *what)
{
	bool seen = false;
	for (;;) {
		if (c->n > sizeof c->buf / 2) {
			memmove(c->buf, c->buf + c->n - 1024, 1024);
			c->n = 1024;
		}
		ssize_t r = recv(c->fd, c->buf + c->n, sizeof c->buf / 2, MSG_DONTWAIT);
		if (r <= 0) {
			if (r == 0)
				c->eof = true;
			break;
		}
		c->n += (size_t)r;
		c->buf[c->n] = '\0';
		seen = seen || strstr(c->buf, what) != NULL;
	}
	return seen;
}

/* Wait for `what` in the input; then drop everything up to its line end. */
static bool cl_wait(struct cl *c, const char *what, unsigned ms)
{
	uint64_t end = mono_ms() + ms;
	for (;;) {
		c->buf[c->n] = '\0';
		char *hit = strstr(c->buf, what);
		if (hit) {
			char *nl = strchr(hit, '\n');
			size_t cut = nl ? (size_t)(nl + 1 - c->buf) : c->n;
			memmove(c->buf, c->buf + cut, c->n - cut);
			c->n -= cut;
			c->buf[c->n] = '\0';
			return true;
		}
		if (c->eof || mono_ms() > end)
			return false;
		cl_read(c);
	}
}

#define EXPECT(c, what, ms)                                                    \
	do {                                                                   \
		if (!cl_wait((c), (what), (ms)))                               \
			FAIL("did not get \"%s\"; got:\n%s", (what), (c)->buf); \
	} while (0)

static bool cl_wait_eof(struct cl *c, unsigned ms)
{
	uint64_t end = mono_ms() + ms;
	while (!c->eof && mono_ms() < end)
		cl_read(c);
	return c->eof;
}

static void cl_register(struct cl *c, const char *nick)
{
	cl_send(c, "NICK %s", nick);
	cl_send(c, "USER u 0 * :Test %s", nick);
	char want[64];
	snprintf(want, sizeof want, " 376 %s ", nick);
	EXPECT(c, want, 3000);
}

/* ---- tests ------------------------------------------------------------------------ */

TEST(register_and_chat)
{
	struct srv s;
	if (!srv_start(&s, NULL)) {
		fprintf(stderr, "SK_BIN not set: skipped\n");
		return;
	}
	struct cl a, b, u;
	cl_tcp(&a, s.port, 0);
	cl_register(&a, "alice");
	cl_tcp(&b, s.port, 0);
	cl_send(&b, "CAP LS 302");
	EXPECT(&b, "CAP * LS :", 3000);
	cl_send(&b, "NICK bob");
	cl_send(&b, "USER u 0 * :Bob");
	cl_send(&b, "CAP REQ :server-time echo-message");
	EXPECT(&b, "CAP bob ACK :server-time echo-message", 3000);
	ASSERT(!strstr(b.buf, " 001 "));
	cl_send(&b, "CAP END");
	EXPECT(&b, "@time=", 3000);
	EXPECT(&b, " 376 bob ", 3000);
	cl_send(&a, "JOIN #room");
	EXPECT(&a, " 366 alice #room ", 3000);
	cl_send(&b, "JOIN #room");
	EXPECT(&a, ":bob!~u@127.0.0.1 JOIN #room", 3000);
	cl_send(&b, "PRIVMSG #room :hello, room");
	EXPECT(&a, ":bob!~u@127.0.0.1 PRIVMSG #room :hello, room", 3000);
	EXPECT(&b, "PRIVMSG #room :hello, room", 3000); /* the echo */
	/* The Unix listener: a local bot joins the same network. */
	cl_unix(&u, s.sock);
	cl_register(&u, "bot");
	cl_send(&u, "PRIVMSG alice :beep");
	EXPECT(&a, ":bot!~u@localhost PRIVMSG alice :beep", 3000);
	/* Garbage never hurts: NULs, invalid UTF-8, an over-long line. */
	static const char garbage[] = "\x00\xff\xfe garbage\r\n\x01\x02\r\n";
	cl_raw(&u, garbage, sizeof garbage - 1);
	char big[6000];
	memset(big, 'x', sizeof big);
	cl_raw(&u, big, sizeof big);
	cl_raw(&u, "\r\n", 2);
	EXPECT(&u, " 417 bot :Input line was too long", 3000);
	cl_send(&u, "PING still-here");
	EXPECT(&u, "PONG irc.test :still-here", 3000);
	cl_send(&a, "QUIT :done");
	EXPECT(&a, "ERROR :Closing Link: 127.0.0.1 (Quit: done)", 3000);
	ASSERT(cl_wait_eof(&a, 3000));
	EXPECT(&b, ":alice!~u@127.0.0.1 QUIT :Quit: done", 3000);
	cl_close(&a);
	cl_close(&b);
	cl_close(&u);
	srv_stop(&s);
}

TEST(flood_is_throttled)
{
	struct srv s;
	if (!srv_start(&s, "flood_burst = 5\nflood_rate = 10\nrecvq = 8192\n"))
		return;
	struct cl f, n;
	cl_tcp(&f, s.port, 0);
	cl_register(&f, "flooder");
	cl_tcp(&n, s.port, 0);
	cl_register(&n, "normal");
	/* 60 commands at once: the burst goes through, the rest trickles at
	 * 10/s, and the other client is served at once meanwhile. */
	char lines[60 * 16];
	size_t k = 0;
	for (int i = 0; i < 60; i++)
		k += (size_t)snprintf(lines + k, sizeof lines - k, "PING f%02d\r\n", i);
	cl_raw(&f, lines, k);
	cl_send(&n, "PING quick");
	uint64_t t0 = mono_ms();
	EXPECT(&n, "PONG irc.test :quick", 2000);
	ASSERT(mono_ms() - t0 < 1000);
	EXPECT(&f, ":f03", 2000);
	ASSERT(!strstr(f.buf, ":f40")); /* not yet */
	EXPECT(&f, ":f12", 3000);       /* but it keeps coming */
	ASSERT(!f.eof);
	/* Pushing far past the receive queue while throttled: disconnected. */
	static char junk[64 * 1024];
	for (size_t i = 0; i + 8 < sizeof junk; i += 8)
		memcpy(junk + i, "PING x\r\n", 8);
	for (int i = 0; i < 8 && !f.eof; i++) {
		if (send(f.fd, junk, sizeof junk, MSG_NOSIGNAL) < 0)
			break;
	}
	EXPECT(&f, "(Excess Flood)", 5000);
	cl_close(&f);
	cl_send(&n, "PING alive");
	EXPECT(&n, "PONG irc.test :alive", 3000);
	cl_close(&n);
	srv_stop(&s);
}

TEST(slow_reader_sendq)
{
	struct srv s;
	if (!srv_start(&s, "flood_rate = 0\nsendq = 65536\n"))
		return;
	struct cl fast, slow, watcher;
	cl_tcp(&fast, s.port, 0);
	cl_register(&fast, "fast");
	cl_tcp(&watcher, s.port, 0);
	cl_register(&watcher, "watcher");
	cl_tcp(&slow, s.port, 4096);
	cl_register(&slow, "slow");
	cl_send(&fast, "JOIN #big");
	EXPECT(&fast, " 366 fast #big", 3000);
	cl_send(&watcher, "JOIN #big");
	EXPECT(&watcher, " 366 watcher #big", 3000);
	cl_send(&slow, "JOIN #big");
	EXPECT(&slow, " 366 slow #big", 3000);
	/* slow stops reading; fast sends a few MB through the channel. */
	char msg[400];
	memset(msg, 'm', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	bool gone = false;
	for (int round = 0; round < 400 && !gone; round++) {
		char batch[20 * 420];
		size_t k = 0;
		for (int i = 0; i < 20; i++)
			k += (size_t)snprintf(batch + k, sizeof batch - k,
					      "PRIVMSG #big :%s\r\n", msg);
		cl_raw(&fast, batch, k);
		gone = cl_drain_for(&watcher, ":slow!~u@127.0.0.1 QUIT :Max SendQ exceeded");
		ASSERT(!watcher.eof);
	}
	if (!gone && !cl_wait(&watcher, ":slow!~u@127.0.0.1 QUIT :Max SendQ exceeded", 5000))
		FAIL("slow was not dropped (watcher eof %d: ...%s)", watcher.eof,
		     watcher.buf + (watcher.n > 300 ? watcher.n - 300 : 0));
	cl_close(&slow);
	cl_close(&fast);
	cl_close(&watcher);
	srv_stop(&s);
}

TEST(connection_limits)
{
	struct srv s;
	if (!srv_start(&s, "max_per_ip = 2\nmax_clients = 3\n"))
		return;
	struct cl c1, c2, c3, u1, u2;
	cl_tcp(&c1, s.port, 0);
	cl_register(&c1, "one");
	cl_tcp(&c2, s.port, 0);
	cl_register(&c2, "two");
	cl_tcp(&c3, s.port, 0);
	EXPECT(&c3, "ERROR :Closing Link: 127.0.0.1 (Too many connections from your IP)",
	       3000);
	ASSERT(cl_wait_eof(&c3, 3000));
	/* Unix sockets have no address: only the global cap applies. */
	cl_unix(&u1, s.sock);
	cl_register(&u1, "three");
	cl_unix(&u2, s.sock);
	EXPECT(&u2, "ERROR :Closing Link: localhost (Server is full)", 3000);
	ASSERT(cl_wait_eof(&u2, 3000));
	/* A slot frees up when someone leaves. */
	cl_close(&c1);
	cl_send(&c2, "PING sync");
	EXPECT(&c2, "PONG", 3000);
	struct cl c4;
	uint64_t end = mono_ms() + 3000;
	for (;;) {
		cl_tcp(&c4, s.port, 0);
		cl_send(&c4, "PING x");
		if (cl_wait(&c4, "451", 1000) || mono_ms() > end)
			break;
		cl_close(&c4);
	}
	ASSERT(!c4.eof);
	cl_close(&c2);
	cl_close(&c3);
	cl_close(&c4);
	cl_close(&u1);
	cl_close(&u2);
	srv_stop(&s);
}

TEST(timeouts)
{
	struct srv s;
	if (!srv_start(&s, "reg_timeout = 1\nping_freq = 1\nping_timeout = 1\n"))
		return;
	struct cl idle, mute;
	cl_tcp(&idle, s.port, 0);
	cl_tcp(&mute, s.port, 0);
	cl_register(&mute, "mute");
	EXPECT(&idle, "ERROR :Closing Link: 127.0.0.1 (Registration timed out)", 4000);
	EXPECT(&mute, "PING :irc.test", 4000);
	EXPECT(&mute, "(Ping timeout: ", 5000);
	ASSERT(cl_wait_eof(&mute, 3000));
	cl_close(&idle);
	cl_close(&mute);
	srv_stop(&s);
}

TEST(tls_listener)
{
	const char *bin = getenv("SK_BIN");
	if (!bin)
		return;
	char dir[64] = "/tmp/sk_ircd_cert_XXXXXX";
	ASSERT(mkdtemp(dir));
	char cmd[512];
	snprintf(cmd, sizeof cmd, "'%s' ircd --gen-cert %s >/dev/null", bin, dir);
	ASSERT(system(cmd) == 0);
	char extra[400];
	snprintf(extra, sizeof extra,
		 "tls_cert = %s/ircd.crt\ntls_key = %s/ircd.key\n"
		 "tls_listen = 127.0.0.1:0\n", dir, dir);
	struct srv s;
	ASSERT(srv_start(&s, extra));
	ASSERT(s.tls_port > 0);
	struct cl t, p;
	cl_tls(&t, s.tls_port);
	cl_register(&t, "secure");
	cl_tcp(&p, s.port, 0);
	cl_register(&p, "plain");
	cl_send(&p, "WHOIS secure");
	EXPECT(&p, " 671 plain secure :is using a secure connection", 3000);
	cl_send(&p, "PRIVMSG secure :over tls");
	EXPECT(&t, ":plain!~u@127.0.0.1 PRIVMSG secure :over tls", 3000);
	cl_close(&t);
	cl_close(&p);
	srv_stop(&s);
	snprintf(cmd, sizeof cmd, "%s/ircd.crt", dir);
	unlink(cmd);
	snprintf(cmd, sizeof cmd, "%s/ircd.key", dir);
	unlink(cmd);
	rmdir(dir);
}

TEST(sigterm_and_sighup)
{
	struct srv s;
	if (!srv_start(&s, NULL))
		return;
	char motd[200];
	snprintf(motd, sizeof motd, "%s/motd.txt", s.dir);
	write_file(motd, "first motd\n");
	FILE *f = fopen(s.conf, "a");
	ASSERT(f);
	fprintf(f, "motd_file = %s\n", motd);
	fclose(f);
	struct cl a, b;
	cl_tcp(&a, s.port, 0);
	cl_register(&a, "alice");
	/* SIGHUP: the file is read again. */
	write_file(motd, "second motd\n");
	kill(s.pid, SIGHUP);
	uint64_t end = mono_ms() + 3000;
	while (!strstr(s.log, "configuration reloaded") && mono_ms() < end)
		srv_drain(&s, 100);
	cl_send(&a, "MOTD");
	EXPECT(&a, " 372 alice :- second motd", 3000);
	cl_tcp(&b, s.port, 0);
	cl_send(&b, "NICK half");
	cl_send(&b, "PING sync");
	EXPECT(&b, "PONG", 3000);
	/* SIGTERM: everyone, registered or not, gets an ERROR line. */
	kill(s.pid, SIGTERM);
	EXPECT(&a, "ERROR :Closing Link: 127.0.0.1 (Server shutting down", 3000);
	EXPECT(&b, "ERROR :Closing Link: 127.0.0.1 (Server shutting down", 3000);
	ASSERT(cl_wait_eof(&a, 3000));
	cl_close(&a);
	cl_close(&b);
	srv_wait(&s); /* the exit status is 0 */
}

/* docs/ircd.conf.example is a valid config: every key it shows exists. */
TEST(example_config)
{
	const char *bin = getenv("SK_BIN");
	if (!bin)
		return;
	char root[1024], cmd[2400];
	snprintf(root, sizeof root, "%s", __FILE__);
	char *t = strstr(root, "/tests/integration/");
	if (!t || root[0] != '/') {
		fprintf(stderr, "source path unknown: skipped\n");
		return;
	}
	*t = '\0';
	snprintf(cmd, sizeof cmd, "'%s' ircd -c '%s/docs/ircd.conf.example' --check "
		 ">/dev/null", bin, root);
	ASSERT_EQ(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "'%s' ircd --set nosuchkey=1 --check 2>/dev/null",
		 bin);
	ASSERT(system(cmd) != 0);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	atexit(kill_live);
	static const struct sk_test tests[] = {
		TEST_ENTRY(register_and_chat), TEST_ENTRY(flood_is_throttled),
		TEST_ENTRY(slow_reader_sendq), TEST_ENTRY(connection_limits),
		TEST_ENTRY(timeouts),          TEST_ENTRY(tls_listener),
		TEST_ENTRY(sigterm_and_sighup), TEST_ENTRY(example_config),
	};
	int r = sk_test_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
	if (tls_ctx)
		SSL_CTX_free(tls_ctx);
	return r;
}
