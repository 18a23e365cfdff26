/*
 * src/bt/tracker_proto.h - the pure parts of talking to a tracker, for the
 * tracker client and for the built-in tracker:
 *
 *   URLs           split http(s):// and udp:// announce URLs; percent
 *                  encoding and decoding; query-string iteration
 *   HTTP announce  build the announce URL (BEP 3), parse it back on the
 *                  tracker side; parse and build the bencoded response
 *                  with peers in dict form, compact form (BEP 23) and
 *                  peers6 (BEP 7)
 *   HTTP scrape    the scrape URL convention, the "files" response
 *   UDP (BEP 15)   connect, announce, scrape and error packets, both ways
 *   HTTP/1.x       a bounded response-head parser and body delimiter for
 *                  the client; a bounded request-head parser for the
 *                  tracker; the client's GET request
 *
 * No I/O and no global state; parsers return slices into their input, so
 * the input must outlive what they return.  Builders append to an sk_buf,
 * all or nothing unless said otherwise.
 * (tracker_proto.c, tracker_udp.c and tracker_http.c implement this.)
 */
#ifndef SK_BT_TRACKER_PROTO_H
#define SK_BT_TRACKER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/addr.h"
#include "sockit/buf.h"
#include "sockit/error.h"

/* ---- peers ----------------------------------------------------------------- */

struct bt_peer {
	uint8_t ip[16]; /* 4 bytes used for IPv4 */
	uint8_t family; /* 4 or 6 */
	uint16_t port;
};

#define BT_COMPACT4_LEN 6  /* BEP 23: 4-byte address, 2-byte port */
#define BT_COMPACT6_LEN 18 /* BEP 7: 16-byte address, 2-byte port */

/* Decode compact peers of one family (4 or 6) from s into out[0..max).
 * Returns how many s holds (those past max are skipped); a trailing
 * partial entry is ignored.  Entries with port 0 are dropped. */
size_t bt_peers_compact(struct sk_slice s, int family, struct bt_peer *out,
			size_t max);
/* Append the compact form of p (6 or 18 bytes). */
int bt_peer_compact_write(struct sk_buf *b, const struct bt_peer *p);

void bt_peer_to_addr(const struct bt_peer *p, struct sk_addr *a);
/* SK_EAFNOSUPPORT for addresses that are neither IPv4 nor IPv6.  An
 * IPv4-mapped IPv6 address becomes IPv4. */
int bt_peer_from_addr(struct bt_peer *p, const struct sk_addr *a);

/* ---- URLs -------------------------------------------------------------------- */

enum bt_url_scheme { BT_URL_HTTP = 1, BT_URL_HTTPS, BT_URL_UDP };

struct bt_url {
	int scheme;
	struct sk_slice host;   /* an IPv6 literal without its brackets */
	uint16_t port;          /* 80/443 by default; udp needs one */
	struct sk_slice target; /* path and query ("/" if empty), no fragment */
};

/* SK_EINVAL for another scheme or a malformed URL; the slices point into
 * s.  Userinfo ("user@host") is refused. */
int bt_url_parse(const char *s, size_t n, struct bt_url *u);

/* Percent-encode p[0..n): RFC 3986 unreserved bytes stay, every other
 * byte becomes %XX (upper-case hex). */
int bt_pct_encode(struct sk_buf *b, const void *p, size_t n);

/* Decode s[0..n) into out[0..cap).  '+' stays '+' (trackers get binary
 * hashes, not form data).  The decoded length, SK_EPROTO for a bad
 * escape, SK_ENOBUFS if it does not fit. */
int bt_pct_decode(const char *s, size_t n, uint8_t *out, size_t cap);

/* The next key=value of a query string: 1 with *key and *val (still
 * encoded; val empty when there is no '='), advancing *q; 0 at the end. */
int bt_query_next(struct sk_slice *q, struct sk_slice *key,
		  struct sk_slice *val);

/* ---- HTTP announce ------------------------------------------------------------ */

enum bt_event { /* BEP 15 numbering, also used for HTTP */
	BT_EVENT_NONE = 0,
	BT_EVENT_COMPLETED = 1,
	BT_EVENT_STARTED = 2,
	BT_EVENT_STOPPED = 3,
};

struct bt_announce_req {
	uint8_t info_hash[20];
	uint8_t peer_id[20];
	uint16_t port;
	uint64_t uploaded, downloaded, left;
	int event;       /* enum bt_event */
	int32_t numwant; /* < 0: the tracker's default */
	uint32_t key;    /* sent as 8 hex digits */
	bool compact;    /* ask for BEP 23 compact peers */
	bool no_peer_id; /* dict-form peers without "peer id" */
	struct sk_slice trackerid; /* from a previous response, or empty */
};

/* Append base + '?' (or '&' if base has a query) + the announce query. */
int bt_announce_url(struct sk_buf *b, const char *base,
		    const struct bt_announce_req *r);

/* The tracker side: parse a query string (the part after '?').  info_hash,
 * peer_id and port are required (SK_EPROTO otherwise); numwant defaults
 * to -1, compact to false; unknown keys are ignored. */
int bt_announce_query_parse(const char *q, size_t n, struct bt_announce_req *r);

struct bt_announce_resp {
	struct sk_slice failure;  /* "failure reason": p != NULL when set */
	struct sk_slice warning;  /* "warning message" */
	struct sk_slice tracker_id;
	int64_t interval;         /* seconds, -1 if absent */
	int64_t min_interval;     /* -1 if absent */
	int64_t complete;         /* seeders, -1 if absent */
	int64_t incomplete;       /* leechers, -1 if absent */
	size_t npeers;            /* peers in the response (may exceed max) */
};

/*
 * Parse a bencoded announce response.  Peers from "peers" (compact string
 * or list of dicts with numeric "ip") and "peers6" go into out[0..max);
 * dict peers naming a host rather than an address are skipped.  0 on
 * success, also when the tracker refused (check r->failure.p), SK_EPROTO
 * when the body is not a tracker response.
 */
int bt_announce_resp_parse(const uint8_t *p, size_t n,
			   struct bt_announce_resp *r, struct bt_peer *out,
			   size_t max);

/* The tracker side: only "failure reason" when r->failure.p is set;
 * otherwise interval, min interval, complete, incomplete (those >= 0),
 * tracker id (if set), and the peers compact ("peers"/"peers6") or as a
 * list of dicts. */
int bt_announce_resp_write(struct sk_buf *b, const struct bt_announce_resp *r,
			   const struct bt_peer *peers, size_t n, bool compact);

/* ---- HTTP scrape ------------------------------------------------------------ */

struct bt_scrape_entry {
	uint8_t info_hash[20];
	int64_t complete, downloaded, incomplete; /* -1 if absent */
};

/* The scrape URL of an announce URL: the last path component must begin
 * with "announce", which becomes "scrape" (SK_ENOTSUP otherwise); then one
 * info_hash parameter per hash. */
int bt_scrape_url(struct sk_buf *b, const char *announce,
		  const uint8_t (*hashes)[20], size_t n);

/* Entries of the "files" dict into out[0..max); returns how many the
 * response holds, or SK_EPROTO.  *failure gets "failure reason" if any. */
int bt_scrape_resp_parse(const uint8_t *p, size_t n, struct sk_slice *failure,
			 struct bt_scrape_entry *out, size_t max);

/* Entries must be sorted by info_hash (bencode dict order). */
int bt_scrape_resp_write(struct sk_buf *b, const struct bt_scrape_entry *e,
			 size_t n);

/* ---- UDP trackers (BEP 15) ---------------------------------------------------- */

#define BT_UDP_PROTOCOL_ID 0x41727101980ULL
#define BT_UDP_SCRAPE_MAX 74 /* hashes per scrape request */

enum bt_udp_action {
	BT_UDP_CONNECT = 0,
	BT_UDP_ANNOUNCE = 1,
	BT_UDP_SCRAPE = 2,
	BT_UDP_ERROR = 3,
};

/* A parsed packet, request or response; which fields mean anything
 * depends on action and direction. */
struct bt_udp_msg {
	uint32_t action, tid;
	uint64_t conn_id;                /* requests; connect response */
	struct bt_announce_req announce; /* announce request */
	uint32_t ip;                     /* announce request (0 = sender) */
	uint32_t interval, leechers, seeders; /* announce response */
	struct sk_slice peers;   /* announce response: compact entries */
	struct sk_slice hashes;  /* scrape request: 20 bytes each */
	struct sk_slice entries; /* scrape response: 12 bytes each */
	struct sk_slice message; /* error */
};

/* Client: requests.  Event numbers are BEP 15's (enum bt_event). */
int bt_udp_connect_write(struct sk_buf *b, uint32_t tid);
int bt_udp_announce_write(struct sk_buf *b, uint64_t conn_id, uint32_t tid,
			  const struct bt_announce_req *r);
int bt_udp_scrape_write(struct sk_buf *b, uint64_t conn_id, uint32_t tid,
			const uint8_t (*hashes)[20], size_t n);
/* Client: a response (connect, announce, scrape or error); SK_EPROTO when
 * it is too short or of an unknown action.  The caller matches m->tid. */
int bt_udp_resp_parse(const uint8_t *p, size_t n, struct bt_udp_msg *m);
/* Scrape response entry i (i < m->entries.n / 12) into *e (hash unset). */
void bt_udp_scrape_entry(const struct bt_udp_msg *m, size_t i,
			 struct bt_scrape_entry *e);

/* Tracker: a request (connect with the magic, announce, scrape). */
int bt_udp_req_parse(const uint8_t *p, size_t n, struct bt_udp_msg *m);
int bt_udp_connect_resp_write(struct sk_buf *b, uint32_t tid, uint64_t conn_id);
/* Peers of the family the packet goes to (BEP 15: the tracker's socket
 * family decides); others are skipped. */
int bt_udp_announce_resp_write(struct sk_buf *b, uint32_t tid,
			       uint32_t interval, uint32_t leechers,
			       uint32_t seeders, const struct bt_peer *peers,
			       size_t n, int family);
int bt_udp_scrape_resp_write(struct sk_buf *b, uint32_t tid,
			     const struct bt_scrape_entry *e, size_t n);
int bt_udp_error_write(struct sk_buf *b, uint32_t tid, const char *msg);

/* ---- HTTP/1.x ------------------------------------------------------------------ */

#define BT_HTTP_HEAD_MAX 8192     /* default bound for a head */
#define BT_HTTP_BODY_MAX (1u << 20) /* tracker responses are small */

struct bt_http_resp {
	int status;               /* 100..999 */
	int minor;                /* HTTP/1.<minor> */
	struct sk_slice reason;
	int64_t content_length;   /* -1 if absent: the body ends at close */
	bool chunked;             /* Transfer-Encoding: chunked */
	struct sk_slice location; /* for redirects; empty if absent */
	size_t head_len;          /* status line, headers and the blank line */
};

/*
 * The response head at the front of p[0..n): 1 when complete (then the
 * body starts at p + r->head_len), 0 when more is needed, SK_EMSGSIZE when
 * no complete head fits in max bytes, SK_EPROTO when malformed (bad status
 * line, header without ':', conflicting Content-Length).
 */
int bt_http_resp_parse(const uint8_t *p, size_t n, size_t max,
		       struct bt_http_resp *r);

/*
 * Delimit the body from the bytes after the head, p[0..n): 1 with *body
 * when complete (Content-Length bytes, or everything once eof is true), 0
 * for more, SK_EMSGSIZE beyond max, SK_EPROTO at eof before Content-Length,
 * SK_ENOTSUP for chunked bodies (send HTTP/1.0 requests to avoid them).
 */
int bt_http_body(const struct bt_http_resp *r, const uint8_t *p, size_t n,
		 bool eof, size_t max, struct sk_slice *body);

/* "GET target HTTP/1.0" with Host (host, plus ":port" when not the
 * scheme's default), User-Agent, Accept-Encoding: identity and
 * Connection: close. */
int bt_http_get_write(struct sk_buf *b, const struct bt_url *u,
		      const char *user_agent);

struct bt_http_req {
	struct sk_slice method;
	struct sk_slice target; /* as sent */
	struct sk_slice path;   /* target up to '?' (still encoded) */
	struct sk_slice query;  /* after '?', empty if none */
	int minor;              /* HTTP/1.<minor> */
	bool keep_alive;        /* 1.1 without "close", or 1.0 with keep-alive */
	size_t head_len;
};

/* The tracker side: the request head at the front of p[0..n); results as
 * bt_http_resp_parse.  Request bodies are not supported: a Content-Length
 * other than 0 or any Transfer-Encoding gives SK_ENOTSUP. */
int bt_http_req_parse(const uint8_t *p, size_t n, size_t max,
		      struct bt_http_req *r);

#endif
