/*
 * src/irc/ircd_main.c - `sockit ircd`: options, configuration, signals,
 * and the run loop around the IRC server.
 *
 *   sockit ircd                          127.0.0.1:6667, embedded defaults
 *   sockit ircd -c ircd.conf             a config file (docs/ircd.conf.example)
 *   sockit ircd --listen 127.0.0.1:16670 --listen unix:/tmp/irc.sock
 *   sockit ircd --set nicklen=32 --set server_name=My.Little.Server
 *   sockit ircd --hash-password          make an oper password hash
 *   sockit ircd --gen-cert DIR           self-signed TLS certificate
 *
 * SIGTERM/SIGINT: every client gets an ERROR line, then the process exits
 * once the queues drained (3 s at most).  SIGHUP: the config file is read
 * again with the same overrides and swapped in when it is valid
 * (listeners stay as they are).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "irc/daemon.h"
#include "irc/ircd.h"
#include "sockit/tls.h"
#include "util/log.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sockit ircd [options]\n"
		"\n"
		"An IRC server.  With no options it serves 127.0.0.1:6667 on "
		"embedded defaults.\n"
		"\n"
		"options:\n"
		"  -c, --config FILE     read a `key = value` config file "
		"(docs/ircd.conf.example)\n"
		"  -l, --listen ADDR     listen on ADDR:PORT, [V6]:PORT or "
		"unix:/path (repeatable;\n"
		"                        replaces the config's listeners)\n"
		"      --tls-listen ADDR a TLS listener (needs tls_cert and "
		"tls_key)\n"
		"  -s, --set KEY=VALUE   set any config key (repeatable; after "
		"the file)\n"
		"      --check           load the config, report problems, exit\n"
		"      --hash-password [PW]  print a PBKDF2 hash for an `oper` "
		"line (PW from stdin\n"
		"                        when not given)\n"
		"      --gen-cert DIR    write DIR/ircd.crt and DIR/ircd.key "
		"(self-signed, 1 year)\n"
		"  -h, --help            this help\n"
		"\n"
		"signals: SIGTERM/SIGINT shut down (clients get ERROR), SIGHUP "
		"reloads the config.\n");
}

/* ---- configuration ------------------------------------------------------------- */

/* Defaults, then the file, then the overrides: the same on start and on
 * SIGHUP.  The result is heap-allocated for the server to own. */
static struct irc_config *build_config(const struct ircd *d, char *err,
				       size_t errsz)
{
	struct irc_config *cfg = malloc(sizeof *cfg);
	if (!cfg || irc_config_defaults(cfg) < 0) {
		free(cfg);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	int r = 0;
	if (d->config_path)
		r = irc_config_load_file(cfg, d->config_path, err, errsz);
	bool cleared = false;
	for (size_t i = 0; r == 0 && i < d->noverrides; i++) {
		char *kv = d->overrides[i];
		char *eq = strchr(kv, '=');
		if (!eq) {
			snprintf(err, errsz, "--set %s: expected KEY=VALUE", kv);
			r = SK_EINVAL;
			break;
		}
		*eq = '\0';
		if (strcmp(kv, "listen") == 0 && d->listen_override && !cleared) {
			irc_config_clear_list(cfg, "listen");
			cleared = true;
		}
		char msg[200] = "";
		r = irc_config_set(cfg, kv, eq + 1, msg, sizeof msg);
		if (r < 0)
			snprintf(err, errsz, "%s=%s: %s", kv, eq + 1,
				 msg[0] ? msg : sk_strerror(r));
		*eq = '=';
	}
	if (r == 0)
		r = irc_config_finish(cfg);
	if (r == 0)
		r = irc_config_check(cfg, err, errsz);
	if (r < 0) {
		irc_config_free(cfg);
		free(cfg);
		return NULL;
	}
	return cfg;
}

static int rehash(void *ud, char *err, size_t errsz)
{
	struct ircd *d = ud;
	struct irc_config *cfg = build_config(d, err, errsz);
	if (!cfg)
		return SK_EINVAL;
	int r = irc_server_reconfigure(d->srv, cfg);
	if (r < 0)
		snprintf(err, errsz, "%s", sk_strerror(r));
	return r;
}

static void on_signal(sk_signal *sig, int signum, void *ud)
{
	struct ircd *d = ud;
	(void)sig;
	if (signum == SIGHUP) {
		char err[256] = "";
		if (rehash(d, err, sizeof err) < 0)
			sk_log_error("reload failed, keeping the old config: %s",
				     err);
		else
			sk_log_info("configuration reloaded%s",
				    d->config_path ? "" : " (no file: defaults)");
		return;
	}
	ircd_shutdown(d, signum == SIGTERM ? "Server shutting down (SIGTERM)"
					   : "Server shutting down");
}

/* ---- helpers ----------------------------------------------------------------------- */

static int hash_password(const char *pw)
{
	char buf[256];
	if (!pw) {
		struct termios old, quiet;
		bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
		if (tty) {
			fprintf(stderr, "password: ");
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
		}
		char *ok = fgets(buf, sizeof buf, stdin);
		if (tty) {
			tcsetattr(STDIN_FILENO, TCSANOW, &old);
			fputc('\n', stderr);
		}
		if (!ok) {
			fprintf(stderr, "sockit ircd: no password given\n");
			return EXIT_USAGE;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		pw = buf;
	}
	char out[IRC_PASSWD_MAX];
	if (irc_passwd_hash(pw, IRC_PASSWD_ITER, out, sizeof out) < 0) {
		fprintf(stderr, "sockit ircd: hashing failed\n");
		return EXIT_RUNTIME;
	}
	printf("%s\n", out);
	return EXIT_OK;
}

static int gen_cert(const char *dir)
{
	char crt[4096], key[4096];
	snprintf(crt, sizeof crt, "%s/ircd.crt", dir);
	snprintf(key, sizeof key, "%s/ircd.key", dir);
	int r = sk_tls_write_selfsigned("localhost", crt, key, 365);
	if (r < 0) {
		fprintf(stderr, "sockit ircd: cannot write %s: %s\n", crt,
			sk_strerror(r));
		return EXIT_RUNTIME;
	}
	printf("wrote %s and %s\nadd to the config:\n  tls_cert = %s\n"
	       "  tls_key = %s\n  tls_listen = 127.0.0.1:6697\n",
	       crt, key, crt, key);
	return EXIT_OK;
}

static int push_override(struct ircd *d, const char *key, const char *value)
{
	char **v = realloc(d->overrides, (d->noverrides + 1) * sizeof *v);
	if (!v)
		return SK_ENOMEM;
	d->overrides = v;
	size_t n = strlen(key) + strlen(value) + 2;
	if (!(v[d->noverrides] = malloc(n)))
		return SK_ENOMEM;
	snprintf(v[d->noverrides], n, "%s=%s", key, value);
	d->noverrides++;
	return 0;
}

static void free_overrides(struct ircd *d)
{
	for (size_t i = 0; i < d->noverrides; i++)
		free(d->overrides[i]);
	free(d->overrides);
	d->overrides = NULL;
	d->noverrides = 0;
}

/* ---- run ------------------------------------------------------------------------------- */

static int run(struct ircd *d, struct irc_config *cfg)
{
	int r = sk_loop_new(&d->loop, NULL);
	if (r < 0) {
		sk_log_error("event loop: %s", sk_strerror(r));
		irc_config_free(cfg);
		free(cfg);
		return EXIT_RUNTIME;
	}
	irc_htab_init(&d->ips, IRC_CASEMAP_ASCII);
	r = irc_server_new(cfg, &d->srv);
	if (r == 0) {
		d->srv->rehash = rehash;
		d->srv->rehash_ud = d;
		d->srv->batching = true; /* client.c flushes after each read */
		r = ircd_listen_all(d);
	}
	if (r == 0)
		r = ircd_timers_start(d);
	static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; r == 0 && i < 3; i++)
		r = sk_signal_new(d->loop, signums[i], on_signal, d, &d->sig[i]);
	if (r == 0) {
		sk_log_info("%s ready (%s, backend %s)", d->srv->cfg->server_name,
			    IRC_VERSION, sk_loop_backend(d->loop));
		r = sk_loop_run(d->loop);
		if (r < 0)
			sk_log_error("event loop failed: %s", sk_strerror(r));
		else
			sk_log_info("stopped");
	}
	for (int i = 0; i < 3; i++)
		if (d->sig[i])
			sk_signal_free(d->sig[i]);
	irc_server_free(d->srv);
	d->srv = NULL;
	ircd_free_io(d);
	sk_loop_free(d->loop);
	return r < 0 ? EXIT_RUNTIME : EXIT_OK;
}

int ircd_main(int argc, char **argv)
{
	struct ircd d;
	memset(&d, 0, sizeof d);
	bool check = false;
	int code = EXIT_USAGE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
			     strcmp(a, "-l") == 0 || strcmp(a, "--listen") == 0 ||
			     strcmp(a, "--tls-listen") == 0 ||
			     strcmp(a, "-s") == 0 || strcmp(a, "--set") == 0 ||
			     strcmp(a, "--gen-cert") == 0;
		if (takes && !next) {
			fprintf(stderr, "sockit ircd: %s needs a value\n", a);
			goto out;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			code = EXIT_OK;
			goto out;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			d.config_path = argv[++i];
		} else if (strcmp(a, "-l") == 0 || strcmp(a, "--listen") == 0) {
			d.listen_override = true;
			if (push_override(&d, "listen", argv[++i]) < 0)
				goto oom;
		} else if (strcmp(a, "--tls-listen") == 0) {
			if (push_override(&d, "tls_listen", argv[++i]) < 0)
				goto oom;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--set") == 0) {
			const char *kv = argv[++i];
			const char *eq = strchr(kv, '=');
			if (!eq) {
				fprintf(stderr, "sockit ircd: --set %s: expected "
						"KEY=VALUE\n", kv);
				goto out;
			}
			char key[64];
			snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
			if (strcmp(key, "listen") == 0)
				d.listen_override = true;
			if (push_override(&d, key, eq + 1) < 0)
				goto oom;
		} else if (strcmp(a, "--check") == 0) {
			check = true;
		} else if (strcmp(a, "--hash-password") == 0) {
			code = hash_password(next && next[0] != '-' ? next : NULL);
			goto out;
		} else if (strcmp(a, "--gen-cert") == 0) {
			code = gen_cert(next);
			goto out;
		} else {
			fprintf(stderr, "sockit ircd: unknown option '%s' (see "
					"sockit ircd --help)\n", a);
			goto out;
		}
	}
	char err[512] = "";
	struct irc_config *cfg = build_config(&d, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "sockit ircd: %s\n", err);
		code = EXIT_USAGE;
		goto out;
	}
	if (check) {
		printf("configuration OK (%zu listener(s), %zu TLS, %zu oper(s))\n",
		       cfg->nlisten, cfg->ntls_listen, cfg->nopers);
		irc_config_free(cfg);
		free(cfg);
		code = EXIT_OK;
		goto out;
	}
	code = run(&d, cfg);
	goto out;
oom:
	fprintf(stderr, "sockit ircd: out of memory\n");
	code = EXIT_RUNTIME;
out:
	free_overrides(&d);
	return code;
}
