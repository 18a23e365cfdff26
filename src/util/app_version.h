#ifndef SK_APP_VERSION_H
#define SK_APP_VERSION_H
const char *sk_app_version(void);
#endif
