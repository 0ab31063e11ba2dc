#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_virtio_net_tx (layout in that file)."""
import os
import struct
import sys

RAM_GPA, DATA_OFF = 0x100000, 0x1000
DATA_GPA = RAM_GPA + DATA_OFF
NEXT, WRITE, INDIRECT = 1, 2, 4
F_CSUM, F_GUEST_CSUM, F_MRG, F_CTRL, F_EVENT_IDX, F_INDIRECT = 1, 2, 4, 8, 16, 32
RX, TX, CTRL = 0, 1, 2


def entry(mode, features, descs, ring, data, avail_idx=None):
    descs = descs + [(0, 0, 0, 0)] * (16 - len(descs))
    ring = ring + [0] * (16 - len(ring))
    out = struct.pack("<BBH", mode, features, avail_idx if avail_idx is not None else 1)
    out += struct.pack("<16H", *ring)
    for addr, length, flags, nxt in descs:
        out += struct.pack("<QIHH", addr, length, flags, nxt)
    return out + data


def hdr(flags=0, gso=0, start=0, offset=0):
    return struct.pack("<BBHHHHH", flags, gso, 0, 0, start, offset, 0)


def udp_frame(payload=b"x" * 32):
    eth = bytes.fromhex("525500000202525400123456") + b"\x08\x00"
    l4 = struct.pack(">HHHH", 40000, 53, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, 17, 0,
                     bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2]))
    return eth + ip + l4


def seeds():
    f = udp_frame()
    yield "tx_single", entry(TX, F_CSUM | F_MRG, [(0, 12 + len(f), 0, 0)], [0], hdr() + f)
    yield "tx_split", entry(TX, F_CSUM, [(0, 12, NEXT, 1), (12, 20, NEXT, 2), (32, len(f) - 20, 0, 0)],
                            [0], hdr() + f)
    yield "tx_csum", entry(TX, F_CSUM, [(0, 12 + len(f), 0, 0)], [0], hdr(1, 0, 34, 6) + f)
    yield "tx_csum_bad_offsets", entry(TX, F_CSUM, [(0, 12 + len(f), 0, 0)], [0], hdr(1, 0, 60000, 9) + f)
    yield "tx_gso", entry(TX, F_CSUM, [(0, 12 + len(f), 0, 0)], [0], hdr(0, 1) + f)
    table = struct.pack("<QIHH", DATA_GPA + 0x200, 12, NEXT, 1) + struct.pack("<QIHH", DATA_GPA + 0x20c, len(f), 0, 0)
    data = table.ljust(0x200, b"\0") + hdr() + f
    yield "tx_indirect", entry(TX, F_INDIRECT, [(0, len(table), INDIRECT, 0)], [0], data)
    yield "tx_loop", entry(TX, 0, [(0, 12, NEXT, 1), (12, 60, NEXT, 0)], [0], hdr() + f)
    yield "tx_out_of_ram", entry(TX, 0, [((1 << 63) | 0x7fff0000000, 64, 0, 0)], [0], hdr() + f)
    yield "tx_oversized", entry(TX, 0, [(0, 12 + 2000, 0, 0)], [0], (hdr() + f).ljust(2100, b"\0"))
    yield "tx_many", entry(TX, F_EVENT_IDX, [(0, 12 + len(f), 0, 0)] * 16, list(range(16)), hdr() + f, 16)
    yield "tx_echo", entry(TX | 4, F_MRG, [(0, 12 + len(f), 0, 0)], [0], hdr() + f)
    yield "tx_link_down", entry(TX | 8, 0, [(0, 12 + len(f), 0, 0)], [0], hdr() + f)
    yield "tx_avail_runs_ahead", entry(TX, 0, [(0, 12 + len(f), 0, 0)], [0], hdr() + f, 40)
    promisc = bytes([0, 0, 0])
    yield "ctrl_promisc", entry(CTRL, F_CTRL, [(0, 3, NEXT, 1), (16, 1, WRITE, 0)], [0], promisc)
    tables = bytes([1, 0]) + struct.pack("<I", 1) + bytes(6) + struct.pack("<I", 2) + bytes(12)
    yield "ctrl_mac_table", entry(CTRL, F_CTRL, [(0, len(tables), NEXT, 1), (64, 1, WRITE, 0)], [0], tables)
    yield "ctrl_mac_addr", entry(CTRL, F_CTRL, [(0, 8, NEXT, 1), (64, 1, WRITE, 0)], [0],
                                 bytes([1, 1]) + bytes.fromhex("525400aabbcc"))
    yield "ctrl_no_ack", entry(CTRL, F_CTRL, [(0, 3, 0, 0)], [0], promisc)
    rx = [(i * 512, 512, WRITE, 0) for i in range(4)]
    yield "rx_mergeable", entry(RX | (15 << 4), F_MRG | F_GUEST_CSUM, rx, [0, 1, 2, 3], b"", 4)
    yield "rx_mergeable_short", entry(RX | (15 << 4), F_MRG, rx[:1], [0], b"", 1)
    yield "rx_too_small", entry(RX | (3 << 4), 0, [(0, 100, WRITE, 0)], [0], b"", 1)
    yield "rx_readable_buffer", entry(RX, F_MRG, [(0, 100, 0, 0)], [0], b"", 1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "virtio_net_tx")
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(blob)


if __name__ == "__main__":
    main()
