// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: ike_parse() on anything; the first byte picks 500 or 4500 and
 * how much of the datagram the queue copied. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_msg m;
	size_t caplen;

	if (size < 1)
		return 0;
	caplen = (size - 1) * (data[0] >> 1) / 127;
	if (caplen > size - 1)
		caplen = size - 1;
	if (ike_parse(data + 1, caplen, size - 1, data[0] & 1, &m) == IKE_OK &&
	    m.length != size - 1 - (data[0] & 1 ? 4 : 0))
		abort();
	return 0;
}
