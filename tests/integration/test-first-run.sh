#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A first run on a fresh machine, and state left by earlier runs: make installs the packages
# before it reads the rules that name their files; a fresh tree runs `make demo` where bpffs is
# not mounted; pingctl and pingd mount bpffs and say so; severed links are replaced; two
# namespaces' interfaces of one name do not share a pin; `pingctl unload` removes everything;
# every invalid option value is a usage error. The bpffs cases run in private mount namespaces
# (unshare -m), so the machine's own /sys/fs/bpf is never touched.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_deps_before_rules test_fresh_tree_demo_without_bpffs test_pingctl_mounts_bpffs \
	test_pingd_mounts_bpffs test_severed_link_replaced test_netns_recreated \
	test_same_ifname_two_namespaces test_unload test_unload_all test_usage_exit_codes"

PX=px-fr-$$
PIN=/sys/fs/bpf/$PX
PY=/usr/bin/python3

# Run "$@" in a private mount namespace where /sys/fs/bpf has nothing mounted on it.
without_bpffs() {
	unshare -m --propagation private bash -c '
		while [ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]; do
			umount /sys/fs/bpf || exit 99
		done
		exec "$@"' bash "$@"
}

# A veth pair eth0/eth1 in a new namespace $1, both up.
veth_ns() {
	netns_add "$1" || return 1
	ip -n "$1" link add eth0 type veth peer name eth1 || return 1
	ip -n "$1" link set eth0 up && ip -n "$1" link set eth1 up
}

# The XDP program id on interface $2 of namespace $1 (empty when none).
xdp_id() {
	ip -n "$1" -j -d link show dev "$2" | $PY -c '
import json, sys
l = json.load(sys.stdin)[0]
print(l.get("xdp", {}).get("prog", {}).get("id", ""))'
}

# The link rows of `pingctl status -j` for pin directory $1, seen from namespace $2, as
# "ifname netns state kind" lines.
links() {
	nsx "$2" "$O/pingctl" --bpffs "$1" -j status | $PY -c '
import json, sys
for a in json.load(sys.stdin)["attached"]:
    print(a["interface"], a["netns"], a["state"], a["kind"])'
}

# The packages are installed before make reads a rule naming one of their files. A stand-in
# install script "installs" llhttp's sources into a directory that does not exist yet; the
# first make must build llhttp from there (before the fix: "No rule to make target").
test_deps_before_rules() {
	local t out
	t=$(mktemp -d /tmp/pingx-fr.XXXXXX) && on_exit "rm -rf $t"
	cat >"$t/deps.sh" <<EOF
#!/usr/bin/env bash
if [ "\${1:-}" = --check ]; then
	[ -f "$t/llhttp/llhttp.c" ] || { echo "missing: llhttp" >&2; exit 1; }
	exit 0
fi
echo "stand-in install: llhttp"
mkdir -p "$t/llhttp" && cp /usr/share/llhttp/*.c "$t/llhttp/"
EOF
	[ -f /usr/share/llhttp/llhttp.c ] || { fail "node-llhttp is not installed"; return 1; }
	out=$(make -C "$PINGX_TOP" --no-print-directory O="$t/build" DEPS_SH="$t/deps.sh" \
		LLHTTP_SRC="$t/llhttp" "$t/build/llhttp/libllhttp.a" 2>&1)
	[ $? = 0 ] || { fail "first make failed: $out"; return 1; }
	echo "$out" | head -1 | grep -q "stand-in install" || { fail "the install did not come first: $out"; return 1; }
	[ -f "$t/build/llhttp/libllhttp.a" ] || { fail "llhttp not built"; return 1; }
	# Once installed, make does not run the install script again.
	out=$(make -C "$PINGX_TOP" --no-print-directory O="$t/build" DEPS_SH="$t/deps.sh" \
		LLHTTP_SRC="$t/llhttp" "$t/build/llhttp/libllhttp.a" 2>&1)
	! echo "$out" | grep -q "stand-in install" || { fail "installed again: $out"; return 1; }
	# clean and help need no packages at all.
	make -C "$PINGX_TOP" --no-print-directory O="$t/other" DEPS_SH=/nonexistent help >/dev/null ||
		{ fail "make help needs the install script"; return 1; }
	log "first make: $(echo "$out" | wc -l) lines, the install first"
}

# A fresh tree (the tracked files only, no build/) on a machine where bpffs is not mounted:
# one `make demo` builds everything and runs the demo, mounting bpffs on the way.
test_fresh_tree_demo_without_bpffs() {
	local t out ns=pxfr$$
	need_root || return
	t=$(mktemp -d /tmp/pingx-fr.XXXXXX) && on_exit "rm -rf $t"
	(cd "$PINGX_TOP" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$t" 2>/dev/null)
	[ -f "$t/Makefile" ] && [ ! -e "$t/build" ] || { fail "copying the tree failed"; return 1; }
	on_exit "for n in \$(ip netns list | awk '{print \$1}' | grep '^$ns-'); do ip netns del \$n; done"
	out=$(cd "$t" && without_bpffs env MAKEFLAGS=-j2 DEMO_NS=$ns REQUESTS=30 make demo 2>&1)
	[ $? = 0 ] || { fail "make demo failed"; echo "$out" | tail -30; return 1; }
	echo "$out" | grep -q 'mounted bpffs at /sys/fs/bpf' || { fail "no word on mounting bpffs"; echo "$out" | tail -30; return 1; }
	echo "$out" | grep -q '^   answered: 30 of 30$' || { fail "not all answered"; echo "$out" | tail -30; return 1; }
	[ -z "$(ip netns list | grep "^$ns-")" ] || { fail "namespaces left"; return 1; }
	log "$(echo "$out" | grep 'mounted bpffs')"
}

# pingctl mounts bpffs when a command needs to create pins, and says so in one line.
test_pingctl_mounts_bpffs() {
	local out
	need_root || return
	out=$(without_bpffs sh -c "'$O/pingctl' --bpffs $PIN/a service add 192.0.2.1:80 &&
		'$O/pingctl' --bpffs $PIN/a service list && stat -f -c %T /sys/fs/bpf" 2>&1)
	[ $? = 0 ] || { fail "service add without bpffs: $out"; return 1; }
	echo "$out" | grep -qx 'mounted bpffs at /sys/fs/bpf' || { fail "no word on mounting: $out"; return 1; }
	[ "$(echo "$out" | grep -c 'mounted bpffs')" = 1 ] || { fail "said more than once: $out"; return 1; }
	echo "$out" | grep -q '^192.0.2.1:80/tcp' || { fail "service not there: $out"; return 1; }
	[ ! -e "$PIN/a" ] || { fail "the private mount's pins showed outside it"; return 1; }
	log "$(echo "$out" | head -1)"
}

# pingd, given an l4: section, mounts bpffs when missing and says so; without maps it then
# stops with the usual error.
test_pingd_mounts_bpffs() {
	local cfg out
	need_root || return
	cfg=$(mktemp) && on_exit "rm -f $cfg"
	cat >"$cfg" <<EOF
listeners:
  - address: 127.0.0.1:1
upstreams:
  - name: none
    servers:
      - address: 127.0.0.1:2
virtual_hosts:
  - name: main
    hosts: '*'
    routes:
      - path: /
        upstream: none
l4_pin_dir: $PIN/none
l4:
  services:
    - address: '192.0.2.1:80'
      backends:
        - address: '10.0.0.1'
EOF
	out=$(without_bpffs timeout 10 "$O/pingd" -c "$cfg" 2>&1)
	[ $? = 1 ] || { fail "pingd: $out"; return 1; }
	echo "$out" | grep -q 'l4: mounted bpffs at /sys/fs/bpf' || { fail "no word on mounting: $out"; return 1; }
	echo "$out" | grep -q "no pingx maps in $PIN/none" || { fail "no error on the maps: $out"; return 1; }
	log "$(echo "$out" | grep 'mounted bpffs')"
}

# The interface goes away and comes back (a veth re-created): the link pinned for it is
# severed, status says so, and attach replaces it. Likewise for the decapsulation program.
test_severed_link_replaced() {
	local ns=$PX-s out
	need_root || return
	on_exit "$O/pingctl --bpffs $PIN unload"
	veth_ns $ns || return 1
	nsx $ns "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic || return 1
	nsx $ns "$O/pingctl" --bpffs "$PIN/d" decap attach eth1 --mode generic || return 1
	ip -n $ns link del eth0 # takes eth1 with it
	[ "$(links "$PIN" $ns)" = "eth0 $ns severed balancer" ] || { fail "status: $(links "$PIN" $ns)"; return 1; }
	nsx $ns "$O/pingctl" --bpffs "$PIN" status | grep -Eq "^eth0 +$ns +[0-9]+ +unknown +severed +balancer$" ||
		{ fail "status rows: $(nsx $ns "$O/pingctl" --bpffs "$PIN" status)"; return 1; }
	ip -n $ns link add eth0 type veth peer name eth1 && ip -n $ns link set eth0 up &&
		ip -n $ns link set eth1 up || return 1
	out=$(nsx $ns "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic 2>&1) ||
		{ fail "attach over a severed link: $out"; return 1; }
	echo "$out" | grep -q 'eth0: replaced 1 severed link' || { fail "no word: $out"; return 1; }
	[ "$(links "$PIN" $ns)" = "eth0 $ns attached balancer" ] || { fail "status: $(links "$PIN" $ns)"; return 1; }
	[ -n "$(xdp_id $ns eth0)" ] || { fail "no program on eth0"; return 1; }
	out=$(nsx $ns "$O/pingctl" --bpffs "$PIN/d" decap attach eth1 --mode generic 2>&1) ||
		{ fail "decap attach over a severed link: $out"; return 1; }
	[ "$(links "$PIN/d" $ns)" = "eth1 $ns attached decap" ] || { fail "decap status: $(links "$PIN/d" $ns)"; return 1; }
	[ -n "$(xdp_id $ns eth1)" ] || { fail "no program on eth1"; return 1; }
	nsx $ns "$O/pingctl" --bpffs "$PIN" detach eth0 || { fail "detach"; return 1; }
	[ -z "$(xdp_id $ns eth0)" ] || { fail "still attached"; return 1; }
	log "$out"
}

# The namespace is deleted and created again under the same name (a container restarted):
# attach there works, and only the new link is left pinned for the interface.
test_netns_recreated() {
	local ns=$PX-r out i
	need_root || return
	on_exit "$O/pingctl --bpffs $PIN unload"
	veth_ns $ns || return 1
	nsx $ns "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic || return 1
	ip netns del $ns
	# The kernel tears a deleted namespace's devices down in the background: wait until the
	# link is severed, as it is by the time a container runtime creates the namespace again.
	for i in $(seq 1 100); do
		"$O/pingctl" --bpffs "$PIN" status | grep -Eq '^eth0 .* severed +balancer$' && break
		sleep 0.1
	done
	"$O/pingctl" --bpffs "$PIN" status | grep -Eq '^eth0 .* severed +balancer$' ||
		{ fail "the link was not severed: $("$O/pingctl" --bpffs "$PIN" status)"; return 1; }
	veth_ns $ns || return 1
	out=$(nsx $ns "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic 2>&1) ||
		{ fail "attach in the new namespace: $out"; return 1; }
	[ "$(links "$PIN" $ns)" = "eth0 $ns attached balancer" ] || { fail "status: $(links "$PIN" $ns)"; return 1; }
	[ "$(ls "$PIN" | grep -c '^link_xdp_eth0')" = 1 ] || { fail "pins: $(ls "$PIN")"; return 1; }
	[ -n "$(xdp_id $ns eth0)" ] || { fail "no program on eth0"; return 1; }
}

# Two namespaces, each with an eth0, one pin directory: both attach, status tells them apart,
# and detaching one leaves the other.
test_same_ifname_two_namespaces() {
	local a=$PX-a b=$PX-b want
	need_root || return
	on_exit "$O/pingctl --bpffs $PIN unload"
	veth_ns $a && veth_ns $b || return 1
	nsx $a "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic || return 1
	nsx $b "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic || { fail "second eth0"; return 1; }
	[ -n "$(xdp_id $a eth0)" ] && [ -n "$(xdp_id $b eth0)" ] || { fail "not on both"; return 1; }
	want=$(printf 'eth0 %s attached balancer\neth0 %s attached balancer' $a $b | sort)
	[ "$(links "$PIN" $a | sort)" = "$want" ] || { fail "status: $(links "$PIN" $a)"; return 1; }
	# Attaching again in one namespace replaces that one's program only.
	local ida idb
	ida=$(xdp_id $a eth0) idb=$(xdp_id $b eth0)
	nsx $a "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic || return 1
	[ "$(xdp_id $a eth0)" != "$ida" ] && [ "$(xdp_id $b eth0)" = "$idb" ] ||
		{ fail "re-attach in $a touched $b"; return 1; }
	nsx $a "$O/pingctl" --bpffs "$PIN" detach eth0 || { fail "detach in $a"; return 1; }
	[ -z "$(xdp_id $a eth0)" ] && [ "$(xdp_id $b eth0)" = "$idb" ] || { fail "detach in $a touched $b"; return 1; }
	[ "$(links "$PIN" $b)" = "eth0 $b attached balancer" ] || { fail "status after: $(links "$PIN" $b)"; return 1; }
	log "$(nsx $a "$O/pingctl" --bpffs "$PIN" status | tail -2)"
}

# unload: every link of the pin directory (in any namespace, severed ones too) is detached,
# and every pin and the directory go; a directory with no pingx pins is refused.
test_unload() {
	local a=$PX-ua b=$PX-ub out ids id n
	need_root || return
	on_exit "$O/pingctl --bpffs $PIN unload"
	veth_ns $a && veth_ns $b || return 1
	nsx $a "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic || return 1
	nsx $b "$O/pingctl" --bpffs "$PIN" attach eth0 --mode generic || return 1
	nsx $b "$O/pingctl" --bpffs "$PIN/decap" decap attach eth1 --mode generic || return 1
	"$O/pingctl" --bpffs "$PIN" service add 192.0.2.1:80 || return 1
	ids=$(for d in "$PIN" "$PIN/decap"; do "$O/pingctl" --bpffs "$d" -j status; echo; done | $PY -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        print(" ".join(str(a["prog_id"]) for a in json.loads(line)["attached"]))')
	n=$(find "$PIN" -type f | wc -l) # the maps, lb_decap_stats and the 3 links
	out=$("$O/pingctl" --bpffs "$PIN" unload 2>&1) || { fail "unload: $out"; return 1; }
	[ "$out" = "detached 3 links, removed $((n - 3)) pins and 2 directories" ] ||
		{ fail "unload said: $out ($n files were pinned)"; return 1; }
	[ ! -e "$PIN" ] || { fail "$PIN left: $(ls -R "$PIN")"; return 1; }
	[ -z "$(xdp_id $a eth0)$(xdp_id $b eth0)$(xdp_id $b eth1)" ] || { fail "programs left"; return 1; }
	for id in $ids; do
		! bpftool prog show id "$id" >/dev/null 2>&1 || { fail "program $id still loaded"; return 1; }
	done
	out=$("$O/pingctl" --bpffs "$PIN" unload 2>&1) || { fail "second unload: $out"; return 1; }
	mkdir -p "$PIN-other" && on_exit "rmdir $PIN-other"
	out=$("$O/pingctl" --bpffs "$PIN-other" unload 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "holds no pingx pins" || { fail "foreign directory: $out"; return 1; }
	[ -d "$PIN-other" ] || { fail "foreign directory removed"; return 1; }
	log "$out"
}

# unload --all, in a bpffs of its own: every pingx pin directory goes, anything else stays.
test_unload_all() {
	local out n
	need_root || return
	out=$(unshare -m --propagation private sh -c "
		mount -t bpf bpf /sys/fs/bpf || exit 99
		'$O/pingctl' --bpffs /sys/fs/bpf/pingx service add 192.0.2.1:80 >/dev/null &&
		'$O/pingctl' --bpffs /sys/fs/bpf/two/lb service add 192.0.2.2:80 >/dev/null &&
		mkdir /sys/fs/bpf/other &&
		bpftool map create /sys/fs/bpf/other/m type array key 4 value 4 entries 1 name m &&
		echo pinned \$(find /sys/fs/bpf/pingx /sys/fs/bpf/two -type f | wc -l) &&
		'$O/pingctl' unload --all && ls /sys/fs/bpf /sys/fs/bpf/other" 2>&1)
	[ $? = 0 ] || { fail "unload --all: $out"; return 1; }
	n=$(echo "$out" | awk '/^pinned / {print $2}')
	echo "$out" | grep -q "^detached 0 links, removed $n pins and 3 directories$" ||
		{ fail "unload --all said: $out"; return 1; }
	! echo "$out" | grep -Eqx 'pingx|two' || { fail "pin directories left: $out"; return 1; }
	echo "$out" | grep -qx 'm' || { fail "a foreign pin was removed: $out"; return 1; }
	log "$(echo "$out" | head -1)"
}

# Every invalid option value is a usage error: exit status 2, one line naming it, a hint, and
# the maps as they were.
test_usage_exit_codes() {
	local before after args out rc bad=0
	need_root || return
	on_exit "$O/pingctl --bpffs $PIN unload"
	"$O/pingctl" --bpffs "$PIN" service add 192.0.2.11:80 >/dev/null || return 1
	"$O/pingctl" --bpffs "$PIN" backend add 192.0.2.11:80 10.0.0.1 >/dev/null || return 1
	before=$(bpftool map dump pinned "$PIN/lb_services"; bpftool map dump pinned "$PIN/lb_backends")
	while IFS= read -r args; do
		[ -n "$args" ] || continue
		out=$(eval "'$O/pingctl' --bpffs '$PIN' $args" 2>&1)
		rc=$?
		if [ $rc != 2 ] || [ "$(echo "$out" | wc -l)" -gt 2 ] || ! echo "$out" | head -1 | grep -q '^pingctl: '; then
			fail "pingctl $args: exit $rc: $out"
			bad=1
		fi
	done <<'EOF'
service add 192.0.2.12:80/tcp --table-size 65536
service add 192.0.2.12:80 --table-size 250
service add 192.0.2.12:80 --table-size x
service add 192.0.2.12:80 --algo random
service add 192.0.2.12:80 --fwd gre
service add 192.0.2.12:80 --mode l5
service add 192.0.2.12:80 --hash none
service add 192.0.2.12:80/sctp
service add 192.0.2.12:99999
service add 192.0.2:80
service set 192.0.2.11:80 --table-size 251
backend add 192.0.2.11:80 10.0.0.2 --weight -1
backend add 192.0.2.11:80 10.0.0.2 --weight 70000
backend add 192.0.2.11:80 10.0.0.2 --mac zz
backend add 192.0.2.11:80 10.0.0.2:70000
backend set 192.0.2.11:80 10.0.0.1 --weight x
backend set 192.0.2.11:80 10.0.0.1
node set --src4 1.2.3
node set --src4 fd00::1
node set --gateway-mac 11
node set --egress nosuch0
node set --mtu 10
node set --gue-port 0
node set --seed x
node set --udp-timeout -5
stats --watch 0
stats --count 2
conntrack list --limit 0
attach lo --mode fast
attach nosuch0
decap attach lo --gue-port 99999
unload --everything
EOF
	after=$(bpftool map dump pinned "$PIN/lb_services"; bpftool map dump pinned "$PIN/lb_backends")
	[ "$before" = "$after" ] || { fail "the maps changed"; bad=1; }
	return $bad
}

run_tests "$@"
