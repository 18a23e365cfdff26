/*
 * src/bt/tracker_udp.c - UDP tracker packets (BEP 15), both directions.
 *
 *   connect   req: magic:8 action:4 tid:4                     (16 bytes)
 *             resp: action:4 tid:4 conn_id:8                  (16)
 *   announce  req: conn_id:8 action:4 tid:4 info_hash:20 peer_id:20
 *                  downloaded:8 left:8 uploaded:8 event:4 ip:4 key:4
 *                  num_want:4 port:2                          (98)
 *             resp: action:4 tid:4 interval:4 leechers:4 seeders:4
 *                   then 6 (IPv4) or 18 (IPv6) bytes per peer (20 + 6n)
 *   scrape    req: conn_id:8 action:4 tid:4 info_hash:20 * n  (16 + 20n)
 *             resp: action:4 tid:4 then seeders:4 completed:4
 *                   leechers:4 per hash                       (8 + 12n)
 *   error     resp: action:4 tid:4 message                    (8 + n)
 *
 * All big-endian.  Requests may carry trailing bytes (BEP 41 options),
 * which are ignored.
 */
#include "bt/tracker_proto.h"

#include <string.h>

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	       p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	return put32(put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

/* ---- client ------------------------------------------------------------------ */

int bt_udp_connect_write(struct sk_buf *b, uint32_t tid)
{
	uint8_t *p;
	int r = sk_buf_reserve(b, 16, &p);
	if (r < 0)
		return r;
	put32(put32(put64(p, BT_UDP_PROTOCOL_ID), BT_UDP_CONNECT), tid);
	sk_buf_commit(b, 16);
	return 0;
}

int bt_udp_announce_write(struct sk_buf *b, uint64_t conn_id, uint32_t tid,
			  const struct bt_announce_req *a)
{
	uint8_t *p, *q;
	int r = sk_buf_reserve(b, 98, &p);
	if (r < 0)
		return r;
	q = put32(put32(put64(p, conn_id), BT_UDP_ANNOUNCE), tid);
	memcpy(q, a->info_hash, 20);
	memcpy(q + 20, a->peer_id, 20);
	q = put64(put64(put64(q + 40, a->downloaded), a->left), a->uploaded);
	uint32_t ev = a->event >= 0 && a->event <= 3 ? (uint32_t)a->event : 0;
	q = put32(put32(put32(q, ev), 0), a->key);
	q = put32(q, a->numwant < 0 ? UINT32_MAX : (uint32_t)a->numwant);
	q[0] = (uint8_t)(a->port >> 8);
	q[1] = (uint8_t)a->port;
	sk_buf_commit(b, 98);
	return 0;
}

int bt_udp_scrape_write(struct sk_buf *b, uint64_t conn_id, uint32_t tid,
			const uint8_t (*hashes)[20], size_t n)
{
	uint8_t *p, *q;
	if (n == 0 || n > BT_UDP_SCRAPE_MAX)
		return SK_EINVAL;
	int r = sk_buf_reserve(b, 16 + 20 * n, &p);
	if (r < 0)
		return r;
	q = put32(put32(put64(p, conn_id), BT_UDP_SCRAPE), tid);
	memcpy(q, hashes, 20 * n);
	sk_buf_commit(b, 16 + 20 * n);
	return 0;
}

int bt_udp_resp_parse(const uint8_t *p, size_t n, struct bt_udp_msg *m)
{
	memset(m, 0, sizeof *m);
	if (n < 8)
		return SK_EPROTO;
	m->action = get32(p);
	m->tid = get32(p + 4);
	switch (m->action) {
	case BT_UDP_CONNECT:
		if (n < 16)
			return SK_EPROTO;
		m->conn_id = get64(p + 8);
		return 0;
	case BT_UDP_ANNOUNCE:
		if (n < 20)
			return SK_EPROTO;
		m->interval = get32(p + 8);
		m->leechers = get32(p + 12);
		m->seeders = get32(p + 16);
		m->peers.p = p + 20;
		m->peers.n = n - 20;
		return 0;
	case BT_UDP_SCRAPE:
		m->entries.p = p + 8;
		m->entries.n = (n - 8) / 12 * 12;
		return 0;
	case BT_UDP_ERROR:
		m->message.p = p + 8;
		m->message.n = n - 8;
		return 0;
	default:
		return SK_EPROTO;
	}
}

void bt_udp_scrape_entry(const struct bt_udp_msg *m, size_t i,
			 struct bt_scrape_entry *e)
{
	const uint8_t *q = m->entries.p + 12 * i;
	e->complete = get32(q);
	e->downloaded = get32(q + 4);
	e->incomplete = get32(q + 8);
}

/* ---- tracker ------------------------------------------------------------------ */

static void parse_announce(const uint8_t *q, struct bt_udp_msg *m)
{
	struct bt_announce_req *a = &m->announce;
	memcpy(a->info_hash, q, 20);
	memcpy(a->peer_id, q + 20, 20);
	a->downloaded = get64(q + 40);
	a->left = get64(q + 48);
	a->uploaded = get64(q + 56);
	uint32_t ev = get32(q + 64);
	a->event = ev <= 3 ? (int)ev : BT_EVENT_NONE;
	m->ip = get32(q + 68);
	a->key = get32(q + 72);
	uint32_t nw = get32(q + 76);
	a->numwant = nw > INT32_MAX ? -1 : (int32_t)nw;
	a->port = (uint16_t)(q[80] << 8 | q[81]);
	a->compact = true;
}

int bt_udp_req_parse(const uint8_t *p, size_t n, struct bt_udp_msg *m)
{
	memset(m, 0, sizeof *m);
	if (n < 16)
		return SK_EPROTO;
	m->conn_id = get64(p);
	m->action = get32(p + 8);
	m->tid = get32(p + 12);
	switch (m->action) {
	case BT_UDP_CONNECT:
		return m->conn_id == BT_UDP_PROTOCOL_ID ? 0 : SK_EPROTO;
	case BT_UDP_ANNOUNCE:
		if (n < 98)
			return SK_EPROTO;
		parse_announce(p + 16, m);
		return 0;
	case BT_UDP_SCRAPE: {
		size_t k = (n - 16) / 20;
		if (k == 0)
			return SK_EPROTO;
		if (k > BT_UDP_SCRAPE_MAX)
			k = BT_UDP_SCRAPE_MAX;
		m->hashes.p = p + 16;
		m->hashes.n = 20 * k;
		return 0;
	}
	default:
		return SK_EPROTO;
	}
}

int bt_udp_connect_resp_write(struct sk_buf *b, uint32_t tid, uint64_t conn_id)
{
	uint8_t *p;
	int r = sk_buf_reserve(b, 16, &p);
	if (r < 0)
		return r;
	put64(put32(put32(p, BT_UDP_CONNECT), tid), conn_id);
	sk_buf_commit(b, 16);
	return 0;
}

int bt_udp_announce_resp_write(struct sk_buf *b, uint32_t tid,
			       uint32_t interval, uint32_t leechers,
			       uint32_t seeders, const struct bt_peer *peers,
			       size_t n, int family)
{
	size_t cnt = 0, len = family == 6 ? BT_COMPACT6_LEN : BT_COMPACT4_LEN;
	uint8_t *p, *q;

	for (size_t i = 0; i < n; i++)
		cnt += peers[i].family == family;
	int r = sk_buf_reserve(b, 20 + cnt * len, &p);
	if (r < 0)
		return r;
	q = put32(put32(put32(put32(put32(p, BT_UDP_ANNOUNCE), tid), interval),
			leechers), seeders);
	for (size_t i = 0; i < n; i++) {
		if (peers[i].family != family)
			continue;
		memcpy(q, peers[i].ip, len - 2);
		q[len - 2] = (uint8_t)(peers[i].port >> 8);
		q[len - 1] = (uint8_t)peers[i].port;
		q += len;
	}
	sk_buf_commit(b, 20 + cnt * len);
	return 0;
}

static uint32_t clamp32(int64_t v)
{
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int bt_udp_scrape_resp_write(struct sk_buf *b, uint32_t tid,
			     const struct bt_scrape_entry *e, size_t n)
{
	uint8_t *p, *q;
	if (n > BT_UDP_SCRAPE_MAX)
		return SK_EINVAL;
	int r = sk_buf_reserve(b, 8 + 12 * n, &p);
	if (r < 0)
		return r;
	q = put32(put32(p, BT_UDP_SCRAPE), tid);
	for (size_t i = 0; i < n; i++)
		q = put32(put32(put32(q, clamp32(e[i].complete)),
				clamp32(e[i].downloaded)),
			  clamp32(e[i].incomplete));
	sk_buf_commit(b, 8 + 12 * n);
	return 0;
}

int bt_udp_error_write(struct sk_buf *b, uint32_t tid, const char *msg)
{
	size_t n = strlen(msg);
	uint8_t *p;
	int r = sk_buf_reserve(b, 8 + n, &p);
	if (r < 0)
		return r;
	memcpy(put32(put32(p, BT_UDP_ERROR), tid), msg, n);
	sk_buf_commit(b, 8 + n);
	return 0;
}
