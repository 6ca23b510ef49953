// SPDX-License-Identifier: GPL-2.0
/* pingctl: the command-line tool. Grammar: pingctl [OPTIONS] OBJECT COMMAND [ARGS]. */
#include "ctl/main.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bin_name = "pingctl";
bool json_output;
bool pretty_output;
int verbose;
const char *bpffs_dir = PINGX_PIN_DIR;
struct json_writer *json_wtr;

bool is_help(const char *arg)
{
	return !strcmp(arg, "help") || !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

void p_err(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "error", buf);
		jsonw_end_object(json_wtr);
	} else {
		fprintf(stderr, "%s: %s\n", bin_name, buf);
	}
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	if (json_output)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_err(const char *help_cmd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p_err("%s", buf);
	if (!json_output)
		fprintf(stderr, "Try '%s %s'.\n", bin_name, help_cmd);
	return -CTL_EUSAGE;
}

int cmd_select(const struct cmd *cmds, int argc, char **argv, int (*help)(int argc, char **argv))
{
	const struct cmd *match = NULL;
	size_t len;
	int n = 0;

	if (argc < 1)
		return help(argc, argv);
	if (is_help(argv[0]))
		return help(argc - 1, argv + 1);
	len = strlen(argv[0]);
	for (const struct cmd *c = cmds; c->name; c++) {
		if (!strcmp(c->name, argv[0]))
			return c->fn(argc - 1, argv + 1);
		/* Abbreviations count only when unique. */
		if (len && !strncmp(c->name, argv[0], len)) {
			match = c;
			n++;
		}
	}
	if (n == 1)
		return match->fn(argc - 1, argv + 1);
	if (n > 1)
		return usage_err("help", "'%s' is ambiguous", argv[0]);
	return usage_err("help", "unknown command '%s'", argv[0]);
}

static int do_help(int argc, char **argv)
{
	printf("Usage: %s [OPTIONS] OBJECT COMMAND [ARGS]\n"
	       "       %s help | version\n"
	       "\n"
	       "       %s { attach IFACE | detach IFACE | status | unload | save | restore FILE }\n"
	       "\n"
	       "OBJECT := { service | backend | node | table | stats | conntrack | deny | decap | hash | cache }\n"
	       "OPTIONS := { -j|--json  -p|--pretty  -v|--verbose  -h|--help  -V|--version\n"
	       "             --bpffs DIR }\n"
	       "\n"
	       "  service    the data plane's services (VIP, port, protocol)\n"
	       "  backend    the backends of a service, their weights and states\n"
	       "  node       per-node settings: outer sources, next hop, MTU; drain, ready\n"
	       "  table      digests of the services' tables, to compare nodes\n"
	       "  stats      packets, bytes and flows; pass and drop reasons\n"
	       "  conntrack  the flow table\n"
	       "  deny       source prefixes dropped before any service lookup\n"
	       "  decap      the backend-side decapsulation program\n"
	       "  hash       where a key goes: Maglev or ketama over a backend list\n"
	       "  cache      pingd's HTTP caches: stats, purge (through its admin listener)\n"
	       "  save       print the configuration as YAML; restore FILE applies one\n"
	       "  unload     remove every link and pin pingx left in the kernel\n"
	       "\n"
	       "'%s OBJECT help' shows an object's commands. Abbreviations are accepted when\n"
	       "unique. Exit status: 0 ok, 1 the operation failed, 2 usage error.\n",
	       bin_name, bin_name, bin_name, bin_name);
	return 0;
}

static int do_version(int argc, char **argv)
{
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "version", PINGX_VERSION);
		jsonw_end_object(json_wtr);
	} else {
		printf("%s %s\n", bin_name, PINGX_VERSION);
	}
	return 0;
}

static const struct cmd objects[] = {
	{"attach", do_attach},
	{"backend", do_backend},
	{"cache", do_cache},
	{"conntrack", do_conntrack},
	{"decap", do_decap},
	{"deny", do_deny},
	{"detach", do_detach},
	{"hash", do_hash},
	{"node", do_node},
	{"restore", do_restore},
	{"save", do_save},
	{"service", do_service},
	{"stats", do_stats},
	{"status", do_status},
	{"table", do_table},
	{"unload", do_unload},
	{"help", do_help},
	{"version", do_version},
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},    {"pretty", no_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'}, {"bpffs", required_argument, NULL, 'B'},
		{NULL, 0, NULL, 0},
	};
	int opt, err;

	/* '+': options end at OBJECT, so commands parse their own. */
	while ((opt = getopt_long(argc, argv, "+jpvhVB:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'p':
			json_output = true;
			pretty_output = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			return do_help(0, NULL);
		case 'V':
			return do_version(0, NULL);
		case 'B':
			bpffs_dir = optarg;
			break;
		default:
			fprintf(stderr, "Try '%s help'.\n", bin_name);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fprintf(stderr, "%s: missing OBJECT\nTry '%s help'.\n", bin_name, bin_name);
		return 2;
	}
	if (json_output) {
		json_wtr = jsonw_new(stdout, pretty_output);
		if (!json_wtr) {
			perror(bin_name);
			return 1;
		}
	}
	err = cmd_select(objects, argc, argv, do_help);
	if (json_wtr)
		jsonw_destroy(json_wtr);
	if (err == -CTL_EUSAGE)
		return 2;
	return err ? 1 : 0;
}
