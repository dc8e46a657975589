// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the device-state reader (state/state.c).
 *
 * Input: one control byte, then the stream. The control byte picks how the
 * stream is cut into pieces (bits 0-5 seed the piece sizes, 0 = all at
 * once), whether the harness seals it with a correct trailer (bit 7, so the
 * fuzzer gets past the CRC) and whether one stray byte follows (bit 6).
 *
 * Oracles: the streaming reader must agree with a straightforward
 * whole-buffer parser below on the result and on every section delivered;
 * a blob it accepts must be reproduced byte for byte by the writer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"

#define DEV_TYPE 2
#define MAX_SECTIONS 4096

struct seen {
	int n;
	uint32_t hash; /* CRC32C over type, flags, len and payload of each */
};

/*
 * A device of sorts: knows types 1-4, fails on 5 and 6 (once with a state
 * error, once with an errno) and knows nothing else.
 */
static int on_section(void *opaque, uint16_t type, uint16_t flags, const uint8_t *payload,
		      uint32_t len)
{
	struct seen *s = opaque;
	uint8_t hdr[8];

	if (type == 5)
		return STATE_E_CAPACITY;
	if (type == 6)
		return -EIO;
	if (type < 1 || type > 4)
		return -ENOENT;
	state_put_le16(hdr, type);
	state_put_le16(hdr + 2, flags);
	state_put_le32(hdr + 4, len);
	s->hash = state_crc32c(s->hash, hdr, sizeof(hdr));
	s->hash = state_crc32c(s->hash, payload, len);
	s->n++;
	return 0;
}

struct ref_section {
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	size_t off; /* of the payload */
};

static int ref_deliver(struct seen *s, const uint8_t *d, const struct ref_section *sec)
{
	int ret;

	if (sec->flags & ~STATE_SECTION_OPTIONAL)
		return STATE_OK; /* optional with unknown flags: skipped unseen */
	ret = on_section(s, sec->type, sec->flags, d + sec->off, sec->len);
	if (!ret)
		return STATE_OK;
	if (ret == -ENOENT)
		return sec->flags & STATE_SECTION_OPTIONAL ? STATE_OK : STATE_E_SECTION;
	if (ret > 0 && ret < STATE_E_MAX)
		return ret;
	return STATE_E_CONTENT;
}

/* The format as docs/state-format.md states it, on a whole buffer. */
static int ref_parse(const uint8_t *d, size_t size, struct seen *s, struct ref_section *secs,
		     int *nsecs)
{
	uint64_t total = STATE_HEADER_SIZE;
	size_t off = STATE_HEADER_SIZE;
	int ret;

	*nsecs = 0;
	for (size_t i = 0; i < 8 && i < size; i++)
		if (d[i] != (uint8_t)STATE_MAGIC[i])
			return STATE_E_MAGIC;
	if (size < STATE_HEADER_SIZE)
		return STATE_E_TRUNCATED;
	if (state_get_le16(d + 8) != 1 || state_get_le16(d + 10) || state_get_le32(d + 20))
		return STATE_E_VERSION;
	if (state_get_le32(d + 12) != DEV_TYPE)
		return STATE_E_DEVICE;
	for (;;) {
		struct ref_section sec;

		if (size - off < 8)
			return STATE_E_TRUNCATED;
		sec.type = state_get_le16(d + off);
		sec.flags = state_get_le16(d + off + 2);
		sec.len = state_get_le32(d + off + 4);
		sec.off = off + 8;
		if (sec.type == 0xffff) {
			if (sec.flags)
				return STATE_E_SECTION;
			if (sec.len != 12)
				return STATE_E_LENGTH;
			if (size - sec.off < 12)
				return STATE_E_TRUNCATED;
			if (state_get_le64(d + sec.off) != total ||
			    state_get_le32(d + sec.off + 8) != state_crc32c(0, d, off))
				return STATE_E_CRC;
			return sec.off + 12 == size ? STATE_OK : STATE_E_TRAILING;
		}
		if (sec.len > STATE_SECTION_MAX || total + 8 + sec.len + 20 > STATE_TOTAL_MAX)
			return STATE_E_LENGTH;
		if ((sec.flags & ~STATE_SECTION_OPTIONAL) && !(sec.flags & STATE_SECTION_OPTIONAL))
			return STATE_E_SECTION;
		if (size - sec.off < sec.len)
			return STATE_E_TRUNCATED;
		ret = ref_deliver(s, d, &sec);
		if (ret)
			return ret;
		if (*nsecs < MAX_SECTIONS)
			secs[(*nsecs)++] = sec;
		off = sec.off + sec.len;
		total = off;
	}
}

/* An accepted blob, rewritten by the writer, is the same bytes. */
static void check_rewrite(const uint8_t *d, size_t size, const struct ref_section *secs, int nsecs)
{
	struct state_writer w;

	if (nsecs == MAX_SECTIONS)
		return;
	state_writer_init(&w);
	state_write_header(&w, DEV_TYPE, state_get_le32(d + 16));
	for (int i = 0; i < nsecs; i++)
		state_write_section(&w, secs[i].type, secs[i].flags, d + secs[i].off, secs[i].len);
	if (state_write_trailer(&w) || w.len != size || memcmp(w.buf, d, size))
		abort();
	state_writer_fini(&w);
}

static uint8_t *build_stream(const uint8_t *data, size_t size, uint8_t ctl, size_t *len)
{
	size_t n = size + (ctl & 0x80 ? 20 : 0) + (ctl & 0x40 ? 1 : 0);
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (ctl & 0x80) {
		state_put_le16(buf + size, STATE_TRAILER_TYPE);
		state_put_le16(buf + size + 2, 0);
		state_put_le32(buf + size + 4, STATE_TRAILER_PAYLOAD);
		state_put_le64(buf + size + 8, size);
		state_put_le32(buf + size + 16, state_crc32c(0, data, size));
	}
	if (ctl & 0x40)
		buf[n - 1] = 0x5a;
	*len = n;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref_section secs[MAX_SECTIONS];
	struct seen got = { 0 }, want = { 0 };
	struct state_reader r;
	uint32_t seed;
	size_t len, off = 0;
	uint8_t *buf;
	int nsecs, ret;

	if (!size)
		return 0;
	seed = data[0] & 0x3f;
	buf = build_stream(data + 1, size - 1, data[0], &len);

	if (state_reader_init(&r, DEV_TYPE, on_section, &got))
		abort();
	while (off < len) {
		size_t n = len - off;

		if (seed) {
			seed = seed * 1103515245 + 12345;
			n = 1 + (seed >> 16) % 97;
			if (n > len - off)
				n = len - off;
		}
		ret = state_reader_feed(&r, buf + off, n);
		off += n;
		if (ret)
			break;
	}
	ret = state_reader_finish(&r);
	state_reader_fini(&r);

	if (ret != ref_parse(buf, len, &want, secs, &nsecs) || got.n != want.n ||
	    got.hash != want.hash)
		abort();
	if (ret == STATE_OK)
		check_rewrite(buf, len, secs, nsecs);
	free(buf);
	return 0;
}
