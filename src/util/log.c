/*
 * src/util/log.c - leveled stderr logging for the sockit programs.
 */
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int log_level = SK_LOG_INFO;
static bool log_time = true;
static const char *log_tag;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sk_log_init(void)
{
	const char *s = getenv("SOCKIT_LOG");
	if (s && *s) {
		int l = sk_log_parse_level(s);
		if (l >= 0)
			log_level = l;
	}
	s = getenv("SOCKIT_LOG_TIME");
	if (s && strcmp(s, "0") == 0)
		log_time = false;
}

void sk_log_set_level(int level)
{
	if (level < SK_LOG_ERROR)
		level = SK_LOG_ERROR;
	if (level > SK_LOG_DEBUG)
		level = SK_LOG_DEBUG;
	log_level = level;
}

int sk_log_level(void) { return log_level; }
void sk_log_verbose(void) { sk_log_set_level(log_level + 1); }
void sk_log_quiet(void) { sk_log_set_level(log_level - 1); }
void sk_log_set_timestamps(bool on) { log_time = on; }
void sk_log_set_tag(const char *tag) { log_tag = tag; }
bool sk_log_enabled(int level) { return level <= log_level; }

int sk_log_parse_level(const char *s)
{
	for (int i = 0; i <= SK_LOG_DEBUG; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return SK_LOG_WARN;
	if (s[0] >= '0' && s[0] <= '3' && s[1] == '\0')
		return s[0] - '0';
	return -1;
}

const char *sk_log_level_name(int level)
{
	if (level < SK_LOG_ERROR || level > SK_LOG_DEBUG)
		return "?";
	return level_names[level];
}

void sk_vlog(int level, const char *fmt, va_list ap)
{
	if (!sk_log_enabled(level))
		return;
	/* Build the whole line first so that it reaches stderr in one write
	 * and lines from different threads never interleave. */
	char line[2048];
	size_t n = 0;
	if (log_time) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ ",
				      ts.tv_nsec / 1000000);
	}
	int r = snprintf(line + n, sizeof line - n, "%-5s %s%s", sk_log_level_name(level),
			 log_tag ? log_tag : "", log_tag ? ": " : "");
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof line) {
		r = vsnprintf(line + n, sizeof line - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof line - 1) { /* truncated: mark it, keep the newline */
		n = sizeof line - 1;
		memcpy(line + n - 4, "...", 3);
		line[n - 1] = '\n';
	} else {
		line[n++] = '\n';
	}
	flockfile(stderr);
	fwrite(line, 1, n, stderr);
	funlockfile(stderr);
}

void sk_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sk_vlog(level, fmt, ap);
	va_end(ap);
}
