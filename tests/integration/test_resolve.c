/*
 * tests/integration/test_resolve.c - asynchronous name resolution.
 *
 * No query leaves the machine: every test points the resolver at a DNS
 * server on loopback (SOCKIT_RESOLV_SERVERS), either a tiny fake one built
 * on sk_dgram that answers from a table, or a closed port.
 */
#include "test.h"

#include <arpa/inet.h>
#include <stdint.h>

/* ---- a fake DNS server ------------------------------------------------------ */

struct dns {
	sk_dgram *d;
	int queries;
	int answer; /* 0: stay silent (the "silent" name always is) */
	char port[16];
};

struct rr {
	const char *name;
	int type; /* 1 A, 28 AAAA */
	const char *ip;
};

/* two A records with a duplicate; an IPv6-only name */
static const struct rr table[] = {
	{"two.sockit", 1, "10.1.2.3"},
	{"two.sockit", 1, "10.1.2.3"},
	{"two.sockit", 1, "10.1.2.4"},
	{"six.sockit", 28, "2001:db8::5"},
	{"localhost", 1, "10.9.9.9"}, /* must never be asked */
};

/* Decode the question name at p[12..]; returns the offset after QCLASS. */
static size_t parse_question(const uint8_t *p, size_t n, char *name,
			     size_t cap, int *qtype)
{
	size_t i = 12, o = 0;
	while (i < n && p[i] != 0) {
		size_t l = p[i++];
		if (i + l > n || o + l + 2 > cap)
			return 0;
		if (o)
			name[o++] = '.';
		memcpy(name + o, p + i, l);
		o += l;
		i += l;
	}
	name[o] = '\0';
	if (i + 5 > n)
		return 0;
	*qtype = p[i + 1] << 8 | p[i + 2];
	return i + 5;
}

static void on_dns(sk_dgram *d, const uint8_t *p, size_t n,
		   const struct sk_addr *from, void *ud)
{
	struct dns *dns = ud;
	uint8_t out[512];
	char name[256];
	int qtype = 0, an = 0, rcode = 0;

	dns->queries++;
	size_t qend = n >= 12 ? parse_question(p, n, name, sizeof name, &qtype)
			      : 0;
	ASSERT(qend > 0);
	if (!dns->answer || strcmp(name, "silent.sockit") == 0)
		return;
	memcpy(out, p, qend);
	size_t o = qend;
	bool known = false;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strcasecmp(table[i].name, name) != 0)
			continue;
		known = true;
		if (table[i].type != qtype)
			continue;
		size_t len = qtype == 1 ? 4 : 16;
		uint8_t rr[12] = {0xc0, 12, 0, (uint8_t)qtype, 0, 1,
				  0, 0, 0, 60, 0, (uint8_t)len};
		memcpy(out + o, rr, sizeof rr);
		ASSERT(inet_pton(qtype == 1 ? AF_INET : AF_INET6, table[i].ip,
				 out + o + sizeof rr) == 1);
		o += sizeof rr + len;
		an++;
	}
	if (!known)
		rcode = 3; /* NXDOMAIN */
	out[2] = 0x81; /* response, recursion desired */
	out[3] = (uint8_t)(0x80 | rcode); /* recursion available */
	out[4] = 0;
	out[5] = 1;
	out[6] = 0;
	out[7] = (uint8_t)an;
	memset(out + 8, 0, 4);
	ASSERT_OK(sk_dgram_send(d, out, o, from));
}

/* Start the fake server and point new resolvers at it. */
static void dns_start(sk_loop *loop, struct dns *dns, int answer)
{
	struct sk_addr a;
	char env[64];

	memset(dns, 0, sizeof *dns);
	dns->answer = answer;
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, on_dns, dns, &dns->d));
	ASSERT_OK(sk_dgram_local(dns->d, &a));
	snprintf(env, sizeof env, "127.0.0.1:%u", sk_addr_port(&a));
	ASSERT_OK(setenv("SOCKIT_RESOLV_SERVERS", env, 1));
}

/* A server address where nothing listens: queries are refused. */
static void dns_refused(sk_loop *loop)
{
	sk_dgram *d = NULL;
	struct sk_addr a;
	char env[64];

	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, NULL, NULL, &d));
	ASSERT_OK(sk_dgram_local(d, &a));
	sk_dgram_close(d);
	snprintf(env, sizeof env, "127.0.0.1:%u", sk_addr_port(&a));
	ASSERT_OK(setenv("SOCKIT_RESOLV_SERVERS", env, 1));
}

/* ---- results ------------------------------------------------------------------ */

struct res {
	int calls;
	int status;
	size_t n;
	struct sk_addr addrs[16];
};

static void on_res(int status, const struct sk_addr *addrs, size_t n, void *ud)
{
	struct res *r = ud;
	r->calls++;
	r->status = status;
	r->n = n;
	if (status == 0)
		ASSERT(n >= 1 && addrs != NULL);
	for (size_t i = 0; i < n && i < 16; i++)
		r->addrs[i] = addrs[i];
}

static bool has_addr(const struct res *r, const char *text)
{
	struct sk_addr a;
	ASSERT_OK(sk_addr_parse(text, &a));
	for (size_t i = 0; i < r->n; i++)
		if (sk_addr_equal(&r->addrs[i], &a))
			return true;
	return false;
}

static void resolve(sk_loop *loop, const char *host, uint16_t port,
		    int family, unsigned timeout_ms, struct res *r)
{
	memset(r, 0, sizeof *r);
	ASSERT_OK(sk_resolve(loop, host, port, family, timeout_ms, on_res, r,
			     NULL));
	ASSERT_EQ(r->calls, 0); /* never from inside sk_resolve */
	test_run_until(loop, &r->calls, 5000);
	ASSERT_EQ(r->calls, 1);
}

/* ---- tests ---------------------------------------------------------------------- */

TEST(localhost_from_hosts_file)
{
	sk_loop *loop = test_loop();
	struct dns dns;
	struct res r;

	dns_start(loop, &dns, 1);
	resolve(loop, "localhost", 8080, 0, 2000, &r);
	ASSERT_OK(r.status);
	ASSERT(r.n >= 1);
	for (size_t i = 0; i < r.n; i++) {
		ASSERT(sk_addr_is_loopback(&r.addrs[i]));
		ASSERT_EQ(sk_addr_port(&r.addrs[i]), 8080);
	}
	ASSERT(has_addr(&r, "127.0.0.1:8080") || has_addr(&r, "[::1]:8080"));
	ASSERT_EQ(dns.queries, 0); /* /etc/hosts answered */

	resolve(loop, "localhost", 1, AF_INET, 2000, &r);
	ASSERT_OK(r.status);
	for (size_t i = 0; i < r.n; i++)
		ASSERT_EQ(sk_addr_family(&r.addrs[i]), AF_INET);
	ASSERT(has_addr(&r, "127.0.0.1:1"));
	sk_loop_free(loop);
}

/* A callback that starts the next request. */
struct chain {
	sk_loop *loop;
	struct res first, second;
};

static void on_chain(int status, const struct sk_addr *addrs, size_t n,
		     void *ud)
{
	struct chain *c = ud;
	on_res(status, addrs, n, &c->first);
	ASSERT_OK(sk_resolve(c->loop, "two.sockit", 9, AF_INET, 2000, on_res,
			     &c->second, NULL));
}

TEST(numeric_hosts)
{
	sk_loop *loop = test_loop();
	struct dns dns;
	struct res r;

	dns_start(loop, &dns, 1);
	unsigned base = sk_loop_alive(loop);
	memset(&r, 0, sizeof r);
	ASSERT_OK(sk_resolve(loop, "127.0.0.1", 80, 0, 0, on_res, &r, NULL));
	ASSERT_EQ(r.calls, 0);
	ASSERT_EQ(sk_loop_alive(loop), base + 1); /* the request keeps it */
	test_run_until(loop, &r.calls, 2000);
	ASSERT_EQ(sk_loop_alive(loop), base);
	ASSERT_OK(r.status);
	ASSERT_EQ(r.n, 1);
	ASSERT(has_addr(&r, "127.0.0.1:80"));

	resolve(loop, "::1", 443, 0, 0, &r);
	ASSERT_OK(r.status);
	ASSERT_EQ(r.n, 1);
	ASSERT(has_addr(&r, "[::1]:443"));

	resolve(loop, "[::1]", 443, AF_INET6, 0, &r);
	ASSERT_OK(r.status);
	ASSERT(has_addr(&r, "[::1]:443"));

	resolve(loop, "10.0.0.1", 1, AF_INET6, 0, &r);
	ASSERT_EQ(r.status, SK_ENODATA);
	ASSERT_EQ(r.n, 0);
	ASSERT_EQ(dns.queries, 0); /* no DNS for any of these */

	/* bad arguments fail at once, and the callback never runs */
	memset(&r, 0, sizeof r);
	ASSERT_EQ(sk_resolve(loop, "", 1, 0, 0, on_res, &r, NULL), SK_EINVAL);
	ASSERT_EQ(sk_resolve(loop, "x", 1, AF_UNIX, 0, on_res, &r, NULL),
		  SK_EAFNOSUPPORT);
	ASSERT_EQ(sk_loop_alive(loop), base);
	sk_loop_free(loop);
}

TEST(fake_dns_answers)
{
	sk_loop *loop = test_loop();
	struct dns dns;
	struct res r;

	dns_start(loop, &dns, 1);
	resolve(loop, "two.sockit", 443, AF_INET, 2000, &r);
	ASSERT_OK(r.status);
	ASSERT_EQ(r.n, 2); /* the duplicate is gone */
	ASSERT(has_addr(&r, "10.1.2.3:443"));
	ASSERT(has_addr(&r, "10.1.2.4:443"));
	ASSERT(dns.queries >= 1);

	/* both families asked; only A records exist */
	resolve(loop, "two.sockit", 7, 0, 2000, &r);
	ASSERT_OK(r.status);
	ASSERT_EQ(r.n, 2);
	ASSERT(has_addr(&r, "10.1.2.3:7"));

	resolve(loop, "six.sockit", 80, AF_INET6, 2000, &r);
	ASSERT_OK(r.status);
	ASSERT_EQ(r.n, 1);
	ASSERT(has_addr(&r, "[2001:db8::5]:80"));

	/* the name exists, but not with that family */
	resolve(loop, "six.sockit", 80, AF_INET, 2000, &r);
	ASSERT_EQ(r.status, SK_ENODATA);

	resolve(loop, "nx.sockit", 80, 0, 2000, &r);
	ASSERT_EQ(r.status, SK_EDNS);
	ASSERT_EQ(r.n, 0);

	struct chain c;
	memset(&c, 0, sizeof c);
	c.loop = loop;
	ASSERT_OK(sk_resolve(loop, "127.0.0.1", 1, 0, 0, on_chain, &c, NULL));
	test_run_until(loop, &c.second.calls, 2000);
	ASSERT_OK(c.first.status);
	ASSERT_OK(c.second.status);
	ASSERT(has_addr(&c.second, "10.1.2.4:9"));
	sk_loop_free(loop);
}

TEST(many_at_once)
{
	sk_loop *loop = test_loop();
	struct dns dns;
	struct res r[20];
	volatile int done = 0;

	dns_start(loop, &dns, 1);
	memset(r, 0, sizeof r);
	for (int i = 0; i < 20; i++)
		ASSERT_OK(sk_resolve(loop, i % 2 ? "two.sockit" : "nx.sockit",
				     (uint16_t)(1000 + i), AF_INET, 2000, on_res,
				     &r[i], NULL));
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 5000;
	while (!done) {
		ASSERT_OK(sk_loop_run_once(loop, 50));
		done = 1;
		for (int i = 0; i < 20; i++)
			if (r[i].calls == 0)
				done = 0;
		sk_loop_update_time(loop);
		ASSERT(sk_loop_now(loop) < end);
	}
	for (int i = 0; i < 20; i++) {
		ASSERT_EQ(r[i].calls, 1);
		if (i % 2) {
			ASSERT_OK(r[i].status);
			ASSERT_EQ(r[i].n, 2);
			ASSERT_EQ(sk_addr_port(&r[i].addrs[0]), 1000 + i);
		} else {
			ASSERT_EQ(r[i].status, SK_EDNS);
		}
	}
	sk_loop_free(loop);
}

/* A server that never answers: the request's own timeout fires. */
TEST(request_timeout)
{
	sk_loop *loop = test_loop();
	struct dns dns;
	struct res r;

	dns_start(loop, &dns, 0);
	sk_loop_update_time(loop);
	uint64_t t0 = sk_loop_now(loop);
	resolve(loop, "silent.sockit", 80, 0, 300, &r);
	sk_loop_update_time(loop);
	uint64_t took = sk_loop_now(loop) - t0;
	ASSERT_EQ(r.status, SK_ETIMEDOUT);
	ASSERT(took >= 290 && took < 2000);
	ASSERT(dns.queries >= 1);

	/* c-ares keeps trying in the background, but that alone does not
	 * keep the loop running */
	sk_dgram_close(dns.d);
	ASSERT_EQ(sk_loop_alive(loop), 0);
	ASSERT_OK(sk_loop_run(loop));
	ASSERT_EQ(r.calls, 1);
	sk_loop_free(loop);
}

TEST(nonexistent_invalid)
{
	sk_loop *loop = test_loop();
	struct res r;

	dns_refused(loop);
	sk_loop_update_time(loop);
	uint64_t t0 = sk_loop_now(loop);
	resolve(loop, "nonexistent.invalid", 80, 0, 300, &r);
	sk_loop_update_time(loop);
	ASSERT(r.status == SK_EDNS || r.status == SK_ETIMEDOUT);
	ASSERT(sk_loop_now(loop) - t0 < 2000);
	sk_loop_free(loop);
}

TEST(cancel)
{
	sk_loop *loop = test_loop();
	struct dns dns;
	struct res r, other;
	sk_resolve_req *q = NULL;

	dns_start(loop, &dns, 1);
	unsigned base = sk_loop_alive(loop);

	/* numeric: cancelled before the loop delivered it */
	memset(&r, 0, sizeof r);
	ASSERT_OK(sk_resolve(loop, "127.0.0.1", 1, 0, 0, on_res, &r, &q));
	ASSERT(q != NULL);
	sk_resolve_cancel(q);
	ASSERT_EQ(sk_loop_alive(loop), base);

	/* a name: c-ares answers after the cancel; nobody hears it */
	ASSERT_OK(sk_resolve(loop, "two.sockit", 1, AF_INET, 0, on_res, &r, &q));
	sk_resolve_cancel(q);
	/* a second request on the same channel still completes */
	memset(&other, 0, sizeof other);
	ASSERT_OK(sk_resolve(loop, "two.sockit", 2, AF_INET, 2000, on_res,
			     &other, NULL));
	test_run_until(loop, &other.calls, 2000);
	ASSERT_OK(other.status);

	/* cancelled while c-ares waits on a silent server, then past the
	 * request's timeout */
	ASSERT_OK(sk_resolve(loop, "silent.sockit", 1, 0, 100, on_res, &r, &q));
	ASSERT_EQ(sk_loop_alive(loop), base + 1);
	sk_resolve_cancel(q);
	ASSERT_EQ(sk_loop_alive(loop), base);
	for (int i = 0; i < 10; i++)
		ASSERT_OK(sk_loop_run_once(loop, 30));
	ASSERT_EQ(r.calls, 0);
	ASSERT(dns.queries >= 2);

	/* freeing the loop with a request in flight: no callback, no leak */
	ASSERT_OK(sk_resolve(loop, "silent.sockit", 1, 0, 0, on_res, &r, NULL));
	ASSERT_OK(sk_loop_run_once(loop, 10));
	sk_loop_free(loop);
	ASSERT_EQ(r.calls, 0);
}

TEST_MAIN(TEST_ENTRY(localhost_from_hosts_file), TEST_ENTRY(numeric_hosts),
	  TEST_ENTRY(fake_dns_answers), TEST_ENTRY(many_at_once),
	  TEST_ENTRY(request_timeout), TEST_ENTRY(nonexistent_invalid),
	  TEST_ENTRY(cancel))
