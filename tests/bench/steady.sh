# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2154 # sourced: its names are set and used by the scripts that source it
# The steady state (sourced by tests/bench/run, after lib.sh): a population of
# live tunnels, each an inner host . gateway with a pin and a NAT flow on
# 4500, sending DPD; on top, new tunnels at stepped rates, each a whole
# exchange (ikeload steady); the same for the helper and its peers.
#   population: 100.80.0.0 + k -> 203.0.113.128 + k % 16 ($POPGWS), pinned
#   to $POOL by mapfill (one pool address and one gateway give the NAT 64k
#   ports: 100k tunnels need several gateways)
#   new tunnels: 100.88.0.0 + e (on from step to step) -> 203.0.113.128 + e % 126
#   the 40-exchange case: 100.95.255.1 -> 203.0.113.253

POPGW=203.0.113.128 POPGWS=16 POOL=198.51.100.1 NEWNET=100.88.0.0/13
STEADY_MAX=60000	# exchanges per step: 2 flows each, with the population's
			# in a conntrack table of 262,144
dpd_off=0 new_next=0 new_flows=0

# addr N: the dotted quad of a 32-bit number
addr() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }

# pins_table MODE: the table whose map pins in that mode
pins_table() { [ "$1" = kernel-only ] && echo natt_pin_kernel || echo natt_pin; }

# population MODE: an empty map but for the population's pins
population() {
	local t
	t=$(pins_table "$1")
	ip netns exec "$nat" nft flush map ip "$t" pins || fail "flush map $t"
	ip netns exec "$nat" "$MAPFILL" -t "$t" -G $POPGWS "$POP" $POPGW $POOL >/dev/null ||
		fail "mapfill: the population's $POP pins into $t"
}

# steady_load SECONDS ARGS...: ikeload steady with the population, from the
# tunnel where the last one ended; sets $out
steady_load() {
	local secs=$1
	shift
	out=$(ip netns exec "$sub" "$IKELOAD" steady -s "$secs" -P "$POP" \
		-A 100.80.0.0 -a $POPGW -b $POPGWS -i "$INTERVAL" -o "$dpd_off" -E $POOL \
		"$@") || fail "ikeload steady: $out"
	dpd_off=$(awk -v o="$dpd_off" -v p="$POP" -v s="$secs" -v i="$INTERVAL" \
		'BEGIN { printf "%d", (o + p * s / i) % p }')
}

# warm MODE: no flows, then one DPD per tunnel (at 20k/s, no helper: the
# queue is bypassed) so that each live tunnel has its NAT flow
warm() {
	local secs=$(( (POP + 19999) / 20000 )) INTERVAL
	INTERVAL=$secs
	flush_flows
	[ "$1" = none ] || population "$1"
	new_next=0 new_flows=0
	steady_load "$secs"
	declare -A w
	kv w "$out"
	# each live tunnel needs its flow: a NAT out of ports would drop some
	[ "${w[dpd_answered]}" -ge $((POP * 99 / 100)) ] ||
		fail "warm-up: ${w[dpd_answered]} of $POP live tunnels answered ($out)"
}

# kv ARRAY "name value ...": fills the associative array
kv() {
	local -n a=$1
	local -a f
	read -r -a f <<<"$2"
	for ((i = 0; i + 1 < ${#f[@]}; i += 2)); do a[${f[i]}]=${f[i + 1]}; done
}

# nft_counters TABLE: "name packets" of every named counter in TABLE
nft_counters() {
	ip netns exec "$nat" nft list counters table ip "$1" 2>/dev/null |
		awk '$1 == "counter" { n = $2 } $1 == "packets" && n { print n, $2; n = "" }'
}

# metric FILE NAME: a counter's value from a Prometheus file, - if absent
metric() {
	awk -v n="$2" '$1 == n { v = $2; f = 1 } END { print f ? v : "-" }' "$1"
}

STEADY_COLS="mode,offered,rep,achieved,exchanges,done,lost,split,dpd,dpd_answered,dpd_lost,dpd_split,dups,helper_packets,transactions,transactions_failed,hold_p50,hold_p99,hold_p999"
for h in new refresh dpd r500 r4500 all; do
	STEADY_COLS="$STEADY_COLS,${h}_n,${h}_p50,${h}_p99,${h}_p999"
done

# sstep MODE RATE REP [ARGS...]: one step of the population plus RATE new
# tunnels/s; its own helper (the helper's figures are this step's alone);
# appends to $REPS_CSV (steady-reps.csv), the helper's metrics to metrics.csv
# and, with -T (rtt_split), the split to rtt-split.csv
sstep() {
	local mode=$1 rate=$2 rep=$3 secs=$SSTEP n log prom rc
	local pk=- tx=- txf=- p50=- p99=- p999=- h line
	shift 3
	n=$(awk -v r="$rate" -v s="$secs" 'BEGIN { printf "%d", r * s }')
	[ "$n" -le $STEADY_MAX ] || n=$STEADY_MAX
	# new tunnels from fresh addresses each step; their flows and pins go
	# only when the next step's would not fit beside the population's
	if [ $((new_flows + 2 * n)) -gt $((2 * STEADY_MAX)) ]; then
		ip netns exec "$nat" conntrack -D -s $NEWNET >/dev/null 2>&1
		[ "$mode" = none ] || population "$mode"
		new_next=0 new_flows=0
	fi
	if [ "$mode" = helper ]; then
		log=$WORK/steady-$rate-$rep.log prom=$WORK/steady-$rate-$rep.prom
		nft_counters natt_pin >"$WORK/counters.before"
		start_helper "$nat" "$log" -M "$prom" --pin-rate 0	# capacity: no global cap
	fi
	steady_load "$secs" -f "$(addr $((0x64580000 + new_next)))" \
		-g 203.0.113.128 -G 126 -r "$rate" -n "$n" "$@"
	new_next=$((new_next + n)) new_flows=$((new_flows + 2 * n))
	declare -A r
	kv r "$out"
	if [ "$mode" = helper ]; then
		kill -TERM "$HELPER_PID"
		wait "$HELPER_PID"
		rc=$?
		[ $rc = 0 ] || fail "nfq-helper exited $rc in a steady step: $(tail -5 "$log")"
		[ -s "$prom" ] || fail "nfq-helper wrote no metrics to $prom"
		pk=$(metric "$prom" nfq_helper_packets_total)
		tx=$(metric "$prom" nfq_helper_transactions_total)
		txf=$(metric "$prom" nfq_helper_transactions_failed_total)
		p50=$(stat_of "$log" p50) p99=$(stat_of "$log" p99)
		p999=$(stat_of "$log" "p99.9")
		[ "$n" = 0 ] || [ "$pk" -gt 0 ] ||
			fail "the helper was queued nothing for $n new tunnels: queue not wired"
		{
			grep '^nfq_helper_' "$prom" | grep -v '_bucket\|_sum \|_count '
			# the ruleset's own counters (refreshes made in the kernel)
			nft_counters natt_pin | awk 'FILENAME == ARGV[1] { b[$1] = $2; next }
				{ print "nft_counter_" $1, $2 - b[$1] }' "$WORK/counters.before" -
		} | sed "s/^/$mode,$rate,$rep,/; s/ /,/" >>"$OUT/metrics.csv"
	fi
	[ "$n" = 0 ] || [ "${r[done]}" -gt 0 ] ||
		fail "no exchange completed in a $mode step: $out"
	line="$mode,$rate,$rep,${r[rate]},${r[exchanges]},${r[done]},${r[lost]},${r[split]},${r[dpd]},${r[dpd_answered]},${r[dpd_lost]},${r[dpd_split]},${r[dups]},$pk,$tx,$txf,$p50,$p99,$p999"
	for h in new refresh dpd r500 r4500 all; do
		line="$line,${r[${h}_n]},${r[${h}_p50]},${r[${h}_p99]},${r[${h}_p999]}"
	done
	echo "$line" >>"${REPS_CSV:-$OUT/steady-reps.csv}"
	[ -z "${r[split_all_n]:-}" ] || split_record "$mode" "$rate"
	printf '  %-11s %6s/s rep %s: %6s/s, done %6s lost %5s split %4s, dpd %6s lost %4s split %5s, helper pkts %6s tx %6s failed %s, hold p50/p99 %s/%s us, rtt new %s/%s refresh %s/%s us\n' \
		"$mode" "$rate" "$rep" "${r[rate]}" "${r[done]}" "${r[lost]}" "${r[split]}" \
		"${r[dpd_answered]}" "${r[dpd_lost]}" "${r[dpd_split]}" "$pk" "$tx" "$txf" \
		"$p50" "$p99" "${r[new_p50]}" "${r[new_p99]}" "${r[refresh_p50]}" "${r[refresh_p99]}"
}

# col NAME: the column number of NAME in steady-reps.csv
col() { tr ',' '\n' <<<"$STEADY_COLS" | grep -nx "$1" | cut -d: -f1; }

# median_rep MODE RATE: the repetition with the median of the key (hold p99
# for the helper, round-trip p99 of all answers for the peers); its line
median_rep() {
	local k
	k=$(col all_p99)
	[ "$1" = helper ] && k=$(col hold_p99)
	awk -F, -v m="$1" -v r="$2" '$1 == m && $2 == r' "$OUT/steady-reps.csv" |
		sort -t, -k"$k" -n | awk '{ l[NR] = $0 } END { if (NR) print l[int((NR + 1) / 2)] }'
}

# passes LINE: the capacity criteria: offered rate reached (95%), every
# exchange and DPD answered (99%), nothing split, hold p99 <= 1 ms (helper)
passes() {
	awk -F, -v ho="$(col hold_p99)" '{
		ok = $4 >= 0.95 * $2 && $6 >= 0.99 * $5 && $10 >= 0.99 * $9 &&
		     $8 == 0 && $12 == 0
		if ($1 == "helper") ok = ok && $ho != "-" && $ho <= 1000
		exit !ok }' <<<"$1"
}

# steady_mode MODE RATES...: warm-up, the population alone (rate 0), then
# each rate $SREPS times; sets $scap to the highest rate that passed in most
# repetitions (exchanges/s achieved in the median one)
steady_mode() {
	local mode=$1 r rep bad=0 good line
	shift
	warm "$mode"
	sstep "$mode" 0 1 -x 1,1,1
	scap=0
	for r in "$@"; do
		good=0
		for rep in $(seq "$SREPS"); do
			sstep "$mode" "$r" "$rep"
			line=$(tail -1 "$OUT/steady-reps.csv")
			passes "$line" && good=$((good + 1))
		done
		line=$(median_rep "$mode" "$r")
		echo "$line" >>"$OUT/steady.csv"
		if [ $((good * 2)) -gt "$SREPS" ]; then
			bad=0
			reached=$(cut -d, -f4 <<<"$line")
			[ "$reached" -gt "$scap" ] && scap=$reached
		else
			bad=$((bad + 1))
			[ $bad -ge 2 ] && break
		fi
	done
	awk -F, -v m="$mode" '$1 == m && $2 == 0' "$OUT/steady-reps.csv" >>"$OUT/steady.csv"
}

# forty: one subscriber, 40 IKEv2 exchanges to one gateway, each a new NAT
# flow (new source ports), the map not flushed between them; sets f40[]
forty() {
	local log=$WORK/forty.log prom=$WORK/forty.prom out
	flush_flows
	ip netns exec "$nat" nft flush map ip natt_pin pins
	start_helper "$nat" "$log" -M "$prom" --pin-rate 0	# capacity: no global cap
	out=$(ip netns exec "$sub" "$IKELOAD" steady -1 -S 40 -n 40 -r 20 -s 2 \
		-x 1,0,0 -R 0 -f 100.95.255.1 -g 203.0.113.253) ||
		fail "ikeload steady -1: $out"
	kill -TERM "$HELPER_PID"
	wait "$HELPER_PID" || fail "nfq-helper exited $? after the 40 exchanges"
	declare -gA f40
	kv f40 "$out"
	[ "${f40[done]}" = 40 ] || fail "40 exchanges: ${f40[done]} completed ($out)"
	f40[hold_p50]=$(stat_of "$log" p50)
	f40[hold_p99]=$(stat_of "$log" p99)
	f40[packets]=$(metric "$prom" nfq_helper_packets_total)
	f40[tx]=$(metric "$prom" nfq_helper_transactions_total)
	f40[txf]=$(metric "$prom" nfq_helper_transactions_failed_total)
	echo "   500 answers: round trip p50/p99 ${f40[r500_p50]}/${f40[r500_p99]} us; 4500 answers: ${f40[r4500_p50]}/${f40[r4500_p99]} us"
	echo "   helper: ${f40[packets]} packets, verdict latency p50/p99 ${f40[hold_p50]}/${f40[hold_p99]} us, ${f40[tx]} transactions (${f40[txf]} failed)"
}

# where the round trip's time goes (ikeload steady -T): per class (the new
# tunnels' first answers, all answers) the round trip and its segments, each
# p50 and p99
SPLIT_SEGS="out gw_wake gw_work return wake"
SPLIT_COLS="mode,offered,class,n,unstamped,rtt_p50,rtt_p99"
for seg in $SPLIT_SEGS; do SPLIT_COLS="$SPLIT_COLS,${seg}_p50,${seg}_p99"; done

# split_record MODE RATE: the split of sstep's step (its r[]) to rtt-split.csv
split_record() {
	local c s line
	for c in new all; do
		line="$1,$2,$c,${r[split_${c}_n]},${r[unstamped]},${r[${c}_p50]},${r[${c}_p99]}"
		for s in $SPLIT_SEGS; do
			line="$line,${r[split_${c}_${s}_p50]},${r[split_${c}_${s}_p99]}"
		done
		echo "$line" >>"$OUT/rtt-split.csv"
	done
}

# split_table: rtt-split.csv as a table (us, p50/p99)
split_table() {
	printf '  %-11s %7s %5s %6s %11s %11s %11s %11s %11s %11s\n' \
		peer offered class n rtt out gw.wake gw.work return wake
	tail -n +2 "$OUT/rtt-split.csv" | while IFS=, read -r -a f; do
		printf '  %-11s %7s %5s %6s %11s %11s %11s %11s %11s %11s\n' \
			"${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[5]}/${f[6]}" \
			"${f[7]}/${f[8]}" "${f[9]}/${f[10]}" "${f[11]}/${f[12]}" \
			"${f[13]}/${f[14]}" "${f[15]}/${f[16]}"
	done
}

# rtt_split MODE: where the round trip's time goes at 1,000 new tunnels/s
# beside the population: one more step (sstep, its own helper) with the
# kernel's receipt of each request at the gateway and of each answer here
# (SO_TIMESTAMPNS, ikeload -T). The gateway is restarted to stamp for this
# step only: while one socket asks for them the kernel stamps every packet
# of the host, which no other step should pay
rtt_split() {
	gateway_restart -T
	REPS_CSV=$OUT/rtt-split-reps.csv sstep "$1" 1000 split -T
	gateway_restart
}
