#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Refreshes happen in the kernel: once a subscriber is pinned, its later IKE
# answers on 500 and 4500 (new exchanges, DPD) refresh the pin in natt-pin.nft
# and never reach the helper (its packet counter stays), the pin's expiry is
# pushed out to the map's timeout, its address never changes, and the
# packet-mark bits the fallback and the learn rule rely on are gone before
# anything after iptables' mangle chain sees them. An answer that conflicts
# with the live pin is refreshed and accepted in the kernel, the pin unmoved.
# Then the issue's case: one subscriber, 40 exchanges to one gateway: one
# answer queued, its pin written by the kernel's learn rule, no transaction.
source "$(dirname "$0")/lib.sh"
TIMEOUT=30	# the map's, in seconds
INNER=100.64.1.1

setup_topology
start_gateway "$WORK/gw.log" -a $GW_ADDR
sed "s/timeout 1h/timeout ${TIMEOUT}s/" "$RULES/natt-pin.nft" >"$WORK/natt-pin.nft"
load_pin_ruleset "$nat" "$WORK/natt-pin.nft" || fail "cannot load natt-pin.nft"
if native_queue "$nat"; then mode=native; else mode="iptables-nft fallback"; fi
mark=$(sed -n 's/^define NATT_PIN_MARK = \(0x[0-9a-fA-F]*\).*/\1/p' "$RULES/natt-pin.nft")
learn=$(sed -n 's/^define NATT_PIN_LEARN = \(0x[0-9a-fA-F]*\).*/\1/p' "$RULES/natt-pin.nft")
# anything after iptables' mangle chain that sees a mark bit counts here
ip netns exec "$nat" nft -f - <<NFT || fail "probe table"
table ip nfqh_probe {
	counter marked { }
	counter learning { }
	chain c {
		type filter hook prerouting priority mangle + 2; policy accept;
		meta mark and $mark == $mark counter name marked
		meta mark and $learn == $learn counter name learning
	}
}
NFT
start_helper "$nat" "$WORK/helper.log"

nftx() { ip netns exec "$nat" nft "$@"; }
counter() { nftx list counter ip "$1" "$2" | grep -o 'packets [0-9]*' | awk '{ print $2 }'; }
helper_packets() {	# the helper's packet counter, through SIGUSR1
	local before
	before=$(grep -c 'stats: packets' "$WORK/helper.log")
	kill -USR1 "$HELPER_PID"
	busywait 3000 sh -c "[ \$(grep -c 'stats: packets' '$WORK/helper.log') -gt $before ]" ||
		fail "no counters"
	grep 'stats: packets' "$WORK/helper.log" | tail -1 | sed 's/.*stats: packets \([0-9]*\),.*/\1/'
}
pool_of() { nftx list map ip natt_pin pins | grep -o "$1 \. $GW_ADDR [^,}]*: [0-9.]*" | awk '{ print $NF }'; }
expires() {	# expires INNER: seconds left, rounded down
	nftx list map ip natt_pin pins |
		grep -o "$1 \. $GW_ADDR [^,}]*expires [0-9dhms]*" | sed 's/.*expires //' |
		awk '{ s = 0	# 1h2m3s456ms -> 3723
			while (match($0, /^[0-9]+(ms|d|h|m|s)/)) {
				v = substr($0, 1, RLENGTH); $0 = substr($0, RLENGTH + 1)
				n = v + 0; u = v; sub(/^[0-9]+/, "", u)
				s += u == "d" ? n * 86400 : u == "h" ? n * 3600 : u == "m" ? n * 60 : u == "s" ? n : 0
			}
			print s }'
}
exchange() {	# exchange [ARGS]: one IKEv2 exchange of INNER
	ip netns exec "$sub" "$IKEPEER" client -2 -g $GW_ADDR -f $INNER -n 1 "$@" \
		>>"$WORK/client" || fail "IKE exchange failed: $(tail -1 "$WORK/client")"
}

# the first exchange: its 500 answer makes the pin, its 4500 answer refreshes it
exchange
pool=$(pool_of $INNER)
[ -n "$pool" ] || fail "no pin made"
[ "$(helper_packets)" = 1 ] || fail "the helper saw more than the first answer"
[ "$(counter natt_pin refreshes)" = 1 ] || fail "the 4500 answer was not refreshed in the kernel"

# aged, then one exchange with DPD: pushed out to the map's timeout, unmoved
aged() { [ "$(expires $INNER)" -le $((TIMEOUT - 3)) ]; }
busywait 10000 aged || fail "pin did not age: $(expires $INNER) s left"
before=$(expires $INNER)
exchange -k 3 -i 50
after=$(expires $INNER)
[ "$after" -ge $((TIMEOUT - 1)) ] || fail "the refresh did not push the expiry out: $before -> $after s"
[ "$(pool_of $INNER)" = "$pool" ] || fail "the pin moved from $pool to $(pool_of $INNER)"
[ "$(helper_packets)" = 1 ] || fail "refreshed answers reached the helper"
refreshes=$(counter natt_pin refreshes)
[ "$refreshes" = 6 ] || fail "kernel refreshes: $refreshes, expected 1 + 500, 4500 and 3 DPD"
echo "refresh ($mode): expiry ${before}s -> ${after}s (map timeout ${TIMEOUT}s), 5 answers refreshed in the kernel, 0 queued"
[ "$(counter nfqh_probe marked)" = 0 ] || fail "the mark bit $mark was seen after the mangle chain"
[ "$(counter nfqh_probe learning)" = 0 ] || fail "the learn bit $learn was seen after the learn rule"

# a conflict: an answer via another pool address than the live pin's (its
# flow was NATed before the pin existed). The kernel refreshes and accepts
# it like any other; the pin keeps its address; the helper never sees it.
GW2=203.0.113.4
ip -n "$gw" addr add $GW2/24 dev g0
: >"$WORK/gw2.log"
start_gateway "$WORK/gw2.log" -a $GW2 -H 2	# holds the first two answers
X=100.64.1.50
ip netns exec "$sub" "$IKEPEER" client -2 -g $GW2 -f $X -n 1 -t $((5000 * ${NFQH_TIMEOUT_SCALE:-1})) -r 1 >"$WORK/x" &
xpid=$!
PIDS+=("$xpid")
flow_pool() { ip netns exec "$nat" conntrack -L -p udp -s $X -d $GW2 --dport 500 2>/dev/null |
	grep -o 'dst=198\.51\.100\.[0-9]*' | head -1 | cut -d= -f2; }
busywait 5000 sh -c "[ -n \"\$(ip netns exec $nat conntrack -L -p udp -s $X -d $GW2 --dport 500 2>/dev/null)\" ]" ||
	fail "conflict: no 500 flow of $X"
pa=$(flow_pool)
pb=198.51.100.$(( ${pa##*.} % 4 + 1 ))
nftx add element ip natt_pin pins "{ 0 . $X . $GW2 : $pb }"
# the keys shape (kernels without map key look-ups) finds pins in set pinned
! nftx list sets ip | grep -q 'set pinned' ||
	nftx add element ip natt_pin pinned "{ 0 . $X . $GW2 }"
r0=$(counter natt_pin refreshes) p0=$(helper_packets)
ip netns exec "$sub" "$IKEPEER" client -2 -g $GW2 -f 100.64.1.51 -n 1 >/dev/null ||
	fail "conflict: the releasing exchange failed"
wait "$xpid" || fail "conflict: the held exchange failed: $(cat "$WORK/x")"
r1=$(counter natt_pin refreshes) p1=$(helper_packets)
[ "$(nftx list map ip natt_pin pins | grep -o "$X \. $GW2 [^,}]*: [0-9.]*" | awk '{ print $NF }')" = "$pb" ] ||
	fail "conflict: the pin moved from $pb"
[ $((p1 - p0)) = 1 ] || fail "conflict: the helper saw $((p1 - p0)) answers, expected only the other subscriber's first"
[ $((r1 - r0)) -ge 3 ] || fail "conflict: $((r1 - r0)) refreshed in the kernel, expected the conflicting answer and two on 4500"
echo "conflict: the answer via $pa for a pin to $pb was refreshed and accepted in the kernel, the pin stayed on $pb, the helper saw none of it"

# the issue's case: one subscriber, 40 exchanges to one gateway
last_stat() {	# last_stat NAME: the number after NAME in the last counters
	grep 'stats: ' "$WORK/helper.log" | grep -o "$1 [0-9]*" | tail -1 | awk '{ print $NF }'
}
flush_pins "$nat"
ip netns exec "$nat" conntrack -F 2>/dev/null
refreshes=$(counter natt_pin refreshes) p0=$(helper_packets) t0=$(last_stat transactions) l0=$(last_stat learns)
for _ in $(seq 40); do exchange; done
p1=$(helper_packets)
line=$(grep 'stats: batches' "$WORK/helper.log" | tail -1)
echo "40 exchanges of one subscriber: $line"
t1=$(last_stat transactions) l1=$(last_stat learns)
# the pin is written by the kernel's learn rule: no transaction at all
[ $((t1 - t0)) = 0 ] && [ $((l1 - l0)) = 1 ] && [ "$(last_stat failed)" = 0 ] ||
	fail "40 exchanges: $((l1 - l0)) learns (expected 1), $((t1 - t0)) transactions (expected 0), $(last_stat failed) failed"
[ -n "$(pool_of $INNER)" ] || fail "40 exchanges: no pin"
[ $((p1 - p0)) = 1 ] || fail "40 exchanges: $((p1 - p0)) answers reached the helper, expected the first"
total=$(counter natt_pin refreshes)
[ "$total" = $((refreshes + 79)) ] ||
	fail "40 exchanges: $((total - refreshes)) refreshed in the kernel, expected 79 (all answers but the first)"
[ "$(counter nfqh_probe learning)" = 0 ] || fail "the learn bit $learn was seen after the learn rule"
echo "PASS: 25-kernel-refresh ($mode): 40 exchanges, 80 answers: 79 refreshed in the kernel, 1 queued and pinned by the kernel's learn rule, 0 transactions"
