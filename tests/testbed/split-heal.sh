#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Subscribers split before the helper runs (the field report, with a strict
# gateway and no helper: their NAT-T flow left from another address and gets
# no answer; the clients retransmit every 2 s), then the helper starts: its
# rebuild pins them from their IKE flows and heals them, and each comes up
# at its next retransmission: exactly one NAT-T message of each reaches the
# gateway, from its pin's address. Reported: how long after the start.
source "$(dirname "$0")/lib.sh"
SPLIT=${SPLIT:-16}
INTERVAL=2000	# the clients' retransmission interval, ms
BALANCE=inc	# the NAT-T flow always gets another address than the IKE flow

setup_testbed
strict_gateway
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -q '^ready' "$WORK/gw.log" || fail "gateway"
load_pin_ruleset "$cgn" || fail "cannot load natt-pin.nft"

for ((i = 1; i <= SPLIT; i++)); do
	ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f "100.64.1.$i" -t $INTERVAL -r 30 \
		>"$WORK/client-$i" &
	PIDS+=($!)
done
# every client answered on 500; those whose NAT-T flow got another address
# (most, with numgen inc) wait for an answer that does not come: split
oks() { cat "$WORK"/client-* 2>/dev/null | grep -c ' ok '; }
unanswered() {
	ip netns exec "$cgn" conntrack -L -p udp --dport 4500 2>/dev/null | grep -c UNREPLIED
}
settled() {
	[ "$(awk '$2 == 500 { print $5 }' "$WORK/gw.log" | sort -u | wc -l)" -ge $SPLIT ] &&
		[ $(($(unanswered) + $(oks))) -ge $SPLIT ]
}
busywait 20000 settled || fail "the subscribers did not all float: $(unanswered) split, $(oks) up"
split=$(unanswered)
up_before=$(oks)
[ "$split" -ge $((SPLIT / 2)) ] || fail "only $split of $SPLIT split without the helper"
start=$(date +%s%N)
pin_on
for ((i = 1; i <= SPLIT; i++)); do
	busywait 30000 grep -q '^attempt' "$WORK/client-$i" || fail "subscriber $i did not finish"
done
up=$(cat "$WORK"/client-* | grep -c ' ok ')
heals=$(grep -c '^heal:' "$WORK/helper.log")
grep '^rebuild:' "$WORK/helper.log"
# one NAT-T message of each got through: the first after the heal
once=$(awk '$1 == "rx" && $2 == 4500 { n[$5]++ } END { for (c in n) if (n[c] == 1) k++; print k + 0 }' "$WORK/gw.log")
echo "split-heal: $SPLIT subscribers, $up_before up by chance, $split split; $heals healed, $up up," \
	"$once with one NAT-T message through;" \
	"all done $((($(date +%s%N) - start) / 1000000)) ms after the helper started (retransmission every $INTERVAL ms)"
result "$split of $SPLIT split before the start; $heals heals; $up/$SPLIT up, each with one NAT-T message through"
[ "$heals" = "$split" ] || fail "$heals of $split split subscribers healed"
[ "$up" = "$SPLIT" ] || fail "$((SPLIT - up)) split subscribers still down"
[ "$once" = "$SPLIT" ] || fail "$((SPLIT - once)) subscribers needed more than one NAT-T message after the heal"
echo "PASS: split-heal"
