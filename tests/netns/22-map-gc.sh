#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The map's garbage-collection interval: a map that declares none (nft 1.0
# cannot) is walked whole by the kernel every second; the daemon gives it
# --gc-interval at start, gives it again after every load of the ruleset
# (each sets the kernel's back), gives it to the keys shape's set pinned
# too, and leaves one that is declared, and everything with 0.
source "$(dirname "$0")/lib.sh"

setup_ns nat
gc_of() {	# gc_of SET: its gc-interval as nft lists it, or "none"
	local v
	v=$(ip netns exec "$nat" nft list set ip natt_pin "$1" 2>/dev/null ||
		ip netns exec "$nat" nft list map ip natt_pin "$1")
	v=$(awk '$1 == "gc-interval" { print $2 }' <<<"$v")
	echo "${v:-none}"
}
gc_is() { [ "$(gc_of "$1")" = "$2" ]; }

load_pin_ruleset "$nat" || fail "ruleset"
gc_is pins none || fail "the shipped map declares a gc interval already: $(gc_of pins)"
out=$(ip netns exec "$nat" "$HELPER" --check 2>&1)
grep -q "info  map gc interval: none declared" <<<"$out" || fail "--check without an interval: $out"
start_helper "$nat" "$WORK/h.log" --no-restore
busywait 3000 gc_is pins 1m || fail "no gc interval after start: $(gc_of pins); $(cat "$WORK/h.log")"
# the keys shape (Linux before 6.4, or NATT_PIN_SHAPE=keys): set pinned too
keys=
ip netns exec "$nat" nft list set ip natt_pin pinned >/dev/null 2>&1 && keys=", its set of keys too"
grep -qx "map ip natt_pin pins: gc interval 60 s (it declared none)$keys" "$WORK/h.log" ||
	fail "start: $(cat "$WORK/h.log")"
[ -z "$keys" ] || gc_is pinned 1m || fail "set pinned: $(gc_of pinned)"
out=$(ip netns exec "$nat" "$HELPER" --check 2>&1)
grep -q "ok    map gc interval: 60 s" <<<"$out" || fail "--check with the interval: $out"

# each load declares the map again without it: the kernel's comes back, and
# the daemon, told by the ruleset's events, gives it again
for i in 1 2 3; do
	load_pin_ruleset "$nat" || fail "reload $i"
	busywait 3000 gc_is pins 1m || fail "reload $i: $(gc_of pins)"
	[ -z "$keys" ] || busywait 3000 gc_is pinned 1m || fail "reload $i, set pinned: $(gc_of pinned)"
done
n=$(grep -c "gc interval 60 s" "$WORK/h.log")
[ "$n" = 4 ] || fail "gc interval given $n times for a start and 3 loads: $(cat "$WORK/h.log")"
kill -HUP "$HELPER_PID"
busywait 3000 grep -qs "^reload: map .* unchanged" "$WORK/h.log" || fail "SIGHUP: $(cat "$WORK/h.log")"
[ "$(grep -c "gc interval 60 s" "$WORK/h.log")" = 4 ] || fail "SIGHUP gave an interval already there"
echo "given at start and after each of 3 loads (4 times), not again on SIGHUP with it in place"
kill "$HELPER_PID"
wait "$HELPER_PID"

# declared by someone (here: left by the run above): kept; 0: nothing given
start_helper "$nat" "$WORK/h2.log" --no-restore --gc-interval 5m
gc_is pins 1m && ! grep -q "gc interval" "$WORK/h2.log" || fail "a declared interval replaced: $(gc_of pins)"
kill "$HELPER_PID"
wait "$HELPER_PID"
ip netns exec "$nat" nft delete table ip natt_pin
load_pin_ruleset "$nat" || fail "ruleset again"
start_helper "$nat" "$WORK/h3.log" --no-restore --gc-interval 0
gc_is pins none || fail "--gc-interval 0 gave $(gc_of pins)"
kill "$HELPER_PID"
wait "$HELPER_PID"
echo "an interval already there is kept; --gc-interval 0 gives none"

# the keys shape: set pinned holds every key too, and is walked as often
ip netns exec "$nat" nft delete table ip natt_pin
NATT_PIN_SHAPE=keys load_pin_ruleset "$nat" || fail "keys shape"
gc_is pinned none || fail "set pinned declares a gc interval: $(gc_of pinned)"
start_helper "$nat" "$WORK/h4.log" --no-restore --gc-interval 90
busywait 3000 gc_is pinned 1m30s || fail "set pinned: $(gc_of pinned)"
gc_is pins 1m30s || fail "keys shape, map: $(gc_of pins)"
grep -q "gc interval 90 s (it declared none), its set of keys too" "$WORK/h4.log" ||
	fail "keys shape: $(cat "$WORK/h4.log")"
echo "keys shape: the map and set pinned both given 90 s"
echo "PASS: 22-map-gc"
