/*
 * tests/unit/test_bt_bencode.c - the strict bencode decoder and the
 * encoder: values, the node tree, every rejection rule, limits, and round
 * trips of random documents.
 */
#include "test.h"

#include "bt/bencode.h"

static int dec(const char *s, struct bt_bdoc *doc)
{
	return bt_bdecode(doc, s, strlen(s), NULL);
}

static void ok(const char *s)
{
	struct bt_bdoc doc;
	int r = dec(s, &doc);
	if (r != 0)
		FAIL("'%s' should decode: %s at %zu", s, sk_strerror(r), doc.err_off);
	ASSERT_EQ(doc.used, strlen(s));
	ASSERT_EQ(doc.nodes[0].raw_len, strlen(s));
	bt_bdoc_free(&doc);
}

static void bad(const char *s, int want)
{
	struct bt_bdoc doc;
	int r = dec(s, &doc);
	if (r != want)
		FAIL("'%s': got %d (%s), want %d", s, r, sk_strerror(r), want);
	ASSERT(doc.nodes == NULL);
}

TEST(integers)
{
	struct bt_bdoc doc;
	ASSERT_OK(dec("i0e", &doc));
	ASSERT_EQ(doc.nodes[0].type, BT_BINT);
	ASSERT_EQ(doc.nodes[0].ival, 0);
	bt_bdoc_free(&doc);
	ASSERT_OK(dec("i-42e", &doc));
	ASSERT_EQ(doc.nodes[0].ival, -42);
	bt_bdoc_free(&doc);
	ASSERT_OK(dec("i9223372036854775807e", &doc));
	ASSERT(doc.nodes[0].ival == INT64_MAX);
	bt_bdoc_free(&doc);
	ASSERT_OK(dec("i-9223372036854775808e", &doc));
	ASSERT(doc.nodes[0].ival == INT64_MIN);
	bt_bdoc_free(&doc);

	bad("i-0e", SK_EPROTO);   /* negative zero */
	bad("i01e", SK_EPROTO);   /* leading zero */
	bad("i-01e", SK_EPROTO);
	bad("i00e", SK_EPROTO);
	bad("ie", SK_EPROTO);     /* no digits */
	bad("i-e", SK_EPROTO);
	bad("i+1e", SK_EPROTO);
	bad("i 1e", SK_EPROTO);
	bad("i1 e", SK_EPROTO);
	bad("i1.5e", SK_EPROTO);
	bad("i1", SK_EPROTO);     /* truncated */
	bad("i", SK_EPROTO);
	bad("i9223372036854775808e", SK_EPROTO);  /* out of range */
	bad("i-9223372036854775809e", SK_EPROTO);
	bad("i99999999999999999999999e", SK_EPROTO);
}

TEST(strings)
{
	struct bt_bdoc doc;
	ASSERT_OK(dec("0:", &doc));
	ASSERT_EQ(doc.nodes[0].type, BT_BSTR);
	ASSERT_EQ(bt_bstr(&doc.nodes[0]).n, 0);
	bt_bdoc_free(&doc);
	ASSERT_OK(bt_bdecode(&doc, "5:a\0b:e", 7, NULL)); /* binary is fine */
	struct sk_slice s = bt_bstr(&doc.nodes[0]);
	ASSERT_EQ(s.n, 5);
	ASSERT_MEMEQ(s.p, "a\0b:e", 5);
	bt_bdoc_free(&doc);

	bad("03:abc", SK_EPROTO); /* leading zero in the length */
	bad("00:", SK_EPROTO);
	bad("4:abc", SK_EPROTO);  /* runs past the end */
	bad("-1:a", SK_EPROTO);
	bad("3abc", SK_EPROTO);   /* no colon */
	bad("1:", SK_EPROTO);
	bad(":", SK_EPROTO);
	bad("4294967296:x", SK_EPROTO);
	bad("99999999999999999999:x", SK_EPROTO);
}

TEST(containers)
{
	ok("le");
	ok("de");
	ok("li1e3:abcle4:spamde0:i2ee");
	ok("d1:ai1e1:bi2ee");
	ok("d1:ai1e2:aai2ee");             /* a proper prefix sorts first */
	ok("d1:\x7fi1e1:\x80i2ee");        /* raw unsigned byte order */
	ok("d0:i1e1:ai2ee");               /* the empty key is the smallest */

	bad("d1:bi1e1:ai2ee", SK_EPROTO);  /* unsorted */
	bad("d2:aai1e1:ai2ee", SK_EPROTO);
	bad("d1:ai1e1:ai2ee", SK_EPROTO);  /* duplicate */
	bad("d1:\x80i1e1:\x7fi2ee", SK_EPROTO);
	bad("di1ei2ee", SK_EPROTO);        /* key not a string */
	bad("dlei1ee", SK_EPROTO);
	bad("d1:ae", SK_EPROTO);           /* key without value */
	bad("l", SK_EPROTO);
	bad("d", SK_EPROTO);
	bad("li1e", SK_EPROTO);
	bad("e", SK_EPROTO);
	bad("", SK_EPROTO);
	bad("x", SK_EPROTO);
	bad("i1ei2e", SK_EPROTO);          /* trailing bytes */
	bad("le ", SK_EPROTO);
}

TEST(tree_walk)
{
	const char *s = "d4:infod6:lengthi7e4:name1:xe4:listli1ei2ei3ee1:zi9ee";
	struct bt_bdoc doc;
	ASSERT_OK(dec(s, &doc));
	const struct bt_bnode *root = bt_broot(&doc);
	ASSERT_EQ(root->count, 3);
	ASSERT_EQ(root->span, doc.n);

	const struct bt_bnode *info = bt_bdict_get(root, "info");
	ASSERT(bt_bis(info, BT_BDICT));
	ASSERT_EQ(info->raw_len, strlen("d6:lengthi7e4:name1:xe"));
	ASSERT_MEMEQ(info->raw, "d6:lengthi7e4:name1:xe", info->raw_len);
	int64_t len;
	ASSERT_OK(bt_bint(bt_bdict_get(info, "length"), &len));
	ASSERT_EQ(len, 7);
	ASSERT(bt_bstr_eq(bt_bdict_get(info, "name"), "x"));
	ASSERT(!bt_bstr_eq(bt_bdict_get(info, "name"), "xy"));

	const struct bt_bnode *list = bt_bdict_get(root, "list");
	int64_t sum = 0, v;
	size_t n = 0;
	for (const struct bt_bnode *c = bt_bfirst(list); c; c = bt_bnext(list, c)) {
		ASSERT_OK(bt_bint(c, &v));
		sum += v;
		n++;
	}
	ASSERT_EQ(n, 3);
	ASSERT_EQ(sum, 6);
	ASSERT_OK(bt_bint(bt_blist_at(list, 2), &v));
	ASSERT_EQ(v, 3);
	ASSERT(bt_blist_at(list, 3) == NULL);
	ASSERT_OK(bt_bint(bt_bdict_get(root, "z"), &v));
	ASSERT_EQ(v, 9);

	/* absent keys and wrong types give NULL / errors, never crash */
	ASSERT(bt_bdict_get(root, "a") == NULL);
	ASSERT(bt_bdict_get(root, "j") == NULL);
	ASSERT(bt_bdict_get(root, "zz") == NULL);
	ASSERT(bt_bdict_get(list, "x") == NULL);
	ASSERT(bt_bdict_get(NULL, "x") == NULL);
	ASSERT_EQ(bt_bint(NULL, &v), SK_EPROTO);
	ASSERT_EQ(bt_bint(info, &v), SK_EPROTO);
	ASSERT(bt_bstr(list).p == NULL);
	ASSERT(bt_bfirst(bt_bdict_get(root, "z")) == NULL);
	bt_bdoc_free(&doc);

	/* empty containers have no children */
	ASSERT_OK(dec("ldelee", &doc));
	const struct bt_bnode *d = bt_bfirst(bt_broot(&doc));
	ASSERT(bt_bfirst(d) == NULL);
	ASSERT(bt_bis(bt_bnext(bt_broot(&doc), d), BT_BLIST));
	bt_bdoc_free(&doc);
}

static void nest(char *buf, unsigned depth)
{
	memset(buf, 'l', depth);
	memset(buf + depth, 'e', depth);
	buf[2 * depth] = '\0';
}

TEST(limits)
{
	char buf[300];
	struct bt_bdoc doc;

	nest(buf, BT_BENC_MAX_DEPTH);
	ASSERT_OK(dec(buf, &doc));
	ASSERT_EQ(doc.n, BT_BENC_MAX_DEPTH);
	bt_bdoc_free(&doc);
	nest(buf, BT_BENC_MAX_DEPTH + 1);
	ASSERT_EQ(dec(buf, &doc), SK_EMSGSIZE);
	nest(buf, 140);
	ASSERT_EQ(dec(buf, &doc), SK_EMSGSIZE);

	struct bt_blimits lim = {.max_depth = 2};
	ASSERT_OK(bt_bdecode(&doc, "llee", 4, &lim));
	bt_bdoc_free(&doc);
	ASSERT_EQ(bt_bdecode(&doc, "llleee", 6, &lim), SK_EMSGSIZE);

	struct bt_blimits nodes = {.max_nodes = 3};
	ASSERT_OK(bt_bdecode(&doc, "li1ei2ee", 8, &nodes));
	bt_bdoc_free(&doc);
	ASSERT_EQ(bt_bdecode(&doc, "li1ei2ei3ee", 11, &nodes), SK_EMSGSIZE);

	struct bt_blimits str = {.max_str = 3};
	ASSERT_OK(bt_bdecode(&doc, "3:abc", 5, &str));
	bt_bdoc_free(&doc);
	ASSERT_EQ(bt_bdecode(&doc, "4:abcd", 6, &str), SK_EMSGSIZE);

	/* where it went wrong */
	ASSERT_EQ(dec("li1ei01ee", &doc), SK_EPROTO);
	ASSERT_EQ(doc.err_off, 4);
	ASSERT_EQ(dec("l5:abce", &doc), SK_EPROTO);
	ASSERT_EQ(doc.err_off, 1);
	ASSERT_EQ(dec("d1:bi1e1:ai2ee", &doc), SK_EPROTO);
	ASSERT_EQ(doc.err_off, 7);
}

TEST(into_and_trailing)
{
	struct bt_bnode nodes[4];
	struct bt_bdoc doc;
	ASSERT_OK(bt_bdecode_into(&doc, nodes, 4, "li1ei2ei3ee", 11, NULL));
	ASSERT_EQ(doc.n, 4);
	ASSERT(doc.nodes == nodes);
	bt_bdoc_free(&doc); /* no-op, nothing allocated */
	ASSERT_EQ(bt_bdecode_into(&doc, nodes, 4, "li1ei2ei3ei4ee", 14, NULL),
		  SK_ENOBUFS);

	/* BEP 9 style: a dict followed by raw bytes */
	struct bt_blimits lim = {.trailing = true};
	const char *msg = "d8:msg_typei1e5:piecei0eeRAWDATA";
	struct bt_bnode more[8];
	ASSERT_OK(bt_bdecode_into(&doc, more, 8, msg, strlen(msg), &lim));
	ASSERT_EQ(doc.n, 5);
	ASSERT_EQ(doc.used, strlen(msg) - 7);
	ASSERT_EQ(bt_bdecode_into(&doc, more, 8, msg, strlen(msg), NULL), SK_EPROTO);
}

TEST(encoder)
{
	struct sk_buf b = SK_BUF_INIT(1024);
	struct bt_benc e;
	bt_benc_init(&e, &b);
	bt_benc_dict(&e);
	bt_benc_cstr(&e, "a");
	bt_benc_int(&e, INT64_MIN);
	bt_benc_cstr(&e, "b");
	bt_benc_list(&e);
	bt_benc_str(&e, "x\0y", 3);
	bt_benc_int(&e, 0);
	bt_benc_raw(&e, "de", 2);
	bt_benc_end(&e);
	bt_benc_end(&e);
	ASSERT_OK(bt_benc_error(&e));
	const char want[] = "d1:ai-9223372036854775808e1:bl3:x\0yi0edeee";
	ASSERT_EQ(sk_buf_len(&b), sizeof want - 1);
	ASSERT_MEMEQ(sk_buf_data(&b), want, sizeof want - 1);
	sk_buf_free(&b);

	/* the first failure sticks, later calls do nothing */
	struct sk_buf small = SK_BUF_INIT(4);
	bt_benc_init(&e, &small);
	bt_benc_cstr(&e, "abcdef");
	bt_benc_int(&e, 1);
	ASSERT_EQ(bt_benc_error(&e), SK_ENOBUFS);
	sk_buf_free(&small);
}

/* ---- random round trips ---------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random canonical value: dict keys are generated in ascending order by
 * prefixing them with their index. */
static void gen(struct bt_benc *e, uint64_t *rng, unsigned depth)
{
	unsigned kind = (unsigned)(rng_next(rng) % (depth > 5 ? 2 : 4));
	if (kind == 0) {
		bt_benc_int(e, (int64_t)rng_next(rng) >> (rng_next(rng) % 64));
	} else if (kind == 1) {
		uint8_t s[40];
		size_t n = rng_next(rng) % sizeof s;
		for (size_t i = 0; i < n; i++)
			s[i] = (uint8_t)rng_next(rng);
		bt_benc_str(e, s, n);
	} else {
		unsigned n = (unsigned)(rng_next(rng) % 5);
		kind == 2 ? bt_benc_list(e) : bt_benc_dict(e);
		for (unsigned i = 0; i < n; i++) {
			if (kind == 3) {
				char key[16];
				snprintf(key, sizeof key, "%c%u", 'a' + i,
					 (unsigned)(rng_next(rng) % 100));
				bt_benc_cstr(e, key);
			}
			gen(e, rng, depth + 1);
		}
		bt_benc_end(e);
	}
}

/* Re-encode a decoded tree from its fields (not its raw bytes). */
static const struct bt_bnode *reenc(struct bt_benc *e, const struct bt_bnode *n)
{
	struct sk_slice s;
	switch (n->type) {
	case BT_BINT:
		bt_benc_int(e, n->ival);
		break;
	case BT_BSTR:
		s = bt_bstr(n);
		bt_benc_str(e, s.p, s.n);
		break;
	default:
		n->type == BT_BLIST ? bt_benc_list(e) : bt_benc_dict(e);
		for (const struct bt_bnode *c = bt_bfirst(n); c; c = bt_bnext(n, c))
			reenc(e, c);
		bt_benc_end(e);
	}
	return n + n->span;
}

TEST(random_round_trips)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 2000; i++) {
		struct sk_buf a = SK_BUF_INIT(1 << 20), b = SK_BUF_INIT(1 << 20);
		struct bt_benc e;
		struct bt_bdoc doc;
		bt_benc_init(&e, &a);
		gen(&e, &rng, 0);
		ASSERT_OK(bt_benc_error(&e));
		ASSERT_OK(bt_bdecode(&doc, sk_buf_data(&a), sk_buf_len(&a), NULL));
		bt_benc_init(&e, &b);
		ASSERT(reenc(&e, bt_broot(&doc)) == doc.nodes + doc.n);
		ASSERT_EQ(sk_buf_len(&a), sk_buf_len(&b));
		ASSERT_MEMEQ(sk_buf_data(&a), sk_buf_data(&b), sk_buf_len(&a));
		/* the caller-array variant agrees */
		struct bt_bnode *nodes = calloc(doc.n, sizeof *nodes);
		struct bt_bdoc d2;
		ASSERT_OK(bt_bdecode_into(&d2, nodes, doc.n, sk_buf_data(&a),
					  sk_buf_len(&a), NULL));
		ASSERT_EQ(d2.n, doc.n);
		ASSERT_MEMEQ(nodes, doc.nodes, doc.n * sizeof *nodes);
		/* every proper prefix is rejected (bencode is self-delimiting) */
		size_t cut = rng_next(&rng) % sk_buf_len(&a);
		ASSERT(bt_bdecode(&d2, sk_buf_data(&a), cut, NULL) < 0);
		free(nodes);
		bt_bdoc_free(&doc);
		sk_buf_free(&a);
		sk_buf_free(&b);
	}
}

TEST_MAIN(TEST_ENTRY(integers), TEST_ENTRY(strings), TEST_ENTRY(containers),
	  TEST_ENTRY(tree_walk), TEST_ENTRY(limits), TEST_ENTRY(into_and_trailing),
	  TEST_ENTRY(encoder), TEST_ENTRY(random_round_trips))
