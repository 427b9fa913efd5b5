#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The operator deletes the pin table under a running helper: traffic goes on
# (nothing queues it any more), a pin refused meanwhile is one warning naming
# the remedy, and once the ruleset is back the helper pins again by itself.
source "$(dirname "$0")/lib.sh"

setup_topology
start_gateway "$WORK/gw.log"
load_pin_ruleset "$nat" || fail "ruleset"
start_helper "$nat" "$WORK/helper.log" --no-restore	# this test is about the map writes
client() { ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f "$1" -n 1 >/dev/null; }

client 100.64.1.1 || fail "IKE with the ruleset"
# the table goes: its rules no longer queue; a queue rule of its own (an
# older fallback, an operator's) still does, and the helper's pins are
# refused by the kernel
ip netns exec "$nat" nft delete table ip natt_pin
ip netns exec "$nat" iptables-nft -t mangle -I PREROUTING 1 -p udp --sport 500 \
	-j NFQUEUE --queue-num 0 --queue-bypass || fail "test-only queue rule"
client 100.64.1.2 || fail "IKE with the table removed"
busywait 3000 grep -qs "not stored: map ip natt_pin pins: No such file or directory (the ruleset was removed? load it again: /usr/share/nfq-helper/natt-pin-load /etc/nfq-helper/natt-pin.nft)" "$WORK/helper.log" ||
	fail "no warning: $(tail -3 "$WORK/helper.log")"
kill -0 "$HELPER_PID" || fail "the helper died"

ip netns exec "$nat" iptables-nft -t mangle -D PREROUTING 1
load_pin_ruleset "$nat" || fail "reload"
client 100.64.1.3 || fail "IKE after the reload"
ip netns exec "$nat" nft list map ip natt_pin pins | grep -q "100.64.1.3 \. $GW_ADDR" ||
	fail "no pin after the ruleset came back"
echo "table removed: IKE passed, one warning with the remedy; reloaded: pins again"
echo "PASS: 60-map-removed"
