/*
 * src/bt/fdcache.h - the descriptors of a torrent's files, opened on first
 * use under the download directory, at most `max` at a time.
 *
 * The storage (loop thread, read-write) and the piece checker (its own
 * thread, read-only) each keep one: a descriptor is never shared between
 * threads, so one side closing its files cannot pull one from under the
 * other.  When `max` are open the next open closes them all first: crude
 * but bounded, and a torrent with more files than that is read and
 * written mostly in file order anyway.
 */
#ifndef SK_BT_FDCACHE_H
#define SK_BT_FDCACHE_H

#include <stddef.h>

#include "bt/metainfo.h"

struct bt_fdcache {
	const struct bt_metainfo *m;
	int dirfd;      /* borrowed */
	int oflags;     /* O_RDONLY or O_RDWR */
	unsigned max;   /* open at once */
	unsigned nopen;
	int *fds;       /* per file, -1 while closed */
};

/* 0, or SK_ENOMEM. */
int bt_fdcache_init(struct bt_fdcache *c, const struct bt_metainfo *m,
		    int dirfd, int oflags, unsigned max);
/* True when the next open of a closed file will first close them all. */
static inline int bt_fdcache_full(const struct bt_fdcache *c)
{
	return c->nopen >= c->max;
}
/* The descriptor of file i: >= 0, or -errno (-ENAMETOOLONG when its path
 * does not fit PATH_MAX). */
int bt_fdcache_get(struct bt_fdcache *c, size_t i);
/* Take fd as file i's (closed instead when the cache is full). */
void bt_fdcache_adopt(struct bt_fdcache *c, size_t i, int fd);
void bt_fdcache_close_all(struct bt_fdcache *c);
void bt_fdcache_free(struct bt_fdcache *c);

#endif
