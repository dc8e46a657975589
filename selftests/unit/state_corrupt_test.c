// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device-state format, the corruption matrix: truncations, bit flips,
 * trailing bytes, bad magic/version/device type, length limits, a damaged
 * trailer. Every one must be refused with its own error.
 */
#include "kselftest_harness.h"

#include "state_test_util.h"

static int accept_all(void *opaque, uint16_t type, uint16_t flags, const uint8_t *payload,
		      uint32_t len)
{
	return 0;
}

static void put_raw_section(uint8_t *p, uint16_t type, uint16_t flags, uint32_t len)
{
	state_put_le16(p, type);
	state_put_le16(p + 2, flags);
	state_put_le32(p + 4, len);
}

TEST(empty_input_is_truncated)
{
	struct rec rc = { 0 };

	EXPECT_EQ(STATE_E_TRUNCATED, read_blob(NULL, 0, 0, 0, &rc, DEV_TYPE));
}

TEST_F(blob, every_truncation_is_reported_as_truncated)
{
	for (size_t len = 0; len < self->w.len; len++) {
		memset(&self->rc, 0, sizeof(self->rc));
		EXPECT_EQ(STATE_E_TRUNCATED,
			  read_blob(self->w.buf, len, 0, 0, &self->rc, DEV_TYPE)) {
			TH_LOG("truncated to %zu bytes", len);
			break;
		}
	}
}

/* The blob with one bit flipped, through the reader. */
static int read_flipped(FIXTURE_DATA(blob) *self, uint8_t *copy, size_t bit)
{
	memcpy(copy, self->w.buf, self->w.len);
	copy[bit / 8] ^= 1 << (bit % 8);
	memset(&self->rc, 0, sizeof(self->rc));
	return read_blob(copy, self->w.len, 0, 0, &self->rc, DEV_TYPE);
}

TEST_F(blob, random_single_bit_flips_are_all_rejected)
{
	uint8_t *copy = malloc(self->w.len);
	uint64_t seed = 0x76626c6b64; /* fixed: failures reproduce */

	ASSERT_NE(NULL, copy);
	for (int i = 0; i < 100; i++) {
		size_t bit = xorshift(&seed) % (self->w.len * 8);

		EXPECT_NE(STATE_OK, read_flipped(self, copy, bit)) {
			TH_LOG("flip of bit %zu accepted", bit);
			break;
		}
	}
	free(copy);
}

TEST_F(blob, every_single_bit_flip_is_rejected)
{
	uint8_t *copy = malloc(self->w.len);

	ASSERT_NE(NULL, copy);
	for (size_t bit = 0; bit < self->w.len * 8; bit++) {
		EXPECT_NE(STATE_OK, read_flipped(self, copy, bit)) {
			TH_LOG("flip of bit %zu accepted", bit);
			break;
		}
	}
	free(copy);
}

TEST_F(blob, bytes_after_the_trailer_are_rejected)
{
	struct state_reader r;
	uint8_t garbage = 0;

	ASSERT_EQ(0, state_reader_init(&r, DEV_TYPE, rec_section, &self->rc));
	EXPECT_EQ(STATE_OK, state_reader_feed(&r, self->w.buf, self->w.len));
	EXPECT_EQ(STATE_E_TRAILING, state_reader_feed(&r, &garbage, 1));
	EXPECT_EQ(STATE_E_TRAILING, state_reader_finish(&r));
	state_reader_fini(&r);
}

TEST_F(blob, two_blobs_back_to_back_are_rejected)
{
	size_t len = self->w.len;
	uint8_t *two = malloc(2 * len);

	ASSERT_NE(NULL, two);
	memcpy(two, self->w.buf, len);
	memcpy(two + len, self->w.buf, len);
	EXPECT_EQ(STATE_E_TRAILING, read_blob(two, 2 * len, 0, 0, &self->rc, DEV_TYPE));
	free(two);
}

TEST_F(blob, a_wrong_magic_is_reported_on_its_first_byte)
{
	struct state_reader r;

	ASSERT_EQ(0, state_reader_init(&r, DEV_TYPE, rec_section, &self->rc));
	EXPECT_EQ(STATE_OK, state_reader_feed(&r, "VBLK", 4));
	EXPECT_EQ(STATE_E_MAGIC, state_reader_feed(&r, "X", 1));
	EXPECT_EQ(STATE_E_MAGIC, state_reader_finish(&r));
	state_reader_fini(&r);
}

TEST_F(blob, another_format_version_is_refused)
{
	self->w.buf[8] = 2;
	EXPECT_EQ(STATE_E_VERSION, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
	EXPECT_EQ(0, self->rc.n);
}

TEST_F(blob, nonzero_reserved_header_fields_are_refused_as_a_version_mismatch)
{
	self->w.buf[10] = 1;
	EXPECT_EQ(STATE_E_VERSION, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
	self->w.buf[10] = 0;
	self->w.buf[23] = 0x80;
	EXPECT_EQ(STATE_E_VERSION, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
}

TEST_F(blob, state_of_another_device_type_is_refused)
{
	EXPECT_EQ(STATE_E_DEVICE, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, 1));
	EXPECT_EQ(0, self->rc.n);
}

TEST_F(blob, a_section_longer_than_the_limit_is_refused_before_its_payload)
{
	struct state_reader r;
	uint8_t sec[STATE_SECTION_HDR_SIZE];

	put_raw_section(sec, 1, 0, STATE_SECTION_MAX + 1);
	ASSERT_EQ(0, state_reader_init(&r, DEV_TYPE, rec_section, &self->rc));
	EXPECT_EQ(STATE_OK, state_reader_feed(&r, self->w.buf, STATE_HEADER_SIZE));
	EXPECT_EQ(STATE_E_LENGTH, state_reader_feed(&r, sec, sizeof(sec)));
	state_reader_fini(&r);
}

TEST_F(blob, a_section_of_exactly_the_limit_is_read)
{
	uint8_t *big = calloc(1, STATE_SECTION_MAX);
	struct state_writer w;
	struct state_reader r;

	ASSERT_NE(NULL, big);
	big[STATE_SECTION_MAX - 1] = 0xa5;
	state_writer_init(&w);
	state_write_header(&w, DEV_TYPE, 0);
	state_write_section(&w, 1, 0, big, STATE_SECTION_MAX);
	ASSERT_EQ(0, state_write_trailer(&w));
	ASSERT_EQ(0, state_reader_init(&r, DEV_TYPE, accept_all, NULL));
	EXPECT_EQ(STATE_OK, state_reader_feed(&r, w.buf, w.len));
	EXPECT_EQ(STATE_OK, state_reader_finish(&r));
	state_reader_fini(&r);
	state_writer_fini(&w);
	free(big);
}

TEST(a_stream_longer_than_the_total_limit_is_refused)
{
	uint8_t *chunk = calloc(1, STATE_SECTION_HDR_SIZE + STATE_SECTION_MAX);
	struct state_writer w;
	struct state_reader r;
	int ret = STATE_OK;
	int n = 0;

	ASSERT_NE(NULL, chunk);
	state_writer_init(&w);
	state_write_header(&w, DEV_TYPE, 0);
	ASSERT_EQ(0, state_reader_init(&r, DEV_TYPE, accept_all, NULL));
	EXPECT_EQ(STATE_OK, state_reader_feed(&r, w.buf, w.len));
	put_raw_section(chunk, 1, 0, STATE_SECTION_MAX);
	while (ret == STATE_OK && n < 100) {
		ret = state_reader_feed(&r, chunk, STATE_SECTION_HDR_SIZE + STATE_SECTION_MAX);
		n++;
	}
	EXPECT_EQ(STATE_E_LENGTH, ret);
	/* 63 sections of 1 MiB and a trailer fit in 64 MiB; a 64th does not. */
	EXPECT_EQ(64, n);
	state_reader_fini(&r);
	state_writer_fini(&w);
	free(chunk);
}

TEST_F(blob, a_trailer_of_another_length_is_refused)
{
	size_t t = self->w.len - STATE_SECTION_HDR_SIZE - STATE_TRAILER_PAYLOAD;

	state_put_le32(self->w.buf + t + 4, 16);
	EXPECT_EQ(STATE_E_LENGTH, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
}

TEST_F(blob, a_wrong_total_with_a_right_crc_is_refused)
{
	size_t t = self->w.len - STATE_TRAILER_PAYLOAD;

	state_put_le64(self->w.buf + t, state_get_le64(self->w.buf + t) + 1);
	EXPECT_EQ(STATE_E_CRC, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
}

TEST_F(blob, sections_reach_the_device_before_the_crc_is_checked)
{
	self->w.buf[self->w.len - 1] ^= 1;
	EXPECT_EQ(STATE_E_CRC, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
	EXPECT_EQ(4, self->rc.n);
}

TEST_HARNESS_MAIN
