#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# Under a steady load of IKE exchanges, the operator applies a firewall file
# shaped like Debian's stock /etc/nftables.conf: `flush ruleset`, then its
# own tables, the CGNAT among them. Once without natt-pin.nft included, once
# with it. The helper puts the ruleset back by itself (restore is on by
# default). For each: the time until pins are made again, the pins before,
# right after and after the restore, the exchanges that started in the gap
# and how many of them ended split (their NAT-T flow left from another pool
# address). No exchange fails, and none floats outside the gaps.
# Two address spaces under the load: sub's subscribers (zone 0) and a
# tenant's with the same inner addresses in conntrack zone 2 (lib.sh,
# add_tenant). The operator's file carries its zone rules (table ip zones)
# too, as it must: `flush ruleset` takes them with everything else.
source "$(dirname "$0")/lib.sh"
BATCH=20	# exchanges per client run; runs go on until the rounds are done
PACE=0.05	# s between a client's runs: a steady load, not as fast as it goes
LOOPS=4		# clients at once: one waiting on a held answer stalls only itself
TLOOPS=2	# of them, the tenant's too: the same addresses as loops 0..TLOOPS-1
BALANCE=inc	# without a pin, the NAT-T flow always gets another address
SLACK=64	# gateway log lines around a gap: exchanges under way at its edges
PROBE=20	# exchanges started right after the reload, from 100.64.1.0/24

setup_testbed
# the load's subscribers: room for every run until the rounds are done
load_range
add_tenant tb 2
ip -n "$tb" route add local 100.80.0.0/12 dev lo
ip -n "$cgn" route add 100.80.0.0/12 via 100.64.0.10 dev t2 table 102
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway"
pin_on --ruleset "$RULES/natt-pin.nft" --loader "$RULES/natt-pin-load"
pins() { ip netns exec "$cgn" nft list map ip natt_pin pins 2>/dev/null | grep -o '100\.[0-9.]* \. ' | wc -l; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
count() { grep -c "$1" "$WORK/helper.log"; }

# operator_conf [INCLUDE]: the shipped nftables.conf.example (Debian's
# stock file) including INCLUDE, or without the include line; the CGNAT
operator_conf() {
	if [ -n "${1:-}" ]; then
		sed "s|^include \"/etc/nfq-helper/natt-pin.nft\"$|include \"$1\"|" "$RULES/nftables.conf.example"
	else
		sed '/^include /d' "$RULES/nftables.conf.example"
	fi
	cgnat_ruleset
	zones_ruleset
}

# the load: LOOPS clients, each running one after the other from BATCH new
# inner hosts of its /14 of 100.80.0.0/12, PACE apart, until told to stop
# (at most 2000 runs: the loop is bounded)
load_loop() {	# load_loop L NS NAME
	local l=$1 b=0 a
	while [ ! -e "$WORK/stop" ] && [ $b -lt 2000 ]; do
		a=$((l * 262144 + 1 + b * BATCH))
		ip netns exec "$2" "$IKEPEER" client -g "$(vip 0)" \
			-f "$(load_addr $a)" -n $BATCH -t 200 >>"$WORK/load.$3"
		b=$((b + 1))
		sleep $PACE
	done
}
loads=()
for ((l = 0; l < LOOPS; l++)); do
	load_loop $l "$sub" $l &
	loads+=($!)
done
for ((l = 0; l < TLOOPS; l++)); do
	load_loop $l "$tb" "zone2-$l" &
	loads+=($!)
done

# round NAME CONF FIRST: applies CONF under the load, then starts PROBE
# exchanges from 100.64.1.FIRST on (the clients of the load wait on answers
# the reload took from the queue); prints the round's figures and appends
# them with its gap (gateway log lines) to $WORK/gaps
round() {
	local name=$1 conf=$2 first=$3 n0 n1 n2 s e t0 t1 events made gap off backs
	# pins in the map (the log summarises pin lines once they come fast)
	made=$(pins)
	more() { [ "$(pins)" -ge $((made + 50)) ]; }
	busywait 20000 more ||
		fail "$name: the load makes no pins"
	events=$(count 'ruleset: back after\|re-created in one transaction')
	backs=$(count 'ruleset: back after')
	n0=$(pins)
	s=$(wc -l <"$WORK/gw.log")
	t0=$(now_ms)
	ip netns exec "$cgn" nft -f "$conf" || fail "$name: the operator's reload"
	ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f "100.64.1.$first" \
		-n $PROBE -t 200 >"$WORK/load.probe-$name" &
	PIDS+=($!)
	n1=$(pins)
	busywait 10000 sh -c "[ \$(grep -c 'ruleset: back after\|re-created in one transaction' '$WORK/helper.log') -gt $events ]" ||
		fail "$name: the helper did not restore: $(grep ruleset: "$WORK/helper.log" | tail -3)"
	e=$(wc -l <"$WORK/gw.log")
	again() { [ "$(pins)" -gt "$n1" ]; }
	busywait 10000 again ||
		fail "$name: no pin after the restore"
	t1=$(now_ms)
	gap=$(grep -o 'back after [0-9]* ms' "$WORK/helper.log" | tail -1)
	[ $((events + 1)) -eq "$(count 'ruleset: back after\|re-created in one transaction')" ] ||
		fail "$name: more than one restore"
	made_again() { [ "$(pins)" -ge $((n1 + 50)) ]; }
	busywait 20000 made_again ||
		fail "$name: pins not made again"
	n2=$(pins)
	off=$(grep -o 'back after [0-9]* ms' "$WORK/helper.log" | tail -1 | awk '{ print $3 }')
	[ "$(count 'ruleset: back after')" -gt "$backs" ] || off=0	# re-created only
	echo "$name $s $e $((t1 - t0)) $n0 $n1 $n2 $off" >>"$WORK/gaps"
	echo "$name: pins made again $((t1 - t0)) ms after the reload (helper: ${gap:-re-created}); pins $n0 before, $n1 right after, $n2 after the restore"
}

operator_conf >"$WORK/nftables.conf"
round no-include "$WORK/nftables.conf" 1
[ "$(count 'the fix is off')" = 1 ] || fail "not one error for the loss"
if native_queue "$cgn"; then
	inc=$RULES/natt-pin.nft
else
	inc=$WORK/natt-pin-here.nft	# nft's queue rules cannot load here
	ip netns exec "$cgn" "$RULES/natt-pin-load" --print >"$inc" || fail "natt-pin-load --print"
fi
operator_conf "$inc" >"$WORK/nftables-include.conf"
round include "$WORK/nftables-include.conf" 101

touch "$WORK/stop"
wait "${loads[@]}"
busywait 10000 sh -c "[ \$(cat '$WORK'/load.probe-* | grep -c '^attempt') -ge $((2 * PROBE)) ]" ||
	fail "the exchanges started in the gaps did not end"
EACH=$(cat "$WORK"/load.* | grep -c '^attempt')
ok=$(cat "$WORK"/load.* | grep -c ' ok ')
each2=$(cat "$WORK"/load.zone2-* | grep -c '^attempt')
ok2=$(cat "$WORK"/load.zone2-* | grep -c ' ok ')
zone_pins=$(pins_list | awk '{ n[$1]++ } END { for (z in n) printf "%szone %s: %d", (k++ ? ", " : ""), z, n[z] }')
# answers the helper held at a flush: the kernel drops every queued packet
# of the namespace when a hook is unregistered; the client sends again
resent=$(cat "$WORK"/load.* | grep -vc 'retransmits 0$')
# per exchange (cookie): where its first IKE message stands in the gateway's
# log, and whether its NAT-T flow left from another address (floated)
awk '$1 == "rx" && $2 == 500 && !($5 in a) { a[$5] = $3; at[$5] = NR }
     $1 == "rx" && $2 == 4500 && !($5 in f) { f[$5] = $3 }
     END { for (c in at) print at[c], (c in f && a[c] != f[c]) }' "$WORK/gw.log" >"$WORK/exchanges"
summary=
floated_all=$(awk '$2 { n++ } END { print n + 0 }' "$WORK/exchanges")
floated_near=0
while read -r name s e ms n0 n1 n2 off; do
	read -r started split near < <(awk -v s="$s" -v e="$e" -v k="$SLACK" '
		$1 > s && $1 <= e { n++; x += $2 }
		$1 > s - k && $1 <= e + k && $2 { m++ }
		END { print n + 0, x + 0, m + 0 }' "$WORK/exchanges")
	floated_near=$((floated_near + near))
	echo "$name: $started exchanges started in the gap, $split of them ended split ($near floated within $SLACK log lines of it)"
	summary="$summary${summary:+; }$name: fix off $off ms, pins again in $ms ms, pins $n0>$n1>$n2, $started in gap, $split split"
done <"$WORK/gaps"
echo "load: $ok of $EACH exchanges completed ($ok2 of $each2 in zone 2); $floated_all floated in all, $floated_near of them at the gaps;" \
	"$resent needed a retransmission; pins at the end: $zone_pins"
result "$summary; $ok/$EACH completed ($ok2/$each2 zone 2's), $resent resent"
[ "$ok" = "$EACH" ] || fail "$((EACH - ok)) exchanges failed ($((each2 - ok2)) of zone 2)"
[ "$each2" -gt 0 ] || fail "the tenant's load made no exchange"
[ "$floated_all" = "$floated_near" ] || fail "$((floated_all - floated_near)) exchanges floated outside the gaps"
echo "PASS: operator-flush-ruleset"
