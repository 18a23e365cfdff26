/*
 * tests/unit/test_tls_fp.c - sk_tls_cert_fingerprint: a known certificate
 * gives the fingerprint `openssl x509 -fingerprint -sha256` printed for it;
 * fresh self-signed certificates differ; bad input is an error, not a crash.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "test.h"

/* openssl req -x509 -newkey ec ... -subj /CN=fp.test */
static const char known_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBeTCCAR+gAwIBAgIUH7LJDGI/TCI1HYF38Q2Eic1/xKIwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHZnAudGVzdDAeFw0yNjExMjExMDEzMTdaFw0zNjExMTgxMDEz\n"
	"MTdaMBIxEDAOBgNVBAMMB2ZwLnRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
	"AATUC3sYzr6I4ziOJdyOF65NOLxKSjwtactQ/h5ikqupe1iWnVW8tyJ6hzv9WUuD\n"
	"iOOSD1TspSZ7uajhFg3Z10FKo1MwUTAdBgNVHQ4EFgQUV7Tv0kbzwnnfZBwvNY+d\n"
	"qebSNjcwHwYDVR0jBBgwFoAUV7Tv0kbzwnnfZBwvNY+dqebSNjcwDwYDVR0TAQH/\n"
	"BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBNYKX9ax6aCdVtAucGG2VqgPmc3L6j\n"
	"ZVItW/d8KyK4mQIhAK4Mu/T0paIldrgmMjldgBCLYujmHXDRdkIgiO5BkE+K\n"
	"-----END CERTIFICATE-----\n";
static const char known_fp[] =
	"A2:A5:58:EE:9D:E8:02:3D:85:19:4E:56:1C:26:D5:3E:"
	"69:1D:F5:32:0B:1A:49:EA:4F:10:C2:4B:7F:4A:C4:3C";

static char dir[64];

/* Note: one static buffer; copy the result to use two at once. */
static const char *path(const char *name)
{
	static char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");
	ASSERT(f != NULL);
	fputs(text, f);
	ASSERT_EQ(fclose(f), 0);
}

TEST(known_certificate)
{
	char fp[SK_TLS_FP_STRLEN];
	write_file(path("known.pem"), known_pem);
	ASSERT_EQ(sk_tls_cert_fingerprint(path("known.pem"), fp, sizeof fp), 95);
	ASSERT_STREQ(fp, known_fp);
}

TEST(fresh_certificates_differ)
{
	char a[SK_TLS_FP_STRLEN], b[SK_TLS_FP_STRLEN], a2[SK_TLS_FP_STRLEN];
	char c1[128], c2[128];
	snprintf(c1, sizeof c1, "%s", path("c1.pem"));
	snprintf(c2, sizeof c2, "%s", path("c2.pem"));
	ASSERT_OK(sk_tls_write_selfsigned("localhost", c1, path("k1.pem"), 1));
	ASSERT_OK(sk_tls_write_selfsigned("localhost", c2, path("k2.pem"), 1));
	ASSERT_EQ(sk_tls_cert_fingerprint(c1, a, sizeof a), 95);
	ASSERT_EQ(sk_tls_cert_fingerprint(c2, b, sizeof b), 95);
	ASSERT_EQ(sk_tls_cert_fingerprint(c1, a2, sizeof a2), 95);
	ASSERT_STREQ(a, a2);
	ASSERT(strcmp(a, b) != 0);
}

TEST(bad_input)
{
	char fp[SK_TLS_FP_STRLEN];
	ASSERT_EQ(sk_tls_cert_fingerprint(path("missing.pem"), fp, sizeof fp),
		  SK_ENOENT);
	write_file(path("junk.pem"), "not a certificate\n");
	ASSERT_EQ(sk_tls_cert_fingerprint(path("junk.pem"), fp, sizeof fp),
		  SK_EINVAL);
	/* A private key is PEM but not a certificate. */
	char c3[128];
	snprintf(c3, sizeof c3, "%s", path("c3.pem"));
	ASSERT_OK(sk_tls_write_selfsigned("x", c3, path("k3.pem"), 1));
	ASSERT_EQ(sk_tls_cert_fingerprint(path("k3.pem"), fp, sizeof fp),
		  SK_EINVAL);
	ASSERT_EQ(sk_tls_cert_fingerprint(c3, fp, 10), SK_EINVAL);
	ASSERT_EQ(sk_tls_cert_fingerprint(NULL, fp, sizeof fp), SK_EINVAL);
}

static void cleanup(void)
{
	static const char *files[] = {"known.pem", "c1.pem", "c2.pem", "k1.pem",
				      "k2.pem", "junk.pem", "c3.pem", "k3.pem"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(path(files[i]));
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct sk_test tests[] = {
		TEST_ENTRY(known_certificate),
		TEST_ENTRY(fresh_certificates_differ),
		TEST_ENTRY(bad_input),
	};
	snprintf(dir, sizeof dir, "/tmp/sk_tls_fp.XXXXXX");
	if (!mkdtemp(dir))
		FAIL("mkdtemp");
	atexit(cleanup);
	return sk_test_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
