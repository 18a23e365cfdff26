/*
 * tests/test.h - a tiny test harness: ASSERT macros that print both sides,
 * a test table, and loopback helpers.  Each test binary runs its tests in
 * order; run one with `./test_x NAME`.  A test that hangs is killed by the
 * per-test alarm (SK_TEST_TIMEOUT seconds, default 30).
 */
#ifndef SK_TEST_H
#define SK_TEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockit/sockit.h"

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(1);                                                       \
	} while (0)

#define ASSERT(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			FAIL("assertion failed: %s", #cond);                   \
	} while (0)

#define ASSERT_EQ(a, b)                                                        \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);        \
	} while (0)

#define ASSERT_OK(expr)                                                        \
	do {                                                                   \
		long long r_ = (long long)(expr);                              \
		if (r_ < 0)                                                    \
			FAIL("%s failed: %lld (%s)", #expr, r_,                \
			     sk_strerror((int)r_));                            \
	} while (0)

#define ASSERT_STREQ(a, b)                                                     \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (strcmp(a_, b_) != 0)                                       \
			FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_, b_);    \
	} while (0)

#define ASSERT_MEMEQ(a, b, n)                                                  \
	do {                                                                   \
		if (memcmp((a), (b), (n)) != 0)                                \
			FAIL("%s and %s differ", #a, #b);                      \
	} while (0)

struct sk_test {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void name(void)
#define TEST_ENTRY(name) {#name, name}

static inline int sk_test_main(int argc, char **argv, const struct sk_test *t,
			       size_t n)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	const char *to = getenv("SK_TEST_TIMEOUT");
	unsigned secs = to ? (unsigned)strtoul(to, NULL, 10) : 30;
	const char *be = getenv("SOCKIT_BACKEND");
	int ran = 0;
	for (size_t i = 0; i < n; i++) {
		if (only && strcmp(only, t[i].name) != 0)
			continue;
		fprintf(stderr, "-- %s%s%s\n", t[i].name, be ? " on " : "",
			be ? be : "");
		alarm(secs);
		t[i].fn();
		alarm(0);
		ran++;
	}
	if (ran == 0)
		FAIL("no test named %s", only ? only : "(none)");
	fprintf(stderr, "%d passed, 0 failed\n", ran);
	return 0;
}

#define TEST_MAIN(...)                                                         \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		static const struct sk_test tests_[] = {__VA_ARGS__};          \
		return sk_test_main(argc, argv, tests_,                        \
				    sizeof tests_ / sizeof tests_[0]);         \
	}

/* A loop on the backend named by SOCKIT_BACKEND (the default otherwise). */
static inline sk_loop *test_loop(void)
{
	sk_loop *loop = NULL;
	int r = sk_loop_new(&loop, NULL);
	if (r < 0)
		FAIL("sk_loop_new: %s", sk_strerror(r));
	return loop;
}

/* Run the loop until *flag becomes nonzero or timeout_ms passes. */
static inline void test_run_until(sk_loop *loop, volatile int *flag,
				  unsigned timeout_ms)
{
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + timeout_ms;
	while (!*flag) {
		sk_loop_update_time(loop);
		if (sk_loop_now(loop) >= end)
			FAIL("timed out after %u ms waiting", timeout_ms);
		int r = sk_loop_run_once(loop, 50);
		if (r < 0)
			FAIL("sk_loop_run_once: %s", sk_strerror(r));
	}
}

#endif
