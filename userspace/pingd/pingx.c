// SPDX-License-Identifier: GPL-2.0
/* libpingx's entry point: pingd's engine with a custom hook table. */
#include "pingx/pingx.h"

#include <stdio.h>

#include "userspace/pingd/pingd.h"
#include "userspace/proxy/stream.h"

int pingx_run(int argc, char **argv, const struct pingx_proxy_ops *ops, void *user_data)
{
	if (ops && !ops->upstream_peer) {
		/* A programming error of the custom proxy, reported as a usage error. */
		fprintf(stderr, "%s: pingx_run: the ops table has no upstream_peer hook\n",
			argc > 0 ? argv[0] : "pingx");
		return EXIT_USAGE;
	}
	stream_set_ops(ops, user_data);
	return pingd_main(argc, argv);
}
