/*
 * src/cat/opts.c - `sockit cat`'s command line: options, endpoints, and the
 * rules about which go together.  Pure (no sockets), so the unit tests can
 * drive it; the only output is the help text and usage errors on stderr.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat/cat_int.h"
#include "util/num.h"

static const char usage_text[] =
	"usage: sockit cat [options] HOST PORT          connect (TCP; -u UDP)\n"
	"       sockit cat [options] unix:PATH          connect to a Unix socket\n"
	"       sockit cat -l [options] [ADDR] PORT     listen (PORT 0: any free port)\n"
	"       sockit cat -l [options] unix:PATH       listen on a Unix socket\n"
	"       sockit cat relay [options] A B          join two endpoints both ways\n"
	"\n"
	"Joins standard input and output (or a program, -e/-c) to a socket, both\n"
	"ways.  End of input shuts down the sending side; what the peer sends is\n"
	"still written out until it closes.  Exit status: 0 on a clean end, 1 on\n"
	"a runtime error (the message names the cause), 2 on a usage error.\n"
	"\n"
	"modes:\n"
	"  -l, --listen           wait for a client instead of connecting\n"
	"  -k, --keep-open        keep listening: serve clients one after another\n"
	"                         (each its own program with -e/-c, concurrently)\n"
	"      --broker           listen and relay every client's input to all\n"
	"                         the other clients (a chat room; implies -k)\n"
	"  -u, --udp              UDP instead of TCP (Unix: datagram socket)\n"
	"      --dgram            same as -u (for unix:PATH)\n"
	"  -z, --zero             only check that the port accepts connections\n"
	"  -e, --exec CMD         join the socket to CMD's stdin/stdout (words\n"
	"                         split on blanks, looked up in PATH)\n"
	"  -c, --sh-exec CMD      the same with /bin/sh -c CMD\n"
	"\n"
	"connections:\n"
	"  -4, -6                 IPv4 or IPv6 only\n"
	"  -w, --wait SECS        connect timeout per address (default 10)\n"
	"  -q, --quit-after-eof SECS\n"
	"                         quit SECS after end of input (default: TCP\n"
	"                         waits for the peer to close; UDP quits at once)\n"
	"  -s, --source ADDR      local address to connect from\n"
	"      --max-conns N      at most N clients at a time\n"
	"      --allow LIST       accept only clients in LIST (CIDR blocks or\n"
	"                         addresses, comma-separated; repeatable)\n"
	"      --deny LIST        refuse clients in LIST\n"
	"\n"
	"TLS:\n"
	"      --tls              TLS over the TCP or Unix stream socket\n"
	"      --tls-ca FILE      client: trust these PEM certificates instead of\n"
	"                         the system's\n"
	"      --tls-insecure     client: do not verify the server certificate\n"
	"      --tls-sni NAME     client: server name to send and verify (default:\n"
	"                         the host connected to)\n"
	"      --tls-cert FILE    server: PEM certificate chain (with --tls-key;\n"
	"                         without both, an ephemeral self-signed\n"
	"                         certificate is made and its fingerprint printed)\n"
	"      --tls-key FILE     server: PEM private key\n"
	"      --tls-alpn LIST    ALPN protocols, comma-separated\n"
	"\n"
	"output:\n"
	"  -v, --verbose          report connections and byte counts (again: debug)\n"
	"      --hex              dump the traffic in hex on stderr\n"
	"  -h, --help             this help\n"
	"\n"
	"relay endpoints (A and B):\n"
	"  stdio | -              standard input and output\n"
	"  tcp:HOST:PORT          tcp-listen:[ADDR:]PORT\n"
	"  tls:HOST:PORT          tls-listen:[ADDR:]PORT\n"
	"  udp:HOST:PORT          udp-listen:[ADDR:]PORT\n"
	"  unix:PATH              unix-listen:PATH        (PATH or @abstract)\n"
	"  unix-dgram:PATH        unix-dgram-listen:PATH\n"
	"  exec:CMD               system:CMD              (a program; sh -c)\n"
	"With -k a listening A serves every client, each with its own B.\n"
	"\n"
	"examples:\n"
	"  sockit cat -l 127.0.0.1 8080 > received        receive a file\n"
	"  sockit cat 127.0.0.1 8080 < file               send it\n"
	"  sockit cat --tls --tls-alpn http/1.1 example.org 443\n"
	"  sockit cat -l -k 127.0.0.1 7000 -c 'tr a-z A-Z'\n"
	"  sockit cat relay unix-listen:/tmp/app.sock tcp:127.0.0.1:8080\n";

static int usage_error(const char *fmt, ...) SK_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("sockit cat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see sockit cat --help)\n", stderr);
	return CAT_EXIT_USAGE;
}

long cat_parse_duration(const char *s)
{
	char *end;
	if (!s || !*s)
		return -1;
	double v = strtod(s, &end);
	double scale = 1000.0;
	if (strcmp(end, "ms") == 0)
		scale = 1.0;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (end == s || !isfinite(v) || v < 0 || v * scale > 86400.0 * 1000 * 365)
		return -1;
	return (long)(v * scale + 0.5);
}

/* A decimal number in [lo, hi]; -1 if it is not one. */
static long parse_num(const char *s, long lo, long hi)
{
	uint64_t v;
	return util_parse_num(s, false, (uint64_t)lo, (uint64_t)hi, &v) < 0 ? -1 : (long)v;
}

/* ---- endpoints ------------------------------------------------------------- */

static int ep_error(char *err, size_t errsz, const char *fmt, ...) SK_PRINTF(3, 4);
static int ep_error(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* ep->addr from host (may be NULL: any) and port; checks both. */
static int set_inet(struct cat_ep *ep, const char *host, long port, char *err,
		    size_t errsz)
{
	ep->port = (uint16_t)port;
	ep->any_host = host == NULL || *host == '\0' || strcmp(host, "*") == 0;
	if (ep->any_host) {
		ep->host[0] = '\0';
		snprintf(ep->addr, sizeof ep->addr, "*:%ld", port);
		return 0;
	}
	size_t n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') { /* "[::1]" */
		host++;
		n -= 2;
	}
	if (n > SK_HOST_MAX)
		return ep_error(err, errsz, "host name too long");
	snprintf(ep->host, sizeof ep->host, "%.*s", (int)n, host);
	host = ep->host;
	snprintf(ep->addr, sizeof ep->addr, strchr(host, ':') ? "[%s]:%ld" : "%s:%ld",
		 host, port);
	struct sk_hostport hp;
	if (sk_hostport_parse(ep->addr, strlen(ep->addr), &hp) < 0 ||
	    hp.kind == SK_ADDR_UNIX)
		return ep_error(err, errsz, "bad host '%s'", host);
	if (ep->listen && hp.kind == SK_ADDR_NAME && strcmp(host, "localhost") != 0)
		return ep_error(err, errsz,
				"listen address must be numeric, not '%s'", host);
	return 0;
}

static int set_unix(struct cat_ep *ep, const char *path, char *err, size_t errsz)
{
	struct sk_addr a;
	ep->unix_sock = true;
	if (snprintf(ep->addr, sizeof ep->addr, "unix:%s", path) >= (int)sizeof ep->addr ||
	    sk_addr_parse(ep->addr, &a) < 0)
		return ep_error(err, errsz, "bad Unix socket path '%s'", path);
	return 0;
}

int cat_ep_net(struct cat_ep *ep, const char *host, const char *port,
	       bool listen, bool dgram, char *err, size_t errsz)
{
	memset(ep, 0, sizeof *ep);
	ep->kind = CAT_EP_NET;
	ep->listen = listen;
	ep->dgram = dgram;
	if (host && strncmp(host, "unix:", 5) == 0) {
		if (port)
			return ep_error(err, errsz, "a Unix socket takes no port");
		return set_unix(ep, host + 5, err, errsz);
	}
	long p = parse_num(port, listen ? 0 : 1, 65535);
	if (p < 0)
		return ep_error(err, errsz, "bad port '%s'", port ? port : "");
	return set_inet(ep, host, p, err, errsz);
}

/* "[ADDR:]PORT" of a *-listen endpoint, or "HOST:PORT". */
static int parse_hostport(struct cat_ep *ep, const char *s, char *err, size_t errsz)
{
	if (ep->listen && parse_num(s, 0, 65535) >= 0)
		return set_inet(ep, NULL, parse_num(s, 0, 65535), err, errsz);
	struct sk_hostport hp;
	if (sk_hostport_parse(s, strlen(s), &hp) < 0 || hp.kind == SK_ADDR_UNIX)
		return ep_error(err, errsz, "bad HOST:PORT '%s'", s);
	if (hp.port == 0 && !ep->listen)
		return ep_error(err, errsz, "bad port 0 in '%s'", s);
	return set_inet(ep, hp.host, hp.port, err, errsz);
}

static const struct {
	const char *prefix;
	bool listen, dgram, tls, unix_sock;
} net_kinds[] = {
	{"tcp:", false, false, false, false},
	{"tcp-listen:", true, false, false, false},
	{"tls:", false, false, true, false},
	{"tls-listen:", true, false, true, false},
	{"udp:", false, true, false, false},
	{"udp-listen:", true, true, false, false},
	{"unix:", false, false, false, true},
	{"unix-listen:", true, false, false, true},
	{"unix-dgram:", false, true, false, true},
	{"unix-dgram-listen:", true, true, false, true},
};

int cat_ep_parse(const char *spec, struct cat_ep *ep, char *err, size_t errsz)
{
	memset(ep, 0, sizeof *ep);
	if (strcmp(spec, "stdio") == 0 || strcmp(spec, "-") == 0) {
		ep->kind = CAT_EP_STDIO;
		return 0;
	}
	if (strncmp(spec, "exec:", 5) == 0 || strncmp(spec, "system:", 7) == 0) {
		ep->kind = CAT_EP_EXEC;
		ep->shell = spec[0] == 's';
		ep->cmd = strchr(spec, ':') + 1;
		if (ep->cmd[strspn(ep->cmd, " \t")] == '\0')
			return ep_error(err, errsz, "empty command in '%s'", spec);
		return 0;
	}
	for (size_t i = 0; i < sizeof net_kinds / sizeof net_kinds[0]; i++) {
		size_t n = strlen(net_kinds[i].prefix);
		if (strncmp(spec, net_kinds[i].prefix, n) != 0)
			continue;
		ep->kind = CAT_EP_NET;
		ep->listen = net_kinds[i].listen;
		ep->dgram = net_kinds[i].dgram;
		ep->tls = net_kinds[i].tls;
		if (net_kinds[i].unix_sock)
			return set_unix(ep, spec + n, err, errsz);
		return parse_hostport(ep, spec + n, err, errsz);
	}
	return ep_error(err, errsz, "unknown endpoint '%s'", spec);
}

const char *cat_ep_describe(const struct cat_ep *ep, char *buf, size_t size)
{
	if (ep->kind == CAT_EP_STDIO) {
		snprintf(buf, size, "stdio");
		return buf;
	}
	if (ep->kind == CAT_EP_EXEC) {
		snprintf(buf, size, "%s:%s", ep->shell ? "system" : "exec", ep->cmd);
		return buf;
	}
	/* The relay syntax: "tcp-listen:*:8080", "unix-dgram:/run/d", ... */
	const char *proto = ep->unix_sock ? ep->dgram ? "unix-dgram" : "unix"
			    : ep->dgram   ? "udp"
			    : ep->tls     ? "tls"
					  : "tcp";
	snprintf(buf, size, "%s%s:%s", proto, ep->listen ? "-listen" : "",
		 ep->unix_sock ? ep->addr + 5 : ep->addr);
	return buf;
}

/* ---- options --------------------------------------------------------------- */

enum {
	OPT_BROKER = 256, OPT_DGRAM, OPT_MAXCONNS, OPT_ALLOW, OPT_DENY, OPT_HEX,
	OPT_TLS, OPT_TLS_INSECURE, OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY,
	OPT_TLS_ALPN, OPT_TLS_SNI
};

static const struct option longopts[] = {
	{"listen", no_argument, NULL, 'l'},
	{"keep-open", no_argument, NULL, 'k'},
	{"broker", no_argument, NULL, OPT_BROKER},
	{"udp", no_argument, NULL, 'u'},
	{"dgram", no_argument, NULL, OPT_DGRAM},
	{"zero", no_argument, NULL, 'z'},
	{"exec", required_argument, NULL, 'e'},
	{"sh-exec", required_argument, NULL, 'c'},
	{"ipv4", no_argument, NULL, '4'},
	{"ipv6", no_argument, NULL, '6'},
	{"wait", required_argument, NULL, 'w'},
	{"quit-after-eof", required_argument, NULL, 'q'},
	{"source", required_argument, NULL, 's'},
	{"max-conns", required_argument, NULL, OPT_MAXCONNS},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"deny", required_argument, NULL, OPT_DENY},
	{"tls", no_argument, NULL, OPT_TLS},
	{"tls-insecure", no_argument, NULL, OPT_TLS_INSECURE},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-alpn", required_argument, NULL, OPT_TLS_ALPN},
	{"tls-sni", required_argument, NULL, OPT_TLS_SNI},
	{"verbose", no_argument, NULL, 'v'},
	{"hex", no_argument, NULL, OPT_HEX},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct flags { /* what the command line said, before the endpoints exist */
	bool udp, tls;
	const char *exec_cmd;
	bool exec_shell;
};

static int add_acl(struct cat_acl *acl, const char *list, const char *opt)
{
	const char *bad = NULL;
	int r = cat_acl_add(acl, list, &bad);
	if (r == SK_ENOMEM) {
		fprintf(stderr, "sockit cat: out of memory\n");
		return CAT_EXIT_ERR;
	}
	if (r < 0)
		return usage_error("%s: bad address or CIDR block at '%.*s'", opt,
				   (int)strcspn(bad, ", \t"), bad);
	return -1;
}

/* One option; -1 to go on, else the exit code. */
static int one_option(int c, const char *arg, struct cat_opts *o, struct flags *f)
{
	long v;
	switch (c) {
	case 'l': o->listen = true; break;
	case 'k': o->keep = true; break;
	case OPT_BROKER: o->broker = true; break;
	case 'u': case OPT_DGRAM: f->udp = true; break;
	case 'z': o->zero = true; break;
	case 'e': case 'c':
		if (f->exec_cmd)
			return usage_error("only one of -e and -c");
		if (arg[strspn(arg, " \t")] == '\0')
			return usage_error("-%c: empty command", c);
		f->exec_cmd = arg;
		f->exec_shell = c == 'c';
		break;
	case '4': case '6':
		if (o->family && o->family != (c == '4' ? AF_INET : AF_INET6))
			return usage_error("-4 and -6 exclude each other");
		o->family = c == '4' ? AF_INET : AF_INET6;
		break;
	case 'w':
		if ((v = cat_parse_duration(arg)) <= 0 || v > UINT_MAX)
			return usage_error("-w: bad timeout '%s'", arg);
		o->connect_ms = (unsigned)v;
		break;
	case 'q':
		if ((o->quit_ms = cat_parse_duration(arg)) < 0)
			return usage_error("-q: bad duration '%s'", arg);
		break;
	case 's': o->source = arg; break;
	case OPT_MAXCONNS:
		if ((v = parse_num(arg, 1, 1000000)) < 0)
			return usage_error("--max-conns: bad number '%s'", arg);
		o->max_conns = (unsigned)v;
		break;
	case OPT_ALLOW: return add_acl(&o->allow, arg, "--allow");
	case OPT_DENY: return add_acl(&o->deny, arg, "--deny");
	case OPT_TLS: f->tls = true; break;
	case OPT_TLS_INSECURE: o->tls_insecure = true; break;
	case OPT_TLS_CA: o->tls_ca = arg; break;
	case OPT_TLS_CERT: o->tls_cert = arg; break;
	case OPT_TLS_KEY: o->tls_key = arg; break;
	case OPT_TLS_ALPN: o->tls_alpn = arg; break;
	case OPT_TLS_SNI: o->tls_sni = arg; break;
	case 'v': o->verbose++; break;
	case OPT_HEX: o->hex = true; break;
	case 'h':
		fputs(usage_text, stdout);
		return CAT_EXIT_OK;
	default:
		return usage_error("bad option");
	}
	return -1;
}

/* Endpoints of plain `sockit cat`: A is stdio or the program, B the net. */
static int cat_endpoints(struct cat_opts *o, const struct flags *f, char **pos,
			 int npos)
{
	char err[200];
	const char *host = NULL, *port = NULL;
	if (npos == 1 && strncmp(pos[0], "unix:", 5) == 0) {
		host = pos[0];
	} else if (npos == 2) {
		host = pos[0];
		port = pos[1];
	} else if (npos == 1 && o->listen) {
		port = pos[0];
	} else {
		return usage_error(npos == 0 ? "missing HOST and PORT"
					     : "expected HOST PORT or unix:PATH");
	}
	if (cat_ep_net(&o->ep[1], host, port, o->listen, f->udp, err, sizeof err) < 0)
		return usage_error("%s", err);
	o->ep[1].tls = f->tls;
	memset(&o->ep[0], 0, sizeof o->ep[0]);
	o->ep[0].kind = f->exec_cmd ? CAT_EP_EXEC : CAT_EP_STDIO;
	o->ep[0].cmd = f->exec_cmd;
	o->ep[0].shell = f->exec_shell;
	return -1;
}

static int relay_endpoints(struct cat_opts *o, const struct flags *f, char **pos,
			   int npos)
{
	char err[200];
	if (npos != 2)
		return usage_error("relay needs two endpoints, A and B");
	if (f->exec_cmd || f->udp || f->tls || o->listen)
		return usage_error("relay: say -e/-c/-u/--tls/-l in the endpoints "
				   "(exec:, udp:, tls:, *-listen:)");
	for (int i = 0; i < 2; i++)
		if (cat_ep_parse(pos[i], &o->ep[i], err, sizeof err) < 0)
			return usage_error("relay: %s", err);
	if (o->ep[0].kind == CAT_EP_STDIO && o->ep[1].kind == CAT_EP_STDIO)
		return usage_error("relay: stdio can be only one of the endpoints");
	return -1;
}

static bool has(const struct cat_opts *o, bool (*pred)(const struct cat_ep *))
{
	return pred(&o->ep[0]) || pred(&o->ep[1]);
}
static bool is_listen(const struct cat_ep *e) { return e->kind == CAT_EP_NET && e->listen; }
static bool is_dgram(const struct cat_ep *e) { return e->kind == CAT_EP_NET && e->dgram; }
static bool is_tls_server(const struct cat_ep *e) { return e->tls && e->listen; }
static bool is_tls_client(const struct cat_ep *e) { return e->tls && !e->listen; }
static bool is_inet_listen(const struct cat_ep *e) { return is_listen(e) && !e->unix_sock; }

/* Which options go together. */
static int check(const struct cat_opts *o, const struct flags *f)
{
	const struct cat_ep *a = &o->ep[0], *b = &o->ep[1];
	if (f->tls && f->udp)
		return usage_error("--tls works over stream sockets, not -u");
	if (o->broker && (!o->listen || f->udp || f->exec_cmd || o->relay))
		return usage_error("--broker needs -l, without -u, -e or -c");
	if (o->zero && (o->listen || f->udp || f->exec_cmd || o->relay))
		return usage_error("-z connects only: not with -l, -u, -e, -c or relay");
	if (o->keep && !is_listen(&o->ep[0]) && !is_listen(&o->ep[1]))
		return usage_error("-k needs a listening endpoint");
	if (o->keep && is_listen(a) && is_listen(b))
		return usage_error("-k with two listening endpoints is not supported");
	if (is_dgram(a) && is_dgram(b))
		return usage_error("relay: at least one endpoint must be a stream");
	if (o->keep && o->relay && !is_listen(a))
		return usage_error("-k: in a relay, A must be the listening endpoint");
	if (o->max_conns && !has(o, is_listen))
		return usage_error("--max-conns needs a listening endpoint");
	if ((o->allow.n || o->deny.n) && !has(o, is_inet_listen))
		return usage_error("--allow/--deny need a TCP or UDP listener");
	if (!o->tls_cert != !o->tls_key)
		return usage_error("--tls-cert and --tls-key go together");
	if (o->tls_cert && !has(o, is_tls_server))
		return usage_error("--tls-cert/--tls-key need a TLS listener (-l --tls)");
	if ((o->tls_ca || o->tls_insecure || o->tls_sni) && !has(o, is_tls_client))
		return usage_error("--tls-ca/--tls-insecure/--tls-sni need a TLS client");
	if (o->tls_alpn && !has(o, is_tls_server) && !has(o, is_tls_client))
		return usage_error("--tls-alpn needs --tls");
	if (o->source && !(b->kind == CAT_EP_NET && !b->listen) &&
	    !(a->kind == CAT_EP_NET && !a->listen))
		return usage_error("-s needs an endpoint that connects");
	return -1;
}

int cat_opts_parse(int argc, char **argv, struct cat_opts *o)
{
	static const char shortopts[] = ":lkuzvh46e:c:w:q:s:";
	struct flags f = {0};
	memset(o, 0, sizeof *o);
	o->quit_ms = -1;
	optind = 0; /* GNU: start over (tests parse many command lines) */
	opterr = 0;
	int c, r;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (c == ':')
				return usage_error("option '%s' needs an argument", bad);
			if (optopt && strncmp(bad, "--", 2) != 0)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", bad);
		}
		if ((r = one_option(c, optarg, o, &f)) >= 0)
			return r;
	}
	char **pos = argv + optind;
	int npos = argc - optind;
	if (npos > 0 && strcmp(pos[0], "relay") == 0 && npos != 2) {
		o->relay = true;
		r = relay_endpoints(o, &f, pos + 1, npos - 1);
	} else {
		r = cat_endpoints(o, &f, pos, npos);
	}
	if (r >= 0)
		return r;
	if (o->broker)
		o->keep = true;
	return check(o, &f);
}

void cat_opts_free(struct cat_opts *o)
{
	cat_acl_free(&o->allow);
	cat_acl_free(&o->deny);
}
