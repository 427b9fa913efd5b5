#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Under a steady load of IKE exchanges: the helper restarted (SIGTERM, then
# started again), natt-pin.nft reloaded while it runs, the operator's own
# ruleset reloaded. Every exchange completes, the helper logs each step, and
# no pin is lost: the map only grows. Replies that arrive while no helper is
# bound pass unpinned (bypass); their exchanges are counted as floated.
source "$(dirname "$0")/lib.sh"
BATCH=20	# exchanges per client run; runs go on until the steps are done
PACE=0.05	# s between runs: a steady load, not as fast as it goes
BALANCE=inc	# without a pin, the NAT-T flow always gets another address

setup_testbed
# the load's subscribers: room for every run until the steps are done
load_range
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway"
pin_on
pins() { ip netns exec "$cgn" nft list map ip natt_pin pins | grep -o '100\.[0-9.]* \. ' | wc -l; }

# the load: client runs one after the other, each from BATCH new inner
# hosts of 100.80.0.0/12, PACE apart, until told to stop (at most 5000 runs)
load_loop() {
	local b=0 a
	while [ ! -e "$WORK/stop" ] && [ $b -lt 5000 ]; do
		a=$((1 + b * BATCH))
		ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" \
			-f "$(load_addr $a)" -n $BATCH -t 200 >>"$WORK/load"
		b=$((b + 1))
		sleep $PACE
	done
}
load_loop &
load=$!

# progress: pins in the map (the log summarises once pins come fast)
at_least() { [ "$(pins)" -ge "$1" ]; }
busywait 20000 at_least 50 || fail "load did not start"
n0=$(pins)
gap_start=$(wc -l <"$WORK/gw.log")
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
rc=$?
start_helper "$cgn" "$WORK/helper2.log"
gap_end=$(wc -l <"$WORK/gw.log")
n1=$(pins)
grep -q "queue 0 unbound, pins stay" "$WORK/helper.log" || fail "no exit line"
echo "restart: exit $rc, '$(grep 'unbound' "$WORK/helper.log")'; then '$(head -1 "$WORK/helper2.log" | cut -c1-60)...'"
echo "  pins: $n0 before SIGTERM, $n1 after"
[ "$rc" = 0 ] && [ "$n1" -ge "$n0" ] || fail "restart lost pins or failed"

busywait 20000 at_least $((n1 + 50)) || fail "no pins after restart"
n2=$(pins)
load_pin_ruleset "$cgn" || fail "reload of natt-pin.nft"
n3=$(pins)
echo "natt-pin.nft reloaded under load: pins $n2 before, $n3 after"
[ "$n3" -ge "$n2" ] || fail "reload lost pins"

busywait 20000 at_least $((n3 + 30)) || fail "no pins after reload"
n4=$(pins)
cgnat_ruleset | ip netns exec "$cgn" nft -f - || fail "operator reload"
n5=$(pins)
echo "operator's ruleset reloaded under load: pins $n4 before, $n5 after"
[ "$n5" -ge "$n4" ] || fail "operator reload lost pins"

touch "$WORK/stop"
wait $load
EACH=$(grep -c '^attempt' "$WORK/load")
ok=$(grep -c ' ok ' "$WORK/load")
# floated: the NAT-T flow left from another address than the IKE flow;
# counted by where the IKE flow's first message stands in the gateway's log
# (give or take 32 exchanges: the log and the signals do not move in step)
read -r floated in_gap < <(awk -v s="$gap_start" -v e="$gap_end" '
	$1 == "rx" && $2 == 500 && !($5 in a) { a[$5] = $3; at[$5] = NR }
	$1 == "rx" && $2 == 4500 && !($5 in f) { f[$5] = $3 }
	END { for (c in f) if (a[c] != f[c]) { n++; if (at[c] > s - 64 && at[c] <= e + 64) g++ }
	      print n + 0, g + 0 }' "$WORK/gw.log")
final=$(pins)
echo "load: $ok of $EACH exchanges completed; $floated floated, $in_gap of them started while no helper was bound; $final pins"
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs 'stats: pins' "$WORK/helper2.log" || fail "no counters"
result "$ok/$EACH completed through restart and reloads; $floated floated ($in_gap in the restart gap); pins never fewer ($n0>$n1, $n2>$n3, $n4>$n5)"
[ "$ok" = "$EACH" ] || fail "$((EACH - ok)) exchanges failed"
[ "$final" -ge "$n5" ] || fail "pins lost at the end"
[ "$floated" = "$in_gap" ] || fail "$((floated - in_gap)) exchanges floated outside the restart gap"
echo "PASS: restart-and-reload"
