/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A few lines of test harness: CHECK() records, RUN() reports PASS/FAIL. */
#ifndef NFQH_CHECK_H
#define NFQH_CHECK_H

#include <stdio.h>

static int check_failed, check_case_failed;

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",        \
				__FILE__, __LINE__, #expr);                \
			check_case_failed = 1;                             \
		}                                                          \
	} while (0)

#define RUN(fn)                                                            \
	do {                                                               \
		check_case_failed = 0;                                     \
		fn();                                                      \
		printf("%s: %s: %s\n", check_case_failed ? "FAIL" : "PASS", \
		       __FILE__, #fn);                                     \
		check_failed += check_case_failed;                         \
	} while (0)

#define CHECK_DONE() (check_failed ? 1 : 0)

#endif
