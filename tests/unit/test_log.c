/*
 * tests/unit/test_log.c - the sockit program's stderr logger (src/util/log.c,
 * compiled in here: it is part of the program, not of libsockit).
 */
#include "test.h"

#include <fcntl.h>
#include <regex.h>

#include "util/log.h"

/* Run fn with stderr redirected into a pipe; return what it wrote. */
static char captured[8192];

static const char *capture(void (*fn)(void))
{
	int p[2], saved = dup(STDERR_FILENO);
	ASSERT_OK(pipe(p));
	fflush(stderr);
	ASSERT_OK(dup2(p[1], STDERR_FILENO));
	close(p[1]);
	fn();
	fflush(stderr);
	ASSERT_OK(dup2(saved, STDERR_FILENO));
	close(saved);
	ssize_t n = read(p[0], captured, sizeof captured - 1);
	close(p[0]);
	captured[n > 0 ? n : 0] = '\0';
	return captured;
}

static void log_levels(void)
{
	sk_log_error("e%d", 1);
	sk_log_warn("w%d", 2);
	sk_log_info("i%d", 3);
	sk_log_debug("d%d", 4);
}

TEST(default_level_is_info)
{
	sk_log_set_timestamps(false);
	sk_log_set_tag(NULL);
	sk_log_set_level(SK_LOG_INFO);
	ASSERT_STREQ(capture(log_levels), "error e1\nwarn  w2\ninfo  i3\n");
}

TEST(verbose_and_quiet_step_and_clamp)
{
	sk_log_set_timestamps(false);
	sk_log_set_level(SK_LOG_INFO);
	sk_log_verbose();
	ASSERT_EQ(sk_log_level(), SK_LOG_DEBUG);
	sk_log_verbose();
	ASSERT_EQ(sk_log_level(), SK_LOG_DEBUG);
	ASSERT_STREQ(capture(log_levels), "error e1\nwarn  w2\ninfo  i3\ndebug d4\n");
	for (int i = 0; i < 5; i++)
		sk_log_quiet();
	ASSERT_EQ(sk_log_level(), SK_LOG_ERROR);
	ASSERT_STREQ(capture(log_levels), "error e1\n");
	ASSERT(!sk_log_enabled(SK_LOG_WARN));
}

static void log_one(void) { sk_log_info("listening on %s", "127.0.0.1:6667"); }

TEST(timestamp_and_tag)
{
	regex_t re;
	sk_log_set_level(SK_LOG_INFO);
	sk_log_set_timestamps(true);
	sk_log_set_tag("ircd");
	ASSERT_EQ(regcomp(&re,
			  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
			  "info  ircd: listening on 127\\.0\\.0\\.1:6667\n$",
			  REG_EXTENDED),
		  0);
	const char *out = capture(log_one);
	if (regexec(&re, out, 0, NULL, 0) != 0)
		FAIL("unexpected line: %s", out);
	regfree(&re);
	sk_log_set_tag(NULL);
}

static void log_long(void)
{
	static char big[5000];
	memset(big, 'x', sizeof big - 1);
	sk_log_warn("%s", big);
}

TEST(long_message_is_cut_with_a_newline)
{
	sk_log_set_timestamps(false);
	sk_log_set_level(SK_LOG_INFO);
	const char *out = capture(log_long);
	size_t n = strlen(out);
	ASSERT(n > 1000 && n < 2100);
	ASSERT_EQ(out[n - 1], '\n');
	ASSERT(strstr(out, "...\n") != NULL);
	ASSERT_EQ(strchr(out, '\n') - out, (long long)n - 1); /* one line */
}

TEST(parse_level_and_env)
{
	ASSERT_EQ(sk_log_parse_level("error"), SK_LOG_ERROR);
	ASSERT_EQ(sk_log_parse_level("WARN"), SK_LOG_WARN);
	ASSERT_EQ(sk_log_parse_level("warning"), SK_LOG_WARN);
	ASSERT_EQ(sk_log_parse_level("debug"), SK_LOG_DEBUG);
	ASSERT_EQ(sk_log_parse_level("2"), SK_LOG_INFO);
	ASSERT_EQ(sk_log_parse_level("loud"), -1);
	ASSERT_EQ(sk_log_parse_level("4"), -1);
	ASSERT_STREQ(sk_log_level_name(SK_LOG_WARN), "warn");

	setenv("SOCKIT_LOG", "debug", 1);
	setenv("SOCKIT_LOG_TIME", "0", 1);
	sk_log_set_timestamps(true);
	sk_log_set_level(SK_LOG_INFO);
	sk_log_init();
	ASSERT_EQ(sk_log_level(), SK_LOG_DEBUG);
	ASSERT_STREQ(capture(log_one), "info  listening on 127.0.0.1:6667\n");
	setenv("SOCKIT_LOG", "nonsense", 1); /* ignored, level kept */
	sk_log_init();
	ASSERT_EQ(sk_log_level(), SK_LOG_DEBUG);
	unsetenv("SOCKIT_LOG");
	unsetenv("SOCKIT_LOG_TIME");
}

TEST_MAIN(TEST_ENTRY(default_level_is_info), TEST_ENTRY(verbose_and_quiet_step_and_clamp),
	  TEST_ENTRY(timestamp_and_tag), TEST_ENTRY(long_message_is_cut_with_a_newline),
	  TEST_ENTRY(parse_level_and_env))
