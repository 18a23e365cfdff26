/*
 * src/cat/cat.h - `sockit cat`, the socket Swiss-army knife (netcat with
 * TLS, Unix sockets, a chat broker, program execution and a socat-style
 * relay), built only on libsockit.  See docs/cat.md.
 */
#ifndef SK_CAT_CAT_H
#define SK_CAT_CAT_H

/* argv[0] is "cat".  Returns the exit code: 0 clean end, 1 runtime error
 * (with a message on stderr naming the cause), 2 usage error. */
int cat_main(int argc, char **argv);

#endif
