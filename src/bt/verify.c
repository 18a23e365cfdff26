/*
 * src/bt/verify.c - piece verification on a worker thread (see verify.h).
 *
 * Two rings of npieces entries each, under one mutex: `todo` (loop ->
 * worker) and `done` (worker -> loop).  A piece is in at most one of them
 * at a time, so neither can overflow.  The worker signals the loop through
 * an eventfd watched by an sk_io; the loop drains `done` in that callback.
 */
#include "bt/verify.h"

#include "bt/fdcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#define READ_CHUNK (128u * 1024) /* stays in L2 while it is hashed */
#define MAX_FDS 64               /* worker descriptors open at once */

struct ring {
	uint32_t *v;
	uint32_t head, len;
};

struct bt_verify {
	sk_loop *loop;
	const struct bt_metainfo *m;
	bt_verify_cb done;
	void *ud;
	sk_io *io;
	int efd;
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool quit;                 /* under mu */
	struct ring todo, out;     /* under mu; out holds piece << 2 | verdict + 1 */
	uint32_t pending;          /* loop thread only */

	/* worker only */
	struct bt_fdcache fc; /* its own descriptors, read-only */
	uint8_t *buf;
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	EVP_MD *fetched; /* owned, when the explicit fetch worked */
};

static void ring_push(struct ring *r, uint32_t cap, uint32_t x)
{
	r->v[(r->head + r->len++) % cap] = x;
}

static uint32_t ring_pop(struct ring *r, uint32_t cap)
{
	uint32_t x = r->v[r->head];
	r->head = (r->head + 1) % cap;
	r->len--;
	return x;
}

/* BT_VERIFY_OK / BAD / ERROR for piece i, read back from the files. */
static int check(struct bt_verify *v, uint32_t i)
{
	const struct bt_metainfo *m = v->m;
	uint64_t off = (uint64_t)i * m->piece_length;
	uint32_t left = bt_piece_size(m, i);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (EVP_DigestInit_ex(v->ctx, v->md, NULL) != 1)
		return BT_VERIFY_ERROR;
	while (left) {
		struct bt_span sp;
		if (bt_metainfo_first_span(m, off, left, &sp) < 0)
			return BT_VERIFY_ERROR;
		int fd = bt_fdcache_get(&v->fc, sp.file);
		if (fd < 0)
			return BT_VERIFY_ERROR;
		for (uint32_t done = 0; done < sp.len;) {
			uint32_t want = sp.len - done < READ_CHUNK ? sp.len - done : READ_CHUNK;
			ssize_t k = pread(fd, v->buf, want, (off_t)(sp.file_off + done));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return BT_VERIFY_ERROR;
			if (EVP_DigestUpdate(v->ctx, v->buf, (size_t)k) != 1)
				return BT_VERIFY_ERROR;
			done += (uint32_t)k;
		}
		off += sp.len;
		left -= sp.len;
	}
	if (EVP_DigestFinal_ex(v->ctx, md, &mdlen) != 1 || mdlen != BT_HASH_LEN)
		return BT_VERIFY_ERROR;
	return memcmp(md, bt_piece_hash(m, i), BT_HASH_LEN) == 0 ? BT_VERIFY_OK
								 : BT_VERIFY_BAD;
}

static void *worker(void *arg)
{
	struct bt_verify *v = arg;
	uint32_t cap = v->m->npieces;
	pthread_mutex_lock(&v->mu);
	for (;;) {
		while (!v->quit && v->todo.len == 0)
			pthread_cond_wait(&v->cv, &v->mu);
		if (v->quit)
			break;
		uint32_t i = ring_pop(&v->todo, cap);
		pthread_mutex_unlock(&v->mu);
		int verdict = check(v, i);
		pthread_mutex_lock(&v->mu);
		ring_push(&v->out, cap, i << 2 | (uint32_t)(verdict + 1));
		uint64_t one = 1;
		/* cannot fail but by overflow, which only means "already set" */
		ssize_t w = write(v->efd, &one, sizeof one);
		(void)w;
	}
	pthread_mutex_unlock(&v->mu);
	bt_fdcache_close_all(&v->fc);
	return NULL;
}

/* The loop thread: hand every verdict in to the program. */
static void on_wake(sk_io *io, unsigned revents, void *ud)
{
	struct bt_verify *v = ud;
	uint32_t cap = v->m->npieces;
	uint64_t n;
	(void)io;
	(void)revents;
	if (read(v->efd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	for (;;) {
		pthread_mutex_lock(&v->mu);
		bool any = v->out.len > 0;
		uint32_t x = any ? ring_pop(&v->out, cap) : 0;
		pthread_mutex_unlock(&v->mu);
		if (!any)
			break;
		v->pending--;
		v->done(v->ud, x >> 2, (int)(x & 3) - 1); /* must not free v */
	}
}

int bt_verify_new(sk_loop *loop, const struct bt_metainfo *m, int dirfd,
		  bt_verify_cb done, void *ud, struct bt_verify **out)
{
	if (m->npieces == 0 || m->npieces > UINT32_MAX >> 2)
		return SK_EINVAL;
	struct bt_verify *v = calloc(1, sizeof *v);
	if (!v)
		return SK_ENOMEM;
	v->loop = loop;
	v->m = m;
	v->done = done;
	v->ud = ud;
	v->efd = -1;
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	int r = SK_ENOMEM;
	v->todo.v = malloc(m->npieces * sizeof *v->todo.v);
	v->out.v = malloc(m->npieces * sizeof *v->out.v);
	int fr = bt_fdcache_init(&v->fc, m, dirfd, O_RDONLY, MAX_FDS);
	v->buf = malloc(READ_CHUNK);
	v->ctx = EVP_MD_CTX_new();
	/* fetched once: an implicit fetch in every EVP_DigestInit_ex locks */
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	v->fetched = EVP_MD_fetch(NULL, "SHA1", NULL);
#endif
	v->md = v->fetched ? v->fetched : EVP_sha1();
	if (!v->todo.v || !v->out.v || fr < 0 || !v->buf || !v->ctx || !v->md)
		goto fail;
	if ((v->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = sk_io_new(loop, v->efd, SK_READ, on_wake, v, &v->io)) < 0)
		goto fail;
	if ((r = pthread_create(&v->thread, NULL, worker, v)) != 0) {
		r = -r;
		goto fail;
	}
	v->started = true;
	*out = v;
	return 0;
fail:
	bt_verify_free(v);
	return r;
}

int bt_verify_submit(struct bt_verify *v, uint32_t i)
{
	if (i >= v->m->npieces || v->pending >= v->m->npieces)
		return SK_EINVAL;
	pthread_mutex_lock(&v->mu);
	ring_push(&v->todo, v->m->npieces, i);
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
	v->pending++;
	return 0;
}

uint32_t bt_verify_pending(const struct bt_verify *v)
{
	return v->pending;
}

void bt_verify_free(struct bt_verify *v)
{
	if (!v)
		return;
	if (v->started) {
		pthread_mutex_lock(&v->mu);
		v->quit = true;
		pthread_cond_signal(&v->cv);
		pthread_mutex_unlock(&v->mu);
		pthread_join(v->thread, NULL);
	}
	if (v->io)
		sk_io_free(v->io);
	if (v->efd >= 0)
		close(v->efd);
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->cv);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(v->fetched);
#endif
	EVP_MD_CTX_free(v->ctx);
	free(v->buf);
	if (v->fc.fds)
		bt_fdcache_free(&v->fc);
	free(v->todo.v);
	free(v->out.v);
	free(v);
}
