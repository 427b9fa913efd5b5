# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2154 # sourced: its names are set and used by the scripts that source it
# The testbed's topology, after the field report:
#
#   sub (subscribers: every address of 100.64.1.0/24 and 100.64.16.0/20)
#    |  100.64.0.2/30
#   cgn (the carrier's NAT: pool 198.51.100.1..N, per connection)
#    |  203.0.113.1/24 -- the Internet -- 203.0.113.2
#   lb  (load balancer: DNAT of VIPs 203.0.113.76.. to the gateways)
#    |  100.127.1.1/24
#   gw  (VPN gateways 100.127.1.76.., behind the load balancer)
#
# Parameters (environment): POOL_SIZE (4), BALANCE (inc or random: numgen;
# default random), GATEWAYS (1). Needs ../netns/lib.sh's helpers.
source "$(dirname "${BASH_SOURCE[0]}")/../netns/lib.sh"
TESTBED=$TOP/tests/testbed
FIELDPEER=$BUILD/tools/fieldpeer
POOL_SIZE=${POOL_SIZE:-4}
BALANCE=${BALANCE:-random}
GATEWAYS=${GATEWAYS:-1}

vip() { echo "203.0.113.$((76 + $1))"; }		# vip I: gateway I's public address
gw_private() { echo "100.127.1.$((76 + $1))"; }	# its address behind the LB

# cgnat_ruleset: the operator's NAT, balancing the pool per connection
cgnat_ruleset() {
	local i map=
	for ((i = 0; i < POOL_SIZE; i++)); do
		map="$map${map:+, }$i : 198.51.100.$((i + 1))"
	done
	cat <<NFT
table ip cgnat
delete table ip cgnat
table ip cgnat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 100.64.0.0/10 snat to numgen $BALANCE mod $POOL_SIZE map { $map }
	}
}
NFT
}

# load_range: subscribers on every address of 100.80.0.0/12 too, for a
# steady load that needs more fresh inner hosts than 100.64.16.0/20 holds;
# load_addr N prints its Nth address
load_range() {
	ip -n "$sub" route add local 100.80.0.0/12 dev lo
	ip -n "$cgn" route add 100.80.0.0/12 via 100.64.0.2
}
load_addr() { echo "100.$((80 + $1 / 65536)).$(($1 / 256 % 256)).$(($1 % 256))"; }

setup_testbed() {
	local i
	case $BALANCE in inc | random) ;; *) fail "BALANCE must be inc or random" ;; esac
	setup_ns sub cgn lb gw
	ip link add s0 netns "$sub" type veth peer name c0 netns "$cgn"
	ip link add c1 netns "$cgn" type veth peer name l0 netns "$lb"
	ip link add l1 netns "$lb" type veth peer name g0 netns "$gw"
	ip -n "$sub" addr add 100.64.0.2/30 dev s0
	ip -n "$cgn" addr add 100.64.0.1/30 dev c0
	ip -n "$cgn" addr add 203.0.113.1/24 dev c1
	ip -n "$lb" addr add 203.0.113.2/24 dev l0
	ip -n "$lb" addr add 100.127.1.1/24 dev l1
	ip -n "$gw" addr add "$(gw_private 0)/24" dev g0
	for ((i = 1; i < GATEWAYS; i++)); do
		ip -n "$gw" addr add "$(gw_private $i)/24" dev g0
	done
	for l in "$sub s0" "$cgn c0" "$cgn c1" "$lb l0" "$lb l1" "$gw g0"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	ip -n "$sub" route add local 100.64.1.0/24 dev lo
	ip -n "$sub" route add local 100.64.16.0/20 dev lo
	ip -n "$sub" route add default via 100.64.0.1
	ip -n "$cgn" route add 100.64.1.0/24 via 100.64.0.2
	ip -n "$cgn" route add 100.64.16.0/20 via 100.64.0.2
	ip -n "$cgn" route add default via 203.0.113.2
	ip -n "$cgn" route add 203.0.113.128/25 via 203.0.113.2
	ip -n "$lb" route add 198.51.100.0/24 via 203.0.113.1
	ip -n "$gw" route add default via 100.127.1.1
	# 127 more gateways (203.0.113.128-254) on the Internet side, all answered by the gw
	# namespace (AnyIP), not through the load balancer
	ip -n "$lb" route add 203.0.113.128/25 via "$(gw_private 0)"
	ip -n "$gw" route add local 203.0.113.128/25 dev lo
	ip netns exec "$cgn" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$lb" sysctl -qw net.ipv4.ip_forward=1
	{
		echo "table ip lb {"
		echo "	chain prerouting {"
		echo "		type nat hook prerouting priority dstnat; policy accept;"
		for ((i = 0; i < GATEWAYS; i++)); do
			ip -n "$lb" addr add "$(vip $i)/32" dev l0
			echo "		ip daddr $(vip $i) dnat to $(gw_private $i)"
		done
		echo "	}"
		echo "}"
	} | ip netns exec "$lb" nft -f - || fail "load balancer ruleset"
	cgnat_ruleset | ip netns exec "$cgn" nft -f - || fail "CGNAT ruleset"
}

# strict_gateway: in front of the gateways, IKE on 4500 passes only from the
# address that spoke IKE on 500 for the same initiator SPI (the field
# report's gateway; a stock strongSwan responder follows the new address)
strict_gateway() {
	ip netns exec "$gw" nft -f "$TESTBED/strict-gateway.nft" || fail "strict-gateway.nft"
}

# strict_drops: IKE packets on 4500 the strict filter dropped
strict_drops() {
	ip netns exec "$gw" nft list chain ip strict_gateway input |
		awk '/drop/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}

# pin_on: ruleset and helper on the CGNAT; waits until it serves
pin_on() {
	load_pin_ruleset "$cgn" || fail "cannot load natt-pin.nft"
	start_helper "$cgn" "$WORK/helper.log" "$@"
}

# capture NAME: tcpdump on the gateways' link into $WORK/NAME.pcap
capture() {
	ip netns exec "$gw" tcpdump -i g0 --immediate-mode -U -w "$WORK/$1.pcap" \
		'udp or tcp port 2012' 2>"$WORK/$1.tcpdump" &
	CAPTURE_PID=$!
	PIDS+=("$CAPTURE_PID")
	busywait 5000 grep -qs listening "$WORK/$1.tcpdump" || fail "tcpdump did not start"
}

# capture_stop NAME: waits until a marker datagram is in the file, stops
capture_stop() {
	ip netns exec "$gw" bash -c "echo end >/dev/udp/100.127.1.1/9" 2>/dev/null
	busywait 5000 sh -c "tcpdump -nn -r '$WORK/$1.pcap' 2>/dev/null | grep -q '\\.9: UDP'" ||
		fail "capture incomplete"
	kill "$CAPTURE_PID"
	wait "$CAPTURE_PID" 2>/dev/null
}

# result LINE: the figures the runner's summary table shows
result() { echo "RESULT: $*"; }

# ladder PCAP: the capture as the field report tells it, a packet a line:
# number, time, direction, ports, the public address the gateway saw, cookies
ladder() {
	printf '  %3s %7s  %-4s %-11s %-15s %-33s %s\n' No. time dir ports \
		"public addr" "i-cookie -> r-cookie" "what"
	tcpdump -tt -nn -x -r "$1" 2>/dev/null | awk -v gwnet=100.127.1. '
	function hex(s,   i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function flush(   ihl, sp, dp, dir, pub, off, ck, what, cg) {
		if (desc == "" || desc ~ /\.9: UDP/) { desc = ""; return }
		ihl = hex(substr(b[0], 2, 1)) * 4
		sp = hex(b[ihl] b[ihl + 1]); dp = hex(b[ihl + 2] b[ihl + 3])
		src = hex(b[12]) "." hex(b[13]) "." hex(b[14]) "." hex(b[15])
		dst = hex(b[16]) "." hex(b[17]) "." hex(b[18]) "." hex(b[19])
		if (index(src, gwnet) == 1) { dir = "G->C"; pub = dst } else { dir = "C->G"; pub = src }
		ck = ""
		off = ihl + 8 + (sp == 4500 || dp == 4500 ? 4 : 0)
		if ((sp == 500 || dp == 500 || sp == 4500 || dp == 4500) && nb >= off + 16) {
			for (i = 0; i < 8; i++) ck = ck b[off + i]
			ck = ck "->"
			for (i = 8; i < 16; i++) ck = ck b[off + i]
		}
		what = desc
		sub(/^.*: /, "", what)
		if (b[9] == "06") {	# TCP: the registration
			what = desc
			sub(/.*Flags /, "", what)
			sub(/,.*length /, " len ", what)
			what = "TCP 2012 registration " what
		} else if (sp == 2012 || dp == 2012)
			what = "UDP 2012 notification"
		if (t0 == "") t0 = t
		n++
		printf "  %3d %7.3f  %-4s %-11s %-15s %-33s %s\n", n, t - t0, dir, sp ">" dp, pub, toupper(ck), what
		desc = ""
	}
	/^[0-9]+\.[0-9]+ IP / { flush(); nb = 0; t = $1; desc = $0; next }
	/0x[0-9a-f]+:/ { for (i = 2; i <= NF; i++) { b[nb++] = substr($i, 1, 2); if (length($i) == 4) b[nb++] = substr($i, 3, 2) } }
	END { flush() }'
}

# ---- Tenants: overlapping subscriber addresses kept apart by conntrack zones
# The operator's recipe, as the kernel's own selftest of zones and NAT
# (tools/testing/selftests/net/netfilter/nft_nat_zones.sh) and VyOS's VRFs
# (table inet vrf_zones) have it:
#  - raw prerouting (before conntrack): `ct original zone set iifname map`,
#    a directional zone. Only the original tuple, where the tenants'
#    addresses overlap, carries the zone. The reply tuple (pool address and
#    port) stays in zone 0: the NAT keeps it unique across zones (it checks
#    a new reply tuple in the zone of the reply direction), and the replies,
#    which arrive on the pool's side with no zone set, find their entry
#    there. A zone on both directions would hide the entry from them.
#  - after conntrack, after natt_pin's unmark chain (mangle + 1): a new
#    flow's ct mark is its link's zone; a reply's packet mark is its flow's
#    ct mark, and `ip rule fwmark ZONE/0xff` routes it, de-NATed to the
#    overlapping inner address, back to its own link (table 100 + ZONE).
#    Zone 0 (no entry here) keeps the main table.
#  - no reverse-path filter on those links: the main table knows none of
#    the tenants' addresses.
declare -A ZONE_OF

# zones_ruleset: table ip zones for the links of ZONE_OF (link : zone)
zones_ruleset() {
	local l map=
	for l in "${!ZONE_OF[@]}"; do
		map="$map${map:+, }\"$l\" : ${ZONE_OF[$l]}"
	done
	cat <<NFT
table ip zones
delete table ip zones
table ip zones {
	chain by_link {
		type filter hook prerouting priority raw; policy accept;
		ct original zone set iifname map { $map }
	}
	chain back_to_link {
		type filter hook prerouting priority mangle + 5; policy accept;
		ct state new ct mark set iifname map { $map }
		ct direction reply ct mark != 0 meta mark set ct mark
	}
}
NFT
}

# zone_link NS IF ZONE [VIA]: NS's interface IF leads to zone ZONE's
# subscribers (100.64.1.0/24 and 100.64.16.0/20), behind VIA or on IF itself
# (a tunnel); (re)loads table ip zones in NS
zone_link() {
	local ns=$1 ifname=$2 z=$3 via=${4:-} net
	ZONE_OF[$ifname]=$z
	for net in 100.64.1.0/24 100.64.16.0/20; do
		ip -n "$ns" route replace "$net" ${via:+via "$via"} dev "$ifname" table $((100 + z)) ||
			fail "route to zone $z"
	done
	ip -n "$ns" rule del fwmark "$z/0xff" table $((100 + z)) 2>/dev/null
	ip -n "$ns" rule add fwmark "$z/0xff" table $((100 + z)) pref $((100 + z)) || fail "rule for zone $z"
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.$ifname.rp_filter=0"
	zones_ruleset | ip netns exec "$ns" nft -f - || fail "zones ruleset"
}

# add_tenant VAR ZONE: another subscriber network, namespace VAR, with the
# same addresses as sub (every one of 100.64.1.0/24 and 100.64.16.0/20), on a
# link of its own into the CGNAT (VAR's s0 100.64.0.4*ZONE+2/30, cgn's tZONE),
# in conntrack zone ZONE
add_tenant() {
	local var=$1 z=$2 ns
	setup_ns "$var"
	ns=${!var}
	ip link add s0 netns "$ns" type veth peer name "t$z" netns "$cgn" || fail "veth of $var"
	ip -n "$ns" addr add "100.64.0.$((4 * z + 2))/30" dev s0
	ip -n "$cgn" addr add "100.64.0.$((4 * z + 1))/30" dev "t$z"
	ip -n "$ns" link set s0 up
	ip -n "$cgn" link set "t$z" up
	ip -n "$ns" route add local 100.64.1.0/24 dev lo
	ip -n "$ns" route add local 100.64.16.0/20 dev lo
	ip -n "$ns" route add default via "100.64.0.$((4 * z + 1))"
	zone_link "$cgn" "t$z" "$z" "100.64.0.$((4 * z + 2))"
}

# pins_list [NS]: the map's pins, one a line: "ZONE INNER GATEWAY POOL"
# (ZONE 0 where the map's key has none)
pins_list() {
	ip netns exec "${1:-$cgn}" nft list map ip natt_pin pins |
		grep -oE '([0-9]+ \. )?[0-9]+\.[0-9.]+ \. [0-9]+\.[0-9.]+ [^,}:]*: [0-9.]+' |
		awk '{ if ($2 == ".") { if ($1 ~ /\./) print 0, $1, $3, $NF; else print $1, $3, $5, $NF } }'
}

# ct_zones: reads conntrack -L's lines, prints "ZONE INNER POOL" for each:
# its zone (zone-orig=N for a directional zone, zone=N, none: 0), its
# original source and its reply destination
ct_zones() {
	awk '{ z = 0; s = ""; d = ""; nd = 0
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^zone(-orig)?=/) z = substr($i, index($i, "=") + 1)
			else if ($i ~ /^src=/ && s == "") s = substr($i, 5)
			else if ($i ~ /^dst=/ && ++nd == 2) d = substr($i, 5)
		}
		print z, s, d }'
}
