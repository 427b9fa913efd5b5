/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging to stderr, to the journal through stderr, or to syslog. */
#ifndef NFQH_LOG_H
#define NFQH_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
};

/* Warnings that may repeat per packet go through one of these. */
struct ratelimit {
	uint64_t next_ms;	/* CLOCK_MONOTONIC: util_now_ms() */
	unsigned long suppressed;
};

#define RATELIMIT_INTERVAL 10 /* seconds between two lines of one kind */

void log_init(enum log_dest dest, int verbose);
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A function lost, the daemon goes on: an error line, flushed at once. */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Lines to stderr are buffered: written out here, once per batch. */
void log_flush(void);
__attribute__((noreturn)) void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * True when a line may be logged now; *suppressed then holds how many were
 * held back since the last one.
 */
bool ratelimit_pass(struct ratelimit *rl, unsigned long *suppressed);

/* A warning that may repeat per packet: at most one line per rl interval. */
void warn_limited(struct ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same for a message of the table (msg.h), id's arguments after it;
 * formatted only when it is logged. */
void warn_msg(struct ratelimit *rl, int id, ...);

#endif
