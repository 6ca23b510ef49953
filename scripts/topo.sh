# SPDX-License-Identifier: GPL-2.0
# The L4 test bed shared by `make demo` and tests/integration: a client, the load balancer and
# N backends in network namespaces on one L2 segment (a bridge in the balancer's namespace;
# the balancer answers with XDP_TX out of its one interface lb0). Each backend holds the VIPs
# on lo, decapsulates with pingx's decap program and serves HTTP with its name (b1, b2, ...).
#
# Source this file after setting:
#   TOPO        namespace prefix: TOPO-c (client), TOPO-lb, TOPO-b1..N
#   TOPO_PINS   pin directory root for the backends' decapsulation links (removed by topo_down)
#   TOPO_LB_PIN the balancer's pin directory (pingctl --bpffs; removed by topo_down)
#   O           the build directory holding pingctl
# then call topo_up N (returns non-zero on failure) and topo_down (removes everything,
# also after a partial topo_up).

TOPO_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOPO_VIP4=10.201.100.1
TOPO_VIP6=fd00:201:100::1
TOPO_SERVE_SECONDS=${TOPO_SERVE_SECONDS:-3600}

# Run a command in a namespace without hiding /sys/fs/bpf (ip netns exec mounts a fresh
# sysfs where the bpffs is missing).
topo_nsx() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

# pingctl on the balancer.
topo_lbctl() { topo_nsx "$TOPO-lb" "$O/pingctl" --bpffs "$TOPO_LB_PIN" "$@"; }

# The MAC address of interface $2 in namespace $1.
topo_mac() {
	ip -n "$1" -j link show dev "$2" |
		python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["address"])'
}

# Backend i's address: topo_be_addr I [6]
topo_be_addr() { if [ "${2:-4}" = 6 ]; then echo "fd00:201::1$1"; else echo "10.201.0.1$1"; fi; }

# The namespaces of this topology (those that exist).
topo_namespaces() { ip netns list | awk -v p="$TOPO" '$1 == p"-c" || $1 == p"-lb" || $1 ~ "^"p"-b[0-9]+$" {print $1}'; }

topo_down() {
	local ns
	for ns in $(topo_namespaces); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	"$O/pingctl" --bpffs "$TOPO_PINS" unload >/dev/null 2>&1
	rm -rf "$TOPO_PINS" "$TOPO_LB_PIN" 2>/dev/null
	return 0
}

_topo_ns() {
	ip netns add "$1" && ip -n "$1" link set lo up
}

# Wait until backend I answers on port 80, seen from the client: at most 10 s.
_topo_wait_backend() {
	local tries=100
	while [ $tries -gt 0 ]; do
		topo_nsx "$TOPO-c" bash -c "exec 3<>/dev/tcp/$(topo_be_addr "$1")/80" 2>/dev/null &&
			return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	echo "topo: backend b$1 does not listen" >&2
	return 1
}

# Mount bpffs at /sys/fs/bpf when nothing is mounted there (minimal images and containers
# often lack it): the pin directories live on it.
topo_bpffs() {
	[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] && return 0
	mount -t bpf bpf /sys/fs/bpf || return 1
	echo "topo: mounted bpffs at /sys/fs/bpf"
}

topo_up() {
	local n=$1 i ns lb=$TOPO-lb c=$TOPO-c
	topo_bpffs || return 1
	mkdir -p "$TOPO_PINS" || return 1
	_topo_ns "$c" && _topo_ns "$lb" || return 1
	for i in $(seq 1 "$n"); do _topo_ns "$TOPO-b$i" || return 1; done

	# The balancer: lb0 is its only interface; its peer lb0-br is a port of br0. Without
	# arp_ignore the bridge answers ARP for lb0's address and the client bypasses XDP.
	# bpf_fib_lookup() answers only for interfaces that forward.
	ip netns exec "$lb" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || return 1
	ip -n "$lb" link add br0 type bridge || return 1
	ip -n "$lb" link set br0 mtu 1600 up
	ip netns exec "$lb" sh -c 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do
		[ -e $f ] && echo 0 > $f; done; true'
	ip -n "$lb" link add lb0 type veth peer name lb0-br || return 1
	ip -n "$lb" link set lb0-br master br0 mtu 1600 up
	ip -n "$lb" addr add 10.201.0.1/24 dev lb0
	ip -n "$lb" addr add fd00:201::1/64 dev lb0 nodad
	ip -n "$lb" link set lb0 mtu 1600 up

	# The client routes the VIPs to the balancer. No TX checksum offload: after XDP_TX the
	# backend would drop partial checksums.
	ip -n "$lb" link add veth-c type veth peer name eth0 netns "$c" || return 1
	ip -n "$lb" link set veth-c master br0 mtu 1600 up
	ip -n "$c" addr add 10.201.0.2/24 dev eth0
	ip -n "$c" addr add fd00:201::2/64 dev eth0 nodad
	ip -n "$c" link set eth0 up
	ip -n "$c" route add $TOPO_VIP4/32 via 10.201.0.1 || return 1
	ip -n "$c" -6 route add $TOPO_VIP6/128 via fd00:201::1 || return 1
	ip netns exec "$c" ethtool -K eth0 tx off >/dev/null || return 1

	for i in $(seq 1 "$n"); do
		ns=$TOPO-b$i
		ip -n "$lb" link add veth-b$i type veth peer name eth0 netns "$ns" || return 1
		ip -n "$lb" link set veth-b$i master br0 mtu 1600 up
		ip -n "$ns" addr add "$(topo_be_addr "$i")/24" dev eth0
		ip -n "$ns" addr add "$(topo_be_addr "$i" 6)/64" dev eth0 nodad
		ip -n "$ns" link set eth0 mtu 1600 up
		ip -n "$ns" addr add $TOPO_VIP4/32 dev lo
		ip -n "$ns" addr add $TOPO_VIP6/128 dev lo
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2
		topo_nsx "$ns" "$O/pingctl" --bpffs "$TOPO_PINS/b$i" decap attach eth0 \
			--mode native || return 1
		# The server lives in the namespace: topo_down kills it with the namespace.
		ip netns exec "$ns" python3 "$TOPO_TOP/tests/integration/l4_server.py" b$i 80 \
			"$TOPO_SERVE_SECONDS" </dev/null >/dev/null 2>&1 &
		# The balancer's next hop comes from its neighbour table: make it permanent.
		ip -n "$lb" neigh replace "$(topo_be_addr "$i")" lladdr "$(topo_mac "$ns" eth0)" \
			dev lb0 nud permanent
		ip -n "$lb" neigh replace "$(topo_be_addr "$i" 6)" \
			lladdr "$(topo_mac "$ns" eth0)" dev lb0 nud permanent
	done
	# Native XDP_TX out of lb0 needs an XDP program on its peer: the pass-through decap.
	topo_nsx "$lb" "$O/pingctl" --bpffs "$TOPO_PINS/br" decap attach lb0-br --mode native ||
		return 1
	topo_lbctl node set --src4 10.201.0.1 --src6 fd00:201::1 --mtu 1600 || return 1
	topo_lbctl attach lb0 --mode native || return 1
	for i in $(seq 1 "$n"); do _topo_wait_backend "$i" || return 1; done
}
