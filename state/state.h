/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device-state format: a header, typed sections and a trailer holding the
 * total length and a CRC32C of everything before it (docs/state-format.md).
 * The writer and reader move bytes only: what a section means belongs to
 * the device. The reader is push-based (feed it whatever arrived), keeps
 * bounded memory, and reports the first error with a stable code.
 */
#ifndef VB_STATE_H
#define VB_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC "VBLKSTAT" /* 8 bytes, no NUL on the wire */
#define STATE_FORMAT_VERSION 1
#define STATE_HEADER_SIZE 24
#define STATE_SECTION_HDR_SIZE 8
#define STATE_TRAILER_TYPE 0xffff
#define STATE_TRAILER_PAYLOAD 12 /* le64 total length, le32 crc32c */
#define STATE_SECTION_MAX (1u << 20) /* largest payload a reader buffers */
#define STATE_TOTAL_MAX (64ull << 20)

/* Section flags */
#define STATE_SECTION_OPTIONAL 0x1 /* a reader that does not know it skips it */

/*
 * Reasons a transfer failed; CHECK_DEVICE_STATE reports them (non-zero)
 * and logs state_err_str(). Values are stable: tools print them.
 */
enum state_err {
	STATE_OK = 0,
	STATE_E_IO = 1, /* the pipe failed (read/write error) */
	STATE_E_TRUNCATED = 2, /* EOF before the trailer */
	STATE_E_MAGIC = 3,
	STATE_E_VERSION = 4, /* format version this reader cannot read */
	STATE_E_DEVICE = 5, /* state of another device type */
	STATE_E_LENGTH = 6, /* section or total length out of bounds */
	STATE_E_SECTION = 7, /* unknown section not flagged optional */
	STATE_E_CRC = 8, /* checksum or total length mismatch */
	STATE_E_TRAILING = 9, /* bytes after the trailer */
	STATE_E_CONTENT = 10, /* a known section holds impossible values */
	STATE_E_CAPACITY = 11, /* destination disk has another capacity */
	STATE_E_IDENTITY = 12, /* destination disk has another identity */
	STATE_E_BUSY = 13, /* the device was not suspended */
	STATE_E_ABORTED = 14, /* replaced by a new transfer, or disconnected */
	STATE_E_PHASE = 15, /* migration phase other than "stopped" */
	STATE_E_INCOMPLETE = 16, /* CHECK before the transfer ended */
	STATE_E_MISSING = 17, /* a mandatory section never came */
	STATE_E_MAX
};

/**
 * state_err_str() - short human description of a transfer result
 * @err:	an enum state_err value
 *
 * Return: a static string; "unknown error" for values outside the enum.
 */
const char *state_err_str(int err);

/**
 * state_crc32c() - CRC32C of a buffer, continuing a previous result
 * @crc:	0 to start, or the value returned for the bytes before @buf
 * @buf:	bytes to add
 * @len:	their number
 *
 * state_crc32c(0, "123456789", 9) == 0xe3069283; feeding a buffer in pieces,
 * each call given the previous result, gives the same value as one call.
 * Return: the CRC32C of everything fed so far.
 */
uint32_t state_crc32c(uint32_t crc, const void *buf, size_t len);

/* Writer: appends to a growable buffer (device state is small). */
struct state_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint32_t crc;
	int err; /* first failure (-ENOMEM, -EMSGSIZE): the result is unusable */
};

/**
 * state_writer_init() - an empty writer
 * @w:		the writer
 */
void state_writer_init(struct state_writer *w);

/**
 * state_writer_fini() - free the buffer and leave an empty writer
 * @w:		the writer
 */
void state_writer_fini(struct state_writer *w);

/**
 * state_write_header() - start a blob
 * @w:		an empty writer
 * @device_type: virtio device id of the device the state belongs to
 * @producer_version: version of the program writing it (informative)
 *
 * Errors stick in @w->err and surface from state_write_trailer().
 */
void state_write_header(struct state_writer *w, uint32_t device_type, uint32_t producer_version);

/**
 * state_write_section() - append one section
 * @w:		a writer holding a header
 * @type:	device-defined section type, not 0xffff
 * @flags:	STATE_SECTION_* bits
 * @payload:	@len bytes, already encoded little-endian
 * @len:	at most STATE_SECTION_MAX
 *
 * Errors stick in @w->err and surface from state_write_trailer().
 */
void state_write_section(struct state_writer *w, uint16_t type, uint16_t flags,
			 const void *payload, uint32_t len);

/**
 * state_write_trailer() - close the blob with its length and CRC32C
 * @w:		a writer holding a header and any sections
 *
 * On success @w->buf and @w->len hold a complete blob.
 * The first error of any step sticks; the steps after it do nothing.
 * Return: 0, -ENOMEM when the buffer could not grow, -EMSGSIZE when a
 * section or the whole blob exceeds what a reader accepts
 * (STATE_SECTION_MAX, STATE_TOTAL_MAX), or -EINVAL for calls out of order
 * (no header, two headers) or the reserved section type 0xffff.
 */
int state_write_trailer(struct state_writer *w);

/*
 * Reader: on every complete section calls on_section(opaque, type, flags,
 * payload, len) and expects 0, -ENOENT for a type it does not know (fatal
 * unless flagged optional), or a positive enum state_err to stop with.
 * Sections arrive before the trailer is verified: the device only stages
 * what it decodes and applies it once state_reader_finish() returns STATE_OK.
 */
typedef int (*state_section_fn)(void *opaque, uint16_t type, uint16_t flags,
				const uint8_t *payload, uint32_t len);

struct state_reader {
	uint32_t device_type;
	state_section_fn on_section;
	void *opaque;
	/* private */
	int err;
	bool done; /* trailer seen and verified */
	uint32_t crc;
	uint64_t total;
	uint32_t producer_version;
	uint8_t hdr[STATE_HEADER_SIZE];
	uint8_t sec_hdr[STATE_SECTION_HDR_SIZE];
	size_t have; /* bytes of the current item collected */
	int stage;
	uint16_t sec_type;
	uint16_t sec_flags;
	uint32_t sec_len;
	uint8_t *payload; /* payload_cap bytes, grown to the longest section */
	uint32_t payload_cap;
};

/**
 * state_reader_init() - prepare to read one blob
 * @r:		reader to set up
 * @device_type: the only device type accepted (else STATE_E_DEVICE)
 * @on_section:	called for every complete section; NULL knows no type
 * @opaque:	its first argument
 *
 * Allocates the STATE_SECTION_MAX payload buffer up front, so reading
 * never allocates again.
 * Return: 0 or -ENOMEM.
 */
int state_reader_init(struct state_reader *r, uint32_t device_type, state_section_fn on_section,
		      void *opaque);

/**
 * state_reader_fini() - free the payload buffer
 * @r:		the reader
 *
 * A state_reader_feed() after it fails with STATE_E_ABORTED.
 */
void state_reader_fini(struct state_reader *r);

/**
 * state_reader_feed() - push the next bytes of the stream
 * @r:		reader
 * @buf:	bytes as they arrived, any split
 * @len:	their number (0 is allowed)
 *
 * Complete sections are handed to on_section before the trailer is
 * verified.
 * Return: STATE_OK, or the first error (it sticks: later calls return it).
 */
int state_reader_feed(struct state_reader *r, const void *buf, size_t len);

/**
 * state_reader_finish() - the stream ended
 * @r:		reader
 *
 * Return: STATE_OK only when a verified trailer ended the data, else the
 * first error or STATE_E_TRUNCATED.
 */
int state_reader_finish(struct state_reader *r);

/* Little-endian field helpers for section payloads. */

/**
 * state_put_le16() - store a little-endian 16-bit field
 * @p:		2 bytes, any alignment
 * @v:		the value
 */
static inline void state_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/**
 * state_put_le32() - store a little-endian 32-bit field
 * @p:		4 bytes, any alignment
 * @v:		the value
 */
static inline void state_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/**
 * state_put_le64() - store a little-endian 64-bit field
 * @p:		8 bytes, any alignment
 * @v:		the value
 */
static inline void state_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/**
 * state_get_le16() - load a little-endian 16-bit field
 * @p:		2 bytes, any alignment
 *
 * Return: the value.
 */
static inline uint16_t state_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/**
 * state_get_le32() - load a little-endian 32-bit field
 * @p:		4 bytes, any alignment
 *
 * Return: the value.
 */
static inline uint32_t state_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/**
 * state_get_le64() - load a little-endian 64-bit field
 * @p:		8 bytes, any alignment
 *
 * Return: the value.
 */
static inline uint64_t state_get_le64(const uint8_t *p)
{
	return (uint64_t)state_get_le32(p) | (uint64_t)state_get_le32(p + 4) << 32;
}

#endif
