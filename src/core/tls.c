/*
 * src/core/tls.c - TLS (OpenSSL 3) as a filter between the socket and the
 * program.
 *
 * Every TLS connection owns an SSL object wired to a pair of memory BIOs:
 * ciphertext read from the socket is written into rbio, and whatever
 * OpenSSL wants to send accumulates in wbio, from which we move it into the
 * connection's output queue (sk__conn_queue_raw).  OpenSSL therefore never
 * touches the socket, so TLS behaves the same over every loop backend,
 * readiness or completion based, and a memory BIO never "blocks" a write.
 *
 * The connection core calls the sk__tls_* hooks declared in internal.h; we
 * call back into it with plaintext (sk__conn_deliver), end of stream
 * (sk__conn_eof), readiness (sk__conn_ready) and failures (sk__conn_fail).
 * Any of those may end the connection, so after each one we look at
 * SK__C_DEAD and touch nothing more.
 *
 * OpenSSL keeps its error queue per thread: clear it before every call whose
 * errors we read, so a stale entry left by someone else is never reported.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define TLS_CHUNK (16 * 1024)          /* one TLS record of plaintext */
#define TLS_FLUSH_AT (64 * 1024)       /* move ciphertext out this often */
#define TLS_PENDING_MAX (64u << 20)    /* when the connection has no cap */

struct sk_tls_ctx {
	SSL_CTX *ssl;
	int role;              /* SK_TLS_CLIENT or SK_TLS_SERVER */
	bool verify;           /* client: verify the peer (default on) */
	unsigned char *alpn;   /* server: our protocols, wire format */
	unsigned alpn_len;
	atomic_uint refs;      /* the program's + one per attached connection */
};

struct sk__tls {
	SSL *ssl;
	BIO *rbio;             /* ciphertext in (owned by ssl) */
	BIO *wbio;             /* ciphertext out (owned by ssl) */
	sk_tls_ctx *ctx;
	struct sk_buf pending; /* plaintext written before the handshake ended */
	char *alpn;            /* negotiated protocol, NUL-terminated, or NULL */
	bool server;
	bool shut_wanted;      /* close_notify asked for during the handshake */
	bool shut_sent;
	bool eof;              /* close_notify received and reported */
};

/* ---- errors ----------------------------------------------------------------- */

/* Documented in tls.h: the words of the last failed context call. */
static _Thread_local char tl_err[256];

const char *sk_tls_last_error(void)
{
	return tl_err;
}

/* The words of one OpenSSL error code ("hostname mismatch", "tlsv1 alert
 * unknown ca"), without the numeric prefix when OpenSSL knows the reason. */
static const char *err_words(unsigned long e, char *tmp, size_t size)
{
	const char *rs = ERR_GET_LIB(e) == ERR_LIB_SYS
				 ? strerror(ERR_GET_REASON(e))
				 : ERR_reason_error_string(e);
	if (rs)
		return rs;
	ERR_error_string_n(e, tmp, size);
	return tmp;
}

/*
 * Turn the thread's OpenSSL error queue into a code and remember its words
 * for sk_tls_last_error().  A system error anywhere in the queue (fopen of a
 * missing file) becomes -errno; everything else is SK_ETLS.
 */
static int ctx_error(const char *what)
{
	unsigned long e, first = 0;
	const char *data = NULL;
	char fdata[96] = "";
	int flags, code = SK_ETLS;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (!first) {
			first = e;
			if ((flags & ERR_TXT_STRING) && data)
				snprintf(fdata, sizeof fdata, "%s", data);
		}
		if (ERR_GET_LIB(e) == ERR_LIB_SYS && ERR_GET_REASON(e) > 0 &&
		    code == SK_ETLS)
			code = -ERR_GET_REASON(e);
		else if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
			code = SK_ENOMEM;
	}
	if (first) {
		char tmp[128];
		snprintf(tl_err, sizeof tl_err, "%s: %s%s%s%s", what,
			 err_words(first, tmp, sizeof tmp),
			 *fdata ? " (" : "", fdata, *fdata ? ")" : "");
	} else {
		snprintf(tl_err, sizeof tl_err, "%s failed", what);
	}
	ERR_clear_error();
	return code;
}

static int set_error(int code, const char *what)
{
	snprintf(tl_err, sizeof tl_err, "%s", what);
	return code;
}

/* ---- contexts ---------------------------------------------------------------- */

/* "h2, http/1.1" -> wire format (length-prefixed names). */
static int alpn_wire(const char *list, unsigned char **out, unsigned *outlen)
{
	size_t n = strlen(list);
	unsigned char *w = malloc(n + 1);
	size_t len = 0;
	const char *p = list;

	if (!w)
		return SK_ENOMEM;
	while (*p) {
		const char *e = strchr(p, ',');
		const char *end = e ? e : p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *q = end;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		size_t k = (size_t)(q - p);
		if (k == 0 || k > 255) {
			free(w);
			return set_error(SK_EINVAL, "bad ALPN protocol list");
		}
		w[len++] = (unsigned char)k;
		memcpy(w + len, p, k);
		len += k;
		p = e ? e + 1 : end;
		if (e && !*p) { /* trailing comma */
			free(w);
			return set_error(SK_EINVAL, "bad ALPN protocol list");
		}
	}
	if (len == 0) {
		free(w);
		*out = NULL;
		*outlen = 0;
		return 0;
	}
	*out = w;
	*outlen = (unsigned)len;
	return 0;
}

/* Server: the first of our protocols that the client also offers.  With no
 * overlap we carry on without ALPN rather than fail the handshake. */
static int alpn_select(SSL *ssl, const unsigned char **out,
		       unsigned char *outlen, const unsigned char *in,
		       unsigned inlen, void *arg)
{
	const sk_tls_ctx *ctx = arg;
	(void)ssl;

	for (unsigned i = 0; i < ctx->alpn_len; i += 1u + ctx->alpn[i]) {
		const unsigned char *s = ctx->alpn + i + 1;
		unsigned sl = ctx->alpn[i];
		for (unsigned j = 0; j < inlen; j += 1u + in[j]) {
			unsigned cl = in[j];
			if (j + 1 + cl > inlen)
				break; /* malformed client list */
			if (cl == sl && memcmp(in + j + 1, s, sl) == 0) {
				*out = s;
				*outlen = (unsigned char)sl;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static int load_cert_key(sk_tls_ctx *ctx, const char *cert, const char *key)
{
	if (!key)
		key = cert; /* one PEM file holding both */
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx->ssl, cert) != 1)
		return ctx_error("loading certificate chain");
	if (SSL_CTX_use_PrivateKey_file(ctx->ssl, key, SSL_FILETYPE_PEM) != 1)
		return ctx_error("loading private key");
	if (SSL_CTX_check_private_key(ctx->ssl) != 1)
		return ctx_error("private key does not match the certificate");
	return 0;
}

int sk_tls_ctx_new(sk_tls_ctx **out, int role, const struct sk_tls_opts *opts)
{
	static const struct sk_tls_opts none;
	sk_tls_ctx *ctx;
	int r;

	tl_err[0] = '\0';
	if (!out || (role != SK_TLS_CLIENT && role != SK_TLS_SERVER))
		return set_error(SK_EINVAL, "bad arguments");
	*out = NULL;
	if (!opts)
		opts = &none;
	if (opts->key_file && !opts->cert_file)
		return set_error(SK_EINVAL, "key_file without cert_file");

	ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return SK_ENOMEM;
	ctx->role = role;
	atomic_init(&ctx->refs, 1);
	ERR_clear_error();
	ctx->ssl = SSL_CTX_new(role == SK_TLS_SERVER ? TLS_server_method()
						     : TLS_client_method());
	if (!ctx->ssl) {
		r = ctx_error("SSL_CTX_new");
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION) != 1) {
		r = ctx_error("setting TLS 1.2 minimum");
		goto fail;
	}
	/* Renegotiation buys nothing here and lets a client make the server
	 * do handshakes at will. */
	SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION |
				      SSL_OP_NO_COMPRESSION |
				      (role == SK_TLS_SERVER
					       ? SSL_OP_CIPHER_SERVER_PREFERENCE
					       : 0));
	/* Idle connections give back their 34 KiB of record buffers. */
	SSL_CTX_set_mode(ctx->ssl, SSL_MODE_RELEASE_BUFFERS);

	if (role == SK_TLS_CLIENT && !opts->insecure) {
		ctx->verify = true;
		SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
		if (opts->ca_file) {
			if (SSL_CTX_load_verify_locations(ctx->ssl, opts->ca_file,
							  NULL) != 1) {
				r = ctx_error("loading ca_file");
				goto fail;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx->ssl) != 1) {
			r = ctx_error("loading the system trust store");
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_NONE, NULL);
	}

	if (opts->cert_file && (r = load_cert_key(ctx, opts->cert_file,
						  opts->key_file)) < 0)
		goto fail;

	if (opts->alpn && *opts->alpn) {
		if ((r = alpn_wire(opts->alpn, &ctx->alpn, &ctx->alpn_len)) < 0)
			goto fail;
		if (role == SK_TLS_SERVER) {
			SSL_CTX_set_alpn_select_cb(ctx->ssl, alpn_select, ctx);
		} else if (ctx->alpn_len &&
			   SSL_CTX_set_alpn_protos(ctx->ssl, ctx->alpn,
						   ctx->alpn_len) != 0) {
			/* note: 0 is success for this one */
			r = ctx_error("setting ALPN");
			goto fail;
		}
	}
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx->ssl);
	free(ctx->alpn);
	free(ctx);
	return r;
}

static void ctx_unref(sk_tls_ctx *ctx)
{
	if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1)
		return;
	SSL_CTX_free(ctx->ssl);
	free(ctx->alpn);
	free(ctx);
}

/* Connections hold their own reference, so freeing a context that is still
 * in use is safe: it goes when the last of them does. */
void sk_tls_ctx_free(sk_tls_ctx *ctx)
{
	if (ctx)
		ctx_unref(ctx);
}

int sk_tls_ctx_trust_file(sk_tls_ctx *ctx, const char *pem)
{
	tl_err[0] = '\0';
	if (!ctx || !pem)
		return set_error(SK_EINVAL, "bad arguments");
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx->ssl, pem, NULL) != 1)
		return ctx_error("loading trusted certificate");
	return 0;
}

/* ---- self-signed certificates ------------------------------------------------ */

static bool is_ip_literal(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Append a DNS name or an IP address to a subjectAltName list. */
static bool add_gen(GENERAL_NAMES *gens, int type, const char *value)
{
	GENERAL_NAME *g = a2i_GENERAL_NAME(NULL, NULL, NULL, type, value, 0);

	if (g && sk_GENERAL_NAME_push(gens, g))
		return true;
	GENERAL_NAME_free(g);
	return false;
}

/* subjectAltName: cn (as DNS or IP), localhost, 127.0.0.1 and ::1, so the
 * certificate verifies for whichever loopback form a client dials. */
static int add_san(X509 *x, const char *cn)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	bool ok = gens != NULL;

	if (ok && is_ip_literal(cn)) {
		if (strcmp(cn, "127.0.0.1") != 0 && strcmp(cn, "::1") != 0)
			ok = add_gen(gens, GEN_IPADD, cn);
	} else if (ok) {
		ok = add_gen(gens, GEN_DNS, cn);
	}
	if (ok && strcmp(cn, "localhost") != 0)
		ok = add_gen(gens, GEN_DNS, "localhost");
	ok = ok && add_gen(gens, GEN_IPADD, "127.0.0.1") &&
	     add_gen(gens, GEN_IPADD, "::1") &&
	     X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			       X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/*
 * A fresh EC P-256 key and an X.509 v3 certificate for it signed by itself
 * (SHA-256).  It is a leaf (CA:FALSE) and carries no keyUsage: OpenSSL only
 * treats a self-issued certificate as its own issuer (a trust anchor) when
 * its keyUsage, if any, allows certificate signing.
 */
static int make_selfsigned(const char *cn, int days, X509 **xout,
			   EVP_PKEY **kout)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	BIGNUM *serial = NULL;

	if (!cn || !*cn || days <= 0 || strlen(cn) > 64)
		return set_error(SK_EINVAL, "bad common name or days");
	ERR_clear_error();
	pkey = EVP_EC_gen("P-256");
	x = X509_new();
	serial = BN_new();
	if (!pkey || !x || !serial)
		goto fail;
	/* 127 random bits: positive, and unique enough to never collide */
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)))
		goto fail;
	/* an hour of slack for clocks slightly behind ours */
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400L))
		goto fail;
	if (!X509_set_pubkey(x, pkey))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name))
		goto fail;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
	    add_san(x, cn) < 0)
		goto fail;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto fail;
	BN_free(serial);
	*xout = x;
	*kout = pkey;
	return 0;
fail:
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ctx_error("making a self-signed certificate");
}

int sk_tls_ctx_use_selfsigned(sk_tls_ctx *ctx, const char *cn)
{
	X509 *x;
	EVP_PKEY *k;
	int r;

	tl_err[0] = '\0';
	if (!ctx)
		return set_error(SK_EINVAL, "bad arguments");
	if ((r = make_selfsigned(cn, 365, &x, &k)) < 0)
		return r;
	ERR_clear_error();
	if (SSL_CTX_use_certificate(ctx->ssl, x) != 1)
		r = ctx_error("using the certificate");
	else if (SSL_CTX_use_PrivateKey(ctx->ssl, k) != 1)
		r = ctx_error("using the key");
	else if (SSL_CTX_check_private_key(ctx->ssl) != 1)
		r = ctx_error("checking the key");
	X509_free(x); /* the context holds its own references */
	EVP_PKEY_free(k);
	return r;
}

static int write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *k)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0)
		return set_error(-errno, "cannot create PEM file");
	/* an existing key file keeps its old mode through O_CREAT */
	if (fchmod(fd, mode) < 0) {
		int e = -errno;
		close(fd);
		return set_error(e, "cannot chmod PEM file");
	}
	f = fdopen(fd, "w");
	if (!f) {
		int e = -errno;
		close(fd);
		return set_error(e, "fdopen");
	}
	ERR_clear_error();
	ok = x ? PEM_write_X509(f, x)
	       : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 && ok)
		return set_error(-errno, "writing PEM file");
	return ok ? 0 : ctx_error("writing PEM file");
}

int sk_tls_write_selfsigned(const char *cn, const char *cert_path,
			    const char *key_path, int days)
{
	X509 *x;
	EVP_PKEY *k;
	int r;

	tl_err[0] = '\0';
	if (!cert_path || !key_path)
		return set_error(SK_EINVAL, "bad arguments");
	if ((r = make_selfsigned(cn, days, &x, &k)) < 0)
		return r;
	r = write_pem(key_path, 0600, NULL, k);
	if (r == 0)
		r = write_pem(cert_path, 0644, x, NULL);
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

/* ---- per-connection filter ---------------------------------------------------- */

static inline bool dead(const sk_conn *c)
{
	return (c->flags & SK__C_DEAD) != 0;
}

/*
 * Move the ciphertext OpenSSL produced into the connection's output queue.
 * We drain the BIO with BIO_read rather than taking its buffer whole and
 * calling BIO_reset: in OpenSSL 3.0 the reset clears the BIO's entire
 * capacity, which would cost every small write after a large one.
 */
static int flush_out(sk_conn *c)
{
	struct sk__tls *t = c->tls;
	char buf[TLS_CHUNK + 512]; /* one full record with its overhead */
	int n, r = 0;

	while (t && r == 0 && (n = BIO_read(t->wbio, buf, sizeof buf)) > 0) {
		r = sk__conn_queue_raw(c, buf, (size_t)n);
		if (c->tls != t || dead(c))
			break;
	}
	return r;
}

/* Words for a failed SSL call, into the connection's detail. */
static void set_ssl_detail(sk_conn *c, int sslerr)
{
	unsigned long e = ERR_peek_last_error();

	if (e) {
		char tmp[128];
		sk__conn_set_detail(c, "%s", err_words(e, tmp, sizeof tmp));
	} else {
		sk__conn_set_detail(c, "TLS error %d", sslerr);
	}
	ERR_clear_error();
}

/* A fatal SSL error: certificate problems get SK_ECERT and the verifier's
 * words, everything else SK_ETLS. */
static void tls_fail(sk_conn *c, int sslerr)
{
	struct sk__tls *t = c->tls;
	long vr = X509_V_OK;

	if (!t->server && t->ctx->verify)
		vr = SSL_get_verify_result(t->ssl);
	(void)flush_out(c); /* the alert, if the socket can still take it */
	if (dead(c))
		return;
	if (vr != X509_V_OK) {
		ERR_clear_error();
		sk__conn_set_detail(c, "%s", X509_verify_cert_error_string(vr));
		sk__conn_fail(c, SK_ECERT);
	} else {
		set_ssl_detail(c, sslerr);
		sk__conn_fail(c, SK_ETLS);
	}
}

/* Encrypt and queue; the handshake is done.  The BIO is emptied every
 * TLS_FLUSH_AT bytes so a large write is not held twice. */
static int write_plain(sk_conn *c, const uint8_t *p, size_t n)
{
	struct sk__tls *t = c->tls;
	int r;

	while (n > 0) {
		int k = n > TLS_CHUNK ? TLS_CHUNK : (int)n;
		ERR_clear_error();
		int w = SSL_write(t->ssl, p, k);
		if (w <= 0) {
			int e = SSL_get_error(t->ssl, w);
			tls_fail(c, e);
			return SK_EPIPE;
		}
		p += w;
		n -= (size_t)w;
		if (BIO_ctrl_pending(t->wbio) >= TLS_FLUSH_AT || n == 0) {
			if ((r = flush_out(c)) < 0)
				return r;
			if (dead(c) || c->tls != t)
				return SK_EPIPE;
		}
	}
	return 0;
}

static void send_close_notify(sk_conn *c)
{
	struct sk__tls *t = c->tls;

	t->shut_sent = true;
	ERR_clear_error();
	/* 0 (sent, peer's not seen yet) and 1 are both fine; < 0 means the
	 * session already failed and there is nothing to say. */
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}

/* The handshake finished: remember ALPN, send what the program wrote
 * meanwhile, and tell the core.  Returns false if the connection ended. */
static bool handshake_done(sk_conn *c)
{
	struct sk__tls *t = c->tls;
	const unsigned char *a = NULL;
	unsigned alen = 0;

	c->flags &= ~SK__C_TLS_HS;
	SSL_get0_alpn_selected(t->ssl, &a, &alen);
	if (a && alen) {
		t->alpn = malloc(alen + 1u);
		if (t->alpn) {
			memcpy(t->alpn, a, alen);
			t->alpn[alen] = '\0';
		}
	}
	if (sk_buf_len(&t->pending) > 0) {
		int r = write_plain(c, sk_buf_data(&t->pending),
				    sk_buf_len(&t->pending));
		if (dead(c) || c->tls != t)
			return false;
		sk_buf_free(&t->pending);
		if (r < 0) {
			sk__conn_fail(c, r);
			return false;
		}
	}
	if (t->shut_wanted) {
		send_close_notify(c);
		if (flush_out(c) < 0 || dead(c))
			return false;
	}
	sk__conn_ready(c);
	return !dead(c) && c->tls == t;
}

/* One handshake step.  1: done (and the core told), 0: needs more input,
 * -1: the connection ended. */
static int handshake(sk_conn *c)
{
	struct sk__tls *t = c->tls;
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		if (flush_out(c) < 0 || dead(c))
			return -1;
		return handshake_done(c) ? 1 : -1;
	}
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (flush_out(c) < 0 || dead(c))
			return -1;
		return 0;
	}
	tls_fail(c, e);
	return -1;
}

/* Decrypt what rbio holds and hand it to the program, 16 KiB at a time,
 * until there is nothing whole left, the program pauses, or it ends. */
static void read_plain(sk_conn *c)
{
	struct sk__tls *t = c->tls;
	uint8_t buf[TLS_CHUNK];

	for (;;) {
		if (dead(c) || c->tls != t || (c->flags & SK__C_READ_OFF))
			break;
		ERR_clear_error();
		int r = SSL_read(t->ssl, buf, sizeof buf);
		if (r > 0) {
			sk__conn_deliver(c, buf, (size_t)r);
			continue;
		}
		int e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			ERR_clear_error();
			if (flush_out(c) < 0 || dead(c))
				return;
			if (!t->eof) {
				t->eof = true;
				sk__conn_eof(c);
			}
			return;
		}
		tls_fail(c, e);
		return;
	}
	/* post-handshake messages (key updates, tickets) and alerts */
	if (!dead(c) && c->tls == t)
		(void)flush_out(c);
}

/* ---- hooks ------------------------------------------------------------------------ */

/*
 * Client: whom we expect to talk to.  A name goes out as SNI and, when
 * verifying, must match the certificate; an address literal is never sent
 * as SNI (RFC 6066) but must appear among the certificate's IP SANs.
 */
static int set_peer_name(SSL *ssl, bool verify, const char *sni)
{
	char host[SK_HOST_MAX + 1];
	size_t n = strlen(sni);

	if (sni[0] == '[' && n > 2 && sni[n - 1] == ']') { /* "[::1]" */
		sni++;
		n -= 2;
	}
	if (n >= sizeof host)
		return SK_EINVAL;
	memcpy(host, sni, n);
	host[n] = '\0';
	if (is_ip_literal(host)) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		if (verify && X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1)
			return SK_ENOMEM;
		return 0;
	}
	if (SSL_set_tlsext_host_name(ssl, host) != 1)
		return SK_ENOMEM;
	if (!verify)
		return 0;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(ssl, host) == 1 ? 0 : SK_ENOMEM;
}

int sk__tls_attach(sk_conn *c, sk_tls_ctx *ctx, bool server, const char *sni)
{
	struct sk__tls *t;
	int r = SK_ENOMEM;

	if (!ctx || server != (ctx->role == SK_TLS_SERVER))
		return SK_EINVAL;
	t = calloc(1, sizeof *t);
	if (!t)
		return SK_ENOMEM;
	sk_buf_init(&t->pending, TLS_PENDING_MAX);
	t->server = server;
	ERR_clear_error();
	t->ssl = SSL_new(ctx->ssl);
	if (!t->ssl)
		goto fail;
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		goto fail;
	}
	/* empty means "retry later", not end of file */
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio); /* ssl owns them now */
	if (server) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		if (sni && *sni && (r = set_peer_name(t->ssl, ctx->verify, sni)) < 0)
			goto fail;
	}
	atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
	t->ctx = ctx;
	c->tls = t;
	c->flags |= SK__C_TLS_HS;
	return 0;
fail:
	ERR_clear_error();
	SSL_free(t->ssl); /* and the BIOs once set */
	free(t);
	return r;
}

int sk__tls_start(sk_conn *c)
{
	struct sk__tls *t = c->tls;

	if (!t || t->server || !(c->flags & SK__C_TLS_HS))
		return 0;
	(void)handshake(c); /* sends the ClientHello; failures end c */
	return 0;
}

void sk__tls_input(sk_conn *c, const uint8_t *p, size_t n)
{
	struct sk__tls *t = c->tls;

	if (!t || dead(c))
		return;
	while (n > 0) {
		int k = n > INT_MAX ? INT_MAX : (int)n;
		int w = BIO_write(t->rbio, p, k);
		if (w <= 0) {
			ERR_clear_error();
			sk__conn_set_detail(c, "out of memory buffering TLS input");
			sk__conn_fail(c, SK_ENOMEM);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
	if ((c->flags & SK__C_TLS_HS) && handshake(c) <= 0)
		return;
	read_plain(c);
}

int sk__tls_write(sk_conn *c, const void *p, size_t n)
{
	struct sk__tls *t = c->tls;
	int r;

	if (!t || dead(c))
		return SK_EPIPE;
	if (t->shut_wanted || t->shut_sent)
		return SK_EPIPE;
	if (n == 0)
		return 0;
	if (c->flags & SK__C_TLS_HS) {
		/* the same cap as the output queue, as plaintext */
		if (c->out.max)
			t->pending.max = c->out.max;
		r = sk_buf_append(&t->pending, p, n);
		return r;
	}
	return write_plain(c, p, n);
}

bool sk__tls_holds_plain(const sk_conn *c)
{
	return c->tls && sk_buf_len(&c->tls->pending) > 0;
}

int sk__tls_shutdown(sk_conn *c)
{
	struct sk__tls *t = c->tls;

	if (!t || t->shut_sent || dead(c))
		return 0;
	if (c->flags & SK__C_TLS_HS) {
		/* SSL_shutdown cannot run mid-handshake; do it once done */
		t->shut_wanted = true;
		return 0;
	}
	send_close_notify(c);
	return flush_out(c);
}

void sk__tls_free(sk_conn *c)
{
	struct sk__tls *t = c->tls;

	if (!t)
		return;
	c->tls = NULL;
	SSL_free(t->ssl);
	sk_buf_free(&t->pending);
	free(t->alpn);
	ctx_unref(t->ctx);
	free(t);
}

const char *sk__tls_alpn(const sk_conn *c)
{
	return c->tls ? c->tls->alpn : NULL;
}
