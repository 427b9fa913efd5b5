#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A full map: the pins that fit are made, the others are refused with one
# warning naming the cause and the remedy, and every IKE exchange still
# completes: the helper keeps serving traffic.
source "$(dirname "$0")/lib.sh"

setup_topology
start_gateway "$WORK/gw.log" -a $GW_ADDR
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"
ip netns exec "$nat" nft add table ip natt_small
ip netns exec "$nat" nft add map ip natt_small pins \
	"{ type ipv4_addr . ipv4_addr : ipv4_addr; flags timeout; timeout 1h; size 2; }"
start_helper "$nat" "$WORK/helper.log" -t natt_small

ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.1 -n 4 >"$WORK/client" ||
	fail "IKE exchanges failed with a full map: $(cat "$WORK/client")"
kill -USR1 "$HELPER_PID"
busywait 3000 grep -q "stats: pins added" "$WORK/helper.log" || fail "no counters"
grep -q "pins added 2, .* map full 4," "$WORK/helper.log" ||
	fail "counters: $(grep 'stats: pins' "$WORK/helper.log")"
[ "$(grep -c 'map ip natt_small pins is full (2 elements): raise its size in natt-pin.nft' "$WORK/helper.log")" = 1 ] ||
	fail "expected one rate-limited warning: $(grep full "$WORK/helper.log")"
[ "$(ip netns exec "$nat" nft list map ip natt_small pins | grep -c '100\.64\.1\.')" = 2 ] ||
	fail "map should hold 2 pins"
# the first refusal starts a back-off: the next creates wait instead of being
# refused one failed transaction each (1 s, doubling; more only on a slow box)
failed=$(grep 'stats: batches' "$WORK/helper.log" | sed 's/.*, failed \([0-9]*\),.*/\1/')
[ -n "$failed" ] && [ "$failed" -ge 1 ] && [ "$failed" -lt 4 ] ||
	fail "failed transactions with a full map: ${failed:-none} (a back-off holds creates after the first)"
echo "map full: 2 pins made, 4 refused with one warning and $failed failed transaction(s), 4 of 4 IKE exchanges completed"
echo "PASS: 40-map-full"
