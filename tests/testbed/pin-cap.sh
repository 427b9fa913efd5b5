#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One subscriber scans the Internet's IKE responders: it sends IKE to
# RESPONDERS (254) of them, each answering, and ends with at most its cap of
# pins (--host-pins, default 32), the rest counted and warned about, never
# dropped. Meanwhile OTHERS (10) other subscribers bring their tunnels up
# through a strict gateway: each one pinned (with BALANCE=inc, an unpinned
# NAT-T flow always leaves from another address, and the gateway drops it).
BALANCE=inc
source "$(dirname "$0")/lib.sh"
CAP=${CAP:-32}
OTHERS=${OTHERS:-10}
SCANNER=100.64.1.10

setup_testbed
# 127 more responders on 198.51.100.128/25, beside 203.0.113.128/25: AnyIP
# in the gw namespace, as the flood gateways of `hostile' (the pool is
# 198.51.100.1-POOL_SIZE)
ip -n "$lb" route add 198.51.100.128/25 via "$(gw_private 0)"
ip -n "$gw" route add local 198.51.100.128/25 dev lo
# the other subscribers' gateway is strict (ikepeer -s: no answer on 4500
# from an address that did not speak 500); the responders are not
ip netns exec "$gw" "$IKEPEER" gateway -s -a "$(gw_private 0)" >"$WORK/strict.log" 2>&1 &
PIDS+=($!)
ip netns exec "$gw" "$IKEPEER" gateway >"$WORK/responders.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs '^ready' "$WORK/strict.log" || fail "strict gateway"
busywait 5000 grep -qs '^ready' "$WORK/responders.log" || fail "responders"
pin_on -M "$WORK/metrics.prom" --host-pins "$CAP"

pins_of() {	# pins_of INNER: its pins in the map
	ip netns exec "$cgn" nft list map ip natt_pin pins |
		grep -o "$1 \\. [0-9.]* [^,}]*: [0-9.]*" | grep -c .
}

# the scan: one inner address, 127 + 127 responders, one attempt each
start=$(date +%s)
for range in 203.0.113.128 198.51.100.128; do
	ip netns exec "$sub" "$IKEPEER" client -1 -g "$range" -G 127 -f "$SCANNER" \
		-n 127 -t 300 -r 2 >"$WORK/scan-$range" &
	scans+=($!)
done
scanned() { [ "$(pins_of "$SCANNER")" -ge $((CAP / 2)) ]; }
busywait 20000 scanned || fail "the scan did not start: $(tail -3 "$WORK/helper.log")"
# meanwhile, other subscribers' tunnels
ip netns exec "$sub" "$IKEPEER" client -g "$(vip 0)" -f 100.64.1.50 -n "$OTHERS" \
	-t 300 -r 3 >"$WORK/others"
for p in "${scans[@]}"; do wait "$p"; done
secs=$(($(date +%s) - start))

kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs 'stats: batches' "$WORK/helper.log" || fail "no counters"
grep 'stats:' "$WORK/helper.log" | sed 's/^/  /'
scan_ok=$(cat "$WORK"/scan-* | grep -c ' ok ')
responders=$(awk '$1 == "rx" && $2 == 500 { print $8 }' "$WORK/responders.log" | sort -u | wc -l)
scanner_pins=$(pins_of "$SCANNER")
capped=$(sed -n 's/^nfq_helper_pins_total{outcome="capped"} //p' "$WORK/metrics.prom")
checks=$(sed -n 's/^nfq_helper_pin_checks_total //p' "$WORK/metrics.prom")
warnings=$(grep -c "inner host $SCANNER holds its cap of $CAP pins" "$WORK/helper.log")
echo "scan: $scan_ok of $((2 * 127)) exchanges completed with $responders responders;" \
	"$scanner_pins pins for $SCANNER (cap $CAP); $capped answers capped, $checks kernel checks," \
	"$warnings warning lines in $secs s"
grep -m1 "holds its cap" "$WORK/helper.log" | sed 's/^/  /'
grep -m1 "new pins in the last" "$WORK/helper.log" | sed 's/^/  /'

others_ok=$(grep -c ' ok ' "$WORK/others")
others_pinned=0
for ((i = 0; i < OTHERS; i++)); do
	[ "$(pins_of "100.64.1.$((50 + i))")" = 1 ] && others_pinned=$((others_pinned + 1))
done
echo "meanwhile: $others_ok of $OTHERS other subscribers' tunnels up through a strict gateway, $others_pinned pinned"
result "scan of $responders responders: $scanner_pins pins (cap $CAP), $capped capped, $warnings warnings; others $others_ok/$OTHERS up, $others_pinned pinned"

[ "$responders" -ge 200 ] || fail "only $responders responders answered"
[ "$scan_ok" = $((2 * 127)) ] || fail "scan exchanges failed: capped answers must pass"
[ "$scanner_pins" -le "$CAP" ] && [ "$scanner_pins" -ge 1 ] ||
	fail "$scanner_pins pins for the scanner, cap $CAP"
[ "${capped:-0}" -ge $((2 * 127 - CAP)) ] || fail "capped answers not counted: ${capped:-none}"
# rate-limited: one line per 10 s at most
[ "$warnings" -ge 1 ] && [ "$warnings" -le $((secs / 10 + 1)) ] ||
	fail "$warnings cap warnings in $secs s"
[ "$others_ok" = "$OTHERS" ] && [ "$others_pinned" = "$OTHERS" ] ||
	fail "other subscribers: $others_ok up, $others_pinned pinned"

# a restart keeps the cap: the new helper's rebuild from conntrack finds the
# scanner's pins (its state is rebuilt from the kernel), so the scan gets no
# new pin
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
start_helper "$cgn" "$WORK/helper2.log" --host-pins "$CAP"
busywait 10000 grep -qs '^rebuild:' "$WORK/helper2.log" || fail "no rebuild after the restart"
grep '^rebuild:' "$WORK/helper2.log" | sed 's/^/  /'
ip netns exec "$sub" "$IKEPEER" client -1 -g 198.51.100.200 -G 20 -f "$SCANNER" -n 20 -t 300 \
	>"$WORK/scan-again"
again=$(pins_of "$SCANNER")
echo "after a restart: the scan of 20 more responders: $(grep -c ' ok ' "$WORK/scan-again") of 20 completed; $again pins for $SCANNER"
[ "$again" = "$scanner_pins" ] || fail "the restarted helper let the scanner past its cap: $again pins"
echo "PASS: pin-cap"
