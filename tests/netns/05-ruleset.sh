#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The ruleset: loads by kernel support, reloads without losing pins or
# touching the operator's tables, keeps its fallback's matches in step with
# the native rules, and the fallback removes cleanly.
source "$(dirname "$0")/lib.sh"

setup_ns nat
nftx() { ip netns exec "$nat" nft "$@"; }
ip netns exec "$nat" nft -f "$RULES/cgnat-example.nft" || fail "cgnat-example.nft"
before=$(nftx list table ip cgnat)

load_pin_ruleset "$nat" || fail "first load"
if native_queue "$nat"; then mode=native; else mode="iptables-nft fallback"; fi
ip netns exec "$nat" "$BUILD/tools/pinwrite" 100.64.1.1 203.0.113.2 198.51.100.3 >/dev/null
load_pin_ruleset "$nat" || fail "reload"
nftx list map ip natt_pin pins | grep -q "100.64.1.1 . 203.0.113.2 .*: 198.51.100.3" ||
	fail "reload lost the pin"
[ "$(nftx list table ip cgnat)" = "$before" ] || fail "reload touched table ip cgnat"
[ "$(nftx list chain ip natt_pin pin | grep -c snat)" = 1 ] || fail "reload doubled the pin rule"

if [ "$mode" != native ]; then
	rules=$(ip netns exec "$nat" iptables-nft -t mangle -S NATT_PIN)
	[ "$(grep -c NFQUEUE <<<"$rules")" = 2 ] || fail "fallback rules: $rules"
	q=$(sed -n 's/^define NATT_PIN_QUEUE = \([0-9]*\).*/\1/p' "$RULES/natt-pin.nft")
	[ "$(grep -c -- "--queue-num $q --queue-bypass" <<<"$rules")" = 2 ] ||
		fail "fallback does not feed queue $q with bypass: $rules"
	[ "$(ip netns exec "$nat" iptables-nft -t mangle -S PREROUTING | grep -c NATT_PIN)" = 1 ] ||
		fail "reload doubled the jump to NATT_PIN"
	ip netns exec "$nat" "$RULES/natt-pin-load" --remove
	ip netns exec "$nat" iptables-nft -t mangle -S 2>/dev/null | grep -q NATT_PIN &&
		fail "--remove left NATT_PIN behind"
fi

# the native rules and the fallback match the same: ports, lengths, marker
native=$(grep 'queue num' "$RULES/natt-pin.nft")
grep -q 'sport 500 udp length >= 36' <<<"$native" || fail "native 500 rule changed: update the fallback"
grep -q 'sport 4500 udp length >= 40 @th,64,32 0' <<<"$native" || fail "native 4500 rule changed: update the fallback"
grep -q -- '--sport 500' "$RULES/natt-pin-load" && grep -q '=36:65535' "$RULES/natt-pin-load" &&
	grep -q -- '--sport 4500' "$RULES/natt-pin-load" && grep -q '=40:65535&&0>>22&0x3C@8=0' "$RULES/natt-pin-load" ||
	fail "fallback matches differ from the native rules"

echo "PASS: 05-ruleset ($mode)"
