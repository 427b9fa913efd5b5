#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The field report replayed: the client's sequence (TCP 2012 registration,
# UDP 2012 notification, IKEv1 aggressive mode on 500, the float to 4500 on
# the third message, quick mode on 4500, its 3 s error timeout) against the
# report's gateway (no IKE state for a 4500 source that did not speak 500,
# retransmissions of its second message) behind a load balancer, through a
# CGNAT balancing the pool per connection. Without the helper: mostly fails,
# succeeds by chance (~1/POOL_SIZE); with it: every attempt. Keeps a pcap of
# the gateway side and prints a ladder of one attempt each way.
source "$(dirname "$0")/lib.sh"
ATTEMPTS=${ATTEMPTS:-20}

setup_testbed
strict_gateway
ip netns exec "$gw" "$FIELDPEER" gateway -a "$(gw_private 0)" -R 1500 >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway did not start"

# one_attempt NAME SOURCE: a single attempt, captured; sets $state $cookie
one_attempt() {
	capture "$1"
	ip netns exec "$sub" "$FIELDPEER" client -g "$(vip 0)" -f "$2" >"$WORK/$1.client"
	read -r _ _ _ state cookie <"$WORK/$1.client"
	# a failed attempt: the gateway's two retransmissions end the story
	[ "$state" = up ] || busywait 8000 sh -c \
		"[ \$(grep -c 'tx500-agg2-retransmit .* $cookie ' '$WORK/gw.log') -ge 2 ]" ||
		fail "gateway did not retransmit"
	capture_stop "$1"
}

# 1. without the helper: a ladder of a failure (random balancing may pick
# the same address by chance; try a few)
for i in 1 2 3 4 5 6; do
	one_attempt ladder-without "100.64.1.$((200 + i))"
	[ "$state" = fail ] && break
done
[ "$state" = fail ] || fail "no failure in 6 single attempts without the helper"
echo "without the helper, one attempt ($(sed 's/attempt 1 //' "$WORK/ladder-without.client")):"
ladder "$WORK/ladder-without.pcap"

ip netns exec "$sub" "$FIELDPEER" client -g "$(vip 0)" -f 100.64.1.1 -n "$ATTEMPTS" >"$WORK/without"
up_without=$(grep -c ' up ' "$WORK/without")
drops_without=$(strict_drops)

# 2. with the helper
pin_on
one_attempt ladder-with 100.64.1.199
[ "$state" = up ] || fail "the single attempt with the helper failed"
echo
echo "with the helper, one attempt ($(sed 's/attempt 1 //' "$WORK/ladder-with.client")):"
ladder "$WORK/ladder-with.pcap"

ip netns exec "$sub" "$FIELDPEER" client -g "$(vip 0)" -f 100.64.1.101 -n "$ATTEMPTS" >"$WORK/with"
up_with=$(grep -c ' up ' "$WORK/with")
drops_with=$(( $(strict_drops) - drops_without ))
PCAP_DIR=${PCAP_DIR:-$BUILD/testbed}
mkdir -p "$PCAP_DIR" && cp "$WORK"/ladder-without.pcap "$WORK"/ladder-with.pcap "$PCAP_DIR/"

echo
printf '%-16s %-22s %-34s\n' "" "tunnels up" "4500 packets dropped by the gateway"
printf '%-16s %-22s %-34s\n' "without helper" "$up_without of $ATTEMPTS" "$drops_without"
printf '%-16s %-22s %-34s\n' "with helper" "$up_with of $ATTEMPTS" "$drops_with"
echo "(pool of $POOL_SIZE, numgen $BALANCE: by chance ~1 in $POOL_SIZE; pcaps kept in $PCAP_DIR)"
result "without $up_without/$ATTEMPTS up, with $up_with/$ATTEMPTS up (pool $POOL_SIZE, $BALANCE)"

[ "$up_without" -le $((ATTEMPTS * 3 / 4)) ] ||
	fail "the fault did not show: $up_without of $ATTEMPTS up without the helper"
[ "$up_with" = "$ATTEMPTS" ] || fail "only $up_with of $ATTEMPTS up with the helper"
echo "PASS: field-report"
