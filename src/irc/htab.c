/*
 * src/irc/htab.c - the intrusive name table (see htab.h).
 */
#include "irc/htab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sockit/error.h"

static void random_key(uint64_t key[2])
{
	if (getrandom(key, 2 * sizeof key[0], GRND_NONBLOCK) ==
	    (ssize_t)(2 * sizeof key[0]))
		return;
	/* No entropy yet (early boot): a weaker key still beats none. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)key;
	key[1] = (uint64_t)ts.tv_sec ^ 0xc2b2ae3d27d4eb4full;
}

void irc_htab_init(struct irc_htab *t, enum irc_casemap cm)
{
	memset(t, 0, sizeof *t);
	t->cm = cm;
	random_key(t->key);
}

void irc_htab_free(struct irc_htab *t)
{
	free(t->b);
	t->b = NULL;
	t->mask = 0;
	t->n = 0;
}

struct irc_hnode *irc_htab_find(const struct irc_htab *t, const char *name,
				size_t n)
{
	if (!t->b)
		return NULL;
	uint64_t h = irc_hash(t->cm, name, n, t->key);
	for (struct irc_hnode *e = t->b[h & t->mask]; e; e = e->next)
		if (e->hash == h &&
		    irc_caseeq(t->cm, e->key, strlen(e->key), name, n))
			return e;
	return NULL;
}

static int grow(struct irc_htab *t)
{
	size_t nb = t->b ? (t->mask + 1) * 2 : 64;
	struct irc_hnode **b = calloc(nb, sizeof *b);
	if (!b)
		return SK_ENOMEM;
	if (t->b) {
		for (size_t i = 0; i <= t->mask; i++) {
			struct irc_hnode *e = t->b[i], *next;
			for (; e; e = next) {
				next = e->next;
				e->next = b[e->hash & (nb - 1)];
				b[e->hash & (nb - 1)] = e;
			}
		}
		free(t->b);
	}
	t->b = b;
	t->mask = nb - 1;
	return 0;
}

int irc_htab_add(struct irc_htab *t, struct irc_hnode *nd)
{
	if (!t->b || t->n >= t->mask + 1)
		(void)grow(t); /* failing to grow only lengthens chains */
	if (!t->b)
		return SK_ENOMEM;
	nd->hash = irc_hash(t->cm, nd->key, strlen(nd->key), t->key);
	struct irc_hnode **slot = &t->b[nd->hash & t->mask];
	nd->next = *slot;
	*slot = nd;
	t->n++;
	return 0;
}

void irc_htab_del(struct irc_htab *t, struct irc_hnode *nd)
{
	if (!t->b)
		return;
	struct irc_hnode **p = &t->b[nd->hash & t->mask];
	for (; *p; p = &(*p)->next) {
		if (*p == nd) {
			*p = nd->next;
			nd->next = NULL;
			t->n--;
			return;
		}
	}
}

void irc_htab_recase(struct irc_htab *t, enum irc_casemap cm)
{
	if (t->cm == cm)
		return;
	t->cm = cm;
	if (!t->b)
		return;
	size_t nb = t->mask + 1;
	struct irc_hnode *all = NULL;
	for (size_t i = 0; i < nb; i++) {
		struct irc_hnode *e = t->b[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = all;
			all = e;
		}
		t->b[i] = NULL;
	}
	for (struct irc_hnode *e = all, *next; e; e = next) {
		next = e->next;
		e->hash = irc_hash(cm, e->key, strlen(e->key), t->key);
		e->next = t->b[e->hash & t->mask];
		t->b[e->hash & t->mask] = e;
	}
}
