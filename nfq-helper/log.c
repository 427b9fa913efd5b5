// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging: OpenNTPD's API, stderr with sd-daemon prefixes, or syslog. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "msg.h"
#include "util.h"

static enum log_dest dest = LOG_TO_STDERR;
static int verbosity;
static bool journal;

void log_init(enum log_dest d, int verbose)
{
	dest = d;
	verbosity = verbose;
	/* systemd connects stderr to the journal and says so (sd-daemon(3)) */
	journal = getenv("JOURNAL_STREAM") != NULL;
	if (dest == LOG_TO_SYSLOG)
		openlog("nfq-helper", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	/* a write per line costs a system call per pin under load */
	setvbuf(stderr, NULL, _IOFBF, 1 << 16);
}

void log_flush(void)
{
	fflush(stderr);
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char line[MSG_LEN + 64];	/* a message and what is said of it */
	int saved = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (dest == LOG_TO_SYSLOG) {
		if (suffix)
			syslog(pri, "%s: %s", line, suffix);
		else
			syslog(pri, "%s", line);
	} else {
		if (journal)
			fprintf(stderr, "<%d>", pri);
		fputs(line, stderr);
		if (suffix)
			fprintf(stderr, ": %s", suffix);
		fputc('\n', stderr);
		if (pri <= LOG_ERR)
			fflush(stderr);
	}
	errno = saved;
}

/* the variadic front ends: FMT and its arguments to vlog() */
#define VLOG(pri, suffix)                                                    \
	do {                                                                 \
		va_list ap;                                                  \
		va_start(ap, fmt);                                           \
		vlog(pri, fmt, ap, suffix);                                  \
		va_end(ap);                                                  \
	} while (0)

void log_warnx(const char *fmt, ...)
{
	VLOG(LOG_WARNING, NULL);
}

void log_errx(const char *fmt, ...)
{
	VLOG(LOG_ERR, NULL);
}

void log_info(const char *fmt, ...)
{
	VLOG(LOG_INFO, NULL);
}

void log_debug(const char *fmt, ...)
{
	if (verbosity < 1)
		return;
	VLOG(LOG_DEBUG, NULL);
}

void fatal(const char *fmt, ...)
{
	const char *why = strerror(errno);

	VLOG(LOG_ERR, why);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	VLOG(LOG_ERR, NULL);
	exit(1);
}

bool ratelimit_pass(struct ratelimit *rl, unsigned long *suppressed)
{
	uint64_t now = util_now_ms();

	if (now < rl->next_ms) {
		rl->suppressed++;
		return false;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->next_ms = now + RATELIMIT_INTERVAL * 1000;
	return true;
}

static void warn_line(const char *line, unsigned long suppressed)
{
	if (suppressed)
		log_warnx("%s (%lu more suppressed)", line, suppressed);
	else
		log_warnx("%s", line);
}

void warn_limited(struct ratelimit *rl, const char *fmt, ...)
{
	unsigned long suppressed;
	char line[MSG_LEN];
	va_list ap;

	if (!ratelimit_pass(rl, &suppressed))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	warn_line(line, suppressed);
}

void warn_msg(struct ratelimit *rl, int id, ...)
{
	unsigned long suppressed;
	char line[MSG_LEN];
	va_list ap;

	if (!ratelimit_pass(rl, &suppressed))
		return;
	va_start(ap, id);
	msg_vformat(line, sizeof(line), id, ap);
	va_end(ap);
	warn_line(line, suppressed);
}
