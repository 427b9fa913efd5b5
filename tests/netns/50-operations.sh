#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What an operator runs: --check before and after the ruleset (exit status,
# the FAIL line with its remedy, no trace left by its probes); readiness
# reported to systemd only once the queue is bound; the metrics file in
# Prometheus text; --status listing the live pins and the counters.
source "$(dirname "$0")/lib.sh"

setup_topology
start_gateway "$WORK/gw.log"
chk() { out=$(ip netns exec "$nat" "$HELPER" --check "$@" 2>&1); rc=$?; }

chk
[ "$rc" = 1 ] || fail "--check without a ruleset: exit $rc"
grep -q "FAIL  map ip natt_pin pins: No such file or directory (load the ruleset first: /usr/share/nfq-helper/natt-pin-load /etc/nfq-helper/natt-pin.nft)" <<<"$out" ||
	fail "--check without a ruleset: $out"

load_pin_ruleset "$nat" || fail "ruleset"
tables=$(ip netns exec "$nat" nft list tables)
chk
[ "$rc" = 0 ] || fail "--check with the ruleset: exit $rc: $out"
# nft's two queue rules, or the fallback's one NFQUEUE rule on the mark
grep -q "ok    queue rules: [12] .* feed queue 0" <<<"$out" || fail "--check rules: $out"
grep -q "ok    ctnetlink: answers lookups" <<<"$out" || fail "--check ctnetlink: $out"
grep -q "conntrack in queued packets: " <<<"$out" || fail "--check GLUE_CT: $out"
grep -q "nft queue expression: " <<<"$out" || fail "--check nft queue: $out"
grep -q "ok    refresh rules: .* answers refreshed so far" <<<"$out" || fail "--check refresh rules: $out"
grep -qE "(ok|info) +element timeout update: (yes|no)" <<<"$out" || fail "--check timeout update: $out"
[ "$(ip netns exec "$nat" nft list tables)" = "$tables" ] || fail "--check left tables behind"
chk -q 7
[ "$rc" = 1 ] && grep -q "FAIL  queue rules: none feeds queue 7" <<<"$out" ||
	fail "--check of a queue no rule feeds: $out"
out=$(ip netns exec "$nat" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all "$HELPER" --check 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q "FAIL  map ip natt_pin pins: Operation not permitted (needs CAP_NET_ADMIN: run as root or grant the capability)" <<<"$out" ||
	fail "--check without CAP_NET_ADMIN: $out"
echo "--check: not ready without the ruleset, ready with it"

# readiness: READY=1 comes after the queue is bound. The helper runs as the
# service runs it: an unprivileged user (DynamicUser=) with CAP_NET_ADMIN
# alone (AmbientCapabilities=), writing its metrics to its own directory
chmod 755 "$WORK"
mkdir -m 700 "$WORK/run" && chown 65534:65534 "$WORK/run"
ip netns exec "$nat" "$BUILD/tools/sdlisten" "$WORK/notify" READY=1 >"$WORK/notify.log" &
PIDS+=($!)
busywait 3000 grep -qs listening "$WORK/notify.log" || fail "sdlisten"
chmod 666 "$WORK/notify"
NOTIFY_SOCKET=$WORK/notify ip netns exec "$nat" setpriv --reuid=65534 --regid=65534 \
	--clear-groups --inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
	--bounding-set=-all,+net_admin "$HELPER" -M "$WORK/run/metrics.prom" >"$WORK/helper.log" 2>&1 &
HELPER_PID=$!
PIDS+=("$HELPER_PID")
busywait 3000 grep -qs '^READY=1' "$WORK/notify.log" || fail "no READY=1 sent: $(cat "$WORK/helper.log")"
grep -q "queue 0 bound" "$WORK/helper.log" || fail "READY=1 before the queue was bound"
chk
grep -q "info  queue 0: bound by another process" <<<"$out" || fail "--check with a helper running: $out"

# three answers on 500 reach the helper; the 4500 ones are refreshed in the kernel
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.1 -n 3 >/dev/null || fail "IKE"
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs 'nfq_helper_pins_total{outcome="added"} 3$' "$WORK/run/metrics.prom" ||
	fail "metrics: $(cat "$WORK/run/metrics.prom" 2>&1)"
grep -q '^# TYPE nfq_helper_verdict_latency_seconds histogram$' "$WORK/run/metrics.prom" &&
	grep -q '^nfq_helper_verdict_latency_seconds_count 3$' "$WORK/run/metrics.prom" ||
	fail "latency histogram: $(grep latency "$WORK/run/metrics.prom")"
bad=$(grep -v '^#' "$WORK/run/metrics.prom" | grep -cvE '^nfq_helper_[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9.e+-]+$')
[ "$bad" = 0 ] || fail "metrics lines not in Prometheus text format"

out=$(ip netns exec "$nat" "$HELPER" --status -M "$WORK/run/metrics.prom")
for i in 1 2 3; do
	grep -qE "^ +0 +100\.64\.1\.$i +203\.0\.113\.2 +198\.51\.100\.[1-4] +3[56][0-9]{2}$" <<<"$out" ||
		fail "--status lacks the pin of 100.64.1.$i: $out"
done
grep -q '^3 pins in map ip natt_pin pins$' <<<"$out" && grep -q 'pins_total{outcome="added"} 3' <<<"$out" &&
	grep -q '^3 answers refreshed in the kernel (counter refreshes)$' <<<"$out" &&
	grep -q '^  nfq_helper_transactions_failed_total 0$' <<<"$out" ||
	fail "--status: $out"
echo "as nobody with CAP_NET_ADMIN only: readiness after bind, 3 pins made; metrics in Prometheus text; --status shows the pins and counters"
echo "PASS: 50-operations"
