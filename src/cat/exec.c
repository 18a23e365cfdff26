/*
 * src/cat/exec.c - -e/-c: a program joined to a connection.
 *
 * The child gets one end of a socketpair as its standard input and output
 * (standard error stays ours); the other end becomes an sk_conn, so the
 * program is just another byte stream with a real half-close: shutting
 * down our end's write side is end of file on its standard input.
 *
 * It is started with posix_spawn (no fork of a process that has a loop),
 * with the default disposition for every signal: we ignore SIGPIPE, and an
 * ignored signal would otherwise stay ignored across exec.
 *
 * Its exit comes through the loop: a pidfd (pidfd_open, Linux 5.3) watched
 * for readability, or where that is missing a SIGCHLD watcher plus a
 * long-idle timer that keeps the loop alive while children run.  When its
 * session is over a child gets GRACE_MS to finish, then SIGTERM, then
 * after GRACE_MS more SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cat/cat_int.h"
#include "util/log.h"

extern char **environ;

#define GRACE_MS 2000
#define KEEPALIVE_MS (3600u * 1000)

struct cat_child {
	struct cat_exec *x;
	struct cat_child *next, **pprev;
	struct cat_child **ref;  /* the stream's pointer to us, cleared at exit */
	pid_t pid;
	int pidfd;
	sk_io *io;
	sk_timer *grace;
	int stage;               /* signals sent after release: 0, SIGTERM, SIGKILL */
	char name[64];
};

struct cat_exec {
	struct cat_run *run;
	struct cat_child *head;
	sk_signal *sigchld;      /* fallback without pidfd */
	sk_timer *keepalive;     /* holds the loop while the fallback waits */
};

static void child_free(struct cat_child *ch)
{
	if (ch->ref)
		*ch->ref = NULL;
	*ch->pprev = ch->next;
	if (ch->next)
		ch->next->pprev = ch->pprev;
	if (ch->io)
		sk_io_free(ch->io);
	if (ch->pidfd >= 0)
		close(ch->pidfd);
	if (ch->grace)
		sk_timer_free(ch->grace);
	free(ch);
}

static void report_exit(const struct cat_child *ch, int status)
{
	if (WIFEXITED(status))
		sk_log_info("'%s' (pid %d) exited with status %d", ch->name,
			    (int)ch->pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		sk_log_info("'%s' (pid %d) killed by signal %d", ch->name,
			    (int)ch->pid, WTERMSIG(status));
}

/* Reap ch if it has exited; true when it was (ch is then freed). */
static bool try_reap(struct cat_child *ch)
{
	int status;
	pid_t r;
	do
		r = waitpid(ch->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	if (r == ch->pid)
		report_exit(ch, status);
	struct cat_exec *x = ch->x;
	child_free(ch); /* also when waitpid failed: nothing left to wait for */
	if (!x->head && x->keepalive)
		sk_timer_stop(x->keepalive);
	return true;
}

static void pidfd_cb(sk_io *io, unsigned revents, void *ud)
{
	(void)try_reap(ud);
}

static void sigchld_cb(sk_signal *s, int signum, void *ud)
{
	struct cat_exec *x = ud;
	struct cat_child *ch = x->head;
	while (ch) {
		struct cat_child *next = ch->next;
		if (ch->pidfd < 0)
			(void)try_reap(ch);
		ch = next;
	}
}

static void keepalive_cb(sk_timer *t, void *ud)
{
	sigchld_cb(NULL, SIGCHLD, ud); /* a lost signal costs at most this */
}

static int exec_state(struct cat_run *run, struct cat_exec **out)
{
	if (!run->exec) {
		run->exec = calloc(1, sizeof *run->exec);
		if (!run->exec)
			return SK_ENOMEM;
		run->exec->run = run;
	}
	*out = run->exec;
	return 0;
}

/* Watch for the child's exit: pidfd, else SIGCHLD.  The environment
 * variable SOCKIT_CAT_NO_PIDFD=1 forces the fallback (for its test). */
static int watch(struct cat_exec *x, struct cat_child *ch)
{
	int fd = -1;
#ifdef SYS_pidfd_open
	const char *no = getenv("SOCKIT_CAT_NO_PIDFD");
	if (!no || strcmp(no, "1") != 0)
		fd = (int)syscall(SYS_pidfd_open, ch->pid, 0);
#endif
	if (fd >= 0) {
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		int r = sk_io_new(x->run->loop, fd, SK_READ, pidfd_cb, ch, &ch->io);
		if (r == 0) {
			ch->pidfd = fd;
			return 0;
		}
		close(fd);
	}
	int r = 0;
	if (!x->sigchld)
		r = sk_signal_new(x->run->loop, SIGCHLD, sigchld_cb, x, &x->sigchld);
	if (r == 0 && !x->keepalive)
		r = sk_timer_new(x->run->loop, keepalive_cb, x, &x->keepalive);
	if (r < 0)
		return r;
	if (!sk_timer_active(x->keepalive))
		sk_timer_start(x->keepalive, KEEPALIVE_MS, KEEPALIVE_MS);
	return 0;
}

/* argv for the command: /bin/sh -c CMD, or CMD split on blanks. */
static char **make_argv(const char *cmd, bool shell, char **words)
{
	if (shell) {
		char **v = malloc(4 * sizeof *v);
		if (v) {
			v[0] = (char *)"/bin/sh";
			v[1] = (char *)"-c";
			v[2] = (char *)cmd;
			v[3] = NULL;
		}
		return v;
	}
	*words = strdup(cmd);
	size_t n = strlen(cmd) / 2 + 2;
	char **v = malloc(n * sizeof *v);
	if (!*words || !v) {
		free(v);
		return NULL;
	}
	size_t i = 0;
	char *save = NULL;
	for (char *w = strtok_r(*words, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		v[i++] = w;
	v[i] = NULL;
	return v;
}

static int spawn(const char *cmd, bool shell, int fd, pid_t *pid)
{
	char *words = NULL;
	char **argv = make_argv(cmd, shell, &words);
	if (!argv) {
		free(words);
		return SK_ENOMEM;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	int r = posix_spawn_file_actions_init(&fa);
	if (r == 0 && (r = posix_spawnattr_init(&attr)) != 0)
		posix_spawn_file_actions_destroy(&fa);
	if (r == 0) {
		(void)posix_spawn_file_actions_adddup2(&fa, fd, 0);
		(void)posix_spawn_file_actions_adddup2(&fa, fd, 1);
		(void)posix_spawnattr_setsigdefault(&attr, &all);
		(void)posix_spawnattr_setsigmask(&attr, &none);
		(void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
							      POSIX_SPAWN_SETSIGMASK);
		r = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
		posix_spawnattr_destroy(&attr);
		posix_spawn_file_actions_destroy(&fa);
	}
	free(argv);
	free(words);
	return -r;
}

int cat_exec_spawn(struct cat_run *run, const char *cmd, bool shell,
		   struct cat_stream *st, char *err, size_t errsz)
{
	struct cat_exec *x;
	struct cat_child *ch = calloc(1, sizeof *ch);
	int sv[2] = {-1, -1}, r;
	if (!ch || (r = exec_state(run, &x)) < 0) {
		free(ch);
		snprintf(err, errsz, "out of memory");
		return SK_ENOMEM;
	}
	ch->pidfd = -1;
	snprintf(ch->name, sizeof ch->name, "%s", cmd);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		snprintf(err, errsz, "socketpair: %s", sk_strerror(r));
		free(ch);
		return r;
	}
	r = spawn(cmd, shell, sv[1], &ch->pid);
	close(sv[1]);
	if (r < 0) {
		snprintf(err, errsz, "cannot run '%s': %s", cmd, sk_strerror(r));
		close(sv[0]);
		free(ch);
		return r;
	}
	ch->x = x;
	ch->next = x->head;
	if (x->head)
		x->head->pprev = &ch->next;
	ch->pprev = &x->head;
	x->head = ch;
	if ((r = watch(x, ch)) < 0)
		sk_log_warn("cannot watch pid %d: %s", (int)ch->pid, sk_strerror(r));
	sk_conn *c;
	r = sk_conn_open_fd(run->loop, sv[0], 0, NULL, NULL, NULL, &c);
	if (r < 0) {
		close(sv[0]);
		snprintf(err, errsz, "'%s': %s", cmd, sk_strerror(r));
		cat_child_release(ch);
		return r;
	}
	sk_log_debug("started '%s' (pid %d)", cmd, (int)ch->pid);
	snprintf(st->name, sizeof st->name, "'%.*s'", (int)sizeof st->name - 3, cmd);
	st->child = ch;
	ch->ref = &st->child;
	cat_stream_hold(st, c);
	st->rd = st->wr = c;
	return 0;
}

static void grace_cb(sk_timer *t, void *ud)
{
	struct cat_child *ch = ud;
	if (try_reap(ch))
		return;
	ch->stage = ch->stage == 0 ? SIGTERM : SIGKILL;
	sk_log_debug("sending signal %d to '%s' (pid %d)", ch->stage, ch->name,
		     (int)ch->pid);
	kill(ch->pid, ch->stage);
	if (ch->stage == SIGTERM)
		sk_timer_start(t, GRACE_MS, 0);
}

void cat_child_release(struct cat_child *ch)
{
	if (!ch)
		return;
	if (ch->ref) {
		*ch->ref = NULL;
		ch->ref = NULL;
	}
	if (try_reap(ch))
		return;
	if (!ch->grace && sk_timer_new(ch->x->run->loop, grace_cb, ch, &ch->grace) < 0) {
		kill(ch->pid, SIGTERM); /* no timer: do not wait */
		return;
	}
	sk_timer_start(ch->grace, GRACE_MS, 0);
}

/* Teardown after a signal: ask the children to go, release the watchers. */
void cat_exec_free(struct cat_run *run)
{
	struct cat_exec *x = run->exec;
	if (!x)
		return;
	while (x->head) {
		struct cat_child *ch = x->head;
		if (!try_reap(ch)) {
			kill(ch->pid, SIGTERM);
			child_free(ch);
		}
	}
	if (x->sigchld)
		sk_signal_free(x->sigchld);
	if (x->keepalive)
		sk_timer_free(x->keepalive);
	free(x);
	run->exec = NULL;
}
