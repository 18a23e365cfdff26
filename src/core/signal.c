/*
 * signal.c - signals delivered as loop callbacks (self-pipe).
 *
 * Process-wide state (documented in loop.h): sig_owner[signum] holds the
 * write end of the pipe of the one loop that watches signum (+1, 0 = none).
 * The handler only writes the signal number to that pipe, which is
 * async-signal-safe; everything else runs on the loop.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SK_NSIG 65

struct sk_signal {
	sk_loop *loop;
	sk_signal_cb cb;
	void *ud;
	int signum;
	bool dead;
	struct sk_signal *next;
};

static _Atomic int sig_owner[SK_NSIG];
static struct sigaction sig_saved[SK_NSIG];
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;

static void handler(int signum)
{
	int saved = errno;
	int fd = atomic_load(&sig_owner[signum]) - 1;
	if (fd >= 0) {
		unsigned char b = (unsigned char)signum;
		ssize_t r = write(fd, &b, 1);
		(void)r; /* a full pipe already holds a wake-up */
	}
	errno = saved;
}

static void sig_read_cb(sk_io *io, unsigned revents, void *ud)
{
	sk_loop *loop = ud;
	unsigned char buf[64];
	bool seen[SK_NSIG] = {false};
	ssize_t n;
	while ((n = read(loop->sig_rfd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] < SK_NSIG)
				seen[buf[i]] = true;
	for (struct sk_signal *s = loop->signals; s; s = s->next)
		if (!s->dead && seen[s->signum])
			s->cb(s, s->signum, s->ud);
}

static int ensure_pipe(sk_loop *loop)
{
	int fds[2];
	if (loop->sig_rfd >= 0)
		return 0;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return sk__errno();
	int r = sk_io_new(loop, fds[0], SK_READ, sig_read_cb, loop, &loop->sig_io);
	if (r < 0) {
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	/* Signal watchers do not keep the loop alive. */
	loop->sig_io->flags |= SK__IO_NOREF;
	sk__loop_unref(loop);
	loop->sig_rfd = fds[0];
	loop->sig_wfd = fds[1];
	return 0;
}

static int watchers_of(const sk_loop *loop, int signum)
{
	int n = 0;
	for (const struct sk_signal *s = loop->signals; s; s = s->next)
		n += !s->dead && s->signum == signum;
	return n;
}

int sk_signal_new(sk_loop *loop, int signum, sk_signal_cb cb, void *ud,
		  sk_signal **out)
{
	if (signum <= 0 || signum >= SK_NSIG || !cb || signum == SIGKILL ||
	    signum == SIGSTOP)
		return SK_EINVAL;
	int r = ensure_pipe(loop);
	if (r < 0)
		return r;
	sk_signal *s = calloc(1, sizeof *s);
	if (!s)
		return SK_ENOMEM;
	pthread_mutex_lock(&sig_mu);
	int owner = atomic_load(&sig_owner[signum]);
	if (owner && owner != loop->sig_wfd + 1) {
		pthread_mutex_unlock(&sig_mu);
		free(s);
		return SK_EBUSY;
	}
	if (!owner) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = handler;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		atomic_store(&sig_owner[signum], loop->sig_wfd + 1);
		if (sigaction(signum, &sa, &sig_saved[signum]) < 0) {
			r = sk__errno();
			atomic_store(&sig_owner[signum], 0);
			pthread_mutex_unlock(&sig_mu);
			free(s);
			return r;
		}
	}
	pthread_mutex_unlock(&sig_mu);
	s->loop = loop;
	s->cb = cb;
	s->ud = ud;
	s->signum = signum;
	s->next = loop->signals;
	loop->signals = s;
	*out = s;
	return 0;
}

static void unlink_signal(sk_signal *s)
{
	sk_loop *loop = s->loop;
	for (struct sk_signal **pp = &loop->signals; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
}

static void release(sk_signal *s)
{
	s->dead = true;
	if (watchers_of(s->loop, s->signum) == 0) {
		pthread_mutex_lock(&sig_mu);
		sigaction(s->signum, &sig_saved[s->signum], NULL);
		atomic_store(&sig_owner[s->signum], 0);
		pthread_mutex_unlock(&sig_mu);
	}
}

void sk_signal_free(sk_signal *s)
{
	if (!s || s->dead)
		return;
	release(s);
	/* Unlinking leaves s->next intact, so a dispatch standing on s walks
	 * on; the memory lives until the end of the iteration. */
	unlink_signal(s);
	if (s->loop->running)
		sk__defer_free(s->loop, s);
	else
		free(s);
}

void sk__signals_free(sk_loop *loop)
{
	while (loop->signals)
		sk_signal_free(loop->signals);
	if (loop->sig_io) {
		loop->sig_io->flags &= (uint8_t)~SK__IO_NOREF;
		sk__loop_ref(loop);
		sk_io_free(loop->sig_io);
		loop->sig_io = NULL;
	}
	if (loop->sig_rfd >= 0) {
		close(loop->sig_rfd);
		close(loop->sig_wfd);
		loop->sig_rfd = loop->sig_wfd = -1;
	}
}
