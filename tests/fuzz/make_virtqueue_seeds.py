#!/usr/bin/env python3
"""Writes the hand-made seed corpus of tests/fuzz/fuzz_virtqueue.c.

Layout of an input: see the comment at the top of fuzz_virtqueue.c.  Names
carry the expected outcome, which tests/unit/test_fuzz_virtqueue.c checks:
  ok-*         the queue is enabled and chains pop without error
  bad-ERR-*    the queue breaks with VQ_ERR (head, next, loop, ram, order,
               nested, indirect, many, ring)
  off-*        vq_enable refuses the queue
The corpus also keeps fz-* files: small inputs libFuzzer found that add
coverage over these seeds (kept with -merge=1); this script leaves them be.

Run from the repository root: python3 tests/fuzz/make_virtqueue_seeds.py
"""
import os
import struct

OUT = "tests/fuzz/corpus/virtqueue"
NEXT, WRITE, INDIRECT = 1, 2, 4
R1 = 0x10000          # region 1 (4 KiB), right after region 0
HOLE = 0x20000        # not RAM
R0_SIZE = 0x10000


class Guest:
    def __init__(self, size_code, event_idx=False, reenable=False, offsets=None):
        self.qsize = 1 << size_code if size_code <= 10 else 0
        flags = (1 if event_idx else 0) | (2 if offsets else 0) | (4 if reenable else 0)
        self.header = bytes([size_code, flags]) + struct.pack("<3H", *(offsets or (0, 0, 0)))
        if offsets:
            self.desc, self.avail, self.used = offsets
        else:
            self.desc = 0
            self.avail = 16 * self.qsize
            self.used = (self.avail + 6 + 2 * self.qsize + 3) & ~3
        self.mem = bytearray()
        self.idx = 0

    def put(self, gpa, data):
        assert gpa + len(data) <= R0_SIZE, "seeds keep to region 0"
        if len(self.mem) < gpa + len(data):
            self.mem.extend(bytes(gpa + len(data) - len(self.mem)))
        self.mem[gpa:gpa + len(data)] = data

    def d(self, i, addr, length, flags=0, nxt=0, table=None):
        base = self.desc if table is None else table
        self.put(base + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def publish(self, head):
        self.put(self.avail + 4 + 2 * (self.idx % self.qsize), struct.pack("<H", head))
        self.idx += 1
        self.put(self.avail + 2, struct.pack("<H", self.idx))

    def avail_idx(self, idx):
        self.put(self.avail + 2, struct.pack("<H", idx))

    def used_event(self, v):
        self.put(self.avail + 4 + 2 * self.qsize, struct.pack("<H", v))

    def end(self):
        return self.header + bytes(self.mem)


def seeds():
    s = {}
    DATA, IND = 0x2000, 0x400      # buffers need not be in the file; tables must

    g = Guest(4)
    g.d(0, DATA, 16, NEXT, 1); g.d(1, DATA + 0x100, 100, NEXT, 2); g.d(2, DATA + 0x200, 512, WRITE)
    g.publish(0)
    s["ok-direct"] = g.end()

    g = Guest(4)
    g.d(3, IND, 48, INDIRECT)
    g.d(0, DATA, 8, NEXT, 2, table=IND); g.d(2, DATA + 0x40, 64, WRITE | NEXT, 1, table=IND)
    g.d(1, R1 + 0x10, 4, WRITE, table=IND)
    g.publish(3)
    s["ok-indirect"] = g.end()

    g = Guest(3, event_idx=True)
    g.d(0, DATA, 1)
    g.d(1, DATA, 10, NEXT, 4); g.d(4, IND, 32, INDIRECT)
    g.d(0, DATA + 0x40, 6, NEXT, 1, table=IND); g.d(1, DATA + 0x80, 20, WRITE, table=IND)
    g.d(5, IND + 0x100, 16, INDIRECT | WRITE); g.d(0, DATA + 0x100, 4, WRITE, table=IND + 0x100)
    g.publish(1); g.publish(0); g.publish(5)
    g.used_event(1)
    s["ok-mixed-event-idx"] = g.end()

    g = Guest(2, reenable=True)
    for i in range(4):
        g.d(i, DATA + 0x10 * i, 16, WRITE)
        g.publish(3 - i)
    s["ok-full-ring-reenable"] = g.end()

    g = Guest(4)
    g.d(0, HOLE, 0, NEXT, 1); g.d(1, 0xffffffffffffffff, 0, NEXT, 2); g.d(2, DATA, 4, WRITE)
    g.publish(0)
    s["ok-zero-length"] = g.end()

    g = Guest(4, offsets=(0x200, 0x100, 0x140))
    g.d(7, IND + 8, 32, INDIRECT)        # an indirect table that is only 8-byte aligned
    g.d(0, DATA, 8, NEXT, 1, table=IND + 8); g.d(1, DATA + 0x10, 8, WRITE, table=IND + 8)
    g.publish(7)
    s["ok-custom-layout"] = g.end()

    g = Guest(8)
    for i in range(256):
        g.d(i, DATA + i, 1, NEXT if i < 255 else 0, i + 1)
    g.publish(0)
    s["ok-256-long-chain"] = g.end()

    def bad(name, build, code=4, **kw):
        g = Guest(code, **kw)
        build(g)
        s["bad-" + name] = g.end()

    bad("head", lambda g: (g.d(0, DATA, 1), g.publish(16)))
    bad("next", lambda g: (g.d(0, DATA, 1, NEXT, 16), g.publish(0)))
    bad("loop-ab", lambda g: (g.d(0, DATA, 1, NEXT, 1), g.d(1, DATA, 1, NEXT, 0), g.publish(0)))
    bad("loop-self", lambda g: (g.d(2, DATA, 1, NEXT, 2), g.publish(2)))
    bad("loop-indirect", lambda g: (g.d(0, DATA, 1, NEXT, 1, table=IND), g.d(1, DATA, 1, NEXT, 0, table=IND),
                                    g.d(0, IND, 32, INDIRECT), g.publish(0)))
    bad("ram-hole", lambda g: (g.d(0, HOLE, 16), g.publish(0)))
    bad("ram-straddle", lambda g: (g.d(0, R1 - 8, 16, WRITE), g.publish(0)))
    bad("ram-wrap", lambda g: (g.d(0, 0xfffffffffffffff0, 0x20), g.publish(0)))
    bad("order", lambda g: (g.d(0, DATA, 4, WRITE | NEXT, 1), g.d(1, DATA, 4), g.publish(0)))
    bad("nested", lambda g: (g.d(0, IND, 16, INDIRECT, table=IND), g.d(0, IND, 16, INDIRECT), g.publish(0)))
    # The indirect table is the descriptor table itself (found by the fuzzer:
    # the walk used to re-enter it forever).
    bad("nested-alias", lambda g: (g.d(0, g.desc, 16 * g.qsize, INDIRECT), g.publish(0)))
    bad("indirect-next", lambda g: (g.d(0, DATA, 4, table=IND), g.d(0, IND, 16, INDIRECT | NEXT, 1),
                                    g.d(1, DATA, 4), g.publish(0)))
    bad("indirect-len", lambda g: (g.d(0, IND, 40, INDIRECT), g.publish(0)))
    bad("indirect-outside", lambda g: (g.d(0, HOLE, 32, INDIRECT), g.publish(0)))

    def too_many(g):
        for i in range(1024):
            g.d(i, DATA + i, 1, NEXT if i < 1023 else 0, i + 1, table=IND)
        g.d(0, DATA, 1, NEXT, 1); g.d(1, IND, 16 * 1024, INDIRECT); g.publish(0)
    bad("many", too_many)
    bad("ring", lambda g: (g.d(0, DATA, 1), g.avail_idx(17)))
    # The first chain is a writable buffer over avail->idx itself: the
    # target writes 0x5a/0xa5 into it, and the next pop sees idx 0xa55a.
    bad("ring-after-good", lambda g: (g.d(0, g.avail + 2, 2, WRITE), g.publish(0)))

    g = Guest(12)
    s["off-size-3"] = g.header + bytes(64)
    g = Guest(4, offsets=(0x208, 0x100, 0x140))
    s["off-misaligned-desc"] = g.header + bytes(64)
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for name, data in sorted(seeds().items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{len(seeds())} seeds, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
