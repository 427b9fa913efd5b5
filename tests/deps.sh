#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what building and testing nfq-helper needs on Debian 12 or 13, as
# root; only what is missing, so a second run does nothing.
set -e
# Where Debian 12 (bookworm) and 13 (trixie) differ: libFuzzer's runtime
# comes with the release's own clang (14, 19); strongSwan 6 in 13 moved the
# crypto plugins the testbed loads (gmp, aes, sha1, sha2, md5, hmac, kdf)
# from libstrongswan to libstrongswan-extra-plugins
codename=$(sed -n "s/^VERSION_CODENAME=//p" /etc/os-release 2>/dev/null || true)
case $codename in
trixie) release_pkgs="libclang-rt-19-dev libstrongswan-extra-plugins" ;;
*) release_pkgs="libclang-rt-14-dev" ;;
esac
# build; the ruleset and namespaces; the testbed's IKE peers and captures;
# the Debian package and its checks; the benchmarks' plot; the fuzzers.
# strongSwan's crypto comes from its own plugins (gmp, aes, sha2, hmac:
# tests/strongswan/lib-charon.sh), so libstrongswan-standard-plugins
# (openssl) is not needed; kernel-libipsec is in libcharon-extra-plugins.
# dpkg-buildpackage wants build-essential itself, not only gcc and make.
# keepalived and conntrackd: the HA testbed (ha-failover) runs its own.
pkgs="make gcc libc6-dev pkg-config libmnl-dev libnftnl-dev libnetfilter-queue-dev
nftables iptables iproute2 conntrack procps util-linux
strongswan-charon strongswan-swanctl libcharon-extra-plugins tcpdump iputils-ping
build-essential dpkg-dev debhelper fakeroot lintian mandoc man-db systemd gnuplot-nox shellcheck
clang $release_pkgs
keepalived conntrackd"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts the stock services of what was just installed; the tests run
# their own daemons in their namespaces and use none of them
if [ -d /run/systemd/system ]; then
	for p in $missing; do
		case $p in
		strongswan-charon) units="strongswan.service strongswan-starter.service" ;;
		conntrackd | keepalived) units=$p.service ;;
		*) continue ;;
		esac
		# shellcheck disable=SC2086
		systemctl disable --now $units >/dev/null 2>&1 || true
	done
fi
