/*
 * src/bt/storage.c - a torrent's files on disk (see storage.h).
 *
 * Paths come from a checked metainfo (no "..", no '/', no empty component),
 * and are opened relative to a descriptor of the download directory, so
 * a file can only land below it.
 */
#include "bt/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt/hasher.h"
#include "bt/wire.h"

static int fail(struct bt_storage *s, int err, const char *path, const char *what)
{
	/* A long path is cut: the message is for people, the code for callers. */
	snprintf(s->error, sizeof s->error, "%.200s: %.100s", path,
		 what ? what : sk_strerror(err));
	return err;
}

/* mkdir -p of the directories in path (relative to dirfd), not the last
 * component. */
static int make_parents(struct bt_storage *s, char *path)
{
	for (char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int r = mkdirat(s->dirfd, path, 0777);
		int e = errno;
		*p = '/';
		if (r < 0 && e != EEXIST) {
			*p = '\0';
			fail(s, -e, path, NULL);
			*p = '/';
			return -e;
		}
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);
	if (n >= sizeof buf)
		return SK_ENOBUFS;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0777) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The descriptor of file i, opened on first use (what was written goes
 * to disk before the cache closes descriptors to make room). */
static int file_fd(struct bt_storage *s, size_t i)
{
	if (s->fc.fds[i] >= 0)
		return s->fc.fds[i];
	if (bt_fdcache_full(&s->fc))
		bt_storage_sync(s);
	int fd = bt_fdcache_get(&s->fc, i);
	if (fd == -ENAMETOOLONG)
		return fail(s, fd, s->m->files[i].path, "path too long");
	if (fd < 0) {
		char path[PATH_MAX];
		if (bt_metainfo_file_path(s->m, i, path, sizeof path) < 0)
			snprintf(path, sizeof path, "%s", s->m->files[i].path);
		return fail(s, fd, path, NULL);
	}
	return fd;
}

/* Make file i exist with its full length. */
static int create_file(struct bt_storage *s, size_t i)
{
	char path[PATH_MAX];
	struct stat st;
	const struct bt_file *f = &s->m->files[i];
	int r = bt_metainfo_file_path(s->m, i, path, sizeof path);
	if (r < 0)
		return fail(s, r, f->path, "path too long");
	if ((r = make_parents(s, path)) < 0)
		return r;
	int fd = openat(s->dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return fail(s, -errno, path, NULL);
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return fail(s, r, path, NULL);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(s, SK_EINVAL, path, "not a regular file");
	}
	if (st.st_size > 0)
		s->existed = true;
	r = 0;
	if ((uint64_t)st.st_size < f->length) {
		if (s->flags & BT_STORAGE_FALLOC) {
			int e = posix_fallocate(fd, 0, (off_t)f->length);
			if (e != 0 && e != EOPNOTSUPP && e != EINVAL)
				r = -e;
		}
		if (r == 0 && ftruncate(fd, (off_t)f->length) < 0)
			r = -errno;
	}
	if (r < 0) {
		close(fd);
		return fail(s, r, path, NULL);
	}
	bt_fdcache_adopt(&s->fc, i, fd);
	return 0;
}

int bt_storage_open(struct bt_storage *s, const struct bt_metainfo *m,
		    const char *dir, unsigned flags)
{
	memset(s, 0, sizeof *s);
	s->m = m;
	s->flags = flags;
	s->dirfd = -1;
	s->dirty = calloc(m->nfiles ? m->nfiles : 1, sizeof *s->dirty);
	s->dir = strdup(dir);
	if (!s->dirty || !s->dir ||
	    bt_fdcache_init(&s->fc, m, -1, (flags & BT_STORAGE_READONLY) ? O_RDONLY : O_RDWR,
			    BT_STORAGE_MAX_FDS) < 0) {
		bt_storage_close(s);
		return fail(s, SK_ENOMEM, dir, NULL);
	}
	int r = 0;
	if ((flags & BT_STORAGE_CREATE) && (r = mkdir_p(dir)) < 0) {
		fail(s, r, dir, NULL);
		goto err;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		r = fail(s, -errno, dir, NULL);
		goto err;
	}
	s->fc.dirfd = s->dirfd;
	for (size_t i = 0; i < m->nfiles; i++) {
		if (flags & BT_STORAGE_CREATE)
			r = create_file(s, i);
		else if ((r = file_fd(s, i)) >= 0)
			r = 0;
		if (r < 0)
			goto err;
	}
	if (!(flags & BT_STORAGE_CREATE))
		s->existed = true;
	return 0;
err:;
	char msg[sizeof s->error];
	memcpy(msg, s->error, sizeof msg);
	bt_storage_close(s);
	memcpy(s->error, msg, sizeof msg);
	return r;
}

void bt_storage_close(struct bt_storage *s)
{
	if (s->fc.fds)
		bt_fdcache_free(&s->fc);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dirty);
	free(s->dir);
	s->dirty = NULL;
	s->dir = NULL;
	s->dirfd = -1;
}

static int io_range(struct bt_storage *s, uint32_t piece, uint32_t begin,
		    uint8_t *p, uint32_t len, bool wr)
{
	const struct bt_metainfo *m = s->m;
	uint32_t psz = bt_piece_size(m, piece);
	if (len == 0 || begin >= psz || len > psz - begin)
		return SK_EINVAL;
	if (wr && (s->flags & BT_STORAGE_READONLY))
		return SK_EACCES;
	uint64_t off = (uint64_t)piece * m->piece_length + begin;
	while (len > 0) {
		struct bt_span sp;
		int r = bt_metainfo_first_span(m, off, len, &sp);
		if (r < 0)
			return r;
		int fd = file_fd(s, sp.file);
		if (fd < 0)
			return fd;
		for (uint32_t done = 0; done < sp.len;) {
			ssize_t n = wr ? pwrite(fd, p + done, sp.len - done,
						(off_t)(sp.file_off + done))
				       : pread(fd, p + done, sp.len - done,
					       (off_t)(sp.file_off + done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return fail(s, -errno, m->files[sp.file].path, NULL);
			if (n == 0)
				return fail(s, SK_EPROTO, m->files[sp.file].path,
					    "file shorter than the torrent says");
			done += (uint32_t)n;
		}
		if (wr)
			s->dirty[sp.file] = true;
		p += sp.len;
		off += sp.len;
		len -= sp.len;
	}
	return 0;
}

int bt_storage_write(struct bt_storage *s, uint32_t piece, uint32_t begin,
		     const void *p, uint32_t len)
{
	return io_range(s, piece, begin, (uint8_t *)(uintptr_t)p, len, true);
}

int bt_storage_read(struct bt_storage *s, uint32_t piece, uint32_t begin,
		    void *p, uint32_t len)
{
	return io_range(s, piece, begin, p, len, false);
}

int bt_storage_locate(struct bt_storage *s, uint32_t piece, uint32_t begin,
		      uint32_t len, int *fd, uint64_t *off)
{
	const struct bt_metainfo *m = s->m;
	uint32_t psz = bt_piece_size(m, piece);
	if (len == 0 || begin >= psz || len > psz - begin)
		return SK_EINVAL;
	struct bt_span sp;
	int r = bt_metainfo_first_span(m, (uint64_t)piece * m->piece_length + begin,
				       len, &sp);
	if (r < 0)
		return r;
	if (sp.len < len)
		return 1;
	if ((r = file_fd(s, sp.file)) < 0)
		return r;
	*fd = r;
	*off = sp.file_off;
	return 0;
}

int bt_storage_hash_rest(struct bt_storage *s, uint32_t piece, uint32_t from,
			 void *ctx, uint8_t *buf)
{
	uint32_t psz = bt_piece_size(s->m, piece);
	while (from < psz) {
		uint32_t n = psz - from < BT_STORAGE_CHUNK ? psz - from
							  : BT_STORAGE_CHUNK;
		int r = bt_storage_read(s, piece, from, buf, n);
		if (r < 0)
			return r;
		if (EVP_DigestUpdate(ctx, buf, n) != 1)
			return SK_ENOMEM;
		from += n;
	}
	return 0;
}

int bt_storage_sync(struct bt_storage *s)
{
	int err = 0;
	for (size_t i = 0; i < s->m->nfiles; i++) {
		if (!s->dirty[i] || s->fc.fds[i] < 0)
			continue;
		if (fdatasync(s->fc.fds[i]) < 0 && err == 0)
			err = fail(s, -errno, s->m->files[i].path, NULL);
		s->dirty[i] = false;
	}
	return err;
}

int bt_storage_recheck(struct bt_storage *s, uint8_t *have, uint32_t *count,
		       void (*progress)(void *arg, uint64_t done, uint64_t total),
		       void *arg)
{
	const struct bt_metainfo *m = s->m;
	char root[PATH_MAX];
	int n = m->multi_file ? snprintf(root, sizeof root, "%s/%s", s->dir, m->name)
			      : snprintf(root, sizeof root, "%s", s->dir);
	if (n < 0 || (size_t)n >= sizeof root)
		return fail(s, SK_ENOBUFS, s->dir, "path too long");
	memset(have, 0, ((size_t)m->npieces + 7) / 8);
	*count = 0;
	uint8_t *out = malloc((size_t)m->npieces * BT_HASH_LEN);
	if (!out)
		return fail(s, SK_ENOMEM, s->dir, NULL);
	/* Written blocks must be visible to the hasher's own descriptors:
	 * they are (one page cache), no sync needed. */
	struct bt_hash_job job = {
		.m = m, .root = root, .out = out, .missing_ok = true,
		.progress = progress, .progress_arg = arg,
	};
	int r = bt_hash_pieces(&job);
	if (r < 0) {
		fail(s, r, root, job.error);
		free(out);
		return r;
	}
	for (uint32_t i = 0; i < m->npieces; i++)
		if (memcmp(out + (size_t)i * BT_HASH_LEN, bt_piece_hash(m, i),
			   BT_HASH_LEN) == 0) {
			bt_bit_set(have, i);
			(*count)++;
		}
	free(out);
	return 0;
}
