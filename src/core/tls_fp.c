/*
 * src/core/tls_fp.c - the SHA-256 fingerprint of a PEM certificate, in the
 * form `openssl x509 -noout -fingerprint -sha256` prints ("AB:CD:...").
 *
 * A server that makes itself an ephemeral certificate prints this so that
 * a client can check by eye (or pin) that it reached the right server.
 * Kept apart from tls.c: it needs no context and no connection.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int sk_tls_cert_fingerprint(const char *pem_path, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!pem_path || !out || size < SK_TLS_FP_STRLEN)
		return SK_EINVAL;
	FILE *f = fopen(pem_path, "re");
	if (!f)
		return -errno;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	int ok = x && X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32;
	X509_free(x);
	ERR_clear_error();
	if (!ok)
		return SK_EINVAL; /* not a PEM certificate */
	for (unsigned i = 0; i < n; i++) {
		out[3 * i] = hex[md[i] >> 4];
		out[3 * i + 1] = hex[md[i] & 15];
		out[3 * i + 2] = i + 1 < n ? ':' : '\0';
	}
	return (int)(3 * n - 1);
}
