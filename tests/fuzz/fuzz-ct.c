// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: ct_decode() on anything, as NFQA_CT or a ctnetlink answer could
 * carry it. */
#include <stdint.h>

#include "ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_entry e;

	ct_decode(data, size, &e);
	return 0;
}
