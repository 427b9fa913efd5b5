#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the kernel does with the pins the daemon writes, through the daemon's
# own writer: a live pin is looked up, never rewritten or moved (no
# transaction for it at all), a conflict costs no transaction, repeats of a
# key in a batch are resolved before the kernel sees them, others' writes and
# flushes are simply what the map holds, and a full map is refused element
# by element. (Refreshing live pins is the kernel's: 25-kernel-refresh.)
source "$(dirname "$0")/lib.sh"
PW=$BUILD/tools/pinwrite
G=203.0.113.2

setup_ns nat
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"
pw() { ip netns exec "$nat" "$PW" "$@"; }
pinned() {	# pinned INNER: the pool address the map holds for INNER . G
	ip netns exec "$nat" nft list map ip natt_pin pins |
		grep -o "$1 \. $G [^,}]*: [0-9.]*" | awk '{ print $NF }'
}
expect() {	# expect OUTPUT PATTERN WHAT
	grep -q "$2" <<<"$1" || fail "$3: got: $1"
}

out=$(pw 100.64.1.1 $G 198.51.100.1)
expect "$out" "100.64.1.1 .* added$" "new pin"
expect "$out" "transactions 1, failed 0$" "one transaction for a new pin"

# a live pin is looked up, not written: no transaction at all
out=$(pw 100.64.1.1 $G 198.51.100.1)
expect "$out" "already pinned$" "same pin again"
expect "$out" "transactions 0, failed 0$" "no transaction for a live pin"

out=$(pw 100.64.1.1 $G 198.51.100.2)
expect "$out" "conflict$" "pin to another address"
expect "$out" "transactions 0, failed 0$" "no transaction for a conflict"
[ "$(pinned 100.64.1.1)" = 198.51.100.1 ] || fail "the live pin moved to $(pinned 100.64.1.1)"

# one batch: new, conflicting, new; the conflict costs the others nothing
out=$(pw 100.64.1.2 $G 198.51.100.1 100.64.1.1 $G 198.51.100.3 100.64.1.3 $G 198.51.100.3)
expect "$out" "100.64.1.2 .* added$" "batch: first new pin"
expect "$out" "100.64.1.1 .* conflict" "batch: conflict"
expect "$out" "100.64.1.3 .* added$" "batch: second new pin"
expect "$out" "transactions 1, failed 0$" "batch: one transaction, none failed"
[ "$(pinned 100.64.1.2) $(pinned 100.64.1.3) $(pinned 100.64.1.1)" = \
  "198.51.100.1 198.51.100.3 198.51.100.1" ] || fail "batch left the wrong map"

# two devices behind one inner address answered in the same batch: resolved
# in userspace, the first wins
out=$(pw 100.64.1.4 $G 198.51.100.2 100.64.1.4 $G 198.51.100.4)
expect "$out" "100.64.1.4 $G 198.51.100.2 added$" "same key twice: first"
expect "$out" "100.64.1.4 $G 198.51.100.4 conflict" "same key twice: second"
expect "$out" "transactions 1, failed 0$" "same key twice: nothing refused"

# someone else's write is simply what the map holds: no state to go stale
ip netns exec "$nat" nft add element ip natt_pin pins "{ 0 . 100.64.1.6 . $G : 198.51.100.4 }"
out=$(pw 100.64.1.6 $G 198.51.100.1)
expect "$out" "conflict$" "a pin written by nft"
flush_pins "$nat"
out=$(pw 100.64.1.1 $G 198.51.100.1)
expect "$out" "added$" "after a flush"
expect "$out" "transactions 1, failed 0$" "after a flush: nothing refused"

# a full map refuses the element over its size and keeps the others
ip netns exec "$nat" nft add map ip natt_pin small \
	"{ typeof ct zone . ip saddr . ip daddr : ip daddr; flags timeout; timeout 1h; size 2; }"
out=$(pw -m small 100.64.2.1 $G 198.51.100.1 100.64.2.2 $G 198.51.100.1 100.64.2.3 $G 198.51.100.1)
expect "$out" "100.64.2.1 .* added$" "full map: first"
expect "$out" "100.64.2.2 .* added$" "full map: second"
expect "$out" "100.64.2.3 .* map full" "full map: third"
# the kernel's refusal costs one failed transaction; the two that fit go next
expect "$out" "transactions 2, failed 1$" "full map: transactions"

out=$(pw -m nosuch 100.64.2.1 $G 198.51.100.1)
expect "$out" "failed No such file or directory" "missing map"

echo "PASS: 20-map-semantics"
