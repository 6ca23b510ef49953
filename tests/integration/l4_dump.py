#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Print the configuration maps of a pin directory as one canonical JSON document, read with
# bpftool: lb_node, lb_services, lb_backends, lb_src_rate, and every service's Maglev table or ketama ring
# by content (the inner maps' ids change on every publication; with --ids they are printed
# too, to tell whether a table was republished). A backend's marked_by/marked_at (who last
# changed its state, and when) are history, not configuration: left out.
# usage: l4_dump.py PIN_DIR [--ids]
import json
import subprocess
import sys

pin = sys.argv[1]
ids = "--ids" in sys.argv[2:]


def dump(*args):
    out = subprocess.run(["bpftool", "-j", "map", "dump", *args], check=True,
                         capture_output=True, text=True).stdout
    # With BTF, -j gives raw bytes and a "formatted" entry with the named fields.
    return [e.get("formatted", e) for e in json.loads(out)]


def outer(name):
    # Map-in-map values are raw inner map ids, as a list of hex bytes (little endian).
    res = {}
    for e in dump("pinned", f"{pin}/{name}"):
        key = e["key"] if isinstance(e["key"], int) else int.from_bytes(
            bytes(int(b, 16) for b in e["key"]), "little")
        val = e.get("value", e.get("inner_map_id"))
        if isinstance(val, list):
            val = int.from_bytes(bytes(int(b, 16) for b in val), "little")
        res[key] = val
    return res


doc = {
    "lb_node": dump("pinned", f"{pin}/lb_node"),
    "lb_services": sorted(dump("pinned", f"{pin}/lb_services"), key=json.dumps),
    "lb_backends": [e for e in dump("pinned", f"{pin}/lb_backends") if e["value"]["family"]],
    # The per-source new-flow guards (syn_rate) of the services that have one.
    "lb_src_rate": [e for e in dump("pinned", f"{pin}/lb_src_rate") if e["value"]["rate"]],
}
for e in doc["lb_backends"]:
    for k in ("marked_by", "marked_at"):
        e["value"].pop(k)
for name in ("lb_maglev", "lb_ring"):
    tables = {}
    for key, inner in sorted(outer(name).items()):
        tables[key] = {"table": [e["value"] for e in dump("id", str(inner))]}
        if ids:
            tables[key]["map_id"] = inner
    doc[name] = tables
json.dump(doc, sys.stdout, indent=1, sort_keys=True)
print()
