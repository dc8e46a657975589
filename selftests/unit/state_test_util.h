/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the device-state unit tests (state_format_test.c,
 * state_corrupt_test.c): a recording section callback, a reader that feeds a
 * blob in pieces, and the fixture holding the sample blob.
 * Include after kselftest_harness.h.
 */
#ifndef VB_STATE_TEST_UTIL_H
#define VB_STATE_TEST_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"

#define DEV_TYPE 2
#define REC_MAX 16

/* A section callback that knows types 1 to 4 and records what it gets. */
struct rec {
	int n;
	uint16_t type[REC_MAX];
	uint16_t flags[REC_MAX];
	uint32_t len[REC_MAX];
	uint8_t data[4096]; /* payloads back to back */
	size_t used;
	uint16_t fail_type; /* return fail_ret for this type */
	int fail_ret;
};

static inline int rec_section(void *opaque, uint16_t type, uint16_t flags,
			      const uint8_t *payload, uint32_t len)
{
	struct rec *rc = opaque;

	if (rc->fail_ret && type == rc->fail_type)
		return rc->fail_ret;
	if (type < 1 || type > 4)
		return -ENOENT;
	if (rc->n == REC_MAX || len > sizeof(rc->data) - rc->used)
		return STATE_E_CONTENT;
	rc->type[rc->n] = type;
	rc->flags[rc->n] = flags;
	rc->len[rc->n] = len;
	memcpy(rc->data + rc->used, payload, len);
	rc->used += len;
	rc->n++;
	return 0;
}

static inline uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Reads @len bytes in pieces of @piece bytes (0: all at once; SIZE_MAX:
 * random sizes from @seed). Return: what state_reader_finish() says.
 */
static inline int read_blob(const uint8_t *buf, size_t len, size_t piece, uint64_t seed,
			    struct rec *rc, uint32_t device_type)
{
	struct state_reader r;
	size_t off = 0;
	int ret;

	if (state_reader_init(&r, device_type, rec_section, rc))
		return -ENOMEM;
	while (off < len) {
		size_t n = len - off;

		if (piece == SIZE_MAX)
			n = 1 + xorshift(&seed) % 64;
		else if (piece)
			n = piece;
		if (n > len - off)
			n = len - off;
		state_reader_feed(&r, buf + off, n);
		off += n;
	}
	ret = state_reader_finish(&r);
	state_reader_fini(&r);
	return ret;
}

/* Section payloads of the sample blob: 1, 2 (empty), 3 and 4 (optional). */
#define SAMPLE_SECTIONS 4
static const uint32_t sample_len[SAMPLE_SECTIONS] = { 20, 0, 300, 40 };
static const uint16_t sample_flags[SAMPLE_SECTIONS] = { 0, 0, 0, STATE_SECTION_OPTIONAL };

/* Sections 1 to 4 of the sample, their payloads taken from @payloads. */
static inline void write_sample_sections(struct state_writer *w, const uint8_t *payloads)
{
	for (int i = 0; i < SAMPLE_SECTIONS; i++) {
		state_write_section(w, i + 1, sample_flags[i], payloads, sample_len[i]);
		payloads += sample_len[i];
	}
}

FIXTURE(blob) {
	struct state_writer w;
	uint8_t payloads[360];
	struct rec rc;
};

FIXTURE_SETUP(blob)
{
	for (size_t i = 0; i < sizeof(self->payloads); i++)
		self->payloads[i] = (uint8_t)(i * 7 + 3);
	state_writer_init(&self->w);
	state_write_header(&self->w, DEV_TYPE, 7);
	write_sample_sections(&self->w, self->payloads);
	ASSERT_EQ(0, state_write_trailer(&self->w));
}

FIXTURE_TEARDOWN(blob)
{
	state_writer_fini(&self->w);
}

#endif
