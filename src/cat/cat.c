/*
 * src/cat/cat.c - `sockit cat`: parse the command line, run the loop until
 * the work is done (or a signal), and turn the outcome into an exit code.
 *
 * Process state this program touches, and puts back: SIGPIPE is ignored
 * (stdout may be a pipe whose reader leaves: that is an error value, not a
 * death); standard input and output are made non-blocking by the library,
 * and their flags are restored at the end because a terminal's are shared
 * with the shell.  Closed descriptors 0-2 are opened on /dev/null so that
 * sockets never take their numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cat/cat.h"
#include "cat/cat_int.h"
#include "util/log.h"

void cat_fail(struct cat_run *run, const char *fmt, ...)
{
	va_list ap;
	if (run->exit_code != CAT_EXIT_OK)
		return; /* the first cause is the one worth reading */
	run->exit_code = CAT_EXIT_ERR;
	char msg[CAT_ERRMSG + 64];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "sockit cat: %s\n", msg);
}

const char *cat_peer_name(sk_conn *c)
{
	const char *p = sk_conn_peer_str(c);
	return strcmp(p, "unix:") == 0 ? "unix client" : p;
}

const char *cat_conn_errstr(sk_conn *c, int err, const char *label, char *buf,
			    size_t size)
{
	const char *peer = c ? sk_conn_peer_str(c) : "?";
	const char *detail = c ? sk_conn_error_detail(c) : "";
	if ((strcmp(peer, "?") == 0 || strcmp(peer, "unix:") == 0) && label)
		peer = label; /* a pipe or a socketpair: say which */
	snprintf(buf, size, "%s%s%s (%s)", sk_strerror(err), *detail ? ": " : "",
		 detail, peer);
	return buf;
}

static void open_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* open() takes the lowest free number: this one. */
		int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (nfd >= 0 && nfd != fd)
			close(nfd);
	}
}

struct sigstate {
	sk_loop *loop;
	int signum;
};

static void on_signal(sk_signal *s, int signum, void *ud)
{
	struct sigstate *ss = ud;
	if (!ss->signum)
		ss->signum = signum;
	sk_loop_stop(ss->loop);
}

int cat_main(int argc, char **argv)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct cat_opts o;
	int r = cat_opts_parse(argc, argv, &o);
	if (r >= 0) {
		cat_opts_free(&o);
		return r;
	}
	/* Quiet unless asked: a netcat's stderr is for errors.  -v reports
	 * connections and byte counts, -vv debugs. */
	sk_log_set_level(sk_log_level() - 1 + o.verbose);
	signal(SIGPIPE, SIG_IGN);
	open_std_fds();
	int fl0 = fcntl(0, F_GETFL), fl1 = fcntl(1, F_GETFL);

	struct cat_run run = {.o = &o};
	struct sigstate ss = {0};
	sk_signal *sig[3] = {NULL, NULL, NULL};
	r = sk_loop_new(&run.loop, NULL);
	if (r < 0) {
		fprintf(stderr, "sockit cat: no event loop: %s\n", sk_strerror(r));
		cat_opts_free(&o);
		return CAT_EXIT_ERR;
	}
	ss.loop = run.loop;
	for (int i = 0; i < 3; i++)
		if (sk_signal_new(run.loop, sigs[i], on_signal, &ss, &sig[i]) < 0)
			sig[i] = NULL; /* then the default action: still an end */
	if (cat_run_start(&run) == 0 && (r = sk_loop_run(run.loop)) < 0)
		cat_fail(&run, "event loop: %s", sk_strerror(r));
	cat_run_free(&run);
	for (int i = 0; i < 3; i++)
		if (sig[i])
			sk_signal_free(sig[i]);
	sk_loop_free(run.loop);
	if (run.tls_client)
		sk_tls_ctx_free(run.tls_client);
	if (run.tls_server)
		sk_tls_ctx_free(run.tls_server);
	if (fl0 >= 0)
		(void)fcntl(0, F_SETFL, fl0);
	if (fl1 >= 0)
		(void)fcntl(1, F_SETFL, fl1);
	cat_opts_free(&o);
	if (ss.signum) {
		sk_log_info("stopped by signal %d", ss.signum);
		return 128 + ss.signum;
	}
	return run.exit_code;
}
