// SPDX-License-Identifier: GPL-2.0-or-later
/* The message table: every warning and error's cause and remedy. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "msg.h"

#define CHECK_HINT "nfq-helper --check tells what is missing"
#define LOAD "{loader} {ruleset}"

static const struct msg msgs[MSG_COUNT] = {
	[MSG_NO_NET_ADMIN] = { "%s: %s",
		"needs CAP_NET_ADMIN: run as root or grant the capability" },
	[MSG_NO_RULESET] = { "%s: %s", "load the ruleset first: " LOAD },
	[MSG_NO_MEMORY] = { "%s: %s",
		"free memory on the box, or lower -b and the map's size in {ruleset}" },
	[MSG_SYSTEM] = { "%s: %s",
		"see the kernel log (dmesg); " CHECK_HINT },
	[MSG_MAP_UNSUITABLE] = { "map %s: unsuitable for pins: %s",
		"load the shipped ruleset: " LOAD },
	[MSG_MAP_NO_TIMEOUT] = { "map %s: declares no timeout",
		"give one with -T, or load the shipped ruleset: " LOAD },
	[MSG_MAP_TIMEOUT_DIFFERS] = {
		"map %s: -T gives a new pin %" PRIu64 " s, but the kernel refreshes pins to the map's timeout, %" PRIu64 " s",
		"set the timeout in {ruleset} instead" },
	[MSG_MAP_NOT_DYNAMIC] = {
		"map %s: no flags dynamic: a ruleset of an older shape, every answer is queued and no pin is refreshed",
		"load the shipped ruleset: " LOAD },
	[MSG_MAP_GC] = {
		"set %s of table ip %s: no gc interval given: %s; the kernel walks every pin of it each second, and a helper woken on that CPU waits behind the walk",
		"declare `gc-interval 1m' in it where nft takes that (nft 1.1 on), or --gc-interval 0 to leave it" },
	[MSG_NO_LEARN_RULE] = {
		"pins: no learn rule for map %s (chain learn of the ruleset): new pins are written in transactions, a round trip more before each new tunnel's first answer goes on",
		"an older ruleset? load the shipped one: " LOAD },
	[MSG_LEARN_REFUSED] = {
		"pins: the kernel refused %" PRIu64 " new pins in the last second: map %s is full at %" PRIu32 " elements",
		"raise its size in {ruleset}" },
	[MSG_PIN_MAP_FULL] = {
		"pin: %s -> %s via %s not stored: map %s is full at %" PRIu32 " elements",
		"raise its size in {ruleset}" },
	[MSG_PIN_MAP_GONE] = { "pin: %s -> %s via %s not stored: map %s: %s",
		"the ruleset was removed? load it again: " LOAD },
	[MSG_PIN_MAP_ERROR] = { "pin: %s -> %s via %s not stored: map %s: %s",
		"see the kernel log (dmesg); nfq-helper --check tells what is wrong with the map" },
	[MSG_PIN_CONFLICT] = {
		"pin: %s -> %s: kept the live pin to another pool address, this reply came via %s",
		"two IKE clients behind one inner address? only the first is pinned while its tunnel lives: give each client its own address" },
	[MSG_VERDICT] = { "queue: verdict: %s",
		"its packets are held and sent again until the kernel takes them; if this lasts, look for memory pressure in the kernel log (dmesg)" },
	[MSG_QUEUE_OVERRUN] = {
		"queue: messages lost (ENOBUFS): the kernel let those packets pass unpinned",
		"their tunnels are pinned at their next IKE answer; if this recurs, the daemon falls behind: give it more CPU (docs/performance.md)" },
	[MSG_QUEUE_RECEIVE] = { "queue: receive: %s",
		"the kernel lets the packets pass unpinned meanwhile; if this recurs, see the kernel log (dmesg)" },
	[MSG_CT_LOOKUP] = { "ct: lookup of %zu entries: %s",
		"those answers pass unpinned, their tunnels are pinned at the next one; if this recurs, " CHECK_HINT },
	[MSG_CAPS_READ] = { "map %s: reading %zu pins: %s",
		"the caps go on from what they read last; if this recurs, " CHECK_HINT },
	[MSG_REBUILD_SOCKET] = { "rebuild: ctnetlink socket: %s",
		"no pins are rebuilt from conntrack, tunnels are pinned at their next IKE answer; " CHECK_HINT },
	[MSG_REBUILD_DUMP] = {
		"rebuild: conntrack dump: %s after %" PRIu64 " entries; restoring what was read",
		"the tunnels of the entries not read are pinned at their next IKE answer; SIGHUP rebuilds again" },
	[MSG_REBUILD_NO_MEMORY] = { "rebuild: out of memory for %zu pins",
		"none is restored, tunnels are pinned at their next IKE answer; give the daemon more memory, then SIGHUP rebuilds" },
	[MSG_HEAL_DELETE] = { "heal: %s -> %s: NAT-T flow via %s: delete: %s",
		"the flow stays split until conntrack expires it, or until deleted by hand (conntrack -D)" },
	[MSG_QUEUE_STOP] = {
		"queue %u: stop: %s; packets queued from now on may be lost at unbind",
		"IKE resends what is lost; if it repeats, see the kernel log (dmesg)" },
	[MSG_QUEUE_TAKEN] = { "queue %u: bind: taken by another process",
		"is nfq-helper already running? else pick a free queue with -q and NATT_PIN_QUEUE" },
	[MSG_PRIVILEGES] = { "privileges: cannot keep CAP_NET_ADMIN alone: %s",
		"start it as root, or as a user holding CAP_NET_ADMIN (the service's AmbientCapabilities=)" },
	[MSG_METRICS_ACCESS] = { "metrics: %s: %s",
		"the daemon keeps CAP_NET_ADMIN alone: make the directory writable by its user" },
	[MSG_METRICS_WRITE] = { "metrics: %s: %s",
		"make its directory, or give another file with -M" },
	[MSG_RULESET_READ] = { "ruleset: cannot read it: %s",
		"it is read again at its next change; if this recurs, " CHECK_HINT },
	[MSG_RULESET_LOST] = {
		"ruleset: %s gone, the fix is off: new tunnels are balanced per connection again; likely cause: a firewall reload with `flush ruleset`, as Debian's /etc/nftables.conf does",
		"include {ruleset} from /etc/nftables.conf, as nfq-helper(8) shows; reloading it now" },
	[MSG_RULESET_LOST_NO_RESTORE] = {
		"ruleset: %s gone, the fix is off: new tunnels are balanced per connection again; likely cause: a firewall reload with `flush ruleset`, as Debian's /etc/nftables.conf does",
		"include {ruleset} from /etc/nftables.conf, as nfq-helper(8) shows; load it now: " LOAD },
	[MSG_RULESET_RECREATED] = {
		"ruleset: map ip %s %s re-created in one transaction (a reload with `flush ruleset` that includes the ruleset?): its pins are gone",
		"they are rebuilt from conntrack now; a reload without `flush ruleset` keeps them" },
	[MSG_RESTORE_CANNOT] = { "ruleset: cannot restore: %s or %s: %s",
		"install them, or give --loader and --ruleset; the fix stays off until the ruleset is loaded" },
	[MSG_RESTORE_FILES] = {
		"ruleset: restore: %s or %s: %s: a ruleset that a firewall reload removes cannot come back by itself",
		"install them, give --loader and --ruleset, or --no-restore" },
	[MSG_RESTORE_FAILED] = { "ruleset: restore failed: %s %s %s %d",
		"its message above says why: mend that and run it by hand; the fix stays off until the ruleset is loaded" },
	[MSG_RESTORE_AGAIN] = {
		"ruleset: %s still gone after the loader ran (flushed again meanwhile?)",
		"if the firewall flushes it again and again, include {ruleset} from /etc/nftables.conf, as nfq-helper(8) shows" },
	[MSG_RESTORE_STILL_GONE] = {
		"ruleset: %s still gone after %d loader runs: does %s feed queue %u (-q)?",
		"make it feed that queue, or give -q; the fix stays off until the ruleset is loaded" },
	[MSG_CHECK_REFRESH_NONE] = {
		"refresh rules: none: every IKE answer of a pinned subscriber goes to the queue",
		"a ruleset of an older shape? load the shipped one, which migrates it: " LOAD },
	[MSG_CHECK_LEARN_NONE] = {
		"learn rule: none (chain learn, NATT_PIN_LEARN): new pins are written in transactions, a round trip more before each new tunnel's first answer",
		"an older ruleset? load the shipped one: " LOAD },
	[MSG_CHECK_LEARN_REFUSED] = {
		"learn rule: mark bit 0x%08" PRIx32 ", the kernel writes new pins; %" PRIu64 " refused so far: the map was full",
		"raise its size in {ruleset}" },
	[MSG_CHECK_QUEUE_BOTH] = {
		"queue rules: both nft's queue (%u) and iptables-nft NFQUEUE (%u) feed queue %u",
		"remove both with {loader} --remove, then load one: " LOAD },
	[MSG_CHECK_QUEUE_NONE] = { "queue rules: none feeds queue %u%s",
		"load the ruleset first: " LOAD },
	[MSG_CHECK_QUEUE_OPEN] = { "queue %u: %s",
		"needs NFQUEUE in the kernel (modprobe nfnetlink_queue); see the kernel log (dmesg)" },
	[MSG_CHECK_LOSSES] = {
		"ruleset losses: %.0f while nfq-helper ran, %s (%s): a firewall reload with `flush ruleset`?",
		"include {ruleset} from /etc/nftables.conf, as nfq-helper(8) shows" },
	[MSG_STATUS_REFRESHES] = {
		"answers refreshed in the kernel: unknown (counter refreshes: %s)",
		"reload the ruleset: " LOAD },
	[MSG_STATUS_MAP_FULL] = {
		"%" PRIu64 " new pins the kernel could not write (counter learn_refused): the map is or was full",
		"raise its size in {ruleset}" },
};

static const char *loader = CONFIG_LOADER_DEFAULT;
static const char *ruleset = CONFIG_RULESET_DEFAULT;

void msg_set_paths(const char *l, const char *r)
{
	loader = l;
	ruleset = r;
}

const struct msg *msg_get(enum msg_id id)
{
	return &msgs[id];
}

/* Appends s (n bytes of it) to buf at *off, cutting at len. */
static void put(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	if (*off + 1 >= len)
		return;
	if (n > len - 1 - *off)
		n = len - 1 - *off;
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = '\0';
}

static void expand(char *buf, size_t len, size_t *off, const char *s)
{
	static const struct {
		const char *token;
		const char *const *value;
	} vars[] = { { "{loader}", &loader }, { "{ruleset}", &ruleset } };
	size_t i, n;

	while (*s) {
		for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
			n = strlen(vars[i].token);
			if (!strncmp(s, vars[i].token, n))
				break;
		}
		if (i < sizeof(vars) / sizeof(vars[0])) {
			put(buf, len, off, *vars[i].value,
			    strlen(*vars[i].value));
			s += n;
		} else {
			put(buf, len, off, s++, 1);
		}
	}
}

const char *msg_remedy(enum msg_id id, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	expand(buf, len, &off, msgs[id].remedy);
	return buf;
}

const char *msg_vformat(char *buf, size_t len, enum msg_id id, va_list ap)
{
	size_t off;
	int n;

	n = vsnprintf(buf, len, msgs[id].cause, ap);
	off = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
	buf[off] = '\0';
	put(buf, len, &off, " (", 2);
	expand(buf, len, &off, msgs[id].remedy);
	put(buf, len, &off, ")", 1);
	return buf;
}

const char *msg_format(char *buf, size_t len, enum msg_id id, ...)
{
	va_list ap;

	va_start(ap, id);
	msg_vformat(buf, len, id, ap);
	va_end(ap);
	return buf;
}

enum msg_id msg_errno_id(int err)
{
	switch (err) {
	case EPERM:
		return MSG_NO_NET_ADMIN;
	case ENOENT:
		return MSG_NO_RULESET;
	case ENOMEM:
		return MSG_NO_MEMORY;
	default:
		return MSG_SYSTEM;
	}
}

const char *msg_errno(char *buf, size_t len, int err, const char *fmt, ...)
{
	char object[MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(object, sizeof(object), fmt, ap);
	va_end(ap);
	return msg_format(buf, len, msg_errno_id(err), object, strerror(err));
}
