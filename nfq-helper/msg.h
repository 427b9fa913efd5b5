/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The warnings and errors nfq-helper prints: one text an event, its cause
 * and its remedy, "cause (remedy)". Remedies name the loader and the
 * ruleset by the configured paths (--loader, --ruleset). Pure, but for the
 * two paths it is given once.
 */
#ifndef NFQH_MSG_H
#define NFQH_MSG_H

#include <stdarg.h>
#include <stddef.h>

/* Bytes of a formatted message, at most (longer ones are cut). */
#define MSG_LEN 1024

enum msg_id {
	/* any object and errno: "object: strerror (remedy)" */
	MSG_NO_NET_ADMIN,
	MSG_NO_RULESET,
	MSG_NO_MEMORY,
	MSG_SYSTEM,
	/* the map at start and at reload */
	MSG_MAP_UNSUITABLE,
	MSG_MAP_NO_TIMEOUT,
	MSG_MAP_TIMEOUT_DIFFERS,
	MSG_MAP_NOT_DYNAMIC,
	MSG_MAP_GC,
	/* the live path */
	MSG_NO_LEARN_RULE,
	MSG_LEARN_REFUSED,
	MSG_PIN_MAP_FULL,
	MSG_PIN_MAP_GONE,
	MSG_PIN_MAP_ERROR,
	MSG_PIN_CONFLICT,
	MSG_VERDICT,
	MSG_QUEUE_OVERRUN,
	MSG_QUEUE_RECEIVE,
	MSG_CT_LOOKUP,
	MSG_CAPS_READ,
	MSG_REBUILD_SOCKET,
	MSG_REBUILD_DUMP,
	MSG_REBUILD_NO_MEMORY,
	MSG_HEAL_DELETE,
	MSG_QUEUE_TAKEN,
	MSG_QUEUE_STOP,
	MSG_PRIVILEGES,
	MSG_METRICS_ACCESS,
	MSG_METRICS_WRITE,
	/* the ruleset's watch and restore */
	MSG_RULESET_READ,
	MSG_RULESET_LOST,
	MSG_RULESET_LOST_NO_RESTORE,
	MSG_RULESET_RECREATED,
	MSG_RESTORE_CANNOT,
	MSG_RESTORE_FILES,
	MSG_RESTORE_FAILED,
	MSG_RESTORE_AGAIN,
	MSG_RESTORE_STILL_GONE,
	/* --check and --status */
	MSG_CHECK_REFRESH_NONE,
	MSG_CHECK_LEARN_NONE,
	MSG_CHECK_LEARN_REFUSED,
	MSG_CHECK_QUEUE_BOTH,
	MSG_CHECK_QUEUE_NONE,
	MSG_CHECK_QUEUE_OPEN,
	MSG_CHECK_LOSSES,
	MSG_STATUS_REFRESHES,
	MSG_STATUS_MAP_FULL,
	MSG_COUNT
};

struct msg {
	const char *cause;	/* printf format: what happened */
	const char *remedy;	/* what to do; {loader} and {ruleset} expand */
};

/* The paths remedies name; until called, the installed defaults. */
void msg_set_paths(const char *loader, const char *ruleset);

/* The table's entry for id (id < MSG_COUNT). */
const struct msg *msg_get(enum msg_id id);

/* id's remedy with the paths expanded, into buf (len bytes); returns buf. */
const char *msg_remedy(enum msg_id id, char *buf, size_t len);

/*
 * id's text: its cause formatted with the arguments, then " (remedy)";
 * into buf (len bytes). Returns buf.
 */
const char *msg_format(char *buf, size_t len, enum msg_id id, ...);
const char *msg_vformat(char *buf, size_t len, enum msg_id id, va_list ap);

/* The "object: strerror" entry for a positive errno err. */
enum msg_id msg_errno_id(int err);

/*
 * "object: strerror(err) (remedy)", the object formatted from fmt, the
 * remedy chosen by err (msg_errno_id). Returns buf.
 */
const char *msg_errno(char *buf, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
