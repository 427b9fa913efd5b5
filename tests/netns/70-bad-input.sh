#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bad-input matrix: every row below is executed. A client behind the
# CGNAT opens an IKE flow; tests/tools/craftpeer answers it with the row's
# broken packet, built byte by byte. For each row: the helper is still up,
# the named counter moved by DELTA (0: must not move; +: at least one), and
# the answer reached its client, or did not where the kernel itself drops
# it before the queue (ARRIVES). Counters are the helper's metrics, or the
# kernel's: kernel:ct_invalid (conntrack -S), kernel:ReasmReqds and
# kernel:InHdrErrors (/proc/net/snmp). The netlink decoders' own matrix is tests/unit/test-badinput.c;
# a refused verdict is 32-lifecycle's.
source "$(dirname "$0")/lib.sh"
CRAFT=$BUILD/tools/craftpeer
M=nfq_helper_

# ROW CRAFT-CASE PORT COUNTER DELTA ARRIVES   what happens
cases() {
	cat <<EOF
ok			ok			500	${M}pins_total{outcome="added"}		1	yes	pinned
v2_ok			v2_ok			500	${M}pins_total{outcome="added"}		1	yes	IKEv2 IKE_SA_INIT: pinned
large			large			500	${M}pins_total{outcome="added"}		1	yes	1200 bytes, cut to 128 by the copy range: pinned
ip_options		ip_options		500	${M}pins_total{outcome="added"}		1	yes	IP options (IHL 7): pinned
bad_ip_options		bad_ip_options		500	kernel:InHdrErrors				1	no	an IP option whose length lies (timestamp, 2): ip_rcv drops it
fragments		fragments		500	${M}pins_total{outcome="added"}		1	yes	two fragments, reassembled before the queue: pinned
first_fragment		first_fragment		500	kernel:ReasmReqds				1	no	the first fragment alone: held for reassembly, never queued
later_fragment		later_fragment		500	kernel:ReasmReqds				1	no	a later fragment alone: held for reassembly, never queued
udp_trailing		udp_trailing		500	${M}packets_skipped_total{reason="not_ike"}	1	yes	UDP length shorter than the IP payload: not pinned
udp_len_over		udp_len_over		500	kernel:ct_invalid				1	no	UDP length beyond the packet: conntrack invalid, not de-NATed
bad_checksum		bad_checksum		500	kernel:ct_invalid				1	no	wrong UDP checksum: conntrack invalid, not de-NATed
garbage			garbage			500	${M}ike_rejected_total{reason="bad_version"}	1	yes	64 bytes of 0x41
truncated		truncated		500	${M}packets_total				0	yes	20 bytes: the rule wants 28 (udp length >= 36), not queued
length_longer		length_longer		500	${M}ike_rejected_total{reason="bad_length"}	1	yes	IKE length 90 in 60 bytes
length_shorter		length_shorter		500	${M}ike_rejected_total{reason="bad_length"}	1	yes	IKE length 40 in 60 bytes
bad_version		bad_version		500	${M}ike_rejected_total{reason="bad_version"}	1	yes	version 3.0
v1_minor		v1_minor		500	${M}ike_rejected_total{reason="bad_version"}	1	yes	version 1.1
bad_exchange_v1		bad_exchange_v1		500	${M}ike_rejected_total{reason="bad_exchange"}	1	yes	IKEv1 exchange 99
bad_exchange_v2		bad_exchange_v2		500	${M}ike_rejected_total{reason="bad_exchange"}	1	yes	IKEv2 exchange 33
zero_responder_spi	zero_responder_spi	500	${M}ike_rejected_total{reason="zero_responder_spi"}	1	yes	zero responder cookie
zero_initiator_spi	zero_initiator_spi	500	${M}ike_rejected_total{reason="zero_initiator_spi"}	1	yes	zero initiator cookie
keepalive		keepalive		500	${M}packets_total				0	yes	one byte 0xff on 500: not queued
natt_ok			natt_ok			4500	${M}pins_total{outcome="added"}		1	yes	IKE behind the zero marker on 4500: pinned
natt_esp		natt_esp		4500	${M}packets_total				0	yes	marker 00000001 (ESP): not queued
natt_keepalive		natt_keepalive		4500	${M}packets_total				0	yes	NAT-T keepalive 0xff: not queued
natt_truncated		natt_truncated		4500	${M}packets_total				0	yes	marker and 20 bytes: not queued (udp length >= 40)
natt_garbage		natt_garbage		4500	${M}ike_rejected_total{reason="bad_version"}	1	yes	marker and 64 bytes of 0x41
natt_zero_responder_spi	natt_zero_responder_spi	4500	${M}ike_rejected_total{reason="zero_responder_spi"}	1	yes	marker and a zero responder cookie
ct_deleted		ok			500	${M}packets_skipped_total{reason="no_nat_flow"}	1	yes	conntrack entry deleted while the answer was queued
ct_no_nat		ok			500	${M}packets_skipped_total{reason="no_nat_flow"}	1	yes	answer of a flow without NAT (test-only queue rule)
map_other_type		ok			500	${M}pins_total{outcome="error"}		1	yes	map recreated as ipv4_addr : ipv4_addr while running (test-only queue rule)
map_deleted		ok			500	${M}pins_total{outcome="error"}		1	yes	table deleted while running (test-only queue rule)
map_full		ok			500	${M}pins_total{outcome="map_full"}		1	yes	map of size 1, holding one pin
queue_overrun		ok			500	${M}queue_overruns_total			+	yes	32 answers at once into a 1 KiB socket buffer (test-only)
EOF
}

setup_topology
ip netns exec "$gw" "$CRAFT" gateway >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
busywait 3000 grep -qs '^ready' "$WORK/gw.log" || fail "craftpeer gateway"
load_pin_ruleset "$nat" || fail "ruleset"
HLOG=$WORK/helper.log
# --no-restore: the map rows delete and re-create the table on purpose
start_helper "$nat" "$HLOG" -M "$WORK/metrics.prom" --no-restore

alive() { kill -0 "$HELPER_PID" 2>/dev/null || fail "$1: the helper died: $(tail -3 "$HLOG")"; }
# counter NAME: its value now (metrics written on SIGUSR1, before the log line)
counter() {
	local n
	case $1 in
	kernel:ct_invalid)
		ip netns exec "$nat" conntrack -S | grep -o 'invalid=[0-9]*' |
			awk -F= '{ n += $2 } END { print n + 0 }' ;;
	kernel:ReasmReqds | kernel:InHdrErrors)
		ip netns exec "$nat" awk -v f="${1#kernel:}" '/^Ip:/ {
			if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c[f] }' /proc/net/snmp ;;
	*)
		n=$(grep -c 'stats: batches' "$HLOG")
		kill -USR1 "$HELPER_PID"
		busywait 3000 sh -c "[ \$(grep -c 'stats: batches' '$HLOG') -gt $n ]" ||
			fail "no counters"
		awk -v k="$1" '$1 == k { print $2 }' "$WORK/metrics.prom" ;;
	esac
}
host=0
next_src() { host=$((host + 1)); SRC=100.64.1.$host; }
# client CASE PORT ARRIVES [NS SRC]: one exchange; its output in $OUT
client() {
	local t=3000
	[ "$3" = no ] && t=700
	OUT=$(ip netns exec "${4:-$sub}" "$CRAFT" client -g $GW_ADDR -f "${5:-$SRC}" -c "$1" -p "$2" -t $t)
}
queue_total() { ip netns exec "$nat" awk '$1 == 0 { print $3 }' /proc/net/netfilter/nfnetlink_queue; }

# rows that need more than one exchange; each sets OUT like client()
run_ct_deleted() {
	local pid
	# GLUE_CT: the entry comes with the packet, there is no look-up to miss
	grep -q 'conntrack from queued packets' "$HLOG" &&
		{ skip_row "conntrack comes with the queued packet (GLUE_CT): no look-up"; return; }
	kill -STOP "$HELPER_PID"
	ip netns exec "$sub" "$CRAFT" client -g $GW_ADDR -f "$SRC" -c ok -t 5000 >"$WORK/out" &
	pid=$!
	busywait 3000 sh -c "[ \"\$(ip netns exec $nat awk '\$1 == 0 { print \$3 }' /proc/net/netfilter/nfnetlink_queue)\" -ge 1 ]" ||
		{ kill -CONT "$HELPER_PID"; fail "ct_deleted: the answer was not queued"; }
	ip netns exec "$nat" conntrack -D -p udp -s "$SRC" >/dev/null 2>&1 ||
		{ kill -CONT "$HELPER_PID"; fail "ct_deleted: no entry to delete"; }
	kill -CONT "$HELPER_PID"
	wait "$pid"
	OUT=$(cat "$WORK/out")
}
# feed_on [MATCHES...]: a test-only queue rule, in front of the ruleset's
# (which goes with its table); feed_off removes it
feed_on() {
	ip netns exec "$nat" iptables-nft -t mangle -I PREROUTING 1 -p udp --sport 500 \
		"$@" -j NFQUEUE --queue-num 0 --queue-bypass || fail "test-only queue rule"
}
feed_off() { ip netns exec "$nat" iptables-nft -t mangle -D PREROUTING 1; }
run_ct_no_nat() {
	feed_on -d 203.0.113.1
	client ok 500 yes "$nat" 203.0.113.1
	feed_off
}
reload_ruleset() {
	ip netns exec "$nat" nft delete table ip natt_pin 2>/dev/null
	load_pin_ruleset "$nat" || fail "ruleset"
}
# without its table the ruleset queues nothing: the queue rule is the test's
run_map_other_type() {
	ip netns exec "$nat" nft delete table ip natt_pin
	ip netns exec "$nat" nft add table ip natt_pin
	ip netns exec "$nat" nft add map ip natt_pin pins "{ type ipv4_addr : ipv4_addr; flags timeout; }"
	feed_on
	client ok 500 yes
	feed_off
	reload_ruleset
}
run_map_deleted() {
	ip netns exec "$nat" nft delete table ip natt_pin
	feed_on
	client ok 500 yes
	feed_off
	reload_ruleset
}
run_map_full() {
	# the ruleset itself with a map of one: a map's size cannot change;
	# conntrack emptied first, or the rebuild that follows a re-created map
	# would fill it from the earlier rows' flows
	ip netns exec "$nat" conntrack -F 2>/dev/null
	ip netns exec "$nat" nft delete table ip natt_pin
	sed 's/^\(\s*size\) [0-9]*/\1 1/' "$RULES/natt-pin.nft" >"$WORK/natt-pin-1.nft"
	load_pin_ruleset "$nat" "$WORK/natt-pin-1.nft" || fail "map_full: ruleset"
	client ok 500 yes
	case $OUT in *arrived*) ;; *) fail "map_full: first exchange: $OUT" ;; esac
	next_src
	client ok 500 yes
	reload_ruleset
}
run_queue_overrun() {
	local i pids=()
	kill -TERM "$HELPER_PID"
	wait "$HELPER_PID"
	# a log of its own: start_helper must not find the old one's "bound"
	HLOG=$WORK/overrun.log
	NFQH_TEST_RCVBUF=1024 start_helper "$nat" "$HLOG" -M "$WORK/metrics.prom" --no-restore
	before=$(counter "$counter")	# a new helper: counting starts again
	kill -STOP "$HELPER_PID"
	for ((i = 0; i < 32; i++)); do
		next_src
		ip netns exec "$sub" "$CRAFT" client -g $GW_ADDR -f "$SRC" -c ok -t 5000 >"$WORK/overrun.$i" &
		pids+=($!)
	done
	busywait 5000 sh -c "[ \$(grep -c ' ok\$' '$WORK/gw.log') -ge $((oks + 32)) ]" ||
		{ kill -CONT "$HELPER_PID"; fail "queue_overrun: the gateway did not answer"; }
	kill -CONT "$HELPER_PID"
	for i in "${pids[@]}"; do wait "$i"; done
	OUT=$(cat "$WORK"/overrun.* | grep -c arrived)
	[ "$OUT" = 32 ] && OUT="32 of 32 arrived" || OUT="lost: only $OUT of 32 came"
}
skip_row() { SKIPPED="$1"; }
moved() {	# moved D DELTA: D is what DELTA asks for
	if [ "$2" = + ]; then [ "$1" -ge 1 ]; else [ "$1" = "$2" ]; fi
}

printf '%-24s %-5s %-58s %6s %-8s %s\n' row port counter delta arrives result >"$WORK/table"
rows=0 failed=0
while read -r row craft port counter delta arrives _; do
	[ -n "$row" ] || continue
	rows=$((rows + 1))
	next_src
	SKIPPED=
	oks=$(grep -c ' ok$' "$WORK/gw.log")
	before=$(counter "$counter")
	if declare -F "run_$row" >/dev/null; then
		"run_$row"
	else
		client "$craft" "$port" "$arrives"
	fi
	alive "$row"
	after=$(counter "$counter")
	d=$((after - before))
	result=ok
	if [ -n "$SKIPPED" ]; then
		result="skipped: $SKIPPED"
	elif ! moved "$d" "$delta"; then
		result="FAIL: counter moved by $d"
	elif [ "$arrives" = yes ] && ! grep -q arrived <<<"$OUT"; then
		result="FAIL: did not arrive ($OUT)"
	elif [ "$arrives" = no ] && grep -q arrived <<<"$OUT"; then
		result="FAIL: arrived ($OUT)"
	fi
	case $result in FAIL*) failed=$((failed + 1)) ;; esac
	printf '%-24s %-5s %-58s %6s %-8s %s\n' "$row" "$port" "$counter" "$d/$delta" "$arrives" "$result" >>"$WORK/table"
done < <(cases)
cat "$WORK/table"
echo "bad-input matrix: $rows rows, $failed failed; the helper served throughout"
[ "$rows" -ge 34 ] || fail "the table was not read whole"
[ "$failed" = 0 ] || fail "$failed rows"
echo "PASS: 70-bad-input"
