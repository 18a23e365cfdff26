/*
 * src/bt/bt_main.c - `sockit bt`: the BitTorrent subcommands.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bt/bt.h"

struct bt_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct bt_command commands[] = {
	{"create", bt_cmd_create, "make a .torrent of a file or a directory"},
	{"info", bt_cmd_info, "show what a .torrent holds"},
	{"get", bt_cmd_get, "download a torrent, then seed it"},
	{"seed", bt_cmd_seed, "check data against a torrent and seed it"},
	{"tracker", bt_cmd_tracker, "run a tracker (HTTP, optionally UDP)"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "usage: sockit bt <command> [args...]\n"
		   "BitTorrent (BEP 3, v1 torrents).\n"
		   "\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`sockit bt COMMAND --help` shows a command's options.\n");
}

int bt_main(int argc, char **argv)
{
	/* A peer that resets is an error value, not a signal; and ignoring
	 * SIGPIPE lets uploads use sendfile (see sk_conn_write_file). */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
	    strcmp(name, "help") == 0) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			char help[] = "--help";
			char *sub[] = {argv[2], help, NULL};
			for (size_t i = 0; i < NCOMMANDS; i++)
				if (strcmp(commands[i].name, argv[2]) == 0)
					return commands[i].fn(2, sub);
			fprintf(stderr, "sockit bt: unknown command '%s' "
					"(see sockit bt --help)\n", argv[2]);
			return 2;
		}
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sockit bt: unknown command '%s' (see sockit bt --help)\n",
		name);
	return 2;
}

/* A stop signal often comes twice (timeout(1) and process managers signal
 * the whole group too); with the watchers gone the second would kill the
 * process with the default action mid-cleanup: block both, then free the
 * watchers. */
void bt_stop_signals_free(sk_signal *sig[2])
{
	sigset_t stop_sigs;
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
	for (int i = 0; i < 2; i++)
		if (sig[i])
			sk_signal_free(sig[i]);
}
