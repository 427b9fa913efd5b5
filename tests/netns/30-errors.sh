#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every start-up failure is one line naming the cause and the remedy, with a
# non-zero exit before the loop; SIGTERM unbinds, exits 0 and leaves pins.
source "$(dirname "$0")/lib.sh"

setup_ns nat
run() {	# run ARGS...: the helper in nat; sets $out and $rc
	out=$(timeout 10 ip netns exec "$nat" "$HELPER" "$@" 2>&1)
	rc=$?
}
expect() {	# expect RC PATTERN WHAT
	[ "$rc" = "$1" ] || fail "$3: exit $rc, not $1: $out"
	grep -q -- "$2" <<<"$out" || fail "$3: no '$2' in: $out"
}

run -q 70000
expect 2 "invalid queue number \`70000'" "bad queue number"
run --bogus
expect 2 "unknown option \`--bogus'" "unknown option"
run -T never
expect 2 "invalid timeout \`never'" "bad timeout"

run
expect 1 "map ip natt_pin pins: No such file or directory (load the ruleset first: /usr/share/nfq-helper/natt-pin-load /etc/nfq-helper/natt-pin.nft)" "no ruleset"
run --loader /opt/pins/load --ruleset /opt/pins/pins.nft
expect 1 "(load the ruleset first: /opt/pins/load /opt/pins/pins.nft)" "no ruleset, the remedy with --loader and --ruleset"

ip netns exec "$nat" nft add table ip natt_pin
ip netns exec "$nat" nft add map ip natt_pin pins "{ type ipv4_addr : ipv4_addr; }"
run
expect 1 "unsuitable for pins: its key is not ct zone . ipv4_addr . ipv4_addr" "wrong map type"
ip netns exec "$nat" nft delete table ip natt_pin
# a table of the shape before zones: told to migrate it
ip netns exec "$nat" nft add table ip natt_pin
ip netns exec "$nat" nft add map ip natt_pin pins "{ type ipv4_addr . ipv4_addr : ipv4_addr; flags timeout; }"
run
expect 1 "its key is inner . gateway without the conntrack zone: a table of an older natt-pin.nft; load the shipped one with natt-pin-load, which keeps every pin (in zone 0)" "map keyed without the zone"
ip netns exec "$nat" nft delete table ip natt_pin
ip netns exec "$nat" nft add table ip natt_pin
ip netns exec "$nat" nft add map ip natt_pin pins "{ typeof ct zone . ip saddr . ip daddr : ip daddr; }"
run
expect 1 "unsuitable for pins: it lacks flags timeout" "map without timeouts"
ip netns exec "$nat" nft delete table ip natt_pin

load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"
out=$(timeout 10 ip netns exec "$nat" setpriv --reuid=65534 --regid=65534 \
	--clear-groups --inh-caps=-all "$HELPER" 2>&1)
rc=$?
expect 1 "Operation not permitted (needs CAP_NET_ADMIN" "no CAP_NET_ADMIN"

start_helper "$nat" "$WORK/first.log" -q 3
run -q 3
expect 1 "queue 3: bind: taken by another process (is nfq-helper already running" "queue taken"

# pins written while it runs stay after SIGTERM; the exit is clean
ip netns exec "$nat" "$BUILD/tools/pinwrite" 100.64.1.1 203.0.113.2 198.51.100.1 >/dev/null
kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
rc=$?
out=$(cat "$WORK/first.log")
expect 0 "queue 3 unbound, pins stay" "SIGTERM"
expect 0 "stats: packets 0, accepted 0" "stats at exit"
ip netns exec "$nat" nft list map ip natt_pin pins | grep -q "100.64.1.1 . 203.0.113.2" ||
	fail "pin gone after SIGTERM"
# and the queue is free again
start_helper "$nat" "$WORK/second.log" -q 3

echo "PASS: 30-errors"
