/*
 * fuzz/fuzz_addr.c - address parsing and formatting.
 *
 * Invariants: sk_hostport_parse either fails cleanly or gives a host that
 * re-serialises to an equal split; whatever sk_addr_parsen accepts formats
 * (always fitting SK_ADDR_STRLEN), and the text parses back to an equal
 * address that formats to the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockit/sockit.h"
#include "fuzz.h"

static void check_hostport(const char *s, size_t n)
{
	struct sk_hostport hp, hp2;
	char txt[SK_HOST_MAX + 16];
	int k;

	if (sk_hostport_parse(s, n, &hp) < 0) {
		CHECK(hp.host[0] == '\0');
		return;
	}
	CHECK(strlen(hp.host) <= SK_HOST_MAX);
	CHECK(hp.kind == SK_ADDR_INET || hp.kind == SK_ADDR_NAME ||
	      hp.kind == SK_ADDR_UNIX);
	if (hp.kind == SK_ADDR_UNIX)
		k = snprintf(txt, sizeof txt, "unix:%s", hp.host);
	else if (strchr(hp.host, ':'))
		k = snprintf(txt, sizeof txt, "[%s]:%u", hp.host, hp.port);
	else
		k = snprintf(txt, sizeof txt, "%s:%u", hp.host, hp.port);
	CHECK(k > 0 && (size_t)k < sizeof txt);
	CHECK(sk_hostport_parse(txt, (size_t)k, &hp2) == 0);
	CHECK(hp2.kind == hp.kind && hp2.port == hp.port);
	CHECK(strcmp(hp2.host, hp.host) == 0);
}

static void check_addr(const char *s, size_t n)
{
	struct sk_addr a, b;
	struct sk_hostport hp;
	char t1[SK_ADDR_STRLEN], t2[SK_ADDR_STRLEN], ip[SK_ADDR_STRLEN];
	int n1, n2;

	if (sk_addr_parsen(s, n, &a) < 0)
		return;
	/* anything numeric-parsable splits, and is not a name */
	CHECK(sk_hostport_parse(s, n, &hp) == 0 && hp.kind != SK_ADDR_NAME);
	CHECK(sk_addr_family(&a) == AF_INET || sk_addr_family(&a) == AF_INET6 ||
	      sk_addr_family(&a) == AF_UNIX);
	CHECK(sk_addr_port(&a) == hp.port);
	n1 = sk_addr_format(&a, t1, sizeof t1);
	CHECK(n1 > 0 && (size_t)n1 == strlen(t1));
	CHECK(sk_addr_format_ip(&a, ip, sizeof ip) >= 0);
	CHECK(sk_addr_parse(t1, &b) == 0);
	CHECK(sk_addr_equal(&a, &b) && sk_addr_equal(&b, &a));
	n2 = sk_addr_format(&b, t2, sizeof t2);
	CHECK(n1 == n2 && strcmp(t1, t2) == 0);
	/* a too-small buffer is refused, never overrun */
	CHECK(sk_addr_format(&a, t2, (size_t)n1) == SK_ENOBUFS);
	(void)sk_addr_is_loopback(&a);
	if (sk_addr_family(&a) != AF_UNIX) {
		/* the host part alone round-trips through from_ip */
		CHECK(sk_addr_from_ip(ip, sk_addr_port(&a), &b) == 0);
		CHECK(sk_addr_equal(&a, &b));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_addr a;
	char *s;

	if (size > 4096)
		return 0;
	/* A private copy with no terminator, so ASan sees any overread. */
	s = malloc(size ? size : 1);
	if (s == NULL)
		return 0;
	if (size)
		memcpy(s, data, size);
	check_hostport(s, size);
	check_addr(s, size);
	free(s);

	/* The NUL-terminated entry points take the same bytes. */
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	/* parse stops at the first NUL, exactly like parsen over strlen */
	{
		struct sk_addr b;
		int r1 = sk_addr_parse(s, &a);
		int r2 = sk_addr_parsen(s, strlen(s), &b);
		CHECK(r1 == r2);
		CHECK(r1 < 0 || sk_addr_equal(&a, &b));
	}
	if (sk_addr_from_ip(s, 80, &a) == 0) {
		char t[SK_ADDR_STRLEN];
		CHECK(sk_addr_format(&a, t, sizeof t) > 0);
	}
	free(s);
	return 0;
}
