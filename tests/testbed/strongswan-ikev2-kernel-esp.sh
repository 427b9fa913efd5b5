#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# strongSwan peers through the CGNAT, IKEv2, with the kernel's own ESP
# (XFRM): lib-strongswan.sh. Skipped where the kernel has no ESP.
IKE=ikev2 ESP=kernel
source "$(dirname "$0")/lib-strongswan.sh"
