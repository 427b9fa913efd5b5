# SPDX-License-Identifier: GPL-2.0-or-later
# strongSwan peers for the testbed: one charon per namespace, each with its
# own /run (private mount namespace), config, log and vici socket. This
# kernel has no ESP, so charon does ESP in userspace (kernel-libipsec, TUN).
# Needs lib.sh first.

CHARON=/usr/lib/ipsec/charon
PSK=nfq-helper-testbed-psk

# charon_conf DIR: strongswan.conf for a charon whose files live in DIR
charon_conf() {
	local dir=$1
	cat >"$dir/strongswan.conf" <<CONF
swanctl {
	load = pem pkcs1 x509 openssl random nonce
}
charon {
	load = random nonce openssl pem pkcs1 x509 pubkey sha1 sha2 md5 aes hmac gcm kdf kernel-libipsec kernel-netlink socket-default vici updown
	# retransmit fast: the testbed waits for events, not for timers
	retransmit_timeout = 0.5
	retransmit_tries = 2
	# the field report's client speaks aggressive mode with a PSK
	i_dont_care_about_security_and_use_aggressive_mode_psk = yes
	filelog {
		log {
			path = $dir/charon.log
			default = 1
			ike = 2
			time_format = %T
		}
	}
	plugins {
		vici {
			socket = unix://$dir/charon.vici
		}
		kernel-libipsec {
			allow_peer_ts = yes
		}
	}
}
CONF
}

# start_charon NS DIR: runs charon in NS, waits until its vici socket answers
start_charon() {
	local ns=$1 dir=$2
	charon_conf "$dir"
	ip netns exec "$ns" unshare -m sh -c \
		"mount -t tmpfs tmpfs /run && STRONGSWAN_CONF=$dir/strongswan.conf exec $CHARON" \
		>"$dir/charon.out" 2>&1 &
	PIDS+=($!)
	busywait 10000 swanctl_in "$dir" --stats >/dev/null 2>&1 ||
		fail "charon in $ns did not start: $(tail -5 "$dir/charon.out" "$dir/charon.log" 2>/dev/null)"
}

# swanctl_in DIR ARGS...: swanctl against the charon of DIR
swanctl_in() {
	local dir=$1
	shift
	STRONGSWAN_CONF=$dir/strongswan.conf swanctl "$@" --uri "unix://$dir/charon.vici"
}

# load_swanctl DIR FILE: loads connections and secrets of FILE
load_swanctl() {
	swanctl_in "$1" --load-all --file "$2" >"$1/load.out" 2>&1 ||
		fail "swanctl --load-all $2: $(cat "$1/load.out")"
}
