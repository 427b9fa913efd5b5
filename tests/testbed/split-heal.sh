#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# Subscribers split before the helper runs (the field report, with a strict
# gateway and no helper: their NAT-T flow left from another address and gets
# no answer; the clients retransmit every 2 s), then the helper starts: its
# rebuild pins them from their IKE flows and heals them, and each comes up
# at its next retransmission: exactly one NAT-T message of each reaches the
# gateway, from its pin's address. Reported: how long after the start.
# Two address spaces: the subscribers of sub (zone 0) and a tenant's on a
# link of its own in conntrack zone 2 (lib.sh, add_tenant), with the same
# inner addresses: the rebuild pins each in its own zone, the heal finds
# both.
source "$(dirname "$0")/lib.sh"
SPLIT=${SPLIT:-16}	# split subscribers in each zone
INTERVAL=2000	# the clients' retransmission interval, ms
BALANCE=inc	# the NAT-T flow always gets another address than the IKE flow

setup_testbed
add_tenant tb 2
ALL=$((2 * SPLIT))
strict_gateway
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway"
load_pin_ruleset "$cgn" || fail "cannot load natt-pin.nft"

for ((i = 1; i <= SPLIT; i++)); do
	for t in "0 $sub" "2 $tb"; do
		set -- $t
		ip netns exec "$2" "$IKEPEER" client -g "$(vip 0)" -f "100.64.1.$i" -t $INTERVAL -r 30 \
			>"$WORK/client-$1-$i" &
		PIDS+=($!)
	done
done
# every client answered on 500; those whose NAT-T flow got another address
# (most, with numgen inc) wait for an answer that does not come: split
oks() { cat "$WORK"/client-* 2>/dev/null | grep -c ' ok '; }
unanswered() {
	ip netns exec "$cgn" conntrack -L -p udp --dport 4500 2>/dev/null | grep -c UNREPLIED
}
settled() {
	[ "$(awk '$2 == 500 { print $5 }' "$WORK/gw.log" | sort -u | wc -l)" -ge $ALL ] &&
		[ $(($(unanswered) + $(oks))) -ge $ALL ]
}
busywait 20000 settled || fail "the subscribers did not all float: $(unanswered) split, $(oks) up"
split=$(unanswered)
up_before=$(oks)
# split per zone: the NAT-T flows without an answer, zone-orig=2 the tenant's
split_zones=$(ip netns exec "$cgn" conntrack -L -p udp --dport 4500 2>/dev/null | grep UNREPLIED | ct_zones |
	awk '{ n[$1]++ } END { for (z in n) printf "%szone %s: %d", (k++ ? ", " : ""), z, n[z] }')
echo "without the helper: $split of $ALL split ($split_zones), $up_before up by chance"
[ "$split" -ge $((ALL / 2)) ] || fail "only $split of $ALL split without the helper"
start=$(date +%s%N)
pin_on
for f in "$WORK"/client-*; do
	busywait 30000 grep -qs '^attempt' "$f" || fail "subscriber ${f##*/client-} did not finish"
done
up=$(cat "$WORK"/client-* | grep -c ' ok ')
heals=$(grep -c '^heal:' "$WORK/helper.log")
grep '^rebuild:' "$WORK/helper.log"
# one NAT-T message of each got through: the first after the heal
once=$(awk '$1 == "rx" && $2 == 4500 { n[$5]++ } END { for (c in n) if (n[c] == 1) k++; print k + 0 }' "$WORK/gw.log")
# each subscriber's pin in its own zone, and its NAT-T flow on it
pins_list | awk -v g="$(vip 0)" '$3 == g' >"$WORK/pins"
pins0=$(awk '$1 == 0' "$WORK/pins" | wc -l) pins2=$(awk '$1 == 2' "$WORK/pins" | wc -l)
ip netns exec "$cgn" conntrack -L -p udp --dport 4500 2>/dev/null | grep -v UNREPLIED | ct_zones >"$WORK/natt"
on_pin=$(awk 'NR == FNR { p[$1 " " $2] = $4; next } p[$1 " " $2] == $3 { n++ } END { print n + 0 }' \
	"$WORK/pins" "$WORK/natt")
echo "split-heal: $SPLIT subscribers in each of zones 0 and 2, $up_before up by chance, $split split; $heals healed, $up up," \
	"$once with one NAT-T message through; pins $pins0 in zone 0, $pins2 in zone 2; $on_pin answered NAT-T flows on their zone's pin;" \
	"all done $((($(date +%s%N) - start) / 1000000)) ms after the helper started (retransmission every $INTERVAL ms)"
result "$split of $ALL split before the start (zones 0 and 2); $heals heals; $up/$ALL up, each with one NAT-T message through; pins $pins0 + $pins2"
[ "$heals" = "$split" ] || fail "$heals of $split split subscribers healed"
[ "$up" = "$ALL" ] || fail "$((ALL - up)) split subscribers still down"
[ "$once" = "$ALL" ] || fail "$((ALL - once)) subscribers needed more than one NAT-T message after the heal"
[ "$pins0" = "$SPLIT" ] && [ "$pins2" = "$SPLIT" ] || fail "pins: $pins0 in zone 0, $pins2 in zone 2, not $SPLIT each"
[ "$on_pin" -ge "$ALL" ] || fail "$((ALL - on_pin)) NAT-T flows not on their zone's pin: $(head -5 "$WORK/natt")"
echo "PASS: split-heal"
