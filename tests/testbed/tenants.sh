#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# Two tenants on one CGNAT (business VRFs, wholesale partners): each on a
# subscriber-side link of its own, each in a conntrack zone of its own, both
# with the same inner addresses 100.64.1.10-29, both balanced per connection
# over one pool (198.51.100.1-POOL_SIZE) towards the same strict gateway
# (strict-gateway.nft in front of ikepeer's: IKE on 4500 passes only from
# the address that spoke 500 for the same initiator SPI).
#
#   sub (tenant A) --c0, zone 1--.
#                                 cgn -- lb -- gw (VIPs 203.0.113.76, .77)
#   tb  (tenant B) --t2, zone 2--'
#
# The zones are the operator's, set as the kernel's own selftest of zones
# and NAT (nft_nat_zones.sh) and VyOS's VRFs do (lib.sh, zone_link):
#   raw prerouting:   ct original zone set iifname map { "c0" : 1, "t2" : 2 }
#   mangle + 5:       ct state new ct mark set iifname map { ... }
#                     ct direction reply ct mark != 0 meta mark set ct mark
#   ip rule fwmark Z/0xff table 100+Z: the tenant's inner addresses via its link
# Directional (original direction only): the replies come back to a pool
# address on the Internet side, where nothing tells the tenant; their reply
# tuples stay in zone 0, which the NAT keeps unique across the zones, so
# they find their entries, and the ct mark routes them back to their link.
#
# Checked: the operator's NAT per zone (conntrack -L: zone-orig=1 and =2,
# every inner host twice, the reply tuples distinct); without the helper
# about 1 in POOL_SIZE tunnels up; with it every tunnel of both tenants,
# tenant A's first and then tenant B's, each pinned in its own zone, and
# each tunnel's IKE and NAT-T flows left from its own zone's pin (the pins
# and the gateway's log); tenant B's addresses are not tenant A's (a pin of
# A serving B would give B A's address every time). Then the caps count per
# tenant: with --host-pins 1, tenant A's 100.64.1.10 holds its one pin and
# is refused a second, while tenant B's 100.64.1.10 still gets one.
GATEWAYS=2
source "$(dirname "$0")/lib.sh"
FIRST=${FIRST:-10}	# inner hosts 100.64.1.FIRST.. in each tenant
HOSTS=${HOSTS:-20}
WAIT=$((300 * ${NFQH_TIMEOUT_SCALE:-1}))	# ms, the clients' wait for an answer (twice)

setup_testbed
ta=$sub
# tenant A: sub, its link c0 in zone 1, its addresses no longer in the main table
ip -n "$cgn" route del 100.64.1.0/24 via 100.64.0.2
ip -n "$cgn" route del 100.64.16.0/20 via 100.64.0.2
zone_link "$cgn" c0 1 100.64.0.2
add_tenant tb 2
# the checks read a phase's flows from conntrack at its end: they must
# outlive it however slow the machine (unanswered UDP lasts 30 s)
ip netns exec "$cgn" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 \
	net.netfilter.nf_conntrack_udp_timeout_stream=600 || fail "conntrack's UDP timeouts"
strict_gateway
ip netns exec "$gw" "$IKEPEER" gateway >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway"

# tenant NS OUT: every inner host of the tenant in NS, one IKE exchange
# each (IKEv1 aggressive, then the float to 4500), one after the other
tenant() {
	ip netns exec "$1" "$IKEPEER" client -g "$(vip 0)" -f "100.64.1.$FIRST" -n "$HOSTS" \
		-t $WAIT -r 2 >"$WORK/$2" || true
}
ups() { grep -c ' ok ' "$WORK/$1"; }
fresh() {	# no flows, no pins
	ip netns exec "$cgn" conntrack -F >/dev/null 2>&1
	flush_pins "$cgn" 2>/dev/null || true
}
# ikeflows PORT: the CGNAT's UDP flows to PORT, "ZONE INNER POOL" a line
ikeflows() {
	ip netns exec "$cgn" conntrack -L -p udp --dport "$1" 2>/dev/null | grep 'src=100\.64\.1\.' | ct_zones
}

# 1. without the helper, both tenants at once
tenant "$ta" without-a &
a=$!
tenant "$tb" without-b &
b=$!
wait $a $b
up_a=$(ups without-a) up_b=$(ups without-b)
echo "without the helper: tenant A $up_a of $HOSTS up, tenant B $up_b of $HOSTS up" \
	"(pool of $POOL_SIZE, numgen $BALANCE: by chance ~1 in $POOL_SIZE), $(strict_drops) NAT-T packets dropped by the gateway"
[ "$(cat "$WORK"/without-? | grep -c '^attempt')" = $((2 * HOSTS)) ] ||
	fail "not every exchange ran: $(head -3 "$WORK/without-a")"
# the operator's NAT, per zone: each inner host once in each zone, the reply
# tuples (pool address and port) all distinct
ikeflows 500 | sort >"$WORK/ct-without"
ip netns exec "$cgn" conntrack -L -p udp --dport 500 2>/dev/null | grep 'src=100\.64\.1\.' |
	grep -o 'src=203\.0\.113\.7[67] dst=[0-9.]* sport=500 dport=[0-9]*' | sort | uniq -d >"$WORK/ct-dups"
z1=$(awk '$1 == 1' "$WORK/ct-without" | awk '{ print $2 }' | sort -u | wc -l)
z2=$(awk '$1 == 2' "$WORK/ct-without" | awk '{ print $2 }' | sort -u | wc -l)
echo "the operator's NAT: IKE flows of $z1 inner hosts in zone 1 and $z2 in zone 2 (conntrack -L: zone-orig)," \
	"$(wc -l <"$WORK/ct-dups") reply tuples shared"
[ "$z1" = "$HOSTS" ] && [ "$z2" = "$HOSTS" ] ||
	fail "zones: $z1 and $z2 inner hosts of $HOSTS in zones 1 and 2: $(head -3 "$WORK/ct-without")"
[ -s "$WORK/ct-dups" ] && fail "two zones' flows share a reply tuple: $(cat "$WORK/ct-dups")"
[ $((up_a + up_b)) -le $((2 * HOSTS * 3 / 4)) ] ||
	fail "the fault did not show: $((up_a + up_b)) of $((2 * HOSTS)) up without the helper"

# 2. with the helper: tenant A's tunnels, then tenant B's, with A's pins live
fresh
pin_on -M "$WORK/metrics.prom"
tenant "$ta" with-a
tenant "$tb" with-b
up_a=$(ups with-a) up_b=$(ups with-b)
pins_list | sort -n >"$WORK/pins"
ikeflows 4500 | sort -u >"$WORK/ct-natt"
# per tunnel: TENANT INNER ADDR_ON_500 ADDR_ON_4500 (the gateway's log)
for t in a b; do
	awk -v t=$t '$4 == "ok" { print t, $3, $5 }' "$WORK/with-$t"
done >"$WORK/tunnels"
awk 'NR == FNR { if ($1 == "rx" && $2 == 500 && !($5 in a)) a[$5] = $3
		 if ($1 == "rx" && $2 == 4500 && !($5 in f)) f[$5] = $3; next }
     { print $1, $2, ($3 in a ? a[$3] : "-"), ($3 in f ? f[$3] : "-") }' "$WORK/gw.log" "$WORK/tunnels" \
	>"$WORK/seen"
# ZONE INNER POOL of tenant A's (zone 1) and B's (zone 2) pins to gateway 0
pins_to() { awk -v z="$1" -v g="$(vip 0)" '$1 == z && $3 == g { print $2, $4 }' "$WORK/pins" | sort; }
pins_to 1 >"$WORK/pins-a"
pins_to 2 >"$WORK/pins-b"
n_a=$(wc -l <"$WORK/pins-a") n_b=$(wc -l <"$WORK/pins-b")
# each tunnel's two flows left from its own zone's pin
own=$(awk 'NR == FNR { p[($1 == 1 ? "a" : "b") " " $2] = $4; next }
	($1 " " $2) in p && $3 == p[$1 " " $2] && $4 == $3 { n++ } END { print n + 0 }' \
	"$WORK/pins" "$WORK/seen")
# the NAT-T flows in conntrack: zone . inner -> pool, the zone's own pin
ct_own=$(awk 'NR == FNR { p[$1 " " $2] = $4; next } ($1 " " $2) in p && p[$1 " " $2] == $3 { n++ }
	END { print n + 0 }' "$WORK/pins" "$WORK/ct-natt")
# inner hosts whose two tenants' tunnels came from one address (the
# gateway's log): ~1 in POOL_SIZE by chance; every one if A's pins served B
same=$(awk '$1 == "a" { a[$2] = $3 } $1 == "b" && ($2 in a) && a[$2] == $3 { n++ } END { print n + 0 }' \
	"$WORK/seen")
echo "with the helper: tenant A $up_a of $HOSTS up, tenant B $up_b of $HOSTS up;" \
	"pins: $n_a in zone 1, $n_b in zone 2, $(wc -l <"$WORK/pins") in all"
echo "  $own of $((2 * HOSTS)) tunnels left on 500 and 4500 from their own zone's pin;" \
	"$ct_own of $(wc -l <"$WORK/ct-natt") NAT-T flows in conntrack SNATed to their zone's pin;" \
	"$same of $HOSTS inner hosts got the same address in both tenants (by chance ~1 in $POOL_SIZE)"
[ "$up_a" = "$HOSTS" ] && [ "$up_b" = "$HOSTS" ] ||
	fail "with the helper only $up_a and $up_b of $HOSTS up: $(grep -v ' ok ' "$WORK/with-a" "$WORK/with-b" | head -3)"
[ "$n_a" = "$HOSTS" ] && [ "$n_b" = "$HOSTS" ] ||
	fail "pins per zone: $n_a in zone 1, $n_b in zone 2, not $HOSTS each: $(head -5 "$WORK/pins")"
[ "$own" = $((2 * HOSTS)) ] || fail "$((2 * HOSTS - own)) tunnels did not leave from their zone's pin:" \
	"$(head -5 "$WORK/seen")"
[ "$ct_own" = $((2 * HOSTS)) ] || fail "NAT-T flows not on their zone's pin: $(head -5 "$WORK/ct-natt")"
[ "$same" -lt "$HOSTS" ] || fail "tenant B left from tenant A's addresses for every inner host"
with="A $up_a/$HOSTS, B $up_b/$HOSTS up; pins $n_a in zone 1, $n_b in zone 2; $same/$HOSTS same address"

# 3. the caps, per tenant: --host-pins 1
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
fresh
start_helper "$cgn" "$WORK/helper-caps.log" --host-pins 1 -M "$WORK/metrics.prom"
one() {	# one NS OUT GATEWAY: 100.64.1.FIRST of NS, one exchange
	ip netns exec "$1" "$IKEPEER" client -g "$3" -f "100.64.1.$FIRST" -t $WAIT -r 2 >"$WORK/$2" || true
}
pin_of() { pins_list | awk -v z="$1" -v g="$2" -v h="100.64.1.$FIRST" '$1 == z && $2 == h && $3 == g { print $4 }'; }
one "$ta" cap-a0 "$(vip 0)"
one "$ta" cap-a1 "$(vip 1)"
one "$tb" cap-b1 "$(vip 1)"
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs 'stats: pins' "$WORK/helper-caps.log" || fail "no counters"
capped=$(awk '$1 == "nfq_helper_pins_total{outcome=\"capped\"}" { print $2 }' "$WORK/metrics.prom")
a0=$(pin_of 1 "$(vip 0)") a1=$(pin_of 1 "$(vip 1)") b1=$(pin_of 2 "$(vip 1)")
echo "caps (--host-pins 1): tenant A's 100.64.1.$FIRST pinned to gateway 0 (${a0:-no pin})," \
	"refused for gateway 1 (${a1:-no pin}; ${capped:-?} answers capped);" \
	"tenant B's 100.64.1.$FIRST pinned to gateway 1 (${b1:-no pin}), $(ups cap-b1) of 1 up"
[ -n "$a0" ] && grep -q ' ok ' "$WORK/cap-a0" || fail "tenant A's first tunnel: ${a0:-no pin}, $(cat "$WORK/cap-a0")"
[ -z "$a1" ] && [ "${capped:-0}" -ge 1 ] || fail "tenant A's cap not kept: pin ${a1:-none}, ${capped:-0} capped"
[ -n "$b1" ] && grep -q ' ok ' "$WORK/cap-b1" ||
	fail "tenant A's cap blocked tenant B: ${b1:-no pin}, $(cat "$WORK/cap-b1")"

without_a=$(ups without-a) without_b=$(ups without-b)
result "without: A $without_a/$HOSTS, B $without_b/$HOSTS up; with: $with; cap 1: B pinned beside A's"
echo "PASS: tenants"
