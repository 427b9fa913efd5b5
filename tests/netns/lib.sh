# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2154 # sourced: its names are set and used by the scripts that source it
# Shared by the network-namespace tests: namespaces with the testbed's prefix,
# clean-up on every exit, waiting on events, the ruleset by kernel support.
# Addresses: 100.64.0.0/10 subscribers, 198.51.100.0/24 pool, 203.0.113.0/24
# the Internet side; they exist only inside these namespaces.

# every test that sources this (the testbed's lib.sh does too): a name
# never set is an error, not an empty string
set -u
NS_PREFIX=nfqh-
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
HELPER=$BUILD/nfq-helper
IKEPEER=$BUILD/tools/ikepeer
RULES=$TOP/nft-rules
ksft_skip=4

NAMESPACES=()
PIDS=()
WORK=$(mktemp -d /tmp/nfqh-test.XXXXXX)

cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

# setup_ns VAR...: a namespace per name, "<prefix><name>-<random>", lo up
setup_ns() {
	local var ns suffix
	suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	for var in "$@"; do
		ns="${NS_PREFIX}${var}-${suffix}"
		ip netns add "$ns" || fail "ip netns add $ns"
		NAMESPACES+=("$ns")
		ip -n "$ns" link set lo up
		eval "$var=$ns"
	done
}

# busywait MS CMD...: until CMD succeeds or MS milliseconds have passed
# NFQH_TIMEOUT_SCALE (default 1) stretches every such wait, and the few
# timers the tests set, on a slow machine: a VM under TCG runs ~6x slower
busywait() {
	local timeout=$(($1 * ${NFQH_TIMEOUT_SCALE:-1})) start now
	shift
	start=$(date +%s%N)
	until "$@"; do
		now=$(date +%s%N)
		[ $(((now - start) / 1000000)) -ge "$timeout" ] && return 1
		sleep 0.02
	done
}

# native_queue NS: true if the kernel has nft's queue expression
native_queue() {
	ip netns exec "$1" "$RULES/natt-pin-load" --native-queue
}

# load_pin_ruleset NS [FILE]: natt-pin.nft, natively or through the fallback
load_pin_ruleset() {
	ip netns exec "$1" "$RULES/natt-pin-load" "${2:-$RULES/natt-pin.nft}" >/dev/null
}

# flush_pins NS [TABLE]: empties the map of pins, and the companion set of
# its keys where the ruleset has one (the keys shape, kernels before 6.4)
flush_pins() {
	ip netns exec "$1" nft flush map ip "${2:-natt_pin}" pins || return
	ip netns exec "$1" nft flush set ip "${2:-natt_pin}" pinned 2>/dev/null || true
}

# start_helper NS LOG [ARGS...]: nfq-helper in NS; waits until it serves
start_helper() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$HELPER" "$@" >"$log" 2>&1 &
	HELPER_PID=$!
	PIDS+=("$HELPER_PID")
	busywait 5000 grep -qs "bound" "$log" ||
		fail "nfq-helper did not start: $(cat "$log")"
}

# The testbed: subscribers (100.64.1.0/24, any address usable) -> CGNAT with
# a pool of four (198.51.100.1-4) -> gateway 203.0.113.2.
GW_ADDR=203.0.113.2
setup_topology() {
	setup_ns sub nat gw
	ip link add s0 netns "$sub" type veth peer name n0 netns "$nat"
	ip link add n1 netns "$nat" type veth peer name g0 netns "$gw"
	ip -n "$sub" addr add 100.64.0.2/30 dev s0
	ip -n "$nat" addr add 100.64.0.1/30 dev n0
	ip -n "$nat" addr add 203.0.113.1/24 dev n1
	ip -n "$gw" addr add $GW_ADDR/24 dev g0
	ip -n "$sub" link set s0 up
	ip -n "$nat" link set n0 up
	ip -n "$nat" link set n1 up
	ip -n "$gw" link set g0 up
	# every address of 100.64.1.0/24 is the subscribers' own (AnyIP)
	ip -n "$sub" route add local 100.64.1.0/24 dev lo
	ip -n "$sub" route add default via 100.64.0.1
	ip -n "$nat" route add 100.64.1.0/24 via 100.64.0.2
	ip -n "$gw" route add 198.51.100.0/24 via 203.0.113.1
	ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$nat" nft -f "$RULES/cgnat-example.nft" ||
		fail "cannot load cgnat-example.nft"
}

# start_gateway LOG [-s]: the IKE test gateway; waits until it listens
start_gateway() {
	local log=$1
	shift
	ip netns exec "$gw" "$IKEPEER" gateway "$@" >"$log" 2>&1 &
	PIDS+=($!)
	busywait 5000 grep -qs "^ready" "$log" || fail "gateway did not start"
}

# floated_pairs LOG: per IKE SA (cookie), "ADDR_ON_500 ADDR_ON_4500"
floated_pairs() {
	awk '$1 == "rx" && $2 == 500 && !($5 in a) { a[$5] = $3 }
	     $1 == "rx" && $2 == 4500 && !($5 in f) { f[$5] = $3 }
	     END { for (c in a) if (c in f) print a[c], f[c] }' "$1"
}

# count_answers NS SRC: counts UDP from SRC port 500 on its way into NS
# (prerouting, raw) and out of it (postrouting, after NAT), in counters
# answers_in and answers_out of table ip nfqh_count; answers NS in|out reads
count_answers() {
	ip netns exec "$1" nft -f - <<NFT
table ip nfqh_count {
	counter answers_in { }
	counter answers_out { }
	chain in {
		type filter hook prerouting priority raw; policy accept;
		ip saddr $2 udp sport 500 counter name answers_in
	}
	chain out {
		type filter hook postrouting priority srcnat + 10; policy accept;
		ip saddr $2 udp sport 500 counter name answers_out
	}
}
NFT
}
answers() {
	ip netns exec "$1" nft list counter ip nfqh_count "answers_$2" | awk '/packets/ { print $2 }'
}
