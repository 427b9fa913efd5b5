#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the kernel does with the pins the daemon writes, through the daemon's
# own writer: a live pin is never moved, a refresh keeps the address and
# pushes the expiry out (only because the element carries an expiration:
# nft's plain re-add does not), one bad element does not lose the others of
# its batch, and a full map is refused element by element.
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
expires() {	# expires INNER: seconds left, rounded down
	ip netns exec "$nat" nft list map ip natt_pin pins |
		grep -o "$1 \. $G [^,}]*expires [0-9dhms]*" | sed 's/.*expires //' |
		awk '{ s = 0	# 1h2m3s456ms -> 3723
			while (match($0, /^[0-9]+(ms|d|h|m|s)/)) {
				v = substr($0, 1, RLENGTH); $0 = substr($0, RLENGTH + 1)
				n = v + 0; u = v; sub(/^[0-9]+/, "", u)
				s += u == "d" ? n * 86400 : u == "h" ? n * 3600 : u == "m" ? n * 60 : u == "s" ? n : 0
			}
			print s }'
}
expect() {	# expect OUTPUT PATTERN WHAT
	grep -q "$2" <<<"$1" || fail "$3: got: $1"
}

out=$(pw 100.64.1.1 $G 198.51.100.1)
expect "$out" "100.64.1.1 .* added$" "new pin"
expect "$out" "transactions 1$" "one transaction for a new pin"

out=$(pw 100.64.1.1 $G 198.51.100.1)
expect "$out" "refreshed$" "same pin again"

out=$(pw 100.64.1.1 $G 198.51.100.2)
expect "$out" "conflict File exists$" "pin to another address"
[ "$(pinned 100.64.1.1)" = 198.51.100.1 ] || fail "the live pin moved to $(pinned 100.64.1.1)"

# one batch: new, conflicting, new; the conflict costs the others nothing
out=$(pw 100.64.1.2 $G 198.51.100.1 100.64.1.1 $G 198.51.100.3 100.64.1.3 $G 198.51.100.3)
expect "$out" "100.64.1.2 .* added$" "batch: first new pin"
expect "$out" "100.64.1.1 .* conflict" "batch: conflict"
expect "$out" "100.64.1.3 .* added$" "batch: second new pin"
[ "$(pinned 100.64.1.2) $(pinned 100.64.1.3) $(pinned 100.64.1.1)" = \
  "198.51.100.1 198.51.100.3 198.51.100.1" ] || fail "batch left the wrong map"

# two devices behind one inner address answered in the same batch
out=$(pw 100.64.1.4 $G 198.51.100.2 100.64.1.4 $G 198.51.100.4)
expect "$out" "100.64.1.4 $G 198.51.100.2 added$" "same key twice: first"
expect "$out" "100.64.1.4 $G 198.51.100.4 conflict" "same key twice: second"

# refresh: a pin written with 30 s; once it has aged, nft's own re-add
# (timeout, no expiration) leaves the expiry, the daemon's pushes it out
pw -T 30000 100.64.1.5 $G 198.51.100.1 >/dev/null
aged() { [ "$(expires 100.64.1.5)" -le 27 ]; }
busywait 10000 aged ||
	fail "pin did not age: $(expires 100.64.1.5)"
before=$(expires 100.64.1.5)
ip netns exec "$nat" nft add element ip natt_pin pins "{ 100.64.1.5 . $G timeout 30s : 198.51.100.1 }"
after_nft=$(expires 100.64.1.5)
[ "$after_nft" -le "$before" ] || fail "nft's re-add refreshed ($before -> $after_nft s): the expiration is not needed"
out=$(pw -T 30000 100.64.1.5 $G 198.51.100.1)
expect "$out" "refreshed$" "refresh"
after=$(expires 100.64.1.5)
[ "$after" -ge 29 ] || fail "refresh did not push the expiry out: $before -> $after s"
echo "refresh: expiry ${before}s; nft re-add -> ${after_nft}s; nfq-helper refresh -> ${after}s"

# a full map refuses the element over its size and keeps the others
ip netns exec "$nat" nft add map ip natt_pin small \
	"{ type ipv4_addr . ipv4_addr : ipv4_addr; flags timeout; timeout 1h; size 2; }"
out=$(pw -m small 100.64.2.1 $G 198.51.100.1 100.64.2.2 $G 198.51.100.1 100.64.2.3 $G 198.51.100.1)
expect "$out" "100.64.2.1 .* added$" "full map: first"
expect "$out" "100.64.2.2 .* added$" "full map: second"
expect "$out" "100.64.2.3 .* map full" "full map: third"

out=$(pw -m nosuch 100.64.2.1 $G 198.51.100.1)
expect "$out" "failed No such file or directory" "missing map"

echo "PASS: 20-map-semantics"
