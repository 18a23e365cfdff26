/*
 * src/bt/hasher.c - parallel piece hashing.
 *
 * Shared state is one struct (struct shared) owned by bt_hash_pieces():
 * an atomic counter handing out batches of pieces, an atomic count of
 * bytes hashed for the progress line, and a mutex/condition variable pair
 * the last worker signals.  Each worker owns its read buffer, its EVP
 * context and one cached file descriptor (pieces are taken in order, so
 * consecutive reads mostly hit the same file).
 *
 * Reads go through a buffer of READ_CHUNK bytes that stays in the L2
 * cache, so SHA-1 reads cached bytes; the copy out of the page cache still
 * costs ~15% of the hashing time, which use_mmap saves by hashing the page
 * cache in place (MAP_POPULATE windows of at most MAP_WINDOW bytes, cut
 * at the end of the worker's batch: about one mmap per batch, no page
 * faults, and no page mapped by two threads).
 */
#include "bt/hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#define READ_CHUNK (128u * 1024)
#define BATCH_BYTES (4u << 20) /* work handed out at a time */
#define MAX_THREADS 64
#define MAP_WINDOW (8u << 20) /* use_mmap: bytes mapped at a time */

struct shared {
	struct bt_hash_job *job;
	int rootfd;
	uint32_t batch; /* pieces per batch */
	uint64_t page;  /* mmap offsets are multiples of it */
	atomic_uint_fast64_t next;
	const EVP_MD *md;
	atomic_uint_fast64_t done;
	atomic_int failed;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned running;
	char error[BT_HASH_ERROR_LEN];
};

struct worker {
	struct shared *sh;
	pthread_t tid;
	uint8_t *buf;
	EVP_MD_CTX *ctx;
	size_t cur_file; /* file whose fd is cached, SIZE_MAX for none */
	int fd;
	int fd_err; /* why cur_file could not be used */
	uint64_t batch_end; /* stream offset where this worker's batch ends */
	uint8_t *map; /* use_mmap: a window of cur_file */
	uint64_t map_off;
	size_t map_len;
};

static void set_error(struct shared *sh, int err, const char *path,
		      const char *what)
{
	pthread_mutex_lock(&sh->lock);
	if (!atomic_load(&sh->failed)) {
		snprintf(sh->error, sizeof sh->error, "%s: %s", path,
			 what ? what : sk_strerror(err));
		atomic_store(&sh->failed, err ? err : SK_EPROTO);
	}
	pthread_mutex_unlock(&sh->lock);
}

static void unmap(struct worker *w)
{
	if (w->map)
		munmap(w->map, w->map_len);
	w->map = NULL;
}

/* The descriptor of file f, opened on first use; a file shorter than the
 * torrent says fails here, before any read. */
static int worker_fd(struct worker *w, size_t f)
{
	const struct bt_file *file = &w->sh->job->m->files[f];
	struct stat st;

	if (w->cur_file == f)
		return w->fd >= 0 ? w->fd : w->fd_err;
	unmap(w);
	if (w->fd >= 0)
		close(w->fd);
	w->cur_file = f;
	w->fd = openat(w->sh->rootfd, file->path, O_RDONLY | O_CLOEXEC);
	if (w->fd < 0)
		w->fd_err = -errno;
	else if (fstat(w->fd, &st) < 0)
		w->fd_err = -errno;
	else if ((uint64_t)st.st_size < file->length)
		w->fd_err = SK_EPROTO;
	else
		w->fd_err = 0;
	if (w->fd_err < 0)
		return w->fd_err;
	(void)posix_fadvise(w->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return w->fd;
}

static void count_done(struct worker *w, uint64_t n)
{
	atomic_fetch_add_explicit(&w->sh->done, n, memory_order_relaxed);
}

/* One span through pread and the small buffer. */
static int span_read(struct worker *w, int fd, const struct bt_span *s)
{
	uint64_t off = s->file_off;
	uint32_t left = s->len;

	while (left > 0) {
		size_t want = left < READ_CHUNK ? left : READ_CHUNK;
		ssize_t k = pread(fd, w->buf, want, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return SK_EPROTO;
		EVP_DigestUpdate(w->ctx, w->buf, (size_t)k);
		off += (uint64_t)k;
		left -= (uint32_t)k;
		count_done(w, (uint64_t)k);
	}
	return 0;
}

/* Make [off, off + len) of the current file visible in the mapping.  A
 * new window starts at the page holding off and reaches at most
 * MAP_WINDOW bytes, never past the worker's batch: the next bytes belong
 * to another thread's batch, and populating them here would double the
 * page-table work. */
static int map_range(struct worker *w, int fd, uint64_t off, uint32_t len)
{
	if (w->map && off >= w->map_off && off + len <= w->map_off + w->map_len)
		return 0;
	unmap(w);
	const struct bt_file *f = &w->sh->job->m->files[w->cur_file];
	uint64_t start = off & ~(uint64_t)(w->sh->page - 1);
	uint64_t end = start + MAP_WINDOW;
	if (w->batch_end > f->offset && end > w->batch_end - f->offset)
		end = w->batch_end - f->offset;
	if (end > f->length)
		end = f->length;
	if (end < off + len)
		end = off + len;
	void *p = mmap(NULL, (size_t)(end - start), PROT_READ,
		       MAP_PRIVATE | MAP_POPULATE, fd, (off_t)start);
	if (p == MAP_FAILED)
		return -errno;
	w->map = p;
	w->map_off = start;
	w->map_len = (size_t)(end - start);
	return 0;
}

/* One span hashed straight from a mapping of the file. */
static int span_map(struct worker *w, int fd, const struct bt_span *s)
{
	int r = map_range(w, fd, s->file_off, s->len);
	if (r < 0)
		return r;
	const uint8_t *p = w->map + (s->file_off - w->map_off);
	for (uint32_t done = 0; done < s->len; ) {
		uint32_t k = s->len - done < READ_CHUNK ? s->len - done : READ_CHUNK;
		EVP_DigestUpdate(w->ctx, p + done, k);
		done += k;
		count_done(w, k);
	}
	return 0;
}

/* Feed one span of a piece to the digest; 0, or -errno / SK_EPROTO for a
 * file that is shorter than it should be. */
static int hash_span(struct worker *w, const struct bt_span *s)
{
	int fd = worker_fd(w, s->file);
	if (fd < 0)
		return fd;
	return w->sh->job->use_mmap ? span_map(w, fd, s) : span_read(w, fd, s);
}

/* Hash piece i into out, file span by file span. */
static int hash_piece(struct worker *w, uint32_t i, uint8_t *out)
{
	const struct bt_metainfo *m = w->sh->job->m;
	uint64_t off = (uint64_t)i * m->piece_length;
	uint64_t left = bt_piece_size(m, i);
	struct bt_span s;
	int r;

	EVP_DigestInit_ex(w->ctx, w->sh->md, NULL);
	while (left > 0) {
		if ((r = bt_metainfo_first_span(m, off, left, &s)) < 0)
			return r;
		if ((r = hash_span(w, &s)) < 0)
			return r;
		off += s.len;
		left -= s.len;
	}
	EVP_DigestFinal_ex(w->ctx, out, NULL);
	return 0;
}

static void report_failure(struct worker *w, int r)
{
	/* hash_span sets cur_file before it opens or reads */
	size_t f = w->cur_file != SIZE_MAX ? w->cur_file : 0;
	set_error(w->sh, r, w->sh->job->m->files[f].path,
		  r == SK_EPROTO ? "file is shorter than expected (changed "
				   "while hashing?)" : NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	uint32_t n = sh->job->m->npieces;

	while (!atomic_load(&sh->failed)) {
		uint64_t got = atomic_fetch_add(&sh->next, sh->batch);
		if (got >= n)
			break;
		uint32_t first = (uint32_t)got;
		uint32_t end = n - first < sh->batch ? n : first + sh->batch;
		w->batch_end = (uint64_t)end * sh->job->m->piece_length;
		for (uint32_t i = first; i < end && !atomic_load(&sh->failed); i++) {
			uint8_t *out = sh->job->out + (size_t)i * BT_HASH_LEN;
			int r = hash_piece(w, i, out);
			if (r < 0 && sh->job->missing_ok)
				memset(out, 0, BT_HASH_LEN);
			else if (r < 0)
				report_failure(w, r);
		}
	}
	pthread_mutex_lock(&sh->lock);
	if (--sh->running == 0)
		pthread_cond_signal(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

static unsigned pick_threads(const struct bt_hash_job *job)
{
	long n = job->threads ? (long)job->threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if ((uint32_t)n > job->m->npieces)
		n = (long)job->m->npieces;
	return (unsigned)n;
}

static int worker_init(struct worker *w, struct shared *sh)
{
	memset(w, 0, sizeof *w);
	w->sh = sh;
	w->fd = -1;
	w->cur_file = SIZE_MAX;
	w->buf = malloc(READ_CHUNK);
	w->ctx = EVP_MD_CTX_new();
	return w->buf && w->ctx ? 0 : SK_ENOMEM;
}

static void worker_fini(struct worker *w)
{
	unmap(w);
	if (w->fd >= 0)
		close(w->fd);
	free(w->buf);
	EVP_MD_CTX_free(w->ctx);
}

/* Wait for the workers, reporting progress every interval. */
static void wait_workers(struct shared *sh)
{
	struct bt_hash_job *job = sh->job;
	unsigned ms = job->progress_ms ? job->progress_ms : 250;

	pthread_mutex_lock(&sh->lock);
	while (sh->running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(ms % 1000) * 1000000L;
		ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&sh->cond, &sh->lock, &ts);
		if (sh->running > 0 && job->progress) {
			pthread_mutex_unlock(&sh->lock);
			job->progress(job->progress_arg, atomic_load(&sh->done),
				      job->m->total_length);
			pthread_mutex_lock(&sh->lock);
		}
	}
	pthread_mutex_unlock(&sh->lock);
}

static int run_workers(struct shared *sh, struct worker *ws, unsigned nt)
{
	unsigned started = 0;
	int r = 0;

	for (unsigned i = 0; i < nt && r == 0; i++)
		r = worker_init(&ws[i], sh);
	sh->running = nt;
	while (r == 0 && started < nt) {
		int e = pthread_create(&ws[started].tid, NULL, worker_main, &ws[started]);
		if (e != 0)
			r = -e;
		else
			started++;
	}
	if (r < 0) { /* the ones that did start stop after their batch */
		set_error(sh, r, "starting the hashing threads", NULL);
		pthread_mutex_lock(&sh->lock);
		sh->running -= nt - started;
		pthread_mutex_unlock(&sh->lock);
	}
	wait_workers(sh);
	for (unsigned i = 0; i < started; i++)
		pthread_join(ws[i].tid, NULL);
	return r;
}

int bt_hash_pieces(struct bt_hash_job *job)
{
	const struct bt_metainfo *m = job->m;
	struct worker ws[MAX_THREADS];
	struct shared sh;
	unsigned nt = pick_threads(job);

	job->error[0] = '\0';
	job->threads_used = nt;
	if (m->npieces == 0)
		return 0;
	memset(&sh, 0, sizeof sh);
	sh.job = job;
	sh.rootfd = open(job->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sh.rootfd < 0) {
		int e = -errno;
		snprintf(job->error, sizeof job->error, "%s: %s", job->root,
			 sk_strerror(e));
		return e;
	}
	/* An explicitly fetched digest spares OpenSSL 3 an implicit fetch
	 * (a locked lookup) in every EVP_DigestInit_ex. */
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD *fetched = EVP_MD_fetch(NULL, "SHA1", NULL);
	sh.md = fetched ? fetched : EVP_sha1();
#else
	sh.md = EVP_sha1();
#endif
	long page = sysconf(_SC_PAGESIZE);
	sh.page = page > 0 ? (uint64_t)page : 4096;
	uint32_t b = BATCH_BYTES / m->piece_length;
	sh.batch = b ? b : 1;
	atomic_init(&sh.next, 0);
	atomic_init(&sh.done, 0);
	atomic_init(&sh.failed, 0);
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.cond, NULL);
	memset(ws, 0, sizeof ws);
	for (unsigned i = 0; i < nt; i++)
		ws[i].fd = -1;
	run_workers(&sh, ws, nt);
	for (unsigned i = 0; i < nt; i++)
		worker_fini(&ws[i]);
	close(sh.rootfd);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(fetched);
#endif
	pthread_cond_destroy(&sh.cond);
	pthread_mutex_destroy(&sh.lock);
	int r = atomic_load(&sh.failed);
	if (r < 0)
		memcpy(job->error, sh.error, sizeof job->error);
	else if (job->progress)
		job->progress(job->progress_arg, m->total_length, m->total_length);
	return r;
}
