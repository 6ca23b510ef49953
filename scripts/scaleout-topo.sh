# SPDX-License-Identifier: GPL-2.0
# The scale-out test bed shared by `make demo-multinode` and tests/integration/test-scaleout.sh:
# a router running BIRD with ECMP (merge paths) and BFD, N balancer nodes each running BIRD,
# pingx (XDP on eth0) and pingd (health checks, VIP announcement), three backends and a
# client, all in network namespaces:
#
#   client 10.210.9.2 -- veth -- [router 10.210.9.1 | br0 10.210.0.1/24]
#                                   br0 ports: n1..nN-br (nodes 10.210.0.1K), b1..b3-br
#                                   (backends 10.210.0.2K, the VIP on lo)
#
# The router learns VIP 10.210.100.1/32 by BGP from every node that announces it and installs
# one next hop per node; it hashes flows over them by the 5-tuple. The VIP range,
# 10.210.100.0/24, is a blackhole below the learned routes. A node encapsulates in IPIP
# to the backend and sends the packet back out eth0 (XDP_TX); the backend answers the client
# directly through the router (direct server return).
#
# With SO_V6=1 the same runs over IPv6 beside it: every link also has an address of
# fd00:210::/64 (router ::1, nodes ::1K, backends ::2K; the client fd00:210:9::2), the nodes
# serve VIP fd00:210:100::1 (IPv6 in IPv6 to the backends' IPv6 addresses) and announce it over
# the same BGP sessions (an ipv6 channel with the node's IPv6 address as next hop), and the
# router installs one multipath route for it too.
#
# Source this file after setting:
#   SO       namespace prefix: SO-r (router), SO-c (client), SO-nK, SO-bK
#   SO_DIR   a private directory for configurations, logs, control sockets and pids
#   SO_PINS  pin directory root (SO_PINS/nK: node K's maps; removed by so_down)
#   O        the build directory holding pingctl and pingd
# then so_up N, so_node_start K [HEALTH_PORT] for each node, and so_down (removes everything,
# also after a partial so_up).

SO_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SO_VIP=10.210.100.1
SO_VIP_RANGE=10.210.100.0/24
SO_VIP6=fd00:210:100::1
SO_VIP6_RANGE=fd00:210:100::/64
SO_V6=${SO_V6:-0}
SO_SERVE_SECONDS=${SO_SERVE_SECONDS:-3600}
SO_TABLE=4242

so_nsx() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

# pingctl on node K.
so_ctl() {
	local k=$1
	shift
	so_nsx "$SO-n$k" "$O/pingctl" --bpffs "$SO_PINS/n$k" "$@"
}

# birdc of the router (r) or of node K.
so_birdc() {
	local who=$1
	shift
	birdc -s "$SO_DIR/bird-$who.ctl" "$@"
}

so_mac() {
	ip -n "$1" -j link show dev "$2" |
		python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["address"])'
}

so_namespaces() {
	ip netns list | awk -v p="$SO" '$1 == p"-r" || $1 == p"-c" || $1 ~ "^"p"-[nb][0-9]+$" {print $1}'
}

# Run "$@" in the background in namespace $1 and record its pid under name $2.
_so_spawn() {
	local ns=$1 name=$2
	shift 2
	nsenter --net=/run/netns/"$ns" "$@" &
	echo "$!" >"$SO_DIR/$name.pid"
}

# Stop the process recorded under <name> (by its pid) and wait for it.
so_stop() {
	local f=$SO_DIR/$1.pid pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	rm -f "$f"
}

so_down() {
	local f ns
	for f in "$SO_DIR"/*.pid; do
		[ -e "$f" ] && so_stop "$(basename "$f" .pid)"
	done
	for ns in $(so_namespaces); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	if [ -d "$SO_PINS" ]; then
		for f in "$SO_PINS"/*; do
			[ -d "$f" ] && "$O/pingctl" --bpffs "$f" unload >/dev/null 2>&1
		done
		rm -rf "$SO_PINS"
	fi
	return 0
}

_so_ns() { ip netns add "$1" && ip -n "$1" link set lo up; }

# The router's BIRD: one eBGP session per node, BFD on br0, every learned route into the
# kernel with all equal paths merged into one multipath route.
_so_router_conf() {
	local n=$1 k
	cat <<EOF
router id 10.210.0.1;
log "$SO_DIR/bird-r.log" all;
protocol device { scan time 10; }
protocol kernel {
	ipv4 { import none; export all; };
	merge paths on limit 16;
}
$([ "$SO_V6" = 1 ] && printf '%s\n' 'protocol kernel kernel6 {' \
	'	ipv6 { import none; export all; };' '	merge paths on limit 16;' '}')
protocol bfd {
	interface "br0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
template bgp balancer {
	local 10.210.0.1 as 65100;
	bfd on;
	hold time 3;
	keepalive time 1;
	connect retry time 1;
	error wait time 1, 5;
	ipv4 { import all; export none; };
$([ "$SO_V6" = 1 ] && echo '	ipv6 { import all; export none; };')
}
EOF
	for k in $(seq 1 "$n"); do
		echo "protocol bgp node$k from balancer { neighbor 10.210.0.1$k as 65101; }"
	done
}

# Node K's BIRD: learn the announcement table (pingx writes it) and export it to the router.
_so_node_conf() {
	local k=$1
	cat <<EOF
router id 10.210.0.1$k;
log "$SO_DIR/bird-n$k.log" all;
protocol device { scan time 10; }
protocol kernel vips {
	kernel table $SO_TABLE;
	learn;
	scan time 10;
	ipv4 { import all; export none; };
}
$([ "$SO_V6" = 1 ] && printf '%s\n' 'protocol kernel vips6 {' "	kernel table $SO_TABLE;" \
	'	learn;' '	scan time 10;' '	ipv6 { import all; export none; };' '}')
protocol bfd {
	interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
protocol bgp uplink {
	local 10.210.0.1$k as 65101;
	neighbor 10.210.0.1 as 65100;
	bfd on;
	hold time 3;
	keepalive time 1;
	connect delay time 1;
	connect retry time 1;
	error wait time 1, 5;
	ipv4 { import none; export where proto = "vips"; };
$([ "$SO_V6" = 1 ] && echo "	ipv6 { import none; export where proto = \"vips6\"; next hop address fd00:210::1$k; };")
}
EOF
}

# pingd's configuration for node K: the service with its backends in an order of the node's
# own (ids differ between nodes, the tables do not), tcp health checks on HEALTH_PORT, and the
# announcer.
so_pingd_conf() {
	local k=$1 port=${2:-80} order b
	case $k in 1) order="1 2 3" ;; 2) order="3 2 1" ;; *) order="2 3 1" ;; esac
	cat <<EOF
listeners:
  - address: 127.0.0.1:18480
upstreams:
  - name: none
    servers:
      - address: 127.0.0.1:18481
virtual_hosts:
  - name: main
    hosts: '*'
    routes:
      - path: /
        upstream: none
admin: {address: '127.0.0.1:18482'}
l4_pin_dir: $SO_PINS/n$k
l4_announce: true
l4_announce_table: $SO_TABLE
l4_announce_interval: 200ms
l4:
  node:
    src4: 10.210.0.1$k
$([ "$SO_V6" = 1 ] && echo "    src6: 'fd00:210::1$k'")
    mtu: 1600
  services:
    - address: '$SO_VIP:80'
      fwd: ipip
      backends:
EOF
	for b in $order; do echo "        - address: '10.210.0.2$b'"; done
	if [ "$SO_V6" = 1 ]; then
		echo "    - address: '[$SO_VIP6]:80'"
		echo "      fwd: ipip"
		echo "      backends:"
		for b in $order; do echo "        - address: 'fd00:210::2$b'"; done
	fi
	cat <<EOF
l4_health:
  - service: '*'
    check: tcp
    port: $port
    interval: 200ms
    timeout: 150ms
    rise: 2
    fall: 2
EOF
}

so_up() {
	local n=$1 k ns r=$SO-r c=$SO-c
	mkdir -p "$SO_DIR" "$SO_PINS" || return 1
	_so_ns "$r" && _so_ns "$c" || return 1
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.fib_multipath_hash_policy=1 || return 1
	ip -n "$r" link add br0 type bridge || return 1
	ip -n "$r" addr add 10.210.0.1/24 dev br0
	ip -n "$r" link set br0 mtu 1600 up
	ip netns exec "$r" sh -c 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do
		[ -e $f ] && echo 0 > $f; done; true'
	# The VIP range is a blackhole on the router; the /32s learned by BGP override it. In a
	# moment when no node announces the VIP (every session down at once, as BFD can decide
	# on a starved machine) a SYN is dropped silently and the client sends it again a
	# second later, instead of getting "network unreachable" at once and giving up.
	ip -n "$r" route add blackhole $SO_VIP_RANGE || return 1
	if [ "$SO_V6" = 1 ]; then
		ip netns exec "$r" sysctl -qw net.ipv6.conf.all.forwarding=1 \
			net.ipv6.fib_multipath_hash_policy=1 || return 1
		ip -n "$r" addr add fd00:210::1/64 dev br0 nodad
		ip -n "$r" -6 route add blackhole $SO_VIP6_RANGE || return 1
	fi
	# The client: no TX checksum offload, or a backend drops the partial checksums that
	# reach it after the node's XDP_TX.
	ip -n "$r" link add veth-c type veth peer name eth0 netns "$c" || return 1
	ip -n "$r" addr add 10.210.9.1/24 dev veth-c
	ip -n "$r" link set veth-c up
	ip -n "$c" addr add 10.210.9.2/24 dev eth0
	ip -n "$c" link set eth0 up
	ip -n "$c" route add default via 10.210.9.1 || return 1
	# The demo and the tests pick the client's source ports by hand (30000-42999), so that
	# each connection's ECMP path can be looked up; the kernel's own picks stay above them,
	# or a connection of its own could take one first (curl: bind failed, EADDRINUSE).
	ip netns exec "$c" sysctl -qw net.ipv4.ip_local_port_range="50000 60999" || return 1
	if [ "$SO_V6" = 1 ]; then
		ip -n "$r" addr add fd00:210:9::1/64 dev veth-c nodad
		ip -n "$c" addr add fd00:210:9::2/64 dev eth0 nodad
		ip -n "$c" -6 route add default via fd00:210:9::1 || return 1
	fi
	ip netns exec "$c" ethtool -K eth0 tx off >/dev/null || return 1

	for k in 1 2 3; do
		ns=$SO-b$k
		_so_ns "$ns" || return 1
		ip -n "$r" link add b$k-br type veth peer name eth0 netns "$ns" || return 1
		ip -n "$r" link set b$k-br master br0 mtu 1600 up
		ip -n "$ns" addr add 10.210.0.2$k/24 dev eth0
		ip -n "$ns" link set eth0 mtu 1600 up
		ip -n "$ns" addr add $SO_VIP/32 dev lo
		ip -n "$ns" route add default via 10.210.0.1
		if [ "$SO_V6" = 1 ]; then
			ip -n "$ns" addr add fd00:210::2$k/64 dev eth0 nodad
			ip -n "$ns" addr add $SO_VIP6/128 dev lo
			ip -n "$ns" -6 route add default via fd00:210::1 || return 1
		fi
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.lo.rp_filter=0 || return 1
		so_nsx "$ns" "$O/pingctl" --bpffs "$SO_PINS/b$k" decap attach eth0 --mode native ||
			return 1
		_so_spawn "$ns" "server-b$k" python3 "$SO_TOP/tests/integration/l4_server.py" \
			b$k 80 "$SO_SERVE_SECONDS" </dev/null >/dev/null 2>&1
	done

	for k in $(seq 1 "$n"); do
		ns=$SO-n$k
		_so_ns "$ns" || return 1
		# bpf_fib_lookup() answers only for interfaces that forward.
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return 1
		ip -n "$r" link add n$k-br type veth peer name eth0 netns "$ns" || return 1
		ip -n "$r" link set n$k-br master br0 mtu 1600 up
		ip -n "$ns" addr add 10.210.0.1$k/24 dev eth0
		ip -n "$ns" link set eth0 mtu 1600 up
		ip -n "$ns" route add default via 10.210.0.1
		if [ "$SO_V6" = 1 ]; then
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1 || return 1
			ip -n "$ns" addr add fd00:210::1$k/64 dev eth0 nodad
		fi
		for b in 1 2 3; do
			ip -n "$ns" neigh replace 10.210.0.2$b lladdr "$(so_mac "$SO-b$b" eth0)" \
				dev eth0 nud permanent || return 1
			[ "$SO_V6" = 1 ] || continue
			ip -n "$ns" neigh replace fd00:210::2$b lladdr "$(so_mac "$SO-b$b" eth0)" \
				dev eth0 nud permanent || return 1
		done
		# Native XDP_TX out of eth0 needs an XDP program on its peer: pingx's
		# decapsulation program (it passes BGP and BFD untouched).
		so_nsx "$r" "$O/pingctl" --bpffs "$SO_PINS/r$k" decap attach n$k-br \
			--mode native || return 1
		so_ctl "$k" attach eth0 --mode native || return 1
	done

	_so_router_conf "$n" >"$SO_DIR/bird-r.conf"
	_so_spawn "$r" bird-r bird -f -c "$SO_DIR/bird-r.conf" -s "$SO_DIR/bird-r.ctl" \
		</dev/null >>"$SO_DIR/bird-r.out" 2>&1
	for k in 1 2 3; do
		_so_wait_port "$SO-c" 10.210.0.2$k 80 || { echo "so: b$k does not listen" >&2; return 1; }
	done
}

_so_wait_port() {
	local ns=$1 host=$2 port=$3 tries=100
	while [ $tries -gt 0 ]; do
		so_nsx "$ns" bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# Start node K's pingd (health checks on HEALTH_PORT, default 80) and BIRD.
so_node_start() {
	local k=$1 port=${2:-80} ns=$SO-n$1
	so_pingd_conf "$k" "$port" >"$SO_DIR/pingd-n$k.yaml"
	_so_spawn "$ns" pingd-n$k "$O/pingd" -c "$SO_DIR/pingd-n$k.yaml" \
		</dev/null >>"$SO_DIR/pingd-n$k.log" 2>&1
	_so_node_conf "$k" >"$SO_DIR/bird-n$k.conf"
	_so_spawn "$ns" bird-n$k bird -f -c "$SO_DIR/bird-n$k.conf" -s "$SO_DIR/bird-n$k.ctl" \
		</dev/null >>"$SO_DIR/bird-n$k.out" 2>&1
}

# Node K's pingd reads its configuration again, with health checks on HEALTH_PORT.
so_node_reconfigure() {
	local k=$1 port=${2:-80}
	so_pingd_conf "$k" "$port" >"$SO_DIR/pingd-n$k.yaml"
	kill -HUP "$(cat "$SO_DIR/pingd-n$k.pid")"
}

# The router's next hops for the VIP, sorted, space-separated ("" when it has no route).
so_nexthops() {
	ip -n "$SO-r" route show "$SO_VIP/32" |
		awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1)}' | sort | xargs
}

# The same for the IPv6 VIP (SO_V6=1).
so_nexthops6() {
	ip -n "$SO-r" -6 route show "$SO_VIP6/128" |
		awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1)}' | sort | xargs
}

# Wait until the router's next hops are exactly "$1" (node addresses, sorted): at most
# TRIES (default 300) tenths of a second; FN so_nexthops6 waits for the IPv6 VIP's.
so_wait_nexthops() {
	local want=$1 tries=${2:-300} fn=${3:-so_nexthops}
	while [ "$tries" -gt 0 ]; do
		[ "$($fn)" = "$want" ] && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}
