#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# strongSwan peers through the CGNAT, IKEv2: lib-strongswan.sh.
IKE=ikev2
source "$(dirname "$0")/lib-strongswan.sh"
