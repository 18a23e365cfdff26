/* sockit/sockit.h - the whole public API of libsockit. */
#ifndef SOCKIT_H
#define SOCKIT_H

#include "addr.h"
#include "buf.h"
#include "common.h"
#include "conn.h"
#include "dgram.h"
#include "error.h"
#include "loop.h"
#include "resolve.h"
#include "tls.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif
SK_EXPORT const char *sk_version(void);
#ifdef __cplusplus
}
#endif
#endif
