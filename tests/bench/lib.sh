# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2154 # sourced: its names are set and used by the scripts that source it
# The benchmarks' topology: subscribers (every address of 100.80.0.0/12) ->
# NAT (pool of four, per connection) -> gateways (every address of
# 203.0.113.128/25, answered by ikeload). Needs ../netns/lib.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../netns/lib.sh"

# The helper as the service starts it: the unit's scheduling policy and
# priority too (packaging/nfq-helper.service), so the figures are the
# shipped daemon's. Started, it rebuilds its pins from conntrack (0.5 s with
# the steady state's 100,000 tunnels, reads and look-ups competing with the
# load for the CPUs): the load waits for its "rebuild:" line, so that a
# step measures the steady state, not a start (tests/bench/rebuild does).
unit_value() { sed -n "s/^$1=//p" "$TOP/packaging/nfq-helper.service"; }
UNIT_POLICY=$(unit_value CPUSchedulingPolicy) UNIT_PRIORITY=$(unit_value CPUSchedulingPriority)
eval "$(declare -f start_helper | sed '1s/^start_helper/netns_start_helper/')"
start_helper() {
	netns_start_helper "$@"
	[ -z "$UNIT_POLICY" ] ||
		chrt "--$UNIT_POLICY" -p "${UNIT_PRIORITY:-0}" "$HELPER_PID" ||
		fail "chrt --$UNIT_POLICY ${UNIT_PRIORITY:-0}: the unit's scheduling"
	busywait 120000 grep -qs "^rebuild:" "$2" || fail "nfq-helper rebuilt nothing in 120 s: $(tail -3 "$2")"
}
# cpu_snap [HELPER_PID]: where the CPUs' time went, so far: all CPUs' ticks
# (user nice system idle iowait irq softirq steal), then the gateway's and
# the helper's (if any) time on a CPU and waiting for one
# (/proc/PID/schedstat, ns: exact), then the time (ns)
cpu_snap() {
	{ sed -n '1s/^cpu  *//p' /proc/stat | cut -d' ' -f1-8
	  cut -d' ' -f1-2 "/proc/$GW_PID/schedstat"
	  if [ -n "${1:-}" ]; then cut -d' ' -f1-2 "/proc/$1/schedstat"; else echo "- -"; fi
	  date +%s%N; } | tr '\n' ' '
}
# cpu_report BEFORE AFTER [NOTE]: cpu_snap's two snapshots, in one line
cpu_report() {
	awk -v a="$1" -v b="$2" -v n="$(nproc)" -v note="${3:-}" 'BEGIN {
		na = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= na; i++) d[i] = y[i] - x[i]
		for (i = 1; i <= 8; i++) t += d[i]
		if (t <= 0 || d[13] <= 0) exit
		printf "  cpu, %d vCPUs: busy %.0f%% (ticks: user %.0f%%, system %.0f%%, softirq %.0f%%%s); gateway on a CPU %.0f%%, waiting %.0f%%",
			n, 100 * (t - d[4] - d[5]) / t, 100 * (d[1] + d[2]) / t, 100 * d[3] / t, 100 * d[7] / t, note,
			100 * d[9] / d[13], 100 * d[10] / d[13]
		if (x[11] != "-")
			printf "; helper on a CPU %.0f%%, waiting %.0f%% (%.0f ms)", 100 * d[11] / d[13], 100 * d[12] / d[13], d[12] / 1e6
		printf "\n"
	}'
}
IKELOAD=$BUILD/tools/ikeload
MAPFILL=$BUILD/tools/mapfill
GWS=203.0.113.128

setup_bench() {
	setup_topology
	ip -n "$sub" route add local 100.80.0.0/12 dev lo
	ip -n "$nat" route add 100.80.0.0/12 via 100.64.0.2
	ip -n "$nat" route add 203.0.113.128/25 via $GW_ADDR
	ip -n "$gw" route add local 203.0.113.128/25 dev lo
	# rp_filter would drop answers from AnyIP addresses on some setups
	for ns in "$sub" "$nat" "$gw"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
	done
	ip netns exec "$nat" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=30
	gateway_start
}

# gateway_start [-T]: ikeload gateway answering, once bound; sets $GW_PID
# (-T: stamping each request as the kernel receives it, see rtt_split)
gateway_start() {
	local log=$WORK/ikeload-gw${1:-}.log
	ip netns exec "$gw" "$IKELOAD" gateway "$@" >"$log" 2>&1 &
	GW_PID=$!
	PIDS+=("$GW_PID")
	busywait 5000 grep -q "^ready" "$log" || fail "ikeload gateway $*: $(cat "$log")"
}

# gateway_restart [-T]: the gateway gone, then started again so
gateway_restart() {
	kill -TERM "$GW_PID"
	wait "$GW_PID" 2>/dev/null
	gateway_start "$@"
}

# flows_gone: no conntrack entries left in the NAT (between steps)
flush_flows() { ip netns exec "$nat" conntrack -F >/dev/null 2>&1; }

# take COUNT: sets $idx to COUNT unused pair numbers within one 2^20 block
next=0
take() {
	(( (next & 0xfffff) + $1 > 0x100000 )) && next=$(( (next | 0xfffff) + 1 ))
	idx=$next
	next=$((next + $1))
}

# offer INDEX COUNT RATE: IKE load, message i for the pair number INDEX + i:
# inner host 100.80.0.0 + (INDEX + i) % 2^20, gateway 203.0.113.128 + the
# 2^20-block it falls in (every pair new, every flow new)
offer() {
	local idx=$1 a g
	a=$((0x64500000 + (idx & 0xfffff)))
	g=$((128 + (idx >> 20) % 127))
	ip netns exec "$sub" "$IKELOAD" client -g "203.0.113.$g" -f \
		"$((a >> 24 & 255)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255))" \
		-n "$2" -r "$3"
}

# queue_drops: packets the queue could not hold or deliver, so far
queue_drops() {
	ip netns exec "$nat" awk '{ d += $6 + $7 } END { print d + 0 }' \
		/proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo 0
}

# rss_kib PID
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
