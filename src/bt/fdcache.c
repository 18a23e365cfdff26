/*
 * src/bt/fdcache.c - per-file descriptors, opened on first use (see
 * fdcache.h).
 */
#include "bt/fdcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <sockit/error.h>

int bt_fdcache_init(struct bt_fdcache *c, const struct bt_metainfo *m,
		    int dirfd, int oflags, unsigned max)
{
	c->m = m;
	c->dirfd = dirfd;
	c->oflags = oflags;
	c->max = max ? max : 1;
	c->nopen = 0;
	c->fds = malloc((m->nfiles ? m->nfiles : 1) * sizeof *c->fds);
	if (!c->fds)
		return SK_ENOMEM;
	for (size_t i = 0; i < m->nfiles; i++)
		c->fds[i] = -1;
	return 0;
}

void bt_fdcache_close_all(struct bt_fdcache *c)
{
	for (size_t i = 0; c->fds && i < c->m->nfiles; i++)
		if (c->fds[i] >= 0) {
			close(c->fds[i]);
			c->fds[i] = -1;
		}
	c->nopen = 0;
}

int bt_fdcache_get(struct bt_fdcache *c, size_t i)
{
	char path[PATH_MAX];
	if (c->fds[i] >= 0)
		return c->fds[i];
	if (c->nopen >= c->max)
		bt_fdcache_close_all(c);
	if (bt_metainfo_file_path(c->m, i, path, sizeof path) < 0)
		return -ENAMETOOLONG;
	int fd = openat(c->dirfd, path, c->oflags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c->fds[i] = fd;
	c->nopen++;
	return fd;
}

void bt_fdcache_adopt(struct bt_fdcache *c, size_t i, int fd)
{
	if (c->fds[i] >= 0 || c->nopen >= c->max) {
		close(fd);
		return;
	}
	c->fds[i] = fd;
	c->nopen++;
}

void bt_fdcache_free(struct bt_fdcache *c)
{
	bt_fdcache_close_all(c);
	free(c->fds);
	c->fds = NULL;
}
