# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2154 # sourced: its names are set and used by the scripts that source it
# strongSwan peers for the testbed: one charon per namespace, each with its
# own /run (private mount namespace), config, log and vici socket. ESP is
# userspace's (kernel-libipsec, over TUN: the CI kernel has no ESP) or, with
# ESP=kernel, the kernel's own (kernel-netlink, XFRM; Debian's kernels).
# Needs lib.sh first.

CHARON=/usr/lib/ipsec/charon
PLUGINDIR=/usr/lib/ipsec/plugins
PSK=nfq-helper-testbed-psk
# Crypto from strongSwan's own plugins (libstrongswan, which strongswan-charon
# pulls in; libstrongswan-extra-plugins on Debian 13): gmp for the MODP
# groups, aes, sha2 and hmac for the proposals. openssl would do the
# same but lives in libstrongswan-standard-plugins, one more package to miss
# (a fresh machine once got no tunnel at all for want of it).
SWANCTL_PLUGINS="pem pkcs1 x509 gmp random nonce"
CHARON_PLUGINS="random nonce gmp pem pkcs1 x509 pubkey sha1 sha2 md5 aes hmac kdf"
ESP=${ESP:-libipsec}
case $ESP in
libipsec) CHARON_PLUGINS="$CHARON_PLUGINS kernel-libipsec" ;;
kernel) ;;
*) fail "ESP must be libipsec or kernel" ;;
esac
CHARON_PLUGINS="$CHARON_PLUGINS kernel-netlink socket-default vici updown"

# kernel_esp: true if this kernel does ESP itself (CONFIG_INET_ESP)
kernel_esp() {
	modprobe -q esp4 2>/dev/null
	[ -d /sys/module/esp4 ]
}

# plugin_package PLUGIN: the Debian package that ships it (Debian 13's
# strongSwan 6 moved gmp, aes, sha1, sha2, md5, hmac and kdf to
# libstrongswan-extra-plugins)
plugin_package() {
	case $1 in
	gmp | sha1 | sha2 | md5 | aes | hmac | kdf)
		case $(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null) in
		trixie) echo libstrongswan-extra-plugins ;;
		*) echo libstrongswan ;;
		esac ;;
	random | nonce | pem | pkcs1 | x509 | pubkey | kernel-netlink) echo libstrongswan ;;
	openssl | gcm) echo libstrongswan-standard-plugins ;;
	kernel-libipsec) echo libcharon-extra-plugins ;;
	socket-default | updown) echo strongswan-libcharon ;;
	vici) echo strongswan-swanctl ;;
	*) echo "<the package of libstrongswan-$1.so>" ;;
	esac
}

# charon_check: fails, in one line, naming the package of whatever piece of
# strongSwan the load lists need and is not installed
charon_check() {
	local p missing="" pkgs=""
	[ -x "$CHARON" ] || missing=charon pkgs=strongswan-charon
	command -v swanctl >/dev/null ||
		missing="$missing swanctl" pkgs="$pkgs strongswan-swanctl"
	for p in $CHARON_PLUGINS $SWANCTL_PLUGINS; do
		[ -f "$PLUGINDIR/libstrongswan-$p.so" ] && continue
		case " $missing " in *" plugin $p "*) continue ;; esac
		missing="$missing plugin $p"
		case " $pkgs " in
		*" $(plugin_package "$p") "*) ;;
		*) pkgs="$pkgs $(plugin_package "$p")" ;;
		esac
	done
	[ -z "$missing" ] || fail "strongSwan:$missing not installed:" \
		"apt-get install$pkgs (tests/deps.sh does)"
}

# charon_conf DIR: strongswan.conf for a charon whose files live in DIR
charon_conf() {
	local dir=$1
	cat >"$dir/strongswan.conf" <<CONF
swanctl {
	load = $SWANCTL_PLUGINS
}
charon {
	load = $CHARON_PLUGINS
	# retransmit fast: the testbed waits for events, not for timers
	# (CHARON_RETRANSMIT: a scenario with many peers at once under TCG)
	retransmit_timeout = ${CHARON_RETRANSMIT:-0.5}
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
	charon_check
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
