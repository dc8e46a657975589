// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device-state format (docs/state-format.md): a writer that appends to a
 * growable buffer and a push-based reader that checks the framing, hands
 * complete sections to the device and verifies the trailer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"

/* Flag bits this version of the format defines. */
#define STATE_SECTION_KNOWN_FLAGS STATE_SECTION_OPTIONAL
/* Bytes the trailer section takes, header included. */
#define STATE_TRAILER_SIZE (STATE_SECTION_HDR_SIZE + STATE_TRAILER_PAYLOAD)

enum state_stage {
	STAGE_HEADER,
	STAGE_SECTION_HDR,
	STAGE_PAYLOAD,
	STAGE_TRAILER,
	STAGE_DONE,
};

static const char *const state_err_names[STATE_E_MAX] = {
	[STATE_OK] = "ok",
	[STATE_E_IO] = "read or write error on the state pipe",
	[STATE_E_TRUNCATED] = "state ends before its trailer",
	[STATE_E_MAGIC] = "not device state (bad magic)",
	[STATE_E_VERSION] = "unsupported state format version",
	[STATE_E_DEVICE] = "state of another device type",
	[STATE_E_LENGTH] = "section or total length out of bounds",
	[STATE_E_SECTION] = "unknown mandatory section",
	[STATE_E_CRC] = "checksum or total length mismatch",
	[STATE_E_TRAILING] = "data after the trailer",
	[STATE_E_CONTENT] = "section holds impossible values",
	[STATE_E_CAPACITY] = "disk capacity differs",
	[STATE_E_IDENTITY] = "disk identity differs",
	[STATE_E_BUSY] = "device not suspended",
	[STATE_E_ABORTED] = "transfer aborted",
	[STATE_E_PHASE] = "unsupported migration phase",
	[STATE_E_INCOMPLETE] = "transfer not finished",
	[STATE_E_MISSING] = "mandatory section missing",
};

/**
 * state_err_str() - short human description of a transfer result
 * @err: an enum state_err value
 *
 * Return: a static string; "unknown error" for values outside the enum.
 */
const char *state_err_str(int err)
{
	if (err < 0 || err >= STATE_E_MAX || !state_err_names[err])
		return "unknown error";
	return state_err_names[err];
}

/* Writer */

void state_writer_init(struct state_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void state_writer_fini(struct state_writer *w)
{
	free(w->buf);
	state_writer_init(w);
}

static void writer_fail(struct state_writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

static int writer_reserve(struct state_writer *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 4096;
	uint8_t *buf;

	if (n > STATE_TOTAL_MAX - w->len)
		return -EMSGSIZE;
	if (w->len + n <= w->cap)
		return 0;
	while (cap < w->len + n)
		cap *= 2;
	buf = realloc(w->buf, cap);
	if (!buf)
		return -ENOMEM;
	w->buf = buf;
	w->cap = cap;
	return 0;
}

/* Appends @n bytes, adding them to the running CRC. */
static void writer_append(struct state_writer *w, const void *p, size_t n)
{
	int ret;

	if (w->err)
		return;
	ret = writer_reserve(w, n);
	if (ret) {
		writer_fail(w, ret);
		return;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->crc = state_crc32c(w->crc, p, n);
}

/**
 * state_write_header() - start a blob
 * @w: an empty writer
 * @device_type: virtio device id of the device the state belongs to
 * @producer_version: version of the program writing it (informative)
 */
void state_write_header(struct state_writer *w, uint32_t device_type, uint32_t producer_version)
{
	uint8_t hdr[STATE_HEADER_SIZE] = { 0 };

	if (w->len) {
		writer_fail(w, -EINVAL);
		return;
	}
	memcpy(hdr, STATE_MAGIC, 8);
	state_put_le16(hdr + 8, STATE_FORMAT_VERSION);
	state_put_le32(hdr + 12, device_type);
	state_put_le32(hdr + 16, producer_version);
	writer_append(w, hdr, sizeof(hdr));
}

/**
 * state_write_section() - append one section
 * @w: a writer holding a header
 * @type: device-defined section type, not 0xffff
 * @flags: STATE_SECTION_* bits
 * @payload: @len bytes, already encoded little-endian
 * @len: at most STATE_SECTION_MAX
 */
void state_write_section(struct state_writer *w, uint16_t type, uint16_t flags, const void *payload,
			 uint32_t len)
{
	uint8_t hdr[STATE_SECTION_HDR_SIZE];

	if (!w->len || type == STATE_TRAILER_TYPE) {
		writer_fail(w, -EINVAL);
		return;
	}
	if (len > STATE_SECTION_MAX) {
		writer_fail(w, -EMSGSIZE);
		return;
	}
	state_put_le16(hdr, type);
	state_put_le16(hdr + 2, flags);
	state_put_le32(hdr + 4, len);
	writer_append(w, hdr, sizeof(hdr));
	writer_append(w, payload, len);
}

/**
 * state_write_trailer() - close the blob with its length and CRC32C
 * @w: a writer holding a header and any sections
 *
 * Return: 0 when w->buf / w->len hold a complete blob, or the first error.
 */
int state_write_trailer(struct state_writer *w)
{
	uint8_t tr[STATE_TRAILER_SIZE];

	if (!w->len)
		writer_fail(w, -EINVAL);
	if (w->err)
		return w->err;
	state_put_le16(tr, STATE_TRAILER_TYPE);
	state_put_le16(tr + 2, 0);
	state_put_le32(tr + 4, STATE_TRAILER_PAYLOAD);
	state_put_le64(tr + 8, w->len);
	state_put_le32(tr + 16, w->crc);
	writer_append(w, tr, sizeof(tr));
	return w->err;
}

/* Reader */

/**
 * state_reader_init() - prepare to read one blob
 * @r: reader to set up
 * @device_type: the only device type accepted
 * @on_section: called for every complete section; NULL knows no type
 * @opaque: its first argument
 *
 * Return: 0 or -ENOMEM.
 */
int state_reader_init(struct state_reader *r, uint32_t device_type, state_section_fn on_section,
		      void *opaque)
{
	memset(r, 0, sizeof(*r));
	/* Grown when a longer section comes: most blobs are small, most sections tiny. */
	r->payload_cap = 4096;
	r->payload = malloc(r->payload_cap);
	if (!r->payload)
		return -ENOMEM;
	r->device_type = device_type;
	r->on_section = on_section;
	r->opaque = opaque;
	r->stage = STAGE_HEADER;
	return 0;
}

void state_reader_fini(struct state_reader *r)
{
	free(r->payload);
	r->payload = NULL;
}

static void reader_fail(struct state_reader *r, int err)
{
	if (!r->err)
		r->err = err;
}

static void reader_check_header(struct state_reader *r)
{
	const uint8_t *h = r->hdr;

	/* The magic was checked byte by byte as it arrived. */
	if (state_get_le16(h + 8) != STATE_FORMAT_VERSION || state_get_le16(h + 10) ||
	    state_get_le32(h + 20)) {
		reader_fail(r, STATE_E_VERSION);
		return;
	}
	if (state_get_le32(h + 12) != r->device_type) {
		reader_fail(r, STATE_E_DEVICE);
		return;
	}
	r->producer_version = state_get_le32(h + 16);
	r->crc = state_crc32c(0, h, STATE_HEADER_SIZE);
	r->total = STATE_HEADER_SIZE;
	r->stage = STAGE_SECTION_HDR;
	r->have = 0;
}

static int reader_deliver(struct state_reader *r)
{
	int ret;

	/* An optional section with flags this reader does not know: skip it. */
	if (r->sec_flags & ~STATE_SECTION_KNOWN_FLAGS)
		return STATE_OK;
	if (!r->on_section)
		return r->sec_flags & STATE_SECTION_OPTIONAL ? STATE_OK : STATE_E_SECTION;
	ret = r->on_section(r->opaque, r->sec_type, r->sec_flags, r->payload, r->sec_len);
	if (!ret)
		return STATE_OK;
	if (ret == -ENOENT)
		return r->sec_flags & STATE_SECTION_OPTIONAL ? STATE_OK : STATE_E_SECTION;
	if (ret > 0 && ret < STATE_E_MAX)
		return ret;
	return STATE_E_CONTENT;
}

static void reader_section_end(struct state_reader *r)
{
	int err;

	r->crc = state_crc32c(r->crc, r->payload, r->sec_len);
	r->total += r->sec_len;
	r->stage = STAGE_SECTION_HDR;
	r->have = 0;
	err = reader_deliver(r);
	if (err)
		reader_fail(r, err);
}

static void reader_section_begin(struct state_reader *r)
{
	r->sec_type = state_get_le16(r->sec_hdr);
	r->sec_flags = state_get_le16(r->sec_hdr + 2);
	r->sec_len = state_get_le32(r->sec_hdr + 4);
	r->have = 0;

	if (r->sec_type == STATE_TRAILER_TYPE) {
		if (r->sec_flags)
			reader_fail(r, STATE_E_SECTION);
		else if (r->sec_len != STATE_TRAILER_PAYLOAD)
			reader_fail(r, STATE_E_LENGTH);
		r->stage = STAGE_TRAILER;
		return;
	}
	if (r->sec_len > STATE_SECTION_MAX ||
	    r->total + STATE_SECTION_HDR_SIZE + r->sec_len + STATE_TRAILER_SIZE > STATE_TOTAL_MAX) {
		reader_fail(r, STATE_E_LENGTH);
		return;
	}
	if ((r->sec_flags & ~STATE_SECTION_KNOWN_FLAGS) &&
	    !(r->sec_flags & STATE_SECTION_OPTIONAL)) {
		reader_fail(r, STATE_E_SECTION);
		return;
	}
	if (r->sec_len > r->payload_cap) {
		uint8_t *p = realloc(r->payload, r->sec_len);

		if (!p) {
			reader_fail(r, STATE_E_LENGTH); /* longer than this process can hold */
			return;
		}
		r->payload = p;
		r->payload_cap = r->sec_len;
	}
	r->crc = state_crc32c(r->crc, r->sec_hdr, STATE_SECTION_HDR_SIZE);
	r->total += STATE_SECTION_HDR_SIZE;
	r->stage = STAGE_PAYLOAD;
	if (!r->sec_len)
		reader_section_end(r);
}

static void reader_check_trailer(struct state_reader *r)
{
	const uint8_t *t = r->payload;

	if (state_get_le64(t) != r->total || state_get_le32(t + 8) != r->crc) {
		reader_fail(r, STATE_E_CRC);
		return;
	}
	r->stage = STAGE_DONE;
	r->done = true;
}

/* Collects into @dst, which needs @want bytes; returns how many it took. */
static size_t reader_collect(struct state_reader *r, uint8_t *dst, size_t want, const uint8_t *p,
			     size_t len)
{
	size_t n = want - r->have < len ? want - r->have : len;

	memcpy(dst + r->have, p, n);
	r->have += n;
	return n;
}

/* Consumes some of @p (at least one byte), advancing the state machine. */
static size_t reader_step(struct state_reader *r, const uint8_t *p, size_t len)
{
	size_t start = r->have;
	size_t n;

	switch (r->stage) {
	case STAGE_HEADER:
		n = reader_collect(r, r->hdr, STATE_HEADER_SIZE, p, len);
		for (size_t i = start; i < r->have && i < 8; i++) {
			if (r->hdr[i] != (uint8_t)STATE_MAGIC[i]) {
				reader_fail(r, STATE_E_MAGIC);
				return n;
			}
		}
		if (r->have == STATE_HEADER_SIZE)
			reader_check_header(r);
		return n;
	case STAGE_SECTION_HDR:
		n = reader_collect(r, r->sec_hdr, STATE_SECTION_HDR_SIZE, p, len);
		if (r->have == STATE_SECTION_HDR_SIZE)
			reader_section_begin(r);
		return n;
	case STAGE_PAYLOAD:
		n = reader_collect(r, r->payload, r->sec_len, p, len);
		if (r->have == r->sec_len)
			reader_section_end(r);
		return n;
	case STAGE_TRAILER:
		n = reader_collect(r, r->payload, STATE_TRAILER_PAYLOAD, p, len);
		if (r->have == STATE_TRAILER_PAYLOAD)
			reader_check_trailer(r);
		return n;
	default:
		reader_fail(r, STATE_E_TRAILING);
		return len;
	}
}

/**
 * state_reader_feed() - push the next bytes of the stream
 * @r: reader
 * @buf: bytes as they arrived, any split
 * @len: their number (0 is allowed)
 *
 * Complete sections are handed to on_section before the trailer is verified.
 *
 * Return: STATE_OK, or the first error (it sticks: later calls return it).
 */
int state_reader_feed(struct state_reader *r, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!r->err && !r->payload)
		reader_fail(r, STATE_E_ABORTED);
	while (!r->err && len) {
		size_t n = reader_step(r, p, len);

		p += n;
		len -= n;
	}
	return r->err;
}

/**
 * state_reader_finish() - the stream ended
 * @r: reader
 *
 * Return: STATE_OK only when a verified trailer ended the data, else the
 * first error or STATE_E_TRUNCATED.
 */
int state_reader_finish(struct state_reader *r)
{
	if (!r->err && !r->done)
		reader_fail(r, STATE_E_TRUNCATED);
	return r->err;
}
