/*
 * tests/unit/test_cat.c - the pure parts of `sockit cat`: CIDR blocks and
 * the --allow/--deny rule, hex dump lines, relay endpoint specs, durations
 * and the command line's rules.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>

#include "cat/cat_int.h"
#include "test.h"

static struct sk_addr ip(const char *s)
{
	struct sk_addr a;
	char buf[80];
	snprintf(buf, sizeof buf, strchr(s, ':') ? "[%s]:1" : "%s:1", s);
	if (sk_addr_parse(buf, &a) < 0)
		FAIL("bad test address %s", s);
	return a;
}

static bool match(const char *cidr, const char *addr)
{
	struct cat_cidr c;
	if (cat_cidr_parse(cidr, strlen(cidr), &c) < 0)
		FAIL("bad test block %s", cidr);
	struct sk_addr a = ip(addr);
	return cat_cidr_match(&c, &a);
}

TEST(cidr_parse)
{
	struct cat_cidr c;
	ASSERT_OK(cat_cidr_parse("10.1.2.3/8", 10, &c));
	ASSERT_EQ(c.family, AF_INET);
	ASSERT_EQ(c.bits, 8);
	ASSERT_EQ(c.addr[0], 10);
	ASSERT_EQ(c.addr[1], 0); /* host bits cleared */
	ASSERT_OK(cat_cidr_parse("192.168.1.7", 11, &c));
	ASSERT_EQ(c.bits, 32);
	ASSERT_OK(cat_cidr_parse("fd00::1/8", 9, &c));
	ASSERT_EQ(c.family, AF_INET6);
	ASSERT_EQ(c.bits, 8);
	ASSERT_EQ(c.addr[15], 0);
	ASSERT_OK(cat_cidr_parse("0.0.0.0/0", 9, &c));
	ASSERT_OK(cat_cidr_parse("10.0.0.0/8,x", 10, &c)); /* only n bytes */
	static const char *bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/33",
				    "::/129", "10.0.0/8", "example.com",
				    "10.0.0.0/8x", "10.0.0.0/-1", "1.2.3.4/0008",
				    "::1%lo"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cat_cidr_parse(bad[i], strlen(bad[i]), &c) != SK_EBADADDR)
			FAIL("'%s' should not parse", bad[i]);
}

TEST(cidr_match)
{
	ASSERT(match("10.0.0.0/8", "10.255.1.2"));
	ASSERT(!match("10.0.0.0/8", "11.0.0.1"));
	ASSERT(match("192.168.1.128/25", "192.168.1.200"));
	ASSERT(!match("192.168.1.128/25", "192.168.1.127"));
	ASSERT(match("0.0.0.0/0", "8.8.8.8"));
	ASSERT(match("127.0.0.1", "127.0.0.1"));
	ASSERT(!match("127.0.0.1", "127.0.0.2"));
	ASSERT(match("::1", "::1"));
	ASSERT(!match("::1", "::2"));
	ASSERT(match("fe80::/10", "fe80::1234"));
	ASSERT(match("fe80::/10", "febf::1"));
	ASSERT(!match("fe80::/10", "fec0::1"));
	/* IPv4 seen through a dual-stack socket, and the other way round */
	ASSERT(match("127.0.0.0/8", "::ffff:127.0.0.1"));
	ASSERT(!match("10.0.0.0/8", "::ffff:127.0.0.1"));
	ASSERT(match("::ffff:0:0/96", "127.0.0.1"));
	ASSERT(match("::/0", "127.0.0.1")); /* ::/0 takes all, mapped */
	ASSERT(!match("10.0.0.0/8", "::1"));
	ASSERT(!match("::1", "127.0.0.1"));
}

TEST(acl_rule)
{
	struct cat_acl allow = {0}, deny = {0};
	const char *bad = NULL;
	struct sk_addr lo = ip("127.0.0.1"), ten = ip("10.1.1.1"),
		       v6 = ip("::1");
	struct sk_addr un;
	ASSERT_OK(sk_addr_parse("unix:/tmp/x", &un));
	/* empty lists: everyone */
	ASSERT(cat_acl_allows(&allow, &deny, &lo));
	ASSERT_OK(cat_acl_add(&allow, "10.0.0.0/8, 192.168.0.0/16", &bad));
	ASSERT_EQ(allow.n, 2);
	ASSERT(cat_acl_allows(&allow, &deny, &ten));
	ASSERT(!cat_acl_allows(&allow, &deny, &lo));
	ASSERT(!cat_acl_allows(&allow, &deny, &v6));
	ASSERT(cat_acl_allows(&allow, &deny, &un)); /* not an IP peer */
	ASSERT_OK(cat_acl_add(&deny, "10.1.0.0/16", &bad));
	ASSERT(!cat_acl_allows(&allow, &deny, &ten)); /* deny wins */
	/* a bad item names itself and leaves the list as it was */
	ASSERT_EQ(cat_acl_add(&allow, "1.2.3.4,nope,5.6.7.8", &bad), SK_EBADADDR);
	ASSERT(strncmp(bad, "nope", 4) == 0);
	ASSERT_EQ(allow.n, 2);
	ASSERT_EQ(cat_acl_add(&allow, " , ", &bad), SK_EBADADDR);
	cat_acl_free(&allow);
	cat_acl_free(&deny);
	ASSERT_EQ(allow.n, 0);
}

TEST(hexdump_lines)
{
	char line[CAT_HEXLINE];
	const uint8_t hello[] = "hello\n";
	size_t n = cat_hexdump_line(line, '>', 0, hello, 6);
	/* as `hexdump -C` prints it, after the mark */
	ASSERT_STREQ(line, "> 00000000  68 65 6c 6c 6f 0a                                 "
			   "|hello.|\n");
	ASSERT_EQ(n, strlen(line));
	uint8_t all[16];
	for (int i = 0; i < 16; i++)
		all[i] = (uint8_t)(0x78 + i);
	n = cat_hexdump_line(line, '<', 0x1234, all, 16);
	ASSERT_STREQ(line, "< 00001234  78 79 7a 7b 7c 7d 7e 7f  80 81 82 83 84 85 86 87  "
			   "|xyz{|}~.........|\n");
	ASSERT(n < CAT_HEXLINE);

	/* a whole dump: offsets per line, lines of 16 */
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	uint64_t off = 16;
	uint8_t big[40] = {0};
	cat_hexdump(f, '>', &off, big, sizeof big);
	fclose(f);
	ASSERT_EQ(off, 56);
	ASSERT(strstr(out, "> 00000010  00") == out);
	ASSERT(strstr(out, "\n> 00000020  00") != NULL);
	ASSERT(strstr(out, "\n> 00000030  00 00 00 00 00 00 00 00  ") != NULL);
	free(out);
}

TEST(durations)
{
	ASSERT_EQ(cat_parse_duration("1"), 1000);
	ASSERT_EQ(cat_parse_duration("0.5"), 500);
	ASSERT_EQ(cat_parse_duration("2s"), 2000);
	ASSERT_EQ(cat_parse_duration("250ms"), 250);
	ASSERT_EQ(cat_parse_duration("0"), 0);
	ASSERT_EQ(cat_parse_duration(""), -1);
	ASSERT_EQ(cat_parse_duration("-1"), -1);
	ASSERT_EQ(cat_parse_duration("1x"), -1);
	ASSERT_EQ(cat_parse_duration("nan"), -1);
	ASSERT_EQ(cat_parse_duration("1e99"), -1);
}

static void ep_ok(const char *spec, enum cat_ep_kind kind, bool listen,
		  bool dgram, bool tls, const char *addr)
{
	struct cat_ep ep;
	char err[200];
	if (cat_ep_parse(spec, &ep, err, sizeof err) < 0)
		FAIL("'%s': %s", spec, err);
	ASSERT_EQ(ep.kind, kind);
	ASSERT_EQ(ep.listen, listen);
	ASSERT_EQ(ep.dgram, dgram);
	ASSERT_EQ(ep.tls, tls);
	if (addr)
		ASSERT_STREQ(ep.addr, addr);
}

TEST(endpoint_specs)
{
	struct cat_ep ep;
	char err[200];
	ep_ok("stdio", CAT_EP_STDIO, false, false, false, NULL);
	ep_ok("-", CAT_EP_STDIO, false, false, false, NULL);
	ep_ok("tcp:example.org:80", CAT_EP_NET, false, false, false, "example.org:80");
	ep_ok("tcp:[::1]:80", CAT_EP_NET, false, false, false, "[::1]:80");
	ep_ok("tcp-listen:8080", CAT_EP_NET, true, false, false, "*:8080");
	ep_ok("tcp-listen:127.0.0.1:0", CAT_EP_NET, true, false, false, "127.0.0.1:0");
	ep_ok("tls:h:443", CAT_EP_NET, false, false, true, "h:443");
	ep_ok("tls-listen:[::1]:443", CAT_EP_NET, true, false, true, "[::1]:443");
	ep_ok("udp:1.2.3.4:53", CAT_EP_NET, false, true, false, "1.2.3.4:53");
	ep_ok("udp-listen:5353", CAT_EP_NET, true, true, false, NULL);
	ep_ok("unix:/run/x.sock", CAT_EP_NET, false, false, false, "unix:/run/x.sock");
	ep_ok("unix-listen:@abstract", CAT_EP_NET, true, false, false, "unix:@abstract");
	ep_ok("unix-dgram:/tmp/d", CAT_EP_NET, false, true, false, "unix:/tmp/d");
	ep_ok("unix-dgram-listen:/tmp/d", CAT_EP_NET, true, true, false, "unix:/tmp/d");
	ASSERT_OK(cat_ep_parse("exec:tr a-z A-Z", &ep, err, sizeof err));
	ASSERT_EQ(ep.kind, CAT_EP_EXEC);
	ASSERT_STREQ(ep.cmd, "tr a-z A-Z");
	ASSERT(!ep.shell);
	ASSERT_OK(cat_ep_parse("system:echo $HOME", &ep, err, sizeof err));
	ASSERT(ep.shell);
	static const char *bad[] = {"tcp:host", "tcp:host:0", "tcp:host:99999",
				    "tcp-listen:host.name:80", "exec:", "exec:  ",
				    "unix:", "sctp:h:1", "tcp:[::1:80", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cat_ep_parse(bad[i], &ep, err, sizeof err) != -1 || !*err)
			FAIL("'%s' should be refused with a message", bad[i]);
}

/* Parse a command line given as one string; the exit code (or -1). */
static int parse(struct cat_opts *o, const char *line)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;
	snprintf(buf, sizeof buf, "cat %s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	/* Usage errors (and --help) are expected: keep them off the log. */
	fflush(stdout);
	fflush(stderr);
	int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
	ASSERT(out >= 0 && err >= 0 && null >= 0);
	dup2(null, 1);
	dup2(null, 2);
	int r = cat_opts_parse(argc, argv, o);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	close(null);
	return r;
}

TEST(command_lines)
{
	struct cat_opts o;
	ASSERT_EQ(parse(&o, "127.0.0.1 80"), -1);
	ASSERT_EQ(o.ep[0].kind, CAT_EP_STDIO);
	ASSERT_STREQ(o.ep[1].addr, "127.0.0.1:80");
	ASSERT(!o.ep[1].listen);
	ASSERT_EQ(o.quit_ms, -1);
	cat_opts_free(&o);

	ASSERT_EQ(parse(&o, "-l -k -v -v 8080 --max-conns 3 --allow 10.0.0.0/8"), -1);
	ASSERT(o.listen && o.keep);
	ASSERT_EQ(o.verbose, 2);
	ASSERT(o.ep[1].listen && o.ep[1].any_host);
	ASSERT_EQ(o.ep[1].port, 8080);
	ASSERT_EQ(o.max_conns, 3);
	ASSERT_EQ(o.allow.n, 1);
	cat_opts_free(&o);

	ASSERT_EQ(parse(&o, "-u -w 2.5 -q 0 -e cat [::1] 53"), -1);
	ASSERT(o.ep[1].dgram);
	ASSERT_STREQ(o.ep[1].addr, "[::1]:53");
	ASSERT_EQ(o.connect_ms, 2500);
	ASSERT_EQ(o.quit_ms, 0);
	ASSERT_EQ(o.ep[0].kind, CAT_EP_EXEC);
	cat_opts_free(&o);

	ASSERT_EQ(parse(&o, "--dgram unix:/tmp/s"), -1);
	ASSERT(o.ep[1].dgram && o.ep[1].unix_sock);
	cat_opts_free(&o);

	ASSERT_EQ(parse(&o, "--broker -l 9000"), -1);
	ASSERT(o.keep); /* implied */
	cat_opts_free(&o);

	ASSERT_EQ(parse(&o, "relay -k tcp-listen:0 unix:/tmp/s"), -1);
	ASSERT(o.relay && o.keep);
	cat_opts_free(&o);
	ASSERT_EQ(parse(&o, "relay 80"), -1); /* a host named relay */
	ASSERT(!o.relay);
	ASSERT_STREQ(o.ep[1].addr, "relay:80");
	cat_opts_free(&o);

	ASSERT_EQ(parse(&o, "--help"), 0);
	cat_opts_free(&o);
	static const char *usage[] = {
		"", "-l", "host", "1 2 3", "-k host 80", "-z -l 80", "-u --tls h 1",
		"--broker h 80", "--broker -l -u 80", "-e a -c b h 1", "-4 -6 h 1",
		"-w 0 h 1", "-q x h 1", "--max-conns 0 -l 1", "--allow 1.2.3.4 h 1",
		"--tls-cert c h 1", "--tls-cert c --tls-key k h 1",
		"--tls-ca c -l --tls 1", "--tls-alpn h2 h 1", "-l unix:/x 80",
		"relay a", "relay stdio stdio", "relay -k tcp:h:1 tcp-listen:1",
		"relay -k tcp-listen:1 tcp-listen:2", "relay udp:h:1 udp-listen:2",
		"relay -u stdio tcp:h:1", "-s 1.2.3.4 -l 80", "--nope h 1", "-x h 1",
		"-w", "-l example.org 80"};
	for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
		int r = parse(&o, usage[i]);
		cat_opts_free(&o);
		if (r != CAT_EXIT_USAGE)
			FAIL("'cat %s' gave %d, want a usage error", usage[i], r);
	}
}

TEST_MAIN(TEST_ENTRY(cidr_parse), TEST_ENTRY(cidr_match), TEST_ENTRY(acl_rule),
	  TEST_ENTRY(hexdump_lines), TEST_ENTRY(durations),
	  TEST_ENTRY(endpoint_specs), TEST_ENTRY(command_lines))
