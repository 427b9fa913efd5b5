#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fault and the fix, end to end: IKEv1 aggressive mode from many inner
# hosts through a CGNAT balancing a pool of four per connection. Without the
# helper the NAT-T flow (4500) leaves from another address than the IKE flow
# (500); with it, from the same one, and the map holds exactly those pins.
# Then the helper is killed: IKE still passes (queue bypass).
source "$(dirname "$0")/lib.sh"
ATTEMPTS=${ATTEMPTS:-40}

# run_attempts FIRST_SOURCE: client run; prints "differ/total"
run_attempts() {
	local first=$1 out=$WORK/client-$1
	: >"$WORK/gw.log.mark"
	ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f "$first" \
		-n "$ATTEMPTS" >"$out" || fail "IKE exchanges failed: $(grep -c fail "$out") of $ATTEMPTS"
}

# pairs of the attempts from FIRST_SOURCE on: "inner addr500 addr4500"
pairs_for() {
	local first=$1 c
	while read -r _ _ src _ c; do
		awk -v c="$c" -v s="$src" '$1 == "rx" && $5 == c {
			if ($2 == 500 && !a) a = $3
			if ($2 == 4500 && !f) f = $3 }
			END { print s, a, f }' "$WORK/gw.log"
	done <"$WORK/client-$first"
}

count_differ() {
	awk '$2 != $3 { n++ } END { print n + 0 }'
}

setup_topology
start_gateway "$WORK/gw.log"

# 1. without the helper: the operator's NAT alone
run_attempts 100.64.1.1
pairs_for 100.64.1.1 >"$WORK/without"
without=$(count_differ <"$WORK/without")
echo "without helper: 4500 left from another address than 500 in $without of $ATTEMPTS attempts"
[ "$without" -gt $((ATTEMPTS / 2)) ] ||
	fail "the fault did not show: only $without of $ATTEMPTS differ"

# 2. with the helper
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"
start_helper "$nat" "$WORK/helper.log"
grep -q "conntrack from" "$WORK/helper.log" || fail "no conntrack path logged"
run_attempts 100.64.1.101
pairs_for 100.64.1.101 >"$WORK/with"
with=$(count_differ <"$WORK/with")
echo "with helper:    4500 left from another address than 500 in $with of $ATTEMPTS attempts"
[ "$with" -eq 0 ] || fail "$with of $ATTEMPTS attempts still floated to another address"

# the map holds one pin per inner host, to the address its 500 flow had
ip netns exec "$nat" nft list map ip natt_pin pins |
	sed -n 's/.*\(100\.64\.1\.[0-9]*\) \. 203\.0\.113\.2 \(timeout [^ ]* \)\?\(expires [^ ]* \)\?: \(198\.51\.100\.[0-9]*\).*/\1 \4/p' |
	sort >"$WORK/map"
awk '{ print $1, $2 }' "$WORK/with" | sort >"$WORK/want"
diff -u "$WORK/want" "$WORK/map" || fail "map differs from the addresses the gateway saw"
grep -c "^pin: " "$WORK/helper.log" | grep -qx "$ATTEMPTS" ||
	fail "expected $ATTEMPTS 'pin:' lines in the log"

kill -USR1 "$HELPER_PID"
busywait 3000 grep -q "pins added $ATTEMPTS," "$WORK/helper.log" ||
	fail "counters: $(grep stats: "$WORK/helper.log")"
busywait 3000 grep -q "refreshed $ATTEMPTS," "$WORK/helper.log" ||
	fail "4500 replies did not refresh: $(grep stats: "$WORK/helper.log")"

# everything else of a pinned subscriber keeps its per-connection balancing
ip netns exec "$sub" "$IKEPEER" udp -g $GW_ADDR -f 100.64.1.101 -p 53 -n 8 ||
	fail "plain UDP"
spread=$(ip netns exec "$nat" conntrack -L -p udp -s 100.64.1.101 --dport 53 2>/dev/null |
	grep -o 'dst=198\.51\.100\.[0-9]*' | sort -u | wc -l)
echo "with helper:    8 DNS flows of a pinned subscriber left from $spread pool addresses"
[ "$spread" -ge 2 ] || fail "other traffic of a pinned subscriber lost its balancing"

# 3. helper killed: the queue is bypassed, IKE still passes
kill -9 "$HELPER_PID"
wait "$HELPER_PID" 2>/dev/null
ATTEMPTS=8 run_attempts 100.64.1.201
echo "helper killed:  8 of 8 IKE exchanges completed (queue bypass)"

echo "PASS: 10-pin-natt: without $without/$ATTEMPTS floated, with $with/$ATTEMPTS"
