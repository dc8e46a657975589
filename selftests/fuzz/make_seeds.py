#!/usr/bin/env python3
# Writes the seed inputs of the virtq, blk_req, vu_session and vduse targets
# into corpus/<target>/ (state's seeds are golden blobs, kept as they are).
# Each seed is a well-formed case in the target's input format (the comment
# at the top of each *_fuzz.c), so the fuzzer starts from working sessions,
# rings and requests instead of finding the framing by chance.
# Usage: make_seeds.py [corpus dir]
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")

VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT = 1, 2, 4
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WRITE_ZEROES = 0, 1, 4, 8, 11, 13


def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def put(buf, off, data):
    buf[off:off + len(data)] = data


def ring_memory(size, num, desc_at, avail_at, used_at, chains, heads, extra=()):
    """Guest memory with a split ring: descriptor table, avail ring listing heads."""
    mem = bytearray(size)
    for i, d in enumerate(chains):
        put(mem, desc_at + 16 * i, d)
    put(mem, avail_at, struct.pack("<HH", 0, len(heads)))
    for i, h in enumerate(heads):
        put(mem, avail_at + 4 + 2 * i, struct.pack("<H", h))
    for off, data in extra:
        put(mem, off, data)
    return mem


def blk_hdr(type_, sector):
    return struct.pack("<IIQ", type_, 0, sector)


# virtq: flags, max_chain / 4, desc/avail/used offsets, then three 4 KiB regions.
def virtq_seeds():
    # A direct chain (header, data, status), an indirect one (table at
    # 0x300) and a buffer spanning the two adjacent regions.
    chains = [desc(0x400, 16, VRING_DESC_F_NEXT, 1),
              desc(0x600, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2),
              desc(0x900, 1, VRING_DESC_F_WRITE),
              desc(0x300, 48, VRING_DESC_F_INDIRECT),
              desc(0xff0, 0x20, VRING_DESC_F_WRITE)]
    table = desc(0x410, 16, VRING_DESC_F_NEXT, 1) + \
        desc(0x8000, 512, VRING_DESC_F_NEXT, 2) + desc(0x910, 1, VRING_DESC_F_WRITE)
    mem = ring_memory(0xa00, 8, 0x0, 0x80, 0x100, chains, [0, 3, 4],
                      [(0x300, table), (0x400, blk_hdr(T_IN, 0)),
                       (0x410, blk_hdr(T_OUT, 8))])
    for flags, name in ((0x13, "split"), (0x33, "event-idx"), (0x73, "inflight")):
        data = struct.pack("<BBHHH", flags, 2, 0x0, 0x80, 0x100) + mem
        if flags & 0x40:
            data += bytes(16 + 8 * 32)  # a fresh (zeroed) in-flight region
        write("virtq", name, data)
    # A loop: descriptor 1 points back to 0.
    loop = ring_memory(0x1000, 8, 0, 0x80, 0x100,
                       [desc(0x400, 16, VRING_DESC_F_NEXT, 1),
                        desc(0x600, 16, VRING_DESC_F_NEXT, 0)], [0])
    write("virtq", "loop", struct.pack("<BBHHH", 0x13, 2, 0, 0x80, 0x100) + loop)


# blk_req: buffers, readable ones, capacity, flags, lengths, bytes.
def blk_req_seeds():
    def req(name, bufs, nout, cap=2048, flags=0):
        data = struct.pack("<BBIB", len(bufs), nout, cap, flags)
        data += b"".join(struct.pack("<H", len(b)) for b in bufs)
        write("blk_req", name, data + b"".join(bufs))
    req("read", [blk_hdr(T_IN, 8), bytes(512), bytes(1)], 1)
    req("read-split", [blk_hdr(T_IN, 8)[:7], blk_hdr(T_IN, 8)[7:], bytes(1000), bytes(25)], 2)
    req("write", [blk_hdr(T_OUT, 16) + bytes(512), bytes(1)], 1)
    req("write-ro", [blk_hdr(T_OUT, 16), bytes(1024), bytes(1)], 2, flags=4)
    req("flush", [blk_hdr(T_FLUSH, 0), bytes(1)], 1)
    req("get-id", [blk_hdr(T_GET_ID, 0), bytes(20), bytes(1)], 1)
    seg = struct.pack("<QII", 8, 8, 0)
    req("discard", [blk_hdr(T_DISCARD, 0), seg, bytes(1)], 2, flags=3)
    req("write-zeroes", [blk_hdr(T_WRITE_ZEROES, 0), struct.pack("<QII", 0, 16, 1), bytes(1)], 2)


# vu_session: ctl, [image], vu_hdr, payload per message.
NEED_REPLY = 0x1 | 0x8
UVA = 0x7F0000000000


def msg(req, payload=b"", nfds=0, image=None, flags=NEED_REPLY):
    ctl = nfds
    head = b""
    if image is not None:
        ctl |= 0x80
        head = struct.pack("<H", len(image)) + bytes(image)
    return bytes([ctl]) + head + struct.pack("<III", req, flags, len(payload)) + payload


def u64(v):
    return struct.pack("<Q", v)


def vring_state(index, num):
    return struct.pack("<II", index, num)


def vu_session_seeds():
    features = 1 << 32 | 1 << 30 | 1 << 29 | 1 << 28
    protocol = sum(1 << b for b in (0, 1, 3, 9, 12, 13, 15, 16, 19))
    # Ring 0 of 8 at guest 0 (desc), 0x80 (avail), 0x100 (used); one read
    # of sector 0 (header 0x200, data 0x400, status 0x600).
    image = ring_memory(0x610, 8, 0, 0x80, 0x100,
                        [desc(0x200, 16, VRING_DESC_F_NEXT, 1),
                         desc(0x400, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2),
                         desc(0x600, 1, VRING_DESC_F_WRITE)], [0],
                        [(0x200, blk_hdr(T_IN, 0))])
    region = struct.pack("<QQQQ", 0, 0x10000, UVA, 0)
    setup = [msg(1), msg(2, u64(features)), msg(15), msg(16, u64(protocol)), msg(3),
             msg(5, struct.pack("<II", 1, 0) + region, nfds=1, image=image),
             msg(8, vring_state(0, 8)),
             msg(9, struct.pack("<IIQQQQ", 0, 0, UVA, UVA + 0x100, UVA + 0x80, 0)),
             msg(10, vring_state(0, 0)), msg(13, u64(0), nfds=1), msg(14, u64(0), nfds=1),
             msg(12, u64(0), nfds=1), msg(18, vring_state(0, 1))]
    write("vu_session", "start-ring", b"".join(setup))
    write("vu_session", "ring-and-stop",
          b"".join(setup + [msg(11, vring_state(0, 0)), msg(24, struct.pack("<III", 0, 60, 0) + bytes(60)),
                            msg(40), msg(39, u64(15))]))
    write("vu_session", "inflight-and-state",
          b"".join(setup[:5] + [msg(31, struct.pack("<QQHH", 0, 0, 2, 8) + bytes(4)),
                                msg(6, u64(0x1000) + u64(0), nfds=1),
                                msg(2, u64(features | 1 << 26)),
                                msg(42, struct.pack("<II", 0, 0), nfds=1), msg(43),
                                msg(42, struct.pack("<II", 1, 0), nfds=1), msg(43)]))
    # A region one byte off its file offset's alignment: aligned ring
    # addresses land misaligned in the back-end (refused by vb_vq_map()).
    skewed = bytearray(0x700)
    skewed[0xf:0xf + 0x610] = image
    region_skew = struct.pack("<QQQQ", 0, 0x10000, UVA + 1, 0)
    write("vu_session", "misaligned-region",
          b"".join(setup[:5] + [msg(5, struct.pack("<II", 1, 0) + region_skew, nfds=1, image=skewed),
                                msg(8, vring_state(0, 8)),
                                msg(9, struct.pack("<IIQQQQ", 0, 0, UVA + 0x10, UVA + 0x110,
                                                   UVA + 0x90, 0))] + setup[9:]))
    write("vu_session", "mem-slots",
          b"".join(setup[:5] + [msg(36), msg(37, u64(0) + region, nfds=1, image=image),
                                msg(38, u64(0) + region, nfds=1), msg(34)]))


# vduse: struct vduse_dev_request (type, id, reserved[4], 128-byte union) each.
def vduse_seeds():
    def req(type_, rid, body):
        return struct.pack("<II16x", type_, rid) + body.ljust(128, b"\0")
    get_vq, set_status, iotlb = 0, 1, 2
    write("vduse", "status-and-vqs",
          req(set_status, 1, struct.pack("<B", 1)) + req(set_status, 2, struct.pack("<B", 3)) +
          req(set_status, 3, struct.pack("<B", 11)) + req(get_vq, 4, struct.pack("<I", 0)) +
          req(get_vq, 5, struct.pack("<I", 3)) + req(set_status, 6, struct.pack("<B", 15)) +
          req(iotlb, 7, struct.pack("<QQ", 0, 0xfff)) + req(set_status, 8, struct.pack("<B", 0)))


virtq_seeds()
blk_req_seeds()
vu_session_seeds()
vduse_seeds()
