// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: packet_parse() on anything, the first byte setting how much of
 * the packet was copied. */
#include <stdint.h>
#include <stdlib.h>

#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udp_view v;
	size_t caplen;

	if (size < 1)
		return 0;
	caplen = (size - 1) * data[0] / 255;
	if (packet_parse(data + 1, caplen, size - 1, &v) == PACKET_OK &&
	    (v.caplen > v.len || v.payload > data + 1 + caplen))
		abort();
	return 0;
}
