/* sockit/version.h - library version. */
#ifndef SOCKIT_VERSION_H
#define SOCKIT_VERSION_H

#define SK_VERSION_MAJOR 0
#define SK_VERSION_MINOR 1
#define SK_VERSION_PATCH 0
#define SK_VERSION_HEX                                                         \
	((SK_VERSION_MAJOR << 16) | (SK_VERSION_MINOR << 8) | SK_VERSION_PATCH)
#define SK_VERSION_STRING "0.1.0"

#endif
