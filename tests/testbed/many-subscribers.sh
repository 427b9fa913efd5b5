#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SUBSCRIBERS inner hosts (210) start the field report's sequence at the
# same moment towards GATEWAYS strict gateways (3): every tunnel comes up,
# and every pin maps its own subscriber and gateway to the pool address
# that subscriber's IKE flow had: none crossed, none missing, none extra.
GATEWAYS=${GATEWAYS:-3}
source "$(dirname "$0")/lib.sh"
SUBSCRIBERS=${SUBSCRIBERS:-210}
per=$(( (SUBSCRIBERS + GATEWAYS - 1) / GATEWAYS ))
[ "$per" -le 84 ] || fail "at most 84 subscribers per gateway (100.64.1.0/24)"

setup_testbed
strict_gateway
for ((g = 0; g < GATEWAYS; g++)); do
	ip netns exec "$gw" "$FIELDPEER" gateway -a "$(gw_private $g)" >"$WORK/gw$g.log" 2>&1 &
	PIDS+=($!)
	busywait 5000 grep -qs '^ready' "$WORK/gw$g.log" || fail "gateway $g did not start"
done
pin_on

start=$(date +%s%N)
for ((g = 0; g < GATEWAYS; g++)); do
	ip netns exec "$sub" "$FIELDPEER" client -g "$(vip $g)" -f "100.64.1.$((1 + g * per))" \
		-n "$per" >"$WORK/client$g" &
	clients+=($!)
done
for p in "${clients[@]}"; do wait "$p"; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
total=$((GATEWAYS * per))
up=$(cat "$WORK"/client* | grep -c ' up ')
echo "$up of $total tunnels up ($total subscribers, $GATEWAYS gateways, started together, ${ms} ms)"

# what the pins must be: inner . VIP : the address the gateway saw on 500
for ((g = 0; g < GATEWAYS; g++)); do
	awk -v vip="$(vip $g)" 'FNR == NR && $1 == "rx500-agg1" { seen[$4] = $2; next }
		FNR != NR { print $3, vip, seen[$5] }' "$WORK/gw$g.log" "$WORK/client$g"
done | sort >"$WORK/want"
ip netns exec "$cgn" nft list map ip natt_pin pins |
	grep -o '100\.64\.1\.[0-9]* \. 203\.0\.113\.[0-9]* [^,}]*: 198\.51\.100\.[0-9]*' |
	awk '{ print $1, $3, $NF }' | sort >"$WORK/map"
crossed=$(comm -13 "$WORK/want" "$WORK/map" | wc -l)
missing=$(comm -23 "$WORK/want" "$WORK/map" | wc -l)
echo "pins: $(wc -l <"$WORK/map") in the map, $missing missing, $crossed not matching what a gateway saw"
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs 'stats: batches' "$WORK/helper.log" || fail "no counters"
grep 'stats:' "$WORK/helper.log" | sed 's/^/  /'
result "$up/$total up, $(wc -l <"$WORK/map") pins, $missing missing, $crossed crossed, ${ms} ms"

[ "$up" = "$total" ] || fail "only $up of $total tunnels up"
[ "$missing" = 0 ] && [ "$crossed" = 0 ] || {
	diff "$WORK/want" "$WORK/map" | head
	fail "pins differ from what the gateways saw"
}
echo "PASS: many-subscribers"
