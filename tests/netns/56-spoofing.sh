#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# Spoofing: the pin's key is the inner address the NAT saw, so a subscriber
# can make pins for another's address unless the NAT drops spoofed sources.
# A subscriber on s0 sends IKE from the address of a victim behind another
# link: without reverse-path filtering the answer pins the victim's address
# to the gateway; with nft's `fib saddr . iif oif missing drop`, or with the
# rp_filter sysctl, no pin. The subscriber's own IKE pins in every case.
source "$(dirname "$0")/lib.sh"
VICTIMS=100.64.2	# the victim's link: 100.64.2.0/24 behind n2

setup_topology
setup_ns vic
ip link add n2 netns "$nat" type veth peer name v0 netns "$vic"
ip -n "$nat" addr add 100.64.0.5/30 dev n2
ip -n "$vic" addr add 100.64.0.6/30 dev v0
ip -n "$nat" link set n2 up
ip -n "$vic" link set v0 up
ip -n "$nat" route add $VICTIMS.0/24 via 100.64.0.6
# the spoofer may send from the victims' addresses (AnyIP on its side)
ip -n "$sub" route add local $VICTIMS.0/24 dev lo
start_gateway "$WORK/gw.log"
load_pin_ruleset "$nat" || fail "ruleset"
start_helper "$nat" "$WORK/helper.log"
pinned() { ip netns exec "$nat" nft list map ip natt_pin pins | grep -q "$1 \. $GW_ADDR "; }
own() {	# own ADDRESS: the subscriber's own IKE must pin
	ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f "$1" -n 1 -t 2000 >/dev/null ||
		fail "own IKE from $1"
	pinned "$1" || fail "no pin for the subscriber's own $1"
}

# 1. no reverse-path filter: the victim's address gets a pin
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f $VICTIMS.7 -n 1 -t 300 -r 1 >/dev/null
busywait 3000 pinned $VICTIMS.7 || fail "without rpf, no pin for the spoofed $VICTIMS.7: the test shows nothing"
own 100.64.1.1
echo "no reverse-path filter: a spoofed source pinned $VICTIMS.7 -> $GW_ADDR"

# 2. nft: a packet whose source is not routed back out of its input link
ip netns exec "$nat" nft -f - <<'EOF' || fail "rpf ruleset"
table ip rpf {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		fib saddr . iif oif missing counter drop
	}
}
EOF
gw_before=$(grep -c "^rx 500 " "$WORK/gw.log")
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f $VICTIMS.8 -n 1 -t 300 -r 1 >/dev/null
drops=$(ip netns exec "$nat" nft list chain ip rpf prerouting | grep -o 'packets [0-9]*' | awk '{ print $2 }')
[ "${drops:-0}" -ge 1 ] || fail "the rpf rule dropped nothing"
pinned $VICTIMS.8 && fail "with fib saddr . iif, a spoofed source still pinned $VICTIMS.8"
[ "$(grep -c "^rx 500 " "$WORK/gw.log")" = "$gw_before" ] || fail "the spoofed packet reached the gateway"
own 100.64.1.2
echo "with 'fib saddr . iif oif missing drop': $drops spoofed packet dropped, no pin for $VICTIMS.8; own IKE pinned"
ip netns exec "$nat" nft delete table ip rpf

# 3. the same with the rp_filter sysctl (strict) instead
ip netns exec "$nat" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.n0.rp_filter=1
gw_before=$(grep -c "^rx 500 " "$WORK/gw.log")
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f $VICTIMS.9 -n 1 -t 300 -r 1 >/dev/null
pinned $VICTIMS.9 && fail "with rp_filter=1, a spoofed source still pinned $VICTIMS.9"
[ "$(grep -c "^rx 500 " "$WORK/gw.log")" = "$gw_before" ] || fail "the spoofed packet reached the gateway"
own 100.64.1.3
echo "with rp_filter=1: no pin for $VICTIMS.9; own IKE pinned"
echo "PASS: 56-spoofing"
