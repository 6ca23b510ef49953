// SPDX-License-Identifier: GPL-2.0
/* pingd: libpingx with its built-in, config-driven hooks. */
#include <stddef.h>

#include "pingx/pingx.h"

int main(int argc, char **argv)
{
	return pingx_run(argc, argv, NULL, NULL);
}
