#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A server that cooperates with a subscriber floods IKE answers on one
# source-NATed flow, as fast as it can send (copies of its answer with a zero
# responder SPI: no pin ever absorbs them, so without the limit each one
# would be queued), while SUBSCRIBERS (200) other
# subscribers bring their tunnels up through a strict gateway. The ruleset's
# flood limit (per flow, in front of the queue) lets only a trickle of the
# flood reach the queue, so the queue never fills: all of them get pinned.
# Every packet of the flood passes the NAT (counted on its way in and out),
# the ones over the limit unpinned.
BALANCE=inc
source "$(dirname "$0")/lib.sh"
SUBSCRIBERS=${SUBSCRIBERS:-200}
CLIENTS=4
FLOODER=203.0.113.200	# a server on the Internet side (AnyIP in gw)
FLOODED=100.64.1.20	# its subscriber
per=$((SUBSCRIBERS / CLIENTS))

setup_testbed
# the gateway of the 200 is strict (ikepeer -s): an unpinned NAT-T flow
# leaves from another address (BALANCE=inc) and gets no answer
ip netns exec "$gw" "$IKEPEER" gateway -s -a "$(gw_private 0)" >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway"
# the flood's packets on their way into and out of the NAT
count_answers "$cgn" "$FLOODER" || fail "counting table"
pin_on -M "$WORK/metrics.prom"
count() { answers "$cgn" "$1"; }
# answers over the flood limit: nft's counter, native and fallback alike
over_limit() {
	ip netns exec "$cgn" nft list counter ip natt_pin flood_passed | awk '/packets/ { print $2 }'
}

# phase FLOODED SUBNET: a flood on FLOODED's flow while SUBSCRIBERS connect
# from SUBNET (100.64.N.); sets in, over, up, pinned, secs, overruns
phase() {
	local j clients=() start sent
	ip netns exec "$cgn" nft reset counters table ip nfqh_count >/dev/null
	ip netns exec "$cgn" nft reset counter ip natt_pin flood_passed >/dev/null
	ip netns exec "$gw" "$IKEPEER" gateway -F -a "$FLOODER" >"$WORK/flooder.log" 2>&1 &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
	busywait 5000 grep -qs '^ready' "$WORK/flooder.log" || fail "flooder"
	# the flood: one IKE message from the subscriber, answered without end
	start=$(date +%s)
	ip netns exec "$sub" "$IKEPEER" client -g "$FLOODER" -f "$1" -n 1 -t 1000 -r 1 \
		>"$WORK/flooded" 2>&1
	busywait 10000 flowing || fail "no flood: $(count in) packets"
	for ((j = 0; j < CLIENTS; j++)); do
		ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f "$2$((1 + j * per))" \
			-n "$per" -t 300 -r 3 >"$WORK/client$j" &
		clients+=($!)
	done
	for j in "${clients[@]}"; do wait "$j"; done
	kill -TERM "$FLOOD_PID"
	wait "$FLOOD_PID"
	secs=$(($(date +%s) - start))
	sent=$(sed -n 's/^flooded //p' "$WORK/flooder.log")
	# every packet of the flood leaves the NAT (the queue's held ones too)
	busywait 10000 passed || fail "flood: $(count in) in, $(count out) out of the NAT"
	in=$(count in)
	over=$(over_limit)
	up=$(cat "$WORK"/client* | grep -c ' ok ')
	pinned=$(ip netns exec "$cgn" nft list map ip natt_pin pins |
		grep -o "${2//./\\.}[0-9]* \\. 203\\.0\\.113\\.76 " | sort -u | wc -l)
	kill -USR1 "$HELPER_PID"
	busywait 3000 grep -qs 'stats: batches' "$WORK/helper.log" || fail "no counters"
	busywait 3000 test "$WORK/metrics.prom" -nt "$WORK/flooder.log" || fail "no metrics"
	overruns=$(sed -n 's/^nfq_helper_queue_overruns_total //p' "$WORK/metrics.prom")
	queued=$(sed -n 's/^nfq_helper_packets_total //p' "$WORK/metrics.prom")
	# the flood's copies (zero responder SPI) that reached the helper
	fqueued=$(sed -n 's/^nfq_helper_ike_rejected_total{reason="zero_responder_spi"} //p' "$WORK/metrics.prom")
	echo "flood: $sent answers sent on one flow, $in reached the NAT and all $in left it," \
		"$over over the limit; the helper took $((queued - queued0)) packets in all," \
		"$((fqueued - fqueued0)) of them the flood's, $((overruns - overruns0)) queue overruns"
	echo "meanwhile ($secs s): $up of $SUBSCRIBERS subscribers' tunnels up through a strict gateway, $pinned pinned"
	flood_queued=$((fqueued - fqueued0))
	overruns0=$overruns queued0=$queued fqueued0=$fqueued
}
flowing() { [ "$(count in)" -ge 10000 ]; }
passed() { [ "$(count in)" = "$(count out)" ]; }
overruns0=0 queued0=0 fqueued0=0

echo "with the flood limit:"
phase "$FLOODED" 100.64.17.
grep 'stats:' "$WORK/helper.log" | sed 's/^/  /'
result "flood of $in answers on one flow: all passed, $flood_queued queued, $over over the limit; $up/$SUBSCRIBERS up, $pinned pinned, $overruns overruns"
[ "$up" = "$SUBSCRIBERS" ] && [ "$pinned" = "$SUBSCRIBERS" ] ||
	fail "$up up and $pinned pinned of $SUBSCRIBERS"
# the limit: 20 a second, burst 64 (natt-pin.nft): no more of the flood
# reached the queue; the rest passed over the limit, or refreshed the flow's
# pin if one was made for it: either way in the kernel, never queued
[ "$flood_queued" -le $((64 + 20 * (secs + 2))) ] ||
	fail "$flood_queued of the flood's $in answers reached the queue, more than the limit lets through"

# COMPARE=1: the same without the limit, for comparison only (no verdict:
# it depends on this machine's speed; it loads the machine for a minute)
[ -n "${COMPARE:-}" ] || { echo "PASS: flood-isolation"; exit 0; }
echo "without it (the ruleset less its flood limit), for comparison:"
grep -v 'limit rate over' "$RULES/natt-pin.nft" >"$WORK/no-limit.nft"
load_pin_ruleset "$cgn" "$WORK/no-limit.nft" || fail "ruleset without the limit"
phase 100.64.1.21 100.64.18.
echo "PASS: flood-isolation"
