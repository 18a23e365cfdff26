/*
 * sockit/loop.h - the event loop: fd watchers, timers, signals, cross-thread
 * posts, and running a server on several threads.
 *
 * One loop per thread.  Nothing here is thread-safe except sk_loop_post()
 * and sk_loop_stop() (and sk_threads_stop()).
 *
 * Lifetimes: a handle freed from inside any callback stays valid memory until
 * the current loop iteration ends, and its callbacks are never called again.
 * So it is always safe to free a handle (or close a connection) from inside a
 * callback, even the handle's own.
 *
 * Backends: "uring" (Linux io_uring), "epoll" (Linux) and "poll" (portable),
 * chosen in that order at run time; the environment variable SOCKIT_BACKEND
 * (or the backend argument of sk_loop_new) forces one.
 *
 * Process-wide state, documented: signal watchers install a sigaction handler
 * and each signal number can be watched by one loop at a time (the previous
 * disposition comes back when the last watcher is freed).  Nothing else is
 * global: sockets are written with MSG_NOSIGNAL, so a closed peer gives
 * SK_EPIPE instead of SIGPIPE without touching the process's signals.
 */
#ifndef SOCKIT_LOOP_H
#define SOCKIT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_loop sk_loop;
typedef struct sk_io sk_io;
typedef struct sk_timer sk_timer;
typedef struct sk_signal sk_signal;

/* backend: NULL or "" for automatic (honours SOCKIT_BACKEND), else
 * "uring", "epoll" or "poll".  SK_EBACKEND if it cannot be had here. */
SK_EXPORT SK_NODISCARD int sk_loop_new(sk_loop **out, const char *backend);

/* Frees the loop with every connection, listener, timer, datagram socket,
 * signal watcher and pending resolution still on it (without calling their
 * callbacks).  fd watchers (sk_io) wrap the program's own descriptors and
 * are the program's to free, like the descriptors.  Must not be called
 * from inside the loop's callbacks. */
SK_EXPORT void sk_loop_free(sk_loop *loop);

/* Runs until sk_loop_stop() or until nothing is left that can make a
 * callback happen (no active watcher, timer, connection or listener).
 * Returns 0, or a negative code if the backend failed. */
SK_EXPORT int sk_loop_run(sk_loop *loop);

/* Runs one iteration, waiting at most timeout_ms (-1: as long as needed,
 * 0: not at all).  Returns the number of callbacks made (>= 0) or an error. */
SK_EXPORT int sk_loop_run_once(sk_loop *loop, int timeout_ms);

/* Makes sk_loop_run() return after the current iteration.  Thread-safe. */
SK_EXPORT void sk_loop_stop(sk_loop *loop);

SK_EXPORT const char *sk_loop_backend(const sk_loop *loop);

/* Cached monotonic time in milliseconds, refreshed once per iteration. */
SK_EXPORT uint64_t sk_loop_now(const sk_loop *loop);
SK_EXPORT void sk_loop_update_time(sk_loop *loop);

/* Number of active handles keeping the loop alive. */
SK_EXPORT unsigned sk_loop_alive(const sk_loop *loop);

/* Run fn(arg) on the loop's thread during its next iteration.  Thread-safe,
 * callable from any thread (not from a signal handler).  Posts run in the
 * order they were made.  A post keeps the loop alive until it has run. */
SK_EXPORT SK_NODISCARD int sk_loop_post(sk_loop *loop, void (*fn)(void *arg),
					void *arg);

/* Arbitrary data for the program. */
SK_EXPORT void sk_loop_set_data(sk_loop *loop, void *data);
SK_EXPORT void *sk_loop_data(const sk_loop *loop);

/* ---- fd watchers ---------------------------------------------------------- */

#define SK_READ 0x1u
#define SK_WRITE 0x2u
#define SK_ERROR 0x4u /* reported only: error or hang-up on the fd */

typedef void (*sk_io_cb)(sk_io *io, unsigned revents, void *ud);

/* Watch fd (level-triggered: the callback repeats while the condition holds).
 * The fd stays the caller's: sk_io_free() does not close it. */
SK_EXPORT SK_NODISCARD int sk_io_new(sk_loop *loop, int fd, unsigned events,
				     sk_io_cb cb, void *ud, sk_io **out);
SK_EXPORT SK_NODISCARD int sk_io_set(sk_io *io, unsigned events);
SK_EXPORT unsigned sk_io_events(const sk_io *io);
SK_EXPORT int sk_io_fd(const sk_io *io);
SK_EXPORT void sk_io_free(sk_io *io);

/* ---- timers ----------------------------------------------------------------
 * Monotonic, millisecond resolution, kept in a binary heap: start/stop are
 * O(log n).  A timer fires no earlier than its deadline.  A repeating timer
 * is re-armed relative to its previous deadline (no drift).
 */
typedef void (*sk_timer_cb)(sk_timer *t, void *ud);

SK_EXPORT SK_NODISCARD int sk_timer_new(sk_loop *loop, sk_timer_cb cb, void *ud,
					sk_timer **out);
/* (Re)arm: first fire after after_ms, then every repeat_ms (0: once). */
SK_EXPORT void sk_timer_start(sk_timer *t, uint64_t after_ms, uint64_t repeat_ms);
SK_EXPORT void sk_timer_stop(sk_timer *t);
SK_EXPORT bool sk_timer_active(const sk_timer *t);
SK_EXPORT void sk_timer_free(sk_timer *t);
/* Whether the timer keeps the loop alive (default yes). */
SK_EXPORT void sk_timer_set_ref(sk_timer *t, bool ref);

/* ---- signals ---------------------------------------------------------------
 * The callback runs on the loop, in normal context (never in the signal
 * handler), once per delivery batch.  SK_EBUSY if another loop watches that
 * signal.  Signal watchers do not keep the loop alive.
 */
typedef void (*sk_signal_cb)(sk_signal *s, int signum, void *ud);

SK_EXPORT SK_NODISCARD int sk_signal_new(sk_loop *loop, int signum,
					 sk_signal_cb cb, void *ud, sk_signal **out);
SK_EXPORT void sk_signal_free(sk_signal *s);

/* ---- one loop per thread ---------------------------------------------------
 * sk_threads_start() starts n threads, each with its own loop, and calls
 * setup(loop, index, ud) on each thread before running its loop; setup
 * typically opens a listener with reuseport so the kernel spreads
 * connections over the threads.  A setup that returns an error stops that
 * thread.  sk_threads_stop() asks every loop to stop (thread-safe);
 * sk_threads_join() waits for the threads, frees them and returns the first
 * error a thread reported (0 if none).
 */
typedef struct sk_threads sk_threads;
typedef int (*sk_thread_setup_fn)(sk_loop *loop, int index, void *ud);

SK_EXPORT SK_NODISCARD int sk_threads_start(int n, sk_thread_setup_fn setup,
					    void *ud, sk_threads **out);
SK_EXPORT sk_loop *sk_threads_loop(sk_threads *t, int index);
SK_EXPORT void sk_threads_stop(sk_threads *t);
SK_EXPORT int sk_threads_join(sk_threads *t);

#ifdef __cplusplus
}
#endif
#endif
