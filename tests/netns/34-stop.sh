#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stop loses no held packet. Under a steady load of IKE exchanges the
# helper is stopped with SIGTERM and started again, CYCLES times; every
# answer must reach its client at the first try (a lost one shows as a
# retransmission after 1 s, times NFQH_TIMEOUT_SCALE: a slow VM delays,
# it does not lose). Then the same with SIGKILL, which the daemon
# cannot help: the kernel drops what the queue held when the socket closes;
# those are counted and printed, not judged.
#   CYCLES (6), CLIENTS (4): parallel clients, each its own 64 inner hosts
source "$(dirname "$0")/lib.sh"
CYCLES=${CYCLES:-6}
CLIENTS=${CLIENTS:-4}

setup_topology
start_gateway "$WORK/gw.log"
load_pin_ruleset "$nat" || fail "ruleset"
retransmits() { cat "$@" | awk '{ n += $7 } END { print n + 0 }'; }

# load LOGPREFIX: clients run until $WORK/stop exists
load() {
	local j
	rm -f "$WORK/stop"
	for ((j = 0; j < CLIENTS; j++)); do
		ip netns exec "$sub" bash -c "while [ ! -e '$WORK/stop' ]; do
			'$IKEPEER' client -g $GW_ADDR -f 100.64.1.$((1 + j * 64)) -n 64 -t $((1000 * ${NFQH_TIMEOUT_SCALE:-1})) || :
		done" >"$WORK/$1$j" 2>&1 &
		LOAD+=($!)
		PIDS+=($!)
	done
}
load_stop() {
	local p
	touch "$WORK/stop"
	for p in "${LOAD[@]}"; do wait "$p"; done
	LOAD=()
}
# cycles SIGNAL: start, let it serve 200 answers, stop with SIGNAL
cycles() {
	local i n taken=0 c
	for ((i = 0; i < CYCLES; i++)); do
		start_helper "$nat" "$WORK/helper-$1-$i.log"
		n=$(wc -l <"$WORK/gw.log")
		busywait 20000 sh -c "[ \$(wc -l <'$WORK/gw.log') -ge $((n + 200)) ]" ||
			fail "no load reached the gateway"
		kill -"$1" "$HELPER_PID"
		wait "$HELPER_PID" 2>/dev/null
		c=$?
		if [ "$1" = TERM ]; then
			[ "$c" = 0 ] || fail "SIGTERM: exit $c"
			grep -q "unbound, pins stay" "$WORK/helper-$1-$i.log" || fail "no exit line"
			n=$(grep -o 'stats: packets [0-9]*' "$WORK/helper-$1-$i.log" | awk '{ print $3 }')
			taken=$((taken + n))
		fi
	done
	TAKEN=$taken
}

LOAD=()
load term
cycles TERM
load_stop
ok=$(cat "$WORK"/term* | grep -c ' ok ')
failed=$(cat "$WORK"/term* | grep -c ' fail ')
lost=$(retransmits "$WORK"/term*)
echo "SIGTERM x$CYCLES under load: $ok exchanges ok, $failed failed, $lost answers lost (retransmitted); the helpers took $TAKEN packets"
[ "$ok" -gt 0 ] || fail "no exchange completed"
[ "$failed" = 0 ] && [ "$lost" = 0 ] || fail "a stop lost $lost packets"

load kill
cycles KILL
load_stop
ok=$(cat "$WORK"/kill* | grep -c ' ok ')
lost=$(retransmits "$WORK"/kill*)
echo "SIGKILL x$CYCLES under load: $ok exchanges ok, $lost answers lost at the kills (the kernel drops a queue's held packets when its socket closes; IKE retransmits them)"
[ "$(cat "$WORK"/kill* | grep -c ' fail ')" = 0 ] || fail "an exchange failed after SIGKILL"
echo "PASS: 34-stop"
