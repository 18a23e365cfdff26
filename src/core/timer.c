/*
 * timer.c - monotonic timers in a binary min-heap ordered by
 * (deadline, start sequence): O(log n) start/stop, O(1) next deadline.
 */
#include "internal.h"

#include <stdlib.h>

#define NOT_IN_HEAP UINT32_MAX

static bool before(const sk_timer *a, const sk_timer *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->seq < b->seq);
}

static void place(sk_loop *loop, uint32_t i, sk_timer *t)
{
	loop->heap[i] = t;
	t->hidx = i;
}

static void sift_up(sk_loop *loop, uint32_t i)
{
	sk_timer *t = loop->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!before(t, loop->heap[parent]))
			break;
		place(loop, i, loop->heap[parent]);
		i = parent;
	}
	place(loop, i, t);
}

static void sift_down(sk_loop *loop, uint32_t i)
{
	sk_timer *t = loop->heap[i];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const sk_timer *best = t;
		if (l < loop->nheap && before(loop->heap[l], best)) {
			m = l;
			best = loop->heap[l];
		}
		if (r < loop->nheap && before(loop->heap[r], best))
			m = r;
		if (m == i)
			break;
		place(loop, i, loop->heap[m]);
		i = m;
	}
	place(loop, i, t);
}

static int heap_push(sk_loop *loop, sk_timer *t)
{
	if (loop->nheap == loop->capheap) {
		uint32_t cap = loop->capheap ? loop->capheap * 2 : 16;
		sk_timer **h = realloc(loop->heap, cap * sizeof *h);
		if (!h)
			return SK_ENOMEM;
		loop->heap = h;
		loop->capheap = cap;
	}
	place(loop, loop->nheap++, t);
	sift_up(loop, t->hidx);
	return 0;
}

static void heap_remove(sk_loop *loop, sk_timer *t)
{
	uint32_t i = t->hidx;
	sk_timer *last = loop->heap[--loop->nheap];
	t->hidx = NOT_IN_HEAP;
	if (last == t)
		return;
	place(loop, i, last);
	if (i > 0 && before(last, loop->heap[(i - 1) / 2]))
		sift_up(loop, i);
	else
		sift_down(loop, i);
}

int sk_timer_new(sk_loop *loop, sk_timer_cb cb, void *ud, sk_timer **out)
{
	if (!cb)
		return SK_EINVAL;
	sk_timer *t = calloc(1, sizeof *t);
	if (!t)
		return SK_ENOMEM;
	t->loop = loop;
	t->cb = cb;
	t->ud = ud;
	t->hidx = NOT_IN_HEAP;
	t->ref = 1;
	sk__list_add_tail(&loop->timers, &t->link);
	*out = t;
	return 0;
}

bool sk_timer_active(const sk_timer *t) { return t->hidx != NOT_IN_HEAP; }

void sk_timer_stop(sk_timer *t)
{
	if (!sk_timer_active(t))
		return;
	heap_remove(t->loop, t);
	if (t->ref)
		sk__loop_unref(t->loop);
}

void sk_timer_start(sk_timer *t, uint64_t after_ms, uint64_t repeat_ms)
{
	if (t->dead)
		return;
	sk_timer_stop(t);
	t->deadline = t->loop->now + after_ms;
	t->repeat = repeat_ms;
	t->seq = ++t->loop->timer_seq;
	/* The heap only grows when it is full; on allocation failure the
	 * timer stays stopped (the program sees it inactive). */
	if (heap_push(t->loop, t) == 0 && t->ref)
		sk__loop_ref(t->loop);
}

void sk_timer_set_ref(sk_timer *t, bool ref)
{
	if (t->ref == ref)
		return;
	if (sk_timer_active(t))
		ref ? sk__loop_ref(t->loop) : sk__loop_unref(t->loop);
	t->ref = ref;
}

void sk_timer_free(sk_timer *t)
{
	if (!t || t->dead)
		return;
	sk_timer_stop(t);
	t->dead = 1;
	sk__list_del(&t->link);
	sk__defer_free(t->loop, t);
}

/* sk_loop_free: the timers the program did not free go with the loop. */
void sk__timers_free_all(sk_loop *loop)
{
	while (!sk__list_empty(&loop->timers)) {
		sk_timer *t = SK__CONTAINER(loop->timers.next, sk_timer, link);
		sk_timer_free(t);
	}
}

/* Fire every timer due now that was started before this call: a timer
 * re-armed for "now" by its own callback waits for the next round. */
void sk__timers_run(sk_loop *loop, unsigned *ncb)
{
	uint64_t seq_limit = loop->timer_seq;
	while (loop->nheap > 0) {
		sk_timer *t = loop->heap[0];
		if (t->deadline > loop->now || t->seq > seq_limit)
			break;
		heap_remove(loop, t);
		if (t->repeat) {
			t->deadline += t->repeat;
			if (t->deadline <= loop->now) /* fell behind: skip ahead */
				t->deadline = loop->now + t->repeat;
			t->seq = ++loop->timer_seq;
			if (heap_push(loop, t) < 0 && t->ref)
				sk__loop_unref(loop);
		} else if (t->ref) {
			sk__loop_unref(loop);
		}
		t->cb(t, t->ud);
		(*ncb)++;
	}
}

int sk__timers_next(const sk_loop *loop)
{
	if (loop->nheap == 0)
		return -1;
	uint64_t d = loop->heap[0]->deadline;
	if (d <= loop->now)
		return 0;
	uint64_t ms = d - loop->now;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}
