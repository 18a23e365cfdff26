/*
 * src/bt/get.c - `sockit bt get` and `sockit bt seed`: options, signals
 * and the exit code around struct bt_client (client.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt/bt.h"
#include "bt/client.h"
#include "util/log.h"
#include "util/num.h"

static void usage(FILE *f, bool seed)
{
	if (seed)
		fprintf(f, "usage: sockit bt seed FILE.torrent -d DIR [options]\n"
			   "Check the data in DIR against the torrent and seed it.\n");
	else
		fprintf(f, "usage: sockit bt get FILE.torrent [-d DIR] [options]\n"
			   "Download into DIR (default .), then seed until a limit "
			   "or a signal.\nData already in DIR is checked first; "
			   "verified pieces are kept.\n");
	fprintf(f,
		"\n"
		"  -d, --dir DIR              download directory (default .)\n"
		"  -l, --listen IP:PORT       peer listener (default 0.0.0.0:6881, or the\n"
		"                             next free port up to 6889); outgoing peer\n"
		"                             and tracker connections leave from this IP\n"
		"      --announce-ip IP       the address trackers should hand out\n"
		"  -p, --peer IP:PORT         a peer to connect to (repeatable; works\n"
		"                             without a tracker)\n"
		"  -D, --max-download-rate R  bytes/s, K/M/G suffixes (default: none)\n"
		"  -U, --max-upload-rate R    bytes/s (default: none)\n"
		"      --max-peers N          connections (default 50)\n"
		"      --upload-slots N       peers unchoked at once (default 4)\n"
		"      --seed-ratio R         stop once uploaded/size reaches R\n"
		"      --seed-time S          stop after seeding S seconds (0: at once)\n"
		"      --prealloc             allocate files fully (default: sparse)\n"
		"      --on-complete CMD      run `sh -c CMD` when the download completes\n"
		"                             (SOCKIT_BT_DIR, SOCKIT_BT_NAME and\n"
		"                             SOCKIT_BT_TORRENT in its environment)\n"
		"      --progress-interval S  progress line period (default 1)\n"
		"      --no-progress          no progress line\n"
		"\n"
		"The progress line on stderr is like aria2's:\n"
		"  [#HASH HAVE/SIZE(PCT%%) CN:PEERS SD:SEEDS DL:RATE UL:RATE ETA:T]\n"
		"SIGINT/SIGTERM stop cleanly (the tracker hears \"stopped\"); a second\n"
		"signal quits at once.\n"
		"\n"
		"Exit codes: 0 complete (seeding ended by a limit or a signal),\n"
		"1 runtime error (bad torrent, disk, listen address), 2 usage error,\n"
		"3 stopped before the download completed, 4 seed: data missing or\n"
		"damaged.\n");
}

static int bad(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "sockit bt %s: %s '%s' (see --help)\n", cmd, what, arg);
	return BT_EXIT_USAGE;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;
	int r = util_parse_num(s, false, lo, hi, &v);
	if (r < 0)
		return r;
	*out = (unsigned)v;
	return 0;
}

enum {
	OPT_ANNOUNCE_IP = 256, OPT_MAX_PEERS, OPT_SLOTS, OPT_RATIO, OPT_TIME,
	OPT_PREALLOC, OPT_PROGRESS, OPT_NO_PROGRESS, OPT_CORRUPT, OPT_ON_COMPLETE,
};

static int parse_opts(const char *cmd, int argc, char **argv,
		      struct bt_client_opts *o, char **peers)
{
	static const struct option longs[] = {
		{"dir", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"peer", required_argument, NULL, 'p'},
		{"max-download-rate", required_argument, NULL, 'D'},
		{"max-upload-rate", required_argument, NULL, 'U'},
		{"announce-ip", required_argument, NULL, OPT_ANNOUNCE_IP},
		{"max-peers", required_argument, NULL, OPT_MAX_PEERS},
		{"upload-slots", required_argument, NULL, OPT_SLOTS},
		{"seed-ratio", required_argument, NULL, OPT_RATIO},
		{"seed-time", required_argument, NULL, OPT_TIME},
		{"prealloc", no_argument, NULL, OPT_PREALLOC},
		{"on-complete", required_argument, NULL, OPT_ON_COMPLETE},
		{"progress-interval", required_argument, NULL, OPT_PROGRESS},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		/* TEST ONLY, not in --help: corrupt every block uploaded, so
		 * the integration tests can check that bad data is caught */
		{"corrupt-uploads", no_argument, NULL, OPT_CORRUPT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned u = 0;
	int c;
	size_t np = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:l:p:D:U:h", longs, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, strcmp(cmd, "seed") == 0);
			return -1;
		case 'd': o->dir = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'p':
			if (np >= 64)
				return bad(cmd, "too many peers at", optarg);
			peers[np++] = optarg;
			break;
		case 'D':
		case 'U':
			if (util_parse_num(optarg, true, 0, UINT64_C(1) << 50,
					   c == 'D' ? &o->max_down : &o->max_up) < 0)
				return bad(cmd, "bad rate", optarg);
			break;
		case OPT_ANNOUNCE_IP: o->announce_ip = optarg; break;
		case OPT_MAX_PEERS:
			if (parse_uint(optarg, 1, 10000, &o->max_peers) < 0)
				return bad(cmd, "bad peer count", optarg);
			break;
		case OPT_SLOTS:
			if (parse_uint(optarg, 1, 1000, &o->slots) < 0)
				return bad(cmd, "bad slot count", optarg);
			break;
		case OPT_RATIO: {
			char *end;
			o->seed_ratio = strtod(optarg, &end);
			if (end == optarg || *end || o->seed_ratio < 0)
				return bad(cmd, "bad ratio", optarg);
			break;
		}
		case OPT_TIME:
			if (parse_uint(optarg, 0, 100000000, &u) < 0)
				return bad(cmd, "bad time", optarg);
			o->seed_time = u;
			break;
		case OPT_PREALLOC: o->falloc = true; break;
		case OPT_ON_COMPLETE: o->on_complete = optarg; break;
		case OPT_PROGRESS:
			if (parse_uint(optarg, 1, 3600, &u) < 0)
				return bad(cmd, "bad interval", optarg);
			o->progress_ms = u * 1000;
			break;
		case OPT_NO_PROGRESS: o->no_progress = true; break;
		case OPT_CORRUPT: o->corrupt_uploads = true; break;
		case ':': return bad(cmd, "option needs a value", argv[optind - 1]);
		default: return bad(cmd, "unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad(cmd, "no torrent given", "");
	if (optind != argc - 1)
		return bad(cmd, "unexpected argument", argv[optind + 1]);
	o->torrent = argv[optind];
	peers[np] = NULL;
	return 0;
}

struct sigctx {
	struct bt_client *cl;
	unsigned count;
};

static void on_signal(sk_signal *s, int signum, void *ud)
{
	struct sigctx *sc = ud;
	if (sc->count++ || sc->cl->stopping) {
		sk_log_warn("signal %d again: quitting now", signum);
		sk_loop_stop(sc->cl->loop);
		return;
	}
	sk_log_info("signal %d: stopping", signum);
	bt_client_stop(sc->cl, sc->cl->complete ? BT_EXIT_OK : BT_EXIT_INCOMPLETE);
}

/* The default listener: 6881, else the next free port up to 6889. */
static int start_default(struct bt_client *cl)
{
	char addr[32];
	int r = SK_EADDRINUSE;
	for (unsigned port = 6881; port <= 6889 && r == SK_EADDRINUSE; port++) {
		snprintf(addr, sizeof addr, "0.0.0.0:%u", port);
		cl->o.listen = addr;
		r = bt_net_start(cl);
	}
	return r;
}

static int run(const char *cmd, int argc, char **argv, bool seed)
{
	struct bt_client_opts o = {
		.dir = ".", .max_peers = 50, .slots = 4, .seed_ratio = -1,
		.seed_time = -1, .seed_only = seed, .progress_ms = 1000,
	};
	char *peers[65];
	int code = parse_opts(cmd, argc, argv, &o, peers);
	if (code)
		return code < 0 ? BT_EXIT_OK : code;

	sk_loop *loop;
	int r = sk_loop_new(&loop, NULL);
	if (r < 0) {
		sk_log_error("event loop: %s", sk_strerror(r));
		return BT_EXIT_ERROR;
	}
	struct bt_client *cl = calloc(1, sizeof *cl);
	struct sigctx sc = {cl, 0};
	sk_signal *sig[2] = {NULL, NULL};
	if (!cl) {
		sk_loop_free(loop);
		return BT_EXIT_ERROR;
	}
	code = bt_client_init(cl, loop, &o);
	for (size_t i = 0; code == 0 && peers[i]; i++)
		if (bt_net_add_peer_str(cl, peers[i]) < 0) {
			fprintf(stderr, "sockit bt %s: bad peer address '%s'\n", cmd,
				peers[i]);
			code = BT_EXIT_USAGE;
		}
	if (code == 0) {
		r = o.listen ? bt_net_start(cl) : start_default(cl);
		if (r < 0) {
			sk_log_error("cannot start on %s: %s", cl->o.listen,
				     sk_strerror(r));
			code = BT_EXIT_ERROR;
		}
	}
	if (code == 0 && (sk_signal_new(loop, SIGINT, on_signal, &sc, &sig[0]) < 0 ||
			  sk_signal_new(loop, SIGTERM, on_signal, &sc, &sig[1]) < 0))
		sk_log_warn("cannot watch signals");
	if (code == 0 && cl->complete && !seed)
		sk_log_info("already complete: seeding");
	if (code == 0) {
		r = sk_loop_run(loop);
		if (r < 0) {
			sk_log_error("event loop: %s", sk_strerror(r));
			code = BT_EXIT_ERROR;
		} else {
			code = cl->stopping ? cl->exit_code
					    : cl->complete ? BT_EXIT_OK : BT_EXIT_INCOMPLETE;
		}
		if (!o.no_progress && isatty(2))
			fputc('\n', stderr);
		sk_log_info("uploaded %llu bytes, downloaded %llu bytes, %llu pieces "
			    "fetched, %llu bad", (unsigned long long)cl->uploaded,
			    (unsigned long long)cl->downloaded,
			    (unsigned long long)cl->pieces_fetched,
			    (unsigned long long)cl->bad_pieces);
	}
	bt_stop_signals_free(sig);
	bt_client_free(cl);
	free(cl);
	sk_loop_free(loop);
	return code;
}

int bt_cmd_get(int argc, char **argv)
{
	return run("get", argc, argv, false);
}

int bt_cmd_seed(int argc, char **argv)
{
	return run("seed", argc, argv, true);
}
