/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's process: command line, config, workers, signals, reload and upgrade (pingd.c). */
#ifndef USERSPACE_PINGD_PINGD_H
#define USERSPACE_PINGD_PINGD_H

/* Exit code of a command-line usage error (0: success, 1: failure). */
#define EXIT_USAGE 2

/* Run pingd with <argv> until it stops; returns the process exit code. The hooks the streams
 * call are set beforehand with stream_set_ops(). */
int pingd_main(int argc, char **argv);

#endif /* USERSPACE_PINGD_PINGD_H */
