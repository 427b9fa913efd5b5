#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# strongSwan peers through the CGNAT, IKEv1 aggressive mode with a PSK (the
# field report's client): lib-strongswan.sh.
IKE=ikev1-aggressive
source "$(dirname "$0")/lib-strongswan.sh"
