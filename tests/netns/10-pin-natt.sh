#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fault and the fix, end to end: IKEv1 aggressive mode (floating to 4500
# after the second message, as in the field report) from many inner hosts
# through a CGNAT that balances a pool of four per connection.
#  - a recording gateway shows where each flow came from: without the helper
#    the NAT-T flow (4500) leaves from another address than the IKE flow
#    (500); with it, from the same, and the map holds exactly those pins;
#  - a strict gateway (the field report's: no IKE state for the 4500 source,
#    no answer) shows the symptom: tunnels fail without, come up with;
#  - other traffic of a pinned subscriber keeps its balancing;
#  - the helper killed: IKE still passes (queue bypass).
source "$(dirname "$0")/lib.sh"
ATTEMPTS=${ATTEMPTS:-40}
STRICT_ATTEMPTS=10
STRICT_GW=203.0.113.3

# client GATEWAY FIRST_SOURCE N [ARGS]: IKE attempts; output in client-FIRST
client() {
	local gwaddr=$1 first=$2 n=$3
	shift 3
	ip netns exec "$sub" "$IKEPEER" client -g "$gwaddr" -f "$first" -n "$n" "$@" \
		>"$WORK/client-$first"
}

# pairs_for FIRST: per attempt "inner addr_on_500 addr_on_4500"
pairs_for() {
	local c src
	while read -r _ _ src _ c _; do
		awk -v c="$c" -v s="$src" '$1 == "rx" && $5 == c {
			if ($2 == 500 && !a) a = $3
			if ($2 == 4500 && !f) f = $3 }
			END { print s, a, f }' "$WORK/gw.log"
	done <"$WORK/client-$1"
}

count_differ() { awk '$2 != $3 { n++ } END { print n + 0 }' "$1"; }
count_ok() { grep -c ' ok ' "$WORK/client-$1"; }

show_sample() {	# show_sample FILE: a few attempts, for the demo
	[ -n "${DEMO:-}" ] || return 0
	printf '    %-14s %-15s %-15s\n' "subscriber" "IKE (500) from" "NAT-T (4500) from"
	head -4 "$1" | while read -r s a f; do
		printf '    %-14s %-15s %-15s %s\n' "$s" "$a" "$f" \
			"$([ "$a" = "$f" ] && echo same || echo "DIFFERENT: the gateway has no IKE state for it")"
	done
}

phase() {	# phase NAME FIRST STRICT_FIRST: both gateways, sets $differ $up
	local name=$1 first=$2 sfirst=$3
	client $GW_ADDR "$first" "$ATTEMPTS" || fail "$name: IKE exchanges failed"
	pairs_for "$first" >"$WORK/pairs-$first"
	differ=$(count_differ "$WORK/pairs-$first")
	client $STRICT_GW "$sfirst" $STRICT_ATTEMPTS -t 300 -r 2
	up=$(count_ok "$sfirst")
	echo "$name: NAT-T left from another address than IKE in $differ of $ATTEMPTS attempts;" \
		"strict gateway: $up of $STRICT_ATTEMPTS tunnels up"
	show_sample "$WORK/pairs-$first"
}

setup_topology
ip -n "$gw" addr add $STRICT_GW/24 dev g0
start_gateway "$WORK/gw.log" -a $GW_ADDR
start_gateway "$WORK/strict.log" -a $STRICT_GW -s

# 1. without the helper: the operator's NAT alone
phase "without helper" 100.64.1.1 100.64.1.51
without=$differ without_up=$up
[ "$without" -gt $((ATTEMPTS / 2)) ] ||
	fail "the fault did not show: only $without of $ATTEMPTS differ"
[ "$without_up" -lt $((STRICT_ATTEMPTS / 2)) ] ||
	fail "the strict gateway brought up $without_up of $STRICT_ATTEMPTS without the helper"

# 2. with the helper
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"
start_helper "$nat" "$WORK/helper.log"
grep -q "conntrack from" "$WORK/helper.log" || fail "no conntrack path logged"
phase "with helper   " 100.64.1.101 100.64.1.151
with=$differ with_up=$up
[ "$with" -eq 0 ] || fail "$with of $ATTEMPTS attempts still floated to another address"
[ "$with_up" -eq $STRICT_ATTEMPTS ] ||
	fail "strict gateway: only $with_up of $STRICT_ATTEMPTS tunnels up with the helper"

# the map holds one pin per inner host, to the address its 500 flow had
# (and the rebuild at start pinned the tunnels of phase 1)
awk '{ print $1, $2 }' "$WORK/pairs-100.64.1.101" | sort >"$WORK/want"
ip netns exec "$nat" nft list map ip natt_pin pins |
	grep -o '100\.64\.1\.[0-9]* \. 203\.0\.113\.2 [^,}]*: 198\.51\.100\.[0-9]*' |
	awk 'NR == FNR { want[$1]; next } $1 in want { print $1, $NF }' "$WORK/want" - |
	sort >"$WORK/map"
diff -u "$WORK/want" "$WORK/map" || fail "map differs from the addresses the gateway saw"
total=$((ATTEMPTS + STRICT_ATTEMPTS))

kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs "pins added $total," "$WORK/helper.log" ||
	fail "counters: $(grep stats: "$WORK/helper.log")"
# a line per pin, or, once pins come faster than 10 in 10 s, a summary
# that counts those it did not log one by one
lines=$(grep -c '^pin: .* (IKEv' "$WORK/helper.log")
summed=$(sed -n 's/^pin: [0-9]* new pins in the last [0-9]* s, \([0-9]*\) not logged.*/\1/p' \
	"$WORK/helper.log" | awk '{ n += $1 } END { print n + 0 }')
[ $((lines + summed)) = $total ] ||
	fail "expected $total pins in the log, $lines lines and $summed summarised"
# the 4500 answers found their pin: refreshed in the kernel, never queued
refreshed=$(grep -o 'refreshed in the kernel [0-9]*' "$WORK/helper.log" | awk '{ print $NF }')
[ "${refreshed:-0}" -ge $total ] ||
	fail "4500 replies were not refreshed in the kernel: $(grep stats: "$WORK/helper.log")"
grep -q "stats: packets $total," "$WORK/helper.log" ||
	fail "answers of pinned subscribers reached the helper: $(grep stats: "$WORK/helper.log")"
# where the kernel queues conntrack with the packet (GLUE_CT), no look-ups
attached=$(grep -o 'ct attached [0-9]*' "$WORK/helper.log" | tail -1 | awk '{ print $NF }')
looked=$(grep -o 'ct looked up [0-9]*' "$WORK/helper.log" | tail -1 | awk '{ print $NF }')
if grep -q 'conntrack from queued packets' "$WORK/helper.log"; then
	[ "$attached" = $total ] && [ "$looked" = 0 ] ||
		fail "GLUE_CT: $attached entries came with the packets, $looked looked up; expected $total and 0"
	ctsrc="conntrack with each queued packet, no ctnetlink look-up"
else
	[ "$looked" = $total ] && [ "$attached" = 0 ] ||
		fail "no GLUE_CT: $looked entries looked up, $attached came with packets; expected $total and 0"
	ctsrc="conntrack by ctnetlink look-up (no GLUE_CT)"
fi

# everything else of a pinned subscriber keeps its per-connection balancing
ip netns exec "$sub" "$IKEPEER" udp -g $GW_ADDR -f 100.64.1.101 -p 53 -n 8 ||
	fail "plain UDP"
spread=$(ip netns exec "$nat" conntrack -L -p udp -s 100.64.1.101 --dport 53 2>/dev/null |
	grep -o 'dst=198\.51\.100\.[0-9]*' | sort -u | wc -l)
echo "with helper:    8 other flows (UDP 53) of a pinned subscriber left from $spread pool addresses"
[ "$spread" -ge 2 ] || fail "other traffic of a pinned subscriber lost its balancing"

# 3. helper killed: the queue is bypassed, IKE still passes
kill -9 "$HELPER_PID"
wait "$HELPER_PID" 2>/dev/null
client $GW_ADDR 100.64.1.201 8 || fail "IKE failed with the helper killed"
echo "helper killed:  8 of 8 IKE exchanges completed (queue bypass)"

echo "PASS: 10-pin-natt: floated without $without/$ATTEMPTS, with $with/$ATTEMPTS;" \
	"strict gateway up without $without_up/$STRICT_ATTEMPTS, with $with_up/$STRICT_ATTEMPTS; $ctsrc"
