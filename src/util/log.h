/*
 * src/util/log.h - stderr logging for the sockit programs (not the library:
 * libsockit never prints, it returns error codes).
 *
 *   sk_log(SK_LOG_INFO, "listening on %s", addr);
 *   -> "2025-01-31T12:00:00.123Z info  listening on 127.0.0.1:6667"
 *
 * Process-wide state, documented: the level, the timestamp switch and the
 * program name are globals set once by main() before any thread starts;
 * sk_log() itself is thread-safe (one locked write per message, so lines
 * from different threads never interleave).
 */
#ifndef SK_UTIL_LOG_H
#define SK_UTIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "sockit/common.h"

enum sk_log_level {
	SK_LOG_ERROR = 0,
	SK_LOG_WARN = 1,
	SK_LOG_INFO = 2,
	SK_LOG_DEBUG = 3
};

/* Read SOCKIT_LOG (error|warn|info|debug) and SOCKIT_LOG_TIME (0 turns
 * timestamps off) from the environment.  main() calls it first, then
 * applies --verbose/--quiet on top. */
void sk_log_init(void);

/* Messages above this level are dropped (default SK_LOG_INFO). */
void sk_log_set_level(int level);
int sk_log_level(void);
/* --verbose / --quiet: one step more or less (clamped). */
void sk_log_verbose(void);
void sk_log_quiet(void);
/* "error", "warn", "info", "debug" (or 0-3) -> level, -1 if unknown. */
int sk_log_parse_level(const char *s);
const char *sk_log_level_name(int level);

/* Timestamps (UTC, milliseconds) are on by default; off is handy for
 * tests that compare output. */
void sk_log_set_timestamps(bool on);
/* A tag printed after the level, e.g. "ircd" (NULL for none). */
void sk_log_set_tag(const char *tag);

/* True when a message at level would be printed: guard expensive
 * formatting with it. */
bool sk_log_enabled(int level);

void sk_log(int level, const char *fmt, ...) SK_PRINTF(2, 3);
void sk_vlog(int level, const char *fmt, va_list ap);

#define sk_log_error(...) sk_log(SK_LOG_ERROR, __VA_ARGS__)
#define sk_log_warn(...) sk_log(SK_LOG_WARN, __VA_ARGS__)
#define sk_log_info(...) sk_log(SK_LOG_INFO, __VA_ARGS__)
#define sk_log_debug(...) sk_log(SK_LOG_DEBUG, __VA_ARGS__)

#endif
