/*
 * src/bt/bt.h - the `sockit bt` command (BitTorrent) and its subcommands.
 *
 * bt_main() is what src/main.c calls with argv[0] = "bt"; it dispatches on
 * argv[1].  Each subcommand gets argv[0] = its own name, parses its own
 * options, answers --help and returns the exit code: 0 ok, 1 runtime
 * error, 2 usage error.
 */
#ifndef SK_BT_BT_H
#define SK_BT_BT_H

int bt_main(int argc, char **argv);

int bt_cmd_create(int argc, char **argv); /* create.c */
int bt_cmd_info(int argc, char **argv);   /* info.c */
int bt_cmd_tracker(int argc, char **argv); /* tracker_srv.c */
int bt_cmd_get(int argc, char **argv);     /* get.c */
int bt_cmd_seed(int argc, char **argv);    /* get.c */

/* Free the SIGINT/SIGTERM watchers at exit, holding further stop signals. */
#include <sockit/loop.h>
void bt_stop_signals_free(sk_signal *sig[2]);

#endif
