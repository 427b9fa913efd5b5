#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# strongSwan peers through the CGNAT, IKEv1 aggressive mode, with the kernel's own ESP
# (XFRM): lib-strongswan.sh. Skipped where the kernel has no ESP.
IKE=ikev1-aggressive ESP=kernel
source "$(dirname "$0")/lib-strongswan.sh"
