#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# DS-Lite (RFC 6333): the CGNAT is the AFTR. HOMES homes, each behind a B4
# that sends the home's IPv4 unchanged over an IPv4-in-IPv6 softwire
# (ip6tnl, mode ipip6) to the AFTR; every home has the same addresses
# (100.64.1.0/24, hosts .10 and .11), real strongSwan clients on them
# (.10 IKEv2, .11 IKEv1 aggressive mode, PSK, a virtual IP each), towards
# one strongSwan responder behind the load balancer, with the strict filter
# (strict-gateway.nft) in front; the AFTR balances its pool per connection.
#
#   home1 100.64.1.0/24 -- b4-1 ==softwire 2001:db8:1::2 -> 2001:db8::1==.
#   home2 100.64.1.0/24 -- b4-2 ==softwire 2001:db8:2::2 -> 2001:db8::1==+ cgn (AFTR,
#   ...                                                                    |  zone per
#   (IPv6 access links 2001:db8:H::/64, one per B4)                        '  softwire) -- lb -- gw
#
# On the AFTR each softwire is an interface of its own (swH), mapped to zone
# H by lib.sh's zone_link: `ct original zone set iifname map`, the ct mark
# and `ip rule fwmark H` that routes the answers, de-NATed to the shared
# inner addresses, back into their own softwire (tenants.sh tells why). The
# B4 itself keeps no state; the AFTR's NAT keys by softwire and address.
#
# Checked: without the helper, about 1 in POOL_SIZE tunnels up (the strict
# responder drops a NAT-T flow that left from another address); with it,
# every tunnel of every home up at once (a ping crosses each, from its
# virtual IP), each home's hosts pinned in its own zone, and the address
# the responder saw each tunnel come from is its own home's pin.
# The softwires are the kernel's ip6tnl (`ip -6 tunnel add ... mode ipip6`)
# where it has it (Debian's kernels); else (the CI host's 6.18 lacks
# CONFIG_IPV6_TUNNEL) build/tools/softwire, the same packets on the wire
# from a TUN interface and a raw IPv6 socket. SOFTWIRE=ip6tnl or tun forces
# one (ip6tnl where the kernel has none: skipped).
BALANCE=${BALANCE:-random}
source "$(dirname "$0")/lib.sh"
source "$TOP/tests/strongswan/lib-charon.sh"
HOMES=${HOMES:-3}
# charon's first retransmission after 0.5 s, stretched on a slow machine:
# six exchanges at once under TCG (beside another VM, once) outlasted two
# retransmissions of 0.5 s
CHARON_RETRANSMIT=$(awk -v s="${NFQH_TIMEOUT_SCALE:-1}" 'BEGIN { print 0.5 * s }')
PROTECTED=100.127.2.1	# a host on the network behind the gateway
AFTR6=2001:db8::1	# the AFTR's softwire end, every B4's remote

SOFTWIRE=${SOFTWIRE:-auto}
case $SOFTWIRE in auto | ip6tnl | tun) ;; *) fail "SOFTWIRE must be ip6tnl or tun" ;; esac

charon_check
setup_testbed
ip -n "$cgn" addr add $AFTR6/128 dev lo nodad
if [ "$SOFTWIRE" != tun ]; then
	modprobe -q ip6_tunnel 2>/dev/null
	if ip -n "$cgn" link add probe6 type ip6tnl mode ipip6 local $AFTR6 remote 2001:db8::2 2>"$WORK/ip6tnl.err"; then
		ip -n "$cgn" link del probe6
		SOFTWIRE=ip6tnl
	elif [ "$SOFTWIRE" = ip6tnl ]; then
		result "skipped: this kernel has no ip6tnl (CONFIG_IPV6_TUNNEL: $(cat "$WORK/ip6tnl.err"))"
		exit 4
	else
		SOFTWIRE=tun
	fi
fi
# softwire_end NS NAME LOCAL REMOTE: the interface NAME in NS, one end
softwire_end() {
	if [ "$SOFTWIRE" = ip6tnl ]; then
		ip -n "$1" -6 tunnel add "$2" mode ipip6 local "$3" remote "$4" encaplimit none ||
			fail "ip6tnl $2 in $1"
	else
		ip netns exec "$1" "$BUILD/tools/softwire" "$2" "$3" "$4" >"$WORK/softwire-$2-$1" 2>&1 &
		PIDS+=($!)
		busywait 5000 grep -qs '^ready' "$WORK/softwire-$2-$1" ||
			fail "softwire $2 in $1: $(cat "$WORK/softwire-$2-$1")"
		ip -n "$1" link set "$2" mtu 1460
	fi
	ip -n "$1" link set "$2" up
}
declare -a HOME_NS
for ((h = 1; h <= HOMES; h++)); do
	setup_ns b4 home
	HOME_NS[h]=$home
	# the access network: an IPv6 link from the B4 to the AFTR
	ip link add "a$h" netns "$cgn" type veth peer name wan netns "$b4" || fail "veth a$h"
	ip -n "$cgn" addr add "2001:db8:$h::1/64" dev "a$h" nodad
	ip -n "$b4" addr add "2001:db8:$h::2/64" dev wan nodad
	ip -n "$cgn" link set "a$h" up
	ip -n "$b4" link set wan up
	ip -n "$b4" -6 route add $AFTR6/128 via "2001:db8:$h::1"
	# the softwire, both ends
	softwire_end "$cgn" "sw$h" $AFTR6 "2001:db8:$h::2"
	softwire_end "$b4" dslite "2001:db8:$h::2" $AFTR6
	ip -n "$b4" route add default dev dslite
	# the home: hosts .10 and .11 behind the B4's 100.64.1.1, no NAT in the B4
	ip link add lan netns "$b4" type veth peer name eth0 netns "$home" || fail "veth lan $h"
	ip -n "$b4" addr add 100.64.1.1/24 dev lan
	ip -n "$home" addr add 100.64.1.10/24 dev eth0
	ip -n "$home" addr add 100.64.1.11/24 dev eth0
	ip -n "$b4" link set lan up
	ip -n "$home" link set eth0 up
	ip -n "$home" route add default via 100.64.1.1
	ip netns exec "$b4" sysctl -qw net.ipv4.ip_forward=1
	zone_link "$cgn" "sw$h" "$h"
done
ip -n "$gw" addr add $PROTECTED/32 dev lo
# the check reads the flows of a phase from conntrack at its end
ip netns exec "$cgn" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 \
	net.netfilter.nf_conntrack_udp_timeout_stream=600 || fail "conntrack's UDP timeouts"

# the responder: every home's hosts, a virtual IP each from 100.126.0.0/24
conn() {	# conn NAME VERSION AGGRESSIVE LOCAL_ADDRS REMOTE_ADDRS LOCAL_ID REMOTE_ID TS...
	local name=$1 version=$2 aggressive=$3 laddrs=$4 raddrs=$5 lid=$6 rid=$7
	cat <<CONF
	$name {
		version = $version
		aggressive = $aggressive
		local_addrs = $laddrs
		remote_addrs = $raddrs
		proposals = aes128-sha256-modp2048
		$8
		local {
			auth = psk
			id = $lid
		}
		remote {
			auth = psk
			id = $rid
		}
		children {
			net {
				$9
				esp_proposals = aes128-sha256
			}
		}
	}
CONF
}
secrets() { printf 'secrets {\n\tike {\n\t\tsecret = %s\n\t}\n}\n' "$PSK"; }
mkdir -p "$WORK/gw"
{
	echo "connections {"
	conn gw-v2 2 no %any %any gateway %any "pools = vips
		unique = never" "local_ts = 100.127.2.0/24"
	conn gw-v1 1 yes %any %any gateway %any "pools = vips
		unique = never" "local_ts = 100.127.2.0/24"
	echo "}"
	printf 'pools {\n\tvips {\n\t\taddrs = 100.126.0.0/24\n\t}\n}\n'
	secrets
} >"$WORK/gw/swanctl.conf"
start_charon "$gw" "$WORK/gw"
load_swanctl "$WORK/gw" "$WORK/gw/swanctl.conf"
for ((h = 1; h <= HOMES; h++)); do
	mkdir -p "$WORK/home$h"
	{
		echo "connections {"
		conn c10 2 no 100.64.1.10 "$(vip 0)" "h$h-10" gateway "vips = 0.0.0.0" "remote_ts = 100.127.2.0/24"
		conn c11 1 yes 100.64.1.11 "$(vip 0)" "h$h-11" gateway "vips = 0.0.0.0" "remote_ts = 100.127.2.0/24"
		echo "}"
		secrets
	} >"$WORK/home$h/swanctl.conf"
	start_charon "${HOME_NS[h]}" "$WORK/home$h"
	load_swanctl "$WORK/home$h" "$WORK/home$h/swanctl.conf"
done

# bring_up NAME: every tunnel of every home (homes at once, a home's two
# one after the other), then a ping through each from its virtual IP while
# all are up; "HOME HOST up|down" a line in $WORK/NAME
bring_up() {
	local h c pids=()
	for ((h = 1; h <= HOMES; h++)); do
		(
			for c in 10 11; do
				swanctl_in "$WORK/home$h" --initiate --ike "c$c" --child net --timeout $((8 * ${NFQH_TIMEOUT_SCALE:-1})) \
					>"$WORK/$1-init-$h-$c" 2>&1
			done
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((h = 1; h <= HOMES; h++)); do
		for c in 10 11; do
			v=$(swanctl_in "$WORK/home$h" --list-sas --ike "c$c" 2>/dev/null |
				grep -o '\[100\.126\.[0-9.]*\]' | tr -d '[]' | head -1)
			if [ -n "$v" ] && ip netns exec "${HOME_NS[h]}" ping -q -c1 -W2 -I "$v" $PROTECTED >/dev/null 2>&1; then
				echo "$h $c up $v"
			else
				echo "$h $c down ${v:--}"
			fi
		done
	done >"$WORK/$1"
}
down_all() {
	local h c
	for ((h = 1; h <= HOMES; h++)); do
		for c in 10 11; do
			swanctl_in "$WORK/home$h" --terminate --ike "c$c" --force --timeout 3 >/dev/null 2>&1
		done
	done
	ip netns exec "$cgn" conntrack -F >/dev/null 2>&1
}
ups() { grep -c ' up ' "$WORK/$1"; }
total=$((2 * HOMES))

strict_gateway
echo "DS-Lite: $HOMES homes behind B4s, softwires ($SOFTWIRE) to the AFTR (zones 1-$HOMES), pool of $POOL_SIZE, numgen $BALANCE;" \
	"strongSwan IKEv2 (.10) and IKEv1 aggressive (.11) in each home, strict responder"
bring_up without
without=$(ups without)
# the AFTR's NAT per softwire: the homes' IKE flows in their own zones
ip netns exec "$cgn" conntrack -L -p udp --dport 500 2>/dev/null | grep 'src=100\.64\.1\.' | ct_zones |
	sort -u >"$WORK/ct-without"
zones=$(awk '{ print $1 }' "$WORK/ct-without" | sort -u | grep -c '^[1-9]')
echo "without the helper: $without of $total tunnels up (by chance ~1 in $POOL_SIZE);" \
	"IKE flows in $zones zones (conntrack -L: zone-orig), $(strict_drops) NAT-T packets dropped by the responder"
[ "$zones" = "$HOMES" ] || fail "the homes' IKE flows are in $zones zones, not $HOMES: $(cat "$WORK/ct-without")"
[ "$without" -lt "$total" ] || fail "without the helper every tunnel came up: the fault did not show"
down_all

pin_on
mark=$(wc -l <"$WORK/gw/charon.log")
bring_up with
with=$(ups with)
pins_list | sort -n >"$WORK/pins"
# the address the responder has each tunnel at, by its identity hH-N: its
# newest established IKE_SA (swanctl asks charon; its log file may lag)
swanctl_in "$WORK/gw" --list-sas >"$WORK/gw-sas" 2>&1
awk '/^[^ ].*: #[0-9]+, / { est = ($3 == "ESTABLISHED,"); n = substr($2, 2) + 0 }
     est && $1 == "remote" && match($2, /^.h[0-9]+-[0-9]+.$/) {
	id = substr($2, 3, length($2) - 3); split(id, hn, "-"); a = $4; sub(/\[.*/, "", a)
	if (n > newest[id]) { newest[id] = n; at[id] = hn[1] " " hn[2] " " a } }
     END { for (id in at) print at[id] }' "$WORK/gw-sas" | sort >"$WORK/seen"
own=$(awk -v g="$(vip 0)" 'NR == FNR { if ($3 == g) p[$1 " " $2] = $4; next }
	{ k = $1 " 100.64.1." $2 } (k in p) && p[k] == $3 { n++ } END { print n + 0 }' "$WORK/pins" "$WORK/seen")
pinned_zones=$(awk -v g="$(vip 0)" '$3 == g && $1 > 0 { print $1 }' "$WORK/pins" | sort -u | wc -l)
npins=$(awk -v g="$(vip 0)" '$3 == g && $1 > 0' "$WORK/pins" | wc -l)
# the responder following a tunnel to another address (not port)
moved=$(tail -n +"$mark" "$WORK/gw/charon.log" |
	grep -o 'remote endpoint changed from [0-9.]*\[[0-9]*\] to [0-9.]*' |
	awk '{ split($5, a, "["); if (a[1] != $7) n++ } END { print n + 0 }')
echo "with the helper: $with of $total tunnels up at once; $npins pins in $pinned_zones zones;" \
	"$own of $total tunnels came from their own home's pin ($(wc -l <"$WORK/seen") seen by the responder);" \
	"the responder followed a new address $moved times"
cat "$WORK/with"
result "$SOFTWIRE softwires; without: $without/$total up; with: $with/$total up, $npins pins in $pinned_zones zones, $own/$total from their home's pin"
if [ "$with" != "$total" ]; then
	# what the client and the responder said of each tunnel that is down
	grep down "$WORK/with" | while read -r h c _; do
		echo "home $h, host .$c: swanctl --initiate said:"
		tail -5 "$WORK/with-init-$h-$c" | sed 's/^/    /'
		echo "  its charon, the last IKE lines:"
		grep -E "c$c\[|IKE\]|NET\]" "$WORK/home$h/charon.log" | tail -15 | sed 's/^/    /'
		echo "  the responder, of h$h-$c:"
		grep "h$h-$c" "$WORK/gw/charon.log" | tail -5 | sed 's/^/    /'
	done
	fail "with the helper $((total - with)) tunnels down: $(grep down "$WORK/with")"
fi
[ "$npins" = "$total" ] && [ "$pinned_zones" = "$HOMES" ] ||
	fail "pins: $npins in $pinned_zones zones, not $total in $HOMES: $(cat "$WORK/pins")"
[ "$own" = "$total" ] || fail "$((total - own)) tunnels not from their home's pin: $(cat "$WORK/seen")"
echo "PASS: ds-lite"
