/*
 * sockit/tls.h - TLS contexts (OpenSSL).  A context is shared by many
 * connections: pass it in sk_conn_opts.tls or sk_listen_opts.tls, and the
 * program reads and writes plaintext through the same sk_conn calls.
 *
 * Client contexts verify the server certificate and host name by default
 * (system trust store, or ca_file); a failure closes the connection with
 * SK_ECERT and sk_conn_error_detail() names the reason.
 */
#ifndef SOCKIT_TLS_H
#define SOCKIT_TLS_H

#include "common.h"
#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_tls_opts {
	const char *cert_file; /* PEM certificate chain (server; client auth) */
	const char *key_file;  /* PEM private key */
	const char *ca_file;   /* PEM trust anchors (client: instead of the system's) */
	int insecure;          /* client: 1 disables verification (explicitly) */
	const char *alpn;      /* comma-separated protocols, e.g. "h2,http/1.1" */
};

#define SK_TLS_CLIENT 0
#define SK_TLS_SERVER 1

SK_EXPORT SK_NODISCARD int sk_tls_ctx_new(sk_tls_ctx **out, int role,
					  const struct sk_tls_opts *opts);
/* Server: generate a fresh key and a self-signed certificate for cn
 * (valid 1 year) and use them. */
SK_EXPORT SK_NODISCARD int sk_tls_ctx_use_selfsigned(sk_tls_ctx *ctx, const char *cn);
/* Write a new self-signed certificate and key as PEM files. */
SK_EXPORT SK_NODISCARD int sk_tls_write_selfsigned(const char *cn,
						   const char *cert_path,
						   const char *key_path, int days);
/* Client: trust this PEM certificate file in addition. */
SK_EXPORT SK_NODISCARD int sk_tls_ctx_trust_file(sk_tls_ctx *ctx, const char *pem);
/* SHA-256 fingerprint of the first certificate in a PEM file, as
 * "AB:CD:..." (what `openssl x509 -fingerprint -sha256` shows) into out
 * (size >= SK_TLS_FP_STRLEN).  Returns the length, or -errno when the file
 * cannot be read, SK_EINVAL when it holds no certificate. */
#define SK_TLS_FP_STRLEN 96
SK_EXPORT int sk_tls_cert_fingerprint(const char *pem_path, char *out, size_t size);
/* Last OpenSSL error words for a failed ctx call; "" if none. */
SK_EXPORT const char *sk_tls_last_error(void);
SK_EXPORT void sk_tls_ctx_free(sk_tls_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
