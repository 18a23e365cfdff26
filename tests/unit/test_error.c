/*
 * tests/unit/test_error.c - sk_strerror, sk_errname, sk_version.
 */
#include <ctype.h>
#include <pthread.h>

#include "test.h"

/* Every code in error.h must have its own name and words. */
static const struct {
	int code;
	const char *name;
} all_codes[] = {
	{SK_EAGAIN, "EAGAIN"},
	{SK_ENOMEM, "ENOMEM"},
	{SK_EINVAL, "EINVAL"},
	{SK_EBADF, "EBADF"},
	{SK_EBUSY, "EBUSY"},
	{SK_EEXIST, "EEXIST"},
	{SK_ENOENT, "ENOENT"},
	{SK_EMFILE, "EMFILE"},
	{SK_ENOBUFS, "ENOBUFS"},
	{SK_EMSGSIZE, "EMSGSIZE"},
	{SK_EPIPE, "EPIPE"},
	{SK_ENOTSUP, "ENOTSUP"},
	{SK_EAFNOSUPPORT, "EAFNOSUPPORT"},
	{SK_EADDRINUSE, "EADDRINUSE"},
	{SK_EADDRNOTAVAIL, "EADDRNOTAVAIL"},
	{SK_ECONNREFUSED, "ECONNREFUSED"},
	{SK_ECONNRESET, "ECONNRESET"},
	{SK_ECONNABORTED, "ECONNABORTED"},
	{SK_ETIMEDOUT, "ETIMEDOUT"},
	{SK_ENETUNREACH, "ENETUNREACH"},
	{SK_EHOSTUNREACH, "EHOSTUNREACH"},
	{SK_ENOTCONN, "ENOTCONN"},
	{SK_ECANCELED, "ECANCELED"},
	{SK_EPROTO, "EPROTO"},
	{SK_ESHUTDOWN, "ESHUTDOWN"},
	{SK_EACCES, "EACCES"},
	{SK_EOF, "EOF"},
	{SK_ELINETOOLONG, "ELINETOOLONG"},
	{SK_EFRAMETOOBIG, "EFRAMETOOBIG"},
	{SK_EDNS, "EDNS"},
	{SK_ENODATA, "ENODATA"},
	{SK_ETLS, "ETLS"},
	{SK_ECERT, "ECERT"},
	{SK_ELIMIT, "ELIMIT"},
	{SK_EBADADDR, "EBADADDR"},
	{SK_EBACKEND, "EBACKEND"},
};
#define NCODES (sizeof all_codes / sizeof all_codes[0])

TEST(words_for_known_codes)
{
	ASSERT_STREQ(sk_strerror(SK_ECONNREFUSED), "connection refused");
	ASSERT_STREQ(sk_strerror(SK_ECONNRESET), "connection reset by peer");
	ASSERT_STREQ(sk_strerror(SK_ETIMEDOUT), "connection timed out");
	ASSERT_STREQ(sk_strerror(SK_EOF), "closed by peer");
	ASSERT_STREQ(sk_strerror(SK_ELINETOOLONG), "line too long");
	ASSERT_STREQ(sk_strerror(SK_EDNS), "host not found");
	ASSERT_STREQ(sk_strerror(SK_ENODATA), "no address for that family");
	ASSERT_STREQ(sk_strerror(SK_ETLS), "TLS protocol error");
	ASSERT_STREQ(sk_strerror(SK_ECERT), "certificate verification failed");
	ASSERT_STREQ(sk_strerror(SK_ELIMIT), "connection limit reached");
	ASSERT_STREQ(sk_strerror(SK_EBADADDR), "invalid address");
	ASSERT_STREQ(sk_strerror(SK_EBACKEND), "event backend not available");
	ASSERT_STREQ(sk_strerror(0), "success");
	ASSERT_STREQ(sk_strerror(5), "success");
}

TEST(every_code_is_mapped)
{
	for (size_t i = 0; i < NCODES; i++) {
		const char *w = sk_strerror(all_codes[i].code);
		ASSERT(w != NULL);
		if (strcmp(w, "unknown error") == 0 || w[0] == '\0')
			FAIL("no words for %s", all_codes[i].name);
		ASSERT_STREQ(sk_errname(all_codes[i].code), all_codes[i].name);
		/* words are lowercase apart from acronyms like TLS */
		if (all_codes[i].code != SK_ETLS)
			ASSERT(!isupper((unsigned char)w[0]));
		/* distinct codes give distinct words */
		for (size_t j = 0; j < i; j++)
			if (strcmp(w, sk_strerror(all_codes[j].code)) == 0)
				FAIL("%s and %s share words", all_codes[i].name,
				     all_codes[j].name);
	}
}

TEST(fallbacks)
{
	/* an errno the table does not list still gets the C library's words,
	 * lowercased */
	const char *w = sk_strerror(-EROFS);
	ASSERT(strcmp(w, "unknown error") != 0);
	ASSERT(!isupper((unsigned char)w[0]));
	ASSERT(strstr(w, "read-only") != NULL || strstr(w, "ead-only") != NULL);
	ASSERT_STREQ(sk_errname(-EROFS), "UNKNOWN");

	ASSERT_STREQ(sk_strerror(-999), "unknown error");
	ASSERT_STREQ(sk_strerror(-1099), "unknown error");
	ASSERT_STREQ(sk_strerror(-3999), "unknown error");
	ASSERT_STREQ(sk_strerror(-123456), "unknown error");
	ASSERT_STREQ(sk_strerror(-2147483647 - 1), "unknown error");
	ASSERT_STREQ(sk_errname(-999), "UNKNOWN");
	ASSERT_STREQ(sk_errname(-2147483647 - 1), "UNKNOWN");
	ASSERT_STREQ(sk_errname(0), "OK");
}

/* The fallback path uses a per-thread buffer: two threads asking for
 * different errnos at once must each see their own words. */
static void *hammer(void *arg)
{
	int e = *(int *)arg;
	char first[128];
	snprintf(first, sizeof first, "%s", sk_strerror(-e));
	for (int i = 0; i < 20000; i++)
		if (strcmp(sk_strerror(-e), first) != 0)
			return (void *)1;
	return NULL;
}

TEST(thread_safe)
{
	int e1 = EROFS, e2 = ELOOP;
	pthread_t t1, t2;
	void *r1, *r2;
	ASSERT_EQ(pthread_create(&t1, NULL, hammer, &e1), 0);
	ASSERT_EQ(pthread_create(&t2, NULL, hammer, &e2), 0);
	ASSERT_EQ(pthread_join(t1, &r1), 0);
	ASSERT_EQ(pthread_join(t2, &r2), 0);
	ASSERT(r1 == NULL && r2 == NULL);
	/* a few fallback results stay valid together, as in one printf */
	const char *a = sk_strerror(-EROFS), *b = sk_strerror(-ELOOP);
	ASSERT(strstr(a, "ead-only") != NULL);
	ASSERT(strcmp(a, b) != 0);
}

TEST(version)
{
	ASSERT_STREQ(sk_version(), SK_VERSION_STRING);
	char expect[32];
	snprintf(expect, sizeof expect, "%d.%d.%d", SK_VERSION_MAJOR,
		 SK_VERSION_MINOR, SK_VERSION_PATCH);
	ASSERT_STREQ(sk_version(), expect);
}

TEST_MAIN(TEST_ENTRY(words_for_known_codes), TEST_ENTRY(every_code_is_mapped),
	  TEST_ENTRY(fallbacks), TEST_ENTRY(thread_safe), TEST_ENTRY(version))
