#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Pins age out in the kernel: an idle pin expires after its timeout, while
# IKE on 4500 (dead peer detection, one exchange a second) keeps another
# alive past it, refreshed in the kernel (the map's timeout, natt-pin.nft),
# without reaching the helper. The gateway also sends ESP and NAT-T keepalives down every
# NAT-T flow: they pass (counted on the NAT) and never reach the helper
# (its counters show only the IKE answers).
source "$(dirname "$0")/lib.sh"
TIMEOUT=${TIMEOUT:-3}	# seconds
DPDS=$((2 * TIMEOUT))

setup_testbed
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" -e >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway"
# count what goes down NAT-T flows towards the subscribers
ip netns exec "$cgn" nft -f - <<'NFT' || fail "counters"
table ip natt_count {
	chain c {
		type filter hook forward priority filter; policy accept;
		udp sport 4500 udp length 9 @th,64,8 0xff counter name keepalives
		udp sport 4500 udp length > 12 @th,64,32 != 0 counter name esp_pkts
	}
	counter keepalives { }
	counter esp_pkts { }
}
NFT
# the kernel refreshes a pin to the map's timeout: set it there
sed "s/timeout 1h/timeout ${TIMEOUT}s/" "$RULES/natt-pin.nft" >"$WORK/natt-pin.nft"
load_pin_ruleset "$cgn" "$WORK/natt-pin.nft" || fail "cannot load natt-pin.nft"
start_helper "$cgn" "$WORK/helper.log"
has_pin() { ip netns exec "$cgn" nft list map ip natt_pin pins | grep -q "$1 \. "; }

ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f 100.64.1.1 -n 1 >"$WORK/idle" ||
	fail "idle client"
ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f 100.64.1.2 -n 1 -k $DPDS -i 1000 \
	>"$WORK/live" &
live=$!
# the live client runs in the background: its pin comes with its first answer
has_pin 100.64.1.1 && busywait 3000 has_pin 100.64.1.2 || fail "pins not made"
start=$(date +%s%N)
busywait $((TIMEOUT * 1000 + 3000)) sh -c "! ip netns exec $cgn nft list map ip natt_pin pins | grep -q '100.64.1.1 \\. '" ||
	fail "the idle pin did not expire"
gone=$(( ($(date +%s%N) - start) / 1000000 ))
has_pin 100.64.1.2 || fail "the pin kept alive by DPD expired with the idle one"
echo "idle pin expired ${gone} ms after it was made (timeout ${TIMEOUT} s); the one with DPD lives on"
wait $live || fail "DPD exchanges failed"
has_pin 100.64.1.2 || fail "the pin with DPD expired before its last exchange + timeout"
echo "after $DPDS DPD exchanges (${DPDS} s, twice the timeout) the pin is still there"
busywait $((TIMEOUT * 1000 + 3000)) sh -c "! ip netns exec $cgn nft list map ip natt_pin pins | grep -q '100.64.1.2 \\. '" ||
	fail "the pin did not expire once DPD stopped"
echo "once DPD stopped, it expired too"

kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs 'stats: packets' "$WORK/helper.log" || fail "no counters"
stats=$(grep 'stats: packets' "$WORK/helper.log")
ka=$(ip netns exec "$cgn" nft list counter ip natt_count keepalives | grep -o 'packets [0-9]*' | awk '{ print $2 }')
esp=$(ip netns exec "$cgn" nft list counter ip natt_count esp_pkts | grep -o 'packets [0-9]*' | awk '{ print $2 }')
want=2	# answers that make pins: idle 500, live 500
refreshed=$(ip netns exec "$cgn" nft list counter ip natt_pin refreshes | grep -o 'packets [0-9]*' | awk '{ print $2 }')
echo "down NAT-T flows: $esp ESP packets, $ka keepalives passed the NAT; helper: $stats"
result "idle pin gone after ${gone} ms (timeout ${TIMEOUT} s); DPD kept one alive ${DPDS} s, $refreshed answers refreshed in the kernel; ESP $esp and keepalives $ka passed, none queued"
[ "$refreshed" -ge $((2 + DPDS)) ] || fail "kernel refreshes: $refreshed, expected the 4500 answers and $DPDS DPDs"
[ "$esp" -gt 0 ] && [ "$ka" -gt 0 ] || fail "ESP and keepalives did not pass"
grep -q "stats: packets $want, accepted $want, ike ok $want, .* esp 0, keepalives 0" <<<"$stats" ||
	fail "the helper saw more than the $want IKE answers that made pins"
echo "PASS: expiry-and-refresh"
