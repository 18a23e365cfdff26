/*
 * fuzz/fuzz_irc_server.c - the whole IRC server state machine, driven by
 * four fake clients with buffer sinks (no sockets).
 *
 * The input is records separated by '\n'.  The first byte of a record
 * picks a client (byte % 4) and an action ((byte / 4) % 8):
 *	0-4  the rest of the record is one line from that client
 *	5    the clock moves on by (second byte) seconds, then a tick
 *	6    the client's connection drops (irc_client_gone), a new one comes
 *	7    the client's output buffer is checked and emptied
 * UTF8ONLY is on when bit 6 of the first byte is set.
 * Channel batching is on (as in the daemon): a record whose first byte
 * has its top bit set, action 7, and the end flush the pending batch.
 * So "@NICK a" is a line from client 0, "ANICK b" from client 1, "T" + a
 * byte a tick.  Client 3 has a 4 KiB send queue, so floods reach the
 * "Max SendQ exceeded" path.
 *
 * Invariants (abort on failure): everything written is whole CRLF lines
 * with no NUL, bare CR or LF inside, none longer than tags + 512 bytes; a
 * closed sink is never written again; the server's counters match its
 * clients and channels, every nick in the table is a live client, and
 * every membership is linked both ways.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/server.h"
#include "fuzz.h"

#define NC 4

struct fake {
	struct sk_buf out;
	size_t checked;
	struct irc_client *cl;
	bool closed;
};

static struct fake fakes[NC];

static int fake_write(void *ctx, const void *p, size_t n)
{
	struct fake *f = ctx;
	CHECK(!f->closed);
	return sk_buf_append(&f->out, p, n);
}

static void fake_close(void *ctx, bool graceful)
{
	struct fake *f = ctx;
	(void)graceful;
	CHECK(!f->closed);
	f->closed = true;
	f->cl = NULL;
}

static const struct irc_sink_ops ops = {fake_write, fake_close};

/* Whole lines only, each well formed. */
static void check_output(struct fake *f)
{
	const char *p = (const char *)sk_buf_data(&f->out);
	size_t n = sk_buf_len(&f->out), i = f->checked, start = i;
	for (; i < n; i++) {
		char c = p[i];
		CHECK(c != '\0');
		if (c == '\r') {
			CHECK(i + 1 < n && p[i + 1] == '\n');
			CHECK(i + 2 - start <= IRC_TAGS_MAX + IRC_LINE_MAX);
			i++;
			start = i + 1;
			continue;
		}
		CHECK(c != '\n');
	}
	CHECK(start == n); /* writes are whole lines */
	f->checked = n;
}

static void check_server(struct irc_server *s)
{
	unsigned n = 0, unknown = 0, invisible = 0, opers = 0;
	for (struct irc_client *c = s->clients; c; c = c->next) {
		CHECK(!(c->flags & IRC_CF_DEAD));
		n++;
		if (!irc_client_registered(c))
			unknown++;
		else if (c->umodes & IRC_UMODE_I)
			invisible++;
		if (c->umodes & IRC_UMODE_O)
			opers++;
		if (c->flags & IRC_CF_NICK)
			CHECK(irc_find_nick(s, c->nick, strlen(c->nick)) == c);
		unsigned k = 0;
		for (struct irc_member *m = c->chans; m; m = m->cnext) {
			CHECK(m->cl == c);
			CHECK(m->idx < m->ch->nmem && m->ch->mem[m->idx] == m);
			k++;
		}
		CHECK(k == c->nchans);
	}
	CHECK(n == s->nclients);
	CHECK(unknown == s->nunknown);
	CHECK(invisible == s->ninvisible);
	CHECK(opers == s->nopers);
	unsigned chans = 0;
	for (struct irc_chan *ch = s->chanlist; ch; ch = ch->next) {
		chans++;
		CHECK(ch->nmem > 0);
		CHECK(irc_find_chan(s, ch->name, strlen(ch->name)) == ch);
		for (uint32_t i = 0; i < ch->nmem; i++)
			CHECK(ch->mem[i]->ch == ch && ch->mem[i]->idx == i);
	}
	CHECK(chans == s->nchans);
	CHECK(s->nicks.n <= s->nclients);
}

static void connect_fake(struct irc_server *s, int i)
{
	struct fake *f = &fakes[i];
	sk_buf_free(&f->out);
	memset(f, 0, sizeof *f);
	sk_buf_init(&f->out, i == 3 ? 4096 : 1 << 20);
	CHECK(irc_client_new(s, &ops, f, i == 2 ? "::1" : "127.0.0.1", i == 1,
			     &f->cl) == 0);
}

static struct irc_server *new_server(bool utf8_only)
{
	static char hash[IRC_PASSWD_MAX];
	if (!hash[0] && irc_passwd_hash("pw", 1, hash, sizeof hash) < 0)
		abort();
	struct irc_config *cfg = malloc(sizeof *cfg);
	if (!cfg || irc_config_defaults(cfg) < 0)
		abort();
	char line[256], err[128];
	snprintf(line, sizeof line, "op %s", hash);
	static const char *const set[][2] = {
		{"whowas", "8"}, {"maxlist", "5"}, {"maxchannels", "6"},
		{"nicklen", "12"}, {"topiclen", "40"}, {"casemapping", "rfc1459"},
	};
	for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
		if (irc_config_set(cfg, set[i][0], set[i][1], err, sizeof err) < 0)
			abort();
	if (irc_config_set(cfg, "oper", line, err, sizeof err) < 0)
		abort();
	cfg->utf8_only = utf8_only;
	struct irc_server *s;
	if (irc_server_new(cfg, &s) < 0)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Bit 6 of the first byte turns UTF8ONLY on ('@' does). */
	struct irc_server *s = new_server(size && (data[0] & 0x40));
	s->batching = true;
	uint64_t mono = 1000000;
	int64_t wall = 1700000000000;
	irc_server_set_time(s, mono, wall);
	for (int i = 0; i < NC; i++)
		connect_fake(s, i);
	size_t pos = 0;
	while (pos < size) {
		const uint8_t *rec = data + pos;
		const uint8_t *nl = memchr(rec, '\n', size - pos);
		size_t n = nl ? (size_t)(nl - rec) : size - pos;
		pos += n + (nl != NULL);
		if (n == 0)
			continue;
		int who = rec[0] % NC, op = (rec[0] / NC) % 8;
		struct fake *f = &fakes[who];
		if (!f->cl)
			connect_fake(s, who);
		mono += 7;
		wall += 7;
		irc_server_set_time(s, mono, wall);
		if (op <= 4) {
			size_t ln = n - 1;
			if (ln && rec[n - 1] == '\r')
				ln--;
			unsigned cost;
			int r = irc_server_line(s, f->cl, (const char *)rec + 1, ln,
						&cost);
			CHECK(r == IRC_CONTINUE || r == IRC_CLOSED);
			if (r == IRC_CLOSED)
				CHECK(f->closed);
		} else if (op == 5) {
			unsigned secs = n > 1 ? rec[1] : 1;
			mono += (uint64_t)secs * 1000;
			wall += (int64_t)secs * 1000;
			irc_server_set_time(s, mono, wall);
			irc_server_tick(s);
		} else if (op == 6) {
			irc_client_gone(s, f->cl, "Connection reset by peer");
			CHECK(!f->closed); /* gone: the sink is not closed */
			f->cl = NULL;
			connect_fake(s, who);
		} else {
			check_output(f);
			sk_buf_clear(&f->out);
			f->checked = 0;
		}
		if ((rec[0] & 0x80) || op == 7) {
			irc_server_flush(s);
			irc_server_reap(s);
		}
		for (int i = 0; i < NC; i++)
			check_output(&fakes[i]);
		check_server(s);
	}
	irc_server_shutdown(s, "fuzz done");
	for (int i = 0; i < NC; i++) {
		check_output(&fakes[i]);
		CHECK(fakes[i].closed || !fakes[i].cl);
	}
	irc_server_free(s);
	for (int i = 0; i < NC; i++) {
		sk_buf_free(&fakes[i].out);
		memset(&fakes[i], 0, sizeof fakes[i]);
	}
	return 0;
}
