#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # setup_ns (lib.sh) names each namespace's variable
# The ruleset: loads by kernel support, reloads without losing pins or
# touching the operator's tables, queues the same answers natively and in
# the fallback, and the fallback removes cleanly.
source "$(dirname "$0")/lib.sh"

setup_ns nat
nftx() { ip netns exec "$nat" nft "$@"; }
ip netns exec "$nat" nft -f "$RULES/cgnat-example.nft" || fail "cgnat-example.nft"
before=$(nftx list table ip cgnat)

out=$(ip netns exec "$nat" "$RULES/natt-pin-load") || fail "first load: $out"
if native_queue "$nat"; then mode=native; else mode="iptables-nft fallback"; fi
# the loader feeds the queue the way the kernel allows, and says so
case $mode in
native) want="fed by nft's queue" ;;
*) want="fed by iptables-nft NFQUEUE" ;;
esac
grep -qF "$want" <<<"$out" || fail "$mode kernel, but the loader said: $out"
ip netns exec "$nat" "$BUILD/tools/pinwrite" 100.64.1.1 203.0.113.2 198.51.100.3 >/dev/null
load_pin_ruleset "$nat" || fail "reload"
nftx list map ip natt_pin pins | grep -q "100.64.1.1 . 203.0.113.2 .*: 198.51.100.3" ||
	fail "reload lost the pin"
[ "$(nftx list table ip cgnat)" = "$before" ] || fail "reload touched table ip cgnat"
[ "$(nftx list chain ip natt_pin pin | grep -c snat)" = 1 ] || fail "reload doubled the pin rule"
# the answer's zone in its priority, where this nft takes it (1.0, not 1.1)
want=0
printf 'table ip p { chain c { meta priority set ct reply zone; }; }\n' | nftx -c -f - 2>/dev/null && want=1
for c in ike500 ike4500; do
	[ "$(nftx list chain ip natt_pin $c | grep -c 'meta priority set ct reply zone')" = $want ] ||
		fail "chain $c: the zone in the priority: not $want rule: $(nftx list chain ip natt_pin $c)"
done

if [ "$mode" != native ]; then
	# natt-pin.nft marks what it would queue; iptables queues what carries
	# the mark, one match for every other packet of the box
	rules=$(ip netns exec "$nat" iptables-nft -t mangle -S NATT_PIN)
	q=$(sed -n 's/^define NATT_PIN_QUEUE = \([0-9]*\).*/\1/p' "$RULES/natt-pin.nft")
	[ "$(grep -c -- "^-A NATT_PIN -j NFQUEUE --queue-num $q --queue-bypass$" <<<"$rules")" = 1 ] &&
		[ "$(grep -c NFQUEUE <<<"$rules")" = 1 ] ||
		fail "fallback does not feed queue $q with bypass, from one rule: $rules"
	m=$(sed -n 's/^define NATT_PIN_MARK = 0x0*\([0-9a-fA-F]*\).*/\1/p' "$RULES/natt-pin.nft")
	jumps=$(ip netns exec "$nat" iptables-nft -t mangle -S PREROUTING | grep NATT_PIN)
	[ "$jumps" = "-A PREROUTING -m mark --mark 0x$m/0x$m -j NATT_PIN" ] ||
		fail "fallback: the jump to NATT_PIN is not one, on mark 0x$m: $jumps (reload doubled it?)"
	ip netns exec "$nat" "$RULES/natt-pin-load" --remove
	ip netns exec "$nat" iptables-nft -t mangle -S 2>/dev/null | grep -q NATT_PIN &&
		fail "--remove left NATT_PIN behind"
	# iptables-nft's base chain, empty, would still cost every packet
	ip netns exec "$nat" nft list chains ip mangle 2>/dev/null | grep -q 'chain PREROUTING' &&
		fail "--remove left the empty base chain ip mangle PREROUTING behind"
	load_pin_ruleset "$nat" || fail "load after --remove"
fi

# the native rules and the fallback queue the same: each queue rule has its
# twin that marks for the fallback with the same matches, and its refresh
# rule with the same matches before both
native=$(grep 'queue num.* # native-queue$' "$RULES/natt-pin.nft")
[ "$(wc -l <<<"$native")" = 2 ] || fail "expected two queue rules: $native"
while read -r line; do
	m=${line%% queue num*}
	grep -qF "$m meta mark set meta mark or \$NATT_PIN_MARK # xt-queue" "$RULES/natt-pin.nft" ||
		fail "no fallback twin of: $line"
	# what is queued carries its reply zone, for the look-up without GLUE_CT
	grep -qF "#zone-priority $m meta priority set ct reply zone" "$RULES/natt-pin.nft" ||
		fail "no rule putting the zone in the priority before: $line"
	grep -qF "#shape:map $m ct zone . ct original ip saddr . ip saddr @pins jump refresh" "$RULES/natt-pin.nft" &&
		grep -qF "$m ct zone . ct original ip saddr . ip saddr @pinned jump refresh # shape:keys" "$RULES/natt-pin.nft" ||
		fail "no refresh rule of each shape before: $line"
done <<<"$native"
[ "$(grep -c '# xt-queue$' "$RULES/natt-pin.nft")" = 2 ] || fail "fallback rules other than the two twins"
# every packet of the box passes ike_replies: one rule, a dispatch
[ "$(ip netns exec "$nat" nft list chain ip natt_pin ike_replies | grep -v policy | grep -c 'jump\|queue\|accept')" = 1 ] ||
	fail "ike_replies is not one dispatch rule: $(ip netns exec "$nat" nft list chain ip natt_pin ike_replies)"

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
grep -q "migrated to the current shape (pins keyed by conntrack zone: the old ones are in zone 0), $n pins kept" <<<"$out" ||
	fail "migration: $out"
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
