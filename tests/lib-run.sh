# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2154 # sourced: its names are set and used by the scripts that source it
# run-all's sections, shared with tests/selftest/run which checks them.
# Needs bash, `set -o pipefail` and $log, the file the summary counts.

# section TITLE CMD...: CMD's output into $log; a section that fails without
# a FAIL: line of its own (a crash, a killed runner) gets one. Exit 4 is a
# skip.
section() {
	local title=$1 fails rc
	shift
	echo
	echo "### $title"
	fails=$(grep -c '^FAIL' "$log")
	"$@" 2>&1 | tee -a "$log"
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 4 ] || [ "$(grep -c '^FAIL' "$log")" != "$fails" ] ||
		echo "FAIL: $title: exit status $rc" | tee -a "$log"
}
