#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The caps' table follows the map: a subscriber at its cap (--host-pins 2)
# is refused a third pin; once its pins expire in the kernel (2 s) the
# daemon reads them back as gone and it gets new pins; the table (gauge
# nfq_helper_pins_known) shrinks to what the map holds. The host rate
# (--host-rate 1/3) refuses a fourth new pin in the same second.
source "$(dirname "$0")/lib.sh"

setup_topology
# responders 203.0.113.128-254 (AnyIP in gw)
ip -n "$nat" route add 203.0.113.128/25 via $GW_ADDR
ip -n "$gw" route add local 203.0.113.128/25 dev lo
start_gateway "$WORK/gw.log"
# the map's own timeout 2 s: the kernel refreshes pins to it, so -T alone
# would not make them expire
sed "s/^\(\s*timeout\) 1h/\1 $((2 * ${NFQH_TIMEOUT_SCALE:-1}))s/" "$RULES/natt-pin.nft" >"$WORK/natt-pin.nft"
load_pin_ruleset "$nat" "$WORK/natt-pin.nft" || fail "natt-pin.nft"
start_helper "$nat" "$WORK/helper.log" --host-pins 2 -M "$WORK/metrics.prom"

LOG=$WORK/helper.log
metric() {	# metric NAME: its value, after a fresh write (SIGUSR1)
	local n
	n=$(grep -c 'stats: batches' "$LOG")
	kill -USR1 "$HELPER_PID"
	busywait 3000 sh -c "[ \$(grep -c 'stats: batches' '$LOG') -gt $n ]" ||
		fail "no counters"
	awk -v n="$1" '$1 == n { print $2 }' "$WORK/metrics.prom"
}
pins_of() {
	ip netns exec "$nat" nft list map ip natt_pin pins | grep -o "$1 \\. [0-9.]* " | grep -c .
}
scan() {	# scan FIRST_GATEWAY N: one subscriber, N responders
	ip netns exec "$sub" "$IKEPEER" client -1 -g "$1" -G "$2" -f 100.64.1.7 -n "$2" \
		-t 300 -r 1 >>"$WORK/scan"
}

scan 203.0.113.128 3
capped=$(metric 'nfq_helper_pins_total{outcome="capped"}')
n=$(pins_of 100.64.1.7)
echo "at the cap: $n pins of 3 responders, $capped answers capped"
[ "$n" = 2 ] && [ "$capped" -ge 1 ] || fail "cap 2 not kept: $n pins, $capped capped"
grep -q 'inner host 100.64.1.7 holds its cap of 2 pins' "$WORK/helper.log" || fail "no cap warning"

# the kernel lets them expire; the daemon reads them back as gone
gone() { [ "$(pins_of 100.64.1.7)" = 0 ]; }
busywait 10000 gone || fail "pins did not expire"
forgotten() { [ "$(metric nfq_helper_pins_known)" = 0 ]; }
busywait 10000 forgotten || fail "the caps' table kept expired pins: $(metric nfq_helper_pins_known)"
echo "expired in the kernel: the caps' table holds $(metric nfq_helper_pins_known) pins"
scan 203.0.113.140 2
n=$(pins_of 100.64.1.7)
echo "after expiry: $n new pins of 2"
[ "$n" = 2 ] || fail "no new pins after the old ones expired: $n"

# the host rate: 1 a second, burst 3
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
flush_pins "$nat"
start_helper "$nat" "$WORK/helper2.log" --host-pins 0 --host-rate 1/3 -M "$WORK/metrics.prom"
LOG=$WORK/helper2.log
t0=$(date +%s%N)
ip netns exec "$sub" "$IKEPEER" client -1 -g 203.0.113.150 -G 6 -f 100.64.1.8 -n 6 -t 100 -r 1 \
	>"$WORK/rate"
secs=$(( ($(date +%s%N) - t0 + 999999999) / 1000000000 ))
made=$(pins_of 100.64.1.8)
limited=$(metric 'nfq_helper_pins_rate_limited_total{scope="host"}')
echo "host rate 1/s, burst 3: $made pins of 6 responders in $secs s, $limited answers rate limited"
# 3 at once, then one a second; each attempt not pinned had an answer refused
[ "$made" -ge 3 ] && [ "$made" -le $((3 + secs)) ] && [ "${limited:-0}" -ge $((6 - made)) ] ||
	fail "host rate not kept: $made pins in $secs s, ${limited:-0} limited"
[ "$made" = 6 ] || grep -q 'inner host 100.64.1.8 makes new pins faster than 1/s' "$LOG" ||
	fail "no rate warning"
echo "PASS: 71-caps"
