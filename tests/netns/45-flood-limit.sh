#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The ruleset's flood limit, both ways it is loaded: nft's rules (per flow,
# a dynamic set with `limit rate over', counter flood_passed; loaded here
# without the queue rules, which this kernel may lack) and the iptables-nft
# fallback, whose NFQUEUE queues only what the rules after the limit mark.
# A server floods answers on one flow: all but the burst and the rate's
# share are over the limit, every packet passes, and a second flow keeps
# its own budget.
source "$(dirname "$0")/lib.sh"

setup_topology
load_pin_ruleset "$nat" || fail "natt-pin.nft"
ip netns exec "$gw" "$IKEPEER" gateway -F -a "$GW_ADDR" >"$WORK/flooder.log" 2>&1 &
FLOOD_PID=$!
PIDS+=("$FLOOD_PID")
busywait 5000 grep -qs '^ready' "$WORK/flooder.log" || fail "flooder"
count_answers "$nat" "$GW_ADDR" || fail "counting table"
count() { answers "$nat" "$1"; }
nft_over() { ip netns exec "$nat" nft list counter ip natt_pin flood_passed | awk '/packets/ { print $2 }'; }
flood_rules() {	# the flood-limit rules loaded, one in each IKE chain
	for c in ike500 ike4500; do ip netns exec "$nat" nft list chain ip natt_pin $c; done |
		grep -c 'limit rate over 20/second burst 64'
}
xt_queued() {
	ip netns exec "$nat" iptables-nft -t mangle -L NATT_PIN -v -x -n |
		awk '/NFQUEUE/ { n += $1 } END { print n + 0 }'
}

# flood WAY OVER_FN SUBSCRIBER: a flood of 50,000 answers on one flow;
# checks OVER_FN: all but the flow's own burst and rate are over the limit
flood() {
	local way=$1 start
	ip netns exec "$nat" nft reset counters table ip nfqh_count >/dev/null
	start=$(date +%s)
	ip netns exec "$sub" "$IKEPEER" client -g "$GW_ADDR" -f "$3" -n 1 -t 1000 -r 1 \
		>"$WORK/flooded" 2>&1
	enough() { [ "$(count in)" -ge 50000 ]; }
	busywait 30000 enough || fail "$way: no flood ($(count in))"
	kill -TERM "$FLOOD_PID"
	wait "$FLOOD_PID"
	secs=$(($(date +%s) - start))
	same() { [ "$(count in)" = "$(count out)" ]; }
	busywait 5000 same || fail "$way: $(count in) in, $(count out) out"
	in=$(count in)
	over=$($2)
	echo "$way: $in answers on one flow in ${secs} s, all passed the NAT; $over over the limit (20/s, burst 64)"
	[ $((in - over)) -ge 64 ] && [ "$over" -ge $((in - 64 - 20 * (secs + 2))) ] ||
		fail "$way: $over of $in over the limit"
	# the next flood's flooder
	ip netns exec "$gw" "$IKEPEER" gateway -F -a "$GW_ADDR" >"$WORK/flooder.log" 2>&1 &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
	busywait 5000 grep -qs '^ready' "$WORK/flooder.log" || fail "flooder"
}

# 1. nft's rules: the ruleset with its flood limit, without its queue rules
grep -v '# native-queue$\|# xt-queue$' "$RULES/natt-pin.nft" >"$WORK/flood-only.nft"
ip netns exec "$nat" nft -f "$WORK/flood-only.nft" || fail "nft's flood-limit rules"
[ "$(flood_rules)" = 2 ] ||
	fail "nft's flood-limit rules not loaded"
flood "nft dynamic set" nft_over 100.64.1.20
# a second flow has a budget of its own
ip netns exec "$nat" nft reset counter ip natt_pin flood_passed >/dev/null
flood "nft dynamic set, a second flow" nft_over 100.64.1.21

# 2. the fallback: the same nft rules accept what is over the limit before
# the rule that marks what to queue: iptables' NFQUEUE sees only the
# answers under it
ip netns exec "$nat" nft delete table ip natt_pin
ip netns exec "$nat" "$RULES/natt-pin-load" --xt >/dev/null || fail "natt-pin-load --xt"
[ "$(flood_rules)" = 2 ] ||
	fail "fallback: nft's flood-limit rules not loaded"
ip netns exec "$nat" iptables-nft -t mangle -Z NATT_PIN
flood "iptables-nft fallback" nft_over 100.64.1.22
queued=$(xt_queued)
limit=$((64 + 20 * (secs + 2)))
echo "iptables-nft fallback: $queued answers reached NFQUEUE (the limit lets $limit through at most)"
[ "$queued" -le "$limit" ] ||
	fail "fallback: NFQUEUE saw $queued answers, more than the limit lets through ($limit)"
echo "PASS: 45-flood-limit"
