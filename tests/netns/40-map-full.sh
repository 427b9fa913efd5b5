#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A full map: the pins that fit are made, the others are refused with one
# warning naming the cause and the remedy, and every IKE exchange still
# completes: the helper keeps serving traffic. Both ways pins are written:
# by transactions (a map without the learn rule) and by the kernel's learn
# rule (the ruleset's own map).
source "$(dirname "$0")/lib.sh"

setup_topology
start_gateway "$WORK/gw.log" -a $GW_ADDR
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"
ip netns exec "$nat" nft add table ip natt_small
ip netns exec "$nat" nft add map ip natt_small pins \
	"{ typeof ct zone . ip saddr . ip daddr : ip daddr; flags timeout; timeout 1h; size 2; }"
start_helper "$nat" "$WORK/helper.log" -t natt_small

ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.1 -n 4 >"$WORK/client" ||
	fail "IKE exchanges failed with a full map: $(cat "$WORK/client")"
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs "stats: pins added" "$WORK/helper.log" || fail "no counters"
grep -q "pins added 2, .* map full 4," "$WORK/helper.log" ||
	fail "counters: $(grep 'stats: pins' "$WORK/helper.log")"
[ "$(grep -c 'map ip natt_small pins is full at 2 elements (raise its size in ' "$WORK/helper.log")" = 1 ] ||
	fail "expected one rate-limited warning: $(grep full "$WORK/helper.log")"
[ "$(ip netns exec "$nat" nft list map ip natt_small pins | grep -c '100\.64\.1\.')" = 2 ] ||
	fail "map should hold 2 pins"
grep -q 'pins: no learn rule for map ip natt_small pins .*: new pins are written in transactions' "$WORK/helper.log" ||
	fail "no word that pins go in transactions: $(grep 'pins:' "$WORK/helper.log")"
# the first refusal starts a back-off: the next creates wait instead of being
# refused one failed transaction each (1 s, doubling; more only on a slow box)
failed=$(grep 'stats: batches' "$WORK/helper.log" | sed 's/.*, failed \([0-9]*\),.*/\1/')
[ -n "$failed" ] && [ "$failed" -ge 1 ] && [ "$failed" -lt 4 ] ||
	fail "failed transactions with a full map: ${failed:-none} (a back-off holds creates after the first)"
echo "map full, written in transactions (no learn rule for that map): 2 pins made, 4 refused with one warning and $failed failed transaction(s), 4 of 4 IKE exchanges completed"
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"

# the same with the ruleset's own map of 2, whose pins the kernel's learn
# rule writes: it refuses the others (counter learn_refused), the helper
# reads them back, counts them, warns once, and every exchange completes
ip netns exec "$nat" conntrack -F 2>/dev/null
ip netns exec "$nat" nft delete table ip natt_pin	# a map's size cannot change
sed 's/^\(\s*size\) 1048576/\1 2/' "$RULES/natt-pin.nft" >"$WORK/natt-pin-2.nft"
load_pin_ruleset "$nat" "$WORK/natt-pin-2.nft" || fail "ruleset with a map of 2"
ip netns exec "$nat" nft list map ip natt_pin pins | grep -q 'size 2$' || fail "no map of 2"
start_helper "$nat" "$WORK/learn.log"
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.11 -n 4 >"$WORK/client" ||
	fail "IKE exchanges failed with a full map: $(cat "$WORK/client")"
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs "stats: pins added" "$WORK/learn.log" || fail "no counters"
grep -q "pins added 2, .* map full 4,.* learns 6, learn refusals 4" "$WORK/learn.log" ||
	fail "learn counters: $(grep 'stats: pins' "$WORK/learn.log")"
grep -q "batches .* transactions 0, failed 0," "$WORK/learn.log" ||
	fail "transactions with the learn rule: $(grep 'stats: batches' "$WORK/learn.log")"
[ "$(grep -c 'map ip natt_pin pins is full at 2 elements (raise its size in ' "$WORK/learn.log")" = 1 ] ||
	fail "expected one rate-limited warning: $(grep full "$WORK/learn.log")"
refused=$(ip netns exec "$nat" nft list counter ip natt_pin learn_refused | awk '/packets/ { print $2 }')
[ "$refused" = 4 ] || fail "counter learn_refused: $refused, expected 4"
[ "$(ip netns exec "$nat" nft list map ip natt_pin pins | grep -c '100\.64\.1\.1[1-4]')" = 2 ] ||
	fail "map should hold 2 pins"
echo "map full, written by the kernel's learn rule: 2 pins made, 4 refused (counter learn_refused 4) with one warning, no transaction, 4 of 4 IKE exchanges completed"
echo "PASS: 40-map-full"
