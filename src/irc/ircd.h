/*
 * src/irc/ircd.h - `sockit ircd`, the IRC server (see docs/ircd.md).
 */
#ifndef SK_IRC_IRCD_H
#define SK_IRC_IRCD_H

/* argv[0] is "ircd".  Returns the exit code: 0 clean shutdown, 1 runtime
 * error, 2 usage error. */
int ircd_main(int argc, char **argv);

#endif
