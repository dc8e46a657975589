// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device-state format, what a valid blob is: CRC32C, error codes, the
 * writer's layout, streaming reads in any pieces, sections a reader skips or
 * rejects, the section callback's errors, the golden v1 blob.
 */
#include "kselftest_harness.h"

#include "state_test_util.h"

static bool sample_delivered(struct __test_metadata *_metadata, FIXTURE_DATA(blob) *self)
{
	EXPECT_EQ(4, self->rc.n);
	if (self->rc.n != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(i + 1, self->rc.type[i]);
		EXPECT_EQ(sample_flags[i], self->rc.flags[i]);
		EXPECT_EQ(sample_len[i], self->rc.len[i]);
	}
	EXPECT_EQ(sizeof(self->payloads), self->rc.used);
	EXPECT_EQ(0, memcmp(self->payloads, self->rc.data, sizeof(self->payloads)));
	return true;
}

TEST(crc32c_gives_the_castagnoli_check_value)
{
	EXPECT_EQ(0xe3069283, state_crc32c(0, "123456789", 9));
	EXPECT_EQ(0, state_crc32c(0, "", 0));
	EXPECT_EQ(0xe3069283, state_crc32c(state_crc32c(0, "1234", 4), "56789", 5));
}

TEST(crc32c_table_matches_the_bitwise_definition)
{
	uint8_t buf[1000];
	uint64_t seed = 0x5eed;
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)xorshift(&seed);
	for (size_t i = 0; i < sizeof(buf); i++) {
		crc ^= buf[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (crc & 1 ? 0x82f63b78 : 0);
	}
	EXPECT_EQ(~crc, state_crc32c(0, buf, sizeof(buf)));
	for (int i = 0; i < 256; i++) {
		uint8_t c = (uint8_t)i;

		crc = 0xffffffff ^ c;
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (crc & 1 ? 0x82f63b78 : 0);
		EXPECT_EQ(~crc, state_crc32c(0, &c, 1));
	}
}

TEST(error_codes_are_stable_and_named)
{
	EXPECT_EQ(1, STATE_E_IO);
	EXPECT_EQ(2, STATE_E_TRUNCATED);
	EXPECT_EQ(8, STATE_E_CRC);
	EXPECT_EQ(10, STATE_E_CONTENT);
	EXPECT_EQ(17, STATE_E_MISSING);
	EXPECT_EQ(18, STATE_E_MAX);
	for (int i = 0; i < STATE_E_MAX; i++) {
		EXPECT_STRNE("unknown error", state_err_str(i));
		for (int j = 0; j < i; j++)
			EXPECT_STRNE(state_err_str(j), state_err_str(i));
	}
	EXPECT_STREQ("unknown error", state_err_str(-1));
	EXPECT_STREQ("unknown error", state_err_str(STATE_E_MAX));
}

TEST_F(blob, the_writer_lays_out_header_sections_and_trailer)
{
	const uint8_t *b = self->w.buf;
	size_t len = self->w.len;

	ASSERT_EQ(STATE_HEADER_SIZE + 4 * STATE_SECTION_HDR_SIZE + sizeof(self->payloads) +
			  STATE_SECTION_HDR_SIZE + STATE_TRAILER_PAYLOAD,
		  len);
	EXPECT_EQ(0, memcmp(b, "VBLKSTAT", 8));
	EXPECT_EQ(1, state_get_le16(b + 8));
	EXPECT_EQ(DEV_TYPE, state_get_le32(b + 12));
	EXPECT_EQ(7, state_get_le32(b + 16));
	EXPECT_EQ(0xffff, state_get_le16(b + len - 20));
	EXPECT_EQ(12, state_get_le32(b + len - 16));
	EXPECT_EQ(len - 20, state_get_le64(b + len - 12));
	EXPECT_EQ(state_crc32c(0, b, len - 20), state_get_le32(b + len - 4));
}

TEST_F(blob, a_blob_read_at_once_delivers_every_section_in_order)
{
	EXPECT_EQ(STATE_OK, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
	sample_delivered(_metadata, self);
}

TEST_F(blob, a_blob_read_byte_by_byte_delivers_the_same_sections)
{
	EXPECT_EQ(STATE_OK, read_blob(self->w.buf, self->w.len, 1, 0, &self->rc, DEV_TYPE));
	sample_delivered(_metadata, self);
}

TEST_F(blob, a_blob_read_in_random_pieces_delivers_the_same_sections)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		memset(&self->rc, 0, sizeof(self->rc));
		EXPECT_EQ(STATE_OK,
			  read_blob(self->w.buf, self->w.len, SIZE_MAX, seed, &self->rc, DEV_TYPE));
		if (!sample_delivered(_metadata, self))
			break;
	}
}

TEST(a_header_and_trailer_without_sections_is_a_valid_blob)
{
	struct state_writer w;
	struct rec rc = { 0 };

	state_writer_init(&w);
	state_write_header(&w, DEV_TYPE, 0);
	ASSERT_EQ(0, state_write_trailer(&w));
	EXPECT_EQ(STATE_HEADER_SIZE + 20, w.len);
	EXPECT_EQ(STATE_OK, read_blob(w.buf, w.len, 0, 0, &rc, DEV_TYPE));
	EXPECT_EQ(0, rc.n);
	state_writer_fini(&w);
}

TEST(the_writer_refuses_what_a_reader_would_refuse)
{
	struct state_writer w;
	uint8_t *big = calloc(1, STATE_SECTION_MAX + 1);

	ASSERT_NE(NULL, big);
	state_writer_init(&w);
	state_write_section(&w, 1, 0, "x", 1);
	EXPECT_EQ(-EINVAL, state_write_trailer(&w));
	state_writer_fini(&w);

	state_write_header(&w, DEV_TYPE, 0);
	state_write_section(&w, STATE_TRAILER_TYPE, 0, "x", 1);
	EXPECT_EQ(-EINVAL, state_write_trailer(&w));
	state_writer_fini(&w);

	state_write_header(&w, DEV_TYPE, 0);
	state_write_section(&w, 1, 0, big, STATE_SECTION_MAX + 1);
	state_write_section(&w, 2, 0, "x", 1);
	EXPECT_EQ(-EMSGSIZE, state_write_trailer(&w));
	state_writer_fini(&w);

	state_write_header(&w, DEV_TYPE, 0);
	for (int i = 0; i < 64; i++)
		state_write_section(&w, 1, 0, big, STATE_SECTION_MAX);
	EXPECT_EQ(-EMSGSIZE, state_write_trailer(&w));
	state_writer_fini(&w);

	state_write_header(&w, DEV_TYPE, 0);
	state_write_header(&w, DEV_TYPE, 0);
	EXPECT_EQ(-EINVAL, state_write_trailer(&w));
	state_writer_fini(&w);
	free(big);
}

/* Payload byte i of a section of @type: (i * 7 + type) & 0xff. */
static int pattern_section(void *opaque, uint16_t type, uint16_t flags, const uint8_t *payload,
			   uint32_t len)
{
	uint32_t *lens = opaque;

	for (uint32_t i = 0; i < len; i++)
		if (payload[i] != (uint8_t)(i * 7 + type))
			return STATE_E_CONTENT;
	lens[type - 1] = len;
	return 0;
}

/* The reader's buffer starts small and grows: each size in turn, read whole and in pieces. */
TEST(sections_up_to_the_largest_are_read_whole_after_smaller_ones)
{
	static const uint32_t sizes[] = { 10, 4096, 4097, STATE_SECTION_MAX, 5000 };
	uint8_t *big = malloc(STATE_SECTION_MAX);
	struct state_writer w;

	ASSERT_NE(NULL, big);
	state_writer_init(&w);
	state_write_header(&w, DEV_TYPE, 0);
	for (unsigned int t = 1; t <= 5; t++) {
		for (uint32_t i = 0; i < sizes[t - 1]; i++)
			big[i] = (uint8_t)(i * 7 + t);
		state_write_section(&w, (uint16_t)t, STATE_SECTION_OPTIONAL, big, sizes[t - 1]);
	}
	ASSERT_EQ(0, state_write_trailer(&w));
	for (size_t piece = 0; piece <= 4097; piece += 4097) {
		uint32_t lens[5] = { 0 };
		struct state_reader r;
		size_t off = 0;

		ASSERT_EQ(0, state_reader_init(&r, DEV_TYPE, pattern_section, lens));
		while (off < w.len) {
			size_t n = piece && piece < w.len - off ? piece : w.len - off;

			ASSERT_EQ(STATE_OK, state_reader_feed(&r, w.buf + off, n));
			off += n;
		}
		EXPECT_EQ(STATE_OK, state_reader_finish(&r));
		state_reader_fini(&r);
		EXPECT_EQ(0, memcmp(sizes, lens, sizeof(lens)));
	}
	state_writer_fini(&w);
	free(big);
}

/* Sample header, one extra section of @type/@flags, then sections 1 to 4. */
static void write_with_extra(struct state_writer *w, const uint8_t *payloads, uint16_t type,
			     uint16_t flags)
{
	state_write_header(w, DEV_TYPE, 7);
	state_write_section(w, type, flags, "extra", 5);
	write_sample_sections(w, payloads);
	state_write_trailer(w);
}

/*
 * Rewrites the fixture's blob with an extra section of @type/@flags and reads
 * it in pieces of @piece bytes: STATE_OK must deliver the sample as if the
 * extra section were not there, anything else must deliver nothing.
 */
static void read_with_extra(struct __test_metadata *_metadata, FIXTURE_DATA(blob) *self,
			    uint16_t type, uint16_t flags, size_t piece, int expected)
{
	state_writer_fini(&self->w);
	write_with_extra(&self->w, self->payloads, type, flags);
	ASSERT_EQ(0, self->w.err);
	EXPECT_EQ(expected, read_blob(self->w.buf, self->w.len, piece, 0, &self->rc, DEV_TYPE));
	if (expected == STATE_OK)
		sample_delivered(_metadata, self);
	else
		EXPECT_EQ(0, self->rc.n);
}

TEST_F(blob, an_unknown_optional_section_is_skipped)
{
	read_with_extra(_metadata, self, 99, STATE_SECTION_OPTIONAL, 1, STATE_OK);
}

TEST_F(blob, an_unknown_mandatory_section_is_rejected)
{
	read_with_extra(_metadata, self, 99, 0, 0, STATE_E_SECTION);
}

TEST_F(blob, an_optional_section_with_unknown_flags_is_skipped_unseen)
{
	read_with_extra(_metadata, self, 1, STATE_SECTION_OPTIONAL | 0x8000, 0, STATE_OK);
}

TEST_F(blob, a_mandatory_section_with_unknown_flags_is_rejected)
{
	read_with_extra(_metadata, self, 1, 0x0002, 0, STATE_E_SECTION);
}

TEST_F(blob, a_callback_error_stops_the_read_and_sticks)
{
	struct state_reader r;

	self->rc.fail_type = 3;
	self->rc.fail_ret = STATE_E_CAPACITY;
	ASSERT_EQ(0, state_reader_init(&r, DEV_TYPE, rec_section, &self->rc));
	EXPECT_EQ(STATE_E_CAPACITY, state_reader_feed(&r, self->w.buf, self->w.len));
	EXPECT_EQ(2, self->rc.n);
	EXPECT_EQ(STATE_E_CAPACITY, state_reader_feed(&r, "", 0));
	EXPECT_EQ(STATE_E_CAPACITY, state_reader_finish(&r));
	state_reader_fini(&r);
}

TEST_F(blob, a_callback_returning_an_errno_is_reported_as_bad_content)
{
	self->rc.fail_type = 1;
	self->rc.fail_ret = -EIO;
	EXPECT_EQ(STATE_E_CONTENT, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
	self->rc.fail_ret = STATE_E_MAX;
	EXPECT_EQ(STATE_E_CONTENT, read_blob(self->w.buf, self->w.len, 0, 0, &self->rc, DEV_TYPE));
}

/*
 * Format version 1 as released: a virtio-blk (device type 2) state written by
 * producer 0.1.0, in docs/state-format.md. Never change these bytes: a reader
 * that stops decoding them, or a writer that stops producing them, has
 * changed the format.
 */
static const uint8_t golden_v1[] = {
	0x56, 0x42, 0x4c, 0x4b, 0x53, 0x54, 0x41, 0x54, 0x01, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x44, 0x12, 0x00, 0x30,
	0x01, 0x00, 0x00, 0x00, 0x0f, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00,
	0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x76, 0x62, 0x6c, 0x6b,
	0x64, 0x2d, 0x67, 0x6f, 0x6c, 0x64, 0x65, 0x6e, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x67, 0x6f, 0x6c, 0x64, 0x65, 0x6e,
	0x2d, 0x69, 0x6d, 0x61, 0x67, 0x65, 0x03, 0x00, 0x00, 0x00, 0x0c, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x07, 0x00, 0x07, 0x00,
	0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x54, 0x00, 0x00, 0x00, 0x0a, 0x00,
	0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
	0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0xd6, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x73, 0xdd, 0x20, 0x39,
};

static const uint64_t golden_counters[10] = { 5, 3, 1, 0, 0, 1, 0, 20480, 12288, 0 };

/* The golden blob's sections, encoded field by field. */
static void write_golden(struct state_writer *w)
{
	uint8_t dev[20] = { 0 }, disk[42] = { 0 }, q[12] = { 0 }, cnt[84];

	state_put_le64(dev, 0x130001244ull); /* VERSION_1, EVENT_IDX, INDIRECT, MQ, FLUSH, ... */
	dev[8] = 0x0f; /* ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK */
	dev[9] = 1; /* wce */
	state_put_le32(dev + 12, 1); /* num_queues */
	state_put_le32(dev + 16, 512); /* logical block size */

	state_put_le64(disk, 2048);
	memcpy(disk + 8, "vblkd-golden", 12);
	state_put_le16(disk + 28, 12);
	memcpy(disk + 30, "golden-image", 12);

	state_put_le16(q + 2, 256); /* index 0, ring size 256 */
	q[4] = 1; /* enabled */
	state_put_le16(q + 6, 7); /* last avail */
	state_put_le16(q + 8, 7); /* used */

	state_put_le32(cnt, 10);
	for (int i = 0; i < 10; i++)
		state_put_le64(cnt + 4 + 8 * i, golden_counters[i]);

	state_write_header(w, 2, 0x000100);
	state_write_section(w, 1, 0, dev, sizeof(dev));
	state_write_section(w, 2, 0, disk, sizeof(disk));
	state_write_section(w, 3, 0, q, sizeof(q));
	state_write_section(w, 4, STATE_SECTION_OPTIONAL, cnt, sizeof(cnt));
}

TEST(the_golden_v1_blob_decodes)
{
	struct rec rc = { 0 };
	const uint8_t *p = rc.data;

	ASSERT_EQ(STATE_OK, read_blob(golden_v1, sizeof(golden_v1), 0, 0, &rc, 2));
	ASSERT_EQ(4, rc.n);
	EXPECT_EQ(20, rc.len[0]);
	EXPECT_EQ(42, rc.len[1]);
	EXPECT_EQ(12, rc.len[2]);
	EXPECT_EQ(84, rc.len[3]);
	EXPECT_EQ(STATE_SECTION_OPTIONAL, rc.flags[3]);
	EXPECT_EQ(0x130001244ull, state_get_le64(p));
	EXPECT_EQ(512, state_get_le32(p + 16));
	p += 20;
	EXPECT_EQ(2048, state_get_le64(p));
	EXPECT_EQ(0, memcmp(p + 30, "golden-image", 12));
	p += 42;
	EXPECT_EQ(256, state_get_le16(p + 2));
	EXPECT_EQ(7, state_get_le16(p + 6));
	p += 12;
	EXPECT_EQ(10, state_get_le32(p));
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(golden_counters[i], state_get_le64(p + 4 + 8 * i));
}

TEST(the_writer_reproduces_the_golden_v1_blob)
{
	struct state_writer w;

	state_writer_init(&w);
	write_golden(&w);
	ASSERT_EQ(0, state_write_trailer(&w));
	ASSERT_EQ(sizeof(golden_v1), w.len);
	for (size_t i = 0; i < w.len; i++) {
		EXPECT_EQ(golden_v1[i], w.buf[i]) {
			TH_LOG("first difference at byte %zu", i);
			break;
		}
	}
	state_writer_fini(&w);
}

TEST_HARNESS_MAIN
