/*
 * src/bt/info.c - `sockit bt info`: what a .torrent holds.
 *
 * One "key: value" per line so scripts can grep it, then the tracker
 * tiers and the file list, indented.  Strings from the torrent are printed
 * with control bytes escaped (\xNN): a torrent is foreign input and must
 * not be able to send escape sequences to the terminal.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt/bt.h"
#include "bt/metainfo.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: sockit bt info [-h] FILE.torrent... (- reads stdin)\n"
		   "Show a torrent's name, size, files, piece size, info-hash and "
		   "trackers.\n"
		   "The torrent is checked as strictly as `sockit bt` will use it "
		   "(canonical\nbencode, safe paths, piece count); a torrent that "
		   "fails is reported with\nthe reason and exit code 1.\n");
}

static void put_safe(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f || *c == '\\')
			printf("\\x%02x", *c);
		else
			putchar(*c);
	}
}

static void field(const char *key, const char *val)
{
	if (!val)
		return;
	printf("%-15s", key);
	put_safe(val);
	putchar('\n');
}

/* 1536 -> "1.5 KiB" */
static void human(uint64_t n, char *buf, size_t cap)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%" PRIu64 " B", n);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
}

static void show_sizes(const struct bt_metainfo *m)
{
	char h[32];
	human(m->total_length, h, sizeof h);
	printf("%-15s%" PRIu64 " bytes (%s)\n", "size:", m->total_length, h);
	human(m->piece_length, h, sizeof h);
	printf("%-15s%" PRIu32 " bytes (%s)\n", "piece size:", m->piece_length, h);
	printf("%-15s%" PRIu32 "\n", "pieces:", m->npieces);
}

static void show_date(int64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || !gmtime_r(&tt, &tm) ||
	    !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
		return;
	field("creation date:", buf);
}

static void show_trackers(const struct bt_metainfo *m)
{
	if (m->ntiers == 0) {
		printf("%-15s(none)\n", "trackers:");
		return;
	}
	printf("trackers:\n");
	for (size_t t = 0; t < m->ntiers; t++) {
		for (size_t i = 0; i < m->tiers[t].n; i++) {
			if (i == 0)
				printf("  tier %-4zu ", t + 1);
			else
				printf("             ");
			put_safe(m->tiers[t].urls[i]);
			putchar('\n');
		}
	}
}

static void show_files(const struct bt_metainfo *m)
{
	printf("%-15s%zu\n", "files:", m->nfiles);
	for (size_t i = 0; i < m->nfiles; i++) {
		printf("  %14" PRIu64 "  ", m->files[i].length);
		put_safe(m->files[i].path);
		if (m->files[i].pad)
			printf("  (padding)");
		putchar('\n');
	}
}

static void show(const struct bt_metainfo *m)
{
	char hex[2 * BT_HASH_LEN + 1];
	bt_hex(m->info_hash, BT_HASH_LEN, hex);
	field("name:", m->name);
	field("info-hash:", hex);
	show_sizes(m);
	field("private:", m->is_private ? "yes" : "no");
	field("source:", m->source);
	field("created by:", m->created_by);
	show_date(m->creation_date);
	field("comment:", m->comment);
	show_trackers(m);
	show_files(m);
}

int bt_cmd_info(int argc, char **argv)
{
	static const struct option longs[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "sockit bt info: unknown option '%s' "
				"(see sockit bt info --help)\n", argv[optind - 1]);
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "sockit bt info: no torrent given (see sockit bt "
				"info --help)\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		struct bt_metainfo m;
		bool in = strcmp(argv[i], "-") == 0;
		if ((in ? bt_metainfo_load_fd(&m, STDIN_FILENO)
			: bt_metainfo_load(&m, argv[i])) < 0) {
			fprintf(stderr, "sockit bt info: %s: %s\n", argv[i], m.error);
			rc = 1;
			continue;
		}
		if (i > optind)
			putchar('\n');
		show(&m);
		bt_metainfo_free(&m);
	}
	return rc;
}
