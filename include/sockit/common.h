/* sockit/common.h - export and attribute macros shared by every header. */
#ifndef SOCKIT_COMMON_H
#define SOCKIT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define SK_EXPORT __attribute__((visibility("default")))
#define SK_NODISCARD __attribute__((warn_unused_result))
#define SK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SK_EXPORT
#define SK_NODISCARD
#define SK_PRINTF(f, a)
#endif

#endif
