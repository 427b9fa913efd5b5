#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# Two IKE clients behind one inner address (a home router doing its own NAT,
# 100.64.200.2 and .3 behind 100.64.1.50), towards one strict gateway.
#  - one after the other (the second starts once the first's pin exists):
#    both come up, every round;
#  - at the same instant (the gateway answers only once both first messages
#    have arrived): the first always comes up; the second only when its own
#    IKE flow happened to get the first one's address, since a live pin is
#    never moved (it would break the first). Measured, not asserted.
GATEWAYS=${GATEWAYS:-2}
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-10}
INNER=100.64.1.50

setup_testbed
setup_ns lan
ip link add h0 netns "$sub" type veth peer name h1 netns "$lan"
ip -n "$sub" addr add 100.64.200.1/24 dev h0
ip -n "$lan" addr add 100.64.200.2/24 dev h1
ip -n "$lan" addr add 100.64.200.3/24 dev h1
ip -n "$sub" link set h0 up
ip -n "$lan" link set h1 up
ip -n "$lan" route add default via 100.64.200.1
ip netns exec "$sub" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$sub" nft -f - <<NFT || fail "home router NAT"
table ip home {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 100.64.200.0/24 snat to $INNER
	}
}
NFT
strict_gateway
# gateway 0 answers at once; gateway 1 holds first answers two at a time
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" >"$WORK/gw0.log" 2>&1 &
PIDS+=($!)
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 1)" -H 2 >"$WORK/gw1.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw0.log" || fail "gateway 0"
busywait 5000 grep -qs '^ready' "$WORK/gw1.log" || fail "gateway 1"
pin_on

fresh() {	# a new round: no pin, no flows
	flush_pins "$cgn"
	ip netns exec "$cgn" conntrack -F >/dev/null 2>&1
	ip netns exec "$sub" conntrack -F >/dev/null 2>&1
}
client() {	# client CLIENT_ADDR GATEWAY OUT
	ip netns exec "$lan" "$IKEPEER" client -g "$2" -f "$1" -t 600 -r 3 >"$3"
}

both=0
for ((r = 1; r <= ROUNDS; r++)); do
	fresh
	client 100.64.200.2 "$(vip 0)" "$WORK/seq-a" || fail "round $r: first client failed"
	client 100.64.200.3 "$(vip 0)" "$WORK/seq-b" && both=$((both + 1))
done
echo "one after the other: both up in $both of $ROUNDS rounds"

first_up=0 second_up=0
for ((r = 1; r <= ROUNDS; r++)); do
	fresh
	client 100.64.200.2 "$(vip 1)" "$WORK/sim-a" &
	a=$!
	client 100.64.200.3 "$(vip 1)" "$WORK/sim-b" &
	b=$!
	wait $a
	wait $b
	# the first is the one whose first message reached the gateway first
	read -r ca < <(awk '{ print $5 }' "$WORK/sim-a")
	first=$(awk -v ca="$ca" '$1 == "rx" && $2 == 500 { c[++n] = $5 }
		END { print (c[n - 1] == ca ? "a" : "b") }' "$WORK/gw1.log")
	if [ "$first" = a ]; then f=sim-a s=sim-b; else f=sim-b s=sim-a; fi
	grep -q ' ok ' "$WORK/$f" && first_up=$((first_up + 1))
	grep -q ' ok ' "$WORK/$s" && second_up=$((second_up + 1))
done
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs 'stats: pins' "$WORK/helper.log" || fail "no counters"
conflicts=$(grep -o 'conflicts [0-9]*' "$WORK/helper.log" | tail -1)
echo "at the same instant: first up in $first_up of $ROUNDS, second up in $second_up of $ROUNDS ($conflicts;" \
	"pool of $POOL_SIZE, numgen $BALANCE: chance ~1 in $POOL_SIZE)"
result "sequential: both up $both/$ROUNDS; simultaneous: first $first_up/$ROUNDS, second $second_up/$ROUNDS"
[ "$both" = "$ROUNDS" ] || fail "one after the other: both up in only $both of $ROUNDS rounds"
[ "$first_up" = "$ROUNDS" ] || fail "at the same instant: the first came up in only $first_up of $ROUNDS"
echo "PASS: shared-inner-address"
