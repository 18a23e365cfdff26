/*
 * src/irc/config.c - defaults, `key = value` parsing and password hashes
 * for the ircd configuration (see config.h and docs/ircd.conf.example).
 */
#include "irc/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockit/error.h"
#include "util/num.h"

#define MOTD_MAX (64 * 1024)

static void seterr(char *err, size_t errsz, const char *fmt, ...)
	SK_PRINTF(3, 4);
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || !errsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static int setstr(char **dst, const char *v)
{
	char *s = NULL;
	if (v && !(s = strdup(v)))
		return SK_ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int push(char ***list, size_t *n, const char *v)
{
	char **l = realloc(*list, (*n + 1) * sizeof *l);
	if (!l)
		return SK_ENOMEM;
	*list = l;
	if (!(l[*n] = strdup(v)))
		return SK_ENOMEM;
	(*n)++;
	return 0;
}

static const char DEFAULT_MOTD[] =
	"Welcome to sockit ircd.\n"
	"This server runs on libsockit, an event-driven C socket library.\n"
	"Be nice.";

int irc_config_defaults(struct irc_config *c)
{
	memset(c, 0, sizeof *c);
	c->casemap = IRC_CASEMAP_RFC1459;
	c->nicklen = IRC_NICKLEN_DEFAULT;
	c->userlen = IRC_USERLEN_DEFAULT;
	c->channellen = IRC_CHANNELLEN_DEFAULT;
	c->topiclen = 390;
	c->kicklen = 390;
	c->awaylen = 390;
	c->maxchannels = 50;
	c->maxlist = 100;
	c->maxmodes = 4;
	c->maxtargets = 4;
	c->whowas = 1024;
	c->max_clients = 10000;
	c->max_per_ip = 10;
	c->sendq = 1024 * 1024;
	c->recvq = 16 * 1024;
	c->flood_burst = 20;
	c->flood_rate = 4;
	c->lines_per_wakeup = 16;
	c->ping_freq = 120;
	c->ping_timeout = 60;
	c->reg_timeout = 60;
	if (setstr(&c->server_name, "irc.sockit.local") < 0 ||
	    setstr(&c->network, "SockitNet") < 0 ||
	    setstr(&c->description, "sockit ircd") < 0 ||
	    setstr(&c->admin1, "sockit ircd") < 0 ||
	    setstr(&c->admin2, "a libsockit demonstration server") < 0 ||
	    setstr(&c->admin_email, "root@localhost") < 0 ||
	    setstr(&c->motd, DEFAULT_MOTD) < 0 ||
	    setstr(&c->default_chanmodes, "nt") < 0 ||
	    push(&c->listen, &c->nlisten, "127.0.0.1:6667") < 0) {
		irc_config_free(c);
		return SK_ENOMEM;
	}
	return 0;
}

static void free_list(char ***l, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*l)[i]);
	free(*l);
	*l = NULL;
	*n = 0;
}

void irc_config_clear_list(struct irc_config *c, const char *key)
{
	if (strcmp(key, "listen") == 0) {
		free_list(&c->listen, &c->nlisten);
	} else if (strcmp(key, "tls_listen") == 0) {
		free_list(&c->tls_listen, &c->ntls_listen);
	} else if (strcmp(key, "oper") == 0) {
		for (size_t i = 0; i < c->nopers; i++) {
			free(c->opers[i].name);
			free(c->opers[i].hash);
			free(c->opers[i].mask);
		}
		free(c->opers);
		c->opers = NULL;
		c->nopers = 0;
	}
}

void irc_config_free(struct irc_config *c)
{
	char **strs[] = {&c->server_name, &c->network, &c->description,
			 &c->admin1, &c->admin2, &c->admin_email, &c->motd_file,
			 &c->motd, &c->password, &c->tls_cert, &c->tls_key,
			 &c->default_chanmodes};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	irc_config_clear_list(c, "listen");
	irc_config_clear_list(c, "tls_listen");
	irc_config_clear_list(c, "oper");
}

/* ---- values ---------------------------------------------------------------- */

static int parse_uint(const char *v, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	uint64_t x;
	int r = util_parse_num(v, true, min, max, &x);
	if (r < 0)
		return r;
	*out = (unsigned long)x;
	return 0;
}

static int read_motd(struct irc_config *c, const char *path, char *err,
		     size_t errsz)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		seterr(err, errsz, "motd_file %s: %s", path, strerror(errno));
		return SK_EINVAL;
	}
	char *buf = malloc(MOTD_MAX + 1);
	if (!buf) {
		fclose(f);
		return SK_ENOMEM;
	}
	size_t n = fread(buf, 1, MOTD_MAX, f);
	fclose(f);
	buf[n] = '\0';
	/* NULs and CRs would end or split protocol lines. */
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (buf[i] != '\0' && buf[i] != '\r')
			buf[j++] = buf[i];
	while (j && buf[j - 1] == '\n')
		j--;
	buf[j] = '\0';
	free(c->motd);
	c->motd = buf;
	return setstr(&c->motd_file, path);
}

static bool word_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == ':')
			return false;
	return true;
}

/* "oper = NAME HASH [USER@HOST]" */
static int add_oper(struct irc_config *c, const char *v, char *err,
		    size_t errsz)
{
	char name[64], hash[IRC_PASSWD_MAX], mask[128] = "*@*";
	int n = sscanf(v, "%63s %159s %127s", name, hash, mask);
	if (n < 2 || strncmp(hash, "$pbkdf2-sha256$", 15) != 0 ||
	    !word_ok(name)) {
		seterr(err, errsz,
		       "oper: expected 'NAME $pbkdf2-sha256$... [USER@HOST]' "
		       "(make the hash with sockit ircd --hash-password)");
		return SK_EINVAL;
	}
	struct irc_oper *o = realloc(c->opers, (c->nopers + 1) * sizeof *o);
	if (!o)
		return SK_ENOMEM;
	c->opers = o;
	o += c->nopers;
	memset(o, 0, sizeof *o);
	if (setstr(&o->name, name) < 0 || setstr(&o->hash, hash) < 0 ||
	    setstr(&o->mask, mask) < 0) {
		free(o->name);
		free(o->hash);
		free(o->mask);
		return SK_ENOMEM;
	}
	c->nopers++;
	return 0;
}

struct uint_key {
	const char *name;
	size_t off;
	bool is_size;
	unsigned long min, max;
};

#define UK(f, lo, hi) {#f, offsetof(struct irc_config, f), false, lo, hi}
#define SK(f, lo, hi) {#f, offsetof(struct irc_config, f), true, lo, hi}
static const struct uint_key uint_keys[] = {
	UK(nicklen, 1, IRC_NICKLEN_MAX),
	UK(userlen, 1, IRC_USERLEN_MAX),
	UK(channellen, 2, 200),
	UK(topiclen, 1, 400),
	UK(kicklen, 1, 400),
	UK(awaylen, 1, 400),
	UK(maxchannels, 1, 10000),
	UK(maxlist, 1, 10000),
	UK(maxmodes, 1, 12),
	UK(maxtargets, 1, 100),
	UK(whowas, 0, 1000000),
	UK(max_clients, 1, 10000000),
	UK(max_per_ip, 0, 10000000),
	SK(sendq, 4096, 1UL << 30),
	SK(recvq, 8192, 1UL << 30),
	UK(flood_burst, 1, 1000000),
	UK(flood_rate, 0, 1000000),
	UK(lines_per_wakeup, 1, 100000),
	UK(ping_freq, 1, 86400),
	UK(ping_timeout, 1, 86400),
	UK(reg_timeout, 1, 86400),
	UK(unix_mode, 0, 07777),
};

struct str_key {
	const char *name;
	size_t off;
};
#define STK(f) {#f, offsetof(struct irc_config, f)}
static const struct str_key str_keys[] = {
	STK(server_name), STK(network), STK(description), STK(admin1),
	STK(admin2), STK(admin_email), STK(password), STK(tls_cert),
	STK(tls_key), STK(default_chanmodes),
};

static int set_uint(struct irc_config *c, const struct uint_key *k,
		    const char *value, char *err, size_t errsz)
{
	unsigned long x;
	int base8 = strcmp(k->name, "unix_mode") == 0;
	if (base8) {
		char *end;
		x = strtoul(value, &end, 8);
		if (!*value || *end || x > k->max) {
			seterr(err, errsz, "%s: expected an octal mode", k->name);
			return SK_EINVAL;
		}
	} else if (parse_uint(value, k->min, k->max, &x) < 0) {
		seterr(err, errsz, "%s: expected a number from %lu to %lu",
		       k->name, k->min, k->max);
		return SK_EINVAL;
	}
	if (k->is_size)
		*(size_t *)(void *)((char *)c + k->off) = x;
	else
		*(unsigned *)(void *)((char *)c + k->off) = (unsigned)x;
	return 0;
}

static bool valid_server_name(const char *v)
{
	/* A '.' is what tells clients a source is a server, not a nick. */
	if (!strchr(v, '.') || strlen(v) > 63)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '.' && *v != '-' &&
		    *v != '_')
			return false;
	return true;
}

static bool valid_text(const char *v)
{
	for (; *v; v++)
		if (*v == '\r' || *v == '\n')
			return false;
	return true;
}

int irc_config_set(struct irc_config *c, const char *key, const char *value,
		   char *err, size_t errsz)
{
	for (size_t i = 0; i < sizeof uint_keys / sizeof uint_keys[0]; i++)
		if (strcmp(key, uint_keys[i].name) == 0)
			return set_uint(c, &uint_keys[i], value, err, errsz);
	if (strcmp(key, "listen") == 0)
		return push(&c->listen, &c->nlisten, value);
	if (strcmp(key, "tls_listen") == 0)
		return push(&c->tls_listen, &c->ntls_listen, value);
	if (strcmp(key, "oper") == 0)
		return add_oper(c, value, err, errsz);
	if (strcmp(key, "motd_file") == 0)
		return read_motd(c, value, err, errsz);
	if (strcmp(key, "motd") == 0) {
		/* Inline MOTD: "\n" (backslash n) separates lines. */
		int r = setstr(&c->motd, value);
		if (r < 0)
			return r;
		char *s = c->motd, *d = c->motd;
		for (; *s; s++, d++) {
			if (s[0] == '\\' && s[1] == 'n')
				*d = '\n', s++;
			else
				*d = *s;
		}
		*d = '\0';
		return 0;
	}
	if (strcmp(key, "utf8_only") == 0) {
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
		    strcmp(value, "1") == 0)
			c->utf8_only = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
			 strcmp(value, "0") == 0)
			c->utf8_only = false;
		else {
			seterr(err, errsz, "utf8_only: yes or no");
			return SK_EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "casemapping") == 0) {
		int m = irc_casemap_parse(value);
		if (m < 0) {
			seterr(err, errsz, "casemapping: ascii, rfc1459 or "
					   "strict-rfc1459");
			return SK_EINVAL;
		}
		c->casemap = (enum irc_casemap)m;
		return 0;
	}
	for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
		if (strcmp(key, str_keys[i].name) != 0)
			continue;
		if (!valid_text(value) ||
		    (strcmp(key, "server_name") == 0 && !valid_server_name(value))) {
			seterr(err, errsz, "%s: invalid value '%s'", key, value);
			return SK_EINVAL;
		}
		char **dst = (char **)(void *)((char *)c + str_keys[i].off);
		/* An empty password means none. */
		return setstr(dst, *value || strcmp(key, "password") != 0 ? value
									 : NULL);
	}
	seterr(err, errsz, "unknown key '%s'", key);
	return SK_EINVAL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
		     s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

int irc_config_load_file(struct irc_config *c, const char *path, char *err,
			 size_t errsz)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		return -errno;
	}
	char line[4096], msg[256];
	unsigned lineno = 0;
	int r = 0;
	bool listen_seen = false;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			seterr(err, errsz, "%s:%u: expected 'key = value'", path,
			       lineno);
			r = SK_EINVAL;
			break;
		}
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		/* The file's listeners replace the embedded default one. */
		if (strcmp(key, "listen") == 0 && !listen_seen) {
			irc_config_clear_list(c, "listen");
			listen_seen = true;
		}
		msg[0] = '\0';
		r = irc_config_set(c, key, value, msg, sizeof msg);
		if (r < 0) {
			seterr(err, errsz, "%s:%u: %s", path, lineno,
			       msg[0] ? msg : sk_strerror(r));
			break;
		}
	}
	fclose(f);
	return r;
}

int irc_config_finish(struct irc_config *c)
{
	if (!c->tls_cert || !c->tls_key || c->ntls_listen)
		return 0;
	/* A certificate and no TLS listener: the usual 6697 next to the
	 * first plain listener's address. */
	char addr[300] = "127.0.0.1:6697";
	const char *first = c->nlisten ? c->listen[0] : NULL;
	const char *colon = first ? strrchr(first, ':') : NULL;
	if (first && strncmp(first, "unix:", 5) != 0 && colon && colon > first)
		snprintf(addr, sizeof addr, "%.*s:6697", (int)(colon - first),
			 first);
	return push(&c->tls_listen, &c->ntls_listen, addr);
}

int irc_config_check(const struct irc_config *c, char *err, size_t errsz)
{
	if (c->ntls_listen && (!c->tls_cert || !c->tls_key)) {
		seterr(err, errsz, "tls_listen needs tls_cert and tls_key");
		return SK_EINVAL;
	}
	if (!c->nlisten && !c->ntls_listen) {
		seterr(err, errsz, "no listener configured");
		return SK_EINVAL;
	}
	return 0;
}

/* ---- passwords ------------------------------------------------------------- */

int irc_passwd_hash(const char *pw, unsigned iterations, char *out,
		    size_t outsz)
{
	unsigned char salt[16], dk[32];
	char s64[32], h64[48];
	if (RAND_bytes(salt, sizeof salt) != 1)
		return SK_EPROTO;
	if (PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, sizeof salt,
			      (int)iterations, EVP_sha256(), sizeof dk, dk) != 1)
		return SK_EPROTO;
	EVP_EncodeBlock((unsigned char *)s64, salt, sizeof salt);
	EVP_EncodeBlock((unsigned char *)h64, dk, sizeof dk);
	int n = snprintf(out, outsz, "$pbkdf2-sha256$%u$%s$%s", iterations,
			 s64, h64);
	return n < 0 || (size_t)n >= outsz ? SK_ENOBUFS : 0;
}

static int b64dec(const char *in, size_t n, unsigned char *out, size_t outsz)
{
	if (n == 0 || n % 4 || n / 4 * 3 > outsz)
		return -1;
	int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (len < 0)
		return -1;
	for (size_t i = n; i > 0 && in[i - 1] == '='; i--)
		len--; /* EVP_DecodeBlock counts the padding bytes */
	return len;
}

bool irc_passwd_check(const char *stored, const char *pw, size_t pwlen)
{
	if (!stored)
		return false;
	if (strncmp(stored, "$pbkdf2-sha256$", 15) != 0) {
		/* A plain-text server password. */
		size_t n = strlen(stored);
		return n == pwlen && CRYPTO_memcmp(stored, pw, n) == 0;
	}
	const char *p = stored + 15;
	char *end;
	unsigned long iter = strtoul(p, &end, 10);
	if (end == p || *end != '$' || iter == 0 || iter > 10000000)
		return false;
	const char *salt = end + 1, *d = strchr(salt, '$');
	if (!d)
		return false;
	unsigned char sbuf[64], hbuf[64], dk[64];
	int sn = b64dec(salt, (size_t)(d - salt), sbuf, sizeof sbuf);
	int hn = b64dec(d + 1, strlen(d + 1), hbuf, sizeof hbuf);
	if (sn <= 0 || hn <= 0 || (size_t)hn > sizeof dk)
		return false;
	if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, sbuf, sn, (int)iter,
			      EVP_sha256(), hn, dk) != 1)
		return false;
	return CRYPTO_memcmp(dk, hbuf, (size_t)hn) == 0;
}
