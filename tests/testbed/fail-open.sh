#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The helper is never in the way: with the ruleset loaded and no helper, IKE
# passes untouched (queue bypass); killed with SIGKILL under load, traffic
# goes on, every exchange completes, and the pins already made keep working.
# Lost packets are counted as the clients' retransmissions.
source "$(dirname "$0")/lib.sh"
LOAD=${LOAD:-4}		# parallel clients
EACH=${EACH:-150}	# exchanges each

setup_testbed
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/gw.log" || fail "gateway"
retransmits() { cat "$@" | awk '{ n += $7 } END { print n + 0 }'; }
oks() { cat "$@" | grep -c ' ok '; }

# 1. ruleset loaded, no helper
load_pin_ruleset "$cgn" || fail "ruleset"
ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f 100.64.16.1 -n 50 -t 200 >"$WORK/nohelper"
echo "no helper: $(oks "$WORK/nohelper") of 50 exchanges, $(retransmits "$WORK/nohelper") retransmissions"
[ "$(oks "$WORK/nohelper")" = 50 ] || fail "IKE did not pass with no helper"
[ "$(retransmits "$WORK/nohelper")" = 0 ] || fail "packets lost with no helper"

# 2. killed under load
start_helper "$cgn" "$WORK/helper.log"
for ((j = 0; j < LOAD; j++)); do
	ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f "100.64.$((17 + j)).1" \
		-n "$EACH" -t 200 >"$WORK/load$j" &
	clients+=($!)
done
# once the helper is busy: a third of the pins made
npins() { ip netns exec "$cgn" nft list map ip natt_pin pins | grep -o '100\.64\.[0-9.]* \. ' | wc -l; }
busy() { [ "$(npins)" -ge $((LOAD * EACH / 3)) ]; }
busywait 20000 busy ||
	fail "load did not start"
kill -9 "$HELPER_PID"
wait "$HELPER_PID" 2>/dev/null
pins_at_kill=$(npins)
failed=0
for p in "${clients[@]}"; do wait "$p" || failed=$((failed + 1)); done
total=$((LOAD * EACH))
ok=$(oks "$WORK"/load*)
lost=$(retransmits "$WORK"/load*)
echo "SIGKILL under load: $ok of $total exchanges completed; $lost packets lost at the kill" \
	"(recovered by retransmission); $pins_at_kill pins made before it"
[ "$ok" = "$total" ] || fail "$((total - ok)) exchanges failed after the kill"

# 3. the pins made before the kill still steer new flows
first=$(grep -m1 '^pin:' "$WORK/helper.log" | awk '{ print $2 }')
want=$(grep -m1 '^pin:' "$WORK/helper.log" | awk '{ print $6 }')
: >"$WORK/gw.mark"
ip netns exec "$cgn" conntrack -F >/dev/null 2>&1
ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f "$first" -n 1 >"$WORK/after" ||
	fail "IKE from a pinned subscriber after the kill"
read -r _ _ _ _ c _ <"$WORK/after"
got=$(awk -v c="$c" '$1 == "rx" && $5 == c { print $2 ":" $3 }' "$WORK/gw.log" | sort -u | tr '\n' ' ')
echo "after the kill, $first (pinned to $want): gateway saw $got"
[ "$got" = "4500:$want 500:$want " ] || fail "the pin of $first no longer steers its flows"
result "no helper 50/50; killed under load: $ok/$total completed, $lost lost at the kill; pins still steer"
echo "PASS: fail-open"
