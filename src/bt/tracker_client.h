/*
 * src/bt/tracker_client.h - announcing to a torrent's trackers.
 *
 * HTTP(S) trackers (BEP 3, compact BEP 23, peers6 BEP 7) are asked with an
 * HTTP/1.0 GET over sk_connect and answered through the bounded parsers
 * of tracker_proto.h; UDP trackers (BEP 15) over an sk_dgram with the
 * connect/announce exchange, retransmitted on a timeout (BT_TC_UDP_TRY_MS,
 * doubling, BT_TC_UDP_TRIES times) and the connection id reused for a
 * minute.  Every socket is bound to the configured local IP, so a tracker
 * sees the peer's own address even when several peers share a host.
 *
 * Trackers are tried in BEP 12 order: the URLs of the first tier (in an
 * order shuffled once at the start), then the next tier, and so on; the
 * first one that answers moves to the front of its tier, and the next
 * announce starts again from the first tier.  When every tracker failed,
 * the round is retried after retry_ms, doubling up to BT_TC_RETRY_MAX_MS.
 * After a success the next announce comes after the interval the tracker
 * gave.  The event is sent once: "started" with the first announce that
 * succeeds, "completed" likewise once the download is done, and "stopped"
 * at the end, with a short deadline so that quitting is never held up.
 */
#ifndef SK_BT_TRACKER_CLIENT_H
#define SK_BT_TRACKER_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "bt/metainfo.h"
#include "bt/tracker_proto.h"
#include "sockit/sockit.h"

#define BT_TC_HTTP_TIMEOUT_MS 15000
#define BT_TC_UDP_TRY_MS 3000
#define BT_TC_UDP_TRIES 3
#define BT_TC_RETRY_MAX_MS (30u * 60 * 1000)
#define BT_TC_MAX_PEERS 200

struct bt_tc_opts {
	const struct bt_metainfo *m;
	uint8_t peer_id[20];
	uint16_t port;
	const char *bind_ip;     /* numeric local IP for every socket, NULL: any */
	const char *announce_ip; /* sent as "ip" (HTTP) or the IPv4 field (UDP) */
	int32_t numwant;         /* default 50 */
	unsigned retry_ms;       /* first retry after a failed round (15 s) */
	unsigned udp_try_ms;     /* first UDP timeout (BT_TC_UDP_TRY_MS) */
	/* Peers from an answer (the array is valid during the call). */
	void (*peers)(void *ud, const struct bt_peer *v, size_t n);
	/* The numbers to report; left = 0 means we are a seeder. */
	void (*stats)(void *ud, uint64_t *up, uint64_t *down, uint64_t *left);
	void *ud;
};

struct bt_tc;

int bt_tc_new(sk_loop *loop, const struct bt_tc_opts *o, struct bt_tc **out);
/* Announce "started" now, and keep announcing. */
void bt_tc_start(struct bt_tc *tc);
/* The download finished: announce "completed" now. */
void bt_tc_completed(struct bt_tc *tc);
/* Announce soon (as the tracker's min interval allows): we want peers. */
void bt_tc_want_peers(struct bt_tc *tc);
/* Announce "stopped", then call done(arg) (after at most timeout_ms,
 * whatever happened; at once when nothing was ever announced). */
void bt_tc_stop(struct bt_tc *tc, unsigned timeout_ms, void (*done)(void *arg),
		void *arg);
/* Successful announces so far, and the last error ("" if none). */
unsigned bt_tc_successes(const struct bt_tc *tc);
const char *bt_tc_last_error(const struct bt_tc *tc);
void bt_tc_free(struct bt_tc *tc);

#endif
