#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The operator's firewall reload empties the whole ruleset under a running
# helper, as Debian's /etc/nftables.conf does (`flush ruleset`, then its own
# tables):
#  - the helper, run as the service runs it (nobody, CAP_NET_ADMIN alone),
#    logs one error naming the cause and the remedy, puts the ruleset back
#    with the loader, and pins again; the metrics and --check show the loss;
#  - its own pin writes and other tables' changes do not wake the watch;
#  - the same file with natt-pin.nft included: re-created in the reload's
#    transaction (on a kernel without nft's queue: the printed form, and the
#    iptables-nft feed comes back through the loader);
#  - --no-restore: the error says how to load it, --check fails until then;
#  - a loader that is not there: a warning at start, an error at the loss;
#  - a ruleset that feeds another queue: three tries, then an error;
#  - --watch-interval: the same restore, found by looking every second;
#  - events lost (ENOBUFS): counted, and the state read again.
source "$(dirname "$0")/lib.sh"

setup_topology
start_gateway "$WORK/gw.log"
chmod 755 "$WORK"
cp "$RULES/natt-pin.nft" "$RULES/natt-pin-load" "$HELPER" "$WORK/"
mkdir -m 700 "$WORK/run" && chown 65534:65534 "$WORK/run"
client() { ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f "$1" -n 1 >/dev/null; }
pinned() { ip netns exec "$nat" nft list map ip natt_pin pins 2>/dev/null | grep -q "$1 \. $GW_ADDR"; }
count() { grep -c "$1" "$WORK/helper.log"; }
chk() { out=$(ip netns exec "$nat" "$HELPER" --check "$@" 2>&1); rc=$?; }
# debian_conf [INCLUDE]: the shipped nftables.conf.example (Debian's stock
# file with the include line) including INCLUDE, or without the line, and
# the operator's CGNAT table
debian_conf() {
	if [ -n "${1:-}" ]; then
		sed "s|^include \"/etc/nfq-helper/natt-pin.nft\"$|include \"$1\"|" "$RULES/nftables.conf.example"
	else
		sed '/^include /d' "$RULES/nftables.conf.example"
	fi
	cat "$RULES/cgnat-example.nft"
}
helper() {	# helper LOG ARGS...: the helper as the service runs it
	local log=$1
	shift
	ip netns exec "$nat" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
		--bounding-set=-all,+net_admin "$WORK/nfq-helper" "$@" >"$log" 2>&1 &
	HELPER_PID=$!
	PIDS+=("$HELPER_PID")
	busywait 5000 grep -qs "bound" "$log" || fail "nfq-helper did not start: $(cat "$log")"
}
metrics() {	# metrics LINE...: the metrics file, fresh, holds each line
	local l
	kill -USR1 "$HELPER_PID"
	for l in "$@"; do
		busywait 3000 grep -qx "$l" "$WORK/run/metrics.prom" ||
			fail "metrics: no '$l': $(grep ruleset "$WORK/run/metrics.prom")"
	done
}

load_pin_ruleset "$nat" || fail "ruleset"
helper "$WORK/helper.log" -vv --ruleset "$WORK/natt-pin.nft" \
	--loader "$WORK/natt-pin-load" -M "$WORK/run/metrics.prom"
client 100.64.1.1 && pinned 100.64.1.1 || fail "no pin before the reload"

# 1. quiet: elements written by others, another table reloaded, pins made
reads=$(count 'ruleset: read')
for i in $(seq 1 200); do echo "add element ip natt_pin pins { 0 . 100.64.2.$i . 203.0.113.9 : 198.51.100.1 }"; done |
	ip netns exec "$nat" nft -f - || fail "elements"
ip netns exec "$nat" nft -f "$RULES/cgnat-example.nft" || fail "cgnat reload"
client 100.64.1.2 && pinned 100.64.1.2 || fail "no pin"
[ "$(count 'ruleset: read')" = "$reads" ] ||
	fail "the watch read the ruleset again for events that are not its own"

# 2. Debian's reload, no include: lost, restored, pinning again
debian_conf >"$WORK/nftables.conf"
ip netns exec "$nat" nft -f "$WORK/nftables.conf" || fail "the operator's reload"
busywait 5000 grep -qs 'ruleset: back after' "$WORK/helper.log" ||
	fail "not restored: $(grep ruleset: "$WORK/helper.log" | grep -v read)"
[ "$(count 'the fix is off')" = 1 ] || fail "not one error: $(grep 'fix is off' "$WORK/helper.log")"
grep -qF "ruleset: table ip natt_pin gone, the fix is off: new tunnels are balanced per connection again; likely cause: a firewall reload with \`flush ruleset\`, as Debian's /etc/nftables.conf does (include $WORK/natt-pin.nft from /etc/nftables.conf, as nfq-helper(8) shows; reloading it now)" "$WORK/helper.log" ||
	fail "the error: $(grep 'fix is off' "$WORK/helper.log")"
grep -q "(restored by the loader)" "$WORK/helper.log" || fail "who restored it"
gap=$(grep -o 'back after [0-9]* ms' "$WORK/helper.log")
client 100.64.1.3 && pinned 100.64.1.3 || fail "no pin after the restore"
metrics "nfq_helper_ruleset_ok 1" "nfq_helper_ruleset_losses_total 1" \
	'nfq_helper_ruleset_restores_total{outcome="ok"} 1'
chk -M "$WORK/run/metrics.prom"
grep -q "warn  ruleset losses: 1 while nfq-helper ran, restored" <<<"$out" || fail "--check: $out"
echo "flush ruleset: one error with cause and remedy, $gap (nobody + CAP_NET_ADMIN), pins again; --check warns"

# 3. the same with the include line
if native_queue "$nat"; then
	inc=$WORK/natt-pin.nft
else
	# nft's queue rules cannot load here: the whole reload would fail
	debian_conf "$WORK/natt-pin.nft" >"$WORK/nftables-raw.conf"
	ip netns exec "$nat" nft -c -f "$WORK/nftables-raw.conf" 2>/dev/null &&
		fail "natt-pin.nft with nft's queue rules loaded on a kernel without them"
	inc=$WORK/natt-pin-here.nft
	ip netns exec "$nat" "$WORK/natt-pin-load" --print "$WORK/natt-pin.nft" >"$inc" ||
		fail "natt-pin-load --print"
fi
debian_conf "$inc" >"$WORK/nftables.conf"
backs=$(count 'ruleset: back after')
ip netns exec "$nat" nft -f "$WORK/nftables.conf" || fail "the reload with the include"
ip netns exec "$nat" nft list map ip natt_pin pins >/dev/null || fail "the include did not re-create the map"
if native_queue "$nat"; then
	busywait 5000 grep -qs 're-created in one transaction' "$WORK/helper.log" || fail "no re-creation seen"
	[ "$(count 'the fix is off')" = 1 ] || fail "a loss logged although the include kept the queue rules"
	what="re-created in the reload's transaction, queue rules never gone"
else
	busywait 5000 sh -c "[ \$(grep -c 'ruleset: back after' '$WORK/helper.log') -gt $backs ]" ||
		fail "not restored after the include: $(grep ruleset: "$WORK/helper.log" | grep -v read | tail -3)"
	grep -q "ruleset: queue rules (chains ip natt_pin ike500 and ike4500, or iptables-nft's ip mangle NATT_PIN) gone" "$WORK/helper.log" ||
		fail "the loss of the iptables-nft feed: $(grep 'fix is off' "$WORK/helper.log")"
	what="table and map re-created by the include; the iptables-nft feed restored, $(grep -o 'back after [0-9]* ms' "$WORK/helper.log" | tail -1)"
fi
client 100.64.1.4 && pinned 100.64.1.4 || fail "no pin after the include reload"
echo "flush ruleset with natt-pin.nft included: $what"
# the table re-created in one transaction, the queue rules left alone (what
# the include gives where nft has its queue): no loss, pins gone, said once
client 100.64.1.5 && pinned 100.64.1.5 || fail "no pin before the re-creation"
rc0=$(count 're-created in one transaction')
{ echo "delete table ip natt_pin"; ip netns exec "$nat" "$WORK/natt-pin-load" --print "$WORK/natt-pin.nft"; } |
	ip netns exec "$nat" nft -f - || fail "re-creation"
busywait 5000 sh -c "[ \$(grep -c 'ruleset: map ip natt_pin pins re-created in one transaction' '$WORK/helper.log') -gt $rc0 ]" ||
	fail "the re-creation went unseen: $(grep ruleset: "$WORK/helper.log" | grep -v read | tail -3)"
# the map came back empty; the rebuild from conntrack puts the pin back
busywait 5000 pinned 100.64.1.5 || fail "the rebuild did not put back the pin of 100.64.1.5"
client 100.64.1.6 && pinned 100.64.1.6 || fail "no pin after the re-creation"
metrics "nfq_helper_ruleset_recreated_total $((rc0 + 1))"
echo "table re-created in one transaction: one warning, counted, pins rebuilt from conntrack, new pins again"
kill "$HELPER_PID"
wait "$HELPER_PID"

# 4. --no-restore: told how to load it, stays gone, --check fails
load_pin_ruleset "$nat" || fail "ruleset"
helper "$WORK/helper.log" --no-restore --ruleset "$WORK/natt-pin.nft" -M "$WORK/run/metrics.prom"
ip netns exec "$nat" nft flush ruleset
busywait 5000 grep -qs "the fix is off" "$WORK/helper.log" || fail "--no-restore: no error"
grep -q "table ip natt_pin gone, .*; load it now: /usr/share/nfq-helper/natt-pin-load $WORK/natt-pin.nft)$" "$WORK/helper.log" ||
	fail "--no-restore: $(grep 'fix is off' "$WORK/helper.log")"
metrics "nfq_helper_ruleset_ok 0" "nfq_helper_ruleset_losses_total 1"
ip netns exec "$nat" nft list table ip natt_pin >/dev/null 2>&1 && fail "--no-restore restored"
chk -M "$WORK/run/metrics.prom"
[ "$rc" = 1 ] && grep -q "FAIL  ruleset losses: 1 while nfq-helper ran, not restored" <<<"$out" ||
	fail "--check after a loss: $out"
load_pin_ruleset "$nat" || fail "ruleset"
busywait 5000 grep -qs "back after [0-9]* ms (loaded by someone else)" "$WORK/helper.log" ||
	fail "--no-restore: the load went unseen"
kill "$HELPER_PID"
wait "$HELPER_PID"
echo "--no-restore: the error names natt-pin-load; --check fails; a manual load is seen"

# 5. no loader: said at start, and at the loss
helper "$WORK/helper.log" --loader /nonexistent/natt-pin-load --ruleset "$WORK/natt-pin.nft"
# (said after "bound": awaited, not grepped at once)
busywait 5000 grep -qs "ruleset: restore: /nonexistent/natt-pin-load or .*: No such file or directory: a ruleset that a firewall reload removes cannot come back by itself" "$WORK/helper.log" ||
	fail "no warning at start: $(cat "$WORK/helper.log")"
ip netns exec "$nat" nft flush ruleset
busywait 5000 grep -qs "ruleset: cannot restore: /nonexistent/natt-pin-load" "$WORK/helper.log" ||
	fail "no error at the loss: $(cat "$WORK/helper.log")"
kill -0 "$HELPER_PID" || fail "the helper died"
echo "no loader: a warning at start, an error at the loss"
kill "$HELPER_PID"
wait "$HELPER_PID"

# 6. a ruleset that feeds another queue: three loader runs, then one error
sed 's/^define NATT_PIN_QUEUE = 0/define NATT_PIN_QUEUE = 5/' "$RULES/natt-pin.nft" >"$WORK/other-queue.nft"
load_pin_ruleset "$nat" || fail "ruleset"
helper "$WORK/helper.log" --ruleset "$WORK/other-queue.nft" --loader "$WORK/natt-pin-load"
ip netns exec "$nat" nft flush ruleset
busywait 10000 grep -qs "still gone after 3 loader runs: does $WORK/other-queue.nft feed queue 0 (-q)?" "$WORK/helper.log" ||
	fail "no error for a ruleset that feeds another queue: $(grep ruleset: "$WORK/helper.log")"
[ "$(count 'ruleset: restoring')" = 3 ] || fail "not three loader runs"
echo "a ruleset feeding another queue: three loader runs, then an error naming the file and the queue"
kill "$HELPER_PID"
wait "$HELPER_PID"

# 7. --watch-interval: no events, a look every second; the same restore
load_pin_ruleset "$nat" || fail "ruleset"
helper "$WORK/helper.log" --watch-interval 1 --ruleset "$WORK/natt-pin.nft" --loader "$WORK/natt-pin-load"
ip netns exec "$nat" nft flush ruleset
busywait 5000 grep -qs "ruleset: back after [0-9]* ms (restored by the loader)" "$WORK/helper.log" ||
	fail "--watch-interval 1: not restored: $(grep ruleset: "$WORK/helper.log")"
echo "--watch-interval 1: $(grep -o 'back after [0-9]* ms' "$WORK/helper.log")"
kill "$HELPER_PID"
wait "$HELPER_PID"

# 8. events lost: stopped, the helper's socket overflows with 30,000 rule
# events before the flush; once it runs again it reads the state and restores
helper "$WORK/helper.log" --ruleset "$WORK/natt-pin.nft" --loader "$WORK/natt-pin-load" \
	-M "$WORK/run/metrics.prom"
kill -STOP "$HELPER_PID"
ip netns exec "$nat" nft add chain ip natt_pin noise
for _ in 1 2 3 4 5; do
	for i in $(seq 1 3000); do echo "add rule ip natt_pin noise counter"; done |
		ip netns exec "$nat" nft -f - || fail "noise"
	ip netns exec "$nat" nft flush chain ip natt_pin noise
done
ip netns exec "$nat" nft flush ruleset
kill -CONT "$HELPER_PID"
busywait 5000 grep -qs "ruleset: back after [0-9]* ms (restored by the loader)" "$WORK/helper.log" ||
	fail "not restored after lost events: $(grep ruleset: "$WORK/helper.log")"
metrics "nfq_helper_event_overruns_total [1-9][0-9]*" "nfq_helper_ruleset_ok 1"
echo "events lost (ENOBUFS): counted, the state read again, restored"
echo "PASS: 73-ruleset-flushed"
