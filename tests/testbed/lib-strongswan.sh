# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2154 # sourced: its names are set and used by the scripts that source it
# Real IKE peers: a strongSwan initiator per subscriber address and a
# strongSwan responder behind the load balancer (PSK; ESP in userspace with
# kernel-libipsec, or with ESP=kernel the kernel's own, where it has ESP:
# else the scenario is skipped). A tunnel counts as up only
# when a ping crosses it. Four cases, ATTEMPTS each, from new inner hosts:
#   stock responder without / with the helper: a stock responder follows the
#     NAT-T flow to its new address ("remote endpoint changed"), so the fault
#     hides; the helper makes the change disappear;
#   strict responder (strict-gateway.nft in front) without / with: the field
#     report's gateway; without the helper the tunnels fail.
# Sourced by the strongswan-*.sh scenarios, which set IKE (ikev2 or
# ikev1-aggressive). BALANCE defaults to inc here, so that without the helper
# the NAT-T flow always gets the other address.
BALANCE=${BALANCE:-inc}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$TOP/tests/strongswan/lib-charon.sh"
ATTEMPTS=${ATTEMPTS:-4}
PROTECTED=100.127.2.1	# a host on the network behind the gateway

case $IKE in
ikev2) version=2 aggressive=no ;;
ikev1-aggressive) version=1 aggressive=yes ;;
*) fail "IKE must be ikev2 or ikev1-aggressive" ;;
esac
charon_check
name=strongswan-$IKE
[ "$ESP" = libipsec ] || name=$name-kernel-esp
if [ "$ESP" = kernel ] && ! kernel_esp; then
	result "skipped: this kernel has no ESP (CONFIG_INET_ESP); the VM kernels of make test-kernels have"
	exit 4
fi

conn() {	# conn NAME LOCAL_ADDRS REMOTE_ADDRS LOCAL_TS REMOTE_TS LOCAL_ID REMOTE_ID
	cat <<CONF
	$1 {
		version = $version
		aggressive = $aggressive
		local_addrs = $2
		remote_addrs = $3
		proposals = aes128-sha256-modp2048
		local {
			auth = psk
			id = $6
		}
		remote {
			auth = psk
			id = $7
		}
		children {
			net {
				local_ts = $4
				remote_ts = $5
				esp_proposals = aes128-sha256
			}
		}
	}
CONF
}

setup_testbed
ip -n "$gw" addr add $PROTECTED/32 dev lo
# charon routes the tunnel with the inner address as source: make each a
# configured address (AnyIP alone is refused as a route's source)
for i in $(seq 1 $((4 * ATTEMPTS))); do
	ip -n "$sub" addr add "100.64.1.$i/32" dev lo
done
mkdir -p "$WORK/sub" "$WORK/gw"
{
	echo "connections {"
	conn gateway %any %any 100.127.2.0/24 100.64.0.0/10 gateway client
	echo "}"
	echo "secrets { ike { secret = $PSK } }"
} >"$WORK/responder.conf"
{
	echo "connections {"
	for i in $(seq 1 $((4 * ATTEMPTS))); do
		conn "c$i" "100.64.1.$i" "$(vip 0)" "100.64.1.$i/32" 100.127.2.0/24 client gateway
	done
	echo "}"
	echo "secrets { ike { secret = $PSK } }"
} >"$WORK/initiator.conf"
sed -i 's/secrets { ike { secret = \(.*\) } }/secrets {\n\tike {\n\t\tsecret = \1\n\t}\n}/' \
	"$WORK/responder.conf" "$WORK/initiator.conf"
start_charon "$sub" "$WORK/sub"
start_charon "$gw" "$WORK/gw"
load_swanctl "$WORK/sub" "$WORK/initiator.conf"
load_swanctl "$WORK/gw" "$WORK/responder.conf"

# established: IKE_SAs the initiator has seen come up so far
established() {
	grep -c 'IKE_SA c[0-9]*\[[0-9]*\] established between' "$WORK/sub/charon.log"
}

# endpoint_moves: how often the responder followed a peer to another address
endpoint_moves() {
	grep -o 'remote endpoint changed from [0-9.]*\[[0-9]*\] to [0-9.]*' "$WORK/gw/charon.log" |
		awk '{ split($5, a, "["); if (a[1] != $7) n++ } END { print n + 0 }'
}

n=0
# run_case NAME: ATTEMPTS tunnels from new inner hosts; sets $up $moved
run_case() {
	local i moved0
	up=0
	moved0=$(endpoint_moves)
	for i in $(seq 1 "$ATTEMPTS"); do
		n=$((n + 1))
		# every attempt a new flow through the NAT, as after a reconnect
		ip netns exec "$cgn" conntrack -F >/dev/null 2>&1
		swanctl_in "$WORK/sub" --initiate --ike "c$n" --child net --timeout 6 \
			>"$WORK/init-$n.out" 2>&1
		ip netns exec "$sub" ping -q -c1 -W2 -I "100.64.1.$n" $PROTECTED >/dev/null 2>&1 &&
			up=$((up + 1))
		swanctl_in "$WORK/sub" --terminate --ike "c$n" --force --timeout 3 >/dev/null 2>&1
	done
	moved=$(($(endpoint_moves) - moved0))
	printf '  %-34s %d of %d tunnels up, responder followed a new address %d times\n' \
		"$1:" "$up" "$ATTEMPTS" "$moved"
}

echo "strongSwan $IKE, ESP by $ESP, through the CGNAT (pool $POOL_SIZE, numgen $BALANCE):"
run_case "stock responder, without helper"
stock_without=$up stock_without_moved=$moved
strict_gateway
run_case "strict responder, without helper"
strict_without=$up
ip netns exec "$gw" nft delete table ip strict_gateway

pin_on
sas=$(established)
run_case "stock responder, with helper"
stock_with=$up stock_with_moved=$moved
strict_gateway
run_case "strict responder, with helper"
strict_with=$up
if [ "$(established)" = "$sas" ]; then
	why=$(grep -h -m1 -E 'failed to load|not supported|NO_PROPOSAL|_FAILED' \
		"$WORK/sub/charon.log" "$WORK/gw/charon.log" | head -1 |
		sed 's/^.*\] //')
	result "no IKE_SA came up, with the helper either: the peers cannot" \
		"negotiate (${why:-see charon.log}), not a NAT problem"
	fail "$name: no IKE_SA even with the helper"
fi

result "stock: $stock_without/$ATTEMPTS up (moved $stock_without_moved) without, $stock_with/$ATTEMPTS (moved $stock_with_moved) with;" \
	"strict: $strict_without/$ATTEMPTS without, $strict_with/$ATTEMPTS with"
[ "$stock_without" = "$ATTEMPTS" ] || fail "stock responder without helper: $stock_without up"
[ "$stock_without_moved" -ge 1 ] || fail "the stock responder never saw the NAT-T flow move"
[ "$strict_without" -lt "$ATTEMPTS" ] || fail "strict responder without helper: all up, the fault did not show"
[ "$stock_with" = "$ATTEMPTS" ] && [ "$stock_with_moved" = 0 ] ||
	fail "stock responder with helper: $stock_with up, moved $stock_with_moved"
[ "$strict_with" = "$ATTEMPTS" ] || fail "strict responder with helper: $strict_with up"
echo "PASS: $name"
