/*
 * src/bt/tracker_srv.h - the built-in tracker behind `sockit bt tracker`.
 *
 * An HTTP tracker (BEP 3 announce with BEP 23 compact and BEP 7 peers6
 * lists, or dict peers; scrape), and optionally the same over UDP (BEP 15)
 * on the same address and port.  State is in memory only: swarms keyed by
 * info-hash, peers keyed by peer id, each forgotten two intervals after
 * its last announce.  Everything a client sends is bounded: request heads
 * (BT_TRACKER_HEAD_MAX), idle connections (closed after a timeout), peers
 * per swarm and swarms per tracker (new ones refused beyond the caps).
 *
 * Made for a swarm on one network (the integration tests, the benchmark):
 * it trusts the "ip" parameter when it is a numeric address, so a peer
 * can announce the address others should dial.
 */
#ifndef SK_BT_TRACKER_SRV_H
#define SK_BT_TRACKER_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/sockit.h"

#define BT_TRACKER_HEAD_MAX 4096

struct bt_tracker_opts {
	const char *listen;     /* "IP:PORT" (default 127.0.0.1:6969) */
	bool udp;               /* also answer BEP 15 on the same address */
	unsigned interval;      /* seconds between announces (default 300) */
	unsigned min_interval;  /* default: interval / 2 */
	unsigned numwant;       /* peers when the client names none (50) */
	unsigned numwant_max;   /* cap on numwant (200) */
	size_t max_swarms;      /* default 10000 */
	size_t max_peers;       /* per swarm, default 10000 */
};

struct bt_tracker;

int bt_tracker_new(sk_loop *loop, const struct bt_tracker_opts *o,
		   struct bt_tracker **out);
/* The port it listens on (useful with port 0). */
uint16_t bt_tracker_port(const struct bt_tracker *t);
/* Number of swarms / peers known now (tests). */
size_t bt_tracker_swarms(const struct bt_tracker *t);
size_t bt_tracker_peers(const struct bt_tracker *t, const uint8_t ih[20]);
size_t bt_tracker_seeds(const struct bt_tracker *t, const uint8_t ih[20]);
void bt_tracker_free(struct bt_tracker *t);

#endif
