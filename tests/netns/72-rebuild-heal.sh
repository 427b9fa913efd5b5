#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The helper started on a box whose conntrack already holds IKE flows:
#  - rebuild: tunnels that came up with no helper running (a lenient
#    gateway) get their pins from conntrack, to the address of their IKE
#    flow; a live pin to another address is never moved;
#  - heal: subscribers split with no helper running (a strict gateway never
#    answers their NAT-T flow) come up at their next retransmission after it
#    starts: the first NAT-T message that reaches the gateway after the heal
#    comes from the pin's address and is answered.
source "$(dirname "$0")/lib.sh"
TUNNELS=20
SPLIT=8
STRICT_GW=203.0.113.3

setup_topology
ip -n "$gw" addr add $STRICT_GW/24 dev g0
start_gateway "$WORK/gw.log" -a $GW_ADDR
start_gateway "$WORK/strict.log" -a $STRICT_GW -s
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"

# tunnels through the lenient gateway, no helper: most end split, answered
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.1 -n $TUNNELS \
	>"$WORK/lenient" || fail "IKE exchanges with the lenient gateway failed"

# a live pin the rebuild must keep: 100.64.1.1's, to an address none of its
# flows left from (the map is empty before)
ip netns exec "$nat" nft add element ip natt_pin pins \
	"{ 0 . 100.64.1.1 . $GW_ADDR : 198.51.100.200 }" || fail "cannot add the live pin"

# split subscribers: each retransmits its NAT-T message every 2 s, 15 times
for ((i = 1; i <= SPLIT; i++)); do
	ip netns exec "$sub" "$IKEPEER" client -g $STRICT_GW -f "100.64.1.$((100 + i))" \
		-t 2000 -r 15 >"$WORK/split-$i" &
	PIDS+=($!)
done
split_flows() {
	ip netns exec "$nat" conntrack -L -p udp -d $STRICT_GW --dport 4500 2>/dev/null |
		grep -c UNREPLIED
}
natt_started() { awk '$1 == "rx" && $2 == 4500 { print $5 }' "$WORK/strict.log" | sort -u | wc -l; }
busywait 20000 sh -c "[ \$(awk '\$1 == \"rx\" && \$2 == 4500 { print \$5 }' '$WORK/strict.log' | sort -u | wc -l) -ge $SPLIT ]" ||
	fail "the split subscribers did not float to 4500: $(natt_started) of $SPLIT"
n_split=$(split_flows)

start_helper "$nat" "$WORK/helper.log" -M "$WORK/metrics"
busywait 5000 grep -qs '^rebuild:' "$WORK/helper.log" || fail "no rebuild line: $(cat "$WORK/helper.log")"
line=$(grep '^rebuild:' "$WORK/helper.log")
echo "$line"

# every lenient tunnel pinned to its IKE flow's address, but 100.64.1.1
# addr_on_500 LOG COOKIE: the address the IKE flow of that SA came from
addr_on_500() { awk -v c="$2" '$1 == "rx" && $2 == 500 && $5 == c { print $3; exit }' "$1"; }
while read -r _ _ src _ c _; do
	[ "$src" = 100.64.1.1 ] || echo "$src $(addr_on_500 "$WORK/gw.log" "$c")"
done <"$WORK/lenient" >"$WORK/want"
echo "100.64.1.1 198.51.100.200" >>"$WORK/want"
ip netns exec "$nat" nft list map ip natt_pin pins |
	grep -o "100\.64\.1\.[0-9]* \. $GW_ADDR [^,}]*: 198\.51\.100\.[0-9]*" |
	awk '{ print $1, $NF }' | sort >"$WORK/map"
sort -o "$WORK/want" "$WORK/want"
diff -u "$WORK/want" "$WORK/map" || fail "rebuilt pins differ from the IKE flows' addresses"
echo "rebuild: $TUNNELS tunnels, $(($(wc -l <"$WORK/map") - 1)) pins restored to their IKE flow's address; the live pin of 100.64.1.1 kept"
grep -q 'kept a live pin' <<<"$line" || fail "summary line"
[[ $line =~ ([0-9]+)\ kept\ a\ live ]] && [ "${BASH_REMATCH[1]}" = 1 ] ||
	fail "the live pin's conflict was not counted"

# every split subscriber comes up; healed ones with one NAT-T message from
# the pin's address (the first after the heal, answered at once)
for ((i = 1; i <= SPLIT; i++)); do
	busywait 40000 grep -qs '^attempt' "$WORK/split-$i" || fail "split client $i did not finish"
done
wait_ok=$(cat "$WORK"/split-* | grep -c ' ok ')
[ "$wait_ok" = $SPLIT ] || fail "only $wait_ok of $SPLIT split subscribers came up"
heals=$(grep -c '^heal:' "$WORK/helper.log")
[[ $line =~ ([0-9]+)\ healed ]] && [ "${BASH_REMATCH[1]}" = "$heals" ] ||
	fail "heal count: line says ${BASH_REMATCH[1]:-?}, $heals heal lines"
[ "$heals" = "$n_split" ] || fail "$n_split split flows, $heals healed"
grep -qx "nfq_helper_heals_total $heals" "$WORK/metrics" ||
	fail "metrics: $(grep heals "$WORK/metrics")"
[ "$heals" -ge 1 ] || fail "no subscriber was split (pool balancing gave every one the same address?)"
for ((i = 1; i <= SPLIT; i++)); do
	c=$(awk '{ print $5 }' "$WORK/split-$i")
	pin=$(addr_on_500 "$WORK/strict.log" "$c")
	from_pin=$(awk -v c="$c" -v p="$pin" '$1 == "rx" && $2 == 4500 && $5 == c && $3 == p' "$WORK/strict.log" | wc -l)
	[ "$from_pin" = 1 ] || fail "subscriber $i: $from_pin NAT-T messages from its pin's address $pin (1 expected)"
done
# an answered NAT-T flow is never deleted: the lenient gateway's are all there
answered=$(ip netns exec "$nat" conntrack -L -p udp -d $GW_ADDR --dport 4500 2>/dev/null | grep -vc UNREPLIED)
[ "$answered" = $TUNNELS ] || fail "$answered of $TUNNELS answered NAT-T flows left in conntrack"
echo "PASS: 72-rebuild-heal: $heals of $SPLIT split subscribers healed, $TUNNELS tunnels' pins rebuilt"
