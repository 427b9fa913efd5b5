#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nfq-helper --explain INNER [GATEWAY], every verdict on real flows:
#   not pinned (no flow; no answer; answered but no helper), exit 3;
#   split (the field report: NAT-T via another address, unanswered), exit 1;
#   pinned and consistent, exit 0 (after the helper's rebuild and heal);
# and a bad address is refused, exit 2.
source "$(dirname "$0")/lib.sh"
STRICT_GW=203.0.113.3
DEAD_GW=203.0.113.9	# on the link, but nobody answers

setup_topology
ip -n "$gw" addr add $STRICT_GW/24 dev g0
start_gateway "$WORK/gw.log" -a $GW_ADDR
start_gateway "$WORK/strict.log" -a $STRICT_GW -s
load_pin_ruleset "$nat" || fail "cannot load natt-pin.nft"

# explain WANT_EXIT WANT_TEXT ARGS...: runs it in the NAT, checks both
explain() {
	local want=$1 text=$2 rc
	shift 2
	ip netns exec "$nat" "$HELPER" --explain "$@" >"$WORK/explain" 2>&1
	rc=$?
	[ -n "${DEMO:-}" ] && sed 's/^/    /' "$WORK/explain"
	[ "$rc" = "$want" ] || fail "--explain $*: exit $rc, not $want: $(cat "$WORK/explain")"
	tail -1 "$WORK/explain" | grep -q "$text" ||
		fail "--explain $*: last line is not '$text': $(tail -1 "$WORK/explain")"
	echo "explain $*: exit $rc: $(tail -1 "$WORK/explain")"
}

explain 3 "not pinned: no IKE or NAT-T flow" 100.64.1.200

ip netns exec "$sub" "$IKEPEER" client -g $DEAD_GW -f 100.64.1.10 -r 1 -t 300 >/dev/null
explain 3 "not pinned: the gateway never answered" 100.64.1.10

ip netns exec "$sub" "$IKEPEER" client -g $GW_ADDR -f 100.64.1.20 >/dev/null ||
	fail "IKE with the lenient gateway"
explain 3 "not pinned, though the gateway answered" 100.64.1.20 $GW_ADDR

# the field report: the NAT-T flow gets another address (numgen inc) and
# the strict gateway never answers it; the client retransmits
ip netns exec "$sub" "$IKEPEER" client -g $STRICT_GW -f 100.64.1.30 -t 2000 -r 15 \
	>"$WORK/split" &
PIDS+=($!)
busywait 10000 grep -qs '^rx 4500' "$WORK/strict.log" || fail "no NAT-T message"
explain 1 "split: the NAT-T flow" 100.64.1.30
grep -q 'udp 4500 .* no answer' "$WORK/explain" || fail "the split flow is not listed"

# the helper's rebuild pins them and heals the split one
start_helper "$nat" "$WORK/helper.log"
busywait 10000 grep -qs ' ok ' "$WORK/split" || fail "the split subscriber did not come up"
explain 0 "pinned and consistent" 100.64.1.30 $STRICT_GW
grep -q '^  pin   via .* s left' "$WORK/explain" || fail "no pin listed"
explain 0 "pinned and consistent" 100.64.1.20

ip netns exec "$nat" "$HELPER" --explain 100.64.1 >"$WORK/bad" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "invalid inner address" "$WORK/bad" || fail "bad address: exit $rc: $(cat "$WORK/bad")"
echo "PASS: 75-explain: every verdict and its exit status"
