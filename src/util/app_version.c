/* app_version.c - the version of the sockit program (one place). */
#include "util/app_version.h"

const char *sk_app_version(void) { return "0.1.0"; }
