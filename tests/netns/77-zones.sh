#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# Address spaces on one NAT: subscriber links, each its own conntrack zone
# (raw prerouting by input interface) and the same inner address 100.64.1.10
# behind each. Zones 1 and 2 cover the original direction only: their answers
# come back over the one outside link, their tuples in zone 0. Zone 3, a VRF
# with an upstream of its own, covers both directions: without an entry in
# the queued packet (GLUE_CT), the look-up needs its zone, which the ruleset
# gives the answer's priority. Through strict gateways:
#   - each gets its own pin, in its zone, to the address its IKE flow had,
#     and its NAT-T flow leaves from that one: a pin of one never serves the
#     other (the two IKE flows get two pool addresses, numgen inc);
#   - the caps count per zone . inner host (--host-pins 1: one each);
#   - --explain 2:100.64.1.10 shows zone 2's pin, plain 100.64.1.10 zone 0;
#   - --status and the log lines name the zone;
#   - the rebuild from conntrack restores both pins in their zones.
source "$(dirname "$0")/lib.sh"
INNER=100.64.1.10
GW2=203.0.113.4

setup_topology
# tenant B: a namespace and link of its own, the same addresses as A's
setup_ns subb
ip link add s0 netns "$subb" type veth peer name n2 netns "$nat"
ip -n "$subb" addr add 100.64.0.6/30 dev s0
ip -n "$nat" addr add 100.64.0.5/30 dev n2
ip -n "$subb" link set s0 up
ip -n "$nat" link set n2 up
ip -n "$subb" route add local 100.64.1.0/24 dev lo
ip -n "$subb" route add default via 100.64.0.5
# tenant C: a VRF of its own, subscribers and upstream (its own gateway
# at the same address), zone 3 both ways
setup_ns subc gwc
ip link add s0 netns "$subc" type veth peer name n3 netns "$nat"
ip link add n4 netns "$nat" type veth peer name g0 netns "$gwc"
ip -n "$subc" addr add 100.64.0.10/30 dev s0
ip -n "$nat" addr add 100.64.0.9/30 dev n3
ip -n "$nat" addr add 192.0.2.1/30 dev n4
ip -n "$gwc" addr add 192.0.2.2/30 dev g0
ip -n "$gwc" addr add $GW_ADDR/32 dev g0
for l in "$subc s0" "$nat n3" "$nat n4" "$gwc g0"; do ip -n ${l% *} link set ${l#* } up; done
ip -n "$subc" route add local 100.64.1.0/24 dev lo
ip -n "$subc" route add default via 100.64.0.9
ip -n "$gwc" route add 198.51.100.0/24 via 192.0.2.1
ip netns exec "$nat" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.n2.rp_filter=0 \
	net.ipv4.conf.n3.rp_filter=0 net.ipv4.conf.n4.rp_filter=0
# packets are routed by their tenant: its ct mark, as fwmark
ip -n "$nat" rule add fwmark 2/0xff lookup 102
ip -n "$nat" route add 100.64.1.0/24 via 100.64.0.6 table 102
ip -n "$nat" rule add fwmark 3/0xff lookup 103
ip -n "$nat" route add 100.64.1.0/24 via 100.64.0.10 table 103
ip -n "$nat" route add default via 192.0.2.2 table 103
ip netns exec "$nat" nft -f - <<'NFT' || fail "tenants' zones"
table ip tenants {
	chain zone {
		type filter hook prerouting priority raw; policy accept;
		ct original zone set iifname map { "n0" : 1, "n2" : 2 }
		ct zone set iifname map { "n3" : 3, "n4" : 3 }
	}
	chain route {
		type filter hook prerouting priority -190; policy accept;
		ct direction original ct mark set iifname map { "n0" : 1, "n2" : 2, "n3" : 3 }
		meta mark set ct mark
	}
}
NFT
ip -n "$gw" addr add $GW2/24 dev g0
start_gateway "$WORK/gw.log" -a $GW_ADDR -s
start_gateway "$WORK/gw2.log" -a $GW2
gw=$gwc start_gateway "$WORK/gwc.log" -a $GW_ADDR -s
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"
start_helper "$nat" "$WORK/helper.log" --host-pins 1

# pool_of ZONE GATEWAY: the pin's pool address, or nothing
pool_of() {
	ip netns exec "$nat" nft list map ip natt_pin pins |
		grep -o "\b$1 \. $INNER \. $2 [^,}]*: [0-9.]*" | awk '{ print $NF }'
}
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f $INNER >"$WORK/a" ||
	fail "tenant A (zone 1) through the strict gateway: $(cat "$WORK/a")"
ip netns exec "$subb" "$IKEPEER" client -g $GW_ADDR -f $INNER >"$WORK/b" ||
	fail "tenant B (zone 2), with A pinned and a cap of 1: $(cat "$WORK/b")"
p1=$(pool_of 1 $GW_ADDR) p2=$(pool_of 2 $GW_ADDR)
[ -n "$p1" ] && [ -n "$p2" ] || fail "no pin per zone: $(ip netns exec "$nat" nft list map ip natt_pin pins)"
[ "$p1" != "$p2" ] || fail "both zones' IKE flows left via $p1: the test shows nothing"
[ -z "$(pool_of 0 $GW_ADDR)" ] || fail "a pin in zone 0"
# each IKE SA floated from the address it began on (the strict gateway's view)
while read -r on500 on4500; do
	[ "$on500" = "$on4500" ] || fail "an IKE SA on $on500 floated via $on4500"
	seen+=" $on500"
done < <(floated_pairs "$WORK/gw.log")
[[ "$seen" == *" $p1"* && "$seen" == *" $p2"* ]] || fail "the gateway saw SAs from$seen, not $p1 and $p2"
echo "zone 1 $INNER pinned to $p1, zone 2 $INNER to $p2; each NAT-T flow left from its own"
# zone 3, both directions: found in conntrack by the zone in its priority
ip netns exec "$subc" "$IKEPEER" client -g $GW_ADDR -f $INNER >"$WORK/c" ||
	fail "tenant C (zone 3, both directions) through its strict gateway: $(cat "$WORK/c")"
p3=$(pool_of 3 $GW_ADDR)
[ -n "$p3" ] || fail "no pin in zone 3: $(ip netns exec "$nat" nft list map ip natt_pin pins)"
read -r on500 on4500 < <(floated_pairs "$WORK/gwc.log")
[ "$on500" = "$p3" ] && [ "$on4500" = "$p3" ] || fail "zone 3's SA: $on500, floated via $on4500, pin $p3"
echo "zone 3 (both directions) $INNER pinned to $p3"
grep -q "pin: zone 2 $INNER -> $GW_ADDR via $p2 " "$WORK/helper.log" ||
	fail "no log line naming zone 2: $(grep 'pin:' "$WORK/helper.log")"

# the cap of 1 counts per zone . inner host: A has its one, B had room
ip netns exec "$sub" "$IKEPEER" client -g $GW2 -f $INNER >/dev/null || fail "lenient gateway"
[ -z "$(pool_of 1 $GW2)" ] || fail "zone 1 $INNER got a second pin over its cap"
busywait 3000 grep -qs "inner host zone 1 $INNER holds its cap of 1 pins" "$WORK/helper.log" ||
	fail "no cap warning for zone 1: $(grep 'cap' "$WORK/helper.log")"
ip netns exec "$subb" "$IKEPEER" client -g $GW2 -f 100.64.1.11 >/dev/null || fail "lenient gateway"
[ -n "$(ip netns exec "$nat" nft list map ip natt_pin pins | grep -o '2 \. 100\.64\.1\.11 \. ')" ] ||
	fail "zone 2's 100.64.1.11 got no pin"
echo "--host-pins 1: zone 1 $INNER refused a second pin; zone 2 $INNER had its own room"

# explain WANT_EXIT WANT_TEXT ARGS...
explain() {
	local want=$1 text=$2 rc
	shift 2
	ip netns exec "$nat" "$HELPER" --explain "$@" >"$WORK/explain" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || fail "--explain $*: exit $rc, not $want: $(cat "$WORK/explain")"
	# a verdict is the last line; an error comes before the hint to --help
	{ [ "$want" = 2 ] && head -1 "$WORK/explain" || tail -1 "$WORK/explain"; } | grep -q -- "$text" ||
		fail "--explain $*: last line is not '$text': $(cat "$WORK/explain")"
	echo "explain $*: exit $rc: $(tail -1 "$WORK/explain")"
}
explain 0 "pinned and consistent (pinned to $p2)" 2:$INNER
grep -q "^subscriber zone 2 $INNER$" "$WORK/explain" || fail "explain: $(cat "$WORK/explain")"
explain 0 "pinned and consistent (pinned to $p1)" 1:$INNER $GW_ADDR
explain 3 "not pinned: no IKE or NAT-T flow" $INNER
explain 2 "invalid zone \`x'" x:$INNER
explain 2 "invalid zone \`70000'" 70000:$INNER

out=$(ip netns exec "$nat" "$HELPER" --status)
grep -qE "^ +2 +${INNER//./\\.} +${GW_ADDR//./\\.} +${p2//./\\.} +[0-9]+$" <<<"$out" ||
	fail "--status lacks zone 2's pin: $out"

# the rebuild from conntrack: each pin back in its zone, to its address
kill -9 "$HELPER_PID"
flush_pins "$nat"
start_helper "$nat" "$WORK/helper2.log" --host-pins 1
busywait 5000 grep -qs "rebuild: " "$WORK/helper2.log" || fail "no rebuild: $(cat "$WORK/helper2.log")"
[ "$(pool_of 1 $GW_ADDR) $(pool_of 2 $GW_ADDR)" = "$p1 $p2" ] ||
	fail "the rebuild restored '$(pool_of 1 $GW_ADDR)' '$(pool_of 2 $GW_ADDR)', not $p1 $p2"
echo "rebuild: zone 1 $INNER -> $p1 and zone 2 $INNER -> $p2 restored"
# --check: conntrack comes with the packet, or the look-up gets the zone
out=$(ip netns exec "$nat" "$HELPER" --check 2>&1)
grep -qE "(ok|info) +conntrack in queued packets: (yes|no .* in the conntrack zone the ruleset puts in the answer's priority)" <<<"$out" ||
	fail "--check on conntrack and zones: $(grep 'conntrack in' <<<"$out")"
echo "PASS: 77-zones"
