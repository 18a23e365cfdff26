/*
 * src/bt/torrent.c - the swarm-level logic of one torrent (see client.h).
 *
 * Verification.  Blocks are written with pwrite as they arrive; a piece
 * whose blocks are all on disk goes to the checker thread (verify.c),
 * which reads it back and hashes it, so SHA-1 runs beside the network
 * instead of in its way.  Only a piece whose hash matches is marked as
 * ours, announced with HAVE and served (on_verdict); nothing else is ever
 * reported complete, to peers or trackers.
 *
 * Bad data.  A failed piece names the peers that sent its blocks.  A piece
 * from a single peer convicts it: it is banned (by address) at once.  A
 * piece from several peers gives each a strike and is retried from one
 * peer only (the picker's exclusive mode), so a repeat names the culprit;
 * three strikes also ban.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt/client.h"
#include "bt/verify.h"
#include "util/log.h"

#define MAX_STRIKES 3
#define SYNC_EVERY_MS 30000

static struct bt_pconn *pconn_of(struct bt_psess *p)
{
	return (struct bt_pconn *)(void *)((char *)p - offsetof(struct bt_pconn, s));
}

static bool live(const struct bt_pconn *pc)
{
	return !pc->closing && pc->s.state == BT_PS_ACTIVE;
}

/* ---- bans -------------------------------------------------------------------------- */

static bool same_ip(const struct sk_addr *a, const struct sk_addr *b)
{
	struct sk_addr x = *a, y = *b;
	sk_addr_set_port(&x, 0);
	sk_addr_set_port(&y, 0);
	return sk_addr_equal(&x, &y);
}

bool bt_client_banned(const struct bt_client *cl, const struct sk_addr *a)
{
	for (size_t i = 0; i < cl->nbanned; i++)
		if (same_ip(&cl->banned[i], a))
			return true;
	return false;
}

/* Ban pc's address and drop every connection from it except `keep`
 * (the one being fed, which its caller drops).  */
static void ban(struct bt_client *cl, struct bt_pconn *pc, struct bt_pconn *keep)
{
	if (!bt_client_banned(cl, &pc->addr) && cl->nbanned < 4096) {
		if (cl->nbanned == cl->capbanned) {
			size_t cap = cl->capbanned ? 2 * cl->capbanned : 8;
			struct sk_addr *v = realloc(cl->banned, cap * sizeof *v);
			if (v) {
				cl->banned = v;
				cl->capbanned = cap;
			}
		}
		if (cl->nbanned < cl->capbanned)
			cl->banned[cl->nbanned++] = pc->addr;
	}
	sk_log_warn("banned %s: sent data that failed the hash check", pc->name);
	struct sk_addr a = pc->addr;
	BT_FOREACH_PEER(cl, q, nx)
		if (q != keep && same_ip(&q->addr, &a))
			bt_net_drop(q, "banned");
}

/* ---- verification ---------------------------------------------------------------- */

/* Seeding is over once --seed-ratio or --seed-time is reached. */
static void check_limits(struct bt_client *cl)
{
	if (!cl->complete || cl->stopping)
		return;
	double ratio = (double)cl->uploaded / (double)cl->m.total_length;
	if (cl->o.seed_ratio >= 0 && ratio >= cl->o.seed_ratio) {
		sk_log_info("seed ratio %.2f reached", ratio);
		bt_client_stop(cl, BT_EXIT_OK);
	} else if (cl->o.seed_time >= 0 &&
		   cl->sw.now - cl->seeding_since >= (uint64_t)cl->o.seed_time * 1000) {
		sk_log_info("seeded for %" PRId64 " s", cl->o.seed_time);
		bt_client_stop(cl, BT_EXIT_OK);
	}
}

extern char **environ;

/* --on-complete: sh -c CMD with the download's whereabouts in the
 * environment; reaped by the 1 s tick, never waited for. */
static void run_hook(struct bt_client *cl)
{
	const char *argv[] = {"sh", "-c", cl->o.on_complete, NULL};
	if (setenv("SOCKIT_BT_DIR", cl->o.dir, 1) < 0 ||
	    setenv("SOCKIT_BT_NAME", cl->m.name, 1) < 0 ||
	    setenv("SOCKIT_BT_TORRENT", cl->o.torrent, 1) < 0) {
		sk_log_warn("--on-complete: no memory");
		return;
	}
	int e = posix_spawn(&cl->hook_pid, "/bin/sh", NULL, NULL,
			    (char *const *)(uintptr_t)argv, environ);
	if (e != 0) {
		cl->hook_pid = 0;
		sk_log_warn("--on-complete: %s", strerror(e));
	}
}

static void complete(struct bt_client *cl)
{
	uint64_t now = sk_loop_now(cl->loop);
	cl->complete = true;
	cl->completed_ms = cl->seeding_since = now;
	int r = bt_storage_sync(&cl->st);
	if (r < 0)
		sk_log_warn("sync: %s", cl->st.error);
	sk_log_info("download complete: %" PRIu64 " pieces fetched, %" PRIu64
		    " verified on disk at start, %" PRIu64 " bad; %.1f s",
		    cl->pieces_fetched, cl->pieces_resumed, cl->bad_pieces,
		    (double)(now - cl->started_ms) / 1000);
	if (cl->tc)
		bt_tc_completed(cl->tc);
	if (cl->o.on_complete)
		run_hook(cl);
	check_limits(cl);
}

/* The verdict on piece i, whose blocks were all on disk (verify.c, on the
 * loop thread, outside every peer's callback: dropping peers is safe). */
static void on_verdict(void *ud, uint32_t i, int verdict)
{
	struct bt_client *cl = ud;
	cl->sw.now = sk_loop_now(cl->loop);
	if (verdict == BT_VERIFY_OK) {
		bt_picker_verified(&cl->pk, i);
		cl->pieces_fetched++;
		sk_log_debug("piece %" PRIu32 " verified", i);
		BT_FOREACH_PEER(cl, pc, nx) {
			if (!live(pc))
				continue;
			bt_psess_have(&pc->s, i);
			bt_net_flush(pc);
		}
		if (bt_picker_done(&cl->pk))
			complete(cl);
		return;
	}
	uint32_t who[16];
	size_t n = bt_picker_failed(&cl->pk, i, who, 16);
	if (verdict == BT_VERIFY_ERROR) { /* our disk, not the peers */
		sk_log_error("piece %" PRIu32 ": cannot read it back from %s", i,
			     cl->o.dir);
		bt_client_stop(cl, BT_EXIT_ERROR);
		return;
	}
	cl->bad_pieces++;
	sk_log_warn("piece %" PRIu32 " failed its hash check (%zu peer%s sent it)",
		    i, n, n == 1 ? "" : "s");
	for (size_t k = 0; k < n; k++) {
		BT_FOREACH_PEER(cl, pc, nx) {
			if (pc->closing || pc->s.id != who[k])
				continue;
			if (n == 1 || ++pc->strikes >= MAX_STRIKES)
				ban(cl, pc, NULL);
			break;
		}
	}
	/* the piece is wanted again */
	BT_FOREACH_PEER(cl, pc, nx)
		if (live(pc)) {
			bt_psess_fill(&pc->s);
			bt_net_flush(pc);
		}
}

/* ---- the session callbacks -------------------------------------------------------- */

static int op_handshake(void *ud, struct bt_psess *p)
{
	struct bt_client *cl = ud;
	struct bt_pconn *pc = pconn_of(p);
	if (memcmp(p->remote.peer_id, cl->sw.peer_id, 20) == 0) {
		if (pc->known)
			pc->known->self = true;
		snprintf(p->why, sizeof p->why, "connected to ourselves");
		return -1;
	}
	if (bt_client_banned(cl, &pc->addr)) {
		snprintf(p->why, sizeof p->why, "banned");
		return -1;
	}
	/* One connection per peer id.  When both sides dialled at once, both
	 * keep the connection made by the peer with the smaller id. */
	BT_FOREACH_PEER(cl, q, nx) {
		if (q == pc || !live(q) ||
		    memcmp(q->s.remote.peer_id, p->remote.peer_id, 20) != 0)
			continue;
		const uint8_t *init_new = p->outgoing ? cl->sw.peer_id : p->remote.peer_id;
		const uint8_t *init_old = q->s.outgoing ? cl->sw.peer_id : q->s.remote.peer_id;
		if (p->outgoing != q->s.outgoing && memcmp(init_new, init_old, 20) < 0) {
			bt_net_drop(q, "duplicate connection");
			break;
		}
		if (pc->known)
			pc->known->next_try = cl->sw.now + 600000;
		snprintf(p->why, sizeof p->why, "duplicate connection");
		return -1;
	}
	return 0;
}

static int op_read(void *ud, const struct bt_block *b, uint8_t *out)
{
	struct bt_client *cl = ud;
	int r = bt_storage_read(&cl->st, b->piece, b->begin, out, b->len);
	if (r < 0)
		sk_log_warn("read: %s", cl->st.error);
	return r;
}

/* A block goes out straight from the file (sendfile: no copy through user
 * space) when it lies in one file; else through op_read into p->out. */
static int op_send(void *ud, struct bt_psess *p, const struct bt_block *b,
		   const uint8_t *hdr)
{
	struct bt_client *cl = ud;
	struct bt_pconn *pc = pconn_of(p);
	int fd;
	uint64_t off;
	if (pc->closing || !pc->open || !pc->c)
		return 0;
	int r = bt_storage_locate(&cl->st, b->piece, b->begin, b->len, &fd, &off);
	if (r != 0) {
		if (r < 0)
			sk_log_warn("read: %s", cl->st.error);
		return r < 0 ? -1 : 0;
	}
	/* what the session queued before this piece goes first */
	if (sk_buf_len(&p->out) && sk_conn_write_buf(pc->c, &p->out) < 0)
		return 2; /* the connection failed: its on_close cleans up */
	r = sk_conn_write_file(pc->c, hdr, BT_PIECE_HDR_LEN, fd, off, b->len);
	if (r == 0)
		return sk_conn_congested(pc->c) ? 2 : 1;
	sk_log_warn("peer %s: piece %" PRIu32 ": %s", pc->name, b->piece,
		    sk_strerror(r));
	return r == SK_EIO || r == SK_EBADF ? -1 : 2;
}

static int op_block(void *ud, struct bt_psess *p, const struct bt_block *b,
		    const uint8_t *data, int picked)
{
	struct bt_client *cl = ud;
	struct bt_pconn *pc = pconn_of(p);
	int r = bt_storage_write(&cl->st, b->piece, b->begin, data, b->len);
	if (r < 0) { /* the disk failed us: nothing more can be done */
		sk_log_error("write: %s", cl->st.error);
		bt_client_stop(cl, BT_EXIT_ERROR);
		snprintf(p->why, sizeof p->why, "cannot store its data");
		return -1;
	}
	cl->downloaded += b->len;
	/* endgame: the other requests for this block are void now */
	if (bt_picker_endgame(&cl->pk))
		BT_FOREACH_PEER(cl, q, nx)
			if (q != pc && live(q) && bt_psess_cancel(&q->s, b))
				bt_net_flush(q);
	if (picked == BT_PICK_COMPLETE &&
	    (!cl->verify || bt_verify_submit(cl->verify, b->piece) < 0)) {
		sk_log_error("piece %" PRIu32 ": cannot queue its check", b->piece);
		bt_client_stop(cl, BT_EXIT_ERROR);
	}
	return 0;
}

static void op_interest(void *ud, struct bt_psess *p)
{
	struct bt_client *cl = ud;
	unsigned unchoked = 0;
	sk_log_debug("peer %s: %sinterested", pconn_of(p)->name,
		     p->peer_interested ? "" : "not ");
	if (!p->peer_interested)
		return;
	BT_FOREACH_PEER(cl, pc, nx)
		unchoked += live(pc) && !pc->s.am_choking;
	/* a free slot: no need to wait for the next round */
	if (unchoked < cl->ch.slots + 1)
		bt_client_choke_round(cl);
}

const struct bt_swarm_ops bt_client_ops = {
	.handshake = op_handshake,
	.read = op_read,
	.send = op_send,
	.block = op_block,
	.interest = op_interest,
};

/* ---- rounds ---------------------------------------------------------------------- */

void bt_client_choke_round(struct bt_client *cl)
{
	struct bt_choke_peer *v = calloc(cl->npeers + 1, sizeof *v);
	struct bt_pconn **who = calloc(cl->npeers + 1, sizeof *who);
	size_t n = 0;
	if (!v || !who)
		goto out;
	BT_FOREACH_PEER(cl, pc, nx) {
		if (!live(pc) || n >= cl->npeers)
			continue;
		v[n].id = pc->s.id;
		v[n].interested = pc->s.peer_interested;
		v[n].snubbed = pc->s.snubbed;
		v[n].down_rate = pc->s.down_rate;
		v[n].up_rate = pc->s.up_rate;
		v[n].connected_ms = pc->s.connected;
		who[n++] = pc;
	}
	bt_choker_run(&cl->ch, v, n, cl->complete, cl->sw.now);
	for (size_t i = 0; i < n; i++) {
		if (who[i]->s.am_choking == !v[i].unchoke)
			continue;
		bt_psess_choke(&who[i]->s, !v[i].unchoke);
		sk_log_debug("peer %s: %s%s", who[i]->name,
			     v[i].unchoke ? "unchoked" : "choked",
			     v[i].optimistic ? " (optimistic)" : "");
		bt_net_flush(who[i]);
	}
out:
	free(v);
	free(who);
}

static void human(double v, char *buf, size_t cap)
{
	static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t k = 0;
	while (v >= 1024 && k < 4) {
		v /= 1024;
		k++;
	}
	snprintf(buf, cap, k ? "%.1f%s" : "%.0f%s", v, u[k]);
}

static void fmt_eta(uint64_t s, char *buf, size_t cap)
{
	if (s >= 3600)
		snprintf(buf, cap, " ETA:%" PRIu64 "h%02" PRIu64 "m", s / 3600,
			 s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, cap, " ETA:%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, cap, " ETA:%" PRIu64 "s", s);
}

/* aria2's line: [#hash have/total(pct) CN:peers SD:seeds DL:rate UL:rate ETA] */
static void progress(struct bt_client *cl, uint64_t down, uint64_t up)
{
	char hash[8], have[16], total[16], dr[16], ur[16], eta[32] = "";
	unsigned seeds = 0, n = 0;
	bool tty = isatty(STDERR_FILENO);
	const char *pre = tty ? "\r" : "", *post = tty ? "\033[K" : "\n";

	bt_hex(cl->m.info_hash, 3, hash);
	BT_FOREACH_PEER(cl, pc, nx)
		if (live(pc)) {
			n++;
			seeds += pc->s.seed;
		}
	uint64_t left = bt_picker_left(&cl->pk);
	uint64_t got = cl->m.total_length - left;
	human((double)down, dr, sizeof dr);
	human((double)up, ur, sizeof ur);
	if (cl->complete) {
		double ratio = (double)cl->uploaded / (double)cl->m.total_length;
		human((double)cl->uploaded, total, sizeof total);
		fprintf(stderr, "%s[#%s SEED(%.2f) CN:%u UL:%s/s(%s)]%s", pre, hash,
			ratio, n, ur, total, post);
		return;
	}
	human((double)got, have, sizeof have);
	human((double)cl->m.total_length, total, sizeof total);
	if (down)
		fmt_eta(left / down, eta, sizeof eta);
	fprintf(stderr, "%s[#%s %s/%s(%u%%) CN:%u SD:%u DL:%s/s UL:%s/s%s]%s", pre,
		hash, have, total, (unsigned)(got * 100 / cl->m.total_length), n,
		seeds, dr, ur, eta, post);
}

void bt_client_second(struct bt_client *cl)
{
	uint64_t now = cl->sw.now, dt = now - cl->last_rates;
	uint64_t down = 0, up = 0;
	cl->last_rates = now;
	BT_FOREACH_PEER(cl, pc, nx) {
		if (pc->closing)
			continue;
		bt_psess_rates(&pc->s, dt);
		down += pc->s.down_rate;
		up += pc->s.up_rate;
		if (cl->complete && live(pc) && pc->s.seed) {
			bt_net_drop(pc, "we are both seeds");
			continue;
		}
		if (bt_psess_tick(&pc->s) < 0) {
			bt_net_drop(pc, pc->s.why);
			continue;
		}
		bt_net_serve(pc);
		bt_net_flush(pc);
	}
	if (cl->hook_pid > 0 && waitpid(cl->hook_pid, NULL, WNOHANG) == cl->hook_pid)
		cl->hook_pid = 0;
	bt_net_connect_more(cl);
	/* short of peers: ask the tracker again (it enforces its own min
	 * interval), soon when we have none, now and then when few */
	uint64_t since = now - cl->last_want;
	if (cl->tc && !cl->complete &&
	    ((cl->npeers == 0 && since >= 5000) || (cl->npeers < 5 && since >= 60000))) {
		cl->last_want = now;
		bt_tc_want_peers(cl->tc);
	}
	if (!cl->o.no_progress && now - cl->last_progress >= cl->o.progress_ms) {
		cl->last_progress = now;
		progress(cl, down, up);
	}
	if (now - cl->last_sync >= SYNC_EVERY_MS) {
		cl->last_sync = now;
		if (bt_storage_sync(&cl->st) < 0)
			sk_log_warn("sync: %s", cl->st.error);
	}
	check_limits(cl);
}

/* ---- life ---------------------------------------------------------------------- */

static void make_peer_id(uint8_t id[20])
{
	static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	uint8_t r[12];
	memcpy(id, "-SK0010-", 8);
	if (getrandom(r, sizeof r, 0) != sizeof r)
		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (uint8_t)(rand() ^ getpid() >> i);
	for (size_t i = 0; i < 12; i++)
		id[8 + i] = (uint8_t)alnum[r[i] % (sizeof alnum - 1)];
}

static void on_stop_timer(sk_timer *t, void *ud);

static void on_recheck(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\rchecking %" PRIu64 "%%\033[K",
			total ? done * 100 / total : 100);
}

int bt_client_init(struct bt_client *cl, sk_loop *loop,
		   const struct bt_client_opts *o)
{
	memset(cl, 0, sizeof *cl);
	cl->loop = loop;
	cl->o = *o;
	cl->peers.next = cl->peers.prev = &cl->peers;
	cl->next_id = 1;
	cl->started_ms = sk_loop_now(loop);
	if (bt_metainfo_load(&cl->m, o->torrent) < 0) {
		sk_log_error("%s: %s", o->torrent, cl->m.error);
		return BT_EXIT_ERROR;
	}
	unsigned fl = o->seed_only ? BT_STORAGE_READONLY
				   : BT_STORAGE_CREATE | (o->falloc ? BT_STORAGE_FALLOC : 0);
	if (bt_storage_open(&cl->st, &cl->m, o->dir, fl) < 0) {
		sk_log_error("%s", cl->st.error);
		return o->seed_only ? BT_EXIT_BADDATA : BT_EXIT_ERROR;
	}
	if (bt_picker_init(&cl->pk, cl->m.npieces, cl->m.piece_length,
			   cl->m.total_length) < 0) {
		sk_log_error("out of memory");
		return BT_EXIT_ERROR;
	}
	if (cl->st.existed) {
		uint8_t *have = calloc(((size_t)cl->m.npieces + 7) / 8, 1);
		uint32_t count = 0;
		sk_log_info("checking the data in %s", o->dir);
		int r = have ? bt_storage_recheck(&cl->st, have, &count, on_recheck, cl)
			     : SK_ENOMEM;
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\r\033[K");
		if (r < 0) {
			free(have);
			sk_log_error("recheck: %s", cl->st.error);
			return BT_EXIT_ERROR;
		}
		for (uint32_t i = 0; i < cl->m.npieces; i++)
			if (bt_bit_get(have, i))
				bt_picker_set_have(&cl->pk, i);
		free(have);
		cl->pieces_resumed = count;
		sk_log_info("resume: %" PRIu32 " of %" PRIu32 " pieces verified on disk",
			    count, cl->m.npieces);
	}
	if (o->seed_only && !bt_picker_done(&cl->pk)) {
		sk_log_error("%s: %" PRIu32 " of %" PRIu32 " pieces missing or damaged",
			     o->dir, cl->m.npieces - cl->pk.nhave, cl->m.npieces);
		return BT_EXIT_BADDATA;
	}
	cl->complete = bt_picker_done(&cl->pk);
	int vr = cl->complete ? 0 : bt_verify_new(loop, &cl->m, cl->st.dirfd, on_verdict,
						  cl, &cl->verify);
	if (vr < 0) {
		sk_log_error("piece checker: %s", sk_strerror(vr));
		return BT_EXIT_ERROR;
	}
	cl->seeding_since = cl->started_ms;
	make_peer_id(cl->sw.peer_id);
	cl->sw.m = &cl->m;
	cl->sw.pk = &cl->pk;
	cl->sw.msg_max = bt_msg_max_for(cl->m.npieces);
	cl->sw.max_queue = 500;
	cl->sw.corrupt_uploads = o->corrupt_uploads;
	cl->sw.ops = &bt_client_ops;
	cl->sw.ud = cl;
	cl->sw.now = sk_loop_now(loop);
	cl->last_rates = cl->sw.now;
	uint64_t seed;
	memcpy(&seed, cl->sw.peer_id + 8, sizeof seed);
	bt_choker_init(&cl->ch, o->slots, seed);
	cl->pk.rng ^= seed;
	cl->up.rate = o->max_up;
	cl->down.rate = o->max_down;
	if (sk_timer_new(loop, on_stop_timer, cl, &cl->stop_timer) < 0) {
		sk_log_error("out of memory");
		return BT_EXIT_ERROR;
	}
	return 0;
}

static void on_tracker_stopped(void *arg)
{
	struct bt_client *cl = arg;
	sk_loop_stop(cl->loop);
}

/* The stop proper runs from its own timer: bt_client_stop() may be called
 * from inside a session's callback, which must not see its connection
 * freed under it. */
static void on_stop_timer(sk_timer *t, void *ud)
{
	struct bt_client *cl = ud;
	bt_net_stop(cl);
	if (bt_storage_sync(&cl->st) < 0)
		sk_log_warn("sync: %s", cl->st.error);
	if (cl->tc)
		bt_tc_stop(cl->tc, 3000, on_tracker_stopped, cl);
	else
		sk_loop_stop(cl->loop);
}

void bt_client_stop(struct bt_client *cl, int exit_code)
{
	if (cl->stopping)
		return;
	cl->stopping = true;
	cl->exit_code = exit_code;
	sk_timer_start(cl->stop_timer, 0, 0);
}

void bt_client_free(struct bt_client *cl)
{
	bt_net_stop(cl);
	if (cl->stop_timer)
		sk_timer_free(cl->stop_timer);
	if (cl->tc)
		bt_tc_free(cl->tc);
	cl->tc = NULL;
	bt_verify_free(cl->verify); /* before the storage: it reads the files */
	free(cl->known);
	free(cl->banned);
	if (cl->pk.npieces)
		bt_picker_free(&cl->pk);
	if (cl->st.fc.fds)
		bt_storage_close(&cl->st);
	bt_metainfo_free(&cl->m);
	memset(cl, 0, sizeof *cl);
}
