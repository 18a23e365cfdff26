/*
 * src/core/error.c - words and names for error codes, and the version.
 *
 * Every SK_E* code in error.h has an explicit row in the table below, so the
 * words do not depend on the C library.  Other -errno values fall back to
 * strerror_r() into a small ring of thread-local buffers: this file keeps no
 * shared mutable state, so every function here is safe to call from any
 * thread, and a few fallback results can be used together (as in one
 * printf) before a slot is reused.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "sockit/sockit.h"

struct errinfo {
	int code;
	const char *name;
	const char *words;
};

/* One row per code; the first match wins, so where two errno macros share a
 * value (EAGAIN/EWOULDBLOCK, ENOTSUP/EOPNOTSUPP) only one is listed. */
static const struct errinfo errtab[] = {
	{SK_EAGAIN, "EAGAIN", "resource temporarily unavailable"},
	{SK_ENOMEM, "ENOMEM", "out of memory"},
	{SK_EINVAL, "EINVAL", "invalid argument"},
	{SK_EBADF, "EBADF", "bad file descriptor"},
	{SK_EBUSY, "EBUSY", "resource busy"},
	{SK_EEXIST, "EEXIST", "already exists"},
	{SK_ENOENT, "ENOENT", "no such file or directory"},
	{SK_EMFILE, "EMFILE", "too many open files"},
	{SK_ENOBUFS, "ENOBUFS", "no buffer space available"},
	{SK_EMSGSIZE, "EMSGSIZE", "message too long"},
	{SK_EPIPE, "EPIPE", "broken pipe"},
	{SK_ENOTSUP, "ENOTSUP", "operation not supported"},
	{SK_EAFNOSUPPORT, "EAFNOSUPPORT", "address family not supported"},
	{SK_EADDRINUSE, "EADDRINUSE", "address already in use"},
	{SK_EADDRNOTAVAIL, "EADDRNOTAVAIL", "address not available"},
	{SK_ECONNREFUSED, "ECONNREFUSED", "connection refused"},
	{SK_ECONNRESET, "ECONNRESET", "connection reset by peer"},
	{SK_ECONNABORTED, "ECONNABORTED", "connection aborted"},
	{SK_ETIMEDOUT, "ETIMEDOUT", "connection timed out"},
	{SK_ENETUNREACH, "ENETUNREACH", "network is unreachable"},
	{SK_EHOSTUNREACH, "EHOSTUNREACH", "host is unreachable"},
	{SK_ENOTCONN, "ENOTCONN", "socket is not connected"},
	{SK_ECANCELED, "ECANCELED", "operation canceled"},
	{SK_EPROTO, "EPROTO", "protocol error"},
	{SK_ESHUTDOWN, "ESHUTDOWN", "cannot send after shutdown"},
	{SK_EACCES, "EACCES", "permission denied"},
	{SK_EIO, "EIO", "input/output error"},
	/* sockit's own */
	{SK_EOF, "EOF", "closed by peer"},
	{SK_ELINETOOLONG, "ELINETOOLONG", "line too long"},
	{SK_EFRAMETOOBIG, "EFRAMETOOBIG", "frame too big"},
	{SK_EDNS, "EDNS", "host not found"},
	{SK_ENODATA, "ENODATA", "no address for that family"},
	{SK_ETLS, "ETLS", "TLS protocol error"},
	{SK_ECERT, "ECERT", "certificate verification failed"},
	{SK_ELIMIT, "ELIMIT", "connection limit reached"},
	{SK_EBADADDR, "EBADADDR", "invalid address"},
	{SK_EBACKEND, "EBACKEND", "event backend not available"},
	/* errno values a socket program commonly meets, for nicer names */
	{-EINTR, "EINTR", "interrupted system call"},
	{-EPERM, "EPERM", "operation not permitted"},
	{-ENFILE, "ENFILE", "too many open files in system"},
	{-EINPROGRESS, "EINPROGRESS", "operation in progress"},
	{-EALREADY, "EALREADY", "operation already in progress"},
	{-EISCONN, "EISCONN", "socket is already connected"},
	{-ENOTSOCK, "ENOTSOCK", "not a socket"},
	{-ENOSPC, "ENOSPC", "no space left on device"},
	{-ENETDOWN, "ENETDOWN", "network is down"},
	{-EPROTONOSUPPORT, "EPROTONOSUPPORT", "protocol not supported"},
	{-ERANGE, "ERANGE", "result out of range"},
	{-ENOSYS, "ENOSYS", "function not implemented"},
	{-EIO, "EIO", "input/output error"},
};

static const struct errinfo *lookup(int err)
{
	for (size_t i = 0; i < sizeof errtab / sizeof errtab[0]; i++)
		if (errtab[i].code == err)
			return &errtab[i];
	return NULL;
}

#define NSLOTS 4

/* Words from the C library for an errno we have no row for.  The result is
 * copied into the next per-thread slot and its first letter lowercased to
 * match the table's style.  NULL when the C library does not know it. */
static const char *libc_words(int e)
{
	static _Thread_local char slots[NSLOTS][128];
	static _Thread_local unsigned next;
	char *tbuf = slots[next++ % NSLOTS];
	const size_t tsize = sizeof slots[0];
	const char *s;

#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	/* GNU strerror_r returns a pointer, maybe not into tbuf. */
	s = strerror_r(e, tbuf, tsize);
#else
	if (strerror_r(e, tbuf, tsize) != 0)
		return NULL;
	s = tbuf;
#endif
	if (s == NULL || *s == '\0' || strncmp(s, "Unknown error", 13) == 0 ||
	    strncmp(s, "No error information", 20) == 0)
		return NULL;
	if (s != tbuf) {
		size_t n = strlen(s);
		if (n >= tsize)
			n = tsize - 1;
		memmove(tbuf, s, n);
		tbuf[n] = '\0';
	}
	/* "Connection refused" -> "connection refused", but keep acronyms
	 * such as "RPC struct is bad" intact. */
	if (isupper((unsigned char)tbuf[0]) && !isupper((unsigned char)tbuf[1]))
		tbuf[0] = (char)tolower((unsigned char)tbuf[0]);
	return tbuf;
}

const char *sk_strerror(int err)
{
	const struct errinfo *e;
	const char *s;

	if (err >= 0)
		return "success";
	if ((e = lookup(err)) != NULL)
		return e->words;
	/* -errno for a plausible errno; INT_MIN cannot be negated. */
	if (err > -4096 && (s = libc_words(-err)) != NULL)
		return s;
	return "unknown error";
}

const char *sk_errname(int err)
{
	const struct errinfo *e;

	if (err == 0)
		return "OK";
	if ((e = lookup(err)) != NULL)
		return e->name;
	return "UNKNOWN";
}

const char *sk_version(void)
{
	return SK_VERSION_STRING;
}
