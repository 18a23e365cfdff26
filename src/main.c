/*
 * src/main.c - the `sockit` program: global options, then a subcommand.
 *
 *   sockit [-v|--verbose] [-q|--quiet] <command> [args...]
 *
 * Exit codes: 0 ok, 1 runtime error, 2 usage error.
 *
 * Adding a subcommand: write `int NAME_main(int argc, char **argv)` in its
 * own directory (src/irc/, src/bt/, src/cat/ are globbed by CMake), declare
 * it in a header included below and add one row to `commands`.  argv[0] is the command
 * name; the function parses its own options, answers `--help`, and returns
 * the exit code.
 */
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bt.h"
#include "cat/cat.h"
#include "irc/ircd.h"
#include "sockit/sockit.h"
#include "util/log.h"

#define SK_PROG_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/* One row per subcommand, in the order --help lists them (ircd: later). */
static const struct command commands[] = {
	{"version", cmd_version, "print the versions of sockit, its loop backend and libraries"},
	{"help", cmd_help, "show this help, or `help COMMAND` for a command's own"},
	{"cat", cat_main, "the socket Swiss-army knife: connect, listen, relay, TLS"},
	{"bt", bt_main, "BitTorrent: download, seed, run a tracker, make torrents"},
	{"ircd", ircd_main, "an IRC server (127.0.0.1:6667 by default)"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sockit [-v|--verbose] [-q|--quiet] <command> [args...]\n"
		   "\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
		   "options:\n"
		   "  -v, --verbose  log more (repeat for debug)\n"
		   "  -q, --quiet    log less (repeat for errors only)\n"
		   "  -h, --help     this help\n"
		   "  -V, --version  same as `sockit version`\n"
		   "\n"
		   "environment: SOCKIT_BACKEND=uring|epoll|poll forces a loop "
		   "backend;\n"
		   "             SOCKIT_LOG=error|warn|info|debug sets the log "
		   "level.\n");
}

static int unknown_command(const char *name)
{
	fprintf(stderr, "sockit: unknown command '%s' (see sockit --help)\n", name);
	return EXIT_USAGE;
}

/* "3.0.11" rather than OpenSSL's "OpenSSL 3.0.11 19 Sep 2023". */
static const char *openssl_version(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	return OpenSSL_version(OPENSSL_VERSION_STRING);
#else
	const char *v = OpenSSL_version(OPENSSL_VERSION);
	static char buf[32];
	if (strncmp(v, "OpenSSL ", 8) == 0)
		v += 8;
	snprintf(buf, sizeof buf, "%.*s", (int)strcspn(v, " "), v);
	return buf;
#endif
}

static int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: sockit version\n"
		       "Print the versions of sockit and libsockit, the event loop "
		       "backend a\nloop gets here (honours SOCKIT_BACKEND), and "
		       "the OpenSSL and c-ares\nlibraries in use.\n");
		return EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "sockit version: unexpected argument '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	/* The backend is a run-time choice: ask a real loop. */
	sk_loop *loop = NULL;
	int r = sk_loop_new(&loop, NULL);
	const char *backend = r < 0 ? "none" : sk_loop_backend(loop);
	printf("sockit %s (libsockit %s, backend: %s, OpenSSL %s, c-ares %s)\n",
	       SK_PROG_VERSION, sk_version(), backend, openssl_version(),
	       ares_version(NULL));
	if (loop)
		sk_loop_free(loop);
	if (r < 0) {
		sk_log_error("no event loop backend: %s", sk_strerror(r));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	const struct command *c = find_command(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	if (c->fn == cmd_help) {
		usage(stdout);
		return EXIT_OK;
	}
	char help[] = "--help";
	char *sub[] = {argv[1], help, NULL};
	return c->fn(2, sub);
}

int main(int argc, char **argv)
{
	sk_log_init();
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			sk_log_verbose();
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			sk_log_quiet();
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			char name[] = "version";
			char *sub[] = {name, NULL};
			return cmd_version(1, sub);
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "sockit: unknown option '%s' (see sockit --help)\n", a);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const struct command *c = find_command(argv[i]);
	if (!c)
		return unknown_command(argv[i]);
	sk_log_set_tag(c->name);
	return c->fn(argc - i, argv + i);
}
