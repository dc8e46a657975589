// SPDX-License-Identifier: GPL-2.0-or-later
/* Self-describing block payloads and the front-end's model of the disk. */
#include "soak_data.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"
#include "state/state.h"

#define SOAK_MAGIC 0x4b414f53424b5601ull /* "\x01VBKSOAK" little-endian */
#define SOAK_HDR 32u

struct soak_hdr {
	uint64_t magic;
	uint64_t lba;
	uint64_t gen;
	uint32_t crc; /* CRC32C of the body, bytes SOAK_HDR.. */
	uint32_t pad;
};

int soak_model_init(struct soak_model *m, uint64_t nblocks)
{
	memset(m, 0, sizeof(*m));
	m->nblocks = nblocks;
	m->next_gen = SOAK_GEN_FIRST;
	m->gen = calloc(nblocks, sizeof(*m->gen));
	m->alt = malloc(nblocks * sizeof(*m->alt));
	m->busy = calloc(nblocks, 1);
	if (!m->gen || !m->alt || !m->busy) {
		soak_model_fini(m);
		return -1;
	}
	for (uint64_t i = 0; i < nblocks; i++)
		m->alt[i] = SOAK_GEN_NONE;
	return 0;
}

void soak_model_fini(struct soak_model *m)
{
	free(m->gen);
	free(m->alt);
	free(m->busy);
	memset(m, 0, sizeof(*m));
}

bool soak_model_free(const struct soak_model *m, uint64_t lba, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (m->busy[lba + i])
			return false;
	return true;
}

void soak_model_set_busy(struct soak_model *m, uint64_t lba, unsigned int n, bool busy)
{
	memset(m->busy + lba, busy, n);
}

void soak_block_fill(void *buf, uint64_t lba, uint64_t gen)
{
	struct soak_hdr h = { htole64(SOAK_MAGIC), htole64(lba), htole64(gen), 0, 0 };
	uint64_t s = (gen * 0x9e3779b97f4a7c15ull) ^ (lba * 0xbf58476d1ce4e5b9ull) ^ 1;
	uint8_t *p = buf;

	if (gen == SOAK_GEN_INITIAL || gen == SOAK_GEN_ZERO) {
		memset(buf, gen == SOAK_GEN_ZERO ? 0 : 0xa5, SOAK_BLOCK);
		return;
	}
	for (size_t off = SOAK_HDR; off < SOAK_BLOCK; off += 8) {
		uint64_t v = htole64(soak_rand(&s));

		memcpy(p + off, &v, 8);
	}
	h.crc = htole32(state_crc32c(0, p + SOAK_HDR, SOAK_BLOCK - SOAK_HDR));
	memcpy(p, &h, sizeof(h));
}

static bool soak_all(const uint8_t *p, uint8_t val)
{
	for (size_t i = 0; i < SOAK_BLOCK; i++)
		if (p[i] != val)
			return false;
	return true;
}

/* What a block holds, read from its own header. */
static void soak_block_describe(const void *buf, uint64_t lba, uint64_t want, char *why, size_t len)
{
	const uint8_t *p = buf;
	struct soak_hdr h;
	uint64_t hlba, hgen;

	memcpy(&h, p, sizeof(h));
	hlba = le64toh(h.lba);
	hgen = le64toh(h.gen);
	if (soak_all(p, 0xa5))
		snprintf(why, len, "the initial fill");
	else if (soak_all(p, 0))
		snprintf(why, len, "zeroes");
	else if (le64toh(h.magic) != SOAK_MAGIC)
		snprintf(why, len, "no soak header (garbage)");
	else if (le32toh(h.crc) != state_crc32c(0, p + SOAK_HDR, SOAK_BLOCK - SOAK_HDR))
		snprintf(why, len, "a torn block: header gen %" PRIu64 " lba %" PRIu64 ", bad CRC",
			 hgen, hlba);
	else if (hlba != lba)
		snprintf(why, len, "misplaced data of block %" PRIu64 " gen %" PRIu64, hlba, hgen);
	else if (hgen < want)
		snprintf(why, len, "stale data, gen %" PRIu64, hgen);
	else
		snprintf(why, len, "gen %" PRIu64 ", newer than acknowledged", hgen);
}

bool soak_model_check(struct soak_model *m, uint64_t lba, const void *buf, char *why, size_t len)
{
	uint8_t want[SOAK_BLOCK];
	uint64_t alt = m->alt[lba];

	soak_block_fill(want, lba, m->gen[lba]);
	if (!memcmp(want, buf, SOAK_BLOCK)) {
		m->alt[lba] = SOAK_GEN_NONE;
		return true;
	}
	if (alt != SOAK_GEN_NONE) {
		soak_block_fill(want, lba, alt);
		if (!memcmp(want, buf, SOAK_BLOCK)) {
			m->gen[lba] = alt;
			m->alt[lba] = SOAK_GEN_NONE;
			return true;
		}
	}
	soak_block_describe(buf, lba, m->gen[lba], why, len);
	return false;
}
