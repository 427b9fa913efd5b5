#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Garbage from outside and inside: a gateway answering only with broken IKE
# (not IKE, truncated, zero SPIs, bad length, version, exchange); forged
# answers and non-IKE datagrams to the pool for flows that do not exist; a
# flood of exchanges with 127 fake gateways from 2048 subscribers; the same
# into a map too small for it. No pin from garbage, the helper stays up, its
# counters say what it saw, and no exchange is lost.
source "$(dirname "$0")/lib.sh"
FLOOD_CLIENTS=8 FLOOD_EACH=256

setup_testbed
ip netns exec "$gw" "$IKEPEER" gateway -a "$(gw_private 0)" -x >"$WORK/hostile.log" 2>&1 &
PIDS+=($!)
ip netns exec "$gw" "$IKEPEER" gateway >"$WORK/flood.log" 2>&1 &	# every address: 203.0.113.128/25 too
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/hostile.log" || fail "hostile gateway"
busywait 5000 grep -qs '^ready' "$WORK/flood.log" || fail "flood gateways"
pin_on -M "$WORK/metrics.prom"
alive() { kill -0 "$HELPER_PID" 2>/dev/null || fail "the helper died: $(tail -3 "$WORK/helper.log")"; }
counters() {	# counters: the helper's stats lines, fresh
	local n
	n=$(grep -c 'stats: batches' "$WORK/helper.log")
	kill -USR1 "$HELPER_PID"
	busywait 3000 sh -c "[ \$(grep -c 'stats: batches' '$WORK/helper.log') -gt $n ]" || fail "no counters"
	grep 'stats:' "$WORK/helper.log" | tail -3
}
npins() { ip netns exec "$cgn" nft list map ip natt_pin pins | grep -o '100\.64\.[0-9.]* \. ' | wc -l; }

# 1. inside: 20 subscribers talk to a gateway that answers with garbage only
ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f 100.64.1.1 -n 20 -t 100 -r 1 >"$WORK/garbage"
alive
c=$(counters)
rejected=$(grep -o 'ike rejected [0-9]*' <<<"$c" | awk '{ print $3 }')
notike=$(grep -o 'not ike [0-9]*' <<<"$c" | awk '{ print $3 }')
echo "broken answers from a gateway: $(npins) pins; helper: ike rejected $rejected, not ike $notike"
[ "$(npins)" = 0 ] || fail "a pin was learnt from garbage"
[ $((rejected + notike)) -ge 100 ] || fail "the helper did not see the garbage: $c"
# each kind of garbage, counted under its own reason (20 subscribers each)
by=''
for reason in bad_version bad_exchange bad_length zero_initiator_spi zero_responder_spi; do
	n=$(sed -n "s/^nfq_helper_ike_rejected_total{reason=\"$reason\"} //p" "$WORK/metrics.prom")
	[ "${n:-0}" -ge 20 ] || fail "rejected for $reason: ${n:-none}"
	by="$by $reason $n,"
done
echo "  rejected by reason:${by%,}"

# 2. outside: forged answers and junk to the pool, for flows that do not exist
before=$(grep -o 'packets [0-9]*' <<<"$c" | head -1)
for p in 1 2 3 4; do
	ip netns exec "$lb" "$IKEPEER" forge -g "198.51.100.$p" -f 203.0.113.2 -p 500 -n 250
	ip netns exec "$lb" "$IKEPEER" forge -g "198.51.100.$p" -f 203.0.113.2 -p 4500 -n 250
	ip netns exec "$lb" "$IKEPEER" udp -g "198.51.100.$p" -f 203.0.113.2 -p 500 -n 50
done
alive
c=$(counters)
after=$(grep -o 'packets [0-9]*' <<<"$c" | head -1)
echo "2200 forged answers and junk datagrams to the pool: helper $before -> $after, $(npins) pins"
[ "$before" = "$after" ] || fail "unsolicited answers reached the helper"
[ "$(npins)" = 0 ] || fail "a pin from an unsolicited answer"

# 3. a flood: FLOOD_CLIENTS x FLOOD_EACH subscribers, 127 fake gateways
flood() {	# flood FIRST_ADDRESS_INDEX LOG_PREFIX
	local j a pids=()
	for ((j = 0; j < FLOOD_CLIENTS; j++)); do
		a=$(($1 + j * FLOOD_EACH))
		ip netns exec "$sub" "$IKEPEER" client -g 203.0.113.128 -G 127 \
			-f "100.64.$((a / 256)).$((a % 256))" -n $FLOOD_EACH -t 1000 -r 5 >"$WORK/$2$j" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
}
total=$((FLOOD_CLIENTS * FLOOD_EACH))
start=$(date +%s%N)
flood $((16 * 256)) flood
ms=$(( ($(date +%s%N) - start) / 1000000 ))
alive
ok=$(cat "$WORK"/flood[0-9]* | grep -c ' ok ')
lost=$(cat "$WORK"/flood[0-9]* | awk '{ n += $7 } END { print n + 0 }')
c=$(counters)
echo "flood: $ok of $total exchanges with 127 gateways in ${ms} ms, $lost retransmissions; $(npins) pins"
echo "$c" | sed 's/^/  /'
[ "$ok" = "$total" ] || fail "$((total - ok)) flood exchanges failed"
[ "$(npins)" = "$total" ] || fail "expected $total pins"

# 4. the same flood into a map of 1000
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
ip netns exec "$cgn" nft add table ip natt_small
ip netns exec "$cgn" nft add map ip natt_small pins \
	"{ typeof ct zone . ip saddr . ip daddr : ip daddr; flags timeout; timeout 1h; size 1000; }"
start_helper "$cgn" "$WORK/helper.log" -t natt_small
flood $((24 * 256)) small
alive
ok=$(cat "$WORK"/small* | grep -c ' ok ')
c=$(counters)
full=$(grep -o 'map full [0-9]*' <<<"$c" | awk '{ print $3 }')
warnings=$(grep -c 'natt_small pins is full' "$WORK/helper.log")
small=$(ip netns exec "$cgn" nft list map ip natt_small pins | grep -o '100\.64\.[0-9.]* \. ' | wc -l)
echo "flood into a map of 1000: $ok of $total exchanges, $small pins, $full refused as map full, $warnings warning lines"
[ "$ok" = "$total" ] || fail "exchanges failed with a full map"
[ "$small" = 1000 ] && [ "$full" -gt 0 ] || fail "map full not handled: $c"
result "garbage: 0 pins ($rejected rejected, $notike not IKE); 2200 unsolicited: none queued; flood $total/$total ok, $total pins; full map: $total/$total ok, $full refused, $warnings warnings"
echo "PASS: hostile"
