# SPDX-License-Identifier: GPL-2.0
# Bash completion for pingctl: objects, commands, options and their values, interface names,
# and the running services (read with pingctl -j service list when allowed).
# Installed as $(DATADIR)/bash-completion/completions/pingctl by make install.

_pingctl_services() {
	local pc=${1:-pingctl}
	shift
	"$pc" "$@" -j service list 2>/dev/null | python3 -c '
import json, sys
try:
    for s in json.load(sys.stdin):
        a = "[%s]" % s["vip"] if ":" in s["vip"] else s["vip"]
        print("%s:%d/%s" % (a, s["port"], s["proto"]))
except Exception:
    pass' 2>/dev/null
}

_pingctl_ifaces() {
	local i
	for i in /sys/class/net/*; do
		[ -e "$i" ] && echo "${i##*/}"
	done
}

_pingctl() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n : || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	local i obj="" cmd="" objidx=0 gopts=()
	# Global options before OBJECT; --bpffs takes a value, kept for service lookups.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--bpffs)
			gopts+=(--bpffs "${words[i + 1]}")
			i=$((i + 1))
			;;
		-*) ;;
		*)
			obj=${words[i]}
			objidx=$i
			break
			;;
		esac
	done
	if [ -n "$obj" ] && [ $((objidx + 1)) -lt "$cword" ]; then
		cmd=${words[objidx + 1]}
	fi
	local reply=""
	case $prev in
	--bpffs)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--mode)
		case $obj in
		service) reply="l4 l7" ;;
		*) reply="native generic auto" ;;
		esac
		;;
	--algo) reply="maglev ketama" ;;
	--fwd) reply="ipip gue l2" ;;
	--hash) reply="5tuple src" ;;
	--ketama-compat) reply="nginx libketama" ;;
	--egress)
		reply="$(_pingctl_ifaces)"
		[ "$obj" = node ] && reply+=" none"
		;;
	--gateway-mac) reply="fib" ;;
	--syn-rate) reply="off" ;;
	--service)
		reply="$(_pingctl_services "${words[0]}" "${gopts[@]}")"
		;;
	--weight | --table-size | --table | --mtu | --gue-port | --seed | --udp-timeout | --watch | \
		--count | --limit | --mac | --src-mac | --src4 | --src6 | --flow | --dport | --ttl | \
		--backends)
		return
		;;
	esac
	if [ -n "$reply" ]; then
		COMPREPLY=($(compgen -W "$reply" -- "$cur"))
		return
	fi
	if [ -z "$obj" ]; then
		if [[ $cur == -* ]]; then
			reply="-j --json -p --pretty -v --verbose -h --help -V --version --bpffs"
		else
			reply="attach detach status unload save restore service backend node stats"
			reply+=" conntrack deny table"
			reply+=" decap hash help version"
		fi
		COMPREPLY=($(compgen -W "$reply" -- "$cur"))
		return
	fi
	# Position of the word being completed after OBJECT.
	local pos=$((cword - objidx))
	case $obj in
	attach)
		if [ $pos = 1 ]; then reply="$(_pingctl_ifaces) --probe"; else reply="--mode --egress --run-prio --plain-link"; fi
		;;
	detach)
		[ $pos = 1 ] && reply="$(_pingctl_ifaces)"
		;;
	restore)
		if [ $pos = 1 ]; then
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		fi
		;;
	unload)
		[ $pos = 1 ] && reply="--all"
		;;
	status | save | help | version) ;;
	service)
		case $pos in
		1) reply="add set del show list flush help" ;;
		2) case $cmd in
			set | del | show) reply="$(_pingctl_services "${words[0]}" "${gopts[@]}")" ;;
			esac ;;
		*) case $cmd in
			add) reply="--algo --mode --fwd --table-size --hash --syn-rate" ;;
			set) reply="--algo --mode --fwd --hash --syn-rate" ;;
			esac ;;
		esac
		;;
	backend)
		case $pos in
		1) reply="add del set list help" ;;
		2) reply="$(_pingctl_services "${words[0]}" "${gopts[@]}")" ;;
		3) ;;
		*) case $cmd in
			add) reply="--weight --mac" ;;
			set) reply="--weight --drain --up --down" ;;
			esac ;;
		esac
		;;
	node)
		case $pos in
		1) reply="set show drain ready vips help" ;;
		*) case $cmd in
			set) reply="--src4 --src6 --gateway-mac --src-mac --egress --mtu
				--gue-port --seed --udp-timeout" ;;
			drain | ready | vips) reply="--table" ;;
			esac ;;
		esac
		;;
	table)
		case $pos in
		1) reply="digest help" ;;
		2) [ "$cmd" = digest ] && reply="$(_pingctl_services "${words[0]}" "${gopts[@]}")" ;;
		esac
		;;
	stats)
		reply="--watch --count"
		[ $pos = 1 ] && reply+=" help $(_pingctl_services "${words[0]}" "${gopts[@]}")"
		;;
	conntrack)
		case $pos in
		1) reply="list count flush help" ;;
		*) [ "$cmd" = list ] && reply="--limit" ;;
		esac
		;;
	deny)
		case $pos in
		1) reply="add del list flush help" ;;
		*) [ "$cmd" = add ] && reply="--ttl" ;;
		esac
		;;
	decap)
		case $pos in
		1) reply="attach detach help" ;;
		2) reply="$(_pingctl_ifaces)" ;;
		*) [ "$cmd" = attach ] && reply="--mode --gue-port" ;;
		esac
		;;
	hash)
		reply="--algo --ketama-compat --table-size --backends --service --flow --new --dport"
		[ $pos = 1 ] && reply+=" help"
		;;
	esac
	COMPREPLY=($(compgen -W "$reply" -- "$cur"))
	# Services hold ':', a word break for readline: complete only what follows the last.
	if declare -F __ltrim_colon_completions >/dev/null; then
		__ltrim_colon_completions "$cur"
	fi
}
complete -F _pingctl pingctl
