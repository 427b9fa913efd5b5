#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon's life, started as root outside systemd: it keeps CAP_NET_ADMIN
# alone and no_new_privs (read back from /proc/PID/status), still serves and
# reloads with that; SIGHUP re-reads the map's declaration and says what
# changed, survives a missing map, never exits; the watchdog is fed at half
# WATCHDOG_USEC; a verdict the kernel refuses is sent again without waiting
# for another packet (test-only knob NFQH_TEST_VERDICT_FAILS).
source "$(dirname "$0")/lib.sh"

setup_topology
start_gateway "$WORK/gw.log"
load_pin_ruleset "$nat" || fail "ruleset"

# 1. root outside systemd, a watchdog of 400 ms asked for
ip netns exec "$nat" "$BUILD/tools/sdlisten" "$WORK/notify" STOPPING=1 >"$WORK/notify.log" &
PIDS+=($!)
busywait 3000 grep -qs listening "$WORK/notify.log" || fail "sdlisten"
NOTIFY_SOCKET=$WORK/notify WATCHDOG_USEC=400000 start_helper "$nat" "$WORK/helper.log" -M "$WORK/metrics.prom"
grep -q "privileges: CAP_NET_ADMIN only, bounding set too, no_new_privs" "$WORK/helper.log" ||
	fail "no privilege line: $(cat "$WORK/helper.log")"
status=/proc/$HELPER_PID/status
[ -r "$status" ] || fail "no $status"
want_caps() {	# want_caps FIELD VALUE
	local got
	got=$(awk -v f="$1:" '$1 == f { print $2 }' "$status")
	[ "$got" = "$2" ] || fail "$1 is $got, not $2"
}
# the helper is the child of `ip netns exec`: wait until it has dropped
busywait 3000 grep -qs "^CapEff:.*0000000000001000$" "$status" || fail "CapEff: $(grep Cap "$status")"
want_caps CapEff 0000000000001000	# bit 12: CAP_NET_ADMIN
want_caps CapPrm 0000000000001000
want_caps CapInh 0000000000001000	# kept for the ruleset loader
want_caps CapBnd 0000000000001000
want_caps CapAmb 0000000000001000
want_caps NoNewPrivs 1
echo "as root outside systemd: $(grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' "$status" | tr -s '\t\n' ' ')"

# root without CAP_DAC_OVERRIDE: a metrics directory of another user is shut
mkdir -m 755 "$WORK/other" && chown 65534:65534 "$WORK/other"
ip netns exec "$nat" "$HELPER" -q 5 -M "$WORK/other/metrics.prom" >"$WORK/other.log" 2>&1 &
PIDS+=($!)
busywait 5000 grep -qs "metrics: $WORK/other/metrics.prom: Permission denied (the daemon keeps CAP_NET_ADMIN alone" "$WORK/other.log" ||
	fail "no remedy for a metrics directory it may not write: $(cat "$WORK/other.log")"

# it serves with that: a pin, through a ctnetlink lookup and a transaction
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.1 -n 1 -t 2000 -r 1 >/dev/null ||
	fail "IKE with CAP_NET_ADMIN only"
grep -q "^pin: 100.64.1.1 -> $GW_ADDR" "$WORK/helper.log" || fail "no pin with CAP_NET_ADMIN only"

# the watchdog: WATCHDOG=1 every 200 ms, so 3 within a second at the latest
busywait 3000 sh -c "[ \$(grep -c '^WATCHDOG=1$' '$WORK/notify.log') -ge 3 ]" ||
	fail "watchdog not fed: $(sort "$WORK/notify.log" | uniq -c)"
echo "watchdog: $(grep -c '^WATCHDOG=1$' "$WORK/notify.log") WATCHDOG=1 so far (WATCHDOG_USEC=400000)"

# 2. SIGHUP: a new timeout and size in the ruleset, read again
hup() {	# hup PATTERN: SIGHUP, then wait for PATTERN (a grep -E) in the log
	kill -HUP "$HELPER_PID"
	busywait 3000 grep -qE -- "$1" "$WORK/helper.log" || fail "after SIGHUP, no '$1': $(tail -3 "$WORK/helper.log")"
	kill -0 "$HELPER_PID" 2>/dev/null || fail "SIGHUP killed the helper"
}
hup "reload: map ip natt_pin pins unchanged \(size 1048576, pin timeout 3600s\)"
sed -e 's/timeout 1h\t/timeout 30m\t/' -e 's/size 1048576\t/size 2000\t/' \
	"$RULES/natt-pin.nft" >"$WORK/natt-pin.nft"
grep -q "timeout 30m" "$WORK/natt-pin.nft" && grep -q "size 2000" "$WORK/natt-pin.nft" ||
	fail "could not edit the ruleset's settings"
load_pin_ruleset "$nat" "$WORK/natt-pin.nft" || fail "reload of the edited ruleset"
# a re-created map is read again at once (ruleset:), else at SIGHUP
# (reload:); a kernel may keep a live map's size (6.1 does; 6.12 and later
# take the new one): the daemon reports what the kernel holds
hup "(reload|ruleset): map ip natt_pin pins: size 1048576 -> (2000|1048576), pin timeout 3600s -> 1800s"
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.2 -n 1 -t 2000 -r 1 >/dev/null ||
	fail "IKE after SIGHUP"
# (nft leaves out an element's timeout when it is the map's)
left=$(ip netns exec "$nat" nft list map ip natt_pin pins | grep -o '100\.64\.1\.2 \. [0-9.]* [^:]*')
grep -qE "^100\.64\.1\.2 \. $GW_ADDR (timeout 30m )?expires (30m|2[0-9]m[0-9]+s[0-9]+ms) $" <<<"$left" ||
	fail "new pin without the new timeout: $left"
echo "SIGHUP after the ruleset changed: '$(grep -oE '(reload|ruleset): .*-> 1800s' "$WORK/helper.log")'; new pin: $left"

# the map gone: a warning, the old values kept, still serving
ip netns exec "$nat" nft delete table ip natt_pin
hup "reload: map ip natt_pin pins: No such file or directory \(load the ruleset first"
load_pin_ruleset "$nat" || fail "ruleset"
hup "(reload|ruleset): map ip natt_pin pins: size (2000|1048576) -> 1048576, pin timeout 1800s -> 3600s"
echo "SIGHUP with the map gone: warned, kept serving; back after a reload"

# 3. stop: exit 0, STOPPING=1 sent
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
busywait 3000 grep -qs '^STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1"

# 4. verdicts refused three times: the held answer passes on the retry alone
NFQH_TEST_VERDICT_FAILS=3 start_helper "$nat" "$WORK/retry.log" -M "$WORK/metrics.prom"
start=$(date +%s%N)
ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.3 -n 1 -t 3000 -r 1 >"$WORK/retry.out" ||
	fail "an answer whose verdict failed stayed held: $(cat "$WORK/retry.out") $(cat "$WORK/retry.log")"
ms=$((($(date +%s%N) - start) / 1000000))
kill -USR1 "$HELPER_PID"
busywait 3000 grep -qs '^nfq_helper_verdict_errors_total 3$' "$WORK/metrics.prom" ||
	fail "verdict errors not counted: $(grep verdict "$WORK/metrics.prom")"
grep -q "queue: verdict: No buffer space available" "$WORK/retry.log" || fail "no warning for the failed verdict"
echo "3 refused verdicts: the exchange completed in $ms ms without a retransmission, verdict_errors_total 3"
echo "PASS: 32-lifecycle"
