/*
 * fuzz/fuzz_metainfo.c - .torrent parsing and the piece/file mapping.
 *
 * An accepted torrent must be consistent: the info slice inside the input
 * with the info-hash its SHA-1, pieces 20 bytes per piece for the total
 * length, file offsets back to back, every path made of safe components,
 * and every piece mapping onto files in spans that cover it exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bt/metainfo.h"
#include "fuzz.h"

static void check_path(const char *p)
{
	CHECK(*p != '\0');
	while (*p) {
		size_t n = strcspn(p, "/");
		CHECK(bt_path_component_ok(p, n));
		p += n;
		if (*p == '/') {
			p++;
			CHECK(*p != '\0');
		}
	}
}

static void check_piece(const struct bt_metainfo *m, uint32_t i)
{
	struct bt_span s[8];
	uint32_t size = bt_piece_size(m, i);
	CHECK(size > 0 && size <= m->piece_length);
	int k = bt_metainfo_map(m, i, 0, size, s, 8);
	if (k == SK_ENOBUFS)
		return; /* a piece over many small files */
	CHECK(k > 0);
	uint64_t off = (uint64_t)i * m->piece_length, sum = 0;
	for (int j = 0; j < k; j++) {
		const struct bt_file *f = &m->files[s[j].file];
		CHECK(s[j].len > 0 && f->offset + s[j].file_off == off + sum);
		CHECK(s[j].file_off + s[j].len <= f->length);
		sum += s[j].len;
	}
	CHECK(sum == size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_metainfo m;
	if (bt_metainfo_parse(&m, data, size) < 0) {
		CHECK(m.error[0] != '\0' && m.files == NULL);
		return 0;
	}
	CHECK(m.raw.n == size && memcmp(m.raw.p, data, size) == 0);
	CHECK(m.info.p >= m.raw.p && m.info.p + m.info.n <= m.raw.p + m.raw.n);
	uint8_t md[20];
	CHECK(EVP_Digest(m.info.p, m.info.n, md, NULL, EVP_sha1(), NULL));
	CHECK(memcmp(md, m.info_hash, 20) == 0);
	CHECK(m.total_length > 0 && m.piece_length > 0);
	CHECK(m.npieces == (m.total_length - 1) / m.piece_length + 1);
	CHECK(m.pieces >= m.raw.p && m.pieces + 20 * (size_t)m.npieces <= m.raw.p + m.raw.n);
	check_path(m.name);
	CHECK(strchr(m.name, '/') == NULL);
	uint64_t off = 0;
	for (size_t i = 0; i < m.nfiles; i++) {
		CHECK(m.files[i].offset == off);
		off += m.files[i].length;
		check_path(m.files[i].path);
		char buf[4096];
		int n = bt_metainfo_file_path(&m, i, buf, sizeof buf);
		CHECK(n == SK_ENOBUFS || (n > 0 && (size_t)n == strlen(buf)));
	}
	CHECK(off == m.total_length);
	for (size_t t = 0; t < m.ntiers; t++) {
		CHECK(m.tiers[t].n > 0);
		for (size_t u = 0; u < m.tiers[t].n; u++)
			CHECK(m.tiers[t].urls[u][0] != '\0');
	}
	check_piece(&m, 0);
	check_piece(&m, m.npieces - 1);
	check_piece(&m, m.npieces / 2);
	CHECK(bt_piece_size(&m, m.npieces) == 0);
	bt_metainfo_free(&m);
	return 0;
}
