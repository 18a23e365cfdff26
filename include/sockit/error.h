/*
 * sockit/error.h - error codes.
 *
 * Every fallible call returns 0 (or a count) on success and a negative
 * SK_E* code on failure.  Codes that mirror a system error are -errno, so
 * SK_ECONNREFUSED == -ECONNREFUSED on the platform the library was built
 * for.  Codes that have no errno equivalent live at -1000 and below and are
 * never renumbered.  SK_EAGAIN is an outcome ("not now"), not a failure.
 */
#ifndef SOCKIT_ERROR_H
#define SOCKIT_ERROR_H

#include <errno.h>

#include "common.h"

#define SK_OK 0
#define SK_EAGAIN (-EAGAIN)
#define SK_ENOMEM (-ENOMEM)
#define SK_EINVAL (-EINVAL)
#define SK_EBADF (-EBADF)
#define SK_EBUSY (-EBUSY)
#define SK_EEXIST (-EEXIST)
#define SK_ENOENT (-ENOENT)
#define SK_EMFILE (-EMFILE)
#define SK_ENOBUFS (-ENOBUFS)
#define SK_EMSGSIZE (-EMSGSIZE)
#define SK_EPIPE (-EPIPE)
#define SK_ENOTSUP (-ENOTSUP)
#define SK_EAFNOSUPPORT (-EAFNOSUPPORT)
#define SK_EADDRINUSE (-EADDRINUSE)
#define SK_EADDRNOTAVAIL (-EADDRNOTAVAIL)
#define SK_ECONNREFUSED (-ECONNREFUSED)
#define SK_ECONNRESET (-ECONNRESET)
#define SK_ECONNABORTED (-ECONNABORTED)
#define SK_ETIMEDOUT (-ETIMEDOUT)
#define SK_ENETUNREACH (-ENETUNREACH)
#define SK_EHOSTUNREACH (-EHOSTUNREACH)
#define SK_ENOTCONN (-ENOTCONN)
#define SK_ECANCELED (-ECANCELED)
#define SK_EPROTO (-EPROTO)
#define SK_ESHUTDOWN (-ESHUTDOWN)
#define SK_EACCES (-EACCES)
#define SK_EIO (-EIO)

/* sockit's own codes; never renumbered. */
#define SK_EOF (-1000)         /* closed by peer */
#define SK_ELINETOOLONG (-1001) /* a line exceeded the framing limit */
#define SK_EFRAMETOOBIG (-1002) /* a length-prefixed frame exceeded its limit */
#define SK_EDNS (-1003)        /* name resolution failed (no such host, ...) */
#define SK_ENODATA (-1004)     /* the name has no address of that family */
#define SK_ETLS (-1005)        /* TLS protocol error (see sk_conn_error_detail) */
#define SK_ECERT (-1006)       /* TLS certificate verification failed */
#define SK_ELIMIT (-1007)      /* a configured connection limit was reached */
#define SK_EBADADDR (-1008)    /* an address string could not be parsed */
#define SK_EBACKEND (-1009)    /* the requested loop backend is not available */

#ifdef __cplusplus
extern "C" {
#endif

/* Words for a code: "connection refused", "connection reset by peer", ...
 * Never NULL; unknown codes give "unknown error". */
SK_EXPORT const char *sk_strerror(int err);

/* Symbolic name of a code, e.g. "ECONNREFUSED"; "UNKNOWN" if none. */
SK_EXPORT const char *sk_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
