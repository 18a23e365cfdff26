/*
 * src/irc/config.h - the ircd configuration: embedded defaults, a
 * `key = value` file, and overrides from the command line.
 *
 * Loading order: irc_config_defaults(), then irc_config_load_file() for
 * `-c FILE`, then irc_config_set() for each command-line override.  A
 * SIGHUP reload builds a fresh config the same way and swaps it in only
 * when every step succeeded, so a broken file never takes a running
 * server down.  docs/ircd.conf.example documents every key.
 *
 * Ownership: a config owns every string in it; irc_config_free() releases
 * them.  The server keeps a pointer to one config and frees it when it is
 * replaced.
 */
#ifndef SK_IRC_CONFIG_H
#define SK_IRC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "irc/casemap.h"

/* Hard upper bounds for the configurable lengths: buffers in struct
 * irc_client are sized by these. */
#define IRC_NICKLEN_MAX 63
#define IRC_USERLEN_MAX 15
#define IRC_HOSTLEN_MAX 63

struct irc_oper {
	char *name;
	char *hash;     /* "$pbkdf2-sha256$iter$salt$hash" (see irc_passwd_*) */
	char *mask;     /* user@host mask the oper must match ("*@*") */
};

struct irc_config {
	/* identity */
	char *server_name;      /* "irc.sockit.local" */
	char *network;          /* NETWORK= */
	char *description;      /* server info line */
	char *admin1, *admin2, *admin_email;
	char *motd_file;        /* read at load and on reload */
	char *motd;             /* MOTD text ('\n'-separated); from motd_file
				 * or the `motd` key */
	char *password;         /* connection password (PASS), NULL: none;
				 * a $pbkdf2-sha256$ hash or plain text */

	/* transports */
	char **listen;          /* "ADDR:PORT" or "unix:/path" */
	size_t nlisten;
	char **tls_listen;
	size_t ntls_listen;
	char *tls_cert, *tls_key;
	unsigned unix_mode;     /* chmod for unix listeners (0: umask) */

	/* operators */
	struct irc_oper *opers;
	size_t nopers;

	/* protocol limits, announced in RPL_ISUPPORT */
	enum irc_casemap casemap;
	unsigned nicklen, userlen, channellen, topiclen, kicklen, awaylen;
	unsigned maxchannels;   /* channels per client (CHANLIMIT) */
	unsigned maxlist;       /* entries per b/e/I list (MAXLIST) */
	unsigned maxmodes;      /* MODES= changes with an argument */
	unsigned maxtargets;    /* MAXTARGETS / TARGMAX for messages */
	unsigned whowas;        /* WHOWAS history entries */
	char *default_chanmodes; /* modes of a new channel ("nt") */
	bool utf8_only;         /* UTF8ONLY: refuse lines that are not UTF-8 */

	/* abuse limits */
	unsigned max_clients;   /* global connection cap */
	unsigned max_per_ip;    /* 0: no cap */
	size_t sendq;           /* bytes queued to a client before
				 * "Max SendQ exceeded" */
	size_t recvq;           /* unprocessed input bytes before
				 * "Excess Flood" */
	unsigned flood_burst;   /* commands a client may send at once */
	unsigned flood_rate;    /* commands per second refilled (0: off) */
	unsigned lines_per_wakeup; /* fairness: lines handled per read */
	unsigned ping_freq;     /* seconds idle before the server pings */
	unsigned ping_timeout;  /* seconds after the ping without answer */
	unsigned reg_timeout;   /* seconds to complete registration */
};

/* Fill c with the embedded defaults (everything a bare `sockit ircd`
 * needs).  0 or SK_ENOMEM. */
int irc_config_defaults(struct irc_config *c);
void irc_config_free(struct irc_config *c);

/* Set one key from its text value.  Repeatable keys (listen, tls_listen,
 * oper) append.  On failure err gets a message.  0, SK_EINVAL (unknown key
 * or bad value) or SK_ENOMEM. */
int irc_config_set(struct irc_config *c, const char *key, const char *value,
		   char *err, size_t errsz);

/* Parse a whole file.  Errors name the line: "FILE:12: unknown key 'x'". */
int irc_config_load_file(struct irc_config *c, const char *path, char *err,
			 size_t errsz);

/* Clear a repeatable key (before --listen replaces the file's list). */
void irc_config_clear_list(struct irc_config *c, const char *key);

/* Defaults that depend on other keys, after loading: a certificate with
 * no tls_listen gives a TLS listener on port 6697 of the first listener's
 * host.  0 or SK_ENOMEM. */
int irc_config_finish(struct irc_config *c);

/* Consistency checks after loading (e.g. a TLS listener needs a
 * certificate).  0 or SK_EINVAL with err filled. */
int irc_config_check(const struct irc_config *c, char *err, size_t errsz);

/* ---- passwords ------------------------------------------------------------
 * PBKDF2-HMAC-SHA256 through OpenSSL, with a random 16-byte salt:
 *	$pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>
 */
#define IRC_PASSWD_ITER 100000
#define IRC_PASSWD_MAX 160

/* Hash pw into out (at least IRC_PASSWD_MAX bytes): 0 or an error. */
int irc_passwd_hash(const char *pw, unsigned iterations, char *out,
		    size_t outsz);
/* True when pw matches the stored hash (constant-time comparison). */
bool irc_passwd_check(const char *stored, const char *pw, size_t pwlen);

#endif
