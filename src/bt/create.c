/*
 * src/bt/create.c - `sockit bt create`: make a .torrent of a file or a
 * directory.
 *
 * Directories are walked the way mktorrent walks them, so both tools give
 * the same info-hash for the same data and piece size: hidden files are
 * included, symbolic links are followed (a link back to an ancestor
 * directory is skipped), empty files are kept, and the files are sorted
 * by their relative path as plain bytes ("a.txt" before "a/b").  Other
 * file types (sockets, fifos, devices) are skipped with a warning.
 *
 * The pieces are hashed by bt_hash_pieces() on every core; the torrent is
 * then encoded, parsed back with our own strict parser as a self-check,
 * and written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bt/bencode.h"
#include "bt/bt.h"
#include "bt/hasher.h"
#include "bt/metainfo.h"
#include "bt/tracker_proto.h"
#include "util/app_version.h"
#include "util/log.h"
#include "util/num.h"

#define WALK_MAX_DEPTH 64
#define PIECE_MIN (16u * 1024)
#define PIECE_MAX (64u << 20)
#define AUTO_PIECE_MIN (32u * 1024)
#define AUTO_PIECE_MAX (16u << 20)
#define AUTO_PIECES 2048 /* the most pieces a default piece size gives */

struct create_opts {
	const char *path, *out, *comment, *name, *source;
	char **trackers; /* each -t: one tier, URLs separated by commas */
	size_t ntrackers;
	uint32_t piece_size; /* 0: automatic */
	unsigned threads;    /* 0: all cores */
	bool priv, force, no_date;
};

struct wfile {
	char *path; /* relative to the root */
	uint64_t len;
};

struct walk {
	struct wfile *v;
	size_t n, cap;
	dev_t dev[WALK_MAX_DEPTH];
	ino_t ino[WALK_MAX_DEPTH];
	int err;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sockit bt create PATH -t URL [-t URL...] [options]\n"
		"Make a .torrent of a file or a directory (multi-file), hashing "
		"on all cores.\n"
		"\n"
		"  -t, --tracker URL[,URL...]  announce URL (http, https or udp);\n"
		"                              each -t is a tier (BEP 12), commas\n"
		"                              separate URLs within one tier\n"
		"  -o, --output FILE     where to write (default NAME.torrent; - for stdout)\n"
		"  -l, --piece-size N    piece size in bytes, a power of two from 16K\n"
		"                        to 64M (suffix K or M); default: 32K-16M so\n"
		"                        that there are at most %u pieces\n"
		"  -p, --private         set the private flag (no DHT/PEX)\n"
		"  -c, --comment TEXT    add a comment\n"
		"  -n, --name NAME       the torrent's name (default: the basename of PATH)\n"
		"  -s, --source TEXT     info.source (changes the info-hash)\n"
		"  -d, --no-date         leave out the creation date\n"
		"  -j, --threads N       hashing threads (default: one per CPU)\n"
		"  -f, --force           overwrite FILE if it exists\n"
		"  -h, --help            this help\n"
		"\n"
		"Progress goes to stderr when it is a terminal; -q silences the summary.\n",
		AUTO_PIECES);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "sockit bt create: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see sockit bt create --help)\n");
	return 2;
}

static int opt_value(struct create_opts *o, int c, char *arg)
{
	uint64_t v;
	switch (c) {
	case 't': {
		char **t = realloc(o->trackers, (o->ntrackers + 1) * sizeof *t);
		if (!t)
			return 1;
		o->trackers = t;
		o->trackers[o->ntrackers++] = arg;
		return 0;
	}
	case 'o': o->out = arg; return 0;
	case 'c': o->comment = arg; return 0;
	case 'n': o->name = arg; return 0;
	case 's': o->source = arg; return 0;
	case 'p': o->priv = true; return 0;
	case 'd': o->no_date = true; return 0;
	case 'f': o->force = true; return 0;
	case 'l':
		if (util_parse_num(arg, true, PIECE_MIN, PIECE_MAX, &v) < 0 ||
		    (v & (v - 1)))
			return bad_usage("bad piece size '%s': a power of two "
					 "from 16K to 64M", arg);
		o->piece_size = (uint32_t)v;
		return 0;
	case 'j':
		if (util_parse_num(arg, false, 1, 64, &v) < 0)
			return bad_usage("bad thread count '%s' (1-64)", arg);
		o->threads = (unsigned)v;
		return 0;
	default:
		return 2;
	}
}

/* 0 ok, -1 --help shown, or an exit code. */
static int parse_opts(struct create_opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{"tracker", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"piece-size", required_argument, NULL, 'l'},
		{"private", no_argument, NULL, 'p'},
		{"comment", required_argument, NULL, 'c'},
		{"name", required_argument, NULL, 'n'},
		{"source", required_argument, NULL, 's'},
		{"no-date", no_argument, NULL, 'd'},
		{"threads", required_argument, NULL, 'j'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":t:o:l:pc:n:s:dj:fh", longs, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?')
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		if ((r = opt_value(o, c, optarg)) != 0)
			return r;
	}
	if (optind != argc - 1)
		return bad_usage("%s", optind >= argc ? "no PATH given" : "more than one PATH");
	o->path = argv[optind];
	if (o->ntrackers == 0)
		return bad_usage("%s", "at least one -t URL is needed");
	return 0;
}

/* ---- the tracker list -------------------------------------------------------- */

/* Split every -t into its URLs in place and check them: 0 or exit 2. */
static int check_trackers(struct create_opts *o)
{
	for (size_t i = 0; i < o->ntrackers; i++) {
		char *s = o->trackers[i];
		for (char *u = s; ; ) {
			size_t n = strcspn(u, ",");
			struct bt_url url;
			if (bt_url_parse(u, n, &url) < 0) {
				char bad[256];
				snprintf(bad, sizeof bad, "%.*s", (int)n, u);
				return bad_usage("bad tracker URL '%s' (http://, "
						 "https:// or udp://host:port)", bad);
			}
			if (u[n] == '\0')
				break;
			u += n + 1;
		}
	}
	return 0;
}

/* A list of the pieces of s between separators: a tier of URLs split at
 * ',' or a path split at '/'. */
static void encode_split(struct bt_benc *e, const char *s, char sep)
{
	bt_benc_list(e);
	for (const char *u = s; ; ) {
		const char *end = strchr(u, sep);
		size_t n = end ? (size_t)(end - u) : strlen(u);
		bt_benc_str(e, u, n);
		if (!end)
			break;
		u = end + 1;
	}
	bt_benc_end(e);
}

static void encode_trackers(struct bt_benc *e, const struct create_opts *o)
{
	const char *first = o->trackers[0];
	bt_benc_cstr(e, "announce");
	bt_benc_str(e, first, strcspn(first, ","));
	/* announce-list only when there is more than one URL (mktorrent) */
	if (o->ntrackers == 1 && !strchr(first, ','))
		return;
	bt_benc_cstr(e, "announce-list");
	bt_benc_list(e);
	for (size_t i = 0; i < o->ntrackers; i++)
		encode_split(e, o->trackers[i], ',');
	bt_benc_end(e);
}

/* ---- walking a directory ------------------------------------------------------ */

static int add_file(struct walk *w, const char *rel, uint64_t len)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct wfile *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return SK_ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	char *p = strdup(rel);
	if (!p)
		return SK_ENOMEM;
	w->v[w->n].path = p;
	w->v[w->n].len = len;
	w->n++;
	return 0;
}

static int walk_dir(struct walk *w, int dfd, const char *rel, unsigned depth);

static int walk_entry(struct walk *w, int dfd, const char *rel,
		      const char *name, unsigned depth)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", name) >=
	    (int)sizeof path) {
		sk_log_warn("skipping %s/%s: path too long", rel, name);
		return 0;
	}
	if (fstatat(dfd, name, &st, 0) < 0) { /* follows links, as mktorrent */
		sk_log_warn("skipping %s: %s", path, strerror(errno));
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return add_file(w, path, (uint64_t)st.st_size);
	if (!S_ISDIR(st.st_mode)) {
		sk_log_warn("skipping %s: not a regular file or directory", path);
		return 0;
	}
	for (unsigned i = 0; i < depth; i++) {
		if (w->dev[i] == st.st_dev && w->ino[i] == st.st_ino) {
			sk_log_warn("skipping %s: a link back to a parent directory", path);
			return 0;
		}
	}
	if (depth >= WALK_MAX_DEPTH) {
		sk_log_error("%s: directories nested too deep", path);
		return SK_EMSGSIZE;
	}
	int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sub < 0) {
		sk_log_error("%s: %s", path, strerror(errno));
		return -errno;
	}
	w->dev[depth] = st.st_dev;
	w->ino[depth] = st.st_ino;
	return walk_dir(w, sub, path, depth + 1);
}

/* Walks the directory open at dfd (and closes it). */
static int walk_dir(struct walk *w, int dfd, const char *rel, unsigned depth)
{
	DIR *d = fdopendir(dfd);
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		sk_log_error("%s: %s", *rel ? rel : ".", strerror(-r));
		return r;
	}
	for (struct dirent *de; r == 0 && (errno = 0, de = readdir(d)); ) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = walk_entry(w, dirfd(d), rel, de->d_name, depth);
	}
	if (r == 0 && errno) {
		r = -errno;
		sk_log_error("%s: %s", *rel ? rel : ".", strerror(errno));
	}
	closedir(d);
	return r;
}

static int wfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wfile *)a)->path, ((const struct wfile *)b)->path);
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
}

/* ---- the metainfo we are building ----------------------------------------------- */

/* Default piece size: the smallest power of two from 32 KiB that keeps
 * the torrent at AUTO_PIECES pieces or fewer, at most 16 MiB. */
static uint32_t auto_piece_size(uint64_t total)
{
	uint32_t p = AUTO_PIECE_MIN;
	while (p < AUTO_PIECE_MAX && (total + p - 1) / p > AUTO_PIECES)
		p *= 2;
	return p;
}

/* Fill the parts of m that the hasher and the encoder use. */
static int build_meta(struct bt_metainfo *m, struct walk *w, const char *name,
		      bool multi, uint32_t piece_size)
{
	memset(m, 0, sizeof *m);
	m->files = calloc(w->n, sizeof *m->files);
	if (!m->files)
		return SK_ENOMEM;
	m->nfiles = w->n;
	m->multi_file = multi;
	m->name = name;
	for (size_t i = 0; i < w->n; i++) {
		m->files[i].path = w->v[i].path;
		m->files[i].length = w->v[i].len;
		m->files[i].offset = m->total_length;
		m->total_length += w->v[i].len;
	}
	m->piece_length = piece_size ? piece_size : auto_piece_size(m->total_length);
	uint64_t np = (m->total_length + m->piece_length - 1) / m->piece_length;
	if (np > UINT32_MAX)
		return SK_EMSGSIZE;
	m->npieces = (uint32_t)np;
	return 0;
}

static void encode_info(struct bt_benc *e, const struct bt_metainfo *m,
			const struct create_opts *o, const uint8_t *pieces)
{
	bt_benc_dict(e);
	if (m->multi_file) {
		bt_benc_cstr(e, "files");
		bt_benc_list(e);
		for (size_t i = 0; i < m->nfiles; i++) {
			bt_benc_dict(e);
			bt_benc_cstr(e, "length");
			bt_benc_int(e, (int64_t)m->files[i].length);
			bt_benc_cstr(e, "path");
			encode_split(e, m->files[i].path, '/');
			bt_benc_end(e);
		}
		bt_benc_end(e);
	} else {
		bt_benc_cstr(e, "length");
		bt_benc_int(e, (int64_t)m->total_length);
	}
	bt_benc_cstr(e, "name");
	bt_benc_cstr(e, m->name);
	bt_benc_cstr(e, "piece length");
	bt_benc_int(e, m->piece_length);
	bt_benc_cstr(e, "pieces");
	bt_benc_str(e, pieces, (size_t)m->npieces * BT_HASH_LEN);
	if (o->priv) {
		bt_benc_cstr(e, "private");
		bt_benc_int(e, 1);
	}
	if (o->source) {
		bt_benc_cstr(e, "source");
		bt_benc_cstr(e, o->source);
	}
	bt_benc_end(e);
}

static void encode_torrent(struct bt_benc *e, const struct bt_metainfo *m,
			   const struct create_opts *o, const uint8_t *pieces)
{
	char by[64];
	snprintf(by, sizeof by, "sockit %s", sk_app_version());
	bt_benc_dict(e);
	encode_trackers(e, o);
	if (o->comment) {
		bt_benc_cstr(e, "comment");
		bt_benc_cstr(e, o->comment);
	}
	bt_benc_cstr(e, "created by");
	bt_benc_cstr(e, by);
	if (!o->no_date) {
		bt_benc_cstr(e, "creation date");
		bt_benc_int(e, (int64_t)time(NULL));
	}
	bt_benc_cstr(e, "info");
	encode_info(e, m, o, pieces);
	bt_benc_end(e);
}

/* ---- progress and output ----------------------------------------------------------- */

struct progress {
	struct timespec t0;
	bool tty;
};

static double since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	double secs = since(&p->t0);
	if (!p->tty)
		return;
	fprintf(stderr, "\rhashing: %5.1f%%  %8.1f MB/s ", 100.0 * (double)done / (double)total,
		secs > 0 ? (double)done / 1e6 / secs : 0.0);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_out(const char *path, struct sk_slice data, bool force)
{
	if (strcmp(path, "-") == 0)
		return write_all(STDOUT_FILENO, data.p, data.n);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL),
		      0644);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, data.p, data.n);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

/* ---- the command ----------------------------------------------------------------- */

/* Collect the files of PATH into w; *root and *multi say where they are. */
static int collect(const char *real, struct walk *w, char **root, bool *multi)
{
	struct stat st;
	if (stat(real, &st) < 0) {
		sk_log_error("%s: %s", real, strerror(errno));
		return -errno;
	}
	*multi = S_ISDIR(st.st_mode);
	if (S_ISREG(st.st_mode)) {
		const char *slash = strrchr(real, '/');
		*root = strndup(real, slash == real ? 1 : (size_t)(slash - real));
		return *root ? add_file(w, slash + 1, (uint64_t)st.st_size) : SK_ENOMEM;
	}
	if (!*multi) {
		sk_log_error("%s: not a regular file or directory", real);
		return SK_EINVAL;
	}
	if (!(*root = strdup(real)))
		return SK_ENOMEM;
	int dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		sk_log_error("%s: %s", real, strerror(errno));
		return -errno;
	}
	w->dev[0] = st.st_dev;
	w->ino[0] = st.st_ino;
	int r = walk_dir(w, dfd, "", 1);
	if (r == 0 && w->n == 0) {
		sk_log_error("%s: no files in it", real);
		return SK_ENOENT;
	}
	qsort(w->v, w->n, sizeof *w->v, wfile_cmp);
	return r;
}

static int hash_all(struct bt_metainfo *m, const char *root, unsigned threads,
		    uint8_t *pieces, double *secs)
{
	struct progress pr = {.tty = isatty(STDERR_FILENO) && sk_log_enabled(SK_LOG_INFO)};
	struct bt_hash_job job = {
		.m = m, .root = root, .threads = threads, .out = pieces,
		.progress = on_progress, .progress_arg = &pr, .use_mmap = true,
	};
	clock_gettime(CLOCK_MONOTONIC, &pr.t0);
	int r = bt_hash_pieces(&job);
	*secs = since(&pr.t0);
	if (r < 0)
		sk_log_error("hashing failed: %s", job.error);
	return r;
}

/* Encode, check by parsing it back, write; prints the summary. */
static int finish(const struct create_opts *o, const struct bt_metainfo *m,
		  const uint8_t *pieces, double secs)
{
	struct sk_buf b = SK_BUF_INIT((size_t)BT_METAINFO_MAX_SIZE);
	struct bt_benc e;
	struct bt_metainfo check;
	char out[PATH_MAX], hex[2 * BT_HASH_LEN + 1];
	int r;

	bt_benc_init(&e, &b);
	encode_torrent(&e, m, o, pieces);
	if ((r = bt_benc_error(&e)) < 0) {
		sk_log_error("cannot encode the torrent: %s", sk_strerror(r));
		goto out;
	}
	if ((r = bt_metainfo_parse(&check, sk_buf_data(&b), sk_buf_len(&b))) < 0) {
		sk_log_error("the new torrent does not parse: %s", check.error);
		goto out;
	}
	bt_hex(check.info_hash, BT_HASH_LEN, hex);
	bt_metainfo_free(&check);
	snprintf(out, sizeof out, "%s%s", o->out ? o->out : m->name,
		 o->out ? "" : ".torrent");
	if ((r = write_out(out, sk_buf_slice(&b), o->force)) < 0) {
		sk_log_error("%s: %s%s", out, sk_strerror(r),
			     r == SK_EEXIST ? " (use --force to overwrite)" : "");
		goto out;
	}
	if (sk_log_enabled(SK_LOG_INFO))
		fprintf(stderr, "%s: %zu file%s, %" PRIu64 " bytes, %" PRIu32
			" pieces of %" PRIu32 " bytes, hashed in %.2f s (%.1f MB/s)\n"
			"info-hash %s\n",
			strcmp(out, "-") ? out : "(stdout)", m->nfiles,
			m->nfiles == 1 ? "" : "s", m->total_length, m->npieces,
			m->piece_length, secs,
			secs > 0 ? (double)m->total_length / 1e6 / secs : 0.0, hex);
out:
	sk_buf_free(&b);
	return r;
}

/* The default name: the last component of PATH as given (a link keeps its
 * own name, as with mktorrent), or of its real path for ".", ".." or "/". */
static void default_name(const char *path, const char *real, char *buf,
			 size_t cap)
{
	size_t n = strlen(path), s;
	while (n > 1 && path[n - 1] == '/')
		n--;
	for (s = n; s > 0 && path[s - 1] != '/'; s--)
		;
	snprintf(buf, cap, "%.*s", (int)(n - s), path + s);
	if (buf[0] == '\0' || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		snprintf(buf, cap, "%s", strrchr(real, '/') + 1);
}

static int create(const struct create_opts *o)
{
	struct walk w;
	struct bt_metainfo m;
	char *real = realpath(o->path, NULL), *root = NULL;
	uint8_t *pieces = NULL;
	bool multi = false;
	double secs = 0;
	int r;

	memset(&w, 0, sizeof w);
	memset(&m, 0, sizeof m);
	if (!real) {
		sk_log_error("%s: %s", o->path, strerror(errno));
		return 1;
	}
	char dflt[NAME_MAX + 1];
	default_name(o->path, real, dflt, sizeof dflt);
	const char *name = o->name ? o->name : dflt;
	if (!bt_path_component_ok(name, strlen(name))) {
		free(real);
		return bad_usage("'%s' cannot be a torrent name (use --name)", name);
	}
	r = collect(real, &w, &root, &multi);
	if (r == 0 && (r = build_meta(&m, &w, name, multi, o->piece_size)) < 0)
		sk_log_error("too many pieces: use a larger --piece-size");
	if (r == 0 && m.total_length == 0) {
		sk_log_error("%s: nothing to share, every file is empty", o->path);
		r = SK_EINVAL;
	}
	if (r == 0 && !(pieces = malloc((size_t)m.npieces * BT_HASH_LEN)))
		r = SK_ENOMEM;
	if (r == 0)
		r = hash_all(&m, root, o->threads, pieces, &secs);
	if (r == 0)
		r = finish(o, &m, pieces, secs);
	free(pieces);
	free(m.files);
	walk_free(&w);
	free(root);
	free(real);
	return r < 0 ? 1 : 0;
}

int bt_cmd_create(int argc, char **argv)
{
	struct create_opts o;
	memset(&o, 0, sizeof o);
	int r = parse_opts(&o, argc, argv);
	if (r == 0)
		r = check_trackers(&o);
	if (r == 0)
		r = create(&o);
	free(o.trackers);
	return r < 0 ? 0 : r;
}
