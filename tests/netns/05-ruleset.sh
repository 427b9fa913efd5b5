#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The ruleset: loads by kernel support, reloads without losing pins or
# touching the operator's tables, keeps its fallback's matches in step with
# the native rules, and the fallback removes cleanly.
source "$(dirname "$0")/lib.sh"

setup_ns nat
nftx() { ip netns exec "$nat" nft "$@"; }
ip netns exec "$nat" nft -f "$RULES/cgnat-example.nft" || fail "cgnat-example.nft"
before=$(nftx list table ip cgnat)

load_pin_ruleset "$nat" || fail "first load"
if native_queue "$nat"; then mode=native; else mode="iptables-nft fallback"; fi
ip netns exec "$nat" "$BUILD/tools/pinwrite" 100.64.1.1 203.0.113.2 198.51.100.3 >/dev/null
load_pin_ruleset "$nat" || fail "reload"
nftx list map ip natt_pin pins | grep -q "100.64.1.1 . 203.0.113.2 .*: 198.51.100.3" ||
	fail "reload lost the pin"
[ "$(nftx list table ip cgnat)" = "$before" ] || fail "reload touched table ip cgnat"
[ "$(nftx list chain ip natt_pin pin | grep -c snat)" = 1 ] || fail "reload doubled the pin rule"

if [ "$mode" != native ]; then
	rules=$(ip netns exec "$nat" iptables-nft -t mangle -S NATT_PIN)
	[ "$(grep -c NFQUEUE <<<"$rules")" = 2 ] || fail "fallback rules: $rules"
	m=$(sed -n 's/^define NATT_PIN_MARK = 0x0*\([0-9a-fA-F]*\).*/\1/p' "$RULES/natt-pin.nft")
	[ "$(grep -c -- "-m mark ! --mark 0x$m/0x$m" <<<"$rules")" = 2 ] ||
		fail "fallback queues answers refreshed in the kernel (no mark 0x$m match): $rules"
	q=$(sed -n 's/^define NATT_PIN_QUEUE = \([0-9]*\).*/\1/p' "$RULES/natt-pin.nft")
	[ "$(grep -c -- "--queue-num $q --queue-bypass" <<<"$rules")" = 2 ] ||
		fail "fallback does not feed queue $q with bypass: $rules"
	[ "$(ip netns exec "$nat" iptables-nft -t mangle -S PREROUTING | grep -c NATT_PIN)" = 1 ] ||
		fail "reload doubled the jump to NATT_PIN"
	ip netns exec "$nat" "$RULES/natt-pin-load" --remove
	ip netns exec "$nat" iptables-nft -t mangle -S 2>/dev/null | grep -q NATT_PIN &&
		fail "--remove left NATT_PIN behind"
fi

# the native rules and the fallback match the same: ports, lengths, marker;
# each queue rule has its refresh rule before it, with the same matches
native=$(grep 'queue num' "$RULES/natt-pin.nft")
while read -r line; do
	m=${line%% queue num*}
	grep -qF "#shape:map $m ct original ip saddr . ip saddr @pins jump refresh" "$RULES/natt-pin.nft" &&
		grep -qF "$m ct original ip saddr . ip saddr @pinned jump refresh # shape:keys" "$RULES/natt-pin.nft" ||
		fail "no refresh rule of each shape before: $line"
done <<<"$native"
grep -q 'sport 500 udp length >= 36' <<<"$native" || fail "native 500 rule changed: update the fallback"
grep -q 'sport 4500 udp length >= 40 @th,64,32 0' <<<"$native" || fail "native 4500 rule changed: update the fallback"
grep -q -- '--sport 500' "$RULES/natt-pin-load" && grep -q '=36:65535' "$RULES/natt-pin-load" &&
	grep -q -- '--sport 4500' "$RULES/natt-pin-load" && grep -q '=40:65535&&0>>22&0x3C@8=0' "$RULES/natt-pin-load" ||
	fail "fallback matches differ from the native rules"

# an installation of the shape before the refresh rules (map without
# `dynamic`, which the kernel will not add): natt-pin-load migrates it in one
# transaction, every pin kept with its time left, never an empty map
setup_ns old
oldx() { ip netns exec "$old" "$@"; }
# the old shape, as shipped (data/natt-pin-v1.nft): no git history needed
sed '/# native-queue$/d' "$(dirname "$0")/data/natt-pin-v1.nft" | oldx nft -f - || fail "old ruleset"
elems=
for i in $(seq 1 200); do
	elems+="${elems:+, }100.64.2.$((i % 250)) . 203.0.113.$((i / 250 + 2)) : 198.51.100.$((i % 4 + 1))"
done
oldx nft add element ip natt_pin pins "{ $elems }"
added=$(date +%s)
oldx nft add element ip natt_pin pins "{ 100.64.3.1 . 203.0.113.2 timeout 40s expires 20s : 198.51.100.2 }"
oldx nft list map ip natt_pin pins | grep -q 'flags.*dynamic' && fail "the old map already has dynamic"
count() { oldx nft list map ip natt_pin pins | grep -o ' : 198' | wc -l; }
n=$(count)
# watch the map while it is replaced: it must never hold fewer pins
( while [ ! -e "$WORK/migrated" ]; do count; done >"$WORK/seen" ) &
watcher=$!
PIDS+=("$watcher")
out=$(oldx "$RULES/natt-pin-load") || fail "migration: $out"
touch "$WORK/migrated"
wait "$watcher"
grep -q "migrated to the current shape, $n pins kept" <<<"$out" || fail "migration: $out"
oldx nft list map ip natt_pin pins | grep -q 'flags dynamic,timeout' || fail "not migrated"
[ "$(count)" = "$n" ] || fail "migration kept $(count) of $n pins"
# the keys shape: every pin's key in set pinned as well
if oldx nft list sets ip | grep -q 'set pinned'; then
	keys=$(oldx nft list set ip natt_pin pinned | grep -o '100\.64\.[23]\.[0-9]* \. 203' | wc -l)
	[ "$keys" = "$n" ] || fail "migration put $keys of $n keys into set pinned"
fi
left=$(oldx nft list map ip natt_pin pins | grep -o '100.64.3.1 . 203.0.113.2 timeout 40s expires [0-9]*s' | awk '{ print $NF }')
# the time the migration took (seconds under a slow VM) is gone from it
spent=$(($(date +%s) - added))
[ -n "$left" ] && [ "${left%s}" -le 20 ] && [ "${left%s}" -ge $((20 - spent - 1)) ] ||
	fail "the pin's own timeout and time left were not kept: ${left:-gone} after ${spent}s"
samples=$(wc -l <"$WORK/seen")
[ "$(sort -un "$WORK/seen" | head -1)" = "$n" ] ||
	fail "the map was seen with $(sort -un "$WORK/seen" | head -1) of $n pins during the migration"
out=$(oldx "$RULES/natt-pin-load") || fail "reload after migration"
grep -q migrated <<<"$out" && fail "migrated twice"
echo "migration: $n pins kept with their time left; $samples looks at the map during it never saw fewer"

echo "PASS: 05-ruleset ($mode)"
