// SPDX-License-Identifier: GPL-2.0-or-later
/* Pin policy: learn, refresh, never move a live pin. */
#include <errno.h>

#include "pin.h"

void pin_init(struct pin *p, in_addr_t inner, in_addr_t gateway,
	      in_addr_t pool)
{
	p->inner = inner;
	p->gateway = gateway;
	p->pool = pool;
	p->state = PIN_TRY_CREATE;
	p->err = 0;
}

bool pin_pending(const struct pin *p)
{
	return p->state == PIN_TRY_CREATE || p->state == PIN_TRY_REFRESH;
}

void pin_settle(struct pin *p, int err, bool committed)
{
	if (!pin_pending(p))
		return;
	p->err = err;
	if (committed) {
		p->state = p->state == PIN_TRY_CREATE ? PIN_ADDED :
							PIN_REFRESHED;
		return;
	}
	switch (err) {
	case 0:
		/* fine on its own, undone with the rest: try again as is */
		break;
	case EEXIST:
		p->state = p->state == PIN_TRY_CREATE ? PIN_TRY_REFRESH :
							PIN_CONFLICT;
		break;
	case ENFILE:	/* the set's size is reached */
	case ENOSPC:
		p->state = PIN_MAP_FULL;
		break;
	default:
		p->state = PIN_FAILED;
		break;
	}
}

void pin_give_up(struct pin *p)
{
	if (!pin_pending(p))
		return;
	p->state = PIN_FAILED;
	if (!p->err)
		p->err = EAGAIN;
}

size_t pin_find(const struct pin *pins, size_t n, const struct pin *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pins[i].inner == p->inner &&
		    pins[i].gateway == p->gateway && pins[i].pool == p->pool)
			return i;
	return n;
}

const char *pin_state_str(enum pin_state s)
{
	switch (s) {
	case PIN_TRY_CREATE:
		return "pending add";
	case PIN_TRY_REFRESH:
		return "pending refresh";
	case PIN_ADDED:
		return "added";
	case PIN_REFRESHED:
		return "refreshed";
	case PIN_CONFLICT:
		return "conflict";
	case PIN_MAP_FULL:
		return "map full";
	case PIN_FAILED:
		return "failed";
	}
	return "?";
}
